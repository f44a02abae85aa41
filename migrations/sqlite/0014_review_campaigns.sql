-- Review campaigns (issue 22): owners attest, on a schedule, that what
-- Countersign holds of each identity in scope is right. A campaign lists
-- its items as started (each identity and who reviews it: its owner, else
-- its backup owner); an attestation is a JWS signed with the attester's
-- key over the identity's canonical record as attested (src/campaign.rs).
CREATE TABLE campaigns (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    scope      TEXT NOT NULL,
    due_on     TEXT NOT NULL,
    started_by TEXT NOT NULL,
    started_at TEXT NOT NULL
) STRICT;

CREATE TABLE campaign_items (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    identity_id TEXT NOT NULL,
    reviewer    TEXT,
    attested_by TEXT,
    attested_at TEXT,
    verdict     TEXT CHECK (verdict IN ('confirmed', 'changes_needed')),
    jws         TEXT,
    record      TEXT,
    PRIMARY KEY (campaign_id, identity_id)
) STRICT;

CREATE TRIGGER campaigns_insert_is_audited BEFORE INSERT ON campaigns
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'campaigns: write through Countersign, so that the change is audited');
END;
CREATE TRIGGER campaigns_update_is_audited BEFORE UPDATE ON campaigns
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'campaigns: write through Countersign, so that the change is audited');
END;
CREATE TRIGGER campaigns_delete_is_audited BEFORE DELETE ON campaigns
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'campaigns: write through Countersign, so that the change is audited');
END;
CREATE TRIGGER campaign_items_insert_is_audited BEFORE INSERT ON campaign_items
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'campaign_items: write through Countersign, so that the change is audited');
END;
CREATE TRIGGER campaign_items_update_is_audited BEFORE UPDATE ON campaign_items
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'campaign_items: write through Countersign, so that the change is audited');
END;
CREATE TRIGGER campaign_items_delete_is_audited BEFORE DELETE ON campaign_items
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'campaign_items: write through Countersign, so that the change is audited');
END;
