-- Memberships (an account's place in an organization, with its admin areas and groups),
-- invitations (memberships no account holds yet) and the event log.

CREATE TABLE memberships (
    id                 UUID PRIMARY KEY,
    org_id             UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Null while invited: the invitation attaches to whoever accepts it, or to the account
    -- that signs in with its address.
    account_id         UUID REFERENCES accounts (id) ON DELETE CASCADE,
    status             TEXT NOT NULL CHECK (status IN ('invited', 'active', 'suspended')),
    areas              JSONB NOT NULL,
    invite_channel     TEXT CHECK (invite_channel IN ('email', 'sms')),
    invite_address     TEXT,
    -- Null for a membership pre-provisioned from the command line: no link, no expiry.
    invite_token_hash  BYTEA UNIQUE,
    invite_expires_at  TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    UNIQUE (org_id, id),
    UNIQUE (org_id, account_id),
    CHECK ((account_id IS NULL) = (status = 'invited')),
    CHECK ((status = 'invited') = (invite_address IS NOT NULL))
);
CREATE INDEX memberships_by_account ON memberships (account_id);
CREATE UNIQUE INDEX memberships_by_invite_address ON memberships (org_id, invite_address);
CREATE INDEX memberships_pending ON memberships (invite_address) WHERE account_id IS NULL;

CREATE TABLE membership_groups (
    org_id         UUID NOT NULL,
    membership_id  UUID NOT NULL,
    group_id       UUID NOT NULL,
    PRIMARY KEY (membership_id, group_id),
    FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE
);
CREATE INDEX membership_groups_by_group ON membership_groups (org_id, group_id);

-- Append-only. actor_id is the account or API key; an erased account's events keep the
-- actor kind with a null id and an anonymous name.
CREATE TABLE events (
    id           UUID PRIMARY KEY,
    org_id       UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    at           TIMESTAMPTZ NOT NULL,
    kind         TEXT NOT NULL,
    actor_kind   TEXT NOT NULL,
    actor_id     UUID,
    actor_name   TEXT NOT NULL,
    object_kind  TEXT,
    object_id    UUID,
    summary      JSONB NOT NULL
);
CREATE INDEX events_by_org ON events (org_id, id);
CREATE INDEX events_by_actor ON events (actor_id);
CREATE INDEX events_by_object ON events (org_id, object_id);
