-- Staff accounts (issues 17 and 18): who works in consult, in which of the partnership's roles,
-- for which organisation, service or wards, and which of consult's own messages (a councillor's
-- digest, a coordinator's alerts) they asked not to receive. The e-mail address is unique
-- whatever its case.
CREATE TABLE staff_users (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    organisation_id BLOB REFERENCES organisations (id),
    service TEXT,
    stopped_messages TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    disabled_at TEXT
);
CREATE INDEX staff_users_role ON staff_users (role);

CREATE TABLE staff_wards (
    user_id BLOB NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    PRIMARY KEY (user_id, code)
);

-- A message to a member of staff names them, so disabling the account or stopping the kind
-- cancels what waits.
ALTER TABLE outbox ADD COLUMN staff_id BLOB;
CREATE INDEX outbox_staff ON outbox (staff_id) WHERE staff_id IS NOT NULL;

-- The digest finds results published in a week without reading every history.
CREATE INDEX status_history_to_status ON status_history (to_status, at);
