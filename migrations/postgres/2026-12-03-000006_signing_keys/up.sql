-- Asymmetric signing keys, shared by every process. A key is `next` (published, not yet
-- signing) until `activated_at`, `active` until `retired_at`, then `retired`: still
-- published until `remove_after`, when every token it signed has expired. `generation`
-- numbers keys in the order they were made; being UNIQUE, it lets only one of several
-- processes that rotate (or make the first keys) at once succeed. `private_key` is the
-- private part sealed with AES-256-GCM under a key derived from the configured secret.
CREATE TABLE signing_keys (
    kid VARCHAR(64) PRIMARY KEY,
    generation BIGINT NOT NULL UNIQUE,
    alg VARCHAR(16) NOT NULL,
    public_jwk TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    activated_at TIMESTAMPTZ,
    retired_at TIMESTAMPTZ,
    remove_after TIMESTAMPTZ
);
