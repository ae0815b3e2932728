-- Short single-use codes that enrol a controller on site without copying its token: an admin
-- makes one (valid for minutes; a new one replaces the last), the controller trades it once
-- for a new token. Kept as a keyed digest (HMAC with the server key), so a copy of the
-- database cannot be searched for a code that is still valid.
CREATE TABLE controller_pairings (
    code_digest   BLOB PRIMARY KEY NOT NULL,
    org_id        BLOB NOT NULL,
    controller_id BLOB NOT NULL,
    expires_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    UNIQUE (org_id, controller_id),
    FOREIGN KEY (org_id, controller_id) REFERENCES controllers (org_id, id) ON DELETE CASCADE
);
