-- The residents' register: contact details (personal data), interests, areas, groups, consent;
-- the contact log (invitations and responses) that fatigue rules count; fatigue rules per
-- organisation.
CREATE TABLE residents (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT,
    phone TEXT,
    postal_address TEXT,
    channels TEXT NOT NULL,
    consent_at TEXT,
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL
);

CREATE TABLE resident_interests (
    resident_id BLOB NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    PRIMARY KEY (resident_id, topic)
);
CREATE INDEX resident_interests_topic ON resident_interests (topic, resident_id);

CREATE TABLE resident_areas (
    resident_id BLOB NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    code TEXT NOT NULL,
    PRIMARY KEY (resident_id, code)
);
CREATE INDEX resident_areas_code ON resident_areas (code, resident_id);

CREATE TABLE resident_groups (
    resident_id BLOB NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    PRIMARY KEY (resident_id, slug)
);
CREATE INDEX resident_groups_slug ON resident_groups (slug, resident_id);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    resident_id BLOB NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    consultation_id BLOB NOT NULL REFERENCES consultations (id),
    kind TEXT NOT NULL CHECK (kind IN ('invitation', 'response')),
    channel TEXT,
    at TEXT NOT NULL,
    on_date TEXT NOT NULL
);
CREATE INDEX contacts_resident ON contacts (resident_id, kind, on_date);
CREATE INDEX contacts_consultation ON contacts (consultation_id, resident_id);

CREATE TABLE fatigue_rules (
    organisation_id BLOB PRIMARY KEY NOT NULL REFERENCES organisations (id),
    max_contacts INTEGER NOT NULL,
    window_days INTEGER NOT NULL,
    min_gap_days INTEGER NOT NULL,
    max_concurrent INTEGER NOT NULL
);
