//! The privacy requests: data request, customer redaction, shop redaction.
//!
//! The customer's email and phone are kept only as hashes (in [`UserData`]), enough for the
//! operator to find the customer's records, never the raw values.

use serde::{Deserialize, Serialize};

use super::user_data::{CountryHint, UserData, UserDataBuilder};
use crate::shopify::{ComplianceCustomer, CustomersDataRequest, CustomersRedact, ShopRedact};

/// `customers/data_request`: gather what we hold about a customer for the store owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDataRequestEvent {
    /// The shop id.
    pub shop_id: u64,
    /// The customer, when the request names one.
    pub customer_id: Option<u64>,
    /// The orders concerned.
    pub orders_requested: Vec<u64>,
    /// The request id.
    pub data_request_id: Option<u64>,
    /// Hashed email, phone and customer id, to match records.
    pub user_data: UserData,
}

/// `customers/redact`: erase a customer's personal data and the listed orders'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRedactEvent {
    /// The shop id.
    pub shop_id: u64,
    /// The customer, when the request names one.
    pub customer_id: Option<u64>,
    /// The orders to erase.
    pub orders_to_redact: Vec<u64>,
    /// Hashed email, phone and customer id, to match records.
    pub user_data: UserData,
}

/// `shop/redact`: erase the shop's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShopRedactEvent {
    /// The shop id.
    pub shop_id: u64,
}

impl CustomerDataRequestEvent {
    pub(crate) fn from_request(
        request: &CustomersDataRequest<'_>,
        shop_country: Option<CountryHint>,
    ) -> Self {
        CustomerDataRequestEvent {
            shop_id: request.shop_id,
            customer_id: request.customer.id,
            orders_requested: request.orders_requested.clone(),
            data_request_id: request.data_request.map(|r| r.id),
            user_data: contact_hashes(&request.customer, shop_country),
        }
    }
}

impl CustomerRedactEvent {
    pub(crate) fn from_request(
        request: &CustomersRedact<'_>,
        shop_country: Option<CountryHint>,
    ) -> Self {
        CustomerRedactEvent {
            shop_id: request.shop_id,
            customer_id: request.customer.id,
            orders_to_redact: request.orders_to_redact.clone(),
            user_data: contact_hashes(&request.customer, shop_country),
        }
    }
}

impl ShopRedactEvent {
    pub(crate) fn from_request(request: &ShopRedact<'_>) -> Self {
        ShopRedactEvent {
            shop_id: request.shop_id,
        }
    }
}

fn contact_hashes(
    customer: &ComplianceCustomer<'_>,
    shop_country: Option<CountryHint>,
) -> UserData {
    let mut keys = UserDataBuilder::new();
    keys.email(customer.email.as_deref(), "customer.email");
    keys.phone(customer.phone.as_deref(), shop_country, "customer.phone");
    keys.external_id(customer.id);
    keys.finish()
}
