-- Approvers' signing keys: only the public half. The private key lives in
-- the OS keyring under the name `signing-key:<kid>` and nowhere else.
CREATE TABLE signing_keys (
    kid        TEXT PRIMARY KEY NOT NULL, -- RFC 7638 JWK thumbprint (SHA-256)
    public_jwk TEXT NOT NULL,             -- the public key as a JWK (JSON)
    created_at TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('active', 'previous', 'retired')),
    retired_at TEXT
) STRICT;

-- At most one key signs at a time.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active';
