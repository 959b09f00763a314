//! Test harness: `spawn_app()` starts ingest in-process on port 0 with a unique AMQP prefix,
//! optionally behind a TCP proxy that can cut or slow the broker connection (our
//! "ChaosProxy"), and reads what reached the segmenter's queue.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use audience_core::topology::{SEGMENTER_QUEUE, Topology};
use audience_ingest::config::IngestSettings;
use audience_ingest::signature::sign;
use audience_ingest::startup::Application;
use lapin::options::{BasicAckOptions, BasicGetOptions};
use lapin::{Connection, ConnectionProperties};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub const SECRET: &str = "test-secret-3b7e";
pub const AMQP_HOST: &str = "127.0.0.1:5672";

pub fn amqp_url(addr: &str) -> String {
    format!("amqp://guest:guest@{addr}/%2f")
}

/// A running ingest instance.
pub struct TestApp {
    pub address: String,
    pub prefix: String,
    pub client: reqwest::Client,
    pub shutdown: CancellationToken,
    pub server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    pub broker: audience_messaging::Broker,
}

/// Options for [`spawn_app_with`].
pub struct Spawn {
    pub secrets: String,
    pub amqp_addr: String,
    pub max_body_bytes: Option<usize>,
    pub confirm_timeout: Option<Duration>,
    /// HTTP workers (default 1, as in production).
    pub workers: Option<usize>,
}

impl Default for Spawn {
    fn default() -> Self {
        Self {
            secrets: SECRET.into(),
            amqp_addr: AMQP_HOST.into(),
            max_body_bytes: None,
            confirm_timeout: None,
            workers: None,
        }
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Spawn::default()).await
}

pub async fn spawn_app_with(opts: Spawn) -> TestApp {
    audience_runtime::telemetry::init_for_tests();
    let prefix = format!("t-{}.", uuid::Uuid::new_v4().simple());
    let mut settings =
        IngestSettings::for_tests(&opts.secrets, &amqp_url(&opts.amqp_addr), &prefix)
            .expect("valid secrets");
    if let Some(max) = opts.max_body_bytes {
        settings.max_body_bytes = max;
    }
    if let Some(t) = opts.confirm_timeout {
        settings.confirm_timeout = t;
    }
    if let Some(workers) = opts.workers {
        settings.workers = workers;
    }
    let app = Application::build(settings).expect("ingest builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let broker = app.broker().clone();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp {
        address,
        prefix,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client"),
        shutdown,
        server: Some(server),
        broker,
    }
}

impl TestApp {
    pub async fn wait_ready(&self) {
        assert!(
            self.broker.wait_ready(Duration::from_secs(20)).await,
            "broker never became ready"
        );
    }

    /// POSTs a webhook with Shopify's headers, signed with `SECRET`.
    pub async fn post_webhook(&self, topic: &str, body: &[u8]) -> reqwest::Response {
        let sig = sign(SECRET.as_bytes(), body);
        self.post_webhook_signed(topic, body, &sig).await
    }

    pub async fn post_webhook_signed(
        &self,
        topic: &str,
        body: &[u8],
        signature: &str,
    ) -> reqwest::Response {
        let webhook_id = uuid::Uuid::new_v4().to_string();
        self.post_webhook_as(topic, body, signature, &webhook_id)
            .await
    }

    /// POSTs a webhook with the given signature and webhook id.
    pub async fn post_webhook_as(
        &self,
        topic: &str,
        body: &[u8],
        signature: &str,
        webhook_id: &str,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/webhooks/shopify", self.address))
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", topic)
            .header("X-Shopify-Hmac-Sha256", signature)
            .header("X-Shopify-Shop-Domain", "test-shop.myshopify.com")
            .header("X-Shopify-API-Version", "2026-10")
            .header("X-Shopify-Webhook-Id", webhook_id)
            .header("X-Shopify-Event-Id", uuid::Uuid::new_v4().to_string())
            .header("X-Shopify-Triggered-At", "2026-12-04T10:00:00.123456789Z")
            .body(body.to_vec())
            .send()
            .await
            .expect("request sent")
    }

    /// Every message currently in this test's segmenter queue (acked), as (routing key, body,
    /// message id, headers' traceparent).
    pub async fn drain_segmenter_queue(&self) -> Vec<Received> {
        let conn = Connection::connect(&amqp_url(AMQP_HOST), ConnectionProperties::default())
            .await
            .expect("test connection");
        let channel = conn.create_channel().await.expect("channel");
        let queue = Topology::new(&self.prefix).work_queue(SEGMENTER_QUEUE).name;
        let mut out = Vec::new();
        while let Some(msg) = channel
            .basic_get(queue.as_str().into(), BasicGetOptions::default())
            .await
            .expect("basic.get")
        {
            let delivery = msg.delivery;
            let props = &delivery.properties;
            out.push(Received {
                routing_key: delivery.routing_key.to_string(),
                body: delivery.data.clone(),
                message_id: props.message_id().as_ref().map(|s| s.to_string()),
                delivery_mode: *props.delivery_mode(),
                traceparent: audience_messaging::trace::traceparent(props.headers().as_ref()),
            });
            delivery.ack(BasicAckOptions::default()).await.expect("ack");
        }
        let _ = conn.close(200, "done".into()).await;
        out
    }

    /// Stops the server and deletes this test's exchanges and queues.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        let result = match self.server.take() {
            Some(server) => server.await.expect("server task"),
            None => Ok(()),
        };
        cleanup(&self.prefix).await;
        result
    }
}

/// Deletes a prefixed topology.
pub async fn cleanup(prefix: &str) {
    if let Ok(conn) =
        Connection::connect(&amqp_url(AMQP_HOST), ConnectionProperties::default()).await
    {
        if let Ok(channel) = conn.create_channel().await {
            let _ = audience_messaging::topology::delete(&channel, &Topology::new(prefix)).await;
        }
        let _ = conn.close(200, "cleanup".into()).await;
    }
}

#[derive(Debug)]
pub struct Received {
    pub routing_key: String,
    pub body: Vec<u8>,
    pub message_id: Option<String>,
    pub delivery_mode: Option<u8>,
    pub traceparent: Option<String>,
}

/// The compact bytes of a fixture, as Shopify would send it.
pub fn fixture(path: &str) -> Vec<u8> {
    let full = fixtures_dir().join(path);
    let text = std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()));
    let value: serde_json::Value = serde_json::from_str(&text).expect("fixture is JSON");
    serde_json::to_vec(&value).expect("serializable")
}

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/shopify")
}

/// A TCP proxy in front of the broker that a test can cut (connections dropped, new ones
/// refused) and restore, or slow down (every chunk from the broker delayed).
#[derive(Clone)]
pub struct ChaosProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    delay_ms: Arc<AtomicU64>,
    cut: watch::Sender<u64>,
}

impl ChaosProxy {
    pub async fn start(upstream: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy binds");
        let addr = listener.local_addr().expect("addr");
        let up = Arc::new(AtomicBool::new(true));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (cut, _) = watch::channel(0u64);
        let proxy = Self {
            addr,
            up: up.clone(),
            delay_ms: delay_ms.clone(),
            cut: cut.clone(),
        };
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if !up.load(Ordering::SeqCst) {
                    let _ = client.shutdown().await;
                    continue;
                }
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let mut cut_rx = cut.subscribe();
                let delay = delay_ms.clone();
                tokio::spawn(async move {
                    let (mut cr, mut cw) = client.into_split();
                    let (mut sr, mut sw) = server.into_split();
                    let up_dir = tokio::io::copy(&mut cr, &mut sw);
                    let down_dir = async {
                        let mut buf = vec![0u8; 64 * 1024];
                        loop {
                            use tokio::io::AsyncReadExt;
                            let n = match sr.read(&mut buf).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            let d = delay.load(Ordering::SeqCst);
                            if d > 0 {
                                tokio::time::sleep(Duration::from_millis(d)).await;
                            }
                            if cw.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    tokio::select! {
                        _ = up_dir => {}
                        () = down_dir => {}
                        _ = cut_rx.changed() => {}
                    }
                });
            }
        });
        proxy
    }

    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.send_modify(|n| *n += 1);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    pub fn set_delay(&self, delay: Duration) {
        self.delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }
}
