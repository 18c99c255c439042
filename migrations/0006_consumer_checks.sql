-- Rotor schema, version 6: consumer checks (`target add … --check COMMAND
-- [--check-timeout DURATION]`). After a delivery the check runs until it
-- exits 0 (the consumer uses the new pair: confirmed_at) or its time is up
-- (check_error, and the check_failed alerts).
ALTER TABLE targets ADD COLUMN check_command TEXT;
ALTER TABLE targets ADD COLUMN check_timeout_ms INTEGER;
ALTER TABLE deliveries ADD COLUMN confirmed_at INTEGER;
ALTER TABLE deliveries ADD COLUMN check_error TEXT;
