-- Approvers' signing keys: only the public half (twin of the SQLite migration).
CREATE TABLE signing_keys (
    kid        TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    public_jwk TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    status     TEXT COLLATE "C" NOT NULL CHECK (status IN ('active', 'previous', 'retired')),
    retired_at TEXT COLLATE "C"
);

CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (status) WHERE status = 'active';
