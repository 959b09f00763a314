//! The segmenter's Prometheus metrics, served at `GET /metrics`. Each [`Metrics`] owns its own
//! registry (no global state), so tests can run several segmenters in one process.

use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
    TextEncoder,
};

/// The metrics of one segmenter instance.
#[derive(Clone, Debug)]
pub struct Metrics {
    registry: Registry,
    /// `segmenter_messages_total{outcome}`: applied, skipped_<reason>, dead_lettered, retried.
    pub messages: IntCounterVec,
    /// `segmenter_batch_seconds`: time to apply and commit one batch.
    pub batch_seconds: Histogram,
    /// `segmenter_batch_size`: messages per batch.
    pub batch_size: Histogram,
    /// `segmenter_outbox_published_total`: outbox rows confirmed by the broker and deleted.
    pub outbox_published: IntCounter,
    /// `segmenter_outbox_publish_failures_total`: relay rounds that could not publish.
    pub outbox_failures: IntCounter,
    /// `segmenter_outbox_pending`: rows in the outbox at the relay's last look.
    pub outbox_pending: IntGauge,
    /// `segmenter_sweep_transitions_total`: customers the time sweep moved.
    pub sweep_transitions: IntCounter,
}

const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];
const SIZES: &[f64] = &[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

impl Metrics {
    /// Registers every metric in a fresh registry.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let messages = IntCounterVec::new(
            Opts::new(
                "segmenter_messages_total",
                "Store events handled, by outcome.",
            ),
            &["outcome"],
        )?;
        let batch_seconds = Histogram::with_opts(
            HistogramOpts::new(
                "segmenter_batch_seconds",
                "Time to apply and commit one batch.",
            )
            .buckets(SECONDS.to_vec()),
        )?;
        let batch_size = Histogram::with_opts(
            HistogramOpts::new("segmenter_batch_size", "Messages per batch.")
                .buckets(SIZES.to_vec()),
        )?;
        let outbox_published = IntCounter::new(
            "segmenter_outbox_published_total",
            "Outbox rows confirmed by the broker and deleted.",
        )?;
        let outbox_failures = IntCounter::new(
            "segmenter_outbox_publish_failures_total",
            "Relay rounds that could not publish.",
        )?;
        let outbox_pending = IntGauge::new(
            "segmenter_outbox_pending",
            "Rows in the outbox at the relay's last look.",
        )?;
        let sweep_transitions = IntCounter::new(
            "segmenter_sweep_transitions_total",
            "Customers the time sweep moved to another segment.",
        )?;
        registry.register(Box::new(messages.clone()))?;
        registry.register(Box::new(batch_seconds.clone()))?;
        registry.register(Box::new(batch_size.clone()))?;
        registry.register(Box::new(outbox_published.clone()))?;
        registry.register(Box::new(outbox_failures.clone()))?;
        registry.register(Box::new(outbox_pending.clone()))?;
        registry.register(Box::new(sweep_transitions.clone()))?;
        Ok(Self {
            registry,
            messages,
            batch_seconds,
            batch_size,
            outbox_published,
            outbox_failures,
            outbox_pending,
            sweep_transitions,
        })
    }

    /// Messages handled so far, all outcomes together (tests wait on it).
    pub fn handled(&self) -> u64 {
        use prometheus::core::Collector as _;
        self.messages
            .collect()
            .iter()
            .flat_map(|family| family.get_metric())
            .map(|metric| metric.get_counter().get_value() as u64)
            .sum()
    }

    /// Messages handled so far with one outcome label (`applied`, `duplicate`, ...).
    pub fn handled_with(&self, outcome: &str) -> u64 {
        self.messages.with_label_values(&[outcome]).get()
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}
