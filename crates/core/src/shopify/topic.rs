//! The webhook topics audience-sync consumes, and their RabbitMQ routing keys.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Shopify webhook topic we handle (the `X-Shopify-Topic` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// `customers/create`: a customer record was created.
    CustomersCreate,
    /// `customers/update`: a customer record changed.
    CustomersUpdate,
    /// `customers/delete`: a customer record was deleted (body carries only the id).
    CustomersDelete,
    /// `orders/create`: an order was placed (any state, including test and unpaid orders).
    OrdersCreate,
    /// `orders/updated`: an order changed (edits, cancellations, refunds, fulfilment).
    OrdersUpdated,
    /// `orders/paid`: an order's payment was captured.
    OrdersPaid,
    /// `orders/cancelled`: an order was cancelled.
    OrdersCancelled,
    /// `refunds/create`: a refund was issued on an order.
    RefundsCreate,
    /// `app/uninstalled`: the shop removed the app (body is the Shop resource).
    AppUninstalled,
    /// `customers/data_request`: compliance, a customer asked for their data.
    CustomersDataRequest,
    /// `customers/redact`: compliance, erase a customer's personal data.
    CustomersRedact,
    /// `shop/redact`: compliance, erase the shop's data (48 h after uninstall).
    ShopRedact,
}

impl Topic {
    /// Every topic, in declaration order.
    pub const ALL: [Topic; 12] = [
        Topic::CustomersCreate,
        Topic::CustomersUpdate,
        Topic::CustomersDelete,
        Topic::OrdersCreate,
        Topic::OrdersUpdated,
        Topic::OrdersPaid,
        Topic::OrdersCancelled,
        Topic::RefundsCreate,
        Topic::AppUninstalled,
        Topic::CustomersDataRequest,
        Topic::CustomersRedact,
        Topic::ShopRedact,
    ];

    /// The topic named by an `X-Shopify-Topic` value; `None` for a topic we do not handle.
    /// Matching is exact: Shopify sends topics lower-case.
    pub fn parse(s: &str) -> Option<Topic> {
        Some(match s {
            "customers/create" => Topic::CustomersCreate,
            "customers/update" => Topic::CustomersUpdate,
            "customers/delete" => Topic::CustomersDelete,
            "orders/create" => Topic::OrdersCreate,
            "orders/updated" => Topic::OrdersUpdated,
            "orders/paid" => Topic::OrdersPaid,
            "orders/cancelled" => Topic::OrdersCancelled,
            "refunds/create" => Topic::RefundsCreate,
            "app/uninstalled" => Topic::AppUninstalled,
            "customers/data_request" => Topic::CustomersDataRequest,
            "customers/redact" => Topic::CustomersRedact,
            "shop/redact" => Topic::ShopRedact,
            _ => return None,
        })
    }

    /// The topic as Shopify writes it (`"orders/create"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Topic::CustomersCreate => "customers/create",
            Topic::CustomersUpdate => "customers/update",
            Topic::CustomersDelete => "customers/delete",
            Topic::OrdersCreate => "orders/create",
            Topic::OrdersUpdated => "orders/updated",
            Topic::OrdersPaid => "orders/paid",
            Topic::OrdersCancelled => "orders/cancelled",
            Topic::RefundsCreate => "refunds/create",
            Topic::AppUninstalled => "app/uninstalled",
            Topic::CustomersDataRequest => "customers/data_request",
            Topic::CustomersRedact => "customers/redact",
            Topic::ShopRedact => "shop/redact",
        }
    }

    /// The routing key on the `shopify.events` exchange: `shopify.` + the topic with `/`
    /// replaced by `.` (`"shopify.orders.create"`).
    pub fn routing_key(self) -> &'static str {
        match self {
            Topic::CustomersCreate => "shopify.customers.create",
            Topic::CustomersUpdate => "shopify.customers.update",
            Topic::CustomersDelete => "shopify.customers.delete",
            Topic::OrdersCreate => "shopify.orders.create",
            Topic::OrdersUpdated => "shopify.orders.updated",
            Topic::OrdersPaid => "shopify.orders.paid",
            Topic::OrdersCancelled => "shopify.orders.cancelled",
            Topic::RefundsCreate => "shopify.refunds.create",
            Topic::AppUninstalled => "shopify.app.uninstalled",
            Topic::CustomersDataRequest => "shopify.customers.data_request",
            Topic::CustomersRedact => "shopify.customers.redact",
            Topic::ShopRedact => "shopify.shop.redact",
        }
    }

    /// True for the mandatory privacy topics (`customers/data_request`, `customers/redact`,
    /// `shop/redact`), which must answer 401 on a bad signature.
    pub fn is_compliance(self) -> bool {
        matches!(
            self,
            Topic::CustomersDataRequest | Topic::CustomersRedact | Topic::ShopRedact
        )
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Topic {
    /// As [`Topic::as_str`].
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Topic {
    /// From the Shopify topic string; an unhandled topic is an error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Topic, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Topic::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format_args!("unhandled Shopify topic {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_round_trips_through_its_name() {
        for topic in Topic::ALL {
            assert_eq!(Topic::parse(topic.as_str()), Some(topic));
            assert_eq!(topic.to_string(), topic.as_str());
        }
    }

    #[test]
    fn routing_key_is_the_topic_with_dots() {
        for topic in Topic::ALL {
            let expected = format!("shopify.{}", topic.as_str().replace('/', "."));
            assert_eq!(topic.routing_key(), expected);
        }
        assert_eq!(Topic::OrdersCreate.routing_key(), "shopify.orders.create");
    }

    #[test]
    fn all_lists_each_topic_once() {
        let mut seen = Topic::ALL.to_vec();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), Topic::ALL.len());
    }

    #[test]
    fn unknown_topics_are_none() {
        for s in [
            "",
            "orders/delete",
            "Orders/Create",
            "products/update",
            "orders/create ",
        ] {
            assert_eq!(Topic::parse(s), None, "{s:?}");
        }
    }

    #[test]
    fn serde_uses_the_topic_string() {
        assert_eq!(
            serde_json::to_string(&Topic::ShopRedact).unwrap(),
            r#""shop/redact""#
        );
        assert_eq!(
            serde_json::from_str::<Topic>(r#""refunds/create""#).unwrap(),
            Topic::RefundsCreate
        );
        assert!(serde_json::from_str::<Topic>(r#""products/create""#).is_err());
    }
}
