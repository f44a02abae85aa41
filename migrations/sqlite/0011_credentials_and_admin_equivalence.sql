-- The credentials an identity authenticates with (issue 21): an AWS
-- user's access keys, an Entra application's secrets and certificates, a
-- Google service account's user-managed keys. Never the secret itself: its
-- issuer's id, kind and dates (src/model/credential.rs).
CREATE TABLE identity_credentials (
    identity_id   TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL,
    position      INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    created_on    TEXT,
    last_used_on  TEXT,
    never_used    INTEGER NOT NULL DEFAULT 0 CHECK (never_used IN (0, 1)),
    expires_on    TEXT,
    active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    PRIMARY KEY (identity_id, credential_id)
) STRICT;

-- Written only through Countersign, as every inventory table (0005).
CREATE TRIGGER identity_credentials_insert_is_audited BEFORE INSERT ON identity_credentials
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_credentials: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identity_credentials_update_is_audited BEFORE UPDATE ON identity_credentials
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_credentials: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identity_credentials_delete_is_audited BEFORE DELETE ON identity_credentials
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_credentials: write through Countersign, so that the change is audited');
END;

-- Whether its permissions make it an administrator of its account, tenant
-- or project (src/model/identity.rs `admin_equivalent`), as the cloud
-- importers read it.
ALTER TABLE identities ADD COLUMN admin_equivalent INTEGER NOT NULL DEFAULT 0 CHECK (admin_equivalent IN (0, 1));
