-- The principles checklist: custom frameworks (every version kept), what each organisation has
-- adopted, pre-election periods, attestations, and the assessment recorded at approval.
CREATE TABLE frameworks (
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (key, version)
);

CREATE TABLE organisation_frameworks (
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    framework_key TEXT NOT NULL,
    PRIMARY KEY (organisation_id, framework_key)
);
INSERT INTO organisation_frameworks (organisation_id, framework_key) SELECT id, 'gunning' FROM organisations;
INSERT INTO organisation_frameworks (organisation_id, framework_key) SELECT id, 'code_2008' FROM organisations;

CREATE TABLE election_periods (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL
);
CREATE INDEX election_periods_organisation ON election_periods (organisation_id);

CREATE TABLE attestations (
    consultation_id BLOB NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    check_id TEXT NOT NULL,
    answer BOOLEAN NOT NULL,
    evidence TEXT,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (consultation_id, check_id)
);

CREATE TABLE approvals (
    consultation_id BLOB PRIMARY KEY NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    override_justification TEXT,
    assessment TEXT NOT NULL
);
