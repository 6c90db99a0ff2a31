-- "You said, we did": one feedback record per activity, its themes as JSON (always read whole),
-- published once the activity moves to results_published.
CREATE TABLE feedback (
    consultation_id UUID PRIMARY KEY NOT NULL REFERENCES consultations (id),
    items TEXT NOT NULL,
    summary TEXT,
    published_on DATE,
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by TEXT NOT NULL
);

-- When feedback is due (the plan's date, else closing + 12 weeks), kept on write so the register
-- can list overdue feedback.
ALTER TABLE consultations ADD COLUMN feedback_due DATE;
UPDATE consultations SET feedback_due = COALESCE((plan::json ->> 'feedback_due_on')::date, closes_on + 84);
CREATE INDEX consultations_feedback_due ON consultations (feedback_due);
