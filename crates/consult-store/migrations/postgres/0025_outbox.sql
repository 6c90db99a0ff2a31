-- The outbox (issue 17): every message consult decides to send, written in the same transaction
-- as the decision, delivered later by a worker (consult-app delivery.rs; the rules are
-- consult-core outbox.rs). One message per idempotency key, so a decision taken twice queues
-- nothing new.
--
-- A message waiting to go is `queued` and due at `due_at`; a worker claims it by making it
-- `sending` with `due_at` the end of its lease, so a message whose worker died is due again once
-- the lease has run out. The recipient's address and the template fields are erased once the
-- message is final (sent, failed, cancelled or suppressed): the row keeps only what happened.
CREATE TABLE outbox (
    id UUID PRIMARY KEY NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    consultation_id UUID,
    resident_id UUID,
    recipient TEXT,
    personalisation TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    due_at TIMESTAMPTZ NOT NULL,
    last_error TEXT,
    reference TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    sent_at TIMESTAMPTZ
);
CREATE INDEX outbox_due ON outbox (channel, due_at) WHERE status IN ('queued', 'sending');
CREATE INDEX outbox_listing ON outbox (created_at, id);
CREATE INDEX outbox_resident ON outbox (resident_id) WHERE resident_id IS NOT NULL;
CREATE INDEX outbox_consultation ON outbox (consultation_id, kind) WHERE consultation_id IS NOT NULL;

-- Addresses nothing more is sent to (a hard bounce, a complaint to the provider): the SHA-256 of
-- the normalised address, never the address itself.
CREATE TABLE suppressions (
    address_hash TEXT PRIMARY KEY NOT NULL,
    channel TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- "Tell me when the results are published" (a response's `results_notice_to`): the address
-- apart from the response (no response id), until the results are published; then a notice is
-- queued for each and the rows deleted in the same transaction. One per activity and address.
CREATE TABLE results_requests (
    id UUID PRIMARY KEY NOT NULL,
    consultation_id UUID NOT NULL REFERENCES consultations (id),
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (consultation_id, address)
);

-- The verification code waits in its message now, not beside the registration.
UPDATE residents SET verification_code = NULL;
