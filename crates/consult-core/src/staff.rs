//! Staff accounts (T 6.4 "Members"; O 5.3-5.8, action 25; R19, R24): who works in consult, in
//! which role, for which organisation, service or wards, and which of consult's own messages
//! they receive. The accounts come before sign-in: a councillor's weekly digest and a
//! coordinator's alerts go to the e-mail address of their account.
//!
//! The roles are the partnership's seven. Bearer tokens keep the contract's three
//! ([`crate::Role`]); an account's role says what it may read and which messages it gets.

use crate::area::{AreaCode, AreaHierarchy};
use crate::error::ValidationErrors;
use crate::lifecycle::{Actor, Role, StaffAccess};
use crate::organisation::{Organisation, OrganisationId};
use crate::outbox::MessageKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// What a member of staff does in the partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Runs the installation: accounts, organisations, tokens.
    Admin,
    /// The partnership's corporate consultation officer: every organisation.
    Coordinator,
    /// Approvals, reports and the plan of one organisation.
    OrganisationCoordinator,
    /// An engagement champion: the activities of one service.
    ServiceLead,
    /// The activities of their own organisation.
    Officer,
    /// An elected member: reads every activity touching their wards.
    Councillor,
    /// Reads their own organisation's activities and reports.
    Viewer,
}

impl StaffRole {
    /// Every role.
    pub const ALL: [StaffRole; 7] = [
        Self::Admin,
        Self::Coordinator,
        Self::OrganisationCoordinator,
        Self::ServiceLead,
        Self::Officer,
        Self::Councillor,
        Self::Viewer,
    ];

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Coordinator => "coordinator",
            Self::OrganisationCoordinator => "organisation_coordinator",
            Self::ServiceLead => "service_lead",
            Self::Officer => "officer",
            Self::Councillor => "councillor",
            Self::Viewer => "viewer",
        }
    }

    /// Parses the API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether the role belongs to one organisation (the partnership-wide roles and councillors
    /// do not; a councillor may still name their council).
    pub fn needs_organisation(self) -> bool {
        matches!(
            self,
            Self::OrganisationCoordinator | Self::ServiceLead | Self::Officer | Self::Viewer
        )
    }

    /// The messages of consult's own that this role receives: the weekly digest for
    /// councillors, alerts (approvals waiting, feedback overdue) for coordinators.
    pub fn briefings(self) -> &'static [MessageKind] {
        match self {
            Self::Councillor => &[MessageKind::Digest],
            Self::Coordinator | Self::OrganisationCoordinator => &[MessageKind::Alert],
            _ => &[],
        }
    }
}

/// A staff account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffUser {
    /// Identifier.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    /// Their work e-mail address (where their digest and alerts go; unique).
    pub email: String,
    /// Their name as shown to colleagues and in the audit log.
    pub name: String,
    /// What they do.
    pub role: StaffRole,
    /// Their organisation (required for organisation coordinators, service leads, officers and
    /// viewers).
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub organisation: Option<OrganisationId>,
    /// Their service, one of their organisation's (service leads).
    pub service: Option<String>,
    /// The wards or divisions they represent (councillors), by area code.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub wards: Vec<AreaCode>,
    /// Kinds of consult's messages they asked not to receive (`digest`, `alert`).
    pub stopped_messages: BTreeSet<MessageKind>,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// When it was disabled (nothing more is sent to it); `None` while active.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl StaffUser {
    /// The account as it acts in the workspace: the partnership's coordinators and admins keep
    /// those token roles; every other role acts as an officer of its organisation, narrowed by
    /// [`crate::StaffAccess`] (read-only councillors and viewers, a service lead's service, a
    /// councillor's wards with every area they touch in `areas`).
    pub fn actor(&self, areas: &AreaHierarchy) -> Actor {
        let role = match self.role {
            StaffRole::Admin => Role::Admin,
            StaffRole::Coordinator => Role::Coordinator,
            _ => Role::Officer,
        };
        Actor {
            name: self.name.clone(),
            role,
            organisation: self.organisation,
            staff: Some(StaffAccess {
                user: self.id,
                role: self.role,
                service: self.service.clone(),
                reach: self.wards.iter().flat_map(|w| areas.related(w)).collect(),
            }),
        }
    }

    /// Whether they are sent messages of `kind`: active, their role receives it, and they have
    /// not stopped it.
    pub fn receives(&self, kind: MessageKind) -> bool {
        self.disabled_at.is_none() && self.role.briefings().contains(&kind) && !self.stopped_messages.contains(&kind)
    }
}

/// An account as asked for (API `POST /users`, `PATCH` merges into the stored one first).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StaffUserInput {
    /// E-mail address.
    pub email: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// One of the roles' API names.
    pub role: Option<String>,
    /// The organisation's slug.
    pub organisation: Option<String>,
    /// The service (one of the organisation's).
    pub service: Option<String>,
    /// Area codes of the wards (councillors).
    #[serde(default)]
    pub wards: Vec<String>,
    /// Kinds of message not to send them.
    #[serde(default)]
    pub stopped_messages: Vec<String>,
}

/// The longest display name.
pub const MAX_STAFF_NAME: usize = 200;

impl StaffUser {
    /// Checks an account: a valid e-mail address, a name, a known role; the organisation the
    /// role needs (`organisation`: the one the input's slug named, `None` when it named none or
    /// an unknown one); a service of that organisation for a service lead; at least one known
    /// ward for a councillor and none for anyone else; known message kinds their role receives.
    /// Every problem is reported at once, by field.
    pub fn parse(
        id: Uuid,
        input: &StaffUserInput,
        organisation: Option<&Organisation>,
        areas: &AreaHierarchy,
        created_at: DateTime<Utc>,
    ) -> Result<StaffUser, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = crate::residents::normalise_email(input.email.as_deref().unwrap_or_default());
        if email.is_empty() {
            errors.push("email", "give the account's e-mail address");
        } else if !crate::residents::valid_email(&email) {
            errors.push("email", "is not an e-mail address");
        }
        let name = input.name.as_deref().unwrap_or_default().trim().to_owned();
        if name.is_empty() {
            errors.push("name", "give the account holder's name");
        } else if name.chars().count() > MAX_STAFF_NAME {
            errors.push("name", format!("at most {MAX_STAFF_NAME} characters"));
        }
        let role = match input.role.as_deref().map(str::trim) {
            None | Some("") => {
                errors.push("role", "give a role");
                None
            }
            Some(r) => {
                let parsed = StaffRole::parse(r);
                if parsed.is_none() {
                    let names: Vec<_> = StaffRole::ALL.iter().map(|r| r.as_str()).collect();
                    errors.push("role", format!("unknown role `{r}`: one of {}", names.join(", ")));
                }
                parsed
            }
        };
        let named_org = input.organisation.as_deref().map(str::trim).filter(|s| !s.is_empty());
        match (named_org, organisation) {
            (Some(slug), None) => errors.push("organisation", format!("no organisation `{slug}`")),
            (None, _) if role.is_some_and(StaffRole::needs_organisation) => {
                errors.push("organisation", "this role belongs to one organisation: name it");
            }
            _ => {}
        }
        let organisation = named_org.and(organisation);
        let service = input.service.as_deref().map(str::trim).filter(|s| !s.is_empty());
        let service = match (service, organisation) {
            (None, _) => {
                if role == Some(StaffRole::ServiceLead) {
                    errors.push("service", "a service lead leads a service: name it");
                }
                None
            }
            (Some(s), Some(org)) => match org.services.iter().find(|known| known.eq_ignore_ascii_case(s)) {
                Some(known) => Some(known.clone()),
                None => {
                    errors.push("service", format!("`{s}` is not a service of {}", org.name));
                    None
                }
            },
            (Some(_), None) => {
                errors.push("service", "a service belongs to an organisation: name it too");
                None
            }
        };
        let mut wards = Vec::new();
        for (i, w) in input.wards.iter().enumerate() {
            match AreaCode::parse(w.trim()) {
                Ok(code) if areas.contains(&code) => {
                    if !wards.contains(&code) {
                        wards.push(code);
                    }
                }
                Ok(code) => errors.push(format!("wards[{i}]"), format!("no area `{code}`")),
                Err(e) => errors.push(format!("wards[{i}]"), e),
            }
        }
        match role {
            Some(StaffRole::Councillor) if input.wards.is_empty() => {
                errors.push("wards", "a councillor represents at least one ward or division");
            }
            Some(r) if r != StaffRole::Councillor && !input.wards.is_empty() => {
                errors.push("wards", "only councillors have wards");
            }
            _ => {}
        }
        let mut stopped_messages = BTreeSet::new();
        for (i, k) in input.stopped_messages.iter().enumerate() {
            match MessageKind::parse(k.trim()) {
                Some(kind) if role.is_none_or(|r| r.briefings().contains(&kind)) => {
                    stopped_messages.insert(kind);
                }
                Some(kind) => errors.push(
                    format!("stopped_messages[{i}]"),
                    format!("this role is not sent {} messages", kind.as_str()),
                ),
                None => errors.push(format!("stopped_messages[{i}]"), format!("unknown message kind `{k}`")),
            }
        }
        match (role, errors.is_empty()) {
            (Some(role), true) => Ok(StaffUser {
                id,
                email,
                name,
                role,
                organisation: organisation.map(|o| o.id),
                service,
                wards,
                stopped_messages,
                created_at,
                disabled_at: None,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::Area;
    use crate::organisation::{OrganisationKind, Slug};

    fn org() -> Organisation {
        Organisation {
            id: OrganisationId(Uuid::from_u128(7)),
            slug: Slug::parse("tamworth").unwrap(),
            name: "Tamworth Borough Council".into(),
            kind: OrganisationKind::Council,
            services: vec!["Libraries".into()],
        }
    }

    fn areas() -> AreaHierarchy {
        AreaHierarchy::new([Area {
            code: AreaCode::parse("E05006900").unwrap(),
            name: "Spital".into(),
            parent: None,
        }])
    }

    fn input(role: &str) -> StaffUserInput {
        StaffUserInput {
            email: Some(" Cllr.Ann@Tamworth.GOV.uk ".into()),
            name: Some("Cllr Ann Example".into()),
            role: Some(role.into()),
            ..StaffUserInput::default()
        }
    }

    fn parse(i: &StaffUserInput, org: Option<&Organisation>) -> Result<StaffUser, Vec<String>> {
        StaffUser::parse(Uuid::from_u128(1), i, org, &areas(), DateTime::<Utc>::UNIX_EPOCH)
            .map_err(|e| e.errors().iter().map(|f| f.field.clone()).collect())
    }

    #[test]
    fn a_councillor_has_known_wards_and_gets_the_digest() {
        let mut i = input("councillor");
        assert_eq!(parse(&i, None).unwrap_err(), ["wards"]);
        i.wards = vec!["E05006900".into(), "E05006900".into()];
        let u = parse(&i, None).unwrap();
        assert_eq!(u.email, "Cllr.Ann@tamworth.gov.uk");
        assert_eq!(u.wards.len(), 1);
        assert!(u.receives(MessageKind::Digest) && !u.receives(MessageKind::Alert));
        i.wards = vec!["E05000001".into()];
        assert_eq!(parse(&i, None).unwrap_err(), ["wards[0]"]);
        i.wards = vec!["E05006900".into()];
        i.stopped_messages = vec!["digest".into()];
        assert!(!parse(&i, None).unwrap().receives(MessageKind::Digest));
        i.stopped_messages = vec!["alert".into()];
        assert_eq!(parse(&i, None).unwrap_err(), ["stopped_messages[0]"]);
    }

    #[test]
    fn organisation_roles_need_their_organisation_and_service() {
        assert_eq!(parse(&input("officer"), None).unwrap_err(), ["organisation"]);
        let mut i = input("service_lead");
        i.organisation = Some("tamworth".into());
        assert_eq!(parse(&i, Some(&org())).unwrap_err(), ["service"]);
        i.service = Some("libraries".into());
        let u = parse(&i, Some(&org())).unwrap();
        assert_eq!(
            (u.service.as_deref(), u.organisation),
            (Some("Libraries"), Some(org().id))
        );
        i.service = Some("Parks".into());
        assert_eq!(parse(&i, Some(&org())).unwrap_err(), ["service"]);
        i.organisation = Some("nowhere".into());
        i.service = None;
        assert_eq!(parse(&i, None).unwrap_err(), ["organisation", "service"]);
    }

    #[test]
    fn every_field_is_checked_at_once() {
        let i = StaffUserInput {
            email: Some("not an address".into()),
            name: Some(" ".into()),
            role: Some("mayor".into()),
            wards: vec!["E05006900".into()],
            ..StaffUserInput::default()
        };
        assert_eq!(parse(&i, None).unwrap_err(), ["email", "name", "role"]);
        for r in StaffRole::ALL {
            assert_eq!(StaffRole::parse(r.as_str()), Some(r));
        }
        let coordinator = parse(&input("coordinator"), None).unwrap();
        assert!(coordinator.receives(MessageKind::Alert));
        let disabled = StaffUser {
            disabled_at: Some(DateTime::<Utc>::UNIX_EPOCH),
            ..coordinator
        };
        assert!(!disabled.receives(MessageKind::Alert));
    }
}
