//! `refunds/create` bodies, also the shape of `refunds[]` inside an order.
//!
//! A refund carries no customer contact data: it is joined to its order by `order_id`. The
//! amount refunded is the sum of its successful refund transactions (in the transaction, i.e.
//! presentment, currency); refund line items carry their amounts in both currencies as
//! `*_set` pairs, and their `subtotal` / `total_tax` as JSON numbers.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use serde::Deserialize;

use super::money::{CurrencyCode, Money, MoneySet};
use super::{null_as_default, opt_str};

/// A refund.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Refund<'a> {
    /// The refund id.
    pub id: u64,
    /// The refunded order.
    pub order_id: u64,
    /// When the refund was created.
    #[serde(default)]
    pub created_at: Option<DateTime<FixedOffset>>,
    /// When the refund was processed.
    #[serde(default)]
    pub processed_at: Option<DateTime<FixedOffset>>,
    /// The refunded lines.
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub refund_line_items: Vec<RefundLineItem<'a>>,
    /// The money movements of the refund.
    #[serde(default, borrow, deserialize_with = "null_as_default")]
    pub transactions: Vec<Transaction<'a>>,
}

/// A refunded order line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RefundLineItem<'a> {
    /// The refund line id (some published ids are float-rounded; still integers).
    #[serde(default)]
    pub id: Option<u64>,
    /// The order line refunded.
    #[serde(default)]
    pub line_item_id: Option<u64>,
    /// Units refunded.
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantity: u32,
    /// `no_restock`, `cancel`, `return`, `legacy_restock`.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub restock_type: Option<Cow<'a, str>>,
    /// Subtotal refunded, presentment currency (a JSON number).
    #[serde(default)]
    pub subtotal: Option<Money>,
    /// Tax refunded, presentment currency (a JSON number).
    #[serde(default)]
    pub total_tax: Option<Money>,
    /// Subtotal refunded in both currencies.
    #[serde(default)]
    pub subtotal_set: Option<MoneySet>,
    /// Tax refunded in both currencies.
    #[serde(default)]
    pub total_tax_set: Option<MoneySet>,
}

/// A payment transaction (`transactions[]` of a refund).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Transaction<'a> {
    /// The transaction id.
    #[serde(default)]
    pub id: Option<u64>,
    /// `refund` for money given back; also `sale`, `capture`, `authorization`, `void`, ...
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub kind: Option<Cow<'a, str>>,
    /// `success`, `failure`, `pending`, `error`.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub status: Option<Cow<'a, str>>,
    /// The amount, in `currency`.
    #[serde(default)]
    pub amount: Option<Money>,
    /// The transaction currency (the presentment currency); null in some payloads.
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
}

impl Transaction<'_> {
    /// True for a refund that went through (`kind == "refund"`, `status == "success"`).
    pub fn is_successful_refund(&self) -> bool {
        self.kind.as_deref() == Some("refund") && self.status.as_deref() == Some("success")
    }
}
