//! Staff exports of an activity's responses: which columns a questionnaire gives, and each
//! response's row (the writers, CSV and xlsx, live in consult-app).
//!
//! One row per response, one column per part of a question, in questionnaire order, after the
//! response's own columns. Column keys are stable (a script can rely on them): the response's
//! own columns start with `_` (`_response_id`, `_received_at`, `_channel`, `_recorded_by`,
//! `_questionnaire_version`, `_comments`), which no question key can (keys start with a letter);
//! a question's columns are its key (`satisfaction`), or its key and a part's key joined by a
//! dot (`uses.walk`, `uses.other`, `agree.safe`; keys hold no dots). There are never monitoring
//! columns: equality answers are analysed in aggregate, never read beside a response's answers.

use crate::coding::{AnswerCode, Theme};
use crate::questionnaire::{Answer, CheckedAnswers, OTHER, QuestionKind, Questionnaire};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The most characters of an xlsx sheet name.
const SHEET_NAME_MAX: usize = 31;

/// The names of the sheets an xlsx export always has.
pub const RESPONSES_SHEET: &str = "responses";
/// The sheet listing every column's question and label.
pub const QUESTIONS_SHEET: &str = "questions";

/// One cell's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing: the question was not answered (or not shown).
    Empty,
    /// Text as the respondent or officer gave it (writers neutralise formulas).
    Text(String),
    /// A number: a scale or grid point, a number, a rank, or 1/0 for an option chosen or not.
    Number(f64),
    /// A date answer.
    Date(NaiveDate),
    /// A moment (when the response was received).
    Time(DateTime<Utc>),
}

/// A response's own fields, read beside its answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseField {
    /// `_response_id`.
    Id,
    /// `_received_at`.
    ReceivedAt,
    /// `_channel`.
    Channel,
    /// `_recorded_by`: the officer who entered a staff-entered response.
    RecordedBy,
    /// `_questionnaire_version`.
    QuestionnaireVersion,
    /// `_comments`.
    Comments,
}

impl ResponseField {
    /// Every field, in column order.
    pub const ALL: [ResponseField; 6] = [
        Self::Id,
        Self::ReceivedAt,
        Self::Channel,
        Self::RecordedBy,
        Self::QuestionnaireVersion,
        Self::Comments,
    ];

    /// The column key.
    pub fn key(self) -> &'static str {
        match self {
            Self::Id => "_response_id",
            Self::ReceivedAt => "_received_at",
            Self::Channel => "_channel",
            Self::RecordedBy => "_recorded_by",
            Self::QuestionnaireVersion => "_questionnaire_version",
            Self::Comments => "_comments",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Id => "Response id",
            Self::ReceivedAt => "Received at (UTC)",
            Self::Channel => "Channel",
            Self::RecordedBy => "Entered by",
            Self::QuestionnaireVersion => "Questionnaire version answered",
            Self::Comments => "Comments",
        }
    }
}

/// Where a column's values come from (one source per column, read by [`ExportLayout::row`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A field of the response itself.
    Response(ResponseField),
    /// The option key chosen in a single choice (`other` when "other" was chosen).
    Choice,
    /// 1 when the option was chosen in a multiple choice, 0 when not; empty when unanswered.
    Chosen(String),
    /// The "other, please specify" text of a choice.
    OtherText,
    /// The value of a scale, number, date or free-text answer.
    Value,
    /// The rank (1 first) given to an option of a ranking.
    Rank(String),
    /// The point given to a statement of a grid.
    Statement(String),
    /// 1 when a free-text answer is coded with one of these themes (a theme, then those nested
    /// under it), 0 when it is answered and not; empty when unanswered.
    Theme(Vec<String>),
}

/// One column of the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The stable key (the CSV header, the xlsx header row).
    pub key: String,
    /// The question it belongs to (none for the response's own columns).
    pub question: Option<String>,
    /// The question's text (or the field's name).
    pub text: String,
    /// The part's label: the option's label, the statement's text, "Other (please specify)".
    pub part: Option<String>,
    /// The question's type (`single_choice`, ...), or `response`.
    pub kind: &'static str,
    /// Where its values come from.
    pub source: Source,
}

/// A grid question's own sheet in xlsx: the response id and a column per statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridSheet {
    /// The sheet's name (the question key, at most 31 characters, unique).
    pub name: String,
    /// The grid question.
    pub question: String,
    /// `_response_id`, then a column per statement (keyed by the statement's key).
    pub columns: Vec<Column>,
}

/// A response as the export reads it.
#[derive(Debug, Clone, Copy)]
pub struct ExportRecord<'a> {
    /// Its id.
    pub id: Uuid,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// How it arrived.
    pub channel: &'a str,
    /// The officer who entered it.
    pub recorded_by: Option<&'a str>,
    /// The questionnaire version it answered.
    pub questionnaire_version: Option<u32>,
    /// Its comments.
    pub comments: Option<&'a str>,
    /// Its answers.
    pub answers: &'a CheckedAnswers,
    /// The themes its free-text answers are coded with, by question.
    pub codes: &'a [AnswerCode],
}

/// The columns (and, for xlsx, the grid sheets) an activity's questionnaire gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLayout {
    /// The main sheet's columns, in order.
    pub columns: Vec<Column>,
    /// One sheet per grid question, in questionnaire order.
    pub grids: Vec<GridSheet>,
}

impl ExportLayout {
    /// The layout for an activity's questionnaire (its current version: keys and structure
    /// cannot change once responses come in), or only the response's own columns without one.
    /// Each free-text question is followed by a column per theme of the activity's codeframe
    /// (`<key>.theme.<theme>`, top-level themes counting their nested ones).
    pub fn new(questionnaire: Option<&Questionnaire>, themes: &[Theme]) -> ExportLayout {
        let mut columns: Vec<Column> = ResponseField::ALL
            .iter()
            .map(|&f| Column {
                key: f.key().to_owned(),
                question: None,
                text: f.label().to_owned(),
                part: None,
                kind: "response",
                source: Source::Response(f),
            })
            .collect();
        let mut grids = Vec::new();
        for q in questionnaire.into_iter().flat_map(Questionnaire::questions) {
            let kind = q.kind.question_type().as_str();
            let column = |key: String, part: Option<&str>, source: Source| Column {
                key,
                question: Some(q.key.clone()),
                text: q.text.clone(),
                part: part.map(str::to_owned),
                kind,
                source,
            };
            let dotted = |part: &str| format!("{}.{part}", q.key);
            let other = |columns: &mut Vec<Column>| {
                columns.push(column(dotted(OTHER), Some("Other (please specify)"), Source::OtherText));
            };
            match &q.kind {
                QuestionKind::SingleChoice { other: offered, .. } => {
                    columns.push(column(q.key.clone(), None, Source::Choice));
                    if *offered {
                        other(&mut columns);
                    }
                }
                QuestionKind::MultipleChoice {
                    options,
                    other: offered,
                    ..
                } => {
                    for o in options {
                        columns.push(column(dotted(&o.key), Some(&o.label), Source::Chosen(o.key.clone())));
                    }
                    if *offered {
                        other(&mut columns);
                    }
                }
                QuestionKind::Ranking { options } => {
                    for o in options {
                        columns.push(column(dotted(&o.key), Some(&o.label), Source::Rank(o.key.clone())));
                    }
                }
                QuestionKind::Grid { statements, .. } => {
                    let mut sheet = vec![Column {
                        key: ResponseField::Id.key().to_owned(),
                        question: None,
                        text: ResponseField::Id.label().to_owned(),
                        part: None,
                        kind: "response",
                        source: Source::Response(ResponseField::Id),
                    }];
                    for s in statements {
                        columns.push(column(dotted(&s.key), Some(&s.text), Source::Statement(s.key.clone())));
                        sheet.push(column(s.key.clone(), Some(&s.text), Source::Statement(s.key.clone())));
                    }
                    grids.push(GridSheet {
                        name: sheet_name(&q.key, grids.len(), &grids),
                        question: q.key.clone(),
                        columns: sheet,
                    });
                }
                QuestionKind::FreeText { .. } => {
                    columns.push(column(q.key.clone(), None, Source::Value));
                    for t in themes {
                        let key = format!("{}.theme.{}", q.key, t.key);
                        let covers = std::iter::once(t.key.clone())
                            .chain(
                                themes
                                    .iter()
                                    .filter(|c| c.parent.as_deref() == Some(t.key.as_str()))
                                    .map(|c| c.key.clone()),
                            )
                            .collect();
                        columns.push(column(key, Some(&t.label), Source::Theme(covers)));
                    }
                }
                QuestionKind::Scale(_) | QuestionKind::Number { .. } | QuestionKind::Date => {
                    columns.push(column(q.key.clone(), None, Source::Value));
                }
            }
        }
        ExportLayout { columns, grids }
    }

    /// The column keys, in order (the CSV header).
    pub fn header(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.key.as_str())
    }

    /// A response's row on the main sheet, one cell per column.
    pub fn row(&self, r: &ExportRecord<'_>) -> Vec<Cell> {
        self.columns.iter().map(|c| cell(c, r)).collect()
    }

    /// A response's row on a grid's sheet, or none when it did not answer the grid.
    pub fn grid_row(&self, grid: &GridSheet, r: &ExportRecord<'_>) -> Option<Vec<Cell>> {
        r.answers.answers().get(&grid.question)?;
        Some(grid.columns.iter().map(|c| cell(c, r)).collect())
    }
}

/// A grid's sheet name: its key cut to 31 characters, or `grid N` when that is taken.
fn sheet_name(key: &str, index: usize, taken: &[GridSheet]) -> String {
    let name: String = key.chars().take(SHEET_NAME_MAX).collect();
    let clash = |n: &str| n == RESPONSES_SHEET || n == QUESTIONS_SHEET || taken.iter().any(|g| g.name == n);
    if clash(&name) {
        let mut n = index + 1;
        loop {
            let numbered = format!("grid {n}");
            if !clash(&numbered) {
                return numbered;
            }
            n += 1;
        }
    } else {
        name
    }
}

fn text(t: Option<&str>) -> Cell {
    t.map_or(Cell::Empty, |t| Cell::Text(t.to_owned()))
}

fn cell(c: &Column, r: &ExportRecord<'_>) -> Cell {
    let answer = || c.question.as_deref().and_then(|q| r.answers.answers().get(q));
    match &c.source {
        Source::Response(f) => match f {
            ResponseField::Id => Cell::Text(r.id.to_string()),
            ResponseField::ReceivedAt => Cell::Time(r.received_at),
            ResponseField::Channel => Cell::Text(r.channel.to_owned()),
            ResponseField::RecordedBy => text(r.recorded_by),
            ResponseField::QuestionnaireVersion => {
                r.questionnaire_version.map_or(Cell::Empty, |v| Cell::Number(v.into()))
            }
            ResponseField::Comments => text(r.comments),
        },
        Source::Choice => match answer() {
            Some(Answer::Choice(k)) => Cell::Text(k.clone()),
            Some(Answer::Other(_)) => Cell::Text(OTHER.to_owned()),
            _ => Cell::Empty,
        },
        Source::Chosen(option) => match answer() {
            Some(Answer::Choices(ks) | Answer::ChoicesAndOther(ks, _)) => {
                Cell::Number(if ks.contains(option) { 1.0 } else { 0.0 })
            }
            _ => Cell::Empty,
        },
        Source::OtherText => match answer() {
            Some(Answer::Other(t) | Answer::ChoicesAndOther(_, t)) => Cell::Text(t.clone()),
            _ => Cell::Empty,
        },
        Source::Value => match answer() {
            Some(Answer::Point(n)) => Cell::Number(*n as f64),
            Some(Answer::Number(n)) => Cell::Number(*n),
            Some(Answer::Date(d)) => Cell::Date(*d),
            Some(Answer::Text(t)) => Cell::Text(t.clone()),
            _ => Cell::Empty,
        },
        Source::Rank(option) => match answer() {
            Some(Answer::Ranking(ks)) => ks
                .iter()
                .position(|k| k == option)
                .map_or(Cell::Empty, |i| Cell::Number((i + 1) as f64)),
            _ => Cell::Empty,
        },
        Source::Statement(s) => match answer() {
            Some(Answer::Grid(points)) => points.get(s).map_or(Cell::Empty, |n| Cell::Number(*n as f64)),
            _ => Cell::Empty,
        },
        Source::Theme(covers) => match answer() {
            Some(_) => {
                let coded = r
                    .codes
                    .iter()
                    .filter(|code| c.question.as_deref() == Some(code.question.as_str()))
                    .any(|code| code.themes.iter().any(|t| covers.contains(t)));
                Cell::Number(if coded { 1.0 } else { 0.0 })
            }
            None => Cell::Empty,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::questionnaire::QuestionnaireInput;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn park() -> Questionnaire {
        let input: QuestionnaireInput = serde_json::from_value(json!({ "sections": [ { "title": "Park", "questions": [
            { "key": "visit", "type": "single_choice", "text": "Do you visit?", "other": true,
              "options": [ { "key": "yes", "label": "Yes" }, { "key": "no", "label": "No" } ] },
            { "key": "uses", "type": "multiple_choice", "text": "Uses?", "other": true,
              "options": [ { "key": "walk", "label": "Walking" }, { "key": "play", "label": "Play" } ] },
            { "key": "satisfaction", "type": "scale", "text": "Satisfied?", "scale": { "min": 1, "max": 5 } },
            { "key": "priorities", "type": "ranking", "text": "Rank",
              "options": [ { "key": "lights", "label": "Lighting" }, { "key": "bins", "label": "Bins" } ] },
            { "key": "last", "type": "date", "text": "Last visit?" },
            { "key": "responses", "type": "grid", "text": "Agree?", "scale": { "min": 1, "max": 5 },
              "statements": [ { "key": "safe", "text": "Safe" }, { "key": "clean", "text": "Clean" } ] }
        ] } ] }))
        .unwrap();
        Questionnaire::parse(input).unwrap()
    }

    fn answers(q: &Questionnaire, v: Value) -> CheckedAnswers {
        let map: BTreeMap<String, Value> = serde_json::from_value(v).unwrap();
        q.check_answers(&map).unwrap()
    }

    #[test]
    fn columns_follow_the_questionnaire_and_never_collide() {
        let q = park();
        let layout = ExportLayout::new(Some(&q), &[]);
        let header: Vec<&str> = layout.header().collect();
        assert_eq!(
            header,
            [
                "_response_id",
                "_received_at",
                "_channel",
                "_recorded_by",
                "_questionnaire_version",
                "_comments",
                "visit",
                "visit.other",
                "uses.walk",
                "uses.play",
                "uses.other",
                "satisfaction",
                "priorities.lights",
                "priorities.bins",
                "last",
                "responses.safe",
                "responses.clean",
            ]
        );
        let unique: std::collections::BTreeSet<&str> = header.iter().copied().collect();
        assert_eq!(unique.len(), header.len());
        // A grid keyed like a fixed sheet gets a numbered sheet of its own.
        assert_eq!(layout.grids.len(), 1);
        assert_eq!(layout.grids[0].name, "grid 1");
        let grid_header: Vec<&str> = layout.grids[0].columns.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(grid_header, ["_response_id", "safe", "clean"]);
        assert_eq!(ExportLayout::new(None, &[]).columns.len(), ResponseField::ALL.len());
    }

    #[test]
    fn rows_put_each_part_in_its_column() {
        let q = park();
        let layout = ExportLayout::new(Some(&q), &[]);
        let a = answers(
            &q,
            json!({ "visit": { "option": "other", "text": "=Rarely" }, "uses": ["play"], "satisfaction": 4,
                    "priorities": ["bins", "lights"], "last": "2026-05-01", "responses": { "safe": 5, "clean": 2 } }),
        );
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let record = ExportRecord {
            id: Uuid::nil(),
            received_at: at,
            channel: "paper",
            recorded_by: Some("Ann"),
            questionnaire_version: Some(2),
            comments: None,
            answers: &a,
            codes: &[],
        };
        let t = |s: &str| Cell::Text(s.to_owned());
        assert_eq!(
            layout.row(&record),
            vec![
                t(&Uuid::nil().to_string()),
                Cell::Time(at),
                t("paper"),
                t("Ann"),
                Cell::Number(2.0),
                Cell::Empty,
                t("other"),
                t("=Rarely"),
                Cell::Number(0.0),
                Cell::Number(1.0),
                Cell::Empty,
                Cell::Number(4.0),
                Cell::Number(2.0),
                Cell::Number(1.0),
                Cell::Date(NaiveDate::from_ymd_opt(2026, 5, 1).unwrap()),
                Cell::Number(5.0),
                Cell::Number(2.0),
            ]
        );
        let grid = &layout.grids[0];
        assert_eq!(
            layout.grid_row(grid, &record),
            Some(vec![t(&Uuid::nil().to_string()), Cell::Number(5.0), Cell::Number(2.0)])
        );
        // Unanswered: empty cells, not zeros; no grid row.
        let none = CheckedAnswers::default();
        let blank = ExportRecord {
            answers: &none,
            ..record
        };
        let row = layout.row(&blank);
        assert!(row[6..].iter().all(|c| *c == Cell::Empty), "{row:?}");
        assert_eq!(layout.grid_row(grid, &blank), None);
    }

    #[test]
    fn free_text_is_followed_by_a_column_per_theme() {
        let input: QuestionnaireInput =
            serde_json::from_value(json!({ "sections": [ { "title": "Ideas", "questions": [
            { "key": "ideas", "type": "free_text", "text": "Ideas?" } ] } ] }))
            .unwrap();
        let q = Questionnaire::parse(input).unwrap();
        let at = DateTime::<Utc>::UNIX_EPOCH;
        let theme = |key: &str, parent: Option<&str>| Theme {
            key: key.into(),
            label: key.to_uppercase(),
            description: None,
            parent: parent.map(Into::into),
            created_by: "ann".into(),
            created_at: at,
            updated_by: "ann".into(),
            updated_at: at,
        };
        let frame = [
            theme("transport", None),
            theme("parking", Some("transport")),
            theme("hours", None),
        ];
        let layout = ExportLayout::new(Some(&q), &frame);
        let keys: Vec<&str> = layout.header().skip(ResponseField::ALL.len()).collect();
        assert_eq!(
            keys,
            [
                "ideas",
                "ideas.theme.transport",
                "ideas.theme.parking",
                "ideas.theme.hours"
            ]
        );
        let answers = answers(&q, json!({ "ideas": "Cheaper parking" }));
        let codes = [AnswerCode {
            question: "ideas".into(),
            themes: vec!["parking".into()],
            note: None,
            coded_by: "ann".into(),
            coded_at: at,
        }];
        let record = ExportRecord {
            id: Uuid::nil(),
            received_at: at,
            channel: "online",
            recorded_by: None,
            questionnaire_version: Some(1),
            comments: None,
            answers: &answers,
            codes: &codes,
        };
        let row = layout.row(&record);
        // Coded with parking: its parent transport counts it too; hours does not.
        assert_eq!(
            row[ResponseField::ALL.len() + 1..],
            [Cell::Number(1.0), Cell::Number(1.0), Cell::Number(0.0)]
        );
        let none = CheckedAnswers::default();
        let blank = ExportRecord {
            answers: &none,
            ..record
        };
        assert!(
            layout.row(&blank)[ResponseField::ALL.len()..]
                .iter()
                .all(|c| *c == Cell::Empty)
        );
    }
}
