//! Queries: a first pass over the postings of the probe's rarest terms, then exact scores and
//! reasons for the best candidates; and the exhaustive baseline it is checked against.

use super::config::OverlapContext;
use super::finding::{OverlapFinding, Suggestion};
use super::index::{Hot, IndexedDoc, OverlapIndex};
use super::score::{Probe, Scored, audience_reason, audience_score, day_number, group_mask, public_mask, time_score};
use super::subject::OverlapSubject;
use crate::lifecycle::Status;

/// Working memory of the first pass, reused across queries on a thread so large buffers are not
/// allocated and freed on every query.
#[derive(Default)]
struct Scratch {
    /// Dot products per slot (all zero between queries).
    acc: Vec<f32>,
    /// One bit per slot: set when the slot's dot product was touched (all zero between queries).
    touched: Vec<u64>,
    /// (approximate combined score, slot).
    candidates: Vec<(f32, u32)>,
    /// The dense data of each candidate, in the same order.
    gathered: Vec<Hot>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl OverlapIndex {
    /// The activities overlapping `probe`, best first: at most `config.top_k` findings above the
    /// thresholds. `probe` itself (same id) is never a finding.
    ///
    /// A first pass accumulates TF-IDF dot products over the postings of the probe's rarest terms
    /// (within a budget of postings, so very common words do not dominate the cost), keeps the
    /// `config.candidates` best, and scores those exactly on subject, audience and time.
    pub fn query(&self, probe: &OverlapSubject, ctx: &OverlapContext<'_>) -> Vec<OverlapFinding> {
        let Some(p) = self.prepare(probe, ctx) else {
            return Vec::new();
        };
        let mut terms: Vec<(u32, f32)> = p.terms.clone();
        terms.sort_by_key(|(t, _)| (self.postings[*t as usize].len(), *t));
        let budget = ctx.config.postings_budget;
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            if scratch.acc.len() < self.docs.len() {
                scratch.acc.resize(self.docs.len(), 0.0);
                scratch.touched.resize(self.docs.len().div_ceil(64), 0);
            }
            self.first_pass(&p, probe, &terms, budget, ctx, &mut scratch);
            self.finish(&mut scratch.candidates, &p, probe, ctx)
        })
    }

    /// Accumulates dot products over the budgeted postings (leaving the accumulator all zero
    /// again) and fills `scratch.candidates` with approximate combined scores.
    fn first_pass(
        &self,
        p: &Probe,
        probe: &OverlapSubject,
        terms: &[(u32, f32)],
        budget: usize,
        ctx: &OverlapContext<'_>,
        scratch: &mut Scratch,
    ) {
        let Scratch {
            acc,
            touched,
            candidates,
            gathered,
        } = scratch;
        candidates.clear();
        let mut used = 0usize;
        for (i, (t, wq)) in terms.iter().enumerate() {
            let postings = &self.postings[*t as usize];
            if i >= 1 && used + postings.len() > budget {
                break;
            }
            used += postings.len();
            for (slot, wd) in postings {
                acc[*slot as usize] += wq * wd;
                touched[*slot as usize / 64] |= 1 << (*slot % 64);
            }
        }
        let probe_slot = self.slots.get(&probe.id).map_or(u32::MAX, |s| *s);
        let cfg = ctx.config;
        let (ws, wa, wt) = (
            cfg.subject_weight as f32,
            cfg.audience_weight as f32,
            cfg.time_weight as f32,
        );
        // Sharing a word or two gives far less than the least subject score for a finding: such
        // activities are not worth the audience and time arithmetic.
        let floor = cfg.min_subject as f32 * 0.75;
        // One branch-free pass over the postings above, then a walk of the touched bits: in slot
        // order, so the dense per-activity data is read front to back. Postings carry the
        // document's norm, so most activities are dismissed without reading anything else.
        let slots = touched.iter_mut().enumerate().flat_map(|(word, bits)| {
            let mut rest = std::mem::take(bits);
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let bit = rest.trailing_zeros();
                    rest &= rest - 1;
                    word as u32 * 64 + bit
                })
            })
        });
        let inverse_norm = 1.0 / p.norm;
        for slot in slots {
            let subject = std::mem::take(&mut acc[slot as usize]) * inverse_norm;
            if subject >= floor && slot != probe_slot {
                candidates.push((subject, slot));
            }
        }
        // Gather the dense data of the survivors in a loop of independent loads (the processor
        // keeps many cache misses in flight), then score from the gathered copy.
        gathered.clear();
        gathered.extend(candidates.iter().map(|(_, slot)| self.hot[*slot as usize]));
        for ((score, slot), hot) in candidates.iter_mut().zip(gathered.iter()) {
            if !hot.live {
                *score = f32::NEG_INFINITY;
                continue;
            }
            let (time, _) = time_score(p.window, hot.window);
            let audience = if hot.n_areas <= 2 {
                audience_score(p, &hot.areas[..hot.n_areas as usize], hot.groups)
            } else {
                self.docs[*slot as usize]
                    .as_ref()
                    .map_or(0.0, |d| audience_score(p, &d.areas, d.groups))
            };
            *score = ws * *score + wa * audience as f32 + wt * time as f32;
        }
    }

    /// Scores the best candidates exactly and explains the top findings.
    fn finish(
        &self,
        candidates: &mut [(f32, u32)],
        p: &Probe,
        probe: &OverlapSubject,
        ctx: &OverlapContext<'_>,
    ) -> Vec<OverlapFinding> {
        let keep = ctx.config.candidates.min(candidates.len());
        if candidates.len() > keep {
            candidates.select_nth_unstable_by(keep, |a, b| b.0.total_cmp(&a.0));
        }
        let scored = candidates[..keep]
            .iter()
            .filter_map(|(_, slot)| self.docs[*slot as usize].as_ref())
            .filter_map(|doc| self.score(p, doc, ctx).map(|s| (s, doc)))
            .collect();
        self.best(scored, p, probe, ctx)
    }

    /// The same findings as [`OverlapIndex::query`], by scoring every indexed activity exactly:
    /// the brute-force baseline the index is measured and checked against.
    pub fn query_exhaustive(&self, probe: &OverlapSubject, ctx: &OverlapContext<'_>) -> Vec<OverlapFinding> {
        let Some(p) = self.prepare(probe, ctx) else {
            return Vec::new();
        };
        let scored = self
            .docs
            .iter()
            .flatten()
            .filter(|d| d.subject.id != probe.id)
            .filter_map(|doc| self.score(&p, doc, ctx).map(|s| (s, doc)))
            .collect();
        self.best(scored, &p, probe, ctx)
    }

    /// The probe's weighted terms, norm and the areas related to each of its areas.
    fn prepare(&self, probe: &OverlapSubject, ctx: &OverlapContext<'_>) -> Option<Probe> {
        let mut terms: Vec<(u32, f32)> = Vec::new();
        let mut norm2 = 0f32;
        for (stem, _, w) in self.term_weights(probe) {
            let known = self.vocab.get(&stem).copied().filter(|t| self.df[*t as usize] > 0);
            let df = known.map_or(0, |t| self.df[t as usize]);
            let idf = self.idf(df);
            norm2 += (w * idf) * (w * idf);
            if let Some(t) = known {
                terms.push((t, w * idf * idf));
            }
        }
        let norm = norm2.sqrt();
        if terms.is_empty() || norm == 0.0 {
            return None;
        }
        terms.sort_by_key(|(t, _)| *t);
        let related = probe
            .areas
            .iter()
            .map(|a| {
                let mut ids: Vec<u32> = ctx
                    .areas
                    .related(a)
                    .iter()
                    .filter_map(|c| self.area_ids.get(c).copied())
                    .collect();
                if let Some(own) = self.area_ids.get(a) {
                    ids.push(*own);
                }
                ids.sort_unstable();
                ids.dedup();
                ids
            })
            .collect();
        Some(Probe {
            terms,
            norm,
            related,
            has_areas: !probe.areas.is_empty(),
            groups: group_mask(&probe.groups),
            public: public_mask(),
            window: (day_number(probe.opens_on), day_number(probe.closes_on)),
        })
    }

    /// Subject, audience, time, suggestion and combined score of one pair, or `None` below the
    /// thresholds. Numbers only: reasons are written for the final few.
    fn score(&self, p: &Probe, doc: &IndexedDoc, ctx: &OverlapContext<'_>) -> Option<Scored> {
        let cfg = ctx.config;
        let other = &doc.subject;
        if other.status == Status::Withdrawn {
            return None;
        }
        let dot: f32 = doc
            .terms
            .iter()
            .filter_map(|(t, w)| p.weight(*t).map(|wq| wq * w))
            .sum();
        let subject = f64::from((dot / (p.norm * doc.norm.max(f32::MIN_POSITIVE))).clamp(0.0, 1.0));
        if subject < cfg.min_subject {
            return None;
        }
        let audience = audience_score(p, &doc.areas, doc.groups);
        let (time, gap) = time_score(p.window, doc.window);
        let status = other.status.on(other.opens_on, other.closes_on, ctx.today);
        let has_results = matches!(status, Status::ResultsPublished | Status::Evaluated);
        let suggestion = if has_results {
            Suggestion::ReuseResults
        } else if time > 0.0 && subject >= cfg.join_up_subject {
            Suggestion::JoinUp
        } else if time > 0.0 {
            Suggestion::ReTime
        } else if gap <= i64::from(cfg.horizon_days) {
            Suggestion::ShareResults
        } else {
            return None;
        };
        let score = ((cfg.subject_weight * subject + cfg.audience_weight * audience + cfg.time_weight * time)
            / (cfg.subject_weight + cfg.audience_weight + cfg.time_weight).max(f64::MIN_POSITIVE))
        .clamp(0.0, 1.0);
        if score < cfg.min_score && !has_results {
            return None;
        }
        Some(Scored {
            subject,
            audience,
            time,
            gap,
            score,
            status,
            suggestion,
        })
    }

    /// The top findings, explained.
    fn best(
        &self,
        mut scored: Vec<(Scored, &IndexedDoc)>,
        p: &Probe,
        probe: &OverlapSubject,
        ctx: &OverlapContext<'_>,
    ) -> Vec<OverlapFinding> {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        scored.sort_by(|a, b| {
            round(b.0.score)
                .total_cmp(&round(a.0.score))
                .then(a.1.subject.id.cmp(&b.1.subject.id))
        });
        scored.truncate(ctx.config.top_k);
        scored
            .into_iter()
            .map(|(s, doc)| {
                let other = &doc.subject;
                let mut shared: Vec<(f32, &str)> = doc
                    .terms
                    .iter()
                    .filter(|(t, _)| p.weight(*t).is_some())
                    .map(|(t, w)| (w * self.idf(self.df[*t as usize]), self.surface[*t as usize].as_str()))
                    .collect();
                shared.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
                let words: Vec<&str> = shared.iter().take(5).map(|s| s.1).collect();
                OverlapFinding {
                    consultation_id: other.id,
                    organisation: other.organisation.clone(),
                    title: other.title.clone(),
                    status: s.status,
                    opens_on: other.opens_on,
                    closes_on: other.closes_on,
                    score: round(s.score),
                    subject: round(s.subject),
                    audience: round(s.audience),
                    time: round(s.time),
                    suggestion: s.suggestion,
                    reasons: vec![
                        format!("subject: shares {}", words.join(", ")),
                        format!("audience: {}", audience_reason(probe, other, ctx.areas)),
                        if s.gap == 0 {
                            let start = probe.opens_on.max(other.opens_on);
                            let end = probe.closes_on.min(other.closes_on);
                            format!("time: open at the same time for {} days", (end - start).num_days() + 1)
                        } else {
                            format!("time: {} days apart", s.gap)
                        },
                    ],
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::{Area, AreaCode, AreaHierarchy};
    use crate::consultation::ConsultationId;
    use crate::organisation::Slug;
    use crate::overlap::OverlapConfig;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use uuid::Uuid;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn code(s: &str) -> AreaCode {
        AreaCode::parse(s).unwrap()
    }

    fn areas() -> AreaHierarchy {
        AreaHierarchy::new([
            Area {
                code: code("E10000028"),
                name: "Staffordshire".into(),
                parent: None,
            },
            Area {
                code: code("E07000199"),
                name: "Tamworth".into(),
                parent: Some(code("E10000028")),
            },
            Area {
                code: code("E07000192"),
                name: "Cannock Chase".into(),
                parent: Some(code("E10000028")),
            },
            Area {
                code: code("E07000243"),
                name: "Stevenage".into(),
                parent: None,
            },
        ])
    }

    #[allow(clippy::too_many_arguments)]
    fn subject(
        n: u128,
        org: &str,
        title: &str,
        summary: &str,
        topics: &[&str],
        groups: &[&str],
        area: &[&str],
        opens: &str,
        closes: &str,
    ) -> OverlapSubject {
        OverlapSubject {
            id: ConsultationId(Uuid::from_u128(n)),
            organisation: Slug::parse(org).unwrap(),
            title: title.into(),
            summary: summary.into(),
            topics: topics.iter().map(|s| (*s).into()).collect(),
            groups: groups.iter().map(|s| (*s).into()).collect(),
            areas: area.iter().map(|a| code(a)).collect(),
            opens_on: day(opens),
            closes_on: day(closes),
            status: Status::Approved,
        }
    }

    fn register() -> Vec<OverlapSubject> {
        vec![
            subject(
                1,
                "staffordshire",
                "Staffordshire budget consultation 2027/28",
                "The county council's proposals for next year's budget, including social care and highways spending",
                &["budget", "council tax"],
                &["residents", "council_tax_payers"],
                &["E10000028"],
                "2026-11-20",
                "2027-01-21",
            ),
            subject(
                2,
                "tamworth",
                "Recycling and waste collection changes",
                "Proposed changes to bin collection days and a new food waste service",
                &["recycling", "waste"],
                &["residents", "tenants"],
                &["E07000199"],
                "2026-11-01",
                "2026-12-20",
            ),
            subject(
                3,
                "tamworth",
                "Youth forum: what matters to young people",
                "Young people tell the council about activities, safety and transport",
                &["young people", "youth"],
                &["children_and_young_people"],
                &["E07000199"],
                "2026-11-15",
                "2026-12-15",
            ),
            subject(
                4,
                "stevenage",
                "Budget consultation 2027/28",
                "Stevenage's budget and council tax proposals",
                &["budget", "council tax"],
                &["residents", "council_tax_payers"],
                &["E07000243"],
                "2026-11-20",
                "2027-01-10",
            ),
            subject(
                5,
                "oxfordshire",
                "Library opening hours review",
                "How should library opening hours change",
                &["libraries"],
                &["residents", "service_users"],
                &[],
                "2026-06-01",
                "2026-07-30",
            ),
        ]
    }

    fn ctx<'a>(areas: &'a AreaHierarchy, config: &'a OverlapConfig) -> OverlapContext<'a> {
        OverlapContext {
            today: day("2026-11-23"),
            areas,
            config,
        }
    }

    #[test]
    fn a_county_and_a_borough_budget_in_the_same_weeks_are_found() {
        let index = OverlapIndex::build(register());
        let (h, cfg) = (areas(), OverlapConfig::default());
        let borough = subject(
            10,
            "tamworth",
            "Budget and council tax consultation 2027/28",
            "Tell us which services matter most to you as we set next year's budget and council tax",
            &["budget", "council tax"],
            &["residents", "council_tax_payers", "businesses"],
            &["E07000199"],
            "2026-11-13",
            "2027-01-07",
        );
        let found = index.query(&borough, &ctx(&h, &cfg));
        let first = &found[0];
        assert_eq!(first.title, "Staffordshire budget consultation 2027/28");
        assert_eq!(first.suggestion, Suggestion::JoinUp);
        assert!(first.audience > 0.5 && first.time > 0.8, "{first:?}");
        assert!(
            first.reasons[1].contains("one area lies inside the other"),
            "{:?}",
            first.reasons
        );
        assert!(first.reasons[0].contains("budget"), "{:?}", first.reasons);
        // Stevenage's budget is about the same subject but different people: no audience overlap.
        if let Some(stevenage) = found.iter().find(|f| f.organisation.as_str() == "stevenage") {
            assert_eq!(stevenage.audience, 0.0);
            assert!(stevenage.score < first.score);
        }
        assert!(!found.iter().any(|f| f.title.starts_with("Youth")));
    }

    #[test]
    fn a_waste_consultation_and_a_youth_forum_are_not() {
        let index = OverlapIndex::build(register());
        let (h, cfg) = (areas(), OverlapConfig::default());
        let waste = register().remove(1);
        let found = index.query(&waste, &ctx(&h, &cfg));
        assert!(found.iter().all(|f| !f.title.starts_with("Youth")), "{found:?}");
        assert!(found.iter().all(|f| f.consultation_id != waste.id), "never itself");
    }

    #[test]
    fn published_results_are_offered_for_reuse() {
        let mut old = register().remove(4);
        old.status = Status::ResultsPublished;
        let index = OverlapIndex::build([old]);
        let (h, cfg) = (areas(), OverlapConfig::default());
        let again = subject(
            20,
            "oxfordshire",
            "Library opening hours",
            "Changing library hours",
            &["libraries"],
            &["residents"],
            &[],
            "2027-03-01",
            "2027-04-30",
        );
        let found = index.query(&again, &ctx(&h, &cfg));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].suggestion, Suggestion::ReuseResults);
    }

    #[test]
    fn updates_and_removals_take_effect() {
        let mut index = OverlapIndex::build(register());
        let (h, cfg) = (areas(), OverlapConfig::default());
        let probe = register().remove(0);
        assert!(
            index
                .query(&probe, &ctx(&h, &cfg))
                .iter()
                .any(|f| f.organisation.as_str() == "stevenage")
        );
        assert!(index.remove(ConsultationId(Uuid::from_u128(4))));
        assert!(
            !index
                .query(&probe, &ctx(&h, &cfg))
                .iter()
                .any(|f| f.organisation.as_str() == "stevenage")
        );
        let mut renamed = register().remove(1);
        renamed.title = "Staffordshire budget and council tax".into();
        renamed.topics = vec!["budget".into()];
        index.upsert(renamed);
        assert_eq!(index.len(), 4);
        assert!(
            index
                .query(&probe, &ctx(&h, &cfg))
                .iter()
                .any(|f| f.organisation.as_str() == "tamworth")
        );
        let mut withdrawn = register().remove(3);
        withdrawn.status = Status::Withdrawn;
        index.upsert(withdrawn);
        assert!(
            !index
                .query(&probe, &ctx(&h, &cfg))
                .iter()
                .any(|f| f.organisation.as_str() == "stevenage")
        );
        // Many removals compact the postings without changing answers.
        for n in 100..3000u128 {
            index.upsert(subject(
                n,
                "tamworth",
                &format!("Filler {n} parking"),
                "parking permits",
                &["parking"],
                &["residents"],
                &["E07000199"],
                "2026-01-01",
                "2026-02-01",
            ));
        }
        for n in 100..3000u128 {
            index.remove(ConsultationId(Uuid::from_u128(n)));
        }
        assert_eq!(index.len(), 5);
        assert!(
            index
                .query(&probe, &ctx(&h, &cfg))
                .iter()
                .any(|f| f.organisation.as_str() == "tamworth")
        );
    }

    const WORDS: &[&str] = &[
        "budget",
        "waste",
        "recycling",
        "parks",
        "library",
        "housing",
        "transport",
        "youth",
        "care",
        "safety",
        "tax",
        "bins",
    ];
    const GROUPS: &[&str] = &["residents", "tenants", "businesses", "carers", "older_people"];
    const AREAS: &[&str] = &["E10000028", "E07000199", "E07000192", "E07000243"];

    prop_compose! {
        fn any_subject(n: u128)(
            words in proptest::collection::vec(proptest::sample::select(WORDS.to_vec()), 1..6),
            groups in proptest::collection::vec(proptest::sample::select(GROUPS.to_vec()), 0..3),
            area in proptest::collection::vec(proptest::sample::select(AREAS.to_vec()), 0..2),
            start in 0i64..400,
            len in 1i64..120,
        ) -> OverlapSubject {
            let opens = day("2026-01-01") + chrono::Duration::days(start);
            let closes = opens + chrono::Duration::days(len - 1);
            let title = words.join(" ");
            subject(n, "tamworth", &title, &title, &[], &groups, &area, &opens.to_string(), &closes.to_string())
        }
    }

    proptest! {
        #[test]
        fn the_index_finds_what_an_exhaustive_scan_finds(subjects in proptest::collection::vec(any_subject(0), 1..40), probe in any_subject(9999)) {
            let subjects: Vec<OverlapSubject> = subjects.into_iter().enumerate().map(|(i, mut s)| { s.id = ConsultationId(Uuid::from_u128(i as u128 + 1)); s }).collect();
            let index = OverlapIndex::build(subjects);
            let (h, cfg) = (areas(), OverlapConfig::default());
            let fast: Vec<(ConsultationId, i64)> = index.query(&probe, &ctx(&h, &cfg)).iter().map(|f| (f.consultation_id, (f.score * 1000.0) as i64)).collect();
            let slow: Vec<(ConsultationId, i64)> = index.query_exhaustive(&probe, &ctx(&h, &cfg)).iter().map(|f| (f.consultation_id, (f.score * 1000.0) as i64)).collect();
            prop_assert_eq!(fast, slow);
        }
    }

    fn loose() -> OverlapConfig {
        OverlapConfig {
            min_subject: 0.0,
            min_score: 0.0,
            horizon_days: 10_000,
            top_k: 100,
            ..OverlapConfig::default()
        }
    }

    proptest! {
        #[test]
        fn scores_are_in_range_and_symmetric(a in any_subject(1), b in any_subject(2), c in any_subject(3)) {
            let index = OverlapIndex::build([a.clone(), b.clone(), c]);
            let (h, cfg) = (areas(), loose());
            let ab = index.query(&a, &ctx(&h, &cfg)).into_iter().find(|f| f.consultation_id == b.id);
            let ba = index.query(&b, &ctx(&h, &cfg)).into_iter().find(|f| f.consultation_id == a.id);
            for f in ab.iter().chain(ba.iter()) {
                for x in [f.score, f.subject, f.audience, f.time] {
                    prop_assert!((0.0..=1.0).contains(&x), "{f:?}");
                }
            }
            prop_assert_eq!(ab.is_some(), ba.is_some());
            if let (Some(ab), Some(ba)) = (ab, ba) {
                prop_assert!((ab.subject - ba.subject).abs() < 1e-3, "{} {}", ab.subject, ba.subject);
                prop_assert_eq!(ab.audience, ba.audience);
                prop_assert_eq!(ab.time, ba.time);
            }
        }

        #[test]
        fn an_identical_activity_scores_highest(a in any_subject(1), others in proptest::collection::vec(any_subject(0), 0..6)) {
            let mut twin = a.clone();
            twin.id = ConsultationId(Uuid::from_u128(999));
            let mut all: Vec<OverlapSubject> = others.into_iter().enumerate().map(|(i, mut s)| { s.id = ConsultationId(Uuid::from_u128(10 + i as u128)); s }).collect();
            all.push(twin.clone());
            let index = OverlapIndex::build(all);
            let (h, cfg) = (areas(), loose());
            let found = index.query(&a, &ctx(&h, &cfg));
            let best = found.iter().map(|f| f.score).fold(0.0, f64::max);
            let twin_score = found.iter().find(|f| f.consultation_id == twin.id).map(|f| f.score);
            prop_assert_eq!(twin_score, Some(best));
            prop_assert!((found.iter().find(|f| f.consultation_id == twin.id).unwrap().subject - 1.0).abs() < 1e-3);
        }

        #[test]
        fn disjoint_dates_and_areas_never_match(a in any_subject(1), b in any_subject(2)) {
            let index = OverlapIndex::build([b.clone()]);
            let (h, cfg) = (areas(), loose());
            if let Some(f) = index.query(&a, &ctx(&h, &cfg)).first() {
                if a.closes_on < b.opens_on || b.closes_on < a.opens_on {
                    prop_assert_eq!(f.time, 0.0);
                }
                let disjoint = !a.areas.is_empty() && !b.areas.is_empty()
                    && !a.areas.iter().any(|p| b.areas.iter().any(|q| h.overlap(p, q)));
                if disjoint {
                    prop_assert_eq!(f.audience, 0.0);
                }
            }
        }
    }
}
