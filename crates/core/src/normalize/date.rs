//! The `db` rule: a date of birth in one of the accepted layouts becomes `YYYYMMDD`.
//!
//! Accepted (normalization.md and the fixtures README): `YYYYMMDD` (exactly 8 digits),
//! `YYYY-MM-DD`, `YYYY/MM/DD`, `MM/DD/YYYY` and `DD.MM.YYYY`, month and day with 1 or 2 digits
//! in the separated forms, ASCII digits only. `DD/MM/YYYY` is read as `MM/DD/YYYY`, so
//! `31/12/2001` is invalid. The date must exist, have a year of at least 1900 and not lie in the
//! future. The layouts are few and fixed, so they are matched by hand rather than by a regex.

use chrono::NaiveDate;

/// The earliest accepted year of birth.
const MIN_YEAR: i32 = 1900;

/// `YYYYMMDD` for a prepared value, or `None` when it is not an accepted date of birth on `today`.
pub(super) fn normalize(value: &str, today: NaiveDate) -> Option<String> {
    let (year, month, day) = split(value)?;
    if year < MIN_YEAR {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year, month, day)?;
    if date > today {
        return None;
    }
    Some(format!("{year:04}{month:02}{day:02}"))
}

/// Year, month and day as written, in any accepted layout.
fn split(value: &str) -> Option<(i32, u32, u32)> {
    if value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()) {
        return Some((
            number(value.get(0..4)?, 4, 4)?,
            number(value.get(4..6)?, 2, 2)?,
            number(value.get(6..8)?, 2, 2)?,
        ));
    }
    let separator = value.bytes().find(|b| matches!(b, b'-' | b'/' | b'.'))?;
    let mut parts = value.split(char::from(separator));
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    match separator {
        // YYYY-MM-DD
        b'-' => Some((number(a, 4, 4)?, number(b, 1, 2)?, number(c, 1, 2)?)),
        // YYYY/MM/DD or MM/DD/YYYY
        b'/' if a.len() == 4 => Some((number(a, 4, 4)?, number(b, 1, 2)?, number(c, 1, 2)?)),
        b'/' => Some((number(c, 4, 4)?, number(a, 1, 2)?, number(b, 1, 2)?)),
        // DD.MM.YYYY
        _ => Some((number(c, 4, 4)?, number(b, 1, 2)?, number(a, 1, 2)?)),
    }
}

/// An unsigned decimal of `min..=max` ASCII digits.
fn number<T: std::str::FromStr>(digits: &str, min: usize, max: usize) -> Option<T> {
    if !(min..=max).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).expect("a real date")
    }

    fn db(value: &str) -> Option<String> {
        normalize(value, today())
    }

    #[test]
    fn every_accepted_layout_becomes_yyyymmdd() {
        for value in [
            "19850704",
            "1985-07-04",
            "1985/07/04",
            "1985/7/4",
            "07/04/1985",
            "7/4/1985",
            "04.07.1985",
            "4.7.1985",
        ] {
            assert_eq!(db(value).as_deref(), Some("19850704"), "{value}");
        }
    }

    #[test]
    fn day_first_with_slashes_is_read_month_first() {
        assert_eq!(db("31/12/2001"), None);
        assert_eq!(db("12/31/2001").as_deref(), Some("20011231"));
    }

    #[test]
    fn impossible_old_and_future_dates_are_rejected() {
        assert_eq!(db("1999-02-29"), None);
        assert_eq!(db("2000-02-29").as_deref(), Some("20000229"));
        assert_eq!(db("1899-12-31"), None);
        assert_eq!(db("1900-01-01").as_deref(), Some("19000101"));
        assert_eq!(db("2999-01-01"), None);
        assert_eq!(db("2026-12-05"), None);
        assert_eq!(db("2026-12-04").as_deref(), Some("20261204"));
    }

    #[test]
    fn other_shapes_are_rejected() {
        for value in [
            "july 4, 1985",
            "1985-7-4-1",
            "85-07-04",
            "1985-007-04",
            "1985.07.04",
            "1985-07/04",
            "1985 07 04",
            "198507040",
            "\u{ff11}985-07-04",
            "+1985-07-04",
            "",
        ] {
            assert_eq!(db(value), None, "{value:?}");
        }
    }
}
