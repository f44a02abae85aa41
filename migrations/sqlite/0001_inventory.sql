-- Inventory v1: identities, services, and the two kinds of dependency edge.
-- Edges point the way damage travels: an identity is used by services, and a
-- service is depended on by other services.

CREATE TABLE services (
    id    TEXT PRIMARY KEY NOT NULL,
    name  TEXT NOT NULL,
    owner TEXT NOT NULL,
    tier  INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 3)
) STRICT;

CREATE TABLE identities (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    name        TEXT NOT NULL,
    owner       TEXT NOT NULL,
    environment TEXT NOT NULL,
    tier        INTEGER NOT NULL CHECK (tier BETWEEN 0 AND 3),
    break_glass INTEGER NOT NULL DEFAULT 0 CHECK (break_glass IN (0, 1)),
    description TEXT NOT NULL DEFAULT ''
) STRICT;

-- "service_id uses identity_id": containing the identity breaks the service.
CREATE TABLE identity_usages (
    identity_id TEXT NOT NULL REFERENCES identities (id) ON DELETE CASCADE,
    service_id  TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    PRIMARY KEY (identity_id, service_id)
) STRICT;
CREATE INDEX identity_usages_by_service ON identity_usages (service_id);

-- "service_id depends on depends_on": if depends_on breaks, so does service_id.
CREATE TABLE service_dependencies (
    service_id TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    depends_on TEXT NOT NULL REFERENCES services (id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, depends_on),
    CHECK (service_id <> depends_on)
) STRICT;
CREATE INDEX service_dependencies_by_target ON service_dependencies (depends_on);
