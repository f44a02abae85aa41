-- Review campaigns (issue 22): owners attest, on a schedule, that what
-- Countersign holds of each identity in scope is right. A campaign lists
-- its items as started (each identity and who reviews it: its owner, else
-- its backup owner); an attestation is a JWS signed with the attester's
-- key over the identity's canonical record as attested (src/campaign.rs).
CREATE TABLE campaigns (
    id         TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name       TEXT COLLATE "C" NOT NULL,
    scope      TEXT COLLATE "C" NOT NULL,
    due_on     TEXT COLLATE "C" NOT NULL,
    started_by TEXT COLLATE "C" NOT NULL,
    started_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE campaign_items (
    campaign_id TEXT COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    identity_id TEXT COLLATE "C" NOT NULL,
    reviewer    TEXT COLLATE "C",
    attested_by TEXT COLLATE "C",
    attested_at TEXT COLLATE "C",
    verdict     TEXT COLLATE "C" CHECK (verdict IN ('confirmed', 'changes_needed')),
    jws         TEXT COLLATE "C",
    record      TEXT COLLATE "C",
    PRIMARY KEY (campaign_id, identity_id)
);

-- Written only through Countersign (0005). In team mode any team member
-- may attest (the signature and the audit row name them, and the core
-- checks they review the identity); starting a campaign is governance's.
CREATE TRIGGER campaigns_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER campaign_items_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON campaign_items
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
GRANT SELECT, INSERT, UPDATE, DELETE ON campaigns, campaign_items TO countersign_owner;

CREATE FUNCTION countersign_campaigns_are_governance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT countersign_is_governance() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not start or change a review campaign; identity governance (countersign_governance) may',
                             session_user);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER campaigns_are_governance BEFORE INSERT OR UPDATE OR DELETE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_campaigns_are_governance();
