-- One row per published file. A row exists only once its blob is durably on disk.
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL,
    header_mac BLOB NOT NULL,
    uploaded_at TEXT NOT NULL
) STRICT;

CREATE INDEX IF NOT EXISTS files_newest_first ON files (uploaded_at DESC, id);
