//! `refunds/create`: records the refund (once per refund id) and reclassifies the order's
//! customer, since a refund lowers the spend. A refund for an order not seen yet is kept and
//! counts once the order arrives.

use audience_core::events::RefundEvent;

use super::{Applied, MessageContext, SkipReason, db_id, utc};
use crate::error::MessageError;
use crate::reclassify::reclassify;
use crate::state::{Refund, Subject, WorkingSet};

/// Applies a refund.
pub fn apply(
    ws: &mut WorkingSet,
    ctx: &MessageContext<'_>,
    event: &RefundEvent,
) -> Result<Applied, MessageError> {
    let shop_id = ctx.shop_id;
    let refund = refund_from_event(event)?;
    if ws.tombstoned(shop_id, Subject::Order, refund.order_id) {
        return Ok(Applied::Skipped(SkipReason::Tombstoned));
    }
    let customer_id = ws
        .order((shop_id, refund.order_id))
        .and_then(|o| o.customer_id);
    if customer_id.is_some_and(|id| ws.tombstoned(shop_id, Subject::Customer, id)) {
        return Ok(Applied::Skipped(SkipReason::Tombstoned));
    }
    if !ws.add_refund(shop_id, refund) {
        return Ok(Applied::Skipped(SkipReason::KnownRefund));
    }
    if let Some(customer_id) = customer_id
        && ws.customer((shop_id, customer_id)).is_some()
    {
        reclassify(ws, shop_id, customer_id, ctx.cause(), None)?;
    }
    Ok(Applied::Changed)
}

/// The stored form of a refund event.
pub fn refund_from_event(event: &RefundEvent) -> Result<Refund, MessageError> {
    Ok(Refund {
        refund_id: db_id(event.refund_id, "refund id")?,
        order_id: db_id(event.order_id, "order id")?,
        amount: event.amount,
        currency: event.currency.map(|c| c.to_string()),
        shop_amount: event.shop_amount,
        refunded_at: event.processed_at.or(event.created_at).map(utc),
    })
}
