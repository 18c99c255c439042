-- Rotor schema, version 3: which events run each alert hook (`alert add --on`).
-- A comma list of failed, lost, needs_action, delivery_failed, check_failed,
-- completed; NULL for a hook added before: every event but completed.
ALTER TABLE alerts ADD COLUMN events TEXT;
