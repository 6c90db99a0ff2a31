//! Consult's own messages to staff (T 6.4 "Email briefing of Members"; O 5.8, action 25; R24):
//! a councillor's weekly digest of the activities opening, closing and publishing results in
//! their wards, and a coordinator's daily alert of activities waiting for approval and feedback
//! overdue.
//!
//! Each is a list of sections of activities ([`Briefing`]), written into the message as text in
//! GOV.UK Notify's formatting (`#` headings, `*` bullets, a link on the line under an item), so a
//! Notify template shows it as it is, and read back from that text by the e-mail templates
//! ([`Briefing::parse`]). Nothing is sent when there is nothing to say.

use crate::area::AreaHierarchy;
use crate::consultation::Consultation;
use crate::feedback::{feedback_due, feedback_overdue};
use crate::lifecycle::Status;
use crate::outbox::{MessageKey, MessageKind, NewMessage, message_date};
use crate::residents::ContactChannel;
use crate::staff::{StaffRole, StaffUser};
use chrono::{Datelike, NaiveDate, TimeDelta};
use std::collections::BTreeMap;

/// One activity in a briefing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingItem {
    /// The activity's title.
    pub title: String,
    /// What to say of it (its organisation, its dates).
    pub detail: String,
    /// Where to read it, when it has a page: a path on the hub (`/activities/<id>`) until the
    /// message is sent, when [`absolute_links`] puts the hub's address before it.
    pub url: Option<String>,
}

/// A heading and its activities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BriefingSection {
    /// The heading (`Opening this week`).
    pub heading: String,
    /// The activities, in date order.
    pub items: Vec<BriefingItem>,
}

/// A digest or an alert: sections, none empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Briefing {
    /// The sections, in the order they are read.
    pub sections: Vec<BriefingSection>,
}

impl Briefing {
    /// Adds a section unless it has no items.
    fn section(&mut self, heading: &str, items: Vec<BriefingItem>) {
        if !items.is_empty() {
            self.sections.push(BriefingSection {
                heading: heading.to_owned(),
                items,
            });
        }
    }

    /// True when there is nothing to say.
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }

    /// How many activities it names.
    pub fn len(&self) -> usize {
        self.sections.iter().map(|s| s.items.len()).sum()
    }

    /// The text as a message carries it: `# heading`, then `* title: detail` with the link on
    /// the next line, a blank line between sections (GOV.UK Notify's formatting). Line breaks
    /// inside a title or detail become spaces.
    pub fn to_text(&self) -> String {
        let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut out = String::new();
        for (i, s) in self.sections.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str("# ");
            out.push_str(&one_line(&s.heading));
            out.push('\n');
            for item in &s.items {
                out.push_str("* ");
                out.push_str(&one_line(&item.title));
                out.push_str(" — ");
                // The last dash parts title from detail, so the detail has none of its own.
                out.push_str(&one_line(&item.detail).replace('—', "-"));
                out.push('\n');
                if let Some(url) = &item.url {
                    out.push_str("  ");
                    out.push_str(url.trim());
                    out.push('\n');
                }
            }
        }
        out
    }

    /// Reads the text [`Briefing::to_text`] wrote. Lines it does not recognise are skipped.
    pub fn parse(text: &str) -> Briefing {
        let mut b = Briefing::default();
        for line in text.lines() {
            if let Some(heading) = line.strip_prefix("# ") {
                b.sections.push(BriefingSection {
                    heading: heading.trim().to_owned(),
                    items: Vec::new(),
                });
            } else if let Some(item) = line.strip_prefix("* ") {
                let (title, detail) = item.rsplit_once(" — ").unwrap_or((item, ""));
                if let Some(s) = b.sections.last_mut() {
                    s.items.push(BriefingItem {
                        title: title.trim().to_owned(),
                        detail: detail.trim().to_owned(),
                        url: None,
                    });
                }
            } else if let Some(url) = line
                .strip_prefix("  ")
                .map(str::trim)
                .filter(|u| u.starts_with("http") || u.starts_with('/'))
            {
                if let Some(item) = b.sections.last_mut().and_then(|s| s.items.last_mut()) {
                    item.url = Some(url.to_owned());
                }
            }
        }
        b
    }
}

/// The week a digest covers: Monday to Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DigestWeek {
    /// Its Monday.
    pub starts_on: NaiveDate,
}

impl DigestWeek {
    /// The week `day` falls in.
    pub fn containing(day: NaiveDate) -> Self {
        let back = i64::from(day.weekday().num_days_from_monday());
        Self {
            starts_on: day - TimeDelta::days(back),
        }
    }

    /// Its Sunday.
    pub fn ends_on(self) -> NaiveDate {
        self.starts_on + TimeDelta::days(6)
    }

    /// Its ISO name (`2026-W50`), part of each digest's idempotency key.
    pub fn iso(self) -> String {
        let w = self.starts_on.iso_week();
        format!("{}-W{:02}", w.year(), w.week())
    }

    /// As a message names it: `7 to 13 December 2026`.
    pub fn label(self) -> String {
        let (a, b) = (self.starts_on, self.ends_on());
        if a.year() != b.year() {
            format!("{} to {}", message_date(a), message_date(b))
        } else if a.month() != b.month() {
            format!("{} to {}", a.format("%-d %B"), message_date(b))
        } else {
            format!("{} to {}", a.format("%-d"), message_date(b))
        }
    }
}

/// An activity as a briefing reads it: the activity and its owner's name.
#[derive(Debug, Clone, Copy)]
pub struct BriefingActivity<'a> {
    /// The activity (with its history).
    pub activity: &'a Consultation,
    /// Its owner organisation's name.
    pub organisation: &'a str,
}

fn activity_path(c: &Consultation) -> String {
    format!("/activities/{}", c.id)
}

/// A briefing's text with its links made absolute: each item's path (`/activities/<id>`)
/// prefixed with the hub's address, as the message is sent (so a queued briefing links to
/// wherever the hub is when it goes).
pub fn absolute_links(text: &str, base: &str) -> String {
    let base = base.trim_end_matches('/');
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        match line.strip_prefix("  /") {
            Some(path) => {
                out.push_str("  ");
                out.push_str(base);
                out.push('/');
                out.push_str(path);
            }
            None => out.push_str(line),
        }
    }
    out
}

/// Whether an activity touches any of `wards`: one of its areas is a ward, contains one or lies
/// within one; an activity for the whole partnership (no areas) touches every ward.
pub fn touches_wards(c: &Consultation, wards: &[crate::area::AreaCode], areas: &AreaHierarchy) -> bool {
    let own = &c.plan.audience().areas;
    own.is_empty() || own.iter().any(|a| wards.iter().any(|w| areas.overlap(a, w)))
}

/// When an activity's results were published, if they were.
fn results_published_on(c: &Consultation) -> Option<NaiveDate> {
    c.status_history
        .iter()
        .rev()
        .find(|h| h.to == Status::ResultsPublished)
        .map(|h| h.at.date_naive())
}

/// A councillor's digest for `week`: public activities touching their wards that open or close
/// in the week, and those whose results were published in the week before. `None` when there is
/// nothing, or they do not receive digests.
pub fn councillor_digest(
    user: &StaffUser,
    week: DigestWeek,
    activities: &[BriefingActivity<'_>],
    areas: &AreaHierarchy,
) -> Option<NewMessage> {
    if !user.receives(MessageKind::Digest) || user.wards.is_empty() {
        return None;
    }
    let (from, to) = (week.starts_on, week.ends_on());
    let in_week = |d: NaiveDate| d >= from && d <= to;
    let mut mine: Vec<&BriefingActivity<'_>> = activities
        .iter()
        .filter(|a| a.activity.status_on(from).is_public() && touches_wards(a.activity, &user.wards, areas))
        .collect();
    mine.sort_by_key(|a| (a.activity.plan.opens_on(), a.activity.plan.title().to_owned()));
    let item = |a: &BriefingActivity<'_>, detail: String| BriefingItem {
        title: a.activity.plan.title().to_owned(),
        detail: format!("{}, {detail}", a.organisation),
        url: Some(activity_path(a.activity)),
    };
    let mut b = Briefing::default();
    let opening = mine
        .iter()
        .filter(|a| in_week(a.activity.plan.opens_on()))
        .map(|a| {
            let p = &a.activity.plan;
            item(
                a,
                format!(
                    "open from {} to {}",
                    message_date(p.opens_on()),
                    message_date(p.closes_on())
                ),
            )
        })
        .collect();
    b.section("Opening this week", opening);
    let mut closing: Vec<_> = mine
        .iter()
        .filter(|a| in_week(a.activity.plan.closes_on()) && a.activity.status_on(from) != Status::ResultsPublished)
        .collect();
    closing.sort_by_key(|a| a.activity.plan.closes_on());
    let closing = closing
        .into_iter()
        .map(|a| item(a, format!("closes on {}", message_date(a.activity.plan.closes_on()))))
        .collect();
    b.section("Closing this week", closing);
    let last_week = (from - TimeDelta::days(7), from - TimeDelta::days(1));
    let published = mine
        .iter()
        .filter_map(|a| {
            let on = results_published_on(a.activity)?;
            (on >= last_week.0 && on <= last_week.1)
                .then(|| item(a, format!("results published on {}", message_date(on))))
        })
        .collect();
    b.section("Results published last week", published);
    if b.is_empty() {
        return None;
    }
    Some(NewMessage {
        key: MessageKey::digest(user.id, &week.iso()),
        kind: MessageKind::Digest,
        channel: ContactChannel::Email,
        recipient: user.email.clone(),
        resident: None,
        staff: Some(user.id),
        consultation: None,
        personalisation: BTreeMap::from([("period".to_owned(), week.label()), ("digest".to_owned(), b.to_text())]),
    })
}

/// A coordinator's alert on `today`: activities submitted and waiting for approval, and
/// activities whose feedback is overdue ([`feedback_overdue`]), of every organisation for the
/// partnership's coordinators and of their own for an organisation's. `None` when there is
/// nothing, or they do not receive alerts.
pub fn coordinator_alert(
    user: &StaffUser,
    today: NaiveDate,
    activities: &[BriefingActivity<'_>],
) -> Option<NewMessage> {
    if !user.receives(MessageKind::Alert) {
        return None;
    }
    let theirs = |a: &&BriefingActivity<'_>| {
        user.role == StaffRole::Coordinator || Some(a.activity.organisation_id) == user.organisation
    };
    let mut waiting: Vec<_> = activities
        .iter()
        .filter(theirs)
        .filter(|a| a.activity.recorded_status == Status::Submitted)
        .map(|a| {
            let since = a
                .activity
                .status_history
                .iter()
                .rev()
                .find(|h| h.to == Status::Submitted)
                .map(|h| h.at.date_naive())
                .unwrap_or(today);
            let opens = a.activity.plan.opens_on();
            (
                since,
                BriefingItem {
                    title: a.activity.plan.title().to_owned(),
                    detail: format!(
                        "{}, submitted on {}, due to open on {} (id {})",
                        a.organisation,
                        message_date(since),
                        message_date(opens),
                        a.activity.id
                    ),
                    url: None,
                },
            )
        })
        .collect();
    waiting.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.title.cmp(&y.1.title)));
    let mut overdue: Vec<_> = activities
        .iter()
        .filter(theirs)
        .filter(|a| feedback_overdue(a.activity, today))
        .map(|a| {
            let p = &a.activity.plan;
            (
                feedback_due(p),
                BriefingItem {
                    title: p.title().to_owned(),
                    detail: format!(
                        "{}, closed on {}, feedback was due on {}",
                        a.organisation,
                        message_date(p.closes_on()),
                        message_date(feedback_due(p))
                    ),
                    url: Some(activity_path(a.activity)),
                },
            )
        })
        .collect();
    overdue.sort_by(|x, y| x.0.cmp(&y.0).then_with(|| x.1.title.cmp(&y.1.title)));
    let mut b = Briefing::default();
    b.section("Waiting for approval", waiting.into_iter().map(|(_, i)| i).collect());
    b.section("Feedback overdue", overdue.into_iter().map(|(_, i)| i).collect());
    if b.is_empty() {
        return None;
    }
    Some(NewMessage {
        key: MessageKey::alert(user.id, today),
        kind: MessageKind::Alert,
        channel: ContactChannel::Email,
        recipient: user.email.clone(),
        resident: None,
        staff: Some(user.id),
        consultation: None,
        personalisation: BTreeMap::from([
            ("date".to_owned(), message_date(today)),
            ("alert".to_owned(), b.to_text()),
        ]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weeks_run_monday_to_sunday() {
        let w = DigestWeek::containing(day("2026-12-02"));
        assert_eq!((w.starts_on, w.ends_on()), (day("2026-11-30"), day("2026-12-06")));
        assert_eq!(w.iso(), "2026-W49");
        assert_eq!(w.label(), "30 November to 6 December 2026");
        assert_eq!(DigestWeek::containing(day("2026-12-06")), w);
        assert_eq!(
            DigestWeek::containing(day("2026-12-07")).label(),
            "7 to 13 December 2026"
        );
        assert_eq!(
            DigestWeek::containing(day("2027-01-01")).label(),
            "28 December 2026 to 3 January 2027"
        );
    }

    #[test]
    fn links_are_made_absolute_when_sent() {
        let b = Briefing {
            sections: vec![BriefingSection {
                heading: "Opening this week".into(),
                items: vec![BriefingItem {
                    title: "Parks".into(),
                    detail: "Tamworth, open from 5 January 2026".into(),
                    url: Some("/activities/42".into()),
                }],
            }],
        };
        let text = absolute_links(&b.to_text(), "https://consult.example.gov.uk/");
        assert_eq!(
            text,
            "# Opening this week\n* Parks — Tamworth, open from 5 January 2026\n  https://consult.example.gov.uk/activities/42\n"
        );
        assert_eq!(
            Briefing::parse(&text).sections[0].items[0].url.as_deref(),
            Some("https://consult.example.gov.uk/activities/42")
        );
    }

    fn text() -> impl Strategy<Value = String> {
        "[A-Za-z0-9 ,.()'&—-]{1,40}".prop_filter("words", |s| !s.trim().is_empty())
    }

    proptest! {
        #[test]
        fn text_reads_back_as_written(
            sections in proptest::collection::vec(
                (text(), proptest::collection::vec((text(), text(), proptest::option::of("[a-z0-9]{1,12}")), 1..4)),
                1..4,
            )
        ) {
            let one = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
            let b = Briefing {
                sections: sections
                    .into_iter()
                    .map(|(h, items)| BriefingSection {
                        heading: one(&h),
                        items: items
                            .into_iter()
                            .map(|(t, d, u)| BriefingItem {
                                title: one(&t),
                                detail: one(&d).replace('—', "-"),
                                url: u.map(|u| format!("/activities/{u}")),
                            })
                            .collect(),
                    })
                    .collect(),
            };
            prop_assert_eq!(Briefing::parse(&b.to_text()), b);
        }
    }
}
