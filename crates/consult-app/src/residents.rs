//! The residents' register: people who asked to be invited, who verify their contact with the
//! code sent to it, and see, download, pause or delete their own registration with a private
//! key; the deletion of registrations never verified; and each organisation's fatigue rules.
//!
//! One contact is one resident: a registration is pending until its code comes back, and a
//! verified registration of a contact a resident already holds updates that resident.

use crate::App;
use crate::error::{AppError, AppResult};
use crate::organisations::{require_admin, require_coordinator};
use chrono::{DateTime, Days, Utc};
use consult_core::{Actor, ContactChannel, FatigueRules, Resident, ResidentInput, ValidationErrors, normalise_code};
use consult_store::{ContactRecord, Verified};
use uuid::Uuid;

/// A registration just made, pending verification: the record and its private management key
/// (shown once, stored hashed). The verification code waits in the store for delivery.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The registration.
    pub resident: Resident,
    /// The management key.
    pub key: String,
    /// Where the verification code is sent.
    pub code_sent_by: ContactChannel,
}

impl App {
    /// Registers a resident's interests, areas, groups and channels with their consent, pending
    /// verification: never invited until [`App::verify_resident`] is given the code sent to the
    /// contact, and deleted if it is not within the configured days.
    pub async fn register_resident(&self, input: ResidentInput) -> AppResult<Registration> {
        let areas = self.area_hierarchy().await?;
        let resident = Resident::parse(Uuid::now_v7(), input, &areas, self.now())?;
        let key = self.store.register_resident(&resident, self.now()).await?;
        self.wake_delivery();
        Ok(Registration {
            code_sent_by: resident.verification_channel(),
            resident,
            key,
        })
    }

    /// The oldest moment a pending registration may have been made and still verify.
    fn unverified_cutoff(&self) -> DateTime<Utc> {
        let now = self.now();
        now.checked_sub_days(Days::new(u64::from(self.unverified_days())))
            .unwrap_or(now)
    }

    /// Verifies a pending registration by the code sent to its contact. A wrong or expired code
    /// is invalid (`code`); a contact a verified resident already holds updates that resident
    /// (whose management key becomes the registration's), so one contact is one resident.
    pub async fn verify_resident(&self, code: &str) -> AppResult<Verified> {
        let wrong = || {
            let mut e = ValidationErrors::new();
            e.push(
                "code",
                "is not a code we sent, or it has expired: register again for a new one",
            );
            AppError::from(e)
        };
        let code = normalise_code(code).ok_or_else(wrong)?;
        self.store
            .verify_resident(&code, self.unverified_cutoff(), self.now())
            .await?
            .ok_or_else(wrong)
    }

    /// Deletes every registration left unverified for longer than the configured days (the
    /// server's hourly sweep, and `consult residents purge`). Returns how many were deleted.
    pub async fn purge_unverified(&self, actor: &Actor) -> AppResult<u64> {
        require_admin(actor)?;
        Ok(self
            .store
            .purge_unverified(self.unverified_cutoff(), actor, self.now())
            .await?)
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

    /// Whether `token` is the unsubscribe token of `resident`, a registration that exists.
    pub async fn unsubscribe_link_valid(&self, resident: Uuid, token: &str) -> AppResult<bool> {
        Ok(self.unsubscribe_token_valid(resident, token).await? && self.store.resident_exists(resident).await?)
    }

    /// Stops every invitation to the resident whose one-click unsubscribe link this is (the
    /// link in each message's footer and `List-Unsubscribe` header): consent withdrawn, waiting
    /// invitations cancelled. A wrong token, or a registration since erased, is not found (the
    /// answer does not say which); unsubscribing twice is the same as once.
    pub async fn unsubscribe_by_link(&self, resident: Uuid, token: &str) -> AppResult<()> {
        if !self.unsubscribe_link_valid(resident, token).await? {
            return Err(AppError::NotFound("no registration for this unsubscribe link".into()));
        }
        self.store.unsubscribe(resident, self.now()).await?;
        Ok(())
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
