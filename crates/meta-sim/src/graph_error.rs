//! The Graph API error object and every error the simulator answers with.
//!
//! Meta answers errors as `{"error": {message, type, code, error_subcode, is_transient,
//! error_user_title, error_user_msg, fbtrace_id}}` (Graph API error handling guide). Clients
//! classify by `(code, error_subcode)`, so each constructor here names the documented pair; where
//! Meta documents no subcode for a rejection the simulator uses its own, from the `28049xx` range
//! (see [`crate::capi::EventRejection`]), so that nobody mistakes it for one of Meta's.

use actix_web::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// Code 1: "An unknown error occurred", possibly a temporary issue.
pub const CODE_UNKNOWN: u32 = 1;
/// Code 2: "Service temporarily unavailable".
pub const CODE_SERVICE: u32 = 2;
/// Code 4: application request limit reached.
pub const CODE_APP_LIMIT: u32 = 4;
/// Code 17: user (ad account) request limit reached.
pub const CODE_USER_LIMIT: u32 = 17;
/// Code 100: invalid parameter.
pub const CODE_INVALID_PARAMETER: u32 = 100;
/// Code 104: an access token is required.
pub const CODE_TOKEN_REQUIRED: u32 = 104;
/// Code 190: access token invalid or expired.
pub const CODE_INVALID_TOKEN: u32 = 190;
/// Code 613: calls to this API have exceeded the rate limit.
pub const CODE_RATE_LIMIT: u32 = 613;
/// Code 2500: unknown path components.
pub const CODE_UNKNOWN_PATH: u32 = 2500;
/// Code 2650: failed to update the custom audience (usersreplace errors).
pub const CODE_AUDIENCE_UPDATE_FAILED: u32 = 2650;
/// Code 80003: custom audience business use case throttling.
pub const CODE_CUSTOM_AUDIENCE_THROTTLE: u32 = 80003;

/// Subcode 33 with code 100: the object does not exist, is not visible to the token, or does not
/// support the operation.
pub const SUBCODE_UNSUPPORTED_REQUEST: u32 = 33;
/// Subcode 463 with code 190: the session (token) has expired.
pub const SUBCODE_TOKEN_EXPIRED: u32 = 463;
/// Subcode 2446079 with codes 17 and 80003: ad account score / business use case limit.
pub const SUBCODE_AD_ACCOUNT_LIMIT: u32 = 2_446_079;
/// Subcode 1487742 with code 613: too many calls from this ad account.
pub const SUBCODE_AD_ACCOUNT_RATE: u32 = 1_487_742;
/// usersreplace: another update (replace) is in progress.
pub const SUBCODE_REPLACE_IN_PROGRESS: u32 = 1_870_145;
/// usersreplace: the first batch of the session (`batch_seq` 1) is missing.
pub const SUBCODE_FIRST_BATCH_MISSING: u32 = 1_870_147;
/// usersreplace: the session timed out (90 minutes).
pub const SUBCODE_SESSION_TIMED_OUT: u32 = 1_870_158;
/// usersreplace: the session has already finished.
pub const SUBCODE_SESSION_FINISHED: u32 = 1_870_159;

/// A Graph API error, before it is given a trace id and turned into a response.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphError {
    /// HTTP status of the answer.
    pub status: StatusCode,
    /// `message`.
    pub message: String,
    /// `type`, e.g. `OAuthException`.
    pub kind: &'static str,
    /// `code`.
    pub code: u32,
    /// `error_subcode`, when there is one.
    pub subcode: Option<u32>,
    /// `is_transient`, when Meta sends it for this error.
    pub is_transient: Option<bool>,
    /// `error_user_title`.
    pub user_title: Option<String>,
    /// `error_user_msg`.
    pub user_msg: Option<String>,
}

impl GraphError {
    fn new(status: StatusCode, kind: &'static str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            kind,
            code,
            subcode: None,
            is_transient: None,
            user_title: None,
            user_msg: None,
        }
    }

    fn with_subcode(mut self, subcode: u32) -> Self {
        self.subcode = Some(subcode);
        self
    }

    fn transient(mut self, transient: bool) -> Self {
        self.is_transient = Some(transient);
        self
    }

    fn with_user(mut self, title: impl Into<String>, msg: impl Into<String>) -> Self {
        self.user_title = Some(title.into());
        self.user_msg = Some(msg.into());
        self
    }

    /// No token in the query, body or `Authorization` header (code 104).
    pub fn token_required() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            CODE_TOKEN_REQUIRED,
            "An access token is required to request this resource.",
        )
    }

    /// A token the simulator does not know (code 190). Answered with HTTP 401, as Graph was
    /// observed to answer a token it cannot parse.
    pub fn invalid_token() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "OAuthException",
            CODE_INVALID_TOKEN,
            "Invalid OAuth access token - Cannot parse access token",
        )
    }

    /// A token past its expiry (code 190, subcode 463).
    pub fn token_expired(expired_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        const FORMAT: &str = "%A, %d-%b-%y %H:%M:%S UTC";
        Self::new(
            StatusCode::UNAUTHORIZED,
            "OAuthException",
            CODE_INVALID_TOKEN,
            format!(
                "Error validating access token: Session has expired on {}. The current time is {}.",
                expired_at.format(FORMAT),
                now.format(FORMAT)
            ),
        )
        .with_subcode(SUBCODE_TOKEN_EXPIRED)
        .transient(false)
    }

    /// The object is unknown, not visible to the token, or lacks the operation (code 100/33).
    pub fn unsupported_request(method: &str, object_id: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "GraphMethodException",
            CODE_INVALID_PARAMETER,
            format!(
                "Unsupported {} request. Object with ID '{object_id}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation. Please \
                 read the Graph API documentation at https://developers.facebook.com/docs/graph-api",
                method.to_ascii_lowercase()
            ),
        )
        .with_subcode(SUBCODE_UNSUPPORTED_REQUEST)
    }

    /// A path that is not a Graph path the simulator serves (code 2500).
    pub fn unknown_path(components: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "OAuthException",
            CODE_UNKNOWN_PATH,
            format!("Unknown path components: {components}"),
        )
    }

    /// A request-level invalid parameter (code 100), e.g. a missing `data` or too many rows.
    pub fn invalid_parameter(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            CODE_INVALID_PARAMETER,
            format!("(#100) {}", detail.into()),
        )
        .transient(false)
    }

    /// One event of a Conversions API batch is invalid: the whole batch is rejected (code 100).
    pub fn invalid_event(
        index: usize,
        subcode: u32,
        title: &str,
        description: &str,
        offending: Option<&str>,
    ) -> Self {
        let field = offending
            .map(|field| format!(" (field {field})"))
            .unwrap_or_default();
        Self::new(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            CODE_INVALID_PARAMETER,
            "Invalid parameter",
        )
        .with_subcode(subcode)
        .transient(false)
        .with_user(
            title,
            format!("{description} Event at index {index} of data{field}."),
        )
    }

    /// The ad account's budget is spent on a non-audience endpoint (code 17, subcode 2446079).
    pub fn user_request_limit() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            CODE_USER_LIMIT,
            "(#17) User request limit reached",
        )
        .with_subcode(SUBCODE_AD_ACCOUNT_LIMIT)
        .transient(true)
    }

    /// Too many calls from this ad account (code 613, subcode 1487742).
    pub fn api_rate_limit() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            CODE_RATE_LIMIT,
            "(#613) Calls to this api have exceeded the rate limit.",
        )
        .with_subcode(SUBCODE_AD_ACCOUNT_RATE)
        .transient(true)
    }

    /// The ad account's `custom_audience` budget is spent (code 80003, subcode 2446079).
    pub fn custom_audience_throttle() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            CODE_CUSTOM_AUDIENCE_THROTTLE,
            "(#80003) There have been too many calls to this ad-account. Wait a bit and try again. \
             For more info, please refer to \
             https://developers.facebook.com/docs/graph-api/overview/rate-limiting.",
        )
        .with_subcode(SUBCODE_AD_ACCOUNT_LIMIT)
        .transient(true)
    }

    /// The app's budget is spent (code 4).
    pub fn app_request_limit() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            CODE_APP_LIMIT,
            "(#4) Application request limit reached",
        )
        .transient(true)
    }

    /// A transient server-side failure (code 1 or 2), answered with HTTP 500.
    pub fn transient_failure(code: u32) -> Self {
        let message = if code == CODE_UNKNOWN {
            "An unknown error occurred"
        } else {
            "An unexpected error has occurred. Please retry your request later."
        };
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "OAuthException",
            code,
            message,
        )
        .transient(true)
    }

    /// A custom audience update failure (code 2650) with a usersreplace subcode.
    pub fn audience_update_failed(subcode: u32, title: &str, msg: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "OAuthException",
            CODE_AUDIENCE_UPDATE_FAILED,
            "Failed to update the custom audience",
        )
        .with_subcode(subcode)
        .transient(subcode == SUBCODE_REPLACE_IN_PROGRESS)
        .with_user(title, msg)
    }

    /// The JSON body of the answer, carrying `fbtrace_id`.
    pub fn body(&self, fbtrace_id: &str) -> Value {
        let mut error = Map::new();
        error.insert("message".into(), json!(self.message));
        error.insert("type".into(), json!(self.kind));
        error.insert("code".into(), json!(self.code));
        if let Some(subcode) = self.subcode {
            error.insert("error_subcode".into(), json!(subcode));
        }
        if let Some(transient) = self.is_transient {
            error.insert("is_transient".into(), json!(transient));
        }
        if let Some(title) = &self.user_title {
            error.insert("error_user_title".into(), json!(title));
        }
        if let Some(msg) = &self.user_msg {
            error.insert("error_user_msg".into(), json!(msg));
        }
        error.insert("fbtrace_id".into(), json!(fbtrace_id));
        json!({ "error": Value::Object(error) })
    }
}

/// A fresh trace id, shaped like Meta's (23 characters of base64url-like text).
pub fn new_fbtrace_id() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    let mut id = String::with_capacity(23);
    id.push('A');
    id.extend(raw.chars().take(22).enumerate().map(|(i, c)| {
        if i % 3 == 0 {
            c.to_ascii_uppercase()
        } else {
            c
        }
    }));
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_body_carries_the_documented_fields() {
        let body =
            GraphError::invalid_event(3, 2_804_003, "Event Timestamp Too Old", "Too old.", None)
                .body("trace");
        let error = &body["error"];
        assert_eq!(error["code"], 100);
        assert_eq!(error["error_subcode"], 2_804_003);
        assert_eq!(error["type"], "OAuthException");
        assert_eq!(error["is_transient"], false);
        assert_eq!(error["fbtrace_id"], "trace");
        assert!(
            error["error_user_msg"]
                .as_str()
                .unwrap()
                .contains("index 3")
        );
    }

    #[test]
    fn trace_ids_have_metas_length_and_differ() {
        let a = new_fbtrace_id();
        assert_eq!(a.len(), 23);
        assert_ne!(a, new_fbtrace_id());
    }
}
