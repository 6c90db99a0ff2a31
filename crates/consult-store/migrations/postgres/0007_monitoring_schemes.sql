-- Organisations' own monitoring schemes (every version kept; answers name the version they
-- answered) and the scheme each organisation asks its respondents (none: the default).
CREATE TABLE monitoring_schemes (
    key TEXT NOT NULL,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (key, version)
);

CREATE TABLE organisation_schemes (
    organisation_id UUID PRIMARY KEY NOT NULL REFERENCES organisations (id),
    scheme TEXT NOT NULL
);

-- Reports group answers by activity, scheme, characteristic and category: carried on the answer
-- so the count is read from one covering index.
ALTER TABLE monitoring_answers ADD COLUMN consultation_id UUID;
UPDATE monitoring_answers SET consultation_id = (SELECT r.consultation_id FROM responses r WHERE r.id = monitoring_answers.response_id);
CREATE INDEX monitoring_answers_report ON monitoring_answers (consultation_id, scheme, characteristic, category);
