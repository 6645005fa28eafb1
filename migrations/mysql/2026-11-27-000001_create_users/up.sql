-- Users. `username_key` is the case-folded name: its UNIQUE constraint is what makes names
-- unique regardless of case, settled by the database rather than a check-then-insert.
-- utf8mb4_bin: compare bytes exactly; the case-insensitive `*_ci` collations would also
-- merge accented and unaccented letters, and case folding is done in `username_key`.
-- Lengths are in characters: 32 characters NFC can take up to 128 bytes.
CREATE TABLE users (
    id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL UNIQUE,
    username_key VARCHAR(128) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL UNIQUE,
    password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
