//! Equality monitoring: schemes of protected characteristics and their categories as versioned
//! data (the Census 2021 default, so answers compare directly with census baselines), and
//! responses with their monitoring answers, snapshotted as given (REFERENCE section 3).

use crate::consultation::ConsultationId;
use crate::error::ValidationErrors;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The answer every question allows; kept as its own category and left out of shares.
pub const PREFER_NOT_TO_SAY: &str = "prefer_not_to_say";

/// One category of a characteristic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// API key, e.g. `indian`.
    pub key: String,
    /// Label shown to respondents.
    pub label: String,
    /// The high-level group it rolls up to (ethnic group: `asian`, `black`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

/// A monitored characteristic and its categories.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Characteristic {
    /// API key, e.g. `ethnic_group`.
    pub key: String,
    /// Question label.
    pub label: String,
    /// Categories, in the order shown (`prefer_not_to_say` is always allowed as well).
    pub categories: Vec<Category>,
}

/// A versioned monitoring scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MonitoringScheme {
    /// Key, e.g. `census2021`.
    pub key: String,
    /// Version.
    pub version: u32,
    /// Name.
    pub name: String,
    /// Source.
    pub source: String,
    /// Characteristics.
    pub characteristics: Vec<Characteristic>,
}

impl MonitoringScheme {
    /// The default scheme: Census 2021 categories (API.md "Monitoring categories").
    pub fn census2021() -> Result<MonitoringScheme, String> {
        serde_json::from_str(include_str!("../schemes/census2021.json")).map_err(|e| e.to_string())
    }

    /// `key@version`, as stored with each answer.
    pub fn id(&self) -> String {
        format!("{}@{}", self.key, self.version)
    }

    /// Checks answers: each names a characteristic of the scheme and one of its categories (or
    /// `prefer_not_to_say`). Every unknown one is reported, under `monitoring.<characteristic>`.
    pub fn parse_answers(
        &self,
        answers: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ValidationErrors> {
        let mut e = ValidationErrors::new();
        for (characteristic, category) in &answers {
            let field = format!("monitoring.{characteristic}");
            match self.characteristics.iter().find(|c| &c.key == characteristic) {
                None => e.push(field, format!("unknown characteristic `{characteristic}`")),
                Some(c) => {
                    if category != PREFER_NOT_TO_SAY && !c.categories.iter().any(|k| &k.key == category) {
                        e.push(field, format!("unknown category `{category}` for {characteristic}"));
                    }
                }
            }
        }
        e.into_result(answers)
    }
}

/// How a response arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResponseChannel {
    /// Online, by the respondent.
    Online,
    /// A paper form, entered by an officer.
    Paper,
    /// By email, entered by an officer.
    Email,
    /// At an event, entered by an officer.
    Event,
    /// By telephone, entered by an officer.
    Phone,
}

impl ResponseChannel {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Paper => "paper",
            Self::Email => "email",
            Self::Event => "event",
            Self::Phone => "phone",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Online, Self::Paper, Self::Email, Self::Event, Self::Phone]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A response as sent (API.md "Response").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResponseInput {
    /// Monitoring answers, `{ "characteristic": "category" }`; all optional.
    #[serde(default)]
    pub monitoring: BTreeMap<String, String>,
    /// Comments.
    pub comments: Option<String>,
    /// How it arrived (default online; other channels are recorded by officers).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<ResponseChannel>))]
    pub channel: Option<String>,
}

/// A stored response: no contact details, ever; the monitoring answers as given, with the
/// scheme they answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// Identifier.
    pub id: Uuid,
    /// The activity.
    pub consultation_id: ConsultationId,
    /// How it arrived.
    pub channel: ResponseChannel,
    /// Comments.
    pub comments: Option<String>,
    /// Monitoring answers.
    pub monitoring: BTreeMap<String, String>,
    /// The scheme answered (`census2021@1`).
    pub scheme: String,
    /// When it was received.
    pub received_at: DateTime<Utc>,
    /// The officer who entered it, for offline channels.
    pub recorded_by: Option<String>,
}

impl Response {
    /// Validates a response. `officer` is the name of the officer entering it, if any: only
    /// officers may record channels other than online.
    pub fn parse(
        id: Uuid,
        consultation_id: ConsultationId,
        input: ResponseInput,
        scheme: &MonitoringScheme,
        officer: Option<&str>,
        received_at: DateTime<Utc>,
    ) -> Result<Response, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let channel = match input.channel.as_deref() {
            None => Some(ResponseChannel::Online),
            Some(c) => match ResponseChannel::parse(c) {
                Some(ResponseChannel::Online) => Some(ResponseChannel::Online),
                Some(other) if officer.is_some() => Some(other),
                Some(other) => {
                    e.push(
                        "channel",
                        format!("{} responses are entered by officers; respond online", other.as_str()),
                    );
                    None
                }
                None => {
                    e.push(
                        "channel",
                        format!("unknown channel `{c}`; expected online, paper, email, event or phone"),
                    );
                    None
                }
            },
        };
        let comments = crate::text::optional_text(&mut e, "comments", input.comments.as_deref(), 20_000);
        let monitoring = match scheme.parse_answers(input.monitoring) {
            Ok(m) => m,
            Err(errors) => {
                for err in errors.into_errors() {
                    e.push(err.field, err.message);
                }
                BTreeMap::new()
            }
        };
        if comments.is_none() && monitoring.is_empty() {
            e.push("comments", "a response needs comments or monitoring answers");
        }
        match channel {
            Some(channel) if e.is_empty() => Ok(Response {
                id,
                consultation_id,
                channel,
                comments,
                monitoring,
                scheme: scheme.id(),
                received_at,
                recorded_by: officer
                    .filter(|_| channel != ResponseChannel::Online)
                    .map(str::to_owned),
            }),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scheme() -> MonitoringScheme {
        MonitoringScheme::census2021().unwrap()
    }

    #[test]
    fn the_census_scheme_has_the_api_categories() {
        let s = scheme();
        let keys: Vec<&str> = s.characteristics.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "sex",
                "age_band",
                "ethnic_group",
                "religion",
                "disability",
                "sexual_orientation",
                "gender_identity"
            ]
        );
        let ethnic = &s.characteristics[2];
        assert_eq!(ethnic.categories.len(), 19);
        let groups: std::collections::BTreeSet<&str> =
            ethnic.categories.iter().filter_map(|c| c.group.as_deref()).collect();
        assert_eq!(
            groups.into_iter().collect::<Vec<_>>(),
            ["asian", "black", "mixed", "other", "white"]
        );
    }

    #[test]
    fn answers_are_checked_against_the_scheme() {
        let mut a = BTreeMap::new();
        a.insert("sex".to_owned(), "female".to_owned());
        a.insert("religion".to_owned(), PREFER_NOT_TO_SAY.to_owned());
        assert!(scheme().parse_answers(a.clone()).is_ok());
        a.insert("star_sign".to_owned(), "leo".to_owned());
        a.insert("age_band".to_owned(), "ancient".to_owned());
        let fields: Vec<String> = scheme()
            .parse_answers(a)
            .unwrap_err()
            .into_errors()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["monitoring.age_band", "monitoring.star_sign"]);
    }

    #[test]
    fn only_officers_record_offline_channels() {
        let input = |channel: &str| ResponseInput {
            comments: Some("Keep the library open on Saturdays".into()),
            channel: Some(channel.into()),
            ..Default::default()
        };
        let id = ConsultationId(Uuid::nil());
        let at = DateTime::default();
        let public = Response::parse(Uuid::nil(), id, input("paper"), &scheme(), None, at).unwrap_err();
        assert_eq!(public.errors()[0].field, "channel");
        let entered = Response::parse(Uuid::nil(), id, input("paper"), &scheme(), Some("Olu"), at).unwrap();
        assert_eq!(
            (entered.channel, entered.recorded_by.as_deref()),
            (ResponseChannel::Paper, Some("Olu"))
        );
        let empty = Response::parse(Uuid::nil(), id, ResponseInput::default(), &scheme(), None, at).unwrap_err();
        assert_eq!(empty.errors()[0].field, "comments");
    }
}
