-- The inventory: owners, services, identities and the edges between them.
-- The PostgreSQL twin of migrations/sqlite/0001_inventory.sql (team mode):
-- same tables, columns and constraints; integers are BIGINT and foreign
-- keys are checked at commit (SQLite defers them per transaction), so a
-- change set may refer to entities created later in the same set. Text
-- compares and sorts by code point (COLLATE "C"), as SQLite's BINARY does,
-- so both engines list the inventory in the same order whatever the
-- server's locale.

CREATE TABLE owners (
    id      TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    name    TEXT COLLATE "C" NOT NULL DEFAULT '',
    email   TEXT COLLATE "C",
    parent  TEXT COLLATE "C",
    version BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE services (
    id          TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    owner       TEXT COLLATE "C",
    tier        BIGINT NOT NULL CHECK (tier BETWEEN 0 AND 3),
    system      TEXT COLLATE "C",
    description TEXT COLLATE "C" NOT NULL DEFAULT '',
    version     BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE service_dependencies (
    service_id TEXT COLLATE "C" NOT NULL REFERENCES services (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    depends_on TEXT COLLATE "C" NOT NULL REFERENCES services (id) DEFERRABLE INITIALLY DEFERRED,
    position   BIGINT NOT NULL,
    PRIMARY KEY (service_id, depends_on),
    CHECK (service_id <> depends_on)
);
CREATE INDEX service_dependencies_by_target ON service_dependencies (depends_on);

CREATE TABLE identities (
    id           TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    kind         TEXT COLLATE "C" NOT NULL,
    name         TEXT COLLATE "C" NOT NULL,
    owner        TEXT COLLATE "C",
    backup_owner TEXT COLLATE "C",
    environment  TEXT COLLATE "C" NOT NULL,
    tier         BIGINT NOT NULL CHECK (tier BETWEEN 0 AND 3),
    description  TEXT COLLATE "C" NOT NULL DEFAULT '',
    lifetime     TEXT COLLATE "C",
    expires_on   TEXT COLLATE "C",
    permissions  TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    derived_from TEXT COLLATE "C" REFERENCES identities (id) DEFERRABLE INITIALLY DEFERRED,
    reviewed_by  TEXT COLLATE "C",
    reviewed_on  TEXT COLLATE "C",
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX identities_by_parent ON identities (derived_from);

CREATE TABLE identity_external_ids (
    external_id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    identity_id TEXT COLLATE "C" NOT NULL REFERENCES identities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    position    BIGINT NOT NULL
);
CREATE INDEX identity_external_ids_by_identity ON identity_external_ids (identity_id);

CREATE TABLE identity_usages (
    identity_id   TEXT COLLATE "C" NOT NULL REFERENCES identities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    service_id    TEXT COLLATE "C" NOT NULL REFERENCES services (id) DEFERRABLE INITIALLY DEFERRED,
    position      BIGINT NOT NULL,
    access        TEXT COLLATE "C",
    delivery      TEXT COLLATE "C",
    live_sessions BIGINT NOT NULL DEFAULT 0 CHECK (live_sessions IN (0, 1)),
    PRIMARY KEY (identity_id, service_id)
);
CREATE INDEX identity_usages_by_service ON identity_usages (service_id);

CREATE TABLE break_glass (
    identity_id          TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES identities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    justification        TEXT COLLATE "C" NOT NULL,
    custodians           TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    use_window           TEXT COLLATE "C" NOT NULL DEFAULT '',
    always_dual_approval BIGINT NOT NULL DEFAULT 1 CHECK (always_dual_approval IN (0, 1)),
    owner_veto           BIGINT NOT NULL DEFAULT 1 CHECK (owner_veto IN (0, 1))
);

CREATE TABLE containment_plans (
    identity_id   TEXT COLLATE "C" NOT NULL REFERENCES identities (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    action        TEXT COLLATE "C" NOT NULL,
    reversible    BIGINT CHECK (reversible IN (0, 1)),
    rollback      TEXT COLLATE "C" NOT NULL DEFAULT '',
    rto_minutes   BIGINT CHECK (rto_minutes >= 0),
    preauthorised TEXT COLLATE "C",
    PRIMARY KEY (identity_id, action)
);

CREATE TABLE settings (
    key   TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    value TEXT COLLATE "C" NOT NULL
);

CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY NOT NULL,
    at        TEXT COLLATE "C" NOT NULL,
    actor     TEXT COLLATE "C" NOT NULL,
    operation TEXT COLLATE "C" NOT NULL,
    entity    TEXT COLLATE "C" NOT NULL,
    entity_id TEXT COLLATE "C" NOT NULL,
    before    TEXT COLLATE "C",
    after     TEXT COLLATE "C",
    source    TEXT COLLATE "C" NOT NULL,
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash      TEXT COLLATE "C" NOT NULL
);
CREATE INDEX audit_log_by_entity ON audit_log (entity, entity_id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_is_append_only_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_is_append_only_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
