//! How the register shows an activity and an organisation: the one representation the REST API
//! sends and the CLI prints.

use chrono::{DateTime, NaiveDate, Utc};
use consult_core::{
    Approval, Audience, Consultation, InvolvementLevel, Organisation, OrganisationId, OrganisationKind, Status,
    StatusChange, public_signature,
};
use serde::Serialize;

/// An organisation as the register shows it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationView {
    /// URL name.
    pub slug: String,
    /// Full name.
    pub name: String,
    /// Council or partner.
    pub kind: OrganisationKind,
    /// Services within it.
    pub services: Vec<String>,
}

impl From<&Organisation> for OrganisationView {
    fn from(o: &Organisation) -> Self {
        Self {
            slug: o.slug.to_string(),
            name: o.name.clone(),
            kind: o.kind,
            services: o.services.clone(),
        }
    }
}

/// The owner of an activity, inside a consultation body.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnerView {
    /// URL name.
    pub slug: String,
    /// Full name.
    pub name: String,
    /// Council or partner.
    pub kind: OrganisationKind,
}

/// Cost in pounds.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostView {
    /// Pounds.
    pub amount: f64,
    /// Always GBP.
    pub currency: &'static str,
}

/// An activity in the register.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsultationView {
    /// Identifier (UUID v7).
    pub id: String,
    /// Owner organisation.
    pub organisation: OwnerView,
    /// Owning service.
    pub service: Option<String>,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Why it is being run.
    pub purpose: Option<String>,
    /// The decision it informs.
    pub decision: Option<String>,
    /// When that decision is taken.
    pub decision_date: Option<NaiveDate>,
    /// What can change.
    pub can_change: Vec<String>,
    /// What cannot change.
    pub cannot_change: Vec<String>,
    /// Involvement level.
    pub level: InvolvementLevel,
    /// Method slugs.
    pub methods: Vec<String>,
    /// Who it is for.
    pub audience: Audience,
    /// Topics.
    pub topics: Vec<String>,
    /// Opening date.
    pub opens_on: NaiveDate,
    /// Closing date (inclusive).
    pub closes_on: NaiveDate,
    /// When feedback is due, as planned (write field).
    pub feedback_due_on: Option<NaiveDate>,
    /// Days after closing that officers may still key offline responses, as planned (write
    /// field; 14 when absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub late_responses_days: Option<u32>,
    /// The last day officers may key offline responses (closing + the late-response days).
    pub late_responses_until: NaiveDate,
    /// Who may see the results (the analysis of answers) and the documents once they are out
    /// (write field): `public`, `partnership` or `organisation`.
    pub results_sharing: consult_core::Sharing,
    /// The data-protection note and the widest sharing it allows (write field).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_protection: Option<consult_core::DataProtection>,
    /// When feedback is due in effect: `feedback_due_on`, else closing + 12 weeks.
    pub feedback_due: NaiveDate,
    /// Closed without published feedback past its due date.
    pub feedback_overdue: bool,
    /// Legal basis.
    pub legal_basis: Option<String>,
    /// Lead officer.
    pub lead_officer: Option<String>,
    /// Accessible formats statement.
    pub accessible_formats: Option<String>,
    /// Cost.
    pub cost: Option<CostView>,
    /// Status today (opening and closing on the dates are applied).
    pub status: Status,
    /// Statuses it may be moved to next by a person.
    pub next_statuses: Vec<Status>,
    /// Responses received.
    pub response_count: u64,
    /// Concurrency version: changes with every write.
    pub version: i64,
    /// When registered.
    pub created_at: DateTime<Utc>,
    /// When last changed.
    pub updated_at: DateTime<Utc>,
    /// Every status change, including scheduled opening and closing.
    pub status_history: Vec<StatusChange>,
    /// Once approved: who approved it, any override, and the principles checklist as it stood
    /// then (how it met the charter).
    pub approval: Option<Approval>,
}

impl ConsultationView {
    /// Builds the view of `c` as of `today`.
    pub fn new(c: &Consultation, owner: Option<&Organisation>, response_count: u64, today: NaiveDate) -> Self {
        let p = &c.plan;
        let status = c.status_on(today);
        Self {
            id: c.id.to_string(),
            organisation: match owner {
                Some(o) => OwnerView {
                    slug: o.slug.to_string(),
                    name: o.name.clone(),
                    kind: o.kind,
                },
                None => OwnerView {
                    slug: p.organisation().to_string(),
                    name: p.organisation().to_string(),
                    kind: OrganisationKind::Council,
                },
            },
            service: p.service().map(str::to_owned),
            title: p.title().to_owned(),
            summary: p.summary().map(str::to_owned),
            purpose: p.purpose().map(str::to_owned),
            decision: p.decision().map(str::to_owned),
            decision_date: p.decision_date(),
            can_change: p.can_change().to_vec(),
            cannot_change: p.cannot_change().to_vec(),
            level: p.level(),
            methods: p.method_slugs().to_vec(),
            audience: p.audience().clone(),
            topics: p.topics().to_vec(),
            opens_on: p.opens_on(),
            closes_on: p.closes_on(),
            feedback_due_on: p.feedback_due_on(),
            late_responses_days: p.planned_late_responses_days(),
            late_responses_until: p.late_responses_until(),
            results_sharing: p.results_sharing(),
            data_protection: p.data_protection().cloned(),
            feedback_due: consult_core::feedback_due(p),
            feedback_overdue: consult_core::feedback_overdue(c, today),
            legal_basis: p.legal_basis().map(str::to_owned),
            lead_officer: p.lead_officer().map(str::to_owned),
            accessible_formats: p.accessible_formats().map(str::to_owned),
            cost: p.cost().map(|c| CostView {
                amount: c.amount.pounds(),
                currency: "GBP",
            }),
            status,
            next_statuses: consult_core::allowed_targets(status),
            response_count,
            version: c.version,
            created_at: c.created_at,
            updated_at: c.updated_at,
            status_history: c.history_on(today),
            approval: c.approval.clone(),
        }
    }
}

impl ConsultationView {
    /// The view the public sees: whoever changed the status or approved the activity is named
    /// by role and organisation (`coordinator`, `officer, tamworth`; `staff` for changes
    /// recorded before roles were kept), never by the token holder's name. `slug_of` gives an
    /// organisation's slug.
    pub fn public(mut self, slug_of: impl Fn(OrganisationId) -> Option<String>) -> Self {
        for change in &mut self.status_history {
            change.by = public_signature(&change.by, change.signer.as_ref(), &slug_of);
        }
        if let Some(a) = &mut self.approval {
            a.by = public_signature(&a.by, a.signer.as_ref(), &slug_of);
        }
        self
    }
}
