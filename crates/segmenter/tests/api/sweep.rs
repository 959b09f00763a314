//! The time sweep: customers whose last counted order crosses the window move to `lapsed`,
//! with the same transitions and audience changes as a message would cause.

use std::time::Duration;

use chrono::TimeDelta;

use crate::helpers::{eventually, spawn_app_with};
use crate::shopify::{CustomerSpec, OrderSpec, days_ago};

#[tokio::test]
async fn the_scheduled_sweep_moves_customers_past_the_window_to_lapsed() {
    let app = spawn_app_with(Box::new(|s| s.sweep_interval = Duration::from_secs(1))).await;
    app.send(&[
        OrderSpec::new(6001, Some(60), "25.00")
            .at(days_ago(170))
            .create(),
        OrderSpec::new(6101, Some(61), "25.00")
            .at(days_ago(100))
            .create(),
        CustomerSpec::new(62).create(),
    ])
    .await;
    assert_eq!(app.segment_of(60).await.0, "first_time");
    let _ = app.dispatched().await;

    // Eleven days later customer 60's order is 181 days old; customer 61's is 111.
    app.clock.advance(TimeDelta::days(11));
    let moved = eventually(Duration::from_secs(10), || async {
        app.segment_of(60).await.0 == "lapsed"
    })
    .await;
    assert!(moved, "the sweep moved customer 60");
    assert_eq!(app.segment_of(61).await.0, "first_time");
    assert_eq!(
        app.segment_of(62).await.0,
        "prospect",
        "a customer without orders never lapses"
    );
    let transitions = app.transitions(60).await;
    assert_eq!(
        transitions.last(),
        Some(&(Some("first_time".into()), "lapsed".into(), "sweep".into()))
    );
    let out = app.dispatched().await;
    assert_eq!(out.changes_of(60), ["-first_time", "+lapsed"]);
    assert!(out.changes_of(61).is_empty());

    // A new order brings the customer back.
    app.send(&[OrderSpec::new(6002, Some(60), "25.00")
        .at(days_ago(1) + TimeDelta::days(11))
        .create()])
        .await;
    assert_eq!(app.segment_of(60).await.0, "repeat");
    app.stop().await;
}
