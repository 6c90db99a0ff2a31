-- Consultation plans: each service's annual plan (entries as JSON, always read whole), each
-- organisation's recurring corporate programme, and the six-monthly reviews of the council plan.
CREATE TABLE service_plans (
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    year INTEGER NOT NULL,
    service TEXT NOT NULL,
    entries TEXT NOT NULL,
    agreed INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (organisation_id, year, service)
);

CREATE TABLE programmes (
    organisation_id BLOB PRIMARY KEY NOT NULL REFERENCES organisations (id),
    items TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE plan_reviews (
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    year INTEGER NOT NULL,
    half INTEGER NOT NULL CHECK (half IN (1, 2)),
    reviewed_on TEXT NOT NULL,
    reviewed_by TEXT NOT NULL,
    notes TEXT NOT NULL,
    PRIMARY KEY (organisation_id, year, half)
);
