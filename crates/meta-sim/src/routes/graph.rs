//! The HTTP side of Graph calls: every path outside `/_sim/` lands here.
//!
//! It turns the request into a [`GraphCall`] (version check, parameters from query and body,
//! `Authorization` header), lets the state decide, then writes the answer with Meta's usage
//! headers. The only await is the `timeout` fault's sleep, taken after the lock is released.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::graph::{GraphCall, GraphMethod, Outcome, Reply};
use crate::graph_error::GraphError;
use crate::params::Params;
use crate::state::MetaSim;

/// Answers any Graph request.
#[tracing::instrument(name = "graph", skip_all, fields(method = %req.method(), endpoint, status))]
pub async fn graph_request(
    req: HttpRequest,
    body: web::Bytes,
    sim: web::Data<MetaSim>,
) -> HttpResponse {
    let outcome = match parse_call(&req, &body) {
        Ok(call) => sim.handle_graph(call),
        Err(error) => sim.refuse(error),
    };
    let span = tracing::Span::current();
    span.record("endpoint", outcome.endpoint);
    span.record("status", outcome.status().as_u16());
    tracing::info!(fbtrace_id = %outcome.fbtrace_id, "Graph request answered.");
    if outcome.reply == Reply::Hang {
        tokio::time::sleep(sim.config().timeout_fault_delay()).await;
    }
    respond(&outcome)
}

fn parse_call(req: &HttpRequest, body: &[u8]) -> Result<GraphCall, GraphError> {
    let mut segments = req.path().split('/').filter(|s| !s.is_empty());
    let version = segments.next().unwrap_or("");
    if !is_version(version) {
        return Err(GraphError::unknown_path(req.path()));
    }
    let segments: Vec<String> = segments.map(str::to_owned).collect();
    let method = match *req.method() {
        Method::GET => GraphMethod::Get,
        Method::POST => GraphMethod::Post,
        Method::DELETE => GraphMethod::Delete,
        _ => {
            return Err(GraphError::unsupported_request(
                req.method().as_str(),
                segments.first().map_or("", String::as_str),
            ));
        }
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let params = Params::parse(req.query_string(), content_type, body).map_err(|e| {
        GraphError::invalid_parameter(format!("Could not read the request parameters: {e}"))
    })?;
    let header_token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
                .then(|| token.trim().to_owned())
        });
    Ok(GraphCall {
        method,
        segments,
        params,
        header_token,
    })
}

/// `vNN.N`: a `v`, digits, a dot, digits.
fn is_version(segment: &str) -> bool {
    segment
        .strip_prefix('v')
        .and_then(|rest| rest.split_once('.'))
        .is_some_and(|(major, minor)| {
            [major, minor]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
}

fn respond(outcome: &Outcome) -> HttpResponse {
    let mut builder = HttpResponse::build(outcome.status());
    for (name, value) in [
        ("x-app-usage", outcome.usage.app_header()),
        ("x-ad-account-usage", outcome.usage.ad_account_header()),
        (
            "x-business-use-case-usage",
            outcome.usage.business_use_case_header(),
        ),
        ("x-fb-trace-id", outcome.fbtrace_id.clone()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            builder.insert_header((name, value));
        }
    }
    match &outcome.reply {
        Reply::Json(_, body) => builder.json(body),
        Reply::Error(error) => builder.json(error.body(&outcome.fbtrace_id)),
        Reply::Edge(status) => edge_page(builder, *status),
        Reply::Hang => edge_page(builder, StatusCode::GATEWAY_TIMEOUT),
    }
}

fn edge_page(mut builder: actix_web::HttpResponseBuilder, status: StatusCode) -> HttpResponse {
    let reason = status.canonical_reason().unwrap_or("Server Error");
    builder.content_type("text/html; charset=utf-8").body(format!(
        "<html><head><title>{code} {reason}</title></head><body><h1>{code} {reason}</h1></body></html>",
        code = status.as_u16()
    ))
}

#[cfg(test)]
mod tests {
    use super::is_version;

    #[test]
    fn versions_are_v_digits_dot_digits() {
        assert!(is_version("v26.0"));
        assert!(is_version("v3.10"));
        assert!(!is_version("v26"));
        assert!(!is_version("26.0"));
        assert!(!is_version("v26.x"));
        assert!(!is_version("_sim"));
    }
}
