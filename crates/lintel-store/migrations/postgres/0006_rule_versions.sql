-- A counter per organization, bumped in every transaction that changes what decisions read
-- (doors, members, groups, schedules, accesses), so that every server node knows when its
-- in-memory rules are stale.

CREATE TABLE rule_versions (
    org_id   UUID PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    version  BIGINT NOT NULL
);
