//! Targeted invitations and fatigue findings for a stored activity: the residents who match it,
//! planned under the owner organisation's fatigue rules (in consult-core).
//!
//! Plans are decided either from a [`ResidentCache`] (a server keeps one: a few milliseconds for
//! a whole register) or, without one, in the database by the SQL twin of the core rule (a one-off
//! command need not load the register). Both are pinned to [`consult_core::plan_invitations`] by
//! the store's conformance tests.

use crate::audience::ResidentCache;
use chrono::NaiveDate;
use consult_core::{
    Area, AreaCode, AreaHierarchy, Consultation, Exclusion, FatigueFinding, FatigueKind, FatigueRules, InvitationPlan,
    Matching, Status,
};
use consult_store::{ConsultationFilter, PageRequest, Reader, Store, StoreError};

/// What planning and fatigue checks read from the store once: the owner's rules and the areas.
struct Setting {
    rules: FatigueRules,
    areas: Vec<Area>,
    hierarchy: AreaHierarchy,
}

impl Setting {
    async fn load(store: &Store, c: &Consultation) -> Result<Setting, StoreError> {
        let rules = store.fatigue_rules(c.organisation_id).await?;
        let areas = store.list_areas().await?;
        let hierarchy = AreaHierarchy::new(areas.clone());
        Ok(Setting {
            rules,
            areas,
            hierarchy,
        })
    }
}

/// Plans invitations for an activity on `today`: matching residents, their preferred channel,
/// and who is left out under the fatigue rules and why. From `residents` when given, else in
/// the database.
pub async fn plan(
    store: &Store,
    residents: Option<&ResidentCache>,
    c: &Consultation,
    today: NaiveDate,
) -> Result<InvitationPlan, StoreError> {
    plan_with(store, residents, c, today, &Setting::load(store, c).await?, true).await
}

async fn plan_with(
    store: &Store,
    residents: Option<&ResidentCache>,
    c: &Consultation,
    today: NaiveDate,
    s: &Setting,
    rows: bool,
) -> Result<InvitationPlan, StoreError> {
    let matching = Matching::for_activity(&c.plan, &s.hierarchy);
    match residents {
        Some(cache) => cache.plan(store, c.id, &matching, &s.rules, today).await,
        None => store.invitation_plan(c.id, &matching, &s.rules, today, rows).await,
    }
}

/// Fatigue findings for an activity: matching residents who would exceed the person rules, and
/// audience groups in areas that already have too many activities open at the same time.
pub async fn fatigue(
    store: &Store,
    residents: Option<&ResidentCache>,
    c: &Consultation,
    today: NaiveDate,
) -> Result<Vec<FatigueFinding>, StoreError> {
    let setting = Setting::load(store, c).await?;
    let rules = &setting.rules;
    let mut findings = audience_with(store, c, today, &setting).await?;
    // Counts only: the residents left out are never read.
    let plan = plan_with(store, residents, c, today, &setting, false).await?;
    for (reason, rule, what) in [
        (
            Exclusion::FatigueMaxContacts,
            "max_contacts",
            format!(
                "already invited {} times in {} days",
                rules.max_contacts, rules.window_days
            ),
        ),
        (
            Exclusion::FatigueMinGap,
            "min_gap",
            format!("invited in the last {} days", rules.min_gap_days),
        ),
    ] {
        if let Some(&count) = plan.excluded.get(&reason) {
            findings.insert(
                0,
                FatigueFinding {
                    kind: FatigueKind::Person,
                    rule: rule.into(),
                    detail: format!("{count} matching residents were {what}; they will not be invited"),
                    count,
                },
            );
        }
    }
    Ok(findings)
}

/// Audience groups in areas that would have more than the allowed activities open at once.
pub async fn audience_fatigue(
    store: &Store,
    c: &Consultation,
    today: NaiveDate,
) -> Result<Vec<FatigueFinding>, StoreError> {
    audience_with(store, c, today, &Setting::load(store, c).await?).await
}

async fn audience_with(
    store: &Store,
    c: &Consultation,
    today: NaiveDate,
    s: &Setting,
) -> Result<Vec<FatigueFinding>, StoreError> {
    let (rules, areas, hierarchy) = (&s.rules, &s.areas, &s.hierarchy);
    let mut findings = Vec::new();
    let area_choices: Vec<Option<&AreaCode>> = if c.plan.audience().areas.is_empty() {
        vec![None]
    } else {
        c.plan.audience().areas.iter().map(Some).collect()
    };
    for group in &c.plan.audience().groups {
        for area in &area_choices {
            let filter = ConsultationFilter {
                statuses: vec![Status::Approved, Status::Open],
                group: Some(group.clone()),
                areas: area
                    .map(|a| hierarchy.related(a).into_iter().collect())
                    .unwrap_or_default(),
                from: Some(c.plan.opens_on()),
                to: Some(c.plan.closes_on()),
                ..Default::default()
            };
            let page = PageRequest {
                limit: 500,
                cursor: None,
            };
            let others: Vec<Consultation> = store
                .list_consultations(&filter, &Reader::Everything, today, &page)
                .await?
                .items
                .into_iter()
                .filter(|o| o.id != c.id)
                .collect();
            if others.len() as u64 >= u64::from(rules.max_concurrent) {
                let place = area
                    .and_then(|a| areas.iter().find(|x| &x.code == a))
                    .map_or_else(|| "the whole area".to_owned(), |a| format!("{} ({})", a.name, a.code));
                let titles: Vec<&str> = others.iter().take(5).map(|o| o.plan.title()).collect();
                findings.push(FatigueFinding {
                    kind: FatigueKind::Audience,
                    rule: "max_concurrent".into(),
                    detail: format!(
                        "{group} in {place} already have {} activities open at the same time (the limit is {}): {}",
                        others.len(),
                        rules.max_concurrent,
                        titles.join("; ")
                    ),
                    count: others.len() as u64,
                });
            }
        }
    }
    Ok(findings)
}

/// An invitation plan, and how many invitations committing it queued.
#[derive(Debug, Clone, PartialEq)]
pub struct Invitations {
    /// Who is invited, by which channel, and who is left out.
    pub plan: InvitationPlan,
    /// Invitations newly queued in the outbox (0 for a dry run, and for residents already
    /// invited to the activity: one invitation each, however often the plan is committed).
    pub queued: u64,
}

impl Invitations {
    /// The counts the API answers and the CLI prints; `recorded` says whether the plan was
    /// committed.
    pub fn view(&self, recorded: bool) -> InvitationView {
        InvitationView {
            invited: self.plan.invited.len() as u64,
            queued: self.queued,
            by_channel: self
                .plan
                .by_channel
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), *v))
                .collect(),
            excluded: self
                .plan
                .excluded
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), *v))
                .collect(),
            recorded,
        }
    }
}

/// An invitation plan as the API answers it: counts only, never names.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationView {
    /// Residents invited.
    pub invited: u64,
    /// Invitations newly queued in the outbox by this commit (0 for a dry run, and for
    /// residents already invited to the activity).
    pub queued: u64,
    /// Invitations per channel.
    pub by_channel: std::collections::BTreeMap<String, u64>,
    /// Matching residents left out, per reason.
    pub excluded: std::collections::BTreeMap<String, u64>,
    /// Whether the plan was committed (contacts recorded, invitations queued).
    pub recorded: bool,
}

/// What became of an activity's invitations: counts for its owner's officers, and the messages
/// themselves (recipients masked) for coordinators.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationDeliveries {
    /// Invitations queued for the activity, all told.
    pub total: u64,
    /// Per channel (`email`, `sms`, `post`), per status (`queued`, `sending`, `sent`,
    /// `failed`, `cancelled`, `suppressed`); absent pairs are zero.
    pub by_channel: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>>,
    /// Per status, all channels together.
    pub by_status: std::collections::BTreeMap<String, u64>,
    /// When the oldest invitation still waiting became due (null when none waits).
    pub oldest_waiting: Option<chrono::DateTime<chrono::Utc>>,
    /// The invitations, newest first, a page at a time, recipients masked: coordinators only
    /// (null for officers).
    pub messages: Option<Vec<crate::outbox::MessageView>>,
    /// Pass as `cursor` for the next page of `messages`.
    pub next_cursor: Option<String>,
}

impl crate::App {
    /// What became of an activity's invitations (its owner's officers and coordinators; the
    /// messages themselves, masked, for coordinators only).
    pub async fn invitation_deliveries(
        &self,
        actor: &consult_core::Actor,
        id: consult_core::ConsultationId,
        page: &consult_store::PageRequest,
    ) -> crate::AppResult<InvitationDeliveries> {
        let c = self.writable_consultation(actor, id).await?;
        let counts = self.store.invitation_counts(c.id).await?;
        let mut by_channel: std::collections::BTreeMap<String, std::collections::BTreeMap<String, u64>> =
            std::collections::BTreeMap::new();
        let mut by_status: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
        for ((channel, status), n) in &counts.counts {
            by_channel
                .entry(channel.as_str().to_owned())
                .or_default()
                .insert(status.as_str().to_owned(), *n);
            *by_status.entry(status.as_str().to_owned()).or_default() += n;
        }
        let (messages, next_cursor) = if actor.is_coordinator() {
            let filter = consult_store::OutboxFilter {
                kind: Some(consult_core::MessageKind::Invitation),
                consultation: Some(c.id),
                ..consult_store::OutboxFilter::default()
            };
            let found = self.store.list_outbox(&filter, page).await?;
            (
                Some(found.items.into_iter().map(crate::outbox::MessageView::from).collect()),
                found.next.map(|c| c.encode()),
            )
        } else {
            (None, None)
        };
        Ok(InvitationDeliveries {
            total: by_status.values().sum(),
            by_channel,
            by_status,
            oldest_waiting: counts.oldest_waiting,
            messages,
            next_cursor,
        })
    }

    /// Plans invitations to an activity's matching residents under its owner's fatigue rules
    /// (coordinators); unless `dry_run`, records them in the contact log and queues each
    /// invitation in the outbox on the resident's channel, in one transaction (approved or open
    /// activities only). Counts, never people, leave this function.
    pub async fn invite(
        &self,
        actor: &consult_core::Actor,
        id: consult_core::ConsultationId,
        dry_run: bool,
    ) -> crate::AppResult<Invitations> {
        if !actor.is_coordinator() {
            return Err(crate::AppError::Forbidden(
                "only a coordinator or admin can do this".into(),
            ));
        }
        let c = self.writable_consultation(actor, id).await?;
        let today = self.today();
        let plan = plan(&self.store, self.residents.as_deref(), &c, today).await?;
        let mut queued = 0;
        if !dry_run {
            c.check_takes_invitations(today)?;
            let owner = self.organisation(c.plan.organisation().as_str()).await?;
            let fields = consult_core::invitation_fields(&c, &owner.name);
            queued = self
                .store
                .record_invitations(c.id, &plan.invited, &fields, actor, self.now())
                .await?;
            self.wake_delivery();
        }
        Ok(Invitations { plan, queued })
    }

    /// Fatigue findings for the audience of an activity `actor` may change.
    pub async fn fatigue(
        &self,
        actor: &consult_core::Actor,
        id: consult_core::ConsultationId,
    ) -> crate::AppResult<Vec<FatigueFinding>> {
        let c = self.writable_consultation(actor, id).await?;
        Ok(fatigue(&self.store, self.residents.as_deref(), &c, self.today()).await?)
    }
}
