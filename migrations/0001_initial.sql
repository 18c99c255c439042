-- Rotor schema, version 1: the whole model.
-- Times are Unix milliseconds (INTEGER) except audit_events.time, which is
-- RFC 3339 UTC text because the audit hash covers it verbatim.
-- Secret columns (BLOB) hold AES-256-GCM boxes sealed with the master key;
-- their associated data binds each box to its row and column.

-- Facts about this database: its id, the id and check value of the master
-- key that seals its secrets, the sealed root of derived keys.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- vitalera users of the organization, used to rotate with a user's token
-- (password grant) instead of the app's own client-credentials token.
CREATE TABLE identities (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL UNIQUE,
    api_url           TEXT NOT NULL,
    username          TEXT NOT NULL,
    password          BLOB NOT NULL,
    access_token      BLOB,
    access_expires_at INTEGER,
    refresh_token     BLOB,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);

CREATE TABLE apps (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    application_id  TEXT NOT NULL,
    api_url         TEXT NOT NULL,
    schedule_kind   TEXT NOT NULL DEFAULT 'none' CHECK (schedule_kind IN ('none', 'every', 'cron')),
    schedule_expr   TEXT,
    jitter_seconds  INTEGER NOT NULL DEFAULT 0 CHECK (jitter_seconds >= 0),
    window_start    INTEGER CHECK (window_start BETWEEN 0 AND 1439),
    window_end      INTEGER CHECK (window_end BETWEEN 0 AND 1439),
    timezone        TEXT NOT NULL DEFAULT 'UTC',
    identity_id     INTEGER REFERENCES identities(id) ON DELETE RESTRICT,
    enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    current_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Every pair an app has had. The current one is apps.current_version.
-- A superseded secret may be wiped (client_secret NULL); the row stays.
CREATE TABLE credentials (
    app_id        INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    version       INTEGER NOT NULL CHECK (version >= 1),
    client_id     TEXT NOT NULL,
    client_secret BLOB,
    fingerprint   TEXT NOT NULL,
    source        TEXT NOT NULL CHECK (source IN ('added', 'set', 'rotated', 'recovered', 'imported')),
    rotation_id   INTEGER REFERENCES rotations(id) ON DELETE SET NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (app_id, version)
);

-- One row per rotation attempt. auth_token is the sealed token that
-- authorised the rotate request, kept so that recovery can use it.
CREATE TABLE rotations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id          INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    trigger         TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual', 'recovery')),
    state           TEXT NOT NULL CHECK (state IN ('requesting', 'rotated', 'verified', 'completed', 'aborted', 'failed', 'lost')),
    occurrence_due  INTEGER,
    occurrences     INTEGER NOT NULL DEFAULT 1,
    auth_kind       TEXT CHECK (auth_kind IN ('app', 'identity')),
    auth_token      BLOB,
    from_version    INTEGER NOT NULL,
    to_version      INTEGER,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    error           TEXT,
    started_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX rotations_app ON rotations(app_id, id);
-- One unresolved rotation per app, enforced by the database itself.
CREATE UNIQUE INDEX rotations_one_open ON rotations(app_id)
    WHERE state IN ('requesting', 'rotated', 'verified', 'failed');

-- Scheduled occurrences: the app and its nominal due time are the key, so
-- two processes or a restart never rotate twice for one due time.
CREATE TABLE occurrences (
    app_id         INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    due_at         INTEGER NOT NULL,
    jitter_ms      INTEGER NOT NULL DEFAULT 0,
    start_at       INTEGER NOT NULL,
    covers         INTEGER NOT NULL DEFAULT 1,
    state          TEXT NOT NULL CHECK (state IN ('pending', 'started', 'done', 'skipped')),
    rotation_id    INTEGER REFERENCES rotations(id) ON DELETE SET NULL,
    PRIMARY KEY (app_id, due_at)
);

CREATE TABLE targets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id     INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL CHECK (kind IN ('file', 'exec')),
    path       TEXT,
    format     TEXT CHECK (format IN ('env', 'json', 'raw')),
    mode       INTEGER,
    in_place   INTEGER NOT NULL DEFAULT 0,
    owner      TEXT,
    grp        TEXT,
    command    TEXT,
    timeout_ms INTEGER,
    pass_env   INTEGER NOT NULL DEFAULT 0,
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    CHECK ((kind = 'file' AND path IS NOT NULL AND format IS NOT NULL)
        OR (kind = 'exec' AND command IS NOT NULL))
);
CREATE INDEX targets_app ON targets(app_id);

-- Delivery state per (target, version).
CREATE TABLE deliveries (
    target_id       INTEGER NOT NULL REFERENCES targets(id) ON DELETE CASCADE,
    version         INTEGER NOT NULL,
    rotation_id     INTEGER REFERENCES rotations(id) ON DELETE SET NULL,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'succeeded', 'failed', 'superseded')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    last_error      TEXT,
    output          TEXT,
    alerted         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (target_id, version)
);
CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);

CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    command    TEXT NOT NULL,
    timeout_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- Leases fence every state change: a name ('app:12', 'scheduler'), the
-- owner holding it, a fencing token that grows on every takeover, expiry.
CREATE TABLE leases (
    name         TEXT PRIMARY KEY NOT NULL,
    owner        TEXT NOT NULL,
    token        INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
);

-- The audit log: append-only, gapless ids, each hash chained over the
-- previous hash and the event's canonical bytes.
CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY NOT NULL,
    time        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('success', 'failure')),
    app         TEXT,
    rotation_id INTEGER,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_app ON audit_events(app, time);
CREATE INDEX audit_action ON audit_events(action, time);
CREATE INDEX audit_time ON audit_events(time);

-- The head of the chain (last id and hash) with a keyed MAC, updated with
-- each append, so that a truncated tail shows. Pruning moves the base.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_id   INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    base_id   INTEGER NOT NULL,
    base_hash TEXT NOT NULL,
    mac       TEXT NOT NULL
);

-- Append-only: the database refuses edits and deletes of audit events.
-- (Pruning drops and recreates this trigger inside its own transaction.)
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
