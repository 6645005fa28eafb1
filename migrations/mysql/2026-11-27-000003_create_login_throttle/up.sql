-- Counters against password guessing and registration floods, one row per key
-- (`user:<name>`, `addr:<ip>`, `register:<ip>`). Updated by compare-and-set on `attempts`,
-- so parallel requests cannot slip past a limit.
CREATE TABLE login_throttle (
    `key` VARCHAR(200) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    attempts INTEGER NOT NULL,
    locked_until DATETIME(6),
    updated_at DATETIME(6) NOT NULL
) ENGINE = InnoDB;
CREATE INDEX login_throttle_updated_at ON login_throttle (updated_at);
