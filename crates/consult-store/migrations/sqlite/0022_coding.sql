-- Coding free-text answers (issue 16). An activity's codeframe: themes with a stable key, nested
-- one level (`parent` names another theme of the activity; the rule that a parent has no parent
-- is consult-core's, `Theme::create` and `Theme::patched`).
CREATE TABLE themes (
    consultation_id BLOB NOT NULL REFERENCES consultations (id),
    theme TEXT NOT NULL,
    label TEXT NOT NULL,
    description TEXT,
    parent TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (consultation_id, theme)
);

-- The themes of one response's answer to one free-text question: one row per theme, each with
-- the analyst's note and who coded it when. Counting per activity, question and theme reads
-- the index alone.
CREATE TABLE response_codes (
    response_id BLOB NOT NULL REFERENCES responses (id) ON DELETE CASCADE,
    consultation_id BLOB NOT NULL,
    question TEXT NOT NULL,
    theme TEXT NOT NULL,
    note TEXT,
    coded_by TEXT NOT NULL,
    coded_at TEXT NOT NULL,
    PRIMARY KEY (response_id, question, theme),
    FOREIGN KEY (consultation_id, theme) REFERENCES themes (consultation_id, theme)
);
CREATE INDEX response_codes_counting ON response_codes (consultation_id, question, theme, response_id);

-- Suggestions an analyst rejected, by the suggestion's id (its seed term), so they are not
-- offered again for that question.
CREATE TABLE theme_suggestion_rejections (
    consultation_id BLOB NOT NULL REFERENCES consultations (id),
    question TEXT NOT NULL,
    suggestion TEXT NOT NULL,
    rejected_by TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    PRIMARY KEY (consultation_id, question, suggestion)
);
