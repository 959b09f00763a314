//! One handler per kind of store event that changes customer state: each applies one message to
//! the batch's [`WorkingSet`] and queues its transitions and outbox messages. Handlers do no I/O
//! (the batch engine loads and writes the working set), so they are tested without a database.
//!
//! The compliance topics (`customers/delete`, `customers/redact`, `shop/redact`,
//! `customers/data_request`) and `app/uninstalled` are rare and touch whole sets of rows; they
//! run in [`crate::compliance`], each in a transaction of its own.

pub mod customer;
pub mod order;
pub mod refund;

use audience_core::events::StoreEvent;
use chrono::{DateTime, FixedOffset, Utc};

use crate::error::MessageError;
use crate::reclassify::Cause;
use crate::state::WorkingSet;

/// The message being applied.
#[derive(Debug, Clone, Copy)]
pub struct MessageContext<'a> {
    /// The shop (internal id, loaded in the working set).
    pub shop_id: i64,
    /// The envelope's message id.
    pub message_id: &'a str,
    /// The Shopify topic (`orders/create`).
    pub topic: &'a str,
    /// The time the rules are evaluated at.
    pub now: DateTime<Utc>,
}

impl MessageContext<'_> {
    /// The cause recorded with transitions.
    pub fn cause(&self) -> Cause<'_> {
        Cause {
            label: self.topic,
            message_id: Some(self.message_id),
            now: self.now,
        }
    }
}

/// What applying a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// State changed (or outbox messages were queued).
    Changed,
    /// Nothing changed, and why.
    Skipped(SkipReason),
}

/// Why a message changed nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Its message id was processed before.
    Duplicate,
    /// Older than the stored record.
    Stale,
    /// About a deleted or redacted customer or order.
    Tombstoned,
    /// For an uninstalled or redacted shop.
    ShopInactive,
    /// A refund already recorded.
    KnownRefund,
}

impl SkipReason {
    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Duplicate => "duplicate",
            SkipReason::Stale => "stale",
            SkipReason::Tombstoned => "tombstoned",
            SkipReason::ShopInactive => "shop_inactive",
            SkipReason::KnownRefund => "known_refund",
        }
    }
}

/// Applies a customer, order or refund event; other events are not handled here.
pub fn apply(
    ws: &mut WorkingSet,
    ctx: &MessageContext<'_>,
    event: &StoreEvent,
) -> Result<Applied, MessageError> {
    match event {
        StoreEvent::Customer(event) => customer::apply(ws, ctx, event),
        StoreEvent::Order(event) => order::apply(ws, ctx, event),
        StoreEvent::Refund(event) => refund::apply(ws, ctx, event),
        other => Err(MessageError::Invalid(format!(
            "{} is not a state event",
            kind(other)
        ))),
    }
}

/// Whether the batch engine handles `event` (else [`crate::compliance`] does).
pub fn is_state_event(event: &StoreEvent) -> bool {
    matches!(
        event,
        StoreEvent::Customer(_) | StoreEvent::Order(_) | StoreEvent::Refund(_)
    )
}

/// A short name of the event's kind (for errors and logs).
pub fn kind(event: &StoreEvent) -> &'static str {
    match event {
        StoreEvent::Customer(_) => "customer",
        StoreEvent::CustomerDeleted { .. } => "customer_deleted",
        StoreEvent::Order(_) => "order",
        StoreEvent::Refund(_) => "refund",
        StoreEvent::AppUninstalled(_) => "app_uninstalled",
        StoreEvent::CustomerDataRequest(_) => "customer_data_request",
        StoreEvent::CustomerRedact(_) => "customer_redact",
        StoreEvent::ShopRedact(_) => "shop_redact",
    }
}

/// A Shopify id as a PostgreSQL `bigint`.
pub fn db_id(id: u64, what: &str) -> Result<i64, MessageError> {
    i64::try_from(id)
        .map_err(|_| MessageError::Invalid(format!("{what} {id} does not fit a bigint")))
}

/// A payload time in UTC.
pub fn utc(at: DateTime<FixedOffset>) -> DateTime<Utc> {
    at.with_timezone(&Utc)
}

/// Whether a record updated at `incoming` is older than the stored one (updated at
/// `stored`). A record without `updated_at` is older than any that has one.
pub fn is_stale(stored: Option<DateTime<Utc>>, incoming: Option<DateTime<Utc>>) -> bool {
    match (stored, incoming) {
        (Some(stored), Some(incoming)) => incoming < stored,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_records_are_stale_and_equal_ones_are_not() {
        let t = |s: i64| DateTime::from_timestamp(s, 0);
        assert!(is_stale(t(10), t(9)));
        assert!(!is_stale(t(10), t(10)));
        assert!(!is_stale(t(10), t(11)));
        assert!(is_stale(t(10), None));
        assert!(!is_stale(None, None));
        assert!(!is_stale(None, t(1)));
    }

    #[test]
    fn ids_beyond_bigint_are_invalid() {
        assert_eq!(db_id(42, "order id").unwrap(), 42);
        assert!(db_id(u64::MAX, "order id").is_err());
    }
}
