//! Ingest's Prometheus metrics, served at `GET /metrics`.
//!
//! Each [`Metrics`] owns its own registry (no global state), so tests can start several
//! ingest instances in one process.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// The metrics of one ingest instance.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// `ingest_webhooks_total{topic, outcome}`.
    pub webhooks: IntCounterVec,
    /// `ingest_request_duration_seconds{outcome}`.
    pub latency: HistogramVec,
    /// `ingest_publish_confirm_seconds{result}`.
    pub confirm: HistogramVec,
    /// `invalid_field_total{field}`: personal-data fields left out as malformed.
    pub invalid_fields: IntCounterVec,
}

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let webhooks = IntCounterVec::new(
            Opts::new(
                "ingest_webhooks_total",
                "Webhooks received, by topic and outcome.",
            ),
            &["topic", "outcome"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "ingest_request_duration_seconds",
                "Webhook handling time, by outcome.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["outcome"],
        )?;
        let confirm = HistogramVec::new(
            HistogramOpts::new(
                "ingest_publish_confirm_seconds",
                "Time from publish to the broker's confirmation, by result.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["result"],
        )?;
        let invalid_fields = IntCounterVec::new(
            Opts::new(
                "invalid_field_total",
                "Personal-data fields left out because they were malformed.",
            ),
            &["field"],
        )?;
        registry.register(Box::new(webhooks.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(confirm.clone()))?;
        registry.register(Box::new(invalid_fields.clone()))?;
        Ok(Self {
            registry,
            webhooks,
            latency,
            confirm,
            invalid_fields,
        })
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}
