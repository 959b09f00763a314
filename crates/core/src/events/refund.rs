//! [`RefundEvent`]: what a refund takes off an order's spend.
//!
//! The amount is the sum of the refund's successful refund transactions, in the transaction
//! (presentment) currency. The same amount in the shop currency is given where the payload
//! allows: directly when the two currencies are the same, else converted with the refund's own
//! shop/presentment amounts (`refund_line_items[].subtotal_set` / `total_tax_set`), else, for
//! refunds inside an order, with the order's `total_price_set`.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::shopify::{CurrencyCode, Money, MoneySet, PayloadError, Refund, Topic};

/// A refund, as delivered by `refunds/create` or listed in an order's `refunds[]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundEvent {
    /// The refund id.
    pub refund_id: u64,
    /// The refunded order.
    pub order_id: u64,
    /// When the refund was created.
    pub created_at: Option<DateTime<FixedOffset>>,
    /// When the refund was processed.
    pub processed_at: Option<DateTime<FixedOffset>>,
    /// Sum of successful refund transactions, in `currency` (zero when there are none).
    pub amount: Money,
    /// The transactions' currency; `None` when the payload does not say.
    pub currency: Option<CurrencyCode>,
    /// `amount` in the shop currency, when the payload gives enough to know it.
    pub shop_amount: Option<Money>,
    /// The shop currency, when known.
    pub shop_currency: Option<CurrencyCode>,
    /// The refunded lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub line_items: Vec<RefundedLineItem>,
}

/// A refunded order line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundedLineItem {
    /// The order line.
    pub line_item_id: Option<u64>,
    /// Units refunded.
    pub quantity: u32,
    /// Subtotal refunded (presentment currency).
    pub subtotal: Option<Money>,
    /// Tax refunded (presentment currency).
    pub total_tax: Option<Money>,
}

/// What the enclosing order knows about currencies, for refunds listed inside it.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OrderCurrencies {
    pub(crate) shop: Option<CurrencyCode>,
    pub(crate) presentment: Option<CurrencyCode>,
    pub(crate) total_price_set: Option<MoneySet>,
}

impl RefundEvent {
    /// Summarizes a refund; `order` helps when the refund alone does not name its currencies.
    pub(crate) fn from_refund(
        refund: &Refund<'_>,
        order: OrderCurrencies,
        topic: Topic,
    ) -> Result<RefundEvent, PayloadError> {
        let sets = refund
            .refund_line_items
            .iter()
            .flat_map(|line| [line.subtotal_set, line.total_tax_set])
            .flatten();
        let mut line_shop_currency = None;
        let mut line_presentment_currency = None;
        let mut shop_scale: Option<u8> = None;
        let mut ratio = Some((Money::ZERO, Money::ZERO));
        for set in sets {
            if let Some(shop) = set.shop_money {
                line_shop_currency = line_shop_currency.or(shop.currency_code);
                shop_scale =
                    Some(shop_scale.map_or(shop.amount.scale(), |s| s.max(shop.amount.scale())));
            }
            if let Some(presentment) = set.presentment_money {
                line_presentment_currency = line_presentment_currency.or(presentment.currency_code);
            }
            ratio = match (ratio, set.shop_money, set.presentment_money) {
                (Some((shop_sum, presentment_sum)), Some(shop), Some(presentment)) => shop_sum
                    .checked_add(shop.amount)
                    .zip(presentment_sum.checked_add(presentment.amount)),
                _ => None,
            };
        }

        let successful = || {
            refund
                .transactions
                .iter()
                .filter(|t| t.is_successful_refund())
        };
        let currency = successful()
            .find_map(|t| t.currency)
            .or(line_presentment_currency)
            .or(order.presentment);
        let mut amount = Money::ZERO;
        for transaction in successful() {
            let same_currency = transaction.currency.is_none() || transaction.currency == currency;
            if let (true, Some(value)) = (same_currency, transaction.amount) {
                amount = amount.checked_add(value).ok_or_else(|| {
                    PayloadError::custom(topic, "transactions", "refund amounts overflow")
                })?;
            }
        }

        let shop_currency = line_shop_currency.or(order.shop);
        let same_currency = currency.is_some() && currency == shop_currency;
        let shop_amount = if amount.is_zero() || same_currency {
            Some(amount)
        } else {
            let line_ratio = ratio.filter(|(_, presentment)| !presentment.is_zero());
            let order_ratio = order.total_price_set.and_then(|set| {
                let shop = set.shop_money?;
                let presentment = set.presentment_money?;
                let consistent =
                    presentment.currency_code.is_none() || presentment.currency_code == currency;
                (consistent && !presentment.amount.is_zero())
                    .then_some((shop.amount, presentment.amount))
            });
            let scale = shop_scale
                .or_else(|| {
                    order
                        .total_price_set
                        .and_then(|s| s.shop_money)
                        .map(|m| m.amount.scale())
                })
                .unwrap_or(amount.scale());
            line_ratio
                .or(order_ratio)
                .and_then(|(shop, presentment)| amount.mul_div(shop, presentment, scale))
        };

        Ok(RefundEvent {
            refund_id: refund.id,
            order_id: refund.order_id,
            created_at: refund.created_at,
            processed_at: refund.processed_at,
            amount,
            currency,
            shop_amount,
            shop_currency,
            line_items: refund
                .refund_line_items
                .iter()
                .map(|line| RefundedLineItem {
                    line_item_id: line.line_item_id,
                    quantity: line.quantity,
                    subtotal: line.subtotal,
                    total_tax: line.total_tax,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summarize(json: &str, order: OrderCurrencies) -> RefundEvent {
        let refund: Refund<'_> = serde_json::from_str(json).unwrap();
        RefundEvent::from_refund(&refund, order, Topic::RefundsCreate).unwrap()
    }

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn only_successful_refund_transactions_count() {
        let event = summarize(
            r#"{"id": 1, "order_id": 2, "transactions": [
                {"kind": "refund", "status": "success", "amount": "75.00", "currency": "EUR"},
                {"kind": "refund", "status": "failure", "amount": "1000.00", "currency": "EUR"},
                {"kind": "sale", "status": "success", "amount": "500.00", "currency": "EUR"},
                {"kind": "refund", "status": "success", "amount": "10.50", "currency": null}
            ]}"#,
            OrderCurrencies::default(),
        );
        assert_eq!(event.amount, m("85.50"));
        assert_eq!(
            event.currency.map(|c| c.to_string()).as_deref(),
            Some("EUR")
        );
        // Nothing says what the shop currency is.
        assert_eq!(event.shop_amount, None);
    }

    #[test]
    fn converts_with_the_refund_lines_own_rates() {
        let event = summarize(
            r#"{"id": 1, "order_id": 2,
                "refund_line_items": [{"quantity": 1, "subtotal": 50, "total_tax": 0,
                  "subtotal_set": {"shop_money": {"amount": "55.00", "currency_code": "USD"},
                                   "presentment_money": {"amount": "50.00", "currency_code": "EUR"}},
                  "total_tax_set": {"shop_money": {"amount": "0.00", "currency_code": "USD"},
                                    "presentment_money": {"amount": "0.00", "currency_code": "EUR"}}}],
                "transactions": [{"kind": "refund", "status": "success", "amount": "50.00", "currency": "EUR"}]}"#,
            OrderCurrencies::default(),
        );
        assert_eq!(event.amount, m("50.00"));
        assert_eq!(event.shop_amount, Some(m("55.00")));
        assert_eq!(
            event.shop_currency.map(|c| c.to_string()).as_deref(),
            Some("USD")
        );
    }

    #[test]
    fn falls_back_to_the_order_totals_for_the_rate() {
        let total_price_set: MoneySet = serde_json::from_str(
            r#"{"shop_money": {"amount": "200.00", "currency_code": "USD"},
                "presentment_money": {"amount": "180.00", "currency_code": "EUR"}}"#,
        )
        .unwrap();
        let event = summarize(
            r#"{"id": 1, "order_id": 2,
                "transactions": [{"kind": "refund", "status": "success", "amount": "18.00", "currency": "EUR"}]}"#,
            OrderCurrencies {
                shop: "USD".parse().ok(),
                presentment: "EUR".parse().ok(),
                total_price_set: Some(total_price_set),
            },
        );
        assert_eq!(event.shop_amount, Some(m("20.00")));
    }

    #[test]
    fn a_refund_without_money_is_zero_in_both_currencies() {
        let event = summarize(
            r#"{"id": 1, "order_id": 2, "transactions": []}"#,
            OrderCurrencies::default(),
        );
        assert!(event.amount.is_zero());
        assert_eq!(event.shop_amount, Some(Money::ZERO));
    }
}
