//! The mandatory privacy (compliance) topics: `customers/data_request`, `customers/redact`,
//! `shop/redact`.
//!
//! Their `shop_domain` is a plain string here: Shopify's published samples carry the literal
//! placeholder `"{shop}.myshopify.com"`, and the envelope's domain comes from the
//! `X-Shopify-Shop-Domain` header anyway.

use std::borrow::Cow;

use serde::Deserialize;

use super::{null_as_default, opt_str};

/// `customers/data_request`: the store owner must be given what we hold about a customer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CustomersDataRequest<'a> {
    /// The shop id.
    pub shop_id: u64,
    /// The shop's domain as written in the body.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub shop_domain: Option<Cow<'a, str>>,
    /// Who the request is about.
    #[serde(borrow)]
    pub customer: ComplianceCustomer<'a>,
    /// The customer's orders concerned.
    #[serde(default, deserialize_with = "null_as_default")]
    pub orders_requested: Vec<u64>,
    /// The request's identity.
    #[serde(default)]
    pub data_request: Option<DataRequest>,
}

/// `customers/redact`: erase a customer's personal data (and the listed orders').
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CustomersRedact<'a> {
    /// The shop id.
    pub shop_id: u64,
    /// The shop's domain as written in the body.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub shop_domain: Option<Cow<'a, str>>,
    /// Who is to be erased.
    #[serde(borrow)]
    pub customer: ComplianceCustomer<'a>,
    /// The customer's orders to erase.
    #[serde(default, deserialize_with = "null_as_default")]
    pub orders_to_redact: Vec<u64>,
}

/// `shop/redact`: erase everything about the shop (sent 48 hours after uninstall).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ShopRedact<'a> {
    /// The shop id.
    pub shop_id: u64,
    /// The shop's domain as written in the body.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub shop_domain: Option<Cow<'a, str>>,
}

/// The customer a compliance request is about. A record may carry only an email.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ComplianceCustomer<'a> {
    /// The customer id, when the shop has one.
    #[serde(default)]
    pub id: Option<u64>,
    /// The customer's email.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub email: Option<Cow<'a, str>>,
    /// The customer's phone.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub phone: Option<Cow<'a, str>>,
}

/// The `data_request` object of `customers/data_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct DataRequest {
    /// The request id.
    pub id: u64,
}
