//! The residents' register: people who asked to be invited, who see, download, pause or delete
//! their own registration with a private key; and each organisation's fatigue rules.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::organisations::require_coordinator;
use consult_core::{Actor, FatigueRules, Resident, ResidentInput};
use consult_store::ContactRecord;
use uuid::Uuid;

/// A registration just made: the resident and their private management key (shown once,
/// stored hashed).
#[derive(Debug, Clone)]
pub struct Registration {
    /// The registration.
    pub resident: Resident,
    /// The management key.
    pub key: String,
}

impl App {
    /// Registers a resident's interests, areas, groups and channels with their consent.
    pub async fn register_resident(&self, input: ResidentInput) -> AppResult<Registration> {
        let areas = self.area_hierarchy().await?;
        let resident = Resident::parse(Uuid::now_v7(), input, &areas, self.now())?;
        let key = self.store.create_resident(&resident, self.now()).await?;
        Ok(Registration { resident, key })
    }

    /// A resident's own record, given their registration id and management key; not found if
    /// either is wrong (the answer does not say which).
    pub async fn own_registration(&self, id: Uuid, key: &str) -> AppResult<Resident> {
        self.store
            .resident(id, key)
            .await?
            .ok_or_else(|| AppError::NotFound("no registration with this id and token".into()))
    }

    /// Everything held about a resident: their record and every contact-log entry.
    pub async fn export_registration(&self, id: Uuid, key: &str) -> AppResult<(Resident, Vec<ContactRecord>)> {
        let resident = self.own_registration(id, key).await?;
        let contacts = self.store.resident_contacts(resident.id).await?;
        Ok((resident, contacts))
    }

    /// Erases a registration and its contact log.
    pub async fn delete_registration(&self, id: Uuid, key: &str) -> AppResult<()> {
        let resident = self.own_registration(id, key).await?;
        self.store.delete_resident(resident.id, self.now()).await?;
        Ok(())
    }

    /// Withdraws a resident's consent: no more invitations. Returns the record after.
    pub async fn unsubscribe(&self, id: Uuid, key: &str) -> AppResult<Resident> {
        let resident = self.own_registration(id, key).await?;
        self.store.unsubscribe(resident.id, self.now()).await?;
        Ok(Resident {
            consent_at: None,
            ..resident
        })
    }

    /// An organisation's fatigue rules (the defaults until set).
    pub async fn fatigue_rules(&self, organisation: &str) -> AppResult<FatigueRules> {
        let org = self.organisation(organisation).await?;
        Ok(self.store.fatigue_rules(org.id).await?)
    }

    /// Sets an organisation's fatigue rules (coordinators).
    pub async fn set_fatigue_rules(
        &self,
        actor: &Actor,
        organisation: &str,
        rules: FatigueRules,
    ) -> AppResult<FatigueRules> {
        require_coordinator(actor)?;
        let org = self.organisation(organisation).await?;
        rules.validate()?;
        self.store.set_fatigue_rules(&org, &rules, actor, self.now()).await?;
        Ok(rules)
    }
}
