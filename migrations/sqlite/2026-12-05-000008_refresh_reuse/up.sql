-- When each secret was rotated out: presented again within the reuse interval it is a
-- second tab or a retry and gets the session's current token; later, it is reuse. Rows
-- from before this column count as long ago.
ALTER TABLE spent_refresh_secrets ADD COLUMN rotated_at TIMESTAMP NOT NULL DEFAULT '1970-01-01 00:00:00';
