//! Forms on an activity: responding to it (comments and monitoring questions), and commenting on,
//! complimenting or complaining about how it was run.

use super::forms::{Choice, Posted, activity_post, csrf_for_form, form_page, message, random_token};
use super::survey;
use super::text::{ENGLISH, Text};
use super::{not_found, public_activity};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use consult_core::{Consultation, ResponseInput, Status};

/// A monitoring question on the response form.
#[derive(Debug)]
pub(super) struct Question {
    key: String,
    label: String,
    error: Option<String>,
    choices: Vec<Choice>,
}

/// The response form: comments and monitoring questions. For an activity with a questionnaire
/// it is the step after the questions (`state` carries the answers so far, and it continues to
/// "check your answers" instead of sending).
#[derive(Template)]
#[template(path = "respond.html")]
pub(super) struct RespondPage {
    pub(super) text: &'static Text,
    pub(super) id: String,
    pub(super) title: String,
    pub(super) closed: Option<String>,
    pub(super) errors: Vec<(String, String)>,
    pub(super) csrf: String,
    pub(super) key: String,
    pub(super) comments: String,
    pub(super) comments_error: Option<String>,
    pub(super) questions: Vec<Question>,
    pub(super) area: Option<Question>,
    /// Where to tell the respondent about the results, as typed.
    pub(super) notice_to: String,
    pub(super) notice_error: Option<String>,
    pub(super) state: Option<String>,
}

/// The error shown beside the "hear about the results" field, if the errors name it.
pub(super) fn notice_error(errors: &[(String, String)]) -> Option<String> {
    errors
        .iter()
        .find(|(a, _)| a == "results_notice_to")
        .map(|(_, m)| m.clone())
}

/// The "where do you live?" question: the activity's areas and those inside them (none when
/// the activity names no areas), with what was chosen and any error.
pub(super) fn area_question(
    areas: &[consult_core::Area],
    chosen: Option<&str>,
    errors: &[(String, String)],
) -> Option<Question> {
    let t = &ENGLISH;
    if areas.is_empty() {
        return None;
    }
    let picked = chosen.unwrap_or("");
    let mut choices = vec![Choice {
        value: String::new(),
        label: t.not_answered.to_owned(),
        checked: picked.is_empty(),
    }];
    choices.extend(areas.iter().map(|a| Choice {
        value: a.code.as_str().to_owned(),
        label: a.name.clone(),
        checked: picked == a.code.as_str(),
    }));
    Some(Question {
        key: "area".to_owned(),
        label: t.area_label.to_owned(),
        error: errors
            .iter()
            .find(|(anchor, _)| anchor == "area-1")
            .map(|(_, m)| m.clone()),
        choices,
    })
}

/// The response form's monitoring questions, with what was chosen and any error per question.
pub(super) fn monitoring_questions(
    scheme: &consult_core::MonitoringScheme,
    chosen: &std::collections::BTreeMap<String, String>,
    errors: &[(String, String)],
) -> Vec<Question> {
    let t = &ENGLISH;
    scheme
        .characteristics
        .iter()
        .map(|c| {
            let picked = chosen.get(&c.key).map_or("", String::as_str);
            let mut choices = vec![Choice {
                value: String::new(),
                label: t.not_answered.to_owned(),
                checked: picked.is_empty(),
            }];
            choices.extend(c.categories.iter().map(|k| Choice {
                value: k.key.clone(),
                label: k.label.clone(),
                checked: picked == k.key,
            }));
            choices.push(Choice {
                value: consult_core::PREFER_NOT_TO_SAY.to_owned(),
                label: t.prefer_not_to_say.to_owned(),
                checked: picked == consult_core::PREFER_NOT_TO_SAY,
            });
            Question {
                error: errors
                    .iter()
                    .find(|(anchor, _)| *anchor == format!("m-{}-1", c.key))
                    .map(|(_, m)| m.clone()),
                key: c.key.clone(),
                label: c.label.clone(),
                choices,
            }
        })
        .collect()
}

/// The response form of an open activity: comments, and the owner's monitoring questions, each
/// with "prefer not to say".
pub(super) async fn respond_form(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(c) = public_activity(&state, &id).await? else {
        return not_found();
    };
    let open = c.status_on(state.app.today()) == Status::Open;
    if let Some(q) = survey::questionnaire_of(&state, &c).await? {
        return if open {
            survey::start(&state, &c, &q, &headers).await
        } else {
            survey::closed_form(&state, &c, &headers).await
        };
    }
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    let scheme = state.app.organisation_scheme(c.organisation_id).await?;
    let form = RespondPage {
        text: &ENGLISH,
        id: c.id.to_string(),
        title: c.plan.title().to_owned(),
        closed: (!open).then(|| ENGLISH.not_open.to_owned()),
        errors: Vec::new(),
        csrf,
        key: random_token()?,
        comments: String::new(),
        comments_error: None,
        questions: monitoring_questions(&scheme, &Default::default(), &[]),
        area: area_question(&state.app.activity_areas(&c).await?, None, &[]),
        notice_to: String::new(),
        notice_error: None,
        state: None,
    };
    form_page(&form, StatusCode::OK, cookie)
}

/// Receives the response form: checks the anti-forgery token and the per-client limit, then
/// validates as the API does; errors are shown next to their fields with a summary, and the
/// answers given are kept. A hidden key makes a second press of the button store nothing more.
pub(super) async fn respond_submit(
    State(state): State<AppState>,
    client: crate::extract::ClientAddr,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let t = &ENGLISH;
    // An activity with a questionnaire is answered in steps (`survey`).
    if let Some(c) = public_activity(&state, &id).await? {
        if let Some(q) = survey::questionnaire_of(&state, &c).await? {
            return survey::submit(&state, client, &c, &q, &headers, Posted(fields)).await;
        }
    }
    let (c, posted, back) = match activity_post(&state, &id, &headers, client, fields).await? {
        Ok(accepted) => accepted,
        Err(page) => return Ok(page),
    };
    let comments = posted.raw("comments").unwrap_or_default().to_owned();
    let monitoring: std::collections::BTreeMap<String, String> = posted
        .0
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("m.")?.to_owned(), v.clone())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let area = posted
        .raw("area")
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned);
    let notice_to = posted.raw("results_notice_to").unwrap_or_default().trim().to_owned();
    let scheme = state.app.organisation_scheme(c.organisation_id).await?;
    let key = posted
        .one("key")
        .filter(|k| k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let mut open = c.status_on(state.app.today()) == Status::Open;
    let mut errors: Vec<(String, String)> = Vec::new();
    if open {
        let input = ResponseInput {
            monitoring: monitoring.clone(),
            comments: Some(comments.clone()).filter(|s| !s.trim().is_empty()),
            channel: None,
            answers: Default::default(),
            area: area.clone(),
            results_notice_to: Some(notice_to.clone()).filter(|s| !s.is_empty()),
            notify: None,
        };
        let hub_key = key.as_deref().map(|k| format!("hub:{k}"));
        let who = crate::extract::Caller::identity(&headers, client);
        let idempotency = hub_key
            .as_deref()
            .map(|key| consult_app::Idempotency { key, caller: &who });
        match state.app.respond(None, c.id, input, idempotency).await {
            Ok(stored) => {
                return message(
                    StatusCode::OK,
                    t.thanks_title,
                    t.thanks_body,
                    Some(back),
                    Some(stored.id.to_string()),
                );
            }
            // Closed while the form was being filled in: the form says so.
            Err(consult_app::AppError::Conflict(_)) => open = false,
            Err(consult_app::AppError::Invalid(e)) => {
                for x in e.errors() {
                    let (anchor, text) = match x.field.strip_prefix("monitoring.") {
                        Some(k) => (format!("m-{k}-1"), x.message.clone()),
                        None if x.field == "area" => ("area-1".to_owned(), x.message.clone()),
                        None if x.field == "results_notice_to" => {
                            ("results_notice_to".to_owned(), t.notice_invalid.to_owned())
                        }
                        None if x.field == "comments" && comments.trim().is_empty() => {
                            ("comments".to_owned(), t.enter_comments.to_owned())
                        }
                        None => ("comments".to_owned(), x.message.clone()),
                    };
                    if !errors.iter().any(|(a, _)| *a == anchor) {
                        errors.push((anchor, text));
                    }
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    let form = RespondPage {
        text: t,
        id: c.id.to_string(),
        title: c.plan.title().to_owned(),
        closed: (!open).then(|| t.not_open.to_owned()),
        comments_error: errors.iter().find(|(a, _)| a == "comments").map(|(_, m)| m.clone()),
        questions: monitoring_questions(&scheme, &monitoring, &errors),
        area: area_question(&state.app.activity_areas(&c).await?, area.as_deref(), &errors),
        notice_error: notice_error(&errors),
        notice_to,
        errors,
        csrf,
        key: key.map_or_else(random_token, Ok)?,
        comments,
        state: None,
    };
    let status = if open {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CONFLICT
    };
    form_page(&form, status, cookie)
}

#[derive(Template)]
#[template(path = "remark.html")]
struct RemarkPage {
    text: &'static Text,
    id: String,
    title: String,
    errors: Vec<(String, String)>,
    csrf: String,
    kind: String,
    body: String,
    principle: String,
    contact: String,
}

impl RemarkPage {
    /// The empty form for an activity.
    fn new(c: &Consultation, csrf: String) -> Self {
        Self {
            text: &ENGLISH,
            id: c.id.to_string(),
            title: c.plan.title().to_owned(),
            errors: Vec::new(),
            csrf,
            kind: String::new(),
            body: String::new(),
            principle: String::new(),
            contact: String::new(),
        }
    }

    /// The error shown beside a field, if any.
    fn error(&self, anchor: &str) -> Option<&str> {
        self.errors.iter().find(|(a, _)| a == anchor).map(|(_, m)| m.as_str())
    }
}

/// The form to comment on, compliment or complain about how an activity was run.
pub(super) async fn remark_form(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(c) = public_activity(&state, &id).await? else {
        return not_found();
    };
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    form_page(&RemarkPage::new(&c, csrf), StatusCode::OK, cookie)
}

/// Receives a remark: the anti-forgery token and per-client limit, then the core's validation
/// (`Remark::parse`), errors beside their fields. The contact goes to the owner only.
pub(super) async fn remark_submit(
    State(state): State<AppState>,
    client: crate::extract::ClientAddr,
    Path(id): Path<String>,
    headers: HeaderMap,
    axum::Form(fields): axum::Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let t = &ENGLISH;
    let (c, posted, back) = match activity_post(&state, &id, &headers, client, fields).await? {
        Ok(accepted) => accepted,
        Err(page) => return Ok(page),
    };
    let one = |name: &str| posted.one(name).map(str::to_owned);
    let input = consult_core::RemarkInput {
        kind: one("kind"),
        body: one("body"),
        principle: one("principle"),
        contact: one("contact"),
    };
    let errors: Vec<(String, String)> = match state.app.post_remark(None, c.id, input).await {
        Ok(_) => {
            return message(
                StatusCode::OK,
                t.remark_thanks_title,
                t.remark_thanks_body,
                Some(back),
                None,
            );
        }
        Err(consult_app::AppError::Invalid(e)) => e
            .errors()
            .iter()
            .map(|x| match x.field.as_str() {
                "kind" => ("kind-1".to_owned(), t.enter_kind.to_owned()),
                "body" if posted.one("body").is_none() => ("body".to_owned(), t.enter_body.to_owned()),
                other => (other.to_owned(), x.message.clone()),
            })
            .collect(),
        Err(other) => return Err(other.into()),
    };
    let (csrf, cookie) = csrf_for_form(&state, &headers).await?;
    let keep = |name: &str| posted.raw(name).unwrap_or_default().to_owned();
    let form = RemarkPage {
        errors,
        kind: keep("kind"),
        body: keep("body"),
        principle: keep("principle"),
        contact: keep("contact"),
        ..RemarkPage::new(&c, csrf)
    };
    form_page(&form, StatusCode::UNPROCESSABLE_ENTITY, cookie)
}
