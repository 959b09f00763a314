//! Builds the Conversions API `Purchase` for an order (`shared/guide/architecture.md`,
//! "Purchases"; `docs/segmenter.md`).
//!
//! - `event_id` is `order_<order id>`, the seed's format, so that the browser Pixel's event for
//!   the same order deduplicates against ours;
//! - `event_time` is the order's `processed_at`, else `created_at`;
//! - `action_source` follows `source_name`: `web` with a user agent is `website` (with
//!   `event_source_url`, the landing page on the shop's domain, else the shop's home page),
//!   `pos` is `physical_store`, anything else (drafts, apps, a web order without a user agent)
//!   is `system_generated`, so that no counted order is lost for want of a browser context;
//! - `user_data` holds the order's hashed keys, completed with those stored for its customer,
//!   plus the raw client IP, user agent, `fbc` and `fbp` of the order;
//! - `custom_data` holds the total, the shop currency and one content per line.

use audience_core::dispatch::{
    ActionSource, PRODUCT_CONTENT_TYPE, PURCHASE_EVENT_NAME, Purchase, PurchaseContent,
    PurchaseCustomData, PurchaseUserData,
};
use audience_core::events::{OrderEvent, UserData};

/// The purchase for `order` in shop `shop_domain`; `customer_keys` are the hashed keys stored
/// for the order's customer, if any.
pub fn build_purchase(
    shop_domain: &str,
    order: &OrderEvent,
    customer_keys: Option<&UserData>,
) -> Purchase {
    let action_source = action_source(
        order.source_name.as_deref(),
        order.client_user_agent.is_some(),
    );
    let event_source_url = match action_source {
        ActionSource::Website => Some(
            order
                .event_source_url
                .clone()
                .unwrap_or_else(|| format!("https://{shop_domain}/")),
        ),
        ActionSource::PhysicalStore | ActionSource::SystemGenerated => None,
    };
    let mut hashed = hashed_only(&order.user_data);
    if let Some(keys) = customer_keys {
        merge_keys(&mut hashed, keys);
    }
    let mut contents = Vec::with_capacity(order.line_items.len());
    let mut content_ids: Vec<String> = Vec::new();
    let mut num_items: u32 = 0;
    for line in &order.line_items {
        let id = line
            .product_id
            .or(line.variant_id)
            .map(|id| id.to_string())
            .or_else(|| line.sku.clone())
            .unwrap_or_else(|| format!("line_{}", line.line_item_id));
        if !content_ids.contains(&id) {
            content_ids.push(id.clone());
        }
        num_items = num_items.saturating_add(line.quantity);
        contents.push(PurchaseContent {
            id,
            quantity: line.quantity,
            item_price: line.price,
        });
    }
    Purchase {
        shop_domain: shop_domain.to_owned(),
        order_id: order.order_id,
        event_name: PURCHASE_EVENT_NAME.to_owned(),
        event_id: event_id(order.order_id),
        event_time: order.processed_at.unwrap_or(order.created_at).timestamp(),
        action_source,
        event_source_url,
        user_data: PurchaseUserData {
            hashed,
            client_ip_address: order.client_ip_address.clone(),
            client_user_agent: order.client_user_agent.clone(),
            fbc: order.fbc.clone(),
            fbp: order.fbp.clone(),
        },
        custom_data: PurchaseCustomData {
            value: order.total_price,
            currency: order.currency,
            contents,
            content_ids,
            content_type: PRODUCT_CONTENT_TYPE.to_owned(),
            num_items,
            order_id: order.order_id.to_string(),
        },
        sequence: 0,
    }
}

/// `order_<order id>`.
pub fn event_id(order_id: u64) -> String {
    format!("order_{order_id}")
}

/// Meta's `action_source` for an order's `source_name`.
pub fn action_source(source_name: Option<&str>, has_user_agent: bool) -> ActionSource {
    match source_name {
        Some("web") if has_user_agent => ActionSource::Website,
        Some("pos") => ActionSource::PhysicalStore,
        _ => ActionSource::SystemGenerated,
    }
}

/// The hashed keys alone, without the invalid-field reports.
pub fn hashed_only(data: &UserData) -> UserData {
    UserData {
        invalid_fields: Vec::new(),
        ..data.clone()
    }
}

/// Adds `extra`'s emails and phones that `keys` lacks, and fills its empty single keys.
pub fn merge_keys(keys: &mut UserData, extra: &UserData) {
    for em in &extra.em {
        if !keys.em.contains(em) {
            keys.em.push(em.clone());
        }
    }
    for ph in &extra.ph {
        if !keys.ph.contains(ph) {
            keys.ph.push(ph.clone());
        }
    }
    let fill = |slot: &mut Option<_>, value: &Option<_>| {
        if slot.is_none() {
            slot.clone_from(value);
        }
    };
    fill(&mut keys.fn_, &extra.fn_);
    fill(&mut keys.ln, &extra.ln);
    fill(&mut keys.ct, &extra.ct);
    fill(&mut keys.st, &extra.st);
    fill(&mut keys.zp, &extra.zp);
    fill(&mut keys.country, &extra.country);
    fill(&mut keys.external_id, &extra.external_id);
}

#[cfg(test)]
mod tests {
    use super::*;
    use audience_core::events::{InvalidField, OrderLineItem};
    use audience_core::normalize::Hashed;

    fn order() -> OrderEvent {
        let json = serde_json::json!({
            "order_id": 820982911946154508_u64,
            "customer_id": 115310627314723954_u64,
            "name": "#1001",
            "test": false,
            "created_at": "2026-12-01T10:00:00-05:00",
            "processed_at": "2026-12-01T10:00:05-05:00",
            "updated_at": "2026-12-01T10:00:05-05:00",
            "cancelled_at": null,
            "financial_status": "paid",
            "source_name": "web",
            "currency": "USD",
            "total_price": "1000.10",
            "line_items": [
                {"line_item_id": 1, "product_id": 632910392, "variant_id": 808950810, "quantity": 2, "price": "199.00"},
                {"line_item_id": 2, "product_id": 632910392, "variant_id": 49148385, "quantity": 1, "price": "602.10"},
                {"line_item_id": 3, "product_id": null, "variant_id": null, "sku": "GIFT", "quantity": 1, "price": "0.00"},
                {"line_item_id": 4, "product_id": null, "variant_id": null, "quantity": 1, "price": null}
            ],
            "buyer_accepts_marketing": true,
            "user_data": {"em": [Hashed::of("jon@example.com").as_str()],
                          "invalid_fields": [{"field": "ph", "source": "phone", "reason": "invalid phone"}]},
            "client_ip_address": "192.0.2.7",
            "client_user_agent": "Mozilla/5.0",
            "fbc": "fb.1.1764601200000.IwAR2F4",
            "fbp": "fb.1.1596403881668.1116446470",
            "event_source_url": "https://shop.myshopify.com/products/x"
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_web_order_is_a_website_purchase_with_the_browser_context() {
        let p = build_purchase("shop.myshopify.com", &order(), None);
        assert_eq!(p.event_id, "order_820982911946154508");
        assert_eq!(p.event_name, "Purchase");
        assert_eq!(p.event_time, 1_796_137_205);
        assert_eq!(p.action_source, ActionSource::Website);
        assert_eq!(
            p.event_source_url.as_deref(),
            Some("https://shop.myshopify.com/products/x")
        );
        assert_eq!(p.user_data.client_ip_address.as_deref(), Some("192.0.2.7"));
        assert_eq!(
            p.user_data.client_user_agent.as_deref(),
            Some("Mozilla/5.0")
        );
        assert_eq!(
            p.user_data.fbc.as_deref(),
            Some("fb.1.1764601200000.IwAR2F4")
        );
        assert_eq!(
            p.user_data.fbp.as_deref(),
            Some("fb.1.1596403881668.1116446470")
        );
        assert!(p.user_data.hashed.invalid_fields.is_empty());
        assert_eq!(p.custom_data.value.to_string(), "1000.10");
        assert_eq!(p.custom_data.currency.as_str(), "USD");
        assert_eq!(p.custom_data.num_items, 5);
        assert_eq!(p.custom_data.content_ids, ["632910392", "GIFT", "line_4"]);
        assert_eq!(p.custom_data.contents.len(), 4);
        assert_eq!(
            p.custom_data.contents[1]
                .item_price
                .map(|m| m.to_string())
                .as_deref(),
            Some("602.10")
        );
        assert_eq!(p.custom_data.order_id, "820982911946154508");
        assert_eq!(p.custom_data.content_type, "product");
    }

    #[test]
    fn action_source_follows_the_sales_channel() {
        assert_eq!(action_source(Some("web"), true), ActionSource::Website);
        assert_eq!(
            action_source(Some("web"), false),
            ActionSource::SystemGenerated
        );
        assert_eq!(
            action_source(Some("pos"), true),
            ActionSource::PhysicalStore
        );
        assert_eq!(
            action_source(Some("pos"), false),
            ActionSource::PhysicalStore
        );
        assert_eq!(
            action_source(Some("shopify_draft_order"), false),
            ActionSource::SystemGenerated
        );
        assert_eq!(
            action_source(Some("1234567"), true),
            ActionSource::SystemGenerated
        );
        assert_eq!(action_source(None, true), ActionSource::SystemGenerated);
    }

    #[test]
    fn a_web_order_without_landing_page_points_at_the_shop_and_others_have_no_url() {
        let mut o = order();
        o.event_source_url = None;
        let p = build_purchase("shop.myshopify.com", &o, None);
        assert_eq!(
            p.event_source_url.as_deref(),
            Some("https://shop.myshopify.com/")
        );
        o.source_name = Some("pos".into());
        let p = build_purchase("shop.myshopify.com", &o, None);
        assert_eq!(p.action_source, ActionSource::PhysicalStore);
        assert_eq!(p.event_source_url, None);
        o.processed_at = None;
        assert_eq!(
            build_purchase("s.myshopify.com", &o, None).event_time,
            1_796_137_200
        );
    }

    #[test]
    fn customer_keys_complete_the_order_keys() {
        let stored = UserData {
            em: vec![
                Hashed::of("jon@example.com"),
                Hashed::of("john@example.com"),
            ],
            ph: vec![Hashed::of("15551234567")],
            ln: Some(Hashed::of("snow")),
            invalid_fields: vec![InvalidField {
                field: "zp".into(),
                source: "zip".into(),
                reason: "x".into(),
            }],
            ..UserData::default()
        };
        let p = build_purchase("shop.myshopify.com", &order(), Some(&stored));
        let keys = &p.user_data.hashed;
        assert_eq!(
            keys.em,
            [
                Hashed::of("jon@example.com"),
                Hashed::of("john@example.com")
            ]
        );
        assert_eq!(keys.ph, [Hashed::of("15551234567")]);
        assert_eq!(keys.ln, Some(Hashed::of("snow")));
        assert!(keys.invalid_fields.is_empty());
    }

    #[test]
    fn line_items_without_product_use_the_variant() {
        let mut o = order();
        o.line_items = vec![OrderLineItem {
            line_item_id: 9,
            product_id: None,
            variant_id: Some(77),
            sku: None,
            title: None,
            quantity: 3,
            price: None,
        }];
        let p = build_purchase("s.myshopify.com", &o, None);
        assert_eq!(p.custom_data.content_ids, ["77"]);
        assert_eq!(p.custom_data.num_items, 3);
    }
}
