//! `ingest-floor`: what the webhook path costs on this machine before the broker, measured with
//! `ingest-bench --floor STAGE` (the same load generator, this binary in place of ingest), so
//! the CPU target can be read against it (docs/benchmarks.md).
//!
//! An actix-web server with ingest's interface (`INGEST_BIND`, `SHOPIFY_API_SECRET`,
//! `GET /readyz`, `POST /webhooks/shopify`), one HTTP worker, mimalloc, answering 200 with
//! ingest's `{"status":"accepted"}`, doing only part of ingest's work (`INGEST_FLOOR_STAGE`):
//!
//! - `empty`: reads the body and answers;
//! - `work`: also checks the signature, parses the payload for its topic, normalizes and
//!   hashes, and serializes the envelope, as ingest does, but publishes nothing.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use anyhow::{Context as _, bail};
use audience_core::envelope::{Envelope, shopify_message_id};
use audience_core::normalize::Field;
use audience_core::shopify::Topic;
use audience_ingest::signature::Secrets;

/// How much of ingest's work the floor server does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Read the body, answer.
    Empty,
    /// Also signature, parse, normalize and hash, envelope.
    Work,
}

impl Stage {
    fn parse(name: &str) -> anyhow::Result<Self> {
        match name {
            "empty" => Ok(Self::Empty),
            "work" => Ok(Self::Work),
            other => bail!("unknown floor stage {other:?} (empty, work)"),
        }
    }
}

struct State {
    stage: Stage,
    secrets: Secrets,
}

/// Ingest's steps 2–5 and the envelope, without the publish.
fn work(state: &State, req: &HttpRequest, body: &[u8]) -> anyhow::Result<usize> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let signature = header("X-Shopify-Hmac-Sha256").context("signature header")?;
    if !state.secrets.verify(signature, body) {
        bail!("bad signature");
    }
    let topic = Topic::parse(header("X-Shopify-Topic").context("topic")?).context("topic")?;
    let shop = header("X-Shopify-Shop-Domain").context("shop")?;
    let webhook_id = header("X-Shopify-Webhook-Id").context("webhook id")?;
    let ctx = audience_core::events::Context {
        shop_domain: shop,
        shop_country: None,
    };
    let payload = audience_core::events::from_webhook(topic, body, &ctx)?;
    let envelope = Envelope::new(
        shopify_message_id(webhook_id),
        shop,
        topic.as_str(),
        "2026-10",
        payload,
    );
    Ok(envelope.to_vec()?.len())
}

async fn receive(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    if state.stage == Stage::Work
        && let Err(error) = work(&state, &req, &body)
    {
        return HttpResponse::BadRequest().body(error.to_string());
    }
    HttpResponse::Ok().json(serde_json::json!({"status": "accepted"}))
}

/// Runs the floor server until killed.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let env = |name: &str| std::env::var(name).with_context(|| name.to_owned());
    let stage = Stage::parse(&env("INGEST_FLOOR_STAGE")?)?;
    let bind = env("INGEST_BIND")?;
    let secrets = Secrets::parse(&env("SHOPIFY_API_SECRET")?).context("SHOPIFY_API_SECRET")?;
    let state = web::Data::new(State { stage, secrets });
    HttpServer::new(move || {
        // As ingest does: phone metadata decoded and regex caches owned by the worker.
        let _ = audience_core::normalize::hash(Field::Phone, "+14155550100", None);
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
            .route("/webhooks/shopify", web::post().to(receive))
            .route(
                "/readyz",
                web::get().to(|| async { HttpResponse::Ok().finish() }),
            )
    })
    .workers(1)
    .bind(&bind)
    .with_context(|| format!("binding {bind}"))?
    .run()
    .await?;
    Ok(())
}
