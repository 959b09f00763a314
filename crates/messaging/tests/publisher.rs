//! The publisher against the real RabbitMQ: every answer the broker can give to a confirmed,
//! mandatory publish reaches the right caller, also when many are in flight on the same
//! channels. Each test has its own topology prefix.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use audience_core::topology::{SEGMENTER_QUEUE, Topology};
use audience_messaging::{Broker, BrokerSettings, Outgoing, PublishError, Publisher};
use futures_util::future::join_all;
use lapin::options::{BasicGetOptions, QueueDeclareOptions, QueueDeleteOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Connection, ConnectionProperties};

const URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

struct Fixture {
    prefix: String,
    broker: Broker,
    publisher: Publisher,
    conn: Connection,
    channel: lapin::Channel,
}

impl Fixture {
    async fn start() -> Self {
        Self::start_with_channels(BrokerSettings::new(URL, "", "").channels).await
    }

    /// With `channels` publishing channels in the pool.
    async fn start_with_channels(channels: usize) -> Self {
        let prefix = format!("t-{}.", uuid::Uuid::new_v4().simple());
        let mut settings = BrokerSettings::new(URL, &prefix, "publisher-test");
        settings.channels = channels;
        let broker = Broker::start(settings);
        assert!(broker.wait_ready(Duration::from_secs(20)).await, "ready");
        let publisher = Publisher::new(broker.clone(), Duration::from_secs(5));
        let conn = Connection::connect(URL, ConnectionProperties::default())
            .await
            .expect("test connection");
        let channel = conn.create_channel().await.expect("channel");
        Self {
            prefix,
            broker,
            publisher,
            conn,
            channel,
        }
    }

    fn events_exchange(&self) -> String {
        self.broker.topology().shopify_events()
    }

    async fn publish(&self, exchange: &str, key: &str, id: &str) -> Result<(), PublishError> {
        self.publisher
            .publish(Outgoing {
                exchange,
                routing_key: key,
                body: format!("{{\"id\":\"{id}\"}}").as_bytes(),
                message_id: id,
                headers: vec![("x-test", id.to_owned())],
            })
            .await
    }

    /// Message ids in this test's segmenter queue (taken off it).
    async fn stored_ids(&self) -> BTreeSet<String> {
        let queue = Topology::new(&self.prefix).work_queue(SEGMENTER_QUEUE).name;
        let mut ids = BTreeSet::new();
        while let Some(msg) = self
            .channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .expect("basic.get")
        {
            let props = &msg.delivery.properties;
            assert_eq!(*props.delivery_mode(), Some(2), "persistent");
            let id = props.message_id().as_ref().expect("message id").to_string();
            let header = props
                .headers()
                .as_ref()
                .and_then(|h| h.inner().get("x-test").cloned());
            assert_eq!(
                header,
                Some(AMQPValue::LongString(id.clone().into())),
                "headers travel with the message"
            );
            ids.insert(id);
        }
        ids
    }

    async fn stop(self) {
        let _ =
            audience_messaging::topology::delete(&self.channel, &Topology::new(&self.prefix)).await;
        let _ = self.conn.close(200, "done".into()).await;
        self.broker.close().await;
    }
}

#[tokio::test]
async fn many_publishes_in_flight_are_each_confirmed_and_stored() {
    let f = Fixture::start().await;
    let exchange = f.events_exchange();
    let ids: Vec<String> = (0..600).map(|i| format!("m-{i}")).collect();
    let results = join_all(
        ids.iter()
            .map(|id| f.publish(&exchange, "shopify.orders.create", id)),
    )
    .await;
    for (id, result) in ids.iter().zip(&results) {
        assert!(result.is_ok(), "{id}: {result:?}");
    }
    assert_eq!(f.stored_ids().await, ids.iter().cloned().collect());
    f.stop().await;
}

#[tokio::test]
async fn an_unroutable_publish_fails_and_only_that_one_among_routable_ones_in_flight() {
    let f = Fixture::start().await;
    let exchange = f.events_exchange();
    let unroutable = "nothing.binds.this";
    let plan: Vec<(String, &str)> = (0..200)
        .map(|i| {
            let key = if i % 3 == 1 {
                unroutable
            } else {
                "shopify.customers.create"
            };
            (format!("m-{i}"), key)
        })
        .collect();
    let results = join_all(plan.iter().map(|(id, key)| f.publish(&exchange, key, id))).await;
    let plan: Vec<(&str, &str)> = plan.iter().map(|(id, key)| (id.as_str(), *key)).collect();
    assert_only_unroutable_failed(&plan, &results, &exchange, unroutable);
    let stored: BTreeSet<String> = plan
        .iter()
        .filter(|(_, key)| *key != unroutable)
        .map(|(id, _)| (*id).to_owned())
        .collect();
    assert_eq!(f.stored_ids().await, stored);
    f.stop().await;
}

/// Each publish of `plan` (message id, routing key) sent to `unroutable` came back unroutable,
/// naming the exchange and routing key it was sent with; every other one was confirmed.
fn assert_only_unroutable_failed(
    plan: &[(&str, &str)],
    results: &[Result<(), PublishError>],
    exchange: &str,
    unroutable: &str,
) {
    assert_eq!(plan.len(), results.len());
    for ((id, key), result) in plan.iter().zip(results) {
        if *key == unroutable {
            assert!(
                matches!(result, Err(PublishError::Unroutable { exchange: e, routing_key })
                    if e == exchange && routing_key == unroutable),
                "{id} to {key}: {result:?}"
            );
        } else {
            assert!(result.is_ok(), "{id} to {key}: {result:?}");
        }
    }
}

#[tokio::test]
async fn a_return_fails_the_unroutable_publish_not_its_twin_with_the_same_id() {
    // Redeliveries and replays can put two publishes with one message id in flight at once.
    // Each id below goes out twice on the default exchange, once to this test's queue and once
    // to a queue that does not exist, so the broker returns one twin and stores the other: the
    // return must reach the unroutable twin (matched on exchange, routing key and id), or the
    // stored one would fail and the lost one would be reported confirmed. One publishing
    // channel, so that both twins wait on the same channel's confirmations.
    let f = Fixture::start_with_channels(1).await;
    let queue = Topology::new(&f.prefix).work_queue(SEGMENTER_QUEUE).name;
    let missing = format!("{}no-such-queue", f.prefix);
    let ids: Vec<String> = (0..150).map(|i| format!("twin-{i}")).collect();
    let plan: Vec<(&str, &str)> = ids
        .iter()
        .flat_map(|id| {
            // Odd ids publish the stored twin first: its confirmation waits for the quorum
            // queue while the other twin's return arrives, the case an id-only match gets
            // wrong. Even ids go the other way round.
            let (first, second) = if id.ends_with(['0', '2', '4', '6', '8']) {
                (missing.as_str(), queue.as_str())
            } else {
                (queue.as_str(), missing.as_str())
            };
            [(id.as_str(), first), (id.as_str(), second)]
        })
        .collect();
    let results = join_all(plan.iter().map(|(id, key)| f.publish("", key, id))).await;
    assert_only_unroutable_failed(&plan, &results, "", &missing);
    assert_eq!(f.stored_ids().await, ids.iter().cloned().collect());
    f.stop().await;
}

#[tokio::test]
async fn a_publish_the_broker_refuses_is_a_nack() {
    let f = Fixture::start().await;
    // A queue that refuses every message: RabbitMQ nacks publishes it rejects.
    let full = format!("{}full", f.prefix);
    let mut args = FieldTable::default();
    args.insert("x-max-length".into(), AMQPValue::LongLongInt(0));
    args.insert(
        "x-overflow".into(),
        AMQPValue::LongString("reject-publish".into()),
    );
    f.channel
        .queue_declare(full.as_str().into(), QueueDeclareOptions::default(), args)
        .await
        .expect("declare");
    let result = f.publish("", &full, "refused").await;
    assert!(matches!(result, Err(PublishError::Nacked)), "{result:?}");
    // The channel stays usable.
    let exchange = f.events_exchange();
    f.publish(&exchange, "shopify.orders.paid", "after")
        .await
        .expect("next publish confirmed");
    let _ = f
        .channel
        .queue_delete(full.as_str().into(), QueueDeleteOptions::default())
        .await;
    f.stop().await;
}

#[tokio::test]
async fn a_channel_the_broker_closes_fails_its_publish_and_the_pool_recovers() {
    let f = Fixture::start().await;
    // Publishing to an exchange that does not exist makes the broker close the channel (404).
    let missing = format!("{}missing", f.prefix);
    let result = f.publish(&missing, "any", "lost").await;
    assert!(
        matches!(result, Err(PublishError::Closed | PublishError::Send(_))),
        "{result:?}"
    );
    // The manager reopens the pool; soon every channel of it confirms again.
    let exchange = f.events_exchange();
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut streak = 0;
    while streak < 8 {
        assert!(Instant::now() < deadline, "the pool did not recover");
        match f
            .publish(&exchange, "shopify.orders.paid", &format!("r-{streak}"))
            .await
        {
            Ok(()) => streak += 1,
            Err(_) => {
                streak = 0;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    assert!(f.broker.is_ready());
    f.stop().await;
}
