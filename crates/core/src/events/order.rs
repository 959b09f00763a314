//! [`OrderEvent`]: an order with the buyer's contact data hashed and the browser context a
//! Meta `Purchase` needs.
//!
//! The browser context (`client_ip_address`, `client_user_agent`, `fbc`, `fbp`,
//! `event_source_url`) is never hashed, as Meta requires; it rides on the order event only so
//! that the purchase can be sent, and is not kept once dispatched.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::refund::{OrderCurrencies, RefundEvent};
use super::user_data::{
    BILLING_ADDRESS, CUSTOMER_DEFAULT_ADDRESS, CountryHint, SHIPPING_ADDRESS, UserData,
    UserDataBuilder, has_location,
};
use crate::normalize::{self, Field};
use crate::shopify::{CurrencyCode, Money, Order, PayloadError, Topic};

/// The longest user agent or click id passed on; longer values are not real ones.
const MAX_BROWSER_VALUE_LEN: usize = 1024;

/// `orders/create`, `orders/updated`, `orders/paid`, `orders/cancelled`, hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderEvent {
    /// The order id.
    pub order_id: u64,
    /// The customer; `None` for guest checkouts.
    pub customer_id: Option<u64>,
    /// The shop-facing name (`#1001`).
    pub name: Option<String>,
    /// A test-gateway order: never a conversion, never counted.
    pub test: bool,
    /// When the order was created.
    pub created_at: DateTime<FixedOffset>,
    /// The purchase time; segments use it, else `created_at`.
    pub processed_at: Option<DateTime<FixedOffset>>,
    /// When the order last changed: newer wins.
    pub updated_at: Option<DateTime<FixedOffset>>,
    /// When the order was cancelled; a cancelled order stops counting.
    pub cancelled_at: Option<DateTime<FixedOffset>>,
    /// Why it was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    /// `pending`, `paid`, `refunded`, `voided`, ...
    pub financial_status: Option<String>,
    /// `web`, `pos`, `shopify_draft_order`, an app id, ...: decides the Purchase's
    /// `action_source`.
    pub source_name: Option<String>,
    /// The shop currency.
    pub currency: CurrencyCode,
    /// Total in the shop currency.
    pub total_price: Money,
    /// Total after edits, cancellations and refunds, in the shop currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_total_price: Option<Money>,
    /// The currency the buyer saw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentment_currency: Option<CurrencyCode>,
    /// Total in the presentment currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentment_total_price: Option<Money>,
    /// The order's lines.
    pub line_items: Vec<OrderLineItem>,
    /// Refunds issued so far.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refunds: Vec<RefundEvent>,
    /// Email marketing opt-in given at checkout.
    pub buyer_accepts_marketing: Option<bool>,
    /// Hashed match keys.
    pub user_data: UserData,
    /// The buyer's IP address (never hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip_address: Option<String>,
    /// The buyer's user agent (never hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_user_agent: Option<String>,
    /// Meta click id cookie: the `_fbc` cart attribute, else built from an `fbclid` in the
    /// landing page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbc: Option<String>,
    /// Meta browser id cookie, from the `_fbp` cart attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbp: Option<String>,
    /// The landing page on the shop's domain, without its query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_url: Option<String>,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLineItem {
    /// The line id.
    pub line_item_id: u64,
    /// The product (Meta `content_ids`); `None` for custom items.
    pub product_id: Option<u64>,
    /// The variant.
    pub variant_id: Option<u64>,
    /// Stock keeping unit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// Product title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Quantity ordered.
    pub quantity: u32,
    /// Unit price in the shop currency.
    pub price: Option<Money>,
}

impl OrderEvent {
    /// Builds the event. `shop_domain` is the validated `*.myshopify.com` domain the landing
    /// page is placed on; `shop_country` is the last-resort country context.
    pub(crate) fn from_order(
        order: &Order<'_>,
        topic: Topic,
        shop_domain: &str,
        shop_country: Option<CountryHint>,
    ) -> Result<OrderEvent, PayloadError> {
        let currencies = OrderCurrencies {
            shop: Some(order.currency),
            presentment: order.presentment_currency,
            total_price_set: order.total_price_set,
        };
        let refunds = order
            .refunds
            .iter()
            .map(|refund| RefundEvent::from_refund(refund, currencies, topic))
            .collect::<Result<Vec<_>, _>>()?;
        let presentment = order.total_price_set.and_then(|set| set.presentment_money);
        let client = order.client_details.as_ref();
        let landing_site = order
            .landing_site
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());

        Ok(OrderEvent {
            order_id: order.id,
            customer_id: order.customer.as_ref().map(|c| c.id),
            name: order.name.as_deref().map(str::to_owned),
            test: order.test,
            created_at: order.created_at,
            processed_at: order.processed_at,
            updated_at: order.updated_at,
            cancelled_at: order.cancelled_at,
            cancel_reason: order.cancel_reason.as_deref().map(str::to_owned),
            financial_status: order.financial_status.as_deref().map(str::to_owned),
            source_name: order.source_name.as_deref().map(str::to_owned),
            currency: order.currency,
            total_price: order.total_price,
            current_total_price: order.current_total_price,
            presentment_currency: order
                .presentment_currency
                .or(presentment.and_then(|p| p.currency_code)),
            presentment_total_price: presentment.map(|p| p.amount),
            line_items: order
                .line_items
                .iter()
                .map(|line| OrderLineItem {
                    line_item_id: line.id,
                    product_id: line.product_id,
                    variant_id: line.variant_id,
                    sku: line
                        .sku
                        .as_deref()
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                    title: line.title.as_deref().map(str::to_owned),
                    quantity: line.quantity,
                    price: line.price,
                })
                .collect(),
            refunds,
            buyer_accepts_marketing: order.buyer_accepts_marketing,
            user_data: order_user_data(order, shop_country),
            client_ip_address: client
                .and_then(|c| c.browser_ip.as_deref())
                .and_then(normalize::client_ip_address)
                .or_else(|| {
                    order
                        .browser_ip
                        .as_deref()
                        .and_then(normalize::client_ip_address)
                }),
            client_user_agent: client
                .and_then(|c| c.user_agent.as_deref())
                .map(str::trim)
                .filter(|ua| {
                    !ua.is_empty()
                        && ua.len() <= MAX_BROWSER_VALUE_LEN
                        && !ua.chars().any(char::is_control)
                })
                .map(str::to_owned),
            fbc: order
                .note_attribute("_fbc")
                .and_then(normalize::fbc)
                .or_else(|| {
                    landing_site.and_then(fbclid).map(|click_id| {
                        normalize::fbc_from_click_id(&click_id, order.created_at.timestamp_millis())
                    })
                }),
            fbp: order.note_attribute("_fbp").and_then(normalize::fbp),
            event_source_url: landing_site.and_then(|site| event_source_url(site, shop_domain)),
        })
    }
}

/// Match keys of an order: every email and phone on the order, its customer and its billing
/// and shipping addresses (phone parsing is the costliest step of the hot path, so the
/// customer's default address, usually a copy of one of these, is not read for phones);
/// names from the customer, else the billing, shipping or default address; location from the
/// first address that has one (billing, shipping, the customer's default); the customer id.
fn order_user_data(order: &Order<'_>, shop_country: Option<CountryHint>) -> UserData {
    let customer = order.customer.as_ref();
    let default_address = customer.and_then(|c| c.default_address.as_ref());
    let billing = order.billing_address.as_ref();
    let shipping = order.shipping_address.as_ref();
    let home = CountryHint::of(default_address).or(shop_country);
    let billing_country = CountryHint::of(billing).or(home);
    let shipping_country = CountryHint::of(shipping).or(home);

    let mut keys = UserDataBuilder::new();
    keys.email(order.email.as_deref(), "email");
    keys.email(order.contact_email.as_deref(), "contact_email");
    keys.email(customer.and_then(|c| c.email.as_deref()), "customer.email");

    keys.phone(order.phone.as_deref(), home, "phone");
    keys.phone(
        customer.and_then(|c| c.phone.as_deref()),
        home,
        "customer.phone",
    );
    keys.phone(
        billing.and_then(|a| a.phone.as_deref()),
        billing_country,
        "billing_address.phone",
    );
    keys.phone(
        shipping.and_then(|a| a.phone.as_deref()),
        shipping_country,
        "shipping_address.phone",
    );

    keys.first_of(
        Field::FirstName,
        [
            (
                customer.and_then(|c| c.first_name.as_deref()),
                home,
                "customer.first_name",
            ),
            (
                billing.and_then(|a| a.first_name.as_deref()),
                billing_country,
                "billing_address.first_name",
            ),
            (
                shipping.and_then(|a| a.first_name.as_deref()),
                shipping_country,
                "shipping_address.first_name",
            ),
            (
                default_address.and_then(|a| a.first_name.as_deref()),
                home,
                "customer.default_address.first_name",
            ),
        ],
    );
    keys.first_of(
        Field::LastName,
        [
            (
                customer.and_then(|c| c.last_name.as_deref()),
                home,
                "customer.last_name",
            ),
            (
                billing.and_then(|a| a.last_name.as_deref()),
                billing_country,
                "billing_address.last_name",
            ),
            (
                shipping.and_then(|a| a.last_name.as_deref()),
                shipping_country,
                "shipping_address.last_name",
            ),
            (
                default_address.and_then(|a| a.last_name.as_deref()),
                home,
                "customer.default_address.last_name",
            ),
        ],
    );

    let location = [
        (billing, &BILLING_ADDRESS),
        (shipping, &SHIPPING_ADDRESS),
        (default_address, &CUSTOMER_DEFAULT_ADDRESS),
    ]
    .into_iter()
    .find_map(|(address, sources)| address.filter(|a| has_location(a)).map(|a| (a, sources)));
    if let Some((address, sources)) = location {
        keys.location(address, home, sources);
    }

    keys.external_id(customer.map(|c| c.id));
    keys.finish()
}

/// The `fbclid` query parameter of a landing page (`/?fbclid=IwAR...&utm_source=fb`),
/// percent-decoded. `None` when absent, empty, or not a plausible click id.
fn fbclid(landing_site: &str) -> Option<String> {
    let query = landing_site.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let raw = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("fbclid="))?;
    let decoded = percent_decode(raw)?;
    let plausible = !decoded.is_empty()
        && decoded.len() <= MAX_BROWSER_VALUE_LEN
        && decoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~'));
    plausible.then_some(decoded)
}

/// Decodes `%XX` escapes (and `+` as a space); `None` on a malformed escape or bad UTF-8.
fn percent_decode(raw: &str) -> Option<String> {
    if !raw.contains(['%', '+']) {
        return Some(raw.to_owned());
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// `https://<shop domain><landing path>`, without query or fragment (they can carry personal
/// data such as an email in a marketing link). A landing site that is already an absolute
/// `http(s)` URL keeps its own host.
fn event_source_url(landing_site: &str, shop_domain: &str) -> Option<String> {
    let end = landing_site.find(['?', '#']).unwrap_or(landing_site.len());
    let without_query = landing_site.get(..end)?;
    if without_query
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    if without_query.starts_with("https://") || without_query.starts_with("http://") {
        return Some(without_query.to_owned());
    }
    if without_query.starts_with('/') && !without_query.starts_with("//") {
        return Some(format!("https://{shop_domain}{without_query}"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_click_id_in_the_landing_page() {
        assert_eq!(
            fbclid("/?fbclid=IwAR2F4-dbP0_x").as_deref(),
            Some("IwAR2F4-dbP0_x")
        );
        assert_eq!(
            fbclid("/products/a?utm_source=fb&fbclid=abc.1~2#top").as_deref(),
            Some("abc.1~2")
        );
        assert_eq!(fbclid("/p?fbclid=ab%2Dcd").as_deref(), Some("ab-cd"));
        assert_eq!(fbclid("/p?xfbclid=abc"), None);
        assert_eq!(fbclid("/p?fbclid="), None);
        assert_eq!(fbclid("/p?fbclid=a%20b"), None);
        assert_eq!(fbclid("/p?fbclid=%zz"), None);
        assert_eq!(fbclid("/p#fbclid=abc"), None);
        assert_eq!(fbclid("/p"), None);
    }

    #[test]
    fn event_source_url_drops_the_query() {
        let shop = "snowdevil.myshopify.com";
        assert_eq!(
            event_source_url("/products/x?fbclid=1&email=a@b.co", shop).as_deref(),
            Some("https://snowdevil.myshopify.com/products/x")
        );
        assert_eq!(
            event_source_url("/", shop).as_deref(),
            Some("https://snowdevil.myshopify.com/")
        );
        assert_eq!(
            event_source_url("https://shop.example/landing?x=1", shop).as_deref(),
            Some("https://shop.example/landing")
        );
        assert_eq!(event_source_url("//evil.example/x", shop), None);
        assert_eq!(event_source_url("products", shop), None);
        assert_eq!(event_source_url("/a b", shop), None);
    }
}
