-- A review campaign can be closed (issue 22): a mistaken one, or one whose
-- remaining items nobody will attest. Its pending items are then no longer
-- due (no queue, no overdue finding); what was attested stays evidence.
-- The write guards of 0014 cover the new columns.
ALTER TABLE campaigns ADD COLUMN closed_at TEXT;
ALTER TABLE campaigns ADD COLUMN closed_by TEXT;
ALTER TABLE campaigns ADD COLUMN closed_reason TEXT;
