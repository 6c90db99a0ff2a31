//! The residents' register: registering interests, areas, groups and contact preferences,
//! confirming the registration with the code sent to the contact, and managing one's
//! registration (see it, download it, stop invitations, delete it).

use super::forms::{Choice, Posted, csrf_for_form, form_page, message, refuse};
use super::text::{ENGLISH, Text};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use consult_core::{ContactChannel, MessageKind};
use uuid::Uuid;

#[derive(Template)]
#[template(path = "interests.html")]
struct InterestsPage {
    text: &'static Text,
    errors: Vec<(String, String)>,
    csrf: String,
    inputs: Vec<TextInput>,
    postal_address: String,
    topics: String,
    groups: Vec<CheckGroup>,
    consent: bool,
}

/// A one-line text input.
#[derive(Debug)]
struct TextInput {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
}

/// A group of checkboxes.
#[derive(Debug)]
struct CheckGroup {
    name: &'static str,
    label: &'static str,
    anchor: String,
    choices: Vec<Choice>,
}

impl InterestsPage {
    /// The error shown beside a field, if any.
    fn error(&self, anchor: &str) -> Option<&str> {
        self.errors.iter().find(|(a, _)| a == anchor).map(|(_, m)| m.as_str())
    }
}

/// Checkbox choices with those ticked.
fn ticked(options: impl IntoIterator<Item = (String, String)>, chosen: &[String]) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            checked: chosen.contains(&value),
            value,
            label,
        })
        .collect()
}

/// The register-interests form, filled with what was sent.
async fn interests_page(
    state: &AppState,
    input: &consult_core::ResidentInput,
    errors: Vec<(String, String)>,
    csrf: String,
) -> Result<InterestsPage, ApiError> {
    let areas = state.app.list_areas().await?;
    let t = &ENGLISH;
    let group = |name: &'static str, label: &'static str, choices: Vec<Choice>| CheckGroup {
        name,
        label,
        anchor: format!("{name}-1"),
        choices,
    };
    Ok(InterestsPage {
        text: t,
        errors,
        csrf,
        inputs: vec![
            TextInput {
                name: "email",
                label: t.email_label,
                kind: "email",
                autocomplete: "email",
                value: input.email.clone().unwrap_or_default(),
            },
            TextInput {
                name: "phone",
                label: t.phone_label,
                kind: "tel",
                autocomplete: "tel",
                value: input.phone.clone().unwrap_or_default(),
            },
        ],
        postal_address: input.postal_address.clone().unwrap_or_default(),
        topics: input.interests.join(", "),
        groups: vec![
            group(
                "areas",
                t.areas_label,
                ticked(areas.iter().map(|a| (a.code.to_string(), a.name.clone())), &input.areas),
            ),
            group(
                "groups",
                t.groups_label,
                ticked(
                    consult_core::STAKEHOLDER_GROUPS
                        .iter()
                        .map(|g| (g.slug.to_owned(), g.name.to_owned())),
                    &input.groups,
                ),
            ),
            group(
                "channels",
                t.channels_label,
                ticked(
                    [
                        ("email", "Email"),
                        ("post", "Letter"),
                        ("phone", "Phone call"),
                        ("sms", "Text message"),
                    ]
                    .map(|(v, l)| (v.to_owned(), l.to_owned())),
                    &input.channels,
                ),
            ),
        ],
        consent: input.consent == Some(true),
    })
}

/// The form to register interests, areas, groups and contact preferences, with consent.
pub(super) async fn interests_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    let form = interests_page(&state, &consult_core::ResidentInput::default(), Vec::new(), csrf).await?;
    form_page(&form, StatusCode::OK, cookie)
}

/// Where a registration error is shown: the field, or the first box of a group of them.
fn interest_anchor(field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    match base {
        "areas" | "groups" | "channels" => format!("{base}-1"),
        "interests" => "topics".to_owned(),
        other => other.to_owned(),
    }
}

/// Receives the register-interests form: anti-forgery token, per-client limit, the core's
/// validation; on success the reference and private key, shown once.
pub(super) async fn interests_submit(
    State(state): State<AppState>,
    client: crate::extract::ClientAddr,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let t = &ENGLISH;
    let posted = Posted(fields);
    if let Some(refusal) = refuse(&state, &headers, &posted, Some(client), "/register-interests".into()).await? {
        return Ok(refusal);
    }
    let one = |name: &str| posted.one(name).map(str::to_owned);
    let input = consult_core::ResidentInput {
        email: one("email"),
        phone: one("phone"),
        postal_address: one("postal_address"),
        interests: one("topics")
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        areas: posted.all("areas"),
        groups: posted.all("groups"),
        channels: posted.all("channels"),
        consent: Some(one("consent").as_deref() == Some("yes")),
    };
    match state.app.register_resident(input.clone()).await {
        Ok(registration) => {
            let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
            let page = RegisteredPage {
                text: t,
                reference: registration.resident.id.to_string(),
                key: registration.key,
                check: match registration.code_sent_by {
                    ContactChannel::Email => t.check_email,
                    ContactChannel::Phone | ContactChannel::Sms => t.check_phone,
                    ContactChannel::Post => t.check_post,
                },
                csrf,
                code: String::new(),
                errors: Vec::new(),
            };
            form_page(&page, StatusCode::ACCEPTED, cookie)
        }
        Err(consult_app::AppError::Invalid(e)) => {
            let mut errors: Vec<(String, String)> = Vec::new();
            for x in e.errors() {
                let anchor = interest_anchor(&x.field);
                if !errors.iter().any(|(a, _)| *a == anchor) {
                    errors.push((anchor, x.message.clone()));
                }
            }
            let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
            let form = interests_page(&state, &input, errors, csrf).await?;
            form_page(&form, StatusCode::UNPROCESSABLE_ENTITY, cookie)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Template)]
#[template(path = "registered.html")]
struct RegisteredPage {
    text: &'static Text,
    reference: String,
    key: String,
    /// Where to look for the code.
    check: &'static str,
    csrf: String,
    code: String,
    errors: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    text: &'static Text,
    csrf: String,
    code: String,
    errors: Vec<(String, String)>,
}

/// The code a link in a message carries, to fill in the form (following a link never verifies
/// by itself: mail scanners follow links too).
#[derive(Debug, serde::Deserialize)]
pub(super) struct CodeQuery {
    code: Option<String>,
}

/// The form to confirm a registration with the code sent to its contact; `?code=` fills it in.
pub(super) async fn verify_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(query): axum::extract::Query<CodeQuery>,
) -> Result<Response, ApiError> {
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    let code = query.code.unwrap_or_default().chars().take(64).collect();
    let page = VerifyPage {
        text: &ENGLISH,
        csrf,
        code,
        errors: Vec::new(),
    };
    form_page(&page, StatusCode::OK, cookie)
}

/// Receives the code: anti-forgery token, per-client limit (like any anonymous write), then
/// the same use case as the API; a wrong or expired code is shown beside the field.
pub(super) async fn verify_submit(
    State(state): State<AppState>,
    client: crate::extract::ClientAddr,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let t = &ENGLISH;
    let posted = Posted(fields);
    if let Some(refusal) = refuse(&state, &headers, &posted, Some(client), "/verify-registration".into()).await? {
        return Ok(refusal);
    }
    let code = posted.one("code").unwrap_or_default().to_owned();
    let (status, error) = match state.app.verify_resident(&code).await {
        Ok(verified) => {
            let body = if verified.updated {
                t.verified_updated_body
            } else {
                t.verified_body
            };
            return message(
                StatusCode::OK,
                t.verified_title,
                body,
                None,
                Some(verified.id.to_string()),
            );
        }
        Err(consult_app::AppError::Invalid(e)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            e.errors().first().map(|x| x.message.clone()).unwrap_or_default(),
        ),
        Err(consult_app::AppError::Conflict(m)) => (StatusCode::CONFLICT, m),
        Err(other) => return Err(other.into()),
    };
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    let page = VerifyPage {
        text: t,
        csrf,
        code: code.chars().take(64).collect(),
        errors: vec![("code".into(), error)],
    };
    form_page(&page, status, cookie)
}

#[derive(Template)]
#[template(path = "manage.html")]
struct ManagePage {
    text: &'static Text,
    errors: Vec<(String, String)>,
    csrf: String,
    reference: String,
    key: String,
    note: Option<&'static str>,
    held: Option<Held>,
    actions: [(&'static str, &'static str); 3],
}

/// What is held about a resident, as shown to them.
#[derive(Debug)]
struct Held {
    details: Vec<(&'static str, String)>,
    consent: String,
}

/// What a resident can do with their registration: (action, button).
fn manage_actions() -> [(&'static str, &'static str); 3] {
    let t = &ENGLISH;
    [
        ("export", t.export_button),
        ("unsubscribe", t.unsubscribe_button),
        ("delete", t.delete_button),
    ]
}

/// The form to reach one's registration with its reference and key.
pub(super) async fn manage_form(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    let form = ManagePage {
        text: &ENGLISH,
        errors: Vec::new(),
        csrf,
        reference: String::new(),
        key: String::new(),
        note: None,
        held: None,
        actions: manage_actions(),
    };
    form_page(&form, StatusCode::OK, cookie)
}

/// One's registration, with its reference and key posted (never in an address): see it,
/// download it, stop invitations, or delete it.
pub(super) async fn manage_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let t = &ENGLISH;
    let posted = Posted(fields);
    // Reading one's own registration is not an anonymous write: no per-client limit.
    if let Some(refusal) = refuse(&state, &headers, &posted, None, "/my-registration".into()).await? {
        return Ok(refusal);
    }
    let one = |name: &str| posted.one(name).unwrap_or_default().to_owned();
    let (reference, key) = (one("reference"), one("key"));
    let found = match reference.parse::<Uuid>() {
        Ok(id) if !key.is_empty() => match state.app.own_registration(id, &key).await {
            Ok(resident) => Some(resident),
            Err(consult_app::AppError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        },
        _ => None,
    };
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    let Some(mut resident) = found else {
        let form = ManagePage {
            text: t,
            errors: vec![("reference".into(), t.manage_not_found.into())],
            csrf,
            reference,
            key: String::new(),
            note: None,
            held: None,
            actions: manage_actions(),
        };
        return form_page(&form, StatusCode::UNPROCESSABLE_ENTITY, cookie);
    };
    let mut note = None;
    match one("action").as_str() {
        "export" => {
            let (resident, contacts) = state.app.export_registration(resident.id, &key).await?;
            let body = serde_json::to_vec_pretty(&serde_json::json!({ "resident": resident, "contacts": contacts }))
                .map_err(|e| ApiError::Internal(e.to_string()))?;
            return Ok((
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
                    (
                        header::CONTENT_DISPOSITION,
                        HeaderValue::from_static("attachment; filename=\"my-registration.json\""),
                    ),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                body,
            )
                .into_response());
        }
        "delete" => {
            state.app.delete_registration(resident.id, &key).await?;
            return message(StatusCode::OK, t.deleted_title, t.deleted_body, None, None);
        }
        "unsubscribe" => {
            resident = state.app.unsubscribe(resident.id, &key).await?;
            note = Some(t.unsubscribed);
        }
        _ => {}
    }
    let list = |v: &[String]| if v.is_empty() { "-".to_owned() } else { v.join(", ") };
    let held = Held {
        details: vec![
            (
                t.status_label,
                if resident.verified_at.is_some() {
                    t.status_verified
                } else {
                    t.status_pending
                }
                .to_owned(),
            ),
            (t.email_label, resident.email.clone().unwrap_or_else(|| "-".into())),
            (t.phone_label, resident.phone.clone().unwrap_or_else(|| "-".into())),
            (
                t.postal_label,
                resident.postal_address.clone().unwrap_or_else(|| "-".into()),
            ),
            (t.topics_label, list(&resident.interests)),
            (
                t.areas_label,
                list(&resident.areas.iter().map(ToString::to_string).collect::<Vec<_>>()),
            ),
            (t.groups_label, list(&resident.groups)),
            (
                t.channels_label,
                list(
                    &resident
                        .channels
                        .iter()
                        .map(|c| c.as_str().to_owned())
                        .collect::<Vec<_>>(),
                ),
            ),
        ],
        consent: match resident.consent_at {
            Some(at) => format!("{} {}.", t.consent_given, at.date_naive()),
            None => t.consent_withdrawn.to_owned(),
        },
    };
    let form = ManagePage {
        text: t,
        errors: Vec::new(),
        csrf,
        reference,
        key,
        note,
        held: Some(held),
        actions: manage_actions(),
    };
    form_page(&form, StatusCode::OK, cookie)
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    text: &'static Text,
    heading: &'static str,
    body: &'static str,
    keep: &'static str,
    action: String,
}

/// The one-click unsubscribe link of a message (its footer and `List-Unsubscribe` header): a
/// page with one button, so a link opened by a mail scanner changes nothing.
pub(super) async fn unsubscribe_form(
    State(state): State<AppState>,
    axum::extract::Path((resident, token)): axum::extract::Path<(String, String)>,
) -> Result<Response, ApiError> {
    let Ok(id) = resident.parse::<Uuid>() else {
        return unsubscribe_unknown();
    };
    if !state.app.unsubscribe_link_valid(id, &token).await? {
        return unsubscribe_unknown();
    }
    form_page(
        &UnsubscribePage {
            text: &ENGLISH,
            heading: "Stop invitations",
            body: "You registered to hear about consultations and other activities on your interests and in your area. If you stop, you will not be invited to anything again.",
            keep: "Keep my registration and go to the home page",
            action: format!("/unsubscribe/{id}/{token}"),
        },
        StatusCode::OK,
        None,
    )
}

/// Stops invitations: the page's button, or a mail client's one-click POST (RFC 8058, body
/// `List-Unsubscribe=One-Click`). The link's token is the authority (no anti-forgery token: a
/// mail provider posts without one), and the change it makes is the one the link names.
pub(super) async fn unsubscribe_submit(
    State(state): State<AppState>,
    axum::extract::Path((resident, token)): axum::extract::Path<(String, String)>,
) -> Result<Response, ApiError> {
    let Ok(id) = resident.parse::<Uuid>() else {
        return unsubscribe_unknown();
    };
    match state.app.unsubscribe_by_link(id, &token).await {
        Ok(()) => message(
            StatusCode::OK,
            "You will not be invited again",
            "Your registration stays, but nothing more will be sent to you. You can delete it from the link you were given when you registered.",
            Some("/".into()),
            None,
        ),
        Err(consult_app::AppError::NotFound(_)) => unsubscribe_unknown(),
        Err(e) => Err(e.into()),
    }
}

fn unsubscribe_unknown() -> Result<Response, ApiError> {
    message(
        StatusCode::NOT_FOUND,
        "This link does not work",
        "It may have been copied wrongly, or the registration has been deleted.",
        Some("/".into()),
        None,
    )
}

/// What a staff account's one-click link stops: its heading, what the page says, what the
/// answer says.
fn staff_kind(kind: &str) -> Option<(MessageKind, &'static str, &'static str, &'static str)> {
    match MessageKind::parse(kind)? {
        MessageKind::Digest => Some((
            MessageKind::Digest,
            "Stop the weekly digest",
            "Each week consult e-mails you the activities opening, closing and publishing results in your wards. If you stop, you will not get the digest again unless an administrator turns it back on.",
            "You will not get the weekly digest again",
        )),
        MessageKind::Alert => Some((
            MessageKind::Alert,
            "Stop these alerts",
            "Each working day consult e-mails you the activities waiting for approval and those whose feedback is overdue. If you stop, you will not get these alerts again unless an administrator turns them back on.",
            "You will not get these alerts again",
        )),
        _ => None,
    }
}

/// The one-click link in a digest or an alert: a page with one button (a link opened by a mail
/// scanner changes nothing).
pub(super) async fn staff_unsubscribe_form(
    State(state): State<AppState>,
    axum::extract::Path((user, kind, token)): axum::extract::Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (Ok(id), Some((kind, heading, body, _))) = (user.parse::<Uuid>(), staff_kind(&kind)) else {
        return unsubscribe_unknown();
    };
    if !state.app.staff_unsubscribe_link_valid(id, kind, &token).await? {
        return unsubscribe_unknown();
    }
    form_page(
        &UnsubscribePage {
            text: &ENGLISH,
            heading,
            body,
            keep: "Keep getting them and go to the home page",
            action: format!("/unsubscribe/staff/{id}/{}/{token}", kind.as_str()),
        },
        StatusCode::OK,
        None,
    )
}

/// Stops a digest or alerts: the page's button, or a mail client's one-click POST (RFC 8058).
/// The link's token is the authority, as for residents' links.
pub(super) async fn staff_unsubscribe_submit(
    State(state): State<AppState>,
    axum::extract::Path((user, kind, token)): axum::extract::Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (Ok(id), Some((kind, _, _, done))) = (user.parse::<Uuid>(), staff_kind(&kind)) else {
        return unsubscribe_unknown();
    };
    match state.app.stop_staff_messages_by_link(id, kind, &token).await {
        Ok(()) => message(
            StatusCode::OK,
            done,
            "Nothing more of this kind will be sent to you. An administrator can turn it back on.",
            Some("/".into()),
            None,
        ),
        Err(consult_app::AppError::NotFound(_)) => unsubscribe_unknown(),
        Err(e) => Err(e.into()),
    }
}
