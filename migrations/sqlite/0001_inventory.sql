-- The inventory: owners, services, identities and the edges between them.
-- Edges point the way damage travels: an identity is used by services, and
-- a service is depended on by other services. Every editable row carries a
-- version for optimistic concurrency.

CREATE TABLE owners (
    id      TEXT PRIMARY KEY NOT NULL,
    kind    TEXT NOT NULL,
    name    TEXT NOT NULL DEFAULT '',
    email   TEXT,
    parent  TEXT,
    version INTEGER NOT NULL DEFAULT 1
) STRICT;

CREATE TABLE services (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    owner       TEXT,
    tier        INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 3),
    system      TEXT,
    description TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1
) STRICT;

-- "service_id depends on depends_on": if depends_on breaks, so does service_id.
CREATE TABLE service_dependencies (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    depends_on TEXT NOT NULL REFERENCES services (id),
    position   INTEGER NOT NULL,
    PRIMARY KEY (service_id, depends_on),
    CHECK (service_id <> depends_on)
) STRICT;
CREATE INDEX service_dependencies_by_target ON service_dependencies (depends_on);

CREATE TABLE identities (
    id           TEXT PRIMARY KEY NOT NULL,
    kind         TEXT NOT NULL,
    name         TEXT NOT NULL,
    owner        TEXT,
    backup_owner TEXT,
    environment  TEXT NOT NULL,
    tier         INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 3),
    description  TEXT NOT NULL DEFAULT '',
    lifetime     TEXT,
    expires_on   TEXT,
    permissions  TEXT NOT NULL DEFAULT '[]', -- JSON array of role or scope names
    -- Lineage. No cascade: deleting a parent must be a decision, not a side effect.
    derived_from TEXT REFERENCES identities (id),
    reviewed_by  TEXT,
    reviewed_on  TEXT,
    version      INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE INDEX identities_by_parent ON identities (derived_from);

-- How other systems name an identity; unique so a backend reference resolves to one.
CREATE TABLE identity_external_ids (
    external_id TEXT PRIMARY KEY NOT NULL,
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL
) STRICT;
CREATE INDEX identity_external_ids_by_identity ON identity_external_ids (identity_id);

-- "service_id uses identity_id": containing the identity breaks the service.
CREATE TABLE identity_usages (
    identity_id   TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    service_id    TEXT NOT NULL REFERENCES services (id),
    position      INTEGER NOT NULL,
    access        TEXT,
    delivery      TEXT,
    live_sessions INTEGER NOT NULL DEFAULT 0 CHECK (live_sessions IN (0, 1)),
    PRIMARY KEY (identity_id, service_id)
) STRICT;
CREATE INDEX identity_usages_by_service ON identity_usages (service_id);

CREATE TABLE break_glass (
    identity_id          TEXT PRIMARY KEY NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    justification        TEXT NOT NULL,
    custodians           TEXT NOT NULL DEFAULT '[]', -- JSON array of owner ids
    use_window           TEXT NOT NULL DEFAULT '',
    always_dual_approval INTEGER NOT NULL DEFAULT 1 CHECK (always_dual_approval IN (0, 1)),
    owner_veto           INTEGER NOT NULL DEFAULT 1 CHECK (owner_veto IN (0, 1))
) STRICT;

CREATE TABLE containment_plans (
    identity_id   TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    action        TEXT NOT NULL,
    reversible    INTEGER CHECK (reversible IN (0, 1)),
    rollback      TEXT NOT NULL DEFAULT '',
    rto_minutes   INTEGER CHECK (rto_minutes >= 0),
    preauthorised TEXT,
    PRIMARY KEY (identity_id, action)
) STRICT;

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

-- Append-only, hash-chained record of every change. `hash` is SHA-256 over
-- the row's fields and `prev_hash`, so altering, removing or reordering any
-- row breaks the chain from that row on (`countersign audit verify`).
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY NOT NULL,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    operation TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before    TEXT,
    after     TEXT,
    source    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
) STRICT;
CREATE INDEX audit_log_by_entity ON audit_log (entity, entity_id);

CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TRIGGER audit_log_is_append_only_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
