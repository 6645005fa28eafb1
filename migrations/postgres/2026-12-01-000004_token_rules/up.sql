-- `tokens_not_before`: tokens without a session (the Flask tutorial's itsdangerous tokens)
-- issued at or before this time are refused. Set by a password change and by signing out
-- with such a token.
ALTER TABLE users ADD COLUMN tokens_not_before TIMESTAMPTZ;

-- The hashes of refresh secrets a session has rotated out. Presenting one of them is reuse
-- (a copy is in someone else's hands) and ends the session; a secret that was never issued
-- is only refused. Rows go when their session expires.
CREATE TABLE spent_refresh_secrets (
    secret_hash VARCHAR(64) PRIMARY KEY,
    session_id VARCHAR(32) NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX spent_refresh_secrets_expires_at ON spent_refresh_secrets (expires_at);
