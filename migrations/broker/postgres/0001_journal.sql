-- The broker's durable state (twin of migrations/broker/sqlite/0001).
-- Several broker processes may share this database: each change takes a
-- transaction-scoped advisory lock, catches up with the journal, and
-- appends its row, so changes are applied in one order by everyone and a
-- decision is never applied twice.
CREATE TABLE broker_events (
    seq  BIGINT PRIMARY KEY NOT NULL,
    at   TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL CHECK (kind IN ('request', 'enroll', 'checkpoint', 'decision', 'delivered')),
    body TEXT COLLATE "C" NOT NULL
);

CREATE TABLE broker_meta (
    key   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    value TEXT COLLATE "C" NOT NULL
);
