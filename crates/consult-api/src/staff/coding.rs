//! Coding free-text answers in the workspace: the codeframe, progress per question, and each
//! answer of a question with the themes it raises and an analyst's note, through the use cases
//! of the API's themes and codes (`App::create_theme`, `App::code_answer`; reading answers is
//! audited as the responses page is).

use super::{ActivityId, Staff, StaffForm, Who, message, see_other, staff_page, text};
use crate::AppState;
use crate::error::ApiError;
use crate::hub::Text;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use consult_app::{AppError, Cursor, PageRequest};
use consult_core::{CodeInput, ConsultationId, QuestionKind, ThemeInput};

/// A free-text question with its progress.
#[derive(Debug)]
struct QuestionRow {
    key: String,
    text: String,
    coded: u64,
    total: u64,
    current: bool,
}

/// An answer to code.
#[derive(Debug)]
struct AnswerRow {
    response: uuid::Uuid,
    text: String,
    themes: Vec<String>,
    note: String,
}

/// A theme suggested from the answers' words.
#[derive(Debug)]
struct SuggestionRow {
    id: String,
    key: String,
    label: String,
    terms: String,
    count: u64,
}

#[derive(Template)]
#[template(path = "staff/coding.html")]
struct CodingPage {
    suggestions: Vec<SuggestionRow>,
    text: &'static Text,
    who: Who,
    id: ConsultationId,
    title: String,
    questions: Vec<QuestionRow>,
    question: String,
    question_text: String,
    themes: Vec<(String, String, Option<String>)>,
    theme_fields: Vec<(&'static str, &'static str, String)>,
    answers: Vec<AnswerRow>,
    next: Option<String>,
    errors: Vec<(String, String)>,
    done: Option<String>,
}

impl CodingPage {
    fn same(&self, a: &str, b: &str) -> bool {
        a == b
    }

    fn has_error(&self, id: &str) -> bool {
        self.errors.iter().any(|e| e.0 == id)
    }
}

/// The coding page's query.
#[derive(Debug, serde::Deserialize)]
pub(super) struct CodingQuery {
    question: Option<String>,
    cursor: Option<String>,
    done: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn coding_page(
    state: &AppState,
    staff: &Staff,
    id: ConsultationId,
    q: &CodingQuery,
    theme: &ThemeInput,
    status: StatusCode,
    errors: Vec<(String, String)>,
    done: Option<String>,
) -> Result<Response, ApiError> {
    let actor = &staff.session.actor;
    let themes = match state.app.themes(actor, id).await {
        Ok(t) => t,
        Err(AppError::NotFound(_)) => return super::not_found(),
        Err(AppError::Forbidden(m)) => {
            return message(
                StatusCode::FORBIDDEN,
                "You cannot code these responses",
                &m,
                Some("/staff"),
            );
        }
        Err(e) => return Err(e.into()),
    };
    let c = state.app.readable_consultation(Some(actor), id).await?;
    let free_text: Vec<(String, String)> = match state.app.questionnaire(Some(actor), id).await {
        Ok(questionnaire) => questionnaire
            .questions()
            .filter(|x| matches!(x.kind, QuestionKind::FreeText { .. }))
            .map(|x| (x.key.clone(), x.text.clone()))
            .collect(),
        Err(AppError::NotFound(_)) => vec![],
        Err(e) => return Err(e.into()),
    };
    let progress = if free_text.is_empty() {
        vec![]
    } else {
        state.app.coding_progress(actor, id).await?
    };
    let question = q
        .question
        .clone()
        .filter(|k| free_text.iter().any(|(key, _)| key == k))
        .or_else(|| free_text.first().map(|(k, _)| k.clone()))
        .unwrap_or_default();
    let (answers, next) = if question.is_empty() {
        (vec![], None)
    } else {
        let page = PageRequest {
            limit: 20,
            cursor: q.cursor.as_deref().and_then(Cursor::decode),
        };
        let found = state.app.responses(actor, id, None, &page).await?;
        let answers = found
            .items
            .into_iter()
            .filter_map(|r| {
                let text = r.answers.get(&question)?.as_str()?.to_owned();
                let code = r.codes.iter().find(|k| k.question == question);
                Some(AnswerRow {
                    response: r.id,
                    text,
                    themes: code.map(|k| k.themes.clone()).unwrap_or_default(),
                    note: code.and_then(|k| k.note.clone()).unwrap_or_default(),
                })
            })
            .collect();
        let next = found.next.map(|cur| {
            format!(
                "/staff/activities/{id}/coding?question={question}&cursor={}",
                cur.encode()
            )
        });
        (answers, next)
    };
    let suggestions = if question.is_empty() {
        vec![]
    } else {
        state
            .app
            .theme_suggestions(actor, id, Some(&question))
            .await?
            .suggestions
            .into_iter()
            .map(|g| SuggestionRow {
                id: g.id,
                key: g.key,
                label: g.label,
                terms: g.terms.join(", "),
                count: g.count,
            })
            .collect()
    };
    let page = CodingPage {
        suggestions,
        text: text(),
        who: super::who(state, staff).await?,
        id,
        title: c.plan.title().to_owned(),
        questions: free_text
            .iter()
            .map(|(key, qtext)| {
                let p = progress.iter().find(|p| &p.question == key);
                QuestionRow {
                    key: key.clone(),
                    text: qtext.clone(),
                    coded: p.map_or(0, |p| p.coded),
                    total: p.map_or(0, |p| p.total),
                    current: *key == question,
                }
            })
            .collect(),
        question_text: free_text
            .iter()
            .find(|(k, _)| *k == question)
            .map(|(_, t)| t.clone())
            .unwrap_or_default(),
        question,
        themes: themes.into_iter().map(|t| (t.key, t.label, t.parent)).collect(),
        theme_fields: vec![
            (
                "key",
                "Key (short, for example opening_hours)",
                theme.key.clone().unwrap_or_default(),
            ),
            ("label", "Label", theme.label.clone().unwrap_or_default()),
            (
                "description",
                "Description (optional)",
                theme.description.clone().unwrap_or_default(),
            ),
            (
                "parent",
                "Under the theme (its key; optional)",
                theme.parent.clone().unwrap_or_default(),
            ),
        ],
        answers,
        next,
        errors,
        done,
    };
    staff_page(&page, status, None)
}

/// `GET /staff/activities/{id}/coding[?question=KEY]`.
pub(super) async fn page(
    State(state): State<AppState>,
    staff: Staff,
    ActivityId(id): ActivityId,
    Query(q): Query<CodingQuery>,
) -> Result<Response, ApiError> {
    let done = match q.done.as_deref() {
        Some("theme") => Some("The theme is added to the codeframe.".to_owned()),
        Some("coded") => Some("The answer's coding is saved.".to_owned()),
        Some("accepted") => Some("The suggested theme is added and the answers it covers are coded.".to_owned()),
        Some("rejected") => Some("The suggestion is rejected: it will not be offered again.".to_owned()),
        _ => None,
    };
    coding_page(
        &state,
        &staff,
        id,
        &q,
        &ThemeInput::default(),
        StatusCode::OK,
        vec![],
        done,
    )
    .await
}

/// `POST /staff/activities/{id}/coding/themes`: a theme added to the codeframe.
pub(super) async fn add_theme(
    State(state): State<AppState>,
    ActivityId(id): ActivityId,
    Query(q): Query<CodingQuery>,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let one = |n: &str| posted.one(n).map(str::to_owned);
    let input = ThemeInput {
        key: one("key"),
        label: one("label"),
        description: one("description"),
        parent: one("parent"),
    };
    let question = q.question.clone().unwrap_or_default();
    match state.app.create_theme(&staff.session.actor, id, &input).await {
        Ok(_) => see_other(
            &format!("/staff/activities/{id}/coding?question={question}&done=theme"),
            None,
        ),
        Err(AppError::Invalid(e)) => {
            let errors = e
                .errors()
                .iter()
                .map(|f| (format!("theme-{}", f.field), f.message.clone()))
                .collect();
            coding_page(
                &state,
                &staff,
                id,
                &q,
                &input,
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            coding_page(
                &state,
                &staff,
                id,
                &q,
                &input,
                StatusCode::CONFLICT,
                vec![("theme-key".to_owned(), m)],
                None,
            )
            .await
        }
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(AppError::Forbidden(m)) => message(
            StatusCode::FORBIDDEN,
            "You cannot code these responses",
            &m,
            Some("/staff"),
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /staff/activities/{id}/coding?question=KEY`: one answer's themes and note.
pub(super) async fn code(
    State(state): State<AppState>,
    ActivityId(id): ActivityId,
    Query(q): Query<CodingQuery>,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let Some(response) = posted.one("response").and_then(|r| r.parse::<uuid::Uuid>().ok()) else {
        return super::not_found();
    };
    let question = q.question.clone().unwrap_or_default();
    let input = CodeInput {
        question: Some(question.clone()),
        themes: posted.all("themes"),
        note: posted.one("note").map(str::to_owned),
    };
    match state.app.code_answer(&staff.session.actor, id, response, &input).await {
        Ok(_) => see_other(
            &format!("/staff/activities/{id}/coding?question={question}&done=coded#answer-{response}"),
            None,
        ),
        Err(AppError::Invalid(e)) => {
            let errors = e
                .errors()
                .iter()
                .map(|f| ("theme-key".to_owned(), f.message.clone()))
                .collect();
            coding_page(
                &state,
                &staff,
                id,
                &q,
                &ThemeInput::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
            )
            .await
        }
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(AppError::Forbidden(m)) | Err(AppError::Conflict(m)) => message(
            StatusCode::CONFLICT,
            "The coding was not saved",
            &m,
            Some(&format!("/staff/activities/{id}/coding")),
        ),
        Err(e) => Err(e.into()),
    }
}

/// `POST /staff/activities/{id}/coding/suggestions?question=KEY`: a suggested theme accepted
/// (perhaps renamed: the theme added and the answers it covers coded) or rejected (not offered
/// again).
pub(super) async fn decide(
    State(state): State<AppState>,
    ActivityId(id): ActivityId,
    Query(q): Query<CodingQuery>,
    StaffForm { staff, posted }: StaffForm,
) -> Result<Response, ApiError> {
    let question = q.question.clone().unwrap_or_default();
    let accept = posted.one("action") == Some("accept");
    let decision = consult_core::SuggestionDecision {
        question: Some(question.clone()),
        suggestion: posted.one("suggestion").map(str::to_owned),
        key: posted.one("key").filter(|_| accept).map(str::to_owned),
        label: posted.one("label").filter(|_| accept).map(str::to_owned),
    };
    let actor = &staff.session.actor;
    let decided = if accept {
        state
            .app
            .accept_suggestion(actor, id, &decision)
            .await
            .map(|_| "accepted")
    } else {
        state
            .app
            .reject_suggestion(actor, id, &decision)
            .await
            .map(|()| "rejected")
    };
    match decided {
        Ok(done) => see_other(
            &format!("/staff/activities/{id}/coding?question={question}&done={done}"),
            None,
        ),
        Err(AppError::Invalid(e)) => {
            let errors = e
                .errors()
                .iter()
                .map(|f| ("theme-key".to_owned(), f.message.clone()))
                .collect();
            coding_page(
                &state,
                &staff,
                id,
                &q,
                &ThemeInput::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
                errors,
                None,
            )
            .await
        }
        Err(AppError::Conflict(m)) => {
            coding_page(
                &state,
                &staff,
                id,
                &q,
                &ThemeInput::default(),
                StatusCode::CONFLICT,
                vec![("theme-key".to_owned(), m)],
                None,
            )
            .await
        }
        Err(AppError::NotFound(_)) => super::not_found(),
        Err(AppError::Forbidden(m)) => message(
            StatusCode::FORBIDDEN,
            "You cannot code these responses",
            &m,
            Some("/staff"),
        ),
        Err(e) => Err(e.into()),
    }
}
