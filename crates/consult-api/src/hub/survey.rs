//! Answering an activity's questionnaire on the hub without script, after the GOV.UK patterns:
//! one page per section (split where a condition names a question on the same page:
//! [`consult_core::Questionnaire::pages`]), then the comments and monitoring page, then "check
//! your answers" with a "Change" button per answer, then the same use case as the API
//! ([`consult_app::App::respond`]). A quick poll is answered in one click from the activity's page.
//!
//! There is no server session: what was answered so far travels in one hidden field (`state`, the
//! [`Progress`] as JSON). Nothing in it is trusted: answers to questions no longer shown are
//! dropped on every step ([`consult_core::Questionnaire::without_hidden`]) and the core checks
//! everything again when the response is sent, so editing it gains nothing. Moving between pages
//! is not an anonymous write (only the anti-forgery token is checked); sending is (the per-client
//! limit too).

use super::forms::{Posted, csrf_for_form, form_page, message, random_token, refuse};
use super::respond::{RespondPage, area_question, monitoring_questions, notice_error};
use super::text::{ENGLISH, Text};
use crate::AppState;
use crate::error::ApiError;
use askama::Template;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDate;
use consult_core::{Consultation, OTHER, Question, QuestionKind, Questionnaire, ResponseInput, Status};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a respondent has answered so far, carried from page to page in a hidden field.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Progress {
    /// The answers given so far, as the API takes them.
    #[serde(default)]
    answers: BTreeMap<String, Value>,
    /// The questions already shown to the respondent (a page is asked again only for questions
    /// it has not shown yet, e.g. one a changed answer now shows).
    #[serde(default)]
    seen: BTreeSet<String>,
    /// The comments, once the comments page was sent.
    #[serde(default)]
    comments: Option<String>,
    /// The monitoring answers, once the comments page was sent.
    #[serde(default)]
    monitoring: BTreeMap<String, String>,
    /// The respondent's area, once the comments page was sent.
    #[serde(default)]
    area: Option<String>,
    /// Where to tell the respondent about the results, once the comments page was sent.
    #[serde(default)]
    results_notice_to: Option<String>,
    /// Whether the comments page was sent.
    #[serde(default)]
    about: bool,
}

impl Progress {
    /// The progress a form carried; none (or anything unreadable) is a fresh start.
    fn read(posted: &Posted) -> Progress {
        posted
            .raw("state")
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// As a hidden field's value.
    fn write(&self) -> Result<String, ApiError> {
        serde_json::to_string(self).map_err(|e| ApiError::Internal(format!("hub progress: {e}")))
    }

    /// Drops answers (and "seen" marks) of questions the answers no longer show.
    fn tidy(&mut self, q: &Questionnaire) {
        self.answers = q.without_hidden(&self.answers);
        let shown = q.shown(&self.answers);
        self.seen.retain(|k| shown.contains(k));
    }

    /// The response to send.
    fn input(&self, q: &Questionnaire) -> ResponseInput {
        ResponseInput {
            monitoring: self.monitoring.clone(),
            comments: self.comments.clone().filter(|c| !c.trim().is_empty()),
            channel: None,
            answers: q.without_hidden(&self.answers),
            area: self.area.clone(),
            results_notice_to: self.results_notice_to.clone(),
            notify: None,
        }
    }
}

/// Where the respondent goes next.
enum Step {
    /// A page of questions (its index in [`Questionnaire::pages`]).
    Page(usize),
    /// The comments and monitoring page.
    About,
    /// Check your answers.
    Check,
}

/// The next step after page `after` (from the start when `None`): the next page with a question
/// shown and not yet seen, else the comments page if not yet sent, else check your answers.
fn next_step(q: &Questionnaire, progress: &Progress, after: Option<usize>) -> Step {
    let shown = q.shown(&progress.answers);
    let from = after.map_or(0, |a| a + 1);
    for (i, page) in q.pages().iter().enumerate().skip(from) {
        if q.page_questions(page)
            .iter()
            .any(|x| shown.contains(&x.key) && !progress.seen.contains(&x.key))
        {
            return Step::Page(i);
        }
    }
    if progress.about { Step::Check } else { Step::About }
}

/// The form field of a question's answer (`a.<key>`).
fn name(q: &Question) -> String {
    format!("a.{}", q.key)
}

/// A number as a person writes it (`40`, not `40.0`).
fn number_text(n: f64) -> String {
    format!("{n}")
}

/// A JSON number from a whole or decimal number.
fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        Value::from(n as i64)
    } else {
        Value::from(n)
    }
}

/// The form fields that show an answer (to fill in a page again, after "Change").
fn to_fields(q: &Question, v: &Value) -> Vec<(String, String)> {
    let n = name(q);
    let mut out = Vec::new();
    let other = |out: &mut Vec<(String, String)>, o: &serde_json::Map<String, Value>| {
        out.push((n.clone(), OTHER.to_owned()));
        let text = o.get("text").and_then(Value::as_str).unwrap_or_default();
        out.push((format!("{n}.other"), text.to_owned()));
    };
    match (&q.kind, v) {
        (QuestionKind::SingleChoice { .. } | QuestionKind::FreeText { .. }, Value::String(s)) => {
            out.push((n.clone(), s.clone()));
        }
        (QuestionKind::SingleChoice { .. }, Value::Object(o)) => other(&mut out, o),
        (QuestionKind::MultipleChoice { .. }, Value::Array(items)) => {
            for item in items {
                match item {
                    Value::String(s) => out.push((n.clone(), s.clone())),
                    Value::Object(o) => other(&mut out, o),
                    _ => {}
                }
            }
        }
        (QuestionKind::Scale(_) | QuestionKind::Number { .. }, Value::Number(x)) => {
            out.push((n.clone(), x.as_f64().map(number_text).unwrap_or_default()));
        }
        (QuestionKind::Ranking { .. }, Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(k) = item.as_str() {
                    out.push((format!("{n}.{k}"), (i + 1).to_string()));
                }
            }
        }
        (QuestionKind::Date, Value::String(s)) => {
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                out.push((format!("{n}.day"), d.format("%-d").to_string()));
                out.push((format!("{n}.month"), d.format("%-m").to_string()));
                out.push((format!("{n}.year"), d.format("%Y").to_string()));
            }
        }
        (QuestionKind::Grid { .. }, Value::Object(o)) => {
            for (s, x) in o {
                out.push((format!("{n}.{s}"), x.as_f64().map(number_text).unwrap_or_default()));
            }
        }
        _ => {}
    }
    out
}

/// A question's answer from a posted page: `Ok(None)` when not answered, an error (what to do,
/// in the hub's words) when the fields cannot make an answer; otherwise the value the core
/// checks.
fn from_fields(q: &Question, posted: &Posted) -> Result<Option<Value>, &'static str> {
    let t = &ENGLISH;
    let n = name(q);
    let other = || match posted.one(&format!("{n}.other")) {
        Some(text) => Ok(serde_json::json!({ "option": OTHER, "text": text })),
        None => Err(t.enter_other),
    };
    Ok(match &q.kind {
        QuestionKind::SingleChoice { .. } => match posted.one(&n) {
            None => None,
            Some(OTHER) => Some(other()?),
            Some(k) => Some(Value::from(k)),
        },
        QuestionKind::MultipleChoice { .. } => {
            let chosen: Vec<String> = posted.all(&n).into_iter().filter(|v| !v.trim().is_empty()).collect();
            if chosen.is_empty() {
                return Ok(None);
            }
            let mut items = Vec::new();
            for k in chosen {
                items.push(if k == OTHER { other()? } else { Value::from(k) });
            }
            Some(Value::from(items))
        }
        QuestionKind::Scale(_) => posted
            .one(&n)
            .map(|v| v.parse::<i64>().map_or_else(|_| Value::from(v), Value::from)),
        QuestionKind::Ranking { options } => {
            let ranks: Vec<(&str, Option<&str>)> = options
                .iter()
                .map(|o| (o.key.as_str(), posted.one(&format!("{n}.{}", o.key))))
                .collect();
            if ranks.iter().all(|(_, r)| r.is_none()) {
                return Ok(None);
            }
            let mut ranked = Vec::new();
            for (k, r) in ranks {
                match r
                    .and_then(|r| r.parse::<usize>().ok())
                    .filter(|r| (1..=options.len()).contains(r))
                {
                    Some(r) => ranked.push((r, k)),
                    None => return Err(t.rank_every),
                }
            }
            let distinct: BTreeSet<usize> = ranked.iter().map(|(r, _)| *r).collect();
            if distinct.len() != ranked.len() {
                return Err(t.rank_different);
            }
            ranked.sort();
            Some(Value::from(ranked.into_iter().map(|(_, k)| k).collect::<Vec<_>>()))
        }
        QuestionKind::Number { .. } => match posted.one(&n) {
            None => None,
            Some(v) => {
                let cleaned: String = v.chars().filter(|c| *c != ',' && !c.is_whitespace()).collect();
                match cleaned.parse::<f64>() {
                    Ok(x) if x.is_finite() => Some(number_value(x)),
                    _ => return Err(t.enter_number),
                }
            }
        },
        QuestionKind::Date => {
            let part = |p: &str| posted.one(&format!("{n}.{p}"));
            match (part("day"), part("month"), part("year")) {
                (None, None, None) => None,
                (Some(d), Some(m), Some(y)) => {
                    let date = match (d.parse::<u32>(), m.parse::<u32>(), y.parse::<i32>()) {
                        (Ok(d), Ok(m), Ok(y)) if y.to_string().len() == 4 => NaiveDate::from_ymd_opt(y, m, d),
                        _ => None,
                    };
                    match date {
                        Some(date) => Some(Value::from(date.format("%Y-%m-%d").to_string())),
                        None => return Err(t.date_real),
                    }
                }
                _ => return Err(t.date_incomplete),
            }
        }
        QuestionKind::FreeText { .. } => posted.one(&n).map(Value::from),
        QuestionKind::Grid { statements, .. } => {
            let points: serde_json::Map<String, Value> = statements
                .iter()
                .filter_map(|s| {
                    let v = posted.one(&format!("{n}.{}", s.key))?;
                    Some((
                        s.key.clone(),
                        v.parse::<i64>().map_or_else(|_| Value::from(v), Value::from),
                    ))
                })
                .collect();
            (!points.is_empty()).then_some(Value::Object(points))
        }
    })
}

/// An option (radio or checkbox) of a question on a page.
#[derive(Debug)]
pub(super) struct OptionView {
    id: String,
    value: String,
    label: String,
    checked: bool,
}

/// A ranked option: its select of ranks.
#[derive(Debug)]
pub(super) struct RankView {
    id: String,
    name: String,
    label: String,
    ranks: Vec<(String, bool)>,
}

/// A statement of a grid: its radios of the scale.
#[derive(Debug)]
pub(super) struct StatementView {
    name: String,
    text: String,
    points: Vec<OptionView>,
}

/// A question on a page, ready for the template.
#[derive(Debug)]
pub(super) struct QuestionView {
    /// The id of its first field, which the error summary links to.
    anchor: String,
    name: String,
    /// `radios`, `checkboxes`, `ranking`, `number`, `date`, `text` or `grid`.
    kind: &'static str,
    text: String,
    required: bool,
    hint: Option<String>,
    /// What the type asks (the number of choices, a range, a length).
    rule: Option<String>,
    /// `aria-describedby`: the hint and the error.
    described: String,
    error: Option<String>,
    options: Vec<OptionView>,
    other: Option<OptionView>,
    other_text: String,
    value: String,
    day: String,
    month: String,
    year: String,
    ranks: Vec<RankView>,
    statements: Vec<StatementView>,
}

fn field_value<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

fn field_has(fields: &[(String, String)], name: &str, value: &str) -> bool {
    fields.iter().any(|(k, v)| k == name && v == value)
}

/// The radios of a scale (each point, the end points with their labels).
fn points(scale: &consult_core::Scale, id: &str, name: &str, fields: &[(String, String)]) -> Vec<OptionView> {
    (scale.min..=scale.max)
        .enumerate()
        .map(|(i, p)| {
            let end = if p == scale.min {
                scale.min_label.as_deref()
            } else if p == scale.max {
                scale.max_label.as_deref()
            } else {
                None
            };
            OptionView {
                id: if i == 0 {
                    id.to_owned()
                } else {
                    format!("{id}-{}", i + 1)
                },
                value: p.to_string(),
                label: end.map_or_else(|| p.to_string(), |l| format!("{p} ({l})")),
                checked: field_has(fields, name, &p.to_string()),
            }
        })
        .collect()
}

/// A question as the page shows it, filled from `fields`, with its error if any.
fn question_view(q: &Question, fields: &[(String, String)], error: Option<String>) -> QuestionView {
    let t = &ENGLISH;
    let n = name(q);
    let anchor = format!("q-{}", q.key);
    let choice_options = |options: &[consult_core::Choice]| -> Vec<OptionView> {
        options
            .iter()
            .enumerate()
            .map(|(i, o)| OptionView {
                id: if i == 0 {
                    anchor.clone()
                } else {
                    format!("{anchor}-{}", i + 1)
                },
                value: o.key.clone(),
                label: o.label.clone(),
                checked: field_has(fields, &n, &o.key),
            })
            .collect()
    };
    let other_option = |other: bool| {
        other.then(|| OptionView {
            id: format!("{anchor}-other"),
            value: OTHER.to_owned(),
            label: t.other_label.to_owned(),
            checked: field_has(fields, &n, OTHER),
        })
    };
    let mut v = QuestionView {
        anchor: anchor.clone(),
        name: n.clone(),
        kind: "radios",
        text: q.text.clone(),
        required: q.required,
        hint: q.hint.clone(),
        rule: None,
        described: String::new(),
        error,
        options: Vec::new(),
        other: None,
        other_text: field_value(fields, &format!("{n}.other")).to_owned(),
        value: field_value(fields, &n).to_owned(),
        day: field_value(fields, &format!("{n}.day")).to_owned(),
        month: field_value(fields, &format!("{n}.month")).to_owned(),
        year: field_value(fields, &format!("{n}.year")).to_owned(),
        ranks: Vec::new(),
        statements: Vec::new(),
    };
    match &q.kind {
        QuestionKind::SingleChoice { options, other } => {
            v.options = choice_options(options);
            v.other = other_option(*other);
        }
        QuestionKind::MultipleChoice {
            options,
            other,
            max_choices,
        } => {
            v.kind = "checkboxes";
            v.options = choice_options(options);
            v.other = other_option(*other);
            v.rule = Some(match max_choices {
                Some(m) => format!("{} {m}.", t.select_up_to),
                None => t.select_all.to_owned(),
            });
        }
        QuestionKind::Scale(scale) => {
            v.options = points(scale, &anchor, &n, fields);
            v.rule = Some(format!(
                "{} {} {} {}.",
                t.scale_from,
                v.options.first().map_or("", |o| o.label.as_str()),
                t.scale_to,
                v.options.last().map_or("", |o| o.label.as_str())
            ));
        }
        QuestionKind::Ranking { options } => {
            v.kind = "ranking";
            v.rule = Some(t.ranking_hint.to_owned());
            v.ranks = options
                .iter()
                .enumerate()
                .map(|(i, o)| {
                    let name = format!("{n}.{}", o.key);
                    let chosen = field_value(fields, &name);
                    RankView {
                        id: if i == 0 {
                            anchor.clone()
                        } else {
                            format!("{anchor}-{}", i + 1)
                        },
                        label: o.label.clone(),
                        ranks: (1..=options.len())
                            .map(|r| (r.to_string(), chosen == r.to_string()))
                            .collect(),
                        name,
                    }
                })
                .collect();
        }
        QuestionKind::Number { min, max } => {
            v.kind = "number";
            v.rule = Some(match (min, max) {
                (Some(a), Some(b)) => format!("{} {} {a} {} {b}.", t.number_hint, t.number_from, t.scale_to),
                (Some(a), None) => format!("{} {} {a}.", t.number_hint, t.number_at_least),
                (None, Some(b)) => format!("{} {} {b}.", t.number_hint, t.number_at_most),
                (None, None) => format!("{}.", t.number_hint),
            });
        }
        QuestionKind::Date => {
            v.kind = "date";
            v.rule = Some(t.date_hint.to_owned());
        }
        QuestionKind::FreeText { max_length } => {
            v.kind = "text";
            v.rule = Some(format!("{} {max_length} {}", t.max_length_hint, t.characters));
        }
        QuestionKind::Grid { statements, scale } => {
            v.kind = "grid";
            v.statements = statements
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let name = format!("{n}.{}", s.key);
                    let id = if i == 0 {
                        anchor.clone()
                    } else {
                        format!("{anchor}-{}", s.key)
                    };
                    StatementView {
                        points: points(scale, &id, &name, fields),
                        name,
                        text: s.text.clone(),
                    }
                })
                .collect();
            let ends = v.statements.first().map(|s| {
                (
                    s.points.first().map_or(String::new(), |o| o.label.clone()),
                    s.points.last().map_or(String::new(), |o| o.label.clone()),
                )
            });
            v.rule = ends.map(|(a, b)| format!("{} {a} {} {b}.", t.scale_from, t.scale_to));
        }
    }
    let mut described = Vec::new();
    if v.hint.is_some() || v.rule.is_some() {
        described.push(format!("{anchor}-hint"));
    }
    if v.error.is_some() {
        described.push(format!("{anchor}-error"));
    }
    v.described = described.join(" ");
    v
}

/// A page of questions.
#[derive(Template)]
#[template(path = "survey_page.html")]
struct SurveyPage {
    text: &'static Text,
    id: String,
    title: String,
    section: String,
    intro: Option<String>,
    errors: Vec<(String, String)>,
    csrf: String,
    key: String,
    state: String,
    page: usize,
    questions: Vec<QuestionView>,
}

/// One answer on "check your answers".
#[derive(Debug)]
struct CheckRow {
    question: String,
    lines: Vec<String>,
    /// The step the "Change" button returns to: a page number or `about`.
    change: String,
}

/// A section on "check your answers".
#[derive(Debug)]
struct CheckSection {
    /// The questionnaire's section (its follow-up pages join it).
    section: usize,
    title: String,
    rows: Vec<CheckRow>,
}

/// Check your answers.
#[derive(Template)]
#[template(path = "survey_check.html")]
struct CheckPage {
    text: &'static Text,
    id: String,
    title: String,
    errors: Vec<(String, String)>,
    csrf: String,
    key: String,
    state: String,
    sections: Vec<CheckSection>,
}

/// What the hub shows for an error on a question: `<question> – <problem>`.
fn question_error(q: &Question, message: &str) -> String {
    let t = &ENGLISH;
    let problem = if message.starts_with("is required") {
        match q.kind {
            QuestionKind::Grid { .. } if message.contains("grid") => t.grid_every,
            _ => t.answer_this,
        }
    } else {
        message
    };
    format!("{} – {problem}", q.text)
}

/// The activity and the page's fixed parts that every step shares.
struct Ctx<'a> {
    state: &'a AppState,
    headers: &'a HeaderMap,
    c: &'a Consultation,
    q: &'a Questionnaire,
    csrf: String,
    cookie: Option<axum::http::HeaderValue>,
    key: String,
}

impl Ctx<'_> {
    /// A page of questions, filled from `fields`, with errors by question key.
    fn page(
        self,
        index: usize,
        progress: &Progress,
        fields: &[(String, String)],
        errors: &BTreeMap<String, String>,
        status: StatusCode,
    ) -> Result<Response, ApiError> {
        let pages = self.q.pages();
        let Some(page) = pages.get(index) else {
            return Err(ApiError::Internal(format!("no page {index}")));
        };
        let section = &self.q.sections[page.section];
        let shown = self.q.shown(&progress.answers);
        let questions: Vec<QuestionView> = self
            .q
            .page_questions(page)
            .iter()
            .filter(|x| shown.contains(&x.key))
            .map(|x| question_view(x, fields, errors.get(&x.key).cloned()))
            .collect();
        let summary = questions
            .iter()
            .filter_map(|v| Some((v.anchor.clone(), v.error.clone()?)))
            .collect();
        let view = SurveyPage {
            text: &ENGLISH,
            id: self.c.id.to_string(),
            title: self.c.plan.title().to_owned(),
            section: section.title.clone(),
            intro: section.intro.clone().filter(|_| page.first_of_section),
            errors: summary,
            csrf: self.csrf,
            key: self.key,
            state: progress.write()?,
            page: index,
            questions,
        };
        form_page(&view, status, self.cookie)
    }

    /// A page of questions filled from the answers so far.
    fn page_from_answers(self, index: usize, progress: &Progress) -> Result<Response, ApiError> {
        let fields: Vec<(String, String)> = self
            .q
            .pages()
            .get(index)
            .map(|p| self.q.page_questions(p))
            .unwrap_or_default()
            .iter()
            .filter_map(|x| Some(to_fields(x, progress.answers.get(&x.key)?)))
            .flatten()
            .collect();
        self.page(index, progress, &fields, &BTreeMap::new(), StatusCode::OK)
    }

    /// The comments and monitoring page.
    async fn about(
        self,
        progress: &Progress,
        errors: Vec<(String, String)>,
        status: StatusCode,
    ) -> Result<Response, ApiError> {
        let scheme = self.state.app.organisation_scheme(self.c.organisation_id).await?;
        let form = RespondPage {
            text: &ENGLISH,
            id: self.c.id.to_string(),
            title: self.c.plan.title().to_owned(),
            closed: None,
            comments_error: errors.iter().find(|(a, _)| a == "comments").map(|(_, m)| m.clone()),
            questions: monitoring_questions(&scheme, &progress.monitoring, &errors),
            area: area_question(
                &self.state.app.activity_areas(self.c).await?,
                progress.area.as_deref(),
                &errors,
            ),
            notice_to: progress.results_notice_to.clone().unwrap_or_default(),
            notice_error: notice_error(&errors),
            errors,
            csrf: self.csrf,
            key: self.key,
            comments: progress.comments.clone().unwrap_or_default(),
            state: Some(progress.write()?),
        };
        form_page(&form, status, self.cookie)
    }

    /// Check your answers.
    async fn check(
        self,
        progress: &Progress,
        errors: Vec<(String, String)>,
        status: StatusCode,
    ) -> Result<Response, ApiError> {
        let t = &ENGLISH;
        let shown = self.q.shown(&progress.answers);
        let mut sections: Vec<CheckSection> = Vec::new();
        for (i, page) in self.q.pages().iter().enumerate() {
            let rows: Vec<CheckRow> = self
                .q
                .page_questions(page)
                .iter()
                .filter(|x| shown.contains(&x.key))
                .map(|x| CheckRow {
                    question: x.text.clone(),
                    lines: progress
                        .answers
                        .get(&x.key)
                        .map_or_else(|| vec![t.not_answered.to_owned()], |v| answer_lines(x, v)),
                    change: i.to_string(),
                })
                .collect();
            if rows.is_empty() {
                continue;
            }
            let title = &self.q.sections[page.section].title;
            match sections.last_mut() {
                Some(s) if s.section == page.section => s.rows.extend(rows),
                _ => sections.push(CheckSection {
                    section: page.section,
                    title: title.clone(),
                    rows,
                }),
            }
        }
        let scheme = self.state.app.organisation_scheme(self.c.organisation_id).await?;
        let mut about = vec![CheckRow {
            question: t.comments_label.to_owned(),
            lines: vec![
                progress
                    .comments
                    .clone()
                    .filter(|c| !c.trim().is_empty())
                    .unwrap_or_else(|| t.not_answered.to_owned()),
            ],
            change: "about".to_owned(),
        }];
        let areas = self.state.app.activity_areas(self.c).await?;
        if !areas.is_empty() {
            let line = progress
                .area
                .as_deref()
                .map(|code| {
                    areas
                        .iter()
                        .find(|a| a.code.as_str() == code)
                        .map_or_else(|| code.to_owned(), |a| a.name.clone())
                })
                .unwrap_or_else(|| t.not_answered.to_owned());
            about.push(CheckRow {
                question: t.area_label.to_owned(),
                lines: vec![line],
                change: "about".to_owned(),
            });
        }
        for ch in &scheme.characteristics {
            let answer = progress.monitoring.get(&ch.key).map(String::as_str);
            let line = match answer {
                None => t.not_answered.to_owned(),
                Some(consult_core::PREFER_NOT_TO_SAY) => t.prefer_not_to_say.to_owned(),
                Some(k) => ch
                    .categories
                    .iter()
                    .find(|c| c.key == k)
                    .map_or_else(|| k.to_owned(), |c| c.label.clone()),
            };
            about.push(CheckRow {
                question: ch.label.clone(),
                lines: vec![line],
                change: "about".to_owned(),
            });
        }
        if let Some(to) = &progress.results_notice_to {
            about.push(CheckRow {
                question: t.notice_heading.to_owned(),
                lines: vec![to.clone()],
                change: "about".to_owned(),
            });
        }
        sections.push(CheckSection {
            section: self.q.sections.len(),
            title: t.about_you_check.to_owned(),
            rows: about,
        });
        let view = CheckPage {
            text: t,
            id: self.c.id.to_string(),
            title: self.c.plan.title().to_owned(),
            errors,
            csrf: self.csrf,
            key: self.key,
            state: progress.write()?,
            sections,
        };
        form_page(&view, status, self.cookie)
    }

    /// Goes to a step.
    async fn go(self, step: Step, progress: &Progress) -> Result<Response, ApiError> {
        match step {
            Step::Page(i) => self.page_from_answers(i, progress),
            Step::About => self.about(progress, Vec::new(), StatusCode::OK).await,
            Step::Check => self.check(progress, Vec::new(), StatusCode::OK).await,
        }
    }
}

/// An answer as "check your answers" shows it, one line per part.
fn answer_lines(q: &Question, v: &Value) -> Vec<String> {
    let t = &ENGLISH;
    let label = |k: &str| {
        q.kind
            .options()
            .iter()
            .find(|o| o.key == k)
            .map_or_else(|| k.to_owned(), |o| o.label.clone())
    };
    let item = |v: &Value| match v {
        Value::String(s) => label(s),
        Value::Object(o) => format!(
            "{}: {}",
            t.other_label,
            o.get("text").and_then(Value::as_str).unwrap_or_default()
        ),
        other => other.to_string(),
    };
    let point = |scale: &consult_core::Scale, n: &Value| {
        let p = n.as_i64().unwrap_or_default();
        let end = if p == scale.min {
            scale.min_label.as_deref()
        } else if p == scale.max {
            scale.max_label.as_deref()
        } else {
            None
        };
        end.map_or_else(|| p.to_string(), |l| format!("{p} ({l})"))
    };
    match (&q.kind, v) {
        (QuestionKind::Ranking { .. }, Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, k)| format!("{}. {}", i + 1, item(k)))
            .collect(),
        (_, Value::Array(items)) => items.iter().map(item).collect(),
        (QuestionKind::Scale(scale), n) => vec![point(scale, n)],
        (QuestionKind::Number { .. }, Value::Number(n)) => vec![n.as_f64().map(number_text).unwrap_or_default()],
        (QuestionKind::Date, Value::String(s)) => vec![
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_or_else(|_| s.clone(), |d| d.format("%-d %B %Y").to_string()),
        ],
        (QuestionKind::Grid { statements, scale }, Value::Object(o)) => statements
            .iter()
            .filter_map(|s| Some(format!("{}: {}", s.text, point(scale, o.get(&s.key)?))))
            .collect(),
        (QuestionKind::FreeText { .. }, Value::String(s)) => vec![s.clone()],
        (_, v) => vec![item(v)],
    }
}

/// The activity's questionnaire, if it has one.
pub(super) async fn questionnaire_of(state: &AppState, c: &Consultation) -> Result<Option<Questionnaire>, ApiError> {
    match state.app.questionnaire(None, c.id).await {
        Ok(q) => Ok(Some(q)),
        Err(consult_app::AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The first step of answering a questionnaire (`GET .../respond`).
pub(super) async fn start(
    state: &AppState,
    c: &Consultation,
    q: &Questionnaire,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let (csrf, cookie) = csrf_for_form(state, headers).await?;
    let ctx = Ctx {
        state,
        headers,
        c,
        q,
        csrf,
        cookie,
        key: random_token()?,
    };
    let progress = Progress::default();
    ctx.go(next_step(q, &progress, None), &progress).await
}

/// The page that says the activity takes no responses now.
async fn closed(
    state: &AppState,
    c: &Consultation,
    headers: &HeaderMap,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let (csrf, cookie) = csrf_for_form(state, headers).await?;
    let form = RespondPage {
        text: &ENGLISH,
        id: c.id.to_string(),
        title: c.plan.title().to_owned(),
        closed: Some(ENGLISH.not_open.to_owned()),
        errors: Vec::new(),
        csrf,
        key: String::new(),
        comments: String::new(),
        comments_error: None,
        questions: Vec::new(),
        area: None,
        notice_to: String::new(),
        notice_error: None,
        state: None,
    };
    form_page(&form, status, cookie)
}

/// Whether the activity takes responses today.
fn is_open(state: &AppState, c: &Consultation) -> bool {
    c.status_on(state.app.today()) == Status::Open
}

/// The closed page on `GET`, when the activity takes no responses.
pub(super) async fn closed_form(state: &AppState, c: &Consultation, headers: &HeaderMap) -> Result<Response, ApiError> {
    closed(state, c, headers, StatusCode::OK).await
}

/// Receives a step of answering a questionnaire (`POST .../respond`): a page of questions
/// (`step=page`, `page=N`), the comments page (`step=about`), "check your answers" (`step=check`
/// with `change=N|about` or `send`), or a quick poll's one click (`step=poll`).
pub(super) async fn submit(
    state: &AppState,
    client: crate::extract::ClientAddr,
    c: &Consultation,
    q: &Questionnaire,
    headers: &HeaderMap,
    posted: Posted,
) -> Result<Response, ApiError> {
    let back = format!("/activities/{}", c.id);
    if let Some(refusal) = refuse(state, headers, &posted, None, back.clone()).await? {
        return Ok(refusal);
    }
    if !is_open(state, c) {
        return closed(state, c, headers, StatusCode::CONFLICT).await;
    }
    let (csrf, cookie) = csrf_for_form(state, headers).await?;
    let key = posted
        .one("key")
        .filter(|k| k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned);
    let ctx = Ctx {
        state,
        headers,
        c,
        q,
        csrf,
        cookie,
        key: key.clone().map_or_else(random_token, Ok)?,
    };
    let mut progress = Progress::read(&posted);
    progress.tidy(q);
    let pages = q.pages();
    match posted.one("step").unwrap_or_default() {
        "page" => {
            let Some(index) = posted
                .one("page")
                .and_then(|p| p.parse::<usize>().ok())
                .filter(|i| *i < pages.len())
            else {
                return ctx.go(next_step(q, &progress, None), &progress).await;
            };
            let shown = q.shown(&progress.answers);
            let on_page: Vec<&Question> = q
                .page_questions(&pages[index])
                .iter()
                .filter(|x| shown.contains(&x.key))
                .collect();
            let mut errors: BTreeMap<String, String> = BTreeMap::new();
            for x in &on_page {
                progress.answers.remove(&x.key);
                match from_fields(x, &posted) {
                    Ok(Some(v)) => {
                        progress.answers.insert(x.key.clone(), v);
                    }
                    Ok(None) => {}
                    Err(problem) => {
                        errors.insert(x.key.clone(), format!("{} – {problem}", x.text));
                    }
                }
            }
            // The core's check of this page's answers (the rest is checked when sending).
            if let Err(e) = q.check_answers(&progress.answers) {
                for err in e.errors() {
                    let Some(rest) = err.field.strip_prefix("answers.") else {
                        continue;
                    };
                    let k = rest.split('.').next().unwrap_or(rest);
                    if let Some(x) = on_page.iter().find(|x| x.key == k) {
                        errors
                            .entry(x.key.clone())
                            .or_insert_with(|| question_error(x, &err.message));
                    }
                }
            }
            if !errors.is_empty() {
                let fields: Vec<(String, String)> = posted.0.clone();
                return ctx.page(index, &progress, &fields, &errors, StatusCode::UNPROCESSABLE_ENTITY);
            }
            progress.seen.extend(on_page.iter().map(|x| x.key.clone()));
            progress.tidy(q);
            ctx.go(next_step(q, &progress, Some(index)), &progress).await
        }
        "about" => {
            progress.comments = posted.raw("comments").map(str::to_owned);
            progress.area = posted
                .raw("area")
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned);
            progress.monitoring = posted
                .0
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("m.")?.to_owned(), v.clone())))
                .filter(|(_, v)| !v.is_empty())
                .collect();
            progress.results_notice_to = posted
                .raw("results_notice_to")
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned);
            let scheme = state.app.organisation_scheme(c.organisation_id).await?;
            let mut errors: Vec<(String, String)> = match scheme.parse_answers(progress.monitoring.clone()) {
                Ok(_) => Vec::new(),
                Err(e) => e
                    .errors()
                    .iter()
                    .filter_map(|x| {
                        Some((
                            format!("m-{}-1", x.field.strip_prefix("monitoring.")?),
                            x.message.clone(),
                        ))
                    })
                    .collect(),
            };
            if progress
                .results_notice_to
                .as_deref()
                .is_some_and(|a| consult_core::message_address(a).is_none())
            {
                errors.push(("results_notice_to".to_owned(), ENGLISH.notice_invalid.to_owned()));
            }
            if !errors.is_empty() {
                return ctx.about(&progress, errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
            progress.about = true;
            ctx.go(next_step(q, &progress, None), &progress).await
        }
        "check" => match posted.one("change") {
            Some("about") => ctx.about(&progress, Vec::new(), StatusCode::OK).await,
            Some(p) => match p.parse::<usize>().ok().filter(|i| *i < pages.len()) {
                Some(i) => ctx.page_from_answers(i, &progress),
                None => ctx.check(&progress, Vec::new(), StatusCode::OK).await,
            },
            None => send(ctx, client, progress, key, back).await,
        },
        "poll" => poll(ctx, client, &posted, key, back).await,
        _ => ctx.go(next_step(q, &progress, None), &progress).await,
    }
}

/// Sends the response with the hub's idempotency key: the thank-you page, or the step to correct.
async fn send(
    ctx: Ctx<'_>,
    client: crate::extract::ClientAddr,
    progress: Progress,
    key: Option<String>,
    back: String,
) -> Result<Response, ApiError> {
    let t = &ENGLISH;
    let state = ctx.state;
    // Sending is the anonymous write: the per-client limit counts it (moving between pages not).
    match state.rate.check(client.0) {
        Err(ApiError::TooManyRequests(_)) => {
            return message(
                StatusCode::TOO_MANY_REQUESTS,
                t.too_many_title,
                t.too_many_body,
                Some(back),
                None,
            );
        }
        Err(other) => return Err(other),
        Ok(()) => {}
    }
    let input = progress.input(ctx.q);
    let hub_key = key.as_deref().map(|k| format!("hub:{k}"));
    let who = crate::extract::Caller::identity(ctx.headers, client);
    let idempotency = hub_key
        .as_deref()
        .map(|key| consult_app::Idempotency { key, caller: &who });
    match state.app.respond(None, ctx.c.id, input, idempotency).await {
        Ok(stored) => message(
            StatusCode::OK,
            t.thanks_title,
            t.thanks_body,
            Some(back),
            Some(stored.id.to_string()),
        ),
        Err(consult_app::AppError::Conflict(_)) => closed(state, ctx.c, ctx.headers, StatusCode::CONFLICT).await,
        Err(consult_app::AppError::Invalid(e)) => {
            // The first question with an error: its page, the errors beside its questions.
            let pages = ctx.q.pages();
            let mut by_question: BTreeMap<String, String> = BTreeMap::new();
            let mut about: Vec<(String, String)> = Vec::new();
            let mut other: Vec<(String, String)> = Vec::new();
            for x in e.errors() {
                if let Some(rest) = x.field.strip_prefix("answers.") {
                    let k = rest.split('.').next().unwrap_or(rest);
                    match ctx.q.question(k) {
                        Some(question) => {
                            by_question
                                .entry(k.to_owned())
                                .or_insert_with(|| question_error(question, &x.message));
                        }
                        None => other.push(("main".to_owned(), x.message.clone())),
                    }
                } else if let Some(m) = x.field.strip_prefix("monitoring.") {
                    about.push((format!("m-{m}-1"), x.message.clone()));
                } else if x.field == "area" {
                    about.push(("area-1".to_owned(), x.message.clone()));
                } else if x.field == "results_notice_to" {
                    about.push(("results_notice_to".to_owned(), t.notice_invalid.to_owned()));
                } else if x.field == "comments" {
                    let m = if input_is_empty(&progress) {
                        t.need_an_answer.to_owned()
                    } else {
                        x.message.clone()
                    };
                    about.push(("comments".to_owned(), m));
                } else {
                    other.push(("main".to_owned(), format!("{}: {}", x.field, x.message)));
                }
            }
            let first_page = pages
                .iter()
                .position(|p| ctx.q.page_questions(p).iter().any(|x| by_question.contains_key(&x.key)));
            if let Some(i) = first_page {
                let fields: Vec<(String, String)> = ctx
                    .q
                    .page_questions(&pages[i])
                    .iter()
                    .filter_map(|x| Some(to_fields(x, progress.answers.get(&x.key)?)))
                    .flatten()
                    .collect();
                ctx.page(i, &progress, &fields, &by_question, StatusCode::UNPROCESSABLE_ENTITY)
            } else if !about.is_empty() {
                ctx.about(&progress, about, StatusCode::UNPROCESSABLE_ENTITY).await
            } else {
                ctx.check(&progress, other, StatusCode::UNPROCESSABLE_ENTITY).await
            }
        }
        Err(other) => Err(other.into()),
    }
}

/// Whether nothing at all was answered.
fn input_is_empty(progress: &Progress) -> bool {
    progress.answers.is_empty()
        && progress.monitoring.is_empty()
        && progress.comments.as_deref().is_none_or(|c| c.trim().is_empty())
}

/// A quick poll's one click: the answer alone, no monitoring step, then the thank-you page.
async fn poll(
    ctx: Ctx<'_>,
    client: crate::extract::ClientAddr,
    posted: &Posted,
    key: Option<String>,
    back: String,
) -> Result<Response, ApiError> {
    let t = &ENGLISH;
    let Some(question) = ctx.q.quick_poll() else {
        let start = next_step(ctx.q, &Progress::default(), None);
        return ctx.go(start, &Progress::default()).await;
    };
    let mut progress = Progress::default();
    if let Some(v) = posted.one(&name(question)) {
        progress.answers.insert(question.key.clone(), Value::from(v));
    }
    if progress.answers.is_empty() {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            t.send_failed,
            t.need_an_answer,
            Some(back),
            None,
        );
    }
    send(ctx, client, progress, key, back).await
}

/// A quick poll on the activity's page: the question and one button per option.
#[derive(Debug)]
pub(super) struct PollView {
    pub(super) legend: String,
    pub(super) hint: Option<String>,
    pub(super) name: String,
    pub(super) options: Vec<(String, String)>,
    pub(super) csrf: String,
    pub(super) key: String,
}

/// The quick poll of an open activity whose questionnaire is one, with the anti-forgery token
/// (and the cookie to set, if the browser has none).
pub(super) async fn poll_view(
    state: &AppState,
    c: &Consultation,
    headers: &HeaderMap,
) -> Result<Option<(PollView, Option<axum::http::HeaderValue>)>, ApiError> {
    if !is_open(state, c) {
        return Ok(None);
    }
    let Some(q) = questionnaire_of(state, c).await? else {
        return Ok(None);
    };
    let Some(question) = q.quick_poll() else {
        return Ok(None);
    };
    let (csrf, cookie) = csrf_for_form(state, headers).await?;
    Ok(Some((
        PollView {
            legend: question.text.clone(),
            hint: question.hint.clone(),
            name: name(question),
            options: question
                .kind
                .options()
                .iter()
                .map(|o| (o.key.clone(), o.label.clone()))
                .collect(),
            csrf,
            key: random_token()?,
        },
        cookie,
    )))
}
