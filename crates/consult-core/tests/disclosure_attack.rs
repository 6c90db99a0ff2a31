//! The search for a small count in public equality figures (issue 15, docs/DOMAIN.md
//! "Disclosure control"). For generated registers (organisations, services, activities opened in
//! two years, some closed, responses answering `sex`), every public request a client can make is
//! answered as the server answers it ([`consult_core::public_report`] over the fixed sets: each
//! closed activity, each service's, organisation's and the partnership's year), and an attacker
//! tries every derivation it can build from the answers: a figure itself, a figure of one set
//! less the same figure of a set inside it, a total less the other cells shown, and the same
//! over nested sets. A count below five (zero included) is *determined* when a derivation gives
//! it exactly whatever the deployment's secret key is: the attacker does not know the key, so a
//! derivation is only evidence if it does not depend on it. The test fails if any derivation
//! determines a small count.
//!
//! Runs in CI with a fixed seed and a bounded number of cases; a longer search:
//! `PROPTEST_CASES=5000 cargo test -p consult-core --test disclosure_attack --release`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use consult_core::{
    BaselineCounts, ConsultationId, DisclosureKey, EqualityReport, MonitoringScheme, NoiseSettings, PublicSet,
    ReportSettings, Tally, public_report,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use std::collections::{BTreeMap, BTreeSet};

/// The parts of `sex` a report shows: its two categories and "prefer not to say".
const PARTS: [&str; 3] = ["female", "male", "prefer_not_to_say"];
/// Keys the derivations are tried with.
const KEYS: u8 = 48;

#[derive(Debug, Clone)]
struct Activity {
    organisation: usize,
    service: Option<usize>,
    year: i32,
    closed: bool,
    /// Responses per part, then those that did not answer.
    counts: [u64; 4],
}

fn activity() -> impl Strategy<Value = Activity> {
    (
        0..2usize,
        prop::option::of(0..2usize),
        prop::sample::select(vec![2025, 2026]),
        prop::bool::weighted(0.8),
        [0..9u64, 0..9u64, 0..4u64, 0..3u64],
    )
        .prop_map(|(organisation, service, year, closed, counts)| Activity {
            organisation,
            service,
            year,
            closed,
            counts,
        })
}

/// A public set and the activities in it (by index).
fn public_sets(register: &[Activity]) -> Vec<(PublicSet, BTreeSet<usize>)> {
    let mut sets: BTreeMap<String, (PublicSet, BTreeSet<usize>)> = BTreeMap::new();
    for (i, a) in register.iter().enumerate().filter(|(_, a)| a.closed) {
        let org = format!("org{}", a.organisation);
        let mut add = |set: PublicSet| {
            sets.entry(format!("{set:?}"))
                .or_insert_with(|| (set, BTreeSet::new()))
                .1
                .insert(i);
        };
        add(PublicSet::Activity(ConsultationId(uuid::Uuid::from_u128(
            i as u128 + 1,
        ))));
        if let Some(s) = a.service {
            add(PublicSet::Service {
                organisation: org.clone(),
                service: format!("service{s}"),
                year: a.year,
            });
        }
        add(PublicSet::Organisation {
            organisation: org,
            year: a.year,
        });
        add(PublicSet::Partnership { year: a.year });
    }
    sets.into_values().collect()
}

/// The exact tally of a set of activities.
fn tally(register: &[Activity], members: &BTreeSet<usize>) -> Tally {
    let mut answers: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut respondents = 0;
    for i in members {
        let a = &register[*i];
        respondents += a.counts.iter().sum::<u64>();
        for (part, n) in PARTS.iter().zip(a.counts) {
            if n > 0 {
                *answers
                    .entry("sex".into())
                    .or_default()
                    .entry((*part).into())
                    .or_default() += n;
            }
        }
    }
    Tally::new(respondents, answers)
}

/// What a client sees of one set: each part's figure (`None` hidden) and the answered total.
/// (The set's respondents are exact and public, but every derivation from them goes through
/// `answered` or the parts, so they add nothing here.)
#[derive(Debug, Clone)]
struct Seen {
    parts: [Option<i64>; 3],
    answered: i64,
}

fn seen(report: &EqualityReport) -> Seen {
    let sex = report
        .characteristics
        .iter()
        .find(|c| c.characteristic == "sex")
        .unwrap();
    let shown = |k: &str| {
        sex.categories
            .iter()
            .find(|c| c.category == k)
            .and_then(|c| c.respondents)
            .map(|n| n as i64)
    };
    Seen {
        parts: [shown("female"), shown("male"), sex.prefer_not_to_say.map(|n| n as i64)],
        answered: sex.answered as i64,
    }
}

/// A quantity the attacker wants: a part's count over a group of activities.
type Target = (BTreeSet<usize>, usize);

/// Part 3 is `answered` (every part but "did not answer").
fn truth(register: &[Activity], (group, part): &Target) -> u64 {
    group
        .iter()
        .map(|i| match *part {
            3 => register[*i].counts[..3].iter().sum(),
            p => register[*i].counts[p],
        })
        .sum()
}

/// Every derivation the attacker builds from the figures of one key: (how, target, value).
/// `how` names the derivation, so the same derivation under other keys can be compared.
fn derivations(sets: &[(PublicSet, BTreeSet<usize>)], views: &[Seen]) -> Vec<(String, Target, i64)> {
    let mut out = Vec::new();
    for (s, ((_, members), v)) in sets.iter().zip(views).enumerate() {
        for part in 0..3 {
            // The figure itself.
            if let Some(x) = v.parts[part] {
                out.push((format!("figure {s} {part}"), (members.clone(), part), x));
            }
            // The answered total less the other parts shown.
            let others: Option<i64> = (0..3).filter(|p| *p != part).map(|p| v.parts[p]).sum();
            if let Some(o) = others {
                out.push((
                    format!("total less others {s} {part}"),
                    (members.clone(), part),
                    v.answered - o,
                ));
            }
        }
        // The answered total itself.
        out.push((format!("answered {s}"), (members.clone(), 3), v.answered));
        // Differences with every set inside this one.
        for (i, ((_, inner), w)) in sets.iter().zip(views).enumerate() {
            if inner.len() < members.len() && inner.is_subset(members) {
                let rest: BTreeSet<usize> = members.difference(inner).copied().collect();
                for part in 0..3 {
                    if let (Some(a), Some(b)) = (v.parts[part], w.parts[part]) {
                        out.push((format!("difference {s} {i} {part}"), (rest.clone(), part), a - b));
                    }
                }
                let answered_rest = v.answered - w.answered;
                out.push((
                    format!("difference of answered {s} {i}"),
                    (rest.clone(), 3),
                    answered_rest,
                ));
                for part in 0..3 {
                    let others: Option<i64> = (0..3)
                        .filter(|p| *p != part)
                        .map(|p| Some(v.parts[p]? - w.parts[p]?))
                        .sum();
                    if let Some(o) = others {
                        out.push((
                            format!("difference of totals {s} {i} {part}"),
                            (rest.clone(), part),
                            answered_rest - o,
                        ));
                    }
                }
            }
        }
    }
    out
}

fn config() -> Config {
    Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|c| c.parse().ok())
            .unwrap_or(24),
        rng_seed: RngSeed::Fixed(20_261_201),
        failure_persistence: None,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn no_public_figures_determine_a_small_count(register in prop::collection::vec(activity(), 1..7)) {
        let scheme = MonitoringScheme::census2021().unwrap();
        let sets = public_sets(&register);
        // For each derivation: its target and the values it gave, one per key it could be built.
        let mut found: BTreeMap<String, (Target, Vec<i64>)> = BTreeMap::new();
        for k in 0..KEYS {
            let key = DisclosureKey::new([k.wrapping_mul(37).wrapping_add(11); 32]);
            let views: Vec<Seen> = sets
                .iter()
                .map(|(set, members)| {
                    seen(&public_report(
                        &scheme,
                        &tally(&register, members),
                        set,
                        &key,
                        &BaselineCounts::new(),
                        &ReportSettings::default(),
                        &NoiseSettings::default(),
                    ))
                })
                .collect();
            for (how, target, value) in derivations(&sets, &views) {
                found.entry(how).or_insert_with(|| (target, Vec::new())).1.push(value);
            }
        }
        for (how, (target, values)) in &found {
            let t = truth(&register, target) as i64;
            if t < 5 && values.len() >= usize::from(KEYS / 4) {
                prop_assert!(
                    values.iter().any(|v| *v != t),
                    "{how}: a small count ({t}) of part {} over activities {:?} is given exactly by every key: {values:?}",
                    PARTS.get(target.1).copied().unwrap_or("answered"),
                    target.0
                );
            }
        }
        // Nothing is shown below the threshold, in any set, under any key.
        for k in 0..KEYS {
            let key = DisclosureKey::new([k; 32]);
            for (set, members) in &sets {
                let v = seen(&public_report(&scheme, &tally(&register, members), set, &key,
                    &BaselineCounts::new(), &ReportSettings::default(), &NoiseSettings::default()));
                prop_assert!(v.parts.iter().flatten().all(|x| *x >= 5), "{v:?}");
            }
        }
    }
}
