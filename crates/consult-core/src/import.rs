//! Survey-tool exports as answers to an activity's questionnaire: which column holds each
//! question (or each option, statement or rank), and what the tool's words mean (`F` ->
//! `female`, `Strongly agree` -> `5`).
//!
//! [`QuestionColumns::resolve`] checks a mapping against the questionnaire and the file's header
//! once; [`ResolvedQuestions::answers`] turns one row into the API's `answers` object, which is
//! then checked like any response (`Questionnaire::check_answers`). A cell that cannot be read is
//! reported by its line and column (`line[4].answers.q1`: "column `Q1`: `Maybe` is not ...").

use crate::error::ValidationErrors;
use crate::questionnaire::{OTHER, Question, QuestionKind, Questionnaire};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Where one question's answers are in a survey export.
///
/// A column name alone (`"q1": "Q1 How satisfied are you?"`) reads the whole answer from that
/// column; the object form says more.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum QuestionColumns {
    /// The one column holding the answer.
    Column(String),
    /// Columns and value maps.
    Mapped(QuestionMapping),
}

/// How a question's answer is read from a survey export's columns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuestionMapping {
    /// One column with the whole answer: an option, a number, a date, text; for a multiple
    /// choice or a ranking, the options in one cell split by `separator` (a ranking in order).
    pub column: Option<String>,
    /// What splits several options in one cell (default `;`).
    pub separator: Option<String>,
    /// A column per part, by its key: for a multiple choice, each option's column (any cell
    /// other than empty, `0`, `no` or `false` chooses it); for a ranking, each option's column
    /// holding its rank (1 first); for a grid, each statement's column holding its point.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// The column holding the "other, please specify" text.
    pub other: Option<String>,
    /// What a cell's words mean, before they are read: `{ "F": "female", "Strongly agree": "5" }`
    /// (matched ignoring case and surrounding spaces).
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

impl QuestionColumns {
    fn mapping(&self) -> QuestionMapping {
        match self {
            QuestionColumns::Column(c) => QuestionMapping {
                column: Some(c.clone()),
                ..QuestionMapping::default()
            },
            QuestionColumns::Mapped(m) => m.clone(),
        }
    }
}

/// A column of the file: its position and its name as written in the header.
#[derive(Debug, Clone)]
struct Col {
    index: usize,
    name: String,
}

/// One question's mapping, checked against the questionnaire and the header.
#[derive(Debug, Clone)]
struct Resolved {
    question: Question,
    column: Option<Col>,
    separator: String,
    parts: Vec<(String, Col)>,
    other: Option<Col>,
    values: BTreeMap<String, String>,
}

/// Every mapped question, checked against the questionnaire and the file's header.
#[derive(Debug, Clone, Default)]
pub struct ResolvedQuestions(Vec<Resolved>);

fn normalise(s: &str) -> String {
    s.trim().to_lowercase()
}

/// Resolves the question mappings of an import against `questionnaire` and `header`: every
/// question key, column, option and statement must exist, and the shape must suit the type.
/// Errors are named `mapping.questions.<key>...`.
pub fn resolve_questions(
    mappings: &BTreeMap<String, QuestionColumns>,
    questionnaire: Option<&Questionnaire>,
    header: &[String],
) -> Result<ResolvedQuestions, ValidationErrors> {
    let mut e = ValidationErrors::new();
    if mappings.is_empty() {
        return Ok(ResolvedQuestions::default());
    }
    let Some(questionnaire) = questionnaire else {
        e.push(
            "mapping.questions",
            "this activity has no questionnaire; map no questions",
        );
        return Err(e);
    };
    let find = |e: &mut ValidationErrors, field: String, name: &str| -> Option<Col> {
        match header.iter().position(|h| h.trim() == name.trim()) {
            Some(index) => Some(Col {
                index,
                name: name.trim().to_owned(),
            }),
            None => {
                e.push(field, format!("no column `{name}` in the file"));
                None
            }
        }
    };
    let mut out = Vec::new();
    for (key, columns) in mappings {
        let at = format!("mapping.questions.{key}");
        let Some(question) = questionnaire.question(key) else {
            e.push(at, format!("the questionnaire has no question `{key}`"));
            continue;
        };
        let m = columns.mapping();
        let column = m
            .column
            .as_deref()
            .and_then(|c| find(&mut e, format!("{at}.column"), c));
        let other = m.other.as_deref().and_then(|c| find(&mut e, format!("{at}.other"), c));
        let separator = m.separator.clone().unwrap_or_else(|| ";".to_owned());
        if separator.is_empty() {
            e.push(format!("{at}.separator"), "must not be empty");
        }
        // The keys `columns` may name: options of a multiple choice or ranking, statements of
        // a grid; no other type reads a column per part.
        let part_keys: Vec<&str> = match &question.kind {
            QuestionKind::MultipleChoice { options, .. } | QuestionKind::Ranking { options } => {
                options.iter().map(|o| o.key.as_str()).collect()
            }
            QuestionKind::Grid { statements, .. } => statements.iter().map(|s| s.key.as_str()).collect(),
            _ => Vec::new(),
        };
        let mut parts = Vec::new();
        for (part, name) in &m.columns {
            if part_keys.is_empty() {
                e.push(
                    format!("{at}.columns"),
                    format!(
                        "a {} question is read from one `column`; `columns` are for multiple choice, ranking and grid questions",
                        question.kind.question_type().as_str()
                    ),
                );
                break;
            }
            if !part_keys.contains(&part.as_str()) {
                e.push(
                    format!("{at}.columns.{part}"),
                    format!("`{part}` is not one of {key}'s keys ({})", part_keys.join(", ")),
                );
            } else if let Some(col) = find(&mut e, format!("{at}.columns.{part}"), name) {
                parts.push((part.clone(), col));
            }
        }
        let is_grid = matches!(question.kind, QuestionKind::Grid { .. });
        if m.column.is_none() && m.columns.is_empty() {
            e.push(at.clone(), "name the `column` (or the `columns`) holding the answer");
        } else if m.column.is_some() && !m.columns.is_empty() {
            e.push(at.clone(), "give either `column` or `columns`, not both");
        } else if is_grid && m.column.is_some() {
            e.push(
                format!("{at}.column"),
                "a grid is read from a column per statement: use `columns`",
            );
        }
        if m.other.is_some()
            && !matches!(
                question.kind,
                QuestionKind::SingleChoice { other: true, .. } | QuestionKind::MultipleChoice { other: true, .. }
            )
        {
            e.push(
                format!("{at}.other"),
                format!("{key} offers no \"other, please specify\""),
            );
        }
        out.push(Resolved {
            question: question.clone(),
            column,
            separator,
            parts,
            other,
            values: m
                .values
                .iter()
                .map(|(k, v)| (normalise(k), v.trim().to_owned()))
                .collect(),
        });
    }
    e.into_result(ResolvedQuestions(out))
}

fn truthy(cell: &str) -> bool {
    !matches!(normalise(cell).as_str(), "" | "0" | "no" | "false" | "n")
}

impl Resolved {
    /// A cell's words as the value map says, or as written.
    fn mapped(&self, cell: &str) -> String {
        let cell = cell.trim();
        self.values
            .get(&normalise(cell))
            .cloned()
            .unwrap_or_else(|| cell.to_owned())
    }

    /// An option key from a cell: its key or its label, ignoring case.
    fn option(&self, cell: &str, col: &Col) -> Result<String, String> {
        let v = self.mapped(cell);
        let options = self.question.kind.options();
        options
            .iter()
            .find(|o| o.key == v || normalise(&o.key) == normalise(&v) || normalise(&o.label) == normalise(&v))
            .map(|o| o.key.clone())
            .or_else(|| (normalise(&v) == OTHER).then(|| OTHER.to_owned()))
            .ok_or_else(|| {
                let keys: Vec<&str> = options.iter().map(|o| o.key.as_str()).collect();
                format!(
                    "column `{}`: `{cell}` is not an option of {} ({}); map it with `values`",
                    col.name,
                    self.question.key,
                    keys.join(", ")
                )
            })
    }

    /// A number from a cell (after the value map).
    fn number(&self, cell: &str, col: &Col) -> Result<Value, String> {
        let v = self.mapped(cell);
        match v.replace(',', "").parse::<f64>() {
            Ok(n) if n.is_finite() => Ok(if n.fract() == 0.0 && n.abs() < 1e15 {
                json!(n as i64)
            } else {
                json!(n)
            }),
            _ => Err(format!(
                "column `{}`: `{}` is not a number; map words to numbers with `values`",
                col.name,
                cell.trim()
            )),
        }
    }

    /// A date from a cell: `YYYY-MM-DD`, or `DD/MM/YYYY` as British survey tools write it.
    fn date(&self, cell: &str, col: &Col) -> Result<Value, String> {
        let v = self.mapped(cell);
        let v = v.split_whitespace().next().unwrap_or_default();
        chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .or_else(|_| chrono::NaiveDate::parse_from_str(v, "%d/%m/%Y"))
            .map(|d| json!(d.format("%Y-%m-%d").to_string()))
            .map_err(|_| {
                format!(
                    "column `{}`: `{}` is not a date (YYYY-MM-DD or DD/MM/YYYY)",
                    col.name,
                    cell.trim()
                )
            })
    }

    fn cell<'r>(row: &'r [String], col: &Col) -> &'r str {
        row.get(col.index).map(String::as_str).unwrap_or_default().trim()
    }

    /// The answer this row gives, if any.
    fn answer(&self, row: &[String]) -> Result<Option<Value>, String> {
        let other_text = self
            .other
            .as_ref()
            .map(|c| Self::cell(row, c))
            .filter(|t| !t.is_empty());
        let split = |cell: &str| -> Vec<String> {
            cell.split(self.separator.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match &self.question.kind {
            QuestionKind::SingleChoice { .. } => {
                let chosen = match &self.column {
                    Some(col) if !Self::cell(row, col).is_empty() => Some(self.option(Self::cell(row, col), col)?),
                    _ => None,
                };
                Ok(match (chosen, other_text) {
                    (Some(k), Some(t)) if k == OTHER => Some(json!({ "option": OTHER, "text": t })),
                    (None, Some(t)) => Some(json!({ "option": OTHER, "text": t })),
                    (Some(k), _) => Some(json!(k)),
                    (None, None) => None,
                })
            }
            QuestionKind::MultipleChoice { .. } => {
                let mut chosen = Vec::new();
                if let Some(col) = &self.column {
                    for part in split(Self::cell(row, col)) {
                        chosen.push(self.option(&part, col)?);
                    }
                }
                for (key, col) in &self.parts {
                    if truthy(&self.mapped(Self::cell(row, col))) {
                        chosen.push(key.clone());
                    }
                }
                chosen.retain(|k| k != OTHER);
                let mut list: Vec<Value> = chosen.into_iter().map(Value::String).collect();
                if let Some(t) = other_text {
                    list.push(json!({ "option": OTHER, "text": t }));
                }
                Ok((!list.is_empty()).then_some(Value::Array(list)))
            }
            QuestionKind::Ranking { .. } => {
                if let Some(col) = &self.column {
                    let order = split(Self::cell(row, col))
                        .iter()
                        .map(|p| self.option(p, col))
                        .collect::<Result<Vec<_>, _>>()?;
                    return Ok((!order.is_empty()).then(|| json!(order)));
                }
                let mut ranks = Vec::new();
                for (key, col) in &self.parts {
                    let cell = Self::cell(row, col);
                    if cell.is_empty() {
                        continue;
                    }
                    let rank = self.number(cell, col)?;
                    ranks.push((rank.as_f64().unwrap_or(f64::MAX), key.clone()));
                }
                ranks.sort_by(|a, b| a.0.total_cmp(&b.0));
                let order: Vec<String> = ranks.into_iter().map(|(_, k)| k).collect();
                Ok((!order.is_empty()).then(|| json!(order)))
            }
            QuestionKind::Scale(_) | QuestionKind::Number { .. } => match &self.column {
                Some(col) if !Self::cell(row, col).is_empty() => Ok(Some(self.number(Self::cell(row, col), col)?)),
                _ => Ok(None),
            },
            QuestionKind::Date => match &self.column {
                Some(col) if !Self::cell(row, col).is_empty() => Ok(Some(self.date(Self::cell(row, col), col)?)),
                _ => Ok(None),
            },
            QuestionKind::FreeText { .. } => Ok(self
                .column
                .as_ref()
                .map(|col| Self::cell(row, col))
                .filter(|t| !t.is_empty())
                .map(|t| json!(t))),
            QuestionKind::Grid { .. } => {
                let mut points = Map::new();
                for (key, col) in &self.parts {
                    let cell = Self::cell(row, col);
                    if !cell.is_empty() {
                        points.insert(key.clone(), self.number(cell, col)?);
                    }
                }
                Ok((!points.is_empty()).then_some(Value::Object(points)))
            }
        }
    }

    /// The columns this question reads, for naming them beside a checked answer's error.
    fn column_names(&self) -> String {
        let mut names: Vec<&str> = self.column.iter().map(|c| c.name.as_str()).collect();
        names.extend(self.parts.iter().map(|(_, c)| c.name.as_str()));
        names.extend(self.other.iter().map(|c| c.name.as_str()));
        names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
    }
}

impl ResolvedQuestions {
    /// Whether no question is mapped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The answers one row gives, as the API's `answers` object. A cell that cannot be read is
    /// an error named `answers.<key>` whose message names the column.
    pub fn answers(&self, row: &[String]) -> Result<BTreeMap<String, Value>, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut out = BTreeMap::new();
        for r in &self.0 {
            match r.answer(row) {
                Ok(Some(v)) => {
                    out.insert(r.question.key.clone(), v);
                }
                Ok(None) => {}
                Err(m) => e.push(format!("answers.{}", r.question.key), m),
            }
        }
        e.into_result(out)
    }

    /// The columns a question's answer was read from (`` `Q1`, `Q1 other` ``), to name in the
    /// errors of the checked answer; `None` for an unmapped question.
    pub fn columns_of(&self, key: &str) -> Option<String> {
        self.0
            .iter()
            .find(|r| r.question.key == key)
            .map(Resolved::column_names)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::questionnaire::QuestionnaireInput;

    fn questionnaire() -> Questionnaire {
        let input: QuestionnaireInput = serde_json::from_value(json!({ "sections": [ { "title": "All", "questions": [
            { "key": "visit", "type": "single_choice", "text": "How often?", "required": true, "other": true,
              "options": [ { "key": "weekly", "label": "Every week" }, { "key": "rarely", "label": "Rarely" } ] },
            { "key": "use", "type": "multiple_choice", "text": "What for?", "other": true,
              "options": [ { "key": "books", "label": "Books" }, { "key": "pcs", "label": "Computers" } ] },
            { "key": "sat", "type": "scale", "text": "Satisfied?", "scale": { "min": 1, "max": 5 } },
            { "key": "rank", "type": "ranking", "text": "Order",
              "options": [ { "key": "a", "label": "A" }, { "key": "b", "label": "B" }, { "key": "c", "label": "C" } ] },
            { "key": "age", "type": "number", "text": "Age", "min": 0, "max": 120 },
            { "key": "when", "type": "date", "text": "When" },
            { "key": "say", "type": "free_text", "text": "Anything else?" },
            { "key": "grid", "type": "grid", "text": "Agree?", "scale": { "min": 1, "max": 3 },
              "statements": [ { "key": "s1", "text": "One" }, { "key": "s2", "text": "Two" } ] }
        ] } ] }))
        .unwrap();
        Questionnaire::parse(input).unwrap()
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    fn mapping() -> BTreeMap<String, QuestionColumns> {
        serde_json::from_value(json!({
            "visit": { "column": "Q1", "other": "Q1 other", "values": { "W": "weekly" } },
            "use": { "columns": { "books": "Q2 Books", "pcs": "Q2 PCs" }, "other": "Q2 other" },
            "sat": { "column": "Q3", "values": { "Very satisfied": "5", "Satisfied": "4" } },
            "rank": { "columns": { "a": "R a", "b": "R b", "c": "R c" } },
            "age": "Q5",
            "when": "Q6",
            "say": "Q7",
            "grid": { "columns": { "s1": "G1", "s2": "G2" } }
        }))
        .unwrap()
    }

    fn header() -> Vec<String> {
        strings(&[
            "Q1", "Q1 other", "Q2 Books", "Q2 PCs", "Q2 other", "Q3", "R a", "R b", "R c", "Q5", "Q6", "Q7", "G1", "G2",
        ])
    }

    #[test]
    fn a_row_becomes_answers_the_questionnaire_accepts() {
        let q = questionnaire();
        let r = resolve_questions(&mapping(), Some(&q), &header()).unwrap();
        let row = strings(&[
            "w",
            "",
            "1",
            "",
            "Meeting rooms",
            "very satisfied",
            "2",
            "3",
            "1",
            "42",
            "03/11/2026",
            "More staff",
            "3",
            "2",
        ]);
        let answers = r.answers(&row).unwrap();
        assert_eq!(
            serde_json::to_value(&answers).unwrap(),
            json!({
                "visit": "weekly",
                "use": ["books", { "option": "other", "text": "Meeting rooms" }],
                "sat": 5,
                "rank": ["c", "a", "b"],
                "age": 42,
                "when": "2026-11-03",
                "say": "More staff",
                "grid": { "s1": 3, "s2": 2 }
            })
        );
        q.check_answers(&answers).unwrap();
        // An empty row answers nothing.
        assert!(r.answers(&strings(&[""; 14])).unwrap().is_empty());
        // Only "other" text for a single choice is an "other" answer.
        let mut other = strings(&[""; 14]);
        other[1] = "Fortnightly".into();
        assert_eq!(
            r.answers(&other).unwrap()["visit"],
            json!({ "option": "other", "text": "Fortnightly" })
        );
    }

    #[test]
    fn a_bad_cell_is_named_with_its_column() {
        let q = questionnaire();
        let r = resolve_questions(&mapping(), Some(&q), &header()).unwrap();
        let mut row = strings(&[""; 14]);
        row[0] = "Maybe".into();
        row[5] = "Quite".into();
        row[10] = "31/02/2026".into();
        let e = r.answers(&row).unwrap_err();
        let got: Vec<(&str, &str)> = e
            .errors()
            .iter()
            .map(|x| (x.field.as_str(), x.message.as_str()))
            .collect();
        assert_eq!(got.len(), 3, "{got:?}");
        assert_eq!(got[0].0, "answers.sat");
        assert!(
            got[0].1.contains("column `Q3`: `Quite` is not a number"),
            "{}",
            got[0].1
        );
        assert_eq!(got[1].0, "answers.visit");
        assert!(
            got[1].1.contains("column `Q1`: `Maybe` is not an option of visit"),
            "{}",
            got[1].1
        );
        assert_eq!(got[2].0, "answers.when");
    }

    #[test]
    fn a_mapping_that_does_not_fit_is_refused_naming_the_field() {
        let q = questionnaire();
        let bad: BTreeMap<String, QuestionColumns> = serde_json::from_value(json!({
            "nope": "Q1",
            "visit": { "columns": { "weekly": "Q1" } },
            "use": { "columns": { "films": "Q2 Books" } },
            "grid": { "column": "G1" },
            "age": { "column": "Missing column" },
            "say": { "column": "Q7", "other": "Q1 other" }
        }))
        .unwrap();
        let e = resolve_questions(&bad, Some(&q), &header()).unwrap_err();
        let fields: Vec<&str> = e.errors().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "mapping.questions.age.column",
                "mapping.questions.grid.column",
                "mapping.questions.nope",
                "mapping.questions.say.other",
                "mapping.questions.use.columns.films",
                "mapping.questions.visit.columns",
            ]
        );
        let none = resolve_questions(&mapping(), None, &header()).unwrap_err();
        assert_eq!(none.errors()[0].field, "mapping.questions");
    }
}
