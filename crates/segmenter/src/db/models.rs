//! Row types of the segmenter's tables, and their conversion to and from the domain types of
//! [`crate::state`]. Column names follow `migrations/`; `schema.rs` is generated from them.

use std::collections::BTreeSet;

use audience_core::dispatch::Audience;
use audience_core::events::UserData;
use audience_core::shopify::Topic;
use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;

use crate::classify::{ConsentPolicy, CustomerStats, Segment, SegmentRules};
use crate::db::numeric::Amount;
use crate::db::schema::{
    customers, data_requests, orders, outbox, refunds, segment_transitions, shops, tombstones,
};
use crate::state::{Customer, Order, Refund, Shop, Transition};

/// A `shops` row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = shops, check_for_backend(Pg))]
pub struct ShopRow {
    /// Internal id.
    pub shop_id: i64,
    /// `*.myshopify.com`.
    pub shop_domain: String,
    /// Shopify's shop id.
    pub shopify_shop_id: Option<i64>,
    /// Shop currency.
    pub currency: Option<String>,
    /// `vip` threshold.
    pub vip_min_spent: Amount,
    /// `lapsed` window.
    pub lapsed_after_days: i32,
    /// Purchase trigger topic.
    pub purchase_topic: String,
    /// Consent policy.
    pub consent_policy: String,
    /// Set by `app/uninstalled`.
    pub uninstalled_at: Option<DateTime<Utc>>,
    /// Set by `shop/redact`.
    pub redacted_at: Option<DateTime<Utc>>,
}

/// A stored setting that the segmenter cannot use (the table's checks should prevent it).
#[derive(Debug, thiserror::Error)]
#[error("shop {shop_id}: invalid setting {setting}")]
pub struct InvalidSetting {
    /// The shop.
    pub shop_id: i64,
    /// Which setting.
    pub setting: &'static str,
}

impl TryFrom<ShopRow> for Shop {
    type Error = InvalidSetting;

    fn try_from(row: ShopRow) -> Result<Shop, InvalidSetting> {
        let invalid = |setting| InvalidSetting {
            shop_id: row.shop_id,
            setting,
        };
        let purchase_topic = Topic::parse(&row.purchase_topic)
            .filter(|t| {
                matches!(
                    t,
                    Topic::OrdersCreate | Topic::OrdersPaid | Topic::OrdersUpdated
                )
            })
            .ok_or_else(|| invalid("purchase_topic"))?;
        let consent =
            ConsentPolicy::parse(&row.consent_policy).ok_or_else(|| invalid("consent_policy"))?;
        let lapsed_after_days = u32::try_from(row.lapsed_after_days)
            .ok()
            .filter(|d| *d > 0)
            .ok_or_else(|| invalid("lapsed_after_days"))?;
        Ok(Shop {
            id: row.shop_id,
            domain: row.shop_domain,
            shopify_shop_id: row.shopify_shop_id,
            currency: row.currency,
            rules: SegmentRules {
                vip_min_spent: row.vip_min_spent.0,
                lapsed_after_days,
            },
            purchase_topic,
            consent,
            uninstalled_at: row.uninstalled_at,
            redacted_at: row.redacted_at,
        })
    }
}

/// A `customers` row (read and written whole).
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = customers, check_for_backend(Pg))]
pub struct CustomerRow {
    /// Shop.
    pub shop_id: i64,
    /// Shopify customer id.
    pub customer_id: i64,
    /// Hashed match keys.
    pub user_data: serde_json::Value,
    /// Email marketing consent.
    pub email_marketing_consent: Option<bool>,
    /// SMS marketing consent.
    pub sms_marketing_consent: Option<bool>,
    /// Shopify `updated_at` of the newest record applied.
    pub record_updated_at: Option<DateTime<Utc>>,
    /// Counted orders.
    pub orders_count: i32,
    /// Counted spend.
    pub spent: Amount,
    /// First counted order.
    pub first_order_at: Option<DateTime<Utc>>,
    /// Last counted order.
    pub last_order_at: Option<DateTime<Utc>>,
    /// Lifecycle segment.
    pub segment: String,
    /// Since when.
    pub segment_since: DateTime<Utc>,
    /// Audiences joined (JSON array of names).
    pub audiences: serde_json::Value,
    /// First seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last written.
    pub updated_at: DateTime<Utc>,
}

/// A stored row the domain model cannot read.
#[derive(Debug, thiserror::Error)]
#[error("{table} row {key}: {reason}")]
pub struct CorruptRow {
    /// The table.
    pub table: &'static str,
    /// The row's key.
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl CustomerRow {
    /// The domain value.
    pub fn into_customer(self) -> Result<Customer, CorruptRow> {
        let corrupt = |reason: String| CorruptRow {
            table: "customers",
            key: format!("({}, {})", self.shop_id, self.customer_id),
            reason,
        };
        let user: UserData =
            serde_json::from_value(self.user_data.clone()).map_err(|e| corrupt(e.to_string()))?;
        let audiences: BTreeSet<Audience> =
            serde_json::from_value(self.audiences.clone()).map_err(|e| corrupt(e.to_string()))?;
        let segment: Segment = self
            .segment
            .parse()
            .map_err(|e: crate::classify::UnknownSegment| corrupt(e.to_string()))?;
        Ok(Customer {
            customer_id: self.customer_id,
            user,
            email_consent: self.email_marketing_consent,
            sms_consent: self.sms_marketing_consent,
            record_updated_at: self.record_updated_at,
            stats: CustomerStats {
                orders: u32::try_from(self.orders_count).unwrap_or(0),
                spent: self.spent.0,
                first_order_at: self.first_order_at,
                last_order_at: self.last_order_at,
            },
            segment: Some(segment),
            segment_since: self.segment_since,
            audiences,
            first_seen_at: self.first_seen_at,
        })
    }

    /// The row for a classified customer (`None` if it was never classified).
    pub fn from_customer(
        shop_id: i64,
        customer: &Customer,
        now: DateTime<Utc>,
    ) -> Option<CustomerRow> {
        let segment = customer.segment?;
        Some(CustomerRow {
            shop_id,
            customer_id: customer.customer_id,
            user_data: serde_json::to_value(&customer.user).unwrap_or_default(),
            email_marketing_consent: customer.email_consent,
            sms_marketing_consent: customer.sms_consent,
            record_updated_at: customer.record_updated_at,
            orders_count: i32::try_from(customer.stats.orders).unwrap_or(i32::MAX),
            spent: Amount(customer.stats.spent),
            first_order_at: customer.stats.first_order_at,
            last_order_at: customer.stats.last_order_at,
            segment: segment.as_str().to_owned(),
            segment_since: customer.segment_since,
            audiences: serde_json::Value::Array(
                customer
                    .audiences
                    .iter()
                    .map(|a| serde_json::Value::from(a.as_str()))
                    .collect(),
            ),
            first_seen_at: customer.first_seen_at,
            updated_at: now,
        })
    }
}

/// An `orders` row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = orders, check_for_backend(Pg))]
pub struct OrderRow {
    /// Shop.
    pub shop_id: i64,
    /// Shopify order id.
    pub order_id: i64,
    /// Customer (NULL for guests).
    pub customer_id: Option<i64>,
    /// Test order.
    pub test: bool,
    /// Cancellation time.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Financial status.
    pub financial_status: Option<String>,
    /// Sales channel.
    pub source_name: Option<String>,
    /// Shop currency.
    pub currency: String,
    /// Total (shop currency).
    pub total_price: Amount,
    /// Buyer's currency.
    pub presentment_currency: Option<String>,
    /// Total in the buyer's currency.
    pub presentment_total_price: Option<Amount>,
    /// `processed_at`, else `created_at`.
    pub ordered_at: DateTime<Utc>,
    /// Shopify `updated_at` of the newest payload applied.
    pub record_updated_at: Option<DateTime<Utc>>,
    /// When the purchase was written to the outbox.
    pub purchase_emitted_at: Option<DateTime<Utc>>,
    /// First seen.
    pub first_seen_at: DateTime<Utc>,
    /// Last written.
    pub updated_at: DateTime<Utc>,
}

impl OrderRow {
    /// The domain value.
    pub fn into_order(self) -> Order {
        Order {
            order_id: self.order_id,
            customer_id: self.customer_id,
            test: self.test,
            cancelled_at: self.cancelled_at,
            financial_status: self.financial_status,
            source_name: self.source_name,
            currency: self.currency,
            total_price: self.total_price.0,
            presentment_currency: self.presentment_currency,
            presentment_total_price: self.presentment_total_price.map(|a| a.0),
            ordered_at: self.ordered_at,
            record_updated_at: self.record_updated_at,
            purchase_emitted_at: self.purchase_emitted_at,
            first_seen_at: self.first_seen_at,
        }
    }

    /// The row for an order.
    pub fn from_order(shop_id: i64, order: &Order, now: DateTime<Utc>) -> OrderRow {
        OrderRow {
            shop_id,
            order_id: order.order_id,
            customer_id: order.customer_id,
            test: order.test,
            cancelled_at: order.cancelled_at,
            financial_status: order.financial_status.clone(),
            source_name: order.source_name.clone(),
            currency: order.currency.clone(),
            total_price: Amount(order.total_price),
            presentment_currency: order.presentment_currency.clone(),
            presentment_total_price: order.presentment_total_price.map(Amount),
            ordered_at: order.ordered_at,
            record_updated_at: order.record_updated_at,
            purchase_emitted_at: order.purchase_emitted_at,
            first_seen_at: order.first_seen_at,
            updated_at: now,
        }
    }
}

/// A `refunds` row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = refunds, check_for_backend(Pg))]
pub struct RefundRow {
    /// Shop.
    pub shop_id: i64,
    /// Shopify refund id.
    pub refund_id: i64,
    /// The refunded order.
    pub order_id: i64,
    /// Successful refund transactions in `currency`.
    pub amount: Amount,
    /// Their currency.
    pub currency: Option<String>,
    /// The same in the shop currency, when known.
    pub shop_amount: Option<Amount>,
    /// When it was refunded.
    pub refunded_at: Option<DateTime<Utc>>,
}

impl RefundRow {
    /// The domain value.
    pub fn into_refund(self) -> Refund {
        Refund {
            refund_id: self.refund_id,
            order_id: self.order_id,
            amount: self.amount.0,
            currency: self.currency,
            shop_amount: self.shop_amount.map(|a| a.0),
            refunded_at: self.refunded_at,
        }
    }

    /// The row for a refund.
    pub fn from_refund(shop_id: i64, refund: &Refund) -> RefundRow {
        RefundRow {
            shop_id,
            refund_id: refund.refund_id,
            order_id: refund.order_id,
            amount: Amount(refund.amount),
            currency: refund.currency.clone(),
            shop_amount: refund.shop_amount.map(Amount),
            refunded_at: refund.refunded_at,
        }
    }
}

/// A `tombstones` row.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = tombstones, check_for_backend(Pg))]
pub struct TombstoneRow {
    /// Shop.
    pub shop_id: i64,
    /// `customer` or `order`.
    pub subject: String,
    /// The id.
    pub subject_id: i64,
}

/// A new `segment_transitions` row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = segment_transitions, check_for_backend(Pg))]
pub struct NewTransitionRow {
    /// Shop.
    pub shop_id: i64,
    /// Customer.
    pub customer_id: i64,
    /// Previous segment (NULL when first classified).
    pub from_segment: Option<String>,
    /// New segment.
    pub to_segment: String,
    /// Topic or `sweep`.
    pub cause: String,
    /// Causing message.
    pub message_id: Option<String>,
    /// When.
    pub occurred_at: DateTime<Utc>,
}

impl NewTransitionRow {
    /// The row for a transition.
    pub fn from_transition(t: &Transition) -> NewTransitionRow {
        NewTransitionRow {
            shop_id: t.shop_id,
            customer_id: t.customer_id,
            from_segment: t.from.map(|s| s.as_str().to_owned()),
            to_segment: t.to.as_str().to_owned(),
            cause: t.cause.clone(),
            message_id: t.message_id.clone(),
            occurred_at: t.at,
        }
    }
}

/// A new `outbox` row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox, check_for_backend(Pg))]
pub struct NewOutboxRow {
    /// Shop.
    pub shop_id: i64,
    /// Its domain (the envelope's `shop_domain`).
    pub shop_domain: String,
    /// The customer concerned.
    pub customer_id: Option<i64>,
    /// `purchase` or `audience_change`.
    pub topic: String,
    /// The `DispatchMessage` (JSON text).
    pub payload: String,
}

/// An `outbox` row to publish.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox, check_for_backend(Pg))]
pub struct OutboxRow {
    /// Row id: the message's sequence and the AMQP message id's suffix.
    pub outbox_id: i64,
    /// Shop domain.
    pub shop_domain: String,
    /// `purchase` or `audience_change`.
    pub topic: String,
    /// The `DispatchMessage` (JSON text).
    pub payload: String,
    /// When it was written.
    pub created_at: DateTime<Utc>,
}

/// A new `data_requests` row.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = data_requests, check_for_backend(Pg))]
pub struct NewDataRequestRow {
    /// Shop.
    pub shop_id: i64,
    /// The customer, when named.
    pub customer_id: Option<i64>,
    /// Shopify's request id.
    pub data_request_id: Option<i64>,
    /// The request's message id.
    pub message_id: String,
    /// The export.
    pub export: serde_json::Value,
}
