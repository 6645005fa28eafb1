-- Service clients (OAuth 2.0 confidential clients): backend jobs that get access tokens
-- with the client-credentials grant. `id` is the client_id; only the SHA-256 of the client
-- secret is kept (the secret is 256 random bits, so a slow hash would add nothing).
-- `audiences` and `scopes` are what the client may ask for, space-separated.
CREATE TABLE service_clients (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    audiences TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    secret_rotated_at TIMESTAMP NOT NULL
);
