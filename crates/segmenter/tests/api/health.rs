//! Health, readiness and metrics endpoints.

use crate::helpers::spawn_app;
use crate::shopify::CustomerSpec;

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let app = spawn_app().await;
    app.send(&[CustomerSpec::new(70).create()]).await;
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", app.port);

    let health = client
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status().as_u16(), 200);
    let ready = client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status().as_u16(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(
        body,
        serde_json::json!({"broker": true, "database": true, "draining": false})
    );
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("segmenter_messages_total{outcome=\"applied\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("segmenter_batch_seconds_bucket"));
    let missing = client
        .get(format!("{base}/nope"))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status().as_u16(), 404);
    app.stop().await;
}
