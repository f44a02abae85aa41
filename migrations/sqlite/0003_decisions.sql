-- Signed decisions, and the outbox that delivers them. A decision and its
-- outbox row are written in the same transaction as its audit record,
-- before any network I/O: a crash can delay a decision, never lose it.
CREATE TABLE decisions (
    jti          TEXT PRIMARY KEY NOT NULL,
    request_id   TEXT NOT NULL,
    request_json TEXT NOT NULL,
    decision     TEXT NOT NULL CHECK (decision IN ('approve', 'deny', 'approve_narrowed')),
    approver     TEXT NOT NULL,
    kid          TEXT NOT NULL REFERENCES signing_keys (kid),
    jws          TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX decisions_by_request ON decisions (request_id);

CREATE TABLE outbox (
    jti             TEXT PRIMARY KEY NOT NULL REFERENCES decisions (jti),
    destination     TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT
) STRICT;
CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
