-- What the backend answered when a decision reached it: `accepted`,
-- `awaiting_second_approval` or `rejected` (with the reason it gave). A
-- rejected decision is final and is never sent again.
ALTER TABLE outbox ADD COLUMN receipt TEXT
    CHECK (receipt IS NULL OR receipt IN ('accepted', 'awaiting_second_approval', 'rejected'));
ALTER TABLE outbox ADD COLUMN receipt_reason TEXT;
