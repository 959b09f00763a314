//! Segmenter integration tests: the real service in-process against the real PostgreSQL (a
//! fresh database per test) and RabbitMQ (a fresh topology prefix per test).

mod binary;
mod compliance;
mod failures;
mod health;
mod helpers;
mod migrations;
mod purchases;
mod relay;
mod segments;
mod shopify;
mod sweep;
