//! The partnership: organisations and their services, areas, and staff tokens.

use crate::App;
use crate::error::{AppError, AppResult};
use consult_core::{
    Actor, Area, AreaHierarchy, AreaInput, Organisation, OrganisationId, OrganisationInput, Role, Slug,
    ValidationErrors,
};
use consult_store::{IssuedToken, NewToken, TokenRecord};
use uuid::Uuid;

/// A token to issue, as asked for: every field checked by [`App::issue_token`].
#[derive(Debug, Clone, Default)]
pub struct TokenRequest {
    /// The holder's name, shown in the audit log.
    pub name: Option<String>,
    /// `admin`, `coordinator` or `officer`.
    pub role: Option<String>,
    /// The organisation's slug (required for officers).
    pub organisation: Option<String>,
    /// Days until it expires: [`TOKEN_DAYS`] by default, within [`TOKEN_DAYS_RANGE`].
    pub expires_in_days: Option<i64>,
}

/// How long a token lasts unless asked otherwise: a year.
pub const TOKEN_DAYS: i64 = 365;

/// How long a token may be asked to last: a day to ten years.
pub const TOKEN_DAYS_RANGE: std::ops::RangeInclusive<i64> = 1..=3650;

/// Refuses anyone but coordinators and admins.
pub(crate) fn require_coordinator(actor: &Actor) -> AppResult<()> {
    if actor.is_coordinator() {
        Ok(())
    } else {
        Err(AppError::Forbidden("only a coordinator or admin can do this".into()))
    }
}

/// Refuses anyone but admins.
pub(crate) fn require_admin(actor: &Actor) -> AppResult<()> {
    if actor.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::Forbidden("only an admin can do this".into()))
    }
}

impl App {
    /// Adds an organisation with its services (admins).
    pub async fn create_organisation(&self, actor: &Actor, input: OrganisationInput) -> AppResult<Organisation> {
        require_admin(actor)?;
        let org = Organisation::parse(OrganisationId(Uuid::now_v7()), input)?;
        self.store.create_organisation(&org, actor, self.now()).await?;
        Ok(org)
    }

    /// Every organisation, by slug.
    pub async fn list_organisations(&self) -> AppResult<Vec<Organisation>> {
        Ok(self.store.list_organisations().await?)
    }

    /// One organisation by slug; not found otherwise.
    pub async fn organisation(&self, slug: &str) -> AppResult<Organisation> {
        self.store
            .get_organisation(slug)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no organisation `{slug}`")))
    }

    /// Adds a service to an organisation (its officers, coordinators).
    pub async fn add_service(&self, actor: &Actor, slug: &str, name: Option<&str>) -> AppResult<Organisation> {
        let org = self.organisation(slug).await?;
        if !actor.may_write(org.id) {
            return Err(AppError::Forbidden(
                "officers can only add services to their own organisation".into(),
            ));
        }
        let name = Organisation::parse_service(name)?;
        let slug = Slug::parse(slug).map_err(AppError::NotFound)?;
        Ok(self.store.add_service(&slug, &name, actor, self.now()).await?)
    }

    /// Adds an area inside a known one (coordinators).
    pub async fn create_area(&self, actor: &Actor, input: AreaInput) -> AppResult<Area> {
        require_coordinator(actor)?;
        let known = self.area_hierarchy().await?;
        let area = Area::parse(input, &known)?;
        self.store.create_area(&area, actor, self.now()).await?;
        Ok(area)
    }

    /// Every area, by code.
    pub async fn list_areas(&self) -> AppResult<Vec<Area>> {
        Ok(self.store.list_areas().await?)
    }

    /// The areas and what contains what.
    pub async fn area_hierarchy(&self) -> AppResult<AreaHierarchy> {
        Ok(AreaHierarchy::new(self.store.list_areas().await?))
    }

    /// Issues a bearer token (admins): the secret is returned once, only its hash is kept.
    /// Returns the organisation's slug with it.
    pub async fn issue_token(&self, actor: &Actor, request: TokenRequest) -> AppResult<(IssuedToken, Option<Slug>)> {
        require_admin(actor)?;
        let mut errors = ValidationErrors::new();
        let name = consult_core::text::required_line(&mut errors, "name", request.name.as_deref(), 200);
        let role = match request.role.as_deref() {
            Some(r) => r.parse::<Role>().map_err(|e| errors.push("role", e)).ok(),
            None => {
                errors.push("role", "is required");
                None
            }
        };
        let org = match request.organisation.as_deref() {
            Some(slug) => match self.store.get_organisation(slug).await? {
                Some(o) => Some(o),
                None => {
                    errors.push("organisation", format!("unknown organisation `{slug}`"));
                    None
                }
            },
            None => {
                if role == Some(Role::Officer) {
                    errors.push("organisation", "is required for an officer");
                }
                None
            }
        };
        let days = request.expires_in_days.unwrap_or(TOKEN_DAYS);
        if !TOKEN_DAYS_RANGE.contains(&days) {
            errors.push(
                "expires_in_days",
                format!(
                    "must be a whole number of days from {} to {}",
                    TOKEN_DAYS_RANGE.start(),
                    TOKEN_DAYS_RANGE.end()
                ),
            );
        }
        let (Some(name), Some(role), true) = (name, role, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let now = self.now();
        let new = NewToken {
            name: name.to_owned(),
            role,
            organisation: org.as_ref().map(|o| o.id),
            expires_at: Some(now + chrono::TimeDelta::days(days)),
        };
        let issued = self.store.create_token(&new, actor, now).await?;
        Ok((issued, org.map(|o| o.slug)))
    }

    /// Every token with its holder, organisation and life (admins): never a secret or a hash.
    pub async fn list_tokens(&self, actor: &Actor) -> AppResult<Vec<TokenRecord>> {
        require_admin(actor)?;
        Ok(self.store.list_tokens().await?)
    }

    /// Revokes a token (admins): it is refused from now on, on every instance. Revoking a
    /// revoked token changes nothing; an unknown id is not found.
    pub async fn revoke_token(&self, actor: &Actor, id: Uuid) -> AppResult<TokenRecord> {
        require_admin(actor)?;
        self.store
            .revoke_token(id, actor, self.now())
            .await
            .map_err(|e| match e {
                consult_store::StoreError::NotFound(_) => AppError::NotFound(format!("no token {id}")),
                other => other.into(),
            })
    }
}
