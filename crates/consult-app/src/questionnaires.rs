//! An activity's questionnaire: set by its organisation's officers and coordinators until it
//! opens (then only wording corrections), read by whoever may read the activity.

use crate::App;
use crate::error::{AppError, AppResult};
use consult_core::{
    Actor, Analysis, AnalysisCounts, ConsultationId, GroupCounts, NoiseSettings, PublicSet, Questionnaire,
    QuestionnaireInput, ReportSettings, Status,
};
use consult_store::QuestionnaireChange;

/// The group of a breakdown by area for respondents in an area outside the activity's.
pub const ELSEWHERE: &str = "elsewhere";

impl App {
    /// The areas a respondent to `c` may say they live in: the activity's areas and the areas
    /// inside them, in the register's order (the groups of a breakdown by area).
    pub async fn activity_areas(&self, c: &consult_core::Consultation) -> AppResult<Vec<consult_core::Area>> {
        let all = self.store.list_areas().await?;
        let hierarchy = consult_core::AreaHierarchy::new(all.clone());
        let audience = &c.plan.audience().areas;
        Ok(all
            .into_iter()
            .filter(|a| {
                audience
                    .iter()
                    .any(|outer| *outer == a.code || hierarchy.contains_area(outer, &a.code))
            })
            .collect())
    }

    /// Sets the questionnaire of an activity `actor` may change, as its next version. Before the
    /// activity opens any valid questionnaire may replace the current one; from its opening
    /// only a wording correction (the same sections, questions, types, keys, bounds and
    /// conditions) is accepted, audited as such, and anything else is a conflict. `input.version`,
    /// if sent, must be the current version (0 or absent for the first). Each write is one
    /// transaction with its audit entry.
    pub async fn set_questionnaire(
        &self,
        actor: &Actor,
        id: ConsultationId,
        input: QuestionnaireInput,
    ) -> AppResult<Questionnaire> {
        let c = self.writable_consultation(actor, id).await?;
        let expected = input.version;
        let questionnaire = Questionnaire::parse(input)?;
        let current = self.store.questionnaire(c.id).await?;
        let current_version = current.as_ref().map_or(0, |q| q.version);
        if let Some(v) = expected {
            if v != current_version {
                return Err(AppError::Conflict(format!(
                    "the questionnaire is at version {current_version}, not {v}; read it again"
                )));
            }
        }
        let status = c.status_on(self.today());
        let open = !matches!(status, Status::Draft | Status::Submitted | Status::Approved);
        let change = match (&current, open) {
            (_, false) => QuestionnaireChange::Set,
            (Some(q), true) if q.same_structure(&questionnaire) => QuestionnaireChange::WordingCorrection,
            (_, true) => {
                return Err(AppError::Conflict(format!(
                    "the questionnaire is locked since the activity opened ({}): only wording corrections \
                     (text, hints and labels, with the same questions, options and keys) are allowed",
                    status.as_str()
                )));
            }
        };
        Ok(self
            .store
            .save_questionnaire(actor, self.now(), c.id, &questionnaire, current_version, change)
            .await?)
    }

    /// The current questionnaire of an activity the caller may read (the public: once it is
    /// published); not found when it has none.
    pub async fn questionnaire(&self, caller: Option<&Actor>, id: ConsultationId) -> AppResult<Questionnaire> {
        let c = self.readable_consultation(caller, id).await?;
        self.store
            .questionnaire(c.id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("consultation {id} has no questionnaire")))
    }

    /// The analysis per question of an activity's answers, broken down by the monitoring
    /// characteristic `by` if given. Officers of the owner and coordinators see exact counts at
    /// any time; anyone else may read it once the activity's results are published, as public
    /// figures (`consult_core::public_analysis`: perturbed, small counts hidden, numbers only
    /// counted). Counted by the store (its answer tallies), shaped by consult-core against the current
    /// questionnaire (whose keys cannot change once the activity opens). An activity without a
    /// questionnaire has its respondents and no questions.
    pub async fn analysis(&self, caller: Option<&Actor>, id: ConsultationId, by: Option<&str>) -> AppResult<Analysis> {
        let c = self.readable_consultation(caller, id).await?;
        let staff = caller.is_some_and(|a| a.may_change(&c));
        if !staff {
            c.check_public_analysis(self.today())?;
            crate::consultations::check_shared(&c, caller)?;
        }
        let by = match by.map(str::trim).filter(|b| !b.is_empty()) {
            None => None,
            Some("area") => {
                // The activity's areas and the areas inside them, in the register's order, then
                // `elsewhere` (an area outside them) and `not_answered`: a fixed list, so a
                // group's absence tells nothing.
                let areas = self.activity_areas(&c).await?;
                let mut counted: std::collections::BTreeMap<String, AnalysisCounts> = self
                    .store
                    .analysis_counts_by(c.id, consult_store::Breakdown::Area)
                    .await?
                    .into_iter()
                    .collect();
                let mut groups: Vec<GroupCounts> = areas
                    .iter()
                    .map(|a| GroupCounts {
                        group: a.code.as_str().to_owned(),
                        label: a.name.clone(),
                        counts: counted.remove(a.code.as_str()).unwrap_or_default(),
                    })
                    .collect();
                let not_answered = counted.remove(consult_store::NOT_ANSWERED).unwrap_or_default();
                let mut elsewhere = AnalysisCounts::default();
                for (_, counts) in counted {
                    elsewhere.add(&counts);
                }
                groups.push(GroupCounts {
                    group: ELSEWHERE.to_owned(),
                    label: "Elsewhere".to_owned(),
                    counts: elsewhere,
                });
                groups.push(GroupCounts {
                    group: consult_store::NOT_ANSWERED.to_owned(),
                    label: "Not answered".to_owned(),
                    counts: not_answered,
                });
                Some(("area".to_owned(), groups))
            }
            Some(by) => {
                let scheme = self.store.organisation_scheme(c.organisation_id).await?;
                let Some(characteristic) = scheme.characteristics.iter().find(|ch| ch.key == by) else {
                    let keys: Vec<&str> = scheme.characteristics.iter().map(|ch| ch.key.as_str()).collect();
                    return Err(AppError::field(
                        "by",
                        format!(
                            "`{by}` is not a monitoring characteristic; expected one of {}",
                            keys.join(", ")
                        ),
                    ));
                };
                let mut counted: std::collections::BTreeMap<String, AnalysisCounts> = self
                    .store
                    .analysis_counts_by(c.id, consult_store::Breakdown::Characteristic(by))
                    .await?
                    .into_iter()
                    .collect();
                // Every category in the scheme's order, then "prefer not to say" and "not
                // answered": zeros included, so a group's absence tells nothing.
                let mut groups: Vec<GroupCounts> = characteristic
                    .categories
                    .iter()
                    .map(|k| (k.key.as_str(), k.label.as_str()))
                    .chain([
                        (consult_core::PREFER_NOT_TO_SAY, "Prefer not to say"),
                        (consult_store::NOT_ANSWERED, "Not answered"),
                    ])
                    .map(|(key, label)| GroupCounts {
                        group: key.to_owned(),
                        label: label.to_owned(),
                        counts: counted.remove(key).unwrap_or_default(),
                    })
                    .collect();
                // Answers under another scheme's categories count apart, as staff can see.
                if staff {
                    groups.extend(counted.into_iter().map(|(key, counts)| GroupCounts {
                        label: key.clone(),
                        group: key,
                        counts,
                    }));
                }
                Some((characteristic.key.clone(), groups))
            }
        };
        let counts = self.store.analysis_counts(c.id).await?;
        // Without a questionnaire: the respondents (and a breakdown's groups), no questions.
        let questionnaire = self.store.questionnaire(c.id).await?.unwrap_or(Questionnaire {
            version: 0,
            sections: Vec::new(),
        });
        if staff {
            return Ok(match &by {
                Some((by, groups)) => consult_core::analyse_by(&questionnaire, &counts, by, groups),
                None => consult_core::analyse(&questionnaire, &counts),
            });
        }
        let key = self.disclosure_key().await?;
        Ok(consult_core::public_analysis(
            &questionnaire,
            &counts,
            by.as_ref().map(|(by, groups)| (by.as_str(), groups.as_slice())),
            &PublicSet::Activity(c.id),
            &key,
            &NoiseSettings::default(),
            ReportSettings::default().suppression_threshold,
        ))
    }
}

/// A question of the built-in library as the API shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StandardQuestionView {
    /// Its name, to ask it with `{ "standard": NAME }`.
    pub standard: String,
    /// Why a council asks it.
    pub purpose: String,
    /// The question as it is asked.
    pub question: consult_core::QuestionInput,
}

/// The library of standard questions, and the monitoring questions asked beside every
/// questionnaire.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StandardLibrary {
    /// The questions any questionnaire may ask by name.
    pub questions: Vec<StandardQuestionView>,
    /// The equality monitoring questions the organisation asks (its scheme, or the default):
    /// asked in their own section after the questionnaire, answers kept apart from the response.
    pub monitoring: consult_core::MonitoringScheme,
}

impl App {
    /// The standard questions and the monitoring questions of `organisation` (by slug; the
    /// default scheme without one). Anyone may read them.
    pub async fn standard_library(&self, organisation: Option<&str>) -> AppResult<StandardLibrary> {
        Ok(StandardLibrary {
            questions: consult_core::standard_library()
                .into_iter()
                .map(|s| StandardQuestionView {
                    standard: s.question.key.clone(),
                    purpose: s.purpose.to_owned(),
                    question: s.question.to_input(),
                })
                .collect(),
            monitoring: self.scheme_for(None, organisation).await?,
        })
    }
}
