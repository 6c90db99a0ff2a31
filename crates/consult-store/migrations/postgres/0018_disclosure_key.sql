-- The secret the noise of public equality figures is drawn from (consult-core disclosure.rs):
-- one row, made on first use, shared by every instance, never published.
CREATE TABLE disclosure_keys (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
