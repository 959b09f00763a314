//! Broker outages, slow confirmations and graceful shutdown.

use std::time::{Duration, Instant};

use crate::helpers::{ChaosProxy, Spawn, fixture, spawn_app_with};

#[tokio::test]
async fn broker_down_answers_503_fast_and_recovers_without_restarting_ingest() {
    let proxy = ChaosProxy::start(crate::helpers::AMQP_HOST).await;
    let app = spawn_app_with(Spawn {
        amqp_addr: proxy.address(),
        ..Spawn::default()
    })
    .await;
    app.wait_ready().await;
    let body = fixture("customers__create/sample.json");
    assert_eq!(
        app.post_webhook("customers/create", &body).await.status(),
        200
    );

    proxy.cut();
    // Until the manager notices, a publish may fail on the dead channel; either way 503.
    let started = Instant::now();
    let response = app.post_webhook("customers/create", &body).await;
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "within Shopify's budget"
    );
    assert!(response.headers().contains_key("retry-after"));
    let ready = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);

    proxy.restore();
    assert!(
        app.broker.wait_ready(Duration::from_secs(20)).await,
        "reconnected"
    );
    assert_eq!(
        app.post_webhook("customers/create", &body).await.status(),
        200
    );
    assert_eq!(
        app.drain_segmenter_queue().await.len(),
        2,
        "both accepted webhooks are stored"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_confirmation_slower_than_the_timeout_answers_503_within_shopifys_budget() {
    let proxy = ChaosProxy::start(crate::helpers::AMQP_HOST).await;
    let app = spawn_app_with(Spawn {
        amqp_addr: proxy.address(),
        confirm_timeout: Some(Duration::from_millis(800)),
        ..Spawn::default()
    })
    .await;
    app.wait_ready().await;
    proxy.set_delay(Duration::from_millis(2500));
    let body = fixture("customers__create/sample.json");
    let started = Instant::now();
    let response = app.post_webhook("customers/create", &body).await;
    assert_eq!(response.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    proxy.set_delay(Duration::ZERO);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn shutdown_drains_in_flight_webhooks_and_exits_cleanly() {
    let proxy = ChaosProxy::start(crate::helpers::AMQP_HOST).await;
    let app = spawn_app_with(Spawn {
        amqp_addr: proxy.address(),
        ..Spawn::default()
    })
    .await;
    app.wait_ready().await;
    let body = fixture("customers__create/sample.json");
    // Every broker answer now takes 1 s, so the next webhook stays in flight that long.
    proxy.set_delay(Duration::from_millis(1000));
    let client = app.client.clone();
    let url = format!("{}/webhooks/shopify", app.address);
    let sig = audience_ingest::signature::sign(crate::helpers::SECRET.as_bytes(), &body);
    let in_flight = tokio::spawn(async move {
        client
            .post(url)
            .header("X-Shopify-Topic", "customers/create")
            .header("X-Shopify-Hmac-Sha256", sig)
            .header("X-Shopify-Shop-Domain", "test-shop.myshopify.com")
            .header("X-Shopify-API-Version", "2026-10")
            .header("X-Shopify-Webhook-Id", "in-flight-1")
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.shutdown.cancel();
    let status = in_flight
        .await
        .expect("task")
        .expect("the in-flight request got an answer");
    assert_eq!(
        status, 200,
        "the in-flight webhook was confirmed and answered"
    );
    proxy.set_delay(Duration::ZERO);
    let address = app.address.clone();
    let prefix = app.prefix.clone();
    let mut app = app;
    let server = app.server.take().expect("server");
    server.await.expect("task").expect("ingest exits cleanly");
    // No longer accepting.
    let after = reqwest::Client::new()
        .get(format!("{address}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "the listener is closed after shutdown");
    // The drained webhook is in the queue.
    let received = app.drain_segmenter_queue().await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].message_id.as_deref(), Some("in-flight-1"));
    crate::helpers::cleanup(&prefix).await;
}
