-- Schedules: named weekly windows in a time zone, with dated exceptions, kept as the API
-- writes them (checked before they are stored).

CREATE TABLE schedules (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    windows     JSONB NOT NULL,
    exceptions  JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, name)
);
