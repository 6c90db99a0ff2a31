//! Disclosure control for public equality figures (docs/DOMAIN.md, "Disclosure control").
//!
//! Public figures are published for fixed sets only ([`PublicSet`]: an activity, a service's
//! year, an organisation's year, the partnership's year), and every published count is the true
//! count plus noise: the difference of two independent geometric variables (a two-sided
//! geometric, the discrete Laplace distribution), drawn not at random but from a keyed hash of
//! the set, the characteristic, the category and the set's number of respondents. So:
//!
//! - asking again gives the same figure (the noise cannot be averaged away by repeating a
//!   request), and a figure changes only when the set's responses change;
//! - no combination of public figures gives a count exactly: every figure carries its own
//!   unbounded noise, so differences of sets (`A+B` less `A`), totals less the cells shown, or a
//!   set less known padding are each uncertain by the noise of every figure they use;
//! - a count below the threshold is never shown as a number, and a zero is not told apart
//!   from one to four: both are perturbed the same way and shown as "fewer than".
//!
//! The key is a secret of the deployment, kept in the store and never published.

use crate::consultation::ConsultationId;
use crate::equality::{BaselineCounts, EqualityReport, ReportSettings, Tally, equality_report};
use crate::monitoring::{MonitoringScheme, PREFER_NOT_TO_SAY};
use sha2::{Digest, Sha256};
use std::fmt;

/// The secret the noise of every public figure is drawn from. Whoever holds it can remove the
/// noise, so it never leaves the server.
#[derive(Clone, PartialEq, Eq)]
pub struct DisclosureKey([u8; 32]);

impl DisclosureKey {
    /// A key from 32 secret random bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for DisclosureKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DisclosureKey(..)")
    }
}

/// A set of activities whose equality figures the public may see: only these, so the number of
/// noisy views of any one person's answer is small and fixed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PublicSet {
    /// One activity, once it has closed.
    Activity(ConsultationId),
    /// The activities of one service of an organisation that opened in a year and have closed.
    Service {
        /// Organisation slug.
        organisation: String,
        /// Service name.
        service: String,
        /// Year of opening.
        year: i32,
    },
    /// The activities of an organisation that opened in a year and have closed.
    Organisation {
        /// Organisation slug.
        organisation: String,
        /// Year of opening.
        year: i32,
    },
    /// Every activity of the partnership that opened in a year and has closed.
    Partnership {
        /// Year of opening.
        year: i32,
    },
}

impl PublicSet {
    /// A stable name of the set, hashed into its figures' noise.
    fn label(&self) -> String {
        match self {
            PublicSet::Activity(id) => format!("activity/{id}"),
            PublicSet::Service {
                organisation,
                service,
                year,
            } => format!("service/{organisation}/{service}/{year}"),
            PublicSet::Organisation { organisation, year } => format!("organisation/{organisation}/{year}"),
            PublicSet::Partnership { year } => format!("partnership/{year}"),
        }
    }
}

/// How much noise public figures carry.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseSettings {
    /// The privacy parameter ε of the discrete Laplace noise: noise `k` has probability
    /// proportional to `exp(-ε |k|)`. At 1.0 (the default) a figure is exact about 46% of the
    /// time and within 2 about 91% of the time (standard deviation 1.36).
    pub epsilon: f64,
}

impl Default for NoiseSettings {
    fn default() -> Self {
        Self { epsilon: 1.0 }
    }
}

/// The noise of one public figure: deterministic in its inputs, unpredictable without the key.
pub fn noise(
    key: &DisclosureKey,
    set: &PublicSet,
    characteristic: &str,
    part: &str,
    respondents: u64,
    settings: &NoiseSettings,
) -> i64 {
    let mut h = Sha256::new();
    h.update(b"consult disclosure noise v1\0");
    h.update(key.0);
    for field in [set.label().as_str(), characteristic, part] {
        h.update((field.len() as u64).to_le_bytes());
        h.update(field.as_bytes());
    }
    h.update(respondents.to_le_bytes());
    let digest = h.finalize();
    // Two independent uniforms in (0, 1] from 53 bits each.
    let uniform = |bytes: &[u8]| {
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes);
        ((u64::from_le_bytes(b) >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    };
    let alpha = (-settings.epsilon.max(1e-6)).exp();
    // Geometric: failures before the first success with P(success) = 1 - alpha, so that
    // P(G >= k) = alpha^k. The difference of two is the two-sided geometric distribution.
    let geometric = |u: f64| (u.ln() / alpha.ln()).floor().min(1e6) as i64;
    geometric(uniform(&digest[0..8])) - geometric(uniform(&digest[8..16]))
}

/// The tally the public is shown for `set`: every count of every category of `scheme` (zeros
/// included), every "prefer not to say" and every "not comparable" count with its noise added
/// (never below zero). The number of respondents is left exact: it is public in the register.
pub fn perturb(
    scheme: &MonitoringScheme,
    tally: &Tally,
    set: &PublicSet,
    key: &DisclosureKey,
    settings: &NoiseSettings,
) -> Tally {
    let respondents = tally.respondents;
    let noisy = |characteristic: &str, part: &str, count: u64| -> u64 {
        let shifted = i64::try_from(count).unwrap_or(i64::MAX).saturating_add(noise(
            key,
            set,
            characteristic,
            part,
            respondents,
            settings,
        ));
        u64::try_from(shifted).unwrap_or(0)
    };
    let mut out = Tally::new(respondents, Default::default());
    for c in &scheme.characteristics {
        let counts = tally.answers.get(&c.key);
        let count = |k: &str| counts.and_then(|m| m.get(k)).copied().unwrap_or(0);
        let into = out.answers.entry(c.key.clone()).or_default();
        for part in c.categories.iter().map(|k| k.key.as_str()).chain([PREFER_NOT_TO_SAY]) {
            into.insert(part.to_owned(), noisy(&c.key, part, count(part)));
        }
        let apart = tally.not_comparable.get(&c.key).copied().unwrap_or(0);
        out.not_comparable
            .insert(c.key.clone(), noisy(&c.key, "not_comparable", apart));
    }
    out
}

/// The public report of a fixed set: its exact tally perturbed ([`perturb`]), then reported
/// with every count below the threshold hidden ([`equality_report`] with `suppress`). Every
/// figure in it (shares, intervals, ratios, flags, chi-square, GRI) is computed from the
/// perturbed counts, never from the exact ones.
pub fn public_report(
    scheme: &MonitoringScheme,
    exact: &Tally,
    set: &PublicSet,
    key: &DisclosureKey,
    baseline: &BaselineCounts,
    settings: &ReportSettings,
    noise: &NoiseSettings,
) -> EqualityReport {
    let noisy = perturb(scheme, exact, set, key, noise);
    equality_report(scheme, &noisy, baseline, settings, true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::collections::BTreeMap;

    fn key(b: u8) -> DisclosureKey {
        DisclosureKey::new([b; 32])
    }

    #[test]
    fn noise_is_fixed_for_a_figure_and_differs_between_figures_and_keys() {
        let s = NoiseSettings::default();
        let set = PublicSet::Partnership { year: 2026 };
        let a = noise(&key(1), &set, "sex", "female", 40, &s);
        assert_eq!(a, noise(&key(1), &set, "sex", "female", 40, &s));
        // Over many figures the noise is centred, spread, and changes with the key.
        let draws: Vec<i64> = (0..4000)
            .map(|n| noise(&key(1), &set, "age_band", "25-34", n, &s))
            .collect();
        let mean = draws.iter().sum::<i64>() as f64 / draws.len() as f64;
        assert!(mean.abs() < 0.1, "mean {mean}");
        let exact = draws.iter().filter(|d| **d == 0).count() as f64 / draws.len() as f64;
        assert!((0.40..0.52).contains(&exact), "share exact {exact}");
        assert!(draws.iter().any(|d| d.abs() >= 4), "unbounded tails");
        let other: Vec<i64> = (0..4000)
            .map(|n| noise(&key(2), &set, "age_band", "25-34", n, &s))
            .collect();
        assert_ne!(draws, other);
    }

    #[test]
    fn every_category_is_perturbed_zeros_included() {
        let scheme = MonitoringScheme::census2021().unwrap();
        let mut answers: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        answers.entry("sex".into()).or_default().insert("female".into(), 3);
        let tally = Tally::new(3, answers);
        let set = PublicSet::Activity(ConsultationId(uuid::Uuid::nil()));
        // Over keys, a true zero is sometimes shown as more than zero, and a true three
        // sometimes as zero: neither value can be read off.
        let mut zero_moved = false;
        let mut three_to_zero = false;
        for b in 0..=255u8 {
            let p = perturb(&scheme, &tally, &set, &key(b), &NoiseSettings::default());
            assert_eq!(p.respondents, 3);
            let sex = &p.answers["sex"];
            assert!(sex.contains_key("male") && sex.contains_key(PREFER_NOT_TO_SAY));
            zero_moved |= sex["male"] > 0;
            three_to_zero |= sex["female"] == 0;
        }
        assert!(zero_moved && three_to_zero);
    }
}
