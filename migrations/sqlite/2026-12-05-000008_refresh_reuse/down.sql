ALTER TABLE spent_refresh_secrets DROP COLUMN rotated_at;
