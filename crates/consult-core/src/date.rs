//! The one rule for a date read from outside: `YYYY-MM-DD`, within [`FIRST_DATE`]..=[`LAST_DATE`].
//!
//! A date outside that range is a typing mistake, never a plan: refusing it keeps every date
//! consult derives from it (a closing date plus a number of weeks, a year's review) in range.

use chrono::NaiveDate;

/// The earliest date consult accepts: 1900-01-01.
pub const FIRST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(1900, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// The latest date consult accepts: 2999-12-31.
pub const LAST_DATE: NaiveDate = match NaiveDate::from_ymd_opt(2999, 12, 31) {
    Some(d) => d,
    None => NaiveDate::MAX,
};

/// Reads a date in the form `YYYY-MM-DD` (surrounding spaces ignored) between [`FIRST_DATE`] and
/// [`LAST_DATE`]; the error is a message for the field at fault.
pub fn parse_date(value: &str) -> Result<NaiveDate, String> {
    let v = value.trim();
    match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        Ok(d) if v.len() == 10 => check_date(d),
        _ => Err(format!("`{v}` is not a date in the form YYYY-MM-DD")),
    }
}

/// `date` if it lies between [`FIRST_DATE`] and [`LAST_DATE`], else the message saying so.
pub fn check_date(date: NaiveDate) -> Result<NaiveDate, String> {
    if (FIRST_DATE..=LAST_DATE).contains(&date) {
        Ok(date)
    } else {
        Err(format!("`{date}` is outside {FIRST_DATE} to {LAST_DATE}"))
    }
}

/// Whether `year` is a year of [`FIRST_DATE`]..=[`LAST_DATE`].
pub fn valid_year(year: i32) -> bool {
    (1900..=2999).contains(&year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_within_the_range() {
        assert_eq!(
            parse_date(" 2026-03-01 ").map(|d| d.to_string()).as_deref(),
            Ok("2026-03-01")
        );
        assert_eq!(parse_date("1900-01-01"), Ok(FIRST_DATE));
        assert_eq!(parse_date("2999-12-31"), Ok(LAST_DATE));
        for bad in [
            "9999-12-31",
            "1899-12-31",
            "3000-01-01",
            "0001-01-01",
            "2026-02-30",
            "2026-3-1",
            "+12026-01-01",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }
}
