//! The register as residents read it: the home page, the searchable register, the forward plan
//! and an activity's page.

use super::forms::{field_error, form_page, next_link};
use super::survey::PollView;
use super::text::{ENGLISH, Text, status_text};
use super::{not_found, page, public_activity};
use crate::AppState;
use crate::error::ApiError;
use crate::routes::consultations::RegisterQuery;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use consult_app::{ConsultationFilter, Order, PageRequest};
use consult_core::{Consultation, Status};
use serde::Deserialize;

/// An activity in a list.
#[derive(Debug)]
struct Card {
    id: String,
    title: String,
    organisation: String,
    summary: Option<String>,
    status: &'static str,
    level: &'static str,
    opens_on: NaiveDate,
    closes_on: NaiveDate,
}

async fn cards(state: &AppState, cs: &[Consultation], today: NaiveDate) -> Result<Vec<Card>, ApiError> {
    let orgs = state.app.list_organisations().await?;
    Ok(cs
        .iter()
        .map(|c| Card {
            id: c.id.to_string(),
            title: c.plan.title().to_owned(),
            organisation: orgs
                .iter()
                .find(|o| o.id == c.organisation_id)
                .map_or_else(|| c.plan.organisation().to_string(), |o| o.name.clone()),
            summary: c.plan.summary().map(str::to_owned),
            status: status_text(c.status_on(today)),
            level: c.plan.level().plain_english(),
            opens_on: c.plan.opens_on(),
            closes_on: c.plan.closes_on(),
        })
        .collect())
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    text: &'static Text,
    open: Vec<Card>,
    closing: Vec<Card>,
    upcoming: Vec<Card>,
}

async fn list(state: &AppState, filter: &ConsultationFilter, limit: u32) -> Result<Vec<Consultation>, ApiError> {
    let page = PageRequest { limit, cursor: None };
    Ok(state.app.list_consultations(None, filter, &page).await?.items)
}

/// The home page: what is open now, closing soon and coming up.
pub(super) async fn home(State(state): State<AppState>) -> Result<Response, ApiError> {
    let today = state.app.today();
    let open = list(
        &state,
        &ConsultationFilter {
            statuses: vec![Status::Open],
            order: Order::ByOpening,
            ..Default::default()
        },
        200,
    )
    .await?;
    let soon = today + chrono::Duration::days(14);
    let closing: Vec<Consultation> = open.iter().filter(|c| c.plan.closes_on() <= soon).cloned().collect();
    let upcoming = list(
        &state,
        &ConsultationFilter {
            statuses: vec![Status::Approved],
            order: Order::ByOpening,
            ..Default::default()
        },
        10,
    )
    .await?;
    page(&HomePage {
        text: &ENGLISH,
        open: cards(&state, &open, today).await?,
        closing: cards(&state, &closing, today).await?,
        upcoming: cards(&state, &upcoming, today).await?,
    })
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    text: &'static Text,
    heading: &'static str,
    action: &'static str,
    errors: Vec<(String, String)>,
    q: String,
    topic: String,
    area: String,
    status: String,
    statuses: Vec<(&'static str, &'static str)>,
    service: String,
    services: Vec<String>,
    level: String,
    levels: Vec<(&'static str, &'static str)>,
    from: String,
    to: String,
    cards: Vec<Card>,
    next: Option<String>,
}

/// Filters of the register page, as a form sends them.
#[derive(Debug, Default, Deserialize)]
pub(super) struct RegisterForm {
    q: Option<String>,
    topic: Option<String>,
    area: Option<String>,
    status: Option<String>,
    service: Option<String>,
    level: Option<String>,
    from: Option<String>,
    to: Option<String>,
    cursor: Option<String>,
}

/// The statuses a resident can filter by, with their labels.
fn statuses(t: &Text) -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("", t.any_status)];
    for s in [Status::Open, Status::Approved, Status::Closed, Status::ResultsPublished] {
        out.push((s.as_str(), status_text(s)));
    }
    out
}

async fn register_page(state: &AppState, form: RegisterForm, forward: bool) -> Result<Response, ApiError> {
    let today = state.app.today();
    let status = form.status.clone().unwrap_or_default();
    let given = |v: &Option<String>| v.clone().filter(|v| !v.trim().is_empty());
    let query = RegisterQuery {
        status: (!status.is_empty()).then(|| status.clone()),
        q: form.q.clone(),
        topic: form.topic.clone(),
        area: form.area.clone(),
        service: given(&form.service),
        level: given(&form.level),
        cursor: form.cursor.clone(),
        // The forward plan starts today unless asked to start later.
        from: given(&form.from).or_else(|| forward.then(|| today.to_string())),
        to: given(&form.to),
        ..Default::default()
    };
    let order = if forward {
        Order::ByOpening
    } else {
        Order::ByRegistration
    };
    let (mut errors, found, next) = match crate::routes::consultations::parse_register_query(state, query, order).await
    {
        Ok((mut filter, page)) => {
            if forward && filter.statuses.is_empty() {
                filter.statuses = vec![Status::Approved, Status::Open];
            }
            let found = state.app.list_consultations(None, &filter, &page).await?;
            (Vec::new(), found.items, found.next.map(|c| c.encode()))
        }
        Err(ApiError::Invalid(e)) => (e.errors().iter().map(field_error).collect(), Vec::new(), None),
        Err(other) => return Err(other),
    };
    errors.dedup();
    let mut services: Vec<String> = state
        .app
        .list_organisations()
        .await?
        .into_iter()
        .flat_map(|o| o.services)
        .collect();
    services.sort_unstable_by_key(|s| s.to_lowercase());
    services.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
    let action = if forward { "/forward-plan" } else { "/register" };
    let next = next.map(|cursor| {
        next_link(
            action,
            cursor,
            &[
                ("q", &form.q),
                ("topic", &form.topic),
                ("area", &form.area),
                ("status", &form.status),
                ("service", &form.service),
                ("level", &form.level),
                ("from", &form.from),
                ("to", &form.to),
            ],
        )
    });
    let status_code = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut res = page(&RegisterPage {
        text: &ENGLISH,
        heading: if forward {
            ENGLISH.forward_plan_title
        } else {
            ENGLISH.register_title
        },
        action,
        errors,
        q: form.q.unwrap_or_default(),
        topic: form.topic.unwrap_or_default(),
        area: form.area.unwrap_or_default(),
        status,
        statuses: statuses(&ENGLISH),
        service: form.service.unwrap_or_default(),
        services,
        level: form.level.unwrap_or_default(),
        levels: std::iter::once(("", ENGLISH.any_level))
            .chain(consult_core::InvolvementLevel::ALL.map(|l| (l.as_str(), l.label())))
            .collect(),
        from: form.from.unwrap_or_default(),
        to: form.to.unwrap_or_default(),
        cards: cards(state, &found, today).await?,
        next,
    })?;
    *res.status_mut() = status_code;
    Ok(res)
}

/// The searchable, filterable register.
pub(super) async fn register(
    State(state): State<AppState>,
    Query(form): Query<RegisterForm>,
) -> Result<Response, ApiError> {
    register_page(&state, form, false).await
}

/// The forward plan: what is open and coming up, by opening date.
pub(super) async fn forward_plan(
    State(state): State<AppState>,
    Query(form): Query<RegisterForm>,
) -> Result<Response, ApiError> {
    register_page(&state, form, true).await
}

/// One activity as shown to residents.
#[derive(Debug)]
struct ActivityView {
    id: String,
    title: String,
    organisation: String,
    service: Option<String>,
    summary: Option<String>,
    purpose: Option<String>,
    decision: Option<String>,
    status: &'static str,
    level: &'static str,
    opens_on: NaiveDate,
    closes_on: NaiveDate,
    can_change: Vec<String>,
    cannot_change: Vec<String>,
    how_to_respond: String,
    respond_link: Option<String>,
    remark_link: String,
    accessible_formats: Option<String>,
    checklist: Option<String>,
    themes: Vec<consult_core::FeedbackItem>,
    documents: Vec<(String, String)>,
    /// Once results are published, the page of what people answered to each question.
    answers_link: Option<String>,
    /// Who the results and documents are shared with, when not everyone.
    shared_only: Option<&'static str>,
    /// The activity's data-protection note.
    data_protection: Option<String>,
    /// A closed quick poll's published result: its chart and table, every value escaped by
    /// `analysis_sections`.
    poll_results: Option<String>,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    text: &'static Text,
    a: ActivityView,
    poll: Option<PollView>,
}

/// An activity's page: purpose, decision, what can and cannot change, how to respond and until
/// when, its level in plain English, how it met the principles, and once published, you said,
/// we did. Only published activities are shown. An open quick poll is answered on the page itself
/// (then the page holds an anti-forgery token, so it is not cached).
pub(super) async fn activity(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(c) = public_activity(&state, &id).await? else {
        return not_found();
    };
    let status = c.status_on(state.app.today());
    let p = &c.plan;
    let t = &ENGLISH;
    let how_to_respond = match status {
        Status::Open => format!("{} {}.", t.respond_open, p.closes_on()),
        Status::Approved => format!("{} {}.", t.respond_not_yet, p.opens_on()),
        _ => format!("{} {}.", t.respond_closed, p.closes_on()),
    };
    let checklist = c.approval.as_ref().map(|a| match &a.override_justification {
        None => t.checklist_met.to_owned(),
        Some(j) => format!("{} {j}", t.checklist_override),
    });
    // The public sees published feedback only.
    let feedback = match state.app.feedback(None, c.id).await {
        Ok((_, f)) => Some(f).filter(|f| f.published_on.is_some()),
        Err(consult_app::AppError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    // Documents the public may see; none when they are shared with staff only (the page says
    // with whom).
    let documents = match state.app.documents(None, c.id).await {
        Ok(docs) => docs.into_iter().map(|d| (d.id.to_string(), d.title)).collect(),
        Err(consult_app::AppError::Unauthenticated(_)) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let organisation = state
        .app
        .list_organisations()
        .await?
        .into_iter()
        .find(|o| o.id == c.organisation_id)
        .map_or_else(|| p.organisation().to_string(), |o| o.name);
    // Once results are published: a link to what people answered, or a quick poll's result on
    // the page itself (only a poll's analysis is counted here: the page of a large survey stays
    // cheap, its analysis is counted on its own page).
    let questionnaire = match status {
        Status::ResultsPublished | Status::Evaluated => match state.app.questionnaire(None, c.id).await {
            Ok(q) => Some(q),
            Err(consult_app::AppError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        _ => None,
    };
    let poll_results = match &questionnaire {
        Some(q) if q.quick_poll().is_some() => super::results::public_answers(&state, c.id)
            .await?
            .map(|(a, q)| consult_app::analysis_render::analysis_sections(&a, Some(&q), 3, &t.analysis)),
        _ => None,
    };
    let answers_link = questionnaire
        .filter(|q| q.quick_poll().is_none() && c.results_shared_with(None))
        .map(|_| format!("/activities/{}/results", c.id));
    let shared_only = match p.results_sharing() {
        consult_core::Sharing::Public => None,
        consult_core::Sharing::Partnership => Some(t.shared_partnership),
        consult_core::Sharing::Organisation => Some(t.shared_organisation),
    };
    let (poll, cookie) = match super::survey::poll_view(&state, &c, &headers).await? {
        Some((poll, cookie)) => (Some(poll), cookie),
        None => (None, None),
    };
    let view = ActivityPage {
        text: t,
        a: ActivityView {
            id: c.id.to_string(),
            title: p.title().to_owned(),
            organisation,
            service: p.service().map(str::to_owned),
            summary: p.summary().map(str::to_owned),
            purpose: p.purpose().map(str::to_owned),
            decision: p.decision().map(str::to_owned),
            status: status_text(status),
            level: p.level().plain_english(),
            opens_on: p.opens_on(),
            closes_on: p.closes_on(),
            can_change: p.can_change().to_vec(),
            cannot_change: p.cannot_change().to_vec(),
            how_to_respond,
            respond_link: (status == Status::Open && poll.is_none()).then(|| format!("/activities/{}/respond", c.id)),
            remark_link: format!("/activities/{}/remark", c.id),
            accessible_formats: p.accessible_formats().map(str::to_owned),
            checklist,
            themes: feedback.map(|f| f.items).unwrap_or_default(),
            documents,
            answers_link,
            shared_only,
            data_protection: p.data_protection().map(|d| d.note.clone()),
            poll_results,
        },
        poll,
    };
    if view.poll.is_some() {
        form_page(&view, StatusCode::OK, cookie)
    } else {
        page(&view)
    }
}
