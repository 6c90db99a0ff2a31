//! The results library (O 4.3 and action 3; H obj 4; T obj 3): each activity's findings and its
//! reports, either stored by consult or linked where they live, so people can find what was
//! asked before and what came of it.

use crate::consultation::ConsultationId;
use crate::error::ValidationErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Media types consult stores (reports, data and images); anything else is linked.
pub const STORED_MEDIA_TYPES: &[&str] = &[
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "image/png",
    "image/jpeg",
];

/// A linked document as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DocumentLink {
    /// Title, e.g. "Consultation report".
    pub title: Option<String>,
    /// Where it lives: an `https://` (or `http://`) address.
    pub url: Option<String>,
}

/// Where a document's content is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DocumentSource {
    /// Linked where it lives.
    Link {
        /// Its address.
        url: String,
    },
    /// Stored by consult.
    Stored {
        /// Media type.
        media_type: String,
        /// Size in bytes.
        size: u64,
    },
}

/// A document in the results library (its content, when stored, is fetched on its own).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    /// Identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    /// The activity.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub consultation_id: ConsultationId,
    /// Title.
    pub title: String,
    /// Link or stored.
    #[serde(flatten)]
    pub source: DocumentSource,
    /// When added.
    pub added_at: DateTime<Utc>,
    /// Who added it.
    pub added_by: String,
}

/// An upload as received: its title, its declared media type and its size.
#[derive(Debug, Clone, Copy)]
pub struct Upload<'a> {
    /// Title.
    pub title: Option<&'a str>,
    /// Media type (`Content-Type`).
    pub media_type: Option<&'a str>,
    /// Size in bytes.
    pub size: usize,
}

fn title(e: &mut ValidationErrors, value: Option<&str>) -> Option<String> {
    crate::text::required_line(e, "title", value, 200)
}

impl Document {
    /// A linked document: a title and an http(s) address.
    pub fn link(
        id: Uuid,
        consultation_id: ConsultationId,
        input: DocumentLink,
        added_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Document, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = title(&mut e, input.title.as_deref());
        let url = match input.url.as_deref().map(str::trim) {
            None | Some("") => {
                e.push("url", "is required");
                None
            }
            Some(u) if u.len() > 2000 => {
                e.push("url", "must be at most 2000 characters");
                None
            }
            Some(u)
                if (u.starts_with("https://") || u.starts_with("http://"))
                    && u.split_once("://").is_some_and(|(_, rest)| !rest.is_empty())
                    && !u.chars().any(|c| c.is_whitespace() || c.is_control()) =>
            {
                Some(u.to_owned())
            }
            Some(_) => {
                e.push("url", "must be an https:// or http:// address");
                None
            }
        };
        match (title, url) {
            (Some(title), Some(url)) if e.is_empty() => Ok(Document {
                id,
                consultation_id,
                title,
                source: DocumentSource::Link { url },
                added_at: now,
                added_by: added_by.to_owned(),
            }),
            _ => Err(e),
        }
    }

    /// A stored document: a title, a media type consult stores, and content within `max_bytes`.
    pub fn stored(
        id: Uuid,
        consultation_id: ConsultationId,
        upload: Upload<'_>,
        max_bytes: usize,
        added_by: &str,
        now: DateTime<Utc>,
    ) -> Result<Document, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = title(&mut e, upload.title);
        let size = upload.size;
        let media_type = upload
            .media_type
            .map(|m| m.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .filter(|m| STORED_MEDIA_TYPES.contains(&m.as_str()));
        if media_type.is_none() {
            e.push(
                "content_type",
                format!("store one of: {}; link anything else", STORED_MEDIA_TYPES.join(", ")),
            );
        }
        if size == 0 {
            e.push("body", "the document is empty");
        } else if size > max_bytes {
            e.push(
                "body",
                format!("the document is larger than {max_bytes} bytes; link it instead"),
            );
        }
        match (title, media_type) {
            (Some(title), Some(media_type)) if e.is_empty() => Ok(Document {
                id,
                consultation_id,
                title,
                source: DocumentSource::Stored {
                    media_type,
                    size: size as u64,
                },
                added_at: now,
                added_by: added_by.to_owned(),
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cid() -> ConsultationId {
        ConsultationId(Uuid::from_u128(1))
    }

    #[test]
    fn links_are_http_addresses() {
        let ok = Document::link(
            Uuid::from_u128(2),
            cid(),
            DocumentLink {
                title: Some("Consultation report".into()),
                url: Some("https://www.example.gov.uk/report.pdf".into()),
            },
            "ann",
            Utc::now(),
        )
        .unwrap();
        assert!(matches!(ok.source, DocumentSource::Link { .. }));
        for bad in ["javascript:alert(1)", "https://", "ftp://x", "https://a b"] {
            let e = Document::link(
                Uuid::from_u128(2),
                cid(),
                DocumentLink {
                    title: Some("x".into()),
                    url: Some(bad.into()),
                },
                "ann",
                Utc::now(),
            )
            .unwrap_err();
            assert_eq!(e.errors()[0].field, "url", "{bad}");
        }
    }

    #[test]
    fn stored_documents_have_a_known_type_and_size() {
        let store = |media: Option<&str>, size| {
            let upload = Upload {
                title: Some("Report"),
                media_type: media,
                size,
            };
            Document::stored(Uuid::from_u128(3), cid(), upload, 100, "ann", Utc::now())
        };
        assert!(store(Some("application/pdf"), 10).is_ok());
        assert!(store(Some("text/csv; charset=utf-8"), 10).is_ok());
        assert_eq!(
            store(Some("text/html"), 10).unwrap_err().errors()[0].field,
            "content_type"
        );
        assert_eq!(
            store(Some("application/pdf"), 101).unwrap_err().errors()[0].field,
            "body"
        );
        assert_eq!(store(Some("application/pdf"), 0).unwrap_err().errors()[0].field, "body");
    }
}
