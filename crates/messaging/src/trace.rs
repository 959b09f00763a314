//! W3C trace context (`traceparent`, `tracestate`) carried in AMQP message headers, so that
//! one trace spans ingest → segmenter → meta-dispatcher.
//!
//! The publisher injects the context of the current `tracing` span (into `amqprs` headers, the
//! publishing client); a consumer extracts it (from `lapin` headers, the consuming client) and
//! makes it the parent of the span it handles the message in. Both are the same AMQP field
//! table on the wire: long-string values under `traceparent` and `tracestate`.

use lapin::types::{AMQPValue, FieldTable};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderInjector<'a>(&'a mut amqprs::FieldTable);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        // The propagator's keys are short ASCII names and its values far below the limits.
        if let Ok(key) = amqprs::FieldName::try_from(key) {
            self.0.insert(key, amqprs::FieldValue::from(value));
        }
    }
}

struct HeaderExtractor<'a>(&'a FieldTable);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match self.0.inner().get(key)? {
            AMQPValue::LongString(s) => std::str::from_utf8(s.as_bytes()).ok(),
            AMQPValue::ShortString(s) => Some(s.as_str()),
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        self.0.inner().keys().map(|k| k.as_str()).collect()
    }
}

/// Writes the current span's trace context into `headers`. Does nothing when the current
/// span has no valid OpenTelemetry context (no tracer installed).
pub fn inject_current(headers: &mut amqprs::FieldTable) {
    let cx = tracing::Span::current().context();
    TraceContextPropagator::new().inject_context(&cx, &mut HeaderInjector(headers));
}

/// Makes the trace context found in `headers` (if any) the parent of `span`.
pub fn set_parent_from(span: &tracing::Span, headers: Option<&FieldTable>) {
    let Some(headers) = headers else { return };
    let cx = TraceContextPropagator::new().extract(&HeaderExtractor(headers));
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// The `traceparent` header's value, if present: for tests and diagnostics.
pub fn traceparent(headers: Option<&FieldTable>) -> Option<String> {
    headers.and_then(|h| HeaderExtractor(h).get("traceparent").map(str::to_owned))
}
