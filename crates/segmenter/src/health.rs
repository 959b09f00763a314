//! `GET /healthz` (the process answers), `GET /readyz` (broker connected, database answering,
//! not shutting down), `GET /metrics` (Prometheus text format).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use audience_messaging::Broker;
use tokio_util::sync::CancellationToken;

use crate::db::{self, Pool};
use crate::metrics::Metrics;

/// What the health endpoints look at.
#[derive(Clone)]
pub struct HealthState {
    /// The broker.
    pub broker: Broker,
    /// The database.
    pub pool: Pool,
    /// Set by the consumer while the database is unreachable.
    pub db_ok: Arc<AtomicBool>,
    /// Cancelled when shutdown starts.
    pub draining: CancellationToken,
    /// Metrics.
    pub metrics: Metrics,
}

/// Liveness: the process is up and serving HTTP.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"status": "ok"}))
}

/// Readiness: consuming and applying work right now.
#[get("/readyz")]
pub async fn readyz(state: web::Data<HealthState>) -> HttpResponse {
    let broker = state.broker.is_ready();
    let database = state.db_ok.load(Ordering::Relaxed) && database_answers(&state.pool).await;
    let draining = state.draining.is_cancelled();
    let body = serde_json::json!({"broker": broker, "database": database, "draining": draining});
    if broker && database && !draining {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn database_answers(pool: &Pool) -> bool {
    let check = async {
        let mut conn = pool.get().await.ok()?;
        db::ping(&mut conn).await.ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), check).await,
        Ok(Some(()))
    )
}

/// Prometheus metrics.
#[get("/metrics")]
pub async fn metrics(state: web::Data<HealthState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.metrics.render())
}
