-- Schedules: named weekly windows in a time zone, with dated exceptions, kept as the API
-- writes them (checked before they are stored).

CREATE TABLE schedules (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    windows     TEXT NOT NULL,
    exceptions  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, name)
);
