//! Recomputes a customer after a change: counted orders, spend, first and last order time from
//! the orders and refunds in the working set; the segment ([`crate::classify`]); the
//! transition, if the segment changed; and the audience changes for the outbox.
//!
//! Audience changes are the difference between the audiences the customer is in (as last
//! dispatched, stored with the customer) and the audiences they belong in now. When the
//! customer's hashed keys changed, the customer leaves every audience with the old keys and
//! joins with the new ones, so that Meta never keeps a stale identity in an audience.

use std::collections::BTreeSet;

use audience_core::dispatch::{Audience, AudienceAction, AudienceChange, DispatchMessage};
use audience_core::events::UserData;
use audience_core::shopify::Money;
use chrono::{DateTime, Utc};

use crate::classify::{OrderFacts, audiences_for, classify, customer_stats, order_spend};
use crate::error::MessageError;
use crate::state::{Order, OutboxMessage, Refund, Transition, WorkingSet};

/// What caused a reclassification, for the transition history.
#[derive(Debug, Clone, Copy)]
pub struct Cause<'a> {
    /// The Shopify topic, or `sweep`.
    pub label: &'a str,
    /// The message, if any.
    pub message_id: Option<&'a str>,
    /// The time the rules are evaluated at.
    pub now: DateTime<Utc>,
}

/// Recomputes customer `customer_id` of shop `shop_id` (who must be in the working set) and
/// queues the resulting transition and audience changes. `previous_keys` are the hashed keys
/// the customer had before this message changed them, if it did.
pub fn reclassify(
    ws: &mut WorkingSet,
    shop_id: i64,
    customer_id: i64,
    cause: Cause<'_>,
    previous_keys: Option<&UserData>,
) -> Result<(), MessageError> {
    let shop = ws
        .shop(shop_id)
        .cloned()
        .ok_or_else(|| MessageError::Invalid(format!("shop {shop_id} is not loaded")))?;
    let Some(original) = ws.customer((shop_id, customer_id)).cloned() else {
        return Err(MessageError::Invalid(format!(
            "customer {customer_id} is not loaded"
        )));
    };
    let mut facts = Vec::new();
    for order in ws.orders_of(shop_id, customer_id) {
        let refunded = refunded_in_shop_currency(order, ws.refunds_of(shop_id, order.order_id))
            .ok_or_else(|| {
                MessageError::Invalid(format!("refunds of order {} overflow", order.order_id))
            })?;
        let spend = order_spend(order.total_price, refunded).ok_or_else(|| {
            MessageError::Invalid(format!("spend of order {} overflows", order.order_id))
        })?;
        facts.push(OrderFacts {
            counted: order.counted(),
            spend,
            at: order.ordered_at,
        });
    }
    let stats = customer_stats(facts).ok_or_else(|| {
        MessageError::Invalid(format!("spend of customer {customer_id} overflows"))
    })?;
    let segment = classify(&stats, &shop.rules, cause.now);

    let mut customer = original.clone();
    if customer.segment != Some(segment) {
        ws.push_transition(Transition {
            shop_id,
            customer_id,
            from: customer.segment,
            to: segment,
            cause: cause.label.to_owned(),
            message_id: cause.message_id.map(str::to_owned),
            at: cause.now,
        });
        customer.segment = Some(segment);
        customer.segment_since = cause.now;
    }
    let allowed = shop
        .consent
        .allows(customer.email_consent, customer.sms_consent);
    let desired = audiences_for(segment, &stats, allowed);
    let keys_changed = previous_keys.is_some_and(|old| *old != customer.user);
    let (leave, join): (BTreeSet<Audience>, BTreeSet<Audience>) = if keys_changed {
        (customer.audiences.clone(), desired.clone())
    } else {
        (
            customer.audiences.difference(&desired).copied().collect(),
            desired.difference(&customer.audiences).copied().collect(),
        )
    };
    let old_keys = previous_keys
        .filter(|_| keys_changed)
        .unwrap_or(&customer.user)
        .clone();
    for audience in leave {
        ws.push_outbox(audience_change(
            &shop.domain,
            shop_id,
            customer_id,
            audience,
            AudienceAction::Remove,
            &old_keys,
        )?);
    }
    for audience in join {
        ws.push_outbox(audience_change(
            &shop.domain,
            shop_id,
            customer_id,
            audience,
            AudienceAction::Add,
            &customer.user,
        )?);
    }
    customer.audiences = desired;
    customer.stats = stats;
    if customer != original {
        ws.put_customer(shop_id, customer);
    }
    Ok(())
}

/// An audience change for the outbox.
pub fn audience_change(
    shop_domain: &str,
    shop_id: i64,
    customer_id: i64,
    audience: Audience,
    action: AudienceAction,
    user: &UserData,
) -> Result<OutboxMessage, MessageError> {
    let shopify_id = u64::try_from(customer_id)
        .map_err(|_| MessageError::Invalid(format!("customer id {customer_id} is negative")))?;
    Ok(OutboxMessage {
        shop_id,
        customer_id: Some(customer_id),
        message: DispatchMessage::AudienceChange(AudienceChange {
            shop_domain: shop_domain.to_owned(),
            audience,
            action,
            customer_id: shopify_id,
            user: user.clone(),
            sequence: 0,
        }),
    })
}

/// What the refunds took off an order, in the shop currency; `None` on overflow.
///
/// A refund counts with its shop-currency amount when the payload allowed converting it; else
/// its own amount when it is in the order's currency (or names none); else converted with the
/// order's own shop/presentment totals when it is in the presentment currency; else (nothing
/// to convert with) with its own amount.
pub fn refunded_in_shop_currency<'a>(
    order: &Order,
    refunds: impl Iterator<Item = &'a Refund>,
) -> Option<Money> {
    let mut total = Money::ZERO;
    for refund in refunds {
        total = total.checked_add(refund_in_shop_currency(order, refund)?)?;
    }
    Some(total)
}

fn refund_in_shop_currency(order: &Order, refund: &Refund) -> Option<Money> {
    if let Some(amount) = refund.shop_amount {
        return Some(amount);
    }
    match refund.currency.as_deref() {
        None => Some(refund.amount),
        Some(currency) if currency == order.currency => Some(refund.amount),
        Some(currency) if Some(currency) == order.presentment_currency.as_deref() => {
            match order.presentment_total_price.filter(|p| !p.is_zero()) {
                Some(presentment_total) => refund.amount.mul_div(
                    order.total_price,
                    presentment_total,
                    order.total_price.scale(),
                ),
                None => Some(refund.amount),
            }
        }
        Some(_) => Some(refund.amount),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    fn order() -> Order {
        Order {
            order_id: 1,
            customer_id: Some(2),
            test: false,
            cancelled_at: None,
            financial_status: None,
            source_name: None,
            currency: "USD".into(),
            total_price: m("200.00"),
            presentment_currency: Some("EUR".into()),
            presentment_total_price: Some(m("180.00")),
            ordered_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            record_updated_at: None,
            purchase_emitted_at: None,
            first_seen_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
        }
    }

    fn refund(amount: &str, currency: Option<&str>, shop_amount: Option<&str>) -> Refund {
        Refund {
            refund_id: 9,
            order_id: 1,
            amount: m(amount),
            currency: currency.map(str::to_owned),
            shop_amount: shop_amount.map(m),
            refunded_at: None,
        }
    }

    #[test]
    fn refunds_are_taken_in_the_shop_currency() {
        let o = order();
        let refunds = [
            refund("10.00", Some("USD"), None),
            refund("18.00", Some("EUR"), None),
            refund("5.00", Some("EUR"), Some("5.55")),
            refund("1.00", None, None),
        ];
        assert_eq!(
            refunded_in_shop_currency(&o, refunds.iter()),
            Some(m("36.55"))
        );
    }

    #[test]
    fn a_refund_in_an_unknown_currency_counts_as_given() {
        let o = order();
        let refunds = [refund("3.00", Some("JPY"), None)];
        assert_eq!(
            refunded_in_shop_currency(&o, refunds.iter()),
            Some(m("3.00"))
        );
    }
}
