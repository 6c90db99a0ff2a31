-- An activity's questionnaire: every version kept (each change, a wording correction included,
-- is a new version; responses name the version they answered). The definition is the API's JSON.
CREATE TABLE questionnaires (
    consultation_id BLOB NOT NULL REFERENCES consultations (id),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    PRIMARY KEY (consultation_id, version)
);

ALTER TABLE responses ADD COLUMN questionnaire_version INTEGER;

-- Answers, one row per part: the option chosen (one row each for a multiple choice), each ranked
-- option with its rank, each grid statement with its point, or the single value of a scale,
-- number, date or free-text answer (`item` empty). Analysis counts rows in SQL, grouped by
-- question and item, from one covering index, instead of reading every response's JSON.
CREATE TABLE response_answers (
    response_id BLOB NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    consultation_id BLOB NOT NULL,
    question TEXT NOT NULL,
    item TEXT NOT NULL,
    number REAL,
    text TEXT,
    PRIMARY KEY (response_id, question, item)
);
CREATE INDEX response_answers_analysis ON response_answers (consultation_id, question, item, number);
