//! Fault injection through `POST /_sim/faults`.

use std::time::{Duration, Instant};

use audience_meta_sim::{AccountConfig, SimConfig};
use serde_json::{Value, json};

use crate::helpers::{AD_ACCOUNT, PIXEL, TOKEN, graph_error, purchase, sha, spawn_sim, spawn_with};

#[tokio::test]
async fn http_500_fails_the_next_n_requests_then_the_pixel_recovers() {
    let app = spawn_sim().await;
    app.fault(json!({"target": format!("pixel:{PIXEL}"), "kind": "http_500", "count": 2}))
        .await;

    let first = app.post_events(json!([purchase(app.now(), "a")])).await;
    let second = app.post_events(json!([purchase(app.now(), "a")])).await;
    let third = app.post_events(json!([purchase(app.now(), "a")])).await;

    assert_eq!(first.status(), 500);
    assert!(
        first
            .text()
            .await
            .unwrap()
            .contains("500 Internal Server Error")
    );
    assert_eq!(second.status(), 500);
    assert_eq!(third.status(), 200);
    assert_eq!(app.accepted_events(PIXEL).await.len(), 1);
    assert_eq!(app.stats().await["faults_served"], 2);
}

#[tokio::test]
async fn http_500_may_name_another_5xx_status() {
    let app = spawn_sim().await;
    app.fault(
        json!({"target": format!("pixel:{PIXEL}"), "kind": "http_500", "count": 1, "status": 503}),
    )
    .await;

    let response = app.post_events(json!([purchase(app.now(), "a")])).await;

    assert_eq!(response.status(), 503);
}

#[tokio::test]
async fn a_timeout_fault_hangs_past_the_clients_timeout_then_answers_504() {
    let app = spawn_with(SimConfig {
        timeout_fault_seconds: 1.0,
        ..SimConfig::default().with_account(AccountConfig::new(TOKEN, AD_ACCOUNT, [PIXEL]))
    })
    .await;
    app.fault(json!({"target": format!("pixel:{PIXEL}"), "kind": "timeout", "count": 2}))
        .await;
    let url = app.graph(&format!("{PIXEL}/events"));
    let body = json!({"data": [purchase(app.now(), "a")], "access_token": TOKEN});

    let impatient = app
        .client
        .post(&url)
        .timeout(Duration::from_millis(300))
        .json(&body)
        .send()
        .await;
    let started = Instant::now();
    let patient = app.client.post(&url).json(&body).send().await.unwrap();

    assert!(impatient.unwrap_err().is_timeout());
    assert_eq!(patient.status(), 504);
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert!(app.accepted_events(PIXEL).await.is_empty());
    let after = app.client.post(&url).json(&body).send().await.unwrap();
    assert_eq!(after.status(), 200);
}

#[tokio::test]
async fn a_transient_fault_answers_code_1_or_2_with_is_transient() {
    let app = spawn_sim().await;
    app.fault(json!({"target": format!("pixel:{PIXEL}"), "kind": "transient", "code": 1}))
        .await;
    app.fault(json!({"target": format!("pixel:{PIXEL}"), "kind": "transient"}))
        .await;

    let first = app.post_events(json!([purchase(app.now(), "a")])).await;
    let second = app.post_events(json!([purchase(app.now(), "a")])).await;

    let (status, error) = graph_error(first).await;
    assert_eq!(
        (status, error["code"].clone(), error["is_transient"].clone()),
        (500, json!(1), json!(true))
    );
    let (status, error) = graph_error(second).await;
    assert_eq!(
        (status, error["code"].clone(), error["is_transient"].clone()),
        (500, json!(2), json!(true))
    );
}

#[tokio::test]
async fn a_token_expired_fault_answers_190_with_subcode_463() {
    let app = spawn_sim().await;
    app.fault(json!({"target": format!("ad_account:act_{AD_ACCOUNT}"), "kind": "token_expired", "count": 1}))
        .await;

    let response = app.post_events(json!([purchase(app.now(), "a")])).await;

    let (_, error) = graph_error(response).await;
    assert_eq!(error["code"], 190);
    assert_eq!(error["error_subcode"], 463);
    assert_eq!(error["type"], "OAuthException");
}

#[tokio::test]
async fn a_throttle_fault_on_an_audience_answers_80003_with_usage_at_one_hundred_percent() {
    let app = spawn_sim().await;
    let id = app.create_audience("A").await;
    app.fault(json!({"target": format!("audience:{id}"), "kind": "throttle", "estimated_time_to_regain_access": 7}))
        .await;

    let response = app
        .add_users(&id, json!({"schema": "EMAIL_SHA256", "data": [sha("a")]}))
        .await;

    let buc: Value = serde_json::from_str(
        response.headers()["x-business-use-case-usage"]
            .to_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(buc[AD_ACCOUNT][0]["call_count"], 100);
    assert_eq!(buc[AD_ACCOUNT][0]["estimated_time_to_regain_access"], 7);
    let (status, error) = graph_error(response).await;
    assert_eq!((status, error["code"].clone()), (400, json!(80_003)));
    assert!(app.members(&id).await.is_empty());
    assert_eq!(app.stats().await["throttled"], 1);
}

#[tokio::test]
async fn a_throttle_fault_on_a_pixel_answers_17_or_the_code_asked_for() {
    let app = spawn_sim().await;
    app.fault(json!({"target": format!("pixel:{PIXEL}"), "kind": "throttle"}))
        .await;
    app.fault(json!({"target": format!("pixel:{PIXEL}"), "kind": "throttle", "code": 613}))
        .await;

    let first = app.post_events(json!([purchase(app.now(), "a")])).await;
    let second = app.post_events(json!([purchase(app.now(), "a")])).await;

    assert_eq!(graph_error(first).await.1["code"], 17);
    let (_, error) = graph_error(second).await;
    assert_eq!(
        (error["code"].clone(), error["error_subcode"].clone()),
        (json!(613), json!(1_487_742))
    );
}

#[tokio::test]
async fn an_ad_account_fault_hits_its_pixels_and_audiences_but_not_other_accounts() {
    let app = spawn_with(
        SimConfig::default()
            .with_account(AccountConfig::new(TOKEN, AD_ACCOUNT, [PIXEL]))
            .with_account(AccountConfig::new("token-b", "5000", ["6000"])),
    )
    .await;
    let id = app.create_audience("A").await;
    app.fault(
        json!({"target": format!("ad_account:{AD_ACCOUNT}"), "kind": "http_500", "count": 2}),
    )
    .await;

    let other = app
        .post_events_to("6000", "token-b", json!([purchase(app.now(), "x")]))
        .await;
    let pixel = app.post_events(json!([purchase(app.now(), "a")])).await;
    let audience = app
        .add_users(&id, json!({"schema": "EMAIL_SHA256", "data": [sha("a")]}))
        .await;

    assert_eq!(other.status(), 200);
    assert_eq!(pixel.status(), 500);
    assert_eq!(audience.status(), 500);
}

#[tokio::test]
async fn a_fault_for_one_pixel_leaves_another_pixel_alone() {
    let app = spawn_with(SimConfig::default().with_account(AccountConfig::new(
        TOKEN,
        AD_ACCOUNT,
        [PIXEL, "2001"],
    )))
    .await;
    app.fault(json!({"target": "pixel:2001", "kind": "http_500"}))
        .await;

    let response = app.post_events(json!([purchase(app.now(), "a")])).await;

    assert_eq!(response.status(), 200);
    let pending: Value = app
        .client
        .get(app.url("/_sim/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pending["pending"]["pixel:2001"], 1);
}

#[tokio::test]
async fn bad_fault_bodies_are_refused_with_a_reason() {
    let app = spawn_sim().await;
    for body in [
        json!({"target": "pixel:2000", "kind": "meltdown", "count": 1}),
        json!({"target": "campaign:1", "kind": "http_500", "count": 1}),
        json!({"target": "pixel:abc", "kind": "http_500", "count": 1}),
        json!({"target": "pixel:2000", "kind": "http_500", "count": 0}),
        json!({"target": "pixel:2000", "kind": "http_500", "status": 404}),
        json!({"target": "pixel:2000", "kind": "transient", "code": 17}),
        json!({"target": "pixel:2000", "kind": "timeout", "colour": "red"}),
        json!({"kind": "timeout"}),
    ] {
        let response = app.admin_post("faults", body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let reason: Value = response.json().await.unwrap();
        assert!(!reason["error"].as_str().unwrap().is_empty(), "{body}");
    }
    assert_eq!(app.sim.state().pending_faults().len(), 0);
}
