//! Budgets per ad account and app, Meta's usage headers, and throttling windows.

use audience_meta_sim::{AccountConfig, SimConfig};
use reqwest::Response;
use serde_json::{Value, json};

use crate::helpers::{AD_ACCOUNT, PIXEL, TOKEN, TestSim, graph_error, purchase, sha, spawn_with};

async fn spawn_with_budget(calls_per_hour: u64) -> TestSim {
    spawn_with(SimConfig::default().with_account(
        AccountConfig::new(TOKEN, AD_ACCOUNT, [PIXEL]).with_calls_per_hour(calls_per_hour),
    ))
    .await
}

fn header_json(response: &Response, name: &str) -> Value {
    let text = response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("header {name} is present"))
        .to_str()
        .unwrap();
    serde_json::from_str(text).unwrap_or_else(|e| panic!("header {name} is JSON: {e}"))
}

#[tokio::test]
async fn every_answer_carries_the_three_usage_headers_in_metas_shapes() {
    let app = spawn_with_budget(4).await;

    let ok = app.post_events(json!([purchase(app.now(), "a")])).await;
    let rejected = app.post_events(json!([{"event_name": "Purchase"}])).await;
    let bad_token = app.post_events_to(PIXEL, "nobody", json!([])).await;

    for response in [&ok, &rejected, &bad_token] {
        let app_usage = header_json(response, "x-app-usage");
        for key in ["call_count", "total_cputime", "total_time"] {
            assert!(app_usage[key].is_u64(), "{key} in {app_usage}");
        }
        assert!(header_json(response, "x-ad-account-usage")["acc_id_util_pct"].is_u64());
        assert!(header_json(response, "x-business-use-case-usage").is_object());
    }
    let buc = header_json(&rejected, "x-business-use-case-usage");
    let entry = &buc[AD_ACCOUNT][0];
    assert_eq!(entry["type"], "ads_management");
    assert_eq!(entry["call_count"], 50);
    assert_eq!(entry["estimated_time_to_regain_access"], 0);
    for key in ["total_cputime", "total_time"] {
        assert!(entry[key].is_u64());
    }
    let account = header_json(&rejected, "x-ad-account-usage");
    assert_eq!(account["acc_id_util_pct"], 50);
    let reset = account["reset_time_duration"].as_i64().unwrap();
    assert!((3_590..=3_600).contains(&reset), "{reset}");
}

#[tokio::test]
async fn audience_calls_count_under_the_custom_audience_use_case() {
    let app = spawn_with_budget(10).await;
    let id = app.create_audience("A").await;

    let response = app
        .add_users(&id, json!({"schema": "EMAIL_SHA256", "data": [sha("a")]}))
        .await;

    let buc = header_json(&response, "x-business-use-case-usage");
    assert_eq!(buc[AD_ACCOUNT][0]["type"], "custom_audience");
    assert_eq!(buc[AD_ACCOUNT][0]["call_count"], 20);
}

#[tokio::test]
async fn at_one_hundred_percent_events_fail_with_code_17_until_the_window_has_passed() {
    let app = spawn_with_budget(3).await;
    for i in 0..3 {
        let response = app
            .post_events(json!([purchase(app.now(), &format!("o{i}"))]))
            .await;
        assert_eq!(response.status(), 200, "call {i}");
    }

    let throttled = app.post_events(json!([purchase(app.now(), "o3")])).await;

    let buc = header_json(&throttled, "x-business-use-case-usage");
    assert_eq!(buc[AD_ACCOUNT][0]["call_count"], 100);
    let regain = buc[AD_ACCOUNT][0]["estimated_time_to_regain_access"]
        .as_i64()
        .unwrap();
    assert!((59..=60).contains(&regain), "{regain}");
    let (status, error) = graph_error(throttled).await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], 17);
    assert_eq!(error["error_subcode"], 2_446_079);
    assert_eq!(error["is_transient"], true);
    assert_eq!(app.accepted_events(PIXEL).await.len(), 3);

    // Still closed half an hour later, open once the hour is over, with usage back to a third.
    app.set_clock(30 * 60).await;
    let still = app.post_events(json!([purchase(app.now(), "o4")])).await;
    assert_eq!(graph_error(still).await.1["code"], 17);
    app.set_clock(3_600).await;
    let reopened = app.post_events(json!([purchase(app.now(), "o5")])).await;
    assert_eq!(reopened.status(), 200);
    assert_eq!(
        header_json(&reopened, "x-ad-account-usage")["acc_id_util_pct"],
        33
    );
    assert_eq!(app.stats().await["throttled"], 2);
}

#[tokio::test]
async fn at_one_hundred_percent_audience_calls_fail_with_code_80003() {
    let app = spawn_with_budget(2).await;
    let id = app.create_audience("A").await;
    app.add_users(&id, json!({"schema": "EMAIL_SHA256", "data": [sha("a")]}))
        .await;

    let throttled = app
        .add_users(&id, json!({"schema": "EMAIL_SHA256", "data": [sha("b")]}))
        .await;

    let buc = header_json(&throttled, "x-business-use-case-usage");
    assert!(
        buc[AD_ACCOUNT][0]["estimated_time_to_regain_access"]
            .as_i64()
            .unwrap()
            >= 59
    );
    let (status, error) = graph_error(throttled).await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], 80_003);
    assert_eq!(app.members(&id).await.len(), 1);
}

#[tokio::test]
async fn throttling_one_ad_account_leaves_another_untouched() {
    let app = spawn_with(
        SimConfig::default()
            .with_account(AccountConfig::new(TOKEN, AD_ACCOUNT, [PIXEL]).with_calls_per_hour(1))
            .with_account(AccountConfig::new("token-b", "5000", ["6000"]).with_calls_per_hour(1)),
    )
    .await;
    app.post_events(json!([purchase(app.now(), "a")])).await;

    let throttled = app.post_events(json!([purchase(app.now(), "b")])).await;
    let other = app
        .post_events_to("6000", "token-b", json!([purchase(app.now(), "c")]))
        .await;

    assert_eq!(graph_error(throttled).await.1["code"], 17);
    assert_eq!(other.status(), 200);
    assert_eq!(
        header_json(&other, "x-ad-account-usage")["acc_id_util_pct"],
        100
    );
}

#[tokio::test]
async fn the_app_budget_spans_ad_accounts_and_fails_with_code_4() {
    let app = spawn_with(SimConfig {
        app_calls_per_hour: 2,
        ..SimConfig::default()
            .with_account(AccountConfig::new(TOKEN, AD_ACCOUNT, [PIXEL]))
            .with_account(AccountConfig::new("token-b", "5000", ["6000"]))
    })
    .await;
    app.post_events(json!([purchase(app.now(), "a")])).await;
    let second = app
        .post_events_to("6000", "token-b", json!([purchase(app.now(), "b")]))
        .await;
    assert_eq!(header_json(&second, "x-app-usage")["call_count"], 100);

    let third = app.post_events(json!([purchase(app.now(), "c")])).await;

    let (status, error) = graph_error(third).await;
    assert_eq!((status, error["code"].clone()), (400, json!(4)));
}

#[tokio::test]
async fn a_shorter_configured_window_reopens_sooner() {
    let app = spawn_with(SimConfig {
        rate_limit_window_seconds: 60,
        ..SimConfig::default()
            .with_account(AccountConfig::new(TOKEN, AD_ACCOUNT, [PIXEL]).with_calls_per_hour(1))
    })
    .await;
    app.post_events(json!([purchase(app.now(), "a")])).await;
    let throttled = app.post_events(json!([purchase(app.now(), "b")])).await;
    assert_eq!(
        header_json(&throttled, "x-business-use-case-usage")[AD_ACCOUNT][0]["estimated_time_to_regain_access"],
        1
    );

    app.set_clock(61).await;
    let reopened = app.post_events(json!([purchase(app.now(), "c")])).await;

    assert_eq!(reopened.status(), 200);
}
