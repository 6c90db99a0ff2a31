-- A counter of changes to the register: every insert or update of an activity takes the next
-- number, set by a trigger so no write path can forget it. Servers keep the overlap index as a
-- cache and catch up exactly from the last number they saw (a bulk import is read once, and
-- servers' clocks do not matter). SQLite serialises writers, so numbers commit in order.
CREATE TABLE register_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO register_changes (id, n) VALUES (1, 0);
ALTER TABLE consultations ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX consultations_change_seq ON consultations (change_seq);

CREATE TRIGGER consultations_changed_insert AFTER INSERT ON consultations
BEGIN
    UPDATE register_changes SET n = n + 1 WHERE id = 1;
    UPDATE consultations SET change_seq = (SELECT n FROM register_changes WHERE id = 1) WHERE id = NEW.id;
END;

CREATE TRIGGER consultations_changed_update AFTER UPDATE ON consultations
WHEN NEW.change_seq = OLD.change_seq
BEGIN
    UPDATE register_changes SET n = n + 1 WHERE id = 1;
    UPDATE consultations SET change_seq = (SELECT n FROM register_changes WHERE id = 1) WHERE id = NEW.id;
END;
