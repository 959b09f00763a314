//! The outbox relay: rows committed but not published (a crash between commit and publish)
//! are published by the next relay, and removed once confirmed.

use std::time::Duration;

use audience_messaging::Publisher;
use audience_segmenter::metrics::Metrics;
use audience_segmenter::relay::Relay;

use crate::helpers::{spawn_app_with, start};
use crate::shopify::{CustomerSpec, OrderSpec};

#[tokio::test]
async fn rows_a_crash_left_in_the_outbox_are_published_and_removed_by_the_relay() {
    // A segmenter whose relay never runs: it commits, then "crashes" before publishing.
    let app = spawn_app_with(Box::new(|s| s.relay_enabled = false)).await;
    app.send(&[
        CustomerSpec::new(40).create(),
        OrderSpec::new(4001, Some(40), "10.00").create(),
    ])
    .await;
    let pending = app.outbox_pending().await;
    // +all_customers +prospect; then the purchase and -prospect +purchasers +first_time.
    assert_eq!(pending, 6);
    assert!(
        app.drain_capi().await.is_empty() && app.drain_audience().await.is_empty(),
        "nothing published yet"
    );
    let (db, prefix) = app.halt().await;

    // A relay of its own publishes what was left, in order, and deletes it.
    {
        let pool = audience_segmenter::db::pool(&db.url, 2).expect("pool");
        let broker = audience_messaging::Broker::start(audience_messaging::BrokerSettings::new(
            crate::helpers::AMQP_URL,
            prefix.clone(),
            "relay-test",
        ));
        assert!(broker.wait_ready(Duration::from_secs(20)).await);
        let relay = Relay::new(
            pool.clone(),
            Publisher::new(broker.clone(), Duration::from_secs(5)),
            2, // several rounds
            Duration::from_secs(1),
            Metrics::new().expect("metrics"),
        );
        assert_eq!(relay.drain().await.expect("relay drains"), 6);
        assert_eq!(relay.drain().await.expect("nothing left"), 0);
        broker.close().await;
    }

    // A restarted segmenter finds nothing left to publish, and the messages are on the queues.
    let app = start(db, prefix, Box::new(|_| {})).await;
    assert_eq!(app.outbox_pending().await, 0);
    let out = crate::helpers::Dispatched {
        capi: app.drain_capi().await,
        audience: app.drain_audience().await,
    };
    assert_eq!(out.purchases().len(), 1);
    assert_eq!(
        out.changes_of(40),
        [
            "+all_customers",
            "+prospect",
            "-prospect",
            "+purchasers",
            "+first_time"
        ]
    );
    let sequences: Vec<u64> = out
        .audience
        .iter()
        .map(|m| match &m.envelope.payload {
            audience_core::dispatch::DispatchMessage::AudienceChange(c) => c.sequence,
            audience_core::dispatch::DispatchMessage::Purchase(p) => p.sequence,
        })
        .collect();
    assert!(sequences.iter().all(|s| *s > 0));
    app.stop().await;
}

#[tokio::test]
async fn a_restarted_segmenter_publishes_what_its_predecessor_left() {
    let app = spawn_app_with(Box::new(|s| s.relay_enabled = false)).await;
    app.send(&[CustomerSpec::new(41).create()]).await;
    assert_eq!(app.outbox_pending().await, 2);
    let (db, prefix) = app.halt().await;
    let app = start(
        db,
        prefix,
        Box::new(|s| s.relay_interval = Duration::from_millis(200)),
    )
    .await;
    let out = app.dispatched().await;
    assert_eq!(out.changes_of(41), ["+all_customers", "+prospect"]);
    app.stop().await;
}
