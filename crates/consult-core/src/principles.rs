//! The principles checklist: frameworks of principles and checks as versioned data, and the pure
//! evaluation of a plan against them (REFERENCE section 2).
//!
//! A check is either computed from the record (dates, stated scope, methods, cost...) or an
//! attestation an officer answers with evidence. Each has a severity: `blocking` and `legal_risk`
//! failures stop approval unless a coordinator records an override; `advisory` ones inform.

use crate::catalogue::Channel;
use crate::consultation::ConsultationPlan;
use crate::continuum::InvolvementLevel;
use crate::error::ValidationErrors;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// How much a failing check matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A failure stops approval (unless overridden).
    Blocking,
    /// A failure is a warning to the officer; approval may go ahead.
    Advisory,
    /// A failure is a legal risk (Gunning): it stops approval (unless overridden) and is flagged.
    LegalRisk,
}

impl Severity {
    /// True when a failure of this severity stops approval.
    pub fn blocks_approval(self) -> bool {
        !matches!(self, Severity::Advisory)
    }
}

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Met.
    Pass,
    /// Met in part, or a risk to note.
    Warn,
    /// Not met.
    Fail,
    /// An attestation no one has answered yet.
    Unanswered,
}

/// A field of the plan that a `scope_stated` check asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ScopeField {
    /// The summary.
    Summary,
    /// Why it is run.
    Purpose,
    /// The decision it informs.
    Decision,
    /// What can change.
    CanChange,
    /// What cannot change.
    CannotChange,
}

impl ScopeField {
    fn describe(self) -> &'static str {
        match self {
            Self::Summary => "a summary",
            Self::Purpose => "the purpose",
            Self::Decision => "the decision it informs",
            Self::CanChange => "what can change",
            Self::CannotChange => "what cannot change",
        }
    }

    fn stated(self, plan: &ConsultationPlan) -> bool {
        match self {
            Self::Summary => plan.summary().is_some(),
            Self::Purpose => plan.purpose().is_some(),
            Self::Decision => plan.decision().is_some(),
            Self::CanChange => !plan.can_change().is_empty(),
            Self::CannotChange => !plan.cannot_change().is_empty(),
        }
    }
}

/// How a check is decided. Computed rules read the plan and the context; `attestation` asks a
/// person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// The activity closes before the decision it informs.
    FormativeStage,
    /// At least `min_days` between closing and the decision, to analyse and report responses.
    AnalysisTime {
        /// Days.
        min_days: u32,
    },
    /// Open for at least `min_days`; shorter gives `below` (warn or fail) unless a justification
    /// is recorded as the answer to this check.
    MinimumDuration {
        /// Days.
        min_days: u32,
        /// `warn` or `fail`.
        below: Outcome,
    },
    /// These fields are stated.
    ScopeStated {
        /// Fields required.
        fields: Vec<ScopeField>,
    },
    /// Stakeholder groups or areas are recorded.
    AudienceStated,
    /// An offline method when the audience includes the general public.
    OfflineChannel,
    /// A statement of accessible formats and support.
    AccessibleFormats,
    /// Feedback due no later than `within_days` after closing.
    FeedbackDate {
        /// Days.
        within_days: u32,
    },
    /// A cost is recorded and not above the guide amount (pounds) for the level.
    CostProportionate {
        /// Guide amount in pounds per level.
        max_by_level: BTreeMap<InvolvementLevel, f64>,
    },
    /// Does not open during a configured pre-election period.
    NotInPreElection,
    /// No unresolved overlap or fatigue finding.
    NoUnresolvedFindings,
    /// In the forward plan at least `min_days` before opening.
    AdequateNotice {
        /// Days.
        min_days: u32,
    },
    /// Methods cover at least `min_channels` channels, including online if asked.
    Channels {
        /// Number of distinct channels.
        min_channels: u32,
        /// Whether an online channel is required.
        require_online: bool,
    },
    /// At least one method typically sits at the activity's level.
    MethodsFitLevel,
    /// An officer answers yes or no, with evidence.
    Attestation {
        /// The question asked.
        question: String,
    },
}

impl Rule {
    /// True for checks a person answers: attestations, and minimum durations (whose answer is the
    /// justification for a shorter period).
    pub fn accepts_answer(&self) -> bool {
        matches!(self, Rule::Attestation { .. } | Rule::MinimumDuration { .. })
    }
}

/// One check within a principle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Check {
    /// Key, unique within the framework.
    pub key: String,
    /// What is checked, in plain English.
    pub text: String,
    /// How much a failure matters.
    pub severity: Severity,
    /// How it is decided.
    pub rule: Rule,
}

/// A principle and its checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Principle {
    /// Key, unique within the framework.
    pub key: String,
    /// Name, e.g. "Be robust".
    pub name: String,
    /// What it asks, from its source.
    pub description: String,
    /// Its checks.
    pub checks: Vec<Check>,
}

/// A named, versioned set of principles (Gunning, the 2008 Code, Oxfordshire's six...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// Key, e.g. `gunning`.
    pub key: String,
    /// Version, from 1; a change makes a new version and old ones are kept.
    pub version: u32,
    /// Name.
    pub name: String,
    /// Where it comes from.
    pub source: String,
    /// Its principles.
    pub principles: Vec<Principle>,
}

fn is_key(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && s.as_bytes()[0].is_ascii_lowercase()
}

impl Framework {
    /// Checks a framework definition: keys in lower snake case and unique, names present, at
    /// least one principle with at least one check, rule parameters in range.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !is_key(&self.key) {
            e.push(
                "key",
                "must be 1 to 64 lower-case letters, digits and underscores, starting with a letter",
            );
        }
        if self.version == 0 {
            e.push("version", "must be 1 or more");
        }
        for (field, value) in [("name", &self.name), ("source", &self.source)] {
            if value.trim().is_empty() || value.chars().count() > 300 {
                e.push(field, "is required (at most 300 characters)");
            }
        }
        if self.principles.is_empty() {
            e.push("principles", "at least one principle is required");
        }
        let mut principle_keys = BTreeSet::new();
        let mut check_keys = BTreeSet::new();
        for (i, p) in self.principles.iter().enumerate() {
            let f = format!("principles[{i}]");
            if !is_key(&p.key) {
                e.push(format!("{f}.key"), "must be lower snake case");
            } else if !principle_keys.insert(p.key.as_str()) {
                e.push(format!("{f}.key"), format!("`{}` is used twice", p.key));
            }
            if p.name.trim().is_empty() {
                e.push(format!("{f}.name"), "is required");
            }
            if p.checks.is_empty() {
                e.push(format!("{f}.checks"), "at least one check is required");
            }
            for (j, c) in p.checks.iter().enumerate() {
                let f = format!("{f}.checks[{j}]");
                if !is_key(&c.key) {
                    e.push(format!("{f}.key"), "must be lower snake case");
                } else if !check_keys.insert(c.key.as_str()) {
                    e.push(
                        format!("{f}.key"),
                        format!("`{}` is used twice in this framework", c.key),
                    );
                }
                if c.text.trim().is_empty() {
                    e.push(format!("{f}.text"), "is required");
                }
                let days = |n: u32| (1..=730).contains(&n);
                match &c.rule {
                    Rule::AnalysisTime { min_days } | Rule::AdequateNotice { min_days } if !days(*min_days) => {
                        e.push(format!("{f}.rule.min_days"), "must be from 1 to 730")
                    }
                    Rule::MinimumDuration { min_days, below } => {
                        if !days(*min_days) {
                            e.push(format!("{f}.rule.min_days"), "must be from 1 to 730");
                        }
                        if !matches!(below, Outcome::Warn | Outcome::Fail) {
                            e.push(format!("{f}.rule.below"), "must be warn or fail");
                        }
                    }
                    Rule::FeedbackDate { within_days } if !days(*within_days) => {
                        e.push(format!("{f}.rule.within_days"), "must be from 1 to 730")
                    }
                    Rule::ScopeStated { fields } if fields.is_empty() => {
                        e.push(format!("{f}.rule.fields"), "name at least one field")
                    }
                    Rule::CostProportionate { max_by_level }
                        if max_by_level.values().any(|v| !v.is_finite() || *v < 0.0) =>
                    {
                        e.push(format!("{f}.rule.max_by_level"), "amounts must be pounds, zero or more")
                    }
                    Rule::Channels { min_channels, .. } if !(1..=4).contains(min_channels) => {
                        e.push(format!("{f}.rule.min_channels"), "must be from 1 to 4")
                    }
                    Rule::Attestation { question } if question.trim().is_empty() => {
                        e.push(format!("{f}.rule.question"), "is required")
                    }
                    _ => {}
                }
            }
        }
        e.into_result(())
    }

    /// The id of a check: `framework/check`.
    pub fn check_id(&self, check: &Check) -> String {
        format!("{}/{}", self.key, check.key)
    }

    /// Finds a check by its id's second part.
    pub fn check(&self, key: &str) -> Option<&Check> {
        self.principles.iter().flat_map(|p| &p.checks).find(|c| c.key == key)
    }
}

const BUILTIN_SOURCES: &[&str] = &[
    include_str!("../frameworks/gunning.json"),
    include_str!("../frameworks/code_2008.json"),
    include_str!("../frameworks/principles_2018.json"),
    include_str!("../frameworks/oxfordshire.json"),
    include_str!("../frameworks/stevenage.json"),
    include_str!("../frameworks/staffordshire.json"),
    include_str!("../frameworks/duty_to_involve.json"),
];

/// The keys of the frameworks a new organisation adopts.
pub const DEFAULT_FRAMEWORKS: &[&str] = &["gunning", "code_2008"];

/// The frameworks shipped with consult, parsed from their data files. A file that fails to parse
/// is left out (a test guarantees every one parses).
pub fn builtin_frameworks() -> Vec<Framework> {
    builtin().to_vec()
}

/// The built-in frameworks, parsed once per process (every assessment builds a catalogue).
fn builtin() -> &'static [Framework] {
    static BUILTIN: std::sync::OnceLock<Vec<Framework>> = std::sync::OnceLock::new();
    BUILTIN.get_or_init(|| {
        BUILTIN_SOURCES
            .iter()
            .filter_map(|s| serde_json::from_str::<Framework>(s).ok())
            .collect()
    })
}

/// Every version of every framework known, built in and added by organisations.
#[derive(Debug, Clone, Default)]
pub struct FrameworkCatalogue {
    frameworks: Vec<Framework>,
}

impl FrameworkCatalogue {
    /// The built-in frameworks plus `custom` ones.
    pub fn new(custom: impl IntoIterator<Item = Framework>) -> Self {
        let mut frameworks = builtin_frameworks();
        frameworks.extend(custom);
        frameworks.sort_by(|a, b| a.key.cmp(&b.key).then(a.version.cmp(&b.version)));
        Self { frameworks }
    }

    /// The newest version of each framework, by key.
    pub fn latest(&self) -> Vec<&Framework> {
        let mut out: BTreeMap<&str, &Framework> = BTreeMap::new();
        for f in &self.frameworks {
            out.insert(&f.key, f);
        }
        out.into_values().collect()
    }

    /// The newest version of one framework.
    pub fn get(&self, key: &str) -> Option<&Framework> {
        self.frameworks.iter().rev().find(|f| f.key == key)
    }

    /// One version of one framework.
    pub fn version(&self, key: &str, version: u32) -> Option<&Framework> {
        self.frameworks.iter().find(|f| f.key == key && f.version == version)
    }

    /// True for keys of the built-in frameworks.
    pub fn is_builtin(key: &str) -> bool {
        builtin().iter().any(|f| f.key == key)
    }

    /// Every version of every framework.
    pub fn all(&self) -> &[Framework] {
        &self.frameworks
    }
}

/// A period before an election in which consultations should not launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ElectionPeriod {
    /// E.g. "County council elections 2027".
    pub name: String,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day (the polling day).
    pub ends_on: NaiveDate,
}

/// An officer's answer to a check that needs a person's evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Attestation {
    /// The check's id, `framework/check`.
    pub check: String,
    /// Yes or no.
    pub answer: bool,
    /// The evidence, or for a shorter duration the justification.
    pub evidence: Option<String>,
    /// Who answered.
    pub by: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// An answer as sent by a client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AttestationInput {
    /// The check's id, `framework/check`.
    pub check: Option<String>,
    /// `yes` or `no`.
    pub answer: Option<String>,
    /// Evidence text (required with `yes`).
    pub evidence: Option<String>,
}

impl Attestation {
    /// Validates answers against the frameworks that apply: each names a check that accepts an
    /// answer, says yes or no, and gives evidence for a yes.
    pub fn parse_all(
        inputs: Vec<AttestationInput>,
        frameworks: &[&Framework],
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<Attestation>, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut out: Vec<Attestation> = Vec::new();
        if inputs.is_empty() {
            e.push("answers", "give at least one answer");
        }
        for (i, input) in inputs.into_iter().enumerate() {
            let f = format!("answers[{i}]");
            let check = input.check.as_deref().map(str::trim).unwrap_or_default();
            let known = check
                .split_once('/')
                .and_then(|(fw, key)| frameworks.iter().find(|f| f.key == fw).and_then(|f| f.check(key)));
            match known {
                None => e.push(
                    format!("{f}.check"),
                    format!("`{check}` is not a check of the frameworks that apply"),
                ),
                Some(c) if !c.rule.accepts_answer() => e.push(
                    format!("{f}.check"),
                    format!("`{check}` is computed from the record and cannot be answered"),
                ),
                Some(_) => {}
            }
            let answer = match input.answer.as_deref().map(str::trim) {
                Some("yes") => Some(true),
                Some("no") => Some(false),
                _ => {
                    e.push(format!("{f}.answer"), "must be yes or no");
                    None
                }
            };
            let evidence = input
                .evidence
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned);
            if evidence.as_ref().is_some_and(|v| v.chars().count() > 5000) {
                e.push(format!("{f}.evidence"), "must be at most 5000 characters");
            }
            if answer == Some(true) && evidence.is_none() {
                e.push(format!("{f}.evidence"), "give the evidence for a yes");
            }
            if out.iter().any(|a| a.check == check) {
                e.push(format!("{f}.check"), format!("`{check}` is answered twice"));
            }
            if let (Some(_), Some(answer)) = (known, answer) {
                out.push(Attestation {
                    check: check.to_owned(),
                    answer,
                    evidence,
                    by: by.to_owned(),
                    at,
                });
            }
        }
        e.into_result(out)
    }
}

/// What an assessment is evaluated against besides the plan.
#[derive(Debug, Clone, Copy)]
pub struct AssessmentContext<'a> {
    /// Today.
    pub today: NaiveDate,
    /// The day notice is counted from: the approval date once approved, else today.
    pub notice_from: NaiveDate,
    /// The owner organisation's pre-election periods.
    pub pre_election: &'a [ElectionPeriod],
    /// Unresolved overlap and fatigue findings, described in plain English.
    pub unresolved_findings: &'a [String],
    /// Answers recorded for this activity.
    pub attestations: &'a [Attestation],
}

/// Which framework version an assessment used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FrameworkRef {
    /// Key.
    pub key: String,
    /// Version.
    pub version: u32,
    /// Name.
    pub name: String,
}

/// The result of one check, explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckResult {
    /// `framework/check`: the id to answer it by.
    pub id: String,
    /// Framework key.
    pub framework: String,
    /// Principle name.
    pub principle: String,
    /// What is checked.
    pub check: String,
    /// How much a failure matters.
    pub severity: Severity,
    /// The outcome.
    pub outcome: Outcome,
    /// Why, in plain English.
    pub reason: String,
    /// For checks a person answers: the question.
    pub question: Option<String>,
}

impl CheckResult {
    /// True when this result stops approval.
    pub fn blocks_approval(&self) -> bool {
        self.outcome == Outcome::Fail && self.severity.blocks_approval()
    }
}

/// A plan assessed against frameworks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assessment {
    /// The frameworks and versions used.
    pub frameworks: Vec<FrameworkRef>,
    /// Every check, in framework and principle order.
    pub checks: Vec<CheckResult>,
    /// No blocking check fails and none is unanswered.
    pub ready: bool,
    /// No blocking check fails: a coordinator may approve (unanswered attestations are theirs to
    /// accept).
    pub approvable: bool,
}

impl Assessment {
    /// The checks that stop approval.
    pub fn blocking_failures(&self) -> Vec<&CheckResult> {
        self.checks.iter().filter(|c| c.blocks_approval()).collect()
    }
}

fn date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn days_and_weeks(days: i64) -> String {
    let (w, d) = (days / 7, days % 7);
    let weeks = match w {
        0 => String::new(),
        1 => "1 week".into(),
        n => format!("{n} weeks"),
    };
    let days_s = match d {
        0 => String::new(),
        1 => "1 day".into(),
        n => format!("{n} days"),
    };
    match (weeks.is_empty(), days_s.is_empty()) {
        (true, true) => "0 days".into(),
        (false, true) => weeks,
        (true, false) => days_s,
        (false, false) => format!("{weeks} {days_s}"),
    }
}

fn pounds(v: f64) -> String {
    let whole = v.trunc() as i64;
    let pence = ((v - v.trunc()) * 100.0).round() as i64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    if pence == 0 {
        format!("£{grouped}")
    } else {
        format!("£{grouped}.{pence:02}")
    }
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Online => "online",
        Channel::Paper => "paper",
        Channel::FaceToFace => "face to face",
        Channel::Phone => "phone",
    }
}

fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Decides one check.
fn evaluate(
    rule: &Rule,
    answer: Option<&Attestation>,
    plan: &ConsultationPlan,
    ctx: &AssessmentContext<'_>,
) -> (Outcome, String) {
    use Outcome::{Fail, Pass, Unanswered, Warn};
    let closes = plan.closes_on();
    match rule {
        Rule::FormativeStage => match plan.decision_date() {
            None => (
                Warn,
                "no decision date is recorded, so it cannot be shown that the decision follows the consultation".into(),
            ),
            Some(d) if closes < d => (
                Pass,
                format!("closes on {}, before the decision on {}", date(closes), date(d)),
            ),
            Some(d) => (
                Fail,
                format!(
                    "closes on {}, but the decision is taken on {}: not at a formative stage",
                    date(closes),
                    date(d)
                ),
            ),
        },
        Rule::AnalysisTime { min_days } => match plan.decision_date() {
            None => (
                Warn,
                "no decision date is recorded, so there may be no time to consider the responses".into(),
            ),
            Some(d) => {
                let gap = (d - closes).num_days();
                let min = i64::from(*min_days);
                if gap >= min {
                    (
                        Pass,
                        format!("{} between closing and the decision", days_and_weeks(gap)),
                    )
                } else if gap > 0 {
                    (
                        Warn,
                        format!(
                            "only {} between closing and the decision; allow at least {} to analyse and report the responses",
                            days_and_weeks(gap),
                            days_and_weeks(min)
                        ),
                    )
                } else {
                    (
                        Fail,
                        format!(
                            "the decision on {} leaves no time after closing on {} to consider the responses",
                            date(d),
                            date(closes)
                        ),
                    )
                }
            }
        },
        Rule::MinimumDuration { min_days, below } => {
            let d = plan.duration_days();
            let min = i64::from(*min_days);
            if d >= min {
                (
                    Pass,
                    format!(
                        "runs for {}, at least the minimum of {}",
                        days_and_weeks(d),
                        days_and_weeks(min)
                    ),
                )
            } else {
                match answer {
                    Some(a) if a.answer => (
                        Pass,
                        format!(
                            "runs for {}, shorter than {}, justified: {}",
                            days_and_weeks(d),
                            days_and_weeks(min),
                            a.evidence.as_deref().unwrap_or_default()
                        ),
                    ),
                    _ => (
                        *below,
                        format!(
                            "runs for {}, shorter than the minimum of {}, and no justification is recorded",
                            days_and_weeks(d),
                            days_and_weeks(min)
                        ),
                    ),
                }
            }
        }
        Rule::ScopeStated { fields } => {
            let missing: Vec<String> = fields
                .iter()
                .filter(|f| !f.stated(plan))
                .map(|f| f.describe().to_owned())
                .collect();
            if missing.is_empty() {
                let stated: Vec<String> = fields.iter().map(|f| f.describe().to_owned()).collect();
                (Pass, format!("{} stated", list(&stated)))
            } else {
                (Fail, format!("not stated: {}", list(&missing)))
            }
        }
        Rule::AudienceStated => {
            let a = plan.audience();
            if a.groups.is_empty() && a.areas.is_empty() {
                (Fail, "no stakeholder groups or areas are recorded".into())
            } else {
                (
                    Pass,
                    format!("{} groups and {} areas recorded", a.groups.len(), a.areas.len()),
                )
            }
        }
        Rule::OfflineChannel => {
            if !plan.audience().includes_general_public() {
                (Pass, "the audience is not the general public".into())
            } else if plan.method_slugs().is_empty() {
                (Fail, "the general public is asked, but no methods are recorded".into())
            } else {
                let offline: Vec<String> = plan
                    .methods()
                    .filter(|m| m.channel.is_offline())
                    .map(|m| m.name.to_lowercase())
                    .collect();
                if offline.is_empty() {
                    (Fail, "the general public is asked, but every method is online".into())
                } else {
                    (Pass, format!("offline: {}", list(&offline)))
                }
            }
        }
        Rule::AccessibleFormats => match plan.accessible_formats() {
            Some(_) => (Pass, "accessible formats and support are stated".into()),
            None => (Fail, "no statement of accessible formats or support is recorded".into()),
        },
        Rule::FeedbackDate { within_days } => match plan.feedback_due_on() {
            None => (Fail, "no date for publishing feedback is set".into()),
            Some(f) => {
                let gap = (f - closes).num_days();
                if gap <= i64::from(*within_days) {
                    (
                        Pass,
                        format!("feedback due on {}, {} after closing", date(f), days_and_weeks(gap)),
                    )
                } else {
                    (
                        Fail,
                        format!(
                            "feedback due on {}, {} after closing; the limit is {}",
                            date(f),
                            days_and_weeks(gap),
                            days_and_weeks(i64::from(*within_days))
                        ),
                    )
                }
            }
        },
        Rule::CostProportionate { max_by_level } => match plan.cost() {
            None => (Fail, "no cost is recorded".into()),
            Some(c) => {
                let amount = c.amount.pounds();
                match max_by_level.get(&plan.level()) {
                    Some(max) if amount > *max => (
                        Warn,
                        format!(
                            "{} is above the guide of {} for a {}-level activity; record why it is proportionate",
                            pounds(amount),
                            pounds(*max),
                            plan.level()
                        ),
                    ),
                    Some(max) => (
                        Pass,
                        format!(
                            "{}, within the guide of {} for {}",
                            pounds(amount),
                            pounds(*max),
                            plan.level()
                        ),
                    ),
                    None => (Pass, format!("{} recorded", pounds(amount))),
                }
            }
        },
        Rule::NotInPreElection => {
            let opens = plan.opens_on();
            if let Some(p) = ctx
                .pre_election
                .iter()
                .find(|p| p.starts_on <= opens && opens <= p.ends_on)
            {
                (
                    Fail,
                    format!(
                        "opens on {}, during the pre-election period for {} ({} to {})",
                        date(opens),
                        p.name,
                        date(p.starts_on),
                        date(p.ends_on)
                    ),
                )
            } else if let Some(p) = ctx
                .pre_election
                .iter()
                .find(|p| p.starts_on <= closes && opens <= p.ends_on)
            {
                (
                    Warn,
                    format!(
                        "is open during the pre-election period for {} ({} to {}); do not publicise it then",
                        p.name,
                        date(p.starts_on),
                        date(p.ends_on)
                    ),
                )
            } else {
                (Pass, "does not launch during a pre-election period".into())
            }
        }
        Rule::NoUnresolvedFindings => {
            if ctx.unresolved_findings.is_empty() {
                (Pass, "no unresolved overlap or fatigue findings".into())
            } else {
                (Fail, format!("unresolved: {}", ctx.unresolved_findings.join("; ")))
            }
        }
        Rule::AdequateNotice { min_days } => {
            let notice = (plan.opens_on() - ctx.notice_from).num_days();
            if notice >= i64::from(*min_days) {
                (Pass, format!("{} notice before it opens", days_and_weeks(notice)))
            } else {
                (
                    Warn,
                    format!(
                        "{} notice before it opens; at least {} is recommended",
                        days_and_weeks(notice.max(0)),
                        days_and_weeks(i64::from(*min_days))
                    ),
                )
            }
        }
        Rule::Channels {
            min_channels,
            require_online,
        } => {
            let mut channels: Vec<Channel> = Vec::new();
            for m in plan.methods() {
                if !channels.contains(&m.channel) {
                    channels.push(m.channel);
                }
            }
            let names: Vec<String> = channels.iter().map(|c| channel_name(*c).to_owned()).collect();
            let has_online = channels.contains(&Channel::Online);
            if channels.len() >= *min_channels as usize && (!require_online || has_online) {
                (Pass, format!("uses {}", list(&names)))
            } else if channels.is_empty() {
                (Warn, "no methods are recorded".into())
            } else {
                let need = if *require_online { ", including online" } else { "" };
                (
                    Warn,
                    format!("uses only {}; use at least {min_channels} channels{need}", list(&names)),
                )
            }
        }
        Rule::MethodsFitLevel => {
            let methods: Vec<_> = plan.methods().collect();
            if methods.is_empty() {
                (Warn, "no methods are recorded".into())
            } else if methods.iter().any(|m| m.typical_levels.contains(&plan.level())) {
                (Pass, format!("methods suit the {} level", plan.level()))
            } else {
                (
                    Warn,
                    format!("none of the methods typically sits at the {} level", plan.level()),
                )
            }
        }
        Rule::Attestation { .. } => match answer {
            None => (Unanswered, "not answered yet".into()),
            Some(a) if a.answer => (Pass, format!("yes: {}", a.evidence.as_deref().unwrap_or_default())),
            Some(a) => (
                Fail,
                match a.evidence.as_deref() {
                    Some(e) => format!("no: {e}"),
                    None => "answered no".into(),
                },
            ),
        },
    }
}

/// Assesses a plan against frameworks. Pure and deterministic: the same plan, frameworks and
/// context always give the same assessment.
///
/// ```
/// use consult_core::*;
/// let org = Organisation::parse(OrganisationId(uuid::Uuid::nil()), OrganisationInput {
///     slug: Some("tamworth".into()), name: Some("Tamworth".into()), kind: Some("council".into()), services: vec![],
/// }).unwrap();
/// let areas = AreaHierarchy::default();
/// let plan = ConsultationPlan::parse(ConsultationInput {
///     organisation: Some("tamworth".into()), title: Some("Budget".into()), level: Some("consult".into()),
///     opens_on: Some("2026-01-05".into()), closes_on: Some("2026-03-14".into()),
///     decision_date: Some("2026-03-01".into()), ..Default::default()
/// }, RegisterContext { organisations: &[org], areas: &areas }).unwrap();
/// let catalogue = FrameworkCatalogue::new([]);
/// let gunning = catalogue.get("gunning").unwrap();
/// let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
/// let ctx = AssessmentContext { today, notice_from: today, pre_election: &[], unresolved_findings: &[], attestations: &[] };
/// let a = assess(&plan, &[gunning], &ctx);
/// assert_eq!(a.checks[0].outcome, Outcome::Fail);
/// assert_eq!(a.checks[0].reason, "closes on 14 March 2026, but the decision is taken on 1 March 2026: \
///     not at a formative stage (Gunning 1: formative stage); a legal risk");
/// assert!(!a.approvable);
/// ```
pub fn assess(plan: &ConsultationPlan, frameworks: &[&Framework], ctx: &AssessmentContext<'_>) -> Assessment {
    let mut checks = Vec::new();
    for f in frameworks {
        for p in &f.principles {
            for c in &p.checks {
                let id = f.check_id(c);
                let answer = ctx.attestations.iter().find(|a| a.check == id);
                let (outcome, mut reason) = evaluate(&c.rule, answer, plan, ctx);
                if matches!(outcome, Outcome::Fail | Outcome::Warn) {
                    reason = format!("{reason} ({})", p.name);
                }
                if outcome == Outcome::Fail && c.severity == Severity::LegalRisk {
                    reason.push_str("; a legal risk");
                }
                checks.push(CheckResult {
                    id,
                    framework: f.key.clone(),
                    principle: p.name.clone(),
                    check: c.text.clone(),
                    severity: c.severity,
                    outcome,
                    reason,
                    question: match &c.rule {
                        Rule::Attestation { question } => Some(question.clone()),
                        Rule::MinimumDuration { .. } => {
                            Some("If it is shorter than the minimum, why? (your answer is the justification)".into())
                        }
                        _ => None,
                    },
                });
            }
        }
    }
    let approvable = !checks.iter().any(CheckResult::blocks_approval);
    let ready = approvable && !checks.iter().any(|c| c.outcome == Outcome::Unanswered);
    Assessment {
        frameworks: frameworks
            .iter()
            .map(|f| FrameworkRef {
                key: f.key.clone(),
                version: f.version,
                name: f.name.clone(),
            })
            .collect(),
        checks,
        ready,
        approvable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::{Area, AreaCode, AreaHierarchy};
    use crate::consultation::{AudienceInput, ConsultationInput, CostInput, RegisterContext};
    use crate::organisation::{Organisation, OrganisationId, OrganisationInput};
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    /// A complete plan that passes every computed check of every built-in framework.
    fn good() -> ConsultationInput {
        ConsultationInput {
            organisation: Some("tamworth".into()),
            title: Some("Budget and council tax 2027/28".into()),
            summary: Some("Which services matter most as we set next year's budget".into()),
            purpose: Some("To set priorities for the 2027/28 budget".into()),
            decision: Some("Full council sets the budget and council tax".into()),
            decision_date: Some("2026-05-01".into()),
            can_change: vec!["Which services are protected".into()],
            cannot_change: vec!["The statutory council tax referendum limit".into()],
            level: Some("consult".into()),
            methods: vec!["online_survey".into(), "questionnaire".into(), "public_meeting".into()],
            audience: AudienceInput {
                groups: vec!["residents".into()],
                areas: vec!["E07000199".into()],
                equality_groups: vec![],
            },
            opens_on: Some("2026-01-05".into()),
            closes_on: Some("2026-03-29".into()),
            feedback_due_on: Some("2026-06-01".into()),
            accessible_formats: Some("Large print, easy read and other languages on request".into()),
            cost: Some(CostInput {
                amount: Some(4500.0),
                currency: None,
            }),
            ..Default::default()
        }
    }

    fn plan(input: ConsultationInput) -> ConsultationPlan {
        let org = Organisation::parse(
            OrganisationId(uuid::Uuid::nil()),
            OrganisationInput {
                slug: Some("tamworth".into()),
                name: Some("Tamworth Borough Council".into()),
                kind: Some("council".into()),
                services: vec![],
            },
        )
        .unwrap();
        let areas = AreaHierarchy::new([Area {
            code: AreaCode::parse("E07000199").unwrap(),
            name: "Tamworth".into(),
            parent: None,
        }]);
        ConsultationPlan::parse(
            input,
            RegisterContext {
                organisations: &[org],
                areas: &areas,
            },
        )
        .unwrap()
    }

    fn ctx<'a>(
        attestations: &'a [Attestation],
        periods: &'a [ElectionPeriod],
        findings: &'a [String],
    ) -> AssessmentContext<'a> {
        AssessmentContext {
            today: day("2025-11-01"),
            notice_from: day("2025-11-01"),
            pre_election: periods,
            unresolved_findings: findings,
            attestations,
        }
    }

    fn outcome_of(input: ConsultationInput, framework: &str, check: &str) -> (Outcome, String) {
        outcome_with(input, framework, check, &ctx(&[], &[], &[]))
    }

    fn outcome_with(
        input: ConsultationInput,
        framework: &str,
        check: &str,
        c: &AssessmentContext<'_>,
    ) -> (Outcome, String) {
        let cat = FrameworkCatalogue::new([]);
        let f = cat.get(framework).unwrap();
        let a = assess(&plan(input), &[f], c);
        let r = a
            .checks
            .iter()
            .find(|r| r.id == format!("{framework}/{check}"))
            .unwrap();
        (r.outcome, r.reason.clone())
    }

    fn with(f: impl FnOnce(&mut ConsultationInput)) -> ConsultationInput {
        let mut i = good();
        f(&mut i);
        i
    }

    #[test]
    fn every_builtin_framework_parses_and_validates() {
        let all = builtin_frameworks();
        assert_eq!(all.len(), BUILTIN_SOURCES.len());
        let keys: Vec<&str> = all.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "gunning",
                "code_2008",
                "principles_2018",
                "oxfordshire",
                "stevenage",
                "staffordshire",
                "duty_to_involve"
            ]
        );
        for f in &all {
            f.validate().unwrap_or_else(|e| panic!("{}: {e}", f.key));
        }
        let count = |k: &str| all.iter().find(|f| f.key == k).unwrap().principles.len();
        assert_eq!(
            [
                count("gunning"),
                count("code_2008"),
                count("principles_2018"),
                count("oxfordshire"),
                count("stevenage"),
                count("staffordshire"),
                count("duty_to_involve")
            ],
            [4, 7, 11, 6, 3, 7, 5]
        );
        for k in DEFAULT_FRAMEWORKS {
            assert!(keys.contains(k));
        }
    }

    #[test]
    fn a_complete_plan_passes_every_computed_check() {
        let cat = FrameworkCatalogue::new([]);
        let all = cat.latest();
        let a = assess(&plan(good()), &all, &ctx(&[], &[], &[]));
        for c in &a.checks {
            // Only attestations are left to a person; everything computed passes.
            let (framework, key) = c.id.split_once('/').unwrap();
            let rule = &cat.get(framework).unwrap().check(key).unwrap().rule;
            let expected = if matches!(rule, Rule::Attestation { .. }) {
                Outcome::Unanswered
            } else {
                Outcome::Pass
            };
            assert_eq!(c.outcome, expected, "{}: {}", c.id, c.reason);
        }
        assert!(a.approvable);
        assert!(!a.ready, "attestations are unanswered");
    }

    #[test]
    fn duration_boundaries_under_the_2008_code() {
        // 12 weeks exactly passes.
        let (o, r) = outcome_of(
            with(|i| i.closes_on = Some("2026-03-29".into())),
            "code_2008",
            "twelve_weeks",
        );
        assert_eq!(o, Outcome::Pass, "{r}");
        assert!(r.contains("12 weeks"));
        // 11 weeks 6 days fails (the 2008 code is configured to fail).
        let short = with(|i| i.closes_on = Some("2026-03-28".into()));
        let (o, r) = outcome_of(short.clone(), "code_2008", "twelve_weeks");
        assert_eq!(o, Outcome::Fail);
        assert_eq!(
            r,
            "runs for 11 weeks 6 days, shorter than the minimum of 12 weeks, and no justification is recorded (Criterion 2: duration)"
        );
        // ... and passes once a justification is recorded.
        let just = [Attestation {
            check: "code_2008/twelve_weeks".into(),
            answer: true,
            evidence: Some("The statutory timetable for the budget allows 11 weeks".into()),
            by: "officer".into(),
            at: DateTime::default(),
        }];
        let (o, r) = outcome_with(short.clone(), "code_2008", "twelve_weeks", &ctx(&just, &[], &[]));
        assert_eq!(o, Outcome::Pass);
        assert!(r.contains("justified: The statutory timetable"));
        // Gunning's adequate time is configured to warn below four weeks.
        let (o, _) = outcome_of(
            with(|i| i.closes_on = Some("2026-02-01".into())),
            "gunning",
            "time_to_respond",
        );
        assert_eq!(o, Outcome::Pass, "28 days");
        let (o, _) = outcome_of(
            with(|i| i.closes_on = Some("2026-01-31".into())),
            "gunning",
            "time_to_respond",
        );
        assert_eq!(o, Outcome::Warn, "27 days");
    }

    #[test]
    fn formative_stage_and_time_to_consider() {
        let (o, _) = outcome_of(
            with(|i| i.decision_date = Some("2026-03-30".into())),
            "gunning",
            "closes_before_decision",
        );
        assert_eq!(o, Outcome::Pass);
        let (o, r) = outcome_of(
            with(|i| i.decision_date = Some("2026-03-29".into())),
            "gunning",
            "closes_before_decision",
        );
        assert_eq!(o, Outcome::Fail);
        assert!(
            r.ends_with("not at a formative stage (Gunning 1: formative stage); a legal risk"),
            "{r}"
        );
        let (o, _) = outcome_of(with(|i| i.decision_date = None), "gunning", "closes_before_decision");
        assert_eq!(o, Outcome::Warn);
        let (o, _) = outcome_of(
            with(|i| i.decision_date = Some("2026-04-12".into())),
            "gunning",
            "time_to_consider",
        );
        assert_eq!(o, Outcome::Pass, "14 days");
        let (o, _) = outcome_of(
            with(|i| i.decision_date = Some("2026-04-11".into())),
            "gunning",
            "time_to_consider",
        );
        assert_eq!(o, Outcome::Warn, "13 days");
        let (o, _) = outcome_of(
            with(|i| i.decision_date = Some("2026-03-20".into())),
            "gunning",
            "time_to_consider",
        );
        assert_eq!(o, Outcome::Fail);
    }

    #[test]
    fn stated_scope_audience_and_formats() {
        let (o, r) = outcome_of(
            with(|i| {
                i.cannot_change.clear();
                i.decision = None;
            }),
            "code_2008",
            "scope_stated",
        );
        assert_eq!(o, Outcome::Fail);
        assert_eq!(
            r,
            "not stated: the decision it informs and what cannot change (Criterion 3: clarity of scope and impact)"
        );
        let (o, _) = outcome_of(
            with(|i| i.audience = AudienceInput::default()),
            "code_2008",
            "audience_stated",
        );
        assert_eq!(o, Outcome::Fail);
        let (o, _) = outcome_of(with(|i| i.accessible_formats = None), "code_2008", "accessible_formats");
        assert_eq!(o, Outcome::Fail);
    }

    #[test]
    fn offline_channel_for_the_general_public() {
        let online_only = with(|i| i.methods = vec!["online_survey".into(), "social_media".into()]);
        let (o, r) = outcome_of(online_only.clone(), "code_2008", "offline_channel");
        assert_eq!(o, Outcome::Fail, "{r}");
        let mut staff = online_only;
        staff.audience.groups = vec!["staff".into()];
        assert_eq!(outcome_of(staff, "code_2008", "offline_channel").0, Outcome::Pass);
        let (o, r) = outcome_of(good(), "code_2008", "offline_channel");
        assert_eq!(o, Outcome::Pass);
        assert_eq!(r, "offline: questionnaires on a proposal and public meetings");
    }

    #[test]
    fn feedback_cost_notice_and_findings() {
        let (o, _) = outcome_of(
            with(|i| i.feedback_due_on = Some("2026-06-21".into())),
            "code_2008",
            "feedback_planned",
        );
        assert_eq!(o, Outcome::Pass, "84 days after closing");
        let (o, _) = outcome_of(
            with(|i| i.feedback_due_on = Some("2026-06-22".into())),
            "code_2008",
            "feedback_planned",
        );
        assert_eq!(o, Outcome::Fail, "85 days after closing");
        let (o, _) = outcome_of(with(|i| i.feedback_due_on = None), "code_2008", "feedback_planned");
        assert_eq!(o, Outcome::Fail);

        let (o, _) = outcome_of(with(|i| i.cost = None), "oxfordshire", "cost_proportionate");
        assert_eq!(o, Outcome::Fail);
        let dear = with(|i| {
            i.cost = Some(CostInput {
                amount: Some(40000.01),
                currency: None,
            })
        });
        let (o, r) = outcome_of(dear, "oxfordshire", "cost_proportionate");
        assert_eq!(o, Outcome::Warn);
        assert!(
            r.starts_with("£40,000.01 is above the guide of £40,000 for a consult-level activity"),
            "{r}"
        );

        let c = AssessmentContext {
            notice_from: day("2025-12-08"),
            ..ctx(&[], &[], &[])
        };
        assert_eq!(
            outcome_with(good(), "oxfordshire", "adequate_notice", &c).0,
            Outcome::Pass,
            "28 days"
        );
        let c = AssessmentContext {
            notice_from: day("2025-12-09"),
            ..ctx(&[], &[], &[])
        };
        assert_eq!(
            outcome_with(good(), "oxfordshire", "adequate_notice", &c).0,
            Outcome::Warn,
            "27 days"
        );

        let findings = ["overlaps with Staffordshire budget consultation 2027/28".to_owned()];
        let (o, r) = outcome_with(good(), "code_2008", "no_duplication", &ctx(&[], &[], &findings));
        assert_eq!(o, Outcome::Fail);
        assert!(r.contains("Staffordshire budget"));
    }

    #[test]
    fn pre_election_periods() {
        let period = |s: &str, e: &str| ElectionPeriod {
            name: "County elections".into(),
            starts_on: day(s),
            ends_on: day(e),
        };
        let check = |p: ElectionPeriod| {
            outcome_with(
                good(),
                "code_2008",
                "not_in_election_period",
                &ctx(&[], std::slice::from_ref(&p), &[]),
            )
            .0
        };
        assert_eq!(
            check(period("2026-01-05", "2026-01-20")),
            Outcome::Fail,
            "opens on the first day"
        );
        assert_eq!(
            check(period("2025-12-01", "2026-01-05")),
            Outcome::Fail,
            "opens on polling day"
        );
        assert_eq!(
            check(period("2026-03-01", "2026-05-07")),
            Outcome::Warn,
            "open during it"
        );
        assert_eq!(
            check(period("2026-03-30", "2026-05-07")),
            Outcome::Pass,
            "after closing"
        );
    }

    #[test]
    fn attestations_answer_checks() {
        let cat = FrameworkCatalogue::new([]);
        let fws = [cat.get("gunning").unwrap(), cat.get("code_2008").unwrap()];
        let input = |check: &str, answer: &str, evidence: Option<&str>| AttestationInput {
            check: Some(check.into()),
            answer: Some(answer.into()),
            evidence: evidence.map(Into::into),
        };
        let ok = Attestation::parse_all(
            vec![
                input(
                    "gunning/enough_information",
                    "yes",
                    Some("Consultation document and FAQs"),
                ),
                input("code_2008/capacity_and_advice", "no", None),
            ],
            &fws,
            "Olu",
            DateTime::default(),
        )
        .unwrap();
        assert_eq!(ok.len(), 2);
        let (o, r) = outcome_with(good(), "gunning", "enough_information", &ctx(&ok, &[], &[]));
        assert_eq!((o, r.as_str()), (Outcome::Pass, "yes: Consultation document and FAQs"));
        assert_eq!(
            outcome_with(good(), "code_2008", "capacity_and_advice", &ctx(&ok, &[], &[])).0,
            Outcome::Fail
        );
        assert_eq!(
            outcome_of(good(), "gunning", "enough_information").0,
            Outcome::Unanswered
        );

        let bad = Attestation::parse_all(
            vec![
                input("gunning/closes_before_decision", "yes", Some("x")),
                input("oxfordshire/genuine_reason", "yes", Some("x")),
                input("gunning/enough_information", "maybe", None),
                input("gunning/reported_to_decision_maker", "yes", None),
            ],
            &fws,
            "Olu",
            DateTime::default(),
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "answers[0].check",
                "answers[1].check",
                "answers[2].answer",
                "answers[3].evidence"
            ]
        );
    }

    #[test]
    fn custom_frameworks_are_validated() {
        let mut f = builtin_frameworks().remove(0);
        f.key = "Our Charter".into();
        let first = f.principles[0].checks[0].clone();
        f.principles[0].checks.push(first);
        f.principles[1].checks[1].rule = Rule::MinimumDuration {
            min_days: 0,
            below: Outcome::Pass,
        };
        let fields: Vec<String> = f
            .validate()
            .unwrap_err()
            .into_errors()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "key",
                "principles[0].checks[1].key",
                "principles[1].checks[1].rule.min_days",
                "principles[1].checks[1].rule.below"
            ]
        );
        let unknown_rule = r#"{"key":"x","version":1,"name":"X","source":"S","principles":[{"key":"p","name":"P","description":"","checks":[{"key":"c","text":"t","severity":"blocking","rule":{"kind":"vibes"}}]}]}"#;
        assert!(serde_json::from_str::<Framework>(unknown_rule).is_err());
    }

    #[test]
    fn catalogue_keeps_versions() {
        let mut v2 = builtin_frameworks().remove(0);
        v2.version = 2;
        v2.name = "Gunning, revised".into();
        let cat = FrameworkCatalogue::new([v2]);
        assert_eq!(cat.get("gunning").unwrap().version, 2);
        assert_eq!(cat.version("gunning", 1).unwrap().name, "The Gunning principles");
        assert_eq!(cat.latest().len(), 7);
    }

    #[test]
    fn assessments_of_seed_examples() {
        let cat = FrameworkCatalogue::new([]);
        let c = ctx(&[], &[], &[]);
        // Tamworth's budget consultation, adopting the defaults.
        let defaults: Vec<&Framework> = DEFAULT_FRAMEWORKS.iter().filter_map(|k| cat.get(k)).collect();
        insta::assert_json_snapshot!("tamworth_budget_defaults", assess(&plan(good()), &defaults, &c));
        // A Stevenage regeneration activity, online only and short, decided the day it closes.
        let stevenage = with(|i| {
            i.title = Some("Town centre regeneration".into());
            i.level = Some("involve".into());
            i.methods = vec!["online_consultation".into()];
            i.closes_on = Some("2026-02-15".into());
            i.decision_date = Some("2026-02-15".into());
            i.cannot_change.clear();
        });
        let fws = [cat.get("stevenage").unwrap(), cat.get("gunning").unwrap()];
        insta::assert_json_snapshot!("stevenage_regeneration", assess(&plan(stevenage), &fws, &c));
        // Oxfordshire's six principles on a plan with no cost and no feedback date.
        let oxon = with(|i| {
            i.cost = None;
            i.feedback_due_on = None;
            i.accessible_formats = None;
        });
        insta::assert_json_snapshot!(
            "oxfordshire_six",
            assess(&plan(oxon), &[cat.get("oxfordshire").unwrap()], &c)
        );
    }

    fn any_attestations() -> impl Strategy<Value = Vec<(usize, bool)>> {
        proptest::collection::vec((0usize..64, any::<bool>()), 0..8)
    }

    proptest! {
        #[test]
        fn evaluation_is_deterministic_and_answers_only_touch_their_own_check(
            close_offset in 0i64..120,
            decision_offset in -30i64..60,
            answers in any_attestations(),
            extra in (0usize..64, any::<bool>()),
        ) {
            let cat = FrameworkCatalogue::new([]);
            let fws = cat.latest();
            let closes = day("2026-01-05") + chrono::Duration::days(close_offset);
            let input = with(|i| {
                i.closes_on = Some(closes.to_string());
                i.decision_date = Some((closes + chrono::Duration::days(decision_offset)).to_string());
                i.feedback_due_on = None;
            });
            let p = plan(input);
            let answerable: Vec<String> = fws.iter().flat_map(|f| f.principles.iter().flat_map(move |pr| pr.checks.iter().filter(|c| c.rule.accepts_answer()).map(move |c| f.check_id(c)))).collect();
            let make = |(i, yes): (usize, bool)| Attestation {
                check: answerable[i % answerable.len()].clone(),
                answer: yes,
                evidence: Some("evidence".into()),
                by: "x".into(),
                at: DateTime::default(),
            };
            let mut given: Vec<Attestation> = Vec::new();
            for a in answers.into_iter().map(make) {
                if !given.iter().any(|g| g.check == a.check) {
                    given.push(a);
                }
            }
            let before = assess(&p, &fws, &ctx(&given, &[], &[]));
            prop_assert_eq!(&before, &assess(&p, &fws, &ctx(&given, &[], &[])));
            let new = make(extra);
            given.retain(|g| g.check != new.check);
            let target = new.check.clone();
            given.push(new);
            let after = assess(&p, &fws, &ctx(&given, &[], &[]));
            for (b, a) in before.checks.iter().zip(&after.checks) {
                if b.id != target {
                    prop_assert_eq!(b, a);
                }
                if b.outcome == Outcome::Pass && a.outcome == Outcome::Fail {
                    prop_assert_eq!(&b.id, &target);
                }
            }
        }
    }
}
