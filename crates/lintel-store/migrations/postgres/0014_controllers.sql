-- Door controllers: the boxes at a site that hold the rules of the doors wired to them. A
-- controller belongs to one site; a door is wired to at most one controller, of its own site
-- (the foreign key goes through (org_id, site_id, id), so it cannot point elsewhere). The
-- token is kept only as its SHA-256.
CREATE TABLE controllers (
    id               UUID PRIMARY KEY,
    org_id           UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    site_id          UUID NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    token_hash       BYTEA NOT NULL UNIQUE,
    token_issued_at  TIMESTAMPTZ NOT NULL,
    -- What the controller last reported (its live state, written as it syncs).
    connected        BOOLEAN NOT NULL DEFAULT FALSE,
    last_seen_at     TIMESTAMPTZ,
    rules_version    BIGINT,
    rules_in_sync    BOOLEAN NOT NULL DEFAULT FALSE,
    events_waiting   BIGINT,
    clock_skew_ms    BIGINT,
    software_version TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, site_id, id),
    FOREIGN KEY (org_id, site_id) REFERENCES sites (org_id, id)
);
CREATE INDEX controllers_by_site ON controllers (org_id, site_id, id);

ALTER TABLE doors ADD COLUMN controller_id UUID;
ALTER TABLE doors ADD CONSTRAINT doors_controller_fk
    FOREIGN KEY (org_id, site_id, controller_id) REFERENCES controllers (org_id, site_id, id);
CREATE INDEX doors_by_controller ON doors (org_id, controller_id) WHERE controller_id IS NOT NULL;
