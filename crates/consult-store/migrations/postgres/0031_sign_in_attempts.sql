-- Each sign-in attempt is written (and committed) before it is checked, then forgotten if it
-- succeeds: attempts made at once cannot all slip under the lockout (issue 18). The attempt's
-- id finds its rows.
ALTER TABLE sign_in_failures ADD COLUMN attempt TEXT;
CREATE INDEX sign_in_failures_attempt ON sign_in_failures (attempt);
