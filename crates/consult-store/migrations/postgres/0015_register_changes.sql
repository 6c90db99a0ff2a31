-- A counter of changes to the register: every insert or update of an activity takes the next
-- number, set by a trigger so no write path can forget it. Servers keep the overlap index as a
-- cache and catch up exactly from the last number they saw (a bulk import is read once, and
-- servers' clocks do not matter). The counter's row lock orders writers: every change numbered
-- up to the counter's visible value is committed.
CREATE TABLE register_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO register_changes (id, n) VALUES (1, 0);
ALTER TABLE consultations ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX consultations_change_seq ON consultations (change_seq);

CREATE FUNCTION consultation_changed() RETURNS trigger AS $$
BEGIN
    UPDATE register_changes SET n = n + 1 WHERE id = 1 RETURNING n INTO NEW.change_seq;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER consultations_changed BEFORE INSERT OR UPDATE ON consultations
FOR EACH ROW EXECUTE FUNCTION consultation_changed();
