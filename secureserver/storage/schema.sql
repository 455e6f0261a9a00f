-- One row per published file. A row exists only once its blob is durably on disk.
-- name, content_type and sha256 are sealed (fieldcipher.py): only sizes and times are clear.
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY,
    name BLOB NOT NULL,
    content_type BLOB NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 BLOB NOT NULL,
    blob_tag BLOB NOT NULL,
    uploaded_at TEXT NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS files_newest_first ON files (uploaded_at DESC, id);
