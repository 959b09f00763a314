//! The `em` rule: the prepared value must match `^[^@\s]+@[^@\s]+\.[^@\s]+$`, with `\s` read as
//! Unicode white space (normalization.md; an inner NBSP makes an address invalid).
//!
//! The pattern is checked by hand rather than with a regex: it is three character-class runs, so
//! a straight scan is both clearer and allocation-free on the hot path.

/// Whether a prepared (trimmed, lower-cased) value is a well-formed email address.
pub(super) fn is_valid(value: &str) -> bool {
    if value.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = value.split_once('@') else {
        return false;
    };
    if local.is_empty() || domain.contains('@') {
        return false;
    }
    // `[^@\s]+\.[^@\s]+`: some '.' with at least one character on each side.
    domain
        .char_indices()
        .any(|(i, c)| c == '.' && i > 0 && i + 1 < domain.len())
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn ordinary_addresses_are_valid() {
        assert!(is_valid("jane.doe+shop@example.com"));
        assert!(is_valid("a@b.c"));
        // The pattern allows a trailing dot as long as a dot sits inside the domain.
        assert!(is_valid("jane.doe@example.com."));
    }

    #[test]
    fn malformed_addresses_are_invalid() {
        for bad in [
            "not-an-email",
            "user@localhost",
            "john doe@example.com",
            "anne\u{a0}marie@example.com",
            "hannah@@example.com",
            "@example.com",
            "a@.com",
            "a@com.",
            "a@b.c@d.e",
            "mgarcia.sub.domain.org",
        ] {
            assert!(!is_valid(bad), "{bad:?} should be invalid");
        }
    }
}
