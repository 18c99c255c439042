-- Rotor schema, version 8: who may ask the token broker (`rotor run
-- --token-socket`) for an app's access token (`app set --token-client
-- uid:N|group:NAME`), one row per rule; none means nobody.
CREATE TABLE token_clients (
    app_id INTEGER NOT NULL REFERENCES apps(id) ON DELETE CASCADE,
    client TEXT NOT NULL,
    PRIMARY KEY (app_id, client)
);
