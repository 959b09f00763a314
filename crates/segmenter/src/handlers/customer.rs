//! `customers/create` and `customers/update`: the customer's hashed keys and consent, then a
//! reclassification. An update older than the stored one changes nothing.

use audience_core::events::CustomerEvent;

use super::{Applied, MessageContext, SkipReason, db_id, is_stale, utc};
use crate::error::MessageError;
use crate::purchase::hashed_only;
use crate::reclassify::reclassify;
use crate::state::{Customer, Subject, WorkingSet};

/// Applies a customer record.
pub fn apply(
    ws: &mut WorkingSet,
    ctx: &MessageContext<'_>,
    event: &CustomerEvent,
) -> Result<Applied, MessageError> {
    let shop_id = ctx.shop_id;
    let customer_id = db_id(event.customer_id, "customer id")?;
    if ws.tombstoned(shop_id, Subject::Customer, customer_id) {
        return Ok(Applied::Skipped(SkipReason::Tombstoned));
    }
    let updated_at = event.updated_at.map(utc);
    let existing = ws.customer((shop_id, customer_id)).cloned();
    if existing
        .as_ref()
        .is_some_and(|c| is_stale(c.record_updated_at, updated_at))
    {
        return Ok(Applied::Skipped(SkipReason::Stale));
    }
    let previous_keys = existing.as_ref().map(|c| c.user.clone());
    let mut customer = existing.unwrap_or_else(|| Customer::new(customer_id, ctx.now));
    customer.user = hashed_only(&event.user_data);
    // A payload that does not say (API 2025-01 and later) keeps what an older one said.
    if event.email_marketing_consent.is_some() {
        customer.email_consent = event.email_marketing_consent;
    }
    if event.sms_marketing_consent.is_some() {
        customer.sms_consent = event.sms_marketing_consent;
    }
    customer.record_updated_at = updated_at;
    ws.put_customer(shop_id, customer);
    reclassify(
        ws,
        shop_id,
        customer_id,
        ctx.cause(),
        previous_keys.as_ref(),
    )?;
    Ok(Applied::Changed)
}
