-- An access's id is its organization's: two organizations may choose the same id, and one
-- cannot learn or block another's. The lists are keyed by organization too.

ALTER TABLE access_doors DROP CONSTRAINT access_doors_org_id_access_id_fkey;
ALTER TABLE access_members DROP CONSTRAINT access_members_org_id_access_id_fkey;
ALTER TABLE access_groups DROP CONSTRAINT access_groups_org_id_access_id_fkey;

ALTER TABLE accesses DROP CONSTRAINT accesses_org_id_id_key;
ALTER TABLE accesses DROP CONSTRAINT accesses_pkey;
ALTER TABLE accesses ADD PRIMARY KEY (org_id, id);

ALTER TABLE access_doors DROP CONSTRAINT access_doors_pkey;
ALTER TABLE access_doors ADD PRIMARY KEY (org_id, access_id, door_id);
ALTER TABLE access_members DROP CONSTRAINT access_members_pkey;
ALTER TABLE access_members ADD PRIMARY KEY (org_id, access_id, membership_id);
ALTER TABLE access_groups DROP CONSTRAINT access_groups_pkey;
ALTER TABLE access_groups ADD PRIMARY KEY (org_id, access_id, group_id);

ALTER TABLE access_doors ADD FOREIGN KEY (org_id, access_id)
    REFERENCES accesses (org_id, id) ON DELETE CASCADE;
ALTER TABLE access_members ADD FOREIGN KEY (org_id, access_id)
    REFERENCES accesses (org_id, id) ON DELETE CASCADE;
ALTER TABLE access_groups ADD FOREIGN KEY (org_id, access_id)
    REFERENCES accesses (org_id, id) ON DELETE CASCADE;
