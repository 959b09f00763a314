//! Bad messages and database trouble: a poison message goes to the dead-letter queue with its
//! reason while the next message is processed; a message breaking an invariant does not sink
//! its batch; a transient database error sends the message to a retry tier, from which it comes
//! back and is applied.

use std::time::Duration;

use audience_core::normalize::Hashed;
use audience_segmenter::db::locks::lock_key;
use audience_segmenter::state::Subject;
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::helpers::{drain_raw, eventually, queue_depth, spawn_app, spawn_app_with};
use crate::shopify::{CustomerSpec, OrderSpec};

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn a_poison_message_goes_to_the_dlq_with_its_reason_and_the_next_one_is_processed() {
    let app = spawn_app().await;
    let before = app.metrics.handled();
    app.publish_raw("shopify.orders.create", b"\x00not json at all{", "poison-1")
        .await;
    let mut future_version = serde_json::to_value(CustomerSpec::new(51).create()).expect("json");
    future_version["schema_version"] = serde_json::json!(99);
    app.publish_raw(
        "shopify.customers.create",
        &serde_json::to_vec(&future_version).expect("json"),
        "poison-2",
    )
    .await;
    app.publish(&CustomerSpec::new(50).create()).await;
    app.wait_handled(before + 3).await;

    assert_eq!(
        app.segment_of(50).await.0,
        "prospect",
        "the message after the poison was processed"
    );
    assert!(app.customer(51).await.is_none());
    let dead = drain_raw(&format!("{}.dlq", app.segmenter_queue())).await;
    assert_eq!(dead.len(), 2);
    assert_eq!(dead[0].body, b"\x00not json at all{");
    assert_eq!(dead[0].message_id.as_deref(), Some("poison-1"));
    assert_eq!(header(&dead[0].headers, "x-error-kind"), Some("decode"));
    assert!(
        header(&dead[0].headers, "x-error-reason")
            .is_some_and(|r| r.contains("malformed envelope")),
        "{:?}",
        dead[0].headers
    );
    assert_eq!(
        header(&dead[0].headers, "x-original-queue"),
        Some(app.segmenter_queue().as_str())
    );
    assert!(
        header(&dead[1].headers, "x-error-reason").is_some_and(|r| r.contains("schema_version 99"))
    );
    assert_eq!(app.metrics.handled_with("dead_lettered"), 2);
    assert_eq!(
        queue_depth(&app.segmenter_queue()).await,
        0,
        "nothing is redelivered in a loop"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_message_breaking_an_invariant_is_dead_lettered_and_its_batch_still_commits() {
    let app = spawn_app().await;
    let too_big = OrderSpec::new(u64::MAX - 1, Some(52), "10.00").create();
    app.send(&[
        CustomerSpec::new(52).create(),
        too_big,
        OrderSpec::new(5201, Some(52), "10.00").create(),
    ])
    .await;
    assert_eq!(
        app.segment_of(52).await,
        ("first_time".into(), 1, "10.00".into())
    );
    let dead = drain_raw(&format!("{}.dlq", app.segmenter_queue())).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(header(&dead[0].headers, "x-error-kind"), Some("invalid"));
    assert!(
        header(&dead[0].headers, "x-error-reason")
            .is_some_and(|r| r.contains("does not fit a bigint"))
    );
    // Its id was released: a corrected replay would be applied.
    let mut conn = app.conn().await;
    let id =
        serde_json::from_slice::<serde_json::Value>(&dead[0].body).expect("json")["message_id"]
            .as_str()
            .expect("id")
            .to_owned();
    assert!(
        !audience_segmenter::db::processed::is_processed(&mut conn, &id)
            .await
            .expect("q")
    );
    drop(conn);
    app.stop().await;
}

#[tokio::test]
async fn a_lock_timeout_sends_the_message_to_a_retry_tier_and_it_is_applied_later() {
    let app = spawn_app_with(Box::new(|s| s.lock_timeout = Duration::from_millis(200))).await;
    app.send(&[CustomerSpec::new(53).create()]).await;
    let shop_id = app.shop().await.shop_id;

    // Another transaction holds customer 53's lock (as a slow replica would).
    let url = app.db.as_ref().expect("db").url.clone();
    let mut holder = AsyncPgConnection::establish(&url).await.expect("connect");
    let key = lock_key(shop_id, Subject::Customer, 53);
    holder
        .batch_execute(&format!("BEGIN; SELECT pg_advisory_xact_lock({key});"))
        .await
        .expect("lock");

    let mut changed = CustomerSpec::new(53);
    changed.email = "changed@example.com".into();
    changed.updated_at += chrono::TimeDelta::minutes(1);
    app.send(&[changed.update(), CustomerSpec::new(54).create()])
        .await;
    assert_eq!(
        app.segment_of(54).await.0,
        "prospect",
        "the other message of the batch went through"
    );
    assert_eq!(app.metrics.handled_with("retried"), 1);
    let retry_queue = format!("{}.retry.0", app.segmenter_queue());
    assert!(
        eventually(Duration::from_secs(2), || async {
            queue_depth(&retry_queue).await == 1
        })
        .await
    );

    holder.batch_execute("ROLLBACK").await.expect("unlock");
    // The retry tier (5 s) sends it back, and this time it applies.
    let applied = eventually(Duration::from_secs(20), || async {
        app.customer(53)
            .await
            .is_some_and(|c| c.user_data["em"][0] == Hashed::of("changed@example.com").as_str())
    })
    .await;
    assert!(applied, "the retried message was applied");
    app.stop().await;
}
