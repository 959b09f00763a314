//! The versioned message envelope that every RabbitMQ message body is wrapped in.
//!
//! Ingest builds one per accepted webhook, with the webhook's metadata from Shopify's
//! headers and a typed payload whose personal data is already hashed
//! ([`crate::events::StoreEvent`]). The body is compact JSON. A consumer reads
//! `schema_version` first and refuses a version it does not know with
//! [`EnvelopeError::UnsupportedSchemaVersion`] (dead-letter it, do not guess), so the format
//! can evolve by adding versions.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::shopify::money::truncate_for_message;

/// The envelope format this build writes and reads.
pub const SCHEMA_VERSION: u16 = 1;

/// The longest shop domain accepted (a DNS name).
pub const MAX_SHOP_DOMAIN_LEN: usize = 255;

/// A message on the bus: webhook metadata plus a typed payload.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Envelope<P> {
    /// Always [`SCHEMA_VERSION`] when written by this build.
    pub schema_version: u16,
    /// The dedupe key: `"shopify:" + X-Shopify-Webhook-Id` (see [`shopify_message_id`]).
    pub message_id: String,
    /// The shop's `*.myshopify.com` domain, lower-case (see [`validate_shop_domain`]).
    pub shop_domain: String,
    /// The Shopify topic (`"orders/create"`).
    pub topic: String,
    /// `X-Shopify-Event-Id`: shared by every delivery of one merchant action.
    pub event_id: Option<String>,
    /// `X-Shopify-Triggered-At`: when Shopify triggered the delivery.
    pub triggered_at: Option<DateTime<Utc>>,
    /// When ingest received the request.
    pub received_at: DateTime<Utc>,
    /// `X-Shopify-API-Version`: the version that serialized the body (`"2026-10"`).
    pub api_version: String,
    /// The typed payload, personal data already hashed.
    pub payload: P,
}

impl<P> Envelope<P> {
    /// An envelope of this build's [`SCHEMA_VERSION`], received now, without an event id or a
    /// trigger time; set those (and any other field) with struct update syntax:
    /// `Envelope { event_id, ..Envelope::new(…) }`.
    pub fn new(
        message_id: impl Into<String>,
        shop_domain: impl Into<String>,
        topic: impl Into<String>,
        api_version: impl Into<String>,
        payload: P,
    ) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            message_id: message_id.into(),
            shop_domain: shop_domain.into(),
            topic: topic.into(),
            event_id: None,
            triggered_at: None,
            received_at: Utc::now(),
            api_version: api_version.into(),
            payload,
        }
    }
}

impl<P: Serialize> Envelope<P> {
    /// The envelope as compact JSON.
    pub fn to_vec(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

impl<P: DeserializeOwned> Envelope<P> {
    /// Reads an envelope: checks `schema_version` first, then parses the rest and checks that
    /// `shop_domain` is a valid `*.myshopify.com` domain.
    pub fn from_slice(bytes: &[u8]) -> Result<Envelope<P>, EnvelopeError> {
        let probe: VersionProbe =
            serde_json::from_slice(bytes).map_err(|source| EnvelopeError::Malformed {
                path: String::new(),
                source,
            })?;
        match probe.schema_version {
            None => return Err(EnvelopeError::MissingSchemaVersion),
            Some(SCHEMA_VERSION) => {}
            Some(found) => return Err(EnvelopeError::UnsupportedSchemaVersion { found }),
        }
        let envelope: Envelope<P> =
            serde_json::from_slice(bytes).map_err(|source| locate::<Envelope<P>>(bytes, source))?;
        validate_shop_domain(&envelope.shop_domain)?;
        Ok(envelope)
    }
}

/// Re-parses a failed body with path tracking to name the field at fault (only on failure,
/// so that a good message pays nothing for it).
#[cold]
fn locate<T: DeserializeOwned>(bytes: &[u8], fast: serde_json::Error) -> EnvelopeError {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(error) => {
            let path = error.path().to_string();
            EnvelopeError::Malformed {
                path: if path == "." { String::new() } else { path },
                source: error.into_inner(),
            }
        }
        Ok(_) => EnvelopeError::Malformed {
            path: String::new(),
            source: fast,
        },
    }
}

/// Reads only `schema_version`, skipping everything else.
#[derive(Deserialize)]
struct VersionProbe {
    #[serde(default)]
    schema_version: Option<u16>,
}

/// The message id for a Shopify delivery: `"shopify:" + X-Shopify-Webhook-Id`.
pub fn shopify_message_id(webhook_id: &str) -> String {
    format!("shopify:{webhook_id}")
}

/// Why a message body is not an envelope this build can read.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// The envelope was written in a format this build does not know.
    #[error("unsupported envelope schema_version {found} (this build reads {SCHEMA_VERSION})")]
    UnsupportedSchemaVersion {
        /// The version found in the message.
        found: u16,
    },
    /// The body has no `schema_version`.
    #[error("envelope has no schema_version")]
    MissingSchemaVersion,
    /// The body is not JSON of the envelope's shape.
    #[error("malformed envelope{}{}: {source}", if path.is_empty() { "" } else { " at " }, path)]
    Malformed {
        /// The path of the field at fault; empty for the whole body.
        path: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The envelope's `shop_domain` is not a `*.myshopify.com` domain.
    #[error(transparent)]
    InvalidShopDomain(#[from] ShopDomainError),
}

/// Validates a shop's `*.myshopify.com` domain (the `X-Shopify-Shop-Domain` header) and
/// returns it lower-cased.
///
/// Accepted: `[a-z0-9][a-z0-9-]*\.myshopify\.com` after lower-casing, at most
/// [`MAX_SHOP_DOMAIN_LEN`] characters. Custom domains are refused: Shopify always sends the
/// myshopify domain.
pub fn validate_shop_domain(s: &str) -> Result<String, ShopDomainError> {
    const SUFFIX: &str = ".myshopify.com";
    let invalid = |reason| ShopDomainError {
        domain: truncate_for_message(s),
        reason,
    };
    if s.is_empty() {
        return Err(invalid(ShopDomainProblem::Empty));
    }
    if s.len() > MAX_SHOP_DOMAIN_LEN {
        return Err(invalid(ShopDomainProblem::TooLong));
    }
    let lower = s.to_ascii_lowercase();
    let Some(name) = lower.strip_suffix(SUFFIX) else {
        return Err(invalid(ShopDomainProblem::NotMyshopify));
    };
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_lowercase() || first.is_ascii_digit() => {}
        _ => return Err(invalid(ShopDomainProblem::BadName)),
    }
    if !bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(invalid(ShopDomainProblem::BadName));
    }
    Ok(lower)
}

/// A shop domain that [`validate_shop_domain`] refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid shop domain {domain:?}: {reason}")]
pub struct ShopDomainError {
    domain: String,
    reason: ShopDomainProblem,
}

impl ShopDomainError {
    /// What is wrong with the domain.
    pub fn problem(&self) -> ShopDomainProblem {
        self.reason
    }
}

/// What is wrong with a shop domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ShopDomainProblem {
    /// The value is empty.
    #[error("empty")]
    Empty,
    /// Longer than [`MAX_SHOP_DOMAIN_LEN`].
    #[error("longer than 255 characters")]
    TooLong,
    /// Does not end in `.myshopify.com`.
    #[error("not a .myshopify.com domain")]
    NotMyshopify,
    /// The shop name is empty, starts with `-`, or has characters other than letters, digits
    /// and `-`.
    #[error("the shop name must match [a-z0-9][a-z0-9-]*")]
    BadName,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shop_domains_are_lower_cased_and_checked() {
        assert_eq!(
            validate_shop_domain("Snowdevil.myshopify.com").unwrap(),
            "snowdevil.myshopify.com"
        );
        assert_eq!(
            validate_shop_domain("a.MYSHOPIFY.COM").unwrap(),
            "a.myshopify.com"
        );
        assert_eq!(
            validate_shop_domain("0-shop-1.myshopify.com").unwrap(),
            "0-shop-1.myshopify.com"
        );
        let cases = [
            ("", ShopDomainProblem::Empty),
            ("shop.example.com", ShopDomainProblem::NotMyshopify),
            ("myshopify.com", ShopDomainProblem::NotMyshopify),
            (".myshopify.com", ShopDomainProblem::BadName),
            ("-shop.myshopify.com", ShopDomainProblem::BadName),
            ("a.b.myshopify.com", ShopDomainProblem::BadName),
            ("{shop}.myshopify.com", ShopDomainProblem::BadName),
            ("shop_1.myshopify.com", ShopDomainProblem::BadName),
            (" shop.myshopify.com", ShopDomainProblem::BadName),
            ("shop.myshopify.com.", ShopDomainProblem::NotMyshopify),
            (
                "shop.myshopify.com.evil.com",
                ShopDomainProblem::NotMyshopify,
            ),
            ("shöp.myshopify.com", ShopDomainProblem::BadName),
        ];
        for (domain, problem) in cases {
            assert_eq!(
                validate_shop_domain(domain).unwrap_err().problem(),
                problem,
                "{domain:?}"
            );
        }
        let long = format!("{}.myshopify.com", "a".repeat(242));
        assert_eq!(long.len(), 256);
        assert_eq!(
            validate_shop_domain(&long).unwrap_err().problem(),
            ShopDomainProblem::TooLong
        );
        assert!(validate_shop_domain(&long[1..]).is_ok());
        assert_eq!(
            validate_shop_domain("evil.com").unwrap_err().to_string(),
            r#"invalid shop domain "evil.com": not a .myshopify.com domain"#
        );
    }

    #[test]
    fn message_id_is_prefixed() {
        assert_eq!(
            shopify_message_id("545ebdd4-b7be-4d3d-b14e-54aa78e0e0f9"),
            "shopify:545ebdd4-b7be-4d3d-b14e-54aa78e0e0f9"
        );
    }
}
