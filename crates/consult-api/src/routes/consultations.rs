//! The register: activities, their lifecycle, the forward plan.

use super::ApiQuery;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, ApiPath, Caller};
use crate::views::{ConsultationView, ListPage};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{Days, NaiveDate};
use consult_app::{AuditEntry, ConsultationFilter, Cursor, Order, Page, PageRequest};
use consult_core::{
    Actor, AreaCode, Consultation, ConsultationId, ConsultationInput, InvolvementLevel, Status, TransitionRequest,
    ValidationErrors,
};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

/// The views `caller` sees (`None`: the public, who see roles, not names, of who changed them).
pub(crate) async fn views(
    state: &AppState,
    caller: Option<&Actor>,
    cs: Vec<Consultation>,
) -> Result<Vec<ConsultationView>, ApiError> {
    let today = state.app.today();
    Ok(state
        .app
        .register_entries(cs)
        .await?
        .iter()
        .map(|e| e.view_for(caller, today))
        .collect())
}

async fn view(state: &AppState, caller: Option<&Actor>, c: Consultation) -> Result<ConsultationView, ApiError> {
    Ok(state.app.register_entry(c).await?.view_for(caller, state.app.today()))
}

/// Register a draft activity. Officers for their own organisation; coordinators for any.
#[utoipa::path(post, path = "/api/v1/consultations", tag = "register", request_body = ConsultationInput,
    security(("bearer" = [])),
    responses((status = 201, body = ConsultationView, headers(("Location" = String))),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn create_consultation(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ConsultationInput>,
) -> Result<impl IntoResponse, ApiError> {
    let actor = caller.required()?;
    let c = state.app.create_consultation(&actor, input).await?;
    let location = format!("/api/v1/consultations/{}", c.id);
    let body = view(&state, Some(&actor), c).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(body)))
}

/// Register filters (API.md). All optional.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RegisterQuery {
    /// Status today, or several separated by commas.
    #[param(value_type = Option<String>, example = "open,approved")]
    pub(crate) status: Option<String>,
    /// Involvement level.
    #[param(value_type = Option<InvolvementLevel>)]
    pub(crate) level: Option<String>,
    /// Owner organisation slug.
    pub(crate) organisation: Option<String>,
    /// GSS area code: activities in the area, in areas containing it or inside it.
    pub(crate) area: Option<String>,
    /// Stakeholder group slug.
    pub(crate) group: Option<String>,
    /// Topic (case-insensitive).
    pub(crate) topic: Option<String>,
    /// Owning service (case-insensitive), e.g. `Parks`.
    pub(crate) service: Option<String>,
    /// Text in the title, summary or topics (case-insensitive).
    pub(crate) q: Option<String>,
    /// Open on or after this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) from: Option<String>,
    /// Open on or before this date (YYYY-MM-DD).
    #[param(value_type = Option<String>, format = Date)]
    pub(crate) to: Option<String>,
    /// `true`: only activities closed without published feedback past its due date.
    #[param(value_type = Option<bool>)]
    pub(crate) feedback_overdue: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    pub(crate) limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub(crate) cursor: Option<String>,
}

fn parse_date_param(errors: &mut ValidationErrors, field: &str, v: Option<&str>) -> Option<NaiveDate> {
    let v = v.map(str::trim).filter(|v| !v.is_empty())?;
    consult_core::parse_date(v).map_err(|m| errors.push(field, m)).ok()
}

pub(crate) async fn parse_register_query(
    state: &AppState,
    q: RegisterQuery,
    order: Order,
) -> Result<(ConsultationFilter, PageRequest), ApiError> {
    let mut e = ValidationErrors::new();
    let mut statuses = Vec::new();
    for s in q
        .status
        .iter()
        .flat_map(|s| s.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match s.parse::<Status>() {
            Ok(st) => statuses.push(st),
            Err(m) => e.push("status", m),
        }
    }
    let level = q.level.as_deref().filter(|l| !l.is_empty()).and_then(|l| {
        l.parse::<InvolvementLevel>()
            .map_err(|m| e.push("level", m.to_string()))
            .ok()
    });
    let mut areas = Vec::new();
    if let Some(a) = q.area.as_deref().filter(|a| !a.is_empty()) {
        match AreaCode::parse(a) {
            Ok(code) => {
                let hierarchy = state.app.area_hierarchy().await?;
                if hierarchy.contains(&code) {
                    areas = hierarchy.related(&code).into_iter().collect();
                } else {
                    e.push("area", format!("unknown area {code}"));
                }
            }
            Err(m) => e.push("area", m),
        }
    }
    if let Some(g) = q.group.as_deref().filter(|g| !g.is_empty()) {
        if consult_core::stakeholder_group(g).is_none() {
            e.push("group", format!("unknown stakeholder group `{g}`"));
        }
    }
    let from = parse_date_param(&mut e, "from", q.from.as_deref());
    let to = parse_date_param(&mut e, "to", q.to.as_deref());
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            e.push("to", "must be on or after `from`");
        }
    }
    let feedback_overdue = match q.feedback_overdue.as_deref() {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            e.push("feedback_overdue", "must be true or false");
            false
        }
    };
    let limit = match q.limit.as_deref() {
        None | Some("") => 50,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=500).contains(&n) => n,
            _ => {
                e.push("limit", "must be a whole number from 1 to 500");
                50
            }
        },
    };
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => match Cursor::decode(c) {
            Some(cur) if (cur.opens_on.is_some()) == (order == Order::ByOpening) => Some(cur),
            _ => {
                e.push(
                    "cursor",
                    "is not a cursor from this listing; pass next_cursor unchanged",
                );
                None
            }
        },
    };
    if !e.is_empty() {
        return Err(ApiError::Invalid(e));
    }
    Ok((
        ConsultationFilter {
            statuses,
            level,
            organisation: q.organisation.filter(|o| !o.is_empty()),
            areas,
            group: q.group.filter(|g| !g.is_empty()),
            topic: q.topic.filter(|t| !t.trim().is_empty()),
            service: q.service.filter(|s| !s.trim().is_empty()),
            text: q.q.filter(|t| !t.trim().is_empty()),
            from,
            to,
            feedback_overdue,
            order,
        },
        PageRequest { limit, cursor },
    ))
}

/// The register: every activity the caller may see, filtered, a page at a time.
#[utoipa::path(get, path = "/api/v1/consultations", tag = "register", params(RegisterQuery),
    responses((status = 200, body = ListPage<ConsultationView>),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn list_consultations(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RegisterQuery>,
) -> Result<Json<ListPage<ConsultationView>>, ApiError> {
    let (filter, page) = parse_register_query(&state, q, Order::ByRegistration).await?;
    let found = state.app.list_consultations(caller.0.as_ref(), &filter, &page).await?;
    list_page(&state, caller.0.as_ref(), found).await
}

pub(crate) async fn list_page(
    state: &AppState,
    caller: Option<&Actor>,
    found: Page<Consultation>,
) -> Result<Json<ListPage<ConsultationView>>, ApiError> {
    Ok(Json(ListPage {
        items: views(state, caller, found.items).await?,
        next_cursor: found.next.map(|c| c.encode()),
    }))
}

/// Forward-plan window and filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ForwardPlanQuery {
    /// Start of the window (default today).
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// End of the window (default a year after `from`).
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
    /// Owner organisation slug.
    organisation: Option<String>,
    /// GSS area code (with containing and contained areas).
    area: Option<String>,
    /// Stakeholder group slug.
    group: Option<String>,
    /// Topic.
    topic: Option<String>,
    /// Page size, 1 to 500 (default 50).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The forward plan: approved and open activities in a window, by opening date.
#[utoipa::path(get, path = "/api/v1/forward-plan", tag = "register", params(ForwardPlanQuery),
    responses((status = 200, body = ListPage<ConsultationView>),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn forward_plan(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ForwardPlanQuery>,
) -> Result<Json<ListPage<ConsultationView>>, ApiError> {
    let today = state.app.today();
    let mut errors = ValidationErrors::new();
    let from = parse_date_param(&mut errors, "from", q.from.as_deref()).unwrap_or(today);
    let to = parse_date_param(&mut errors, "to", q.to.as_deref())
        .unwrap_or_else(|| from.checked_add_days(Days::new(365)).unwrap_or(from));
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let register = RegisterQuery {
        status: Some("approved,open".into()),
        from: Some(from.to_string()),
        to: Some(to.to_string()),
        organisation: q.organisation,
        area: q.area,
        group: q.group,
        topic: q.topic,
        limit: q.limit,
        cursor: q.cursor,
        ..Default::default()
    };
    let (filter, page) = parse_register_query(&state, register, Order::ByOpening).await?;
    // The forward plan is the public's document: who changed each activity is named by role.
    list_page(&state, None, state.app.forward_plan(&filter, &page).await?).await
}

/// One activity. Drafts, submitted and withdrawn activities are visible to their organisation's
/// officers and to coordinators only.
#[utoipa::path(get, path = "/api/v1/consultations/{id}", tag = "register",
    params(("id" = String, Path, description = "consultation id")),
    responses((status = 200, body = ConsultationView, headers(("ETag" = String))),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn get_consultation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<impl IntoResponse, ApiError> {
    let c = state.app.readable_consultation(caller.0.as_ref(), id).await?;
    let etag = format!("\"{}\"", c.version);
    Ok(([(header::ETAG, etag)], Json(view(&state, caller.0.as_ref(), c).await?)))
}

/// Change a draft (JSON merge patch of the consultation body). Owner officers and coordinators.
#[utoipa::path(patch, path = "/api/v1/consultations/{id}", tag = "register",
    params(("id" = String, Path, description = "consultation id")),
    request_body(content = ConsultationInput, content_type = "application/merge-patch+json"),
    security(("bearer" = [])),
    responses((status = 200, body = ConsultationView),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn patch_consultation(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(patch): ApiJson<Value>,
) -> Result<Json<ConsultationView>, ApiError> {
    let actor = caller.required()?;
    let updated = state.app.patch_consultation(&actor, id, patch).await?;
    Ok(Json(view(&state, Some(&actor), updated).await?))
}

/// Move an activity through its lifecycle: submit and withdraw (owner officers), approve, reject
/// back to draft, close early, publish results, evaluate (coordinators). Opening and closing on
/// the dates happen without a request. Approval is refused (409, `failing_checks`) while a
/// blocking check of the principles checklist fails, unless `override` gives a justification.
#[utoipa::path(post, path = "/api/v1/consultations/{id}/transitions", tag = "register",
    params(("id" = String, Path, description = "consultation id")),
    request_body = TransitionRequest, security(("bearer" = [])),
    responses((status = 200, body = ConsultationView),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
    ApiJson(request): ApiJson<TransitionRequest>,
) -> Result<Json<ConsultationView>, ApiError> {
    let actor = caller.required()?;
    let updated = state.app.transition(&actor, id, &request).await?;
    Ok(Json(view(&state, Some(&actor), updated).await?))
}

/// An audit-log entry.
#[derive(Debug, serde::Serialize, ToSchema)]
pub(crate) struct AuditView {
    /// Sequence number.
    id: i64,
    /// When.
    at: chrono::DateTime<chrono::Utc>,
    /// Who.
    actor: String,
    /// What, e.g. `consultation.update`.
    action: String,
    /// What changed.
    detail: Value,
}

impl From<AuditEntry> for AuditView {
    fn from(a: AuditEntry) -> Self {
        Self {
            id: a.id,
            at: a.at,
            actor: a.actor,
            action: a.action,
            detail: a.detail,
        }
    }
}

/// The audit trail of one activity, newest first. Owner officers and coordinators.
#[utoipa::path(get, path = "/api/v1/consultations/{id}/audit", tag = "register",
    params(("id" = String, Path, description = "consultation id")), security(("bearer" = [])),
    responses((status = 200, body = crate::views::Items<AuditView>),
        (status = 403, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
pub(crate) async fn audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<ConsultationId>,
) -> Result<Json<crate::views::Items<AuditView>>, ApiError> {
    let actor = caller.required()?;
    let entries = state.app.consultation_audit(&actor, id).await?;
    Ok(Json(crate::views::Items {
        items: entries.into_iter().map(AuditView::from).collect(),
    }))
}
