-- An idempotency key is bound to who sent it and what they sent: a keyed hash (HMAC-SHA-256 with
-- the secret below) of the caller and the body, so a key reused by another caller or with
-- another body is refused, never answered with someone else's response id. Rows from before
-- have none, and their keys are not replayed.
ALTER TABLE responses ADD COLUMN idempotency_binding TEXT;

-- The secret of the hub's anti-forgery tokens and of idempotency bindings: one row, made on
-- first use, shared by every instance (so a form shown by one instance posts to another),
-- never published.
CREATE TABLE request_keys (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
