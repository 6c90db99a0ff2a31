//! Organisations (a council or a partner body) and their services, so one register serves a
//! partnership (Herefordshire obj 2).

use crate::error::ValidationErrors;
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

/// The stable identifier of an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
#[serde(transparent)]
pub struct OrganisationId(pub Uuid);

/// A URL-safe organisation name: lower-case letters, digits and single hyphens, 2 to 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "tamworth"))]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Parses a slug.
    ///
    /// ```
    /// use consult_core::Slug;
    /// assert!(Slug::parse("staffordshire-county").is_ok());
    /// assert!(Slug::parse("Bad Slug").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, String> {
        let ok = (2..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "`{s}` is not a valid slug: use 2 to 64 lower-case letters, digits and single hyphens"
            ))
        }
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<Slug> for String {
    fn from(s: Slug) -> String {
        s.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether the body is a council or a partner in the partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A local authority.
    Council,
    /// A partner body: police, health, fire, voluntary sector, a partnership board.
    Partner,
}

impl OrganisationKind {
    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Council => "council",
            Self::Partner => "partner",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "council" => Ok(Self::Council),
            "partner" => Ok(Self::Partner),
            other => Err(format!("unknown kind `{other}`; expected council or partner")),
        }
    }
}

/// A council or partner body that owns activities in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    /// Identifier.
    pub id: OrganisationId,
    /// URL name, unique.
    pub slug: Slug,
    /// Full name.
    pub name: String,
    /// Council or partner.
    pub kind: OrganisationKind,
    /// The services (directorates, teams) within it that own activities.
    pub services: Vec<String>,
}

/// Raw input for a new organisation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganisationInput {
    /// URL name.
    pub slug: Option<String>,
    /// Full name.
    pub name: Option<String>,
    /// `council` or `partner`.
    pub kind: Option<String>,
    /// Services within it.
    #[serde(default)]
    pub services: Vec<String>,
}

impl Organisation {
    /// A service's name as given: required, one line of at most 120 characters.
    pub fn parse_service(name: Option<&str>) -> Result<String, ValidationErrors> {
        let name = name.map(str::trim).unwrap_or_default();
        if name.is_empty() || name.chars().count() > 120 || name.chars().any(char::is_control) {
            return Err(ValidationErrors::single(
                "name",
                "is required: one line of at most 120 characters",
            ));
        }
        Ok(name.to_owned())
    }

    /// Validates a new organisation; `id` comes from the caller (core never generates ids).
    pub fn parse(id: OrganisationId, input: OrganisationInput) -> Result<Organisation, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let slug = match input.slug.as_deref() {
            Some(s) => Slug::parse(s).map_err(|e| errors.push("slug", e)).ok(),
            None => {
                errors.push("slug", "is required");
                None
            }
        };
        let name = crate::text::required_line(&mut errors, "name", input.name.as_deref(), 200);
        let kind = match input.kind.as_deref() {
            Some(k) => OrganisationKind::parse(k).map_err(|e| errors.push("kind", e)).ok(),
            None => {
                errors.push("kind", "is required");
                None
            }
        };
        let services = crate::text::line_list(&mut errors, "services", &input.services, 200, 120);
        match (slug, name, kind) {
            (Some(slug), Some(name), Some(kind)) if errors.is_empty() => Ok(Organisation {
                id,
                slug,
                name,
                kind,
                services,
            }),
            _ => Err(errors),
        }
    }
}
