-- Messages already delivered or given up on keep who, what kind and when, not their bodies
-- (sign-in links, codes and access links a copy of the database must not reveal). Messages
-- given up on were due at a time SQLite's text order put before every other: due never now.
UPDATE outbox SET body = '' WHERE sent_at IS NOT NULL;
UPDATE outbox SET body = '', next_attempt_at = '9999-12-31T23:59:59+00:00'
WHERE next_attempt_at LIKE '+%';

-- The member who made an API key, so that their leaving revokes it. Keys made before are
-- not known to be anyone's.
ALTER TABLE api_keys ADD COLUMN created_by BLOB;

-- Settings of the server that its command line needs too: the public URL the server was last
-- started with, so that `lintel admin` in another shell builds links people can open.
CREATE TABLE server_settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
