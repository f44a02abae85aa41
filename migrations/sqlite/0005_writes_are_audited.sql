-- Every write to the inventory, its settings, keys and decisions goes
-- through Countersign, which records it in the audit trail in the same
-- transaction. A write from anything else (the sqlite3 shell, a script) is
-- refused: the triggers below call countersign_write_is_audited(), an SQL
-- function only Countersign's connections define (src/store/guard.rs), so
-- another client's statement fails with "no such function:
-- countersign_write_is_audited". Someone who defines the function or drops
-- the triggers gets past this, but not past `countersign audit verify`,
-- which compares each entity with its last audited state.

CREATE TRIGGER owners_insert_is_audited BEFORE INSERT ON owners
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'owners: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER owners_update_is_audited BEFORE UPDATE ON owners
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'owners: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER owners_delete_is_audited BEFORE DELETE ON owners
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'owners: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER services_insert_is_audited BEFORE INSERT ON services
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'services: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER services_update_is_audited BEFORE UPDATE ON services
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'services: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER services_delete_is_audited BEFORE DELETE ON services
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'services: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER service_dependencies_insert_is_audited BEFORE INSERT ON service_dependencies
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'service_dependencies: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER service_dependencies_update_is_audited BEFORE UPDATE ON service_dependencies
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'service_dependencies: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER service_dependencies_delete_is_audited BEFORE DELETE ON service_dependencies
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'service_dependencies: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identities_insert_is_audited BEFORE INSERT ON identities
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identities: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identities_update_is_audited BEFORE UPDATE ON identities
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identities: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identities_delete_is_audited BEFORE DELETE ON identities
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identities: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identity_external_ids_insert_is_audited BEFORE INSERT ON identity_external_ids
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_external_ids: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identity_external_ids_update_is_audited BEFORE UPDATE ON identity_external_ids
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_external_ids: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identity_external_ids_delete_is_audited BEFORE DELETE ON identity_external_ids
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_external_ids: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identity_usages_insert_is_audited BEFORE INSERT ON identity_usages
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_usages: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identity_usages_update_is_audited BEFORE UPDATE ON identity_usages
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_usages: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER identity_usages_delete_is_audited BEFORE DELETE ON identity_usages
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'identity_usages: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER break_glass_insert_is_audited BEFORE INSERT ON break_glass
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'break_glass: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER break_glass_update_is_audited BEFORE UPDATE ON break_glass
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'break_glass: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER break_glass_delete_is_audited BEFORE DELETE ON break_glass
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'break_glass: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER containment_plans_insert_is_audited BEFORE INSERT ON containment_plans
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'containment_plans: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER containment_plans_update_is_audited BEFORE UPDATE ON containment_plans
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'containment_plans: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER containment_plans_delete_is_audited BEFORE DELETE ON containment_plans
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'containment_plans: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER settings_insert_is_audited BEFORE INSERT ON settings
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'settings: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER settings_update_is_audited BEFORE UPDATE ON settings
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'settings: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER settings_delete_is_audited BEFORE DELETE ON settings
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'settings: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER signing_keys_insert_is_audited BEFORE INSERT ON signing_keys
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'signing_keys: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER signing_keys_update_is_audited BEFORE UPDATE ON signing_keys
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'signing_keys: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER signing_keys_delete_is_audited BEFORE DELETE ON signing_keys
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'signing_keys: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER decisions_insert_is_audited BEFORE INSERT ON decisions
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'decisions: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER decisions_update_is_audited BEFORE UPDATE ON decisions
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'decisions: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER decisions_delete_is_audited BEFORE DELETE ON decisions
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'decisions: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER audit_log_insert_is_audited BEFORE INSERT ON audit_log
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'audit_log: rows are appended by Countersign only');
END;
