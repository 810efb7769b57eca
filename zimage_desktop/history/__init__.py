"""Image metadata and (later) the SQLite history. No Qt."""
