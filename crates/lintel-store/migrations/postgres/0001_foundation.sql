-- Organizations, their sites, doors and groups, and API keys.
-- Every tenant-owned table carries org_id, and references between tenant-owned rows go
-- through (org_id, id) so that a row can never point into another organization.

CREATE TABLE organizations (
    id          UUID PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    settings    JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE sites (
    id                  UUID PRIMARY KEY,
    org_id              UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    address             TEXT NOT NULL,
    time_zone           TEXT NOT NULL,
    geofence_latitude   DOUBLE PRECISION,
    geofence_longitude  DOUBLE PRECISION,
    geofence_radius_m   DOUBLE PRECISION,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    CHECK ((geofence_latitude IS NULL) = (geofence_longitude IS NULL)
       AND (geofence_latitude IS NULL) = (geofence_radius_m IS NULL))
);

CREATE TABLE doors (
    id                    UUID PRIMARY KEY,
    org_id                UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    site_id               UUID NOT NULL,
    name                  TEXT NOT NULL,
    kind                  TEXT NOT NULL CHECK (kind IN ('door', 'gate', 'locker', 'storage_unit', 'relay')),
    geofence_required     BOOLEAN NOT NULL,
    reader_required       BOOLEAN NOT NULL,
    unlock_duration_secs  INTEGER NOT NULL CHECK (unlock_duration_secs BETWEEN 1 AND 600),
    description           TEXT NOT NULL,
    preferences           JSONB NOT NULL,
    created_at            TIMESTAMPTZ NOT NULL,
    updated_at            TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, site_id) REFERENCES sites (org_id, id)
);
CREATE INDEX doors_by_site ON doors (org_id, site_id, id);

CREATE TABLE groups (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, name)
);

-- An API key with no org_id is an operator key: it administers organizations themselves.
CREATE TABLE api_keys (
    id            UUID PRIMARY KEY,
    org_id        UUID REFERENCES organizations (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_hash   BYTEA NOT NULL UNIQUE,
    areas         JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ
);
CREATE INDEX api_keys_by_org ON api_keys (org_id, id);
