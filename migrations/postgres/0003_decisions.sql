-- Signed decisions and their outbox (twin of the SQLite migration).
CREATE TABLE decisions (
    jti          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    request_id   TEXT COLLATE "C" NOT NULL,
    request_json TEXT COLLATE "C" NOT NULL,
    decision     TEXT COLLATE "C" NOT NULL CHECK (decision IN ('approve', 'deny', 'approve_narrowed')),
    approver     TEXT COLLATE "C" NOT NULL,
    kid          TEXT COLLATE "C" NOT NULL REFERENCES signing_keys (kid) DEFERRABLE INITIALLY DEFERRED,
    jws          TEXT COLLATE "C" NOT NULL,
    created_at   TEXT COLLATE "C" NOT NULL
);
CREATE INDEX decisions_by_request ON decisions (request_id);

CREATE TABLE outbox (
    jti             TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES decisions (jti) DEFERRABLE INITIALLY DEFERRED,
    destination     TEXT COLLATE "C" NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    delivered_at    TEXT COLLATE "C",
    last_error      TEXT COLLATE "C"
);
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
