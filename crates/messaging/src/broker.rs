//! One connection manager per process.
//!
//! [`Broker::start`] spawns a supervisor task that connects, declares the topology, opens a
//! small pool of confirm-mode channels and then watches the connection. When the connection
//! fails (the broker restarts, the network drops, a channel is closed by an error), the
//! supervisor marks the broker not ready, drops the dead channels and reconnects with capped
//! exponential backoff and jitter (`backon`), forever, until shutdown. Callers never hold a
//! connection themselves: they ask for a channel per operation and get
//! [`BrokerUnavailable`] at once while there is none, so an HTTP handler can answer 503
//! without waiting.
//!
//! "The connection" is two TCP connections to the same broker, brought up and given up
//! together (docs/decisions/0006): a `lapin` one that declares the topology and carries the
//! consumers, and an `amqprs` one that carries the confirm-mode publishing channels, whose
//! I/O runs as tasks on the runtime that started the broker.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use audience_core::topology::Topology;
use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::StreamExt;
use lapin::uri::{AMQPScheme, AMQPUri};
use lapin::{Channel, Connection, ConnectionProperties, Event};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::confirm::ConfirmChannel;

/// How long one connection attempt (both connections, topology, channels) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Publish timeouts in a row, with no confirmation between, after which the connections are
/// given up and made anew.
const STALLED_AFTER: u32 = 3;
/// How long closing a connection may take before it is simply dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Settings of the connection manager.
#[derive(Clone, Debug)]
pub struct BrokerSettings {
    /// `amqp://user:pass@host:port/vhost`.
    pub url: String,
    /// Topology name prefix (empty in production; unique per test).
    pub prefix: String,
    /// Connection name shown in the broker's management UI.
    pub connection_name: String,
    /// Confirm-mode channels to spread publishes over.
    pub channels: usize,
    /// Longest wait between reconnection attempts.
    pub max_reconnect_delay: Duration,
}

impl BrokerSettings {
    /// Settings with the defaults: 4 channels, reconnect delay capped at 5 s.
    pub fn new(url: impl Into<String>, prefix: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            prefix: prefix.into(),
            connection_name: name.into(),
            channels: 4,
            max_reconnect_delay: Duration::from_secs(5),
        }
    }
}

/// The broker is not connected (or its topology is not declared) right now.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the message broker is not available")]
pub struct BrokerUnavailable;

struct Live {
    /// Topology declaration and consumers.
    connection: Connection,
    /// Publishing.
    publishing: amqprs::connection::Connection,
    channels: Vec<ConfirmChannel>,
}

impl Live {
    /// Fails every publish still waiting for a confirmation and refuses new ones.
    fn fail_waiters(&self) {
        for channel in &self.channels {
            channel.give_up();
        }
    }

    /// Fails the waiting publishes and closes both connections.
    async fn give_up(&self, code: u16, reason: &str) {
        self.fail_waiters();
        // A close handshake on a dead connection would wait for an answer that never comes.
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.publishing.clone().close()).await;
        let _ =
            tokio::time::timeout(CLOSE_TIMEOUT, self.connection.close(code, reason.into())).await;
    }
}

#[derive(Debug, thiserror::Error)]
enum ConnectError {
    #[error("invalid AMQP URL: {0}")]
    Url(String),
    #[error(transparent)]
    Lapin(#[from] lapin::Error),
    #[error(transparent)]
    Amqprs(#[from] amqprs::error::Error),
    #[error("no connection within {0:?}")]
    Timeout(Duration),
}

struct Inner {
    settings: BrokerSettings,
    topology: Topology,
    live: RwLock<Option<Arc<Live>>>,
    ready: AtomicBool,
    next: AtomicUsize,
    /// Woken when a caller saw a channel fail, so the supervisor checks the connection now.
    trouble: Notify,
    /// Woken each time the broker becomes ready.
    became_ready: Notify,
    shutdown: CancellationToken,
    /// A supervisor task is alive (see [`Broker::run_here`]).
    running: AtomicBool,
    /// Publishes that timed out since the last confirmation (see [`Broker::report_timeout`]).
    timeouts_in_a_row: AtomicU32,
    /// A publish was confirmed since the current connection was made.
    confirmed: AtomicBool,
}

/// Held by the supervisor task: when the runtime it runs on goes away (an HTTP worker that
/// stops), the task is dropped with its connections, and the broker shows that.
struct Running(Arc<Inner>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(live) = self.0.take_live() {
            // The connections' tasks went with the runtime: nothing will confirm these.
            live.fail_waiters();
        }
        self.0.running.store(false, Ordering::Release);
    }
}

impl Inner {
    /// Marks the broker not ready and takes the live connections out of callers' reach.
    fn take_live(&self) -> Option<Arc<Live>> {
        self.ready.store(false, Ordering::Release);
        self.live.write().ok().and_then(|mut slot| slot.take())
    }
}

/// Handle to the process's connection manager; cheap to clone.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("connection_name", &self.inner.settings.connection_name)
            .field("prefix", &self.inner.settings.prefix)
            .field("ready", &self.is_ready())
            .finish()
    }
}

impl Broker {
    /// Starts the supervisor on the current tokio runtime; returns at once (the first
    /// connection happens in the background: use [`Broker::wait_ready`] to wait for it).
    pub fn start(settings: BrokerSettings) -> Self {
        let broker = Self::new(settings);
        broker.run_here();
        broker
    }

    /// A broker that does not connect until [`Broker::run_here`] is called.
    pub fn new(settings: BrokerSettings) -> Self {
        let topology = Topology::new(&settings.prefix);
        let inner = Arc::new(Inner {
            settings,
            topology,
            live: RwLock::new(None),
            ready: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            trouble: Notify::new(),
            became_ready: Notify::new(),
            shutdown: CancellationToken::new(),
            running: AtomicBool::new(false),
            timeouts_in_a_row: AtomicU32::new(0),
            confirmed: AtomicBool::new(false),
        });
        Self { inner }
    }

    /// Runs the supervisor, and so the publishing connection's I/O, on the current tokio
    /// runtime, unless it already runs on one. Ingest calls this on its HTTP worker, so that
    /// a publish and its confirmation never leave the worker's thread (decision 0006). When
    /// that runtime stops, the supervisor stops with it, and the next call starts it again.
    ///
    /// [`crate::Publisher::publish`] calls this too, so a manager that stopped (its runtime
    /// went away, or it panicked) is started again by the next publish instead of leaving the
    /// process without a broker.
    pub fn run_here(&self) {
        if self.inner.running.load(Ordering::Acquire)
            || self.inner.shutdown.is_cancelled()
            || self.inner.running.swap(true, Ordering::AcqRel)
        {
            return;
        }
        let running = Running(Arc::clone(&self.inner));
        tokio::spawn(async move {
            let running = running;
            supervise(Arc::clone(&running.0)).await;
        });
    }

    /// The topology this broker declared.
    pub fn topology(&self) -> &Topology {
        &self.inner.topology
    }

    /// Connected, topology declared and channels open.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    /// Waits until the broker is ready, or `timeout` passes (then returns false).
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.inner.became_ready.notified();
                if self.is_ready() {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    /// A confirm-mode publishing channel from the pool (round robin), or
    /// [`BrokerUnavailable`] at once.
    pub(crate) fn channel(&self) -> Result<ConfirmChannel, BrokerUnavailable> {
        let guard = self.inner.live.read().map_err(|_| BrokerUnavailable)?;
        let live = guard.as_ref().ok_or(BrokerUnavailable)?;
        if !self.is_ready() || live.channels.is_empty() {
            return Err(BrokerUnavailable);
        }
        let n = self.inner.next.fetch_add(1, Ordering::Relaxed) % live.channels.len();
        live.channels.get(n).cloned().ok_or(BrokerUnavailable)
    }

    /// Opens a fresh channel (not from the pool) on the live connection: for consumers, which
    /// need their own channel for their own prefetch.
    pub async fn open_channel(&self) -> Result<Channel, BrokerUnavailable> {
        let live = self
            .inner
            .live
            .read()
            .map_err(|_| BrokerUnavailable)?
            .clone();
        let live = live.ok_or(BrokerUnavailable)?;
        live.connection.create_channel().await.map_err(|_| {
            self.report_trouble();
            BrokerUnavailable
        })
    }

    /// Tells the supervisor that an operation failed on a channel, so it checks the
    /// connection and the pool now rather than at its next tick.
    pub fn report_trouble(&self) {
        self.inner.trouble.notify_one();
    }

    /// A publish got no confirmation in time. After [`STALLED_AFTER`] of them in a row, with
    /// no confirmation between, the supervisor gives the connections up and reconnects: a
    /// connection that looks open but confirms nothing (a client task that died, a broker
    /// that stopped answering) must not keep the service answering 503 forever.
    pub(crate) fn report_timeout(&self) {
        self.inner.timeouts_in_a_row.fetch_add(1, Ordering::Relaxed);
        self.inner.trouble.notify_one();
    }

    /// A publish was confirmed (acked, nacked or returned): the connection works.
    pub(crate) fn report_confirmed(&self) {
        if self.inner.timeouts_in_a_row.load(Ordering::Relaxed) != 0 {
            self.inner.timeouts_in_a_row.store(0, Ordering::Relaxed);
        }
        if !self.inner.confirmed.load(Ordering::Relaxed) {
            self.inner.confirmed.store(true, Ordering::Relaxed);
        }
    }

    /// Stops reconnecting and closes the connection.
    pub async fn close(&self) {
        self.inner.shutdown.cancel();
        if let Some(live) = self.inner.take_live() {
            live.give_up(200, "shutdown").await;
        }
    }
}

/// The publishing connection's arguments from the same URL lapin connects to (lapin's parser,
/// so both read user, password and vhost with the same percent-decoding).
fn publishing_arguments(
    url: &str,
    name: &str,
) -> Result<amqprs::connection::OpenConnectionArguments, ConnectError> {
    let uri: AMQPUri = url.parse().map_err(ConnectError::Url)?;
    if uri.scheme == AMQPScheme::AMQPS {
        return Err(ConnectError::Url(
            "amqps:// is not supported by this build (no TLS)".to_owned(),
        ));
    }
    let auth = &uri.authority;
    let mut args = amqprs::connection::OpenConnectionArguments::new(
        &auth.host,
        auth.port,
        &auth.userinfo.username,
        &auth.userinfo.password,
    );
    args.virtual_host(&uri.vhost)
        .connection_name(&format!("{name} (publishing)"));
    // amqprs sends heartbeats every `heartbeat / 2` whole seconds: 1 would make that a busy
    // loop, and 0 on both sides would drop the connection at once. Below 2 the default (60 s,
    // or the server's lower value) stays.
    if let Some(heartbeat) = uri.query.heartbeat.filter(|&h| h >= 2) {
        args.heartbeat(heartbeat);
    }
    Ok(args)
}

async fn connect(inner: &Inner) -> Result<Live, ConnectError> {
    let props = ConnectionProperties::default()
        .with_connection_name(inner.settings.connection_name.clone().into());
    let connection = Connection::connect(&inner.settings.url, props).await?;
    let setup = connection.create_channel().await?;
    crate::topology::declare(&setup, &inner.topology).await?;
    let _ = setup.close(200, "topology declared".into()).await;
    let args = publishing_arguments(&inner.settings.url, &inner.settings.connection_name)?;
    let publishing = amqprs::connection::Connection::open(&args).await?;
    let mut channels = Vec::with_capacity(inner.settings.channels);
    // On an error here both connections are dropped, and both clients close a dropped
    // connection, as on every other early return of this function.
    for _ in 0..inner.settings.channels.max(1) {
        channels.push(ConfirmChannel::open(&publishing).await?);
    }
    Ok(Live {
        connection,
        publishing,
        channels,
    })
}

fn healthy(inner: &Inner, live: &Live) -> bool {
    inner.timeouts_in_a_row.load(Ordering::Relaxed) < STALLED_AFTER
        && live.connection.status().connected()
        && live.publishing.is_open()
        && live.channels.iter().all(ConfirmChannel::is_open)
}

async fn supervise(inner: Arc<Inner>) {
    let backoff = || {
        ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(inner.settings.max_reconnect_delay)
            .with_jitter()
            .without_max_times()
            .build()
    };
    let mut delays = backoff();
    // Waits between reconnections after stalls (see `report_timeout`): they grow while the
    // new connections confirm nothing either (a broker that is up but cannot store, such as
    // under a memory or disk alarm), instead of a reconnection every few seconds.
    let mut stall_delays = backoff();
    loop {
        if inner.shutdown.is_cancelled() {
            return;
        }
        let attempt = tokio::time::timeout(CONNECT_TIMEOUT, connect(&inner)).await;
        let live = match attempt.unwrap_or(Err(ConnectError::Timeout(CONNECT_TIMEOUT))) {
            Ok(live) => Arc::new(live),
            Err(error) => {
                let delay = delays.next().unwrap_or(inner.settings.max_reconnect_delay);
                tracing::warn!(
                    error.message = %error,
                    retry_in_ms = delay.as_millis() as u64,
                    "Cannot connect to the message broker; retrying."
                );
                tokio::select! {
                    () = tokio::time::sleep(delay) => continue,
                    () = inner.shutdown.cancelled() => return,
                }
            }
        };
        delays = backoff();
        inner.timeouts_in_a_row.store(0, Ordering::Relaxed);
        inner.confirmed.store(false, Ordering::Relaxed);
        let mut events = live.connection.events_listener();
        let publishing = live.publishing.clone();
        let publishing_failed = publishing.listen_network_io_failure();
        tokio::pin!(publishing_failed);
        if let Ok(mut slot) = inner.live.write() {
            *slot = Some(Arc::clone(&live));
        }
        inner.ready.store(true, Ordering::Release);
        inner.became_ready.notify_waiters();
        tracing::info!(connection = %inner.settings.connection_name, "Connected to the message broker.");

        // Watch until the connection or one of the pooled channels is gone.
        loop {
            tokio::select! {
                () = inner.shutdown.cancelled() => return,
                event = events.next() => match event {
                    Some(Event::Error(error)) => {
                        tracing::warn!(error.message = %error, "Message broker connection failed.");
                        break;
                    }
                    Some(_) => {}
                    None => break,
                },
                _ = &mut publishing_failed => {
                    tracing::warn!("Message broker publishing connection failed.");
                    break;
                }
                () = inner.trouble.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            if !healthy(&inner, &live) {
                break;
            }
        }
        inner.take_live();
        live.give_up(320, "reconnecting").await;
        let stalled = inner.timeouts_in_a_row.load(Ordering::Relaxed) >= STALLED_AFTER;
        if !stalled {
            tracing::warn!("Lost the message broker; reconnecting.");
            continue;
        }
        if inner.confirmed.load(Ordering::Relaxed) {
            stall_delays = backoff();
        }
        let delay = stall_delays
            .next()
            .unwrap_or(inner.settings.max_reconnect_delay);
        tracing::warn!(
            retry_in_ms = delay.as_millis() as u64,
            "The message broker confirmed nothing for {STALLED_AFTER} publishes in a row; reconnecting."
        );
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = inner.shutdown.cancelled() => return,
        }
    }
}
