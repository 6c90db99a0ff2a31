//! Keying a response that came on paper, by e-mail, by telephone or at an event: the activity's
//! questionnaire as one form (each question by its type), the channel and the comments, stored
//! through the use case every response goes through (`App::respond`, with the officer as the
//! one who keyed it: allowed while open and for the late days after closing). Every refusal is
//! shown beside its question.

use super::{ActivityId, Staff, StaffForm, Who, message, see_other, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Text;
use crate::hub::forms::Posted;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use consult_app::AppError;
use consult_core::{ConsultationId, Question, QuestionKind, Questionnaire, ResponseInput};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The channels an officer keys: (API name, label).
const CHANNELS: &[(&str, &str)] = &[
    ("paper", "On paper"),
    ("email", "By e-mail"),
    ("phone", "By telephone"),
    ("event", "At an event"),
];

/// A point of a scale: (value, label, checked).
type Point = (String, String, bool);

/// A grid's statement: (key, text, its points, whether it is the first row).
type GridRow = (String, String, Vec<Point>, bool);

/// A question as the form shows it.
#[derive(Debug)]
struct KeyQuestion {
    anchor: String,
    text: String,
    hint: Option<String>,
    /// `radios`, `checkboxes`, `ranking`, `grid`, `text`, `number` or `date`.
    kind: &'static str,
    /// (value, label, checked, rank typed).
    options: Vec<(String, String, bool, String)>,
    other: bool,
    other_text: String,
    value: String,
    /// (statement key, text, points: (value, label, checked), first row).
    rows: Vec<GridRow>,
}

#[derive(Template)]
#[template(path = "staff/keying.html")]
struct KeyingPage {
    text: &'static Text,
    who: Who,
    id: ConsultationId,
    title: String,
    channels: Vec<(&'static str, &'static str, bool)>,
    questions: Vec<KeyQuestion>,
    comments: String,
    errors: Vec<(String, String)>,
    done: Option<String>,
}

impl KeyingPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn has_error(&self, id: &str) -> bool {
        self.errors.iter().any(|e| e.0 == id)
    }
}

fn anchor(key: &str) -> String {
    format!("q-{key}")
}

/// The points of a scale, labelled at its ends.
fn points(
    min: i64,
    max: i64,
    min_label: Option<&str>,
    max_label: Option<&str>,
    chosen: &str,
) -> Vec<(String, String, bool)> {
    (min..=max)
        .map(|p| {
            let label = match (p == min, p == max) {
                (true, _) => min_label.map_or(p.to_string(), |l| format!("{p} ({l})")),
                (_, true) => max_label.map_or(p.to_string(), |l| format!("{p} ({l})")),
                _ => p.to_string(),
            };
            (p.to_string(), label, chosen == p.to_string())
        })
        .collect()
}

/// A question of the form, filled with what was posted (if anything).
fn key_question(q: &Question, posted: Option<&Posted>) -> KeyQuestion {
    let a = anchor(&q.key);
    let all = |name: &str| posted.map(|p| p.all(name)).unwrap_or_default();
    let one = |name: &str| posted.and_then(|p| p.one(name)).unwrap_or_default().to_owned();
    let chosen = all(&a);
    let choices = |options: &[consult_core::Choice]| -> Vec<(String, String, bool, String)> {
        options
            .iter()
            .map(|o| {
                (
                    o.key.clone(),
                    o.label.clone(),
                    chosen.contains(&o.key),
                    one(&format!("{a}-{}", o.key)),
                )
            })
            .collect()
    };
    let mut k = KeyQuestion {
        anchor: a.clone(),
        text: q.text.clone(),
        hint: q.hint.clone(),
        kind: "text",
        options: vec![],
        other: false,
        other_text: one(&format!("{a}-other-text")),
        value: one(&a),
        rows: vec![],
    };
    match &q.kind {
        QuestionKind::SingleChoice { options, other } | QuestionKind::MultipleChoice { options, other, .. } => {
            k.kind = if matches!(q.kind, QuestionKind::SingleChoice { .. }) {
                "radios"
            } else {
                "checkboxes"
            };
            k.options = choices(options);
            k.other = *other;
            if *other {
                k.options.push((
                    "other".into(),
                    "Other".into(),
                    chosen.iter().any(|c| c == "other"),
                    String::new(),
                ));
            }
        }
        QuestionKind::Scale(s) => {
            k.kind = "radios";
            let chosen = chosen.first().cloned().unwrap_or_default();
            k.options = points(s.min, s.max, s.min_label.as_deref(), s.max_label.as_deref(), &chosen)
                .into_iter()
                .map(|(v, l, c)| (v, l, c, String::new()))
                .collect();
        }
        QuestionKind::Ranking { options } => {
            k.kind = "ranking";
            k.options = choices(options);
        }
        QuestionKind::Number { .. } => k.kind = "number",
        QuestionKind::Date => k.kind = "date",
        QuestionKind::FreeText { .. } => k.kind = "text",
        QuestionKind::Grid { statements, scale } => {
            k.kind = "grid";
            k.rows = statements
                .iter()
                .enumerate()
                .map(|(i, st)| {
                    let chosen = one(&format!("{a}-{}", st.key));
                    let pts = points(
                        scale.min,
                        scale.max,
                        scale.min_label.as_deref(),
                        scale.max_label.as_deref(),
                        &chosen,
                    );
                    (st.key.clone(), st.text.clone(), pts, i == 0)
                })
                .collect();
        }
    }
    k
}

/// The answer a question's posted fields make, if any was given.
fn answer_of(q: &Question, posted: &Posted) -> Option<Value> {
    let a = anchor(&q.key);
    let other_text = posted.one(&format!("{a}-other-text")).unwrap_or_default().to_owned();
    let choice = |c: &str| -> Value {
        if c == "other" {
            json!({ "option": "other", "text": other_text })
        } else {
            json!(c)
        }
    };
    match &q.kind {
        QuestionKind::SingleChoice { .. } => posted.one(&a).map(choice),
        QuestionKind::MultipleChoice { .. } => {
            let chosen = posted.all(&a);
            (!chosen.is_empty()).then(|| Value::Array(chosen.iter().map(|c| choice(c)).collect()))
        }
        QuestionKind::Scale(_) | QuestionKind::Number { .. } => posted.one(&a).map(|v| {
            v.parse::<i64>()
                .map(Value::from)
                .or_else(|_| v.parse::<f64>().map(Value::from))
                .unwrap_or_else(|_| json!(v))
        }),
        QuestionKind::Date | QuestionKind::FreeText { .. } => posted.one(&a).map(|v| json!(v)),
        QuestionKind::Ranking { options } => {
            let mut ranked: Vec<(i64, &str)> = options
                .iter()
                .filter_map(|o| {
                    let place = posted.one(&format!("{a}-{}", o.key))?;
                    Some((place.parse::<i64>().unwrap_or(i64::MAX), o.key.as_str()))
                })
                .collect();
            ranked.sort();
            (!ranked.is_empty()).then(|| json!(ranked.iter().map(|r| r.1).collect::<Vec<_>>()))
        }
        QuestionKind::Grid { statements, .. } => {
            let rows: serde_json::Map<String, Value> = statements
                .iter()
                .filter_map(|st| {
                    let v = posted.one(&format!("{a}-{}", st.key))?;
                    Some((
                        st.key.clone(),
                        v.parse::<i64>().map(Value::from).unwrap_or_else(|_| json!(v)),
                    ))
                })
                .collect();
            (!rows.is_empty()).then_some(Value::Object(rows))
        }
    }
}

/// The form's field a refusal names (`answers.ideas` is `q-ideas`).
fn field_of(field: &str) -> String {
    match field.strip_prefix("answers.") {
        Some(rest) => anchor(rest.split(['.', '[']).next().unwrap_or(rest)),
        None => field.split(['.', '[']).next().unwrap_or(field).to_owned(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn keying_page(
    state: &AppState,
    staff: &Staff,
    id: ConsultationId,
    posted: Option<&Posted>,
    status: StatusCode,
    errors: Vec<(String, String)>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let c = match super::changeable(state, staff, id, "key responses here").await? {
        Ok(c) => c,
        Err(res) => return Ok(res),
    };
    let questionnaire: Option<Questionnaire> = super::found(state.app.questionnaire(Some(actor), id).await)?;
    let channel = posted.and_then(|p| p.one("channel")).unwrap_or("paper");
    let page = KeyingPage {
        text: text(),
        who: super::who(state, staff).await?,
        id,
        title: c.plan.title().to_owned(),
        channels: CHANNELS.iter().map(|&(v, l)| (v, l, v == channel)).collect(),
        questions: questionnaire
            .iter()
            .flat_map(|q| q.questions())
            .map(|q| key_question(q, posted))
            .collect(),
        comments: posted.and_then(|p| p.one("comments")).unwrap_or_default().to_owned(),
        errors,
        done,
    };
    staff_page(&page, status, None)
}

/// The keying page's query: what was just done.
#[derive(Debug, serde::Deserialize)]
pub(super) struct Done {
    done: Option<String>,
}

/// `GET /staff/activities/{id}/responses/new`.
pub(super) async fn form(
    State(state): State<AppState>,
    staff: Staff,
    ActivityId(id): ActivityId,
    Query(q): Query<Done>,
) -> Result<Response, ApiError> {
    let done = (q.done.as_deref() == Some("keyed")).then(|| "The response is saved. Key the next one.".to_owned());
    keying_page(&state, &staff, id, None, StatusCode::OK, vec![], done).await
}

/// `POST /staff/activities/{id}/responses/new`: a keyed response stored, or the form again with
/// what was typed and every refusal beside its question.
pub(super) async fn submit(
    State(state): State<AppState>,
    ActivityId(id): ActivityId,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let questionnaire = super::found(state.app.questionnaire(Some(actor), id).await)?;
    let answers: BTreeMap<String, Value> = questionnaire
        .iter()
        .flat_map(|q| q.questions())
        .filter_map(|q| Some((q.key.clone(), answer_of(q, &posted)?)))
        .collect();
    let input = ResponseInput {
        channel: posted.one("channel").map(str::to_owned),
        comments: posted.one("comments").map(str::to_owned),
        answers,
        ..ResponseInput::default()
    };
    match state.app.respond(Some(actor), id, input, None).await {
        Ok(_) => see_other(&format!("/staff/activities/{id}/responses/new?done=keyed"), None),
        Err(AppError::Invalid(e)) => {
            let errors = e
                .errors()
                .iter()
                .map(|f| (field_of(&f.field), f.message.clone()))
                .collect();
            keying_page(
                &state,
                &staff,
                id,
                Some(&posted),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            keying_page(
                &state,
                &staff,
                id,
                Some(&posted),
                StatusCode::CONFLICT,
                vec![("channel".to_owned(), m)],
                None,
            )
            .await
        }
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(AppError::Forbidden(m)) => message(
            StatusCode::FORBIDDEN,
            "You cannot key responses here",
            &m,
            Some("/staff"),
        ),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refusals_point_at_their_question() {
        assert_eq!(super::field_of("answers.ideas"), "q-ideas");
        assert_eq!(super::field_of("answers.agree.safe"), "q-agree");
        assert_eq!(super::field_of("channel"), "channel");
    }
}
