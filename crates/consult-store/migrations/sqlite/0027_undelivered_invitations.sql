-- Fatigue counts invitations that reach people (issue 17): an invitation whose message failed,
-- was suppressed or was cancelled is kept in the contact log (the resident was invited; the
-- plan does not invite them again) but marked undelivered, and no longer counts against the
-- resident's fatigue rules (`residents.recent_invitations` leaves it out).
ALTER TABLE contacts ADD COLUMN undelivered_at TEXT;
