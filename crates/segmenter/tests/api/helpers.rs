//! Test harness: `spawn_app()` creates a fresh database `seg_test_<uuid>` (created and
//! migrated) and a fresh AMQP prefix `t-<uuid>.`, starts the segmenter in-process against the
//! real PostgreSQL and RabbitMQ, and offers typed helpers to publish store events the way
//! ingest does, wait for the segmenter, read the database and drain the Meta queues.
//! `TestApp::stop` shuts the segmenter down, deletes the prefixed topology and drops the
//! database.

use std::time::Duration;

use audience_core::dispatch::{AudienceAction, DispatchMessage};
use audience_core::envelope::Envelope;
use audience_core::events::{self, Context, StoreEvent};
use audience_core::shopify::Topic;
use audience_core::topology::{META_AUDIENCE_QUEUE, META_CAPI_QUEUE, SEGMENTER_QUEUE, Topology};
use audience_messaging::{Broker, BrokerSettings, Outgoing, Publisher};
use audience_segmenter::clock::Clock;
use audience_segmenter::config::SegmenterSettings;
use audience_segmenter::db::{self, Pool, migrate};
use audience_segmenter::metrics::Metrics;
use audience_segmenter::startup::Application;
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use lapin::options::{BasicAckOptions, BasicGetOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};
use tokio_util::sync::CancellationToken;

pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub const PG_SERVER: &str = "postgres://postgres@127.0.0.1:5432";
pub const SHOP: &str = "test-shop.myshopify.com";

/// A fresh, migrated database, dropped by [`TestDb::remove`] or, if a test panics first, when
/// it goes out of scope.
pub struct TestDb {
    pub url: String,
    removed: bool,
}

impl TestDb {
    pub async fn create() -> TestDb {
        let url = format!("{PG_SERVER}/seg_test_{}", uuid::Uuid::new_v4().simple());
        migrate::migrate(&url)
            .await
            .expect("test database migrates");
        TestDb {
            url,
            removed: false,
        }
    }

    pub async fn remove(mut self) {
        self.removed = true;
        migrate::drop_database(&self.url)
            .await
            .expect("test database drops");
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if !self.removed {
            let url = self.url.clone();
            on_own_runtime(async move {
                let _ = migrate::drop_database(&url).await;
            });
        }
    }
}

/// Runs cleanup work to completion from a `Drop` (the test's runtime may be shutting down).
fn on_own_runtime(work: impl Future<Output = ()> + Send + 'static) {
    let worker = std::thread::spawn(move || {
        if let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            runtime.block_on(work);
        }
    });
    let _ = worker.join();
}

/// A running segmenter with its own database and topology.
pub struct TestApp {
    pub db: Option<TestDb>,
    pub prefix: String,
    pub port: u16,
    pub pool: Pool,
    pub metrics: Metrics,
    pub clock: Clock,
    pub publisher: Publisher,
    pub broker: Broker,
    shutdown: CancellationToken,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Adjusts the settings before the segmenter starts.
pub type Tweak = Box<dyn FnOnce(&mut SegmenterSettings) + Send>;

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Box::new(|_| {})).await
}

pub async fn spawn_app_with(tweak: Tweak) -> TestApp {
    audience_runtime::telemetry::init_for_tests();
    let db = TestDb::create().await;
    let prefix = format!("t-{}.", uuid::Uuid::new_v4().simple());
    start(db, prefix, tweak).await
}

/// Starts a segmenter on an existing database and prefix.
pub async fn start(db: TestDb, prefix: String, tweak: Tweak) -> TestApp {
    let mut settings = SegmenterSettings::for_tests(&db.url, AMQP_URL, &prefix);
    settings.batch_wait = Duration::from_millis(5);
    tweak(&mut settings);
    let clock = settings.clock.clone();
    let app = Application::build(settings).expect("segmenter builds");
    let port = app.port();
    let pool = app.pool().clone();
    let metrics = app.metrics().clone();
    assert!(
        app.broker().wait_ready(Duration::from_secs(20)).await,
        "segmenter's broker never became ready"
    );
    let broker = Broker::start(BrokerSettings::new(
        AMQP_URL,
        prefix.clone(),
        "segmenter-test",
    ));
    assert!(
        broker.wait_ready(Duration::from_secs(20)).await,
        "test broker never became ready"
    );
    let publisher = Publisher::new(broker.clone(), Duration::from_secs(5));
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp {
        db: Some(db),
        prefix,
        port,
        pool,
        metrics,
        clock,
        publisher,
        broker,
        shutdown,
        server: Some(server),
    }
}

impl TestApp {
    /// Stops the segmenter and returns its database and prefix, for a restart.
    pub async fn halt(mut self) -> (TestDb, String) {
        self.shutdown.cancel();
        if let Some(server) = self.server.take() {
            server
                .await
                .expect("server task")
                .expect("segmenter stops cleanly");
        }
        self.broker.close().await;
        (self.db.take().expect("database"), self.prefix.clone())
    }

    /// Stops the segmenter, deletes the topology and drops the database.
    pub async fn stop(self) {
        let (db, prefix) = self.halt().await;
        cleanup_topology(&prefix).await;
        db.remove().await;
    }

    pub fn topology(&self) -> Topology {
        Topology::new(&self.prefix)
    }

    pub async fn conn(
        &self,
    ) -> diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection> {
        self.pool.get().await.expect("database connection")
    }

    /// Publishes an envelope to `shopify.events` as ingest does.
    pub async fn publish(&self, envelope: &Envelope<StoreEvent>) {
        let body = envelope.to_vec().expect("serializable");
        let key = format!("shopify.{}", envelope.topic.replace('/', "."));
        self.publish_raw(&key, &body, &envelope.message_id).await;
    }

    pub async fn publish_raw(&self, routing_key: &str, body: &[u8], message_id: &str) {
        self.publisher
            .publish(Outgoing {
                exchange: &self.topology().shopify_events(),
                routing_key,
                body,
                message_id,
                headers: Vec::new(),
            })
            .await
            .expect("published");
    }

    /// Publishes in order and waits until the segmenter handled that many more messages.
    pub async fn send(&self, envelopes: &[Envelope<StoreEvent>]) {
        let before = self.metrics.handled();
        for envelope in envelopes {
            self.publish(envelope).await;
        }
        self.wait_handled(before + envelopes.len() as u64).await;
    }

    /// Waits until the segmenter has handled `n` messages in all.
    pub async fn wait_handled(&self, n: u64) {
        let handled = eventually(Duration::from_secs(30), || async {
            self.metrics.handled() >= n
        })
        .await;
        assert!(
            handled,
            "segmenter handled {} of {n} messages",
            self.metrics.handled()
        );
    }

    /// Waits until the outbox is empty (everything committed was published).
    pub async fn wait_outbox_empty(&self) {
        let empty = eventually(Duration::from_secs(30), || async {
            self.outbox_pending().await == 0
        })
        .await;
        assert!(
            empty,
            "outbox still has {} rows",
            self.outbox_pending().await
        );
    }

    pub async fn outbox_pending(&self) -> i64 {
        db::outbox::pending(&mut *self.conn().await)
            .await
            .expect("outbox count")
    }

    /// Every message now in this test's `meta.capi` queue.
    pub async fn drain_capi(&self) -> Vec<Received> {
        drain_queue(&self.topology().work_queue(META_CAPI_QUEUE).name).await
    }

    /// Every message now in this test's `meta.audience` queue.
    pub async fn drain_audience(&self) -> Vec<Received> {
        drain_queue(&self.topology().work_queue(META_AUDIENCE_QUEUE).name).await
    }

    /// Waits for the outbox to empty, then drains both Meta queues.
    pub async fn dispatched(&self) -> Dispatched {
        self.wait_outbox_empty().await;
        Dispatched {
            capi: self.drain_capi().await,
            audience: self.drain_audience().await,
        }
    }

    pub fn segmenter_queue(&self) -> String {
        self.topology().work_queue(SEGMENTER_QUEUE).name
    }
}

/// A test that panicked before `stop`/`halt` still leaves no topology behind (its database is
/// dropped by [`TestDb`]).
impl Drop for TestApp {
    fn drop(&mut self) {
        if self.db.is_none() {
            return;
        }
        self.shutdown.cancel();
        let prefix = self.prefix.clone();
        on_own_runtime(async move { cleanup_topology(&prefix).await });
    }
}

/// What arrived on the Meta queues.
#[derive(Debug)]
pub struct Dispatched {
    pub capi: Vec<Received>,
    pub audience: Vec<Received>,
}

impl Dispatched {
    /// (audience, action, customer id) of every audience change, in sequence order.
    pub fn changes(&self) -> Vec<(String, AudienceAction, u64)> {
        let mut changes: Vec<(u64, String, AudienceAction, u64)> = self
            .audience
            .iter()
            .filter_map(|r| match &r.envelope.payload {
                DispatchMessage::AudienceChange(c) => Some((
                    c.sequence,
                    c.audience.as_str().to_owned(),
                    c.action,
                    c.customer_id,
                )),
                DispatchMessage::Purchase(_) => None,
            })
            .collect();
        changes.sort_by_key(|c| c.0);
        changes.into_iter().map(|(_, a, b, c)| (a, b, c)).collect()
    }

    /// The audience changes of one customer as `+audience` / `-audience`, in sequence order.
    pub fn changes_of(&self, customer_id: u64) -> Vec<String> {
        self.changes()
            .into_iter()
            .filter(|c| c.2 == customer_id)
            .map(|(audience, action, _)| match action {
                AudienceAction::Add => format!("+{audience}"),
                AudienceAction::Remove => format!("-{audience}"),
            })
            .collect()
    }

    /// The purchases, in sequence order.
    pub fn purchases(&self) -> Vec<audience_core::dispatch::Purchase> {
        let mut purchases: Vec<_> = self
            .capi
            .iter()
            .filter_map(|r| match &r.envelope.payload {
                DispatchMessage::Purchase(p) => Some(p.clone()),
                DispatchMessage::AudienceChange(_) => None,
            })
            .collect();
        purchases.sort_by_key(|p| p.sequence);
        purchases
    }
}

/// A message read from a queue.
#[derive(Debug)]
pub struct Received {
    pub envelope: Envelope<DispatchMessage>,
    pub message_id: Option<String>,
    pub routing_key: String,
}

pub async fn amqp() -> Connection {
    Connection::connect(AMQP_URL, ConnectionProperties::default())
        .await
        .expect("test connection")
}

/// Reads (and acks) every message in `queue`.
pub async fn drain_queue(queue: &str) -> Vec<Received> {
    drain_raw(queue)
        .await
        .into_iter()
        .map(|raw| Received {
            envelope: Envelope::from_slice(&raw.body).expect("a dispatch envelope"),
            message_id: raw.message_id,
            routing_key: raw.routing_key,
        })
        .collect()
}

/// A message as bytes, with its headers.
#[derive(Debug)]
pub struct RawMessage {
    pub body: Vec<u8>,
    pub message_id: Option<String>,
    pub routing_key: String,
    pub headers: Vec<(String, String)>,
}

/// Reads (and acks) every message in `queue`, as bytes.
pub async fn drain_raw(queue: &str) -> Vec<RawMessage> {
    let conn = amqp().await;
    let channel = conn.create_channel().await.expect("channel");
    let mut out = Vec::new();
    while let Some(msg) = channel
        .basic_get(queue.into(), BasicGetOptions::default())
        .await
        .expect("basic.get")
    {
        let delivery = msg.delivery;
        let props = &delivery.properties;
        let headers = props
            .headers()
            .as_ref()
            .map(|h| {
                h.inner()
                    .iter()
                    .filter_map(|(k, v)| match v {
                        AMQPValue::LongString(s) => Some((
                            k.to_string(),
                            String::from_utf8_lossy(s.as_bytes()).into_owned(),
                        )),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.push(RawMessage {
            body: delivery.data.clone(),
            message_id: props.message_id().as_ref().map(|s| s.to_string()),
            routing_key: delivery.routing_key.to_string(),
            headers,
        });
        delivery.ack(BasicAckOptions::default()).await.expect("ack");
    }
    let _ = conn.close(200, "done".into()).await;
    out
}

/// How many messages are ready in `queue`.
pub async fn queue_depth(queue: &str) -> u32 {
    let conn = amqp().await;
    let channel = conn.create_channel().await.expect("channel");
    let q = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("queue exists");
    let _ = conn.close(200, "done".into()).await;
    q.message_count()
}

/// Deletes a prefixed topology.
pub async fn cleanup_topology(prefix: &str) {
    let conn = amqp().await;
    if let Ok(channel) = conn.create_channel().await {
        let _ = audience_messaging::topology::delete(&channel, &Topology::new(prefix)).await;
    }
    let _ = conn.close(200, "cleanup".into()).await;
}

/// Polls `check` every 20 ms until it holds or `timeout` passes.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An envelope as ingest builds it, from a Shopify body for `topic`.
pub fn envelope(shop: &str, topic: Topic, body: &[u8]) -> Envelope<StoreEvent> {
    envelope_at(shop, topic, body, Utc::now())
}

/// The same, triggered at `triggered_at`.
pub fn envelope_at(
    shop: &str,
    topic: Topic,
    body: &[u8],
    triggered_at: DateTime<Utc>,
) -> Envelope<StoreEvent> {
    let ctx = Context {
        shop_domain: shop,
        shop_country: None,
    };
    let payload = events::from_webhook(topic, body, &ctx).expect("the test body fits its topic");
    Envelope {
        event_id: Some(uuid::Uuid::new_v4().to_string()),
        triggered_at: Some(triggered_at),
        ..Envelope::new(
            uuid::Uuid::new_v4().to_string(),
            shop,
            topic.as_str(),
            "2026-10",
            payload,
        )
    }
}

// ----- reading the database -----

use audience_segmenter::db::models::{CustomerRow, OrderRow, ShopRow};
use audience_segmenter::db::schema::{customers, orders, segment_transitions, shops};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;

impl TestApp {
    /// The test shop's row.
    pub async fn shop(&self) -> ShopRow {
        db::shops::by_domain(&mut *self.conn().await, SHOP)
            .await
            .expect("query")
            .expect("the shop exists")
    }

    /// A customer of the test shop.
    pub async fn customer(&self, id: u64) -> Option<CustomerRow> {
        let mut conn = self.conn().await;
        let shop_id = db::shops::by_domain(&mut conn, SHOP)
            .await
            .expect("query")?
            .shop_id;
        customers::table
            .filter(customers::shop_id.eq(shop_id))
            .filter(customers::customer_id.eq(i64::try_from(id).expect("id")))
            .select(CustomerRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .expect("query")
    }

    /// (segment, counted orders, spent) of a customer.
    pub async fn segment_of(&self, id: u64) -> (String, i32, String) {
        let c = self
            .customer(id)
            .await
            .unwrap_or_else(|| panic!("customer {id} exists"));
        (c.segment, c.orders_count, c.spent.0.to_string())
    }

    /// An order of the test shop.
    pub async fn order(&self, id: u64) -> Option<OrderRow> {
        let mut conn = self.conn().await;
        let shop_id = db::shops::by_domain(&mut conn, SHOP)
            .await
            .expect("query")?
            .shop_id;
        orders::table
            .filter(orders::shop_id.eq(shop_id))
            .filter(orders::order_id.eq(i64::try_from(id).expect("id")))
            .select(OrderRow::as_select())
            .first(&mut conn)
            .await
            .optional()
            .expect("query")
    }

    /// (from, to, cause) of a customer's transitions, oldest first.
    pub async fn transitions(&self, id: u64) -> Vec<(Option<String>, String, String)> {
        let mut conn = self.conn().await;
        segment_transitions::table
            .filter(segment_transitions::customer_id.eq(i64::try_from(id).expect("id")))
            .order(segment_transitions::transition_id)
            .select((
                segment_transitions::from_segment,
                segment_transitions::to_segment,
                segment_transitions::cause,
            ))
            .load(&mut conn)
            .await
            .expect("query")
    }

    /// Changes the test shop's settings (creating the shop first).
    pub async fn configure_shop(
        &self,
        vip_min_spent: &str,
        lapsed_after_days: i32,
        purchase_topic: &str,
        consent: &str,
    ) {
        let mut conn = self.conn().await;
        db::shops::ensure(&mut conn, &[SHOP.to_owned()])
            .await
            .expect("shop");
        let vip: audience_core::shopify::Money = vip_min_spent.parse().expect("amount");
        diesel::update(shops::table.filter(shops::shop_domain.eq(SHOP)))
            .set((
                shops::vip_min_spent.eq(db::numeric::Amount(vip)),
                shops::lapsed_after_days.eq(lapsed_after_days),
                shops::purchase_topic.eq(purchase_topic),
                shops::consent_policy.eq(consent),
            ))
            .execute(&mut conn)
            .await
            .expect("shop settings");
    }
}
