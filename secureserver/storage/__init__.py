"""Storage: encrypted blobs and their metadata, behind the :class:`FileRepository` interface."""

from .errors import FileNotFound
from .errors import StorageError
from .errors import StorageFull
from .filesystem import FilesystemRepository
from .records import SORT_KEYS
from .records import FilePage
from .records import FileQuery
from .records import FileRecord
from .records import NewFile
from .records import StorageStats
from .records import is_file_id
from .repository import FileRepository
from .repository import PendingBlob
from .repository import UploadBatch

__all__ = [
    "SORT_KEYS",
    "FileNotFound",
    "FilePage",
    "FileQuery",
    "FileRecord",
    "FileRepository",
    "FilesystemRepository",
    "NewFile",
    "PendingBlob",
    "StorageError",
    "StorageFull",
    "StorageStats",
    "UploadBatch",
    "is_file_id",
]
