//! Reading ONS/Nomis Census 2021 bulk CSV files (`census2021-ts021-ltla.csv` style: one row per
//! area, one column per category) into baseline counts of the default monitoring scheme. Tables:
//! TS007A age (five-year bands rolled up to the scheme's bands), TS008 sex, TS021 ethnic group,
//! TS030 religion, TS038 disability. Totals and "not answered" columns are ignored.

use crate::equality::BaselineCounts;
use std::collections::BTreeMap;

/// The largest count a baseline cell may hold (ten times the world's population): a bigger
/// one is a mistake in the file, refused rather than summed.
const MAX_COUNT: f64 = 1.0e11;

/// Where one Nomis column's count goes: characteristic, category and the share of the count
/// (an age band straddling two of the scheme's bands is split evenly by year of age).
pub type ColumnTarget = Vec<(&'static str, &'static str, f64)>;

fn normalise(s: &str) -> String {
    let s = s.split(';').next().unwrap_or(s);
    s.trim().to_lowercase()
}

/// The scheme categories a Nomis column header counts towards, or `None` for totals, subtotals
/// and columns the scheme does not use.
///
/// ```
/// use consult_core::nomis_column;
/// let t = nomis_column("Ethnic group: Asian, Asian British or Asian Welsh: Bangladeshi").unwrap();
/// assert_eq!(t, vec![("ethnic_group", "bangladeshi", 1.0)]);
/// assert!(nomis_column("Ethnic group: Total: All usual residents").is_none());
/// ```
pub fn nomis_column(header: &str) -> Option<ColumnTarget> {
    let h = normalise(header);
    let (table, rest) = h.split_once(':')?;
    let last = rest.rsplit(':').next()?.trim();
    let one = |c: &'static str, k: &'static str| Some(vec![(c, k, 1.0)]);
    match table.trim() {
        "sex" => match last {
            "female" => one("sex", "female"),
            "male" => one("sex", "male"),
            _ => None,
        },
        "ethnic group" => {
            let key = match last {
                "bangladeshi" => "bangladeshi",
                "chinese" => "chinese",
                "indian" => "indian",
                "pakistani" => "pakistani",
                "other asian" => "other_asian",
                "african" => "african",
                "caribbean" => "caribbean",
                "other black" => "other_black",
                "white and asian" => "white_and_asian",
                "white and black african" => "white_and_black_african",
                "white and black caribbean" => "white_and_black_caribbean",
                "other mixed or multiple ethnic groups" => "other_mixed",
                "english, welsh, scottish, northern irish or british" => "white_british",
                "irish" => "irish",
                "gypsy or irish traveller" => "gypsy_or_irish_traveller",
                "roma" => "roma",
                "other white" => "other_white",
                "arab" => "arab",
                "any other ethnic group" => "any_other",
                _ => return None,
            };
            one("ethnic_group", key)
        }
        "religion" => {
            let key = match last {
                "no religion" => "no_religion",
                "christian" => "christian",
                "buddhist" => "buddhist",
                "hindu" => "hindu",
                "jewish" => "jewish",
                "muslim" => "muslim",
                "sikh" => "sikh",
                "other religion" => "other_religion",
                _ => return None,
            };
            one("religion", key)
        }
        "disability" => {
            if last.contains("limited a lot") {
                one("disability", "limited_a_lot")
            } else if last.contains("limited a little") {
                one("disability", "limited_a_little")
            } else if last.contains("are not limited") {
                one("disability", "condition_not_limiting")
            } else if last.contains("no long term") {
                one("disability", "no_condition")
            } else {
                None
            }
        }
        "age" => age_band(last),
        _ => None,
    }
}

/// The oldest age a Census band can name.
const OLDEST: u32 = 120;

/// Five-year census bands to the scheme's bands; 15 to 19 is split one fifth under 16.
fn age_band(label: &str) -> Option<ColumnTarget> {
    let nums: Vec<u32> = label
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    let lower = if label.contains("and under") { 0 } else { *nums.first()? };
    let band = |age: u32| -> &'static str {
        match age {
            0..=15 => "under_16",
            16..=24 => "16-24",
            25..=34 => "25-34",
            35..=44 => "35-44",
            45..=54 => "45-54",
            55..=64 => "55-64",
            65..=74 => "65-74",
            _ => "75+",
        }
    };
    if label.contains("and over") {
        return (lower <= OLDEST).then(|| vec![("age_band", band(lower), 1.0)]);
    }
    let upper = if label.contains("and under") {
        *nums.first()?
    } else {
        *nums.get(1)?
    };
    // Census bands are whole years of a human life; anything else is not an age column (and a
    // band of millions of years would be counted year by year).
    if upper < lower || upper > OLDEST {
        return None;
    }
    let years = f64::from(upper - lower + 1);
    let mut shares: BTreeMap<&'static str, f64> = BTreeMap::new();
    for age in lower..=upper {
        *shares.entry(band(age)).or_default() += 1.0 / years;
    }
    Some(shares.into_iter().map(|(k, v)| ("age_band", k, v)).collect())
}

/// Reads a Nomis bulk CSV (already split into a header row and data rows) into counts per area
/// code: `geography code` column, one count column per category. Rows for other areas are
/// skipped when `areas` is not empty.
pub fn nomis_baselines(
    header: &[String],
    rows: &[Vec<String>],
    areas: &[String],
) -> Result<BTreeMap<String, (String, BaselineCounts)>, String> {
    let code_col = header
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("geography code"))
        .ok_or("no `geography code` column: is this a Nomis bulk CSV?")?;
    let name_col = header.iter().position(|h| h.trim().eq_ignore_ascii_case("geography"));
    let targets: Vec<(usize, ColumnTarget)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| nomis_column(h).map(|t| (i, t)))
        .collect();
    if targets.is_empty() {
        return Err("no column matches a TS007A, TS008, TS021, TS030 or TS038 category".into());
    }
    let mut out: BTreeMap<String, (String, BaselineCounts)> = BTreeMap::new();
    for (line, row) in rows.iter().enumerate() {
        let Some(code) = row.get(code_col).map(|c| c.trim().to_uppercase()) else {
            continue;
        };
        if !areas.is_empty() && !areas.iter().any(|a| a.eq_ignore_ascii_case(&code)) {
            continue;
        }
        let name = name_col.and_then(|i| row.get(i)).cloned().unwrap_or_default();
        let entry = out.entry(code.clone()).or_insert_with(|| (name, BaselineCounts::new()));
        let mut fractional: BTreeMap<(&str, &str), f64> = BTreeMap::new();
        for (col, target) in &targets {
            let raw = row.get(*col).map(|v| v.trim().replace(',', "")).unwrap_or_default();
            let not_a_count = || {
                format!(
                    "row {} ({code}): `{raw}` in `{}` is not a count",
                    line + 2,
                    header[*col]
                )
            };
            let n: f64 = raw.parse().map_err(|_| not_a_count())?;
            // A count of people: never negative, never more than there are people.
            if !n.is_finite() || !(0.0..=MAX_COUNT).contains(&n) {
                return Err(not_a_count());
            }
            for (c, k, share) in target {
                *fractional.entry((c, k)).or_default() += n * share;
            }
        }
        for ((c, k), n) in fractional {
            let count = entry
                .1
                .entry(c.to_owned())
                .or_default()
                .entry(k.to_owned())
                .or_default();
            // Each count is at most MAX_COUNT, so only an absurd number of rows for one area
            // could overflow: refused rather than wrapped.
            *count = count
                .checked_add(n.round() as u64)
                .ok_or_else(|| format!("row {} ({code}): the counts add up to more than can be held", line + 2))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_outside_a_life_are_not_age_columns() {
        // Found by fuzzing: a band to 7,000,199 was counted year by year.
        assert_eq!(nomis_column("Age: Aged 8 years u dsnnde7000199"), None);
        assert_eq!(nomis_column("Age: Aged 0 to 4294967295 years"), None);
        assert_eq!(nomis_column("Age: Aged 4294967295 years and over"), None);
        assert_eq!(
            nomis_column("Age: Aged 100 years and over").unwrap(),
            vec![("age_band", "75+", 1.0)]
        );
    }

    #[test]
    fn age_bands_roll_up() {
        assert_eq!(
            nomis_column("Age: Aged 4 years and under").unwrap(),
            vec![("age_band", "under_16", 1.0)]
        );
        let split = nomis_column("Age: Aged 15 to 19 years").unwrap();
        assert_eq!(split.len(), 2);
        assert!((split[0].2 - 0.8).abs() < 1e-9 && split[0].1 == "16-24");
        assert!((split[1].2 - 0.2).abs() < 1e-9 && split[1].1 == "under_16");
        assert_eq!(
            nomis_column("Age: Aged 85 years and over").unwrap(),
            vec![("age_band", "75+", 1.0)]
        );
    }

    #[test]
    fn counts_beyond_any_population_are_refused_not_overflowed() {
        // Found by the fuzzer: `4010E14000474` read as a number of people overflowed the sum.
        let header: Vec<String> = ["date", "geography", "geography code", "Sex: Male; measures: Value"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let row = |v: &str| {
            vec![
                "2021".to_owned(),
                "Tamworth".to_owned(),
                "E07000199".to_owned(),
                v.to_owned(),
            ]
        };
        for bad in ["4010E14000474", "-5", "inf", "NaN"] {
            let e = nomis_baselines(&header, &[row("10"), row(bad)], &["E07000199".to_owned()]).unwrap_err();
            assert!(e.contains("is not a count"), "{bad}: {e}");
        }
        assert!(nomis_baselines(&header, &[row("38,600")], &["E07000199".to_owned()]).is_ok());
    }

    #[test]
    fn worcester_ts021_and_ts008_read() {
        let header: Vec<String> = [
            "date",
            "geography",
            "geography code",
            "Ethnic group: Total: All usual residents",
            "Ethnic group: Asian, Asian British or Asian Welsh",
            "Ethnic group: Asian, Asian British or Asian Welsh: Indian",
            "Ethnic group: White: English, Welsh, Scottish, Northern Irish or British",
            "Sex: All persons; measures: Value",
            "Sex: Female; measures: Value",
            "Sex: Male; measures: Value",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let row = |code: &str| -> Vec<String> {
            [
                "2021",
                "Worcester",
                code,
                "103869",
                "5860",
                "1,336",
                "85868",
                "103872",
                "52999",
                "50873",
            ]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
        };
        let out = nomis_baselines(&header, &[row("E07000237"), row("E07000238")], &["E07000237".into()]).unwrap();
        assert_eq!(out.len(), 1);
        let (name, counts) = &out["E07000237"];
        assert_eq!(name, "Worcester");
        assert_eq!(counts["ethnic_group"]["indian"], 1336);
        assert_eq!(counts["ethnic_group"].len(), 2, "subtotals are ignored");
        assert_eq!(counts["sex"]["female"], 52999);
        let bad = nomis_baselines(
            &header,
            &[vec![
                "2021".into(),
                "W".into(),
                "E07000237".into(),
                "x".into(),
                "1".into(),
                "n/a".into(),
                "1".into(),
                "1".into(),
                "1".into(),
                "1".into(),
            ]],
            &[],
        );
        assert!(bad.unwrap_err().contains("n/a"));
    }
}
