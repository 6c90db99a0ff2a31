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
    fn survey_exports_map_labels_and_report_every_bad_row() {
        let header: Vec<String> = ["Respondent", "Your comments", "What is your sex?", "Age"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let row = |a: &str, b: &str, c: &str| vec!["1".to_owned(), a.to_owned(), b.to_owned(), c.to_owned()];
        let mapping = ColumnMapping {
            comments: Some("Your comments".into()),
            channel: None,
            columns: [
                ("sex".to_owned(), "What is your sex?".to_owned()),
                ("age_band".to_owned(), "Age".to_owned()),
            ]
            .into(),
        };
        let ok = import_responses(
            &scheme(),
            &mapping,
            &header,
            &[
                row("More buses", "Female", "25 to 34"),
                row("", "Prefer not to say", "ancient"),
                row("Fine", "", ""),
            ],
            ConsultationId(Uuid::nil()),
            "Olu",
            DateTime::default(),
            ImportMode::AllOrNothing,
            Uuid::now_v7,
        );
        let err = ok.unwrap_err();
        let fields: Vec<&str> = err.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["line[3].monitoring.age_band"], "{err}");
        let good = import_responses(
            &scheme(),
            &mapping,
            &header,
            &[
                row("More buses", "Female", "25 to 34"),
                row("", "prefer_not_to_say", "75+"),
                row("Fine", "", ""),
            ],
            ConsultationId(Uuid::nil()),
            "Olu",
            DateTime::default(),
            ImportMode::AllOrNothing,
            Uuid::now_v7,
        )
        .unwrap()
        .0;
        assert_eq!(good[0].monitoring["sex"], "female");
        assert_eq!(good[0].monitoring["age_band"], "25-34");
        assert_eq!(good[1].monitoring["sex"], PREFER_NOT_TO_SAY);
        assert!(good[2].monitoring.is_empty());
        let bad_mapping = ColumnMapping {
            columns: [("sex".to_owned(), "Gender".to_owned())].into(),
            ..mapping
        };
        let e = scheme().responses_from_table(&bad_mapping, &header, &[]).unwrap_err();
        assert_eq!(e.errors()[0].field, "mapping.columns.sex");
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

/// How the columns of a survey tool's CSV export map onto a response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ColumnMapping {
    /// The column holding comments.
    pub comments: Option<String>,
    /// The channel of every row (default `online`).
    pub channel: Option<String>,
    /// Characteristic to column, e.g. `{ "sex": "Q12 What is your sex?" }`.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

fn normalise_answer(s: &str) -> String {
    s.trim().to_lowercase().replace(['-', '_'], " ")
}

impl MonitoringScheme {
    /// The category a survey answer means: its key or its label (case and punctuation
    /// insensitive), or "prefer not to say"; `None` for an empty answer.
    pub fn category_for(&self, characteristic: &str, answer: &str) -> Result<Option<String>, String> {
        let a = normalise_answer(answer);
        if a.is_empty() {
            return Ok(None);
        }
        if a == "prefer not to say" {
            return Ok(Some(PREFER_NOT_TO_SAY.to_owned()));
        }
        let c = self
            .characteristics
            .iter()
            .find(|c| c.key == characteristic)
            .ok_or_else(|| format!("unknown characteristic `{characteristic}`"))?;
        c.categories
            .iter()
            .find(|k| normalise_answer(&k.key) == a || normalise_answer(&k.label) == a)
            .map(|k| Some(k.key.clone()))
            .ok_or_else(|| format!("`{answer}` is not a category of {characteristic}"))
    }

    /// Turns a survey export into response inputs: every row checked, every problem reported by
    /// its line in the file (`line[4].monitoring.sex`; the header is line 1).
    pub fn responses_from_table(
        &self,
        mapping: &ColumnMapping,
        header: &[String],
        rows: &[Vec<String>],
    ) -> Result<Vec<ResponseInput>, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let col = |name: &str| header.iter().position(|h| h.trim() == name.trim());
        let comments = match &mapping.comments {
            Some(name) => match col(name) {
                Some(i) => Some(i),
                None => {
                    e.push("mapping.comments", format!("no column `{name}`"));
                    None
                }
            },
            None => None,
        };
        let mut columns = Vec::new();
        for (characteristic, name) in &mapping.columns {
            if !self.characteristics.iter().any(|c| &c.key == characteristic) {
                e.push(
                    format!("mapping.columns.{characteristic}"),
                    format!("unknown characteristic `{characteristic}`"),
                );
            } else if let Some(i) = col(name) {
                columns.push((characteristic.clone(), i));
            } else {
                e.push(
                    format!("mapping.columns.{characteristic}"),
                    format!("no column `{name}`"),
                );
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        let mut out = Vec::with_capacity(rows.len());
        for (r, row) in rows.iter().enumerate() {
            let mut monitoring = BTreeMap::new();
            for (characteristic, i) in &columns {
                match self.category_for(characteristic, row.get(*i).map(String::as_str).unwrap_or_default()) {
                    Ok(Some(k)) => {
                        monitoring.insert(characteristic.clone(), k);
                    }
                    Ok(None) => {}
                    Err(m) => e.push(format!("line[{}].monitoring.{characteristic}", r + 2), m),
                }
            }
            out.push(ResponseInput {
                monitoring,
                comments: comments
                    .and_then(|i| row.get(i))
                    .cloned()
                    .filter(|c| !c.trim().is_empty()),
                channel: Some(mapping.channel.clone().unwrap_or_else(|| "online".into())),
            });
        }
        e.into_result(out)
    }
}

/// What an import does with bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// Store nothing unless every row is valid.
    #[default]
    AllOrNothing,
    /// Store the valid rows and report the others.
    GoodRows,
}

/// Validates a survey export as responses to one activity, entered by `officer`. Every bad row
/// is reported with its line (`line[n]...`, the header being line 1). In `AllOrNothing` mode any
/// bad row is an error; in `GoodRows` mode the valid responses come back with the report of the
/// others. `next_id` makes each response's id (core makes no ids itself).
#[allow(clippy::too_many_arguments)]
pub fn import_responses(
    scheme: &MonitoringScheme,
    mapping: &ColumnMapping,
    header: &[String],
    rows: &[Vec<String>],
    consultation_id: ConsultationId,
    officer: &str,
    received_at: DateTime<Utc>,
    mode: ImportMode,
    mut next_id: impl FnMut() -> Uuid,
) -> Result<(Vec<Response>, ValidationErrors), ValidationErrors> {
    let mut e = ValidationErrors::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let line = format!("line[{}]", i + 2);
        let input = match scheme.responses_from_table(mapping, header, std::slice::from_ref(row)) {
            Ok(mut one) => one.pop(),
            Err(errors) => {
                // Mapping errors concern every row: report them once, as they are.
                if errors.errors().iter().any(|x| x.field.starts_with("mapping")) {
                    return Err(errors);
                }
                for x in errors.into_errors() {
                    e.push(x.field.replacen("line[2]", &line, 1), x.message);
                }
                None
            }
        };
        let Some(input) = input else { continue };
        match Response::parse(next_id(), consultation_id, input, scheme, Some(officer), received_at) {
            Ok(r) => out.push(r),
            Err(errors) => e.extend_prefixed(&line, errors),
        }
    }
    if mode == ImportMode::AllOrNothing && !e.is_empty() {
        return Err(e);
    }
    Ok((out, e))
}
