-- The analysis's counts, kept as responses are stored (issue 16's benchmark: counting the answer
-- rows of a 100,000-response activity on each read took seconds, a cross-tabulation far more).
-- Responses, their answer rows and their monitoring answers are written once and never changed
-- or deleted, so the tallies only grow, in the same transaction as the rows they count.
--
-- One row per activity, group and answer part: the group is a monitoring characteristic and
-- category (both empty for all respondents); `question` empty counts the respondents
-- themselves; `item` and the number (`numbered` 0: none) are those of `response_answers`.
-- `parts` counts answer rows, `answers` the answers (each answer's row with the smallest item),
-- so a question's respondents are the sum of its `answers`.
CREATE TABLE answer_tallies (
    consultation_id BLOB NOT NULL,
    characteristic TEXT NOT NULL,
    category TEXT NOT NULL,
    question TEXT NOT NULL,
    item TEXT NOT NULL,
    numbered INTEGER NOT NULL,
    number REAL NOT NULL,
    parts INTEGER NOT NULL,
    answers INTEGER NOT NULL,
    PRIMARY KEY (consultation_id, characteristic, category, question, item, numbered, number)
);

INSERT INTO answer_tallies
SELECT r.consultation_id, '', '', '', '', 0, 0, COUNT(*), COUNT(*) FROM responses r GROUP BY r.consultation_id;

INSERT INTO answer_tallies
SELECT r.consultation_id, m.characteristic, m.category, '', '', 0, 0, COUNT(*), COUNT(*)
FROM monitoring_answers m JOIN responses r ON r.id = m.response_id
GROUP BY r.consultation_id, m.characteristic, m.category;

CREATE TEMP TABLE answer_leads AS
SELECT a.response_id, a.consultation_id, a.question, a.item, a.number,
       CASE WHEN ROW_NUMBER() OVER (PARTITION BY a.response_id, a.question ORDER BY a.item) = 1
            THEN 1 ELSE 0 END AS lead
FROM response_answers a;

INSERT INTO answer_tallies
SELECT consultation_id, '', '', question, item, number IS NOT NULL, COALESCE(number, 0), COUNT(*), SUM(lead)
FROM answer_leads GROUP BY consultation_id, question, item, number IS NOT NULL, COALESCE(number, 0);

INSERT INTO answer_tallies
SELECT a.consultation_id, m.characteristic, m.category, a.question, a.item, a.number IS NOT NULL,
       COALESCE(a.number, 0), COUNT(*), SUM(a.lead)
FROM answer_leads a JOIN monitoring_answers m ON m.response_id = a.response_id
GROUP BY a.consultation_id, m.characteristic, m.category, a.question, a.item, a.number IS NOT NULL, COALESCE(a.number, 0);

DROP TABLE answer_leads;
