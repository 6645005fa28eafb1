DROP TABLE spent_refresh_secrets;
ALTER TABLE users DROP COLUMN tokens_not_before;
