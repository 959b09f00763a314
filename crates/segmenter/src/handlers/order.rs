//! `orders/create`, `orders/paid`, `orders/updated`, `orders/cancelled`.
//!
//! The order's state is replaced unless the payload is older than the stored one; the refunds
//! it lists are recorded either way (refund ids never change meaning). The first time the
//! shop's purchase topic arrives for an order that counts (non-test, not cancelled, as far as
//! the newest state we hold says), its `Purchase` goes to the outbox and the order remembers
//! it, so that whatever mix of order topics arrives, and however often, there is one
//! purchase per order. A later cancellation does not recall it (Meta has no recall) but the
//! order stops counting. Finally the order's customer (and a previous one, if the order moved)
//! is reclassified.

use audience_core::dispatch::DispatchMessage;
use audience_core::events::OrderEvent;

use super::{Applied, MessageContext, SkipReason, db_id, is_stale, utc};
use crate::error::MessageError;
use crate::purchase::{build_purchase, hashed_only};
use crate::reclassify::reclassify;
use crate::state::{Customer, Order, OutboxMessage, Subject, WorkingSet};

/// Applies an order payload.
pub fn apply(
    ws: &mut WorkingSet,
    ctx: &MessageContext<'_>,
    event: &OrderEvent,
) -> Result<Applied, MessageError> {
    let shop_id = ctx.shop_id;
    let order_id = db_id(event.order_id, "order id")?;
    let customer_id = event
        .customer_id
        .map(|id| db_id(id, "customer id"))
        .transpose()?;
    if ws.tombstoned(shop_id, Subject::Order, order_id)
        || customer_id.is_some_and(|id| ws.tombstoned(shop_id, Subject::Customer, id))
    {
        return Ok(Applied::Skipped(SkipReason::Tombstoned));
    }
    let shop = ws
        .shop(shop_id)
        .cloned()
        .ok_or_else(|| MessageError::Invalid(format!("shop {shop_id} is not loaded")))?;
    let mut changed = false;

    for listed in &event.refunds {
        let refund = super::refund::refund_from_event(listed)?;
        if refund.order_id == order_id && ws.add_refund(shop_id, refund) {
            changed = true;
        }
    }

    let updated_at = event.updated_at.map(utc);
    let existing = ws.order((shop_id, order_id)).cloned();
    let previous_customer = existing.as_ref().and_then(|o| o.customer_id);
    let stale = existing
        .as_ref()
        .is_some_and(|o| is_stale(o.record_updated_at, updated_at));
    let mut order = match existing {
        Some(stored) if stale => stored,
        stored => {
            changed = true;
            Order {
                order_id,
                customer_id,
                test: event.test,
                cancelled_at: event.cancelled_at.map(utc),
                financial_status: event.financial_status.clone(),
                source_name: event.source_name.clone(),
                currency: event.currency.to_string(),
                total_price: event.total_price,
                presentment_currency: event.presentment_currency.map(|c| c.to_string()),
                presentment_total_price: event.presentment_total_price,
                ordered_at: utc(event.processed_at.unwrap_or(event.created_at)),
                record_updated_at: updated_at,
                purchase_emitted_at: stored.as_ref().and_then(|o| o.purchase_emitted_at),
                first_seen_at: stored.as_ref().map_or(ctx.now, |o| o.first_seen_at),
            }
        }
    };

    if ctx.topic == shop.purchase_topic.as_str()
        && order.purchase_emitted_at.is_none()
        && order.counted()
    {
        let customer_keys = order
            .customer_id
            .and_then(|id| ws.customer((shop_id, id)))
            .map(|c| c.user.clone());
        let purchase = build_purchase(&shop.domain, event, customer_keys.as_ref());
        ws.push_outbox(OutboxMessage {
            shop_id,
            customer_id: order.customer_id,
            message: DispatchMessage::Purchase(purchase),
        });
        order.purchase_emitted_at = Some(ctx.now);
        changed = true;
    }
    if shop.currency.is_none() {
        let mut with_currency = shop.clone();
        with_currency.currency = Some(order.currency.clone());
        ws.put_shop(with_currency);
    }
    let current_customer = order.customer_id;
    if changed {
        ws.put_order(shop_id, order);
    }

    if let Some(id) = current_customer {
        if ws.customer((shop_id, id)).is_none() {
            // First seen through an order: its keys are the order's (the customer record
            // replaces them when it arrives).
            let mut customer = Customer::new(id, ctx.now);
            customer.user = hashed_only(&event.user_data);
            ws.put_customer(shop_id, customer);
        }
        reclassify(ws, shop_id, id, ctx.cause(), None)?;
    }
    if let Some(previous) = previous_customer.filter(|p| Some(*p) != current_customer)
        && ws.customer((shop_id, previous)).is_some()
    {
        reclassify(ws, shop_id, previous, ctx.cause(), None)?;
    }
    Ok(if changed {
        Applied::Changed
    } else {
        Applied::Skipped(SkipReason::Stale)
    })
}
