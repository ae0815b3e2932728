-- Door controllers: the boxes at a site that hold the rules of the doors wired to them. A
-- controller belongs to one site; a door is wired to at most one controller, of its own site
-- (SQLite cannot add a foreign key over several columns to an existing table, so the column
-- references the id and the store checks the site in the same transaction). The token is
-- kept only as its SHA-256.
CREATE TABLE controllers (
    id               BLOB PRIMARY KEY NOT NULL,
    org_id           BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    site_id          BLOB NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL,
    token_hash       BLOB NOT NULL UNIQUE,
    token_issued_at  TEXT NOT NULL,
    -- What the controller last reported (its live state, written as it syncs).
    connected        INTEGER NOT NULL DEFAULT 0,
    last_seen_at     TEXT,
    rules_version    INTEGER,
    rules_in_sync    INTEGER NOT NULL DEFAULT 0,
    events_waiting   INTEGER,
    clock_skew_ms    INTEGER,
    software_version TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, site_id, id),
    FOREIGN KEY (org_id, site_id) REFERENCES sites (org_id, id)
);
CREATE INDEX controllers_by_site ON controllers (org_id, site_id, id);

ALTER TABLE doors ADD COLUMN controller_id BLOB REFERENCES controllers (id);
CREATE INDEX doors_by_controller ON doors (org_id, controller_id) WHERE controller_id IS NOT NULL;
