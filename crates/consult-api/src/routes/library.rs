//! The results library: each activity's documents (linked or stored) and, for activities whose
//! results are published, a searchable library of findings, feedback and reports.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::views::ConsultationView;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consult_app::{DocumentContent, LibraryPage as FoundPage, Order};
use consult_core::{Consultation, ConsultationId, Document, DocumentLink, Upload};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Link a document (a report, the consultation document, data) to an activity. Owner officers
/// and coordinators.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/documents", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")), request_body = DocumentLink,
    security(("bearer" = [])),
    responses((status = 201, body = Document),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn link_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(input): ApiJson<DocumentLink>,
) -> Result<(StatusCode, Json<Document>), ApiError> {
    let actor = caller.required()?;
    Ok((
        StatusCode::CREATED,
        Json(state.app.link_document(&actor, id, input).await?),
    ))
}

/// The title of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadQuery {
    /// Title of the document.
    title: Option<String>,
}

/// Store a document with an activity: the body is the file, its `Content-Type` one of the types
/// consult stores (PDF, text, CSV, office documents, PNG, JPEG), at most the configured size
/// (20 MiB by default; link larger files). Owner officers and coordinators.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/documents/upload", tag = "feedback",
    params(("id" = String, Path, description = "consultation id"), UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/pdf"),
    security(("bearer" = [])),
    responses((status = 201, body = Document),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 413, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn upload_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    super::ApiQuery(q): super::ApiQuery<UploadQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Document>), ApiError> {
    let actor = caller.required()?;
    // Who is calling, and whether they may change the activity, before the body is read.
    state.app.writable_consultation(&actor, id).await?;
    let max = state.limits.max_document_bytes;
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ApiError::TooLarge(format!("documents are stored up to {max} bytes; link larger ones")))?;
    let upload = Upload {
        title: q.title.as_deref(),
        media_type: headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()),
        size: bytes.len(),
    };
    let doc = state.app.store_document(&actor, id, upload, &bytes, max).await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// An activity's documents: whoever may read the activity, as far as its `results_sharing`
/// allows (401 for the public, 403 for staff it is not shared with; the owner's staff always).
#[utoipa::path(get, path = "/api/v1/consultations/{id}/documents", tag = "feedback",
    params(("id" = String, Path, description = "consultation id")),
    security((), ("bearer" = [])),
    responses((status = 200, body = Vec<Document>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_documents(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<Vec<Document>>, ApiError> {
    Ok(Json(state.app.documents(caller.0.as_ref(), id).await?))
}

/// A document: a stored one's content (as an attachment, never run in the page), or a redirect
/// (303) to a linked one; as far as its activity's `results_sharing` allows.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "feedback",
    params(("id" = String, Path, description = "document id")),
    security((), ("bearer" = [])),
    responses((status = 200, description = "the stored content", content_type = "application/octet-stream"),
        (status = 303, description = "a linked document: see Location"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let (doc, content) = state.app.document_content(caller.0.as_ref(), id).await?;
    match content {
        DocumentContent::Link(url) => {
            let location = HeaderValue::from_str(&url).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
        }
        DocumentContent::Stored {
            media_type,
            bytes: content,
        } => {
            let media = HeaderValue::from_str(&media_type).map_err(|e| ApiError::Internal(e.to_string()))?;
            let name: String = doc
                .title
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
                .collect();
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((
                [
                    (header::CONTENT_TYPE, media),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
                    (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox")),
                ],
                content,
            )
                .into_response())
        }
    }
}

/// Remove a document. Owner officers and coordinators.
#[utoipa::path(delete, path = "/api/v1/documents/{id}", tag = "feedback",
    params(("id" = String, Path, description = "document id")),
    security(("bearer" = [])),
    responses((status = 204, description = "removed"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn delete_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    let actor = caller.required()?;
    state.app.delete_document(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Library filters. All optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LibraryQuery {
    /// Text in the title, summary or topics (case-insensitive).
    pub(crate) q: Option<String>,
    /// Topic.
    pub(crate) topic: Option<String>,
    /// Owner organisation slug.
    pub(crate) organisation: Option<String>,
    /// Owning service (exact name).
    pub(crate) service: Option<String>,
    /// Year the activity was open in.
    #[param(value_type = Option<i32>)]
    pub(crate) year: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    pub(crate) limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

/// One activity in the results library.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LibraryEntry {
    /// The activity.
    consultation: ConsultationView,
    /// When its feedback was published.
    published_on: Option<chrono::NaiveDate>,
    /// Summary of the findings.
    summary: Option<String>,
    /// You said, we did: the themes.
    themes: Vec<consult_core::FeedbackItem>,
    /// Its documents.
    documents: Vec<Document>,
}

/// A page of the library.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LibraryPage {
    /// Entries, by opening date.
    items: Vec<LibraryEntry>,
    /// Pass as `cursor` for the next page.
    next_cursor: Option<String>,
}

/// The results library: activities whose results are published, with their findings summary,
/// "you said, we did" and documents; searchable by text, topic, organisation, service and year.
#[utoipa::path(get, path = "/api/v1/library", tag = "feedback", params(LibraryQuery),
    responses((status = 200, body = LibraryPage),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn library(
    State(state): State<AppState>,
    super::ApiQuery(q): super::ApiQuery<LibraryQuery>,
) -> Result<Json<LibraryPage>, ApiError> {
    let found = find(&state, q).await?;
    let chosen: Vec<Consultation> = found.entries.iter().map(|e| e.consultation.clone()).collect();
    let views = super::consultations::views(&state, None, chosen).await?;
    let items = found
        .entries
        .into_iter()
        .zip(views)
        .map(|(e, consultation)| LibraryEntry {
            consultation,
            published_on: e.feedback.as_ref().and_then(|f| f.published_on),
            summary: e.feedback.as_ref().and_then(|f| f.summary.clone()),
            themes: e.feedback.map(|f| f.items).unwrap_or_default(),
            documents: e.documents,
        })
        .collect();
    Ok(Json(LibraryPage {
        items,
        next_cursor: found.next.map(|c| c.encode()),
    }))
}

/// Searches the results library (the API's and the hub's): published activities only.
pub(crate) async fn find(state: &AppState, q: LibraryQuery) -> Result<FoundPage, ApiError> {
    let year = match q.year.as_deref().map(str::trim).filter(|y| !y.is_empty()) {
        None => None,
        Some(y) => Some(
            y.parse::<i32>()
                .ok()
                .filter(|y| (1990..=2200).contains(y))
                .ok_or_else(|| ApiError::field("year", "must be a year, e.g. 2026"))?,
        ),
    };
    let register = super::consultations::RegisterQuery {
        status: Some("results_published,evaluated".into()),
        organisation: q.organisation,
        topic: q.topic,
        service: q.service,
        q: q.q,
        from: year.map(|y| format!("{y}-01-01")),
        to: year.map(|y| format!("{y}-12-31")),
        limit: q.limit,
        cursor: q.cursor,
        ..Default::default()
    };
    let (filter, page) = super::consultations::parse_register_query(state, register, Order::ByOpening).await?;
    Ok(state.app.library(&filter, &page).await?)
}
