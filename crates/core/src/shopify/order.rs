//! `orders/create`, `orders/updated`, `orders/paid` and `orders/cancelled` bodies.
//!
//! All four topics deliver the same Order resource. Modelled: identity and state (for
//! counting orders in segments), money in the shop currency and the presentment currency,
//! line items, refunds so far, the buyer's contact data for matching, and the browser
//! context a Meta `Purchase` needs (`client_details`, `landing_site`, `note_attributes`).
//! Money fields are decimal strings; ids are 64-bit integers.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use super::customer::{Address, Customer};
use super::money::{CurrencyCode, Money, MoneySet};
use super::refund::Refund;
use super::{lenient_str, null_as_default, opt_str};

/// An order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Order<'a> {
    /// The order id (Meta's `order_id`; the Purchase `event_id` is `order_<id>`).
    pub id: u64,
    /// The shop-facing name (`#1001`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub name: Option<Cow<'a, str>>,
    /// Sequential order number.
    #[serde(default)]
    pub order_number: Option<u64>,
    /// Order email; may differ from the customer's, or be absent (guest, POS, no PCD access).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub email: Option<Cow<'a, str>>,
    /// Contact email given at checkout.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub contact_email: Option<Cow<'a, str>>,
    /// Order phone, free text.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub phone: Option<Cow<'a, str>>,
    /// Test-gateway order: never a conversion, never counted.
    #[serde(default, deserialize_with = "null_as_default")]
    pub test: bool,
    /// When the order was created.
    pub created_at: DateTime<FixedOffset>,
    /// The purchase time (differs from `created_at` for imported orders).
    #[serde(default)]
    pub processed_at: Option<DateTime<FixedOffset>>,
    /// When the order last changed: the ordering key.
    #[serde(default)]
    pub updated_at: Option<DateTime<FixedOffset>>,
    /// When the order was cancelled, if it was.
    #[serde(default)]
    pub cancelled_at: Option<DateTime<FixedOffset>>,
    /// Why it was cancelled (`customer`, `fraud`, ...).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub cancel_reason: Option<Cow<'a, str>>,
    /// `pending`, `authorized`, `partially_paid`, `paid`, `partially_refunded`, `refunded`,
    /// `voided`.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub financial_status: Option<Cow<'a, str>>,
    /// Where the order came from: `web`, `pos`, `shopify_draft_order`, an app id, ...
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub source_name: Option<Cow<'a, str>>,
    /// The shop currency.
    pub currency: CurrencyCode,
    /// The currency the buyer saw.
    #[serde(default)]
    pub presentment_currency: Option<CurrencyCode>,
    /// Total in the shop currency.
    pub total_price: Money,
    /// Total in both currencies.
    #[serde(default)]
    pub total_price_set: Option<MoneySet>,
    /// Total after edits, cancellations and refunds, in the shop currency.
    #[serde(default)]
    pub current_total_price: Option<Money>,
    /// Email marketing opt-in given at checkout.
    #[serde(default)]
    pub buyer_accepts_marketing: Option<bool>,
    /// The customer; absent or null for guest checkouts.
    #[serde(default, borrow)]
    pub customer: Option<Customer<'a>>,
    /// Billing address; null for POS and some digital orders.
    #[serde(default, borrow)]
    pub billing_address: Option<Address<'a>>,
    /// Shipping address; null when nothing ships.
    #[serde(default, borrow)]
    pub shipping_address: Option<Address<'a>>,
    /// The order's lines.
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub line_items: Vec<LineItem<'a>>,
    /// Refunds issued so far.
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub refunds: Vec<Refund<'a>>,
    /// The buyer's browser; null for POS, API and draft orders.
    #[serde(default, borrow)]
    pub client_details: Option<ClientDetails<'a>>,
    /// The buyer's IP address (older location of `client_details.browser_ip`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub browser_ip: Option<Cow<'a, str>>,
    /// The first page of the visit, path and query (`/?fbclid=...`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub landing_site: Option<Cow<'a, str>>,
    /// Cart attributes; themes and pixels stash `_fbc` / `_fbp` here.
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub note_attributes: Vec<NoteAttribute<'a>>,
}

impl Order<'_> {
    /// The value of the first note attribute called `name`.
    pub fn note_attribute(&self, name: &str) -> Option<&str> {
        self.note_attributes
            .iter()
            .find(|attribute| attribute.name.as_deref() == Some(name))
            .and_then(|attribute| attribute.value.as_deref())
    }
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LineItem<'a> {
    /// The line id.
    pub id: u64,
    /// The product; null for custom items.
    #[serde(default)]
    pub product_id: Option<u64>,
    /// The variant; null for custom items.
    #[serde(default)]
    pub variant_id: Option<u64>,
    /// Stock keeping unit.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub sku: Option<Cow<'a, str>>,
    /// Product title.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub title: Option<Cow<'a, str>>,
    /// Quantity ordered.
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantity: u32,
    /// Quantity after edits and refunds.
    #[serde(default)]
    pub current_quantity: Option<u32>,
    /// Unit price in the shop currency.
    #[serde(default)]
    pub price: Option<Money>,
}

/// The buyer's browser as Shopify recorded it at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ClientDetails<'a> {
    /// The buyer's IP address.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub browser_ip: Option<Cow<'a, str>>,
    /// The buyer's user agent.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub user_agent: Option<Cow<'a, str>>,
    /// The `Accept-Language` header.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub accept_language: Option<Cow<'a, str>>,
}

/// A cart attribute (`note_attributes[]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NoteAttribute<'a> {
    /// Attribute name.
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    pub name: Option<Cow<'a, str>>,
    /// Attribute value; anything but a string reads as `None`.
    #[serde(default, borrow, deserialize_with = "lenient_str")]
    pub value: Option<Cow<'a, str>>,
}
