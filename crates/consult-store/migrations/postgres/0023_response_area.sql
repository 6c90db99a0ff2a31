-- Where a respondent lives, if they said: a GSS code of the register's areas. Like the
-- monitoring answers it is only counted (analysis broken down by area), never shown beside a
-- response.
ALTER TABLE responses ADD COLUMN area TEXT;
CREATE INDEX responses_area ON responses (consultation_id, area);
