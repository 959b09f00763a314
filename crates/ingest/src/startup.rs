//! Builds and runs the ingest HTTP server.
//!
//! [`Application::build`] binds the listener (port 0 in tests) and prepares the broker's
//! connection manager (run by the HTTP worker when there is one, else started at once);
//! [`Application::run_until_stopped`] serves until the shutdown token is
//! cancelled, then turns readiness red, stops accepting, lets in-flight requests finish (each
//! still waits for its broker confirmation) and closes the broker connection.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use audience_core::normalize::Field;
use audience_messaging::{Broker, BrokerSettings, Publisher};
use tokio_util::sync::CancellationToken;

use crate::config::IngestSettings;
use crate::metrics::Metrics;
use crate::routes;
use crate::signature::Secrets;

/// Shared state of every HTTP worker.
#[derive(Debug)]
pub struct AppState {
    /// The app secrets.
    pub secrets: Secrets,
    /// The confirmed publisher.
    pub publisher: Publisher,
    /// Full name of the `shopify.events` exchange.
    pub exchange: String,
    /// Metrics.
    pub metrics: Metrics,
    /// Fallback country context.
    pub shop_country: Option<String>,
    /// Cancelled when shutdown starts (readiness turns red).
    pub draining: CancellationToken,
}

/// A built, bound ingest server.
pub struct Application {
    port: u16,
    server: Server,
    broker: Broker,
    draining: CancellationToken,
    shutdown_timeout: Duration,
}

impl Application {
    /// Binds the listener and prepares the broker connection (made in the background, with
    /// one worker once the server runs).
    pub fn build(settings: IngestSettings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("Failed to bind INGEST_BIND={}", settings.bind))?;
        let port = listener
            .local_addr()
            .context("Failed to read the bound address")?
            .port();
        let broker_settings = BrokerSettings::new(
            settings.amqp_url.clone(),
            settings.amqp_prefix.clone(),
            "ingest",
        );
        // With one HTTP worker the connection manager, and with it the publishing connection's
        // I/O, runs on that worker's event loop (started in the factory below): a webhook's
        // publish and its confirmation then never cross threads (docs/decisions/0006). With
        // more, it runs here on the main runtime, which outlives every worker, so a worker that
        // finishes draining first cannot take the broker away from the others' in-flight
        // webhooks.
        let on_worker = settings.workers == 1;
        let broker = if on_worker {
            Broker::new(broker_settings)
        } else {
            Broker::start(broker_settings)
        };
        let draining = CancellationToken::new();
        let state = web::Data::new(AppState {
            secrets: settings.secrets.clone(),
            publisher: Publisher::new(broker.clone(), settings.confirm_timeout),
            exchange: broker.topology().shopify_events(),
            metrics: Metrics::new().context("Failed to register metrics")?,
            shop_country: settings.shop_country.clone(),
            draining: draining.clone(),
        });
        let max_body = settings.max_body_bytes;
        let worker_broker = broker.clone();
        let server = HttpServer::new(move || {
            if on_worker {
                // A restarted worker takes the manager over (so would its first publish).
                worker_broker.run_here();
            }
            // Runs on each worker's own thread at start-up: the phone metadata is decoded
            // (~13 ms, once per process) before the first webhook, and the regex crate makes
            // the first thread that searches with a pattern that pattern's cache owner, with a
            // lock-free fast path; warming up here (not on the main thread) gives that fast
            // path to a worker (an invalid `+1` number: ~6.9 µs instead of ~11 µs, see the
            // table in audience-core's normalize/phone.rs).
            let _ = audience_core::normalize::hash(Field::Phone, "+14155550100", None);
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(max_body))
                .service(routes::shopify_webhook::receive)
                .service(routes::health::healthz)
                .service(routes::health::readyz)
                .service(routes::health::metrics)
                .default_service(web::to(|| async {
                    HttpResponse::NotFound().json(serde_json::json!({"error": "not_found"}))
                }))
        })
        .workers(settings.workers)
        .disable_signals()
        .shutdown_timeout(settings.shutdown_timeout.as_secs())
        .listen(listener)
        .context("Failed to start the HTTP server")?
        .run();
        Ok(Self {
            port,
            server,
            broker,
            draining,
            shutdown_timeout: settings.shutdown_timeout,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker handle (tests wait for readiness on it).
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Serves until `shutdown` is cancelled, then drains gracefully.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let server = tokio::spawn(self.server);
        shutdown.cancelled().await;
        self.draining.cancel();
        tracing::info!("Ingest stopping: no new connections, finishing in-flight webhooks.");
        // Graceful stop: in-flight requests finish (up to the shutdown timeout).
        let stopped = tokio::time::timeout(
            self.shutdown_timeout + Duration::from_secs(1),
            handle.stop(true),
        )
        .await;
        if stopped.is_err() {
            tracing::warn!("In-flight webhooks did not finish in time.");
        }
        let served = server.await.context("HTTP server task failed")?;
        self.broker.close().await;
        served.context("HTTP server failed")?;
        tracing::info!("Ingest stopped.");
        Ok(())
    }
}
