//! The involvement continuum: one canonical ordered scale, and every published model mapped onto it
//! (REFERENCE section 1), so activities recorded under any model compare and aggregate.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The canonical involvement scale, low to high. The order is meaningful: `Inform < Empower`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InvolvementLevel {
    /// Telling people about a decision or service; no influence sought.
    Inform,
    /// Gathering information from people (surveys, polls, mystery shopping).
    Research,
    /// Asking for views on proposals before a decision is taken.
    Consult,
    /// Working with people throughout so their concerns shape the options.
    Involve,
    /// Deciding and acting together as partners.
    Collaborate,
    /// Passing decisions or resources to the community.
    Empower,
}

impl InvolvementLevel {
    /// Every level, low to high.
    pub const ALL: [InvolvementLevel; 6] = [
        Self::Inform,
        Self::Research,
        Self::Consult,
        Self::Involve,
        Self::Collaborate,
        Self::Empower,
    ];

    /// The API name (`inform`, `research`...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Inform => "inform",
            Self::Research => "research",
            Self::Consult => "consult",
            Self::Involve => "involve",
            Self::Collaborate => "collaborate",
            Self::Empower => "empower",
        }
    }

    /// A display label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Inform => "Inform",
            Self::Research => "Research",
            Self::Consult => "Consult",
            Self::Involve => "Involve",
            Self::Collaborate => "Collaborate",
            Self::Empower => "Delegate / empower",
        }
    }

    /// What the level means for the public, in plain English.
    pub fn plain_english(self) -> &'static str {
        match self {
            Self::Inform => "We will tell you about a decision or a service. You are not being asked to change it.",
            Self::Research => "We want to find out about your needs, views or experience to inform our plans.",
            Self::Consult => {
                "We have proposals and want your views before we decide. We will tell you how your views shaped the decision."
            }
            Self::Involve => {
                "We will work with you throughout, so your concerns and ideas shape the options we consider."
            }
            Self::Collaborate => "We will decide and act together with you as partners.",
            Self::Empower => "The decision, or the money or service, is passed to the community to decide or run.",
        }
    }

    /// Position on the scale, 0 (inform) to 5 (empower).
    pub fn rank(self) -> u8 {
        self as u8
    }
}

impl fmt::Display for InvolvementLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown level, model or model stage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContinuumError {
    /// Not one of the canonical level names.
    #[error("unknown level `{0}`; expected one of inform, research, consult, involve, collaborate, empower")]
    UnknownLevel(String),
    /// Not one of the supported models.
    #[error(
        "unknown continuum model `{0}`; expected one of wilcox, herefordshire, stevenage, iap2, duty_to_involve, arnstein"
    )]
    UnknownModel(String),
    /// Not a stage of the given model.
    #[error("`{stage}` is not a stage of the {model} model; expected one of {expected}")]
    UnknownStage {
        /// The model asked.
        model: &'static str,
        /// The stage given.
        stage: String,
        /// The model's stage keys, comma separated.
        expected: String,
    },
    /// Arnstein's rungs 1-2 are non-participation, never a level of involvement.
    #[error("`{0}` is non-participation on Arnstein's ladder, not a level of involvement")]
    NonParticipation(String),
}

impl FromStr for InvolvementLevel {
    type Err = ContinuumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| ContinuumError::UnknownLevel(s.to_owned()))
    }
}

/// One stage of a published model, and the canonical levels it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stage {
    /// Machine key, lower snake case.
    pub key: &'static str,
    /// The model's own name for the stage.
    pub label: &'static str,
    /// Canonical levels this stage covers (one, or several where the model is coarser).
    pub levels: &'static [InvolvementLevel],
    /// The canonical level a record made under this stage is stored as.
    pub representative: InvolvementLevel,
    /// Whether stage -> level -> stage gives this stage back. False where two stages share a level
    /// (Wilcox "Acting together" and "Deciding together" are both collaborate).
    pub round_trips: bool,
}

/// The published involvement models consult maps (REFERENCE section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContinuumModel {
    /// Wilcox 1994, five stances (Oxfordshire 1.3).
    Wilcox,
    /// Herefordshire Partnership continuum (Appendix 2).
    Herefordshire,
    /// Stevenage: information, consultation, participation.
    Stevenage,
    /// IAP2 spectrum of public participation (level names only; its text is licensed).
    Iap2,
    /// Duty to Involve, Local Government and Public Involvement in Health Act 2007 s.138.
    DutyToInvolve,
    /// Arnstein's ladder of citizen participation, rungs 3 to 8.
    Arnstein,
}

use InvolvementLevel::{Collaborate, Consult, Empower, Inform, Involve, Research};

const fn stage(
    key: &'static str,
    label: &'static str,
    levels: &'static [InvolvementLevel],
    representative: InvolvementLevel,
    round_trips: bool,
) -> Stage {
    Stage {
        key,
        label,
        levels,
        representative,
        round_trips,
    }
}

const WILCOX: &[Stage] = &[
    stage("information", "Information", &[Inform], Inform, true),
    stage("consultation", "Consultation", &[Consult], Consult, true),
    stage(
        "deciding_together",
        "Deciding together",
        &[Collaborate],
        Collaborate,
        true,
    ),
    stage("acting_together", "Acting together", &[Collaborate], Collaborate, false),
    stage(
        "supporting_local_initiatives",
        "Supporting local initiatives",
        &[Empower],
        Empower,
        true,
    ),
];

const HEREFORDSHIRE: &[Stage] = &[
    stage("information", "Information", &[Inform], Inform, true),
    stage(
        "research",
        "Research (gathering information from)",
        &[Research],
        Research,
        true,
    ),
    stage(
        "consultation",
        "Consultation (deliberating with)",
        &[Consult],
        Consult,
        true,
    ),
    stage(
        "participation_engagement",
        "Participation / Engagement",
        &[Involve, Collaborate],
        Involve,
        true,
    ),
    stage(
        "delegation",
        "Delegation (passing responsibility to)",
        &[Empower],
        Empower,
        true,
    ),
];

const STEVENAGE: &[Stage] = &[
    stage("information", "Information", &[Inform], Inform, true),
    stage("consultation", "Consultation", &[Research, Consult], Consult, true),
    stage(
        "participation",
        "Participation",
        &[Involve, Collaborate, Empower],
        Involve,
        true,
    ),
];

const IAP2: &[Stage] = &[
    stage("inform", "Inform", &[Inform], Inform, true),
    // IAP2 has no research level; its nearest is Consult.
    stage("consult", "Consult", &[Research, Consult], Consult, true),
    stage("involve", "Involve", &[Involve], Involve, true),
    stage("collaborate", "Collaborate", &[Collaborate], Collaborate, true),
    stage("empower", "Empower", &[Empower], Empower, true),
];

const DUTY_TO_INVOLVE: &[Stage] = &[
    stage("provide_information", "Provide information", &[Inform], Inform, true),
    stage("consult", "Consult", &[Research, Consult], Consult, true),
    stage(
        "involve_in_another_way",
        "Involve in another way",
        &[Involve, Collaborate, Empower],
        Involve,
        true,
    ),
];

const ARNSTEIN: &[Stage] = &[
    stage("informing", "Informing (3)", &[Inform], Inform, true),
    stage("consultation", "Consultation (4)", &[Consult], Consult, true),
    stage("placation", "Placation (5)", &[Consult], Consult, false),
    stage(
        "partnership",
        "Partnership (6)",
        &[Involve, Collaborate],
        Collaborate,
        true,
    ),
    stage("delegated_power", "Delegated power (7)", &[Empower], Empower, true),
    stage("citizen_control", "Citizen control (8)", &[Empower], Empower, false),
];

impl ContinuumModel {
    /// Every model.
    pub const ALL: [ContinuumModel; 6] = [
        Self::Wilcox,
        Self::Herefordshire,
        Self::Stevenage,
        Self::Iap2,
        Self::DutyToInvolve,
        Self::Arnstein,
    ];

    /// The API name of the model.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wilcox => "wilcox",
            Self::Herefordshire => "herefordshire",
            Self::Stevenage => "stevenage",
            Self::Iap2 => "iap2",
            Self::DutyToInvolve => "duty_to_involve",
            Self::Arnstein => "arnstein",
        }
    }

    /// The model's full name and source.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wilcox => "Wilcox (1994) stances of participation",
            Self::Herefordshire => "Herefordshire Partnership continuum (2007)",
            Self::Stevenage => "Stevenage engagement levels (2013)",
            Self::Iap2 => "IAP2 spectrum of public participation",
            Self::DutyToInvolve => "Duty to Involve (2007 Act, s.138)",
            Self::Arnstein => "Arnstein (1969) ladder of citizen participation",
        }
    }

    /// The model's stages, low to high.
    pub fn stages(self) -> &'static [Stage] {
        match self {
            Self::Wilcox => WILCOX,
            Self::Herefordshire => HEREFORDSHIRE,
            Self::Stevenage => STEVENAGE,
            Self::Iap2 => IAP2,
            Self::DutyToInvolve => DUTY_TO_INVOLVE,
            Self::Arnstein => ARNSTEIN,
        }
    }

    /// The model's stage for a canonical level: the first stage covering it, or `None` where the
    /// model has no such stage (Wilcox and Arnstein have no research stage).
    pub fn to_model(self, level: InvolvementLevel) -> Option<&'static Stage> {
        self.stages().iter().find(|s| s.levels.contains(&level))
    }

    /// The canonical level a stage is recorded as.
    ///
    /// ```
    /// use consult_core::{ContinuumModel, InvolvementLevel};
    /// let level = ContinuumModel::Wilcox.from_model("deciding_together").unwrap();
    /// assert_eq!(level, InvolvementLevel::Collaborate);
    /// assert!(ContinuumModel::Arnstein.from_model("therapy").is_err());
    /// ```
    pub fn from_model(self, stage_key: &str) -> Result<InvolvementLevel, ContinuumError> {
        self.stage(stage_key).map(|s| s.representative)
    }

    /// Looks a stage up by key.
    pub fn stage(self, key: &str) -> Result<&'static Stage, ContinuumError> {
        if self == Self::Arnstein && matches!(key, "manipulation" | "therapy") {
            return Err(ContinuumError::NonParticipation(key.to_owned()));
        }
        self.stages()
            .iter()
            .find(|s| s.key == key)
            .ok_or_else(|| ContinuumError::UnknownStage {
                model: self.as_str(),
                stage: key.to_owned(),
                expected: self.stages().iter().map(|s| s.key).collect::<Vec<_>>().join(", "),
            })
    }

    /// True when level -> stage -> level gives the level back: the level has a stage and that stage
    /// is recorded as this level (Stevenage "participation" is recorded as involve, so collaborate
    /// and empower do not come back).
    pub fn level_round_trips(self, level: InvolvementLevel) -> bool {
        self.to_model(level).is_some_and(|s| s.representative == level)
    }
}

impl FromStr for ContinuumModel {
    type Err = ContinuumError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| ContinuumError::UnknownModel(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_level() -> impl Strategy<Value = InvolvementLevel> {
        proptest::sample::select(InvolvementLevel::ALL.to_vec())
    }

    fn any_model() -> impl Strategy<Value = ContinuumModel> {
        proptest::sample::select(ContinuumModel::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn stage_of_a_level_covers_it(model in any_model(), level in any_level()) {
            if let Some(stage) = model.to_model(level) {
                prop_assert!(stage.levels.contains(&level));
            }
        }

        #[test]
        fn level_round_trip_is_stable_where_the_stage_is_one_to_one(model in any_model(), level in any_level()) {
            if model.level_round_trips(level) {
                prop_assert_eq!(model.to_model(level).map(|s| s.representative), Some(level));
            }
        }

        #[test]
        fn stage_round_trip_matches_the_table(model in any_model(), index in 0usize..8) {
            let stages = model.stages();
            let stage = &stages[index % stages.len()];
            let level = model.from_model(stage.key).unwrap();
            let again = model.to_model(level).unwrap();
            prop_assert_eq!(again.key == stage.key, stage.round_trips, "{:?} {}", model, stage.key);
        }

        #[test]
        fn level_names_parse_back(level in any_level()) {
            prop_assert_eq!(level.as_str().parse::<InvolvementLevel>().unwrap(), level);
        }
    }

    #[test]
    fn representative_is_one_of_the_stage_levels() {
        for model in ContinuumModel::ALL {
            for s in model.stages() {
                assert!(s.levels.contains(&s.representative), "{model:?} {}", s.key);
            }
        }
    }

    #[test]
    fn models_without_a_research_stage() {
        assert!(ContinuumModel::Wilcox.to_model(Research).is_none());
        assert!(ContinuumModel::Wilcox.to_model(Involve).is_none());
        assert!(ContinuumModel::Arnstein.to_model(Research).is_none());
        assert_eq!(ContinuumModel::Iap2.to_model(Research).unwrap().key, "consult");
    }

    #[test]
    fn arnstein_non_participation_is_refused() {
        for rung in ["manipulation", "therapy"] {
            assert_eq!(
                ContinuumModel::Arnstein.from_model(rung),
                Err(ContinuumError::NonParticipation(rung.into()))
            );
        }
    }

    #[test]
    fn lossy_levels_are_those_the_table_merges() {
        let lossy = |m: ContinuumModel| {
            InvolvementLevel::ALL
                .into_iter()
                .filter(|l| !m.level_round_trips(*l))
                .collect::<Vec<_>>()
        };
        assert_eq!(lossy(ContinuumModel::Wilcox), vec![Research, Involve]);
        assert_eq!(lossy(ContinuumModel::Herefordshire), vec![Collaborate]);
        assert_eq!(lossy(ContinuumModel::Stevenage), vec![Research, Collaborate, Empower]);
        assert_eq!(lossy(ContinuumModel::Iap2), vec![Research]);
        assert_eq!(
            lossy(ContinuumModel::DutyToInvolve),
            vec![Research, Collaborate, Empower]
        );
        assert_eq!(lossy(ContinuumModel::Arnstein), vec![Research, Involve]);
    }

    #[test]
    fn levels_are_ordered() {
        assert!(Inform < Research && Research < Consult && Consult < Involve);
        assert!(Involve < Collaborate && Collaborate < Empower);
    }
}
