-- A sign-in through the identity provider in progress (issue 18): what the browser's return
-- must match (the state, also in a cookie), the nonce the ID token must carry and the PKCE
-- verifier the code is exchanged with. Used once, within minutes.
CREATE TABLE oidc_logins (
    state TEXT PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oidc_logins_created ON oidc_logins (created_at);
