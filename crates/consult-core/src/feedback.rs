//! "You said, we did": the feedback an activity's owner publishes after it closes, theme by
//! theme, with reasons for what was not done (T 6.5, S "Integrity" and action 12). Publishing it
//! moves the activity to `results_published`; feedback is due by a date (closing + 12 weeks
//! unless the plan says otherwise) and flagged overdue after it.

use crate::consultation::{Consultation, ConsultationPlan};
use crate::error::ValidationErrors;
use crate::lifecycle::{Actor, Status, StatusChange, TransitionError, scheduled_changes};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Weeks after closing that feedback is due when the plan does not say.
pub const FEEDBACK_DUE_WEEKS: u64 = 12;

/// One theme as sent: what people said and either what was done, or what was not and why.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeedbackItemInput {
    /// The theme, e.g. "Opening hours".
    pub theme: Option<String>,
    /// What people said.
    pub you_said: Option<String>,
    /// What the council did (or will do) about it.
    pub we_did: Option<String>,
    /// What the council did not do.
    pub we_did_not: Option<String>,
    /// Why not (required with `we_did_not`).
    pub reason: Option<String>,
    /// The key of a theme of the activity's codeframe this item answers: the published
    /// feedback then shows how many responses raised it.
    pub theme_key: Option<String>,
}

/// Feedback as sent (`PUT /consultations/{id}/feedback`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// The themes.
    #[serde(default)]
    pub items: Vec<FeedbackItemInput>,
    /// A summary of the findings, for the results library.
    pub summary: Option<String>,
    /// Publish now: the activity moves to `results_published` (it must have closed).
    #[serde(default)]
    pub publish: bool,
}

/// One theme of published or draft feedback. Exactly one of `we_did` and `we_did_not` is set;
/// `reason` goes with `we_did_not`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedbackItem {
    /// The theme.
    pub theme: String,
    /// What people said.
    pub you_said: String,
    /// What was done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub we_did: Option<String>,
    /// What was not done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub we_did_not: Option<String>,
    /// Why not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The codeframe theme this item answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme_key: Option<String>,
    /// How many responses raised `theme_key`, worked out when read (never stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses: Option<RaisedBy>,
}

/// How many responses raised a feedback item's theme: coded with it, or with a theme nested
/// under it, in any free-text answer (each response once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RaisedBy {
    /// The count; null when hidden.
    pub count: Option<u64>,
    /// True when the public figure is below 5 and so not shown ("fewer than 5").
    pub hidden: bool,
    /// True for the public figure, which carries the disclosure noise of public counts; staff
    /// of the owner and coordinators see the exact count.
    pub noisy: bool,
}

impl FeedbackItem {
    /// True when this theme records something not done.
    pub fn not_done(&self) -> bool {
        self.we_did_not.is_some()
    }
}

/// An activity's feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Feedback {
    /// The themes.
    pub items: Vec<FeedbackItem>,
    /// Summary of the findings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// When it was published (none while a draft).
    pub published_on: Option<NaiveDate>,
    /// When it was last changed.
    pub updated_at: DateTime<Utc>,
    /// Who last changed it.
    pub updated_by: String,
}

impl Feedback {
    /// Validates feedback as sent, keeping the publication date of `previous` (corrections after
    /// publishing keep the date it was first published). Every problem is reported by field
    /// (`items[2].reason`).
    pub fn parse(
        input: &FeedbackInput,
        previous: Option<&Feedback>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Feedback, ValidationErrors> {
        let mut e = ValidationErrors::new();
        if input.items.len() > 200 {
            e.push("items", "at most 200 themes");
        }
        let mut items = Vec::with_capacity(input.items.len());
        for (i, item) in input.items.iter().enumerate() {
            let f = |name: &str| format!("items[{i}].{name}");
            let theme = crate::text::required_line(&mut e, &f("theme"), item.theme.as_deref(), 200);
            let you_said = required_text(&mut e, &f("you_said"), item.you_said.as_deref());
            let we_did = crate::text::optional_text(&mut e, &f("we_did"), item.we_did.as_deref(), 5000);
            let we_did_not = crate::text::optional_text(&mut e, &f("we_did_not"), item.we_did_not.as_deref(), 5000);
            let reason = crate::text::optional_text(&mut e, &f("reason"), item.reason.as_deref(), 5000);
            let theme_key = match item.theme_key.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                None => None,
                Some(k) => match crate::questionnaire::key_problem(k) {
                    Some(p) => {
                        e.push(f("theme_key"), p);
                        None
                    }
                    None => Some(k.to_owned()),
                },
            };
            match (&we_did, &we_did_not) {
                (None, None) => e.push(f("we_did"), "say what was done, or what was not (`we_did_not`) and why"),
                (Some(_), Some(_)) => e.push(f("we_did_not"), "give either `we_did` or `we_did_not`, not both"),
                (None, Some(_)) if reason.is_none() => {
                    e.push(f("reason"), "say why it was not done: people are owed a reason")
                }
                (Some(_), None) if reason.is_some() => e.push(f("reason"), "a reason goes with `we_did_not`"),
                _ => {}
            }
            if let (Some(theme), Some(you_said)) = (theme, you_said) {
                items.push(FeedbackItem {
                    theme,
                    you_said,
                    we_did,
                    we_did_not,
                    reason,
                    theme_key,
                    responses: None,
                });
            }
        }
        let summary = crate::text::optional_text(&mut e, "summary", input.summary.as_deref(), 20_000);
        if input.publish && input.items.is_empty() {
            e.push(
                "items",
                "publish at least one theme: what people said and what was done",
            );
        }
        e.into_result(Feedback {
            items,
            summary,
            published_on: previous.and_then(|p| p.published_on),
            updated_at: now,
            updated_by: actor.name.clone(),
        })
    }
}

impl Feedback {
    /// Checks that every item's `theme_key` names a theme of `codeframe` (the activity's):
    /// `items[i].theme_key` otherwise.
    pub fn check_theme_keys(&self, codeframe: &[crate::coding::Theme]) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        for (i, item) in self.items.iter().enumerate() {
            if let Some(k) = &item.theme_key {
                if !codeframe.iter().any(|t| &t.key == k) {
                    e.push(
                        format!("items[{i}].theme_key"),
                        format!("no theme `{k}` in this activity's codeframe"),
                    );
                }
            }
        }
        e.into_result(())
    }
}

fn required_text(e: &mut ValidationErrors, field: &str, value: Option<&str>) -> Option<String> {
    let v = crate::text::optional_text(e, field, value, 5000);
    if v.is_none() && value.is_none_or(|v| v.trim().is_empty()) {
        e.push(field, "is required");
    }
    v
}

/// When an activity's feedback is due: the plan's date, else closing + 12 weeks.
pub fn feedback_due(plan: &ConsultationPlan) -> NaiveDate {
    plan.feedback_due_on().unwrap_or_else(|| {
        plan.closes_on()
            .checked_add_days(Days::new(FEEDBACK_DUE_WEEKS * 7))
            .unwrap_or(plan.closes_on())
    })
}

/// True when feedback is overdue on `today`: the activity has closed without publishing its
/// results and the due date has passed (feedback due today is not yet overdue).
pub fn feedback_overdue(c: &Consultation, today: NaiveDate) -> bool {
    c.status_on(today) == Status::Closed && today > feedback_due(&c.plan)
}

/// Decides publishing feedback: the actor is a coordinator (publishing results is theirs, as
/// every move to `results_published` is: API.md's transitions), it has closed, and the feedback
/// has at least one theme. Returns the status changes to record: the scheduled opening and
/// closing not yet in the history, then the move to `results_published` (nothing when the
/// results were already published: a correction, which is public at once, so also a
/// coordinator's). Officers draft feedback; they do not publish it.
pub fn plan_publication(
    c: &Consultation,
    feedback: &Feedback,
    actor: &Actor,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Vec<StatusChange>, TransitionError> {
    if !actor.is_coordinator() {
        return Err(TransitionError::Forbidden(
            "only a coordinator publishes results or corrects published feedback; officers save drafts".into(),
        ));
    }
    if feedback.items.is_empty() {
        return Err(TransitionError::Invalid(ValidationErrors::single(
            "items",
            "publish at least one theme: what people said and what was done",
        )));
    }
    match c.status_on(today) {
        Status::Closed => {
            let mut changes = scheduled_changes(c.recorded_status, c.plan.opens_on(), c.plan.closes_on(), today);
            changes.push(StatusChange {
                from: Status::Closed,
                to: Status::ResultsPublished,
                at: now,
                by: actor.name.clone(),
                reason: None,
                override_justification: None,
                signer: Some(actor.signer()),
            });
            Ok(changes)
        }
        Status::ResultsPublished | Status::Evaluated => Ok(Vec::new()),
        other => Err(TransitionError::Conflict(format!(
            "feedback is published after an activity closes; this one is {other} (closing {})",
            c.plan.closes_on()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::AreaHierarchy;
    use crate::consultation::{ConsultationId, ConsultationInput, RegisterContext};
    use crate::lifecycle::Role;
    use crate::organisation::{Organisation, OrganisationId, OrganisationInput};
    use uuid::Uuid;

    const OWN: OrganisationId = OrganisationId(Uuid::from_u128(1));

    /// An approved activity open 1 March to 30 April 2026, feedback due as given.
    fn activity(recorded: Status, due: Option<&str>) -> Consultation {
        let org = Organisation::parse(
            OWN,
            OrganisationInput {
                slug: Some("stevenage".into()),
                name: Some("Stevenage Borough Council".into()),
                kind: Some("council".into()),
                services: vec![],
            },
        )
        .unwrap();
        let plan = ConsultationPlan::parse(
            ConsultationInput {
                organisation: Some("stevenage".into()),
                title: Some("Town centre regeneration".into()),
                level: Some("consult".into()),
                opens_on: Some("2026-03-01".into()),
                closes_on: Some("2026-04-30".into()),
                feedback_due_on: due.map(Into::into),
                ..Default::default()
            },
            RegisterContext {
                organisations: &[org],
                areas: &AreaHierarchy::default(),
            },
        )
        .unwrap();
        Consultation {
            id: ConsultationId(Uuid::from_u128(7)),
            organisation_id: OWN,
            plan,
            recorded_status: recorded,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            status_history: vec![],
            approval: None,
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn published(items: usize) -> Feedback {
        Feedback {
            items: (0..items)
                .map(|i| FeedbackItem {
                    theme: format!("Theme {i}"),
                    you_said: "More trees".into(),
                    we_did: Some("Planted 40".into()),
                    we_did_not: None,
                    reason: None,
                    theme_key: None,
                    responses: None,
                })
                .collect(),
            summary: None,
            published_on: None,
            updated_at: Utc::now(),
            updated_by: "ann".into(),
        }
    }

    #[test]
    fn feedback_is_due_twelve_weeks_after_closing_and_overdue_the_day_after() {
        let c = activity(Status::Approved, None);
        assert_eq!(feedback_due(&c.plan), day("2026-07-23"));
        assert!(!feedback_overdue(&c, day("2026-07-23")), "due today is not overdue");
        assert!(feedback_overdue(&c, day("2026-07-24")));
        assert!(!feedback_overdue(&c, day("2026-04-30")), "still open");
        let own_date = activity(Status::Approved, Some("2026-05-31"));
        assert!(feedback_overdue(&own_date, day("2026-06-01")));
        assert!(!feedback_overdue(&own_date, day("2026-05-31")));
        // Published results are never overdue.
        assert!(!feedback_overdue(
            &activity(Status::ResultsPublished, None),
            day("2027-01-01")
        ));
    }

    #[test]
    fn publishing_needs_a_coordinator_and_a_closed_activity_with_a_theme() {
        let officer = Actor {
            name: "ann".into(),
            role: Role::Officer,
            organisation: Some(OWN),
            staff: None,
        };
        let owner = actor();
        let stranger = Actor {
            name: "bob".into(),
            role: Role::Officer,
            organisation: Some(OrganisationId(Uuid::from_u128(2))),
            staff: None,
        };
        let c = activity(Status::Approved, None);
        let now = Utc::now();
        let early = plan_publication(&c, &published(1), &owner, day("2026-04-30"), now);
        assert!(matches!(early, Err(TransitionError::Conflict(_))), "{early:?}");
        let empty = plan_publication(&c, &published(0), &owner, day("2026-05-01"), now);
        assert!(matches!(empty, Err(TransitionError::Invalid(_))), "{empty:?}");
        let other = plan_publication(&c, &published(1), &stranger, day("2026-05-01"), now);
        assert!(matches!(other, Err(TransitionError::Forbidden(_))));
        // The owner organisation's officer drafts; publishing is the coordinator's.
        let own = plan_publication(&c, &published(1), &officer, day("2026-05-01"), now);
        assert!(matches!(own, Err(TransitionError::Forbidden(_))), "{own:?}");
        let correction = plan_publication(
            &activity(Status::ResultsPublished, None),
            &published(2),
            &officer,
            day("2026-06-01"),
            now,
        );
        assert!(
            matches!(correction, Err(TransitionError::Forbidden(_))),
            "{correction:?}"
        );
        // The day after closing: the scheduled opening and closing, then the publication.
        let changes = plan_publication(&c, &published(1), &owner, day("2026-05-01"), now).unwrap();
        let path: Vec<(Status, Status)> = changes.iter().map(|c| (c.from, c.to)).collect();
        assert_eq!(
            path,
            [
                (Status::Approved, Status::Open),
                (Status::Open, Status::Closed),
                (Status::Closed, Status::ResultsPublished)
            ]
        );
        // A correction after publishing changes no status.
        let again = activity(Status::ResultsPublished, None);
        assert!(
            plan_publication(&again, &published(2), &owner, day("2026-06-01"), now)
                .unwrap()
                .is_empty()
        );
    }

    fn actor() -> Actor {
        Actor {
            name: "ann".into(),
            role: Role::Coordinator,
            organisation: None,
            staff: None,
        }
    }

    fn item(theme: &str, did: Option<&str>, did_not: Option<&str>, reason: Option<&str>) -> FeedbackItemInput {
        FeedbackItemInput {
            theme: Some(theme.into()),
            you_said: Some("Open the library on Sundays".into()),
            we_did: did.map(Into::into),
            we_did_not: did_not.map(Into::into),
            reason: reason.map(Into::into),
            theme_key: None,
        }
    }

    #[test]
    fn every_theme_says_what_was_done_or_why_not() {
        let now = Utc::now();
        let input = FeedbackInput {
            items: vec![
                item("Hours", Some("Opened 10-4 on Sundays"), None, None),
                item("Cafe", None, Some("No cafe"), None),
                item("Parking", Some("x"), Some("y"), Some("z")),
                item("Books", None, None, None),
                item("Fine", None, Some("Kept fines"), Some("They fund the mobile library")),
            ],
            summary: None,
            publish: true,
        };
        let e = Feedback::parse(&input, None, &actor(), now).unwrap_err();
        let fields: Vec<&str> = e.errors().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["items[1].reason", "items[2].we_did_not", "items[3].we_did"]);
        let ok = Feedback::parse(
            &FeedbackInput {
                items: vec![input.items[0].clone(), input.items[4].clone()],
                ..input.clone()
            },
            None,
            &actor(),
            now,
        )
        .unwrap();
        assert!(ok.items[1].not_done() && !ok.items[0].not_done());
        let empty = FeedbackInput {
            items: vec![],
            summary: None,
            publish: true,
        };
        assert_eq!(
            Feedback::parse(&empty, None, &actor(), now).unwrap_err().errors()[0].field,
            "items"
        );
    }
}
