//! Signing in and out: the password form, the second factor, an admin's enrolment, sign-out.

use super::{Staff, clear_cookie, message, see_other, session_cookie, set_cookie, signed_in, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::ClientAddr;
use crate::hub::Text;
use crate::hub::forms::{Posted, csrf_for_form, csrf_valid};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use consult_app::signin::{Enrolment, SignInStep};
use consult_core::SessionStage;

#[derive(Template)]
#[template(path = "staff/sign_in.html")]
struct SignInPage {
    text: &'static Text,
    csrf: String,
    email: String,
    errors: Vec<(String, String)>,
    notice: Option<&'static str>,
    oidc: bool,
}

impl SignInPage {
    fn has_error(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.0 == field)
    }
}

/// The client a sign-in comes from, as failures are counted (an IPv6 client by its /64).
fn client_key(client: ClientAddr) -> String {
    client
        .0
        .map_or_else(|| "unknown".to_owned(), |a| crate::rate::client_key(a).to_string())
}

async fn sign_in_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    errors: Vec<(String, String)>,
    notice: Option<&'static str>,
) -> Result<Response, ApiError> {
    let (csrf, cookie) = csrf_for_form(state, headers).await?;
    let page = SignInPage {
        text: text(),
        csrf,
        email,
        errors,
        notice,
        oidc: state.app.oidc_enabled(),
    };
    staff_page(&page, status, cookie)
}

/// `GET /staff/sign-in`: the form (or home, when already signed in).
pub(super) async fn sign_in_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, ApiError> {
    if session_cookie(&state, &headers).is_some() {
        if let Ok(_staff) = signed_in(&state, &headers).await? {
            return see_other("/staff", None);
        }
    }
    let notice = (query.as_deref() == Some("signed_out=1")).then_some("You have signed out.");
    sign_in_page(&state, &headers, StatusCode::OK, String::new(), vec![], notice).await
}

/// `POST /staff/sign-in`: checks the address and password, then goes on to the second factor,
/// its enrolment, or home, with a new session cookie.
pub(super) async fn sign_in_submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let posted = Posted(fields);
    let email = posted
        .one("email")
        .unwrap_or_default()
        .chars()
        .take(320)
        .collect::<String>();
    if !csrf_valid(&state, &headers, posted.raw("csrf")).await? {
        let notice = Some("The form had expired. Nothing was sent: sign in again.");
        return sign_in_page(&state, &headers, StatusCode::FORBIDDEN, email, vec![], notice).await;
    }
    let password = posted.raw("password").unwrap_or_default();
    let mut errors = Vec::new();
    if email.is_empty() {
        errors.push(("email".to_owned(), "Enter your e-mail address".to_owned()));
    }
    if password.is_empty() {
        errors.push(("password".to_owned(), "Enter your password".to_owned()));
    }
    if !errors.is_empty() {
        return sign_in_page(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, email, errors, None).await;
    }
    // Any session the browser held ends: a new one is made at every step (no fixation).
    if let Some(old) = session_cookie(&state, &headers) {
        state.app.sign_out(&old).await?;
    }
    match state.app.sign_in(&email, password, &client_key(client)).await? {
        SignInStep::Session(token, stage) => {
            let next = match stage {
                SessionStage::SecondFactor => "/staff/two-factor",
                SessionStage::Enrol => "/staff/enrol",
                SessionStage::SignedIn => "/staff",
            };
            see_other(next, Some(set_cookie(&state, &token)?))
        }
        SignInStep::Refused => {
            let errors = vec![(
                "email".to_owned(),
                "The e-mail address or the password is not right".to_owned(),
            )];
            sign_in_page(&state, &headers, StatusCode::UNPROCESSABLE_ENTITY, email, errors, None).await
        }
        SignInStep::LockedOut(minutes) => {
            let errors = vec![(
                "email".to_owned(),
                format!("Too many failed sign-ins. Try again in {minutes} minutes, or ask an admin."),
            )];
            sign_in_page(&state, &headers, StatusCode::TOO_MANY_REQUESTS, email, errors, None).await
        }
    }
}

#[derive(Template)]
#[template(path = "staff/code.html")]
struct CodePage {
    text: &'static Text,
    title: &'static str,
    action: &'static str,
    csrf: String,
    enrolment: Option<Enrolment>,
    errors: Vec<(String, String)>,
}

/// The session part-way through signing in at `stage`, or the way back to the sign-in page.
async fn signing_in(
    state: &AppState,
    headers: &HeaderMap,
    stage: SessionStage,
) -> Result<Result<(consult_app::signin::SessionToken, String), Response>, ApiError> {
    let back = || {
        let notice = "Sign in again: that sign-in had expired.";
        message(
            StatusCode::UNAUTHORIZED,
            "Sign in again",
            notice,
            Some("/staff/sign-in"),
        )
    };
    let Some(token) = session_cookie(state, headers) else {
        return Ok(Err(back()?));
    };
    match state.app.staff_session(&token).await? {
        Some(s) if s.stage == stage => Ok(Ok((token, s.csrf))),
        Some(s) if s.stage == SessionStage::SignedIn => Ok(Err(see_other("/staff", None)?)),
        _ => Ok(Err(back()?)),
    }
}

async fn code_page(
    state: &AppState,
    token: &consult_app::signin::SessionToken,
    stage: SessionStage,
    csrf: String,
    status: StatusCode,
    errors: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let (title, action, enrolment) = if stage == SessionStage::Enrol {
        let e = state.app.begin_enrolment(token).await?;
        ("Set up your second factor", "/staff/enrol", Some(e))
    } else {
        ("Enter your code", "/staff/two-factor", None)
    };
    let page = CodePage {
        text: text(),
        title,
        action,
        csrf,
        enrolment,
        errors,
    };
    staff_page(&page, status, None)
}

/// `GET /staff/two-factor`.
pub(super) async fn two_factor_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    match signing_in(&state, &headers, SessionStage::SecondFactor).await? {
        Ok((token, csrf)) => code_page(&state, &token, SessionStage::SecondFactor, csrf, StatusCode::OK, vec![]).await,
        Err(res) => Ok(res),
    }
}

/// `GET /staff/enrol`.
pub(super) async fn enrol_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    match signing_in(&state, &headers, SessionStage::Enrol).await? {
        Ok((token, csrf)) => code_page(&state, &token, SessionStage::Enrol, csrf, StatusCode::OK, vec![]).await,
        Err(res) => Ok(res),
    }
}

async fn code_submit(
    state: AppState,
    client: ClientAddr,
    headers: HeaderMap,
    fields: Vec<(String, String)>,
    stage: SessionStage,
) -> Result<Response, ApiError> {
    let (token, csrf) = match signing_in(&state, &headers, stage).await? {
        Ok(found) => found,
        Err(res) => return Ok(res),
    };
    let posted = Posted(fields);
    let ours = super::same_token(posted.raw("csrf"), &csrf);
    if !ours {
        let errors = vec![(
            "code".to_owned(),
            "The form had expired: enter the code again".to_owned(),
        )];
        return code_page(&state, &token, stage, csrf, StatusCode::FORBIDDEN, errors).await;
    }
    let code = posted.one("code").unwrap_or_default();
    if code.is_empty() {
        let errors = vec![("code".to_owned(), "Enter the 6-digit code".to_owned())];
        return code_page(&state, &token, stage, csrf, StatusCode::UNPROCESSABLE_ENTITY, errors).await;
    }
    let client = client_key(client);
    let step = if stage == SessionStage::Enrol {
        state.app.confirm_enrolment(&token, code, &client).await?
    } else {
        state.app.second_factor(&token, code, &client).await?
    };
    match step {
        SignInStep::Session(new, _) => see_other("/staff", Some(set_cookie(&state, &new)?)),
        SignInStep::Refused => {
            let errors = vec![(
                "code".to_owned(),
                "The code is not right: enter the code your app shows now".to_owned(),
            )];
            code_page(&state, &token, stage, csrf, StatusCode::UNPROCESSABLE_ENTITY, errors).await
        }
        SignInStep::LockedOut(minutes) => {
            let mut res = message(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many failed sign-ins",
                &format!("Try again in {minutes} minutes, or ask an admin."),
                Some("/staff/sign-in"),
            )?;
            res.headers_mut()
                .append(axum::http::header::SET_COOKIE, clear_cookie(&state));
            Ok(res)
        }
    }
}

/// `POST /staff/two-factor`.
pub(super) async fn two_factor_submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    code_submit(state, client, headers, fields, SessionStage::SecondFactor).await
}

/// `POST /staff/enrol`.
pub(super) async fn enrol_submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    code_submit(state, client, headers, fields, SessionStage::Enrol).await
}

/// `POST /staff/sign-out`: ends the session (with the form's token: no other site can sign a
/// member of staff out) and goes to the sign-in page.
pub(super) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let staff: Staff = match signed_in(&state, &headers).await? {
        Ok(staff) => staff,
        Err(res) => return Ok(res),
    };
    let posted = Posted(fields);
    if !staff.form_is_ours(posted.raw("csrf")) {
        return message(
            StatusCode::FORBIDDEN,
            "The form had expired",
            "You are still signed in. Sign out from the page again.",
            Some("/staff"),
        );
    }
    if let Some(token) = session_cookie(&state, &headers) {
        state.app.sign_out(&token).await?;
    }
    let cookie: HeaderValue = clear_cookie(&state);
    see_other("/staff/sign-in?signed_out=1", Some(cookie))
}

/// The cookie holding the state of a sign-in through the identity provider, so that only the
/// browser that began it can complete it (login forgery). Lax: the provider's return is a
/// top-level navigation from another site.
fn oidc_cookie_name(state: &AppState) -> &'static str {
    if super::over_https(state) {
        "__Host-consult_oidc"
    } else {
        "consult_oidc"
    }
}

fn oidc_cookie(state: &AppState, value: Option<&str>) -> Result<HeaderValue, ApiError> {
    let secure = if super::over_https(state) { "; Secure" } else { "" };
    let (value, age) = match value {
        Some(v) => (v, 600),
        None => ("", 0),
    };
    HeaderValue::from_str(&format!(
        "{}={value}; Path=/; Max-Age={age}; HttpOnly; SameSite=Lax{secure}",
        oidc_cookie_name(state)
    ))
    .map_err(|e| ApiError::Internal(e.to_string()))
}

/// `GET /staff/sign-in/oidc`: to the council's identity provider.
pub(super) async fn oidc_begin(State(state): State<AppState>) -> Result<Response, ApiError> {
    if !state.app.oidc_enabled() {
        return message(
            StatusCode::NOT_FOUND,
            "Not set up",
            "Signing in with a council account is not set up here. Sign in with your e-mail address and password.",
            Some("/staff/sign-in"),
        );
    }
    let begun = state.app.oidc_begin().await?;
    see_other(&begun.url, Some(oidc_cookie(&state, Some(&begun.state))?))
}

/// The provider's return's query.
#[derive(Debug, serde::Deserialize)]
pub(super) struct OidcReturn {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /staff/sign-in/oidc/callback`: the provider sends the browser back with a code (or an
/// error); a signed-in session, or the sign-in page saying it did not work.
pub(super) async fn oidc_callback(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    axum::extract::Query(back): axum::extract::Query<OidcReturn>,
) -> Result<Response, ApiError> {
    let name = oidc_cookie_name(&state);
    let expected = crate::hub::forms::cookie_values(&headers, name)
        .next()
        .map(str::to_owned);
    let step = match (&back.code, &back.state, &back.error) {
        (Some(code), Some(st), None) => {
            state
                .app
                .oidc_finish(st, expected.as_deref(), code, &client_key(client))
                .await?
        }
        _ => SignInStep::Refused,
    };
    let clear = oidc_cookie(&state, None)?;
    match step {
        SignInStep::Session(token, _) => {
            let mut res = see_other("/staff", Some(set_cookie(&state, &token)?))?;
            res.headers_mut().append(axum::http::header::SET_COOKIE, clear);
            Ok(res)
        }
        _ => {
            // The provider's own words are not shown: anyone can write them into a link.
            if let Some(e) = &back.error {
                let e: String = e.chars().take(100).collect();
                tracing::info!(error = %e, "the identity provider refused a sign-in");
            }
            let why = if back.error.is_some() {
                "The identity provider did not sign you in. Try again, or ask an admin."
            } else {
                "Your council account is not linked to a staff account here, or the sign-in expired. \
                 Try again, or ask an admin to add your account."
            };
            let errors = vec![(
                "email".to_owned(),
                format!("Signing in with your council account did not work. {why}"),
            )];
            let mut res = sign_in_page(&state, &headers, StatusCode::FORBIDDEN, String::new(), errors, None).await?;
            res.headers_mut().append(axum::http::header::SET_COOKIE, clear);
            Ok(res)
        }
    }
}
