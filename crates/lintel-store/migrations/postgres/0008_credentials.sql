-- Credentials: members' cards and PIN codes. Revoked ones stay, so presenting one is answered
-- `credential_revoked`; only active ones must be unique. A PIN code is kept as a digest under
-- its site's key and, for its owner to read, sealed under the server's key: neither key is in
-- the database, so the database alone reveals no code.

CREATE TABLE cards (
    id              UUID PRIMARY KEY,
    org_id          UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    membership_id   UUID NOT NULL,
    number          TEXT NOT NULL,
    facility_code   INTEGER,
    description     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX cards_active_number ON cards (org_id, number, COALESCE(facility_code, -1))
    WHERE status = 'active';
CREATE INDEX cards_by_member ON cards (org_id, membership_id);

CREATE TABLE pins (
    id              UUID PRIMARY KEY,
    org_id          UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    membership_id   UUID NOT NULL,
    site_id         UUID NOT NULL,
    length          INTEGER NOT NULL CHECK (length BETWEEN 4 AND 12),
    digest          BYTEA NOT NULL,
    sealed          BYTEA,
    status          TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at      TIMESTAMPTZ NOT NULL,
    revoked_at      TIMESTAMPTZ,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, site_id) REFERENCES sites (org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX pins_active_code ON pins (site_id, digest) WHERE status = 'active';
CREATE INDEX pins_by_member ON pins (org_id, membership_id);
CREATE INDEX pins_by_site_length ON pins (site_id, length) WHERE status = 'active';

-- Which server key this database's credentials were made with (a fingerprint, not the key),
-- so a node started with another key refuses to run instead of failing every PIN code.
CREATE TABLE server_key (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint  TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);

-- What each version of an organization's rules changed, so that a node holding an older
-- version applies the changes instead of loading everything again. Old rows are pruned; a
-- node further behind than the log reaches loads everything.
CREATE TABLE rule_changes (
    org_id       UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    version      BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    object_id    UUID,
    at           TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, version)
);
CREATE INDEX rule_changes_by_time ON rule_changes (at);
