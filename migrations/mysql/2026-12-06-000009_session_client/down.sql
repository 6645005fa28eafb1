ALTER TABLE sessions DROP COLUMN address, DROP COLUMN user_agent;
