//! Tokens and object visibility: codes 104, 190 and 100/33.

use audience_meta_sim::{AccountConfig, SimConfig};
use serde_json::json;

use crate::helpers::{AD_ACCOUNT, PIXEL, TOKEN, graph_error, purchase, spawn_sim, spawn_with};

#[tokio::test]
async fn an_unknown_token_is_refused_with_code_190_and_nothing_is_recorded() {
    let app = spawn_sim().await;

    let response = app
        .post_events_to(PIXEL, "EAAB-not-a-token", json!([purchase(app.now(), "a")]))
        .await;

    let (status, error) = graph_error(response).await;
    assert_eq!(status, 401);
    assert_eq!(error["code"], 190);
    assert_eq!(error["type"], "OAuthException");
    assert!(app.accepted_events(PIXEL).await.is_empty());
}

#[tokio::test]
async fn a_request_without_token_is_refused_with_code_104() {
    let app = spawn_sim().await;

    let response = app
        .client
        .post(app.graph(&format!("{PIXEL}/events")))
        .json(&json!({"data": [purchase(app.now(), "a")]}))
        .send()
        .await
        .unwrap();

    let (status, error) = graph_error(response).await;
    assert_eq!((status, error["code"].clone()), (400, json!(104)));
}

#[tokio::test]
async fn a_token_past_its_expiry_on_the_simulator_clock_is_refused_with_190_and_463() {
    let app = spawn_sim().await;
    let expires_at = app.now() + 3_600;
    app.sim
        .state()
        .register_account(
            &AccountConfig::new("short-lived", AD_ACCOUNT, [PIXEL]).with_expires_at(expires_at),
        )
        .unwrap();
    let before = app
        .post_events_to(PIXEL, "short-lived", json!([purchase(app.now(), "a")]))
        .await;
    assert_eq!(before.status(), 200);

    app.set_clock(3_601).await;
    let after = app
        .post_events_to(PIXEL, "short-lived", json!([purchase(app.now(), "b")]))
        .await;

    let (status, error) = graph_error(after).await;
    assert_eq!(status, 401);
    assert_eq!(error["code"], 190);
    assert_eq!(error["error_subcode"], 463);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Session has expired")
    );
}

#[tokio::test]
async fn a_bearer_token_in_the_authorization_header_is_accepted() {
    let app = spawn_sim().await;

    let response = app
        .client
        .post(app.graph(&format!("{PIXEL}/events")))
        .bearer_auth(TOKEN)
        .json(&json!({"data": [purchase(app.now(), "a")]}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_pixel_of_another_ad_account_or_an_unknown_pixel_is_unsupported_with_100_33() {
    let app = spawn_with(
        SimConfig::default()
            .with_account(AccountConfig::new(TOKEN, AD_ACCOUNT, [PIXEL]))
            .with_account(AccountConfig::new("token-b", "5000", ["6000"])),
    )
    .await;

    for pixel in ["6000", "7777"] {
        let response = app
            .post_events_to(pixel, TOKEN, json!([purchase(app.now(), "a")]))
            .await;
        let (status, error) = graph_error(response).await;
        assert_eq!(status, 400, "{pixel}");
        assert_eq!(error["code"], 100, "{pixel}");
        assert_eq!(error["error_subcode"], 33, "{pixel}");
        assert_eq!(error["type"], "GraphMethodException", "{pixel}");
        assert!(error["message"].as_str().unwrap().contains(pixel));
    }
    assert!(app.accepted_events("6000").await.is_empty());
}

#[tokio::test]
async fn creating_an_audience_in_an_ad_account_the_token_lacks_is_unsupported() {
    let app = spawn_sim().await;

    let response = app
        .client
        .post(app.graph("act_999/customaudiences"))
        .form(&[("name", "x"), ("access_token", TOKEN)])
        .send()
        .await
        .unwrap();

    let (status, error) = graph_error(response).await;
    assert_eq!((status, error["error_subcode"].clone()), (400, json!(33)));
}
