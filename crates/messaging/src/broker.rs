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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use audience_core::topology::Topology;
use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::StreamExt;
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties, Event};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

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
    connection: Connection,
    channels: Vec<Channel>,
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
    /// Starts the supervisor; returns at once (the first connection happens in the background:
    /// use [`Broker::wait_ready`] to wait for it). Must be called inside a tokio runtime.
    pub fn start(settings: BrokerSettings) -> Self {
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
        });
        tokio::spawn(supervise(Arc::clone(&inner)));
        Self { inner }
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

    /// A confirm-mode channel from the pool (round robin), or [`BrokerUnavailable`] at once.
    pub fn channel(&self) -> Result<Channel, BrokerUnavailable> {
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

    /// Stops reconnecting and closes the connection.
    pub async fn close(&self) {
        self.inner.shutdown.cancel();
        self.inner.ready.store(false, Ordering::Release);
        let live = self.inner.live.write().ok().and_then(|mut l| l.take());
        if let Some(live) = live {
            let _ = live.connection.close(200, "shutdown".into()).await;
        }
    }
}

async fn connect(inner: &Inner) -> Result<Live, lapin::Error> {
    let props = ConnectionProperties::default()
        .with_connection_name(inner.settings.connection_name.clone().into());
    let connection = Connection::connect(&inner.settings.url, props).await?;
    let setup = connection.create_channel().await?;
    crate::topology::declare(&setup, &inner.topology).await?;
    let _ = setup.close(200, "topology declared".into()).await;
    let mut channels = Vec::with_capacity(inner.settings.channels);
    for _ in 0..inner.settings.channels.max(1) {
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        channels.push(channel);
    }
    Ok(Live {
        connection,
        channels,
    })
}

fn healthy(live: &Live) -> bool {
    live.connection.status().connected() && live.channels.iter().all(|c| c.status().connected())
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
    loop {
        if inner.shutdown.is_cancelled() {
            return;
        }
        let live = match connect(&inner).await {
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
        let mut events = live.connection.events_listener();
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
                () = inner.trouble.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
            if !healthy(&live) {
                break;
            }
        }
        inner.ready.store(false, Ordering::Release);
        if let Ok(mut slot) = inner.live.write() {
            *slot = None;
        }
        let _ = live.connection.close(320, "reconnecting".into()).await;
        tracing::warn!("Lost the message broker; reconnecting.");
    }
}
