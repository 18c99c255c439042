-- Rotor schema, version 4: file targets whose content is a Mustache template
-- (`target add NAME --file PATH --template TEMPLATE`). The template's text is
-- stored here; format stays 'raw' for such a target (its CHECK cannot change
-- in place) and is not used while template is set.
ALTER TABLE targets ADD COLUMN template TEXT;
