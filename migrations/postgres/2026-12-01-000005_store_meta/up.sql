-- Facts the store keeps about itself, one row each: `username_key_version` says which
-- version of the username key every row holds, so the re-keying after migrations can skip
-- its scan of every user.
CREATE TABLE store_meta (
    name VARCHAR(64) PRIMARY KEY,
    value VARCHAR(255) NOT NULL
);
