-- Organizations, their sites, doors and groups, and API keys.
-- Every tenant-owned table carries org_id, and references between tenant-owned rows go
-- through (org_id, id) so that a row can never point into another organization.

CREATE TABLE organizations (
    id          BLOB PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    settings    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE sites (
    id                  BLOB PRIMARY KEY NOT NULL,
    org_id              BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    address             TEXT NOT NULL,
    time_zone           TEXT NOT NULL,
    geofence_latitude   REAL,
    geofence_longitude  REAL,
    geofence_radius_m   REAL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (org_id, id),
    CHECK ((geofence_latitude IS NULL) = (geofence_longitude IS NULL)
       AND (geofence_latitude IS NULL) = (geofence_radius_m IS NULL))
);

CREATE TABLE doors (
    id                    BLOB PRIMARY KEY NOT NULL,
    org_id                BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    site_id               BLOB NOT NULL,
    name                  TEXT NOT NULL,
    kind                  TEXT NOT NULL CHECK (kind IN ('door', 'gate', 'locker', 'storage_unit', 'relay')),
    geofence_required     BOOLEAN NOT NULL,
    reader_required       BOOLEAN NOT NULL,
    unlock_duration_secs  INTEGER NOT NULL CHECK (unlock_duration_secs BETWEEN 1 AND 600),
    description           TEXT NOT NULL,
    preferences           TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, site_id) REFERENCES sites (org_id, id)
);
CREATE INDEX doors_by_site ON doors (org_id, site_id, id);

CREATE TABLE groups (
    id           BLOB PRIMARY KEY NOT NULL,
    org_id       BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, name)
);

-- An API key with no org_id is an operator key: it administers organizations themselves.
CREATE TABLE api_keys (
    id            BLOB PRIMARY KEY NOT NULL,
    org_id        BLOB REFERENCES organizations (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    prefix        TEXT NOT NULL,
    secret_hash   BLOB NOT NULL UNIQUE,
    areas         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT,
    last_used_at  TEXT,
    revoked_at    TEXT
);
CREATE INDEX api_keys_by_org ON api_keys (org_id, id);
