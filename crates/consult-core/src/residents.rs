//! The residents' register (Stevenage "Online engagement gateway", action 1): people who ask to
//! hear about activities on their interests and areas, with how they like to be contacted and
//! their consent; fatigue rules; and targeted invitations that leave out anyone asked too often
//! (REFERENCE section 4).

use crate::area::{AreaCode, AreaHierarchy};
use crate::catalogue;
use crate::error::ValidationErrors;
use crate::text::{line_list, optional_line};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// How a resident may be contacted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    /// Email.
    Email,
    /// Letter to the postal address.
    Post,
    /// Telephone call.
    Phone,
    /// Text message to the phone number.
    Sms,
}

impl ContactChannel {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Post => "post",
            Self::Phone => "phone",
            Self::Sms => "sms",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Email, Self::Post, Self::Phone, Self::Sms]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A resident's registration as sent (API.md "Resident").
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResidentInput {
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Postal address.
    pub postal_address: Option<String>,
    /// Topics of interest.
    #[serde(default)]
    pub interests: Vec<String>,
    /// Areas (GSS codes) they live or work in.
    #[serde(default)]
    pub areas: Vec<String>,
    /// Stakeholder groups they belong to.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Channels, in order of preference.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<ContactChannel>))]
    #[serde(default)]
    pub channels: Vec<String>,
    /// Consent to be contacted about activities (required, true).
    pub consent: Option<bool>,
}

/// A registered resident. Contact details are personal data: never in public outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resident {
    /// Identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    /// Email address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
    /// Postal address.
    pub postal_address: Option<String>,
    /// Topics of interest (lower case).
    pub interests: Vec<String>,
    /// Areas.
    pub areas: Vec<AreaCode>,
    /// Stakeholder groups.
    pub groups: Vec<String>,
    /// Channels, preferred first.
    pub channels: Vec<ContactChannel>,
    /// When consent was given; `None` once withdrawn (unsubscribed).
    pub consent_at: Option<DateTime<Utc>>,
    /// When the contact was verified with the code sent to it; `None` while the registration is
    /// pending (never invited, deleted after the configured days).
    #[serde(default)]
    pub verified_at: Option<DateTime<Utc>>,
}

/// An e-mail address as the register keys it: trimmed, the domain lower-cased, the local part as
/// given (how each provider treats case and dots in it is not ours to guess).
pub fn normalise_email(s: &str) -> String {
    let s = s.trim();
    match s.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => s.to_owned(),
    }
}

/// A phone number in E.164 (`+447700900123`): UK numbers written nationally (`07700 900123`,
/// `(01827) 709 709`), internationally (`+44 7700 900123`, `+44 (0)7700 900123`,
/// `0044 7700 900123`) with spaces, dashes, dots or brackets; other countries' numbers written
/// with `+` or `00` and their country code. `None` when it is not a phone number.
///
/// ```
/// use consult_core::normalise_phone;
/// assert_eq!(normalise_phone("07700 900-123").as_deref(), Some("+447700900123"));
/// assert_eq!(normalise_phone("+44 (0)7700 900123").as_deref(), Some("+447700900123"));
/// assert_eq!(normalise_phone("0044 1827 709709").as_deref(), Some("+441827709709"));
/// assert_eq!(normalise_phone("call me"), None);
/// ```
pub fn normalise_phone(s: &str) -> Option<String> {
    let s = s.trim();
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        return None;
    }
    // A `+` only in front; `(0)` after a country code is the national trunk prefix.
    let plus = s.starts_with('+');
    if s[usize::from(plus)..].contains('+') {
        return None;
    }
    let international_form = plus || s.starts_with("00");
    let compact = if international_form {
        s.replace("(0)", "")
    } else {
        s.to_owned()
    };
    let digits: String = compact.chars().filter(char::is_ascii_digit).collect();
    let international = if plus {
        digits
    } else if let Some(rest) = digits.strip_prefix("00") {
        rest.to_owned()
    } else if let Some(rest) = digits.strip_prefix('0') {
        // A UK national number: 9 or 10 digits after the trunk 0.
        if !(9..=10).contains(&rest.len()) {
            return None;
        }
        format!("44{rest}")
    } else {
        return None;
    };
    // UK numbers written +44 0... keep the trunk 0 by mistake: drop it.
    let international = match international.strip_prefix("440") {
        Some(rest) => format!("44{rest}"),
        None => international,
    };
    if international.starts_with('0') || !(8..=15).contains(&international.len()) {
        return None;
    }
    if let Some(uk) = international.strip_prefix("44") {
        if !(9..=10).contains(&uk.len()) {
            return None;
        }
    }
    Some(format!("+{international}"))
}

impl Resident {
    /// The keys by which one contact is one resident: `email:<normalised address>` and
    /// `phone:<E.164>`. A postal address is free text, kept as given, and is no key.
    pub fn contact_keys(&self) -> Vec<String> {
        let mut keys = Vec::new();
        if let Some(e) = &self.email {
            keys.push(format!("email:{e}"));
        }
        if let Some(p) = &self.phone {
            keys.push(format!("phone:{p}"));
        }
        keys
    }

    /// Where the verification code goes: the e-mail address if given, else the phone (by text
    /// message), else the postal address (by letter).
    pub fn verification_channel(&self) -> ContactChannel {
        if self.email.is_some() {
            ContactChannel::Email
        } else if self.phone.is_some() {
            ContactChannel::Sms
        } else {
            ContactChannel::Post
        }
    }

    /// The resident's address on `channel`: the e-mail address, the phone number (for a text
    /// or a call), or the postal address; `None` when they gave none for it.
    pub fn address(&self, channel: ContactChannel) -> Option<&str> {
        match channel {
            ContactChannel::Email => self.email.as_deref(),
            ContactChannel::Sms | ContactChannel::Phone => self.phone.as_deref(),
            ContactChannel::Post => self.postal_address.as_deref(),
        }
    }

    /// The message carrying a pending registration's verification `code` to its contact (see
    /// [`Resident::verification_channel`]); `None` when the registration has no address at all.
    pub fn verification_message(&self, code: &str) -> Option<crate::NewMessage> {
        let channel = self.verification_channel();
        Some(crate::NewMessage {
            key: crate::MessageKey::verification(self.id),
            kind: crate::MessageKind::Verification,
            channel,
            recipient: self.address(channel)?.to_owned(),
            resident: Some(self.id),
            staff: None,
            consultation: None,
            personalisation: BTreeMap::from([("code".to_owned(), code.to_owned())]),
        })
    }
}

/// A verification code as typed: upper-cased, spaces and dashes dropped. `None` when it cannot
/// be a code (empty, too long, or other characters), so a lookup is never made for it.
pub fn normalise_code(s: &str) -> Option<String> {
    let code: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (!code.is_empty() && code.len() <= 32 && code.chars().all(|c| c.is_ascii_alphanumeric())).then_some(code)
}

/// True when `s` (already normalised) looks like an e-mail address: a local part, `@`, a domain
/// with a dot inside it, and no spaces.
pub fn valid_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
}

impl Resident {
    /// Validates a registration: at least one contact detail, each well formed and normalised
    /// ([`normalise_email`], [`normalise_phone`]); known areas and groups; channels that have the
    /// contact detail they need; consent given. The result is pending (`verified_at` `None`).
    pub fn parse(
        id: Uuid,
        input: ResidentInput,
        areas: &AreaHierarchy,
        now: DateTime<Utc>,
    ) -> Result<Resident, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let email = optional_line(&mut e, "email", input.email.as_deref(), 254).map(|s| normalise_email(&s));
        if email.as_deref().is_some_and(|m| !valid_email(m)) {
            e.push("email", "is not an email address");
        }
        let phone = match optional_line(&mut e, "phone", input.phone.as_deref(), 32) {
            Some(p) => {
                let n = normalise_phone(&p);
                if n.is_none() {
                    e.push(
                        "phone",
                        "is not a phone number: a UK number (07700 900123) or one starting + and the country code",
                    );
                }
                n
            }
            None => None,
        };
        let postal_address = crate::text::optional_text(&mut e, "postal_address", input.postal_address.as_deref(), 500);
        if email.is_none()
            && phone.is_none()
            && postal_address.is_none()
            && input.email.is_none()
            && input.phone.is_none()
        {
            e.push("email", "give at least one of email, phone or postal_address");
        }
        let mut interests: Vec<String> = Vec::new();
        for i in line_list(&mut e, "interests", &input.interests, 50, 80) {
            let i = i.to_lowercase();
            if !interests.contains(&i) {
                interests.push(i);
            }
        }
        let mut codes = Vec::new();
        for (i, a) in input.areas.iter().enumerate() {
            match AreaCode::parse(a) {
                Ok(c) if areas.contains(&c) => {
                    if !codes.contains(&c) {
                        codes.push(c)
                    }
                }
                Ok(c) => e.push(format!("areas[{i}]"), format!("unknown area {c}")),
                Err(m) => e.push(format!("areas[{i}]"), m),
            }
        }
        let mut groups = Vec::new();
        for (i, g) in input.groups.iter().enumerate() {
            match catalogue::stakeholder_group(g) {
                Some(s) => {
                    if !groups.iter().any(|x| x == s.slug) {
                        groups.push(s.slug.to_owned())
                    }
                }
                None => e.push(format!("groups[{i}]"), format!("unknown stakeholder group `{g}`")),
            }
        }
        let mut channels = Vec::new();
        for (i, c) in input.channels.iter().enumerate() {
            match ContactChannel::parse(c) {
                Some(ch) => {
                    let has = match ch {
                        ContactChannel::Email => email.is_some(),
                        ContactChannel::Post => postal_address.is_some(),
                        ContactChannel::Phone | ContactChannel::Sms => phone.is_some(),
                    };
                    if !has {
                        e.push(
                            format!("channels[{i}]"),
                            format!("{c} needs the matching contact detail"),
                        );
                    } else if !channels.contains(&ch) {
                        channels.push(ch);
                    }
                }
                None => e.push(
                    format!("channels[{i}]"),
                    format!("unknown channel `{c}`; expected email, post, phone or sms"),
                ),
            }
        }
        if input.channels.is_empty() {
            e.push("channels", "choose at least one way to be contacted");
        }
        if input.consent != Some(true) {
            e.push("consent", "consent to be contacted is required to register");
        }
        e.into_result(Resident {
            id,
            email,
            phone,
            postal_address,
            interests,
            areas: codes,
            groups,
            channels,
            consent_at: Some(now),
            verified_at: None,
        })
    }
}

/// The fatigue rules, configurable per organisation. Defaults from REFERENCE section 4 (our
/// design choices: panels are commonly surveyed three to four times a year).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct FatigueRules {
    /// Most invitations to one person in the rolling window.
    pub max_contacts: u32,
    /// The rolling window, in days.
    pub window_days: u32,
    /// Fewest days between two invitations to one person.
    pub min_gap_days: u32,
    /// Most activities open at once for one audience group in one area.
    pub max_concurrent: u32,
}

impl Default for FatigueRules {
    fn default() -> Self {
        Self {
            max_contacts: 4,
            window_days: 365,
            min_gap_days: 28,
            max_concurrent: 3,
        }
    }
}

impl FatigueRules {
    /// Checks the rules are usable.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut e = ValidationErrors::new();
        if !(1..=Self::MOST_CONTACTS).contains(&self.max_contacts) {
            e.push("max_contacts", format!("must be from 1 to {}", Self::MOST_CONTACTS));
        }
        if !(1..=3650).contains(&self.window_days) {
            e.push("window_days", "must be from 1 to 3650");
        }
        if self.min_gap_days > 365 {
            e.push("min_gap_days", "must be from 0 to 365");
        } else if self.min_gap_days > self.window_days {
            e.push("min_gap_days", "must not be longer than window_days");
        }
        if !(1..=100).contains(&self.max_concurrent) {
            e.push("max_concurrent", "must be from 1 to 100");
        }
        e.into_result(())
    }

    /// The highest `max_contacts` an organisation may set: a store need keep no more than this
    /// many of a resident's newest invitation dates to apply any rules.
    pub const MOST_CONTACTS: u32 = 100;

    /// The last day on which an invitation is too long ago to matter for the minimum gap: one
    /// after it is too recent (`today - last < min_gap_days`).
    pub fn gap_cutoff(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_days(Days::new(u64::from(self.min_gap_days)))
            .unwrap_or(NaiveDate::MIN)
    }

    /// The first day of the rolling window ending `today`.
    pub fn window_start(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_days(Days::new(u64::from(self.window_days) - 1))
            .unwrap_or(today)
    }
}

/// What the invitation planner needs to know about one matching resident: no contact details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The resident.
    pub id: Uuid,
    /// The preferred channel, if any.
    pub channel: Option<ContactChannel>,
    /// Whether consent is in force.
    pub consented: bool,
    /// Invitations in the rolling window.
    pub contacts_in_window: u32,
    /// The day of the last invitation in the rolling window (the minimum gap is never longer
    /// than the window, so an older one cannot matter).
    pub last_contact: Option<NaiveDate>,
    /// Already invited to this activity.
    pub already_invited: bool,
}

/// Why a matching resident is left out of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Consent withdrawn.
    NoConsent,
    /// No channel to use.
    NoChannel,
    /// Already invited to this activity.
    AlreadyInvited,
    /// Would exceed the most invitations in the window.
    FatigueMaxContacts,
    /// Invited too recently.
    FatigueMinGap,
}

impl Exclusion {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoConsent => "no_consent",
            Self::NoChannel => "no_channel",
            Self::AlreadyInvited => "already_invited",
            Self::FatigueMaxContacts => "fatigue_max_contacts",
            Self::FatigueMinGap => "fatigue_min_gap",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::NoConsent,
            Self::NoChannel,
            Self::AlreadyInvited,
            Self::FatigueMaxContacts,
            Self::FatigueMinGap,
        ]
        .into_iter()
        .find(|e| e.as_str() == s)
    }
}

/// Decides whether one candidate is invited today, and by which channel.
pub fn invitation_for(c: &Candidate, rules: &FatigueRules, today: NaiveDate) -> Result<ContactChannel, Exclusion> {
    if !c.consented {
        return Err(Exclusion::NoConsent);
    }
    let Some(channel) = c.channel else {
        return Err(Exclusion::NoChannel);
    };
    if c.already_invited {
        return Err(Exclusion::AlreadyInvited);
    }
    if c.contacts_in_window >= rules.max_contacts {
        return Err(Exclusion::FatigueMaxContacts);
    }
    if c.last_contact.is_some_and(|last| last > rules.gap_cutoff(today)) {
        return Err(Exclusion::FatigueMinGap);
    }
    Ok(channel)
}

/// An invitation plan: who is invited by which channel, and counts of who is left out and why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvitationPlan {
    /// Residents invited, with their channel.
    pub invited: Vec<(Uuid, ContactChannel)>,
    /// Invitations per channel.
    pub by_channel: BTreeMap<ContactChannel, u64>,
    /// Matching residents left out, per reason.
    pub excluded: BTreeMap<Exclusion, u64>,
}

/// Plans invitations for the matching residents under the fatigue rules.
///
/// ```
/// use consult_core::{Candidate, ContactChannel, Exclusion, FatigueRules, plan_invitations};
/// let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
/// let c = |n: u128, contacts, last: Option<&str>| Candidate {
///     id: uuid::Uuid::from_u128(n), channel: Some(ContactChannel::Email), consented: true,
///     contacts_in_window: contacts, last_contact: last.map(|d| d.parse().unwrap()), already_invited: false,
/// };
/// let plan = plan_invitations([c(1, 0, None), c(2, 4, None), c(3, 1, Some("2026-05-20"))], &FatigueRules::default(), today);
/// assert_eq!(plan.invited.len(), 1);
/// assert_eq!(plan.excluded[&Exclusion::FatigueMaxContacts], 1);
/// assert_eq!(plan.excluded[&Exclusion::FatigueMinGap], 1);
/// ```
pub fn plan_invitations(
    candidates: impl IntoIterator<Item = Candidate>,
    rules: &FatigueRules,
    today: NaiveDate,
) -> InvitationPlan {
    let mut plan = InvitationPlan::default();
    for c in candidates {
        match invitation_for(&c, rules, today) {
            Ok(channel) => {
                plan.invited.push((c.id, channel));
                *plan.by_channel.entry(channel).or_default() += 1;
            }
            Err(reason) => *plan.excluded.entry(reason).or_default() += 1,
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::Area;
    use proptest::prelude::*;

    fn hierarchy() -> AreaHierarchy {
        AreaHierarchy::new([Area {
            code: AreaCode::parse("E07000199").unwrap(),
            name: "Tamworth".into(),
            parent: None,
        }])
    }

    fn now() -> DateTime<Utc> {
        "2026-06-01T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_registration_is_validated_field_by_field() {
        let ok = Resident::parse(
            Uuid::nil(),
            ResidentInput {
                email: Some("Ann@Example.org".into()),
                interests: vec!["Parks".into(), "parks".into()],
                areas: vec!["E07000199".into()],
                groups: vec!["carers".into()],
                channels: vec!["email".into()],
                consent: Some(true),
                ..Default::default()
            },
            &hierarchy(),
            now(),
        )
        .unwrap();
        assert_eq!(
            ok.email.as_deref(),
            Some("Ann@example.org"),
            "the domain lower-cased only"
        );
        assert_eq!(ok.verified_at, None, "pending until verified");
        assert_eq!(ok.interests, ["parks"]);
        let bad = Resident::parse(
            Uuid::nil(),
            ResidentInput {
                email: Some("not-an-email".into()),
                phone: Some("call me".into()),
                areas: vec!["E99999999".into()],
                groups: vec!["aliens".into()],
                channels: vec!["post".into(), "pigeon".into()],
                consent: Some(false),
                ..Default::default()
            },
            &hierarchy(),
            now(),
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.errors().iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "email",
                "phone",
                "areas[0]",
                "groups[0]",
                "channels[0]",
                "channels[1]",
                "consent"
            ]
        );
    }

    #[test]
    fn contacts_are_normalised_into_keys() {
        for (given, e164) in [
            ("07700 900123", Some("+447700900123")),
            ("07700-900-123", Some("+447700900123")),
            ("(01827) 709709", Some("+441827709709")),
            ("+44 7700 900123", Some("+447700900123")),
            ("+44 (0)7700 900123", Some("+447700900123")),
            ("+4407700900123", Some("+447700900123")),
            ("0044 7700 900123", Some("+447700900123")),
            (" 0044-1827-709709 ", Some("+441827709709")),
            ("+33 1 23 45 67 89", Some("+33123456789")),
            ("7700900123", None),
            ("0770090", None),
            ("+44 77", None),
            ("077009001234567", None),
            ("07700 9001 23 ext 4", None),
            ("+44+7700900123", None),
            ("", None),
        ] {
            assert_eq!(normalise_phone(given).as_deref(), e164, "{given}");
        }
        assert_eq!(normalise_email("  Ann.Lee@Example.ORG "), "Ann.Lee@example.org");
        let r = |email: &str, phone: &str| {
            Resident::parse(
                Uuid::nil(),
                ResidentInput {
                    email: (!email.is_empty()).then(|| email.to_owned()),
                    phone: (!phone.is_empty()).then(|| phone.to_owned()),
                    channels: vec!["sms".into()],
                    consent: Some(true),
                    ..Default::default()
                },
                &hierarchy(),
                now(),
            )
            .unwrap()
        };
        let a = r(" ann@EXAMPLE.org", "07700 900123");
        let b = r("ann@example.org", "+44 (0)7700-900-123");
        assert_eq!(a.contact_keys(), b.contact_keys());
        assert_eq!(a.contact_keys(), ["email:ann@example.org", "phone:+447700900123"]);
        assert_eq!(a.verification_channel(), ContactChannel::Email);
        assert_eq!(r("", "07700900123").verification_channel(), ContactChannel::Sms);
        assert_eq!(normalise_code(" ab12-cd34 ").as_deref(), Some("AB12CD34"));
        assert_eq!(normalise_code("ab;12"), None);
        assert_eq!(normalise_code("  "), None);
    }

    fn candidate(contacts: u32, last: Option<i64>) -> Candidate {
        Candidate {
            id: Uuid::from_u128(1),
            channel: Some(ContactChannel::Post),
            consented: true,
            contacts_in_window: contacts,
            last_contact: last.map(|d| NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() - chrono::Duration::days(d)),
            already_invited: false,
        }
    }

    #[test]
    fn fatigue_boundaries() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let r = FatigueRules::default();
        assert_eq!(
            invitation_for(&candidate(3, Some(28)), &r, today),
            Ok(ContactChannel::Post)
        );
        assert_eq!(
            invitation_for(&candidate(4, Some(200)), &r, today),
            Err(Exclusion::FatigueMaxContacts)
        );
        assert_eq!(
            invitation_for(&candidate(1, Some(27)), &r, today),
            Err(Exclusion::FatigueMinGap)
        );
        let mut no = candidate(0, None);
        no.consented = false;
        assert_eq!(invitation_for(&no, &r, today), Err(Exclusion::NoConsent));
        no.consented = true;
        no.channel = None;
        assert_eq!(invitation_for(&no, &r, today), Err(Exclusion::NoChannel));
        assert_eq!(r.window_start(today), NaiveDate::from_ymd_opt(2025, 6, 2).unwrap());
    }

    proptest! {
        #[test]
        fn every_candidate_is_invited_or_counted_once(contacts in proptest::collection::vec((0u32..8, proptest::option::of(0i64..100), any::<bool>()), 0..50)) {
            let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
            let cs: Vec<Candidate> = contacts.iter().enumerate().map(|(i, (n, last, consent))| Candidate {
                id: Uuid::from_u128(i as u128),
                consented: *consent,
                ..candidate(*n, *last)
            }).collect();
            let plan = plan_invitations(cs.clone(), &FatigueRules::default(), today);
            let excluded: u64 = plan.excluded.values().sum();
            prop_assert_eq!(plan.invited.len() as u64 + excluded, cs.len() as u64);
            prop_assert_eq!(plan.by_channel.values().sum::<u64>(), plan.invited.len() as u64);
            for (id, _) in &plan.invited {
                let c = cs.iter().find(|c| c.id == *id).unwrap();
                prop_assert!(c.contacts_in_window < 4 && c.consented);
            }
        }
    }
}

/// Who is asked too often.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FatigueKind {
    /// Individual residents.
    Person,
    /// An audience group in an area.
    Audience,
}

/// A fatigue finding for an activity (API.md "Fatigue"). Counts only: never names people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FatigueFinding {
    /// Person or audience.
    pub kind: FatigueKind,
    /// The rule: `max_contacts`, `min_gap` or `max_concurrent`.
    pub rule: String,
    /// What it means, in plain English.
    pub detail: String,
    /// People affected (person) or activities already open (audience).
    pub count: u64,
}
