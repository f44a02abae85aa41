-- Who writes (issue 17; twin of migrations/postgres/0007). The local
-- database has one user, so nothing here is enforced: the columns exist so
-- that both engines have the same schema and a database copied between
-- them keeps each key's person.
ALTER TABLE signing_keys ADD COLUMN person TEXT; -- who made the key (their actor / OIDC sub)

-- Team mode's map from database roles to the owners (teams, people) whose
-- identities and services they may change. Unused on SQLite.
CREATE TABLE team_members (
    role     TEXT NOT NULL,
    owner_id TEXT NOT NULL,
    PRIMARY KEY (role, owner_id)
) STRICT;
