-- Team mode knows who writes (issue 17). Each owner connects as their own
-- database role, made a member of countersign_owner (identity governance:
-- countersign_governance, itself a member of countersign_owner). For such
-- a "team member" the database itself enforces:
--   * an audit row's author is the connected role (session_user), whatever
--     the client claims;
--   * identities and services (and their parts) change only when the
--     member's team owns them (team_members maps roles to owners; a
--     person-owner's parent team counts), or the member is in governance;
--   * the approval policy, the identity provider and the approver groups
--     settings change only by governance;
--   * signing keys belong to the person who made them: nobody records,
--     rotates or retires another's key, nor signs a decision as someone
--     else or with someone else's key.
-- Refusals are raised by row triggers with SQLSTATE 42501 and say who may
-- make the change. (Row-level security policies would hide the rows
-- instead: an UPDATE of a row the policy filters out changes nothing and
-- says nothing, which Countersign would report as a conflict.)
-- The database's administrator (the role that owns the tables, or a
-- superuser) is not a team member and is not restricted here: it runs
-- migrations and keeps team_members.

ALTER TABLE signing_keys ADD COLUMN person TEXT COLLATE "C";
DROP INDEX signing_keys_one_active;
-- At most one key signs at a time, per person.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (coalesce(person, ''), status)
    WHERE status = 'active';

CREATE TABLE team_members (
    role     TEXT COLLATE "C" NOT NULL,
    owner_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (role, owner_id)
);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'countersign_owner') THEN
        CREATE ROLE countersign_owner NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'countersign_governance') THEN
        CREATE ROLE countersign_governance NOLOGIN IN ROLE countersign_owner;
    END IF;
END
$$;

GRANT SELECT, INSERT, UPDATE, DELETE ON owners, services, service_dependencies, identities,
    identity_external_ids, identity_usages, break_glass, containment_plans, settings,
    signing_keys, decisions, outbox TO countersign_owner;
GRANT SELECT, INSERT ON audit_log TO countersign_owner;
GRANT SELECT ON team_members, _sqlx_migrations TO countersign_owner;

-- The connected role when it is a team member; NULL for the administrator.
CREATE FUNCTION countersign_team_role() RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN NOT r.rolsuper AND pg_has_role(session_user, 'countersign_owner', 'MEMBER')
                THEN session_user::text END
    FROM pg_roles r WHERE r.rolname = session_user
$$;

CREATE FUNCTION countersign_is_governance() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT countersign_team_role() IS NULL
        OR pg_has_role(session_user, 'countersign_governance', 'MEMBER')
$$;

-- The owners whose things `owned_by` names: itself and, for a person, the
-- team it belongs to.
CREATE FUNCTION countersign_owners_of(owned_by text) RETURNS SETOF text LANGUAGE sql STABLE AS $$
    SELECT owned_by WHERE owned_by IS NOT NULL
    UNION
    SELECT o.parent FROM owners o WHERE o.id = owned_by AND o.parent IS NOT NULL
$$;

CREATE FUNCTION countersign_may_change(owned_by text) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT countersign_is_governance()
        OR EXISTS (SELECT 1 FROM team_members m
                   WHERE m.role = session_user AND m.owner_id IN (SELECT countersign_owners_of(owned_by)))
$$;

-- Who may change what `owned_by` owns, for the refusal's message.
CREATE FUNCTION countersign_who_may_change(owned_by text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(
        (SELECT string_agg(DISTINCT m.role, ', ') FROM team_members m
         WHERE m.owner_id IN (SELECT countersign_owners_of(owned_by))),
        'no team member') || ' or identity governance (countersign_governance)'
$$;

CREATE FUNCTION countersign_refuse(what text, owned_by text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = format('%s may not change %s: it is owned by %s; %s may',
                         session_user, what, coalesce(owned_by, 'nobody'),
                         countersign_who_may_change(owned_by));
END;
$$;

-- Identities and services: the row's owner, before and after.
CREATE FUNCTION countersign_owned_row_is_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    noun text := CASE TG_TABLE_NAME WHEN 'identities' THEN 'identity' ELSE 'service' END;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND NOT countersign_may_change(OLD.owner) THEN
        PERFORM countersign_refuse(format('%s %s', noun, OLD.id), OLD.owner);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NOT countersign_may_change(NEW.owner) THEN
        PERFORM countersign_refuse(format('%s %s', noun, NEW.id), NEW.owner);
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER identities_are_their_owners BEFORE INSERT OR UPDATE OR DELETE ON identities
    FOR EACH ROW EXECUTE FUNCTION countersign_owned_row_is_theirs();
CREATE TRIGGER services_are_their_owners BEFORE INSERT OR UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION countersign_owned_row_is_theirs();

-- A part of an identity or service follows its parent's owner. A parent
-- not found is being created later in the same change set (foreign keys
-- are checked at commit, and the parent's own trigger judges it) or was
-- just deleted by a cascade its own trigger allowed.
CREATE FUNCTION countersign_part_is_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    parent_table text := TG_ARGV[0];
    parent_column text := TG_ARGV[1];
    parent_ids text[];
    parent_id text;
    owned_by text;
    found_parent boolean;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        parent_ids := parent_ids || (to_jsonb(OLD) ->> parent_column);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        parent_ids := parent_ids || (to_jsonb(NEW) ->> parent_column);
    END IF;
    FOREACH parent_id IN ARRAY parent_ids LOOP
        EXECUTE format('SELECT owner, true FROM %I WHERE id = $1', parent_table)
            INTO owned_by, found_parent USING parent_id;
        IF found_parent AND NOT countersign_may_change(owned_by) THEN
            PERFORM countersign_refuse(
                format('%s %s', CASE parent_table WHEN 'identities' THEN 'identity' ELSE 'service' END, parent_id),
                owned_by);
        END IF;
    END LOOP;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER identity_external_ids_are_their_owners BEFORE INSERT OR UPDATE OR DELETE ON identity_external_ids
    FOR EACH ROW EXECUTE FUNCTION countersign_part_is_theirs('identities', 'identity_id');
CREATE TRIGGER identity_usages_are_their_owners BEFORE INSERT OR UPDATE OR DELETE ON identity_usages
    FOR EACH ROW EXECUTE FUNCTION countersign_part_is_theirs('identities', 'identity_id');
CREATE TRIGGER break_glass_is_its_owners BEFORE INSERT OR UPDATE OR DELETE ON break_glass
    FOR EACH ROW EXECUTE FUNCTION countersign_part_is_theirs('identities', 'identity_id');
CREATE TRIGGER containment_plans_are_their_owners BEFORE INSERT OR UPDATE OR DELETE ON containment_plans
    FOR EACH ROW EXECUTE FUNCTION countersign_part_is_theirs('identities', 'identity_id');
CREATE TRIGGER service_dependencies_are_their_owners BEFORE INSERT OR UPDATE OR DELETE ON service_dependencies
    FOR EACH ROW EXECUTE FUNCTION countersign_part_is_theirs('services', 'service_id');

-- Owners (teams, people): a team's members keep its record and its
-- people's; creating teams is governance's.
CREATE FUNCTION countersign_owner_row_is_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND NOT countersign_may_change(OLD.id) THEN
        PERFORM countersign_refuse(format('owner %s', OLD.id), OLD.id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE')
        AND NOT countersign_may_change(NEW.id)
        AND NOT (NEW.parent IS NOT NULL AND countersign_may_change(NEW.parent)) THEN
        PERFORM countersign_refuse(format('owner %s', NEW.id), coalesce(NEW.parent, NEW.id));
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER owners_are_their_teams BEFORE INSERT OR UPDATE OR DELETE ON owners
    FOR EACH ROW EXECUTE FUNCTION countersign_owner_row_is_theirs();

-- The approval policy, the identity provider and the approver groups
-- (one row for everyone who is not signed in): governance only.
CREATE FUNCTION countersign_setting_is_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    key text := CASE WHEN TG_OP = 'DELETE' THEN OLD.key ELSE NEW.key END;
BEGIN
    IF key IN ('approval_policy', 'oidc_provider', 'approver_groups') AND NOT countersign_is_governance() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not change the %s setting; identity governance (countersign_governance) may',
                             session_user, key);
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER settings_policy_is_governance BEFORE INSERT OR UPDATE OR DELETE ON settings
    FOR EACH ROW EXECUTE FUNCTION countersign_setting_is_theirs();

-- Keys are their person's; so are the decisions signed with them.
CREATE FUNCTION countersign_key_is_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF countersign_team_role() IS NOT NULL AND (
        (TG_OP IN ('UPDATE', 'DELETE') AND OLD.person IS DISTINCT FROM session_user::text)
        OR (TG_OP IN ('INSERT', 'UPDATE') AND NEW.person IS DISTINCT FROM session_user::text)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not record, rotate or retire signing key %s of %s: keys are their person''s',
                             session_user,
                             CASE WHEN TG_OP = 'DELETE' THEN OLD.kid ELSE NEW.kid END,
                             coalesce(CASE WHEN TG_OP = 'INSERT' THEN NEW.person ELSE OLD.person END, 'nobody'));
    END IF;
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER signing_keys_are_their_persons BEFORE INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION countersign_key_is_theirs();

CREATE FUNCTION countersign_decision_is_theirs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF countersign_team_role() IS NOT NULL AND (
        NEW.approver IS DISTINCT FROM session_user::text
        OR NOT EXISTS (SELECT 1 FROM signing_keys k WHERE k.kid = NEW.kid AND k.person = session_user::text)) THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not record a decision as %s signed with key %s: a decision is signed by the connected person with their own key',
                             session_user, NEW.approver, NEW.kid);
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER decisions_are_their_approvers BEFORE INSERT OR UPDATE ON decisions
    FOR EACH ROW EXECUTE FUNCTION countersign_decision_is_theirs();

-- The author of an audit row is who is connected.
CREATE FUNCTION countersign_audit_author_is_connected() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF countersign_team_role() IS NOT NULL AND NEW.actor IS DISTINCT FROM session_user::text THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not write an audit row as %s: in team mode the author is the connected database role',
                             session_user, NEW.actor);
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_author_is_connected BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION countersign_audit_author_is_connected();
