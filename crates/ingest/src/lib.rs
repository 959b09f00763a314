//! `audience-ingest`: the Shopify webhook receiver.
//!
//! A webhook is answered 200 only once RabbitMQ has confirmed the hashed event; anything that
//! stops it from being stored durably answers 503, so Shopify retries and nothing is lost.
//! See `docs/architecture.md` for the whole flow.

pub mod config;
pub mod metrics;
pub mod routes;
pub mod signature;
pub mod startup;
