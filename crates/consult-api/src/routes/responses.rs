//! Responses to open activities (with optional equality-monitoring answers), and imports of
//! responses collected elsewhere.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::ApiQuery;
use crate::views::ListPage;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use consult_app::PageRequest;
use consult_app::ResponseView;
use consult_core::{ConsultationId, ResponseInput};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// A stored response's receipt.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Receipt {
    /// The response's id.
    id: String,
    /// The activity.
    consultation_id: String,
    /// How it arrived.
    channel: consult_core::ResponseChannel,
}

/// Respond to an open activity: comments and optional monitoring answers. Anyone, online;
/// officers of the owner organisation (and coordinators) also enter paper, email, event and phone
/// responses. An `Idempotency-Key` header makes a retry store the response once (the retry gets
/// 200 and the first response's id); the key is bound to its caller and body, so the same key
/// from another caller or with another body is a 422 naming `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/responses", tag = "responses",
    params(("id" = String, Path, description = "consultation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    request_body = ResponseInput,
    responses((status = 201, body = Receipt), (status = 200, body = Receipt, description = "a retry of a stored response"),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 429, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn respond(
    State(state): State<AppState>,
    caller: Caller,
    client: crate::extract::ClientAddr,
    ApiPath(id): ApiPath<ConsultationId>,
    headers: HeaderMap,
    ApiJson(input): ApiJson<ResponseInput>,
) -> Result<impl IntoResponse, ApiError> {
    if caller.0.is_none() {
        state.rate.check(client.0)?;
    }
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= 200)
                .ok_or_else(|| ApiError::Malformed("Idempotency-Key must be 1 to 200 visible characters".into()))?
                .to_owned(),
        ),
    };
    let who = Caller::identity(&headers, client);
    let idempotency = key.as_deref().map(|key| consult_app::Idempotency { key, caller: &who });
    let stored = state.app.respond(caller.0.as_ref(), id, input, idempotency).await?;
    let receipt = Receipt {
        id: stored.id.to_string(),
        consultation_id: id.to_string(),
        channel: stored.response.channel,
    };
    let status = if stored.new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut res = (status, Json(receipt)).into_response();
    if !stored.new {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(res)
}

/// A survey tool's CSV export and how its columns map.
#[derive(Debug, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportInput {
    /// Column mapping.
    #[serde(default)]
    mapping: consult_core::ColumnMapping,
    /// The CSV text, with a header row.
    csv: Option<String>,
    /// `true`: store the valid rows and report the others; `false` (default): store nothing
    /// unless every row is valid.
    #[serde(default)]
    skip_invalid: bool,
}

/// The result of an import.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ImportResult {
    /// Responses stored.
    imported: u64,
    /// Rows left out (only with `skip_invalid`), by line (`line[n]`, the header being line 1).
    skipped: Vec<consult_core::FieldError>,
}

/// Import responses from a survey tool's CSV export, all or none. Owner officers and
/// coordinators; while the activity is open or closed.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/responses/import", tag = "responses",
    params(("id" = String, Path, description = "consultation id")), request_body = ImportInput,
    security(("bearer" = [])),
    responses((status = 201, body = ImportResult),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn import(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(input): ApiJson<ImportInput>,
) -> Result<(StatusCode, Json<ImportResult>), ApiError> {
    let actor = caller.required()?;
    // Who may import, and whether the activity takes imports now, before the file is read.
    let c = state.app.writable_consultation(&actor, id).await?;
    c.check_takes_imported_responses(state.app.today())
        .map_err(|e| ApiError::Conflict(e.0))?;
    let text = input.csv.ok_or_else(|| ApiError::field("csv", "is required"))?;
    if let Some(line) = consult_core::spreadsheet::unclosed_quote(text.as_bytes()) {
        return Err(ApiError::field(
            "csv",
            format!("line {line}: a quoted field opens here and never closes (an unbalanced `\"`); nothing imported"),
        ));
    }
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::field("csv", e.to_string()))?
        .iter()
        .map(str::to_owned)
        .collect();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::field("csv", e.to_string()))?;
    let mode = if input.skip_invalid {
        consult_core::ImportMode::GoodRows
    } else {
        consult_core::ImportMode::AllOrNothing
    };
    let (imported, skipped) = state
        .app
        .import_responses(&actor, id, &input.mapping, &header, &rows, mode, |_| {})
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportResult {
            imported: imported as u64,
            skipped: skipped.into_errors(),
        }),
    ))
}

/// The responses listing's query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ResponsesQuery {
    /// Only responses whose comments or text answers contain this (case-insensitive).
    q: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn parse_responses_query(q: &ResponsesQuery) -> Result<PageRequest, ApiError> {
    super::id_page(q.limit.as_deref(), q.cursor.as_deref())
}

/// An activity's responses, in the order received, a page at a time: answers (in the shape
/// they were sent), comments, channel and date, never the monitoring answers. `q` keeps those
/// whose comments or text answers contain it. Officers of the owner organisation and
/// coordinators; each read is audited.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/responses", tag = "responses",
    params(("id" = String, Path, description = "consultation id"), ResponsesQuery),
    security(("bearer" = [])),
    responses((status = 200, body = ListPage<ResponseView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_responses(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiQuery(q): ApiQuery<ResponsesQuery>,
) -> Result<Json<ListPage<ResponseView>>, ApiError> {
    let actor = caller.required()?;
    let page = parse_responses_query(&q)?;
    let found = state.app.responses(&actor, id, q.q.as_deref(), &page).await?;
    Ok(Json(ListPage {
        items: found.items,
        next_cursor: found.next.map(|c| c.encode()),
    }))
}

/// One response of an activity (404 for a response of another activity). Officers of the owner
/// organisation and coordinators; audited.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/responses/{response_id}", tag = "responses",
    params(("id" = String, Path, description = "consultation id"),
        ("response_id" = String, Path, description = "response id")),
    security(("bearer" = [])),
    responses((status = 200, body = ResponseView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_response(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, response_id)): ApiPath<(ConsultationId, Uuid)>,
) -> Result<Json<ResponseView>, ApiError> {
    let actor = caller.required()?;
    Ok(Json(state.app.response(&actor, id, response_id).await?))
}

/// The export's query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// `csv` (default) or `xlsx`.
    format: Option<String>,
}

/// An Excel workbook, as bytes (for the OpenAPI document).
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub(crate) struct XlsxFile(Vec<u8>);

/// Bytes read from a finished xlsx file per piece of the response body.
const XLSX_CHUNK: usize = 64 * 1024;

/// Every response of an activity as a file, one row per response and one column per part of a
/// question (stable keys: `_response_id`, `_received_at`, `_channel`, `_recorded_by`,
/// `_questionnaire_version`, `_comments`, then `<key>` or `<key>.<option|statement|other>`),
/// never the monitoring answers. `csv`: RFC 4180, UTF-8 with a byte order mark, one header row
/// of column keys, written to the response a page of responses at a time. `xlsx`: a
/// `responses` sheet, a sheet per grid question and a `questions` sheet saying what each column
/// is; built in constant memory in a temporary file, then sent. Text that a spreadsheet could
/// run as a formula starts with an apostrophe. Officers of the owner organisation and
/// coordinators; audited. At most two exports run at once in a server: the next is 503.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/responses/export", tag = "responses",
    params(("id" = String, Path, description = "consultation id"), ExportQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "the export, as an attachment",
            content((String = "text/csv"), (XlsxFile = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn export_responses(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header;
    let actor = caller.required()?;
    let format = consult_app::ExportFormat::parse(q.format.as_deref())?;
    let export = state.app.export_responses(&actor, id, format).await?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", export.file_name()))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let body = match format {
        consult_app::ExportFormat::Csv => axum::body::Body::from_stream(csv_stream(export)),
        consult_app::ExportFormat::Xlsx => axum::body::Body::from_stream(xlsx_stream(export)),
    };
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(format.media_type())),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
        .into_response())
}

/// A failure after the head was sent: logged, and the body cut short (the client sees an
/// incomplete transfer, never a file that looks whole).
fn cut_short(e: impl std::fmt::Display) -> std::io::Error {
    tracing::error!(error = %e, "export failed part way");
    std::io::Error::other("the export failed part way")
}

/// The CSV file, a page of responses per piece.
fn csv_stream(
    export: consult_app::ResponseExport,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    futures_util::stream::unfold(Some(export), |state| async move {
        let mut export = state?;
        match export.next_csv_chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(export))),
            Ok(None) => None,
            Err(e) => Some((Err(cut_short(e)), None)),
        }
    })
}

enum XlsxState {
    Build(consult_app::ResponseExport),
    Send(tokio::fs::File),
}

/// The xlsx file: built into an unnamed temporary file (gone when closed, whatever happens),
/// then sent from it. The head goes out first, so a long build is not cut by the request
/// timeout.
fn xlsx_stream(
    export: consult_app::ResponseExport,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send {
    use std::io::Seek as _;
    use tokio::io::AsyncReadExt as _;
    futures_util::stream::unfold(Some(XlsxState::Build(export)), |state| async move {
        let mut file = match state? {
            XlsxState::Build(export) => {
                let built = async {
                    let file = tempfile::tempfile().map_err(cut_short)?;
                    let (mut file, _) = export.write_xlsx(file).await.map_err(cut_short)?;
                    file.seek(std::io::SeekFrom::Start(0)).map_err(cut_short)?;
                    Ok::<_, std::io::Error>(tokio::fs::File::from_std(file))
                };
                match built.await {
                    Ok(f) => f,
                    Err(e) => return Some((Err(e), None)),
                }
            }
            XlsxState::Send(file) => file,
        };
        let mut buf = vec![0; XLSX_CHUNK];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(buf), Some(XlsxState::Send(file))))
            }
            Err(e) => Some((Err(cut_short(e)), None)),
        }
    })
}
