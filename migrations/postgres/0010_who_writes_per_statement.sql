-- Team mode's "who writes" (0007), checked once per statement instead of
-- once per row (issue 20). The row triggers ran a plpgsql function, a
-- role lookup and, for an identity's or service's parts, a dynamically
-- planned query for every row: about 140 µs a row, so copying 100k
-- identities into PostgreSQL spent 14 s in them and a million could not be
-- copied in ten minutes. These AFTER ... FOR EACH STATEMENT triggers see
-- the statement's rows as transition tables (old_rows, new_rows) and judge
-- them in one query, after one check of whether the connected role is
-- governance (or the administrator), who may change everything. The rules
-- and the refusals (SQLSTATE 42501, naming who may) are unchanged; a
-- refused statement is rolled back with its transaction as before.
-- Transition tables allow one event per trigger, hence three triggers per
-- table.

DROP TRIGGER identities_are_their_owners ON identities;
DROP TRIGGER services_are_their_owners ON services;
DROP TRIGGER identity_external_ids_are_their_owners ON identity_external_ids;
DROP TRIGGER identity_usages_are_their_owners ON identity_usages;
DROP TRIGGER break_glass_is_its_owners ON break_glass;
DROP TRIGGER containment_plans_are_their_owners ON containment_plans;
DROP TRIGGER service_dependencies_are_their_owners ON service_dependencies;
DROP TRIGGER owners_are_their_teams ON owners;
DROP TRIGGER audit_log_author_is_connected ON audit_log;
DROP FUNCTION countersign_owned_row_is_theirs();
DROP FUNCTION countersign_part_is_theirs();
DROP FUNCTION countersign_owner_row_is_theirs();
DROP FUNCTION countersign_audit_author_is_connected();

-- The refusal says who may instead; when no team member is mapped to the
-- owner, that only governance may (0007 said "no team member or identity
-- governance may", which reads as nobody).
CREATE OR REPLACE FUNCTION countersign_refuse(what text, owned_by text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    members text := (SELECT string_agg(DISTINCT m.role, ', ') FROM team_members m
                     WHERE m.owner_id IN (SELECT countersign_owners_of(owned_by)));
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = CASE
            WHEN owned_by IS NULL THEN
                format('%s may not change %s: it is owned by nobody; identity governance (countersign_governance) may',
                       session_user, what)
            WHEN members IS NULL THEN
                format('%s may not change %s: it is owned by %s, to which no team member is mapped; identity governance (countersign_governance) may',
                       session_user, what, owned_by)
            ELSE
                format('%s may not change %s: it is owned by %s; %s or identity governance (countersign_governance) may',
                       session_user, what, owned_by, members)
        END;
END;
$$;

-- Identities and services: each changed row's owner, before and after.
CREATE FUNCTION countersign_owned_rows_are_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    noun text := CASE TG_TABLE_NAME WHEN 'identities' THEN 'identity' ELSE 'service' END;
    refused record;
BEGIN
    IF countersign_is_governance() THEN
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE 'SELECT id, owner FROM old_rows WHERE NOT countersign_may_change(owner) ORDER BY id LIMIT 1'
            INTO refused;
        IF refused.id IS NOT NULL THEN
            PERFORM countersign_refuse(format('%s %s', noun, refused.id), refused.owner);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE 'SELECT id, owner FROM new_rows WHERE NOT countersign_may_change(owner) ORDER BY id LIMIT 1'
            INTO refused;
        IF refused.id IS NOT NULL THEN
            PERFORM countersign_refuse(format('%s %s', noun, refused.id), refused.owner);
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

-- A part of an identity or service follows its parent's owner
-- (TG_ARGV: the parent table and the part's column naming it). A parent
-- not found is being created later in the same change set (foreign keys
-- are checked at commit, and the parent's own trigger judges it) or was
-- just deleted by a cascade its own trigger allowed.
CREATE FUNCTION countersign_parts_are_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_table text := TG_ARGV[0];
    parent_column text := TG_ARGV[1];
    changed text;
    refused record;
BEGIN
    IF countersign_is_governance() THEN
        RETURN NULL;
    END IF;
    changed := CASE TG_OP
        WHEN 'INSERT' THEN format('SELECT %I AS id FROM new_rows', parent_column)
        WHEN 'DELETE' THEN format('SELECT %I AS id FROM old_rows', parent_column)
        ELSE format('SELECT %I AS id FROM old_rows UNION SELECT %I FROM new_rows', parent_column, parent_column)
    END;
    EXECUTE format(
        'SELECT p.id, p.owner FROM %I p WHERE p.id IN (%s) AND NOT countersign_may_change(p.owner) ORDER BY p.id LIMIT 1',
        parent_table, changed)
        INTO refused;
    IF refused.id IS NOT NULL THEN
        PERFORM countersign_refuse(
            format('%s %s', CASE parent_table WHEN 'identities' THEN 'identity' ELSE 'service' END, refused.id),
            refused.owner);
    END IF;
    RETURN NULL;
END;
$$;

-- Owners (teams, people): a team's members keep its record and its
-- people's; creating teams is governance's.
CREATE FUNCTION countersign_owner_rows_are_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    refused record;
BEGIN
    IF countersign_is_governance() THEN
        RETURN NULL;
    END IF;
    -- A row as it was is judged by the parent it had: the table already
    -- holds the statement's new parents, so countersign_may_change(id)
    -- would let a member move another team (or its person) under their
    -- own and so take it over.
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE 'SELECT o.id FROM old_rows o
                 WHERE NOT EXISTS (SELECT 1 FROM team_members m
                                   WHERE m.role = session_user AND m.owner_id IN (o.id, o.parent))
                 ORDER BY o.id LIMIT 1'
            INTO refused;
        IF refused.id IS NOT NULL THEN
            PERFORM countersign_refuse(format('owner %s', refused.id), refused.id);
        END IF;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        EXECUTE 'SELECT id, parent FROM new_rows
                 WHERE NOT countersign_may_change(id)
                   AND NOT (parent IS NOT NULL AND countersign_may_change(parent))
                 ORDER BY id LIMIT 1'
            INTO refused;
        IF refused.id IS NOT NULL THEN
            PERFORM countersign_refuse(format('owner %s', refused.id), coalesce(refused.parent, refused.id));
        END IF;
    END IF;
    RETURN NULL;
END;
$$;

-- The author of an audit row is who is connected.
CREATE FUNCTION countersign_audit_authors_are_connected() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    claimed text;
BEGIN
    IF countersign_team_role() IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT actor INTO claimed FROM new_rows WHERE actor IS DISTINCT FROM session_user::text LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not write an audit row as %s: in team mode the author is the connected database role',
                             session_user, claimed);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER identities_inserted_are_their_owners AFTER INSERT ON identities
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owned_rows_are_theirs();
CREATE TRIGGER identities_updated_are_their_owners AFTER UPDATE ON identities
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owned_rows_are_theirs();
CREATE TRIGGER identities_deleted_are_their_owners AFTER DELETE ON identities
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owned_rows_are_theirs();

CREATE TRIGGER services_inserted_are_their_owners AFTER INSERT ON services
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owned_rows_are_theirs();
CREATE TRIGGER services_updated_are_their_owners AFTER UPDATE ON services
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owned_rows_are_theirs();
CREATE TRIGGER services_deleted_are_their_owners AFTER DELETE ON services
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owned_rows_are_theirs();

CREATE TRIGGER owners_inserted_are_their_teams AFTER INSERT ON owners
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owner_rows_are_theirs();
CREATE TRIGGER owners_updated_are_their_teams AFTER UPDATE ON owners
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owner_rows_are_theirs();
CREATE TRIGGER owners_deleted_are_their_teams AFTER DELETE ON owners
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_owner_rows_are_theirs();

CREATE TRIGGER audit_log_authors_are_connected AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_audit_authors_are_connected();

-- The parts, three triggers each.
DO $$
DECLARE
    part record;
    event text;
    referencing text;
BEGIN
    FOR part IN SELECT * FROM (VALUES
        ('identity_external_ids', 'identities', 'identity_id'),
        ('identity_usages', 'identities', 'identity_id'),
        ('break_glass', 'identities', 'identity_id'),
        ('containment_plans', 'identities', 'identity_id'),
        ('service_dependencies', 'services', 'service_id')) AS p (tbl, parent_table, parent_column)
    LOOP
        FOREACH event IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
            referencing := CASE event
                WHEN 'INSERT' THEN 'NEW TABLE AS new_rows'
                WHEN 'UPDATE' THEN 'OLD TABLE AS old_rows NEW TABLE AS new_rows'
                ELSE 'OLD TABLE AS old_rows'
            END;
            EXECUTE format(
                'CREATE TRIGGER %I AFTER %s ON %I REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION countersign_parts_are_theirs(%L, %L)',
                part.tbl || '_' || CASE event WHEN 'INSERT' THEN 'inserted' WHEN 'UPDATE' THEN 'updated' ELSE 'deleted' END
                    || '_are_their_owners',
                event, part.tbl, referencing,
                part.parent_table, part.parent_column);
        END LOOP;
    END LOOP;
END;
$$;
