//! Starting and stopping a simulator: [`spawn`] for tests (port 0), [`spawn_at`] for the binary,
//! and [`app_config`] to mount the routes in another actix `App`.

use std::net::{SocketAddr, TcpListener};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::task::JoinHandle;

use crate::config::SimConfig;
use crate::routes;
use crate::state::MetaSim;

/// Largest request body accepted: 10 000 multi-key rows of 64-hex values fit with room to spare.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// Registers the simulator's routes and state on an actix `ServiceConfig`:
/// `App::new().configure(app_config(sim))`.
pub fn app_config(sim: MetaSim) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(sim.clone()))
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES));
        routes::admin::configure(cfg);
        cfg.default_service(web::to(routes::graph::graph_request));
    }
}

/// A simulator serving HTTP in the background.
#[derive(Debug)]
pub struct RunningSim {
    address: SocketAddr,
    sim: MetaSim,
    handle: ServerHandle,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        // A test that forgets `stop` must not leave worker threads behind. The stop command is
        // sent when `stop` is called; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

impl RunningSim {
    /// `http://127.0.0.1:<port>`, the value for `META_GRAPH_URL`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The address the simulator listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The state, for direct inspection and control in Rust tests.
    pub fn state(&self) -> &MetaSim {
        &self.sim
    }

    /// Stops accepting connections and waits (at most a second) for requests in flight.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.handle.stop(true).await;
        self.join().await
    }

    /// Waits until the server stops (for the binary, after [`RunningSim::handle`] stopped it).
    pub async fn wait(mut self) -> anyhow::Result<()> {
        self.join().await
    }

    async fn join(&mut self) -> anyhow::Result<()> {
        match self.task.take() {
            Some(task) => task
                .await
                .context("The meta-sim server task panicked")?
                .context("The meta-sim server failed"),
            None => Ok(()),
        }
    }

    /// A handle that stops the server from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }
}

/// Starts a simulator on `127.0.0.1` with a port chosen by the system.
pub async fn spawn(config: SimConfig) -> anyhow::Result<RunningSim> {
    spawn_at(config, "127.0.0.1:0").await
}

/// Starts a simulator on the given address (`host:port`).
pub async fn spawn_at(config: SimConfig, bind: &str) -> anyhow::Result<RunningSim> {
    let listener = TcpListener::bind(bind)
        .with_context(|| format!("Failed to bind the meta-sim listener to {bind}"))?;
    let address = listener
        .local_addr()
        .context("Failed to read the meta-sim listener address")?;
    let workers = config.workers;
    let sim = MetaSim::new(config)?;
    let app_sim = sim.clone();
    let server = HttpServer::new(move || App::new().configure(app_config(app_sim.clone())))
        .workers(workers)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)
        .context("Failed to start the meta-sim server")?
        .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    tracing::info!(%address, "Meta simulator listening.");
    Ok(RunningSim {
        address,
        sim,
        handle,
        task: Some(task),
    })
}
