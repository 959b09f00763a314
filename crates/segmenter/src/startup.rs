//! Builds and runs the segmenter: the consumer, the outbox relay, the time sweep and the HTTP
//! server for health, readiness and metrics.
//!
//! [`Application::build`] binds the listener (port 0 in tests), starts the broker's connection
//! manager and creates the (lazy) database pool; [`Application::run_until_stopped`] runs until
//! the shutdown token is cancelled, then stops consuming (the batch in flight is finished and
//! settled; prefetched deliveries go back to the queue), lets the relay publish what was
//! committed, stops the HTTP server and closes the broker connection, all within
//! `SEGMENTER_SHUTDOWN_TIMEOUT_SECS`.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use actix_web::dev::Server;
use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context as _;
use audience_messaging::{Broker, BrokerSettings, Publisher};
use tokio_util::sync::CancellationToken;

use crate::config::SegmenterSettings;
use crate::consumer::Consumer;
use crate::db::{self, Pool};
use crate::health::{self, HealthState};
use crate::metrics::Metrics;
use crate::relay::Relay;
use crate::sweep::SweepTask;

/// A built segmenter.
pub struct Application {
    port: u16,
    server: Server,
    broker: Broker,
    pool: Pool,
    relay: Relay,
    consumer: Consumer,
    sweep: SweepTask,
    metrics: Metrics,
    draining: CancellationToken,
    settings: SegmenterSettings,
}

impl Application {
    /// Binds the HTTP listener, starts the broker connection (in the background) and builds
    /// the database pool (connections open on first use). Must be called inside a tokio
    /// runtime.
    pub fn build(settings: SegmenterSettings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.http_bind).with_context(|| {
            format!("Failed to bind SEGMENTER_HTTP_BIND={}", settings.http_bind)
        })?;
        let port = listener
            .local_addr()
            .context("Failed to read the bound address")?
            .port();
        let broker = Broker::start(BrokerSettings::new(
            settings.amqp_url.clone(),
            settings.amqp_prefix.clone(),
            "segmenter",
        ));
        let pool = db::pool(&settings.database_url, settings.db_pool_size)
            .context("Failed to build the database pool")?;
        let metrics = Metrics::new().context("Failed to register metrics")?;
        let publisher = Publisher::new(broker.clone(), settings.confirm_timeout);
        let relay = Relay::new(
            pool.clone(),
            publisher.clone(),
            settings.relay_batch,
            settings.relay_interval,
            metrics.clone(),
        );
        let db_ok = Arc::new(AtomicBool::new(true));
        let consumer = Consumer {
            broker: broker.clone(),
            publisher,
            pool: pool.clone(),
            clock: settings.clock.clone(),
            prefetch: settings.prefetch,
            batch_size: settings.batch_size,
            batch_wait: settings.batch_wait,
            lock_timeout: settings.lock_timeout,
            metrics: metrics.clone(),
            relay: relay.handle(),
            db_ok: db_ok.clone(),
        };
        let sweep = SweepTask {
            pool: pool.clone(),
            clock: settings.clock.clone(),
            interval: settings.sweep_interval,
            lock_timeout: settings.lock_timeout,
            retention_days: settings.processed_retention_days,
            relay: relay.handle(),
            metrics: metrics.clone(),
        };
        let draining = CancellationToken::new();
        let state = web::Data::new(HealthState {
            broker: broker.clone(),
            pool: pool.clone(),
            db_ok,
            draining: draining.clone(),
            metrics: metrics.clone(),
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .service(health::healthz)
                .service(health::readyz)
                .service(health::metrics)
                .default_service(web::to(|| async {
                    HttpResponse::NotFound().json(serde_json::json!({"error": "not_found"}))
                }))
        })
        .workers(1)
        .disable_signals()
        .shutdown_timeout(5)
        .listen(listener)
        .context("Failed to start the HTTP server")?
        .run();
        Ok(Self {
            port,
            server,
            broker,
            pool,
            relay,
            consumer,
            sweep,
            metrics,
            draining,
            settings,
        })
    }

    /// The bound HTTP port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The broker handle (tests wait for readiness on it).
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// The database pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The metrics (tests count handled messages with them).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Runs until `shutdown` is cancelled, then stops gracefully.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let handle = self.server.handle();
        let server = tokio::spawn(self.server);
        let workers = CancellationToken::new();
        let relay = self
            .settings
            .relay_enabled
            .then(|| tokio::spawn(self.relay.run(workers.clone())));
        let sweep = tokio::spawn(self.sweep.run(workers.clone()));
        let consumer = tokio::spawn(self.consumer.run(shutdown.clone()));

        shutdown.cancelled().await;
        self.draining.cancel();
        tracing::info!(
            "Segmenter stopping: finishing the batch in flight, then publishing what it committed."
        );
        let stop = async {
            let _ = consumer.await;
            workers.cancel();
            if let Some(relay) = relay {
                let _ = relay.await;
            }
            let _ = sweep.await;
        };
        if tokio::time::timeout(self.settings.shutdown_timeout, stop)
            .await
            .is_err()
        {
            tracing::warn!(
                "Segmenter workers did not stop in time; the broker redelivers what was not acknowledged."
            );
        }
        handle.stop(true).await;
        let served = server.await.context("HTTP server task failed")?;
        self.broker.close().await;
        served.context("HTTP server failed")?;
        tracing::info!("Segmenter stopped.");
        Ok(())
    }
}
