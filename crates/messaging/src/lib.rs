//! `audience-messaging`: everything that speaks AMQP, so that no service does it its own way.
//!
//! - [`topology`]: declares [`audience_core::topology::Topology`] on a channel (the only
//!   code that declares exchanges and queues).
//! - [`broker`]: one connection manager per process that reconnects with backoff after the
//!   broker restarts, redeclares the topology and hands out confirm-mode channels.
//! - `confirm`: confirmation tracking on the publishing channels (`amqprs`, decision 0006).
//! - [`publisher`]: persistent, mandatory publishes that resolve only once the broker has
//!   confirmed them, carrying W3C trace context in the headers.
//! - [`consumer`]: explicit-prefetch consumers and the confirmed moves to a retry tier or
//!   the dead-letter queue, with the reason in the headers.
//! - [`trace`]: inject and extract `traceparent`/`tracestate` in AMQP headers.

pub mod batch;
pub mod broker;
mod confirm;
pub mod consumer;
pub mod publisher;
pub mod topology;
pub mod trace;

pub use broker::{Broker, BrokerSettings};
pub use publisher::{Outgoing, PublishError, Publisher};
