//! Equality monitoring: schemes of protected characteristics and their categories as versioned
//! data (the Census 2021 default, so answers compare directly with census baselines), and
//! responses with their monitoring answers, snapshotted as given (REFERENCE section 3).

use crate::area::{AreaCode, AreaHierarchy};
use crate::consultation::ConsultationId;
use crate::equality::BaselineCounts;
use crate::error::ValidationErrors;
use crate::import::QuestionColumns;
use crate::questionnaire::{CheckedAnswers, Questionnaire};
use crate::residents::ContactChannel;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What no monitoring characteristic's key may begin with: analyses keep groups of their own
/// under such names (the respondents' areas, `@area`), beside the characteristics'.
pub const RESERVED_CHARACTERISTIC_PREFIX: &str = "@";

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
    /// In an organisation's own scheme: the categories of the default (Census 2021) scheme this
    /// category stands for, so baselines and answers given under other schemes roll up to it
    /// (`"16-34"` covers `16-24` and `25-34`). Empty means the default category of the same key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub covers: Vec<String>,
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

/// The key of the default scheme, which every other scheme maps onto.
pub const DEFAULT_SCHEME: &str = "census2021";

/// The id (`key@version`) of the default scheme: what an organisation without its own asks.
pub const DEFAULT_SCHEME_ID: &str = "census2021@1";

/// An organisation's own monitoring scheme as sent: its own bands and merged categories, each
/// saying which default categories it covers. The version is given by the store.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SchemeInput {
    /// Key (lowercase letters, digits, `_` and `-`), e.g. `herefordshire`.
    pub key: Option<String>,
    /// Name.
    pub name: Option<String>,
    /// Source or rationale, e.g. "Census 2021 with small groups merged".
    pub source: Option<String>,
    /// Characteristics with their categories.
    #[serde(default)]
    pub characteristics: Vec<Characteristic>,
}

/// Counts of answers: `characteristic -> category -> respondents`.
pub type AnswerCounts = BTreeMap<String, BTreeMap<String, u64>>;

impl MonitoringScheme {
    /// The default scheme: Census 2021 categories (API.md "Monitoring categories").
    pub fn census2021() -> Result<MonitoringScheme, String> {
        serde_json::from_str(include_str!("../schemes/census2021.json")).map_err(|e| e.to_string())
    }

    /// Checks an organisation's own scheme against the default one (`base`) and gives it
    /// `version`. Every problem is reported: keys unique and well formed, categories covering
    /// only categories of the same characteristic in `base`, each at most once (so roll-ups are
    /// exact), and a category of a characteristic `base` knows either named as in `base` or
    /// saying what it covers.
    pub fn parse_own(
        input: SchemeInput,
        base: &MonitoringScheme,
        version: u32,
    ) -> Result<MonitoringScheme, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let key = crate::text::required_line(&mut e, "key", input.key.as_deref(), 60);
        if let Some(k) = &key {
            if !k
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
            {
                e.push("key", "use lowercase letters, digits, `_` and `-`");
            } else if k == &base.key {
                e.push("key", format!("`{k}` is the built-in scheme; choose another key"));
            }
        }
        let name = crate::text::required_line(&mut e, "name", input.name.as_deref(), 200);
        let source = crate::text::optional_line(&mut e, "source", input.source.as_deref(), 500)
            .unwrap_or_else(|| format!("own scheme mapped onto {}", base.id()));
        if input.characteristics.is_empty() {
            e.push("characteristics", "give at least one characteristic");
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in input.characteristics.iter().enumerate() {
            let field = format!("characteristics[{i}]");
            if c.key.trim().is_empty() || !seen.insert(c.key.as_str()) {
                e.push(format!("{field}.key"), "must be present and unique");
            } else if c.key.starts_with(RESERVED_CHARACTERISTIC_PREFIX) {
                e.push(
                    format!("{field}.key"),
                    format!("must not begin with `{RESERVED_CHARACTERISTIC_PREFIX}` (kept for the respondents' areas)"),
                );
            }
            if c.label.trim().is_empty() {
                e.push(format!("{field}.label"), "is required");
            }
            if c.categories.is_empty() {
                e.push(format!("{field}.categories"), "give at least one category");
            }
            let known = base.characteristics.iter().find(|b| b.key == c.key);
            let mut keys = std::collections::BTreeSet::new();
            let mut covered: BTreeMap<&str, &str> = BTreeMap::new();
            for (j, k) in c.categories.iter().enumerate() {
                let field = format!("{field}.categories[{j}]");
                if k.key.trim().is_empty() || k.key == PREFER_NOT_TO_SAY || !keys.insert(k.key.as_str()) {
                    e.push(
                        format!("{field}.key"),
                        format!("must be present, unique and not `{PREFER_NOT_TO_SAY}`"),
                    );
                }
                if k.label.trim().is_empty() {
                    e.push(format!("{field}.label"), "is required");
                }
                let Some(known) = known else {
                    if !k.covers.is_empty() {
                        e.push(
                            format!("{field}.covers"),
                            format!("{} has no characteristic `{}` to cover", base.id(), c.key),
                        );
                    }
                    continue;
                };
                let covers: Vec<&str> = if k.covers.is_empty() {
                    vec![k.key.as_str()]
                } else {
                    k.covers.iter().map(String::as_str).collect()
                };
                for cover in covers {
                    if !known.categories.iter().any(|b| b.key == cover) {
                        e.push(
                            format!("{field}.covers"),
                            format!("`{cover}` is not a category of {} in {}", c.key, base.id()),
                        );
                    } else if let Some(other) = covered.insert(cover, k.key.as_str()) {
                        e.push(
                            format!("{field}.covers"),
                            format!("`{cover}` is already covered by `{other}`"),
                        );
                    }
                }
            }
        }
        match (key, name) {
            (Some(key), Some(name)) if e.is_empty() => Ok(MonitoringScheme {
                key,
                version,
                name,
                source,
                characteristics: input.characteristics,
            }),
            _ => Err(e),
        }
    }

    /// The default categories a category of this scheme stands for: what it covers, or its own
    /// key (empty when the scheme has no such category).
    fn base_categories<'a>(&'a self, characteristic: &str, category: &str) -> Vec<&'a str> {
        self.characteristics
            .iter()
            .find(|c| c.key == characteristic)
            .and_then(|c| c.categories.iter().find(|k| k.key == category))
            .map_or_else(Vec::new, |k| {
                if k.covers.is_empty() {
                    vec![k.key.as_str()]
                } else {
                    k.covers.iter().map(String::as_str).collect()
                }
            })
    }

    /// A baseline in default categories rolled up to this scheme's categories (each the sum of
    /// what it covers). Characteristics and categories that cover nothing are left out.
    pub fn roll_up_baseline(&self, baseline: &BaselineCounts) -> BaselineCounts {
        let mut out = BaselineCounts::new();
        for c in &self.characteristics {
            let Some(pop) = baseline.get(&c.key) else { continue };
            for k in &c.categories {
                let covers = self.base_categories(&c.key, &k.key);
                if covers.is_empty() {
                    continue;
                }
                let sum: u64 = covers.iter().filter_map(|b| pop.get(*b)).sum();
                out.entry(c.key.clone()).or_default().insert(k.key.clone(), sum);
            }
        }
        out
    }

    /// Answer counts given under `from` expressed in this scheme's categories: an answer counts
    /// towards the category of this scheme that covers everything its own category covers.
    /// Answers with no such category (a merged band split here, a characteristic this scheme
    /// does not monitor) are returned apart, per characteristic, as not comparable.
    pub fn translate(&self, from: &MonitoringScheme, counts: &AnswerCounts) -> (AnswerCounts, BTreeMap<String, u64>) {
        let mut out = AnswerCounts::new();
        let mut apart: BTreeMap<String, u64> = BTreeMap::new();
        for (characteristic, categories) in counts {
            for (category, n) in categories {
                let target = if category == PREFER_NOT_TO_SAY {
                    Some(PREFER_NOT_TO_SAY.to_owned())
                } else if from.id() == self.id() {
                    Some(category.clone())
                } else {
                    let wanted = from.base_categories(characteristic, category);
                    self.characteristics
                        .iter()
                        .find(|c| &c.key == characteristic)
                        .and_then(|c| {
                            c.categories.iter().find(|k| {
                                let have = self.base_categories(characteristic, &k.key);
                                !wanted.is_empty() && wanted.iter().all(|w| have.contains(w))
                            })
                        })
                        .map(|k| k.key.clone())
                };
                match target {
                    Some(t) => *out.entry(characteristic.clone()).or_default().entry(t).or_default() += n,
                    None => *apart.entry(characteristic.clone()).or_default() += n,
                }
            }
        }
        (out, apart)
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
    /// Answers to the activity's questionnaire, `{ "<question key>": value }`: an option key, a
    /// list of option keys, a number, text, a date, `{ "<statement>": n }` for a grid or
    /// `{ "option": "other", "text": "..." }`. Empty when the activity has no questionnaire.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: BTreeMap<String, serde_json::Value>,
    /// Where the respondent lives: the GSS code of one of the register's areas (optional).
    /// Like the monitoring answers it is only ever counted, never shown beside a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// An e-mail address or UK mobile number to tell when the activity's results are published
    /// (optional). Kept apart from the response, used once for that notice, then deleted: the
    /// response stays anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_notice_to: Option<String>,
    /// The same choice in the contract's shape: `{ "email": "..." }` or `{ "phone": "..." }`
    /// (a UK mobile number, told by text message). Give this or `results_notice_to`, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyRequest>,
}

/// Where to tell a respondent that an activity's results are published: one of the two.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NotifyRequest {
    /// An e-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// A UK mobile number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
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
    /// The version of the questionnaire answered, if the activity has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questionnaire_version: Option<u32>,
    /// The answers to it, checked (stored one row per part, see [`CheckedAnswers::rows`]).
    #[serde(skip)]
    pub answers: CheckedAnswers,
    /// The respondent's area, if given (its syntax checked here; that it is one of the
    /// register's areas, by whoever knows them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<AreaCode>,
    /// Where to tell the respondent that the results are published, if they asked: never
    /// stored with the response (the store keeps it apart, without the response's id, until
    /// the notice is queued) and never serialised.
    #[serde(skip)]
    pub results_notice: Option<(crate::ContactChannel, String)>,
}

impl Response {
    /// Validates a response to an activity without a questionnaire (any answers are invalid).
    /// `officer` is the name of the officer entering it, if any: only officers may record
    /// channels other than online.
    pub fn parse(
        id: Uuid,
        consultation_id: ConsultationId,
        input: ResponseInput,
        scheme: &MonitoringScheme,
        officer: Option<&str>,
        received_at: DateTime<Utc>,
    ) -> Result<Response, ValidationErrors> {
        Self::parse_answered(id, consultation_id, input, scheme, None, officer, received_at)
    }

    /// Validates a response, its answers against `questionnaire` (the activity's current one;
    /// with none, `answers` must be empty).
    pub fn parse_answered(
        id: Uuid,
        consultation_id: ConsultationId,
        input: ResponseInput,
        scheme: &MonitoringScheme,
        questionnaire: Option<&Questionnaire>,
        officer: Option<&str>,
        received_at: DateTime<Utc>,
    ) -> Result<Response, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let sent_answers = !input.answers.is_empty();
        let answers = match questionnaire {
            Some(q) => match q.check_answers(&input.answers) {
                Ok(a) => a,
                Err(errors) => {
                    for err in errors.into_errors() {
                        e.push(err.field, err.message);
                    }
                    CheckedAnswers::default()
                }
            },
            None => {
                if !input.answers.is_empty() {
                    e.push("answers", "this activity has no questionnaire; send no answers");
                }
                CheckedAnswers::default()
            }
        };
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
        let area = match input.area.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
            None => None,
            Some(a) => match AreaCode::parse(a) {
                Ok(code) => Some(code),
                Err(m) => {
                    e.push("area", m);
                    None
                }
            },
        };
        let given = |s: &Option<String>| s.as_deref().map(str::trim).filter(|a| !a.is_empty()).map(str::to_owned);
        let notify = input.notify.clone().unwrap_or_default();
        let asked = [
            ("results_notice_to", given(&input.results_notice_to), None),
            ("notify.email", given(&notify.email), Some(ContactChannel::Email)),
            ("notify.phone", given(&notify.phone), Some(ContactChannel::Sms)),
        ];
        let asked: Vec<_> = asked.into_iter().filter(|(_, a, _)| a.is_some()).collect();
        if asked.len() > 1 {
            e.push(
                "notify",
                "give one address to tell about the results (notify.email, notify.phone or results_notice_to)",
            );
        }
        let results_notice = match asked.first() {
            Some((field, Some(a), wanted)) if asked.len() == 1 => match crate::message_address(a) {
                Some(found) if a.len() <= 254 && wanted.is_none_or(|w| w == found.0) => Some(found),
                _ => {
                    let what = match wanted {
                        Some(ContactChannel::Email) => "is not an e-mail address",
                        Some(_) => "is not a UK mobile number",
                        None => "is not an e-mail address or UK mobile number",
                    };
                    e.push(*field, what);
                    None
                }
            },
            _ => None,
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
        if comments.is_none() && monitoring.is_empty() && !sent_answers {
            e.push("comments", "a response needs answers, comments or monitoring answers");
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
                questionnaire_version: questionnaire.map(|q| q.version),
                answers,
                area,
                results_notice,
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
            values: BTreeMap::new(),
            area: None,
            questions: BTreeMap::new(),
        };
        let ok = import_responses(
            &scheme(),
            None,
            &AreaHierarchy::new([]),
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
            None,
            &AreaHierarchy::new([]),
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
    /// What a monitoring column's words mean, per characteristic, before they are read:
    /// `{ "sex": { "F": "female", "M": "male" } }` (matched ignoring case and surrounding
    /// spaces).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// The column holding the respondent's area (a GSS code of one of the register's areas).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    /// Question key to where its answer is: a column name, or columns and a value map
    /// ([`QuestionColumns`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub questions: BTreeMap<String, QuestionColumns>,
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
        let area = match &mapping.area {
            Some(name) => match col(name) {
                Some(i) => Some(i),
                None => {
                    e.push("mapping.area", format!("no column `{name}`"));
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
        for characteristic in mapping.values.keys() {
            if !mapping.columns.contains_key(characteristic) {
                e.push(
                    format!("mapping.values.{characteristic}"),
                    format!("`{characteristic}` is not one of the mapped `columns`"),
                );
            }
        }
        if !e.is_empty() {
            return Err(e);
        }
        let values: BTreeMap<&str, BTreeMap<String, &str>> = mapping
            .values
            .iter()
            .map(|(c, m)| {
                let m = m.iter().map(|(k, v)| (normalise_answer(k), v.as_str())).collect();
                (c.as_str(), m)
            })
            .collect();
        let mut out = Vec::with_capacity(rows.len());
        for (r, row) in rows.iter().enumerate() {
            let mut monitoring = BTreeMap::new();
            for (characteristic, i) in &columns {
                let cell = row.get(*i).map(String::as_str).unwrap_or_default();
                let cell = values
                    .get(characteristic.as_str())
                    .and_then(|m| m.get(&normalise_answer(cell)).copied())
                    .unwrap_or(cell);
                match self.category_for(characteristic, cell) {
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
                answers: BTreeMap::new(),
                area: area
                    .and_then(|i| row.get(i))
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty()),
                results_notice_to: None,
                notify: None,
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

/// Validates a survey export as responses to one activity, entered by `officer`: comments and
/// monitoring answers from their columns, answers to `questionnaire` (the activity's current
/// one) from the question mappings (`QuestionColumns`, read by `resolve_questions`). Every bad row is reported with its
/// line (`line[n]...`, the header being line 1) and a bad answer with its column too; an area
/// must be one of `areas`. In
/// `AllOrNothing` mode any bad row is an error; in `GoodRows` mode the valid responses come back
/// with the report of the others. `next_id` makes each response's id (core makes no ids itself).
#[allow(clippy::too_many_arguments)]
pub fn import_responses(
    scheme: &MonitoringScheme,
    questionnaire: Option<&Questionnaire>,
    areas: &AreaHierarchy,
    mapping: &ColumnMapping,
    header: &[String],
    rows: &[Vec<String>],
    consultation_id: ConsultationId,
    officer: &str,
    received_at: DateTime<Utc>,
    mode: ImportMode,
    mut next_id: impl FnMut() -> Uuid,
) -> Result<(Vec<Response>, ValidationErrors), ValidationErrors> {
    let questions = crate::import::resolve_questions(&mapping.questions, questionnaire, header)?;
    let mut e = ValidationErrors::new();
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let line = format!("line[{}]", i + 2);
        let answers = match questions.answers(row) {
            Ok(a) => Some(a),
            Err(errors) => {
                e.extend_prefixed(&line, errors);
                None
            }
        };
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
        let (Some(mut input), Some(answers)) = (input, answers) else {
            continue;
        };
        input.answers = answers;
        match Response::parse_answered(
            next_id(),
            consultation_id,
            input,
            scheme,
            questionnaire,
            Some(officer),
            received_at,
        ) {
            Ok(r) if r.area.as_ref().is_some_and(|a| !areas.contains(a)) => {
                let code = r.area.as_ref().map(AreaCode::as_str).unwrap_or_default();
                e.push(
                    format!("{line}.area"),
                    format!("`{code}` is not one of the register's areas"),
                );
            }
            Ok(r) => out.push(r),
            Err(errors) => {
                for x in errors.into_errors() {
                    // Name the columns an answer came from beside what is wrong with it.
                    let columns = x
                        .field
                        .strip_prefix("answers.")
                        .and_then(|rest| questions.columns_of(rest.split('.').next().unwrap_or(rest)));
                    let message = match columns {
                        Some(c) => format!("{} (from column {c})", x.message),
                        None => x.message,
                    };
                    e.push(format!("{line}.{}", x.field), message);
                }
            }
        }
    }
    if mode == ImportMode::AllOrNothing && !e.is_empty() {
        return Err(e);
    }
    Ok((out, e))
}

#[cfg(test)]
mod own_scheme_tests {
    use super::*;
    use crate::equality::{ReportSettings, Tally, equality_report};

    fn base() -> MonitoringScheme {
        MonitoringScheme::census2021().unwrap()
    }

    fn category(key: &str, covers: &[&str]) -> Category {
        Category {
            key: key.into(),
            label: key.into(),
            group: None,
            covers: covers.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    /// A district's own scheme: three broad age bands, sex as in the census.
    fn own() -> SchemeInput {
        SchemeInput {
            key: Some("district".into()),
            name: Some("District monitoring".into()),
            source: None,
            characteristics: vec![
                Characteristic {
                    key: "age_band".into(),
                    label: "Age".into(),
                    categories: vec![
                        category("under_35", &["under_16", "16-24", "25-34"]),
                        category("35-64", &["35-44", "45-54", "55-64"]),
                        category("65+", &["65-74", "75+"]),
                    ],
                },
                Characteristic {
                    key: "sex".into(),
                    label: "Sex".into(),
                    categories: vec![category("female", &[]), category("male", &[])],
                },
            ],
        }
    }

    fn counts(pairs: &[(&str, &str, u64)]) -> AnswerCounts {
        let mut out = AnswerCounts::new();
        for (c, k, n) in pairs {
            *out.entry((*c).into()).or_default().entry((*k).into()).or_default() += n;
        }
        out
    }

    #[test]
    fn the_default_scheme_id_names_the_built_in_file() {
        assert_eq!(base().id(), DEFAULT_SCHEME_ID);
        assert_eq!(base().key, DEFAULT_SCHEME);
    }

    #[test]
    fn an_own_scheme_is_checked_against_the_default() {
        let s = MonitoringScheme::parse_own(own(), &base(), 3).unwrap();
        assert_eq!(s.id(), "district@3");
        let mut bad = own();
        bad.key = Some("census2021".into());
        bad.characteristics[0].categories[1].covers = vec!["16-24".into(), "elderly".into()];
        bad.characteristics[1]
            .categories
            .push(category("prefer_not_to_say", &[]));
        bad.characteristics[1].categories.push(category("other", &[]));
        let e = MonitoringScheme::parse_own(bad, &base(), 1).unwrap_err();
        let fields: Vec<&str> = e.errors().iter().map(|x| x.field.as_str()).collect();
        assert!(fields.contains(&"key"), "{e:?}");
        // `16-24` is covered twice and `elderly` is unknown: both reported on the same field.
        assert_eq!(
            fields
                .iter()
                .filter(|f| **f == "characteristics[0].categories[1].covers")
                .count(),
            2,
            "{e:?}"
        );
        assert!(fields.contains(&"characteristics[1].categories[2].key"), "{e:?}");
        // `other` is not a census sex category and says nothing of what it covers.
        assert!(fields.contains(&"characteristics[1].categories[3].covers"), "{e:?}");
        // A characteristic may not take the name the analysis keeps for areas.
        let mut reserved = own();
        reserved.characteristics[0].key = "@area".into();
        let e = MonitoringScheme::parse_own(reserved, &base(), 1).unwrap_err();
        assert!(e.errors().iter().any(|x| x.field == "characteristics[0].key"), "{e:?}");
    }

    #[test]
    fn baselines_roll_up_to_own_bands() {
        let s = MonitoringScheme::parse_own(own(), &base(), 1).unwrap();
        let baseline = counts(&[
            ("age_band", "under_16", 10),
            ("age_band", "16-24", 20),
            ("age_band", "25-34", 30),
            ("age_band", "35-44", 1),
            ("age_band", "75+", 7),
            ("sex", "female", 51),
            ("sex", "male", 49),
        ]);
        let rolled = s.roll_up_baseline(&baseline);
        assert_eq!(rolled["age_band"]["under_35"], 60);
        assert_eq!(rolled["age_band"]["35-64"], 1);
        assert_eq!(rolled["age_band"]["65+"], 7);
        assert_eq!(rolled["sex"]["female"], 51);
        // The default scheme rolls up to itself.
        assert_eq!(base().roll_up_baseline(&baseline)["age_band"]["16-24"], 20);
    }

    #[test]
    fn answers_translate_up_but_never_split() {
        let s = MonitoringScheme::parse_own(own(), &base(), 1).unwrap();
        let census = base();
        // Census answers fold into the broad bands.
        let (into_own, apart) = s.translate(
            &census,
            &counts(&[
                ("age_band", "16-24", 4),
                ("age_band", "25-34", 5),
                ("age_band", PREFER_NOT_TO_SAY, 2),
                ("ethnic_group", "indian", 3),
            ]),
        );
        assert_eq!(into_own["age_band"]["under_35"], 9);
        assert_eq!(into_own["age_band"][PREFER_NOT_TO_SAY], 2);
        assert_eq!(apart["ethnic_group"], 3, "the own scheme does not monitor ethnic group");
        // A broad band cannot be split back into census bands.
        let (into_census, apart) = census.translate(&s, &counts(&[("age_band", "65+", 6), ("sex", "male", 2)]));
        assert_eq!(apart["age_band"], 6);
        assert_eq!(into_census["sex"]["male"], 2);
        assert!(!into_census.contains_key("age_band"));
    }

    #[test]
    fn a_report_in_an_own_scheme_combines_answers_of_both_schemes() {
        let s = MonitoringScheme::parse_own(own(), &base(), 1).unwrap();
        let census = base();
        let mut by_scheme = BTreeMap::new();
        by_scheme.insert(
            census.id(),
            counts(&[("age_band", "75+", 10), ("age_band", "16-24", 10)]),
        );
        by_scheme.insert(s.id(), counts(&[("age_band", "65+", 20), ("age_band", "under_35", 0)]));
        let schemes = [census.clone(), s.clone()];
        let tally = Tally::in_scheme(&s, 40, &by_scheme, |id| schemes.iter().find(|x| x.id() == id));
        let baseline = counts(&[("age_band", "16-24", 50), ("age_band", "75+", 50)]);
        let r = equality_report(&s, &tally, &baseline, &ReportSettings::default(), false);
        let age = r
            .characteristics
            .iter()
            .find(|c| c.characteristic == "age_band")
            .unwrap();
        let line = |k: &str| age.categories.iter().find(|c| c.category == k).unwrap();
        assert_eq!(line("65+").respondents, Some(30));
        assert_eq!(line("under_35").respondents, Some(10));
        assert_eq!(line("65+").population_share, Some(0.5));
        assert_eq!(line("65+").share, Some(0.75));
        assert_eq!(age.not_comparable, None);
        // Answers under a scheme nobody can find are set apart, not guessed.
        let lost = Tally::in_scheme(&s, 40, &by_scheme, |id| schemes[..1].iter().find(|x| x.id() == id));
        assert_eq!(lost.not_comparable["age_band"], 20);
    }
}
