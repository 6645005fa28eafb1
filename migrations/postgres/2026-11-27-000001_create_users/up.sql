-- Users. `username_key` is the case-folded name: its UNIQUE constraint is what makes names
-- unique regardless of case, settled by the database rather than a check-then-insert.
CREATE TABLE users (
    id SERIAL PRIMARY KEY,
    username VARCHAR(128) NOT NULL UNIQUE,
    username_key VARCHAR(128) NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
