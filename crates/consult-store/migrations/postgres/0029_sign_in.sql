-- Signing in to the staff workspace (issue 18): a local account's password (argon2id, PHC
-- string) and TOTP second factor, or the identity provider's subject it is linked to; sessions
-- held here so every instance shares them; failed sign-ins counted per account and per client.
CREATE TABLE staff_credentials (
    user_id UUID PRIMARY KEY NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    password_hash TEXT,
    -- The confirmed TOTP secret (base32), and the last time step accepted (a code is used once).
    totp_secret TEXT,
    totp_last_step BIGINT,
    -- A secret shown for enrolment, waiting for its first code.
    totp_pending TEXT,
    -- The OpenID provider's issuer and subject this account signs in as.
    oidc_issuer TEXT,
    oidc_subject TEXT,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX staff_credentials_oidc ON staff_credentials (oidc_issuer, oidc_subject);

-- A session is found by the SHA-256 of its cookie's value (the value itself is never stored).
-- stage: 'second_factor' (password accepted, code awaited), 'enrol' (an admin setting up their
-- second factor) or 'signed_in'.
CREATE TABLE staff_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id UUID NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    csrf TEXT NOT NULL,
    method TEXT NOT NULL,
    client TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX staff_sessions_user ON staff_sessions (user_id);
CREATE INDEX staff_sessions_seen ON staff_sessions (last_seen_at);

-- One row per failed sign-in: scope is 'account:<id>' or 'client:<address or /64>'.
CREATE TABLE sign_in_failures (
    scope TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_in_failures_scope ON sign_in_failures (scope, at);
