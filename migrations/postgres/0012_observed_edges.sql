-- Observed usage (issue 22): what tracing saw, beside what owners
-- documented. A service calling another (Zipkin and Jaeger dependency
-- links, an OpenTelemetry servicegraph edge), or a service authenticating
-- with an identity (a servicegraph edge whose server span names the
-- client's credential, `enduser.id`). Each edge is kept once, with the
-- first and last time it was seen and the calls of its latest window
-- (src/observed.rs). `consumer` and `target` are inventory ids when the
-- import resolved them (`*_known`), else the names the telemetry gave.
CREATE TABLE observed_edges (
    kind           TEXT COLLATE "C" NOT NULL CHECK (kind IN ('calls', 'uses')),
    consumer       TEXT COLLATE "C" NOT NULL,
    consumer_known BIGINT NOT NULL CHECK (consumer_known IN (0, 1)),
    target         TEXT COLLATE "C" NOT NULL,
    target_known   BIGINT NOT NULL CHECK (target_known IN (0, 1)),
    first_seen     TEXT COLLATE "C" NOT NULL,
    last_seen      TEXT COLLATE "C" NOT NULL,
    calls          BIGINT NOT NULL CHECK (calls >= 0),
    source         TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, consumer, target)
);

CREATE INDEX observed_edges_by_target ON observed_edges (target);

-- Written only through Countersign (0005). Telemetry speaks for every
-- team's services at once, so in team mode only identity governance
-- imports it (as the approval policy's settings, 0007): a team member
-- could otherwise plant "observed" evidence about another team's identity.
CREATE TRIGGER observed_edges_write_is_audited BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON observed_edges
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_write_is_audited();
GRANT SELECT, INSERT, UPDATE, DELETE ON observed_edges TO countersign_owner;

CREATE FUNCTION countersign_observations_are_governance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT countersign_is_governance() THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = format('%s may not import observed usage; identity governance (countersign_governance) may',
                             session_user);
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER observed_edges_are_governance BEFORE INSERT OR UPDATE OR DELETE ON observed_edges
    FOR EACH STATEMENT EXECUTE FUNCTION countersign_observations_are_governance();
