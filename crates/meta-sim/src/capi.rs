//! Conversions API validation: what makes Meta reject a `POST /{pixel_id}/events` batch.
//!
//! Rules, from Meta's server event, customer information and custom data parameter pages:
//! `event_name` and `event_time` (unix seconds, at most 7 days old, 62 for `physical_store`) are
//! required; `action_source` must be one of the documented values; `user_data` must carry at least
//! one customer information parameter; contact fields must be SHA-256 lower-case hex; website
//! events need `client_user_agent` and `event_source_url`; a `Purchase` needs a numeric `value`
//! and an ISO 4217 `currency`; `fbc` must look like `fb.{subdomain}.{ms}.{fbclid}`. "If any event
//! you send in a batch is invalid, we reject the entire batch": [`validate_batch`] stops at the
//! first invalid event and names its index.

use serde_json::{Map, Value};

/// Most events Meta accepts in one request.
pub const MAX_EVENTS_PER_REQUEST: usize = 1_000;
/// An event may be at most this old (seconds), except `physical_store` ones.
pub const MAX_EVENT_AGE_SECONDS: i64 = 7 * 86_400;
/// A `physical_store` event may be at most this old (seconds).
pub const MAX_PHYSICAL_STORE_AGE_SECONDS: i64 = 62 * 86_400;

/// The documented `action_source` values.
pub const ACTION_SOURCES: [&str; 9] = [
    "email",
    "website",
    "app",
    "phone_call",
    "chat",
    "physical_store",
    "system_generated",
    "business_messaging",
    "other",
];

/// `user_data` keys Meta requires to be SHA-256 hashed.
pub const HASHED_USER_KEYS: [&str; 16] = [
    "em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country", "fi", "f5first", "f5last",
    "dobd", "dobm", "doby",
];

/// Every customer information parameter (hashed or not).
pub const CUSTOMER_INFORMATION_KEYS: [&str; 31] = [
    "em",
    "ph",
    "fn",
    "ln",
    "db",
    "ge",
    "ct",
    "st",
    "zp",
    "country",
    "fi",
    "f5first",
    "f5last",
    "dobd",
    "dobm",
    "doby",
    "external_id",
    "client_ip_address",
    "client_user_agent",
    "fbc",
    "fbp",
    "subscription_id",
    "lead_id",
    "fb_login_id",
    "anon_id",
    "madid",
    "page_id",
    "page_scoped_user_id",
    "ctwa_clid",
    "ig_account_id",
    "ig_sid",
];

/// Active ISO 4217 currency codes (upper case).
const ISO_4217: [&str; 156] = [
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB",
    "TJS", "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS",
    "VES", "VND", "VUV", "WST", "XAF", "XCD", "XCG", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

/// An event that passed validation.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerEvent {
    /// `event_name`.
    pub event_name: String,
    /// `event_id`, the deduplication key with `event_name`.
    pub event_id: Option<String>,
    /// `event_time`, unix seconds.
    pub event_time: i64,
    /// `action_source`.
    pub action_source: String,
    /// The event as received (an object, even when the client sent it as JSON text).
    pub body: Map<String, Value>,
}

/// Why one event is invalid. Each maps to code 100 and a subcode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventRejection {
    /// The element of `data` is neither an object nor JSON text of one.
    Malformed,
    /// `event_name` is missing or empty.
    MissingEventName,
    /// `event_time` is missing or not an integer.
    InvalidEventTime,
    /// `event_time` is older than the window (7 days, 62 for `physical_store`).
    TimestampTooOld {
        /// The window that applied, in days.
        max_days: i64,
    },
    /// `event_time` lies in the future beyond the allowed skew.
    TimestampInFuture,
    /// `action_source` is missing or not a documented value.
    InvalidActionSource,
    /// `user_data` is missing or carries no customer information parameter.
    NoCustomerInformation,
    /// A field that must be hashed holds something other than SHA-256 lower-case hex.
    NotHashed {
        /// The `user_data` key.
        field: String,
    },
    /// A website event without `user_data.client_user_agent`.
    MissingUserAgent,
    /// A website event without `event_source_url`.
    MissingEventSourceUrl,
    /// `fbc` is not `fb.{subdomain_index}.{creation_time}.{fbclid}`.
    InvalidFbc,
    /// A `Purchase` without a numeric `custom_data.value`.
    MissingPurchaseValue,
    /// A `Purchase` without a valid ISO 4217 `custom_data.currency`.
    InvalidCurrency,
}

impl EventRejection {
    /// The `error_subcode`. Subcodes 2804001, 2804003, 2804009 and 2804016 are Meta's (seen in
    /// peer fixtures and SDK issues); the `28049xx` ones are the simulator's own, because Meta
    /// documents no subcode for those rejections.
    pub fn subcode(&self) -> u32 {
        match self {
            Self::InvalidFbc => 2_804_001,
            Self::TimestampTooOld { .. } => 2_804_003,
            Self::MissingPurchaseValue => 2_804_009,
            Self::NotHashed { .. } => 2_804_016,
            Self::Malformed => 2_804_900,
            Self::MissingEventName => 2_804_901,
            Self::InvalidEventTime => 2_804_902,
            Self::TimestampInFuture => 2_804_904,
            Self::InvalidActionSource => 2_804_905,
            Self::NoCustomerInformation => 2_804_906,
            Self::MissingUserAgent => 2_804_907,
            Self::MissingEventSourceUrl => 2_804_908,
            Self::InvalidCurrency => 2_804_910,
        }
    }

    /// The `error_user_title`.
    pub fn title(&self) -> &'static str {
        match self {
            Self::Malformed => "Malformed Event",
            Self::MissingEventName => "Missing Event Name",
            Self::InvalidEventTime => "Invalid Event Timestamp",
            Self::TimestampTooOld { .. } => "Event Timestamp Too Old",
            Self::TimestampInFuture => "Event Timestamp In The Future",
            Self::InvalidActionSource => "Invalid Action Source",
            Self::NoCustomerInformation => "Missing Customer Information Parameters",
            Self::NotHashed { .. } => "User Parameter Not Hashed",
            Self::MissingUserAgent => "Missing Client User Agent",
            Self::MissingEventSourceUrl => "Missing Event Source URL",
            Self::InvalidFbc => "Click ID Incorrectly Formatted",
            Self::MissingPurchaseValue => "Missing Value for Purchase Event",
            Self::InvalidCurrency => "Invalid Currency for Purchase Event",
        }
    }

    /// The start of `error_user_msg`; the index of the event is appended.
    pub fn description(&self) -> String {
        match self {
            Self::Malformed => "Each element of data must be a server event object.".into(),
            Self::MissingEventName => "The parameter event_name is required.".into(),
            Self::InvalidEventTime => {
                "The parameter event_time is required and must be a Unix timestamp in seconds."
                    .into()
            }
            Self::TimestampTooOld { max_days } => format!(
                "The timestamp for this event is too far in the past. Events need to be sent \
                 from your server within {max_days} days of when they occurred. Enter a \
                 timestamp that has occurred within the last {max_days} days."
            ),
            Self::TimestampInFuture => {
                "The timestamp for this event is in the future. Enter the time at which the \
                 event occurred, as a Unix timestamp in seconds."
                    .into()
            }
            Self::InvalidActionSource => format!(
                "The parameter action_source is required and must be one of: {}.",
                ACTION_SOURCES.join(", ")
            ),
            Self::NoCustomerInformation => {
                "The parameter user_data must contain at least one customer information \
                 parameter."
                    .into()
            }
            Self::NotHashed { field } => format!(
                "The {field} parameter isn't hashed. Hash it with SHA-256 (lower-case hex) \
                 after normalizing it."
            ),
            Self::MissingUserAgent => {
                "Website events require the client_user_agent customer information parameter."
                    .into()
            }
            Self::MissingEventSourceUrl => {
                "Website events require the event_source_url parameter.".into()
            }
            Self::InvalidFbc => {
                "The fbc parameter must be formatted as fb.{subdomain_index}.{creation_time}.{fbclid}."
                    .into()
            }
            Self::MissingPurchaseValue => {
                "Purchase events require a numeric value in custom_data.".into()
            }
            Self::InvalidCurrency => {
                "Purchase events require a valid ISO 4217 currency code in custom_data.".into()
            }
        }
    }

    /// The offending field, when one field is to blame.
    pub fn field(&self) -> Option<String> {
        match self {
            Self::Malformed => None,
            Self::MissingEventName => Some("event_name".into()),
            Self::InvalidEventTime | Self::TimestampTooOld { .. } | Self::TimestampInFuture => {
                Some("event_time".into())
            }
            Self::InvalidActionSource => Some("action_source".into()),
            Self::NoCustomerInformation => Some("user_data".into()),
            Self::NotHashed { field } => Some(format!("user_data.{field}")),
            Self::MissingUserAgent => Some("user_data.client_user_agent".into()),
            Self::MissingEventSourceUrl => Some("event_source_url".into()),
            Self::InvalidFbc => Some("user_data.fbc".into()),
            Self::MissingPurchaseValue => Some("custom_data.value".into()),
            Self::InvalidCurrency => Some("custom_data.currency".into()),
        }
    }
}

/// Why a whole `data` parameter is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchError {
    /// `data` is not a JSON array.
    NotAnArray,
    /// `data` is an empty array.
    Empty,
    /// More than [`MAX_EVENTS_PER_REQUEST`] events.
    TooManyEvents(usize),
    /// One event is invalid; the batch is rejected as a whole.
    Event {
        /// Position of the event in `data`.
        index: usize,
        /// What is wrong with it.
        rejection: EventRejection,
    },
}

/// Validates a `data` array at `now` (unix seconds). Elements may be objects or JSON text of
/// objects (the Python SDK sends each event as JSON text inside a JSON array).
pub fn validate_batch(
    data: &Value,
    now: i64,
    future_skew_seconds: i64,
) -> Result<Vec<ServerEvent>, BatchError> {
    let events = data.as_array().ok_or(BatchError::NotAnArray)?;
    if events.is_empty() {
        return Err(BatchError::Empty);
    }
    if events.len() > MAX_EVENTS_PER_REQUEST {
        return Err(BatchError::TooManyEvents(events.len()));
    }
    events
        .iter()
        .enumerate()
        .map(|(index, event)| {
            validate_event(event, now, future_skew_seconds)
                .map_err(|rejection| BatchError::Event { index, rejection })
        })
        .collect()
}

/// Validates one event.
pub fn validate_event(
    event: &Value,
    now: i64,
    future_skew_seconds: i64,
) -> Result<ServerEvent, EventRejection> {
    let body = match event {
        Value::Object(map) => map.clone(),
        Value::String(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => return Err(EventRejection::Malformed),
        },
        _ => return Err(EventRejection::Malformed),
    };

    let event_name =
        non_empty_text(body.get("event_name")).ok_or(EventRejection::MissingEventName)?;
    let event_time = body
        .get("event_time")
        .and_then(integer)
        .ok_or(EventRejection::InvalidEventTime)?;
    let action_source = non_empty_text(body.get("action_source"))
        .filter(|source| ACTION_SOURCES.contains(&source.as_str()))
        .ok_or(EventRejection::InvalidActionSource)?;

    let max_age = if action_source == "physical_store" {
        MAX_PHYSICAL_STORE_AGE_SECONDS
    } else {
        MAX_EVENT_AGE_SECONDS
    };
    if now - event_time > max_age {
        return Err(EventRejection::TimestampTooOld {
            max_days: max_age / 86_400,
        });
    }
    if event_time - now > future_skew_seconds {
        return Err(EventRejection::TimestampInFuture);
    }

    let user_data = body
        .get("user_data")
        .and_then(Value::as_object)
        .ok_or(EventRejection::NoCustomerInformation)?;
    if !CUSTOMER_INFORMATION_KEYS
        .iter()
        .any(|key| user_data.get(*key).is_some_and(is_present))
    {
        return Err(EventRejection::NoCustomerInformation);
    }
    for key in HASHED_USER_KEYS {
        if let Some(value) = user_data.get(key)
            && !all_hashed(value)
        {
            return Err(EventRejection::NotHashed { field: key.into() });
        }
    }
    if action_source == "website" {
        if !user_data.get("client_user_agent").is_some_and(is_present) {
            return Err(EventRejection::MissingUserAgent);
        }
        if non_empty_text(body.get("event_source_url")).is_none() {
            return Err(EventRejection::MissingEventSourceUrl);
        }
    }
    if let Some(fbc) = user_data.get("fbc")
        && is_present(fbc)
        && !fbc.as_str().is_some_and(is_valid_fbc)
    {
        return Err(EventRejection::InvalidFbc);
    }

    if event_name == "Purchase" {
        let custom = body.get("custom_data").and_then(Value::as_object);
        let value = custom.and_then(|c| c.get("value"));
        if !value.is_some_and(is_numeric) {
            return Err(EventRejection::MissingPurchaseValue);
        }
        let currency = custom
            .and_then(|c| c.get("currency"))
            .and_then(Value::as_str);
        if !currency.is_some_and(is_currency) {
            return Err(EventRejection::InvalidCurrency);
        }
    }

    let event_id = match body.get("event_id") {
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        Some(Value::Number(id)) => Some(id.to_string()),
        _ => None,
    };
    Ok(ServerEvent {
        event_name,
        event_id,
        event_time,
        action_source,
        body,
    })
}

/// True for a SHA-256 digest in lower-case hex, the only hashed form Meta documents.
pub fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// True for a three-letter ISO 4217 code, in any letter case (the SDK sends lower case).
pub fn is_currency(value: &str) -> bool {
    value.len() == 3 && ISO_4217.contains(&value.to_ascii_uppercase().as_str())
}

fn non_empty_text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

fn is_numeric(value: &Value) -> bool {
    match value {
        Value::Number(_) => true,
        Value::String(s) => s.trim().parse::<f64>().is_ok_and(f64::is_finite),
        _ => false,
    }
}

/// A customer parameter counts when it carries something: text, a number, or a list with text.
fn is_present(value: &Value) -> bool {
    match value {
        Value::String(s) => !s.is_empty(),
        Value::Number(_) => true,
        Value::Array(items) => items.iter().any(is_present),
        _ => false,
    }
}

/// Every non-empty element is a digest; non-text elements are not.
fn all_hashed(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty() || is_sha256_hex(s),
        Value::Array(items) => items.iter().all(|item| match item {
            Value::String(s) => s.is_empty() || is_sha256_hex(s),
            _ => false,
        }),
        Value::Null => true,
        _ => false,
    }
}

/// `fb.{subdomain_index}.{creation_time_ms}.{fbclid}`, optionally with the parameter builder's
/// fifth segment.
fn is_valid_fbc(fbc: &str) -> bool {
    let parts: Vec<&str> = fbc.split('.').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (parts.len() == 4 || parts.len() == 5)
        && parts[0] == "fb"
        && digits(parts[1])
        && digits(parts[2])
        && !parts[3].is_empty()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_800_000_000;
    const HASH: &str = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f";

    fn purchase() -> Value {
        json!({
            "event_name": "Purchase",
            "event_time": NOW - 60,
            "event_id": "order_1",
            "action_source": "website",
            "event_source_url": "https://shop.example/thanks",
            "user_data": {"em": [HASH], "client_user_agent": "Mozilla/5.0"},
            "custom_data": {"value": 12.5, "currency": "usd"}
        })
    }

    fn reject(event: Value) -> EventRejection {
        validate_event(&event, NOW, 60).unwrap_err()
    }

    #[test]
    fn a_complete_purchase_is_accepted() {
        let event = validate_event(&purchase(), NOW, 60).unwrap();
        assert_eq!(event.event_id.as_deref(), Some("order_1"));
        assert_eq!(event.action_source, "website");
    }

    #[test]
    fn an_event_exactly_seven_days_old_is_accepted_and_one_second_more_is_not() {
        let mut event = purchase();
        event["event_time"] = json!(NOW - MAX_EVENT_AGE_SECONDS);
        assert!(validate_event(&event, NOW, 60).is_ok());
        event["event_time"] = json!(NOW - MAX_EVENT_AGE_SECONDS - 1);
        assert_eq!(
            reject(event),
            EventRejection::TimestampTooOld { max_days: 7 }
        );
    }

    #[test]
    fn physical_store_events_may_be_sixty_two_days_old() {
        let mut event = purchase();
        event["action_source"] = json!("physical_store");
        event["event_time"] = json!(NOW - 30 * 86_400);
        assert!(validate_event(&event, NOW, 60).is_ok());
        event["event_time"] = json!(NOW - MAX_PHYSICAL_STORE_AGE_SECONDS - 1);
        assert_eq!(
            reject(event),
            EventRejection::TimestampTooOld { max_days: 62 }
        );
    }

    #[test]
    fn uppercase_hex_counts_as_unhashed() {
        let mut event = purchase();
        event["user_data"]["em"] = json!([HASH.to_uppercase()]);
        assert_eq!(
            reject(event),
            EventRejection::NotHashed { field: "em".into() }
        );
    }

    #[test]
    fn an_fbc_with_the_parameter_builder_appendix_is_accepted() {
        let mut event = purchase();
        event["user_data"]["fbc"] = json!("fb.1.1554763741205.IwAR2F4.AQICAQMC");
        assert!(validate_event(&event, NOW, 60).is_ok());
        event["user_data"]["fbc"] = json!("IwAR2F4");
        assert_eq!(reject(event), EventRejection::InvalidFbc);
    }

    #[test]
    fn purchase_value_may_be_a_numeric_string_but_not_text() {
        let mut event = purchase();
        event["custom_data"]["value"] = json!("12.50");
        assert!(validate_event(&event, NOW, 60).is_ok());
        event["custom_data"]["value"] = json!("twelve");
        assert_eq!(reject(event), EventRejection::MissingPurchaseValue);
    }

    #[test]
    fn a_batch_names_the_first_invalid_event() {
        let mut bad = purchase();
        bad["action_source"] = json!("web");
        let batch = json!([purchase(), bad]);
        assert_eq!(
            validate_batch(&batch, NOW, 60).unwrap_err(),
            BatchError::Event {
                index: 1,
                rejection: EventRejection::InvalidActionSource
            }
        );
    }

    #[test]
    fn currencies_are_checked_against_iso_4217() {
        assert!(is_currency("eur"));
        assert!(is_currency("JPY"));
        assert!(!is_currency("usdd"));
        assert!(!is_currency("ABC"));
    }
}
