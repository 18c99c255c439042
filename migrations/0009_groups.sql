-- Rotor schema, version 9: alternating groups (consumers.md). Two apps
-- with the same permissions are rotated in turn on the group's schedule;
-- the one whose pair was stored last is current, the other standby. A
-- group's targets receive both pairs; its version is the sum of its
-- members' versions, so it grows by one at each rotation of either.
CREATE TABLE groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    schedule_kind TEXT NOT NULL,
    schedule_expr TEXT,
    jitter_seconds INTEGER NOT NULL DEFAULT 0,
    window_start INTEGER,
    window_end INTEGER,
    timezone TEXT NOT NULL DEFAULT 'UTC',
    created_at INTEGER NOT NULL
);
-- An app is in one group at most; an app in a group cannot be removed.
CREATE TABLE group_members (
    app_id INTEGER PRIMARY KEY REFERENCES apps(id),
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
CREATE TABLE group_targets (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'exec')),
    path TEXT,
    format TEXT,
    mode INTEGER,
    in_place INTEGER NOT NULL DEFAULT 0,
    owner TEXT,
    grp TEXT,
    template TEXT,
    command TEXT,
    timeout_ms INTEGER,
    pass_env INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE TABLE group_deliveries (
    target_id INTEGER NOT NULL REFERENCES group_targets(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_attempt_at INTEGER,
    last_error TEXT,
    PRIMARY KEY (target_id, version)
);
