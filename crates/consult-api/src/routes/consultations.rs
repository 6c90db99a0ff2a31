//! The register: activities, their lifecycle, the forward plan.

use super::ApiQuery;
use crate::AppState;
use crate::error::{ApiError, Problem};
use crate::extract::{ApiJson, Caller, parse_json};
use crate::views::{ConsultationView, ListPage};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{Days, NaiveDate};
use consult_core::{
    Approval, AreaCode, Consultation, ConsultationId, ConsultationInput, ConsultationPlan, InvolvementLevel,
    Organisation, Status, TransitionContext, TransitionRequest, ValidationErrors, check_edit, plan_transition,
};
use consult_store::{AuditEntry, ConsultationFilter, Cursor, Order, PageRequest, Reader};
use serde::Deserialize;
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

fn parse_id(id: &str) -> Result<ConsultationId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::NotFound(format!("no consultation `{id}` (ids are UUIDs)")))
}

pub(crate) async fn views(
    state: &AppState,
    cs: &[Consultation],
    today: NaiveDate,
) -> Result<Vec<ConsultationView>, ApiError> {
    let orgs = state.store.list_organisations().await?;
    let ids: Vec<ConsultationId> = cs.iter().map(|c| c.id).collect();
    let counts = state.store.response_counts(&ids).await?;
    Ok(cs
        .iter()
        .map(|c| {
            let owner = orgs.iter().find(|o: &&Organisation| o.id == c.organisation_id);
            ConsultationView::new(c, owner, counts.get(&c.id).copied().unwrap_or(0), today)
        })
        .collect())
}

async fn view(state: &AppState, c: &Consultation) -> Result<ConsultationView, ApiError> {
    let mut v = views(state, std::slice::from_ref(c), state.clock.today()).await?;
    v.pop().ok_or_else(|| ApiError::Internal("no view".into()))
}

/// Loads an activity the caller may read; 404 otherwise, so unpublished drafts do not leak.
async fn load_readable(state: &AppState, id: &str, caller: &Caller) -> Result<Consultation, ApiError> {
    let id = parse_id(id)?;
    let not_found = || ApiError::NotFound(format!("no consultation {id}"));
    let c = state.store.get_consultation(id).await?.ok_or_else(not_found)?;
    let status = c.status_on(state.clock.today());
    let readable = match &caller.0 {
        None => status.is_public(),
        Some(actor) => actor.may_read(c.organisation_id, status),
    };
    if readable { Ok(c) } else { Err(not_found()) }
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
    let snapshot = state.store.register_snapshot().await?;
    let forbidden = |slug: &str| {
        ApiError::Forbidden(format!(
            "officers can only register activities for their own organisation, not {slug}"
        ))
    };
    // Who may write for the organisation named is decided before the rest is checked.
    if let Some(named) = snapshot
        .organisations
        .iter()
        .find(|o| Some(o.slug.as_str()) == input.organisation.as_deref().map(str::trim))
    {
        if !actor.may_write(named.id) {
            return Err(forbidden(named.slug.as_str()));
        }
    }
    let plan = ConsultationPlan::parse(input, snapshot.context())?;
    let org = snapshot
        .organisations
        .iter()
        .find(|o| o.slug == *plan.organisation())
        .ok_or_else(|| ApiError::field("organisation", "unknown organisation"))?;
    if !actor.may_write(org.id) {
        return Err(forbidden(org.slug.as_str()));
    }
    let c = Consultation::new_draft(ConsultationId(Uuid::now_v7()), org.id, plan, state.clock.now());
    state.store.insert_consultation(&c, &actor).await?;
    let body = view(&state, &c).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/consultations/{}", c.id))],
        Json(body),
    ))
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
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| errors.push(field, format!("`{v}` is not a date in the form YYYY-MM-DD")))
        .ok()
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
                let hierarchy = consult_core::AreaHierarchy::new(state.store.list_areas().await?);
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
    list(&state, &filter, &Reader::for_actor(caller.0.as_ref()), &page).await
}

pub(crate) async fn list(
    state: &AppState,
    filter: &ConsultationFilter,
    reader: &Reader,
    page: &PageRequest,
) -> Result<Json<ListPage<ConsultationView>>, ApiError> {
    let today = state.clock.today();
    let found = state.store.list_consultations(filter, reader, today, page).await?;
    Ok(Json(ListPage {
        items: views(state, &found.items, today).await?,
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
    let today = state.clock.today();
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
    list(&state, &filter, &Reader::Public, &page).await
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
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let c = load_readable(&state, &id, &caller).await?;
    Ok((
        [(header::ETAG, format!("\"{}\"", c.version))],
        Json(view(&state, &c).await?),
    ))
}

/// Loads an activity for a write by `caller`: 401 for the public, 404 if unknown, 403 if the
/// caller's organisation does not own it.
pub(crate) async fn load_for_write(
    state: &AppState,
    id: &str,
    caller: Caller,
) -> Result<(Consultation, consult_core::Actor), ApiError> {
    let actor = caller.required()?;
    let id = parse_id(id)?;
    let c = state
        .store
        .get_consultation(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no consultation {id}")))?;
    if !actor.may_write(c.organisation_id) {
        return Err(ApiError::Forbidden(
            "officers can only change their own organisation's activities".into(),
        ));
    }
    Ok((c, actor))
}

/// RFC 7396 JSON merge patch: objects merge recursively, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(serde_json::Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(&k);
                    } else {
                        merge_patch(t.entry(k).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other,
    }
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
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<Value>,
) -> Result<Json<ConsultationView>, ApiError> {
    if !patch.is_object() {
        return Err(ApiError::field("body", "a merge patch must be a JSON object"));
    }
    let (c, actor) = load_for_write(&state, &id, caller).await?;
    check_edit(&c, &actor, state.clock.today())?;
    let mut merged = serde_json::to_value(c.plan.to_input()).map_err(|e| ApiError::Internal(e.to_string()))?;
    merge_patch(&mut merged, patch);
    let bytes = serde_json::to_vec(&merged).map_err(|e| ApiError::Internal(e.to_string()))?;
    let input: ConsultationInput = parse_json(&Bytes::from(bytes))?;
    let snapshot = state.store.register_snapshot().await?;
    let plan = ConsultationPlan::parse(input, snapshot.context())?;
    if plan.organisation() != c.plan.organisation() {
        let target = snapshot.organisations.iter().find(|o| o.slug == *plan.organisation());
        if !target.is_some_and(|o| actor.may_write(o.id)) {
            return Err(ApiError::Forbidden(
                "officers cannot move an activity to another organisation".into(),
            ));
        }
    }
    let updated = state
        .store
        .update_plan(c.id, c.version, &plan, &actor, state.clock.now())
        .await?;
    Ok(Json(view(&state, &updated).await?))
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
    Path(id): Path<String>,
    ApiJson(request): ApiJson<TransitionRequest>,
) -> Result<Json<ConsultationView>, ApiError> {
    let (c, actor) = load_for_write(&state, &id, caller).await?;
    let (today, now) = (state.clock.today(), state.clock.now());
    if request.to.as_deref() == Some(Status::ResultsPublished.as_str()) {
        // Publishing results is publishing the feedback: one mechanism, one set of rules.
        match state.store.feedback(&[c.id]).await?.remove(&c.id) {
            Some(feedback) => {
                let (updated, _) = super::feedback::save(&state, &c, &actor, feedback, true).await?;
                return Ok(Json(view(&state, &updated).await?));
            }
            None if c.status_on(today) == Status::Closed => {
                return Err(ApiError::Conflict(
                    "record the feedback first (PUT /consultations/{id}/feedback): what people said and what was done"
                        .into(),
                ));
            }
            None => {}
        }
    }
    let approving = request.to.as_deref() == Some(Status::Approved.as_str());
    let assessment = if approving {
        Some(state.overlap.assess(&state.store, &c, today).await?)
    } else {
        None
    };
    let debriefed = request.to.as_deref() == Some(Status::Evaluated.as_str())
        && state
            .store
            .evaluations(&[c.id])
            .await?
            .get(&c.id)
            .is_some_and(|e| e.0.is_some());
    let ctx = TransitionContext {
        today,
        now,
        assessment: assessment.as_ref(),
        debriefed,
    };
    let changes = plan_transition(&c, &request, &actor, &ctx)?;
    let approval = match (assessment, changes.last()) {
        (Some(assessment), Some(last)) => Some(Approval {
            at: now,
            by: actor.name.clone(),
            override_justification: last.override_justification.clone(),
            assessment,
        }),
        _ => None,
    };
    let updated = state
        .store
        .record_transition(c.id, c.version, &changes, approval.as_ref(), &actor)
        .await?;
    Ok(Json(view(&state, &updated).await?))
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
    Path(id): Path<String>,
) -> Result<Json<crate::views::Items<AuditView>>, ApiError> {
    let (c, _) = load_for_write(&state, &id, caller).await?;
    let entries = state
        .store
        .audit_log(Some(("consultation", &c.id.to_string())), 1000)
        .await?;
    Ok(Json(crate::views::Items {
        items: entries.into_iter().map(AuditView::from).collect(),
    }))
}
