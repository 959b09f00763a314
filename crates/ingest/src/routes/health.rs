//! `GET /healthz` (the process answers), `GET /readyz` (broker connected and topology
//! declared, and not shutting down), `GET /metrics` (Prometheus text format).

use actix_web::{HttpResponse, get, web};

use crate::startup::AppState;

/// Liveness: the process is up and serving HTTP.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness: webhooks can be accepted right now.
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    // Starts the broker's manager if it is not running (a worker restarted before the old
    // one's event loop was gone), so a service taken out of rotation does not stay out.
    state.publisher.broker().run_here();
    let broker = state.publisher.broker().is_ready();
    let draining = state.draining.is_cancelled();
    let body = serde_json::json!({"broker": broker, "draining": draining});
    if broker && !draining {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus metrics.
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
