//! Duplication detection: which activities, across the partnership, overlap with a plan in
//! subject, audience and time (REFERENCE section 4).
//!
//! [`OverlapIndex`] is an incremental inverted index over the register: English tokens with
//! stop words removed and Snowball stemming, weighted TF-IDF cosine for the subject; audience
//! overlap from stakeholder groups and areas (with the area hierarchy, so a county-wide activity
//! overlaps a district one inside it); time overlap from the open windows. Each finding shows the
//! three factor scores, the combined score, a suggestion and the reasons.
//!
//! The engine by concern: [`text`] splits text into stemmed terms, [`subject`] is what the engine
//! knows of an activity, [`config`] its thresholds and weights, [`finding`] what a query returns
//! (and how a finding is dismissed), [`score`] the audience and time factors, [`index`] the
//! inverted index and its upkeep, and [`query`] the two-pass search over it.

mod config;
mod finding;
mod index;
mod query;
mod score;
mod subject;
mod text;

pub use config::{OverlapConfig, OverlapContext};
pub use finding::{Dismissal, OverlapFinding, Suggestion};
pub use index::OverlapIndex;
pub use subject::OverlapSubject;
pub use text::Analyzer;
