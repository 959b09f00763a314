//! Logs and traces for a service process.
//!
//! Logs: `tracing-subscriber` with `RUST_LOG` (default `info`), JSON lines by default
//! (`LOG_FORMAT=json`) or human-readable (`LOG_FORMAT=pretty`). Traces: an OpenTelemetry tracer
//! provider is always installed, so every span has a real trace id and the W3C context can
//! travel across RabbitMQ; spans are exported over OTLP/HTTP only when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set. The returned [`TelemetryGuard`] flushes the exporter
//! when dropped.
//!
//! Log fields never carry personal data: payload values are hashed before anything is logged,
//! and handlers log identifiers (shop, topic, webhook id), never bodies.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes and shuts down the tracer provider when dropped.
#[derive(Debug)]
pub struct TelemetryGuard {
    provider: SdkTracerProvider,
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.provider.force_flush();
        let _ = self.provider.shutdown();
    }
}

/// Builds the tracer provider: OTLP export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
fn tracer_provider(service: &'static str) -> SdkTracerProvider {
    let resource = Resource::builder().with_service_name(service).build();
    let builder = SdkTracerProvider::builder().with_resource(resource);
    let endpoint = crate::env::get("OTEL_EXPORTER_OTLP_ENDPOINT");
    let builder = match endpoint {
        Some(_) => match opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
        {
            Ok(exporter) => builder.with_batch_exporter(exporter),
            Err(error) => {
                eprintln!("OTLP exporter not started: {error}");
                builder
            }
        },
        None => builder,
    };
    builder.build()
}

/// The OpenTelemetry layer, filtered on its own (INFO and above) so that traces and their
/// propagation across RabbitMQ do not depend on the log level chosen with `RUST_LOG`.
fn otel_layer<S>(provider: &SdkTracerProvider, service: &'static str) -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer(service))
        .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
}

/// Installs the global subscriber for `service`. Call once, first thing in `main`.
pub fn init(service: &'static str) -> TelemetryGuard {
    let provider = tracer_provider(service);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let pretty = crate::env::get("LOG_FORMAT").is_some_and(|f| f.eq_ignore_ascii_case("pretty"));
    let fmt = if pretty {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_filter(filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_filter(filter)
            .boxed()
    };
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel_layer(&provider, service))
        .try_init();
    TelemetryGuard { provider }
}

/// For tests: a subscriber with the OpenTelemetry layer (so trace context propagates) that
/// prints logs only when `TEST_LOG` is set. Safe to call many times.
pub fn init_for_tests() {
    let provider = tracer_provider("test");
    let log = std::env::var_os("TEST_LOG").is_some();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let fmt = log.then(|| {
        tracing_subscriber::fmt::layer()
            .with_test_writer()
            .with_filter(filter)
    });
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel_layer(&provider, "test"))
        .try_init();
    // The provider must outlive the subscriber; tests run until the process exits.
    std::mem::forget(provider);
}
