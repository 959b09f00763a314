//! The time sweep: on a schedule (`SEGMENTER_SWEEP_INTERVAL_SECS`, hourly by default; once at
//! start-up too), customers whose last counted order has crossed their shop's
//! `lapsed_after_days` move to `lapsed`, with the same transitions and audience changes as a
//! message would cause. (A shop that raised `lapsed_after_days` gets its customers back out of
//! `lapsed` the same way.) The sweep also forgets processed message ids older than
//! `SEGMENTER_PROCESSED_RETENTION_DAYS`.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::db::{self, Pool};
use crate::engine::{SweepCount, reclassify_customers};
use crate::metrics::Metrics;
use crate::relay::RelayHandle;
use crate::state::Key;

/// Customers reclassified per transaction.
const PAGE: i64 = 500;

/// A sweep failed (it runs again at the next tick).
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// No database connection.
    #[error("no database connection")]
    Pool(#[from] diesel_async::pooled_connection::deadpool::PoolError),
    /// A query failed.
    #[error("sweep query failed")]
    Query(#[from] diesel::result::Error),
}

/// One sweep at `now`: reclassifies every candidate, page by page; returns what changed.
pub async fn sweep_once(
    pool: &Pool,
    now: DateTime<Utc>,
    lock_timeout: Duration,
) -> Result<SweepCount, SweepError> {
    let mut conn = pool.get().await?;
    let mut total = SweepCount::default();
    let mut seen: HashSet<Key> = HashSet::new();
    loop {
        let keys = db::customers::lapse_candidates(&mut conn, now, PAGE).await?;
        // A candidate that could not be moved comes back on the next page: stop there rather
        // than loop.
        let fresh: Vec<Key> = keys.iter().copied().filter(|k| seen.insert(*k)).collect();
        if fresh.is_empty() {
            break;
        }
        let count = reclassify_customers(&mut conn, &fresh, now, lock_timeout).await?;
        total.examined += count.examined;
        total.transitions += count.transitions;
        if i64::try_from(keys.len()).unwrap_or(i64::MAX) < PAGE {
            break;
        }
    }
    Ok(total)
}

/// Deletes processed message ids older than `retention_days` before `now`.
pub async fn forget_processed(
    pool: &Pool,
    now: DateTime<Utc>,
    retention_days: u32,
) -> Result<usize, SweepError> {
    let mut conn = pool.get().await?;
    Ok(
        db::processed::forget_before(&mut conn, now - TimeDelta::days(i64::from(retention_days)))
            .await?,
    )
}

/// What the sweep task needs.
#[derive(Clone)]
pub struct SweepTask {
    /// Database.
    pub pool: Pool,
    /// Time source.
    pub clock: Clock,
    /// Between sweeps.
    pub interval: Duration,
    /// Lock wait bound.
    pub lock_timeout: Duration,
    /// Processed-id retention.
    pub retention_days: u32,
    /// Wakes the relay after a sweep that queued messages.
    pub relay: RelayHandle,
    /// Metrics.
    pub metrics: Metrics,
}

impl SweepTask {
    /// Sweeps at start-up, then every interval, until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            let now = self.clock.now();
            match sweep_once(&self.pool, now, self.lock_timeout).await {
                Ok(count) => {
                    self.metrics
                        .sweep_transitions
                        .inc_by(count.transitions as u64);
                    if count.transitions > 0 {
                        self.relay.poke();
                    }
                    tracing::info!(
                        examined = count.examined,
                        moved = count.transitions,
                        "Time sweep done."
                    );
                }
                Err(error) => {
                    tracing::warn!(error.message = %error, error.cause_chain = ?error, "Time sweep failed; it runs again at the next tick.")
                }
            }
            match forget_processed(&self.pool, now, self.retention_days).await {
                Ok(n) if n > 0 => {
                    tracing::info!(forgotten = n, "Old processed message ids forgotten.")
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::warn!(error.message = %error, "Cannot forget old processed message ids.")
                }
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
