//! Request bodies exactly as Meta's documentation examples, its official Python SDK and peer
//! integrations send them.

use audience_meta_sim::SimConfig;
use serde_json::{Value, json};

use crate::helpers::{TestSim, graph_error, sha, spawn_with};

const DEV_TOKEN: &str = "dev-token";
const DEV_PIXEL: &str = "2000";

/// Requests captured from facebook-business 26.0.3 (see `fixtures/capture_python_sdk.py`).
const SDK_REQUESTS: &str = include_str!("fixtures/python_sdk_requests.json");
/// The `event_time` the capture used; replaced with a current time before sending.
const CAPTURED_EVENT_TIME: &str = "1700000000";

async fn spawn_dev() -> TestSim {
    spawn_with(SimConfig::dev()).await
}

/// Sends one captured SDK request, substituting the audience id and the event time.
async fn replay(app: &TestSim, name: &str, audience_id: &str) -> reqwest::Response {
    let fixtures: Value = serde_json::from_str(SDK_REQUESTS).unwrap();
    let request = fixtures["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("fixture {name}"));
    let now = app.now().to_string();
    let path = request["path"]
        .as_str()
        .unwrap()
        .replace("{audience_id}", audience_id);
    let query = request["query"]
        .as_str()
        .unwrap()
        .replace(CAPTURED_EVENT_TIME, &now);
    let url = format!("{}{path}?{query}", app.sim.base_url());
    let method: reqwest::Method = request["method"].as_str().unwrap().parse().unwrap();
    let mut builder = app.client.request(method, url);
    if let Some(content_type) = request["content_type"].as_str() {
        builder = builder.header("content-type", content_type);
    }
    if let Some(body) = request["body"].as_str() {
        builder = builder.body(body.replace(CAPTURED_EVENT_TIME, &now));
    }
    builder.send().await.unwrap()
}

#[tokio::test]
async fn the_python_sdks_requests_are_accepted_and_applied_in_sequence() {
    let app = spawn_dev().await;
    let joe = "8830eedd6c6b5ea97d181563a349476ca1bb25ace1f94b5c5e48d9cad727941b";
    let jane = "1fe605dac7f296a5a6b4649aca0155e63c40ef8cfc6ea8212e80f94df84b2fb9";
    assert_eq!(sha("joe@eg.com"), joe);

    // EventRequest.execute(): form body, `data` a JSON array of JSON-encoded events.
    let sent = replay(&app, "capi_purchase", "").await;
    assert_eq!(sent.status(), 200);
    assert_eq!(sent.json::<Value>().await.unwrap()["events_received"], 1);
    let events = app.accepted_events(DEV_PIXEL).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"]["event_id"], "order_1");
    assert_eq!(events[0]["event"]["user_data"]["em"][0], joe);
    // The same order with a test_event_code: received, and deduplicated by event_name + event_id.
    let again = replay(&app, "capi_purchase_with_test_event_code", "").await;
    assert_eq!(again.json::<Value>().await.unwrap()["events_received"], 1);
    assert_eq!(app.accepted_events(DEV_PIXEL).await.len(), 1);

    // AdAccount.create_custom_audience().
    let created: Value = replay(&app, "create_custom_audience", "")
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let read: Value = app
        .client
        .get(app.graph(&id))
        .query(&[
            ("access_token", DEV_TOKEN),
            ("fields", "name,description,customer_file_source"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["name"], "My new CA");
    assert_eq!(read["description"], "People who purchased");

    // add_users / remove_users with EMAIL_SHA256; remove sends its payload in the query string.
    let added: Value = replay(&app, "add_users_email_sha256", &id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(added["num_received"], 2);
    assert_eq!(app.members(&id).await.len(), 2);
    let removed = replay(&app, "remove_users_email_sha256", &id).await;
    assert_eq!(removed.status(), 200);
    assert_eq!(app.members(&id).await, vec![json!({"EMAIL_SHA256": jane})]);

    // Multi-key add with is_raw, EXTERN_ID unhashed.
    let multi: Value = replay(&app, "add_users_multi_key", &id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(multi["num_invalid_entries"], 0);
    assert!(
        app.members(&id)
            .await
            .contains(&json!({"EMAIL": joe, "FN": sha("joe"), "EXTERN_ID": "cust-1"}))
    );

    // add_users with a session object.
    let with_session: Value = replay(&app, "add_users_with_session", &id)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(with_session["session_id"], "9");
    assert_eq!(app.members(&id).await.len(), 3);

    // create_users_replace(): one batch, last_batch_flag true.
    let replaced = replay(&app, "usersreplace_single_batch", &id).await;
    assert_eq!(replaced.status(), 200);
    assert_eq!(app.members(&id).await, vec![json!({"EMAIL_SHA256": joe})]);
}

/// The Conversions API example of Meta's "Using the API" page, sent as `curl -F` sends it.
#[tokio::test]
async fn the_documented_curl_example_is_accepted_as_multipart_form_data() {
    let app = spawn_dev().await;
    let data = format!(
        r#"[
       {{
         "event_name": "Purchase",
         "event_time": {now},
         "user_data": {{
           "em": [
             "309a0a5c3e211326ae75ca18196d301a9bdbd1a882a4d2569511033da23f0abd"
           ],
           "ph": [
             "254aa248acb47dd654ca3ea53f48c2c26d641d23d7e2e93a1ec56258df7674c4",
             "6f4fcb9deaeadc8f9746ae76d97ce1239e98b404efe5da3ee0b7149740f89ad6"
           ],
           "client_ip_address": "123.123.123.123",
           "client_user_agent": "$CLIENT_USER_AGENT",
           "fbc": "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890",
           "fbp": "fb.1.1558571054389.1098115397"
         }},
         "custom_data": {{
           "currency": "usd",
           "value": 123.45,
           "contents": [
             {{
               "id": "product123",
               "quantity": 1,
               "delivery_category": "home_delivery"
             }}
           ]
         }},
         "event_source_url": "http://jaspers-market.com/product/123",
         "action_source": "website"
       }}
     ]"#,
        now = app.now()
    );
    let boundary = "------------------------d74496d66958873e";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{data}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"access_token\"\r\n\r\n{DEV_TOKEN}\r\n\
         --{boundary}--\r\n"
    );

    let response = app
        .client
        .post(app.graph(&format!("{DEV_PIXEL}/events")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    let events = app.accepted_events(DEV_PIXEL).await;
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0]["event"]["custom_data"]["contents"][0]["id"],
        "product123"
    );
}

/// The `/users` example of the Custom Audience Users reference (value-based schema), token in the
/// query string.
#[tokio::test]
async fn the_documented_users_example_is_accepted() {
    let app = spawn_dev().await;
    let id = {
        let body: Value = app
            .client
            .post(app.graph("act_1000/customaudiences"))
            .form(&[
                ("name", "Value based"),
                ("subtype", "CUSTOM"),
                ("access_token", DEV_TOKEN),
            ])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["id"].as_str().unwrap().to_owned()
    };
    let body = "payload=%7B%22schema%22%3A%5B%22EMAIL%22%2C%22LOOKALIKE_VALUE%22%5D%2C%22data%22%3A%5B%5B%229b431636bd164765d63c573c346708846af4f68fe3701a77a3bdd7e7e5166254%22%2C44.5%5D%2C%5B%228cc62c145cd0c6dc444168eaeb1b61b351f9b1809a579cc9b4c9e9d7213a39ee%22%2C140%5D%2C%5B%224eaf70b1f7a797962b9d2a533f122c8039012b31e0a52b34a426729319cb792a%22%2C0%5D%2C%5B%2298df8d46f118f8bef552b0ec0a3d729466a912577830212a844b73960777ac56%22%2C0.9%5D%5D%7D";

    let response = app
        .client
        .post(format!(
            "{}?access_token={DEV_TOKEN}",
            app.graph(&format!("{id}/users"))
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();

    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["num_received"], 4);
    assert_eq!(answer["num_invalid_entries"], 0);
    let members = app.members(&id).await;
    assert_eq!(members.len(), 4);
    assert!(members.contains(&json!({
        "EMAIL": "9b431636bd164765d63c573c346708846af4f68fe3701a77a3bdd7e7e5166254",
        "LOOKALIKE_VALUE": "44.5"
    })));
}

/// RudderStack posts a form body whose `data` is a JSON array of event objects, token in the query.
#[tokio::test]
async fn a_form_body_with_data_as_a_json_array_of_objects_is_accepted() {
    let app = spawn_dev().await;
    let event = crate::helpers::purchase(app.now(), "rs-1");

    let response = app
        .client
        .post(app.graph(&format!("{DEV_PIXEL}/events")))
        .query(&[("access_token", DEV_TOKEN)])
        .form(&[("data", json!([event]).to_string())])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(app.accepted_events(DEV_PIXEL).await[0]["event"], event);
}

/// Segment posts a JSON body with the system user token as `Authorization: Bearer`.
#[tokio::test]
async fn a_json_body_with_a_bearer_token_is_accepted_and_validated_the_same_way() {
    let app = spawn_dev().await;
    let mut event = crate::helpers::purchase(app.now(), "seg-1");
    let url = app.graph(&format!("{DEV_PIXEL}/events"));

    let ok = app
        .client
        .post(&url)
        .bearer_auth(DEV_TOKEN)
        .json(&json!({"data": [event.clone()], "test_event_code": "TEST1"}))
        .send()
        .await
        .unwrap();
    event["user_data"]["em"] = json!(["joe@example.com"]);
    let unhashed = app
        .client
        .post(&url)
        .bearer_auth(DEV_TOKEN)
        .json(&json!({"data": [event]}))
        .send()
        .await
        .unwrap();

    assert_eq!(ok.status(), 200);
    assert_eq!(graph_error(unhashed).await.1["error_subcode"], 2_804_016);
}
