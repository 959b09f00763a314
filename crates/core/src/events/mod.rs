//! Hashed store events: what ingest publishes for each webhook.
//!
//! [`from_webhook`] parses a body ([`crate::shopify`]) and turns it into a [`StoreEvent`] in
//! which every piece of personal data (email, phone, names, city, state, zip, country) exists
//! only as a SHA-256 hash ([`UserData`]), normalized as `shared/guide/normalization.md` says.
//! Street lines, dates of birth and country names are never read into an event at all. The
//! only raw browser data, on [`OrderEvent`], is what Meta requires unhashed for a purchase
//! (`client_ip_address`, `client_user_agent`, `fbc`, `fbp`).
//!
//! A field that fails normalization never fails the event; it is left out and listed in
//! [`UserData::invalid_fields`]. Only a body that does not parse fails, with a
//! [`PayloadError`] naming the field.

mod compliance;
mod customer;
mod order;
mod refund;
mod shop;
mod user_data;

use serde::{Deserialize, Serialize};

pub use compliance::{CustomerDataRequestEvent, CustomerRedactEvent, ShopRedactEvent};
pub use customer::CustomerEvent;
pub use order::{OrderEvent, OrderLineItem};
pub use refund::{RefundEvent, RefundedLineItem};
pub use shop::ShopEvent;
pub use user_data::{InvalidField, UserData};

use crate::shopify::{self, Payload, PayloadError, Topic};
use refund::OrderCurrencies;
use user_data::CountryHint;

/// A store event, one variant per kind of webhook. Serialized with a `type` tag
/// (`{"type": "order", ...}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[expect(
    clippy::large_enum_variant,
    reason = "an event is built once per webhook and moved into its envelope; boxing would only add an allocation"
)]
pub enum StoreEvent {
    /// `customers/create`, `customers/update`.
    Customer(CustomerEvent),
    /// `customers/delete`: tombstone the id; later events for it are ignored.
    CustomerDeleted {
        /// The deleted customer.
        customer_id: u64,
    },
    /// `orders/create`, `orders/updated`, `orders/paid`, `orders/cancelled`.
    Order(OrderEvent),
    /// `refunds/create`.
    Refund(RefundEvent),
    /// `app/uninstalled`.
    AppUninstalled(ShopEvent),
    /// `customers/data_request`.
    CustomerDataRequest(CustomerDataRequestEvent),
    /// `customers/redact`.
    CustomerRedact(CustomerRedactEvent),
    /// `shop/redact`.
    ShopRedact(ShopRedactEvent),
}

impl StoreEvent {
    /// The event's hashed match keys, for the kinds that carry personal data.
    pub fn user_data(&self) -> Option<&UserData> {
        match self {
            StoreEvent::Customer(event) => Some(&event.user_data),
            StoreEvent::Order(event) => Some(&event.user_data),
            StoreEvent::CustomerDataRequest(event) => Some(&event.user_data),
            StoreEvent::CustomerRedact(event) => Some(&event.user_data),
            StoreEvent::CustomerDeleted { .. }
            | StoreEvent::Refund(_)
            | StoreEvent::AppUninstalled(_)
            | StoreEvent::ShopRedact(_) => None,
        }
    }

    /// The customer the event is about, if any (for tombstone checks).
    pub fn customer_id(&self) -> Option<u64> {
        match self {
            StoreEvent::Customer(event) => Some(event.customer_id),
            StoreEvent::CustomerDeleted { customer_id } => Some(*customer_id),
            StoreEvent::Order(event) => event.customer_id,
            StoreEvent::CustomerDataRequest(event) => event.customer_id,
            StoreEvent::CustomerRedact(event) => event.customer_id,
            StoreEvent::Refund(_) | StoreEvent::AppUninstalled(_) | StoreEvent::ShopRedact(_) => {
                None
            }
        }
    }
}

/// What ingest knows about the shop beyond the body.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The validated `*.myshopify.com` domain (from `X-Shopify-Shop-Domain`); landing pages
    /// are placed on it for `event_source_url`.
    pub shop_domain: &'a str,
    /// The shop's ISO 3166-1 alpha-2 country, the last-resort country context for phones,
    /// states and zips; ignored unless it is two letters.
    pub shop_country: Option<&'a str>,
}

/// Parses a webhook body for `topic` and hashes it into a [`StoreEvent`].
pub fn from_webhook(
    topic: Topic,
    body: &[u8],
    ctx: &Context<'_>,
) -> Result<StoreEvent, PayloadError> {
    let shop_country = ctx.shop_country.and_then(CountryHint::parse);
    Ok(match shopify::parse(topic, body)? {
        Payload::Customer(customer) => {
            StoreEvent::Customer(CustomerEvent::from_customer(&customer, shop_country))
        }
        Payload::CustomerDeleted(deleted) => StoreEvent::CustomerDeleted {
            customer_id: deleted.id,
        },
        Payload::Order(order) => StoreEvent::Order(OrderEvent::from_order(
            &order,
            topic,
            ctx.shop_domain,
            shop_country,
        )?),
        Payload::Refund(refund) => StoreEvent::Refund(RefundEvent::from_refund(
            &refund,
            OrderCurrencies::default(),
            topic,
        )?),
        Payload::Shop(shop) => StoreEvent::AppUninstalled(ShopEvent::from_shop(&shop)),
        Payload::CustomersDataRequest(request) => StoreEvent::CustomerDataRequest(
            CustomerDataRequestEvent::from_request(&request, shop_country),
        ),
        Payload::CustomersRedact(request) => {
            StoreEvent::CustomerRedact(CustomerRedactEvent::from_request(&request, shop_country))
        }
        Payload::ShopRedact(request) => {
            StoreEvent::ShopRedact(ShopRedactEvent::from_request(&request))
        }
    })
}
