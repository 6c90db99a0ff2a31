//! The workspace's pages: home, the activities a member of staff can see, one activity with
//! its history and the decisions they may make on it.

use super::{ActivityId, Staff, StaffForm, Who, message, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Text;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use consult_app::AppError;
use consult_app::{ConsultationFilter, Cursor, PageRequest};
use consult_core::{Actor, Consultation, ConsultationId, OrganisationId, Status, TransitionRequest, allowed_targets};
use std::collections::HashMap;

/// An activity as a list shows it.
#[derive(Debug)]
struct Item {
    id: ConsultationId,
    title: String,
    service: Option<String>,
    organisation: String,
    status: &'static str,
    opens_on: String,
    closes_on: String,
}

/// Organisation names by id.
pub(super) async fn organisation_names(state: &AppState) -> Result<HashMap<OrganisationId, String>, ApiError> {
    let snapshot = state.app.register_snapshot().await?;
    Ok(snapshot.organisations.into_iter().map(|o| (o.id, o.name)).collect())
}

fn item(c: &Consultation, names: &HashMap<OrganisationId, String>, today: chrono::NaiveDate) -> Item {
    Item {
        id: c.id,
        title: c.plan.title().to_owned(),
        service: c.plan.service().map(str::to_owned),
        organisation: names.get(&c.organisation_id).cloned().unwrap_or_default(),
        status: status_label(c.status_on(today)),
        opens_on: c.plan.opens_on().format("%-d %B %Y").to_string(),
        closes_on: c.plan.closes_on().format("%-d %B %Y").to_string(),
    }
}

/// A status as the pages name it.
fn status_label(s: Status) -> &'static str {
    match s {
        Status::Draft => "Draft",
        Status::Submitted => "Submitted",
        Status::Approved => "Approved",
        Status::Open => "Open",
        Status::Closed => "Closed",
        Status::ResultsPublished => "Results published",
        Status::Evaluated => "Evaluated",
        Status::Withdrawn => "Withdrawn",
    }
}

/// The organisation's name for the account's line, if it has one.
fn own_organisation(staff: &Staff, names: &HashMap<OrganisationId, String>) -> Option<String> {
    staff.session.user.organisation.and_then(|o| names.get(&o).cloned())
}

/// The activities a member of staff looks after: their organisation's (a service lead's
/// service's), a councillor's wards', or, for the partnership's coordinators, everyone's.
fn looked_after(actor: &Actor, c: &Consultation) -> bool {
    if actor.is_coordinator() {
        return true;
    }
    match &actor.staff {
        Some(s) if !s.reach.is_empty() => c.plan.audience().areas.iter().any(|a| s.reach.contains(a)),
        _ => actor.organisation == Some(c.organisation_id) && actor.within_service(c.plan.service()),
    }
}

#[derive(Template)]
#[template(path = "staff/home.html")]
struct HomePage {
    who: Who,
    can_create: bool,
    waiting: Vec<Item>,
    overdue: Vec<Item>,
    by_status: Vec<(&'static str, &'static str, Vec<Item>)>,
}

/// How many of each list home shows.
const HOME_LIMIT: u32 = 50;

/// `GET /staff`: what needs the member of staff: approvals waiting for them, feedback overdue,
/// and their activities by status.
pub(super) async fn home(State(state): State<AppState>, staff: Staff) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let names = organisation_names(&state).await?;
    let today = state.app.today();
    let page = PageRequest {
        limit: HOME_LIMIT,
        cursor: None,
    };
    let list = |statuses: Vec<Status>, overdue: bool| ConsultationFilter {
        statuses,
        feedback_overdue: overdue,
        ..ConsultationFilter::default()
    };
    let waiting = state
        .app
        .list_consultations(Some(actor), &list(vec![Status::Submitted], false), &page)
        .await?
        .items
        .into_iter()
        .filter(|c| actor.coordinates(c.organisation_id))
        .map(|c| item(&c, &names, today))
        .collect();
    let overdue = state
        .app
        .list_consultations(Some(actor), &list(vec![], true), &page)
        .await?
        .items
        .into_iter()
        .filter(|c| looked_after(actor, c))
        .map(|c| item(&c, &names, today))
        .collect();
    let mut by_status = Vec::new();
    for (status, heading) in [
        (Status::Draft, "Drafts"),
        (Status::Submitted, "Submitted for approval"),
        (Status::Approved, "Approved, not yet open"),
        (Status::Open, "Open now"),
        (Status::Closed, "Closed, results to publish"),
    ] {
        let found = state
            .app
            .list_consultations(Some(actor), &list(vec![status], false), &page)
            .await?;
        let items = found
            .items
            .into_iter()
            .filter(|c| looked_after(actor, c))
            .map(|c| item(&c, &names, today))
            .collect();
        by_status.push((status.as_str(), heading, items));
    }
    let page = HomePage {
        who: staff.who(own_organisation(&staff, &names)),
        can_create: !actor.read_only(),
        waiting,
        overdue,
        by_status,
    };
    staff_page(&page, StatusCode::OK, None)
}

#[derive(Template)]
#[template(path = "staff/activities.html")]
struct ActivitiesPage {
    who: Who,
    statuses: Vec<(&'static str, &'static str, bool)>,
    items: Vec<Item>,
    next: Option<String>,
}

/// The activities page's query.
#[derive(Debug, serde::Deserialize)]
pub(super) struct ActivitiesQuery {
    status: Option<String>,
    cursor: Option<String>,
}

/// `GET /staff/activities[?status=S]`: every activity the member of staff may see, newest
/// first, a page at a time.
pub(super) async fn activities(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<ActivitiesQuery>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let names = organisation_names(&state).await?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse::<Status>().ok());
    let filter = ConsultationFilter {
        statuses: status.into_iter().collect(),
        ..ConsultationFilter::default()
    };
    let page = PageRequest {
        limit: 50,
        cursor: q.cursor.as_deref().and_then(Cursor::decode),
    };
    let found = state.app.list_consultations(Some(actor), &filter, &page).await?;
    let today = state.app.today();
    let next = found.next.map(|c| {
        let mut link = format!("/staff/activities?cursor={}", c.encode());
        if let Some(s) = status {
            link.push_str(&format!("&status={}", s.as_str()));
        }
        link
    });
    let page = ActivitiesPage {
        who: staff.who(own_organisation(&staff, &names)),
        statuses: Status::ALL
            .into_iter()
            .map(|s| (s.as_str(), status_label(s), Some(s) == status))
            .collect(),
        items: found.items.iter().map(|c| item(c, &names, today)).collect(),
        next,
    };
    staff_page(&page, StatusCode::OK, None)
}

/// A decision offered on an activity's page.
#[derive(Debug)]
struct Action {
    to: &'static str,
    label: &'static str,
    reason: bool,
    reason_required: bool,
    override_allowed: bool,
}

/// One check of the principles checklist as the page shows it.
#[derive(Debug)]
struct CheckRow {
    id: String,
    anchor: String,
    check: String,
    outcome: &'static str,
    blocking: bool,
    reason: String,
    question: Option<String>,
}

/// One change in the history.
#[derive(Debug)]
struct HistoryRow {
    at: String,
    from: &'static str,
    to: &'static str,
    by: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "staff/activity.html")]
struct ActivityPage {
    text: &'static Text,
    who: Who,
    a: Item,
    level: String,
    areas: String,
    /// Who the results and documents are shared with, and what the data-protection note says.
    sharing: String,
    checklist: Option<String>,
    checks: Vec<CheckRow>,
    attestable: bool,
    editable: bool,
    changes: bool,
    actions: Vec<Action>,
    why_not: String,
    refusals: Vec<String>,
    history: Vec<HistoryRow>,
    errors: Vec<(String, String)>,
    done: Option<String>,
}

impl ActivityPage {
    fn has_error(&self, id: &str) -> bool {
        self.errors.iter().any(|e| e.0 == id)
    }

    fn has_error_for(&self, to: &str, field: &str) -> bool {
        let key = format!("{field}-{to}");
        self.errors.iter().any(|e| e.0 == key)
    }
}

/// The label of the decision moving to `to`.
fn action_label(from: Status, to: Status) -> &'static str {
    match (from, to) {
        (_, Status::Submitted) => "Submit for approval",
        (_, Status::Approved) => "Approve",
        (Status::Submitted, Status::Draft) => "Send back to draft",
        (_, Status::Closed) => "Close early",
        (_, Status::Withdrawn) => "Withdraw",
        (_, Status::Evaluated) => "Mark as evaluated",
        _ => "Change status",
    }
}

/// What the member of staff may do on `c` now, and why they may do nothing if so.
fn actions_for(actor: &Actor, c: &Consultation, from: Status, owner: &str) -> (Vec<Action>, Vec<String>) {
    let mut actions = Vec::new();
    let mut refusals = Vec::new();
    if actor.read_only() {
        refusals.push("Your account reads activities; it changes none.".to_owned());
        return (actions, refusals);
    }
    for to in allowed_targets(from) {
        if to == Status::ResultsPublished || (to == Status::Open && from == Status::Approved) {
            continue;
        }
        let coordinators = matches!(
            (from, to),
            (Status::Submitted, Status::Approved)
                | (Status::Submitted, Status::Draft)
                | (Status::Open, Status::Closed)
                | (Status::ResultsPublished, Status::Evaluated)
        );
        let allowed = if coordinators {
            actor.coordinates(c.organisation_id)
        } else {
            actor.may_change(c)
        };
        if !allowed {
            let what = match to {
                Status::Approved => "approve this activity",
                Status::Draft => "send this activity back to draft",
                Status::Closed => "close this activity early",
                Status::Evaluated => "mark this activity evaluated",
                Status::Submitted => "submit this activity",
                _ => "withdraw this activity",
            };
            refusals.push(if coordinators {
                format!("Only the partnership's coordinator or {owner}'s coordinator can {what}.")
            } else {
                format!("Only {owner}'s staff responsible for it can {what}.")
            });
            continue;
        }
        let needs_reason = !matches!(to, Status::Submitted | Status::Approved | Status::Evaluated);
        actions.push(Action {
            to: to.as_str(),
            label: action_label(from, to),
            reason: true,
            reason_required: needs_reason,
            override_allowed: to == Status::Approved && actor.is_coordinator(),
        });
    }
    (actions, refusals)
}

pub(super) async fn activity_page(
    state: &AppState,
    staff: &Staff,
    id: ConsultationId,
    status: StatusCode,
    errors: Vec<(String, String)>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let c = match state.app.readable_consultation(Some(actor), id).await {
        Ok(c) => c,
        Err(AppError::NotFound(_)) => {
            return message(
                StatusCode::NOT_FOUND,
                "Activity not found",
                "There is no activity at this address that your account can see.",
                Some("/staff"),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let names = organisation_names(state).await?;
    let today = state.app.today();
    let from = c.status_on(today);
    let a = item(&c, &names, today);
    let (actions, refusals) = actions_for(actor, &c, from, &a.organisation);
    let mut checks = Vec::new();
    let checklist = if actor.may_change(&c) {
        match state.app.assessment(actor, id).await {
            Ok(assessment) => {
                let failing = assessment.blocking_failures();
                checks = assessment
                    .checks
                    .iter()
                    .filter(|r| r.outcome != consult_core::Outcome::Pass)
                    .map(|r| CheckRow {
                        id: r.id.clone(),
                        anchor: format!("attest-{}", r.id.replace('/', "-")),
                        check: r.check.clone(),
                        outcome: match r.outcome {
                            consult_core::Outcome::Pass => "Passes",
                            consult_core::Outcome::Warn => "Warning",
                            consult_core::Outcome::Fail => "Fails",
                            consult_core::Outcome::Unanswered => "Not answered yet",
                        },
                        blocking: r.blocks_approval(),
                        reason: r.reason.clone(),
                        question: r.question.clone(),
                    })
                    .collect();
                Some(if failing.is_empty() {
                    "No blocking check fails.".to_owned()
                } else {
                    format!("{} blocking check(s) fail.", failing.len())
                })
            }
            Err(_) => None,
        }
    } else {
        None
    };
    let attestable = matches!(from, Status::Draft | Status::Submitted) && actor.may_change(&c);
    let editable = from == Status::Draft && actor.may_change(&c);
    let history = c
        .status_history
        .iter()
        .map(|h| HistoryRow {
            at: h.at.format("%-d %B %Y %H:%M").to_string(),
            from: status_label(h.from),
            to: status_label(h.to),
            by: h.by.clone(),
            reason: h
                .reason
                .iter()
                .cloned()
                .chain(h.override_justification.iter().map(|j| format!("Override: {j}")))
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    let why_not = if refusals.is_empty() {
        format!(
            "Nothing can be done to an activity that is {} now.",
            a.status.to_lowercase()
        )
    } else {
        String::new()
    };
    let page = ActivityPage {
        text: text(),
        who: staff.who(own_organisation(staff, &names)),
        level: c.plan.level().as_str().replace('_', " "),
        areas: c
            .plan
            .audience()
            .areas
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        sharing: match c.plan.data_protection() {
            Some(d) => format!(
                "{} (the data-protection note allows {}: {})",
                c.plan.results_sharing().audience(),
                d.allows.audience(),
                d.note
            ),
            None => c.plan.results_sharing().audience().to_owned(),
        },
        a,
        checklist,
        checks,
        attestable,
        editable,
        changes: actor.may_change(&c),
        actions,
        why_not,
        refusals,
        history,
        errors,
        done,
    };
    staff_page(&page, status, None)
}

/// The activity page's query: what was just done, when it came from a form.
#[derive(Debug, serde::Deserialize)]
pub(super) struct ActivityQuery {
    done: Option<String>,
}

/// `GET /staff/activities/{id}`.
pub(super) async fn activity(
    State(state): State<AppState>,
    staff: Staff,
    ActivityId(id): ActivityId,
    Query(q): Query<ActivityQuery>,
) -> Result<Response, ApiError> {
    let done = match q.done.as_deref() {
        Some("created") => {
            Some("The draft is registered. Check the principles checklist below, then submit it.".to_owned())
        }
        Some("saved") => Some("The draft is saved.".to_owned()),
        _ => None,
    };
    activity_page(&state, &staff, id, StatusCode::OK, vec![], done).await
}

/// `POST /staff/activities/{id}/status`: one decision (`to`, with its reason or override
/// justification), made by the use case the API's `POST .../status` calls; a refusal is shown
/// beside the form it came from.
pub(super) async fn change_status(
    State(state): State<AppState>,
    ActivityId(id): ActivityId,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let to_text = posted.one("to").unwrap_or_default().to_owned();
    let Ok(to) = to_text.parse::<Status>() else {
        let errors = vec![("to".to_owned(), "Choose a decision from the page".to_owned())];
        return activity_page(&state, &staff, id, StatusCode::UNPROCESSABLE_ENTITY, errors, None).await;
    };
    let request = TransitionRequest {
        to: Some(to),
        reason: posted.one("reason").map(str::to_owned),
        override_justification: posted.one("override").map(str::to_owned),
    };
    let field_of = |f: &str| {
        let f = if f.starts_with("override") {
            "override"
        } else {
            "reason"
        };
        format!("{f}-{}", to.as_str())
    };
    match state.app.transition(&staff.session.actor, id, &request).await {
        Ok(c) => {
            let done = format!(
                "Done: the activity is now {}.",
                status_label(c.status_on(state.app.today())).to_lowercase()
            );
            activity_page(&state, &staff, id, StatusCode::OK, vec![], Some(done)).await
        }
        Err(AppError::Invalid(e)) => {
            let errors = e
                .errors()
                .iter()
                .map(|f| (field_of(&f.field), f.message.clone()))
                .collect();
            activity_page(&state, &staff, id, StatusCode::UNPROCESSABLE_ENTITY, errors, None).await
        }
        Err(AppError::Forbidden(m)) => {
            let errors = vec![(field_of("reason"), m)];
            activity_page(&state, &staff, id, StatusCode::FORBIDDEN, errors, None).await
        }
        Err(AppError::Blocked { message, .. }) => {
            let field = if staff.session.actor.is_coordinator() {
                "override"
            } else {
                "reason"
            };
            let errors = vec![(field_of(field), message)];
            activity_page(&state, &staff, id, StatusCode::CONFLICT, errors, None).await
        }
        Err(AppError::Conflict(m)) => {
            let errors = vec![(
                field_of(if request.override_justification.is_some() {
                    "override"
                } else {
                    "reason"
                }),
                m,
            )];
            activity_page(&state, &staff, id, StatusCode::CONFLICT, errors, None).await
        }
        Err(AppError::NotFound(_)) => message(
            StatusCode::NOT_FOUND,
            "Activity not found",
            "There is no activity at this address that your account can see.",
            Some("/staff"),
        ),
        Err(e) => Err(e.into()),
    }
}

/// One response as the responses page shows it.
#[derive(Debug)]
struct ResponseItem {
    id: uuid::Uuid,
    received: String,
    channel: &'static str,
    entered_by: Option<String>,
    comments: Option<String>,
    answers: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "staff/responses.html")]
struct ResponsesPage {
    who: Who,
    id: ConsultationId,
    title: String,
    q: String,
    items: Vec<ResponseItem>,
    next: Option<String>,
}

/// The responses page's query.
#[derive(Debug, serde::Deserialize)]
pub(super) struct ResponsesQuery {
    q: Option<String>,
    cursor: Option<String>,
}

/// An answer as text: a choice's key, choices joined, a grid's statements with their points.
fn answer_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(answer_text).collect::<Vec<_>>().join(", "),
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", answer_text(v)))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

/// `GET /staff/activities/{id}/responses[?q=TEXT]`: an activity's responses one by one (answers,
/// comments, channel, date; never the monitoring answers), searched, a page at a time; for
/// those who may change the activity (`App::responses`, audited).
pub(super) async fn responses(
    State(state): State<AppState>,
    staff: Staff,
    ActivityId(id): ActivityId,
    Query(q): Query<ResponsesQuery>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let page = PageRequest {
        limit: 25,
        cursor: q.cursor.as_deref().and_then(Cursor::decode),
    };
    let found = match state.app.responses(actor, id, search, &page).await {
        Ok(found) => found,
        Err(AppError::NotFound(_)) => return super::not_found(),
        Err(AppError::Forbidden(m)) => {
            return message(
                StatusCode::FORBIDDEN,
                "You cannot read these responses",
                &m,
                Some("/staff"),
            );
        }
        Err(AppError::Invalid(e)) => {
            let m = e.errors().first().map(|f| f.message.clone()).unwrap_or_default();
            return message(
                StatusCode::UNPROCESSABLE_ENTITY,
                "That search cannot be made",
                &m,
                Some(&format!("/staff/activities/{id}/responses")),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let c = state.app.readable_consultation(Some(actor), id).await?;
    let texts: HashMap<String, String> = match state.app.questionnaire(Some(actor), id).await {
        Ok(q) => q.questions().map(|x| (x.key.clone(), x.text.clone())).collect(),
        Err(_) => HashMap::new(),
    };
    let names = organisation_names(&state).await?;
    let next = found.next.map(|cursor| {
        let mut link = format!("/staff/activities/{id}/responses?cursor={}", cursor.encode());
        if let Some(s) = search {
            link.push_str("&q=");
            link.push_str(&crate::hub::forms::percent(s));
        }
        link
    });
    let page = ResponsesPage {
        who: staff.who(own_organisation(&staff, &names)),
        id,
        title: c.plan.title().to_owned(),
        q: search.unwrap_or_default().to_owned(),
        items: found
            .items
            .into_iter()
            .map(|r| ResponseItem {
                id: r.id,
                received: r.received_at.format("%-d %B %Y %H:%M").to_string(),
                channel: r.channel.as_str(),
                entered_by: r.entered_by,
                comments: r.comments,
                answers: r
                    .answers
                    .iter()
                    .map(|(k, v)| (texts.get(k).cloned().unwrap_or_else(|| k.clone()), answer_text(v)))
                    .collect(),
            })
            .collect(),
        next,
    };
    staff_page(&page, StatusCode::OK, None)
}
