//! Deduplication: the same `event_name` + `event_id` for a pixel within 48 hours counts once.

use serde_json::{Value, json};

use crate::helpers::{PIXEL, purchase, spawn_sim};

fn event_ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"]["event_id"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn the_same_name_and_id_twice_is_received_twice_and_kept_once() {
    let app = spawn_sim().await;
    let event = purchase(app.now() - 30, "order_42");

    let first: Value = app
        .post_events(json!([event.clone()]))
        .await
        .json()
        .await
        .unwrap();
    let second: Value = app.post_events(json!([event])).await.json().await.unwrap();

    assert_eq!(first["events_received"], 1);
    assert_eq!(second["events_received"], 1);
    assert_eq!(event_ids(&app.accepted_events(PIXEL).await), ["order_42"]);
    let stats = app.stats().await;
    assert_eq!(stats["events"]["received"], 2);
    assert_eq!(stats["events"]["deduplicated"], 1);
    assert_eq!(stats["events"]["accepted"], 1);
}

#[tokio::test]
async fn duplicates_inside_one_batch_are_kept_once() {
    let app = spawn_sim().await;
    let now = app.now();

    let body: Value = app
        .post_events(json!([
            purchase(now, "x"),
            purchase(now - 1, "x"),
            purchase(now, "y")
        ]))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(body["events_received"], 3);
    assert_eq!(event_ids(&app.accepted_events(PIXEL).await), ["x", "y"]);
}

#[tokio::test]
async fn the_same_id_under_another_event_name_is_not_a_duplicate() {
    let app = spawn_sim().await;
    let mut lead = purchase(app.now(), "order_1");
    lead["event_name"] = json!("AddToCart");

    app.post_events(json!([purchase(app.now(), "order_1")]))
        .await;
    app.post_events(json!([lead])).await;

    assert_eq!(app.accepted_events(PIXEL).await.len(), 2);
}

#[tokio::test]
async fn events_without_event_id_are_never_deduplicated() {
    let app = spawn_sim().await;
    let mut event = purchase(app.now(), "unused");
    event.as_object_mut().unwrap().remove("event_id");

    app.post_events(json!([event.clone()])).await;
    app.post_events(json!([event])).await;

    assert_eq!(app.accepted_events(PIXEL).await.len(), 2);
    assert_eq!(app.stats().await["events"]["deduplicated"], 0);
}

#[tokio::test]
async fn deduplication_holds_for_47_hours_and_ends_after_48() {
    let app = spawn_sim().await;
    app.post_events(json!([purchase(app.now(), "order_9")]))
        .await;

    app.set_clock(47 * 3_600).await;
    app.post_events(json!([purchase(app.now(), "order_9")]))
        .await;
    assert_eq!(app.accepted_events(PIXEL).await.len(), 1);

    app.set_clock(48 * 3_600 + 1).await;
    app.post_events(json!([purchase(app.now(), "order_9")]))
        .await;
    assert_eq!(app.accepted_events(PIXEL).await.len(), 2);
    assert_eq!(app.stats().await["events"]["deduplicated"], 1);
}

#[tokio::test]
async fn a_rejected_batch_does_not_mark_its_ids_as_seen() {
    let app = spawn_sim().await;
    let now = app.now();
    let mut bad = purchase(now, "bad");
    bad["action_source"] = json!("nowhere");

    let rejected = app
        .post_events(json!([purchase(now, "order_5"), bad]))
        .await;
    let retried = app.post_events(json!([purchase(now, "order_5")])).await;

    assert_eq!(rejected.status(), 400);
    assert_eq!(retried.status(), 200);
    assert_eq!(event_ids(&app.accepted_events(PIXEL).await), ["order_5"]);
}
