//! [`ShopEvent`]: the shop that uninstalled the app. Carries no personal data: the owner's
//! name, email, phone and address in the Shop resource are not read.

use serde::{Deserialize, Serialize};

use super::user_data::CountryHint;
use crate::shopify::{CurrencyCode, Shop};

/// `app/uninstalled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopEvent {
    /// The shop id.
    pub shop_id: u64,
    /// The `*.myshopify.com` domain from the body (null in Shopify's sample; the envelope's
    /// `shop_domain` is authoritative).
    pub myshopify_domain: Option<String>,
    /// The shop currency.
    pub currency: Option<CurrencyCode>,
    /// The shop's ISO 3166-1 alpha-2 country code, upper-case.
    pub country_code: Option<String>,
}

impl ShopEvent {
    pub(crate) fn from_shop(shop: &Shop<'_>) -> ShopEvent {
        ShopEvent {
            shop_id: shop.id,
            myshopify_domain: shop
                .myshopify_domain
                .as_deref()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty()),
            currency: shop.currency,
            country_code: shop
                .country_code
                .as_deref()
                .and_then(CountryHint::parse)
                .map(|hint| hint.as_str().to_ascii_uppercase()),
        }
    }
}
