//! Typed Shopify webhook payloads: one type per resource, parsed straight from the raw body.
//!
//! Ingest parses every webhook on its hot path, so the types borrow strings from the body
//! (`Cow<'a, str>`: borrowed unless the JSON string has escapes) and model only the fields the
//! pipeline needs; serde skips the rest. Every field that an API version adds, drops or
//! withholds (protected customer data) is optional. Ids are `u64`, never floats; money is an
//! exact [`Money`] that accepts decimal strings and JSON numbers.
//!
//! [`parse`] turns a body into the [`Payload`] for its [`Topic`]. A body that does not fit
//! fails with a [`PayloadError`] naming the field path, e.g.
//! `orders/create payload: total_price: invalid decimal "example string" at line 1 column 5`.
//! The happy path runs plain `serde_json`; only a failure is parsed a second time with
//! `serde_path_to_error` to find the path, so the path tracking costs nothing when the body
//! is good.

pub mod compliance;
pub mod customer;
pub mod money;
pub mod order;
pub mod refund;
pub mod shop;
pub mod topic;

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};

pub use compliance::{
    ComplianceCustomer, CustomersDataRequest, CustomersRedact, DataRequest, ShopRedact,
};
pub use customer::{
    AccountState, Address, ConsentState, Customer, CustomerDeleted, MarketingConsent,
};
pub use money::{CurrencyCode, CurrencyCodeError, Money, MoneyAmount, MoneyError, MoneySet};
pub use order::{ClientDetails, LineItem, NoteAttribute, Order};
pub use refund::{Refund, RefundLineItem, Transaction};
pub use shop::Shop;
pub use topic::Topic;

/// A parsed webhook body, one variant per resource.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "a payload is parsed once per request and consumed in place; boxing the order would only add an allocation"
)]
pub enum Payload<'a> {
    /// `customers/create`, `customers/update`.
    Customer(Customer<'a>),
    /// `customers/delete`.
    CustomerDeleted(CustomerDeleted),
    /// `orders/create`, `orders/updated`, `orders/paid`, `orders/cancelled`.
    Order(Order<'a>),
    /// `refunds/create`.
    Refund(Refund<'a>),
    /// `app/uninstalled`.
    Shop(Shop<'a>),
    /// `customers/data_request`.
    CustomersDataRequest(CustomersDataRequest<'a>),
    /// `customers/redact`.
    CustomersRedact(CustomersRedact<'a>),
    /// `shop/redact`.
    ShopRedact(ShopRedact<'a>),
}

/// Parses a webhook body as the resource its topic delivers.
///
/// Beyond the types, a `customers/*` body must carry the customer's `state`, so that an order
/// or shop body sent under a customer topic is rejected rather than read as a customer.
pub fn parse(topic: Topic, body: &[u8]) -> Result<Payload<'_>, PayloadError> {
    Ok(match topic {
        Topic::CustomersCreate | Topic::CustomersUpdate => {
            let customer: Customer<'_> = parse_body(topic, body)?;
            if customer.state.is_none() {
                return Err(PayloadError::custom(
                    topic,
                    "",
                    "missing field `state`: not a customer record",
                ));
            }
            Payload::Customer(customer)
        }
        Topic::CustomersDelete => Payload::CustomerDeleted(parse_body(topic, body)?),
        Topic::OrdersCreate | Topic::OrdersUpdated | Topic::OrdersPaid | Topic::OrdersCancelled => {
            Payload::Order(parse_body(topic, body)?)
        }
        Topic::RefundsCreate => Payload::Refund(parse_body(topic, body)?),
        Topic::AppUninstalled => Payload::Shop(parse_body(topic, body)?),
        Topic::CustomersDataRequest => Payload::CustomersDataRequest(parse_body(topic, body)?),
        Topic::CustomersRedact => Payload::CustomersRedact(parse_body(topic, body)?),
        Topic::ShopRedact => Payload::ShopRedact(parse_body(topic, body)?),
    })
}

/// Parses `body` as any payload type `T`, reporting failures for `topic`.
///
/// Prefer [`parse`], which also picks the type and checks the shape for the topic.
pub fn parse_body<'a, T: Deserialize<'a>>(topic: Topic, body: &'a [u8]) -> Result<T, PayloadError> {
    // serde also reads a struct from a JSON array, by position; a webhook body is always an
    // object, so anything else is refused up front.
    let kind = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') | None => None,
        Some(b'[') => Some("sequence"),
        Some(b'"') => Some("string"),
        Some(b'n') => Some("null"),
        Some(b't' | b'f') => Some("boolean"),
        Some(b'-' | b'0'..=b'9') => Some("number"),
        Some(_) => None,
    };
    if let Some(kind) = kind {
        // Report malformed JSON as such; well-formed JSON of the wrong kind by its kind.
        return Err(match serde_json::from_slice::<IgnoredAny>(body) {
            Err(inner) => PayloadError {
                topic,
                path: String::new(),
                inner,
            },
            Ok(_) => PayloadError::custom(
                topic,
                "",
                &format!("invalid type: {kind}, expected a JSON object"),
            ),
        });
    }
    // Validating the UTF-8 of the whole body at once and then parsing it as `str` is cheaper
    // than `from_slice`, which validates every string it reads one by one. A body that is not
    // UTF-8 goes through `from_slice` for a positioned error.
    let parsed = match std::str::from_utf8(body) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(body),
    };
    parsed.map_err(|error| locate::<T>(topic, body, error))
}

/// Re-parses a failed body with path tracking to name the field at fault.
#[cold]
fn locate<'a, T: Deserialize<'a>>(
    topic: Topic,
    body: &'a [u8],
    fast: serde_json::Error,
) -> PayloadError {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(error) => {
            let path = error.path().to_string();
            let path = if path == "." { String::new() } else { path };
            PayloadError {
                topic,
                path,
                inner: error.into_inner(),
            }
        }
        // The value parsed, so the first failure was after it (trailing characters).
        Ok(_) => PayloadError {
            topic,
            path: String::new(),
            inner: fast,
        },
    }
}

/// A webhook body that does not parse as its topic's resource.
///
/// Displays as `<topic> payload: <field path>: <what is wrong> at line L column C`; the path
/// is left out when the body as a whole is wrong (not JSON, not an object, a required field
/// missing at the top). Values are echoed only for non-string mismatches and bad decimals or
/// currency codes (truncated), never for contact fields, which accept any string.
#[derive(Debug, thiserror::Error)]
#[error("{topic} payload: {}{inner}", PathPrefix(path))]
pub struct PayloadError {
    topic: Topic,
    path: String,
    inner: serde_json::Error,
}

impl PayloadError {
    pub(crate) fn custom(topic: Topic, path: &str, message: &str) -> PayloadError {
        PayloadError {
            topic,
            path: path.to_owned(),
            inner: <serde_json::Error as de::Error>::custom(message),
        }
    }

    /// The topic the body was parsed for.
    pub fn topic(&self) -> Topic {
        self.topic
    }

    /// The path of the field at fault (`line_items[0].price`); empty for the whole body.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// True when the body is not well-formed JSON (as opposed to JSON of the wrong shape).
    pub fn is_syntax(&self) -> bool {
        matches!(
            self.inner.classify(),
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof
        )
    }

    /// 1-based line of the failure in the body (0 when not tied to a position).
    pub fn line(&self) -> usize {
        self.inner.line()
    }

    /// 1-based column of the failure in the body (0 when not tied to a position).
    pub fn column(&self) -> usize {
        self.inner.column()
    }
}

struct PathPrefix<'a>(&'a str);

impl fmt::Display for PathPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            Ok(())
        } else {
            write!(f, "{}: ", self.0)
        }
    }
}

/// Reads `null` as the type's default (an empty list, `false`, `0`).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads an optional string, borrowing it from the body unless it has escapes.
///
/// serde borrows a bare `Cow<'a, str>` field but always copies one inside an `Option`; this
/// keeps the contact fields of a payload allocation-free.
pub(crate) fn opt_str<'de: 'a, 'a, D>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_option(OptStr)
}

struct OptStr;

impl<'de> Visitor<'de> for OptStr {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(CowStr).map(Some)
    }
}

struct CowStr;

impl<'de> Visitor<'de> for CowStr {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Reads a string; any other JSON value (null, number, object, ...) reads as `None` instead
/// of failing the payload. For free-form fields such as cart attributes.
pub(crate) fn lenient_str<'de: 'a, 'a, D>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_any(LenientStr)
}

struct LenientStr;

impl<'de> Visitor<'de> for LenientStr {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lenient_strings_ignore_other_values() {
        #[derive(Deserialize)]
        struct Attr<'a> {
            #[serde(borrow, default, deserialize_with = "lenient_str")]
            value: Option<Cow<'a, str>>,
        }
        let cases: [(&str, Option<&str>); 7] = [
            (r#"{"value":"fb.1.2.3"}"#, Some("fb.1.2.3")),
            (r#"{"value":"caf\u00e9"}"#, Some("café")),
            (r#"{"value":null}"#, None),
            (r#"{"value":12}"#, None),
            (r#"{"value":[1,{"a":2}]}"#, None),
            (r#"{"value":{"a":[true]}}"#, None),
            (r#"{}"#, None),
        ];
        for (json, expected) in cases {
            let attr: Attr<'_> = serde_json::from_str(json).unwrap();
            assert_eq!(attr.value.as_deref(), expected, "{json}");
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let body =
            br#"{"id": 1, "state": "enabled", "email": "a@b.co", "first_name": "Jos\u00e9"}"#;
        let Payload::Customer(customer) = parse(Topic::CustomersUpdate, body).unwrap() else {
            panic!("not a customer");
        };
        assert!(matches!(customer.email, Some(Cow::Borrowed("a@b.co"))));
        assert_eq!(customer.first_name.as_deref(), Some("José"));
    }

    #[test]
    fn errors_name_the_field_path() {
        let body = br#"{"id": 1, "created_at": "2021-12-31T19:00:00-05:00", "currency": "USD",
            "total_price": "1.00", "line_items": [{"id": 2, "price": "x"}]}"#;
        let error = parse(Topic::OrdersPaid, body).unwrap_err();
        assert_eq!(error.path(), "line_items[0].price");
        assert_eq!(error.topic(), Topic::OrdersPaid);
        assert!(!error.is_syntax());
        assert!(
            error
                .to_string()
                .starts_with(r#"orders/paid payload: line_items[0].price: invalid decimal "x""#),
            "{error}"
        );
    }

    #[test]
    fn trailing_garbage_and_bad_json_are_syntax_errors() {
        let error = parse(Topic::ShopRedact, br#"{"shop_id": 1} x"#).unwrap_err();
        assert!(error.is_syntax(), "{error}");
        assert_eq!(error.path(), "");
        let error = parse(Topic::ShopRedact, b"").unwrap_err();
        assert!(error.is_syntax(), "{error}");
        assert!(
            error.to_string().starts_with("shop/redact payload: EOF"),
            "{error}"
        );
    }

    #[test]
    fn null_lists_and_flags_read_as_empty() {
        let body = br#"{"id": 1, "created_at": "2021-12-31T19:00:00-05:00", "currency": "usd",
            "total_price": 5, "test": null, "line_items": null, "refunds": null, "note_attributes": null}"#;
        let Payload::Order(order) = parse(Topic::OrdersCreate, body).unwrap() else {
            panic!("not an order");
        };
        assert!(!order.test);
        assert!(order.line_items.is_empty());
        assert_eq!(order.currency.as_str(), "USD");
        assert_eq!(order.total_price.to_string(), "5");
    }

    #[test]
    fn unknown_consent_and_account_states_are_tolerated() {
        let body = br#"{"id": 1, "state": "suspended",
            "email_marketing_consent": {"state": "something_new"}}"#;
        let Payload::Customer(customer) = parse(Topic::CustomersCreate, body).unwrap() else {
            panic!("not a customer");
        };
        assert_eq!(customer.state, Some(AccountState::Unknown));
        assert_eq!(customer.email_marketing(), None);
    }
}
