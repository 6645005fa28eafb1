-- Counters against password guessing and registration floods, one row per key
-- (`user:<name>`, `addr:<ip>`, `register:<ip>`). Updated by compare-and-set on `attempts`,
-- so parallel requests cannot slip past a limit.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY NOT NULL,
    attempts INTEGER NOT NULL,
    locked_until TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX login_throttle_updated_at ON login_throttle (updated_at);
