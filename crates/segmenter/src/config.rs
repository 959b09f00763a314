//! The segmenter's settings, from the environment (names and defaults in `docs/segmenter.md`).
//! A bad value stops start-up with a message naming the variable.

use std::net::SocketAddr;
use std::time::Duration;

use audience_runtime::env::{self, ConfigError};

use crate::clock::Clock;

/// Default database for a local run.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/audience_sync";
/// Default AMQP URL for a local broker.
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Everything the segmenter needs to run.
#[derive(Clone, Debug)]
pub struct SegmenterSettings {
    /// `DATABASE_URL`: the PostgreSQL database.
    pub database_url: String,
    /// `AMQP_URL`: the broker.
    pub amqp_url: String,
    /// `AMQP_PREFIX`: topology name prefix (empty in production).
    pub amqp_prefix: String,
    /// `SEGMENTER_HTTP_BIND`: health, readiness and metrics (default `0.0.0.0:8081`).
    pub http_bind: SocketAddr,
    /// `SEGMENTER_PREFETCH`: unacknowledged deliveries the broker may push (default 1000).
    pub prefetch: u16,
    /// `SEGMENTER_BATCH_SIZE`: most messages applied in one database transaction (default 500,
    /// at most the prefetch).
    pub batch_size: usize,
    /// `SEGMENTER_BATCH_WAIT_MS`: how long a batch waits to fill after its first message
    /// (default 10 ms).
    pub batch_wait: Duration,
    /// `SEGMENTER_DB_POOL_SIZE`: database connections (default 4).
    pub db_pool_size: usize,
    /// `SEGMENTER_LOCK_TIMEOUT_MS`: longest wait for a customer's lock before the message goes
    /// to a retry tier (default 5000 ms).
    pub lock_timeout: Duration,
    /// `SEGMENTER_CONFIRM_TIMEOUT_MS`: longest wait for the broker's confirmation of a publish
    /// (default 5000 ms).
    pub confirm_timeout: Duration,
    /// `SEGMENTER_RELAY_INTERVAL_SECS`: how often the outbox relay looks for rows left behind
    /// (default 5 s); it also runs right after every commit.
    pub relay_interval: Duration,
    /// `SEGMENTER_RELAY_BATCH`: outbox rows published per relay transaction (default 1000).
    pub relay_batch: i64,
    /// `SEGMENTER_RELAY_ENABLED`: `false` runs without the relay (rows stay in the outbox for
    /// another instance; tests use it to simulate a crash before publishing). Default `true`.
    pub relay_enabled: bool,
    /// `SEGMENTER_SWEEP_INTERVAL_SECS`: how often the time sweep runs (default 3600 s).
    pub sweep_interval: Duration,
    /// `SEGMENTER_PROCESSED_RETENTION_DAYS`: how long processed message ids are kept for
    /// deduplication (default 30 days).
    pub processed_retention_days: u32,
    /// `SEGMENTER_SHUTDOWN_TIMEOUT_SECS`: how long the in-flight batch and the relay may take to
    /// finish on SIGTERM (default 25 s).
    pub shutdown_timeout: Duration,
    /// The time source (the system clock; tests shift it).
    pub clock: Clock,
}

impl SegmenterSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let prefetch: u16 = env::parse_or("SEGMENTER_PREFETCH", 1000)?;
        if prefetch == 0 {
            return Err(env::invalid(
                "SEGMENTER_PREFETCH",
                prefetch,
                "must be at least 1",
            ));
        }
        let batch_size: usize = env::parse_or("SEGMENTER_BATCH_SIZE", 500)?;
        if batch_size == 0 || batch_size > usize::from(prefetch) {
            return Err(env::invalid(
                "SEGMENTER_BATCH_SIZE",
                batch_size,
                format!("must be between 1 and SEGMENTER_PREFETCH ({prefetch})"),
            ));
        }
        let batch_wait_ms: u64 = env::parse_or("SEGMENTER_BATCH_WAIT_MS", 10)?;
        if batch_wait_ms > 10_000 {
            return Err(env::invalid(
                "SEGMENTER_BATCH_WAIT_MS",
                batch_wait_ms,
                "must be at most 10000",
            ));
        }
        let db_pool_size: usize = env::parse_or("SEGMENTER_DB_POOL_SIZE", 4)?;
        if !(2..=64).contains(&db_pool_size) {
            return Err(env::invalid(
                "SEGMENTER_DB_POOL_SIZE",
                db_pool_size,
                "must be between 2 and 64",
            ));
        }
        let lock_timeout_ms: u64 = env::parse_or("SEGMENTER_LOCK_TIMEOUT_MS", 5000)?;
        if !(10..=600_000).contains(&lock_timeout_ms) {
            return Err(env::invalid(
                "SEGMENTER_LOCK_TIMEOUT_MS",
                lock_timeout_ms,
                "must be between 10 and 600000",
            ));
        }
        let confirm_ms: u64 = env::parse_or("SEGMENTER_CONFIRM_TIMEOUT_MS", 5000)?;
        if !(100..=60_000).contains(&confirm_ms) {
            return Err(env::invalid(
                "SEGMENTER_CONFIRM_TIMEOUT_MS",
                confirm_ms,
                "must be between 100 and 60000",
            ));
        }
        let relay_secs: u64 = env::parse_or("SEGMENTER_RELAY_INTERVAL_SECS", 5)?;
        if relay_secs == 0 {
            return Err(env::invalid(
                "SEGMENTER_RELAY_INTERVAL_SECS",
                relay_secs,
                "must be at least 1",
            ));
        }
        let relay_batch: i64 = env::parse_or("SEGMENTER_RELAY_BATCH", 1000)?;
        if !(1..=10_000).contains(&relay_batch) {
            return Err(env::invalid(
                "SEGMENTER_RELAY_BATCH",
                relay_batch,
                "must be between 1 and 10000",
            ));
        }
        let relay_enabled: bool = env::parse_or("SEGMENTER_RELAY_ENABLED", true)?;
        let sweep_secs: u64 = env::parse_or("SEGMENTER_SWEEP_INTERVAL_SECS", 3600)?;
        if sweep_secs == 0 {
            return Err(env::invalid(
                "SEGMENTER_SWEEP_INTERVAL_SECS",
                sweep_secs,
                "must be at least 1",
            ));
        }
        let retention: u32 = env::parse_or("SEGMENTER_PROCESSED_RETENTION_DAYS", 30)?;
        if retention < 3 {
            return Err(env::invalid(
                "SEGMENTER_PROCESSED_RETENTION_DAYS",
                retention,
                "must be at least 3 (Shopify retries a webhook for up to 48 hours)",
            ));
        }
        let shutdown_secs: u64 = env::parse_or("SEGMENTER_SHUTDOWN_TIMEOUT_SECS", 25)?;
        let database_url = env::string_or("DATABASE_URL", DEFAULT_DATABASE_URL);
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(env::invalid(
                "DATABASE_URL",
                "<redacted>",
                "must be a postgres:// URL",
            ));
        }
        Ok(Self {
            database_url,
            amqp_url: env::string_or("AMQP_URL", DEFAULT_AMQP_URL),
            amqp_prefix: env::string_or("AMQP_PREFIX", ""),
            http_bind: env::parse_or(
                "SEGMENTER_HTTP_BIND",
                SocketAddr::from(([0, 0, 0, 0], 8081)),
            )?,
            prefetch,
            batch_size,
            batch_wait: Duration::from_millis(batch_wait_ms),
            db_pool_size,
            lock_timeout: Duration::from_millis(lock_timeout_ms),
            confirm_timeout: Duration::from_millis(confirm_ms),
            relay_interval: Duration::from_secs(relay_secs),
            relay_batch,
            relay_enabled,
            sweep_interval: Duration::from_secs(sweep_secs),
            processed_retention_days: retention,
            shutdown_timeout: Duration::from_secs(shutdown_secs),
            clock: Clock::system(),
        })
    }

    /// Settings for tests and benchmarks: the given database and broker, port 0, defaults
    /// elsewhere.
    pub fn for_tests(database_url: &str, amqp_url: &str, amqp_prefix: &str) -> Self {
        Self {
            database_url: database_url.to_owned(),
            amqp_url: amqp_url.to_owned(),
            amqp_prefix: amqp_prefix.to_owned(),
            http_bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            prefetch: 1000,
            batch_size: 500,
            batch_wait: Duration::from_millis(10),
            db_pool_size: 4,
            lock_timeout: Duration::from_millis(5000),
            confirm_timeout: Duration::from_millis(5000),
            relay_interval: Duration::from_secs(1),
            relay_batch: 1000,
            relay_enabled: true,
            sweep_interval: Duration::from_secs(3600),
            processed_retention_days: 30,
            shutdown_timeout: Duration::from_secs(10),
            clock: Clock::system(),
        }
    }
}

/// The database name in a `postgres://` URL (the last path segment, before any query).
pub fn database_name(url: &str) -> Option<&str> {
    let without_query = url.split(['?', '#']).next()?;
    let after_scheme = without_query.split_once("://")?.1;
    let (_, path) = after_scheme.split_once('/')?;
    (!path.is_empty() && !path.contains('/')).then_some(path)
}

/// The same URL pointing at another database (the query string is kept).
pub fn with_database(url: &str, database: &str) -> Option<String> {
    let name = database_name(url)?;
    let (head, tail) = url.split_once("://")?;
    let slash = tail.find('/')?;
    let rest = tail.get(slash + 1..)?;
    let query = rest.get(name.len()..)?;
    Some(format!("{head}://{}/{database}{query}", tail.get(..slash)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_are_read_from_urls() {
        assert_eq!(
            database_name("postgres://postgres@127.0.0.1:5432/audience_sync"),
            Some("audience_sync")
        );
        assert_eq!(
            database_name("postgres://u:p@h/db?sslmode=disable"),
            Some("db")
        );
        assert_eq!(database_name("postgres://h:5432/"), None);
        assert_eq!(database_name("postgres://h:5432"), None);
        assert_eq!(
            with_database("postgres://u:p@h:5432/db?sslmode=disable", "postgres").as_deref(),
            Some("postgres://u:p@h:5432/postgres?sslmode=disable")
        );
        assert_eq!(
            with_database(
                "postgres://postgres@127.0.0.1:5432/audience_sync",
                "postgres"
            )
            .as_deref(),
            Some("postgres://postgres@127.0.0.1:5432/postgres")
        );
    }
}
