//! The public engagement hub: server-rendered pages of the register for residents, working
//! without JavaScript (compile-time checked askama templates; every value escaped). Strings are
//! in [`Text`], one place to translate.

use crate::AppState;
use crate::error::ApiError;
use crate::routes::consultations::RegisterQuery;
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use consult_core::{Consultation, ConsultationId, Status};
use consult_store::{ConsultationFilter, Order, PageRequest, Reader};
use serde::Deserialize;

/// Every string the hub shows, so the hub can be translated in one place.
#[derive(Debug)]
pub struct Text {
    service_name: &'static str,
    skip_link: &'static str,
    nav_label: &'static str,
    nav_register: &'static str,
    nav_forward_plan: &'static str,
    footer: &'static str,
    home_title: &'static str,
    home_lead: &'static str,
    search_label: &'static str,
    search_button: &'static str,
    open_now: &'static str,
    closing_soon: &'static str,
    coming_up: &'static str,
    none_open: &'static str,
    none_closing: &'static str,
    none_coming: &'static str,
    register_title: &'static str,
    forward_plan_title: &'static str,
    error_summary: &'static str,
    filter_text: &'static str,
    filter_topic: &'static str,
    filter_area: &'static str,
    filter_status: &'static str,
    filter_button: &'static str,
    results: &'static str,
    none_found: &'static str,
    next_page: &'static str,
    dates: &'static str,
    level: &'static str,
    purpose: &'static str,
    decision: &'static str,
    can_change: &'static str,
    cannot_change: &'static str,
    how_to_respond: &'static str,
    respond_open: &'static str,
    respond_not_yet: &'static str,
    respond_closed: &'static str,
    checklist: &'static str,
    checklist_met: &'static str,
    checklist_override: &'static str,
    you_said_we_did: &'static str,
    you_said: &'static str,
    we_did: &'static str,
    we_did_not: &'static str,
    because: &'static str,
    documents: &'static str,
    not_found: &'static str,
    not_found_body: &'static str,
    any_status: &'static str,
}

/// The hub's English text.
pub const ENGLISH: Text = Text {
    service_name: "Have your say",
    skip_link: "Skip to main content",
    nav_label: "Main",
    nav_register: "All consultations and engagement",
    nav_forward_plan: "Forward plan",
    footer: "Consultation and engagement by the council and its partners. Your views are kept and used.",
    home_title: "Have your say",
    home_lead: "Find consultations, surveys and other ways to influence council and partner services.",
    search_label: "Search consultations",
    search_button: "Search",
    open_now: "Open now",
    closing_soon: "Closing in the next 14 days",
    coming_up: "Coming up",
    none_open: "Nothing is open at the moment.",
    none_closing: "Nothing closes in the next 14 days.",
    none_coming: "Nothing is planned yet.",
    register_title: "All consultations and engagement",
    forward_plan_title: "Forward plan",
    error_summary: "There is a problem",
    filter_text: "Words",
    filter_topic: "Topic",
    filter_area: "Area code (for example E07000199)",
    filter_status: "Status",
    filter_button: "Apply filters",
    results: "Results",
    none_found: "No consultations match these filters.",
    next_page: "Next page",
    dates: "Dates",
    level: "How you are involved",
    purpose: "Why we are asking",
    decision: "The decision it informs",
    can_change: "What can change",
    cannot_change: "What cannot change",
    how_to_respond: "How to respond",
    respond_open: "This is open: respond until",
    respond_not_yet: "This opens on",
    respond_closed: "This closed on",
    checklist: "How it meets the consultation principles",
    checklist_met: "Approved with every blocking check of the principles met.",
    checklist_override: "Approved by a coordinator with a recorded override:",
    you_said_we_did: "You said, we did",
    you_said: "You said:",
    we_did: "We did:",
    we_did_not: "We did not:",
    because: "Because:",
    documents: "Documents",
    not_found: "Page not found",
    not_found_body: "There is no published consultation at this address.",
    any_status: "Any published status",
};

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

/// A status in plain English (part of the hub's text).
fn status_text(s: Status) -> &'static str {
    match s {
        Status::Draft => "Draft",
        Status::Submitted => "Awaiting approval",
        Status::Approved => "Coming up",
        Status::Open => "Open",
        Status::Closed => "Closed",
        Status::ResultsPublished => "Results published",
        Status::Evaluated => "Results published",
        Status::Withdrawn => "Withdrawn",
    }
}

async fn cards(state: &AppState, cs: &[Consultation], today: NaiveDate) -> Result<Vec<Card>, ApiError> {
    let orgs = state.store.list_organisations().await?;
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

fn page(t: &impl Template) -> Result<Response, ApiError> {
    let body = t.render().map_err(|e| ApiError::Internal(format!("template: {e}")))?;
    Ok(Html(body).into_response())
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
    Ok(state
        .store
        .list_consultations(filter, &Reader::Public, state.clock.today(), &page)
        .await?
        .items)
}

/// The home page: what is open now, closing soon and coming up.
async fn home(State(state): State<AppState>) -> Result<Response, ApiError> {
    let today = state.clock.today();
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
    cards: Vec<Card>,
    next: Option<String>,
}

/// Filters of the register page, as a form sends them.
#[derive(Debug, Default, Deserialize)]
struct RegisterForm {
    q: Option<String>,
    topic: Option<String>,
    area: Option<String>,
    status: Option<String>,
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
    let today = state.clock.today();
    let status = form.status.clone().unwrap_or_default();
    let query = RegisterQuery {
        status: (!status.is_empty()).then(|| status.clone()),
        q: form.q.clone(),
        topic: form.topic.clone(),
        area: form.area.clone(),
        cursor: form.cursor.clone(),
        from: forward.then(|| today.to_string()),
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
            let found = state
                .store
                .list_consultations(&filter, &Reader::Public, today, &page)
                .await?;
            (Vec::new(), found.items, found.next.map(|c| c.encode()))
        }
        Err(ApiError::Invalid(e)) => (
            e.errors()
                .iter()
                .map(|x| (x.field.clone(), format!("{}: {}", x.field, x.message)))
                .collect(),
            Vec::new(),
            None,
        ),
        Err(other) => return Err(other),
    };
    errors.dedup();
    let action = if forward { "/forward-plan" } else { "/register" };
    let next = next.map(|cursor| {
        let mut params = vec![("cursor", cursor)];
        for (k, v) in [
            ("q", &form.q),
            ("topic", &form.topic),
            ("area", &form.area),
            ("status", &form.status),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                params.push((k, v.clone()));
            }
        }
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", percent(v))).collect();
        format!("{action}?{}", query.join("&"))
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
        cards: cards(state, &found, today).await?,
        next,
    })?;
    *res.status_mut() = status_code;
    Ok(res)
}

/// Percent-encodes a query value.
fn percent(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The searchable, filterable register.
async fn register(State(state): State<AppState>, Query(form): Query<RegisterForm>) -> Result<Response, ApiError> {
    register_page(&state, form, false).await
}

/// The forward plan: what is open and coming up, by opening date.
async fn forward_plan(State(state): State<AppState>, Query(form): Query<RegisterForm>) -> Result<Response, ApiError> {
    register_page(&state, form, true).await
}

/// One activity as shown to residents.
#[derive(Debug)]
struct ActivityView {
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
    accessible_formats: Option<String>,
    checklist: Option<String>,
    themes: Vec<consult_core::FeedbackItem>,
    documents: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage {
    text: &'static Text,
    a: ActivityView,
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    text: &'static Text,
}

fn not_found() -> Result<Response, ApiError> {
    let mut res = page(&NotFoundPage { text: &ENGLISH })?;
    *res.status_mut() = StatusCode::NOT_FOUND;
    Ok(res)
}

/// An activity's page: purpose, decision, what can and cannot change, how to respond and until
/// when, its level in plain English, how it met the principles, and once published, you said,
/// we did. Only published activities are shown.
async fn activity(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let Ok(cid) = id.parse::<ConsultationId>() else {
        return not_found();
    };
    let Some(c) = state.store.get_consultation(cid).await? else {
        return not_found();
    };
    let today = state.clock.today();
    let status = c.status_on(today);
    if !status.is_public() {
        return not_found();
    }
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
    let feedback = state
        .store
        .feedback(&[c.id])
        .await?
        .remove(&c.id)
        .filter(|f| f.published_on.is_some());
    let documents = state
        .store
        .documents(&[c.id])
        .await?
        .remove(&c.id)
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.id.to_string(), d.title))
        .collect();
    let organisation = state
        .store
        .list_organisations()
        .await?
        .into_iter()
        .find(|o| o.id == c.organisation_id)
        .map_or_else(|| p.organisation().to_string(), |o| o.name);
    page(&ActivityPage {
        text: t,
        a: ActivityView {
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
            accessible_formats: p.accessible_formats().map(str::to_owned),
            checklist,
            themes: feedback.map(|f| f.items).unwrap_or_default(),
            documents,
        },
    })
}

/// The hub's stylesheet (no inline styles: the CSP allows only this).
async fn stylesheet() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600")),
        ],
        include_str!("../static/hub.css"),
    )
}

/// Security headers on every hub page: no script at all, styles from this site only, no
/// framing, no referrer beyond the origin.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    res
}

/// The hub's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/register", get(register))
        .route("/forward-plan", get(forward_plan))
        .route("/activities/{id}", get(activity))
        .route("/hub.css", get(stylesheet))
        .layer(axum::middleware::from_fn(security_headers))
}
