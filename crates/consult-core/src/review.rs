//! The annual review (T 6.5, O action 6; R12, R17): what the council and its partners asked in a
//! year, of whom and how, what people said and what was done (and not done, with why), the
//! duplication findings acted on, the equality of who took part, and the measures of success.
//! Built from published activities only: it is a public document.

use crate::consultation::{Consultation, ConsultationId};
use crate::equality::EqualityReport;
use crate::evaluation::Debrief;
use crate::feedback::{Feedback, feedback_due, feedback_overdue};
use crate::remarks::RemarkCounts;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Methods whose cost the review reports as paper and phone surveys (S "How we will measure
/// success": the cost of paper and telephone surveys).
pub const PAPER_AND_PHONE_METHODS: &[&str] = &["postal_survey", "telephone_survey"];

/// What the review knows of one activity besides its plan.
#[derive(Debug, Clone, Copy)]
pub struct ReviewInput<'a> {
    /// The activity.
    pub consultation: &'a Consultation,
    /// Responses received.
    pub responses: u64,
    /// Its feedback, if any (drafts are left out of the review).
    pub feedback: Option<&'a Feedback>,
    /// Overlap findings dismissed for it, with a recorded reason.
    pub dismissals: u64,
    /// Its debrief, if recorded.
    pub debrief: Option<&'a Debrief>,
    /// Marked for external evaluation.
    pub external: bool,
    /// Comments, compliments and complaints about how it was run.
    pub remarks: &'a RemarkCounts,
}

/// A learning point from a debrief.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LearningPoint {
    /// The activity.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub consultation_id: ConsultationId,
    /// Its title.
    pub title: String,
    /// The point.
    pub point: String,
}

/// One "you said, we did" line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewTheme {
    /// The activity.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub consultation_id: ConsultationId,
    /// Its title.
    pub title: String,
    /// The theme.
    pub theme: String,
    /// What people said.
    pub you_said: String,
    /// What was done (for highlights) or not done.
    pub response: String,
    /// Why not (things not done only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The measures of success (S "How we will measure success", F 15, O 2.12, T 6.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Measures {
    /// Responses received across the year's activities (people engaging).
    pub responses: u64,
    /// Activities that received at least one response.
    pub activities_with_responses: u64,
    /// Distinct methods used (the range of opportunities).
    pub methods_used: u64,
    /// Distinct involvement levels used.
    pub levels_used: u64,
    /// Activities that closed in the year or before and owe feedback by the end of the review.
    pub feedback_due: u64,
    /// Of those, published by their due date.
    pub feedback_on_time: u64,
    /// Share published on time (null when none was due).
    pub feedback_on_time_share: Option<f64>,
    /// Closed activities whose feedback is overdue on the review date.
    pub feedback_overdue: u64,
    /// Total recorded cost, pounds.
    pub cost: f64,
    /// Cost per response, pounds (activities with both a cost and responses).
    pub cost_per_response: Option<f64>,
    /// Cost of activities using paper or telephone surveys, pounds.
    pub paper_and_phone_survey_cost: f64,
    /// Overlap findings dismissed with a recorded reason (duplication considered and acted on).
    pub overlap_findings_dismissed: u64,
    /// Activities debriefed.
    pub debriefs: u64,
    /// Activities marked for external evaluation.
    pub external_evaluations: u64,
}

/// A review of a period: the annual review, or the quarterly update for councillors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngagementReview {
    /// The year reviewed.
    pub year: i32,
    /// The period reviewed: the year, or a quarter of it.
    pub period: Period,
    /// The date the review was drawn up (decides what is overdue).
    pub as_of: NaiveDate,
    /// What the review covers, e.g. "all organisations" or an organisation or area.
    pub scope: String,
    /// Activities open at some time in the year (published statuses only).
    pub activities: u64,
    /// Activities by involvement level.
    pub by_level: BTreeMap<String, u64>,
    /// Activities by owning organisation and service (`organisation / service`).
    pub by_service: BTreeMap<String, u64>,
    /// Activities using each method.
    pub by_method: BTreeMap<String, u64>,
    /// Activities by area (GSS code; `whole area` when none named).
    pub by_area: BTreeMap<String, u64>,
    /// Activities by status on the review date.
    pub by_status: BTreeMap<String, u64>,
    /// "You said, we did" highlights: the first theme done of each activity with published
    /// feedback.
    pub you_said_we_did: Vec<ReviewTheme>,
    /// Everything published as not done, with the reasons.
    pub not_done: Vec<ReviewTheme>,
    /// Learning points from the debriefs.
    pub learning_points: Vec<LearningPoint>,
    /// Comments, compliments and complaints about how activities were run.
    pub remarks: RemarkCounts,
    /// Measures of success.
    pub measures: Measures,
    /// Who responded across the year's activities (public view: small numbers suppressed).
    pub equality: EqualityReport,
}

/// The period a review covers: a year (the annual review, T 6.5) or a quarter (the quarterly
/// update for councillors, O action 25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Period {
    /// `annual` or `quarterly`.
    pub kind: PeriodKind,
    /// The quarter (1 to 4) of a quarterly update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarter: Option<u32>,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

/// Annual or quarterly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// A calendar year.
    Annual,
    /// A quarter of a calendar year.
    Quarterly,
}

impl Period {
    /// The calendar year `year` (`None` outside the dates chrono knows).
    pub fn year(year: i32) -> Option<Period> {
        Some(Period {
            kind: PeriodKind::Annual,
            quarter: None,
            from: NaiveDate::from_ymd_opt(year, 1, 1)?,
            to: NaiveDate::from_ymd_opt(year, 12, 31)?,
        })
    }

    /// Quarter `quarter` (1 to 4) of `year`.
    pub fn quarter(year: i32, quarter: u32) -> Option<Period> {
        if !(1..=4).contains(&quarter) {
            return None;
        }
        let from = NaiveDate::from_ymd_opt(year, quarter * 3 - 2, 1)?;
        let next = if quarter == 4 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)?
        } else {
            NaiveDate::from_ymd_opt(year, quarter * 3 + 1, 1)?
        };
        Some(Period {
            kind: PeriodKind::Quarterly,
            quarter: Some(quarter),
            from,
            to: next.pred_opt()?,
        })
    }

    /// True when the activity was open at some time in the period.
    pub fn covers(&self, c: &Consultation) -> bool {
        c.plan.opens_on() <= self.to && c.plan.closes_on() >= self.from
    }
}

/// Builds the review of `period` on `as_of` from the activities (only those in public statuses
/// and open at some time in the period count) and the equality report of their respondents.
pub fn engagement_review(
    period: Period,
    as_of: NaiveDate,
    scope: &str,
    inputs: &[ReviewInput<'_>],
    equality: EqualityReport,
) -> EngagementReview {
    let mut r = EngagementReview {
        year: period.from.year(),
        period,
        as_of,
        scope: scope.to_owned(),
        activities: 0,
        by_level: BTreeMap::new(),
        by_service: BTreeMap::new(),
        by_method: BTreeMap::new(),
        by_area: BTreeMap::new(),
        by_status: BTreeMap::new(),
        you_said_we_did: Vec::new(),
        not_done: Vec::new(),
        measures: Measures {
            responses: 0,
            activities_with_responses: 0,
            methods_used: 0,
            levels_used: 0,
            feedback_due: 0,
            feedback_on_time: 0,
            feedback_on_time_share: None,
            feedback_overdue: 0,
            cost: 0.0,
            cost_per_response: None,
            paper_and_phone_survey_cost: 0.0,
            overlap_findings_dismissed: 0,
            debriefs: 0,
            external_evaluations: 0,
        },
        learning_points: Vec::new(),
        remarks: RemarkCounts::default(),
        equality,
    };
    let (mut costed, mut costed_responses) = (0.0, 0u64);
    let mut chosen: Vec<&ReviewInput<'_>> = inputs
        .iter()
        .filter(|i| i.consultation.status_on(as_of).is_public() && period.covers(i.consultation))
        .collect();
    chosen.sort_by_key(|i| (i.consultation.plan.opens_on(), i.consultation.id));
    for i in chosen {
        let c = i.consultation;
        let p = &c.plan;
        let status = c.status_on(as_of);
        r.activities += 1;
        *r.by_level.entry(p.level().as_str().to_owned()).or_default() += 1;
        let service = format!("{} / {}", p.organisation(), p.service().unwrap_or("(no service)"));
        *r.by_service.entry(service).or_default() += 1;
        for m in p.method_slugs() {
            *r.by_method.entry(m.clone()).or_default() += 1;
        }
        if p.audience().areas.is_empty() {
            *r.by_area.entry("whole area".into()).or_default() += 1;
        }
        for a in &p.audience().areas {
            *r.by_area.entry(a.to_string()).or_default() += 1;
        }
        *r.by_status.entry(status.as_str().to_owned()).or_default() += 1;
        let m = &mut r.measures;
        m.responses += i.responses;
        m.activities_with_responses += u64::from(i.responses > 0);
        m.overlap_findings_dismissed += i.dismissals;
        m.debriefs += u64::from(i.debrief.is_some());
        m.external_evaluations += u64::from(i.external);
        if let Some(d) = i.debrief {
            r.learning_points
                .extend(d.learning_points.iter().map(|point| LearningPoint {
                    consultation_id: c.id,
                    title: p.title().to_owned(),
                    point: point.clone(),
                }));
        }
        let totals = &mut r.remarks;
        totals.comments += i.remarks.comments;
        totals.compliments += i.remarks.compliments;
        totals.complaints += i.remarks.complaints;
        totals.complaints_resolved += i.remarks.complaints_resolved;
        if let Some(cost) = p.cost() {
            let pounds = cost.amount.pounds();
            m.cost += pounds;
            if i.responses > 0 {
                costed += pounds;
                costed_responses += i.responses;
            }
            if p.method_slugs()
                .iter()
                .any(|s| PAPER_AND_PHONE_METHODS.contains(&s.as_str()))
            {
                m.paper_and_phone_survey_cost += pounds;
            }
        }
        let due = feedback_due(p);
        let published = i.feedback.and_then(|f| f.published_on);
        if due <= as_of || published.is_some() {
            m.feedback_due += 1;
            m.feedback_on_time += u64::from(published.is_some_and(|d| d <= due));
        }
        m.feedback_overdue += u64::from(feedback_overdue(c, as_of));
        if let Some(f) = i.feedback.filter(|f| f.published_on.is_some()) {
            let line = |item: &crate::feedback::FeedbackItem, response: &str| ReviewTheme {
                consultation_id: c.id,
                title: p.title().to_owned(),
                theme: item.theme.clone(),
                you_said: item.you_said.clone(),
                response: response.to_owned(),
                reason: item.reason.clone(),
            };
            if let Some((item, did)) = f.items.iter().find_map(|it| it.we_did.as_deref().map(|d| (it, d))) {
                r.you_said_we_did.push(line(item, did));
            }
            for item in f.items.iter().filter(|it| it.not_done()) {
                r.not_done
                    .push(line(item, item.we_did_not.as_deref().unwrap_or_default()));
            }
        }
    }
    let m = &mut r.measures;
    m.methods_used = r.by_method.len() as u64;
    m.levels_used = r.by_level.len() as u64;
    m.feedback_on_time_share =
        (m.feedback_due > 0).then(|| (m.feedback_on_time as f64 / m.feedback_due as f64 * 10_000.0).round() / 10_000.0);
    m.cost_per_response = (costed_responses > 0).then(|| (costed / costed_responses as f64 * 100.0).round() / 100.0);
    m.cost = (m.cost * 100.0).round() / 100.0;
    r
}

/// The review as CSV rows: `section, name, value` (the equality part as `equality,
/// characteristic/category, respondents or "suppressed"`).
pub fn review_rows(r: &EngagementReview) -> Vec<[String; 3]> {
    let mut rows = vec![
        ["review".into(), "year".into(), r.year.to_string()],
        ["review".into(), "from".into(), r.period.from.to_string()],
        ["review".into(), "to".into(), r.period.to.to_string()],
        ["review".into(), "as_of".into(), r.as_of.to_string()],
        ["review".into(), "scope".into(), r.scope.clone()],
        ["review".into(), "activities".into(), r.activities.to_string()],
    ];
    for (section, map) in [
        ("by_level", &r.by_level),
        ("by_service", &r.by_service),
        ("by_method", &r.by_method),
        ("by_area", &r.by_area),
        ("by_status", &r.by_status),
    ] {
        rows.extend(map.iter().map(|(k, v)| [section.into(), k.clone(), v.to_string()]));
    }
    let m = &r.measures;
    let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    for (name, value) in [
        ("responses", m.responses.to_string()),
        ("activities_with_responses", m.activities_with_responses.to_string()),
        ("methods_used", m.methods_used.to_string()),
        ("levels_used", m.levels_used.to_string()),
        ("feedback_due", m.feedback_due.to_string()),
        ("feedback_on_time", m.feedback_on_time.to_string()),
        ("feedback_on_time_share", opt(m.feedback_on_time_share)),
        ("feedback_overdue", m.feedback_overdue.to_string()),
        ("cost", m.cost.to_string()),
        ("cost_per_response", opt(m.cost_per_response)),
        ("paper_and_phone_survey_cost", m.paper_and_phone_survey_cost.to_string()),
        ("overlap_findings_dismissed", m.overlap_findings_dismissed.to_string()),
        ("debriefs", m.debriefs.to_string()),
        ("external_evaluations", m.external_evaluations.to_string()),
        ("comments", r.remarks.comments.to_string()),
        ("compliments", r.remarks.compliments.to_string()),
        ("complaints", r.remarks.complaints.to_string()),
        ("complaints_resolved", r.remarks.complaints_resolved.to_string()),
    ] {
        rows.push(["measures".into(), name.into(), value]);
    }
    for t in &r.you_said_we_did {
        rows.push([
            "you_said_we_did".into(),
            format!("{}: {}", t.title, t.theme),
            format!("You said: {} We did: {}", t.you_said, t.response),
        ]);
    }
    for t in &r.not_done {
        rows.push([
            "not_done".into(),
            format!("{}: {}", t.title, t.theme),
            format!(
                "You said: {} We did not: {} Because: {}",
                t.you_said,
                t.response,
                t.reason.as_deref().unwrap_or_default()
            ),
        ]);
    }
    for l in &r.learning_points {
        rows.push(["learning_points".into(), l.title.clone(), l.point.clone()]);
    }
    for c in &r.equality.characteristics {
        for k in &c.categories {
            rows.push([
                "equality".into(),
                format!("{}/{}", c.characteristic, k.category),
                k.respondents.map_or_else(|| "suppressed".into(), |n| n.to_string()),
            ]);
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::AreaHierarchy;
    use crate::consultation::{ConsultationInput, ConsultationPlan, CostInput, RegisterContext};
    use crate::equality::{ReportSettings, Tally, equality_report};
    use crate::feedback::FeedbackItem;
    use crate::lifecycle::Status;
    use crate::monitoring::MonitoringScheme;
    use crate::organisation::{Organisation, OrganisationId, OrganisationInput};
    use chrono::Utc;
    use uuid::Uuid;

    fn activity(
        n: u128,
        opens: &str,
        closes: &str,
        methods: &[&str],
        cost: Option<f64>,
        status: Status,
    ) -> Consultation {
        let org = Organisation::parse(
            OrganisationId(Uuid::from_u128(1)),
            OrganisationInput {
                slug: Some("tamworth".into()),
                name: Some("Tamworth".into()),
                kind: Some("council".into()),
                services: vec![],
            },
        )
        .unwrap();
        let plan = ConsultationPlan::parse(
            ConsultationInput {
                organisation: Some("tamworth".into()),
                service: Some("Leisure".into()),
                title: Some(format!("Activity {n}")),
                level: Some(if n % 2 == 0 { "consult" } else { "involve" }.into()),
                methods: methods.iter().map(|m| (*m).to_owned()).collect(),
                opens_on: Some(opens.into()),
                closes_on: Some(closes.into()),
                cost: cost.map(|amount| CostInput {
                    amount: Some(amount),
                    currency: Some("GBP".into()),
                }),
                ..Default::default()
            },
            RegisterContext {
                organisations: &[org],
                areas: &AreaHierarchy::default(),
            },
        )
        .unwrap();
        Consultation {
            id: ConsultationId(Uuid::from_u128(n)),
            organisation_id: OrganisationId(Uuid::from_u128(1)),
            plan,
            recorded_status: status,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            status_history: vec![],
            approval: None,
        }
    }

    fn feedback(published: Option<&str>, items: Vec<FeedbackItem>) -> Feedback {
        Feedback {
            items,
            summary: None,
            published_on: published.map(|d| d.parse().unwrap()),
            updated_at: Utc::now(),
            updated_by: "ann".into(),
        }
    }

    fn item(theme: &str, did: Option<&str>, reason: Option<&str>) -> FeedbackItem {
        FeedbackItem {
            theme: theme.into(),
            you_said: format!("Views on {theme}"),
            we_did: did.map(Into::into),
            we_did_not: reason.map(|_| format!("Kept {theme}")),
            reason: reason.map(Into::into),
            theme_key: None,
            responses: None,
        }
    }

    #[test]
    fn quarters_and_what_they_cover() {
        let q4 = Period::quarter(2026, 4).unwrap();
        assert_eq!(
            (q4.from.to_string(), q4.to.to_string()),
            ("2026-10-01".into(), "2026-12-31".into())
        );
        let q1 = Period::quarter(2026, 1).unwrap();
        assert_eq!(q1.to.to_string(), "2026-03-31");
        assert!(Period::quarter(2026, 5).is_none() && Period::quarter(2026, 0).is_none());
        // Open 20 March to 5 April: in the first and second quarters, not the third.
        let c = activity(9, "2026-03-20", "2026-04-05", &[], None, Status::Approved);
        assert!(q1.covers(&c) && Period::quarter(2026, 2).unwrap().covers(&c));
        assert!(!Period::quarter(2026, 3).unwrap().covers(&c));
        let ends_on_first_day = activity(10, "2026-09-01", "2026-10-01", &[], None, Status::Approved);
        assert!(q4.covers(&ends_on_first_day));
    }

    #[test]
    fn the_review_counts_the_year_and_its_measures() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        // Published on time; published late; closed and overdue; a draft (not public); and one
        // active the year before only.
        let on_time = activity(
            2,
            "2026-01-05",
            "2026-02-05",
            &["online_survey", "postal_survey"],
            Some(1000.0),
            Status::ResultsPublished,
        );
        let late = activity(
            3,
            "2026-03-01",
            "2026-03-31",
            &["public_meeting"],
            Some(600.0),
            Status::ResultsPublished,
        );
        let overdue = activity(
            4,
            "2026-05-01",
            "2026-05-31",
            &["online_survey"],
            None,
            Status::Approved,
        );
        let draft = activity(
            5,
            "2026-06-01",
            "2026-06-30",
            &["focus_group"],
            Some(50.0),
            Status::Draft,
        );
        let old = activity(
            6,
            "2025-01-01",
            "2025-02-01",
            &["online_survey"],
            Some(99.0),
            Status::ResultsPublished,
        );
        let f_on_time = feedback(
            Some("2026-03-01"),
            vec![
                item("Pool", Some("Longer hours"), None),
                item("Gym", None, Some("Costs")),
            ],
        );
        let f_late = feedback(Some("2026-12-01"), vec![item("Roads", Some("Resurfaced"), None)]);
        let none = RemarkCounts::default();
        let some = RemarkCounts {
            comments: 1,
            compliments: 0,
            complaints: 2,
            complaints_resolved: 1,
        };
        let debrief = Debrief {
            what_worked: Some("Pop-up stalls at the pool".into()),
            what_did_not: None,
            learning_points: vec!["Start the paper survey a week earlier".into()],
            tags: vec![],
            audience_size: None,
            recorded_at: Utc::now(),
            recorded_by: "ann".into(),
        };
        let inputs = [
            ReviewInput {
                consultation: &on_time,
                responses: 300,
                feedback: Some(&f_on_time),
                dismissals: 1,
                debrief: Some(&debrief),
                external: true,
                remarks: &some,
            },
            ReviewInput {
                consultation: &late,
                responses: 100,
                feedback: Some(&f_late),
                dismissals: 0,
                debrief: None,
                external: false,
                remarks: &none,
            },
            ReviewInput {
                consultation: &overdue,
                responses: 0,
                feedback: None,
                dismissals: 2,
                debrief: None,
                external: false,
                remarks: &none,
            },
            ReviewInput {
                consultation: &draft,
                responses: 0,
                feedback: None,
                dismissals: 0,
                debrief: None,
                external: false,
                remarks: &none,
            },
            ReviewInput {
                consultation: &old,
                responses: 40,
                feedback: None,
                dismissals: 0,
                debrief: None,
                external: false,
                remarks: &none,
            },
        ];
        let scheme = MonitoringScheme::census2021().unwrap();
        let equality = equality_report(
            &scheme,
            &Tally::default(),
            &Default::default(),
            &ReportSettings::default(),
            true,
        );
        let r = engagement_review(
            Period::year(2026).unwrap(),
            day("2026-12-31"),
            "tamworth",
            &inputs,
            equality,
        );
        assert_eq!(r.activities, 3);
        assert_eq!(r.by_status["results_published"], 2);
        assert_eq!(r.by_status["closed"], 1);
        assert_eq!(r.by_method["online_survey"], 2);
        assert_eq!(r.measures.methods_used, 3);
        assert_eq!(r.measures.responses, 400);
        assert_eq!(r.measures.activities_with_responses, 2);
        // Due 12 weeks after closing: on time (1 March <= 30 April), late (1 Dec > 23 June), overdue.
        assert_eq!((r.measures.feedback_due, r.measures.feedback_on_time), (3, 1));
        assert_eq!(r.measures.feedback_on_time_share, Some(0.3333));
        assert_eq!(r.measures.feedback_overdue, 1);
        assert_eq!(r.measures.cost, 1600.0);
        assert_eq!(r.measures.cost_per_response, Some(4.0));
        assert_eq!(r.measures.paper_and_phone_survey_cost, 1000.0);
        assert_eq!(r.measures.overlap_findings_dismissed, 3);
        let highlights: Vec<&str> = r.you_said_we_did.iter().map(|t| t.theme.as_str()).collect();
        assert_eq!(highlights, ["Pool", "Roads"]);
        assert_eq!(r.not_done.len(), 1);
        assert_eq!(r.not_done[0].reason.as_deref(), Some("Costs"));
        assert_eq!((r.measures.debriefs, r.measures.external_evaluations), (1, 1));
        assert_eq!(r.learning_points[0].point, "Start the paper survey a week earlier");
        assert_eq!((r.remarks.complaints, r.remarks.complaints_resolved), (2, 1));
        let rows = review_rows(&r);
        assert!(
            rows.iter()
                .any(|row| row[0] == "not_done" && row[2].contains("Because: Costs"))
        );
    }
}
