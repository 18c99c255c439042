-- Rotor schema on PostgreSQL, version 2 (SQLite's 0010): the `rotor run`
-- processes that share the database (`--node NAME`, default the host's
-- name), each recorded when it starts and seen again every 30 s.
CREATE TABLE nodes (
    name       TEXT PRIMARY KEY,
    pid        BIGINT NOT NULL,
    version    TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    seen_at    BIGINT NOT NULL
);
