//! The representativeness report: who responded, by protected characteristic, against the real
//! population (REFERENCE section 3). Per category: respondents, share with a 95% Wilson interval,
//! population share, ratio and an under/over flag where the expected count allows; per
//! characteristic: chi-square goodness of fit (small cells merged) and the Global
//! Representativeness Index. "Prefer not to say" is reported apart and left out of shares.
//! Public views suppress small counts, with a second cell where one could be derived.

use crate::monitoring::{AnswerCounts, MonitoringScheme, PREFER_NOT_TO_SAY};
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF};
use std::collections::BTreeMap;

/// Population counts per characteristic and category, for one area or several combined.
pub type BaselineCounts = BTreeMap<String, BTreeMap<String, u64>>;

/// Thresholds of the report. Our defaults (REFERENCE 3), configurable.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ReportSettings {
    /// Flag under-represented below this ratio.
    pub under_ratio: f64,
    /// Flag over-represented above this ratio.
    pub over_ratio: f64,
    /// Least expected count for a flag (and for a chi-square cell before merging).
    pub min_expected: f64,
    /// Counts below this are suppressed in public views.
    pub suppression_threshold: u64,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            under_ratio: 0.8,
            over_ratio: 1.25,
            min_expected: 5.0,
            suppression_threshold: 5,
        }
    }
}

/// Under- or over-represented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Share below `under_ratio` of the population share.
    Under,
    /// Share above `over_ratio` of the population share.
    Over,
}

/// One category's line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CategoryLine {
    /// Category key.
    pub category: String,
    /// Respondents (null when suppressed).
    pub respondents: Option<u64>,
    /// Whether the count is hidden.
    pub suppressed: bool,
    /// Share of respondents who answered (null when suppressed).
    pub share: Option<f64>,
    /// 95% Wilson interval for the share (null when suppressed).
    pub interval: Option<[f64; 2]>,
    /// Share of the population.
    pub population_share: Option<f64>,
    /// Share / population share (null when suppressed or no population).
    pub ratio: Option<f64>,
    /// Under- or over-represented, where the expected count allows.
    pub flag: Option<Flag>,
}

/// Chi-square goodness of fit against the population shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChiSquare {
    /// The statistic.
    pub statistic: f64,
    /// Degrees of freedom (cells after merging, less one).
    pub df: u32,
    /// P-value.
    pub p_value: f64,
}

/// One characteristic's part of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CharacteristicReport {
    /// Characteristic key.
    pub characteristic: String,
    /// Respondents who answered, including "prefer not to say".
    pub answered: u64,
    /// Respondents who preferred not to say (null when suppressed).
    pub prefer_not_to_say: Option<u64>,
    /// Per category.
    pub categories: Vec<CategoryLine>,
    /// Goodness of fit, when there is a baseline and at least two cells after merging.
    pub chi_square: Option<ChiSquare>,
    /// Global Representativeness Index, 1 - 0.5 x sum |share - population share|.
    pub gri: Option<f64>,
    /// Answers given under another monitoring scheme whose categories do not map onto this
    /// report's (a merged band split here); counted apart, suppressed like any small count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_comparable: Option<u64>,
}

/// What a report counts: respondents, and their answers in the report's scheme (answers given
/// under other schemes translated where their categories map onto it, the rest set apart).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    /// Responses counted.
    pub respondents: u64,
    /// Answer counts in the report's scheme, `prefer_not_to_say` included.
    pub answers: AnswerCounts,
    /// Per characteristic, answers that could not be translated.
    pub not_comparable: BTreeMap<String, u64>,
}

impl Tally {
    /// Counts already in the report's scheme.
    pub fn new(respondents: u64, answers: AnswerCounts) -> Tally {
        Tally {
            respondents,
            answers,
            not_comparable: BTreeMap::new(),
        }
    }

    /// Counts stored per scheme (`key@version -> counts`) brought into `scheme`; `lookup` finds
    /// a stored scheme by its id. Answers under a scheme that cannot be found are set apart.
    pub fn in_scheme<'a>(
        scheme: &MonitoringScheme,
        respondents: u64,
        by_scheme: &BTreeMap<String, AnswerCounts>,
        lookup: impl Fn(&str) -> Option<&'a MonitoringScheme>,
    ) -> Tally {
        let mut tally = Tally::new(respondents, AnswerCounts::new());
        for (id, counts) in by_scheme {
            let (answers, apart) = match lookup(id) {
                Some(from) => scheme.translate(from, counts),
                None => (
                    AnswerCounts::new(),
                    counts.iter().map(|(c, m)| (c.clone(), m.values().sum())).collect(),
                ),
            };
            for (c, m) in answers {
                let into = tally.answers.entry(c).or_default();
                for (k, n) in m {
                    *into.entry(k).or_default() += n;
                }
            }
            for (c, n) in apart {
                *tally.not_comparable.entry(c).or_default() += n;
            }
        }
        tally
    }
}

/// The report for one activity (or a set) against one baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EqualityReport {
    /// Responses counted.
    pub respondents: u64,
    /// Per characteristic of the scheme.
    pub characteristics: Vec<CharacteristicReport>,
    /// Whether small counts are hidden (public view).
    pub suppressed_view: bool,
}

/// The 95% Wilson score interval for a proportion.
pub fn wilson(successes: u64, n: u64) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (n, p, z) = (n as f64, successes as f64 / n as f64, 1.959_964);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n) + z * z / (4.0 * n * n)).sqrt() / denom;
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// Chi-square goodness of fit of observed counts against expected counts, merging the smallest
/// expected cells until every cell expects at least `min_expected`.
pub fn chi_square(observed: &[u64], expected: &[f64], min_expected: f64) -> Option<ChiSquare> {
    let mut cells: Vec<(f64, f64)> = observed
        .iter()
        .map(|o| *o as f64)
        .zip(expected.iter().copied())
        .collect();
    cells.sort_by(|a, b| a.1.total_cmp(&b.1));
    while cells.len() > 1 && cells[0].1 < min_expected {
        let (o, e) = cells.remove(0);
        cells[0].0 += o;
        cells[0].1 += e;
        cells.sort_by(|a, b| a.1.total_cmp(&b.1));
    }
    if cells.len() < 2 || cells.iter().any(|c| c.1 <= 0.0) {
        return None;
    }
    let statistic: f64 = cells.iter().map(|(o, e)| (o - e) * (o - e) / e).sum();
    let df = (cells.len() - 1) as u32;
    let p_value = ChiSquared::new(f64::from(df)).ok().map(|d| 1.0 - d.cdf(statistic))?;
    Some(ChiSquare { statistic, df, p_value })
}

/// Builds the report in `scheme` from a tally of answers and a baseline in the default scheme's
/// categories (rolled up to `scheme`'s). With `suppress`, counts below the threshold are hidden
/// (zeros too, so an empty cell is not told apart from a small one), with their ratio and flag,
/// and where exactly one cell of a characteristic would be hidden the next smallest is hidden
/// too. Public views are built from perturbed counts ([`crate::perturb`]), so no exact count can
/// be recovered from their totals either.
pub fn equality_report(
    scheme: &MonitoringScheme,
    tally: &Tally,
    baseline: &BaselineCounts,
    settings: &ReportSettings,
    suppress: bool,
) -> EqualityReport {
    let round = |x: f64| (x * 10_000.0).round() / 10_000.0;
    let (respondents, answers) = (tally.respondents, &tally.answers);
    let baseline = &scheme.roll_up_baseline(baseline);
    let characteristics = scheme
        .characteristics
        .iter()
        .map(|c| {
            let counts = answers.get(&c.key);
            let count = |k: &str| counts.and_then(|m| m.get(k)).copied().unwrap_or(0);
            let pnts = count(PREFER_NOT_TO_SAY);
            let observed: Vec<u64> = c.categories.iter().map(|k| count(&k.key)).collect();
            let n: u64 = observed.iter().sum();
            let pop = baseline.get(&c.key);
            let pop_total: u64 = pop.map_or(0, |p| c.categories.iter().filter_map(|k| p.get(&k.key)).sum());
            let q: Vec<Option<f64>> = c
                .categories
                .iter()
                .map(|k| {
                    (pop_total > 0)
                        .then(|| pop.and_then(|p| p.get(&k.key)).copied().unwrap_or(0) as f64 / pop_total as f64)
                })
                .collect();
            // Cells to hide: small ones, then a second where only one would be hidden.
            let mut hidden: Vec<bool> = observed
                .iter()
                .map(|o| suppress && *o < settings.suppression_threshold)
                .collect();
            if suppress && hidden.iter().filter(|h| **h).count() == 1 {
                if let Some((i, _)) = observed
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !hidden[*i])
                    .min_by_key(|(_, o)| **o)
                {
                    hidden[i] = true;
                }
            }
            let categories = c
                .categories
                .iter()
                .zip(&observed)
                .zip(&q)
                .zip(&hidden)
                .map(|(((k, o), q), hide)| {
                    let share = (n > 0).then(|| *o as f64 / n as f64);
                    let expected = q.map(|q| q * n as f64);
                    let ratio = match (share, q) {
                        (Some(p), Some(q)) if *q > 0.0 => Some(p / q),
                        _ => None,
                    };
                    let flag = match (ratio, expected) {
                        (Some(r), Some(e)) if e >= settings.min_expected && r < settings.under_ratio => {
                            Some(Flag::Under)
                        }
                        (Some(r), Some(e)) if e >= settings.min_expected && r > settings.over_ratio => Some(Flag::Over),
                        _ => None,
                    };
                    CategoryLine {
                        category: k.key.clone(),
                        respondents: (!hide).then_some(*o),
                        suppressed: *hide,
                        share: share.filter(|_| !hide).map(round),
                        interval: (n > 0 && !hide).then(|| wilson(*o, n).map(round)),
                        population_share: q.map(round),
                        ratio: ratio.filter(|_| !hide).map(round),
                        flag: flag.filter(|_| !hide),
                    }
                })
                .collect();
            let has_baseline = pop_total > 0;
            let expected: Vec<f64> = q.iter().map(|q| q.unwrap_or(0.0) * n as f64).collect();
            let chi = (has_baseline && n > 0)
                .then(|| chi_square(&observed, &expected, settings.min_expected))
                .flatten()
                .map(|c| ChiSquare {
                    statistic: round(c.statistic),
                    df: c.df,
                    p_value: round(c.p_value),
                });
            // Public views withhold the statistics when a cell is hidden: they are computed
            // over every cell, so they would say more about the hidden ones than "hidden".
            let any_hidden = hidden.iter().any(|h| *h);
            let chi = chi.filter(|_| !(suppress && any_hidden));
            let gri = (has_baseline && n > 0 && !(suppress && any_hidden)).then(|| {
                let tv: f64 = observed
                    .iter()
                    .zip(&q)
                    .map(|(o, q)| (*o as f64 / n as f64 - q.unwrap_or(0.0)).abs())
                    .sum();
                round(1.0 - 0.5 * tv)
            });
            let pnts_hidden = suppress && pnts < settings.suppression_threshold;
            CharacteristicReport {
                characteristic: c.key.clone(),
                answered: if suppress && n + pnts < settings.suppression_threshold {
                    0
                } else {
                    n + pnts
                },
                prefer_not_to_say: (!pnts_hidden).then_some(pnts),
                categories,
                chi_square: chi,
                gri,
                not_comparable: tally
                    .not_comparable
                    .get(&c.key)
                    .copied()
                    .filter(|n| *n > 0 && !(suppress && *n < settings.suppression_threshold)),
            }
        })
        .collect();
    EqualityReport {
        respondents,
        characteristics,
        suppressed_view: suppress,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn worcester() -> BaselineCounts {
        let mut b = BaselineCounts::new();
        let ethnic = [
            ("bangladeshi", 542),
            ("chinese", 388),
            ("indian", 1336),
            ("pakistani", 2578),
            ("other_asian", 1016),
            ("african", 836),
            ("caribbean", 241),
            ("other_black", 135),
            ("white_and_asian", 716),
            ("white_and_black_african", 425),
            ("white_and_black_caribbean", 628),
            ("other_mixed", 514),
            ("white_british", 85868),
            ("irish", 566),
            ("gypsy_or_irish_traveller", 95),
            ("roma", 132),
            ("other_white", 6817),
            ("arab", 160),
            ("any_other", 876),
        ];
        b.insert(
            "ethnic_group".into(),
            ethnic.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        );
        b.insert(
            "sex".into(),
            [("male".to_owned(), 50873), ("female".to_owned(), 52999)]
                .into_iter()
                .collect(),
        );
        b
    }

    fn answers(pairs: &[(&str, &str, u64)]) -> BTreeMap<String, BTreeMap<String, u64>> {
        let mut out: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for (c, k, n) in pairs {
            out.entry((*c).into()).or_default().insert((*k).into(), *n);
        }
        out
    }

    fn scheme() -> MonitoringScheme {
        MonitoringScheme::census2021().unwrap()
    }

    #[test]
    fn worcester_baseline_shares_and_flags() {
        let a = answers(&[
            ("sex", "female", 70),
            ("sex", "male", 30),
            ("sex", PREFER_NOT_TO_SAY, 8),
        ]);
        let r = equality_report(
            &scheme(),
            &Tally::new(108, a.clone()),
            &worcester(),
            &ReportSettings::default(),
            false,
        );
        let sex = r.characteristics.iter().find(|c| c.characteristic == "sex").unwrap();
        assert_eq!((sex.answered, sex.prefer_not_to_say), (108, Some(8)));
        let female = &sex.categories[0];
        assert_eq!(female.share, Some(0.7));
        assert_eq!(female.population_share, Some(0.5102), "52,999 of 103,872");
        assert_eq!(female.flag, Some(Flag::Over), "0.7 / 0.5102 = 1.37");
        let male = &sex.categories[1];
        assert_eq!(male.flag, Some(Flag::Under));
        let chi = sex.chi_square.as_ref().unwrap();
        assert_eq!(chi.df, 1);
        assert!(chi.p_value < 0.001, "{chi:?}");
        assert_eq!(sex.gri, Some(0.8102));
    }

    #[test]
    fn wilson_interval_matches_the_textbook() {
        let [lo, hi] = wilson(70, 100);
        assert!((lo - 0.6041).abs() < 1e-3 && (hi - 0.7810).abs() < 1e-3, "{lo} {hi}");
        assert_eq!(wilson(0, 0), [0.0, 1.0]);
    }

    #[test]
    fn small_cells_are_merged_for_chi_square_and_flags_need_expected_counts() {
        // 40 respondents: Bangladeshi expects 0.2, so it is never flagged, and merged for the test.
        let a = answers(&[
            ("ethnic_group", "white_british", 30),
            ("ethnic_group", "indian", 6),
            ("ethnic_group", "bangladeshi", 4),
        ]);
        let r = equality_report(
            &scheme(),
            &Tally::new(40, a.clone()),
            &worcester(),
            &ReportSettings::default(),
            false,
        );
        let e = r
            .characteristics
            .iter()
            .find(|c| c.characteristic == "ethnic_group")
            .unwrap();
        let line = |k: &str| e.categories.iter().find(|c| c.category == k).unwrap();
        assert_eq!(line("bangladeshi").flag, None);
        assert_eq!(line("white_british").flag, None, "0.75 / 0.8267 = 0.91");
        let chi = e.chi_square.as_ref().unwrap();
        assert!(chi.df < 18, "cells with small expected counts are merged: {chi:?}");
    }

    #[test]
    fn public_views_suppress_small_counts_and_a_second_cell() {
        let a = answers(&[("sex", "female", 40), ("sex", "male", 3)]);
        let public = equality_report(
            &scheme(),
            &Tally::new(43, a.clone()),
            &worcester(),
            &ReportSettings::default(),
            true,
        );
        let sex = &public
            .characteristics
            .iter()
            .find(|c| c.characteristic == "sex")
            .unwrap()
            .categories;
        assert!(
            sex.iter()
                .all(|c| c.suppressed && c.respondents.is_none() && c.share.is_none()),
            "{sex:?}"
        );
        let internal = equality_report(
            &scheme(),
            &Tally::new(43, a.clone()),
            &worcester(),
            &ReportSettings::default(),
            false,
        );
        let sex = &internal
            .characteristics
            .iter()
            .find(|c| c.characteristic == "sex")
            .unwrap()
            .categories;
        assert_eq!(sex[1].respondents, Some(3));
        // Zeros are hidden like any small count, so a hidden cell is never known to be empty.
        let a = answers(&[
            ("religion", "christian", 30),
            ("religion", "no_religion", 20),
            ("religion", "muslim", 2),
        ]);
        let r = equality_report(
            &scheme(),
            &Tally::new(52, a.clone()),
            &BaselineCounts::new(),
            &ReportSettings::default(),
            true,
        );
        let rel = &r
            .characteristics
            .iter()
            .find(|c| c.characteristic == "religion")
            .unwrap()
            .categories;
        let shown: Vec<&str> = rel
            .iter()
            .filter(|c| !c.suppressed)
            .map(|c| c.category.as_str())
            .collect();
        assert_eq!(shown, ["no_religion", "christian"]);
        // Only one cell would be hidden: the next smallest is hidden too.
        let mut only: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for (k, n) in [
            ("no_religion", 20),
            ("christian", 30),
            ("buddhist", 6),
            ("hindu", 7),
            ("jewish", 8),
            ("muslim", 2),
            ("sikh", 9),
            ("other_religion", 10),
        ] {
            only.entry("religion".into()).or_default().insert(k.into(), n);
        }
        let r = equality_report(
            &scheme(),
            &Tally::new(92, only),
            &BaselineCounts::new(),
            &ReportSettings::default(),
            true,
        );
        let hidden: Vec<&str> = r
            .characteristics
            .iter()
            .find(|c| c.characteristic == "religion")
            .unwrap()
            .categories
            .iter()
            .filter(|c| c.suppressed)
            .map(|c| c.category.as_str())
            .collect();
        assert_eq!(hidden, ["buddhist", "muslim"]);
    }
}

/// A category under-represented across a run of activities: a seldom-heard group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeldomHeard {
    /// Characteristic.
    pub characteristic: String,
    /// Category.
    pub category: String,
    /// Activities where it was flagged under-represented.
    pub under_in: u32,
    /// Activities where a flag could be decided (enough expected respondents).
    pub of: u32,
    /// The representation ratio in each activity, oldest first (null where not computable or
    /// suppressed).
    pub trend: Vec<Option<f64>>,
    /// Stakeholder groups in the catalogue that reach these people, for targeted outreach.
    pub outreach_groups: Vec<String>,
}

/// The stakeholder groups that reach people in a category, for outreach.
pub fn outreach_groups(characteristic: &str, category: &str) -> Vec<String> {
    let groups: &[&str] = match (characteristic, category) {
        ("age_band", "under_16" | "16-24") => &["children_and_young_people"],
        ("age_band", "65-74" | "75+") => &["older_people", "carers"],
        ("disability", "limited_a_lot" | "limited_a_little") => &["disabled_people", "carers"],
        ("ethnic_group", k) if k != "white_british" => {
            &["ethnic_minority_communities", "faith_groups", "community_groups"]
        }
        ("religion", k) if k != "no_religion" && k != "christian" => &["faith_groups", "ethnic_minority_communities"],
        ("sexual_orientation", k) if k != "straight" => &["lgbt_communities"],
        ("gender_identity", "different") => &["lgbt_communities"],
        _ => &["community_groups", "voluntary_and_community"],
    };
    groups.iter().map(|g| (*g).to_owned()).collect()
}

/// Categories flagged under-represented in at least half of the activities (oldest first) where
/// a flag could be decided, and at least twice: the seldom-heard groups of a service or area.
pub fn seldom_heard(reports: &[EqualityReport]) -> Vec<SeldomHeard> {
    let mut out: Vec<SeldomHeard> = Vec::new();
    let Some(first) = reports.first() else { return out };
    for c in &first.characteristics {
        for k in &c.categories {
            let lines: Vec<Option<&CategoryLine>> = reports
                .iter()
                .map(|r| {
                    r.characteristics
                        .iter()
                        .find(|x| x.characteristic == c.characteristic)
                        .and_then(|x| x.categories.iter().find(|y| y.category == k.category))
                })
                .collect();
            let decided = lines
                .iter()
                .flatten()
                .filter(|l| l.flag.is_some() || l.ratio.is_some_and(|_| l.population_share.is_some()))
                .count() as u32;
            let under = lines.iter().flatten().filter(|l| l.flag == Some(Flag::Under)).count() as u32;
            if under >= 2 && under * 2 >= decided {
                out.push(SeldomHeard {
                    characteristic: c.characteristic.clone(),
                    category: k.category.clone(),
                    under_in: under,
                    of: decided,
                    trend: lines.iter().map(|l| l.and_then(|l| l.ratio)).collect(),
                    outreach_groups: outreach_groups(&c.characteristic, &k.category),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod seldom_tests {
    use super::*;

    fn scheme() -> MonitoringScheme {
        MonitoringScheme::census2021().unwrap()
    }

    #[test]
    fn young_people_missing_twice_are_seldom_heard() {
        let mut base = BaselineCounts::new();
        base.insert(
            "age_band".into(),
            [("16-24", 1000u64), ("25-34", 1000), ("45-54", 1000), ("75+", 1000)]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), *v))
                .collect(),
        );
        let report = |young: u64| {
            let mut a: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
            let age = a.entry("age_band".into()).or_default();
            age.insert("16-24".into(), young);
            age.insert("25-34".into(), 30);
            age.insert("45-54".into(), 30);
            age.insert("75+".into(), 30);
            equality_report(
                &scheme(),
                &Tally::new(90 + young, a.clone()),
                &base,
                &ReportSettings::default(),
                false,
            )
        };
        let found = seldom_heard(&[report(2), report(30), report(1)]);
        assert_eq!(found.len(), 1, "{found:?}");
        let s = &found[0];
        assert_eq!((s.category.as_str(), s.under_in, s.of), ("16-24", 2, 3));
        assert_eq!(s.trend.len(), 3);
        assert_eq!(s.outreach_groups, ["children_and_young_people"]);
        assert!(seldom_heard(&[report(2)]).is_empty(), "one activity is not a trend");
    }
}

#[cfg(test)]
mod suppression_properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// In a public view no hidden count can be recovered: either no cell is hidden, or at
        /// least two are (so the total minus the shown cells leaves at least two unknowns), and
        /// no share or ratio of a hidden cell is shown.
        #[test]
        fn no_hidden_cell_can_be_derived(counts in proptest::collection::vec(0u64..12, 8)) {
            let scheme = MonitoringScheme::census2021().unwrap();
            let religion = &scheme.characteristics.iter().find(|c| c.key == "religion").unwrap().categories;
            let mut answers: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
            for (k, n) in religion.iter().zip(&counts) {
                answers.entry("religion".into()).or_default().insert(k.key.clone(), *n);
            }
            let total: u64 = counts.iter().sum();
            let r = equality_report(&scheme, &Tally::new(total, answers.clone()), &BaselineCounts::new(), &ReportSettings::default(), true);
            let rel = r.characteristics.iter().find(|c| c.characteristic == "religion").unwrap();
            let hidden: Vec<&CategoryLine> = rel.categories.iter().filter(|c| c.suppressed).collect();
            prop_assert!(hidden.is_empty() || hidden.len() >= 2, "{:?}", rel.categories);
            for c in &rel.categories {
                if c.suppressed {
                    prop_assert!(c.respondents.is_none() && c.share.is_none() && c.ratio.is_none() && c.interval.is_none());
                } else if let Some(n) = c.respondents {
                    prop_assert!(n == 0 || n >= 5 || hidden.len() >= 2);
                }
            }
            // Every shown count at or above the threshold, every small count (zero too) hidden.
            for (c, n) in rel.categories.iter().zip(&counts) {
                if *n < 5 {
                    prop_assert!(c.suppressed);
                }
            }
        }
    }
}
