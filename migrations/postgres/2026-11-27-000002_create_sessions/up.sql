-- Sign-in sessions. Access tokens name their session (`sid`); the refresh token is
-- `<id>.<secret>` and only the SHA-256 of its secret is stored. Rows are kept after
-- revocation (revoked_at set) until they expire, so every process can learn of the
-- revocation; no foreign key, so deleting a user keeps their revoked sessions visible.
CREATE TABLE sessions (
    id VARCHAR(32) PRIMARY KEY,
    user_id INTEGER NOT NULL,
    refresh_hash VARCHAR(64) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_revoked_at ON sessions (revoked_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
