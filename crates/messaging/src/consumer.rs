//! Consuming work queues: explicit prefetch, manual acks, and the two ways out for a message
//! that cannot be handled now — a retry tier or the dead-letter queue.
//!
//! Both ways out are consumer-side moves with publisher confirms: the copy is published
//! (with our `x-error-*` headers saying why) and confirmed *before* the original is acked, so a
//! crash in between leads to a redelivery, never a loss; consumers are idempotent by message id,
//! so the redelivery does not double an effect. (`basic.reject` to the broker's dead-letter
//! exchange would be at-least-once too, but could not carry the reason.)

use audience_core::topology::WorkQueue;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, Consumer};

use crate::broker::{Broker, BrokerUnavailable};
use crate::publisher::{Outgoing, PublishError, Publisher};

/// Header: how many times the message has failed transiently so far.
pub const ATTEMPT_HEADER: &str = "x-attempt";
/// Header: why the message was dead-lettered or retried.
pub const ERROR_REASON_HEADER: &str = "x-error-reason";
/// Header: the error's class (`permanent`, `transient`, `decode`, …).
pub const ERROR_KIND_HEADER: &str = "x-error-kind";
/// Header: the work queue the message came from.
pub const ORIGINAL_QUEUE_HEADER: &str = "x-original-queue";
/// Header: when (RFC 3339) it was moved.
pub const ERROR_AT_HEADER: &str = "x-error-at";

/// Opens a channel with `prefetch` and starts consuming `queue`.
pub async fn consume(
    broker: &Broker,
    queue: &str,
    prefetch: u16,
    tag: &str,
) -> Result<(Channel, Consumer), ConsumeError> {
    let channel = broker.open_channel().await?;
    channel
        .basic_qos(prefetch, BasicQosOptions::default())
        .await
        .map_err(ConsumeError::Amqp)?;
    let consumer = channel
        .basic_consume(
            queue.into(),
            tag.into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(ConsumeError::Amqp)?;
    Ok((channel, consumer))
}

/// Starting a consumer failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsumeError {
    /// The broker is not connected.
    #[error(transparent)]
    Unavailable(#[from] BrokerUnavailable),
    /// The broker refused.
    #[error("cannot start consuming")]
    Amqp(#[source] lapin::Error),
}

/// How many transient failures this delivery has seen (0 for a first delivery).
pub fn attempt(delivery: &Delivery) -> u32 {
    let headers = delivery.properties.headers().as_ref();
    match headers.and_then(|h| h.inner().get(ATTEMPT_HEADER)) {
        Some(AMQPValue::LongString(s)) => std::str::from_utf8(s.as_bytes())
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        Some(AMQPValue::LongLongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        Some(AMQPValue::LongInt(n)) => u32::try_from(*n).unwrap_or(u32::MAX),
        _ => 0,
    }
}

/// A header of the delivery as a string, if present.
pub fn header(delivery: &Delivery, name: &str) -> Option<String> {
    match delivery.properties.headers().as_ref()?.inner().get(name)? {
        AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok().map(str::to_owned),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

/// The delivery's AMQP message id, if any.
pub fn message_id(delivery: &Delivery) -> Option<String> {
    delivery
        .properties
        .message_id()
        .as_ref()
        .map(|s| s.as_str().to_owned())
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn copy_headers(delivery: &Delivery, skip: &[&str]) -> Vec<(String, String)> {
    let Some(headers) = delivery.properties.headers().as_ref() else {
        return Vec::new();
    };
    headers
        .inner()
        .iter()
        .filter(|(k, _)| !skip.contains(&k.as_str()))
        .filter_map(|(k, v)| match v {
            AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes())
                .ok()
                .map(|s| (k.as_str().to_owned(), s.to_owned())),
            AMQPValue::ShortString(s) => Some((k.as_str().to_owned(), s.as_str().to_owned())),
            _ => None,
        })
        .collect()
}

/// Moves `delivery` to its work queue's dead-letter queue with `reason`, then acks it.
/// On error the delivery is left unacked (it will be redelivered).
pub async fn dead_letter(
    publisher: &Publisher,
    queue: &WorkQueue,
    delivery: &Delivery,
    kind: &str,
    reason: &str,
) -> Result<(), PublishError> {
    let topology = publisher.broker().topology();
    let mut headers = copy_headers(
        delivery,
        &[ERROR_REASON_HEADER, ERROR_KIND_HEADER, ERROR_AT_HEADER],
    );
    headers.push((ERROR_REASON_HEADER.to_owned(), truncate(reason, 1000)));
    headers.push((ERROR_KIND_HEADER.to_owned(), kind.to_owned()));
    headers.push((ORIGINAL_QUEUE_HEADER.to_owned(), queue.name.clone()));
    headers.push((ERROR_AT_HEADER.to_owned(), now_rfc3339()));
    let exchange = topology.dead_letter_exchange();
    move_delivery(publisher, delivery, &exchange, &queue.name, &headers).await
}

/// Sends `delivery` to the retry tier for its attempt count (it comes back to the work queue
/// when the tier's TTL expires), then acks it.
pub async fn retry_later(
    publisher: &Publisher,
    queue: &WorkQueue,
    delivery: &Delivery,
    reason: &str,
) -> Result<(), PublishError> {
    let attempt = attempt(delivery);
    let mut headers = copy_headers(
        delivery,
        &[ATTEMPT_HEADER, ERROR_REASON_HEADER, ERROR_KIND_HEADER],
    );
    headers.push((
        ATTEMPT_HEADER.to_owned(),
        (attempt.saturating_add(1)).to_string(),
    ));
    headers.push((ERROR_REASON_HEADER.to_owned(), truncate(reason, 1000)));
    headers.push((ERROR_KIND_HEADER.to_owned(), "transient".to_owned()));
    // The default exchange routes by queue name.
    move_delivery(
        publisher,
        delivery,
        "",
        queue.retry_queue(attempt),
        &headers,
    )
    .await
}

/// Publishes a copy of `delivery` (same body and message id, with `headers`) and acks the
/// original only once the broker has confirmed the copy.
async fn move_delivery(
    publisher: &Publisher,
    delivery: &Delivery,
    exchange: &str,
    routing_key: &str,
    headers: &[(String, String)],
) -> Result<(), PublishError> {
    let message_id = message_id(delivery).unwrap_or_default();
    publisher
        .publish(Outgoing {
            exchange,
            routing_key,
            body: &delivery.data,
            message_id: &message_id,
            headers: headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect(),
        })
        .await?;
    delivery
        .ack(BasicAckOptions::default())
        .await
        .map_err(PublishError::Channel)?;
    Ok(())
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
