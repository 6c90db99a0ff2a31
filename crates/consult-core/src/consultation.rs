//! A consultation (or any research or engagement activity) in the register: its input shape, the
//! parsing constructor that checks every field at once, and the stored record.

use crate::area::{AreaCode, AreaHierarchy};
use crate::catalogue::{self, Method};
use crate::continuum::InvolvementLevel;
use crate::error::ValidationErrors;
use crate::lifecycle::{Status, StatusChange};
use crate::organisation::{Organisation, OrganisationId, Slug};
use crate::text::{line_list, optional_line, optional_text, required_line};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The stable identifier of an activity in the register (a UUID v7, made by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
#[serde(transparent)]
pub struct ConsultationId(pub Uuid);

impl fmt::Display for ConsultationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for ConsultationId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// Who an activity is for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Audience {
    /// Stakeholder group slugs from the catalogue.
    pub groups: Vec<String>,
    /// Areas by GSS code.
    pub areas: Vec<AreaCode>,
    /// Equality groups targeted, as free text (e.g. "young carers").
    pub equality_groups: Vec<String>,
}

impl Audience {
    /// True when any group stands for the general public (residents, council tax payers...).
    pub fn includes_general_public(&self) -> bool {
        self.groups
            .iter()
            .filter_map(|g| catalogue::stakeholder_group(g))
            .any(|g| g.general_public)
    }
}

/// An amount of money, held in pence so sums are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money {
    pence: i64,
}

impl Money {
    /// From whole pence.
    pub fn from_pence(pence: i64) -> Self {
        Self { pence }
    }

    /// Whole pence.
    pub fn pence(self) -> i64 {
        self.pence
    }

    /// Pounds, for display and JSON.
    pub fn pounds(self) -> f64 {
        self.pence as f64 / 100.0
    }

    /// Parses an amount in pounds: finite, not negative, at most two decimal places, below
    /// one hundred billion pounds.
    pub fn from_pounds(amount: f64) -> Result<Self, String> {
        if !amount.is_finite() || amount < 0.0 {
            return Err("must be a number of pounds, zero or more".into());
        }
        if amount >= 1e11 {
            return Err("is implausibly large".into());
        }
        let pence = (amount * 100.0).round();
        if ((pence / 100.0) - amount).abs() > 1e-6 {
            return Err("must have at most two decimal places (whole pence)".into());
        }
        Ok(Self { pence: pence as i64 })
    }
}

/// The cost of running an activity, in pounds sterling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    /// The amount.
    pub amount: Money,
}

impl Serialize for Cost {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        CostInput {
            amount: Some(self.amount.pounds()),
            currency: Some("GBP".into()),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Cost {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let input = CostInput::deserialize(d)?;
        parse_cost(&input).map_err(|(field, msg)| serde::de::Error::custom(format!("{field} {msg}")))
    }
}

fn parse_cost(input: &CostInput) -> Result<Cost, (&'static str, String)> {
    if let Some(c) = input.currency.as_deref() {
        if c != "GBP" {
            return Err(("currency", format!("`{c}` is not supported; costs are recorded in GBP")));
        }
    }
    let amount = input.amount.ok_or(("amount", "is required".to_owned()))?;
    Money::from_pounds(amount)
        .map(|amount| Cost { amount })
        .map_err(|e| ("amount", e))
}

/// Cost as given in a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CostInput {
    /// Pounds, e.g. 1250.50.
    pub amount: Option<f64>,
    /// Only `GBP`; defaults to GBP.
    pub currency: Option<String>,
}

/// Audience as given in a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AudienceInput {
    /// Stakeholder group slugs.
    #[serde(default)]
    pub groups: Vec<String>,
    /// GSS area codes.
    #[serde(default)]
    pub areas: Vec<String>,
    /// Equality groups targeted.
    #[serde(default)]
    pub equality_groups: Vec<String>,
}

/// Days after closing that officers may key responses that came by post, e-mail, telephone or
/// at an event, when the plan does not say (the post arrives late).
pub const DEFAULT_LATE_RESPONSE_DAYS: u32 = 14;
/// The most days after closing a plan may allow for keying offline responses.
pub const MAX_LATE_RESPONSE_DAYS: u32 = 90;

/// A consultation as given by a client (REST body, CLI file, CSV row), before validation.
/// Every field is optional here so that [`ConsultationPlan::parse`] can report every problem at once.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConsultationInput {
    /// Owner organisation slug.
    pub organisation: Option<String>,
    /// Owning service within the organisation.
    pub service: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Summary for the register.
    pub summary: Option<String>,
    /// Why the activity is being run.
    pub purpose: Option<String>,
    /// The decision it informs.
    pub decision: Option<String>,
    /// When that decision is taken.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub decision_date: Option<String>,
    /// What can change as a result.
    #[serde(default)]
    pub can_change: Vec<String>,
    /// What cannot change.
    #[serde(default)]
    pub cannot_change: Vec<String>,
    /// Canonical involvement level.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<InvolvementLevel>))]
    pub level: Option<String>,
    /// Method slugs.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Who it is for.
    #[serde(default)]
    pub audience: AudienceInput,
    /// Topics (tags).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Opening date.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub opens_on: Option<String>,
    /// Closing date (inclusive).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub closes_on: Option<String>,
    /// When feedback ("you said, we did") is due.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub feedback_due_on: Option<String>,
    /// Days after closing that officers may still key responses that came by post, e-mail,
    /// telephone or at an event (0 to 90; 14 when not given: the post arrives late).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub late_responses_days: Option<u32>,
    /// Statutory or policy basis.
    pub legal_basis: Option<String>,
    /// Named lead officer.
    pub lead_officer: Option<String>,
    /// Statement of accessible formats and support offered.
    pub accessible_formats: Option<String>,
    /// Cost.
    pub cost: Option<CostInput>,
    /// Who may see the results (the analysis of answers) and documents once they are out:
    /// `public` (everyone), `partnership` (staff of every partner organisation) or
    /// `organisation` (the owner's staff). When not given: as wide as the data-protection
    /// note allows, else `public`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<crate::Sharing>))]
    pub results_sharing: Option<String>,
    /// The activity's data-protection note and the widest sharing of its results it allows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_protection: Option<crate::DataProtectionInput>,
}

/// A validated consultation plan: every register field of REFERENCE section 5.
/// Only [`ConsultationPlan::parse`] builds one: reading one with serde (a stored plan) goes
/// through it too, with the plan's own organisation and areas taken as known
/// ([`NamedRegister`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsultationPlan {
    organisation: Slug,
    service: Option<String>,
    title: String,
    summary: Option<String>,
    purpose: Option<String>,
    decision: Option<String>,
    decision_date: Option<NaiveDate>,
    can_change: Vec<String>,
    cannot_change: Vec<String>,
    level: InvolvementLevel,
    methods: Vec<String>,
    audience: Audience,
    topics: Vec<String>,
    opens_on: NaiveDate,
    closes_on: NaiveDate,
    feedback_due_on: Option<NaiveDate>,
    late_responses_days: Option<u32>,
    legal_basis: Option<String>,
    lead_officer: Option<String>,
    accessible_formats: Option<String>,
    cost: Option<Cost>,
    #[serde(skip_serializing_if = "crate::Sharing::is_public")]
    results_sharing: crate::Sharing,
    #[serde(skip_serializing_if = "Option::is_none")]
    data_protection: Option<crate::DataProtection>,
}

impl<'de> Deserialize<'de> for ConsultationPlan {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A plan serialises as the input that recreates it.
        let input = ConsultationInput::deserialize(d)?;
        let register = NamedRegister::of(&input);
        ConsultationPlan::parse(input, register.context()).map_err(serde::de::Error::custom)
    }
}

/// The organisation and areas a plan names, taken as known: the register to check a plan
/// against when there is no other (a plan read back after it was checked against the register,
/// or a plan file checked offline). Every other rule of [`ConsultationPlan::parse`] applies.
#[derive(Debug, Clone)]
pub struct NamedRegister {
    organisations: Vec<Organisation>,
    areas: AreaHierarchy,
}

impl NamedRegister {
    /// The register `input` names: its organisation (with any service) and its audience's areas.
    pub fn of(input: &ConsultationInput) -> Self {
        let slug = input.organisation.as_deref().map(str::trim).unwrap_or_default();
        let organisation = Organisation::parse(
            OrganisationId(Uuid::nil()),
            crate::organisation::OrganisationInput {
                slug: Some(slug.to_owned()),
                name: Some(slug.to_owned()),
                kind: Some("council".into()),
                services: vec![],
            },
        )
        .ok();
        let areas = AreaHierarchy::new(input.audience.areas.iter().filter_map(|a| AreaCode::parse(a).ok()).map(
            |code| crate::area::Area {
                name: code.to_string(),
                code,
                parent: None,
            },
        ));
        Self {
            organisations: organisation.into_iter().collect(),
            areas,
        }
    }

    /// The context [`ConsultationPlan::parse`] takes.
    pub fn context(&self) -> RegisterContext<'_> {
        RegisterContext {
            organisations: &self.organisations,
            areas: &self.areas,
        }
    }
}

/// What a plan is checked against: the organisations and areas the register knows.
#[derive(Debug, Clone, Copy)]
pub struct RegisterContext<'a> {
    /// Every organisation.
    pub organisations: &'a [Organisation],
    /// Every area.
    pub areas: &'a AreaHierarchy,
}

fn parse_date(errors: &mut ValidationErrors, field: &str, value: Option<&str>) -> Option<NaiveDate> {
    let v = value.map(str::trim).filter(|v| !v.is_empty())?;
    crate::date::parse_date(v).map_err(|m| errors.push(field, m)).ok()
}

fn required_date(errors: &mut ValidationErrors, field: &str, value: Option<&str>) -> Option<NaiveDate> {
    if value.map(str::trim).is_none_or(str::is_empty) {
        errors.push(field, "is required");
        return None;
    }
    parse_date(errors, field, value)
}

const TEXT_MAX: usize = 10_000;

impl ConsultationPlan {
    /// Checks every field of `input` against the register and returns the plan, or every invalid
    /// field at once.
    ///
    /// ```
    /// use consult_core::{AreaHierarchy, ConsultationInput, ConsultationPlan, Organisation,
    ///     OrganisationId, OrganisationInput, RegisterContext};
    /// let org = Organisation::parse(OrganisationId(uuid::Uuid::nil()), OrganisationInput {
    ///     slug: Some("tamworth".into()), name: Some("Tamworth Borough Council".into()),
    ///     kind: Some("council".into()), services: vec![],
    /// }).unwrap();
    /// let areas = AreaHierarchy::default();
    /// let ctx = RegisterContext { organisations: &[org], areas: &areas };
    /// let input = ConsultationInput {
    ///     organisation: Some("tamworth".into()),
    ///     title: Some("Budget and council tax 2027/28".into()),
    ///     level: Some("consult".into()),
    ///     opens_on: Some("2026-11-02".into()),
    ///     closes_on: Some("2026-10-01".into()),
    ///     methods: vec!["online_survey".into(), "carrier_pigeon".into()],
    ///     ..Default::default()
    /// };
    /// let errors = ConsultationPlan::parse(input, ctx).unwrap_err();
    /// let fields: Vec<_> = errors.errors().iter().map(|e| e.field.as_str()).collect();
    /// assert_eq!(fields, ["methods[1]", "closes_on"]);
    /// ```
    pub fn parse(input: ConsultationInput, ctx: RegisterContext<'_>) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();

        let organisation = match input.organisation.as_deref().map(str::trim) {
            None | Some("") => {
                e.push("organisation", "is required");
                None
            }
            Some(s) => match ctx.organisations.iter().find(|o| o.slug.as_str() == s) {
                Some(o) => Some(o),
                None => {
                    e.push("organisation", format!("unknown organisation `{s}`"));
                    None
                }
            },
        };
        let service = optional_line(&mut e, "service", input.service.as_deref(), 120);
        if let (Some(org), Some(service)) = (organisation, service.as_deref()) {
            if !org.services.is_empty() && !org.services.iter().any(|s| s == service) {
                e.push(
                    "service",
                    format!(
                        "`{service}` is not a service of {}; known services: {}",
                        org.slug,
                        org.services.join(", ")
                    ),
                );
            }
        }
        let title = required_line(&mut e, "title", input.title.as_deref(), 200);
        let summary = optional_text(&mut e, "summary", input.summary.as_deref(), TEXT_MAX);
        let purpose = optional_text(&mut e, "purpose", input.purpose.as_deref(), TEXT_MAX);
        let decision = optional_text(&mut e, "decision", input.decision.as_deref(), TEXT_MAX);
        let decision_date = parse_date(&mut e, "decision_date", input.decision_date.as_deref());
        let can_change = line_list(&mut e, "can_change", &input.can_change, 50, 1000);
        let cannot_change = line_list(&mut e, "cannot_change", &input.cannot_change, 50, 1000);
        let level = match input.level.as_deref() {
            None => {
                e.push("level", "is required");
                None
            }
            Some(l) => l
                .parse::<InvolvementLevel>()
                .map_err(|err| e.push("level", err.to_string()))
                .ok(),
        };
        let mut methods: Vec<String> = Vec::new();
        for (i, m) in input.methods.iter().enumerate() {
            match catalogue::method(m.trim()) {
                Some(method) if !methods.iter().any(|x| x == method.slug) => methods.push(method.slug.to_owned()),
                Some(_) => {}
                None => e.push(format!("methods[{i}]"), format!("unknown method `{m}`")),
            }
        }
        let mut groups: Vec<String> = Vec::new();
        for (i, g) in input.audience.groups.iter().enumerate() {
            match catalogue::stakeholder_group(g.trim()) {
                Some(group) if !groups.iter().any(|x| x == group.slug) => groups.push(group.slug.to_owned()),
                Some(_) => {}
                None => e.push(
                    format!("audience.groups[{i}]"),
                    format!("unknown stakeholder group `{g}`"),
                ),
            }
        }
        let mut areas: Vec<AreaCode> = Vec::new();
        for (i, a) in input.audience.areas.iter().enumerate() {
            let field = format!("audience.areas[{i}]");
            match AreaCode::parse(a) {
                Ok(code) if !ctx.areas.contains(&code) => e.push(field, format!("unknown area {code}")),
                Ok(code) => {
                    if !areas.contains(&code) {
                        areas.push(code);
                    }
                }
                Err(err) => e.push(field, err),
            }
        }
        let equality_groups = line_list(
            &mut e,
            "audience.equality_groups",
            &input.audience.equality_groups,
            50,
            200,
        );
        let topics = line_list(&mut e, "topics", &input.topics, 30, 80);
        let opens_on = required_date(&mut e, "opens_on", input.opens_on.as_deref());
        let closes_on = required_date(&mut e, "closes_on", input.closes_on.as_deref());
        if let (Some(o), Some(c)) = (opens_on, closes_on) {
            if c < o {
                e.push("closes_on", format!("must be on or after the opening date {o}"));
            }
        }
        let feedback_due_on = parse_date(&mut e, "feedback_due_on", input.feedback_due_on.as_deref());
        if let (Some(c), Some(f)) = (closes_on, feedback_due_on) {
            if f < c {
                e.push("feedback_due_on", format!("must be on or after the closing date {c}"));
            }
        }
        if input.late_responses_days.is_some_and(|d| d > MAX_LATE_RESPONSE_DAYS) {
            e.push(
                "late_responses_days",
                format!("at most {MAX_LATE_RESPONSE_DAYS} days after closing"),
            );
        }
        let late_responses_days = input.late_responses_days;
        let legal_basis = optional_text(&mut e, "legal_basis", input.legal_basis.as_deref(), TEXT_MAX);
        let lead_officer = optional_line(&mut e, "lead_officer", input.lead_officer.as_deref(), 200);
        let accessible_formats = optional_text(
            &mut e,
            "accessible_formats",
            input.accessible_formats.as_deref(),
            TEXT_MAX,
        );
        let cost = input.cost.as_ref().and_then(|c| {
            parse_cost(c)
                .map_err(|(field, msg)| e.push(format!("cost.{field}"), msg))
                .ok()
        });
        let (results_sharing, data_protection) =
            crate::parse_sharing(&mut e, input.results_sharing.as_deref(), input.data_protection.as_ref());

        match (organisation, title, level, opens_on, closes_on) {
            (Some(org), Some(title), Some(level), Some(opens_on), Some(closes_on)) if e.is_empty() => Ok(Self {
                organisation: org.slug.clone(),
                service,
                title,
                summary,
                purpose,
                decision,
                decision_date,
                can_change,
                cannot_change,
                level,
                methods,
                audience: Audience {
                    groups,
                    areas,
                    equality_groups,
                },
                topics,
                opens_on,
                closes_on,
                feedback_due_on,
                late_responses_days,
                legal_basis,
                lead_officer,
                accessible_formats,
                cost,
                results_sharing,
                data_protection,
            }),
            _ => Err(e),
        }
    }

    /// The plan as input again: what a client would send to recreate it. Parsing the result
    /// gives the same plan back.
    pub fn to_input(&self) -> ConsultationInput {
        let date = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
        ConsultationInput {
            organisation: Some(self.organisation.to_string()),
            service: self.service.clone(),
            title: Some(self.title.clone()),
            summary: self.summary.clone(),
            purpose: self.purpose.clone(),
            decision: self.decision.clone(),
            decision_date: self.decision_date.map(date),
            can_change: self.can_change.clone(),
            cannot_change: self.cannot_change.clone(),
            level: Some(self.level.as_str().to_owned()),
            methods: self.methods.clone(),
            audience: AudienceInput {
                groups: self.audience.groups.clone(),
                areas: self.audience.areas.iter().map(ToString::to_string).collect(),
                equality_groups: self.audience.equality_groups.clone(),
            },
            topics: self.topics.clone(),
            opens_on: Some(date(self.opens_on)),
            closes_on: Some(date(self.closes_on)),
            feedback_due_on: self.feedback_due_on.map(date),
            late_responses_days: self.late_responses_days,
            legal_basis: self.legal_basis.clone(),
            lead_officer: self.lead_officer.clone(),
            accessible_formats: self.accessible_formats.clone(),
            cost: self.cost.map(|c| CostInput {
                amount: Some(c.amount.pounds()),
                currency: Some("GBP".into()),
            }),
            results_sharing: (!self.results_sharing.is_public()).then(|| self.results_sharing.as_str().to_owned()),
            data_protection: self.data_protection.as_ref().map(|p| crate::DataProtectionInput {
                note: Some(p.note.clone()),
                allows: Some(p.allows.as_str().to_owned()),
            }),
        }
    }

    /// Who may see the results and documents once they are out.
    pub fn results_sharing(&self) -> crate::Sharing {
        self.results_sharing
    }
    /// The data-protection note, if the plan has one.
    pub fn data_protection(&self) -> Option<&crate::DataProtection> {
        self.data_protection.as_ref()
    }

    /// Owner organisation.
    pub fn organisation(&self) -> &Slug {
        &self.organisation
    }
    /// Owning service.
    pub fn service(&self) -> Option<&str> {
        self.service.as_deref()
    }
    /// Title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// Summary.
    pub fn summary(&self) -> Option<&str> {
        self.summary.as_deref()
    }
    /// Purpose.
    pub fn purpose(&self) -> Option<&str> {
        self.purpose.as_deref()
    }
    /// The decision it informs.
    pub fn decision(&self) -> Option<&str> {
        self.decision.as_deref()
    }
    /// When that decision is taken.
    pub fn decision_date(&self) -> Option<NaiveDate> {
        self.decision_date
    }
    /// What can change.
    pub fn can_change(&self) -> &[String] {
        &self.can_change
    }
    /// What cannot change.
    pub fn cannot_change(&self) -> &[String] {
        &self.cannot_change
    }
    /// Involvement level.
    pub fn level(&self) -> InvolvementLevel {
        self.level
    }
    /// Method slugs.
    pub fn method_slugs(&self) -> &[String] {
        &self.methods
    }
    /// Methods from the catalogue.
    pub fn methods(&self) -> impl Iterator<Item = &'static Method> + '_ {
        self.methods.iter().filter_map(|m| catalogue::method(m))
    }
    /// Audience.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }
    /// Topics.
    pub fn topics(&self) -> &[String] {
        &self.topics
    }
    /// Opening date.
    pub fn opens_on(&self) -> NaiveDate {
        self.opens_on
    }
    /// Closing date (inclusive: the activity is open all that day).
    pub fn closes_on(&self) -> NaiveDate {
        self.closes_on
    }
    /// Feedback due date.
    pub fn feedback_due_on(&self) -> Option<NaiveDate> {
        self.feedback_due_on
    }
    /// Days after closing that officers may still key offline responses, as the plan gives them.
    pub fn planned_late_responses_days(&self) -> Option<u32> {
        self.late_responses_days
    }
    /// Days after closing that officers may still key offline responses (given, or
    /// [`DEFAULT_LATE_RESPONSE_DAYS`]).
    pub fn late_responses_days(&self) -> u32 {
        self.late_responses_days.unwrap_or(DEFAULT_LATE_RESPONSE_DAYS)
    }
    /// The last day officers may key offline responses: closing plus
    /// [`Self::late_responses_days`].
    pub fn late_responses_until(&self) -> NaiveDate {
        self.closes_on + chrono::Days::new(u64::from(self.late_responses_days()))
    }
    /// Legal basis.
    pub fn legal_basis(&self) -> Option<&str> {
        self.legal_basis.as_deref()
    }
    /// Lead officer.
    pub fn lead_officer(&self) -> Option<&str> {
        self.lead_officer.as_deref()
    }
    /// Accessible formats statement.
    pub fn accessible_formats(&self) -> Option<&str> {
        self.accessible_formats.as_deref()
    }
    /// Cost.
    pub fn cost(&self) -> Option<Cost> {
        self.cost
    }
    /// Whole days the activity is open, counting both the opening and closing days.
    pub fn duration_days(&self) -> i64 {
        (self.closes_on - self.opens_on).num_days() + 1
    }
}

/// An activity in the register: its plan, its recorded status and history.
#[derive(Debug, Clone, PartialEq)]
pub struct Consultation {
    /// Identifier.
    pub id: ConsultationId,
    /// The owner organisation's id.
    pub organisation_id: OrganisationId,
    /// The validated plan.
    pub plan: ConsultationPlan,
    /// The status as last recorded by a person. Opening and closing on the dates are derived:
    /// use [`Consultation::status_on`].
    pub recorded_status: Status,
    /// Optimistic-concurrency version, incremented by every write.
    pub version: i64,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Every recorded status change, oldest first.
    pub status_history: Vec<StatusChange>,
    /// The approval, once approved.
    pub approval: Option<crate::lifecycle::Approval>,
}

impl Consultation {
    /// A new draft of `plan`, registered `now` for the organisation `organisation_id`.
    pub fn new_draft(
        id: ConsultationId,
        organisation_id: OrganisationId,
        plan: ConsultationPlan,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            organisation_id,
            plan,
            recorded_status: Status::Draft,
            version: 1,
            created_at: now,
            updated_at: now,
            status_history: vec![],
            approval: None,
        }
    }

    /// The status a client sees on `today`: an approved activity is open from its opening date
    /// and closed after its closing date without anyone acting.
    pub fn status_on(&self, today: NaiveDate) -> Status {
        self.recorded_status
            .on(self.plan.opens_on(), self.plan.closes_on(), today)
    }

    /// The status history as of `today`, with the scheduled opening and closing included.
    pub fn history_on(&self, today: NaiveDate) -> Vec<StatusChange> {
        let mut history = self.status_history.clone();
        history.extend(crate::lifecycle::scheduled_changes(
            self.recorded_status,
            self.plan.opens_on(),
            self.plan.closes_on(),
            today,
        ));
        history
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::Area;
    use crate::organisation::OrganisationInput;
    use proptest::prelude::*;

    fn org() -> Organisation {
        Organisation::parse(
            OrganisationId(Uuid::nil()),
            OrganisationInput {
                slug: Some("tamworth".into()),
                name: Some("Tamworth Borough Council".into()),
                kind: Some("council".into()),
                services: vec!["Waste and recycling".into()],
            },
        )
        .unwrap()
    }

    fn areas() -> AreaHierarchy {
        AreaHierarchy::new([Area {
            code: AreaCode::parse("E07000199").unwrap(),
            name: "Tamworth".into(),
            parent: None,
        }])
    }

    fn valid() -> ConsultationInput {
        ConsultationInput {
            organisation: Some("tamworth".into()),
            service: Some("Waste and recycling".into()),
            title: Some("Garden waste collections".into()),
            level: Some("consult".into()),
            opens_on: Some("2026-01-05".into()),
            closes_on: Some("2026-03-29".into()),
            methods: vec!["online_survey".into(), "public_meeting".into()],
            audience: AudienceInput {
                groups: vec!["residents".into()],
                areas: vec!["E07000199".into()],
                equality_groups: vec![],
            },
            topics: vec!["waste".into()],
            cost: Some(CostInput {
                amount: Some(1250.5),
                currency: None,
            }),
            ..Default::default()
        }
    }

    fn parse(input: ConsultationInput) -> Result<ConsultationPlan, ValidationErrors> {
        let orgs = [org()];
        let areas = areas();
        ConsultationPlan::parse(
            input,
            RegisterContext {
                organisations: &orgs,
                areas: &areas,
            },
        )
    }

    #[test]
    fn a_valid_plan_parses_and_round_trips_through_input() {
        let plan = parse(valid()).unwrap();
        assert_eq!(plan.duration_days(), 84);
        assert_eq!(plan.cost().unwrap().amount.pence(), 125_050);
        assert!(plan.audience().includes_general_public());
        assert_eq!(parse(plan.to_input()).unwrap(), plan);
    }

    #[test]
    fn serde_reads_a_plan_only_through_parse() {
        let plan = parse(valid()).unwrap();
        let json = serde_json::to_value(&plan).unwrap();
        let back: ConsultationPlan = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back, plan);
        // A plan no parse would build cannot be read either: closing before opening, an
        // unknown level, a blank title.
        for (field, value) in [
            ("closes_on", serde_json::json!("2020-01-01")),
            ("level", serde_json::json!("dictate")),
            ("title", serde_json::json!("  ")),
        ] {
            let mut bad = json.clone();
            bad[field] = value;
            let err = serde_json::from_value::<ConsultationPlan>(bad).unwrap_err();
            assert!(err.to_string().contains(field), "{field}: {err}");
        }
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let input = ConsultationInput {
            organisation: Some("nowhere".into()),
            title: Some("   ".into()),
            level: Some("dictate".into()),
            opens_on: Some("2026-02-30".into()),
            closes_on: None,
            methods: vec!["online_survey".into(), "telepathy".into()],
            audience: AudienceInput {
                groups: vec!["aliens".into()],
                areas: vec!["E99999999".into(), "Tamworth".into()],
                equality_groups: vec![],
            },
            cost: Some(CostInput {
                amount: Some(-1.0),
                currency: Some("EUR".into()),
            }),
            ..Default::default()
        };
        let fields: Vec<String> = parse(input)
            .unwrap_err()
            .into_errors()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "organisation",
                "title",
                "level",
                "methods[1]",
                "audience.groups[0]",
                "audience.areas[0]",
                "audience.areas[1]",
                "opens_on",
                "closes_on",
                "cost.currency"
            ]
        );
    }

    #[test]
    fn service_must_belong_to_the_organisation() {
        let mut input = valid();
        input.service = Some("Parking".into());
        let e = parse(input).unwrap_err();
        assert_eq!(e.errors()[0].field, "service");
        assert!(e.errors()[0].message.contains("Waste and recycling"));
    }

    #[test]
    fn feedback_before_closing_is_refused() {
        let mut input = valid();
        input.feedback_due_on = Some("2026-03-01".into());
        assert_eq!(parse(input).unwrap_err().errors()[0].field, "feedback_due_on");
    }

    proptest! {
        #[test]
        fn any_title_is_kept_verbatim_or_refused(title in "\\PC{1,250}") {
            let mut input = valid();
            input.title = Some(title.clone());
            match parse(input) {
                Ok(plan) => prop_assert_eq!(plan.title(), title.trim()),
                Err(e) => prop_assert_eq!(e.errors()[0].field.as_str(), "title"),
            }
        }

        #[test]
        fn money_round_trips_whole_pence(pence in 0i64..10_000_000_000) {
            let m = Money::from_pence(pence);
            prop_assert_eq!(Money::from_pounds(m.pounds()).unwrap(), m);
        }

        #[test]
        fn closing_before_opening_is_always_refused(open in 0i64..3000, back in 1i64..400) {
            let base = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
            let o = base + chrono::Days::new(open as u64);
            let c = o - chrono::Days::new(back as u64);
            let mut input = valid();
            input.opens_on = Some(o.to_string());
            input.closes_on = Some(c.to_string());
            let e = parse(input).unwrap_err();
            prop_assert_eq!(e.errors()[0].field.as_str(), "closes_on");
        }
    }
}
