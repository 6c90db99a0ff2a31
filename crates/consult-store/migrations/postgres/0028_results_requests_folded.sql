-- One results notice per mailbox (issue 17): addresses keep the case they were given in (a
-- provider may treat the local part's case as it likes), but `Ann@x` and `ann@x` asking about
-- the same activity are one request. Requests already waiting twice keep one.
DELETE FROM results_requests a USING results_requests b
WHERE a.consultation_id = b.consultation_id AND lower(a.address) = lower(b.address) AND a.id > b.id;
CREATE UNIQUE INDEX results_requests_folded ON results_requests (consultation_id, lower(address));
