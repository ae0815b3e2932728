-- An access's id is its organization's: two organizations may choose the same id, and one
-- cannot learn or block another's. The lists are keyed by organization too.
--
-- SQLite cannot change a primary key in place: each table is built anew and its rows copied.
-- The lists go first, so that dropping the old accesses table (an implicit delete) cascades
-- to nothing; renaming the new table makes the new lists' references name it.

CREATE TABLE accesses_new (
    org_id                  BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                      BLOB NOT NULL,
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
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, schedule_id) REFERENCES schedules (org_id, id),
    CHECK (kind = 'permanent' OR valid_to IS NOT NULL)
);
INSERT INTO accesses_new (org_id, id, name, kind, status, preferences, valid_from, valid_to,
    schedule_id, description, welcome_email_required, created_at, updated_at)
SELECT org_id, id, name, kind, status, preferences, valid_from, valid_to,
    schedule_id, description, welcome_email_required, created_at, updated_at
FROM accesses;

CREATE TABLE access_doors_new (
    org_id               BLOB NOT NULL,
    access_id            BLOB NOT NULL,
    position             INTEGER NOT NULL,
    door_id              BLOB NOT NULL,
    lock_unlock_enabled  BOOLEAN NOT NULL,
    in_auth_types        TEXT NOT NULL,
    out_auth_types       TEXT NOT NULL,
    PRIMARY KEY (org_id, access_id, door_id),
    FOREIGN KEY (org_id, access_id) REFERENCES accesses_new (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, door_id) REFERENCES doors (org_id, id) ON DELETE CASCADE
);
INSERT INTO access_doors_new
SELECT org_id, access_id, position, door_id, lock_unlock_enabled, in_auth_types, out_auth_types
FROM access_doors;

CREATE TABLE access_members_new (
    org_id         BLOB NOT NULL,
    access_id      BLOB NOT NULL,
    membership_id  BLOB NOT NULL,
    PRIMARY KEY (org_id, access_id, membership_id),
    FOREIGN KEY (org_id, access_id) REFERENCES accesses_new (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE
);
INSERT INTO access_members_new SELECT org_id, access_id, membership_id FROM access_members;

CREATE TABLE access_groups_new (
    org_id     BLOB NOT NULL,
    access_id  BLOB NOT NULL,
    group_id   BLOB NOT NULL,
    PRIMARY KEY (org_id, access_id, group_id),
    FOREIGN KEY (org_id, access_id) REFERENCES accesses_new (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, group_id) REFERENCES groups (org_id, id) ON DELETE CASCADE
);
INSERT INTO access_groups_new SELECT org_id, access_id, group_id FROM access_groups;

DROP TABLE access_doors;
DROP TABLE access_members;
DROP TABLE access_groups;
DROP TABLE accesses;

ALTER TABLE accesses_new RENAME TO accesses;
ALTER TABLE access_doors_new RENAME TO access_doors;
ALTER TABLE access_members_new RENAME TO access_members;
ALTER TABLE access_groups_new RENAME TO access_groups;

CREATE INDEX accesses_expiring ON accesses (valid_to) WHERE kind = 'temporary';
CREATE INDEX access_doors_by_door ON access_doors (org_id, door_id);
CREATE INDEX access_members_by_member ON access_members (org_id, membership_id);
CREATE INDEX access_groups_by_group ON access_groups (org_id, group_id);
