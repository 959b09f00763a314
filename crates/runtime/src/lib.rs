//! `audience-runtime`: the plumbing every service process needs and nothing else.
//!
//! - [`env`]: typed reading of environment variables, with an error that names the variable.
//! - [`telemetry`]: `tracing` subscriber (JSON or pretty logs) and OpenTelemetry tracing.
//! - [`shutdown`]: one cancellation token fired by SIGTERM or SIGINT.

pub mod env;
pub mod shutdown;
pub mod telemetry;
