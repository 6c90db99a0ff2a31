-- Each resident's recent invitation dates (comma separated, the last ten years), kept with the
-- resident when invitations are recorded, so planning invitations reads no contact log: the
-- contact log stays the record; this is derived from it and can be rebuilt from it.
ALTER TABLE residents ADD COLUMN recent_invitations TEXT NOT NULL DEFAULT '';
UPDATE residents SET recent_invitations = COALESCE(
    (SELECT string_agg(CAST(k.on_date AS TEXT), ',') FROM contacts k
     WHERE k.resident_id = residents.id AND k.kind = 'invitation'), '');
