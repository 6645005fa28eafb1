-- Where each session was signed in from, for the user's list of sessions: the client's
-- `User-Agent` (cleaned and cut to 256 characters by the domain) and its address as the
-- limits counted it. Set at sign-in only; NULL when unknown and for sessions from before.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;
