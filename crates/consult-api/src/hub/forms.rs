//! What the hub's forms share: the anti-forgery token by double submit (a cookie the form
//! repeats), reading a posted form, refusing a post (forged or over the limit), message pages,
//! and the error summary and paging links of its lists.

use super::text::{ENGLISH, Text};
use super::{not_found, page, public_activity};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use consult_core::Consultation;

/// The cookie that holds a browser's anti-forgery value, over plain HTTP (local use).
const CSRF_COOKIE: &str = "consult_csrf";

/// The same cookie over HTTPS: `__Host-` prefixed, so a browser takes it only from this very
/// host, sent over HTTPS, for the whole site (no sibling domain can set it).
const CSRF_COOKIE_HOST: &str = "__Host-consult_csrf";

/// A new random token (128 bits, hex).
pub(super) fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(format!("no randomness available: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// True when the public reaches the server over HTTPS (`--public-url https://...`): then every
/// cookie of the server is `__Host-` prefixed and `Secure`.
pub(crate) fn over_https(state: &AppState) -> bool {
    state
        .limits
        .public_url
        .as_deref()
        .is_some_and(|u| u.get(..8).is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")))
}

/// The anti-forgery cookie's name for this deployment.
fn csrf_cookie_name(state: &AppState) -> &'static str {
    if over_https(state) {
        CSRF_COOKIE_HOST
    } else {
        CSRF_COOKIE
    }
}

/// The anti-forgery value the browser already holds, if any.
fn csrf_cookie(state: &AppState, headers: &HeaderMap) -> Option<String> {
    cookie_values(headers, csrf_cookie_name(state))
        .find(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

/// The values the browser sent for the cookie `name` (a browser may send one name twice).
pub(crate) fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .filter(move |(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The token for a form being shown and, when the browser had no cookie, the cookie that sets
/// one (`HttpOnly`, `SameSite=Strict`, so another site's page cannot send it back; `__Host-`
/// and `Secure` over HTTPS). The token is not the cookie's value but a keyed hash of it
/// ([`consult_app::App::form_token`]): a cookie planted by a sibling domain, whose value the
/// planter knows, does not give them the token.
pub(crate) async fn csrf_for_form(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(String, Option<HeaderValue>), ApiError> {
    if let Some(value) = csrf_cookie(state, headers) {
        return Ok((state.app.form_token(&value).await?, None));
    }
    let value = random_token()?;
    let secure = if over_https(state) { "; Secure" } else { "" };
    let name = csrf_cookie_name(state);
    let cookie = HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict{secure}"))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((state.app.form_token(&value).await?, Some(cookie)))
}

/// True when a posted form carries the token of the browser's cookie (compared in constant time).
pub(crate) async fn csrf_valid(state: &AppState, headers: &HeaderMap, posted: Option<&str>) -> Result<bool, ApiError> {
    match (csrf_cookie(state, headers), posted) {
        (Some(cookie), Some(posted)) => Ok(state.app.form_token_valid(&cookie, posted).await?),
        _ => Ok(false),
    }
}

/// A page with a status and, when the browser had none, the anti-forgery cookie.
pub(super) fn form_page(
    t: &impl Template,
    status: StatusCode,
    cookie: Option<HeaderValue>,
) -> Result<Response, ApiError> {
    let mut res = page(t)?;
    *res.status_mut() = status;
    let h = res.headers_mut();
    if let Some(cookie) = cookie {
        h.insert(header::SET_COOKIE, cookie);
    }
    // Forms hold a personal token: never cached.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// A posted hub form: its fields in the order sent (checkboxes repeat a name).
pub(crate) struct Posted(pub(crate) Vec<(String, String)>);

impl Posted {
    /// A field as sent.
    pub(crate) fn raw(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// A field trimmed; `None` when absent or blank.
    pub(crate) fn one(&self, name: &str) -> Option<&str> {
        self.raw(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Every value of a repeated field.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The refusal of a post before it is read, if any: without the anti-forgery token of the
/// browser's cookie (403), or, for anonymous writes (`client` given), over the per-client limit
/// (429). Either is a page saying nothing was saved, linking `back`.
pub(super) async fn refuse(
    state: &AppState,
    headers: &HeaderMap,
    posted: &Posted,
    client: Option<crate::extract::ClientAddr>,
    back: String,
) -> Result<Option<Response>, ApiError> {
    let t = &ENGLISH;
    if !csrf_valid(state, headers, posted.raw("csrf")).await? {
        let page = message(
            StatusCode::FORBIDDEN,
            t.form_expired_title,
            t.form_expired_body,
            Some(back),
            None,
        )?;
        return Ok(Some(page));
    }
    match client.map(|c| state.rate.check(c.0)) {
        Some(Err(ApiError::TooManyRequests(_))) => {
            let page = message(
                StatusCode::TOO_MANY_REQUESTS,
                t.too_many_title,
                t.too_many_body,
                Some(back),
                None,
            )?;
            Ok(Some(page))
        }
        Some(Err(other)) => Err(other),
        _ => Ok(None),
    }
}

/// An anonymous post to a published activity's form, once the anti-forgery token and the
/// per-client limit allow it: the activity, what was posted and the activity's address; or the
/// page to answer with instead (not found, refused).
pub(super) async fn activity_post(
    state: &AppState,
    id: &str,
    headers: &HeaderMap,
    client: crate::extract::ClientAddr,
    fields: Vec<(String, String)>,
) -> Result<Result<(Consultation, Posted, String), Response>, ApiError> {
    let Some(c) = public_activity(state, id).await? else {
        return Ok(Err(not_found()?));
    };
    let posted = Posted(fields);
    let back = format!("/activities/{}", c.id);
    if let Some(refusal) = refuse(state, headers, &posted, Some(client), back.clone()).await? {
        return Ok(Err(refusal));
    }
    Ok(Ok((c, posted, back)))
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    text: &'static Text,
    title: &'static str,
    body: String,
    back: Option<String>,
    reference: Option<String>,
}

/// A message page (confirmation or refusal) with a status.
pub(super) fn message(
    status: StatusCode,
    title: &'static str,
    body: &str,
    back: Option<String>,
    reference: Option<String>,
) -> Result<Response, ApiError> {
    form_page(
        &MessagePage {
            text: &ENGLISH,
            title,
            body: body.to_owned(),
            back,
            reference,
        },
        status,
        None,
    )
}

/// One option of a monitoring question.
#[derive(Debug)]
pub(super) struct Choice {
    pub(super) value: String,
    pub(super) label: String,
    pub(super) checked: bool,
}

/// A filter the core refused, as the error summary shows it (anchored at its field).
pub(super) fn field_error(e: &consult_core::FieldError) -> (String, String) {
    (e.field.clone(), format!("{}: {}", e.field, e.message))
}

/// The link to the next page of a list: its cursor and the filters the reader chose.
pub(super) fn next_link(action: &str, cursor: String, filters: &[(&str, &Option<String>)]) -> String {
    let mut params = vec![("cursor", cursor)];
    for (k, v) in filters {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            params.push((k, v.clone()));
        }
    }
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", percent(v))).collect();
    format!("{action}?{}", query.join("&"))
}

/// Percent-encodes a query value.
pub(crate) fn percent(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
