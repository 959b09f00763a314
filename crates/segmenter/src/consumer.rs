//! The consumer of `segmenter.store-events` (every `shopify.*` routing key).
//!
//! Deliveries arrive with an explicit prefetch (`SEGMENTER_PREFETCH`) and are taken in batches
//! (`SEGMENTER_BATCH_SIZE`, or whatever arrived within `SEGMENTER_BATCH_WAIT_MS` of the first).
//! Each batch is decoded, then applied in order: runs of customer/order/refund events go to the
//! batch engine (one transaction per run, each message atomic inside it), and every compliance
//! or lifecycle event goes alone to [`crate::compliance`]. After the commit, each delivery is
//! settled:
//!
//! - applied or skipped (duplicate, stale, tombstoned, inactive shop): acknowledged;
//! - undecodable or breaking an invariant: moved to the dead-letter queue with the reason in
//!   `x-error-reason` (confirmed before the original is acknowledged), never retried, never
//!   dropped, and the next message goes on;
//! - a transient database error (lock timeout, deadlock, serialization): moved to the retry
//!   tier for its attempt count;
//! - the database unreachable: nothing is acknowledged; the batch is retried with backoff once
//!   the database answers (on shutdown, the deliveries go back to the queue).
//!
//! When a batch's transaction fails as a whole, its messages are applied one at a time to find
//! the one at fault, so that a single bad message costs its neighbours only a retry. Finally the
//! outbox relay is poked to publish what the batch committed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use audience_core::envelope::Envelope;
use audience_core::events::StoreEvent;
use audience_core::topology::{SEGMENTER_QUEUE, WorkQueue};
use audience_messaging::batch::{BatchConsumer, Delivery, ack, ack_up_to};
use audience_messaging::consumer::{dead_letter, retry_later};
use audience_messaging::{Broker, Publisher};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::clock::Clock;
use crate::db::Pool;
use crate::engine::{self, MessageResult};
use crate::error::{DbErrorClass, MessageError, classify_db_error};
use crate::handlers::{self, Applied};
use crate::metrics::Metrics;
use crate::relay::RelayHandle;

/// What happens to one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledge it: applied (`None`) or skipped for the reason given.
    Ack(Option<&'static str>),
    /// Move it to the dead-letter queue.
    DeadLetter {
        /// `x-error-kind`: `decode`, `invalid`, `database`.
        kind: &'static str,
        /// `x-error-reason`.
        reason: String,
    },
    /// Move it to a retry tier.
    Retry {
        /// `x-error-reason`.
        reason: String,
    },
    /// Leave it unacknowledged (shutting down while the database is unreachable): the broker
    /// redelivers it.
    Unsettled,
}

impl Outcome {
    fn metric_label(&self) -> &'static str {
        match self {
            Outcome::Ack(None) => "applied",
            Outcome::Ack(Some(reason)) => reason,
            Outcome::DeadLetter { .. } => "dead_lettered",
            Outcome::Retry { .. } => "retried",
            Outcome::Unsettled => "unsettled",
        }
    }
}

fn outcome_of(result: MessageResult) -> Outcome {
    match result {
        Ok(Applied::Changed) => Outcome::Ack(None),
        Ok(Applied::Skipped(reason)) => Outcome::Ack(Some(reason.as_str())),
        Err(error) => Outcome::DeadLetter {
            kind: error.kind(),
            reason: error.to_string(),
        },
    }
}

/// Everything the consumer needs.
#[derive(Clone)]
pub struct Consumer {
    /// The broker.
    pub broker: Broker,
    /// Confirmed publisher (for the dead-letter and retry moves).
    pub publisher: Publisher,
    /// Database.
    pub pool: Pool,
    /// Time source.
    pub clock: Clock,
    /// `SEGMENTER_PREFETCH`.
    pub prefetch: u16,
    /// `SEGMENTER_BATCH_SIZE`.
    pub batch_size: usize,
    /// `SEGMENTER_BATCH_WAIT_MS`.
    pub batch_wait: Duration,
    /// `SEGMENTER_LOCK_TIMEOUT_MS`.
    pub lock_timeout: Duration,
    /// Metrics.
    pub metrics: Metrics,
    /// Wakes the relay after each commit.
    pub relay: RelayHandle,
    /// False while the database is unreachable (readiness).
    pub db_ok: Arc<AtomicBool>,
}

enum DbFailure {
    Pool(diesel_async::pooled_connection::deadpool::PoolError),
    Query(diesel::result::Error),
}

impl DbFailure {
    fn class(&self) -> DbErrorClass {
        match self {
            DbFailure::Pool(_) => DbErrorClass::Connection,
            DbFailure::Query(error) => classify_db_error(error),
        }
    }

    fn describe(&self) -> String {
        match self {
            DbFailure::Pool(error) => format!("no database connection: {error}"),
            DbFailure::Query(error) => format!("database error: {error}"),
        }
    }
}

enum Work<'a> {
    State(Vec<&'a Envelope<StoreEvent>>),
    Compliance(&'a Envelope<StoreEvent>),
}

#[derive(Clone, Copy)]
enum Job<'a> {
    State(&'a [&'a Envelope<StoreEvent>]),
    Compliance(&'a Envelope<StoreEvent>),
}

impl Consumer {
    /// Consumes until `shutdown`; reconnects after the broker goes away. The batch in flight
    /// when `shutdown` fires is finished and settled first.
    pub async fn run(self, shutdown: CancellationToken) {
        let queue = self.broker.topology().work_queue(SEGMENTER_QUEUE);
        while !shutdown.is_cancelled() {
            let ready = tokio::select! {
                () = shutdown.cancelled() => break,
                ready = self.broker.wait_ready(Duration::from_secs(5)) => ready,
            };
            if !ready {
                continue;
            }
            let mut consumer =
                match BatchConsumer::start(&self.broker, &queue.name, self.prefetch, "segmenter")
                    .await
                {
                    Ok(consumer) => consumer,
                    Err(error) => {
                        tracing::warn!(error.message = %error, "Cannot start consuming; retrying.");
                        tokio::select! {
                            () = shutdown.cancelled() => break,
                            () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                        }
                    }
                };
            tracing::info!(queue = %queue.name, prefetch = self.prefetch, batch_size = self.batch_size, "Consuming store events.");
            loop {
                let next = tokio::select! {
                    () = shutdown.cancelled() => None,
                    next = consumer.next_batch(self.batch_size, self.batch_wait) => Some(next),
                };
                match next {
                    None => break,
                    Some(None) => {
                        tracing::warn!("Consumer stopped (channel closed); restarting.");
                        break;
                    }
                    Some(Some(Err(error))) => {
                        tracing::warn!(error.message = %error, "Consumer failed; restarting.");
                        break;
                    }
                    Some(Some(Ok(batch))) => self.handle_batch(&queue, batch, &shutdown).await,
                }
            }
            consumer.close().await;
        }
        tracing::info!("Consumer stopped.");
    }

    async fn handle_batch(
        &self,
        queue: &WorkQueue,
        batch: Vec<Delivery>,
        shutdown: &CancellationToken,
    ) {
        let span = tracing::info_span!("segmenter.batch", size = batch.len());
        if let Some(first) = batch.first() {
            audience_messaging::trace::set_parent_from(&span, first.properties.headers().as_ref());
        }
        // `instrument`, not `enter`: the span must not stay entered across awaits.
        self.handle_batch_in_span(queue, batch, shutdown)
            .instrument(span)
            .await;
    }

    async fn handle_batch_in_span(
        &self,
        queue: &WorkQueue,
        batch: Vec<Delivery>,
        shutdown: &CancellationToken,
    ) {
        let started = Instant::now();
        let outcomes = self.process(&batch, shutdown).await;
        self.metrics
            .batch_seconds
            .observe(started.elapsed().as_secs_f64());
        self.metrics.batch_size.observe(batch.len() as f64);
        for outcome in &outcomes {
            self.metrics
                .messages
                .with_label_values(&[outcome.metric_label()])
                .inc();
        }
        // Moves to the DLQ or a retry tier first (each acks its delivery once the copy is
        // confirmed); then one `multiple` ack for the rest, since deliveries are settled in
        // order and every earlier one is done with. If a delivery is left unsettled, or a move
        // failed (its delivery must stay unacknowledged, to be redelivered), one by one.
        let mut moves_ok = true;
        for (delivery, outcome) in batch.iter().zip(&outcomes) {
            if matches!(outcome, Outcome::DeadLetter { .. } | Outcome::Retry { .. }) {
                moves_ok &= self.settle(queue, delivery, outcome).await;
            }
        }
        let mut acks = batch
            .iter()
            .zip(&outcomes)
            .filter(|(_, o)| matches!(o, Outcome::Ack(_)));
        if moves_ok && !outcomes.contains(&Outcome::Unsettled) {
            if let Some((last, _)) = acks.next_back()
                && let Err(error) = ack_up_to(last).await
            {
                tracing::warn!(error.message = %error, "Cannot acknowledge the batch; the broker will redeliver it.");
            }
        } else {
            for (delivery, outcome) in acks {
                self.settle(queue, delivery, outcome).await;
            }
        }
        self.relay.poke();
    }

    /// Decodes and applies a batch; one outcome per delivery, in order.
    pub async fn process(&self, batch: &[Delivery], shutdown: &CancellationToken) -> Vec<Outcome> {
        let decoded: Vec<Result<Envelope<StoreEvent>, MessageError>> = batch
            .iter()
            .map(|d| Envelope::from_slice(&d.data).map_err(MessageError::from))
            .collect();
        let mut outcomes: Vec<Option<Outcome>> = vec![None; batch.len()];
        let mut work: Vec<(Vec<usize>, Work<'_>)> = Vec::new();
        let mut run: (Vec<usize>, Vec<&Envelope<StoreEvent>>) = (Vec::new(), Vec::new());
        for (index, message) in decoded.iter().enumerate() {
            match message {
                Err(error) => {
                    // The reason goes to the dead-letter queue's headers only: a parse error
                    // can quote payload values, which logs never carry.
                    tracing::warn!(
                        kind = error.kind(),
                        "Message cannot be applied; dead-lettering it."
                    );
                    outcomes[index] = Some(Outcome::DeadLetter {
                        kind: error.kind(),
                        reason: error.to_string(),
                    });
                }
                Ok(envelope) if handlers::is_state_event(&envelope.payload) => {
                    run.0.push(index);
                    run.1.push(envelope);
                }
                Ok(envelope) => {
                    if !run.0.is_empty() {
                        let (indices, envelopes) = std::mem::take(&mut run);
                        work.push((indices, Work::State(envelopes)));
                    }
                    work.push((vec![index], Work::Compliance(envelope)));
                }
            }
        }
        if !run.0.is_empty() {
            work.push((run.0, Work::State(run.1)));
        }
        for (indices, item) in work {
            let results = match item {
                Work::State(envelopes) => self.apply_state(&envelopes, shutdown).await,
                Work::Compliance(envelope) => vec![self.apply_compliance(envelope, shutdown).await],
            };
            for (index, outcome) in indices.into_iter().zip(results) {
                outcomes[index] = Some(outcome);
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or(Outcome::Unsettled))
            .collect()
    }

    /// A run of state messages in one transaction; on a database error, one at a time.
    async fn apply_state(
        &self,
        envelopes: &[&Envelope<StoreEvent>],
        shutdown: &CancellationToken,
    ) -> Vec<Outcome> {
        match self.with_db(shutdown, Job::State(envelopes)).await {
            Some(Ok(results)) => results.into_iter().map(outcome_of).collect(),
            None => vec![Outcome::Unsettled; envelopes.len()],
            Some(Err(failure)) if envelopes.len() == 1 => vec![self.failed(&failure)],
            Some(Err(failure)) => {
                tracing::info!(size = envelopes.len(), error.message = %failure.describe(), "Batch failed; applying its messages one by one.");
                let mut outcomes = Vec::with_capacity(envelopes.len());
                for envelope in envelopes {
                    let one = [*envelope];
                    let outcome = match self.with_db(shutdown, Job::State(&one)).await {
                        Some(Ok(mut results)) => {
                            results.pop().map_or(Outcome::Unsettled, outcome_of)
                        }
                        Some(Err(failure)) => self.failed(&failure),
                        None => Outcome::Unsettled,
                    };
                    outcomes.push(outcome);
                }
                outcomes
            }
        }
    }

    async fn apply_compliance(
        &self,
        envelope: &Envelope<StoreEvent>,
        shutdown: &CancellationToken,
    ) -> Outcome {
        match self.with_db(shutdown, Job::Compliance(envelope)).await {
            Some(Ok(mut results)) => results.pop().map_or(Outcome::Unsettled, outcome_of),
            Some(Err(failure)) => self.failed(&failure),
            None => Outcome::Unsettled,
        }
    }

    /// The outcome of a message whose own transaction failed.
    fn failed(&self, failure: &DbFailure) -> Outcome {
        match failure.class() {
            DbErrorClass::Transient | DbErrorClass::Connection => Outcome::Retry {
                reason: failure.describe(),
            },
            DbErrorClass::Permanent => Outcome::DeadLetter {
                kind: "database",
                reason: failure.describe(),
            },
        }
    }

    /// Runs `job` on a pooled connection. While the database is unreachable it waits and
    /// tries again (with backoff), until it answers or `shutdown` (then `None`). Other errors
    /// are returned.
    async fn with_db(
        &self,
        shutdown: &CancellationToken,
        job: Job<'_>,
    ) -> Option<Result<Vec<MessageResult>, DbFailure>> {
        let mut backoff = Duration::from_millis(200);
        loop {
            let attempt = match self.pool.get().await {
                Err(error) => Err(DbFailure::Pool(error)),
                Ok(mut conn) => {
                    let now = self.clock.now();
                    let result = match job {
                        Job::State(envelopes) => {
                            engine::apply_batch(&mut conn, envelopes, now, self.lock_timeout).await
                        }
                        Job::Compliance(envelope) => {
                            crate::compliance::apply(&mut conn, envelope, now, self.lock_timeout)
                                .await
                                .map(|r| vec![r])
                        }
                    };
                    result.map_err(|error| {
                        // The connection may be broken: do not hand it back to the pool.
                        let _ = deadpool::managed::Object::take(conn);
                        DbFailure::Query(error)
                    })
                }
            };
            match attempt {
                Ok(value) => {
                    if !self.db_ok.swap(true, Ordering::Relaxed) {
                        tracing::info!("Database reachable again.");
                    }
                    return Some(Ok(value));
                }
                Err(failure) if failure.class() == DbErrorClass::Connection => {
                    if self.db_ok.swap(false, Ordering::Relaxed) {
                        tracing::warn!(error.message = %failure.describe(), "Database unreachable; holding the batch and retrying.");
                    }
                    tokio::select! {
                        () = shutdown.cancelled() => return None,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(failure) => return Some(Err(failure)),
            }
        }
    }

    /// Settles one delivery; false if that failed (it stays unacknowledged).
    async fn settle(&self, queue: &WorkQueue, delivery: &Delivery, outcome: &Outcome) -> bool {
        let result = match outcome {
            Outcome::Ack(_) => ack(delivery).await.map_err(|e| e.to_string()),
            Outcome::DeadLetter { kind, reason } => {
                let message_id = audience_messaging::consumer::message_id(delivery);
                tracing::warn!(
                    kind,
                    message_id = message_id.as_deref().unwrap_or(""),
                    "Message dead-lettered; the reason is in its x-error-reason header."
                );
                dead_letter(&self.publisher, queue, delivery, kind, reason)
                    .await
                    .map_err(|e| e.to_string())
            }
            Outcome::Retry { reason } => {
                let message_id = audience_messaging::consumer::message_id(delivery);
                tracing::info!(
                    message_id = message_id.as_deref().unwrap_or(""),
                    attempt = audience_messaging::consumer::attempt(delivery),
                    "Message sent to a retry tier."
                );
                retry_later(&self.publisher, queue, delivery, reason)
                    .await
                    .map_err(|e| e.to_string())
            }
            Outcome::Unsettled => Ok(()),
        };
        match result {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(error.message = %error, "Cannot settle a delivery; the broker will redeliver it.");
                false
            }
        }
    }
}
