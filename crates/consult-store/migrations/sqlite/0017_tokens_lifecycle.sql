-- Tokens are listed, expire and are revoked (`revoked_at` and `created_at` exist since 0001):
-- `expires_at` is NULL for tokens issued before expiry existed (they never expire) and
-- `last_used_at` is set on authentication, at most once a minute per token.
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;

-- Who changed an activity's status or approved it, as the public record names them: the
-- role and organisation of the token used, never its holder's name (which staff still see in
-- `actor`). NULL for rows written before this migration (shown as `staff`) and for the
-- schedule's changes.
ALTER TABLE status_history ADD COLUMN actor_role TEXT CHECK (actor_role IN ('admin', 'coordinator', 'officer'));
ALTER TABLE status_history ADD COLUMN actor_organisation_id BLOB REFERENCES organisations (id);
ALTER TABLE approvals ADD COLUMN actor_role TEXT CHECK (actor_role IN ('admin', 'coordinator', 'officer'));
ALTER TABLE approvals ADD COLUMN actor_organisation_id BLOB REFERENCES organisations (id);
