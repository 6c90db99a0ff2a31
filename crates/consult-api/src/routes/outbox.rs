//! The outbox: every message consult has queued (verification codes, invitations, ...), what
//! became of each, and retrying one that failed. Coordinators; recipients are masked.

use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiPath, Caller};
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
