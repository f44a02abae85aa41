-- Every write to the inventory, its settings, keys and decisions goes
-- through Countersign, which records it in the audit trail in the same
-- transaction. Countersign's connections say so with the session setting
-- countersign.write_is_audited = on (src/store/mod.rs); a write from any
-- other session (psql, a script) is refused by the statement-level
-- triggers below, and TRUNCATE of the audit trail is refused for everyone.
-- Someone who sets the setting or disables the triggers gets past this,
-- but not past `countersign audit verify`, which compares each entity with
-- its last audited state.
CREATE FUNCTION countersign_write_is_audited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('countersign.write_is_audited', true), '') <> 'on' THEN
        RAISE EXCEPTION '%: write through Countersign, so that the change is audited', TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END;
$$;

CREATE FUNCTION audit_log_is_never_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_is_append_only_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_never_truncated();
CREATE TRIGGER audit_log_insert_is_audited BEFORE INSERT ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();

CREATE TRIGGER owners_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON owners
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER services_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER service_dependencies_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON service_dependencies
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER identities_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON identities
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER identity_external_ids_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON identity_external_ids
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER identity_usages_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON identity_usages
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER break_glass_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON break_glass
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER containment_plans_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON containment_plans
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER settings_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER signing_keys_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
CREATE TRIGGER decisions_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON decisions
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
