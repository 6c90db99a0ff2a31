-- Evaluation after the event: the debrief (JSON, always read whole) and whether the activity was
-- drawn for external evaluation, and in which year's sample.
CREATE TABLE evaluations (
    consultation_id BLOB PRIMARY KEY NOT NULL REFERENCES consultations (id),
    debrief TEXT,
    external INTEGER NOT NULL,
    external_year INTEGER,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

-- Comments, compliments and complaints about how an activity was run. `contact` is personal
-- data: shown to the owner organisation and coordinators only, never in public outputs.
CREATE TABLE remarks (
    id BLOB PRIMARY KEY NOT NULL,
    consultation_id BLOB NOT NULL REFERENCES consultations (id),
    kind TEXT NOT NULL CHECK (kind IN ('comment', 'compliment', 'complaint')),
    body TEXT NOT NULL,
    principle TEXT,
    contact TEXT,
    status TEXT NOT NULL CHECK (status IN ('received', 'acknowledged', 'resolved')),
    reply TEXT,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX remarks_consultation ON remarks (consultation_id);
