//! The staff workspace (`/staff`): server-rendered pages for officers, coordinators, councillors
//! and the rest of the partnership's roles, working without JavaScript, with the hub's GOV.UK
//! patterns and security headers. Handlers stay thin: the session is consult-app's
//! ([`consult_app::signin`]), who may do what is consult-core's ([`consult_core::Actor`]).
//!
//! - `session`: the session cookie, signing in (password, second factor, enrolment, OpenID
//!   Connect) and out;
//! - `pages`: home, the activities a member of staff can see, one activity and its decisions,
//!   reading responses;
//! - `drafts`: registering and editing a draft, attestations;
//! - `builder`, `keying`, `coding`, `feedback`: the questionnaire, offline responses, the
//!   codeframe and codes, "you said, we did";
//! - `invitations`: the invitation plan as counts, sending it, and the activity's outbox;
//! - `admin`: staff accounts.
//!
//! A session's cookie is `__Host-consult_session`, `Secure`, `HttpOnly`, `SameSite=Lax` when the
//! server is reached over HTTPS (`--public-url https://...`), and `consult_session` without
//! `Secure` over plain HTTP (local use). Every form of a session carries its anti-forgery token;
//! the sign-in form, before there is a session, the hub's double-submit token.

mod admin;
mod builder;
mod coding;
mod drafts;
mod feedback;
mod invitations;
mod keying;
mod pages;
mod session;

use crate::AppState;
use crate::error::ApiError;
use crate::hub::ENGLISH;
use crate::hub::Text;
use askama::Template;
use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use consult_app::signin::{SessionToken, StaffSession};
use consult_core::{SessionStage, StaffRole};

/// A staff page's response: never stored by a cache, and varying by cookie.
fn staff_page(t: &impl Template, status: StatusCode, cookie: Option<HeaderValue>) -> Result<Response, ApiError> {
    let body = t.render().map_err(|e| ApiError::Internal(format!("template: {e}")))?;
    let mut res = Html(body).into_response();
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::VARY, HeaderValue::from_static("cookie"));
    if let Some(cookie) = cookie {
        h.append(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

/// A 303 to `location`, setting `cookie` if given.
fn see_other(location: &str, cookie: Option<HeaderValue>) -> Result<Response, ApiError> {
    let mut res = StatusCode::SEE_OTHER.into_response();
    let h = res.headers_mut();
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(location).map_err(|e| ApiError::Internal(e.to_string()))?,
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = cookie {
        h.append(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

use crate::hub::forms::over_https;

/// The session cookie's name for this deployment.
fn cookie_name(state: &AppState) -> &'static str {
    if over_https(state) {
        "__Host-consult_session"
    } else {
        "consult_session"
    }
}

/// The session the browser's cookie names, if it sent one.
fn session_cookie(state: &AppState, headers: &HeaderMap) -> Option<SessionToken> {
    crate::hub::forms::cookie_values(headers, cookie_name(state)).find_map(SessionToken::parse)
}

/// The cookie holding a session: for this browsing session only (the server ends it after 30
/// idle minutes or 12 hours), never sent cross-site with a post, unreadable by script.
fn set_cookie(state: &AppState, token: &SessionToken) -> Result<HeaderValue, ApiError> {
    let secure = if over_https(state) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
        cookie_name(state),
        token.as_str()
    ))
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The header that removes the session cookie.
fn clear_cookie(state: &AppState) -> HeaderValue {
    let secure = if over_https(state) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
        cookie_name(state)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("consult_session=; Path=/; Max-Age=0"))
}

/// Who is signed in, as the pages show them.
#[derive(Debug)]
struct Who {
    name: String,
    role: &'static str,
    role_label: &'static str,
    scope: Option<String>,
    csrf: String,
    decides: bool,
}

/// A role as a sentence names it.
fn role_label(role: StaffRole) -> &'static str {
    match role {
        StaffRole::Admin => "admin",
        StaffRole::Coordinator => "partnership coordinator",
        StaffRole::OrganisationCoordinator => "organisation coordinator",
        StaffRole::ServiceLead => "service lead",
        StaffRole::Officer => "officer",
        StaffRole::Councillor => "councillor",
        StaffRole::Viewer => "viewer",
    }
}

/// The signed-in member of staff of a request.
#[derive(Debug)]
pub(super) struct Staff {
    session: StaffSession,
}

impl Staff {
    fn who(&self, organisation: Option<String>) -> Who {
        let u = &self.session.user;
        let scope = match (&u.service, organisation) {
            (Some(s), Some(o)) => Some(format!("{s}, {o}")),
            (None, Some(o)) => Some(o),
            _ if !u.wards.is_empty() => Some(format!(
                "wards {}",
                u.wards.iter().map(|w| w.as_str()).collect::<Vec<_>>().join(", ")
            )),
            _ => None,
        };
        Who {
            name: u.name.clone(),
            role: u.role.as_str(),
            role_label: role_label(u.role),
            scope,
            csrf: self.session.csrf.clone(),
            decides: matches!(
                u.role,
                StaffRole::Admin | StaffRole::Coordinator | StaffRole::OrganisationCoordinator
            ),
        }
    }

    /// True when a posted form carries this session's anti-forgery token.
    fn form_is_ours(&self, posted: Option<&str>) -> bool {
        same_token(posted, &self.session.csrf)
    }
}

/// True when `posted` is `ours` (compared in constant time).
fn same_token(posted: Option<&str>, ours: &str) -> bool {
    let ours = ours.as_bytes();
    posted.is_some_and(|p| p.len() == ours.len() && p.bytes().zip(ours).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0)
}

impl axum::extract::FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    /// The signed-in member of staff; else the way to sign in (a page part-way through signing
    /// in goes back to its step).
    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        match signed_in(state, &parts.headers).await {
            Ok(Ok(staff)) => Ok(staff),
            Ok(Err(res)) => Err(res),
            Err(e) => Err(e.into_response()),
        }
    }
}

/// The activity a workspace address names (`/staff/activities/{id}/...`); anything that is not
/// an activity's id is the not-found page.
#[derive(Debug, Clone, Copy)]
pub(super) struct ActivityId(pub(super) consult_core::ConsultationId);

impl axum::extract::FromRequestParts<AppState> for ActivityId {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Response> {
        let not_found = || not_found().unwrap_or_else(IntoResponse::into_response);
        let axum::extract::Path(params) =
            axum::extract::Path::<Vec<(String, String)>>::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found())?;
        params
            .iter()
            .find(|(k, _)| k == "id")
            .and_then(|(_, v)| v.parse().ok())
            .map(ActivityId)
            .ok_or_else(not_found)
    }
}

/// A form posted in the workspace by a signed-in member of staff, its session's anti-forgery
/// token checked: a forged or expired one is refused (403) before anything is read or done.
pub(super) struct StaffForm {
    pub(super) staff: Staff,
    pub(super) posted: crate::hub::forms::Posted,
}

impl std::fmt::Debug for StaffForm {
    // What was posted may hold anything typed: it is not printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffForm")
            .field("staff", &self.staff)
            .finish_non_exhaustive()
    }
}

impl axum::extract::FromRequest<AppState> for StaffForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        use axum::extract::FromRequestParts as _;
        let (mut parts, body) = req.into_parts();
        let staff = Staff::from_request_parts(&mut parts, state).await?;
        let req = axum::extract::Request::from_parts(parts, body);
        let axum::Form(fields) = axum::Form::<Vec<(String, String)>>::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let posted = crate::hub::forms::Posted(fields);
        if !staff.form_is_ours(posted.raw("csrf")) {
            return Err(expired("/staff").unwrap_or_else(IntoResponse::into_response));
        }
        Ok(StaffForm { staff, posted })
    }
}

/// The signed-in member of staff, or the response that sends the browser to sign in (removing
/// a cookie that names no live session).
async fn signed_in(state: &AppState, headers: &HeaderMap) -> Result<Result<Staff, Response>, ApiError> {
    let token = session_cookie(state, headers);
    let session = match &token {
        Some(t) => state.app.staff_session(t).await?,
        None => None,
    };
    match session {
        Some(session) if session.stage == SessionStage::SignedIn => Ok(Ok(Staff { session })),
        // Part-way through signing in: back to the step awaited.
        Some(session) if session.stage == SessionStage::SecondFactor => Ok(Err(see_other("/staff/two-factor", None)?)),
        Some(_) => Ok(Err(see_other("/staff/enrol", None)?)),
        None => {
            let cookie = token.map(|_| clear_cookie(state));
            Ok(Err(see_other("/staff/sign-in", cookie)?))
        }
    }
}

/// A page saying something went wrong or was refused, with a way on.
#[derive(Template)]
#[template(path = "staff/message.html")]
struct MessagePage {
    title: &'static str,
    body: String,
    back: Option<String>,
}

fn message(status: StatusCode, title: &'static str, body: &str, back: Option<&str>) -> Result<Response, ApiError> {
    staff_page(
        &MessagePage {
            title,
            body: body.to_owned(),
            back: back.map(str::to_owned),
        },
        status,
        None,
    )
}

/// The page for a form posted without its session's token (expired or forged): nothing done.
fn expired(back: &str) -> Result<Response, ApiError> {
    message(
        StatusCode::FORBIDDEN,
        "The form had expired",
        "Nothing was changed. Go back and try again.",
        Some(back),
    )
}

/// The page for an activity that is not there (or not for this account).
fn not_found() -> Result<Response, ApiError> {
    message(
        StatusCode::NOT_FOUND,
        "Activity not found",
        "There is no activity at this address that your account can see.",
        Some("/staff"),
    )
}

/// Every route of the workspace (method, path) as [`router`] serves it: the authorisation matrix
/// (tests/e2e/workspace.rs) tries each with every role and with no one signed in, so a page
/// added here is checked for every role.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/staff"),
    ("GET", "/staff/activities"),
    ("GET", "/staff/activities/new"),
    ("POST", "/staff/activities/new"),
    ("GET", "/staff/activities/{id}"),
    ("GET", "/staff/activities/{id}/edit"),
    ("POST", "/staff/activities/{id}/edit"),
    ("POST", "/staff/activities/{id}/attestations"),
    ("GET", "/staff/activities/{id}/questionnaire"),
    ("POST", "/staff/activities/{id}/questionnaire"),
    ("GET", "/staff/activities/{id}/responses"),
    ("GET", "/staff/activities/{id}/responses/new"),
    ("POST", "/staff/activities/{id}/responses/new"),
    ("GET", "/staff/activities/{id}/coding"),
    ("POST", "/staff/activities/{id}/coding"),
    ("POST", "/staff/activities/{id}/coding/themes"),
    ("POST", "/staff/activities/{id}/coding/suggestions"),
    ("GET", "/staff/activities/{id}/feedback"),
    ("POST", "/staff/activities/{id}/feedback"),
    ("POST", "/staff/activities/{id}/status"),
    ("GET", "/staff/activities/{id}/invitations"),
    ("POST", "/staff/activities/{id}/invitations"),
    ("GET", "/staff/admin/users"),
    ("POST", "/staff/admin/users"),
    ("POST", "/staff/admin/users/{id}/{action}"),
    ("GET", "/staff/sign-in"),
    ("POST", "/staff/sign-in"),
    ("GET", "/staff/two-factor"),
    ("POST", "/staff/two-factor"),
    ("GET", "/staff/enrol"),
    ("POST", "/staff/enrol"),
    ("GET", "/staff/sign-in/oidc"),
    ("GET", "/staff/sign-in/oidc/callback"),
    ("POST", "/staff/sign-out"),
];

/// The activity `staff` may change, or the page saying it is not there (or not for them) or why
/// they may not (`doing`: what they came to do, "change this questionnaire").
async fn changeable(
    state: &AppState,
    staff: &Staff,
    id: consult_core::ConsultationId,
    doing: &str,
) -> Result<Result<consult_core::Consultation, Response>, ApiError> {
    match state.app.writable_consultation(&staff.session.actor, id).await {
        Ok(c) => Ok(Ok(c)),
        Err(consult_app::AppError::NotFound(_)) => Ok(Err(not_found()?)),
        Err(consult_app::AppError::Forbidden(m)) => Ok(Err(message(
            StatusCode::FORBIDDEN,
            "Your account cannot do this",
            &format!("You cannot {doing}: {m}."),
            Some(&format!("/staff/activities/{id}")),
        )?)),
        Err(e) => Err(e.into()),
    }
}

/// What a use case found, or `None` where it found nothing (an activity with no questionnaire,
/// no feedback yet).
fn found<T>(r: consult_app::AppResult<T>) -> Result<Option<T>, ApiError> {
    match r {
        Ok(t) => Ok(Some(t)),
        Err(consult_app::AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Who a page names as signed in, with their organisation's name.
async fn who(state: &AppState, staff: &Staff) -> Result<Who, ApiError> {
    let names = pages::organisation_names(state).await?;
    Ok(staff.who(staff.session.user.organisation.and_then(|o| names.get(&o).cloned())))
}

/// The workspace's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/staff", get(pages::home))
        .route("/staff/activities", get(pages::activities))
        .route("/staff/activities/new", get(drafts::new_form).post(drafts::new_submit))
        .route("/staff/activities/{id}", get(pages::activity))
        .route(
            "/staff/activities/{id}/edit",
            get(drafts::edit_form).post(drafts::edit_submit),
        )
        .route("/staff/activities/{id}/attestations", post(drafts::attest))
        .route("/staff/activities/{id}/responses", get(pages::responses))
        .route(
            "/staff/activities/{id}/questionnaire",
            get(builder::page).post(builder::change),
        )
        .route(
            "/staff/activities/{id}/responses/new",
            get(keying::form).post(keying::submit),
        )
        .route("/staff/activities/{id}/coding", get(coding::page).post(coding::code))
        .route("/staff/activities/{id}/coding/themes", post(coding::add_theme))
        .route("/staff/activities/{id}/coding/suggestions", post(coding::decide))
        .route(
            "/staff/activities/{id}/feedback",
            get(feedback::form).post(feedback::submit),
        )
        .route("/staff/activities/{id}/status", post(pages::change_status))
        .route(
            "/staff/activities/{id}/invitations",
            get(invitations::page).post(invitations::send),
        )
        .route("/staff/admin/users", get(admin::list).post(admin::add))
        .route("/staff/admin/users/{id}/{action}", post(admin::set_disabled))
        .route(
            "/staff/sign-in",
            get(session::sign_in_form).post(session::sign_in_submit),
        )
        .route(
            "/staff/two-factor",
            get(session::two_factor_form).post(session::two_factor_submit),
        )
        .route("/staff/enrol", get(session::enrol_form).post(session::enrol_submit))
        .route("/staff/sign-in/oidc", get(session::oidc_begin))
        .route("/staff/sign-in/oidc/callback", get(session::oidc_callback))
        .route("/staff/sign-out", post(session::sign_out))
}

/// The text the shared error summary uses.
fn text() -> &'static Text {
    &ENGLISH
}
