//! The `/_sim/` API: accounts, stats, reset, clock, and answers to unknown paths.

use serde_json::{Value, json};

use crate::helpers::{PIXEL, TOKEN, graph_error, purchase, sha, spawn_sim};

#[tokio::test]
async fn an_account_registered_over_http_can_send_events_within_its_budget() {
    let app = spawn_sim().await;

    let registered = app
        .admin_post(
            "accounts",
            json!({"access_token": "new-token", "ad_account_id": "act_8000", "pixel_ids": ["9000"], "calls_per_hour": 1}),
        )
        .await;
    let sent = app
        .post_events_to("9000", "new-token", json!([purchase(app.now(), "a")]))
        .await;
    let throttled = app
        .post_events_to("9000", "new-token", json!([purchase(app.now(), "b")]))
        .await;

    assert_eq!(registered.status(), 200);
    assert_eq!(sent.status(), 200);
    assert_eq!(graph_error(throttled).await.1["code"], 17);
    assert_eq!(app.accepted_events("9000").await.len(), 1);
}

#[tokio::test]
async fn bad_account_bodies_are_refused_with_a_reason() {
    let app = spawn_sim().await;
    for body in [
        json!({"access_token": "t", "pixel_ids": ["1"]}),
        json!({"access_token": "t", "ad_account_id": "abc", "pixel_ids": ["1"]}),
        json!({"access_token": "", "ad_account_id": "1", "pixel_ids": ["1"]}),
        json!({"access_token": "t", "ad_account_id": "1", "pixel_ids": ["x"]}),
        json!({"access_token": "t", "ad_account_id": "1", "pixel_ids": [], "calls_per_hour": 0}),
        json!({"access_token": "t", "ad_account_id": "1", "pixel_ids": [], "tier": "gold"}),
        json!({"access_token": "t", "ad_account_id": "1", "pixel_ids": [PIXEL]}),
    ] {
        let response = app.admin_post("accounts", body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let reason: Value = response.json().await.unwrap();
        assert!(!reason["error"].as_str().unwrap().is_empty(), "{body}");
    }
    let not_json = app
        .client
        .post(app.url("/_sim/accounts"))
        .body("access_token=t")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), 400);
}

#[tokio::test]
async fn stats_count_requests_by_endpoint_and_status() {
    let app = spawn_sim().await;
    app.post_events(json!([purchase(app.now(), "a")])).await;
    app.post_events(json!([purchase(app.now(), "b")])).await;
    app.post_events(json!([{"event_name": "Purchase"}])).await;
    let id = app.create_audience("A").await;
    app.add_users(&id, json!({"schema": "EMAIL_SHA256", "data": [sha("a")]}))
        .await;
    app.remove_users(&id, json!({"schema": "EMAIL_SHA256", "data": [sha("a")]}))
        .await;

    let stats = app.stats().await;

    let requests = &stats["requests"];
    assert_eq!(
        requests["POST /{pixel_id}/events"],
        json!({"200": 2, "400": 1})
    );
    assert_eq!(
        requests["POST /act_{ad_account_id}/customaudiences"],
        json!({"200": 1})
    );
    assert_eq!(requests["POST /{audience_id}/users"], json!({"200": 1}));
    assert_eq!(requests["DELETE /{audience_id}/users"], json!({"200": 1}));
    assert_eq!(stats["events"]["received"], 2);
    assert_eq!(stats["events"]["rejected"], 1);
    assert_eq!(stats["throttled"], 0);
}

#[tokio::test]
async fn reset_forgets_data_and_keeps_accounts() {
    let app = spawn_sim().await;
    app.post_events(json!([purchase(app.now(), "a")])).await;
    let id = app.create_audience("A").await;
    app.fault(json!({"target": format!("pixel:{PIXEL}"), "kind": "http_500"}))
        .await;
    app.set_clock(3_600).await;

    let reset = app.admin_post("reset", json!({})).await;

    assert_eq!(reset.status(), 200);
    assert!(app.accepted_events(PIXEL).await.is_empty());
    assert_eq!(app.stats().await["events"]["received"], 0);
    assert_eq!(app.sim.state().clock_offset(), 0);
    let gone = app
        .client
        .get(app.url(&format!("/_sim/audiences/{id}/members")))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    // The token still works and the fault is gone.
    let after = app.post_events(json!([purchase(app.now(), "a")])).await;
    assert_eq!(after.status(), 200);
}

#[tokio::test]
async fn the_clock_endpoint_moves_the_simulator_time_and_refuses_bad_bodies() {
    let app = spawn_sim().await;
    let before = app.now();

    let moved: Value = app
        .admin_post("clock", json!({"offset_seconds": 86_400}))
        .await
        .json()
        .await
        .unwrap();
    let bad = app
        .admin_post("clock", json!({"offset_seconds": "tomorrow"}))
        .await;
    let unknown_field = app.admin_post("clock", json!({"offset": 5})).await;

    assert_eq!(moved["offset_seconds"], 86_400);
    let now = moved["now"].as_i64().unwrap();
    assert!(
        (before + 86_400..before + 86_400 + 5).contains(&now),
        "{now}"
    );
    assert_eq!(bad.status(), 400);
    assert_eq!(unknown_field.status(), 400);
}

#[tokio::test]
async fn unknown_paths_answer_4xx_with_a_reason() {
    let app = spawn_sim().await;
    let cases = [
        ("GET", "/"),
        ("GET", "/healthz"),
        ("POST", "/2000/events"),
        ("GET", "/_sim/nothing"),
        ("GET", "/_sim/pixels/1234/events"),
        ("GET", "/_sim/audiences/1234/members"),
        ("DELETE", "/_sim/stats"),
        ("POST", "/v26.0/2000/conversions"),
        ("POST", "/v26.0/2000/events/extra"),
        ("GET", "/v26.0/2000/events"),
        ("PUT", "/v26.0/2000/events"),
    ];
    for (method, path) in cases {
        let response = app
            .client
            .request(method.parse().unwrap(), app.url(path))
            .query(&[("access_token", TOKEN)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{method} {path}: {status}");
        if !path.starts_with("/_sim") {
            assert!(
                response.headers().contains_key("x-app-usage"),
                "{method} {path}"
            );
        }
        let body: Value = response
            .json()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let reason = body["error"]["message"].as_str().or(body["error"].as_str());
        assert!(
            reason.is_some_and(|r| !r.is_empty()),
            "{method} {path}: {body}"
        );
    }
}

#[tokio::test]
async fn any_graph_version_is_served() {
    let app = spawn_sim().await;
    for version in ["v19.0", "v25.0", "v27.0", "v100.1"] {
        let response = app
            .client
            .post(app.url(&format!("/{version}/{PIXEL}/events")))
            .json(&json!({"data": [purchase(app.now(), version)], "access_token": TOKEN}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{version}");
    }
}
