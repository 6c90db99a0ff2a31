//! Organisations and their services, areas, and bearer tokens.

use crate::db::query;
use crate::{IssuedToken, NewToken, RegisterSnapshot, Store, StoreError, TokenInfo, TokenRecord, token};
use chrono::{DateTime, Utc};
use consult_core::{
    Actor, Area, AreaCode, AreaHierarchy, DEFAULT_FRAMEWORKS, Organisation, OrganisationId, OrganisationKind, Role,
    Slug,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct OrganisationRow {
    id: Uuid,
    slug: String,
    name: String,
    kind: String,
}

#[derive(sqlx::FromRow)]
struct ServiceRow {
    organisation_id: Uuid,
    name: String,
}

#[derive(sqlx::FromRow)]
struct AreaRow {
    code: String,
    name: String,
    parent: Option<String>,
}

impl TryFrom<AreaRow> for Area {
    type Error = StoreError;

    fn try_from(r: AreaRow) -> Result<Self, StoreError> {
        Ok(Area {
            code: AreaCode::parse(&r.code).map_err(StoreError::Corrupt)?,
            name: r.name,
            parent: r
                .parent
                .map(|p| AreaCode::parse(&p))
                .transpose()
                .map_err(StoreError::Corrupt)?,
        })
    }
}

/// A token's holder, as stored.
struct TokenRow {
    id: Uuid,
    name: String,
    role: String,
    organisation_id: Option<Uuid>,
}

/// A token with its organisation's slug and its life.
#[derive(sqlx::FromRow)]
struct TokenRecordRow {
    id: Uuid,
    name: String,
    role: String,
    organisation_id: Option<Uuid>,
    organisation_slug: Option<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
}

/// The columns of [`TokenRecordRow`], from `tokens t` and `organisations o`.
const TOKEN_RECORD_COLUMNS: &str = "t.id, t.name, t.role, t.organisation_id, o.slug AS organisation_slug, t.created_at, \
     t.expires_at, t.revoked_at, t.last_used_at FROM tokens t LEFT JOIN organisations o ON o.id = t.organisation_id";

impl TryFrom<TokenRecordRow> for TokenRecord {
    type Error = StoreError;

    fn try_from(r: TokenRecordRow) -> Result<Self, StoreError> {
        Ok(TokenRecord {
            info: TokenInfo::try_from(TokenRow {
                id: r.id,
                name: r.name,
                role: r.role,
                organisation_id: r.organisation_id,
            })?,
            organisation_slug: r.organisation_slug,
            created_at: r.created_at,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            last_used_at: r.last_used_at,
        })
    }
}

impl TryFrom<TokenRow> for TokenInfo {
    type Error = StoreError;

    fn try_from(r: TokenRow) -> Result<Self, StoreError> {
        Ok(TokenInfo {
            id: r.id,
            name: r.name,
            role: r.role.parse::<Role>().map_err(StoreError::Corrupt)?,
            organisation: r.organisation_id.map(OrganisationId),
        })
    }
}

impl Store {
    // ----- organisations -----

    /// Adds an organisation with its services. A taken slug is a [`StoreError::Conflict`].
    pub async fn create_organisation(
        &self,
        org: &Organisation,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let taken: Option<(Uuid,)> = query("SELECT id FROM organisations WHERE slug = $1")
            .bind(org.slug.as_str())
            .fetch_optional(&mut tx)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!(
                "organisation `{}` already exists",
                org.slug
            )));
        }
        query("INSERT INTO organisations (id, slug, name, kind, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(org.id.0)
            .bind(org.slug.as_str())
            .bind(&org.name)
            .bind(org.kind.as_str())
            .bind(now)
            .execute(&mut tx)
            .await?;
        for (i, s) in org.services.iter().enumerate() {
            query("INSERT INTO services (organisation_id, name, position) VALUES ($1, $2, $3)")
                .bind(org.id.0)
                .bind(s)
                .bind(i as i64)
                .execute(&mut tx)
                .await?;
        }
        for key in DEFAULT_FRAMEWORKS {
            query("INSERT INTO organisation_frameworks (organisation_id, framework_key) VALUES ($1, $2)")
                .bind(org.id.0)
                .bind(*key)
                .execute(&mut tx)
                .await?;
        }
        let detail = serde_json::to_value(org).unwrap_or(Value::Null);
        tx.audit(
            actor,
            now,
            "organisation.create",
            "organisation",
            org.slug.as_str(),
            &detail,
        )
        .await?;
        tx.commit().await
    }

    /// Adds a service to an organisation.
    pub async fn add_service(
        &self,
        org: &Slug,
        service: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Organisation, StoreError> {
        let slug = org;
        let mut tx = self.begin().await?;
        let org: Option<(Uuid,)> = query("SELECT id FROM organisations WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_optional(&mut tx)
            .await?;
        let Some((org_id,)) = org else {
            return Err(StoreError::NotFound(format!("organisation `{slug}`")));
        };
        let (count,): (i64,) = query("SELECT COUNT(*) FROM services WHERE organisation_id = $1")
            .bind(org_id)
            .fetch_one(&mut tx)
            .await?;
        query("INSERT INTO services (organisation_id, name, position) VALUES ($1, $2, $3)")
            .bind(org_id)
            .bind(service)
            .bind(count)
            .execute(&mut tx)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict(format!("{slug} already has a service `{service}`")),
                other => other,
            })?;
        let detail = json!({ "service": service });
        tx.audit(actor, now, "service.add", "organisation", slug.as_str(), &detail)
            .await?;
        tx.commit().await?;
        self.list_organisations()
            .await?
            .into_iter()
            .find(|o| &o.slug == slug)
            .ok_or_else(|| StoreError::NotFound(format!("organisation `{slug}`")))
    }

    /// Every organisation, by slug.
    pub async fn list_organisations(&self) -> Result<Vec<Organisation>, StoreError> {
        let orgs: Vec<OrganisationRow> = query("SELECT id, slug, name, kind FROM organisations ORDER BY slug")
            .fetch_all(self)
            .await?;
        let services: Vec<ServiceRow> =
            query("SELECT organisation_id, name FROM services ORDER BY organisation_id, position")
                .fetch_all(self)
                .await?;
        let mut by_org: HashMap<Uuid, Vec<String>> = HashMap::new();
        for s in services {
            by_org.entry(s.organisation_id).or_default().push(s.name);
        }
        orgs.into_iter()
            .map(|r| {
                Ok(Organisation {
                    id: OrganisationId(r.id),
                    slug: Slug::parse(&r.slug).map_err(StoreError::Corrupt)?,
                    name: r.name,
                    kind: OrganisationKind::parse(&r.kind).map_err(StoreError::Corrupt)?,
                    services: by_org.remove(&r.id).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// One organisation by slug.
    pub async fn get_organisation(&self, slug: &str) -> Result<Option<Organisation>, StoreError> {
        Ok(self
            .list_organisations()
            .await?
            .into_iter()
            .find(|o| o.slug.as_str() == slug))
    }

    // ----- areas -----

    /// Adds an area. A taken code is a [`StoreError::Conflict`].
    pub async fn create_area(&self, area: &Area, actor: &Actor, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query("INSERT INTO areas (code, name, parent) VALUES ($1, $2, $3)")
            .bind(area.code.as_str())
            .bind(&area.name)
            .bind(area.parent.as_ref().map(|p| p.as_str().to_owned()))
            .execute(&mut tx)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => StoreError::Conflict(format!("area {} already exists", area.code)),
                other => other,
            })?;
        let detail = serde_json::to_value(area).unwrap_or(Value::Null);
        tx.audit(actor, now, "area.create", "area", area.code.as_str(), &detail)
            .await?;
        tx.commit().await
    }

    /// Every area, by code.
    pub async fn list_areas(&self) -> Result<Vec<Area>, StoreError> {
        let rows: Vec<AreaRow> = query("SELECT code, name, parent FROM areas ORDER BY code")
            .fetch_all(self)
            .await?;
        rows.into_iter().map(Area::try_from).collect()
    }

    /// The organisations and areas a plan is validated against.
    pub async fn register_snapshot(&self) -> Result<RegisterSnapshot, StoreError> {
        Ok(RegisterSnapshot {
            organisations: self.list_organisations().await?,
            areas: AreaHierarchy::new(self.list_areas().await?),
        })
    }

    // ----- tokens -----

    /// Makes a bearer token; the secret is returned once and only its SHA-256 hash is stored.
    pub async fn create_token(
        &self,
        new: &NewToken,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<IssuedToken, StoreError> {
        let secret = token::generate("cst")?;
        let info = TokenInfo {
            id: uuid::Uuid::now_v7(),
            name: new.name.clone(),
            role: new.role,
            organisation: new.organisation,
        };
        let mut tx = self.begin().await?;
        query(
            "INSERT INTO tokens (id, name, role, organisation_id, token_hash, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(info.id)
        .bind(&info.name)
        .bind(info.role.as_str())
        .bind(info.organisation.map(|o| o.0))
        .bind(token::hash(&secret))
        .bind(now)
        .bind(new.expires_at)
        .execute(&mut tx)
        .await?;
        let detail = json!({
            "name": info.name,
            "role": info.role.as_str(),
            "organisation": info.organisation,
            "expires_at": new.expires_at,
        });
        tx.audit(actor, now, "token.create", "token", &info.id.to_string(), &detail)
            .await?;
        tx.commit().await?;
        Ok(IssuedToken {
            secret,
            info,
            created_at: now,
            expires_at: new.expires_at,
        })
    }

    /// Every token, oldest first, revoked and expired ones included: never a secret or a hash.
    pub async fn list_tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let rows: Vec<TokenRecordRow> = query(format!("SELECT {TOKEN_RECORD_COLUMNS} ORDER BY t.created_at, t.id"))
            .fetch_all(self)
            .await?;
        rows.into_iter().map(TokenRecord::try_from).collect()
    }

    /// Revokes a token from `now` on; an unknown id is [`StoreError::NotFound`]. Revoking a
    /// revoked token changes nothing (and audits nothing). Returns the token as it now stands.
    pub async fn revoke_token(&self, id: Uuid, actor: &Actor, now: DateTime<Utc>) -> Result<TokenRecord, StoreError> {
        let mut tx = self.begin().await?;
        let row: Option<TokenRecordRow> = query(format!("SELECT {TOKEN_RECORD_COLUMNS} WHERE t.id = $1"))
            .bind(id)
            .fetch_optional(&mut tx)
            .await?;
        let Some(row) = row else {
            return Err(StoreError::NotFound(format!("no token {id}")));
        };
        let mut record = TokenRecord::try_from(row)?;
        if record.revoked_at.is_some() {
            return Ok(record);
        }
        query("UPDATE tokens SET revoked_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut tx)
            .await?;
        let detail = json!({ "name": record.info.name, "role": record.info.role.as_str() });
        tx.audit(actor, now, "token.revoke", "token", &id.to_string(), &detail)
            .await?;
        tx.commit().await?;
        record.revoked_at = Some(now);
        Ok(record)
    }

    /// The token with this secret, revoked and expired ones included (the caller decides and
    /// says why it is refused), or `None` when no token has it. Looked up on every request:
    /// nothing is cached, so a revocation takes effect at once on every instance.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<TokenRecord>, StoreError> {
        let row: Option<TokenRecordRow> = query(format!("SELECT {TOKEN_RECORD_COLUMNS} WHERE t.token_hash = $1"))
            .bind(token::hash(secret))
            .fetch_optional(self)
            .await?;
        row.map(TokenRecord::try_from).transpose()
    }

    /// Records that a token was used at `now`. Not audited: it is usage, not a change anyone
    /// made (like rebuilding derived data).
    pub async fn touch_token(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        query("UPDATE tokens SET last_used_at = $2 WHERE id = $1")
            .bind(id)
            .bind(now)
            .execute(&mut tx)
            .await?;
        tx.commit().await
    }
}
