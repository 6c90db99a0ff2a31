//! Frameworks as data: principles, checks and the rules that decide them, their validation, and
//! the catalogue of built-in and custom frameworks.

use crate::continuum::InvolvementLevel;
use crate::error::ValidationErrors;
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
    include_str!("../../frameworks/gunning.json"),
    include_str!("../../frameworks/code_2008.json"),
    include_str!("../../frameworks/principles_2018.json"),
    include_str!("../../frameworks/oxfordshire.json"),
    include_str!("../../frameworks/stevenage.json"),
    include_str!("../../frameworks/staffordshire.json"),
    include_str!("../../frameworks/duty_to_involve.json"),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
