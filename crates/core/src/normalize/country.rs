//! The `country` rule, and reading the country *context* that `ph`, `st` and `zp` depend on.
//!
//! A value is reduced to its letters (lower-cased) and looked up in a table of every assigned
//! ISO 3166-1 alpha-2 code, every alpha-3 code and the English short, official and common names,
//! plus `uk` for `gb` (normalization.md). Names outside ISO 3166 (`Turkey`, `Russia`, `Holland`,
//! `Deutschland`) are invalid on purpose: the specification is the stricter reading.
//!
//! The table (`country_table.rs`) is generated from pycountry 26.2.16, the release the vectors
//! were computed with, by `gen_countries.py` beside this file. No maintained Rust crate offers
//! the same lookup: `isocountry` (last released 2020) and `rust_iso3166` carry codes and one
//! English name per country but not pycountry's official and common names (`Republic of
//! Türkiye`, `South Korea`), and alias crates such as `celes` accept names this specification
//! rejects. A generated, sorted static table also needs no initialisation on the hot path.

use super::country_table::COUNTRIES;
use super::text::is_letter;

/// The lower-case alpha-2 code for a prepared `country` value, or `None` when none matches.
pub(super) fn alpha2(value: &str) -> Option<&'static str> {
    let key: String = value.chars().filter(|&c| is_letter(c)).collect();
    lookup(&key)
}

/// Looks up a letters-only, lower-cased key.
fn lookup(key: &str) -> Option<&'static str> {
    COUNTRIES
        .binary_search_by(|(name, _)| (*name).cmp(key))
        .ok()
        .and_then(|i| COUNTRIES.get(i))
        .map(|(_, code)| *code)
}

/// Reads a caller's country context (normally an ISO alpha-2 code in any case, e.g. `GB`),
/// returning the lower-case alpha-2 code, or `None` when it is empty or not a country.
///
/// Anything the `country` rule accepts is accepted here too (`uk`, `USA`, `Germany`), so a
/// Shopify address whose `country_code` is missing but whose `country` name is present still
/// gives its number a region.
pub(super) fn context(raw: Option<&str>) -> Option<&'static str> {
    let raw = raw?.trim();
    if let [a, b] = raw.as_bytes()
        && a.is_ascii_alphabetic()
        && b.is_ascii_alphabetic()
    {
        let key = [a.to_ascii_lowercase(), b.to_ascii_lowercase()];
        return std::str::from_utf8(&key).ok().and_then(lookup);
    }
    if raw.is_empty() {
        return None;
    }
    alpha2(&super::text::prepare(raw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique_for_binary_search() {
        assert!(COUNTRIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn table_holds_every_assigned_code() {
        let alpha2 = COUNTRIES.iter().filter(|(k, v)| k == v).count();
        assert_eq!(alpha2, 249);
    }

    #[test]
    fn codes_and_names_become_alpha2() {
        for (value, code) in [
            ("us", "us"),
            ("usa", "us"),
            ("united states", "us"),
            ("united states of america", "us"),
            ("u.s.", "us"),
            ("uk", "gb"),
            ("korea, republic of", "kr"),
            ("south korea", "kr"),
            ("türkiye", "tr"),
            ("côte d'ivoire", "ci"),
            (" france ", "fr"),
        ] {
            assert_eq!(alpha2(value), Some(code), "{value}");
        }
    }

    #[test]
    fn names_outside_iso_3166_are_rejected() {
        for value in [
            "turkey",
            "russia",
            "great britain",
            "holland",
            "deutschland",
            "xx",
            "usaa",
            "",
        ] {
            assert_eq!(alpha2(value), None, "{value}");
        }
    }

    #[test]
    fn context_accepts_codes_in_any_case_and_names() {
        assert_eq!(context(Some("GB")), Some("gb"));
        assert_eq!(context(Some("gb")), Some("gb"));
        assert_eq!(context(Some("UK")), Some("gb"));
        assert_eq!(context(Some("Germany")), Some("de"));
        assert_eq!(context(Some("")), None);
        assert_eq!(context(Some("zz")), None);
        assert_eq!(context(None), None);
    }
}
