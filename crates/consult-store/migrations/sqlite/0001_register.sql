-- The register: organisations, services, areas, tokens, consultations, status history, audit log.
CREATE TABLE organisations (
    id BLOB PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('council', 'partner')),
    created_at TEXT NOT NULL
);

CREATE TABLE services (
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (organisation_id, name)
);

CREATE TABLE areas (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    parent TEXT REFERENCES areas (code)
);

CREATE TABLE tokens (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'officer')),
    organisation_id BLOB REFERENCES organisations (id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE consultations (
    id BLOB PRIMARY KEY NOT NULL,
    organisation_id BLOB NOT NULL REFERENCES organisations (id),
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    search_text TEXT NOT NULL,
    level TEXT NOT NULL,
    opens_on TEXT NOT NULL,
    closes_on TEXT NOT NULL,
    plan TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX consultations_status ON consultations (status);
CREATE INDEX consultations_organisation ON consultations (organisation_id);
CREATE INDEX consultations_window ON consultations (opens_on, closes_on);

CREATE TABLE consultation_areas (
    consultation_id BLOB NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    code TEXT NOT NULL REFERENCES areas (code),
    PRIMARY KEY (consultation_id, code)
);
CREATE INDEX consultation_areas_code ON consultation_areas (code);

CREATE TABLE consultation_groups (
    consultation_id BLOB NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    PRIMARY KEY (consultation_id, slug)
);
CREATE INDEX consultation_groups_slug ON consultation_groups (slug);

CREATE TABLE consultation_topics (
    consultation_id BLOB NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    topic TEXT NOT NULL,
    PRIMARY KEY (consultation_id, topic)
);
CREATE INDEX consultation_topics_topic ON consultation_topics (topic);

CREATE TABLE status_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    consultation_id BLOB NOT NULL REFERENCES consultations (id) ON DELETE CASCADE,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    reason TEXT,
    override_justification TEXT
);
CREATE INDEX status_history_consultation ON status_history (consultation_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);
