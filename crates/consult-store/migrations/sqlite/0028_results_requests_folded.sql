-- One results notice per mailbox (issue 17): addresses keep the case they were given in (a
-- provider may treat the local part's case as it likes), but `Ann@x` and `ann@x` asking about
-- the same activity are one request. Requests already waiting twice keep their first.
DELETE FROM results_requests WHERE id NOT IN (
    SELECT MIN(id) FROM results_requests GROUP BY consultation_id, lower(address)
);
CREATE UNIQUE INDEX results_requests_folded ON results_requests (consultation_id, lower(address));
