-- Duplication detection: dismissed overlap findings, and an index to sync the in-memory overlap
-- index from the register by last change.
CREATE TABLE overlap_dismissals (
    consultation_id BLOB NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    other_id BLOB NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (consultation_id, other_id)
);
CREATE INDEX consultations_updated ON consultations (updated_at);
