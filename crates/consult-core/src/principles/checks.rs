//! How each rule is decided against a plan, with its reason in plain English.

use super::assessment::AssessmentContext;
use super::attestation::Attestation;
use super::framework::{Outcome, Rule, ScopeField};
use crate::catalogue::Channel;
use crate::consultation::ConsultationPlan;
use chrono::NaiveDate;

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
pub(super) fn evaluate(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consultation::{AudienceInput, CostInput};
    use crate::principles::fixtures::*;
    use crate::principles::{ElectionPeriod, FrameworkCatalogue, assess};
    use chrono::DateTime;

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
}
