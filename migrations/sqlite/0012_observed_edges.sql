-- Observed usage (issue 22): what tracing saw, beside what owners
-- documented. A service calling another (Zipkin and Jaeger dependency
-- links, an OpenTelemetry servicegraph edge), or a service authenticating
-- with an identity (a servicegraph edge whose server span names the
-- client's credential, `enduser.id`). Each edge is kept once, with the
-- first and last time it was seen and the calls of its latest window
-- (src/observed.rs). `consumer` and `target` are inventory ids when the
-- import resolved them (`*_known`), else the names the telemetry gave.
CREATE TABLE observed_edges (
    kind           TEXT NOT NULL CHECK (kind IN ('calls', 'uses')),
    consumer       TEXT NOT NULL,
    consumer_known INTEGER NOT NULL CHECK (consumer_known IN (0, 1)),
    target         TEXT NOT NULL,
    target_known   INTEGER NOT NULL CHECK (target_known IN (0, 1)),
    first_seen     TEXT NOT NULL,
    last_seen      TEXT NOT NULL,
    calls          INTEGER NOT NULL CHECK (calls >= 0),
    source         TEXT NOT NULL,
    PRIMARY KEY (kind, consumer, target)
) STRICT;

CREATE INDEX observed_edges_by_target ON observed_edges (target);

-- Written only through Countersign, as every inventory table (0005).
CREATE TRIGGER observed_edges_insert_is_audited BEFORE INSERT ON observed_edges
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'observed_edges: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER observed_edges_update_is_audited BEFORE UPDATE ON observed_edges
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'observed_edges: write through Countersign, so that the change is audited');
END;

CREATE TRIGGER observed_edges_delete_is_audited BEFORE DELETE ON observed_edges
WHEN countersign_write_is_audited() IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'observed_edges: write through Countersign, so that the change is audited');
END;
