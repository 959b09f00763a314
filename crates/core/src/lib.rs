//! `audience-core`: what every audience-sync service shares, and nothing else.
//!
//! - [`shopify`]: typed Shopify webhook payloads, one type per topic.
//! - [`normalize`]: Meta's customer-data normalization and SHA-256 hashing
//!   (`shared/guide/normalization.md`).
//! - [`envelope`]: the versioned message envelope and the event payloads that travel on
//!   RabbitMQ (personal data already hashed).
//! - [`events`]: hashed store events built from Shopify payloads (what ingest publishes).
//! - [`topology`]: the whole pipeline's RabbitMQ topology as plain data.
//!
//! This crate has no I/O dependencies (no lapin, diesel, actix-web or reqwest); `make lint`
//! checks that.

pub mod dispatch;
pub mod envelope;
pub mod events;
pub mod normalize;
pub mod shopify;
pub mod topology;
