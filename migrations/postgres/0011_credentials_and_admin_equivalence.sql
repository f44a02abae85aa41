-- The credentials an identity authenticates with (issue 21): an AWS
-- user's access keys, an Entra application's secrets and certificates, a
-- Google service account's user-managed keys. Never the secret itself: its
-- issuer's id, kind and dates (src/model/credential.rs).
CREATE TABLE identity_credentials (
    identity_id   TEXT COLLATE "C" NOT NULL REFERENCES identities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    credential_id TEXT COLLATE "C" NOT NULL,
    position      BIGINT NOT NULL,
    kind          TEXT COLLATE "C" NOT NULL,
    created_on    TEXT COLLATE "C",
    last_used_on  TEXT COLLATE "C",
    never_used    BIGINT NOT NULL DEFAULT 0 CHECK (never_used IN (0, 1)),
    expires_on    TEXT COLLATE "C",
    active        BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    PRIMARY KEY (identity_id, credential_id)
);

-- Written only through Countersign (0005), and in team mode only by the
-- identity's team or governance (0007, per statement as 0010).
CREATE TRIGGER identity_credentials_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON identity_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
GRANT SELECT, INSERT, UPDATE, DELETE ON identity_credentials TO countersign_owner;
CREATE TRIGGER identity_credentials_inserted_are_their_owners AFTER INSERT ON identity_credentials
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_parts_are_theirs('identities', 'identity_id');
CREATE TRIGGER identity_credentials_updated_are_their_owners AFTER UPDATE ON identity_credentials
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_parts_are_theirs('identities', 'identity_id');
CREATE TRIGGER identity_credentials_deleted_are_their_owners AFTER DELETE ON identity_credentials
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_parts_are_theirs('identities', 'identity_id');

-- Whether its permissions make it an administrator of its account, tenant
-- or project (src/model/identity.rs `admin_equivalent`), as the cloud
-- importers read it.
ALTER TABLE identities ADD COLUMN admin_equivalent BIGINT NOT NULL DEFAULT 0 CHECK (admin_equivalent IN (0, 1));
