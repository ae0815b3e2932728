-- More ways to sign in: an OpenID Connect provider standing in for the emailed link, and
-- passkeys.
--
-- A sign-in says how its email was proven: by a link ('email') or by a provider ('oidc'),
-- whose identity (issuer and subject) is linked to the account when the sign-in completes.
ALTER TABLE sign_ins ADD COLUMN method TEXT NOT NULL DEFAULT 'email' CHECK (method IN ('email', 'oidc'));
ALTER TABLE sign_ins ADD COLUMN oidc_provider TEXT;
ALTER TABLE sign_ins ADD COLUMN oidc_issuer TEXT;
ALTER TABLE sign_ins ADD COLUMN oidc_subject TEXT;

-- A provider identity linked to an account: bound by issuer and subject, never by email alone.
CREATE TABLE oidc_identities (
    id          BLOB PRIMARY KEY,
    account_id  BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider    TEXT NOT NULL,
    issuer      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    email       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (issuer, subject),
    UNIQUE (account_id, issuer)
);

-- A passkey: the public key and counter webauthn-rs keeps (as JSON; no secret), found by its
-- credential id when it signs in.
CREATE TABLE passkeys (
    id             BLOB PRIMARY KEY,
    account_id     BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    credential_id  BLOB NOT NULL UNIQUE,
    credential     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_used_at   TEXT
);
CREATE INDEX passkeys_by_account ON passkeys (account_id, id);

-- A ceremony between two requests (an OpenID Connect redirect, a passkey challenge), taken
-- once by the hash of its handle. `state` holds what the second request checks against
-- (PKCE verifier, nonce, challenge); `browser_hash` ties a browser's flow to its cookie.
CREATE TABLE auth_flows (
    handle_hash   BLOB PRIMARY KEY,
    kind          TEXT NOT NULL,
    account_id    BLOB REFERENCES accounts (id) ON DELETE CASCADE,
    browser_hash  BLOB,
    state         TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX auth_flows_by_created ON auth_flows (created_at);
