//! Partnership sharing of an activity's results and documents (REQUIREMENTS R18; Herefordshire's
//! objective 2: "sharing the results and available information, respecting data protection
//! rules", its note: "subject to ... confidentiality limitations of Herefordshire Partnership
//! members").
//!
//! The owner sets who may see an activity's results (the analysis of its answers) and its
//! documents once they are out: everyone (`public`), the staff of every partner organisation
//! (`partnership`) or the owner's own staff (`organisation`). An activity's data-protection
//! note may say how far its results can go; the sharing is then never wider. What the
//! activity is, and "you said, we did", stay public whatever the sharing: the strategies
//! promise feedback to everyone who took part.

use crate::consultation::Consultation;
use crate::error::ValidationErrors;
use crate::lifecycle::Actor;
use serde::{Deserialize, Serialize};

/// Who may see an activity's results and documents, from the widest to the narrowest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    /// Everyone, on the hub and the API.
    #[default]
    Public,
    /// Staff of every partner organisation (any account or token), not the public.
    Partnership,
    /// The owner's own staff and the partnership's coordinators.
    Organisation,
}

impl Sharing {
    /// Every level, widest first.
    pub const ALL: [Sharing; 3] = [Sharing::Public, Sharing::Partnership, Sharing::Organisation];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Sharing::Public => "public",
            Sharing::Partnership => "partnership",
            Sharing::Organisation => "organisation",
        }
    }

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<Sharing> {
        Sharing::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }

    /// True for [`Sharing::Public`] (serde's `skip_serializing_if`).
    pub fn is_public(&self) -> bool {
        *self == Sharing::Public
    }

    /// Who the level admits, in words for a page or an error.
    pub fn audience(self) -> &'static str {
        match self {
            Sharing::Public => "everyone",
            Sharing::Partnership => "staff of the partner organisations",
            Sharing::Organisation => "the owning organisation's staff",
        }
    }
}

/// What an activity's data-protection note says: the note itself and the widest sharing of
/// its results it allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataProtection {
    /// The note (what is collected, why, how long it is kept, who it is shared with).
    pub note: String,
    /// The widest sharing of the results the note allows.
    pub allows: Sharing,
}

/// A data-protection note as given by a client, before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DataProtectionInput {
    /// The note.
    pub note: Option<String>,
    /// `public`, `partnership` or `organisation`: the widest sharing the note allows.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Sharing>))]
    pub allows: Option<String>,
}

/// Longest data-protection note, in characters.
pub const NOTE_MAX: usize = 5000;

/// Checks the sharing and data-protection note of a plan: the note needs its text and what it
/// allows; the sharing (when not given: as wide as the note allows, else public) may not be
/// wider than the note allows. Problems go to `e` under `results_sharing` and
/// `data_protection.*`.
pub fn parse_sharing(
    e: &mut ValidationErrors,
    sharing: Option<&str>,
    note: Option<&DataProtectionInput>,
) -> (Sharing, Option<DataProtection>) {
    let names = || Sharing::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
    let protection = note.and_then(|n| {
        let text = crate::text::optional_text(e, "data_protection.note", n.note.as_deref(), NOTE_MAX);
        if text.is_none() && n.note.as_deref().is_none_or(|t| t.trim().is_empty()) {
            e.push(
                "data_protection.note",
                "is required: what the note says of the data and its sharing",
            );
        }
        let allows = match n.allows.as_deref().map(str::trim) {
            None | Some("") => {
                e.push("data_protection.allows", format!("is required: one of {}", names()));
                None
            }
            Some(s) => Sharing::parse(s).or_else(|| {
                e.push("data_protection.allows", format!("`{s}` is not one of {}", names()));
                None
            }),
        };
        Some(DataProtection {
            note: text?,
            allows: allows?,
        })
    });
    let widest = protection.as_ref().map_or(Sharing::Public, |p| p.allows);
    let sharing = match sharing.map(str::trim) {
        None | Some("") => widest,
        Some(s) => match Sharing::parse(s) {
            Some(level) if level < widest => {
                e.push(
                    "results_sharing",
                    format!(
                        "the data-protection note allows sharing the results with {} at most; `{s}` would share them with {}",
                        widest.audience(),
                        level.audience()
                    ),
                );
                widest
            }
            Some(level) => level,
            None => {
                e.push("results_sharing", format!("`{s}` is not one of {}", names()));
                widest
            }
        },
    };
    (sharing, protection)
}

impl Consultation {
    /// True when `caller` (none: the public) may see this activity's results and documents by
    /// its sharing: everyone for `public`; any member of staff (token or account) for
    /// `partnership`; for `organisation`, the owner's staff and the partnership's coordinators.
    /// Whether the results are out yet is the lifecycle's question, not this one.
    pub fn results_shared_with(&self, caller: Option<&Actor>) -> bool {
        match (self.plan.results_sharing(), caller) {
            (Sharing::Public, _) => true,
            (_, None) => false,
            (Sharing::Partnership, Some(_)) => true,
            (Sharing::Organisation, Some(a)) => a.is_coordinator() || a.organisation == Some(self.organisation_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(note: Option<&str>, allows: Option<&str>) -> DataProtectionInput {
        DataProtectionInput {
            note: note.map(Into::into),
            allows: allows.map(Into::into),
        }
    }

    #[test]
    fn sharing_defaults_to_what_the_note_allows() {
        let mut e = ValidationErrors::new();
        assert_eq!(parse_sharing(&mut e, None, None), (Sharing::Public, None));
        let (s, p) = parse_sharing(&mut e, None, Some(&input(Some("Kept a year."), Some("partnership"))));
        assert_eq!(s, Sharing::Partnership);
        assert_eq!(p.map(|p| p.allows), Some(Sharing::Partnership));
        let (s, _) = parse_sharing(
            &mut e,
            Some("organisation"),
            Some(&input(Some("Kept a year."), Some("partnership"))),
        );
        assert_eq!(s, Sharing::Organisation);
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn sharing_wider_than_the_note_allows_is_refused() {
        let mut e = ValidationErrors::new();
        parse_sharing(
            &mut e,
            Some("public"),
            Some(&input(Some("Health data."), Some("organisation"))),
        );
        let fields: Vec<&str> = e.errors().iter().map(|x| x.field.as_str()).collect();
        assert_eq!(fields, ["results_sharing"], "{e:?}");
        assert!(e.errors()[0].message.contains("owning organisation"), "{e:?}");
    }

    #[test]
    fn a_note_needs_its_text_and_its_limit() {
        let mut e = ValidationErrors::new();
        parse_sharing(&mut e, Some("everyone"), Some(&input(None, Some("nobody"))));
        let fields: Vec<&str> = e.errors().iter().map(|x| x.field.as_str()).collect();
        assert!(fields.contains(&"data_protection.note"), "{e:?}");
        assert!(fields.contains(&"data_protection.allows"), "{e:?}");
        assert!(fields.contains(&"results_sharing"), "{e:?}");
    }

    #[test]
    fn levels_order_from_widest() {
        assert!(Sharing::Public < Sharing::Partnership && Sharing::Partnership < Sharing::Organisation);
        for s in Sharing::ALL {
            assert_eq!(Sharing::parse(s.as_str()), Some(s));
        }
    }
}
