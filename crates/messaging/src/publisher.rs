//! The one way to publish: persistent, mandatory, confirmed.
//!
//! [`Publisher::publish`] resolves `Ok` only when the broker has confirmed the message
//! (publisher confirms, <https://www.rabbitmq.com/docs/confirms#publisher-confirms>): for a
//! quorum queue that means a majority of its replicas wrote it. A `nack`, a returned
//! (unroutable) message, a closed channel or no confirmation within the timeout are errors,
//! so the caller can refuse the work (ingest answers 503 and Shopify retries) instead of
//! losing it. Concurrent publishes on a shared channel form the window of in-flight
//! messages that keeps the broker busy.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use amqprs::{BasicProperties, FieldTable, FieldValue};

use crate::broker::{Broker, BrokerUnavailable};
use crate::confirm::{Outcome, SendError};

/// Why a message was not confirmed. Every variant means "not stored: try again later".
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No connection to the broker right now.
    #[error("the message broker is not available")]
    Unavailable(#[from] BrokerUnavailable),
    /// The broker refused the message (for example a full queue with `reject-publish`).
    #[error("the message broker refused the message (nack)")]
    Nacked,
    /// No queue is bound for the routing key; the message would have been dropped.
    #[error("no queue is bound for routing key {routing_key:?} on exchange {exchange:?}")]
    Unroutable {
        /// Exchange published to.
        exchange: String,
        /// Routing key used.
        routing_key: String,
    },
    /// No confirmation arrived in time.
    #[error("the message broker did not confirm within {0:?}")]
    Timeout(Duration),
    /// The channel closed before the broker confirmed the message.
    #[error("the publishing channel closed before the broker confirmed the message")]
    Closed,
    /// The publishing client could not send the message.
    #[error("publishing failed")]
    Send(#[source] amqprs::error::Error),
    /// A consumer's channel failed (acknowledging the original of a moved delivery).
    #[error("the consumer's channel failed")]
    Channel(#[source] lapin::Error),
}

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// Exchange name (full, prefixed); empty for the default exchange.
    pub exchange: &'a str,
    /// Routing key (for the default exchange: the queue name).
    pub routing_key: &'a str,
    /// The body (JSON).
    pub body: &'a [u8],
    /// AMQP `message_id`: the consumer's deduplication key.
    pub message_id: &'a str,
    /// Extra headers (trace context is added by the publisher).
    pub headers: Vec<(&'a str, String)>,
}

/// Publishes through the broker's pooled confirm channels.
#[derive(Clone, Debug)]
pub struct Publisher {
    broker: Broker,
    confirm_timeout: Duration,
}

impl Publisher {
    /// A publisher that waits at most `confirm_timeout` for each confirmation.
    pub fn new(broker: Broker, confirm_timeout: Duration) -> Self {
        Self {
            broker,
            confirm_timeout,
        }
    }

    /// The broker handle.
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// Publishes `msg` persistently and waits for the broker's confirmation.
    pub async fn publish(&self, msg: Outgoing<'_>) -> Result<(), PublishError> {
        self.broker.run_here();
        let channel = self.broker.channel()?;
        let mut headers = FieldTable::new();
        for (key, value) in msg.headers {
            // AMQP field names are at most 255 bytes; ours are a handful of fixed names.
            if let Ok(key) = amqprs::FieldName::try_from(key) {
                headers.insert(key, FieldValue::from(value));
            }
        }
        crate::trace::inject_current(&mut headers);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let properties = BasicProperties::default()
            .with_persistence(true)
            .with_content_type("application/json")
            .with_message_id(msg.message_id)
            .with_timestamp(timestamp)
            .with_headers(headers)
            .finish();
        let work = async {
            let confirmation = channel
                .publish(msg.exchange, msg.routing_key, properties, msg.body.to_vec())
                .await?;
            confirmation.await.map_err(|_| SendError::Closed)
        };
        let outcome = tokio::time::timeout(self.confirm_timeout, work).await;
        match outcome {
            Err(_) => {
                self.broker.report_timeout();
                Err(PublishError::Timeout(self.confirm_timeout))
            }
            Ok(Err(error)) => {
                self.broker.report_trouble();
                Err(match error {
                    SendError::Closed => PublishError::Closed,
                    SendError::Amqp(error) => PublishError::Send(error),
                })
            }
            Ok(Ok(outcome)) => {
                self.broker.report_confirmed();
                match outcome {
                    Outcome::Ack => Ok(()),
                    Outcome::Returned => Err(PublishError::Unroutable {
                        exchange: msg.exchange.to_owned(),
                        routing_key: msg.routing_key.to_owned(),
                    }),
                    Outcome::Nack => Err(PublishError::Nacked),
                }
            }
        }
    }
}
