-- The Access lifecycle driven by controllers: a change to an access whose doors are wired to
-- controllers leaves it `creating`, `updating` or `deleting` until every controller of those
-- doors holds rules of at least `awaiting_version` (the organization's rules version that
-- carries the change); then it becomes `ready` or `deleted` and the column is cleared.
ALTER TABLE accesses ADD COLUMN awaiting_version INTEGER;
CREATE INDEX accesses_awaiting ON accesses (org_id, id) WHERE awaiting_version IS NOT NULL;
