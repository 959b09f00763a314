//! Ingest integration tests: the real server on port 0 against the real RabbitMQ, each test
//! under its own topology prefix.

mod helpers;
mod resilience;
mod webhooks;
