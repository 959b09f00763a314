//! Consuming a work queue in batches, for consumers that apply many messages in one database
//! transaction (the segmenter).
//!
//! [`BatchConsumer::next_batch`] waits for a first delivery, then keeps collecting until the
//! batch is full or a short linger has passed since the first one, so that a busy queue yields
//! full batches and a quiet one is not held back for long. The prefetch (set at
//! [`BatchConsumer::start`]) must be at least the batch size, and is best about twice it: the
//! broker then pushes the next batch while the current one is in the database.
//! Acknowledgements stay per delivery ([`ack`]), after the caller has committed; the moves to a
//! retry tier or the dead-letter queue are [`crate::consumer::retry_later`] and
//! [`crate::consumer::dead_letter`].

use std::time::Duration;

use futures_util::StreamExt;
pub use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicCancelOptions};
use lapin::{Channel, Consumer};

use crate::broker::Broker;
use crate::consumer::{ConsumeError, consume};

/// A consumer on its own channel, delivering in batches.
pub struct BatchConsumer {
    channel: Channel,
    consumer: Consumer,
    tag: String,
}

impl std::fmt::Debug for BatchConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchConsumer")
            .field("tag", &self.tag)
            .finish_non_exhaustive()
    }
}

/// Acknowledging a delivery failed (the channel is gone; the broker will redeliver it).
#[derive(Debug, thiserror::Error)]
#[error("cannot acknowledge the delivery")]
pub struct AckError(#[source] lapin::Error);

impl BatchConsumer {
    /// Opens a channel with `prefetch` unacknowledged deliveries and starts consuming `queue`.
    pub async fn start(
        broker: &Broker,
        queue: &str,
        prefetch: u16,
        tag: &str,
    ) -> Result<Self, ConsumeError> {
        let (channel, consumer) = consume(broker, queue, prefetch, tag).await?;
        Ok(Self {
            channel,
            consumer,
            tag: tag.to_owned(),
        })
    }

    /// The next batch: at least one delivery, at most `max`, collected for at most `linger`
    /// after the first. `None` when the consumer was cancelled or its channel closed (start a
    /// new one once the broker is back; unacknowledged deliveries are redelivered).
    pub async fn next_batch(
        &mut self,
        max: usize,
        linger: Duration,
    ) -> Option<Result<Vec<Delivery>, ConsumeError>> {
        let first = match self.consumer.next().await? {
            Ok(delivery) => delivery,
            Err(error) => return Some(Err(ConsumeError::Amqp(error))),
        };
        let mut batch = Vec::with_capacity(max.max(1));
        batch.push(first);
        let deadline = tokio::time::Instant::now() + linger;
        while batch.len() < max {
            match tokio::time::timeout_at(deadline, self.consumer.next()).await {
                Ok(Some(Ok(delivery))) => batch.push(delivery),
                // The stream failed or ended: hand over what we have; the next call reports it.
                Ok(Some(Err(_)) | None) | Err(_) => break,
            }
        }
        Some(Ok(batch))
    }

    /// Stops the consumer and closes its channel; deliveries not acknowledged yet go back to
    /// the queue.
    pub async fn close(self) {
        let _ = self
            .channel
            .basic_cancel(self.tag.as_str().into(), BasicCancelOptions::default())
            .await;
        let _ = self.channel.close(200, "consumer stopped".into()).await;
    }
}

/// Acknowledges one delivery (after its effect is committed).
pub async fn ack(delivery: &Delivery) -> Result<(), AckError> {
    delivery
        .ack(BasicAckOptions::default())
        .await
        .map(|_| ())
        .map_err(AckError)
}

/// Acknowledges `delivery` and every earlier delivery of its channel not acknowledged yet, in
/// one frame (`multiple`). Only for a consumer that settles its deliveries in order: every
/// earlier delivery must be done with.
pub async fn ack_up_to(delivery: &Delivery) -> Result<(), AckError> {
    delivery
        .ack(BasicAckOptions { multiple: true })
        .await
        .map(|_| ())
        .map_err(AckError)
}
