//! Ingest's settings, from the environment (names and defaults as in the README's
//! configuration table). A bad value stops start-up with a message naming the variable.

use std::net::SocketAddr;
use std::time::Duration;

use audience_runtime::env::{self, ConfigError};

use crate::signature::Secrets;

/// Default AMQP URL for a local broker.
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// Everything ingest needs to run.
#[derive(Clone, Debug)]
pub struct IngestSettings {
    /// `INGEST_BIND`: where to listen (webhooks, health, metrics).
    pub bind: SocketAddr,
    /// `SHOPIFY_API_SECRET`: the app secret(s), comma-separated for rotation.
    pub secrets: Secrets,
    /// `AMQP_URL`: the broker.
    pub amqp_url: String,
    /// `AMQP_PREFIX`: topology name prefix (empty in production).
    pub amqp_prefix: String,
    /// `INGEST_MAX_BODY_BYTES`: largest accepted webhook body (default 4 MiB).
    pub max_body_bytes: usize,
    /// `INGEST_CONFIRM_TIMEOUT_MS`: longest wait for the broker's confirmation (default
    /// 3000 ms, must stay below Shopify's 5-second budget).
    pub confirm_timeout: Duration,
    /// `INGEST_WORKERS`: HTTP worker threads (default 1: one event loop for HTTP, hashing and
    /// publishing, the publishing connection's I/O included, so a publish never crosses
    /// threads; decisions 0005 and 0006, docs/benchmarks.md measures it against two).
    pub workers: usize,
    /// `INGEST_SHUTDOWN_TIMEOUT_SECS`: how long in-flight requests may take to finish.
    pub shutdown_timeout: Duration,
    /// `SHOP_COUNTRY`: ISO country used as phone/state/zip context when a payload has none.
    pub shop_country: Option<String>,
}

impl IngestSettings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        let secrets = env::get("SHOPIFY_API_SECRET").ok_or(ConfigError::Missing {
            name: "SHOPIFY_API_SECRET",
            hint: "the Shopify app's client secret (comma-separated to accept several during a rotation)",
        })?;
        let secrets = Secrets::parse(&secrets).ok_or_else(|| {
            env::invalid("SHOPIFY_API_SECRET", "<redacted>", "no secret in the list")
        })?;
        let bind = env::parse_or("INGEST_BIND", SocketAddr::from(([0, 0, 0, 0], 8080)))?;
        let max_body_bytes: usize = env::parse_or("INGEST_MAX_BODY_BYTES", 4 * 1024 * 1024)?;
        if max_body_bytes < 1024 {
            return Err(env::invalid(
                "INGEST_MAX_BODY_BYTES",
                max_body_bytes,
                "must be at least 1024",
            ));
        }
        let confirm_ms: u64 = env::parse_or("INGEST_CONFIRM_TIMEOUT_MS", 3000)?;
        if !(100..=4500).contains(&confirm_ms) {
            return Err(env::invalid(
                "INGEST_CONFIRM_TIMEOUT_MS",
                confirm_ms,
                "must be between 100 and 4500 (Shopify gives up after 5 s)",
            ));
        }
        let workers: usize = env::parse_or("INGEST_WORKERS", 1)?;
        if workers == 0 {
            return Err(env::invalid(
                "INGEST_WORKERS",
                workers,
                "must be at least 1",
            ));
        }
        let shutdown_secs: u64 = env::parse_or("INGEST_SHUTDOWN_TIMEOUT_SECS", 25)?;
        let shop_country = env::get("SHOP_COUNTRY").map(|c| c.trim().to_ascii_lowercase());
        if let Some(c) = &shop_country
            && (c.len() != 2 || !c.chars().all(|ch| ch.is_ascii_alphabetic()))
        {
            return Err(env::invalid(
                "SHOP_COUNTRY",
                c,
                "must be an ISO 3166-1 alpha-2 code",
            ));
        }
        Ok(Self {
            bind,
            secrets,
            amqp_url: env::string_or("AMQP_URL", DEFAULT_AMQP_URL),
            amqp_prefix: env::string_or("AMQP_PREFIX", ""),
            max_body_bytes,
            confirm_timeout: Duration::from_millis(confirm_ms),
            workers,
            shutdown_timeout: Duration::from_secs(shutdown_secs),
            shop_country,
        })
    }

    /// Settings for tests and benchmarks: given secrets and broker, port 0, defaults elsewhere.
    pub fn for_tests(secrets: &str, amqp_url: &str, amqp_prefix: &str) -> Option<Self> {
        Some(Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            secrets: Secrets::parse(secrets)?,
            amqp_url: amqp_url.to_owned(),
            amqp_prefix: amqp_prefix.to_owned(),
            max_body_bytes: 4 * 1024 * 1024,
            confirm_timeout: Duration::from_millis(3000),
            // The production default: the broker's manager runs on the worker.
            workers: 1,
            shutdown_timeout: Duration::from_secs(10),
            shop_country: None,
        })
    }
}
