//! The public engagement hub: server-rendered pages of the register for residents, working
//! without JavaScript (compile-time checked askama templates; every value escaped). Strings are
//! in [`Text`], one place to translate.
//!
//! - `text`: every string the hub shows ([`Text`], [`ENGLISH`]);
//! - `forms`: what the forms share: the anti-forgery token, reading a post, refusals, messages;
//! - `register`: the home page, the register, the forward plan and an activity's page;
//! - `respond`: the response form and the remark form of an activity;
//! - `survey`: answering an activity's questionnaire, page by page, and its quick poll;
//! - `residents`: registering interests and managing one's registration;
//! - `results`: the results library, an activity's answers per question and the annual review;
//! - here: the routes, the stylesheet and the security headers (CSP) on every hub page.

pub(crate) mod forms;
mod register;
mod residents;
mod respond;
mod results;
mod survey;
mod text;

pub use text::{ENGLISH, Text};

use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use consult_core::{Consultation, ConsultationId};

/// A rendered page (200).
fn page(t: &impl Template) -> Result<Response, ApiError> {
    let body = t.render().map_err(|e| ApiError::Internal(format!("template: {e}")))?;
    Ok(Html(body).into_response())
}

/// The page for an address that shows nothing.
#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFoundPage {
    text: &'static Text,
}

/// The not-found page (404).
fn not_found() -> Result<Response, ApiError> {
    let mut res = page(&NotFoundPage { text: &ENGLISH })?;
    *res.status_mut() = StatusCode::NOT_FOUND;
    Ok(res)
}

/// The page for an address whose query string the page refuses.
#[derive(Template)]
#[template(path = "bad_address.html")]
struct BadAddressPage {
    text: &'static Text,
    detail: String,
    path: String,
}

/// The hub's check of query strings ([`crate::query`]): a parameter a page does not know, or a
/// value with control characters, is a 400 page naming it, with a link to the page without its
/// query, never silently ignored (an anonymous page with made-up parameters would bypass the
/// public cache).
async fn query_layer(
    matched: Option<axum::extract::MatchedPath>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = matched.as_ref().map_or("", axum::extract::MatchedPath::as_str);
    let known = crate::query::HUB_QUERIES
        .iter()
        .find(|(page, _)| *page == route)
        .map_or(&[][..], |(_, names)| *names);
    match crate::query::check(req.uri(), known, None) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            let page = BadAddressPage {
                text: &ENGLISH,
                detail: refusal.message(),
                path: req.uri().path().to_owned(),
            };
            match crate::hub::page(&page) {
                Ok(mut res) => {
                    *res.status_mut() = StatusCode::BAD_REQUEST;
                    res
                }
                Err(e) => e.into_response(),
            }
        }
    }
}

/// The activity at an address, when the public may see it.
async fn public_activity(state: &AppState, id: &str) -> Result<Option<Consultation>, ApiError> {
    let Ok(cid) = id.parse::<ConsultationId>() else {
        return Ok(None);
    };
    match state.app.readable_consultation(None, cid).await {
        Ok(c) => Ok(Some(c)),
        Err(consult_app::AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
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
        include_str!("../../static/hub.css"),
    )
}

/// Security headers on every hub page: no script at all, styles from this site only, no
/// framing, no referrer beyond the origin.
async fn security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    secure(res.headers_mut());
    res
}

/// The hub's security headers on any HTML page of the server (the API's reports with
/// `format=html` too); other responses are left as they are.
pub async fn html_security_headers(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if html {
        secure(res.headers_mut());
    }
    res
}

/// Sets the hub's security headers.
fn secure(h: &mut axum::http::HeaderMap) {
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
}

/// The hub's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(register::home))
        .route("/register", get(register::register))
        .route("/forward-plan", get(register::forward_plan))
        .route("/activities/{id}", get(register::activity))
        .route("/activities/{id}/results", get(results::activity_answers))
        .route(
            "/activities/{id}/respond",
            get(respond::respond_form).post(respond::respond_submit),
        )
        .route(
            "/activities/{id}/remark",
            get(respond::remark_form).post(respond::remark_submit),
        )
        .route("/results", get(results::results))
        .route("/annual-review", get(results::annual_review_now))
        .route("/annual-review/{year}", get(results::annual_review))
        .route(
            "/register-interests",
            get(residents::interests_form).post(residents::interests_submit),
        )
        .route(
            "/verify-registration",
            get(residents::verify_form).post(residents::verify_submit),
        )
        .route(
            "/my-registration",
            get(residents::manage_form).post(residents::manage_submit),
        )
        .route(
            "/unsubscribe/{resident}/{token}",
            get(residents::unsubscribe_form).post(residents::unsubscribe_submit),
        )
        .route(
            "/unsubscribe/staff/{user}/{kind}/{token}",
            get(residents::staff_unsubscribe_form).post(residents::staff_unsubscribe_submit),
        )
        .route("/hub.css", get(stylesheet))
        .route_layer(axum::middleware::from_fn(query_layer))
        .layer(axum::middleware::from_fn(security_headers))
}
