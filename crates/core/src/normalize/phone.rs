//! The `ph` rule: a phone number becomes its E.164 digits (no `+`) when libphonenumber's
//! metadata says it is a *valid* number, else `invalid phone`.
//!
//! Parsing and validation are the `rlibphonenumber` crate (a port of libphonenumber 9.0.8's C++
//! code; its metadata release is in its README, 9.0.42 for crate 2.2.15, while the vectors'
//! `spec` column was computed with 9.0.43). It applies the region's trunk prefix and
//! international (IDD) prefix (`00` in gb/de/fr, `011` in us/ca, so `001 212 555 0149` + us is
//! not read as international), drops extensions (`x123`, `ext. 123`, `#123`) and maps vanity
//! letters to keypad digits (`1-800-FLOWERS`).
//!
//! Why this crate and not `phonenumber` 0.3.10 (used until now): that crate sends every regex
//! match through one global `Mutex<LruCache>` of 100 compiled regexes, so concurrent callers
//! serialize, and once a mix of countries needs more than 100 patterns every match recompiles
//! its regex. `rlibphonenumber` compiles each metadata regex once, lazily, into a `OnceLock`
//! beside the metadata: no lock on the hot path and nothing to evict. Measured on this 2-core
//! machine (release build, CPU time per number, one thread; `phone_parse_cost` below measures
//! this module):
//!
//! | input | `phonenumber` 0.3.10 | `rlibphonenumber` 2.2.15 |
//! | --- | --- | --- |
//! | the 49 phone vectors in a loop (15 regions) | ~1,300 µs (LRU thrash) | ~1.9 µs |
//! | a 5-number, 5-region mix | ~9 µs | ~1.6 µs |
//! | `+1` E.164 input | ~6.4 µs | ~1.2 µs; ~0.3 µs with the fast path below |
//! | an invalid `+1` number (`555-555-SHIP`, `+15555557447`) | — | ~6.9 µs; ~11 µs on a thread that does not own the regex caches |
//!
//! An invalid `+1` number is the slow case: the crate runs the full number-type check for each
//! of the 25 NANPA regions before it can say no (upstream libphonenumber skips regions whose
//! leading digits do not match; docs/decisions/0005).
//!
//! With two threads at once, `phonenumber`'s wall time per number nearly doubled (`+1` E.164:
//! 7.2 → 13.1 µs, the lock serializing them); `rlibphonenumber`'s rose by about a quarter
//! (1.2 → 1.5 µs, two busy threads on two cores), with no lock between them.
//!
//! What the crate does not do, and this module does around it:
//!
//! - Every Unicode decimal digit (general category Nd) is converted to ASCII first, so the
//!   no-region rule below and the fast path see plain digits.
//! - With no known region, the specification's own reading applies: a leading `+` (or `00`, read
//!   as `+`) is parsed as international; otherwise a value without letters has its digits read
//!   as an international number (Meta's example `16505551212`); anything else is invalid.
//! - `+1` followed by exactly ten ASCII digits, the first 2–9 (E.164, as in Shopify's
//!   `customer.phone`),
//!   skips the parser: for such input libphonenumber's parse yields country code 1 and those
//!   ten digits (the national prefix `1` cannot match a leading 2–9, and `+` overrides the
//!   default region), so the number is built directly and still goes through
//!   `is_valid_number`. A test checks that the parser builds the same number.
//! - The E.164 digits are built from the parsed country code and national significant number
//!   instead of going through the crate's formatter (same result, checked by a test).
//!
//! Known metadata differences against the vectors: none (every phone vector agrees with
//! metadata 9.0.42). A number allocated or withdrawn between the two releases would differ (one
//! known: `+263 1312345`, Zimbabwe, valid in 9.0.42 and invalid in 9.0.43, not in the vectors);
//! the vectors test keeps an allow-list for that case, currently empty.
//!
//! The crate's `PHONE_NUMBER_UTIL` decodes its metadata on first use (about 5–13 ms, once per
//! process), and each region's regexes compile on that region's first number.

use std::borrow::Cow;
use std::fmt::Write as _;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber, Region};

use super::text::{decimal_digit_value, is_letter};

/// The E.164 digits (no `+`) of a prepared value, or `None` when it is not a valid number.
///
/// `region` is the default region, already checked to have metadata (see [`region_id`]);
/// `None` when the context country is unknown.
pub(super) fn e164_digits(value: &str, region: Option<Region>) -> Option<String> {
    let value = ascii_digits(value);
    if let Some(number) = nanp_e164(&value) {
        return PHONE_NUMBER_UTIL
            .is_valid_number(&number)
            .then(|| value[1..].to_owned());
    }
    let number = match region {
        Some(region) => PHONE_NUMBER_UTIL.parse(value.as_ref(), Some(region)).ok()?,
        None => parse_without_region(&value)?,
    };
    if !PHONE_NUMBER_UTIL.is_valid_number(&number) {
        return None;
    }
    Some(e164_without_plus(&number))
}

/// The crate's region for a lower-case ISO alpha-2 code, if its metadata knows the region.
pub(super) fn region_id(alpha2: &str) -> Option<Region> {
    // `from_code` upper-cases and maps any two ASCII letters to a variant; a default region is
    // only useful when it has metadata, which is exactly when it has a calling code.
    let region = Region::from_code(alpha2).ok()?;
    PHONE_NUMBER_UTIL
        .get_country_code_for_region(region)
        .map(|_| region)
}

/// `+1` and ten ASCII digits starting 2–9: the number libphonenumber's parser would build, without
/// running it (see the module doc). `None` for any other input.
fn nanp_e164(value: &str) -> Option<PhoneNumber> {
    let digits = value.strip_prefix("+1")?.as_bytes();
    if digits.len() != 10
        || !matches!(digits[0], b'2'..=b'9')
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return None;
    }
    let national_number = digits
        .iter()
        .fold(0_u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some(PhoneNumber {
        country_code: 1,
        national_number,
        ..PhoneNumber::default()
    })
}

/// The specification's rules when no region is known.
fn parse_without_region(value: &str) -> Option<PhoneNumber> {
    if value.starts_with(['+', '\u{ff0b}']) {
        return PHONE_NUMBER_UTIL.parse(value, None).ok();
    }
    if let Some(rest) = value.strip_prefix("00") {
        return PHONE_NUMBER_UTIL.parse(format!("+{rest}"), None).ok();
    }
    if value.chars().any(is_letter) {
        return None;
    }
    let mut international = String::with_capacity(value.len() + 1);
    international.push('+');
    international.extend(value.chars().filter(char::is_ascii_digit));
    if international.len() == 1 {
        return None;
    }
    PHONE_NUMBER_UTIL.parse(&international, None).ok()
}

/// Replaces every non-ASCII Unicode decimal digit with its ASCII digit; borrows when there is
/// none (the common case).
fn ascii_digits(value: &str) -> Cow<'_, str> {
    if value.is_ascii() {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .chars()
            .map(|c| match decimal_digit_value(c) {
                Some(d) => char::from(b'0' + d),
                None => c,
            })
            .collect(),
    )
}

/// `<country code><national significant number>`, the latter with its significant leading zeros
/// (Italian fixed lines): E.164 without the `+`.
fn e164_without_plus(number: &PhoneNumber) -> String {
    let national = rlibphonenumber::get_national_significant_number_owned(number);
    let mut out = String::with_capacity(3 + national.len());
    // Writing to a String cannot fail.
    let _ = write!(out, "{}", number.country_code);
    out.push_str(&national);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use rlibphonenumber::PhoneNumberFormat;

    fn ph(value: &str, region: Option<&str>) -> Option<String> {
        e164_digits(value, region.and_then(region_id))
    }

    #[test]
    fn national_formats_get_the_country_code() {
        assert_eq!(
            ph("(650)555-1212", Some("us")).as_deref(),
            Some("16505551212")
        );
        assert_eq!(
            ph("020 7946 0958", Some("gb")).as_deref(),
            Some("442079460958")
        );
        assert_eq!(
            ph("06 6982 1234", Some("it")).as_deref(),
            Some("390669821234")
        );
    }

    #[test]
    fn trunk_digit_in_parentheses_is_dropped() {
        assert_eq!(
            ph("+49 (0)30 1234567", Some("de")).as_deref(),
            Some("49301234567")
        );
        assert_eq!(
            ph("+33 (0)6 02 35 92 56", None).as_deref(),
            Some("33602359256")
        );
    }

    #[test]
    fn the_regions_international_prefix_decides() {
        assert_eq!(
            ph("0049 30 123456", Some("de")).as_deref(),
            Some("4930123456")
        );
        assert_eq!(
            ph("011 44 20 7946 0111", Some("us")).as_deref(),
            Some("442079460111")
        );
        assert_eq!(ph("001 212 555 0149", Some("us")), None);
    }

    #[test]
    fn extensions_are_dropped_and_vanity_letters_become_digits() {
        assert_eq!(
            ph("212-555-0148 x123", Some("us")).as_deref(),
            Some("12125550148")
        );
        assert_eq!(
            ph("212-555-0148 ext. 123", Some("us")).as_deref(),
            Some("12125550148")
        );
        assert_eq!(
            ph("1-800-flowers", Some("us")).as_deref(),
            Some("18003569377")
        );
        assert_eq!(ph("+1-800-flowers", None).as_deref(), Some("18003569377"));
    }

    #[test]
    fn unicode_digits_are_read() {
        assert_eq!(
            ph("４１５５５５０１００", Some("us")).as_deref(),
            Some("14155550100")
        );
        // Devanagari digits are not in the crate's own digit table.
        assert_eq!(
            ph(
                "\u{967}\u{968}\u{967}\u{968}\u{96b}\u{96b}\u{96b}\u{966}\u{967}\u{969}\u{96e}",
                Some("us")
            )
            .as_deref(),
            Some("12125550138")
        );
    }

    #[test]
    fn without_a_region_digits_are_read_as_international() {
        assert_eq!(ph("16505551212", None).as_deref(), Some("16505551212"));
        assert_eq!(
            ph("0049 89 12345678", None).as_deref(),
            Some("498912345678")
        );
        assert_eq!(
            ph("+44 20 7946 0999", None).as_deref(),
            Some("442079460999")
        );
        assert_eq!(ph("(415) 555-0123", None), None);
        assert_eq!(ph("1-800-flowers", None), None);
        assert_eq!(ph("12345", None), None);
        assert_eq!(ph("0", None), None);
    }

    #[test]
    fn invalid_numbers_are_rejected() {
        assert_eq!(ph("07700 900456", Some("gb")), None);
        assert_eq!(ph("555 01", Some("us")), None);
        assert_eq!(ph("+1 415 555 0123 4567", Some("us")), None);
        assert_eq!(ph("not a number", Some("us")), None);
    }

    #[test]
    fn e164_input_with_and_without_the_fast_path() {
        assert_eq!(ph("+13125551212", None).as_deref(), Some("13125551212"));
        assert_eq!(
            ph("+13125551212", Some("gb")).as_deref(),
            Some("13125551212")
        );
        assert_eq!(
            ph("+16505551212", Some("us")).as_deref(),
            Some("16505551212")
        );
        // N11 area codes are not allocated: the fast path still validates.
        assert_eq!(ph("+12115550123", None), None);
        // Area codes never start with 0 or 1; such input takes the parser, and is invalid.
        assert_eq!(ph("+11005550123", None), None);
        assert_eq!(ph("+1312555121", None), None);
        assert_eq!(ph("+131255512123", None), None);
        // Other forms take the parser.
        assert_eq!(ph("+1 312 555 1212", None).as_deref(), Some("13125551212"));
        assert_eq!(ph("+442079460958", None).as_deref(), Some("442079460958"));
        assert_eq!(ph("+390669821234", None).as_deref(), Some("390669821234"));
    }

    /// The fast path must build exactly the number the parser builds, valid or not.
    #[test]
    fn nanp_fast_path_builds_what_the_parser_builds() {
        // A deterministic spread over all 2-9 leading digits and the rest of the range.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for i in 0..4000_u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let national = 2_000_000_000 + (x % 8_000_000_000);
            let value = format!("+1{national}");
            let fast = nanp_e164(&value).expect("fast path applies");
            let region = [None, Some(Region::US), Some(Region::GB)][(i % 3) as usize];
            let parsed = PHONE_NUMBER_UTIL.parse(&value, region).expect("parses");
            assert_eq!(fast, parsed, "{value}");
        }
        for value in [
            "+1",
            "+12",
            "+10005550100",
            "+1312555121x",
            "+1 3125551212",
            "+23125551212",
        ] {
            assert!(nanp_e164(value).is_none(), "{value}");
        }
    }

    /// Every region's example numbers parse and validate in national and international form,
    /// and our E.164 digits agree with the crate's own E.164 formatter. This also compiles the
    /// metadata regexes those paths use (an invalid one would panic inside the crate).
    #[test]
    fn example_numbers_of_every_region_round_trip() {
        let mut regions: Vec<Region> = PHONE_NUMBER_UTIL.get_supported_regions().collect();
        regions.sort();
        assert!(regions.len() > 240, "{} regions", regions.len());
        for region in regions {
            let alpha2 = region.to_string().to_ascii_lowercase();
            assert_eq!(region_id(&alpha2), Some(region));
            let Ok(example) = PHONE_NUMBER_UTIL.get_example_number(region) else {
                continue;
            };
            let formatted = PHONE_NUMBER_UTIL.format(&example, PhoneNumberFormat::E164);
            let expected = formatted.strip_prefix('+').expect("E.164 starts with +");
            assert_eq!(e164_without_plus(&example), expected, "{region}");
            let national = PHONE_NUMBER_UTIL.format(&example, PhoneNumberFormat::National);
            assert_eq!(
                ph(&national, Some(&alpha2)).as_deref(),
                Some(expected),
                "{region} {national}"
            );
            assert_eq!(
                ph(&formatted, None).as_deref(),
                Some(expected),
                "{region} {formatted}"
            );
        }
    }

    #[test]
    fn regions_without_metadata_are_unknown() {
        assert_eq!(region_id("us"), Some(Region::US));
        assert_eq!(region_id("GB"), Some(Region::GB));
        assert!(region_id("zz").is_none());
        assert!(region_id("u1").is_none());
        assert!(region_id("001").is_none());
        assert!(region_id("usa").is_none());
    }

    /// Measures the cost of one phone normalization, on one thread and on two at once. Run with
    /// `cargo test -p audience-core --release --lib -- --ignored --nocapture phone_parse_cost`.
    #[test]
    #[ignore = "timing, not a check; run by hand in release mode"]
    fn phone_parse_cost() {
        let mixed = [
            ("(415) 555-0100", Some("us")),
            ("020 7946 0958", Some("gb")),
            ("+49 (0)30 1234567", Some("de")),
            ("0491 570 156", Some("au")),
            ("16505551212", None),
        ];
        let e164 = [
            ("+13125551212", Some("us")),
            ("+14155550100", Some("us")),
            ("+16505551212", None),
            ("+12125550148", Some("ca")),
        ];
        let invalid = [("555-555-SHIP", Some("us")), ("+15555557447", Some("us"))];
        for (label, cases) in [
            ("5-region mix", &mixed[..]),
            ("+1 E.164", &e164[..]),
            ("invalid +1", &invalid[..]),
        ] {
            let cases: Vec<_> = cases
                .iter()
                .map(|(v, r)| (*v, r.and_then(region_id)))
                .collect();
            let rounds = 20_000_u32;
            let per_number = || {
                let start = std::time::Instant::now();
                for _ in 0..rounds {
                    for (value, region) in &cases {
                        std::hint::black_box(e164_digits(value, *region));
                    }
                }
                start.elapsed() / (rounds * u32::try_from(cases.len()).expect("small"))
            };
            per_number();
            let one = per_number();
            let two = std::thread::scope(|s| {
                let a = s.spawn(per_number);
                let b = s.spawn(per_number);
                [a.join().expect("thread"), b.join().expect("thread")]
            });
            println!("{label}: {one:?} per number; two threads at once: {two:?} per number each");
        }
    }
}
