-- A counter of changes to the residents' register. Every write to a resident (registration,
-- consent, recorded invitations, deletion) takes the next number in its transaction and stamps
-- the rows it touches; the counter's row lock orders the writers, so every change numbered up to
-- the counter's value is committed. Servers keep an audience index of the register as a cache
-- and catch up exactly from the last number they saw. A removal keeps only the random id.
CREATE TABLE resident_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO resident_changes (id, n) VALUES (1, 0);
ALTER TABLE residents ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX residents_change_seq ON residents (change_seq);

CREATE TABLE resident_removals (
    id BLOB PRIMARY KEY NOT NULL,
    change_seq INTEGER NOT NULL
);
CREATE INDEX resident_removals_seq ON resident_removals (change_seq);
