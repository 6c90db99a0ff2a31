-- Each resident's recent invitation dates are kept newest first, at most one hundred (the highest
-- max_contacts), so the database can read the k-th newest as a fixed-width substring and decide
-- the fatigue rules itself (invitation plans and fatigue findings read no rows they leave out).
UPDATE residents SET recent_invitations = COALESCE(substr(
    (SELECT string_agg(CAST(k.on_date AS TEXT), ',' ORDER BY k.on_date DESC) FROM contacts k
     WHERE k.resident_id = residents.id AND k.kind = 'invitation'), 1, 1099), '');
