//! The messages the segmenter publishes to `meta.dispatch` for the meta-dispatcher: audience
//! membership changes and Conversions API purchases.
//!
//! Each travels in the common [`Envelope`](crate::envelope::Envelope) (`schema_version`,
//! `message_id`, `shop_domain`, `topic`, ...) with a [`DispatchMessage`] as payload, tagged by
//! `type`. The routing key on the `meta.dispatch` exchange is
//! [`AUDIENCE_ROUTING_KEY`] for [`DispatchMessage::AudienceChange`] (queue `meta.audience`) and
//! [`CAPI_ROUTING_KEY`] for [`DispatchMessage::Purchase`] (queue `meta.capi`).
//!
//! Personal data is hashed exactly as in the store events ([`UserData`]). The only raw values
//! are the browser data Meta requires unhashed on a purchase (`client_ip_address`,
//! `client_user_agent`, `fbc`, `fbp`); they exist in the segmenter only inside its outbox row,
//! which is deleted once the broker confirmed the message.
//!
//! Money is exact: `value` and `item_price` are decimal strings (`"404.95"`), as Shopify wrote
//! them; the dispatcher writes them into Meta's JSON as numbers with the same digits.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::events::UserData;
use crate::shopify::{CurrencyCode, Money};
use crate::topology::{AUDIENCE_ROUTING_KEY, CAPI_ROUTING_KEY};

/// Envelope `topic` of an audience membership change.
pub const AUDIENCE_CHANGE_TOPIC: &str = "audience_change";
/// Envelope `topic` of a Conversions API purchase.
pub const PURCHASE_TOPIC: &str = "purchase";
/// Envelope `api_version` of dispatch messages: the version of this contract (the Shopify API
/// version only applies to store events).
pub const DISPATCH_CONTRACT_VERSION: &str = "dispatch-v1";
/// `event_name` of every purchase.
pub const PURCHASE_EVENT_NAME: &str = "Purchase";
/// `custom_data.content_type` of every purchase: `contents` name products.
pub const PRODUCT_CONTENT_TYPE: &str = "product";

/// One message for the meta-dispatcher, tagged by `type` (`audience_change`, `purchase`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[expect(
    clippy::large_enum_variant,
    reason = "built once per outbox row and serialized at once; boxing would only add an allocation"
)]
pub enum DispatchMessage {
    /// Add a customer to, or remove them from, one of the shop's Meta audiences.
    AudienceChange(AudienceChange),
    /// One Conversions API `Purchase` event.
    Purchase(Purchase),
}

impl DispatchMessage {
    /// The envelope `topic`: [`AUDIENCE_CHANGE_TOPIC`] or [`PURCHASE_TOPIC`].
    pub fn topic(&self) -> &'static str {
        match self {
            DispatchMessage::AudienceChange(_) => AUDIENCE_CHANGE_TOPIC,
            DispatchMessage::Purchase(_) => PURCHASE_TOPIC,
        }
    }

    /// The routing key on `meta.dispatch`.
    pub fn routing_key(&self) -> &'static str {
        routing_key_for_topic(self.topic()).unwrap_or(AUDIENCE_ROUTING_KEY)
    }

    /// The shop the message is for.
    pub fn shop_domain(&self) -> &str {
        match self {
            DispatchMessage::AudienceChange(change) => &change.shop_domain,
            DispatchMessage::Purchase(purchase) => &purchase.shop_domain,
        }
    }
}

/// The routing key on `meta.dispatch` for an envelope topic; `None` for an unknown topic.
pub fn routing_key_for_topic(topic: &str) -> Option<&'static str> {
    match topic {
        AUDIENCE_CHANGE_TOPIC => Some(AUDIENCE_ROUTING_KEY),
        PURCHASE_TOPIC => Some(CAPI_ROUTING_KEY),
        _ => None,
    }
}

/// A shop's Meta Custom Audiences: one per lifecycle segment, plus `purchasers` (every
/// customer with a counted order, for exclusions) and `all_customers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every customer the shop has (who may be in an audience under its consent policy).
    AllCustomers,
    /// Customers with at least one counted order.
    Purchasers,
    /// Segment `prospect`: no counted order.
    Prospect,
    /// Segment `first_time`: exactly one counted order.
    FirstTime,
    /// Segment `repeat`: two or more counted orders.
    Repeat,
    /// Segment `vip`: counted spend at or above the shop's threshold.
    Vip,
    /// Segment `lapsed`: the last counted order is older than the shop's window.
    Lapsed,
}

impl Audience {
    /// Every audience, in declaration order.
    pub const ALL: [Audience; 7] = [
        Audience::AllCustomers,
        Audience::Purchasers,
        Audience::Prospect,
        Audience::FirstTime,
        Audience::Repeat,
        Audience::Vip,
        Audience::Lapsed,
    ];

    /// The name as serialized (`"all_customers"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::AllCustomers => "all_customers",
            Audience::Purchasers => "purchasers",
            Audience::Prospect => "prospect",
            Audience::FirstTime => "first_time",
            Audience::Repeat => "repeat",
            Audience::Vip => "vip",
            Audience::Lapsed => "lapsed",
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`Audience`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown audience {0:?}")]
pub struct UnknownAudience(String);

impl FromStr for Audience {
    type Err = UnknownAudience;

    fn from_str(s: &str) -> Result<Audience, UnknownAudience> {
        Audience::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| UnknownAudience(s.chars().take(40).collect()))
    }
}

/// Join or leave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceAction {
    /// Add the user (`POST /{audience_id}/users`).
    Add,
    /// Remove the user (`DELETE /{audience_id}/users`).
    Remove,
}

/// Add a customer to, or remove them from, one audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudienceChange {
    /// The shop (`*.myshopify.com`).
    pub shop_domain: String,
    /// Which of the shop's audiences.
    pub audience: Audience,
    /// Join or leave.
    pub action: AudienceAction,
    /// The Shopify customer id.
    pub customer_id: u64,
    /// Hashed match keys (`em`, `ph`, `fn`, `ln`, `ct`, `st`, `zp`, `country`,
    /// `external_id`). A removal carries the keys the customer was added with.
    pub user: UserData,
    /// Increases with every change the segmenter commits (its outbox row id): of two changes
    /// for the same audience and customer, the higher one is the later. Publishing may
    /// reorder messages slightly; this may not.
    #[serde(default)]
    pub sequence: u64,
}

/// Meta's `action_source` for a purchase, from the order's `source_name`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionSource {
    /// An online-store order with the buyer's browser context.
    Website,
    /// A point-of-sale order.
    PhysicalStore,
    /// An order without a browser context (drafts, apps, a web order missing its user agent).
    SystemGenerated,
}

impl ActionSource {
    /// The value as serialized (`"website"`).
    pub fn as_str(self) -> &'static str {
        match self {
            ActionSource::Website => "website",
            ActionSource::PhysicalStore => "physical_store",
            ActionSource::SystemGenerated => "system_generated",
        }
    }
}

/// One Conversions API `Purchase` event (one per order; see `docs/segmenter.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purchase {
    /// The shop (`*.myshopify.com`).
    pub shop_domain: String,
    /// The Shopify order id.
    pub order_id: u64,
    /// Always [`PURCHASE_EVENT_NAME`].
    pub event_name: String,
    /// `order_<order id>`: the browser Pixel uses the same id, so Meta deduplicates.
    pub event_id: String,
    /// The order's time (`processed_at`, else `created_at`), Unix seconds.
    pub event_time: i64,
    /// Where the purchase happened.
    pub action_source: ActionSource,
    /// The page the buyer landed on, on the shop's domain, without query; always present for
    /// [`ActionSource::Website`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_source_url: Option<String>,
    /// Hashed match keys of the order and its customer, and the raw browser data.
    pub user_data: PurchaseUserData,
    /// Value, currency and products.
    pub custom_data: PurchaseCustomData,
    /// The segmenter's outbox row id (see [`AudienceChange::sequence`]).
    #[serde(default)]
    pub sequence: u64,
}

/// A purchase's `user_data`: hashed keys plus the never-hashed browser values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PurchaseUserData {
    /// Hashed match keys, serialized inline (`em`, `ph`, `fn`, ...).
    #[serde(flatten)]
    pub hashed: UserData,
    /// The buyer's IP address (never hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_ip_address: Option<String>,
    /// The buyer's user agent (never hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_user_agent: Option<String>,
    /// Meta click id (never hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbc: Option<String>,
    /// Meta browser id (never hashed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fbp: Option<String>,
}

/// A purchase's `custom_data`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseCustomData {
    /// The order total in `currency` (a decimal string, exact).
    pub value: Money,
    /// The shop currency (ISO 4217).
    pub currency: CurrencyCode,
    /// One entry per order line.
    pub contents: Vec<PurchaseContent>,
    /// The distinct content ids, in order of first appearance.
    pub content_ids: Vec<String>,
    /// Always [`PRODUCT_CONTENT_TYPE`].
    pub content_type: String,
    /// Units ordered, all lines together.
    pub num_items: u32,
    /// The Shopify order id, as a string.
    pub order_id: String,
}

/// One order line in `custom_data.contents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PurchaseContent {
    /// The product id (else the variant id, else the SKU, else `line_<line item id>`).
    pub id: String,
    /// Units ordered.
    pub quantity: u32,
    /// Unit price in the shop currency (a decimal string, exact), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_price: Option<Money>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Hashed;

    fn change() -> DispatchMessage {
        DispatchMessage::AudienceChange(AudienceChange {
            shop_domain: "shop.myshopify.com".into(),
            audience: Audience::FirstTime,
            action: AudienceAction::Add,
            customer_id: 42,
            user: UserData {
                em: vec![Hashed::of("a@b.co")],
                ..UserData::default()
            },
            sequence: 7,
        })
    }

    #[test]
    fn audience_changes_are_tagged_and_routed_to_the_audience_queue() {
        let message = change();
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["type"], "audience_change");
        assert_eq!(json["audience"], "first_time");
        assert_eq!(json["action"], "add");
        assert_eq!(json["customer_id"], 42);
        assert_eq!(json["user"]["em"][0], Hashed::of("a@b.co").as_str());
        assert_eq!(message.routing_key(), AUDIENCE_ROUTING_KEY);
        assert_eq!(message.topic(), AUDIENCE_CHANGE_TOPIC);
        let back: DispatchMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn purchases_keep_money_exact_and_user_data_flat() {
        let message = DispatchMessage::Purchase(Purchase {
            shop_domain: "shop.myshopify.com".into(),
            order_id: 820_982_911_946_154_508,
            event_name: PURCHASE_EVENT_NAME.into(),
            event_id: "order_820982911946154508".into(),
            event_time: 1_700_000_000,
            action_source: ActionSource::Website,
            event_source_url: Some("https://shop.myshopify.com/".into()),
            user_data: PurchaseUserData {
                hashed: UserData {
                    ph: vec![Hashed::of("15551234567")],
                    ..UserData::default()
                },
                client_ip_address: Some("192.0.2.1".into()),
                client_user_agent: Some("Mozilla/5.0".into()),
                fbc: None,
                fbp: Some("fb.1.1596403881668.1116446470".into()),
            },
            custom_data: PurchaseCustomData {
                value: "1000.10".parse().unwrap(),
                currency: "USD".parse().unwrap(),
                contents: vec![PurchaseContent {
                    id: "632910392".into(),
                    quantity: 2,
                    item_price: Some("500.05".parse().unwrap()),
                }],
                content_ids: vec!["632910392".into()],
                content_type: PRODUCT_CONTENT_TYPE.into(),
                num_items: 2,
                order_id: "820982911946154508".into(),
            },
            sequence: 9,
        });
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["type"], "purchase");
        assert_eq!(json["order_id"], 820_982_911_946_154_508_u64);
        assert_eq!(json["action_source"], "website");
        assert_eq!(
            json["user_data"]["ph"][0],
            Hashed::of("15551234567").as_str()
        );
        assert_eq!(json["user_data"]["client_ip_address"], "192.0.2.1");
        assert!(json["user_data"].get("fbc").is_none());
        assert_eq!(json["custom_data"]["value"], "1000.10");
        assert_eq!(json["custom_data"]["contents"][0]["item_price"], "500.05");
        assert_eq!(message.routing_key(), CAPI_ROUTING_KEY);
        let back: DispatchMessage = serde_json::from_value(json).unwrap();
        assert_eq!(back, message);
    }

    #[test]
    fn audience_names_round_trip() {
        for audience in Audience::ALL {
            assert_eq!(audience.as_str().parse::<Audience>(), Ok(audience));
            assert_eq!(serde_json::to_value(audience).unwrap(), audience.as_str());
        }
        assert!("vips".parse::<Audience>().is_err());
        assert_eq!(routing_key_for_topic("nope"), None);
    }
}
