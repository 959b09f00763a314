//! The webhook endpoint against the real broker: samples, signatures, validation, privacy.

use std::collections::BTreeSet;

use audience_ingest::signature::sign;

use crate::helpers::{SECRET, Spawn, fixture, fixtures_dir, spawn_app, spawn_app_with};

/// (topic, fixture) for every genuine sample.
fn genuine_samples() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let dir = fixtures_dir();
    for entry in std::fs::read_dir(&dir).expect("fixtures dir") {
        let entry = entry.expect("entry");
        if !entry.path().is_dir() {
            continue;
        }
        let folder = entry.file_name().to_string_lossy().to_string();
        let topic = folder.replace("__", "/");
        for file in std::fs::read_dir(entry.path()).expect("topic dir") {
            let name = file
                .expect("file")
                .file_name()
                .to_string_lossy()
                .to_string();
            if name.ends_with(".json") {
                out.push((topic.clone(), format!("{folder}/{name}")));
            }
        }
    }
    out.sort();
    assert!(
        out.len() >= 14,
        "expected every fixture, found {}",
        out.len()
    );
    out
}

/// Every string value under a personal-data key, anywhere in the JSON.
fn personal_strings(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    const KEYS: &[&str] = &[
        "email",
        "contact_email",
        "phone",
        "first_name",
        "last_name",
        "address1",
        "address2",
        "city",
        "zip",
        "name",
    ];
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                if let serde_json::Value::String(s) = v {
                    // `name` is personal only inside addresses/customers; order names (#1001),
                    // line-item titles and shop names are not. Only keep person-shaped names.
                    let personal =
                        KEYS.contains(&k.as_str()) && (k != "name" || map.contains_key("address1"));
                    if personal && s.trim().len() >= 3 {
                        out.insert(s.clone());
                    }
                }
                personal_strings(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| personal_strings(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_genuine_sample_is_accepted_and_routed_by_topic_without_personal_data() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let mut expected_keys = Vec::new();
    let mut all_personal = BTreeSet::new();
    for (topic, path) in genuine_samples() {
        let body = fixture(&path);
        let response = app.post_webhook(&topic, &body).await;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        if path.ends_with("anonymized_real_shape.json") {
            // Shape-only sample with placeholder values: accepted, or rejected naming a field.
            assert!(
                status == 200
                    || (status == 400 && text.contains("invalid_payload") && text.contains(':')),
                "{path}: {status} {text}"
            );
            if status == 200 {
                expected_keys.push(format!("shopify.{}", topic.replace('/', ".")));
            }
            continue;
        }
        assert_eq!(status, 200, "{path} was not accepted: {text}");
        assert!(text.contains("accepted"), "{path}: {text}");
        expected_keys.push(format!("shopify.{}", topic.replace('/', ".")));
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        personal_strings(&value, &mut all_personal);
    }
    assert!(
        all_personal.contains("john@example.com"),
        "the check must look at real values"
    );
    assert!(
        all_personal.contains("555-625-1199") || all_personal.iter().any(|s| s.contains("555"))
    );

    let received = app.drain_segmenter_queue().await;
    let mut keys: Vec<String> = received.iter().map(|r| r.routing_key.clone()).collect();
    keys.sort();
    expected_keys.sort();
    assert_eq!(keys, expected_keys);
    for message in &received {
        assert_eq!(message.delivery_mode, Some(2), "persistent");
        assert!(
            message
                .message_id
                .as_deref()
                .is_some_and(|id| id.len() == 36),
            "webhook id as message id"
        );
        let tp = message.traceparent.as_deref().unwrap_or("");
        assert!(
            tp.starts_with("00-") && tp.len() == 55,
            "traceparent header: {tp:?}"
        );
        let text = String::from_utf8_lossy(&message.body).to_lowercase();
        for raw in &all_personal {
            assert!(
                !text.contains(&raw.to_lowercase()),
                "{raw:?} reached the broker in {}",
                message.routing_key
            );
        }
        let envelope: serde_json::Value =
            serde_json::from_slice(&message.body).expect("envelope json");
        assert_eq!(envelope["schema_version"], 1);
        assert_eq!(envelope["shop_domain"], "test-shop.myshopify.com");
        let amqp_id = message.message_id.clone().unwrap_or_default();
        assert_eq!(
            envelope["message_id"].as_str(),
            Some(format!("shopify:{amqp_id}").as_str())
        );
    }
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn order_email_is_published_as_its_sha256_only() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let body = fixture("orders__create/sample.json");
    assert_eq!(app.post_webhook("orders/create", &body).await.status(), 200);
    let received = app.drain_segmenter_queue().await;
    assert_eq!(received.len(), 1);
    let text = String::from_utf8_lossy(&received[0].body).to_string();
    // sha256("jon@example.com")
    let hash = {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(b"jon@example.com");
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    assert!(text.contains(&hash), "hashed email missing: {text}");
    assert!(!text.contains("jon@example.com"));
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn signature_cases_are_decided_before_anything_is_published() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let body = fixture("customers__create/sample.json");
    let good = sign(SECRET.as_bytes(), &body);

    // Tampered body.
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert_eq!(
        app.post_webhook_signed("customers/create", &tampered, &good)
            .await
            .status(),
        401
    );
    // Wrong secret.
    let wrong = sign(b"another-secret", &body);
    assert_eq!(
        app.post_webhook_signed("customers/create", &body, &wrong)
            .await
            .status(),
        401
    );
    // Hex instead of base64.
    let hex: String = {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&good)
            .expect("b64");
        raw.iter().map(|b| format!("{b:02x}")).collect()
    };
    assert_eq!(
        app.post_webhook_signed("customers/create", &body, &hex)
            .await
            .status(),
        401
    );
    // Missing header.
    let response = app
        .client
        .post(format!("{}/webhooks/shopify", app.address))
        .header("X-Shopify-Topic", "customers/create")
        .header("X-Shopify-Shop-Domain", "test-shop.myshopify.com")
        .header("X-Shopify-API-Version", "2026-10")
        .header(
            "X-Shopify-Webhook-Id",
            "b1c4a2f0-0000-4000-8000-000000000001",
        )
        .body(body.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 401);
    assert!(
        response.text().await.unwrap_or_default().is_empty(),
        "401 carries no detail"
    );
    // Empty body, correctly signed.
    let empty = sign(SECRET.as_bytes(), b"");
    assert_eq!(
        app.post_webhook_signed("customers/create", b"", &empty)
            .await
            .status(),
        401
    );
    // Padded-form check: the valid one goes through.
    assert_eq!(
        app.post_webhook_signed("customers/create", &body, &good)
            .await
            .status(),
        200
    );

    let received = app.drain_segmenter_queue().await;
    assert_eq!(received.len(), 1, "only the valid webhook is published");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn the_second_of_two_rotated_secrets_is_accepted() {
    let app = spawn_app_with(Spawn {
        secrets: "old-secret,new-secret".into(),
        ..Spawn::default()
    })
    .await;
    app.wait_ready().await;
    let body = fixture("customers__update/sample.json");
    let sig = sign(b"new-secret", &body);
    let response = app
        .post_webhook_signed("customers/update", &body, &sig)
        .await;
    assert_eq!(response.status(), 200);
    let sig = sign(b"old-secret", &body);
    assert_eq!(
        app.post_webhook_signed("customers/update", &body, &sig)
            .await
            .status(),
        200
    );
    assert_eq!(app.drain_segmenter_queue().await.len(), 2);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let app = spawn_app_with(Spawn {
        max_body_bytes: Some(4096),
        ..Spawn::default()
    })
    .await;
    app.wait_ready().await;
    let body = fixture("orders__create/sample.json");
    assert!(body.len() > 4096);
    let response = app.post_webhook("orders/create", &body).await;
    assert_eq!(response.status(), 413);
    // A body under the limit still passes.
    let small = fixture("customers__create/sample.json");
    assert_eq!(
        app.post_webhook("customers/create", &small).await.status(),
        200
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_large_order_over_one_megabyte_is_accepted_under_the_default_limit() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let mut order: serde_json::Value =
        serde_json::from_slice(&fixture("orders__create/sample.json")).expect("json");
    let note = "x".repeat(1_200_000);
    order["note"] = serde_json::Value::String(note);
    let body = serde_json::to_vec(&order).expect("json");
    assert!(body.len() > 1_000_000);
    assert_eq!(app.post_webhook("orders/create", &body).await.status(), 200);
    let received = app.drain_segmenter_queue().await;
    assert_eq!(received.len(), 1);
    assert!(received[0].body.len() < 100_000, "the envelope is compact");
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn malformed_json_with_a_valid_signature_gets_400_with_a_reason() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let response = app.post_webhook("orders/create", b"{\"id\": 12, ").await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.expect("json error body");
    assert_eq!(body["error"], "invalid_payload");
    assert!(body["reason"].as_str().is_some_and(|r| !r.is_empty()));

    // A customer body sent as an order does not fit its topic.
    let customer = fixture("customers__create/sample.json");
    let response = app.post_webhook("orders/create", &customer).await;
    assert_eq!(response.status(), 400);
    let body: serde_json::Value = response.json().await.expect("json error body");
    assert_eq!(body["error"], "invalid_payload");

    assert!(app.drain_segmenter_queue().await.is_empty());
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn missing_or_invalid_shopify_headers_get_400_naming_them() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let body = fixture("customers__create/sample.json");
    let sig = sign(SECRET.as_bytes(), &body);
    let response = app
        .client
        .post(format!("{}/webhooks/shopify", app.address))
        .header("X-Shopify-Hmac-Sha256", &sig)
        .header("X-Shopify-Shop-Domain", "test-shop.myshopify.com")
        .body(body.clone())
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    let reason = response.text().await.unwrap_or_default();
    for name in [
        "X-Shopify-Topic",
        "X-Shopify-Webhook-Id",
        "X-Shopify-API-Version",
    ] {
        assert!(reason.contains(name), "{reason}");
    }
    let response = app
        .client
        .post(format!("{}/webhooks/shopify", app.address))
        .header("X-Shopify-Hmac-Sha256", &sig)
        .header("X-Shopify-Topic", "customers/create")
        .header("X-Shopify-Shop-Domain", "evil.example.com")
        .header("X-Shopify-API-Version", "2026-10")
        .header("X-Shopify-Webhook-Id", "w-1")
        .body(body)
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 400);
    assert!(
        response
            .text()
            .await
            .unwrap_or_default()
            .contains("X-Shopify-Shop-Domain")
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_signed_topic_we_do_not_handle_is_ignored_and_counted() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let response = app.post_webhook("products/update", br#"{"id":1}"#).await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ignored");
    assert!(app.drain_segmenter_queue().await.is_empty());
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics");
    let text = metrics.text().await.unwrap_or_default();
    assert!(
        text.contains(r#"ingest_webhooks_total{outcome="ignored",topic="unhandled"} 1"#),
        "{text}"
    );
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let healthz = app
        .client
        .get(format!("{}/healthz", app.address))
        .send()
        .await
        .expect("healthz");
    assert_eq!(healthz.status(), 200);
    let readyz = app
        .client
        .get(format!("{}/readyz", app.address))
        .send()
        .await
        .expect("readyz");
    assert_eq!(readyz.status(), 200);
    let body = fixture("customers__create/sample.json");
    assert_eq!(
        app.post_webhook("customers/create", &body).await.status(),
        200
    );
    let text = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    assert!(
        text.contains(r#"ingest_webhooks_total{outcome="accepted",topic="customers/create"} 1"#),
        "{text}"
    );
    assert!(text.contains("ingest_request_duration_seconds_bucket"));
    assert!(
        text.contains(r#"ingest_publish_confirm_seconds_count{result="ack"} 1"#),
        "{text}"
    );
    let missing = app
        .client
        .get(format!("{}/nope", app.address))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status(), 404);
    app.stop().await.expect("clean stop");
}

#[tokio::test]
async fn malformed_personal_fields_are_left_out_and_counted_by_field() {
    let app = spawn_app().await;
    app.wait_ready().await;
    let mut customer: serde_json::Value =
        serde_json::from_slice(&fixture("customers__create/sample.json")).expect("json");
    customer["email"] = "not-an-email".into();
    let body = serde_json::to_vec(&customer).expect("json");
    assert_eq!(
        app.post_webhook("customers/create", &body).await.status(),
        200
    );
    let received = app.drain_segmenter_queue().await;
    assert_eq!(received.len(), 1);
    let text = String::from_utf8_lossy(&received[0].body).to_string();
    assert!(text.contains("invalid email"), "the reason travels: {text}");
    assert!(!text.contains("not-an-email"), "the value does not");
    let metrics = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .unwrap_or_default();
    assert!(
        metrics.contains(r#"invalid_field_total{field="em"} 1"#),
        "{metrics}"
    );
    app.stop().await.expect("clean stop");
}
