//! `POST /{pixel_id}/events`: acceptance, and every documented rejection.

use serde_json::{Value, json};

use crate::helpers::{PIXEL, graph_error, purchase, sha, spawn_sim};

#[tokio::test]
async fn a_valid_purchase_is_answered_in_metas_shape_and_recorded() {
    let app = spawn_sim().await;
    let event = purchase(app.now() - 60, "order_1");

    let response = app.post_events(json!([event.clone()])).await;

    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["events_received"], 1);
    assert_eq!(body["messages"], json!([]));
    assert_eq!(body["fbtrace_id"].as_str().unwrap().len(), 23);
    let recorded = app.accepted_events(PIXEL).await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0]["event"], event);
    assert_eq!(recorded[0]["fbtrace_id"], body["fbtrace_id"]);
}

#[tokio::test]
async fn accepted_events_are_listed_in_arrival_order() {
    let app = spawn_sim().await;
    let now = app.now();
    for id in ["b", "a", "c"] {
        let response = app.post_events(json!([purchase(now - 10, id)])).await;
        assert_eq!(response.status(), 200);
    }

    let ids: Vec<Value> = app
        .accepted_events(PIXEL)
        .await
        .iter()
        .map(|e| e["event"]["event_id"].clone())
        .collect();

    assert_eq!(ids, vec![json!("b"), json!("a"), json!("c")]);
}

#[tokio::test]
async fn a_thousand_events_are_accepted_and_a_thousand_and_one_are_refused_with_code_100() {
    let app = spawn_sim().await;
    let now = app.now();
    let batch = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| purchase(now - 5, &format!("o{i}")))
                .collect(),
        )
    };

    let full = app.post_events(batch(1_000)).await;
    let over = app.post_events(batch(1_001)).await;

    assert_eq!(full.status(), 200);
    let body: Value = full.json().await.unwrap();
    assert_eq!(body["events_received"], 1_000);
    let (status, error) = graph_error(over).await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], 100);
    assert!(error["message"].as_str().unwrap().contains("1000"));
    assert_eq!(app.accepted_events(PIXEL).await.len(), 1_000);
}

/// One invalid event at index 1 behind a valid one: the whole request is refused with code 100,
/// the subcode, and a message naming index 1; nothing of it is recorded.
async fn assert_batch_rejected(mutate: impl Fn(&mut Value, i64), subcode: u64, case: &str) {
    let app = spawn_sim().await;
    let now = app.now();
    let mut bad = purchase(now - 60, "bad");
    mutate(&mut bad, now);

    let response = app
        .post_events(json!([purchase(now - 60, "good"), bad]))
        .await;

    let (status, error) = graph_error(response).await;
    assert_eq!(status, 400, "{case}");
    assert_eq!(error["code"], 100, "{case}: {error}");
    assert_eq!(error["error_subcode"], subcode, "{case}: {error}");
    assert_eq!(error["type"], "OAuthException", "{case}");
    assert_eq!(error["is_transient"], false, "{case}");
    let message = error["error_user_msg"].as_str().unwrap();
    assert!(message.contains("index 1"), "{case}: {message}");
    assert!(error["fbtrace_id"].is_string(), "{case}");
    assert!(app.accepted_events(PIXEL).await.is_empty(), "{case}");
    let stats = app.stats().await;
    assert_eq!(stats["events"]["rejected"], 2, "{case}");
    assert_eq!(stats["events"]["received"], 0, "{case}");
}

#[tokio::test]
async fn an_event_without_event_name_rejects_the_batch() {
    assert_batch_rejected(
        |e, _| drop(e.as_object_mut().unwrap().remove("event_name")),
        2_804_901,
        "no name",
    )
    .await;
    assert_batch_rejected(|e, _| e["event_name"] = json!(""), 2_804_901, "empty name").await;
}

#[tokio::test]
async fn an_event_time_that_is_not_unix_seconds_rejects_the_batch() {
    assert_batch_rejected(
        |e, _| drop(e.as_object_mut().unwrap().remove("event_time")),
        2_804_902,
        "no time",
    )
    .await;
    assert_batch_rejected(
        |e, _| e["event_time"] = json!("yesterday"),
        2_804_902,
        "text time",
    )
    .await;
    assert_batch_rejected(
        |e, now| e["event_time"] = json!(now as f64 + 0.5),
        2_804_902,
        "fractional",
    )
    .await;
    assert_batch_rejected(
        |e, now| e["event_time"] = json!(now * 1_000),
        2_804_904,
        "milliseconds",
    )
    .await;
}

#[tokio::test]
async fn an_event_older_than_seven_days_rejects_the_batch_with_subcode_2804003() {
    assert_batch_rejected(
        |e, now| e["event_time"] = json!(now - 7 * 86_400 - 5),
        2_804_003,
        "8 days",
    )
    .await;
}

#[tokio::test]
async fn an_event_in_the_future_beyond_the_skew_rejects_the_batch() {
    assert_batch_rejected(
        |e, now| e["event_time"] = json!(now + 600),
        2_804_904,
        "10 minutes ahead",
    )
    .await;
}

#[tokio::test]
async fn an_event_a_few_seconds_ahead_is_within_the_skew() {
    let app = spawn_sim().await;
    let response = app
        .post_events(json!([purchase(app.now() + 20, "x")]))
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_invalid_or_missing_action_source_rejects_the_batch() {
    assert_batch_rejected(|e, _| e["action_source"] = json!("web"), 2_804_905, "web").await;
    assert_batch_rejected(
        |e, _| drop(e.as_object_mut().unwrap().remove("action_source")),
        2_804_905,
        "none",
    )
    .await;
}

#[tokio::test]
async fn an_event_without_customer_information_rejects_the_batch() {
    assert_batch_rejected(
        |e, _| drop(e.as_object_mut().unwrap().remove("user_data")),
        2_804_906,
        "no user_data",
    )
    .await;
    assert_batch_rejected(
        |e, _| {
            e["action_source"] = json!("system_generated");
            e["user_data"] = json!({"em": [], "ph": ""});
        },
        2_804_906,
        "empty identifiers",
    )
    .await;
}

#[tokio::test]
async fn an_unhashed_contact_field_rejects_the_batch_with_subcode_2804016() {
    assert_batch_rejected(
        |e, _| e["user_data"]["em"] = json!(["joe@example.com"]),
        2_804_016,
        "plain email",
    )
    .await;
    assert_batch_rejected(
        |e, _| e["user_data"]["ph"] = json!("16505551212"),
        2_804_016,
        "plain phone",
    )
    .await;
    assert_batch_rejected(
        |e, _| e["user_data"]["ct"] = json!("newyork"),
        2_804_016,
        "plain city",
    )
    .await;
    assert_batch_rejected(
        |e, _| e["user_data"]["em"] = json!([sha("joe@example.com").to_uppercase()]),
        2_804_016,
        "upper-case hex",
    )
    .await;
    assert_batch_rejected(
        |e, _| e["user_data"]["fn"] = json!(sha("x")[..32]),
        2_804_016,
        "32 hex",
    )
    .await;
}

#[tokio::test]
async fn a_website_event_without_user_agent_or_source_url_rejects_the_batch() {
    assert_batch_rejected(
        |e, _| {
            drop(
                e["user_data"]
                    .as_object_mut()
                    .unwrap()
                    .remove("client_user_agent"),
            )
        },
        2_804_907,
        "no user agent",
    )
    .await;
    assert_batch_rejected(
        |e, _| drop(e.as_object_mut().unwrap().remove("event_source_url")),
        2_804_908,
        "no source url",
    )
    .await;
}

#[tokio::test]
async fn a_malformed_fbc_rejects_the_batch_with_subcode_2804001() {
    assert_batch_rejected(
        |e, _| e["user_data"]["fbc"] = json!("IwAR2F4-dbP0l7Mn1IawQQ"),
        2_804_001,
        "bare fbclid",
    )
    .await;
}

#[tokio::test]
async fn a_purchase_without_numeric_value_rejects_the_batch_with_subcode_2804009() {
    assert_batch_rejected(
        |e, _| drop(e["custom_data"].as_object_mut().unwrap().remove("value")),
        2_804_009,
        "no value",
    )
    .await;
    assert_batch_rejected(
        |e, _| e["custom_data"]["value"] = json!("a lot"),
        2_804_009,
        "text value",
    )
    .await;
}

#[tokio::test]
async fn a_purchase_without_a_valid_currency_rejects_the_batch() {
    assert_batch_rejected(
        |e, _| drop(e["custom_data"].as_object_mut().unwrap().remove("currency")),
        2_804_910,
        "no currency",
    )
    .await;
    assert_batch_rejected(
        |e, _| e["custom_data"]["currency"] = json!("XYZ"),
        2_804_910,
        "XYZ",
    )
    .await;
    assert_batch_rejected(
        |e, _| e["custom_data"]["currency"] = json!("dollars"),
        2_804_910,
        "word",
    )
    .await;
}

#[tokio::test]
async fn an_element_of_data_that_is_not_an_event_rejects_the_batch() {
    assert_batch_rejected(|e, _| *e = json!(17), 2_804_900, "number").await;
}

#[tokio::test]
async fn a_non_website_event_needs_no_user_agent_nor_purchase_fields() {
    let app = spawn_sim().await;
    let event = json!({
        "event_name": "Lead",
        "event_time": app.now() - 100,
        "action_source": "system_generated",
        "user_data": {"external_id": "customer-7"}
    });

    let response = app.post_events(json!([event])).await;

    assert_eq!(response.status(), 200);
    assert_eq!(app.accepted_events(PIXEL).await.len(), 1);
}

#[tokio::test]
async fn physical_store_events_may_be_up_to_sixty_two_days_old() {
    let app = spawn_sim().await;
    let now = app.now();
    let store = |age: i64, id: &str| {
        let mut e = purchase(now - age, id);
        e["action_source"] = json!("physical_store");
        e
    };

    let thirty_days = app.post_events(json!([store(30 * 86_400, "a")])).await;
    let sixty_three_days = app.post_events(json!([store(63 * 86_400, "b")])).await;

    assert_eq!(thirty_days.status(), 200);
    let (status, error) = graph_error(sixty_three_days).await;
    assert_eq!(status, 400);
    assert_eq!(error["error_subcode"], 2_804_003);
    assert!(
        error["error_user_msg"]
            .as_str()
            .unwrap()
            .contains("62 days")
    );
}

#[tokio::test]
async fn moving_the_clock_past_seven_days_makes_an_accepted_event_too_old() {
    let app = spawn_sim().await;
    let event = purchase(app.now() - 6 * 86_400, "late");
    let first = app.post_events(json!([event.clone()])).await;
    assert_eq!(first.status(), 200);

    app.set_clock(2 * 86_400).await;
    let again = app.post_events(json!([event])).await;

    let (status, error) = graph_error(again).await;
    assert_eq!(status, 400);
    assert_eq!(error["error_subcode"], 2_804_003);
}

#[tokio::test]
async fn test_event_code_is_kept_with_the_events() {
    let app = spawn_sim().await;
    let response = app
        .client
        .post(app.graph(&format!("{PIXEL}/events")))
        .json(&json!({
            "data": [purchase(app.now(), "t1")],
            "test_event_code": "TEST4321",
            "access_token": crate::helpers::TOKEN
        }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let recorded = app.accepted_events(PIXEL).await;
    assert_eq!(recorded[0]["test_event_code"], "TEST4321");
}

#[tokio::test]
async fn a_missing_empty_or_unparseable_data_parameter_is_refused_with_code_100() {
    let app = spawn_sim().await;
    let url = app.graph(&format!("{PIXEL}/events"));
    let token = crate::helpers::TOKEN;
    let cases = [
        vec![("access_token", token)],
        vec![("access_token", token), ("data", "[]")],
        vec![("access_token", token), ("data", "[{not json")],
        vec![
            ("access_token", token),
            ("data", "{\"event_name\":\"Purchase\"}"),
        ],
    ];
    for form in cases {
        let response = app.client.post(&url).form(&form).send().await.unwrap();
        let (status, error) = graph_error(response).await;
        assert_eq!(status, 400, "{form:?}");
        assert_eq!(error["code"], 100, "{form:?}");
    }
    assert!(app.accepted_events(PIXEL).await.is_empty());
}
