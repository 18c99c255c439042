-- Rotor schema, version 2: retries within an occurrence, apps that need an operator.

-- A scheduled rotation that the vendor refused for a while (429, 5xx, no
-- answer) is tried again within its occurrence: how often it was tried,
-- when it may be tried next, and why the last try stopped.
ALTER TABLE occurrences ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE occurrences ADD COLUMN retry_at INTEGER;
ALTER TABLE occurrences ADD COLUMN last_error TEXT;
CREATE INDEX occurrences_active ON occurrences(app_id) WHERE state IN ('pending', 'started');

-- An app that needs a person (a lost pair, a pair changed outside Rotor, a
-- clear refusal): why, with the command that resolves it, and since when.
-- Scheduled rotation of the app stops until a new pair is stored.
ALTER TABLE apps ADD COLUMN attention TEXT;
ALTER TABLE apps ADD COLUMN attention_at INTEGER;
