//! Who an activity's invitations reach: the matching rule ([`Matching`]) and the residents'
//! audience index ([`ResidentIndex`]), which answers it for a whole register in milliseconds.
//!
//! The index holds no contact details: per resident only what planning needs (areas, interests,
//! groups, consent, the preferred channel and the recent invitation dates). It is a cache a store
//! keeps fresh, never the source of truth; the decision for each matching resident is still
//! [`invitation_for`](crate::invitation_for), through [`plan_invitations`].

use crate::area::{AreaCode, AreaHierarchy};
use crate::consultation::ConsultationPlan;
use crate::residents::{Candidate, ContactChannel, FatigueRules, InvitationPlan, Resident, plan_invitations};
use chrono::{Datelike, NaiveDate};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// The residents an activity concerns: in any of `areas` (anywhere when empty), with any of
/// `topics` as an interest or in any of `groups`. An activity naming neither topics nor groups
/// matches nobody: invitations are targeted, never sent to everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matching {
    /// The activity's areas with those inside and around them.
    pub areas: Vec<AreaCode>,
    /// Its topics, lower case.
    pub topics: Vec<String>,
    /// Its audience groups.
    pub groups: Vec<String>,
}

impl Matching {
    /// The matching rule of an activity: its audience areas with every area inside or around
    /// them (a county-wide activity reaches a district's residents, and the reverse), its topics
    /// and its audience groups.
    pub fn for_activity(plan: &ConsultationPlan, hierarchy: &AreaHierarchy) -> Self {
        let areas: BTreeSet<AreaCode> = plan
            .audience()
            .areas
            .iter()
            .flat_map(|a| hierarchy.related(a))
            .collect();
        let topics: BTreeSet<String> = plan.topics().iter().map(|t| t.to_lowercase()).collect();
        Self {
            areas: areas.into_iter().collect(),
            topics: topics.into_iter().collect(),
            groups: plan.audience().groups.clone(),
        }
    }

    /// True when nobody can match (no topics and no groups).
    pub fn matches_nobody(&self) -> bool {
        self.topics.is_empty() && self.groups.is_empty()
    }

    /// Whether a resident with these areas, interests (lower case) and groups matches.
    pub fn matches(&self, areas: &[AreaCode], interests: &[String], groups: &[String]) -> bool {
        (self.areas.is_empty() || areas.iter().any(|a| self.areas.contains(a)))
            && (interests.iter().any(|i| self.topics.contains(i)) || groups.iter().any(|g| self.groups.contains(g)))
    }

    /// Whether a registered resident matches.
    pub fn matches_resident(&self, r: &Resident) -> bool {
        self.matches(&r.areas, &r.interests, &r.groups)
    }
}

/// What the audience index keeps of one resident: no contact details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudienceEntry {
    /// The resident.
    pub id: Uuid,
    /// Areas they live or work in.
    pub areas: Vec<AreaCode>,
    /// Topics of interest, lower case.
    pub interests: Vec<String>,
    /// Stakeholder groups.
    pub groups: Vec<String>,
    /// The preferred channel, if any.
    pub channel: Option<ContactChannel>,
    /// Whether consent is in force.
    pub consented: bool,
    /// Whether the contact was verified: an unverified resident is never indexed, so never
    /// matched, invited or counted.
    pub verified: bool,
    /// Recent invitation dates, newest first (as many as any fatigue rule needs).
    pub recent_invitations: Vec<NaiveDate>,
}

/// A matching term: the kind of posting list and its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Term {
    Area(AreaCode),
    Interest(String),
    Group(String),
}

/// One bit per slot.
fn bits(slots: usize) -> Vec<u64> {
    vec![0; slots.div_ceil(64)]
}

fn set(bits: &mut [u64], slot: u32) {
    bits[slot as usize / 64] |= 1 << (slot % 64);
}

/// The residents' register indexed for matching: posting lists of slots per area, interest and
/// group, combined as bitsets; per slot the few facts [`invitation_for`](crate::invitation_for)
/// needs. A resident whose areas, interests or groups change moves to a new slot (postings only
/// ever grow at the end, so they stay sorted); the old slot is dead until [`ResidentIndex::compact`]
/// reclaims it, which upserts and removals do once dead slots outnumber half the live ones.
#[derive(Debug, Default)]
pub struct ResidentIndex {
    ids: Vec<Uuid>,
    slot_of: HashMap<Uuid, u32>,
    alive: Vec<u64>,
    /// Each slot's terms (ids into `postings`), to tell a change of terms from a change of state.
    terms: Vec<Box<[u32]>>,
    consented: Vec<bool>,
    channel: Vec<Option<ContactChannel>>,
    /// Recent invitation days (days from the common era), newest first.
    recent: Vec<Box<[i32]>>,
    term_ids: HashMap<Term, u32>,
    postings: Vec<Vec<u32>>,
    dead: usize,
}

fn day_number(d: NaiveDate) -> i32 {
    d.num_days_from_ce()
}

/// Keeps the entries of live slots, in order.
fn keep<T>(v: &mut Vec<T>, new_slot: &[u32]) {
    let mut i = 0;
    v.retain(|_| {
        i += 1;
        new_slot[i - 1] != u32::MAX
    });
}

impl ResidentIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// Residents indexed.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    /// True when nobody is indexed.
    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// True when the resident is indexed.
    pub fn contains(&self, id: Uuid) -> bool {
        self.slot_of.contains_key(&id)
    }

    fn term_id(&mut self, term: Term) -> u32 {
        let next = self.postings.len() as u32;
        *self.term_ids.entry(term).or_insert_with(|| {
            self.postings.push(Vec::new());
            next
        })
    }

    /// Adds a resident, or brings one up to date; an unverified one is removed (a pending
    /// registration is nobody to invite yet).
    pub fn upsert(&mut self, entry: AudienceEntry) {
        if !entry.verified {
            self.remove(entry.id);
            return;
        }
        let terms = entry
            .areas
            .into_iter()
            .map(Term::Area)
            .chain(entry.interests.into_iter().map(Term::Interest))
            .chain(entry.groups.into_iter().map(Term::Group));
        let mut ids: Vec<u32> = terms.map(|t| self.term_id(t)).collect();
        ids.sort_unstable();
        ids.dedup();
        let recent: Box<[i32]> = entry.recent_invitations.iter().map(|d| day_number(*d)).collect();
        if let Some(&slot) = self.slot_of.get(&entry.id) {
            let s = slot as usize;
            if *self.terms[s] == *ids {
                self.consented[s] = entry.consented;
                self.channel[s] = entry.channel;
                self.recent[s] = recent;
                return;
            }
            self.kill(slot);
        }
        let slot = self.ids.len() as u32;
        for &t in &ids {
            self.postings[t as usize].push(slot);
        }
        self.ids.push(entry.id);
        self.slot_of.insert(entry.id, slot);
        if self.alive.len() * 64 <= slot as usize {
            self.alive.push(0);
        }
        set(&mut self.alive, slot);
        self.terms.push(ids.into_boxed_slice());
        self.consented.push(entry.consented);
        self.channel.push(entry.channel);
        self.recent.push(recent);
        self.compact_if_sparse();
    }

    fn kill(&mut self, slot: u32) {
        self.alive[slot as usize / 64] &= !(1 << (slot % 64));
        self.recent[slot as usize] = Box::default();
        self.dead += 1;
    }

    /// Removes a resident. Returns false when they were not indexed.
    pub fn remove(&mut self, id: Uuid) -> bool {
        let Some(slot) = self.slot_of.remove(&id) else {
            return false;
        };
        self.kill(slot);
        self.compact_if_sparse();
        true
    }

    fn compact_if_sparse(&mut self) {
        if self.dead > 1024 && self.dead * 2 > self.len() {
            self.compact();
        }
    }

    /// Drops dead slots and renumbers the live ones in order (postings stay sorted).
    pub fn compact(&mut self) {
        if self.dead == 0 {
            return;
        }
        let mut new_slot = vec![u32::MAX; self.ids.len()];
        let mut next = 0u32;
        for (old, n) in new_slot.iter_mut().enumerate() {
            if self.alive[old / 64] & (1 << (old % 64)) != 0 {
                *n = next;
                next += 1;
            }
        }
        keep(&mut self.ids, &new_slot);
        keep(&mut self.terms, &new_slot);
        keep(&mut self.consented, &new_slot);
        keep(&mut self.channel, &new_slot);
        keep(&mut self.recent, &new_slot);
        for p in &mut self.postings {
            p.retain_mut(|s| {
                *s = new_slot[*s as usize];
                *s != u32::MAX
            });
        }
        self.alive = bits(self.ids.len());
        for s in 0..next {
            set(&mut self.alive, s);
        }
        for s in self.slot_of.values_mut() {
            *s = new_slot[*s as usize];
        }
        self.dead = 0;
    }

    /// The union of the postings of these terms, as bits.
    fn union(&self, terms: impl IntoIterator<Item = Term>, out: &mut [u64]) {
        for t in terms {
            if let Some(&id) = self.term_ids.get(&t) {
                for &slot in &self.postings[id as usize] {
                    set(out, slot);
                }
            }
        }
    }

    /// The indexed residents who match, in slot order.
    pub fn matching<'a>(&'a self, m: &Matching) -> impl Iterator<Item = Uuid> + 'a {
        self.matching_slots(m).map(|s| self.ids[s as usize])
    }

    fn matching_slots(&self, m: &Matching) -> impl Iterator<Item = u32> + '_ {
        let mut hits = bits(self.ids.len());
        if !m.matches_nobody() {
            self.union(
                m.topics
                    .iter()
                    .map(|t| Term::Interest(t.clone()))
                    .chain(m.groups.iter().map(|g| Term::Group(g.clone()))),
                &mut hits,
            );
            if !m.areas.is_empty() {
                let mut within = bits(self.ids.len());
                self.union(m.areas.iter().cloned().map(Term::Area), &mut within);
                hits.iter_mut().zip(&within).for_each(|(h, w)| *h &= w);
            }
            hits.iter_mut().zip(&self.alive).for_each(|(h, a)| *h &= a);
        }
        hits.into_iter().enumerate().flat_map(|(word, mut b)| {
            std::iter::from_fn(move || {
                (b != 0).then(|| {
                    let bit = b.trailing_zeros();
                    b &= b - 1;
                    word as u32 * 64 + bit
                })
            })
        })
    }

    /// The matching residents as the planner sees them on a day whose fatigue window starts on
    /// `window_start`; `already_invited` are those invited to this activity before.
    pub fn candidates<'a>(
        &'a self,
        m: &Matching,
        window_start: NaiveDate,
        already_invited: &'a HashSet<Uuid>,
    ) -> impl Iterator<Item = Candidate> + 'a {
        let start = day_number(window_start);
        self.matching_slots(m).map(move |slot| {
            let s = slot as usize;
            let recent = &self.recent[s];
            let in_window = recent.partition_point(|d| *d >= start);
            let id = self.ids[s];
            Candidate {
                id,
                channel: self.channel[s],
                consented: self.consented[s],
                contacts_in_window: in_window as u32,
                last_contact: (in_window > 0)
                    .then(|| NaiveDate::from_num_days_from_ce_opt(recent[0]))
                    .flatten(),
                already_invited: already_invited.contains(&id),
            }
        })
    }

    /// The invitation plan for an activity matched by `m`, under `rules` on `today`.
    pub fn plan(
        &self,
        m: &Matching,
        already_invited: &HashSet<Uuid>,
        rules: &FatigueRules,
        today: NaiveDate,
    ) -> InvitationPlan {
        plan_invitations(
            self.candidates(m, rules.window_start(today), already_invited),
            rules,
            today,
        )
    }

    /// Approximate heap memory held, in bytes.
    pub fn memory_bytes(&self) -> usize {
        let n = self.ids.len();
        n * (size_of::<Uuid>() + size_of::<Box<[u32]>>() + size_of::<Box<[i32]>>() + 2)
            + self.terms.iter().map(|t| t.len() * 4).sum::<usize>()
            + self.recent.iter().map(|r| r.len() * 4).sum::<usize>()
            + self.slot_of.capacity() * (size_of::<Uuid>() + 4 + 1)
            + self.postings.iter().map(|p| p.capacity() * 4).sum::<usize>()
            + self.alive.len() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::residents::invitation_for;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn code(i: u8) -> AreaCode {
        AreaCode::parse(&format!("E0700000{i}")).unwrap()
    }

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 6, 1).unwrap() - chrono::Duration::days(n)
    }

    fn entry(id: u128, areas: &[u8], interests: &[&str], groups: &[&str]) -> AudienceEntry {
        AudienceEntry {
            id: Uuid::from_u128(id),
            areas: areas.iter().map(|a| code(*a)).collect(),
            interests: interests.iter().map(|s| (*s).to_owned()).collect(),
            groups: groups.iter().map(|s| (*s).to_owned()).collect(),
            channel: Some(ContactChannel::Email),
            consented: true,
            verified: true,
            recent_invitations: vec![],
        }
    }

    fn matching(areas: &[u8], topics: &[&str], groups: &[&str]) -> Matching {
        Matching {
            areas: areas.iter().map(|a| code(*a)).collect(),
            topics: topics.iter().map(|s| (*s).to_owned()).collect(),
            groups: groups.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn matching_needs_an_area_and_an_interest_or_group() {
        let mut index = ResidentIndex::new();
        index.upsert(entry(1, &[1], &["parks"], &[]));
        index.upsert(entry(2, &[2], &["parks"], &[]));
        index.upsert(entry(3, &[1], &["budget"], &["tenants"]));
        index.upsert(entry(4, &[1], &["budget"], &[]));
        let found: Vec<Uuid> = index.matching(&matching(&[1], &["parks"], &["tenants"])).collect();
        assert_eq!(found, [Uuid::from_u128(1), Uuid::from_u128(3)]);
        // Anywhere when the activity names no area.
        assert_eq!(index.matching(&matching(&[], &["parks"], &[])).count(), 2);
        // Nobody when it names neither topics nor groups.
        assert_eq!(index.matching(&matching(&[1, 2], &[], &[])).count(), 0);
    }

    #[test]
    fn a_change_of_terms_moves_the_resident_and_a_change_of_state_does_not() {
        let mut index = ResidentIndex::new();
        index.upsert(entry(1, &[1], &["parks"], &[]));
        let mut e = entry(1, &[1], &["parks"], &[]);
        e.consented = false;
        e.recent_invitations = vec![day(3), day(40)];
        index.upsert(e);
        assert_eq!(index.dead, 0);
        let seen: Vec<Candidate> = index
            .candidates(&matching(&[1], &["parks"], &[]), day(30), &HashSet::new())
            .collect();
        assert_eq!(seen.len(), 1);
        assert!(!seen[0].consented);
        assert_eq!(seen[0].contacts_in_window, 1);
        assert_eq!(seen[0].last_contact, Some(day(3)));
        index.upsert(entry(1, &[2], &["parks"], &[]));
        assert_eq!(index.dead, 1);
        assert_eq!(index.matching(&matching(&[1], &["parks"], &[])).count(), 0);
        assert_eq!(index.matching(&matching(&[2], &["parks"], &[])).count(), 1);
        assert!(index.remove(Uuid::from_u128(1)));
        assert!(!index.remove(Uuid::from_u128(1)));
        assert!(index.is_empty());
        assert_eq!(index.matching(&matching(&[2], &["parks"], &[])).count(), 0);
    }

    fn arb_entry() -> impl Strategy<Value = AudienceEntry> {
        (
            0u128..40,
            proptest::collection::vec(0u8..4, 0..3),
            proptest::collection::vec(prop::sample::select(vec!["parks", "budget", "waste"]), 0..3),
            proptest::collection::vec(prop::sample::select(vec!["tenants", "carers"]), 0..2),
            proptest::option::of(prop::sample::select(vec![ContactChannel::Email, ContactChannel::Post])),
            any::<bool>(),
            proptest::collection::btree_set(0i64..400, 0..6),
            prop::bool::weighted(0.8),
        )
            .prop_map(|(id, areas, interests, groups, channel, consented, days, verified)| {
                let mut e = entry(id, &areas, &interests, &groups);
                e.channel = channel;
                e.consented = consented;
                e.verified = verified;
                // Newest first.
                e.recent_invitations = days.into_iter().map(day).collect();
                e
            })
    }

    #[derive(Debug, Clone)]
    enum Op {
        Upsert(AudienceEntry),
        Remove(u128),
        Compact,
    }

    fn arb_op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => arb_entry().prop_map(Op::Upsert),
            2 => (0u128..40).prop_map(Op::Remove),
            1 => Just(Op::Compact),
        ]
    }

    proptest! {
        /// After any sequence of upserts, removals and compactions, the index plans exactly as
        /// the core rule does over the residents it should hold, checked one by one.
        #[test]
        fn the_index_plans_as_the_rule_over_every_resident(
            ops in proptest::collection::vec(arb_op(), 0..120),
            areas in proptest::collection::vec(0u8..4, 0..3),
            topics in proptest::collection::vec(prop::sample::select(vec!["parks", "budget", "waste"]), 0..2),
            groups in proptest::collection::vec(prop::sample::select(vec!["tenants", "carers"]), 0..2),
            invited in proptest::collection::btree_set(0u128..40, 0..5),
            max_contacts in 1u32..5,
            window_days in 30u32..400,
            gap in 0u32..30,
        ) {
            let mut index = ResidentIndex::new();
            let mut model: BTreeMap<Uuid, AudienceEntry> = BTreeMap::new();
            for op in ops {
                match op {
                    // An unverified resident leaves the index (a pending registration, or a
                    // record about to be purged), so the model keeps only verified ones.
                    Op::Upsert(e) if e.verified => {
                        model.insert(e.id, e.clone());
                        index.upsert(e);
                    }
                    Op::Upsert(e) => {
                        let id = e.id;
                        model.remove(&id);
                        index.upsert(e);
                        prop_assert!(!index.contains(id));
                    }
                    Op::Remove(id) => {
                        let id = Uuid::from_u128(id);
                        prop_assert_eq!(index.remove(id), model.remove(&id).is_some());
                    }
                    Op::Compact => index.compact(),
                }
            }
            prop_assert_eq!(index.len(), model.len());
            let m = matching(&areas, &topics, &groups);
            let invited: HashSet<Uuid> = invited.into_iter().map(Uuid::from_u128).collect();
            let rules = FatigueRules { max_contacts, window_days, min_gap_days: gap.min(window_days), max_concurrent: 3 };
            let today = day(0);
            let start = rules.window_start(today);
            let mut got = index.plan(&m, &invited, &rules, today);
            got.invited.sort();
            let expected_candidates = model.values().filter(|e| m.matches(&e.areas, &e.interests, &e.groups)).map(|e| {
                let window: Vec<&NaiveDate> = e.recent_invitations.iter().filter(|d| **d >= start).collect();
                Candidate {
                    id: e.id,
                    channel: e.channel,
                    consented: e.consented,
                    contacts_in_window: window.len() as u32,
                    last_contact: window.first().map(|d| **d),
                    already_invited: invited.contains(&e.id),
                }
            });
            let mut expected = InvitationPlan::default();
            for c in expected_candidates {
                match invitation_for(&c, &rules, today) {
                    Ok(ch) => {
                        expected.invited.push((c.id, ch));
                        *expected.by_channel.entry(ch).or_default() += 1;
                    }
                    Err(r) => *expected.excluded.entry(r).or_default() += 1,
                }
            }
            expected.invited.sort();
            prop_assert_eq!(got, expected);
        }
    }
}
