-- rotor:foreign-keys-off
-- Rotor schema, version 5: webhook targets and webhook alerts
-- (`target add NAME --webhook URL`, `alert add --webhook URL`): the URL,
-- extra headers (one "Name: value" per line) and the path of the file
-- holding the signing key (the key itself is never stored). The kind CHECKs
-- change, so both tables are rebuilt (SQLite's procedure: new table, copy,
-- drop, rename; the runner turns foreign keys off around it and checks them
-- before the commit).

-- AUTOINCREMENT never hands out an id again: keep each table's sequence across the rebuild.
CREATE TEMP TABLE kept_sequences AS SELECT name, seq FROM sqlite_sequence WHERE name IN ('targets', 'alerts');

CREATE TABLE targets_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('file', 'exec', 'webhook')),
    path        TEXT,
    format      TEXT CHECK (format IN ('env', 'json', 'raw')),
    mode        INTEGER,
    in_place    INTEGER NOT NULL DEFAULT 0,
    owner       TEXT,
    grp         TEXT,
    command     TEXT,
    timeout_ms  INTEGER,
    pass_env    INTEGER NOT NULL DEFAULT 0,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    template    TEXT,
    url         TEXT,
    headers     TEXT,
    secret_file TEXT,
    CHECK ((kind = 'file' AND path IS NOT NULL AND format IS NOT NULL)
        OR (kind = 'exec' AND command IS NOT NULL)
        OR (kind = 'webhook' AND url IS NOT NULL))
);
INSERT INTO targets_new (id, app_id, kind, path, format, mode, in_place, owner, grp, command, timeout_ms, pass_env,
                         enabled, created_at, template)
    SELECT id, app_id, kind, path, format, mode, in_place, owner, grp, command, timeout_ms, pass_env, enabled,
           created_at, template
    FROM targets;
DROP TABLE targets;
ALTER TABLE targets_new RENAME TO targets;
CREATE INDEX targets_app ON targets(app_id);

CREATE TABLE alerts_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT NOT NULL DEFAULT 'exec' CHECK (kind IN ('exec', 'webhook')),
    command     TEXT,
    timeout_ms  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    events      TEXT,
    url         TEXT,
    secret_file TEXT,
    CHECK ((kind = 'exec' AND command IS NOT NULL) OR (kind = 'webhook' AND url IS NOT NULL))
);
INSERT INTO alerts_new (id, kind, command, timeout_ms, created_at, events)
    SELECT id, 'exec', command, timeout_ms, created_at, events FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;

UPDATE sqlite_sequence SET seq = max(seq, (SELECT k.seq FROM temp.kept_sequences k WHERE k.name = sqlite_sequence.name))
    WHERE name IN (SELECT name FROM temp.kept_sequences);
INSERT INTO sqlite_sequence (name, seq)
    SELECT k.name, k.seq FROM temp.kept_sequences k WHERE k.name NOT IN (SELECT name FROM sqlite_sequence);
DROP TABLE temp.kept_sequences;
