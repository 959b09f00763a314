//! `audience-segmenter`: customer state, lifecycle segments and a transactional outbox in
//! PostgreSQL.
//!
//! It consumes the hashed store events ingest publishes (`shopify.*` → queue
//! `segmenter.store-events`), keeps each shop's customers, orders and refunds (hashed keys and
//! derived figures only), classifies customers into lifecycle segments, and writes what Meta
//! must learn (audience changes, one `Purchase` per order) to an outbox in the same
//! transaction; the relay publishes the outbox to `meta.dispatch`. See `docs/segmenter.md`.
//!
//! Layout:
//! - [`config`], [`startup`], [`health`], [`metrics`]: the service shell;
//! - [`consumer`]: batches of deliveries, settled after commit (ack, retry tier, DLQ);
//! - [`engine`]: one transaction per batch, each message atomic in it, over the
//!   in-memory [`state`] that [`handlers`] change;
//! - [`classify`] (pure rules), [`reclassify`] (stats, segment, audience changes),
//!   [`purchase`] (the Conversions API event);
//! - [`compliance`]: redaction, deletion, data requests, uninstall;
//! - [`relay`]: the outbox relay; [`sweep`]: the time sweep;
//! - [`db`]: every query, the generated schema and the migrations.

pub mod classify;
pub mod clock;
pub mod compliance;
pub mod config;
pub mod consumer;
pub mod db;
pub mod engine;
pub mod error;
pub mod handlers;
pub mod health;
pub mod metrics;
pub mod purchase;
pub mod reclassify;
pub mod relay;
pub mod startup;
pub mod state;
pub mod sweep;
