//! The segment rules end to end, at every boundary: events in, customer state and audience
//! changes out.

use chrono::TimeDelta;

use crate::helpers::spawn_app;
use crate::shopify::{CustomerSpec, OrderSpec, days_ago};

#[tokio::test]
async fn a_new_customer_is_a_prospect_in_all_customers_and_prospect() {
    let app = spawn_app().await;
    app.send(&[CustomerSpec::new(1).create()]).await;

    assert_eq!(app.segment_of(1).await, ("prospect".into(), 0, "0".into()));
    assert_eq!(
        app.transitions(1).await,
        [(None, "prospect".into(), "customers/create".into())]
    );
    let out = app.dispatched().await;
    assert_eq!(out.changes_of(1), ["+all_customers", "+prospect"]);
    assert!(out.capi.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn zero_one_and_two_counted_orders_make_prospect_first_time_and_repeat() {
    let app = spawn_app().await;
    app.send(&[CustomerSpec::new(7).create()]).await;
    assert_eq!(app.segment_of(7).await.0, "prospect");

    app.send(&[OrderSpec::new(701, Some(7), "10.00").create()])
        .await;
    assert_eq!(
        app.segment_of(7).await,
        ("first_time".into(), 1, "10.00".into())
    );

    app.send(&[OrderSpec::new(702, Some(7), "20.50").create()])
        .await;
    assert_eq!(
        app.segment_of(7).await,
        ("repeat".into(), 2, "30.50".into())
    );

    let transitions: Vec<String> = app.transitions(7).await.into_iter().map(|t| t.1).collect();
    assert_eq!(transitions, ["prospect", "first_time", "repeat"]);
    let out = app.dispatched().await;
    assert_eq!(
        out.changes_of(7),
        [
            "+all_customers",
            "+prospect",
            "-prospect",
            "+purchasers",
            "+first_time",
            "-first_time",
            "+repeat"
        ]
    );
    assert_eq!(out.purchases().len(), 2);
    app.stop().await;
}

#[tokio::test]
async fn spend_just_under_vip_min_spent_is_not_vip_and_at_it_is() {
    let app = spawn_app().await;
    app.send(&[
        OrderSpec::new(801, Some(8), "999.99").create(),
        OrderSpec::new(901, Some(9), "1000.00").create(),
        OrderSpec::new(1001, Some(10), "999.99").create(),
    ])
    .await;
    assert_eq!(
        app.segment_of(8).await,
        ("first_time".into(), 1, "999.99".into())
    );
    assert_eq!(app.segment_of(9).await, ("vip".into(), 1, "1000.00".into()));

    // A second order of one cent takes customer 10 from just under to exactly the threshold.
    app.send(&[OrderSpec::new(1002, Some(10), "0.01").create()])
        .await;
    assert_eq!(
        app.segment_of(10).await,
        ("vip".into(), 2, "1000.00".into())
    );
    let out = app.dispatched().await;
    assert_eq!(out.changes_of(9), ["+all_customers", "+purchasers", "+vip"]);
    assert!(
        out.changes_of(10)
            .ends_with(&["-first_time".to_owned(), "+vip".to_owned()])
    );
    app.stop().await;
}

#[tokio::test]
async fn last_order_just_inside_the_window_is_not_lapsed_and_just_outside_is() {
    let app = spawn_app().await;
    let inside = days_ago(180) + TimeDelta::hours(1);
    let outside = days_ago(180) - TimeDelta::hours(1);
    app.send(&[
        OrderSpec::new(1101, Some(11), "50.00").at(inside).create(),
        OrderSpec::new(1201, Some(12), "50.00").at(outside).create(),
        // Lapsed beats vip.
        OrderSpec::new(1301, Some(13), "5000.00")
            .at(outside)
            .create(),
    ])
    .await;
    assert_eq!(app.segment_of(11).await.0, "first_time");
    assert_eq!(app.segment_of(12).await.0, "lapsed");
    assert_eq!(app.segment_of(13).await.0, "lapsed");
    let out = app.dispatched().await;
    assert_eq!(
        out.changes_of(12),
        ["+all_customers", "+purchasers", "+lapsed"]
    );
    app.stop().await;
}

#[tokio::test]
async fn test_and_cancelled_orders_are_never_counted_nor_sent() {
    let app = spawn_app().await;
    let mut test_order = OrderSpec::new(1401, Some(14), "500.00");
    test_order.test = true;
    let cancelled = OrderSpec::new(1402, Some(14), "700.00").cancelled(days_ago(1));
    app.send(&[test_order.create(), cancelled.create()]).await;

    assert_eq!(app.segment_of(14).await, ("prospect".into(), 0, "0".into()));
    assert!(
        app.order(1401)
            .await
            .expect("stored")
            .purchase_emitted_at
            .is_none()
    );
    let out = app.dispatched().await;
    assert!(out.purchases().is_empty(), "{:?}", out.purchases());
    assert_eq!(out.changes_of(14), ["+all_customers", "+prospect"]);
    app.stop().await;
}

#[tokio::test]
async fn thresholds_are_read_from_the_shop_settings() {
    let app = spawn_app().await;
    app.configure_shop("100", 30, "orders/create", "all").await;
    app.send(&[
        OrderSpec::new(1501, Some(15), "100.00").create(),
        OrderSpec::new(1601, Some(16), "99.99")
            .at(days_ago(31))
            .create(),
        OrderSpec::new(1701, Some(17), "99.99")
            .at(days_ago(29))
            .create(),
    ])
    .await;
    assert_eq!(app.segment_of(15).await.0, "vip");
    assert_eq!(app.segment_of(16).await.0, "lapsed");
    assert_eq!(app.segment_of(17).await.0, "first_time");
    app.stop().await;
}

#[tokio::test]
async fn marketing_only_keeps_customers_who_declined_out_of_every_audience() {
    let app = spawn_app().await;
    app.configure_shop("1000", 180, "orders/create", "marketing_only")
        .await;
    let mut declined = CustomerSpec::new(18);
    declined.accepts_marketing = Some(false);
    let mut accepted = CustomerSpec::new(19);
    accepted.accepts_marketing = Some(true);
    app.send(&[declined.create(), accepted.create()]).await;
    let out = app.dispatched().await;
    assert!(out.changes_of(18).is_empty(), "{:?}", out.changes_of(18));
    assert_eq!(out.changes_of(19), ["+all_customers", "+prospect"]);

    // Changing their mind later brings them in; declining again takes them out.
    let mut later = accepted.clone();
    later.accepts_marketing = Some(false);
    later.updated_at += TimeDelta::minutes(5);
    declined.accepts_marketing = Some(true);
    declined.updated_at += TimeDelta::minutes(5);
    app.send(&[declined.update(), later.update()]).await;
    let out = app.dispatched().await;
    assert_eq!(out.changes_of(18), ["+all_customers", "+prospect"]);
    assert_eq!(out.changes_of(19), ["-all_customers", "-prospect"]);
    assert_eq!(
        app.segment_of(19).await.0,
        "prospect",
        "the segment is kept, only the audiences are left"
    );
    app.stop().await;
}
