//! Orders: one Conversions API purchase per order whatever mix of order topics arrives, its
//! content, duplicates, out-of-order updates, refunds and cancellations.

use audience_core::dispatch::ActionSource;
use audience_core::normalize::Hashed;
use audience_core::shopify::Topic;
use chrono::TimeDelta;

use crate::helpers::{SHOP, spawn_app};
use crate::shopify::{CustomerSpec, OrderSpec, days_ago, refund};

#[tokio::test]
async fn one_purchase_per_order_whatever_mix_of_order_topics_arrives() {
    let app = spawn_app().await;
    let a = OrderSpec::new(2001, Some(20), "40.00");
    let b = OrderSpec::new(2002, Some(20), "60.00");
    app.send(&[
        a.create(),
        a.paid(),
        a.updated_event(),
        a.create(), // Shopify retried with a new webhook id
        b.paid(),
        b.updated_event(),
        b.create(), // the trigger topic arrives last
        b.paid(),
    ])
    .await;
    let out = app.dispatched().await;
    let ids: Vec<String> = out.purchases().into_iter().map(|p| p.event_id).collect();
    assert_eq!(ids, ["order_2001", "order_2002"]);
    assert!(
        app.order(2001)
            .await
            .expect("order")
            .purchase_emitted_at
            .is_some()
    );
    assert_eq!(
        app.segment_of(20).await,
        ("repeat".into(), 2, "100.00".into())
    );
    app.stop().await;
}

#[tokio::test]
async fn a_web_purchase_carries_what_the_guide_requires_and_nothing_stays_behind() {
    let app = spawn_app().await;
    let mut web = OrderSpec::new(2101, Some(21), "129.90").at(days_ago(1));
    web.user_agent = Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0".into());
    web.browser_ip = Some("203.0.113.9".into());
    web.landing_site = Some("/products/sunglasses?fbclid=IwAR2F4-dbP0l7Mn&utm_source=fb".into());
    web.note_attributes = vec![("_fbp".into(), "fb.1.1596403881668.1116446470".into())];
    app.send(&[CustomerSpec::new(21).create(), web.create()])
        .await;

    let out = app.dispatched().await;
    let purchases = out.purchases();
    assert_eq!(purchases.len(), 1);
    let p = &purchases[0];
    assert_eq!(p.shop_domain, SHOP);
    assert_eq!(p.order_id, 2101);
    assert_eq!(p.event_name, "Purchase");
    assert_eq!(p.event_id, "order_2101");
    assert_eq!(p.event_time, web.processed_at.timestamp());
    assert_eq!(p.action_source, ActionSource::Website);
    assert_eq!(
        p.event_source_url.as_deref(),
        Some("https://test-shop.myshopify.com/products/sunglasses")
    );
    assert_eq!(
        p.user_data.client_ip_address.as_deref(),
        Some("203.0.113.9")
    );
    assert_eq!(
        p.user_data.client_user_agent.as_deref(),
        web.user_agent.as_deref()
    );
    assert_eq!(
        p.user_data.fbc.as_deref(),
        Some(format!("fb.1.{}000.IwAR2F4-dbP0l7Mn", web.processed_at.timestamp()).as_str())
    );
    assert_eq!(
        p.user_data.fbp.as_deref(),
        Some("fb.1.1596403881668.1116446470")
    );
    assert!(
        p.user_data
            .hashed
            .em
            .contains(&Hashed::of("customer21@example.com"))
    );
    assert!(
        p.user_data
            .hashed
            .em
            .contains(&Hashed::of("jon@example.com")),
        "the order's own email too"
    );
    assert_eq!(p.user_data.hashed.external_id, Some(Hashed::of("21")));
    assert_eq!(p.custom_data.value.to_string(), "129.90");
    assert_eq!(p.custom_data.currency.as_str(), "USD");
    assert_eq!(p.custom_data.order_id, "2101");
    assert_eq!(p.custom_data.content_type, "product");
    assert!(!p.custom_data.contents.is_empty());
    assert_eq!(
        p.custom_data.num_items,
        p.custom_data
            .contents
            .iter()
            .map(|c| c.quantity)
            .sum::<u32>()
    );
    assert!(
        p.custom_data.content_ids.iter().all(|id| p
            .custom_data
            .contents
            .iter()
            .any(|c| &c.id == id))
    );

    // The envelope: routing, ids and sequence.
    let message = &out.capi[0];
    assert_eq!(message.routing_key, "capi");
    assert_eq!(message.envelope.topic, "purchase");
    assert_eq!(message.envelope.api_version, "dispatch-v1");
    assert_eq!(
        message.message_id.as_deref(),
        Some(message.envelope.message_id.as_str())
    );
    assert_eq!(
        message.envelope.message_id,
        format!("segmenter-outbox:{}", p.sequence)
    );
    assert!(
        out.audience
            .iter()
            .all(|m| m.routing_key == "audience" && m.envelope.topic == "audience_change")
    );

    // The never-hashed values were only in the outbox row, which is gone.
    assert_eq!(app.outbox_pending().await, 0);
    let customer =
        serde_json::to_string(&app.customer(21).await.expect("customer").user_data).expect("json");
    assert!(!customer.contains("customer21@example.com") && !customer.contains("203.0.113.9"));
    assert!(!format!("{:?}", app.order(2101).await.expect("order")).contains("203.0.113.9"));
    app.stop().await;
}

#[tokio::test]
async fn action_source_follows_the_sales_channel() {
    let app = spawn_app().await;
    let mut pos = OrderSpec::new(2201, None, "15.00");
    pos.source_name = "pos".into();
    let mut draft = OrderSpec::new(2202, None, "16.00");
    draft.source_name = "shopify_draft_order".into();
    let web_without_browser = OrderSpec::new(2203, None, "17.00");
    app.send(&[pos.create(), draft.create(), web_without_browser.create()])
        .await;
    let sources: Vec<(u64, ActionSource, bool)> = app
        .dispatched()
        .await
        .purchases()
        .into_iter()
        .map(|p| (p.order_id, p.action_source, p.event_source_url.is_some()))
        .collect();
    assert_eq!(
        sources,
        [
            (2201, ActionSource::PhysicalStore, false),
            (2202, ActionSource::SystemGenerated, false),
            (2203, ActionSource::SystemGenerated, false),
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn the_shop_setting_decides_which_topic_emits_the_purchase() {
    let app = spawn_app().await;
    app.configure_shop("1000", 180, "orders/paid", "all").await;
    let order = OrderSpec::new(2301, Some(23), "25.00");
    app.send(&[order.create()]).await;
    let out = app.dispatched().await;
    assert!(
        out.purchases().is_empty(),
        "orders/create does not emit under orders/paid"
    );
    assert_eq!(
        app.segment_of(23).await.0,
        "first_time",
        "the order counts all the same"
    );

    app.send(&[order.paid(), order.paid()]).await;
    let out = app.dispatched().await;
    assert_eq!(out.purchases().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_message_changes_nothing() {
    let app = spawn_app().await;
    let create = OrderSpec::new(2401, Some(24), "30.00").create();
    app.send(&[create.clone(), create.clone()]).await; // in one batch
    app.send(std::slice::from_ref(&create)).await; // and in a later one
    assert_eq!(app.metrics.handled_with("duplicate"), 2);
    assert_eq!(
        app.segment_of(24).await,
        ("first_time".into(), 1, "30.00".into())
    );
    assert_eq!(app.transitions(24).await.len(), 1);
    let out = app.dispatched().await;
    assert_eq!(out.purchases().len(), 1);
    assert_eq!(
        out.changes_of(24),
        ["+all_customers", "+purchasers", "+first_time"]
    );
    app.stop().await;
}

#[tokio::test]
async fn an_update_older_than_the_stored_one_changes_nothing() {
    let app = spawn_app().await;
    let mut newer = CustomerSpec::new(25);
    newer.email = "new@example.com".into();
    let mut older = newer.clone();
    older.email = "old@example.com".into();
    older.updated_at -= TimeDelta::hours(1);
    app.send(&[newer.update(), older.update()]).await;
    assert_eq!(app.metrics.handled_with("stale"), 1);
    let keys = app.customer(25).await.expect("customer").user_data;
    assert_eq!(keys["em"][0], Hashed::of("new@example.com").as_str());

    // The cancellation (newer) arrives before the creation (older): the order stays cancelled,
    // does not count, and the late trigger topic emits no purchase.
    let order = OrderSpec::new(2501, Some(25), "80.00").at(days_ago(3));
    let cancelled = order.clone().cancelled(days_ago(2));
    app.send(&[cancelled.updated_event(), order.create()]).await;
    let stored = app.order(2501).await.expect("order");
    assert!(stored.cancelled_at.is_some());
    assert_eq!(app.segment_of(25).await, ("prospect".into(), 0, "0".into()));
    assert!(app.dispatched().await.purchases().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn refunds_and_cancellations_move_customers_back() {
    let app = spawn_app().await;
    // vip by one order, then a refund takes the spend under the threshold.
    app.send(&[OrderSpec::new(2601, Some(26), "1200.00").create()])
        .await;
    assert_eq!(app.segment_of(26).await.0, "vip");
    app.send(&[refund(9_2601, 2601, "300.00")]).await;
    assert_eq!(
        app.segment_of(26).await,
        ("first_time".into(), 1, "900.00".into())
    );
    // The same refund again (listed in an order update) is not taken twice.
    let mut with_refund = OrderSpec::new(2601, Some(26), "1200.00").updated(days_ago(1));
    with_refund.refunds = vec![(9_2601, "300.00".into())];
    app.send(&[with_refund.updated_event()]).await;
    assert_eq!(app.segment_of(26).await.2, "900.00");

    // repeat by two orders, then one is cancelled.
    let second = OrderSpec::new(2702, Some(27), "20.00");
    app.send(&[
        OrderSpec::new(2701, Some(27), "10.00").create(),
        second.create(),
    ])
    .await;
    assert_eq!(app.segment_of(27).await.0, "repeat");
    app.send(&[second.clone().cancelled(days_ago(1)).updated_event()])
        .await;
    assert_eq!(
        app.segment_of(27).await,
        ("first_time".into(), 1, "10.00".into())
    );

    // A refund that arrives before its order counts once the order does.
    app.send(&[
        refund(9_2801, 2801, "5.00"),
        OrderSpec::new(2801, Some(28), "15.00").create(),
    ])
    .await;
    assert_eq!(app.segment_of(28).await.2, "10.00");

    // A full refund keeps the order counted (it was bought) with zero spend.
    app.send(&[refund(9_2802, 2801, "50.00")]).await;
    assert_eq!(
        app.segment_of(28).await,
        ("first_time".into(), 1, "0.00".into())
    );

    let out = app.dispatched().await;
    assert_eq!(
        out.changes_of(26),
        [
            "+all_customers",
            "+purchasers",
            "+vip",
            "-vip",
            "+first_time"
        ]
    );
    assert!(
        out.changes_of(27)
            .ends_with(&["-repeat".to_owned(), "+first_time".to_owned()])
    );
    let causes: Vec<String> = app.transitions(26).await.into_iter().map(|t| t.2).collect();
    assert_eq!(causes, ["orders/create", "refunds/create"]);
    assert_eq!(
        out.purchases().len(),
        4,
        "a cancellation does not recall a purchase"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_guest_order_sends_a_purchase_and_keeps_no_customer() {
    let app = spawn_app().await;
    app.send(&[OrderSpec::new(2901, None, "9.99").event(Topic::OrdersCreate)])
        .await;
    let out = app.dispatched().await;
    assert_eq!(out.purchases().len(), 1);
    assert!(out.audience.is_empty());
    assert!(app.order(2901).await.expect("order").customer_id.is_none());
    app.stop().await;
}
