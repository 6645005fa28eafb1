-- Where each session was signed in from, for the user's list of sessions: the client's
-- `User-Agent` (cleaned and cut to 256 characters by the domain) and its address as the
-- limits counted it. Set at sign-in only; NULL when unknown and for sessions from before.
-- Lengths are in characters: utf8mb4, so any 256 characters fit (up to 1,024 bytes); an
-- IPv6 address is at most 45 ASCII characters.
ALTER TABLE sessions
    ADD COLUMN user_agent VARCHAR(256) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    ADD COLUMN address VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin;
