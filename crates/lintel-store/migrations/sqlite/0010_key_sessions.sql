-- Tokens an API key was traded for (gRPC AuthService.Authenticate): one session per trade.
-- Each reissue replaces the session's auth token; only the session's current reissue token
-- works, and presenting a rotated one revokes the session (the token was copied).
CREATE TABLE key_sessions (
    id               BLOB PRIMARY KEY,
    api_key_id       BLOB NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    auth_hash        BLOB NOT NULL UNIQUE,
    auth_expires_at  TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    revoked_at       TEXT
);
CREATE INDEX key_sessions_by_key ON key_sessions (api_key_id);

CREATE TABLE key_session_reissues (
    hash        BLOB PRIMARY KEY,
    session_id  BLOB NOT NULL REFERENCES key_sessions (id) ON DELETE CASCADE,
    is_current  BOOLEAN NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX key_session_reissues_by_session ON key_session_reissues (session_id);
