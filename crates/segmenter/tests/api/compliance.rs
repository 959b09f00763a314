//! Compliance and the shop lifecycle: redaction, deletion, data requests, shop redaction,
//! uninstall and reinstall.

use audience_core::normalize::Hashed;
use audience_segmenter::db::schema::{
    customers, data_requests, orders, outbox, refunds, segment_transitions, tombstones,
};
use chrono::{TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

use crate::helpers::{TestApp, spawn_app};
use crate::shopify::{
    CustomerSpec, OrderSpec, app_uninstalled, customers_delete, customers_redact, data_request,
    refund, shop_redact,
};

/// Rows that mention customer `id` (or its orders), table by table.
async fn rows_about(app: &TestApp, id: i64, orders_of: &[i64]) -> Vec<(&'static str, i64)> {
    let mut conn = app.conn().await;
    let c: i64 = customers::table
        .filter(customers::customer_id.eq(id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("q");
    let o: i64 = orders::table
        .filter(
            orders::customer_id
                .eq(id)
                .or(orders::order_id.eq_any(orders_of)),
        )
        .count()
        .get_result(&mut conn)
        .await
        .expect("q");
    let r: i64 = refunds::table
        .filter(refunds::order_id.eq_any(orders_of))
        .count()
        .get_result(&mut conn)
        .await
        .expect("q");
    let t: i64 = segment_transitions::table
        .filter(segment_transitions::customer_id.eq(id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("q");
    let x: i64 = outbox::table
        .filter(outbox::customer_id.eq(id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("q");
    let d: i64 = data_requests::table
        .filter(data_requests::customer_id.eq(id))
        .count()
        .get_result(&mut conn)
        .await
        .expect("q");
    vec![
        ("customers", c),
        ("orders", o),
        ("refunds", r),
        ("segment_transitions", t),
        ("outbox", x),
        ("data_requests", d),
    ]
}

fn nothing() -> Vec<(&'static str, i64)> {
    vec![
        ("customers", 0),
        ("orders", 0),
        ("refunds", 0),
        ("segment_transitions", 0),
        ("outbox", 0),
        ("data_requests", 0),
    ]
}

#[tokio::test]
async fn customers_redact_leaves_no_row_of_the_customer_and_emits_removals() {
    let app = spawn_app().await;
    app.send(&[
        CustomerSpec::new(30).create(),
        OrderSpec::new(3001, Some(30), "1500.00").create(),
        refund(9_3001, 3001, "10.00"),
        OrderSpec::new(3002, None, "5.00").create(), // a guest order listed in the request
        data_request(30),
        CustomerSpec::new(31).create(), // a bystander
    ])
    .await;
    let before = app.dispatched().await;
    assert!(before.changes_of(30).contains(&"+vip".to_owned()));
    assert_ne!(rows_about(&app, 30, &[3001, 3002]).await, nothing());

    app.send(&[customers_redact(30, &[3002])]).await;

    // Once the removals are published (they are the last trace), nothing is left.
    let out = app.dispatched().await;
    assert_eq!(rows_about(&app, 30, &[3001, 3002]).await, nothing());
    assert_eq!(
        out.changes_of(30),
        ["-all_customers", "-purchasers", "-vip"]
    );
    let removal = out
        .audience
        .iter()
        .find(|m| {
            matches!(&m.envelope.payload,
        audience_core::dispatch::DispatchMessage::AudienceChange(c) if c.customer_id == 30)
        })
        .expect("a removal");
    let audience_core::dispatch::DispatchMessage::AudienceChange(change) =
        &removal.envelope.payload
    else {
        panic!("an audience change")
    };
    assert!(
        change
            .user
            .em
            .contains(&Hashed::of("customer30@example.com")),
        "removed with the keys it was added with"
    );
    assert!(app.customer(31).await.is_some(), "other customers stay");

    // Tombstones keep the ids, so a late webhook brings nothing back.
    let mut conn = app.conn().await;
    let stones: Vec<(String, i64)> = tombstones::table
        .select((tombstones::subject, tombstones::subject_id))
        .order((tombstones::subject, tombstones::subject_id))
        .load(&mut conn)
        .await
        .expect("q");
    assert_eq!(
        stones,
        [
            ("customer".into(), 30),
            ("order".into(), 3001),
            ("order".into(), 3002)
        ]
    );
    drop(conn);
    let mut late = CustomerSpec::new(30);
    late.updated_at = Utc::now();
    app.send(&[
        late.update(),
        OrderSpec::new(3001, Some(30), "1500.00").updated_event(),
        OrderSpec::new(3003, Some(30), "1.00").create(),
    ])
    .await;
    assert_eq!(app.metrics.handled_with("tombstoned"), 3);
    assert_eq!(rows_about(&app, 30, &[3001, 3002, 3003]).await, nothing());
    let out = app.dispatched().await;
    assert!(out.capi.is_empty() && out.audience.is_empty(), "{out:?}");
    app.stop().await;
}

#[tokio::test]
async fn customers_delete_tombstones_the_customer_and_leaves_every_audience() {
    let app = spawn_app().await;
    app.send(&[CustomerSpec::new(32).create()]).await;
    let _ = app.dispatched().await;
    app.send(&[customers_delete(32)]).await;
    assert!(app.customer(32).await.is_none());
    assert_eq!(
        app.dispatched().await.changes_of(32),
        ["-all_customers", "-prospect"]
    );
    let mut again = CustomerSpec::new(32);
    again.updated_at = Utc::now();
    app.send(&[again.create()]).await;
    assert!(
        app.customer(32).await.is_none(),
        "a late create does not bring the customer back"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_data_request_stores_an_export_of_what_is_held() {
    let app = spawn_app().await;
    app.send(&[
        CustomerSpec::new(33).create(),
        OrderSpec::new(3301, Some(33), "42.00").create(),
        refund(9_3301, 3301, "2.00"),
        data_request(33),
    ])
    .await;
    let mut conn = app.conn().await;
    let shop_id = app.shop().await.shop_id;
    let exports = audience_segmenter::db::compliance::data_requests_of(&mut conn, shop_id)
        .await
        .expect("q");
    assert_eq!(exports.len(), 1);
    let (customer, export) = &exports[0];
    assert_eq!(*customer, Some(33));
    let held = &export["customers"][0];
    assert_eq!(held["customer"]["segment"], "first_time");
    assert_eq!(held["customer"]["spent"], "40.00");
    assert_eq!(held["orders"][0]["order_id"], 3301);
    assert_eq!(held["refunds"][0]["amount"], "2.00");
    assert_eq!(held["segment_history"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        held["customer"]["hashed_match_keys"]["em"][0],
        Hashed::of("customer33@example.com").as_str()
    );
    assert_eq!(export["data_request_id"], 9999);
    let text = export.to_string();
    assert!(
        !text.contains("customer33@example.com"),
        "hashes only: {text}"
    );
    drop(conn);
    app.stop().await;
}

#[tokio::test]
async fn shop_redact_deletes_everything_of_the_shop() {
    let app = spawn_app().await;
    app.send(&[
        CustomerSpec::new(34).create(),
        OrderSpec::new(3401, Some(34), "12.00").create(),
        refund(9_3401, 3401, "1.00"),
        customers_redact(35, &[]),
        data_request(34),
    ])
    .await;
    let _ = app.dispatched().await;
    app.send(&[shop_redact()]).await;
    let mut conn = app.conn().await;
    let counts: Vec<i64> = vec![
        customers::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("q"),
        orders::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("q"),
        refunds::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("q"),
        segment_transitions::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("q"),
        outbox::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("q"),
        data_requests::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("q"),
        tombstones::table
            .count()
            .get_result(&mut conn)
            .await
            .expect("q"),
    ];
    drop(conn);
    assert_eq!(counts, [0, 0, 0, 0, 0, 0, 0]);
    let shop = app.shop().await;
    assert!(shop.redacted_at.is_some());
    assert_eq!(shop.shopify_shop_id, Some(954_889));

    // An event triggered before the redaction (a late retry) changes nothing.
    let mut late = CustomerSpec::new(36).create();
    late.triggered_at = Some(Utc::now() - TimeDelta::hours(1));
    app.send(&[late]).await;
    assert!(app.customer(36).await.is_none());
    app.stop().await;
}

#[tokio::test]
async fn app_uninstalled_stops_dispatch_until_an_event_shows_a_reinstall() {
    let app = spawn_app().await;
    app.send(&[CustomerSpec::new(37).create()]).await;
    let _ = app.dispatched().await;
    app.send(&[app_uninstalled()]).await;
    let shop = app.shop().await;
    assert!(shop.uninstalled_at.is_some());
    assert_eq!(shop.shopify_shop_id, Some(548_380_009));

    // Triggered before the uninstall: ignored, nothing dispatched.
    let mut before = OrderSpec::new(3701, Some(37), "30.00").create();
    before.triggered_at = Some(Utc::now() - TimeDelta::minutes(5));
    app.send(&[before]).await;
    assert_eq!(app.metrics.handled_with("shop_inactive"), 1);
    assert!(app.order(3701).await.is_none());
    let out = app.dispatched().await;
    assert!(out.capi.is_empty() && out.audience.is_empty());

    // Triggered after it: the app was installed again.
    let after = OrderSpec::new(3702, Some(37), "30.00").create();
    app.send(&[after]).await;
    assert!(app.shop().await.uninstalled_at.is_none());
    let out = app.dispatched().await;
    assert_eq!(out.purchases().len(), 1);
    assert_eq!(
        out.changes_of(37),
        ["-prospect", "+purchasers", "+first_time"]
    );
    app.stop().await;
}
