-- Users. `username_key` is the case-folded name: its UNIQUE constraint is what makes names
-- unique regardless of case, settled by the database rather than a check-then-insert.
-- AUTOINCREMENT so that ids are never reused: tokens name users by id.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    username TEXT NOT NULL UNIQUE,
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
