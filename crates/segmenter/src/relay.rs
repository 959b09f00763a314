//! The outbox relay: publishes committed outbox rows to `meta.dispatch` with publisher confirms
//! and deletes them once confirmed.
//!
//! It runs right after every commit (the consumer pokes it) and, as the recovery loop, every
//! `SEGMENTER_RELAY_INTERVAL_SECS`, which picks up rows that a crash between commit and publish
//! left behind (or that another replica's relay left). One round is one transaction: lock the
//! oldest rows (`FOR UPDATE SKIP LOCKED`, so replicas share the work), publish them all at once
//! (the broker confirms a window of publishes far faster than one at a time), delete those the
//! broker confirmed, commit. A crash after the broker's confirmation and before the commit
//! publishes those rows again: every message carries the row id as its AMQP `message_id`
//! (`segmenter-outbox:<id>`) and as `sequence` in the payload, so the dispatcher deduplicates.
//!
//! The envelope is the common one: `schema_version`, `message_id`, `shop_domain`, `topic`
//! (`purchase` / `audience_change`), `received_at` (when the row was written), `api_version`
//! ([`DISPATCH_CONTRACT_VERSION`]) and the [`audience_core::dispatch::DispatchMessage`] as
//! payload.

use std::sync::Arc;
use std::time::Duration;

use audience_core::dispatch::{DISPATCH_CONTRACT_VERSION, routing_key_for_topic};
use audience_core::envelope::Envelope;
use audience_messaging::{Outgoing, Publisher};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::db::{self, Pool};
use crate::metrics::Metrics;

/// The AMQP `message_id` of an outbox row's message.
pub fn outbox_message_id(outbox_id: i64) -> String {
    format!("segmenter-outbox:{outbox_id}")
}

/// Wakes the relay (cheap; many pokes before it runs count as one).
#[derive(Clone, Debug, Default)]
pub struct RelayHandle {
    notify: Arc<Notify>,
}

impl RelayHandle {
    /// Asks the relay to publish now.
    pub fn poke(&self) {
        self.notify.notify_one();
    }
}

/// A relay round failed; the rows stay in the outbox for the next round.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// No database connection.
    #[error("no database connection")]
    Pool(#[from] diesel_async::pooled_connection::deadpool::PoolError),
    /// A query failed.
    #[error("outbox query failed")]
    Query(#[from] diesel::result::Error),
    /// Some publishes were not confirmed (the confirmed ones were deleted).
    #[error("{failed} of {total} outbox messages were not confirmed: {first}")]
    Unconfirmed {
        /// How many failed.
        failed: usize,
        /// Of how many.
        total: usize,
        /// The first error.
        first: String,
    },
}

/// The relay.
#[derive(Clone)]
pub struct Relay {
    pool: Pool,
    publisher: Publisher,
    exchange: String,
    batch: i64,
    interval: Duration,
    handle: RelayHandle,
    metrics: Metrics,
}

impl Relay {
    /// A relay publishing to the broker's `meta.dispatch` exchange, `batch` rows per round.
    pub fn new(
        pool: Pool,
        publisher: Publisher,
        batch: i64,
        interval: Duration,
        metrics: Metrics,
    ) -> Relay {
        let exchange = publisher.broker().topology().meta_dispatch();
        Relay {
            pool,
            publisher,
            exchange,
            batch,
            interval,
            handle: RelayHandle::default(),
            metrics,
        }
    }

    /// The handle that wakes this relay.
    pub fn handle(&self) -> RelayHandle {
        self.handle.clone()
    }

    /// Publishes until the outbox is empty (or a round fails); returns how many were published.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let published = self.publish_round().await?;
            total += published;
            if i64::try_from(published).unwrap_or(i64::MAX) < self.batch {
                return Ok(total);
            }
        }
    }

    /// One round: lock up to `batch` rows, publish them, delete the confirmed ones, commit.
    pub async fn publish_round(&self) -> Result<usize, RelayError> {
        let mut conn = self.pool.get().await?;
        let outcome = self.round_in_transaction(&mut conn).await;
        if matches!(outcome, Err(RelayError::Query(_))) {
            // The connection may be broken: do not hand it back to the pool.
            let _ = deadpool::managed::Object::take(conn);
        }
        let (published, failure) = outcome?;
        self.metrics.outbox_published.inc_by(published as u64);
        match failure {
            None => Ok(published),
            Some(error) => Err(error),
        }
    }

    async fn round_in_transaction(
        &self,
        conn: &mut AsyncPgConnection,
    ) -> Result<(usize, Option<RelayError>), RelayError> {
        let publisher = &self.publisher;
        let exchange = self.exchange.as_str();
        let batch = self.batch;
        let result = conn
            .transaction::<_, diesel::result::Error, _>(async |conn| {
                let rows = db::outbox::lock_oldest(conn, batch).await?;
                if rows.is_empty() {
                    return Ok((0, None));
                }
                let total = rows.len();
                let mut messages = Vec::with_capacity(total);
                for row in rows {
                    let Some(routing_key) = routing_key_for_topic(&row.topic) else {
                        tracing::error!(outbox_id = row.outbox_id, topic = %row.topic, "Outbox row has an unknown topic; left in place.");
                        continue;
                    };
                    let mut payload: serde_json::Value = match serde_json::from_str(&row.payload) {
                        Ok(payload) => payload,
                        Err(error) => {
                            tracing::error!(outbox_id = row.outbox_id, error.message = %error, "Outbox row is not JSON; left in place.");
                            continue;
                        }
                    };
                    if let Some(object) = payload.as_object_mut() {
                        object.insert("sequence".to_owned(), serde_json::Value::from(row.outbox_id));
                    }
                    let message_id = outbox_message_id(row.outbox_id);
                    let envelope = Envelope {
                        received_at: row.created_at,
                        ..Envelope::new(message_id.clone(), row.shop_domain, row.topic, DISPATCH_CONTRACT_VERSION, payload)
                    };
                    let body = envelope.to_vec().map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
                    messages.push((row.outbox_id, routing_key, message_id, body));
                }
                let confirms = futures_util::future::join_all(messages.iter().map(|(_, routing_key, message_id, body)| {
                    publisher.publish(Outgoing {
                        exchange,
                        routing_key,
                        body,
                        message_id,
                        headers: Vec::new(),
                    })
                }))
                .await;
                let mut confirmed = Vec::with_capacity(messages.len());
                let mut failed = 0;
                let mut first_error = None;
                for ((outbox_id, ..), confirm) in messages.iter().zip(confirms) {
                    match confirm {
                        Ok(()) => confirmed.push(*outbox_id),
                        Err(error) => {
                            failed += 1;
                            first_error.get_or_insert_with(|| error.to_string());
                        }
                    }
                }
                db::outbox::delete(conn, &confirmed).await?;
                let failure = first_error.map(|first| RelayError::Unconfirmed { failed, total, first });
                Ok((confirmed.len(), failure))
            })
            .await?;
        Ok(result)
    }

    /// Runs until `shutdown`: a round after every poke and every interval; after a failure,
    /// waits (growing up to the interval) before trying again. On shutdown it drains once more
    /// so that what the last batch committed goes out.
    pub async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.handle.notify.notified() => {}
                () = tokio::time::sleep(self.interval) => self.report_pending().await,
            }
            match self.drain().await {
                Ok(_) => backoff = Duration::from_millis(100),
                Err(error) => {
                    self.metrics.outbox_failures.inc();
                    tracing::warn!(error.message = %error, error.cause_chain = ?error, retry_in_ms = backoff.as_millis() as u64, "Outbox relay round failed; rows stay for the next round.");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(self.interval);
                }
            }
        }
        match self.drain().await {
            Ok(n) if n > 0 => tracing::info!(published = n, "Outbox relay drained on shutdown."),
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error.message = %error, "Outbox relay could not drain on shutdown; the next start publishes the rest.")
            }
        }
    }

    async fn report_pending(&self) {
        if let Ok(mut conn) = self.pool.get().await
            && let Ok(pending) = db::outbox::pending(&mut conn).await
        {
            self.metrics.outbox_pending.set(pending);
        }
    }
}
