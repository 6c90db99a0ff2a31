//! What the engine needs to know about an activity.

use crate::area::AreaCode;
use crate::consultation::{Consultation, ConsultationId, ConsultationPlan};
use crate::lifecycle::Status;
use crate::organisation::Slug;
use chrono::NaiveDate;

/// What the engine needs to know about an activity.
#[derive(Debug, Clone, PartialEq)]
pub struct OverlapSubject {
    /// The activity (a nil id for an unsaved plan).
    pub id: ConsultationId,
    /// Owner organisation.
    pub organisation: Slug,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: String,
    /// Topics.
    pub topics: Vec<String>,
    /// Stakeholder groups.
    pub groups: Vec<String>,
    /// Areas.
    pub areas: Vec<AreaCode>,
    /// Opening date.
    pub opens_on: NaiveDate,
    /// Closing date.
    pub closes_on: NaiveDate,
    /// Recorded status.
    pub status: Status,
}

impl OverlapSubject {
    /// From a plan (an unsaved draft or a stored activity).
    pub fn from_plan(id: ConsultationId, plan: &ConsultationPlan, status: Status) -> Self {
        Self {
            id,
            organisation: plan.organisation().clone(),
            title: plan.title().to_owned(),
            summary: plan.summary().unwrap_or_default().to_owned(),
            topics: plan.topics().to_vec(),
            groups: plan.audience().groups.clone(),
            areas: plan.audience().areas.clone(),
            opens_on: plan.opens_on(),
            closes_on: plan.closes_on(),
            status,
        }
    }

    /// From a stored activity.
    pub fn from_consultation(c: &Consultation) -> Self {
        Self::from_plan(c.id, &c.plan, c.recorded_status)
    }

    /// The text scored for subject: the title and topics count twice, the summary once.
    pub(super) fn text(&self) -> String {
        let topics = self.topics.join(" ");
        format!("{} {} {} {} {}", self.title, self.title, topics, topics, self.summary)
    }
}
