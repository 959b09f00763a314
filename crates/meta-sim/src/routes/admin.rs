//! The simulator's own API under `/_sim/`: inspection (events, members, stats) and control
//! (accounts, faults, clock, reset). JSON in and out; a bad body or an unknown path answers 4xx
//! with `{"error": reason}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::config::AccountConfig;
use crate::faults::FaultRequest;
use crate::state::MetaSim;

/// Registers the `/_sim` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_sim")
            .service(resource("/pixels/{pixel_id}/events").route(web::get().to(pixel_events)))
            .service(
                resource("/audiences/{audience_id}/members").route(web::get().to(audience_members)),
            )
            .service(resource("/audiences").route(web::get().to(audiences)))
            .service(resource("/stats").route(web::get().to(stats)))
            .service(resource("/reset").route(web::post().to(reset)))
            .service(resource("/accounts").route(web::post().to(register_account)))
            .service(
                resource("/faults")
                    .route(web::post().to(inject_fault))
                    .route(web::get().to(pending_faults)),
            )
            .service(
                resource("/clock")
                    .route(web::post().to(set_clock))
                    .route(web::get().to(clock)),
            )
            .default_service(web::to(unknown_path)),
    );
}

fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(method_not_allowed))
}

fn reason(status: StatusCode, reason: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": reason.into() }))
}

async fn unknown_path(req: actix_web::HttpRequest) -> HttpResponse {
    reason(
        StatusCode::NOT_FOUND,
        format!("unknown simulator path {}", req.path()),
    )
}

async fn method_not_allowed(req: actix_web::HttpRequest) -> HttpResponse {
    reason(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not allowed on {}", req.method(), req.path()),
    )
}

/// Parses a JSON body; the error is the 400 answer carrying serde's reason.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, Box<HttpResponse>> {
    serde_json::from_slice(body).map_err(|e| {
        Box::new(reason(
            StatusCode::BAD_REQUEST,
            format!("invalid body: {e}"),
        ))
    })
}

async fn pixel_events(path: web::Path<String>, sim: web::Data<MetaSim>) -> HttpResponse {
    let pixel_id = path.into_inner();
    match sim.accepted_events(&pixel_id) {
        Some(events) => HttpResponse::Ok().json(json!({ "data": events })),
        None => reason(StatusCode::NOT_FOUND, format!("unknown pixel {pixel_id}")),
    }
}

async fn audience_members(path: web::Path<String>, sim: web::Data<MetaSim>) -> HttpResponse {
    let audience_id = path.into_inner();
    match sim.members(&audience_id) {
        Some(members) => HttpResponse::Ok().json(json!({ "data": members })),
        None => reason(
            StatusCode::NOT_FOUND,
            format!("unknown audience {audience_id}"),
        ),
    }
}

async fn audiences(sim: web::Data<MetaSim>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "data": sim.audience_ids() }))
}

async fn stats(sim: web::Data<MetaSim>) -> HttpResponse {
    HttpResponse::Ok().json(sim.stats())
}

async fn reset(sim: web::Data<MetaSim>) -> HttpResponse {
    sim.reset();
    HttpResponse::Ok().json(json!({ "success": true }))
}

async fn register_account(body: web::Bytes, sim: web::Data<MetaSim>) -> HttpResponse {
    let account: AccountConfig = match parse_body(&body) {
        Ok(account) => account,
        Err(response) => return *response,
    };
    match sim.register_account(&account) {
        Ok(()) => HttpResponse::Ok().json(json!({
            "success": true,
            "ad_account_id": account.bare_ad_account_id(),
            "pixel_ids": account.pixel_ids,
        })),
        Err(why) => reason(StatusCode::BAD_REQUEST, why),
    }
}

async fn inject_fault(body: web::Bytes, sim: web::Data<MetaSim>) -> HttpResponse {
    let request: FaultRequest = match parse_body(&body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    match sim.inject_fault(&request) {
        Ok(()) => {
            HttpResponse::Ok().json(json!({ "success": true, "pending": sim.pending_faults() }))
        }
        Err(why) => reason(StatusCode::BAD_REQUEST, why),
    }
}

async fn pending_faults(sim: web::Data<MetaSim>) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "pending": sim.pending_faults() }))
}

/// The body of `POST /_sim/clock`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockRequest {
    offset_seconds: i64,
}

async fn set_clock(body: web::Bytes, sim: web::Data<MetaSim>) -> HttpResponse {
    let request: ClockRequest = match parse_body(&body) {
        Ok(request) => request,
        Err(response) => return *response,
    };
    sim.set_clock_offset(request.offset_seconds);
    clock(sim).await
}

async fn clock(sim: web::Data<MetaSim>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "offset_seconds": sim.clock_offset(),
        "now": sim.now(),
    }))
}
