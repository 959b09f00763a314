//! The `zp` rule: white space and ASCII `-` are removed; a US postal code (country `us`, or an
//! unknown country and the ZIP+4 form `NNNNN-NNNN`) keeps its first five ASCII digits.
//!
//! Only the US gets truncated: elsewhere the `-` is part of the code (`01310-100` + br →
//! `01310100`), and cutting would merge distinct codes.

/// The normalized postal code of a prepared value; empty when nothing is left.
pub(super) fn normalize(mut value: String, country: Option<&str>) -> String {
    value.retain(|c| !c.is_whitespace());
    let us = match country {
        Some(country) => country == "us",
        None => is_zip_plus_four(&value),
    };
    if us {
        value.retain(|c| c.is_ascii_digit());
        value.truncate(5);
    } else {
        value.retain(|c| c != '-');
    }
    value
}

/// `NNNNN-NNNN` in ASCII digits (white space already removed).
fn is_zip_plus_four(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 10
        && bytes.get(5) == Some(&b'-')
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 5 || b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::normalize;

    fn zp(value: &str, country: Option<&str>) -> String {
        normalize(value.to_owned(), country)
    }

    #[test]
    fn us_codes_keep_the_first_five_digits() {
        assert_eq!(zp("94107-1234", Some("us")), "94107");
        assert_eq!(zp("94107 1234", Some("us")), "94107");
        assert_eq!(zp("303014321", Some("us")), "30301");
        assert_eq!(zp("02134", Some("us")), "02134");
        assert_eq!(zp("6103", Some("us")), "6103");
    }

    #[test]
    fn other_countries_only_lose_white_space_and_dashes() {
        assert_eq!(zp("sw1a 1aa", Some("gb")), "sw1a1aa");
        assert_eq!(zp("01310-100", Some("br")), "01310100");
        assert_eq!(zp("6103", Some("au")), "6103");
    }

    #[test]
    fn unknown_country_truncates_only_the_zip_plus_four_form() {
        assert_eq!(zp("30302-1234", None), "30302");
        assert_eq!(zp("30303 1234", None), "303031234");
        assert_eq!(zp("01310-100", None), "01310100");
    }

    #[test]
    fn nothing_left_is_empty() {
        assert_eq!(zp(" - ", Some("gb")), "");
    }
}
