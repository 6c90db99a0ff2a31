-- Residents are verified, one person one record (issue 15 item 2). A registration is pending
-- (verified_at NULL, pending_since set) until the code sent to its contact comes back; a pending
-- record is never matched, invited or counted, and is deleted once older than the configured
-- days. The code waits here for delivery (verification_code, cleared once verified) and is looked
-- up by its SHA-256 (verification_hash), never logged. A verified resident holds its normalised
-- contacts as unique keys (email_key, phone_key): a second registration of the same contact is a
-- pending record that, once verified, updates the holder and goes.
ALTER TABLE residents ADD COLUMN verified_at TIMESTAMPTZ;
ALTER TABLE residents ADD COLUMN pending_since TIMESTAMPTZ;
ALTER TABLE residents ADD COLUMN verification_code TEXT;
ALTER TABLE residents ADD COLUMN verification_hash TEXT;
ALTER TABLE residents ADD COLUMN email_key TEXT;
ALTER TABLE residents ADD COLUMN phone_key TEXT;

-- Registrations made before verification existed stand as verified; the earliest holder of each
-- e-mail address keys it (addresses were already stored lower-cased). Phone numbers were stored
-- as typed: they become keys when their resident registers again.
UPDATE residents SET verified_at = created_at;
UPDATE residents SET email_key = email WHERE email IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM residents o WHERE o.email = residents.email
    AND (o.created_at < residents.created_at OR (o.created_at = residents.created_at AND o.id < residents.id)));

CREATE UNIQUE INDEX residents_email_key ON residents (email_key);
CREATE UNIQUE INDEX residents_phone_key ON residents (phone_key);
CREATE UNIQUE INDEX residents_verification_hash ON residents (verification_hash);
CREATE INDEX residents_pending ON residents (pending_since) WHERE verified_at IS NULL;
