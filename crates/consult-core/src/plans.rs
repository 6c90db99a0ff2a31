//! Consultation plans (O 5.6 and actions 7-8, T strategy 8, H obj 1; R13, R20): each service
//! keeps an annual consultation plan; recurring corporate programme items (the annual budget
//! consultation, the biennial residents' survey, quarterly panel waves) generate their entries
//! each year; the council-wide plan is compiled from both, set against what was registered, and
//! reviewed every six months.

use crate::consultation::ConsultationId;
use crate::continuum::InvolvementLevel;
use crate::error::ValidationErrors;
use crate::lifecycle::Status;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One planned activity as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlanEntryInput {
    /// What it is, e.g. "Parks strategy consultation".
    pub title: Option<String>,
    /// Involvement level.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<InvolvementLevel>))]
    pub level: Option<String>,
    /// Month it is expected to start (1 to 12), if known.
    pub month: Option<u32>,
    /// Topics.
    #[serde(default)]
    pub topics: Vec<String>,
    /// Methods expected (slugs).
    #[serde(default)]
    pub methods: Vec<String>,
    /// Notes.
    pub notes: Option<String>,
    /// The registered activity that delivers it, once there is one.
    pub consultation_id: Option<String>,
}

/// One planned activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanEntry {
    /// What it is.
    pub title: String,
    /// Involvement level.
    pub level: InvolvementLevel,
    /// Expected start month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<u32>,
    /// Topics.
    pub topics: Vec<String>,
    /// Methods.
    pub methods: Vec<String>,
    /// Notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The registered activity delivering it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub consultation_id: Option<ConsultationId>,
}

fn parse_entry(e: &mut ValidationErrors, at: &str, input: &PlanEntryInput) -> Option<PlanEntry> {
    let f = |name: &str| format!("{at}.{name}");
    let title = crate::text::required_line(e, &f("title"), input.title.as_deref(), 200);
    let level = match input.level.as_deref() {
        None => {
            e.push(f("level"), "is required");
            None
        }
        Some(l) => l
            .parse::<InvolvementLevel>()
            .map_err(|m| e.push(f("level"), m.to_string()))
            .ok(),
    };
    if input.month.is_some_and(|m| !(1..=12).contains(&m)) {
        e.push(f("month"), "must be 1 to 12");
    }
    let topics = crate::text::line_list(e, &f("topics"), &input.topics, 20, 100);
    let methods = crate::text::line_list(e, &f("methods"), &input.methods, 20, 60);
    for m in &methods {
        if crate::catalogue::method(m).is_none() {
            e.push(f("methods"), format!("unknown method `{m}`"));
        }
    }
    let notes = crate::text::optional_text(e, &f("notes"), input.notes.as_deref(), 2000);
    let consultation_id = match input
        .consultation_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(s) => s
            .parse::<ConsultationId>()
            .map_err(|_| e.push(f("consultation_id"), format!("`{s}` is not a consultation id")))
            .ok(),
    };
    Some(PlanEntry {
        title: title?,
        level: level?,
        month: input.month.filter(|m| (1..=12).contains(m)),
        topics,
        methods,
        notes,
        consultation_id,
    })
}

/// A service's annual plan as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ServicePlanInput {
    /// Planned activities.
    #[serde(default)]
    pub entries: Vec<PlanEntryInput>,
    /// Agreed by the service's management (draft until then).
    #[serde(default)]
    pub agreed: bool,
}

/// A service's annual consultation plan (O action 7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServicePlan {
    /// Organisation slug.
    pub organisation: String,
    /// Service.
    pub service: String,
    /// Year.
    pub year: i32,
    /// Planned activities.
    pub entries: Vec<PlanEntry>,
    /// Agreed (otherwise a draft).
    pub agreed: bool,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// By.
    pub updated_by: String,
}

impl ServicePlan {
    /// Validates a service plan; every problem is reported (`entries[2].level`).
    pub fn parse(
        organisation: &str,
        service: &str,
        year: i32,
        input: &ServicePlanInput,
        by: &str,
        now: DateTime<Utc>,
    ) -> Result<ServicePlan, ValidationErrors> {
        let mut e = ValidationErrors::new();
        if input.entries.len() > 500 {
            e.push("entries", "at most 500 entries");
        }
        let entries: Vec<PlanEntry> = input
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, entry)| parse_entry(&mut e, &format!("entries[{i}]"), entry))
            .collect();
        e.into_result(ServicePlan {
            organisation: organisation.to_owned(),
            service: service.to_owned(),
            year,
            entries,
            agreed: input.agreed,
            updated_at: now,
            updated_by: by.to_owned(),
        })
    }
}

/// How often a programme item recurs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Recurrence {
    /// Every year.
    Yearly,
    /// Every other year, from `since`.
    Biennial,
    /// Four waves a year, from `month`.
    Quarterly,
}

/// A recurring item of the corporate programme as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProgrammeItemInput {
    /// What it is, e.g. "Budget consultation".
    pub title: Option<String>,
    /// The service that runs it.
    pub service: Option<String>,
    /// `yearly`, `biennial` or `quarterly`.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Recurrence>))]
    pub every: Option<String>,
    /// First year it runs (biennial items run in it and every other year after).
    pub since: Option<i32>,
    /// Month it starts (quarterly items: the first wave's month).
    pub month: Option<u32>,
    /// Involvement level.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<InvolvementLevel>))]
    pub level: Option<String>,
    /// Methods.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Topics.
    #[serde(default)]
    pub topics: Vec<String>,
}

/// A recurring item of the corporate programme (R20).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProgrammeItem {
    /// What it is.
    pub title: String,
    /// The service that runs it.
    pub service: String,
    /// How often.
    pub every: Recurrence,
    /// First year.
    pub since: i32,
    /// Start month.
    pub month: u32,
    /// Level.
    pub level: InvolvementLevel,
    /// Methods.
    pub methods: Vec<String>,
    /// Topics.
    pub topics: Vec<String>,
}

impl ProgrammeItem {
    /// Validates programme items; every problem is reported (`items[1].every`).
    pub fn parse_all(inputs: &[ProgrammeItemInput]) -> Result<Vec<ProgrammeItem>, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let mut out = Vec::new();
        for (i, p) in inputs.iter().enumerate() {
            let at = format!("items[{i}]");
            let f = |name: &str| format!("{at}.{name}");
            let service = crate::text::required_line(&mut e, &f("service"), p.service.as_deref(), 200);
            let every = match p.every.as_deref() {
                Some("yearly") => Some(Recurrence::Yearly),
                Some("biennial") => Some(Recurrence::Biennial),
                Some("quarterly") => Some(Recurrence::Quarterly),
                _ => {
                    e.push(f("every"), "must be yearly, biennial or quarterly");
                    None
                }
            };
            let since = p.since.filter(|y| (1990..=2200).contains(y));
            if since.is_none() {
                e.push(f("since"), "is required: the first year it runs");
            }
            let month = p.month.filter(|m| (1..=12).contains(m));
            if month.is_none() {
                e.push(f("month"), "is required: 1 to 12");
            }
            let entry = parse_entry(
                &mut e,
                &at,
                &PlanEntryInput {
                    title: p.title.clone(),
                    level: p.level.clone(),
                    month,
                    topics: p.topics.clone(),
                    methods: p.methods.clone(),
                    notes: None,
                    consultation_id: None,
                },
            );
            if let (Some(service), Some(every), Some(since), Some(month), Some(entry)) =
                (service, every, since, month, entry)
            {
                out.push(ProgrammeItem {
                    title: entry.title,
                    service,
                    every,
                    since,
                    month,
                    level: entry.level,
                    methods: entry.methods,
                    topics: entry.topics,
                });
            }
        }
        e.into_result(out)
    }

    /// The entries this item puts in `year`'s plan.
    pub fn entries_for(&self, year: i32) -> Vec<PlanEntry> {
        let runs = year >= self.since
            && match self.every {
                Recurrence::Yearly | Recurrence::Quarterly => true,
                Recurrence::Biennial => (year - self.since) % 2 == 0,
            };
        if !runs {
            return Vec::new();
        }
        let entry = |title: String, month: u32| PlanEntry {
            title,
            level: self.level,
            month: Some(month),
            topics: self.topics.clone(),
            methods: self.methods.clone(),
            notes: Some("recurring programme item".into()),
            consultation_id: None,
        };
        match self.every {
            Recurrence::Quarterly => (0..4)
                .map(|wave| {
                    let month = (self.month - 1 + wave * 3) % 12 + 1;
                    entry(format!("{} (wave {} of 4)", self.title, wave + 1), month)
                })
                .collect(),
            _ => vec![entry(self.title.clone(), self.month)],
        }
    }
}

/// Where a line of the council-wide plan came from and stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CouncilPlanLine {
    /// Service.
    pub service: String,
    /// What it is.
    pub title: String,
    /// Level.
    pub level: InvolvementLevel,
    /// Expected start month.
    pub month: Option<u32>,
    /// `service_plan`, `programme` or `unplanned` (registered but in no plan).
    pub source: String,
    /// The registered activity, once there is one.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub consultation_id: Option<ConsultationId>,
    /// Its status today.
    pub status: Option<Status>,
}

/// A six-monthly review of the council-wide plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanReview {
    /// 1: the mid-year review; 2: the year-end review.
    pub half: u32,
    /// When it was held.
    pub reviewed_on: NaiveDate,
    /// Who recorded it.
    pub by: String,
    /// What was decided.
    pub notes: String,
}

/// The council-wide plan (O action 8): every service's plan and the programme, against what was
/// registered, with its six-monthly review state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CouncilPlan {
    /// Organisation slug.
    pub organisation: String,
    /// Year.
    pub year: i32,
    /// Every line, by month then service.
    pub lines: Vec<CouncilPlanLine>,
    /// Lines per service.
    pub by_service: BTreeMap<String, u64>,
    /// Services with a plan for the year, and whether it is agreed.
    pub service_plans: BTreeMap<String, bool>,
    /// Planned lines with a registered activity.
    pub delivered: u64,
    /// Reviews held.
    pub reviews: Vec<PlanReview>,
    /// The next review due (30 June, then 31 December), if any is left.
    pub next_review_due: Option<NaiveDate>,
    /// True when a review's date has passed without it.
    pub review_overdue: bool,
}

/// What was registered for the year: an activity's id, service, title, level, opening date and
/// status today.
#[derive(Debug, Clone)]
pub struct Registered {
    /// Id.
    pub id: ConsultationId,
    /// Service.
    pub service: String,
    /// Title.
    pub title: String,
    /// Level.
    pub level: InvolvementLevel,
    /// Opening date.
    pub opens_on: NaiveDate,
    /// Status today.
    pub status: Status,
}

/// Compiles the council-wide plan of `year` on `today`.
pub fn compile_plan(
    organisation: &str,
    year: i32,
    service_plans: &[ServicePlan],
    programme: &[ProgrammeItem],
    registered: &[Registered],
    reviews: Vec<PlanReview>,
    today: NaiveDate,
) -> CouncilPlan {
    let mut lines = Vec::new();
    let status_of = |id: Option<ConsultationId>| {
        id.and_then(|id| registered.iter().find(|r| r.id == id))
            .map(|r| r.status)
    };
    for p in service_plans {
        for e in &p.entries {
            lines.push(CouncilPlanLine {
                service: p.service.clone(),
                title: e.title.clone(),
                level: e.level,
                month: e.month,
                source: "service_plan".into(),
                // Only activities the reader may see are named.
                consultation_id: e.consultation_id.filter(|id| registered.iter().any(|r| r.id == *id)),
                status: status_of(e.consultation_id),
            });
        }
    }
    for item in programme {
        for e in item.entries_for(year) {
            // A programme item already in its service's plan is not listed twice.
            let duplicate = lines
                .iter()
                .any(|l| l.service == item.service && l.title == e.title && l.month == e.month);
            if !duplicate {
                lines.push(CouncilPlanLine {
                    service: item.service.clone(),
                    title: e.title,
                    level: e.level,
                    month: e.month,
                    source: "programme".into(),
                    consultation_id: None,
                    status: None,
                });
            }
        }
    }
    let linked: Vec<ConsultationId> = lines.iter().filter_map(|l| l.consultation_id).collect();
    for r in registered
        .iter()
        .filter(|r| r.opens_on.year() == year && !linked.contains(&r.id))
    {
        lines.push(CouncilPlanLine {
            service: r.service.clone(),
            title: r.title.clone(),
            level: r.level,
            month: Some(r.opens_on.month()),
            source: "unplanned".into(),
            consultation_id: Some(r.id),
            status: Some(r.status),
        });
    }
    lines.sort_by(|a, b| {
        (a.month.unwrap_or(13), &a.service, &a.title).cmp(&(b.month.unwrap_or(13), &b.service, &b.title))
    });
    let mut by_service = BTreeMap::new();
    for l in &lines {
        *by_service.entry(l.service.clone()).or_insert(0u64) += 1;
    }
    let delivered = lines
        .iter()
        .filter(|l| l.source != "unplanned" && l.consultation_id.is_some())
        .count() as u64;
    let due = [
        (1u32, NaiveDate::from_ymd_opt(year, 6, 30)),
        (2, NaiveDate::from_ymd_opt(year, 12, 31)),
    ];
    let missing: Vec<NaiveDate> = due
        .iter()
        .filter(|(half, _)| !reviews.iter().any(|r| r.half == *half))
        .filter_map(|(_, d)| *d)
        .collect();
    CouncilPlan {
        organisation: organisation.to_owned(),
        year,
        by_service,
        service_plans: service_plans.iter().map(|p| (p.service.clone(), p.agreed)).collect(),
        delivered,
        next_review_due: missing.first().copied(),
        review_overdue: missing.iter().any(|d| *d < today),
        reviews,
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn item(title: &str, every: &str, since: i32, month: u32) -> ProgrammeItemInput {
        ProgrammeItemInput {
            title: Some(title.into()),
            service: Some("Corporate".into()),
            every: Some(every.into()),
            since: Some(since),
            month: Some(month),
            level: Some("consult".into()),
            methods: vec!["online_survey".into()],
            topics: vec![],
        }
    }

    #[test]
    fn programme_items_generate_their_entries() {
        let items = ProgrammeItem::parse_all(&[
            item("Budget consultation", "yearly", 2020, 10),
            item("Residents' survey", "biennial", 2025, 9),
            item("Citizens' panel", "quarterly", 2024, 2),
        ])
        .unwrap();
        assert_eq!(items[0].entries_for(2026).len(), 1);
        assert_eq!(items[0].entries_for(2019).len(), 0, "not before it started");
        assert_eq!(items[1].entries_for(2025).len(), 1);
        assert_eq!(items[1].entries_for(2026).len(), 0, "every other year");
        assert_eq!(items[1].entries_for(2027).len(), 1);
        let waves: Vec<Option<u32>> = items[2].entries_for(2026).iter().map(|e| e.month).collect();
        assert_eq!(waves, [Some(2), Some(5), Some(8), Some(11)]);
        let bad = ProgrammeItem::parse_all(&[ProgrammeItemInput {
            every: Some("monthly".into()),
            ..item("x", "yearly", 2020, 13)
        }])
        .unwrap_err();
        let fields: Vec<&str> = bad.errors().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["items[0].every", "items[0].month"]);
    }

    #[test]
    fn the_council_plan_compiles_services_programme_and_what_was_registered() {
        let now = Utc::now();
        let registered_id = ConsultationId(Uuid::from_u128(1));
        let parks = ServicePlan::parse(
            "tamworth",
            "Parks",
            2026,
            &ServicePlanInput {
                entries: vec![
                    PlanEntryInput {
                        title: Some("Play areas".into()),
                        level: Some("involve".into()),
                        month: Some(4),
                        consultation_id: Some(registered_id.to_string()),
                        ..Default::default()
                    },
                    PlanEntryInput {
                        title: Some("Allotments".into()),
                        level: Some("consult".into()),
                        month: Some(9),
                        ..Default::default()
                    },
                ],
                agreed: true,
            },
            "ann",
            now,
        )
        .unwrap();
        let bad = ServicePlan::parse(
            "tamworth",
            "Parks",
            2026,
            &ServicePlanInput {
                entries: vec![PlanEntryInput {
                    title: None,
                    level: Some("shout".into()),
                    month: Some(0),
                    methods: vec!["seance".into()],
                    ..Default::default()
                }],
                agreed: false,
            },
            "ann",
            now,
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.errors().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "entries[0].title",
                "entries[0].level",
                "entries[0].month",
                "entries[0].methods"
            ]
        );
        let programme = ProgrammeItem::parse_all(&[item("Budget consultation", "yearly", 2020, 10)]).unwrap();
        let registered = vec![
            Registered {
                id: registered_id,
                service: "Parks".into(),
                title: "Play areas consultation".into(),
                level: InvolvementLevel::Involve,
                opens_on: NaiveDate::from_ymd_opt(2026, 4, 10).unwrap(),
                status: Status::Open,
            },
            Registered {
                id: ConsultationId(Uuid::from_u128(2)),
                service: "Housing".into(),
                title: "Tenancy policy".into(),
                level: InvolvementLevel::Consult,
                opens_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
                status: Status::Closed,
            },
        ];
        let review = PlanReview {
            half: 1,
            reviewed_on: NaiveDate::from_ymd_opt(2026, 6, 20).unwrap(),
            by: "cora".into(),
            notes: "On track".into(),
        };
        let today = NaiveDate::from_ymd_opt(2026, 7, 15).unwrap();
        let plan = compile_plan("tamworth", 2026, &[parks], &programme, &registered, vec![review], today);
        let sources: Vec<(&str, &str)> = plan
            .lines
            .iter()
            .map(|l| (l.title.as_str(), l.source.as_str()))
            .collect();
        assert_eq!(
            sources,
            [
                ("Tenancy policy", "unplanned"),
                ("Play areas", "service_plan"),
                ("Allotments", "service_plan"),
                ("Budget consultation", "programme")
            ]
        );
        assert_eq!(plan.lines[1].status, Some(Status::Open));
        assert_eq!(plan.delivered, 1);
        assert!(plan.service_plans["Parks"]);
        assert_eq!(plan.next_review_due, NaiveDate::from_ymd_opt(2026, 12, 31));
        assert!(!plan.review_overdue);
        let late = compile_plan("tamworth", 2026, &[], &[], &[], vec![], today);
        assert!(late.review_overdue, "the mid-year review was due on 30 June");
    }
}
