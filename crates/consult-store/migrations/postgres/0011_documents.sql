-- The results library's documents: linked (url) or stored (media type and content).
CREATE TABLE documents (
    id UUID PRIMARY KEY NOT NULL,
    consultation_id UUID NOT NULL REFERENCES consultations (id),
    title TEXT NOT NULL,
    url TEXT,
    media_type TEXT,
    size BIGINT,
    content BYTEA,
    added_at TIMESTAMPTZ NOT NULL,
    added_by TEXT NOT NULL,
    CHECK ((url IS NULL) <> (content IS NULL))
);
CREATE INDEX documents_consultation ON documents (consultation_id);
