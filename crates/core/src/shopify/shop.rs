//! `app/uninstalled` bodies: the Shop resource.
//!
//! Only what identifies the shop and its money is modelled; the owner's name, email, phone
//! and street address in the same body are personal data and stay unread.

use std::borrow::Cow;

use serde::Deserialize;

use super::money::CurrencyCode;
use super::opt_str;

/// The Shop resource, as delivered by `app/uninstalled`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Shop<'a> {
    /// The shop id.
    pub id: u64,
    /// The `*.myshopify.com` domain (null in Shopify's published sample).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub myshopify_domain: Option<Cow<'a, str>>,
    /// The shop currency.
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
    /// The shop's ISO 3166-1 alpha-2 country code.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub country_code: Option<Cow<'a, str>>,
    /// The shop's IANA time zone (`America/New_York`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub iana_timezone: Option<Cow<'a, str>>,
}
