-- The backend's answer to a delivered decision (twin of the SQLite migration).
ALTER TABLE outbox ADD COLUMN receipt TEXT COLLATE "C"
    CHECK (receipt IS NULL OR receipt IN ('accepted', 'awaiting_second_approval', 'rejected'));
ALTER TABLE outbox ADD COLUMN receipt_reason TEXT COLLATE "C";
