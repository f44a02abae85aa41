-- The broker's durable state (issue 18): every change to what the broker
-- knows (a request added, an approver enrolled, a decision submitted, an
-- audit checkpoint kept) is one row of this journal, in order; the state
-- is the journal replayed. A change and its row commit together, so a
-- restart (or kill -9) loses nothing that was answered, and a decision's
-- `jti`, once journaled, is never applied again.
CREATE TABLE broker_events (
    seq  INTEGER PRIMARY KEY NOT NULL,
    at   TEXT NOT NULL,          -- when it was recorded (RFC 3339)
    kind TEXT NOT NULL CHECK (kind IN ('request', 'enroll', 'checkpoint', 'decision', 'delivered')),
    body TEXT NOT NULL           -- the event as JSON
) STRICT;

-- What the broker was started as, kept so a restart on another port keeps
-- answering to the same audience.
CREATE TABLE broker_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
