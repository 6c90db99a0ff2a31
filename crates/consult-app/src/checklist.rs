//! The principles checklist: an activity's assessment, and the answers that need a person.

use crate::App;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use consult_core::{
    Actor, Assessment, AssessmentContext, Attestation, AttestationInput, Consultation, ConsultationId,
    ConsultationInput, ConsultationPlan, DEFAULT_FRAMEWORKS, ElectionPeriod, Framework, FrameworkCatalogue,
};

impl App {
    /// The principles checklist of a stored activity today, against the frameworks its
    /// organisation has adopted, with its unresolved overlap and fatigue findings described
    /// for the "be coordinated" checks.
    pub(crate) async fn assess(&self, c: &Consultation) -> AppResult<Assessment> {
        let today = self.today();
        let mut unresolved = self.overlap.unresolved(&self.store, c, today).await?;
        unresolved.extend(
            crate::invitations::audience_fatigue(&self.store, c, today)
                .await?
                .into_iter()
                .map(|f| format!("fatigue: {}", f.detail)),
        );
        let (catalogue, settings) = self.store.applicable_frameworks(c.organisation_id).await?;
        let frameworks: Vec<&Framework> = settings.frameworks.iter().filter_map(|k| catalogue.get(k)).collect();
        let attestations = self.store.attestations(c.id).await?;
        let ctx = AssessmentContext {
            today,
            notice_from: c.approval.as_ref().map_or(today, |a| a.at.date_naive()),
            pre_election: &settings.election_periods,
            unresolved_findings: &unresolved,
            attestations: &attestations,
        };
        Ok(consult_core::assess(&c.plan, &frameworks, &ctx))
    }

    /// The checklist of an activity `actor` may change.
    pub async fn assessment(&self, actor: &Actor, id: ConsultationId) -> AppResult<Assessment> {
        let c = self.writable_consultation(actor, id).await?;
        self.assess(&c).await
    }

    /// Records answers to the checks that need a person's evidence (replacing earlier answers
    /// to the same checks), before approval only; returns the new assessment.
    pub async fn attest(
        &self,
        actor: &Actor,
        id: ConsultationId,
        answers: Vec<AttestationInput>,
    ) -> AppResult<Assessment> {
        let c = self.writable_consultation(actor, id).await?;
        c.check_takes_attestations(self.today())?;
        let (catalogue, settings) = self.store.applicable_frameworks(c.organisation_id).await?;
        let frameworks: Vec<&Framework> = settings.frameworks.iter().filter_map(|k| catalogue.get(k)).collect();
        let answers = Attestation::parse_all(answers, &frameworks, &actor.name, self.now())?;
        self.store.record_attestations(c.id, &answers, actor).await?;
        self.assess(&c).await
    }
}

impl From<consult_core::NotNow> for AppError {
    fn from(e: consult_core::NotNow) -> Self {
        Self::Conflict(e.0)
    }
}

/// An organisation's checklist settings as asked for: every field checked by
/// [`App::set_checklist`].
#[derive(Debug, Clone, Default)]
pub struct ChecklistRequest {
    /// Framework keys to adopt.
    pub frameworks: Vec<String>,
    /// Pre-election periods: name, first day and last day (`YYYY-MM-DD`), as given.
    pub election_periods: Vec<(Option<String>, Option<String>, Option<String>)>,
}

impl App {
    /// Every version of every framework: built in and added.
    pub async fn frameworks(&self) -> AppResult<consult_core::FrameworkCatalogue> {
        Ok(self.store.framework_catalogue().await?)
    }

    /// The newest version of one framework.
    pub async fn framework(&self, key: &str) -> AppResult<Framework> {
        self.frameworks()
            .await?
            .get(key)
            .cloned()
            .ok_or_else(|| AppError::NotFound(format!("no framework `{key}`")))
    }

    /// Adds an organisation's own framework, or a new version of one (coordinators): the
    /// version is assigned (previous + 1); built-in keys are refused.
    pub async fn add_framework(&self, actor: &Actor, mut framework: Framework) -> AppResult<Framework> {
        crate::organisations::require_coordinator(actor)?;
        framework.version = 1;
        framework.validate()?;
        if consult_core::FrameworkCatalogue::is_builtin(&framework.key) {
            return Err(AppError::Conflict(format!(
                "`{}` is a built-in framework; add yours under another key",
                framework.key
            )));
        }
        Ok(self.store.add_framework(&framework, actor, self.now()).await?)
    }

    /// An organisation's checklist: the frameworks it has adopted and its pre-election periods.
    pub async fn checklist(&self, organisation: &str) -> AppResult<consult_store::ChecklistSettings> {
        let org = self.organisation(organisation).await?;
        Ok(self.store.checklist_settings(org.id).await?)
    }

    /// Chooses the frameworks that apply to an organisation's activities and sets its
    /// pre-election periods (coordinators).
    pub async fn set_checklist(
        &self,
        actor: &Actor,
        organisation: &str,
        request: ChecklistRequest,
    ) -> AppResult<consult_store::ChecklistSettings> {
        crate::organisations::require_coordinator(actor)?;
        let org = self.organisation(organisation).await?;
        let catalogue = self.store.framework_catalogue().await?;
        let mut e = consult_core::ValidationErrors::new();
        let mut frameworks: Vec<String> = Vec::new();
        if request.frameworks.is_empty() {
            e.push("frameworks", "adopt at least one framework");
        }
        for (i, k) in request.frameworks.iter().enumerate() {
            if catalogue.get(k).is_none() {
                e.push(format!("frameworks[{i}]"), format!("unknown framework `{k}`"));
            } else if !frameworks.contains(k) {
                frameworks.push(k.clone());
            }
        }
        frameworks.sort();
        let mut periods = Vec::new();
        for (i, (name, starts_on, ends_on)) in request.election_periods.into_iter().enumerate() {
            let f = format!("election_periods[{i}]");
            let date = |e: &mut consult_core::ValidationErrors, field: &str, v: Option<&str>| match v
                .map(consult_core::parse_date)
            {
                Some(Ok(d)) => Some(d),
                Some(Err(m)) => {
                    e.push(format!("{f}.{field}"), m);
                    None
                }
                None => {
                    e.push(format!("{f}.{field}"), "must be a date in the form YYYY-MM-DD");
                    None
                }
            };
            let starts = date(&mut e, "starts_on", starts_on.as_deref());
            let ends = date(&mut e, "ends_on", ends_on.as_deref());
            let name = consult_core::text::required_line(&mut e, &format!("{f}.name"), name.as_deref(), 200);
            match (name, starts, ends) {
                (Some(name), Some(s), Some(end)) if end >= s => periods.push(consult_core::ElectionPeriod {
                    name: name.to_owned(),
                    starts_on: s,
                    ends_on: end,
                }),
                (_, Some(_), Some(_)) => e.push(format!("{f}.ends_on"), "must be on or after starts_on"),
                _ => {}
            }
        }
        if !e.is_empty() {
            return Err(AppError::Invalid(e));
        }
        let settings = consult_store::ChecklistSettings {
            frameworks,
            election_periods: periods,
        };
        self.store
            .set_checklist_settings(&org, &settings, actor, self.now())
            .await?;
        Ok(settings)
    }
}

/// The principles checklist of a plan not registered anywhere (a plan file checked offline):
/// the plan's own organisation and areas are taken as known, `frameworks` (built-in keys; the
/// defaults when empty) apply, with `pre_election` periods, as of `today`.
pub fn assess_plan(
    input: ConsultationInput,
    frameworks: &[String],
    pre_election: &[ElectionPeriod],
    today: NaiveDate,
) -> AppResult<Assessment> {
    let register = consult_core::NamedRegister::of(&input);
    let plan = ConsultationPlan::parse(input, register.context())?;
    let catalogue = FrameworkCatalogue::new([]);
    let keys: Vec<String> = if frameworks.is_empty() {
        DEFAULT_FRAMEWORKS.iter().map(|k| (*k).to_owned()).collect()
    } else {
        frameworks.to_vec()
    };
    let mut chosen = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        chosen.push(
            catalogue
                .get(k)
                .ok_or_else(|| AppError::field(&format!("frameworks[{i}]"), format!("unknown framework `{k}`")))?,
        );
    }
    let ctx = AssessmentContext {
        today,
        notice_from: today,
        pre_election,
        unresolved_findings: &[],
        attestations: &[],
    };
    Ok(consult_core::assess(&plan, &chosen, &ctx))
}
