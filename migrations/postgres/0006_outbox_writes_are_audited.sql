-- The outbox (what is queued for delivery, and the receipt each decision
-- got) is written by Countersign only, like the tables of 0005: a receipt
-- forged with psql would show a decision as accepted that the backend
-- never accepted.
CREATE TRIGGER outbox_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
