//! `POST /webhooks/shopify`: verify, validate, hash, publish, and only then answer 200.
//!
//! Order of checks (each failure answers at once, nothing is published):
//! 1. the body fits `INGEST_MAX_BODY_BYTES` (413; actix's payload limit);
//! 2. `X-Shopify-Hmac-Sha256` is a valid signature of the raw body under one of the
//!    configured secrets (401, no detail) — before anything looks inside the body;
//! 3. the required Shopify headers are present and the shop domain is valid (400);
//! 4. the topic is one we handle (else 200 `{"status":"ignored"}`, counted);
//! 5. the payload parses for its topic (400 with the reason);
//! 6. personal data is normalized and hashed, the envelope published with confirms:
//!    200 only after the broker's ack, 503 if the broker is down, nacks or is slow.

use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::{HttpRequest, HttpResponse, post, web};
use audience_core::envelope::{Envelope, shopify_message_id, validate_shop_domain};
use audience_core::events::{self, Context};
use audience_core::shopify::Topic;
use audience_messaging::{Outgoing, PublishError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::Instrument as _;

use crate::startup::AppState;

const HMAC: &str = "x-shopify-hmac-sha256";
const TOPIC: &str = "x-shopify-topic";
const SHOP: &str = "x-shopify-shop-domain";
const WEBHOOK_ID: &str = "x-shopify-webhook-id";
const API_VERSION: &str = "x-shopify-api-version";
const EVENT_ID: &str = "x-shopify-event-id";
const TRIGGERED_AT: &str = "x-shopify-triggered-at";

/// The JSON body of a 400 answer.
#[derive(Debug, Serialize)]
struct Rejection<'a> {
    error: &'a str,
    reason: String,
}

fn bad_request(error: &str, reason: String) -> HttpResponse {
    HttpResponse::BadRequest().json(Rejection { error, reason })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Receives one Shopify webhook.
#[post("/webhooks/shopify")]
pub async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let started = Instant::now();
    let (topic_label, outcome, response) = handle(&req, &body, &state).await;
    let m = &state.metrics;
    m.webhooks.with_label_values(&[topic_label, outcome]).inc();
    m.latency
        .with_label_values(&[outcome])
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Returns (topic label for metrics, outcome label, response).
async fn handle(
    req: &HttpRequest,
    body: &[u8],
    state: &AppState,
) -> (&'static str, &'static str, HttpResponse) {
    let headers = req.headers();
    // 2. Signature first, on the raw bytes, before any parsing. The header is compared
    // untrimmed: Shopify's library rejects surrounding white space too.
    let signature = headers
        .get(HMAC)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !state.secrets.verify(signature, body) {
        tracing::debug!(
            reason = if body.is_empty() {
                "empty body"
            } else {
                "signature"
            },
            "Webhook rejected: unauthorized."
        );
        return (
            "unknown",
            "unauthorized",
            HttpResponse::Unauthorized().finish(),
        );
    }

    // 3. Required headers.
    let mut missing = Vec::new();
    for name in [TOPIC, SHOP, WEBHOOK_ID, API_VERSION] {
        if header(headers, name).is_none() {
            missing.push(canonical(name));
        }
    }
    if !missing.is_empty() {
        let reason = format!("missing header(s): {}", missing.join(", "));
        return (
            "unknown",
            "bad_request",
            bad_request("missing_headers", reason),
        );
    }
    let (Some(topic_name), Some(shop), Some(webhook_id), Some(api_version)) = (
        header(headers, TOPIC),
        header(headers, SHOP),
        header(headers, WEBHOOK_ID),
        header(headers, API_VERSION),
    ) else {
        return (
            "unknown",
            "bad_request",
            bad_request("missing_headers", "missing header".into()),
        );
    };
    let shop = match validate_shop_domain(shop) {
        Ok(shop) => shop,
        Err(error) => {
            let reason = format!("X-Shopify-Shop-Domain: {error}");
            return (
                "unknown",
                "bad_request",
                bad_request("invalid_shop_domain", reason),
            );
        }
    };
    if webhook_id.len() > 255 {
        let reason = "X-Shopify-Webhook-Id: longer than 255 characters".to_owned();
        return (
            "unknown",
            "bad_request",
            bad_request("invalid_header", reason),
        );
    }

    // 4. Topics we do not handle are acknowledged (they are signed, so they are Shopify's)
    // and counted, so that a subscription nobody consumes is visible.
    let Some(topic) = Topic::parse(topic_name) else {
        tracing::info!(shop = %shop, topic = %topic_name, "Webhook ignored: topic not handled.");
        let body = serde_json::json!({"status": "ignored"});
        return ("unhandled", "ignored", HttpResponse::Ok().json(body));
    };
    let label = topic.as_str();
    // The request's span starts here, once the webhook is Shopify's and its topic and shop are
    // known: given at creation, its fields are formatted once (recording them later costs the
    // JSON log layer a re-parse of the span's fields per field).
    let span = tracing::info_span!("shopify_webhook", topic = label, shop = %shop);
    accept(req, body, state, topic, shop, webhook_id, api_version)
        .instrument(span)
        .await
}

/// Steps 5 and 6 for a signed webhook with valid headers and a handled topic, in its span.
async fn accept(
    req: &HttpRequest,
    body: &[u8],
    state: &AppState,
    topic: Topic,
    shop: String,
    webhook_id: &str,
    api_version: &str,
) -> (&'static str, &'static str, HttpResponse) {
    let headers = req.headers();
    let label = topic.as_str();

    // 5 + 6a. Parse for the topic, normalize and hash.
    let ctx = Context {
        shop_domain: &shop,
        shop_country: state.shop_country.as_deref(),
    };
    let event = match events::from_webhook(topic, body, &ctx) {
        Ok(event) => event,
        Err(error) => {
            // The reason goes back to the sender only; logs get no payload values.
            tracing::info!(shop = %shop, topic = label, webhook_id, "Webhook rejected: payload does not fit its topic.");
            return (
                label,
                "bad_request",
                bad_request("invalid_payload", error.to_string()),
            );
        }
    };
    // Fields left out as malformed are counted (never logged: they are personal data).
    let invalid = event
        .user_data()
        .map_or(&[][..], |u| u.invalid_fields.as_slice());
    for field in invalid {
        state
            .metrics
            .invalid_fields
            .with_label_values(&[field.field.as_ref()])
            .inc();
    }
    let envelope = Envelope {
        event_id: header(headers, EVENT_ID).map(str::to_owned),
        triggered_at: header(headers, TRIGGERED_AT)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc)),
        ..Envelope::new(
            shopify_message_id(webhook_id),
            shop,
            label,
            api_version,
            event,
        )
    };
    let bytes = match envelope.to_vec() {
        Ok(bytes) => bytes,
        Err(error) => {
            tracing::error!(error.message = %error, "Cannot serialize the envelope.");
            return (label, "error", HttpResponse::InternalServerError().finish());
        }
    };

    // 6b. Publish and wait for the broker's confirmation.
    let confirm_started = Instant::now();
    let result = state
        .publisher
        .publish(Outgoing {
            exchange: &state.exchange,
            routing_key: topic.routing_key(),
            body: &bytes,
            message_id: webhook_id,
            headers: Vec::new(),
        })
        .await;
    let waited = confirm_started.elapsed().as_secs_f64();
    match result {
        Ok(()) => {
            state
                .metrics
                .confirm
                .with_label_values(&["ack"])
                .observe(waited);
            tracing::debug!(shop = %envelope.shop_domain, topic = label, webhook_id, "Webhook accepted.");
            let body = serde_json::json!({"status": "accepted"});
            (label, "accepted", HttpResponse::Ok().json(body))
        }
        Err(error) => {
            let result = match error {
                PublishError::Unavailable(_) => "unavailable",
                PublishError::Timeout(_) => "timeout",
                PublishError::Nacked => "nack",
                _ => "error",
            };
            state
                .metrics
                .confirm
                .with_label_values(&[result])
                .observe(waited);
            tracing::warn!(
                shop = %envelope.shop_domain, topic = label, webhook_id,
                error.message = %error,
                "Webhook not stored; answering 503 so Shopify retries."
            );
            let body = serde_json::json!({"error": "unavailable", "reason": error.to_string()});
            let response = HttpResponse::build(StatusCode::SERVICE_UNAVAILABLE)
                .insert_header(("Retry-After", "5"))
                .json(body);
            (label, "unavailable", response)
        }
    }
}

fn canonical(name: &str) -> &'static str {
    match name {
        TOPIC => "X-Shopify-Topic",
        SHOP => "X-Shopify-Shop-Domain",
        WEBHOOK_ID => "X-Shopify-Webhook-Id",
        API_VERSION => "X-Shopify-API-Version",
        _ => "header",
    }
}
