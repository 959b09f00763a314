//! Well-formedness checks for the `user_data` keys that are sent as given, never hashed:
//! `client_ip_address`, `fbc` and `fbp` (normalization.md, "Never hashed").
//!
//! Meta documents their shapes; a malformed value is dropped (`None`) rather than sent, since
//! Meta would reject or mis-attribute it. The checks do not rewrite a well-formed value beyond
//! trimming surrounding white space: the click id in particular is case-sensitive.

use std::net::IpAddr;

/// The trimmed address when it is a valid IPv4 or IPv6 address (`std::net::IpAddr` syntax),
/// else `None`.
pub fn client_ip_address(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    trimmed.parse::<IpAddr>().ok().map(|_| trimmed.to_owned())
}

/// Builds an `fbc` from a click id (`fbclid` URL parameter) and the time it was seen:
/// `fb.1.<unix ms>.<fbclid>`, the click id's case kept.
pub fn fbc_from_click_id(fbclid: &str, at_unix_ms: i64) -> String {
    format!("fb.1.{at_unix_ms}.{fbclid}")
}

/// The trimmed value when it is a well-formed existing `fbc`: 4 or 5 dot-separated non-empty
/// parts, `fb`, a numeric subdomain index, a numeric creation time in ms, the click id and an
/// optional suffix. `None` otherwise.
pub fn fbc(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let parts = cookie_parts(trimmed)?;
    matches!(parts.len(), 4 | 5).then(|| trimmed.to_owned())
}

/// The trimmed value when it is a well-formed `fbp`: `fb.<subdomain index>.<creation ms>.<random>`,
/// four dot-separated parts. `None` otherwise.
pub fn fbp(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let parts = cookie_parts(trimmed)?;
    (parts.len() == 4).then(|| trimmed.to_owned())
}

/// Splits a `_fbc`/`_fbp` cookie value into its dot-separated parts, checking what both share:
/// the `fb` prefix, a numeric subdomain index and creation time, non-empty visible-ASCII parts.
fn cookie_parts(value: &str) -> Option<Vec<&str>> {
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    let parts: Vec<&str> = value.split('.').collect();
    let numeric = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = parts.first() == Some(&"fb")
        && parts.get(1).is_some_and(numeric)
        && parts.get(2).is_some_and(numeric)
        && parts.iter().all(|p| !p.is_empty());
    well_formed.then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_addresses_are_checked_and_trimmed() {
        assert_eq!(
            client_ip_address(" 203.0.113.7 ").as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            client_ip_address("2001:db8::1").as_deref(),
            Some("2001:db8::1")
        );
        assert_eq!(client_ip_address("203.0.113"), None);
        assert_eq!(client_ip_address("203.0.113.7, 10.0.0.1"), None);
        assert_eq!(client_ip_address(""), None);
    }

    #[test]
    fn fbc_is_built_with_the_click_id_case_kept() {
        assert_eq!(
            fbc_from_click_id("IwAR2F4-dbP0l7Mn", 1_700_000_000_123),
            "fb.1.1700000000123.IwAR2F4-dbP0l7Mn"
        );
    }

    #[test]
    fn existing_fbc_has_four_or_five_parts() {
        let four = "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890";
        assert_eq!(fbc(four).as_deref(), Some(four));
        let five = "fb.1.1554763741205.IwAR2F4-dbP0l7Mn.Bg";
        assert_eq!(fbc(five).as_deref(), Some(five));
        for bad in [
            "fb.1.1554763741205",
            "fb.1.1.a.b.c",
            "fc.1.1554763741205.x",
            "fb.1.now.x",
            "fb.1.1..x",
            "fb.1.1.a b",
        ] {
            assert_eq!(fbc(bad), None, "{bad}");
        }
    }

    #[test]
    fn fbp_has_four_parts() {
        let ok = "fb.1.1596403881668.1116446470";
        assert_eq!(fbp(ok).as_deref(), Some(ok));
        assert_eq!(fbp("fb.1.1596403881668"), None);
        assert_eq!(fbp("fb.1.1596403881668.1116446470.x"), None);
        assert_eq!(fbp("fb.x.1596403881668.1116446470"), None);
    }
}
