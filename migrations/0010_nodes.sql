-- Rotor schema, version 10: the `rotor run` processes that share the
-- database (`--node NAME`, default the host's name), each recorded when it
-- starts and seen again every 30 s, for `rotor status` and the status page.
CREATE TABLE nodes (
    name       TEXT PRIMARY KEY,
    pid        INTEGER NOT NULL,
    version    TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
);
