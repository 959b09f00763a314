//! Integration tests: each test starts its own simulator on port 0 and talks HTTP to it.

mod admin;
mod audiences;
mod auth;
mod binary;
mod conversions;
mod deduplication;
mod faults;
mod helpers;
mod rate_limits;
mod request_shapes;
