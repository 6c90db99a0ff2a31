//! An activity's questionnaire: sections of typed questions with stable keys, and the check of
//! a response's answers against it.
//!
//! [`Questionnaire::parse`] turns a [`QuestionnaireInput`] (what a client sends) into a
//! questionnaire, naming every invalid field (`sections[0].questions[2].options[1].key`);
//! [`Questionnaire::check_answers`] turns a response's `answers` into [`CheckedAnswers`], naming
//! every invalid answer `answers.<key>`.
//!
//! Rules worth knowing:
//! - keys (questions, options, statements) are lowercase letters, digits, `_` and `-`, starting
//!   with a letter, at most 40 characters; question keys are unique in the questionnaire, option
//!   and statement keys in their question. `other` is reserved for "other, please specify".
//! - `show_if` names an earlier `single_choice` or `multiple_choice` question and some of its
//!   options: the question is shown when that question is shown and its answer is one of them.
//!   A hidden question may not be answered, and is never required.
//! - a ranking answer orders every option exactly once (a full ranking: average ranks and
//!   first-choice counts then compare like with like).
//! - a grid answer gives a value on the grid's scale for every statement.
//! - a wording correction ([`Questionnaire::same_structure`]) changes only titles, introductions,
//!   question text, hints and labels.

use crate::error::ValidationErrors;
use crate::text;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The option key of "other, please specify".
pub const OTHER: &str = "other";
/// The most sections a questionnaire may have.
pub const MAX_SECTIONS: usize = 50;
/// The most questions a questionnaire may have.
pub const MAX_QUESTIONS: usize = 200;
/// The most options (or statements) one question may have.
pub const MAX_OPTIONS: usize = 100;
/// The widest scale: `max - min` at most this.
pub const MAX_SCALE_WIDTH: i64 = 20;
/// The longest free-text answer a question may allow, and the default.
pub const MAX_FREE_TEXT: u32 = 20_000;
/// The default longest free-text answer.
pub const DEFAULT_FREE_TEXT: u32 = 2_000;

/// A questionnaire as sent (API.md "Questionnaire"); every field optional so that each missing
/// one is named.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuestionnaireInput {
    /// On a write, the version the client last read (a different current version is a
    /// conflict); on a read, the current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The sections, in order.
    #[serde(default)]
    pub sections: Vec<SectionInput>,
}

/// A section as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SectionInput {
    /// The section's title.
    pub title: Option<String>,
    /// An introduction shown before its questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    /// The questions, in order.
    #[serde(default)]
    pub questions: Vec<QuestionInput>,
}

/// A question as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuestionInput {
    /// A question of the built-in library ([`standard_library`], `GET
    /// /api/v1/questionnaire/standard`) to ask as it is: only `key` (default the library's),
    /// `required` and `show_if` may be given beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
    /// The stable key answers are given under.
    pub key: Option<String>,
    /// `single_choice`, `multiple_choice`, `scale`, `ranking`, `number`, `date`, `free_text` or
    /// `grid`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<QuestionType>))]
    pub kind: Option<String>,
    /// The question.
    pub text: Option<String>,
    /// A hint shown under it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Whether a shown question must be answered (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The options of a choice or ranking question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<ChoiceInput>>,
    /// Whether a choice question offers "other, please specify".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<bool>,
    /// The most options a `multiple_choice` answer may choose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_choices: Option<u32>,
    /// The scale of a `scale` or `grid` question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScaleInput>,
    /// The smallest answer to a `number` question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// The largest answer to a `number` question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The longest answer to a `free_text` question, in characters (default 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// The statements of a `grid` question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements: Option<Vec<StatementInput>>,
    /// Show the question only when an earlier choice question's answer is one of some options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIfInput>,
}

/// An option as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChoiceInput {
    /// The stable key answers name.
    pub key: Option<String>,
    /// What the respondent reads.
    pub label: Option<String>,
}

/// A grid statement as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StatementInput {
    /// The stable key answers name.
    pub key: Option<String>,
    /// What the respondent reads.
    pub text: Option<String>,
}

/// A scale as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ScaleInput {
    /// The lowest point.
    pub min: Option<i64>,
    /// The highest point.
    pub max: Option<i64>,
    /// The label of the lowest point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_label: Option<String>,
    /// The label of the highest point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_label: Option<String>,
}

/// A `show_if` condition as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ShowIfInput {
    /// The key of an earlier choice question.
    pub question: Option<String>,
    /// Some of its option keys.
    #[serde(default)]
    pub any_of: Vec<String>,
}

/// The question types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuestionType {
    /// One option.
    SingleChoice,
    /// Some options, up to `max_choices`.
    MultipleChoice,
    /// A point on a scale.
    Scale,
    /// Every option, in order.
    Ranking,
    /// A number, within `min`..`max`.
    Number,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// Text, up to `max_length` characters.
    FreeText,
    /// A point on one scale for each statement.
    Grid,
}

impl QuestionType {
    /// Every type, in the order of the API.
    pub const ALL: [QuestionType; 8] = [
        Self::SingleChoice,
        Self::MultipleChoice,
        Self::Scale,
        Self::Ranking,
        Self::Number,
        Self::Date,
        Self::FreeText,
        Self::Grid,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SingleChoice => "single_choice",
            Self::MultipleChoice => "multiple_choice",
            Self::Scale => "scale",
            Self::Ranking => "ranking",
            Self::Number => "number",
            Self::Date => "date",
            Self::FreeText => "free_text",
            Self::Grid => "grid",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    fn is_choice(self) -> bool {
        matches!(self, Self::SingleChoice | Self::MultipleChoice)
    }
}

/// An option of a question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Its stable key.
    pub key: String,
    /// Its label.
    pub label: String,
}

/// A statement of a grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its stable key.
    pub key: String,
    /// Its text.
    pub text: String,
}

/// A scale of whole numbers `min..=max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scale {
    /// The lowest point.
    pub min: i64,
    /// The highest point.
    pub max: i64,
    /// The label of the lowest point.
    pub min_label: Option<String>,
    /// The label of the highest point.
    pub max_label: Option<String>,
}

/// What a question asks for, with the settings of its type.
#[derive(Debug, Clone, PartialEq)]
pub enum QuestionKind {
    /// One option (or "other").
    SingleChoice {
        /// The options.
        options: Vec<Choice>,
        /// Whether "other, please specify" is offered.
        other: bool,
    },
    /// Some options (and perhaps "other").
    MultipleChoice {
        /// The options.
        options: Vec<Choice>,
        /// Whether "other, please specify" is offered.
        other: bool,
        /// The most choices an answer may make.
        max_choices: Option<u32>,
    },
    /// A point on a scale.
    Scale(Scale),
    /// Every option in order of preference.
    Ranking {
        /// The options.
        options: Vec<Choice>,
    },
    /// A number.
    Number {
        /// The smallest answer.
        min: Option<f64>,
        /// The largest answer.
        max: Option<f64>,
    },
    /// A date.
    Date,
    /// Text.
    FreeText {
        /// The longest answer, in characters.
        max_length: u32,
    },
    /// One scale for several statements.
    Grid {
        /// The statements.
        statements: Vec<Statement>,
        /// The scale.
        scale: Scale,
    },
}

impl QuestionKind {
    /// The type.
    pub fn question_type(&self) -> QuestionType {
        match self {
            Self::SingleChoice { .. } => QuestionType::SingleChoice,
            Self::MultipleChoice { .. } => QuestionType::MultipleChoice,
            Self::Scale(_) => QuestionType::Scale,
            Self::Ranking { .. } => QuestionType::Ranking,
            Self::Number { .. } => QuestionType::Number,
            Self::Date => QuestionType::Date,
            Self::FreeText { .. } => QuestionType::FreeText,
            Self::Grid { .. } => QuestionType::Grid,
        }
    }

    /// The options of a choice or ranking question; empty for the others.
    pub fn options(&self) -> &[Choice] {
        match self {
            Self::SingleChoice { options, .. } | Self::MultipleChoice { options, .. } | Self::Ranking { options } => {
                options
            }
            _ => &[],
        }
    }

    fn allows_other(&self) -> bool {
        matches!(
            self,
            Self::SingleChoice { other: true, .. } | Self::MultipleChoice { other: true, .. }
        )
    }
}

/// `show_if`: shown only when `question`'s answer is one of `any_of`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShowIf {
    /// An earlier choice question.
    pub question: String,
    /// Some of its option keys.
    pub any_of: Vec<String>,
}

/// A question.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    /// The stable key answers are given under.
    pub key: String,
    /// The question.
    pub text: String,
    /// A hint.
    pub hint: Option<String>,
    /// Whether a shown question must be answered.
    pub required: bool,
    /// What it asks for.
    pub kind: QuestionKind,
    /// When it is shown.
    pub show_if: Option<ShowIf>,
}

/// A section of questions.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Its title.
    pub title: String,
    /// Its introduction.
    pub intro: Option<String>,
    /// Its questions.
    pub questions: Vec<Question>,
}

/// A valid questionnaire: built only by [`Questionnaire::parse`]. Serialises as a
/// [`QuestionnaireInput`] with its version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "QuestionnaireInput", into = "QuestionnaireInput")]
pub struct Questionnaire {
    /// Its version: 1 when first set, one more on each change.
    pub version: u32,
    /// Its sections.
    pub sections: Vec<Section>,
}

impl TryFrom<QuestionnaireInput> for Questionnaire {
    type Error = ValidationErrors;
    fn try_from(input: QuestionnaireInput) -> Result<Self, Self::Error> {
        Questionnaire::parse(input)
    }
}

impl From<Questionnaire> for QuestionnaireInput {
    fn from(q: Questionnaire) -> Self {
        q.to_input()
    }
}

/// Whether `key` is a valid key: `[a-z][a-z0-9_-]{0,39}`.
pub(crate) fn key_problem(key: &str) -> Option<&'static str> {
    let mut chars = key.chars();
    match chars.next() {
        None => Some("is required"),
        Some(c) if !c.is_ascii_lowercase() => Some("must start with a lowercase letter (a-z)"),
        _ if key.len() > 40 => Some("must be at most 40 characters"),
        _ if !chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') => {
            Some("must be lowercase letters, digits, `_` or `-`")
        }
        _ => None,
    }
}

fn parse_key(e: &mut ValidationErrors, field: &str, key: Option<&str>) -> Option<String> {
    let key = key.map(str::trim).unwrap_or("");
    match key_problem(key) {
        Some(problem) => {
            e.push(field, problem);
            None
        }
        None => Some(key.to_owned()),
    }
}

fn not_used(e: &mut ValidationErrors, field: &str, present: bool, kind: QuestionType) {
    if present {
        e.push(field, format!("is not used by a `{}` question", kind.as_str()));
    }
}

fn parse_options(e: &mut ValidationErrors, field: &str, options: Option<&[ChoiceInput]>) -> Vec<Choice> {
    let Some(options) = options else {
        e.push(field, "is required (at least two options)");
        return Vec::new();
    };
    if options.len() < 2 {
        e.push(field, "must have at least two options");
    }
    if options.len() > MAX_OPTIONS {
        e.push(field, format!("must have at most {MAX_OPTIONS} options"));
        return Vec::new();
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, o) in options.iter().enumerate() {
        let f = format!("{field}[{i}]");
        let key = parse_key(e, &format!("{f}.key"), o.key.as_deref());
        if let Some(k) = &key {
            if k == OTHER {
                e.push(
                    format!("{f}.key"),
                    "`other` is reserved for \"other, please specify\" (set `other: true`)",
                );
            } else if !seen.insert(k.clone()) {
                e.push(
                    format!("{f}.key"),
                    format!("`{k}` is used by another option of this question"),
                );
            }
        }
        let label = text::required_line(e, &format!("{f}.label"), o.label.as_deref(), 300);
        if let (Some(key), Some(label)) = (key, label) {
            out.push(Choice { key, label });
        }
    }
    out
}

fn parse_scale(e: &mut ValidationErrors, field: &str, scale: Option<&ScaleInput>) -> Option<Scale> {
    let Some(s) = scale else {
        e.push(field, "is required (`min`, `max` and optional end labels)");
        return None;
    };
    let min_label = text::optional_line(e, &format!("{field}.min_label"), s.min_label.as_deref(), 100);
    let max_label = text::optional_line(e, &format!("{field}.max_label"), s.max_label.as_deref(), 100);
    let (Some(min), Some(max)) = (s.min, s.max) else {
        if s.min.is_none() {
            e.push(format!("{field}.min"), "is required");
        }
        if s.max.is_none() {
            e.push(format!("{field}.max"), "is required");
        }
        return None;
    };
    if !(-MAX_SCALE_WIDTH..=100).contains(&min) {
        e.push(
            format!("{field}.min"),
            format!("must be between -{MAX_SCALE_WIDTH} and 100"),
        );
        return None;
    }
    if max <= min {
        e.push(format!("{field}.max"), "must be greater than `min`");
        return None;
    }
    if max - min > MAX_SCALE_WIDTH {
        e.push(
            format!("{field}.max"),
            format!("a scale has at most {} points", MAX_SCALE_WIDTH + 1),
        );
        return None;
    }
    Some(Scale {
        min,
        max,
        min_label,
        max_label,
    })
}

impl Question {
    /// The question as the API shows it.
    pub fn to_input(&self) -> QuestionInput {
        let scale = |s: &Scale| ScaleInput {
            min: Some(s.min),
            max: Some(s.max),
            min_label: s.min_label.clone(),
            max_label: s.max_label.clone(),
        };
        let options = |o: &[Choice]| {
            Some(
                o.iter()
                    .map(|c| ChoiceInput {
                        key: Some(c.key.clone()),
                        label: Some(c.label.clone()),
                    })
                    .collect(),
            )
        };
        let mut i = QuestionInput {
            key: Some(self.key.clone()),
            kind: Some(self.kind.question_type().as_str().to_owned()),
            text: Some(self.text.clone()),
            hint: self.hint.clone(),
            required: Some(self.required),
            show_if: self.show_if.as_ref().map(|c| ShowIfInput {
                question: Some(c.question.clone()),
                any_of: c.any_of.clone(),
            }),
            ..QuestionInput::default()
        };
        match &self.kind {
            QuestionKind::SingleChoice { options: o, other } => {
                i.options = options(o);
                i.other = Some(*other);
            }
            QuestionKind::MultipleChoice {
                options: o,
                other,
                max_choices,
            } => {
                i.options = options(o);
                i.other = Some(*other);
                i.max_choices = *max_choices;
            }
            QuestionKind::Scale(s) => i.scale = Some(scale(s)),
            QuestionKind::Ranking { options: o } => i.options = options(o),
            QuestionKind::Number { min, max } => {
                i.min = *min;
                i.max = *max;
            }
            QuestionKind::Date => {}
            QuestionKind::FreeText { max_length } => i.max_length = Some(*max_length),
            QuestionKind::Grid { statements, scale: s } => {
                i.scale = Some(scale(s));
                i.statements = Some(
                    statements
                        .iter()
                        .map(|st| StatementInput {
                            key: Some(st.key.clone()),
                            text: Some(st.text.clone()),
                        })
                        .collect(),
                );
            }
        }
        i
    }
}

impl Questionnaire {
    /// Checks a questionnaire as sent, naming every invalid field. The version is the input's
    /// (0 when absent); the application sets the stored version.
    pub fn parse(input: QuestionnaireInput) -> Result<Questionnaire, ValidationErrors> {
        let mut e = ValidationErrors::new();
        if input.sections.is_empty() {
            e.push("sections", "a questionnaire needs at least one section");
        }
        if input.sections.len() > MAX_SECTIONS {
            e.push("sections", format!("must have at most {MAX_SECTIONS} sections"));
            return Err(e);
        }
        let total: usize = input.sections.iter().map(|s| s.questions.len()).sum();
        if total > MAX_QUESTIONS {
            e.push(
                "sections",
                format!("a questionnaire has at most {MAX_QUESTIONS} questions"),
            );
            return Err(e);
        }
        // Earlier questions by key: their type and option keys, for `show_if`.
        let mut earlier: BTreeMap<String, (QuestionType, Vec<String>)> = BTreeMap::new();
        let mut keys = BTreeSet::new();
        let mut sections = Vec::new();
        for (si, s) in input.sections.iter().enumerate() {
            let sf = format!("sections[{si}]");
            let title = text::required_line(&mut e, &format!("{sf}.title"), s.title.as_deref(), 200);
            let intro = text::optional_text(&mut e, &format!("{sf}.intro"), s.intro.as_deref(), 5_000);
            if s.questions.is_empty() {
                e.push(format!("{sf}.questions"), "a section needs at least one question");
            }
            let mut questions = Vec::new();
            for (qi, q) in s.questions.iter().enumerate() {
                let qf = format!("{sf}.questions[{qi}]");
                let expanded;
                let q = match &q.standard {
                    None => q,
                    Some(name) => match expand_standard(&mut e, &qf, name, q) {
                        Some(x) => {
                            expanded = x;
                            &expanded
                        }
                        None => continue,
                    },
                };
                let key = q.key.as_deref().map(str::trim).unwrap_or("");
                let duplicate = key_problem(key).is_none() && !keys.insert(key.to_owned());
                if duplicate {
                    e.push(format!("{qf}.key"), format!("`{key}` is used by another question"));
                }
                if let Some(q) = parse_question(&mut e, &qf, q, &earlier, &keys) {
                    if !duplicate {
                        earlier.insert(
                            q.key.clone(),
                            (
                                q.kind.question_type(),
                                q.kind.options().iter().map(|o| o.key.clone()).collect(),
                            ),
                        );
                    }
                    questions.push(q);
                }
            }
            if let Some(title) = title {
                sections.push(Section {
                    title,
                    intro,
                    questions,
                });
            }
        }
        e.into_result(Questionnaire {
            version: input.version.unwrap_or(0),
            sections,
        })
    }

    /// The questions in order, across sections.
    pub fn questions(&self) -> impl Iterator<Item = &Question> {
        self.sections.iter().flat_map(|s| s.questions.iter())
    }

    /// The question with `key`.
    pub fn question(&self, key: &str) -> Option<&Question> {
        self.questions().find(|q| q.key == key)
    }

    /// The questionnaire as the API shows it, with its version.
    pub fn to_input(&self) -> QuestionnaireInput {
        QuestionnaireInput {
            version: Some(self.version),
            sections: self
                .sections
                .iter()
                .map(|s| SectionInput {
                    title: Some(s.title.clone()),
                    intro: s.intro.clone(),
                    questions: s.questions.iter().map(Question::to_input).collect(),
                })
                .collect(),
        }
    }

    /// Whether `other` differs from this questionnaire at most in wording (section titles and
    /// introductions, question text and hints, option labels, statement text, scale end
    /// labels): the same sections, questions, types, keys, bounds and conditions. Versions are
    /// not compared.
    pub fn same_structure(&self, other: &Questionnaire) -> bool {
        fn structure(q: &Questionnaire) -> Questionnaire {
            let mut q = q.clone();
            q.version = 0;
            for s in &mut q.sections {
                s.title.clear();
                s.intro = None;
                for q in &mut s.questions {
                    q.text.clear();
                    q.hint = None;
                    match &mut q.kind {
                        QuestionKind::SingleChoice { options, .. }
                        | QuestionKind::MultipleChoice { options, .. }
                        | QuestionKind::Ranking { options } => options.iter_mut().for_each(|o| o.label.clear()),
                        QuestionKind::Scale(s) => {
                            s.min_label = None;
                            s.max_label = None;
                        }
                        QuestionKind::Grid { statements, scale } => {
                            statements.iter_mut().for_each(|s| s.text.clear());
                            scale.min_label = None;
                            scale.max_label = None;
                        }
                        QuestionKind::Number { .. } | QuestionKind::Date | QuestionKind::FreeText { .. } => {}
                    }
                }
            }
            q
        }
        structure(self) == structure(other)
    }

    /// Checks a response's answers (`{ "<question key>": value }`), naming every invalid one
    /// `answers.<key>`: an unknown question, an unknown option, a missing answer to a shown
    /// required question, an answer to a hidden question, too many choices, a number or scale
    /// point out of range, a bad date, text too long, a ranking that does not order every
    /// option once, a grid statement unknown, missing or off the scale, and "other" where the
    /// question does not offer it. `null` is no answer.
    pub fn check_answers(&self, answers: &BTreeMap<String, Value>) -> Result<CheckedAnswers, ValidationErrors> {
        let mut e = ValidationErrors::new();
        for key in answers.keys() {
            if self.question(key).is_none() {
                e.push(format!("answers.{key}"), "no question has this key");
            }
        }
        let mut checked: BTreeMap<String, Answer> = BTreeMap::new();
        let mut shown: BTreeSet<&str> = BTreeSet::new();
        for q in self.questions() {
            let field = format!("answers.{}", q.key);
            let visible = match &q.show_if {
                None => true,
                Some(c) => {
                    shown.contains(c.question.as_str())
                        && checked
                            .get(&c.question)
                            .is_some_and(|a| a.chosen().iter().any(|o| c.any_of.iter().any(|k| k == o)))
                }
            };
            let value = answers.get(&q.key).filter(|v| !v.is_null());
            match (visible, value) {
                (false, Some(_)) => e.push(
                    field,
                    "this question is not shown for the answers given, so it may not be answered",
                ),
                (false, None) => {}
                (true, None) => {
                    shown.insert(&q.key);
                    if q.required {
                        e.push(field, "is required");
                    }
                }
                (true, Some(v)) => {
                    shown.insert(&q.key);
                    if let Some(a) = check_answer(&mut e, &field, q, v) {
                        checked.insert(q.key.clone(), a);
                    } else if q.required && matches!(q.kind, QuestionKind::FreeText { .. }) && is_blank(v) {
                        e.push(field, "is required");
                    }
                }
            }
        }
        e.into_result(CheckedAnswers(checked))
    }
}

fn is_blank(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.trim().is_empty())
}

fn parse_question(
    e: &mut ValidationErrors,
    qf: &str,
    q: &QuestionInput,
    earlier: &BTreeMap<String, (QuestionType, Vec<String>)>,
    keys: &BTreeSet<String>,
) -> Option<Question> {
    let key = parse_key(e, &format!("{qf}.key"), q.key.as_deref());
    let text = text::required_line(e, &format!("{qf}.text"), q.text.as_deref(), 1_000);
    let hint = text::optional_text(e, &format!("{qf}.hint"), q.hint.as_deref(), 2_000);
    let kind = match q.kind.as_deref().map(str::trim) {
        None | Some("") => {
            e.push(format!("{qf}.type"), "is required");
            None
        }
        Some(t) => match QuestionType::parse(t) {
            Some(t) => Some(t),
            None => {
                e.push(
                    format!("{qf}.type"),
                    format!(
                        "unknown question type `{t}`; expected one of {}",
                        QuestionType::ALL.map(QuestionType::as_str).join(", ")
                    ),
                );
                None
            }
        },
    };
    let kind = kind.and_then(|t| parse_kind(e, qf, q, t));
    let show_if = q.show_if.as_ref().and_then(|c| {
        let f = format!("{qf}.show_if");
        let question = parse_key(e, &format!("{f}.question"), c.question.as_deref())?;
        let Some((t, options)) = earlier.get(&question) else {
            if keys.contains(&question) && q.key.as_deref().map(str::trim) != Some(question.as_str()) {
                // An earlier question with errors of its own, already named.
                return None;
            }
            e.push(
                format!("{f}.question"),
                format!("`{question}` is not an earlier question of this questionnaire"),
            );
            return None;
        };
        if !t.is_choice() {
            e.push(
                format!("{f}.question"),
                format!(
                    "`{question}` is a `{}` question; show_if needs a single or multiple choice question",
                    t.as_str()
                ),
            );
            return None;
        }
        if c.any_of.is_empty() {
            e.push(format!("{f}.any_of"), "name at least one option");
        }
        let mut ok = true;
        for (i, o) in c.any_of.iter().enumerate() {
            if !options.contains(o) && o != OTHER {
                e.push(format!("{f}.any_of[{i}]"), format!("`{question}` has no option `{o}`"));
                ok = false;
            }
        }
        ok.then(|| ShowIf {
            question,
            any_of: c.any_of.clone(),
        })
    });
    Some(Question {
        key: key?,
        text: text?,
        hint,
        required: q.required.unwrap_or(false),
        kind: kind?,
        show_if,
    })
}

fn parse_kind(e: &mut ValidationErrors, qf: &str, q: &QuestionInput, t: QuestionType) -> Option<QuestionKind> {
    let f = |name: &str| format!("{qf}.{name}");
    let uses_options = matches!(
        t,
        QuestionType::SingleChoice | QuestionType::MultipleChoice | QuestionType::Ranking
    );
    if !uses_options {
        not_used(e, &f("options"), q.options.is_some(), t);
    }
    if !t.is_choice() {
        not_used(e, &f("other"), q.other.is_some(), t);
    }
    if t != QuestionType::MultipleChoice {
        not_used(e, &f("max_choices"), q.max_choices.is_some(), t);
    }
    if !matches!(t, QuestionType::Scale | QuestionType::Grid) {
        not_used(e, &f("scale"), q.scale.is_some(), t);
    }
    if t != QuestionType::Number {
        not_used(e, &f("min"), q.min.is_some(), t);
        not_used(e, &f("max"), q.max.is_some(), t);
    }
    if t != QuestionType::FreeText {
        not_used(e, &f("max_length"), q.max_length.is_some(), t);
    }
    if t != QuestionType::Grid {
        not_used(e, &f("statements"), q.statements.is_some(), t);
    }
    let before = e.errors().len();
    let kind = match t {
        QuestionType::SingleChoice => QuestionKind::SingleChoice {
            options: parse_options(e, &f("options"), q.options.as_deref()),
            other: q.other.unwrap_or(false),
        },
        QuestionType::MultipleChoice => {
            let options = parse_options(e, &f("options"), q.options.as_deref());
            let other = q.other.unwrap_or(false);
            let most = options.len() + usize::from(other);
            if let Some(m) = q.max_choices {
                if m == 0 || m as usize > most {
                    e.push(
                        f("max_choices"),
                        format!("must be between 1 and the number of options ({most})"),
                    );
                }
            }
            QuestionKind::MultipleChoice {
                options,
                other,
                max_choices: q.max_choices,
            }
        }
        QuestionType::Scale => QuestionKind::Scale(parse_scale(e, &f("scale"), q.scale.as_ref())?),
        QuestionType::Ranking => QuestionKind::Ranking {
            options: parse_options(e, &f("options"), q.options.as_deref()),
        },
        QuestionType::Number => {
            for (name, v) in [("min", q.min), ("max", q.max)] {
                if v.is_some_and(|v| !v.is_finite() || v.abs() > 1e12) {
                    e.push(f(name), "must be a number between -1e12 and 1e12");
                }
            }
            if let (Some(min), Some(max)) = (q.min, q.max) {
                if min > max {
                    e.push(f("max"), "must not be less than `min`");
                }
            }
            QuestionKind::Number { min: q.min, max: q.max }
        }
        QuestionType::Date => QuestionKind::Date,
        QuestionType::FreeText => {
            let max_length = q.max_length.unwrap_or(DEFAULT_FREE_TEXT);
            if !(1..=MAX_FREE_TEXT).contains(&max_length) {
                e.push(f("max_length"), format!("must be between 1 and {MAX_FREE_TEXT}"));
            }
            QuestionKind::FreeText { max_length }
        }
        QuestionType::Grid => {
            let scale = parse_scale(e, &f("scale"), q.scale.as_ref());
            let sf = f("statements");
            let mut statements = Vec::new();
            match q.statements.as_deref() {
                None | Some([]) => e.push(sf.clone(), "a grid needs at least one statement"),
                Some(s) if s.len() > MAX_OPTIONS => {
                    e.push(sf.clone(), format!("must have at most {MAX_OPTIONS} statements"))
                }
                Some(s) => {
                    let mut seen = BTreeSet::new();
                    for (i, st) in s.iter().enumerate() {
                        let key = parse_key(e, &format!("{sf}[{i}].key"), st.key.as_deref());
                        if let Some(k) = &key {
                            if !seen.insert(k.clone()) {
                                e.push(
                                    format!("{sf}[{i}].key"),
                                    format!("`{k}` is used by another statement of this question"),
                                );
                            }
                        }
                        let text = text::required_line(e, &format!("{sf}[{i}].text"), st.text.as_deref(), 500);
                        if let (Some(key), Some(text)) = (key, text) {
                            statements.push(Statement { key, text });
                        }
                    }
                }
            }
            QuestionKind::Grid {
                statements,
                scale: scale?,
            }
        }
    };
    (e.errors().len() == before).then_some(kind)
}

/// One checked answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// One option (`single_choice`).
    Choice(String),
    /// Options (`multiple_choice`), in the order given, without repeats.
    Choices(Vec<String>),
    /// "Other, please specify" (`single_choice`), or among choices (the text of `other`).
    Other(String),
    /// Options and "other" text (`multiple_choice` with "other" chosen).
    ChoicesAndOther(Vec<String>, String),
    /// A point on a scale.
    Point(i64),
    /// Every option, most preferred first.
    Ranking(Vec<String>),
    /// A number.
    Number(f64),
    /// A date.
    Date(NaiveDate),
    /// Text.
    Text(String),
    /// A point for each statement.
    Grid(BTreeMap<String, i64>),
}

// Numbers are finite (JSON has no NaN), so equality is an equivalence.
impl Eq for Answer {}

impl Answer {
    /// The option keys chosen (for `show_if`): `other` when "other" was chosen.
    pub fn chosen(&self) -> Vec<&str> {
        match self {
            Self::Choice(k) => vec![k.as_str()],
            Self::Other(_) => vec![OTHER],
            Self::Choices(ks) => ks.iter().map(String::as_str).collect(),
            Self::ChoicesAndOther(ks, _) => ks.iter().map(String::as_str).chain([OTHER]).collect(),
            _ => Vec::new(),
        }
    }
}

/// One stored part of an answer: one row per option chosen, ranked option, grid statement or
/// single value, so that analysis in SQL counts rows (`GROUP BY question, option`).
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRow {
    /// The question's key.
    pub question: String,
    /// The option (or `other`) of a choice or ranking; the statement of a grid.
    pub item: Option<String>,
    /// A scale point, a number, a rank (1 first) or a grid point.
    pub number: Option<f64>,
    /// Free text, "other" text, or a date `YYYY-MM-DD`.
    pub text: Option<String>,
}

/// A response's answers, checked against its questionnaire: only shown questions, only valid
/// values. Serialises as the API's `answers` object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckedAnswers(BTreeMap<String, Answer>);

impl CheckedAnswers {
    /// The answers by question key.
    pub fn answers(&self) -> &BTreeMap<String, Answer> {
        &self.0
    }

    /// Whether nothing was answered.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The rows to store, in question order then item order.
    pub fn rows(&self) -> Vec<AnswerRow> {
        let row = |q: &str, item: Option<&str>, number: Option<f64>, text: Option<&str>| AnswerRow {
            question: q.to_owned(),
            item: item.map(str::to_owned),
            number,
            text: text.map(str::to_owned),
        };
        let mut out = Vec::new();
        for (q, a) in &self.0 {
            match a {
                Answer::Choice(k) => out.push(row(q, Some(k), None, None)),
                Answer::Other(t) => out.push(row(q, Some(OTHER), None, Some(t))),
                Answer::Choices(ks) => out.extend(ks.iter().map(|k| row(q, Some(k), None, None))),
                Answer::ChoicesAndOther(ks, t) => {
                    out.extend(ks.iter().map(|k| row(q, Some(k), None, None)));
                    out.push(row(q, Some(OTHER), None, Some(t)));
                }
                Answer::Point(n) => out.push(row(q, None, Some(*n as f64), None)),
                Answer::Ranking(ks) => out.extend(
                    ks.iter()
                        .enumerate()
                        .map(|(i, k)| row(q, Some(k), Some((i + 1) as f64), None)),
                ),
                Answer::Number(n) => out.push(row(q, None, Some(*n), None)),
                Answer::Date(d) => out.push(row(q, None, None, Some(&d.to_string()))),
                Answer::Text(t) => out.push(row(q, None, None, Some(t))),
                Answer::Grid(m) => out.extend(m.iter().map(|(s, n)| row(q, Some(s), Some(*n as f64), None))),
            }
        }
        out
    }

    /// Rebuilds answers from their stored rows (the inverse of [`CheckedAnswers::rows`]), the
    /// questionnaire answered deciding each question's shape. A multiple choice comes back in
    /// the questionnaire's option order (its rows keep no order), a ranking by rank; rows of a
    /// question the questionnaire does not have, or that do not fit its type, are skipped.
    pub fn from_rows(questionnaire: &Questionnaire, rows: &[AnswerRow]) -> CheckedAnswers {
        let mut by_question: BTreeMap<&str, Vec<&AnswerRow>> = BTreeMap::new();
        for r in rows {
            by_question.entry(r.question.as_str()).or_default().push(r);
        }
        let mut out = BTreeMap::new();
        for (key, rows) in by_question {
            let Some(q) = questionnaire.question(key) else { continue };
            let other = rows
                .iter()
                .find(|r| r.item.as_deref() == Some(OTHER))
                .and_then(|r| r.text.clone());
            let first = rows.first();
            let answer = match q.kind.question_type() {
                QuestionType::SingleChoice => match other {
                    Some(t) => Some(Answer::Other(t)),
                    None => first.and_then(|r| r.item.clone()).map(Answer::Choice),
                },
                QuestionType::MultipleChoice => {
                    let chosen: Vec<String> = q
                        .kind
                        .options()
                        .iter()
                        .filter(|o| rows.iter().any(|r| r.item.as_deref() == Some(o.key.as_str())))
                        .map(|o| o.key.clone())
                        .collect();
                    Some(match other {
                        Some(t) => Answer::ChoicesAndOther(chosen, t),
                        None => Answer::Choices(chosen),
                    })
                }
                QuestionType::Ranking => {
                    let mut ranked: Vec<(f64, String)> =
                        rows.iter().filter_map(|r| Some((r.number?, r.item.clone()?))).collect();
                    ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
                    Some(Answer::Ranking(ranked.into_iter().map(|(_, k)| k).collect()))
                }
                QuestionType::Scale => first.and_then(|r| r.number).map(|n| Answer::Point(n as i64)),
                QuestionType::Number => first.and_then(|r| r.number).map(Answer::Number),
                QuestionType::Date => first
                    .and_then(|r| r.text.as_deref())
                    .and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
                    .map(Answer::Date),
                QuestionType::FreeText => first.and_then(|r| r.text.clone()).map(Answer::Text),
                QuestionType::Grid => Some(Answer::Grid(
                    rows.iter()
                        .filter_map(|r| Some((r.item.clone()?, r.number? as i64)))
                        .collect(),
                )),
            };
            if let Some(a) = answer {
                out.insert(key.to_owned(), a);
            }
        }
        CheckedAnswers(out)
    }

    /// The answers as the API's `answers` object.
    pub fn to_json(&self) -> BTreeMap<String, Value> {
        let other = |t: &str| serde_json::json!({ "option": OTHER, "text": t });
        self.0
            .iter()
            .map(|(k, a)| {
                let v = match a {
                    Answer::Choice(o) => Value::from(o.as_str()),
                    Answer::Other(t) => other(t),
                    Answer::Choices(ks) | Answer::Ranking(ks) => Value::from(ks.clone()),
                    Answer::ChoicesAndOther(ks, t) => {
                        let mut v: Vec<Value> = ks.iter().map(|k| Value::from(k.as_str())).collect();
                        v.push(other(t));
                        Value::from(v)
                    }
                    Answer::Point(n) => Value::from(*n),
                    Answer::Number(n) => Value::from(*n),
                    Answer::Date(d) => Value::from(d.to_string()),
                    Answer::Text(t) => Value::from(t.as_str()),
                    Answer::Grid(m) => Value::from(
                        m.iter()
                            .map(|(s, n)| (s.clone(), Value::from(*n)))
                            .collect::<serde_json::Map<_, _>>(),
                    ),
                };
                (k.clone(), v)
            })
            .collect()
    }
}

/// "Other, please specify": `{ "option": "other", "text": "..." }`.
fn other_text(e: &mut ValidationErrors, field: &str, q: &Question, v: &Value) -> Option<String> {
    let obj = v.as_object()?;
    if !q.kind.allows_other() {
        e.push(field, "this question does not offer \"other, please specify\"");
        return None;
    }
    if obj.get("option").and_then(Value::as_str) != Some(OTHER) || obj.keys().any(|k| k != "option" && k != "text") {
        e.push(
            field,
            "an \"other\" answer is `{ \"option\": \"other\", \"text\": \"...\" }`",
        );
        return None;
    }
    let text = obj.get("text").and_then(Value::as_str);
    let before = e.errors().len();
    let t = text::optional_text(e, field, text, 1_000);
    if t.is_none() && e.errors().len() == before {
        e.push(field, "say what \"other\" is (`text`)");
    }
    t
}

fn option_key<'a>(e: &mut ValidationErrors, field: &str, q: &Question, v: &'a str) -> Option<&'a str> {
    if q.kind.options().iter().any(|o| o.key == v) {
        Some(v)
    } else if v == OTHER && q.kind.allows_other() {
        e.push(
            field,
            "an \"other\" answer is `{ \"option\": \"other\", \"text\": \"...\" }`",
        );
        None
    } else {
        e.push(field, format!("`{v}` is not an option of this question"));
        None
    }
}

fn point(e: &mut ValidationErrors, field: &str, scale: &Scale, v: &Value) -> Option<i64> {
    match v.as_i64() {
        Some(n) if (scale.min..=scale.max).contains(&n) => Some(n),
        _ => {
            e.push(
                field,
                format!("must be a whole number from {} to {}", scale.min, scale.max),
            );
            None
        }
    }
}

fn check_answer(e: &mut ValidationErrors, field: &str, q: &Question, v: &Value) -> Option<Answer> {
    match &q.kind {
        QuestionKind::SingleChoice { .. } => match v {
            Value::String(s) => option_key(e, field, q, s).map(|k| Answer::Choice(k.to_owned())),
            Value::Object(_) => other_text(e, field, q, v).map(Answer::Other),
            _ => {
                e.push(field, "must be one option key");
                None
            }
        },
        QuestionKind::MultipleChoice { max_choices, .. } => {
            let Some(items) = v.as_array() else {
                e.push(field, "must be a list of option keys");
                return None;
            };
            let before = e.errors().len();
            let mut keys: Vec<String> = Vec::new();
            let mut other = None;
            for item in items {
                match item {
                    Value::String(s) => {
                        if let Some(k) = option_key(e, field, q, s) {
                            if keys.iter().any(|x| x == k) {
                                e.push(field, format!("`{k}` is chosen twice"));
                            } else {
                                keys.push(k.to_owned());
                            }
                        }
                    }
                    Value::Object(_) if other.is_none() => other = other_text(e, field, q, item),
                    _ => e.push(field, "must be a list of option keys"),
                }
            }
            let count = keys.len() + usize::from(other.is_some());
            if let Some(m) = max_choices {
                if count > *m as usize {
                    e.push(field, format!("choose at most {m}"));
                }
            }
            if count == 0 && e.errors().len() == before {
                if q.required {
                    e.push(field, "is required");
                }
                return None;
            }
            (e.errors().len() == before).then_some(match other {
                Some(t) => Answer::ChoicesAndOther(keys, t),
                None => Answer::Choices(keys),
            })
        }
        QuestionKind::Scale(scale) => point(e, field, scale, v).map(Answer::Point),
        QuestionKind::Ranking { options } => {
            let keys: Option<Vec<&str>> = v.as_array().and_then(|a| a.iter().map(Value::as_str).collect());
            let Some(keys) = keys else {
                e.push(field, "must be the list of option keys, most preferred first");
                return None;
            };
            let before = e.errors().len();
            for k in &keys {
                option_key(e, field, q, k);
            }
            let distinct: BTreeSet<&str> = keys.iter().copied().collect();
            if e.errors().len() == before && (distinct.len() != keys.len() || keys.len() != options.len()) {
                e.push(field, format!("rank every option once ({} options)", options.len()));
            }
            (e.errors().len() == before).then(|| Answer::Ranking(keys.iter().map(|k| (*k).to_owned()).collect()))
        }
        QuestionKind::Number { min, max } => {
            let Some(n) = v.as_f64().filter(|n| n.is_finite()) else {
                e.push(field, "must be a number");
                return None;
            };
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                let range = match (min, max) {
                    (Some(a), Some(b)) => format!("from {a} to {b}"),
                    (Some(a), None) => format!("at least {a}"),
                    (None, Some(b)) => format!("at most {b}"),
                    (None, None) => String::new(),
                };
                e.push(field, format!("must be {range}"));
                return None;
            }
            Some(Answer::Number(n))
        }
        QuestionKind::Date => match v.as_str().map(crate::date::parse_date) {
            Some(Ok(d)) => Some(Answer::Date(d)),
            Some(Err(m)) => {
                e.push(field, m);
                None
            }
            None => {
                e.push(field, "must be a date in the form YYYY-MM-DD");
                None
            }
        },
        QuestionKind::FreeText { max_length } => match v.as_str() {
            Some(s) => text::optional_text(e, field, Some(s), *max_length as usize).map(Answer::Text),
            None => {
                e.push(field, "must be text");
                None
            }
        },
        QuestionKind::Grid { statements, scale } => {
            let Some(obj) = v.as_object() else {
                e.push(field, "must be an object giving a point for each statement");
                return None;
            };
            let before = e.errors().len();
            for k in obj.keys() {
                if !statements.iter().any(|s| &s.key == k) {
                    e.push(format!("{field}.{k}"), "is not a statement of this question");
                }
            }
            let mut out = BTreeMap::new();
            for s in statements {
                let f = format!("{field}.{}", s.key);
                match obj.get(&s.key).filter(|v| !v.is_null()) {
                    None => e.push(f, "is required (a grid answers every statement)"),
                    Some(v) => {
                        if let Some(n) = point(e, &f, scale, v) {
                            out.insert(s.key.clone(), n);
                        }
                    }
                }
            }
            (e.errors().len() == before).then_some(Answer::Grid(out))
        }
    }
}

/// A page of a questionnaire answered without script (the hub): some consecutive questions of
/// one section. See [`Questionnaire::pages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuestionPage {
    /// The section's index.
    pub section: usize,
    /// The index in the section of its first question.
    pub start: usize,
    /// One past the index in the section of its last question.
    pub end: usize,
    /// Whether it is the section's first page (which shows the introduction).
    pub first_of_section: bool,
}

/// The option keys a raw answer chooses, as [`Answer::chosen`] does for a checked one: an option
/// key, a list of them, `other` for `{ "option": "other", ... }`.
fn raw_chosen(v: &Value) -> Vec<&str> {
    fn one(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) => Some(s.as_str()),
            Value::Object(o) if o.get("option").and_then(Value::as_str) == Some(OTHER) => Some(OTHER),
            _ => None,
        }
    }
    match v {
        Value::Array(items) => items.iter().filter_map(one).collect(),
        other => one(other).into_iter().collect(),
    }
}

impl Questionnaire {
    /// The pages the questionnaire is answered on without script, in order: one per section,
    /// except that a section is split before each question whose `show_if` names a question on
    /// the same page, so that the server decides every condition from answers already sent
    /// (each page's questions depend only on earlier pages).
    pub fn pages(&self) -> Vec<QuestionPage> {
        let mut pages = Vec::new();
        for (si, section) in self.sections.iter().enumerate() {
            let mut start = 0;
            for (qi, q) in section.questions.iter().enumerate() {
                let on_this_page = q.show_if.as_ref().is_some_and(|c| {
                    section.questions[start..qi]
                        .iter()
                        .any(|earlier| earlier.key == c.question)
                });
                if on_this_page {
                    pages.push(QuestionPage {
                        section: si,
                        start,
                        end: qi,
                        first_of_section: start == 0,
                    });
                    start = qi;
                }
            }
            if start < section.questions.len() || section.questions.is_empty() {
                pages.push(QuestionPage {
                    section: si,
                    start,
                    end: section.questions.len(),
                    first_of_section: start == 0,
                });
            }
        }
        pages
    }

    /// The questions of a page.
    pub fn page_questions(&self, page: &QuestionPage) -> &[Question] {
        self.sections
            .get(page.section)
            .and_then(|s| s.questions.get(page.start..page.end))
            .unwrap_or(&[])
    }

    /// The keys of the questions shown for some answers (as sent, not yet checked): a question
    /// is shown when it has no `show_if`, or when the question its condition names is shown and
    /// its answer chooses one of the condition's options; the rule of [`Self::check_answers`].
    pub fn shown(&self, answers: &BTreeMap<String, Value>) -> BTreeSet<String> {
        let mut shown = BTreeSet::new();
        for q in self.questions() {
            let visible = match &q.show_if {
                None => true,
                Some(c) => {
                    shown.contains(&c.question)
                        && answers
                            .get(&c.question)
                            .is_some_and(|v| raw_chosen(v).iter().any(|o| c.any_of.iter().any(|k| k == o)))
                }
            };
            if visible {
                shown.insert(q.key.clone());
            }
        }
        shown
    }

    /// The answers to questions shown for them, in particular without the answers to questions
    /// a changed earlier answer has hidden, and without keys that are no question's.
    pub fn without_hidden(&self, answers: &BTreeMap<String, Value>) -> BTreeMap<String, Value> {
        let shown = self.shown(answers);
        answers
            .iter()
            .filter(|(k, v)| shown.contains(k.as_str()) && !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The question of a quick poll, if the questionnaire is one: exactly one question, a
    /// required `single_choice` without "other, please specify" (so one click, on an option,
    /// answers it whole).
    pub fn quick_poll(&self) -> Option<&Question> {
        let mut questions = self.questions();
        match (questions.next(), questions.next()) {
            (Some(q), None) if q.required && matches!(q.kind, QuestionKind::SingleChoice { other: false, .. }) => {
                Some(q)
            }
            _ => None,
        }
    }
}

/// A question of the built-in library, with what it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct StandardQuestion {
    /// Why a council asks it.
    pub purpose: &'static str,
    /// The question (its key is the library's name for it).
    pub question: Question,
}

/// The library of standard questions an officer can add to any questionnaire by name (`{
/// "standard": "satisfaction" }`): the satisfaction pair ([`standard_questions`]), how well
/// informed the respondent felt, in what capacity they respond, and how they heard about the
/// activity. Equality monitoring questions are not among them: they are asked by the
/// monitoring scheme, and their answers are kept apart from the response.
pub fn standard_library() -> Vec<StandardQuestion> {
    let mut out: Vec<StandardQuestion> = standard_questions()
        .into_iter()
        .zip([
            "How satisfied people are with the consultation itself: a success measure of the engagement strategies.",
            "Whether people feel they can influence decisions: a success measure of the engagement strategies.",
        ])
        .map(|(question, purpose)| StandardQuestion { purpose, question })
        .collect();
    let choices = |list: &[(&str, &str)]| -> Vec<Choice> {
        list.iter()
            .map(|(key, label)| Choice {
                key: (*key).to_owned(),
                label: (*label).to_owned(),
            })
            .collect()
    };
    out.push(StandardQuestion {
        purpose: "Whether the information given was enough to answer (Gunning: enough information for intelligent consideration).",
        question: Question {
            key: "informed".to_owned(),
            text: "How well informed did you feel to answer the questions?".to_owned(),
            hint: None,
            required: false,
            kind: QuestionKind::Scale(Scale {
                min: 1,
                max: 5,
                min_label: Some("Not at all informed".to_owned()),
                max_label: Some("Very well informed".to_owned()),
            }),
            show_if: None,
        },
    });
    out.push(StandardQuestion {
        purpose: "Tells residents' views from those of organisations, businesses and staff in the analysis.",
        question: Question {
            key: "responding_as".to_owned(),
            text: "Are you responding as".to_owned(),
            hint: None,
            required: false,
            kind: QuestionKind::SingleChoice {
                options: choices(&[
                    ("resident", "A resident"),
                    ("organisation", "On behalf of an organisation or group"),
                    ("business", "On behalf of a business"),
                    ("councillor", "An elected member"),
                    ("staff", "A member of staff"),
                    ("visitor", "A visitor or someone who works in the area"),
                ]),
                other: true,
            },
            show_if: None,
        },
    });
    out.push(StandardQuestion {
        purpose: "Which channels reach people, for planning the next activity's promotion.",
        question: Question {
            key: "heard_about".to_owned(),
            text: "How did you hear about this consultation?".to_owned(),
            hint: Some("Select all that apply.".to_owned()),
            required: false,
            kind: QuestionKind::MultipleChoice {
                options: choices(&[
                    ("website", "The council's website"),
                    ("social_media", "Social media"),
                    ("email", "An e-mail or text message from us"),
                    ("letter", "A letter"),
                    ("press", "Newspaper, radio or television"),
                    ("poster", "A poster or leaflet"),
                    ("group", "A community group or organisation"),
                    ("word_of_mouth", "Word of mouth"),
                ]),
                other: true,
                max_choices: None,
            },
            show_if: None,
        },
    });
    out
}

/// A `{ "standard": NAME }` question as the library has it, with the `key`, `required` and
/// `show_if` given beside the name. `None` (with the error named) for an unknown name or other
/// fields given.
fn expand_standard(e: &mut ValidationErrors, qf: &str, name: &str, q: &QuestionInput) -> Option<QuestionInput> {
    let library = standard_library();
    let Some(found) = library.iter().find(|s| s.question.key == name.trim()) else {
        let names: Vec<_> = library.iter().map(|s| s.question.key.as_str()).collect();
        e.push(
            format!("{qf}.standard"),
            format!(
                "no standard question `{}`; the library has {}",
                name.trim(),
                names.join(", ")
            ),
        );
        return None;
    };
    let extra = QuestionInput {
        standard: None,
        key: None,
        required: None,
        show_if: None,
        ..q.clone()
    };
    if extra != QuestionInput::default() {
        e.push(
            format!("{qf}.standard"),
            "a standard question is asked as it is: give only key, required and show_if beside it",
        );
        return None;
    }
    let mut x = found.question.to_input();
    if q.key.is_some() {
        x.key.clone_from(&q.key);
    }
    if q.required.is_some() {
        x.required = q.required;
    }
    x.show_if.clone_from(&q.show_if);
    Some(x)
}

/// The standard questions consult offers every activity, as data: the satisfaction pair the
/// council measures success by (satisfaction with the consultation; whether the respondent feels
/// able to influence decisions), each on a 1-5 scale. Keys: `satisfaction`, `influence`.
pub fn standard_questions() -> Vec<Question> {
    let scale = |min_label: &str, max_label: &str| Scale {
        min: 1,
        max: 5,
        min_label: Some(min_label.to_owned()),
        max_label: Some(max_label.to_owned()),
    };
    vec![
        Question {
            key: "satisfaction".to_owned(),
            text: "How satisfied are you with this consultation?".to_owned(),
            hint: Some("Think about how easy it was to take part and how clear the information was.".to_owned()),
            required: false,
            kind: QuestionKind::Scale(scale("Very dissatisfied", "Very satisfied")),
            show_if: None,
        },
        Question {
            key: "influence".to_owned(),
            text: "Do you feel you can influence decisions affecting your local area?".to_owned(),
            hint: None,
            required: false,
            kind: QuestionKind::Scale(scale("Definitely not", "Definitely")),
            show_if: None,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn sample() -> Questionnaire {
        let input: QuestionnaireInput = serde_json::from_value(json!({
            "sections": [
                { "title": "About you", "intro": "A few questions.", "questions": [
                    { "key": "visit", "type": "single_choice", "text": "Do you visit the park?", "required": true,
                      "options": [ { "key": "yes", "label": "Yes" }, { "key": "no", "label": "No" } ], "other": true },
                    { "key": "uses", "type": "multiple_choice", "text": "What for?", "max_choices": 2,
                      "options": [ { "key": "walk", "label": "Walking" }, { "key": "play", "label": "Play" },
                                   { "key": "sport", "label": "Sport" } ], "other": true,
                      "show_if": { "question": "visit", "any_of": ["yes"] } },
                    { "key": "often", "type": "scale", "text": "How often?", "scale": { "min": 1, "max": 5 } },
                    { "key": "order", "type": "ranking", "text": "Rank these",
                      "options": [ { "key": "a", "label": "A" }, { "key": "b", "label": "B" }, { "key": "c", "label": "C" } ] },
                    { "key": "age", "type": "number", "text": "Age", "min": 16, "max": 120 },
                    { "key": "when", "type": "date", "text": "Last visit" },
                    { "key": "say", "type": "free_text", "text": "Anything else?", "max_length": 50 },
                    { "key": "agree", "type": "grid", "text": "Agree?", "scale": { "min": 1, "max": 5 },
                      "statements": [ { "key": "safe", "text": "Safe" }, { "key": "clean", "text": "Clean" } ] }
                ] }
            ]
        }))
        .unwrap();
        Questionnaire::parse(input).unwrap()
    }

    fn answers(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    fn fields(e: ValidationErrors) -> Vec<String> {
        e.into_errors().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn questionnaire_parses_and_round_trips() {
        let q = sample();
        assert_eq!(q.questions().count(), 8);
        let again = Questionnaire::parse(q.to_input()).unwrap();
        assert_eq!(again.sections, q.sections);
        let json = serde_json::to_value(&q).unwrap();
        let back: Questionnaire = serde_json::from_value(json).unwrap();
        assert_eq!(back.sections, q.sections);
    }

    #[test]
    fn questionnaire_errors_name_every_field() {
        let input: QuestionnaireInput = serde_json::from_value(json!({
            "sections": [ { "title": "S", "questions": [
                { "key": "Bad Key", "type": "single_choice", "text": "Q",
                  "options": [ { "key": "a", "label": "A" }, { "key": "a", "label": "A again" } ] },
                { "key": "q2", "type": "essay", "text": "Q" },
                { "key": "q3", "type": "scale", "text": "Q", "scale": { "min": 5, "max": 1 } },
                { "key": "q4", "type": "free_text", "text": "bad\u{1b}text", "show_if": { "question": "q3", "any_of": ["x"] } },
                { "key": "q5", "type": "date", "text": "Q", "max_length": 3, "show_if": { "question": "later", "any_of": ["x"] } },
                { "key": "later", "type": "single_choice", "text": "Q", "options": [ { "key": "other", "label": "O" }, { "key": "x", "label": "X" } ] },
                { "key": "q2", "type": "date", "text": "dup" }
            ] } ]
        }))
        .unwrap();
        let f = fields(Questionnaire::parse(input).unwrap_err());
        for expected in [
            "sections[0].questions[0].key",
            "sections[0].questions[0].options[1].key",
            "sections[0].questions[1].type",
            "sections[0].questions[2].scale.max",
            "sections[0].questions[3].text",
            "sections[0].questions[4].max_length",
            "sections[0].questions[4].show_if.question",
            "sections[0].questions[5].options[0].key",
            "sections[0].questions[6].key",
        ] {
            assert!(f.iter().any(|x| x == expected), "{expected} missing from {f:?}");
        }
        // A condition on a question with errors of its own is not named again.
        assert!(
            !f.iter().any(|x| x == "sections[0].questions[3].show_if.question"),
            "{f:?}"
        );
    }

    #[test]
    fn questionnaire_wording_corrections_keep_structure() {
        let q = sample();
        let mut i = q.to_input();
        i.sections[0].questions[0].text = Some("Have you visited the park?".into());
        i.sections[0].questions[0].options.as_mut().unwrap()[0].label = Some("Yes, I have".into());
        assert!(q.same_structure(&Questionnaire::parse(i.clone()).unwrap()));
        i.sections[0].questions[0].options.as_mut().unwrap()[0].key = Some("yep".into());
        i.sections[0].questions[1].show_if = None;
        assert!(!q.same_structure(&Questionnaire::parse(i).unwrap()));
    }

    #[test]
    fn questionnaire_answers_check_each_kind() {
        let q = sample();
        let good = q
            .check_answers(&answers(json!({
                "visit": "yes", "uses": ["walk", { "option": "other", "text": "Picnics" }], "often": 4,
                "order": ["c", "a", "b"], "age": 40, "when": "2026-05-01", "say": "Lovely",
                "agree": { "safe": 5, "clean": 2 }
            })))
            .unwrap();
        assert_eq!(good.answers().len(), 8);
        assert_eq!(good.rows().len(), 1 + 2 + 1 + 3 + 1 + 1 + 1 + 2);
        let bad = q
            .check_answers(&answers(json!({
                "nope": 1, "uses": ["walk", "play", "sport"], "often": 9, "order": ["a", "b"],
                "age": 3, "when": "1800-01-01", "say": "x".repeat(51), "agree": { "safe": 5, "dirty": 1 }
            })))
            .unwrap_err();
        let f = fields(bad);
        for expected in [
            "answers.nope",
            "answers.visit",
            "answers.uses",
            "answers.often",
            "answers.order",
            "answers.age",
            "answers.when",
            "answers.say",
            "answers.agree.dirty",
            "answers.agree.clean",
        ] {
            assert!(f.iter().any(|x| x == expected), "{expected} missing from {f:?}");
        }
        // Hidden: `uses` shows only when `visit` is yes.
        let hidden = q
            .check_answers(&answers(json!({ "visit": "no", "uses": ["walk"] })))
            .unwrap_err();
        assert_eq!(fields(hidden), ["answers.uses"]);
        // Too many choices.
        let many = q
            .check_answers(&answers(json!({ "visit": "yes", "uses": ["walk", "play", "sport"] })))
            .unwrap_err();
        assert_eq!(fields(many), ["answers.uses"]);
        // "Other" where not offered.
        let other = q
            .check_answers(&answers(
                json!({ "visit": "no", "order": [{ "option": "other", "text": "x" }] }),
            ))
            .unwrap_err();
        assert_eq!(fields(other), ["answers.order"]);
        let other = q
            .check_answers(&answers(json!({ "visit": { "option": "other", "text": "Sometimes" } })))
            .unwrap();
        assert_eq!(other.answers()["visit"], Answer::Other("Sometimes".into()));
    }

    #[test]
    fn standard_questions_are_asked_by_name() {
        let q = |v: serde_json::Value| serde_json::from_value::<QuestionInput>(v).unwrap();
        let input = QuestionnaireInput {
            version: None,
            sections: vec![SectionInput {
                title: Some("About this consultation".into()),
                intro: None,
                questions: vec![
                    q(serde_json::json!({ "standard": "responding_as", "required": true })),
                    q(serde_json::json!({ "standard": "satisfaction", "key": "sat",
                        "show_if": { "question": "responding_as", "any_of": ["resident"] } })),
                ],
            }],
        };
        let parsed = Questionnaire::parse(input.clone()).unwrap();
        let first = parsed.question("responding_as").unwrap();
        assert!(first.required && matches!(first.kind, QuestionKind::SingleChoice { other: true, .. }));
        let sat = parsed.question("sat").unwrap();
        assert_eq!(sat.text, "How satisfied are you with this consultation?");
        assert!(sat.show_if.is_some());
        // Stored expanded: what is read back asks the same question without the library.
        let again = Questionnaire::parse(parsed.to_input()).unwrap();
        assert_eq!(again.sections, parsed.sections);

        let mut bad = input;
        bad.sections[0].questions = vec![
            q(serde_json::json!({ "standard": "favourite_colour" })),
            q(serde_json::json!({ "standard": "influence", "text": "Changed" })),
        ];
        let errors = Questionnaire::parse(bad).unwrap_err();
        let fields: Vec<_> = errors.errors().iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            ["sections[0].questions[0].standard", "sections[0].questions[1].standard"]
        );
        for s in standard_library() {
            assert!(!s.purpose.is_empty());
        }
    }

    #[test]
    fn standard_questions_form_a_valid_questionnaire() {
        let q = Questionnaire {
            version: 1,
            sections: vec![Section {
                title: "Your view of this consultation".into(),
                intro: None,
                questions: standard_library().into_iter().map(|s| s.question).collect(),
            }],
        };
        let again = Questionnaire::parse(q.to_input()).unwrap();
        assert_eq!(again.sections, q.sections);
        assert_eq!(
            again.questions().map(|q| q.key.as_str()).collect::<Vec<_>>(),
            ["satisfaction", "influence", "informed", "responding_as", "heard_about"]
        );
    }

    #[test]
    fn questionnaire_pages_split_at_conditions_on_the_same_page() {
        let q = sample();
        // `uses` depends on `visit`, on the same page: a follow-up page starts at it.
        let pages = q.pages();
        assert_eq!(pages.len(), 2);
        assert_eq!((pages[0].start, pages[0].end, pages[0].first_of_section), (0, 1, true));
        assert_eq!((pages[1].start, pages[1].end, pages[1].first_of_section), (1, 8, false));
        assert_eq!(q.page_questions(&pages[1])[0].key, "uses");
        // A condition on an earlier section's question does not split.
        let mut i = q.to_input();
        let uses = i.sections[0].questions.remove(1);
        i.sections.push(SectionInput {
            title: Some("More".into()),
            intro: None,
            questions: vec![uses],
        });
        let two = Questionnaire::parse(i).unwrap();
        let pages = two.pages();
        assert_eq!(pages.len(), 2);
        assert_eq!((pages[1].section, pages[1].start, pages[1].end), (1, 0, 1));
    }

    #[test]
    fn questionnaire_shown_and_hidden_answers_dropped() {
        let q = sample();
        let a = answers(json!({ "visit": "no", "uses": ["walk"], "often": 3, "nope": 1 }));
        assert!(!q.shown(&a).contains("uses"));
        let kept = q.without_hidden(&a);
        assert_eq!(kept, answers(json!({ "visit": "no", "often": 3 })));
        assert!(q.check_answers(&kept).is_ok());
        let a = answers(json!({ "visit": "yes", "uses": ["walk"] }));
        assert_eq!(q.without_hidden(&a), a);
        let a = answers(json!({ "visit": { "option": "other", "text": "x" }, "uses": ["walk"] }));
        assert!(!q.without_hidden(&a).contains_key("uses"));
    }

    #[test]
    fn questionnaire_quick_poll_is_one_required_single_choice() {
        let poll = |required: bool, other: bool, kind: &str| {
            Questionnaire::parse(
                serde_json::from_value(json!({ "sections": [ { "title": "Poll", "questions": [
                    { "key": "pick", "type": kind, "text": "Which?", "required": required, "other": other,
                      "options": [ { "key": "a", "label": "A" }, { "key": "b", "label": "B" } ] } ] } ] }))
                .unwrap(),
            )
            .unwrap()
        };
        assert_eq!(poll(true, false, "single_choice").quick_poll().unwrap().key, "pick");
        assert!(poll(false, false, "single_choice").quick_poll().is_none());
        assert!(poll(true, true, "single_choice").quick_poll().is_none());
        assert!(poll(true, false, "multiple_choice").quick_poll().is_none());
        assert!(sample().quick_poll().is_none());
    }

    fn generated(
        visit: usize,
        uses: Vec<usize>,
        often: i64,
        order: Vec<usize>,
        grid: (i64, i64),
    ) -> BTreeMap<String, Value> {
        let q = sample();
        let opts = |k: &str| -> Vec<String> {
            q.question(k)
                .unwrap()
                .kind
                .options()
                .iter()
                .map(|o| o.key.clone())
                .collect()
        };
        let visit = opts("visit")[visit].clone();
        let mut a = answers(json!({ "visit": visit, "often": often, "agree": { "safe": grid.0, "clean": grid.1 } }));
        if visit == "yes" {
            let u = opts("uses");
            let mut chosen: Vec<String> = uses.iter().map(|i| u[*i].clone()).collect();
            chosen.dedup();
            a.insert("uses".into(), json!(chosen));
        }
        let o = opts("order");
        a.insert(
            "order".into(),
            json!(order.iter().map(|i| o[*i].clone()).collect::<Vec<_>>()),
        );
        a
    }

    proptest! {
        #[test]
        fn questionnaire_generated_answers_validate_and_unknown_options_fail(
            visit in 0usize..2,
            uses in proptest::collection::btree_set(0usize..3, 0..=2),
            often in 1i64..=5,
            order in Just(vec![0usize, 1, 2]).prop_shuffle(),
            grid in (1i64..=5, 1i64..=5),
            mutate in 0usize..4,
        ) {
            let q = sample();
            let a = generated(visit, uses.into_iter().collect(), often, order, grid);
            prop_assert!(q.check_answers(&a).is_ok(), "{a:?}");
            let mut bad = a.clone();
            let key = ["visit", "order", "uses", "agree"][mutate];
            match key {
                "visit" => { bad.insert(key.into(), json!("zzz")); }
                "order" => {
                    let mut o: Vec<Value> = bad["order"].as_array().unwrap().clone();
                    o[0] = json!("zzz");
                    bad.insert(key.into(), json!(o));
                }
                "uses" => {
                    bad.insert("visit".into(), json!("yes"));
                    bad.insert(key.into(), json!(["zzz"]));
                }
                _ => { bad.insert(key.into(), json!({ "safe": 1, "clean": 1, "zzz": 1 })); }
            }
            let f = fields(q.check_answers(&bad).unwrap_err());
            // The mutated answer is named (a changed `visit` also hides `uses`, named too).
            prop_assert!(f.iter().any(|x| x.starts_with(&format!("answers.{key}"))), "{f:?}");
        }
    }
}
