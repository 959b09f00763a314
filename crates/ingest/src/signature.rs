//! Shopify webhook signatures (`X-Shopify-Hmac-Sha256`).
//!
//! We accept exactly what Shopify's official library accepts: the header must equal,
//! character for character, the standard padded base64 of HMAC-SHA256(secret, raw body).
//! Hex digests, URL-safe or unpadded base64, prefixes, surrounding spaces and an empty body
//! are all rejected (the library compares the header *string*; a verifier that decoded the
//! header first would accept forms it rejects). The comparison is constant-time, and every
//! configured secret is tried (secret rotation keeps the old and the new one for a while).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Length of a padded base64 SHA-256 tag.
const TAG_B64_LEN: usize = 44;

/// The set of app secrets a signature may have been made with.
#[derive(Clone)]
pub struct Secrets(Vec<SecretString>);

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} configured)", self.0.len())
    }
}

impl Secrets {
    /// Parses a comma-separated list; blank entries are ignored. `None` if none remain.
    pub fn parse(list: &str) -> Option<Self> {
        let secrets: Vec<SecretString> = list
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| SecretString::from(s.to_owned()))
            .collect();
        (!secrets.is_empty()).then_some(Self(secrets))
    }

    /// How many secrets are configured.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Always false: a `Secrets` holds at least one secret.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The signature header value Shopify would send for `body` with the first secret
    /// (for tests, tools and the benchmark's load generator).
    pub fn sign(&self, body: &[u8]) -> String {
        self.0
            .first()
            .map(|s| sign(s.expose_secret().as_bytes(), body))
            .unwrap_or_default()
    }

    /// Whether `header` is a valid signature of `body` under any configured secret.
    pub fn verify(&self, header: &str, body: &[u8]) -> bool {
        if body.is_empty() || header.len() != TAG_B64_LEN {
            return false;
        }
        // Try every secret without stopping early, so timing does not tell which matched.
        let mut ok = subtle::Choice::from(0);
        for secret in &self.0 {
            let expected = sign(secret.expose_secret().as_bytes(), body);
            ok |= expected.as_bytes().ct_eq(header.as_bytes());
        }
        ok.into()
    }
}

/// Standard padded base64 of HMAC-SHA256(`key`, `body`).
pub fn sign(key: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(list: &str) -> Secrets {
        Secrets::parse(list).unwrap_or_else(|| Secrets(Vec::new()))
    }

    #[test]
    fn accepts_the_standard_base64_signature() {
        let s = secrets("hush");
        let body = br#"{"id":1}"#;
        assert!(s.verify(&sign(b"hush", body), body));
    }

    #[test]
    fn matches_a_known_vector() {
        // RFC 4231 test case 2 ("Jefe"), as base64.
        let tag = sign(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(tag, "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=");
    }

    #[test]
    fn rejects_other_encodings_of_the_right_tag() {
        let s = secrets("hush");
        let body = b"payload";
        let good = sign(b"hush", body);
        let raw = STANDARD.decode(&good).unwrap_or_default();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        let url_safe = base64::engine::general_purpose::URL_SAFE.encode(&raw);
        let unpadded = good.trim_end_matches('=').to_owned();
        for bad in [
            hex,
            unpadded,
            format!("sha256={good}"),
            format!(" {good}"),
            format!("{good} "),
        ] {
            assert!(!s.verify(&bad, body), "accepted {bad:?}");
        }
        // URL-safe differs from standard only when the tag has + or /; check when it does.
        if url_safe != good {
            assert!(!s.verify(&url_safe, body));
        }
    }

    #[test]
    fn rejects_an_empty_body_even_when_signed() {
        let s = secrets("hush");
        assert!(!s.verify(&sign(b"hush", b""), b""));
    }

    #[test]
    fn accepts_the_second_of_two_rotated_secrets() {
        let s = secrets("old-secret, new-secret");
        assert_eq!(s.len(), 2);
        let body = b"x";
        assert!(s.verify(&sign(b"new-secret", body), body));
        assert!(s.verify(&sign(b"old-secret", body), body));
        assert!(!s.verify(&sign(b"other", body), body));
    }

    #[test]
    fn blank_secret_lists_are_rejected() {
        assert!(Secrets::parse(" , ,").is_none());
    }
}
