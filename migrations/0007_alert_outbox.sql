-- Rotor schema, version 7: alerts that could not be sent wait here and are
-- tried again with the delivery backoff (`rotor run`), for a day at most.
-- The document is the alert's JSON, which never holds a secret.
CREATE TABLE alert_outbox (
    id INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    event TEXT NOT NULL,
    app TEXT NOT NULL,
    severity TEXT NOT NULL,
    document TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    last_error TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at);
