//! The incremental inverted index of the register: terms, postings, areas and the dense
//! per-activity data the first pass of a query reads.

use super::score::{day_number, group_mask};
use super::subject::OverlapSubject;
use super::text::Analyzer;
use crate::area::AreaCode;
use crate::consultation::ConsultationId;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub(super) struct IndexedDoc {
    pub(super) subject: OverlapSubject,
    pub(super) terms: Vec<(u32, f32)>,
    pub(super) norm: f32,
    /// Interned area codes, sorted.
    pub(super) areas: Vec<u32>,
    /// Stakeholder groups as bits (position in the catalogue).
    pub(super) groups: u32,
    /// Opening and closing day numbers.
    pub(super) window: (i32, i32),
}

/// What the first pass of a query reads for every touched activity, kept in one dense array so
/// the scan stays in cache.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Hot {
    pub(super) window: (i32, i32),
    pub(super) groups: u32,
    /// Up to two interned areas inline; `n_areas` above 2 means "read them from the document".
    pub(super) areas: [u32; 2],
    pub(super) n_areas: u8,
    pub(super) live: bool,
}

impl Hot {
    fn of(doc: &IndexedDoc) -> Hot {
        let mut areas = [0u32; 2];
        for (slot, a) in areas.iter_mut().zip(&doc.areas) {
            *slot = *a;
        }
        Hot {
            window: doc.window,
            groups: doc.groups,
            areas,
            n_areas: u8::try_from(doc.areas.len()).unwrap_or(u8::MAX),
            live: true,
        }
    }
}

/// An incremental index of the register for overlap queries.
#[derive(Debug, Clone, Default)]
pub struct OverlapIndex {
    analyzer: Analyzer,
    pub(super) vocab: HashMap<String, u32>,
    pub(super) surface: Vec<String>,
    pub(super) df: Vec<u32>,
    /// Per term: (slot, term weight divided by the document's norm), in slot order.
    pub(super) postings: Vec<Vec<(u32, f32)>>,
    pub(super) docs: Vec<Option<IndexedDoc>>,
    pub(super) slots: HashMap<ConsultationId, u32>,
    stale: usize,
    pub(super) area_ids: HashMap<AreaCode, u32>,
    pub(super) hot: Vec<Hot>,
}
impl OverlapIndex {
    /// An empty index.
    pub fn new() -> Self {
        Self::default()
    }

    /// An index of every subject.
    pub fn build(subjects: impl IntoIterator<Item = OverlapSubject>) -> Self {
        let mut index = Self::new();
        for s in subjects {
            index.upsert(s);
        }
        index.refresh_norms();
        index
    }

    /// Number of activities indexed.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// True when `id` is indexed.
    pub fn contains(&self, id: ConsultationId) -> bool {
        self.slots.contains_key(&id)
    }

    pub(super) fn idf(&self, df: u32) -> f32 {
        let n = self.slots.len() as f32;
        ((n + 1.0) / (df as f32 + 1.0)).ln() + 1.0
    }

    /// Term frequencies of a subject: 1 + ln(count).
    pub(super) fn term_weights(&self, subject: &OverlapSubject) -> Vec<(String, String, f32)> {
        let mut counts: Vec<(String, String, u32)> = Vec::new();
        for (stem, word) in self.analyzer.terms(&subject.text()) {
            match counts.iter_mut().find(|c| c.0 == stem) {
                Some(c) => c.2 += 1,
                None => counts.push((stem, word, 1)),
            }
        }
        counts
            .into_iter()
            .map(|(s, w, c)| (s, w, 1.0 + (c as f32).ln()))
            .collect()
    }

    fn norm_of(&self, terms: &[(u32, f32)]) -> f32 {
        terms
            .iter()
            .map(|(t, w)| {
                let x = w * self.idf(self.df[*t as usize]);
                x * x
            })
            .sum::<f32>()
            .sqrt()
    }

    /// Adds an activity, or replaces it if already indexed.
    pub fn upsert(&mut self, subject: OverlapSubject) {
        self.remove(subject.id);
        let weights = self.term_weights(&subject);
        let slot = self.docs.len() as u32;
        let mut terms = Vec::with_capacity(weights.len());
        for (stem, word, w) in weights {
            let id = match self.vocab.get(&stem) {
                Some(id) => *id,
                None => {
                    let id = self.surface.len() as u32;
                    self.vocab.insert(stem, id);
                    self.surface.push(word);
                    self.df.push(0);
                    self.postings.push(Vec::new());
                    id
                }
            };
            self.df[id as usize] += 1;
            terms.push((id, w));
        }
        self.slots.insert(subject.id, slot);
        let norm = self.norm_of(&terms);
        let scale = 1.0 / norm.max(f32::MIN_POSITIVE);
        for (t, w) in &terms {
            self.postings[*t as usize].push((slot, w * scale));
        }
        let mut areas: Vec<u32> = subject
            .areas
            .iter()
            .map(|a| {
                let next = self.area_ids.len() as u32;
                *self.area_ids.entry(a.clone()).or_insert(next)
            })
            .collect();
        areas.sort_unstable();
        areas.dedup();
        let groups = group_mask(&subject.groups);
        let window = (day_number(subject.opens_on), day_number(subject.closes_on));
        let doc = IndexedDoc {
            subject,
            terms,
            norm,
            areas,
            groups,
            window,
        };
        self.hot.push(Hot::of(&doc));
        self.docs.push(Some(doc));
    }

    /// Removes an activity. Returns whether it was indexed.
    pub fn remove(&mut self, id: ConsultationId) -> bool {
        let Some(slot) = self.slots.remove(&id) else {
            return false;
        };
        self.hot[slot as usize].live = false;
        if let Some(doc) = self.docs[slot as usize].take() {
            for (t, _) in &doc.terms {
                self.df[*t as usize] -= 1;
            }
            self.stale += doc.terms.len();
        }
        if self.stale > 1024 && self.stale * 2 > self.postings.iter().map(Vec::len).sum::<usize>() {
            self.compact();
        }
        true
    }

    /// Drops postings of removed activities.
    fn compact(&mut self) {
        let docs = &self.docs;
        for p in &mut self.postings {
            p.retain(|(slot, _)| docs[*slot as usize].is_some());
        }
        self.stale = 0;
    }

    /// Recomputes every stored norm with today's document frequencies and rewrites the postings
    /// with them, dropping those of removed activities (the first pass of a query ranks by these
    /// weights; the final scores are always exact).
    pub fn refresh_norms(&mut self) {
        let norms: Vec<Option<f32>> = self
            .docs
            .iter()
            .map(|d| d.as_ref().map(|d| self.norm_of(&d.terms)))
            .collect();
        for p in &mut self.postings {
            p.clear();
        }
        for (slot, (doc, norm)) in self.docs.iter_mut().zip(norms).enumerate() {
            if let (Some(doc), Some(norm)) = (doc.as_mut(), norm) {
                doc.norm = norm;
                let scale = 1.0 / norm.max(f32::MIN_POSITIVE);
                for (t, w) in &doc.terms {
                    self.postings[*t as usize].push((slot as u32, w * scale));
                }
            }
        }
        self.stale = 0;
    }
}
