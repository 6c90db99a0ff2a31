-- Responses: no contact details, ever. Monitoring answers are stored apart, snapshotted with the
-- scheme they answered, and never returned one by one.
CREATE TABLE responses (
    id BLOB PRIMARY KEY NOT NULL,
    consultation_id BLOB NOT NULL REFERENCES consultations (id),
    channel TEXT NOT NULL,
    comments TEXT,
    idempotency_key TEXT,
    received_at TEXT NOT NULL,
    recorded_by TEXT
);
CREATE INDEX responses_consultation ON responses (consultation_id);
CREATE UNIQUE INDEX responses_idempotency ON responses (consultation_id, idempotency_key);

CREATE TABLE monitoring_answers (
    response_id BLOB NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    scheme TEXT NOT NULL,
    characteristic TEXT NOT NULL,
    category TEXT NOT NULL,
    PRIMARY KEY (response_id, characteristic)
);
