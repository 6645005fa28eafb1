-- `tokens_not_before`: tokens without a session (the Flask tutorial's itsdangerous tokens)
-- issued at or before this time are refused. Set by a password change and by signing out
-- with such a token.
ALTER TABLE users ADD COLUMN tokens_not_before DATETIME(6);

-- The hashes of refresh secrets a session has rotated out. Presenting one of them is reuse
-- (a copy is in someone else's hands) and ends the session; a secret that was never issued
-- is only refused. Rows go when their session expires.
CREATE TABLE spent_refresh_secrets (
    secret_hash VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    session_id VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    expires_at DATETIME(6) NOT NULL
) ENGINE = InnoDB;
CREATE INDEX spent_refresh_secrets_expires_at ON spent_refresh_secrets (expires_at);
