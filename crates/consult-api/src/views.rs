//! What the API sends: response bodies built from core records.

pub use consult_app::views::{ConsultationView, CostView, OrganisationView, OwnerView};
use consult_core::{ContinuumModel, InvolvementLevel, Stage};
use serde::Serialize;
use utoipa::ToSchema;

/// A page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListPage<T: ToSchema> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A plain list (no pagination).
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T: ToSchema> {
    /// The items.
    pub items: Vec<T>,
}

/// A canonical level with its plain-English meaning.
#[derive(Debug, Serialize, ToSchema)]
pub struct LevelView {
    /// API name.
    pub level: InvolvementLevel,
    /// Position, 0 (inform) to 5 (empower).
    pub rank: u8,
    /// Display label.
    pub label: &'static str,
    /// What it means for the public.
    pub description: &'static str,
}

/// One published model and its stages.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModelView {
    /// API name.
    pub model: ContinuumModel,
    /// Full name and source.
    pub name: &'static str,
    /// Stages, low to high, with the canonical levels each covers.
    pub stages: Vec<Stage>,
    /// Canonical levels this model has no stage for.
    pub unmapped_levels: Vec<InvolvementLevel>,
}

/// The continuum: canonical levels and every model mapped to them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContinuumView {
    /// Canonical levels, low to high.
    pub levels: Vec<LevelView>,
    /// Published models.
    pub models: Vec<ModelView>,
}

impl ContinuumView {
    /// The whole continuum.
    pub fn build() -> Self {
        Self {
            levels: InvolvementLevel::ALL
                .into_iter()
                .map(|l| LevelView {
                    level: l,
                    rank: l.rank(),
                    label: l.label(),
                    description: l.plain_english(),
                })
                .collect(),
            models: ContinuumModel::ALL
                .into_iter()
                .map(|m| ModelView {
                    model: m,
                    name: m.name(),
                    stages: m.stages().to_vec(),
                    unmapped_levels: InvolvementLevel::ALL
                        .into_iter()
                        .filter(|l| m.to_model(*l).is_none())
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A new token: the secret is shown once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    /// Token id.
    pub id: String,
    /// The bearer secret; store it now, it cannot be shown again.
    pub token: String,
    /// Holder's name.
    pub name: String,
    /// Role.
    pub role: consult_core::Role,
    /// Organisation slug, for officers.
    pub organisation: Option<String>,
    /// When it was issued.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it stops working.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A token as the administrators' list shows it: never its secret or its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenSummary {
    /// Token id.
    pub id: String,
    /// Holder's name.
    pub name: String,
    /// Role.
    pub role: consult_core::Role,
    /// Organisation slug.
    pub organisation: Option<String>,
    /// When it was issued.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last used, to the minute (null: never).
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it stops working (null: never, for tokens issued before tokens expired).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was revoked (null: not revoked).
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<consult_app::TokenRecord> for TokenSummary {
    fn from(t: consult_app::TokenRecord) -> Self {
        Self {
            id: t.info.id.to_string(),
            name: t.info.name,
            role: t.info.role,
            organisation: t.organisation_slug,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            expires_at: t.expires_at,
            revoked_at: t.revoked_at,
        }
    }
}

/// Health.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// `sqlite` or `postgres`.
    pub database: &'static str,
}
