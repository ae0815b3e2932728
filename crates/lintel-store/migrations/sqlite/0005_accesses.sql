-- Accesses: which members and groups may pass which doors, how and when. Deleted accesses
-- stay as records with status 'deleted'; the lists go with the access.

CREATE TABLE accesses (
    id                      BLOB PRIMARY KEY,
    org_id                  BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name                    TEXT NOT NULL,
    kind                    TEXT NOT NULL CHECK (kind IN ('permanent', 'temporary')),
    status                  TEXT NOT NULL CHECK (status IN ('initial', 'creating', 'ready', 'updating', 'deleting', 'deleted')),
    preferences             TEXT NOT NULL,
    valid_from              TEXT,
    valid_to                TEXT,
    schedule_id             BLOB,
    description             TEXT NOT NULL,
    welcome_email_required  BOOLEAN NOT NULL,
    created_at              TEXT NOT NULL,
    updated_at              TEXT NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, schedule_id) REFERENCES schedules (org_id, id),
    CHECK (kind = 'permanent' OR valid_to IS NOT NULL)
);
CREATE INDEX accesses_expiring ON accesses (valid_to) WHERE kind = 'temporary';

CREATE TABLE access_doors (
    org_id               BLOB NOT NULL,
    access_id            BLOB NOT NULL,
    position             INTEGER NOT NULL,
    door_id              BLOB NOT NULL,
    lock_unlock_enabled  BOOLEAN NOT NULL,
    in_auth_types        TEXT NOT NULL,
    out_auth_types       TEXT NOT NULL,
    PRIMARY KEY (access_id, door_id),
    FOREIGN KEY (org_id, access_id) REFERENCES accesses (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, door_id) REFERENCES doors (org_id, id) ON DELETE CASCADE
);
CREATE INDEX access_doors_by_door ON access_doors (org_id, door_id);

CREATE TABLE access_members (
    org_id         BLOB NOT NULL,
    access_id      BLOB NOT NULL,
    membership_id  BLOB NOT NULL,
    PRIMARY KEY (access_id, membership_id),
    FOREIGN KEY (org_id, access_id) REFERENCES accesses (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
CREATE INDEX access_members_by_member ON access_members (org_id, membership_id);

CREATE TABLE access_groups (
    org_id     BLOB NOT NULL,
    access_id  BLOB NOT NULL,
    group_id   BLOB NOT NULL,
    PRIMARY KEY (access_id, group_id),
    FOREIGN KEY (org_id, access_id) REFERENCES accesses (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE
);
CREATE INDEX access_groups_by_group ON access_groups (org_id, group_id);
