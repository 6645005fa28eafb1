-- Facts the store keeps about itself, one row each: `username_key_version` says which
-- version of the username key every row holds, so the re-keying after migrations can skip
-- its scan of every user.
CREATE TABLE store_meta (
    name VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    value VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL
) ENGINE = InnoDB;
