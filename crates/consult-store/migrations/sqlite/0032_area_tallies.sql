-- The analysis by area is read from the tallies like a monitoring characteristic (issue 16's
-- benchmark: joining every answer row of a 100,000-response activity to its response on each
-- read). The group is named `@area` (no characteristic may start with `@`) and the category is
-- the respondent's area code; responses without an area are counted as not answered, as before.
CREATE TEMP TABLE answer_leads AS
SELECT a.response_id, a.consultation_id, a.question, a.item, a.number,
       CASE WHEN ROW_NUMBER() OVER (PARTITION BY a.response_id, a.question ORDER BY a.item) = 1
            THEN 1 ELSE 0 END AS lead
FROM response_answers a JOIN responses r ON r.id = a.response_id
WHERE r.area IS NOT NULL;

INSERT INTO answer_tallies
SELECT r.consultation_id, '@area', r.area, '', '', 0, 0, COUNT(*), COUNT(*)
FROM responses r WHERE r.area IS NOT NULL
GROUP BY r.consultation_id, r.area;

INSERT INTO answer_tallies
SELECT a.consultation_id, '@area', r.area, a.question, a.item, a.number IS NOT NULL,
       COALESCE(a.number, 0), COUNT(*), SUM(a.lead)
FROM answer_leads a JOIN responses r ON r.id = a.response_id
GROUP BY a.consultation_id, r.area, a.question, a.item, a.number IS NOT NULL, COALESCE(a.number, 0);

DROP TABLE answer_leads;
