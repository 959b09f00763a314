//! Runs the real `audiencectl segments` against a fresh database that the segmenter's own
//! engine filled.

use std::process::{Command, Output};
use std::time::Duration;

use audience_core::envelope::Envelope;
use audience_core::events::StoreEvent;
use audience_segmenter::db::{self, migrate};
use audience_segmenter::engine::apply_batch;
use chrono::{TimeDelta, Utc};
use serde_json::{Value, json};

const SHOP: &str = "cli-shop.myshopify.com";

fn envelope(topic: &str, payload: Value) -> Envelope<StoreEvent> {
    Envelope {
        triggered_at: Some(Utc::now()),
        ..Envelope::new(
            uuid::Uuid::new_v4().to_string(),
            SHOP,
            topic,
            "2026-10",
            serde_json::from_value(payload).expect("a store event"),
        )
    }
}

fn customer(id: u64) -> Envelope<StoreEvent> {
    envelope(
        "customers/create",
        json!({"type": "customer", "customer_id": id, "created_at": null, "updated_at": "2026-11-01T00:00:00Z",
               "state": null, "verified_email": null, "email_marketing_consent": null,
               "sms_marketing_consent": null, "user_data": {}}),
    )
}

fn order(id: u64, customer: u64, total: &str, days_ago: i64) -> Envelope<StoreEvent> {
    let at = (Utc::now() - TimeDelta::days(days_ago)).to_rfc3339();
    envelope(
        "orders/create",
        json!({"type": "order", "order_id": id, "customer_id": customer, "name": null, "test": false,
               "created_at": at, "processed_at": at, "updated_at": at, "cancelled_at": null,
               "financial_status": "paid", "source_name": "web", "currency": "USD", "total_price": total,
               "line_items": [], "buyer_accepts_marketing": null, "user_data": {}}),
    )
}

fn audiencectl(args: &[&str], database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_audiencectl"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .output()
        .expect("audiencectl runs")
}

#[test]
fn segments_lists_each_customer_and_the_count_per_segment() {
    let url = format!(
        "postgres://postgres@127.0.0.1:5432/cli_test_{}",
        uuid::Uuid::new_v4().simple()
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        migrate::migrate(&url).await.expect("migrated");
        let pool = db::pool(&url, 2).expect("pool");
        let mut conn = pool.get().await.expect("connection");
        let messages = [
            customer(1),
            order(201, 2, "1500.00", 3),
            order(301, 3, "20.00", 200),
            order(401, 4, "10.00", 5),
            order(402, 4, "10.00", 4),
        ];
        let refs: Vec<&Envelope<StoreEvent>> = messages.iter().collect();
        let results = apply_batch(&mut conn, &refs, Utc::now(), Duration::from_secs(5))
            .await
            .expect("applied");
        assert!(results.iter().all(Result::is_ok), "{results:?}");
    });

    let json = audiencectl(&["segments", "--shop", SHOP, "--json"], &url);
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let value: Value = serde_json::from_slice(&json.stdout).expect("one JSON array");
    let rows = value.as_array().expect("an array");
    assert_eq!(rows.len(), 4);
    assert_eq!(
        rows[0],
        json!({"customer_id": 1, "segment": "prospect", "orders": 0, "spent": "0", "last_order_at": null})
    );
    assert_eq!(rows[1]["segment"], "vip");
    assert_eq!(rows[1]["spent"], "1500.00");
    assert_eq!(rows[2]["segment"], "lapsed");
    assert_eq!(rows[3]["segment"], "repeat");
    assert_eq!(rows[3]["orders"], 2);
    assert!(
        rows[3]["last_order_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    for row in rows {
        let mut keys: Vec<&str> = row
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            ["customer_id", "last_order_at", "orders", "segment", "spent"]
        );
    }

    let table = audiencectl(&["segments", "--shop", SHOP], &url);
    assert!(table.status.success());
    let text = String::from_utf8(table.stdout).expect("UTF-8");
    for line in [
        "prospect            1",
        "first_time          0",
        "repeat              1",
        "vip                 1",
        "lapsed              1",
        "total               4",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }

    let unknown = audiencectl(&["segments", "--shop", "nope.myshopify.com"], &url);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("not in the database"));

    let unreachable = audiencectl(
        &["segments", "--shop", SHOP],
        "postgres://postgres@127.0.0.1:1/nope",
    );
    assert_eq!(unreachable.status.code(), Some(2));

    runtime
        .block_on(migrate::drop_database(&url))
        .expect("dropped");
}
