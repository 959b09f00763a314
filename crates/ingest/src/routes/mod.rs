//! HTTP routes: the webhook endpoint and the health/metrics endpoints.

pub mod health;
pub mod shopify_webhook;
