-- Accounts and passwordless sign-in: attempts (email link, then SMS code), devices with their
-- rotating tokens, the send log behind rate limits, and the outbox of email and SMS.
-- Secrets (link tokens, codes, tokens, PINs) are stored only as hashes.

CREATE TABLE accounts (
    id               BLOB PRIMARY KEY,
    first_name       TEXT NOT NULL,
    last_name        TEXT NOT NULL,
    email            TEXT NOT NULL UNIQUE,
    phone            TEXT UNIQUE,
    failed_codes     INTEGER NOT NULL DEFAULT 0,
    locked_until     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- One run through sign-in or registration. account_id is null for a registration, whose
-- account is created only once both email and phone are proven.
CREATE TABLE sign_ins (
    id                  BLOB PRIMARY KEY,
    account_id          BLOB REFERENCES accounts (id) ON DELETE CASCADE,
    first_name          TEXT,
    last_name           TEXT,
    email               TEXT NOT NULL,
    phone               TEXT NOT NULL,
    email_token_hash    BLOB NOT NULL UNIQUE,
    email_expires_at    TEXT NOT NULL,
    email_confirmed_at  TEXT,
    session_hash        BLOB UNIQUE,
    code_hash           BLOB,
    code_expires_at     TEXT,
    code_failures       INTEGER NOT NULL DEFAULT 0,
    finished_at         TEXT,
    created_at          TEXT NOT NULL
);

CREATE TABLE devices (
    id                BLOB PRIMARY KEY,
    account_id        BLOB NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind              TEXT NOT NULL CHECK (kind IN ('app', 'browser')),
    name              TEXT NOT NULL,
    pin_hash          TEXT NOT NULL,
    pin_verified_at   TEXT NOT NULL,
    pin_failures      INTEGER NOT NULL DEFAULT 0,
    auth_hash         BLOB NOT NULL UNIQUE,
    auth_expires_at   TEXT NOT NULL,
    created_at        TEXT NOT NULL,
    last_seen_at      TEXT NOT NULL,
    revoked_at        TEXT
);
CREATE INDEX devices_by_account ON devices (account_id, id);

-- A code sent to prove control of an address before a change: a new email or phone, the
-- account's phone before deleting it, or a recycled phone before detaching it from the
-- account that had it (account_id is null then: the person has no account yet).
CREATE TABLE verifications (
    id           BLOB PRIMARY KEY,
    account_id   BLOB REFERENCES accounts (id) ON DELETE CASCADE,
    purpose      TEXT NOT NULL CHECK (purpose IN ('change_email', 'change_phone', 'delete_account', 'reset_phone')),
    target       TEXT NOT NULL,
    handle_hash  BLOB NOT NULL UNIQUE,
    code_hash    BLOB NOT NULL,
    expires_at   TEXT NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0,
    finished_at  TEXT,
    created_at   TEXT NOT NULL
);

-- Every reissue token a device was given; only the current one works, and presenting a
-- rotated one revokes the device (the token was copied).
CREATE TABLE reissue_tokens (
    hash        BLOB PRIMARY KEY,
    device_id   BLOB NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    is_current  BOOLEAN NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX reissue_tokens_by_device ON reissue_tokens (device_id);

-- What was sent to whom (keys such as email:…, phone:…, ip:…), for send limits.
CREATE TABLE send_events (
    rate_key  TEXT NOT NULL,
    sent_at   TEXT NOT NULL
);
CREATE INDEX send_events_by_key ON send_events (rate_key, sent_at);

CREATE TABLE outbox (
    id               BLOB PRIMARY KEY,
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient        TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    sent_at          TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE sent_at IS NULL;
