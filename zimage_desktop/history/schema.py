"""The history database's schema: the migrations that build it step by step (``PRAGMA
user_version`` counts them) and the FTS5 trigram index over the prompts, kept by triggers."""

from __future__ import annotations

SCHEMA_VERSION = 2

# Each entry upgrades the schema from its index to the next version.
MIGRATIONS: list[str] = [
    # 0 -> 1: the first schema
    """
    CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        created REAL NOT NULL,
        prompt TEXT NOT NULL,
        request_json TEXT NOT NULL,
        seed INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        model_json TEXT NOT NULL DEFAULT '{}',
        timings_json TEXT NOT NULL DEFAULT '{}',
        path TEXT NOT NULL,
        favourite INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX images_created ON images(created);
    """,
    # 1 -> 2: lineage, tags, thumbnails, profile; full-text search
    """
    ALTER TABLE images ADD COLUMN parent_id INTEGER REFERENCES images(id) ON DELETE SET NULL;
    ALTER TABLE images ADD COLUMN tags TEXT NOT NULL DEFAULT '';
    ALTER TABLE images ADD COLUMN thumb_path TEXT NOT NULL DEFAULT '';
    ALTER TABLE images ADD COLUMN profile TEXT NOT NULL DEFAULT '';
    CREATE INDEX images_favourite ON images(favourite, created);
    CREATE INDEX images_parent ON images(parent_id);
    """,
]
FTS_SQL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS images_fts USING fts5(prompt, content='images', content_rowid='id', "
    "tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS images_ai AFTER INSERT ON images BEGIN "
    "INSERT INTO images_fts(rowid, prompt) VALUES (new.id, new.prompt); END",
    "CREATE TRIGGER IF NOT EXISTS images_ad AFTER DELETE ON images BEGIN "
    "INSERT INTO images_fts(images_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt); END",
    "CREATE TRIGGER IF NOT EXISTS images_au AFTER UPDATE OF prompt ON images BEGIN "
    "INSERT INTO images_fts(images_fts, rowid, prompt) VALUES ('delete', old.id, old.prompt); "
    "INSERT INTO images_fts(rowid, prompt) VALUES (new.id, new.prompt); END",
)
