-- Access links: a secret URL (kept only as its hash) that opens the doors of one group for a
-- guest within an optional validity window. Revoked links stay on record. A member who made
-- links is remembered so that removing them revokes their links.

CREATE TABLE access_links (
    id                UUID PRIMARY KEY,
    org_id            UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    group_id          UUID NOT NULL,
    recipient_name    TEXT NOT NULL,
    delivery          TEXT NOT NULL CHECK (delivery IN ('email', 'sms', 'manual')),
    address           TEXT,
    secret_hash       BYTEA NOT NULL UNIQUE,
    valid_from        TIMESTAMPTZ,
    valid_until       TIMESTAMPTZ,
    created_by        UUID,
    created_by_name   TEXT NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL,
    revoked_at        TIMESTAMPTZ,
    last_used_at      TIMESTAMPTZ,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE,
    CHECK ((delivery = 'manual') = (address IS NULL))
);
CREATE INDEX access_links_by_group ON access_links (org_id, group_id);
CREATE INDEX access_links_by_creator ON access_links (org_id, created_by);

-- An organization's quotas, set by the operator; an organization without a row has the
-- defaults.
CREATE TABLE org_quotas (
    org_id               UUID PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    email_links          INTEGER NOT NULL,
    sms_links_per_month  INTEGER NOT NULL
);

-- Reader keys are derived from the server key now (a copy of the database must not let anyone
-- forge proofs of presence), so the stored ones go.
ALTER TABLE doors DROP COLUMN reader_key;

-- Single-use proofs already used (reader proofs, by their nonce), kept past their lifetime.
CREATE TABLE spent_proofs (
    proof     TEXT PRIMARY KEY,
    spent_at  TIMESTAMPTZ NOT NULL
);
