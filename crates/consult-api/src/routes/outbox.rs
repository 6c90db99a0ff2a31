//! The outbox: every message consult has queued (verification codes, invitations, ...), what
//! became of each, and retrying one that failed. Coordinators; recipients are masked.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::routes::ApiQuery;
use crate::views::ListPage;
use axum::Json;
use axum::extract::State;
use consult_app::OutboxFilter;
use consult_app::outbox::MessageView;
use consult_core::{ConsultationId, ContactChannel, DeliveryStatus, MessageKind, ValidationErrors};
use uuid::Uuid;

/// The outbox listing's query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct OutboxQuery {
    /// Only messages in this status: queued, sending, sent, failed, cancelled, suppressed.
    status: Option<String>,
    /// Only messages of this kind: verification, invitation, results_notice, reply, digest, alert.
    kind: Option<String>,
    /// Only messages on this channel: email, sms, post, phone.
    channel: Option<String>,
    /// Only messages about this activity (its id).
    consultation: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

fn filter_of(q: &OutboxQuery) -> Result<OutboxFilter, ApiError> {
    let mut e = ValidationErrors::new();
    let mut pick = |field: &str, value: Option<&str>, names: &[&str]| -> Option<String> {
        let v = value.filter(|v| !v.is_empty())?;
        if names.contains(&v) {
            Some(v.to_owned())
        } else {
            e.push(field, format!("must be one of {}", names.join(", ")));
            None
        }
    };
    let statuses: Vec<&str> = DeliveryStatus::ALL.iter().map(|s| s.as_str()).collect();
    let kinds: Vec<&str> = MessageKind::ALL.iter().map(|k| k.as_str()).collect();
    let channels = ["email", "sms", "post", "phone"];
    let status = pick("status", q.status.as_deref(), &statuses).and_then(|s| DeliveryStatus::parse(&s));
    let kind = pick("kind", q.kind.as_deref(), &kinds).and_then(|k| MessageKind::parse(&k));
    let channel = pick("channel", q.channel.as_deref(), &channels).and_then(|c| ContactChannel::parse(&c));
    let consultation = match q.consultation.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match c.parse::<ConsultationId>() {
            Ok(id) => Some(id),
            Err(_) => {
                e.push("consultation", "is not an activity id");
                None
            }
        },
    };
    if e.is_empty() {
        Ok(OutboxFilter {
            status,
            kind,
            channel,
            consultation,
        })
    } else {
        Err(ApiError::Invalid(e))
    }
}

/// Messages in the outbox, newest first, a page at a time: kind, channel, status, tries, the
/// last error and the provider's reference, the recipient masked (and erased once the message
/// is sent). Coordinators.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "outbox",
    params(OutboxQuery), security(("bearer" = [])),
    responses((status = 200, body = ListPage<MessageView>),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<OutboxQuery>,
) -> Result<Json<ListPage<MessageView>>, ApiError> {
    let actor = caller.coordinator()?;
    let filter = filter_of(&q)?;
    let page = super::id_page(q.limit.as_deref(), q.cursor.as_deref())?;
    let found = state.app.outbox(&actor, &filter, &page).await?;
    Ok(Json(ListPage {
        items: found.items,
        next_cursor: found.next.map(|c| c.encode()),
    }))
}

/// Queues a failed message again, due now, its tries counted afresh (audited). A message that
/// has not failed is a 409. Coordinators.
#[utoipa::path(post, path = "/api/v1/outbox/{id}/retry", tag = "outbox",
    params(("id" = String, Path, description = "message id")), security(("bearer" = [])),
    responses((status = 200, body = MessageView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn retry_message(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<MessageView>, ApiError> {
    let actor = caller.coordinator()?;
    Ok(Json(state.app.retry_message(&actor, id).await?))
}

/// The query of the letters waiting to be printed.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LettersQuery {
    /// `json` (default), `csv` (a mail merge: a row per letter, the address in lines, every
    /// field) or `pdf` (the letters, printable on A4 for a DL window envelope).
    format: Option<String>,
    /// At most this many letters, oldest first, 1 to 5000 (default 500).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// Who a letter is from when its kind names no organisation (a registration code); default
    /// "The consultation hub".
    sender: Option<String>,
}

/// A letter waiting to be printed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct LetterView {
    /// The message's id: the letter's reference, and what confirms it printed.
    id: Uuid,
    /// What it is for: invitation or verification.
    kind: MessageKind,
    /// Who it is from.
    from: String,
    /// The date printed on it.
    date: String,
    /// The postal address, a line each.
    address: Vec<String>,
    /// The heading.
    heading: String,
    /// The text, paragraphs apart by blank lines.
    body: String,
}

/// The letters waiting to be printed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Letters {
    /// How many letters follow.
    count: usize,
    /// The letters, oldest first.
    letters: Vec<LetterView>,
}

/// A PDF file, as bytes (for the OpenAPI document).
#[derive(Debug, utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub(crate) struct PdfFile(Vec<u8>);

/// The letters to confirm printed.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PrintedRequest {
    /// The ids of the letters printed (and posted).
    #[serde(default)]
    ids: Vec<Uuid>,
}

/// How many letters were marked printed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Printed {
    /// Letters now sent; ids that were not waiting letters (already printed, not letters) are
    /// not counted.
    printed: u64,
}

/// The letters waiting to be printed (invitations and registration codes to residents who
/// chose post), oldest first, as JSON, a mail-merge CSV or a printable PDF. Fetching marks
/// nothing: confirm with `POST /api/v1/outbox/letters/printed` once they are printed, which
/// marks them sent and erases their addresses. Coordinators only (the letters carry postal
/// addresses); never cached.
#[utoipa::path(get, path = "/api/v1/outbox/letters", tag = "outbox",
    params(LettersQuery), security(("bearer" = [])),
    responses((status = 200, description = "the letters",
            content((Letters = "application/json"), (String = "text/csv"), (PdfFile = "application/pdf"))),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn letters(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<LettersQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let actor = caller.coordinator()?;
    let format = match q.format.as_deref().unwrap_or("json") {
        f @ ("json" | "csv" | "pdf") => f,
        _ => return Err(ApiError::field("format", "must be one of json, csv, pdf")),
    };
    let limit = match q.limit.as_deref().filter(|l| !l.is_empty()) {
        None => 500,
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=5000).contains(n))
            .ok_or_else(|| ApiError::field("limit", "must be a whole number from 1 to 5000"))?,
    };
    let sender = q
        .sender
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("The consultation hub");
    if sender.chars().count() > 200 {
        return Err(ApiError::field("sender", "must be at most 200 characters"));
    }
    let waiting = state.app.letters(&actor, limit).await?;
    let letters = consult_delivery::letters::render_all(&waiting, state.app.now(), sender)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let stamp = state.app.now().format("%Y%m%d-%H%M");
    let (media, name, body) = match format {
        "csv" => (
            "text/csv; charset=utf-8",
            format!("letters-{stamp}.csv"),
            consult_delivery::letters::csv(&letters).map_err(|e| ApiError::Internal(e.to_string()))?,
        ),
        "pdf" => (
            "application/pdf",
            format!("letters-{stamp}.pdf"),
            consult_delivery::letters::pdf(&letters),
        ),
        _ => {
            let view = Letters {
                count: letters.len(),
                letters: letters
                    .into_iter()
                    .map(|l| LetterView {
                        id: l.id,
                        kind: l.kind,
                        from: l.from,
                        date: l.date,
                        address: l.address,
                        heading: l.heading,
                        body: l.body,
                    })
                    .collect(),
            };
            let mut response = Json(view).into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return Ok(response);
        }
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media)),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        body,
    )
        .into_response())
}

/// Confirms letters printed and posted: each waiting letter named is marked sent and its
/// address erased, in one transaction (audited). Ids that are not waiting letters are left
/// alone, so confirming twice marks nothing the second time. Coordinators.
#[utoipa::path(post, path = "/api/v1/outbox/letters/printed", tag = "outbox",
    request_body = PrintedRequest, security(("bearer" = [])),
    responses((status = 200, body = Printed),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn letters_printed(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<PrintedRequest>,
) -> Result<Json<Printed>, ApiError> {
    let actor = caller.coordinator()?;
    if body.ids.len() > 5000 {
        return Err(ApiError::field("ids", "name at most 5000 letters at once"));
    }
    let printed = state.app.letters_printed(&actor, &body.ids).await?;
    Ok(Json(Printed { printed }))
}

/// A GOV.UK Notify callback: a delivery receipt (`reference`, `to`, `status`,
/// `notification_type`, ...) or a complaint (`notification_id`, `complaint_id`, `reference`,
/// `email_address`, ...). Other fields are ignored.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct NotifyCallback {
    /// The reference it was sent with: consult's message id.
    reference: Option<String>,
    /// The recipient (a delivery receipt).
    to: Option<String>,
    /// `delivered`, `permanent-failure`, `temporary-failure` or `technical-failure` (a
    /// delivery receipt).
    status: Option<String>,
    /// `email`, `sms` or `letter` (a delivery receipt).
    notification_type: Option<String>,
    /// The complaint's id (a complaint).
    complaint_id: Option<String>,
    /// The address that complained (a complaint).
    email_address: Option<String>,
}

/// What a delivery report did.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ReportRecorded {
    /// Whether a message was marked failed by it.
    failed: bool,
    /// Whether the address is now suppressed.
    suppressed: bool,
}

/// GOV.UK Notify's callback for delivery receipts and complaints, authenticated by the bearer
/// token set on Notify's callback page and given to `consult serve --notify-callback-token`.
/// A hard bounce (`permanent-failure`) or a complaint suppresses the address, so nothing more
/// is sent to it; a message that did not arrive is marked failed with the reason. Receipts of
/// other statuses are acknowledged and change nothing.
#[utoipa::path(post, path = "/api/v1/outbox/reports/notify", tag = "outbox",
    request_body = NotifyCallback,
    responses((status = 200, body = ReportRecorded),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn notify_report(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    ApiJson(body): ApiJson<NotifyCallback>,
) -> Result<Json<ReportRecorded>, ApiError> {
    use consult_core::ProviderOutcome;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let complaint = body.complaint_id.is_some();
    let outcome = if complaint {
        ProviderOutcome::Complaint
    } else {
        let Some(status) = body.status.as_deref() else {
            return Err(ApiError::field("status", "a delivery receipt names its status"));
        };
        match ProviderOutcome::from_notify_status(status) {
            Some(o) => o,
            // Not final (created, sending, pending): nothing to record, but the token is checked.
            None => {
                state.app.check_provider_token(token)?;
                return Ok(Json(ReportRecorded {
                    failed: false,
                    suppressed: false,
                }));
            }
        }
    };
    let channel = match body.notification_type.as_deref() {
        None | Some("email") => ContactChannel::Email,
        Some("sms") => ContactChannel::Sms,
        Some("letter") => ContactChannel::Post,
        Some(_) => {
            return Err(ApiError::field(
                "notification_type",
                "must be one of email, sms, letter",
            ));
        }
    };
    let address = if complaint { body.email_address } else { body.to };
    let report = consult_app::outbox::ProviderReport {
        message: body.reference.as_deref().and_then(|r| r.parse().ok()),
        channel,
        address: address.clone(),
        outcome,
    };
    let failed = state.app.provider_report(token, &report).await?;
    Ok(Json(ReportRecorded {
        failed,
        suppressed: outcome.suppresses() && address.is_some_and(|a| !a.trim().is_empty()),
    }))
}
