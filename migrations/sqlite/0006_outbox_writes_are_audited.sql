-- The outbox (what is queued for delivery, and the receipt each decision
-- got) is written by Countersign only, like the tables of 0005: a receipt
-- forged with the sqlite3 shell would show a decision as accepted that the
-- backend never accepted.
CREATE TRIGGER outbox_insert_is_audited BEFORE INSERT ON outbox
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'outbox: write through Countersign');
END;

CREATE TRIGGER outbox_update_is_audited BEFORE UPDATE ON outbox
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'outbox: write through Countersign');
END;

CREATE TRIGGER outbox_delete_is_audited BEFORE DELETE ON outbox
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'outbox: write through Countersign');
END;
