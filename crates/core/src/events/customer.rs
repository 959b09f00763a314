//! [`CustomerEvent`]: a customer record with its contact data hashed.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::user_data::{CountryHint, DEFAULT_ADDRESS, UserData, UserDataBuilder, has_location};
use crate::normalize::Field;
use crate::shopify::{AccountState, CurrencyCode, Customer, Money};

/// `customers/create` and `customers/update`, hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerEvent {
    /// The Shopify customer id.
    pub customer_id: u64,
    /// When the record was created.
    pub created_at: Option<DateTime<FixedOffset>>,
    /// When the record last changed: newer wins, older deliveries are ignored.
    pub updated_at: Option<DateTime<FixedOffset>>,
    /// Account state.
    pub state: Option<AccountState>,
    /// Whether the email address was verified.
    pub verified_email: Option<bool>,
    /// Email marketing consent; `None` when the payload does not say (API 2025-01 and later).
    pub email_marketing_consent: Option<bool>,
    /// SMS marketing consent; `None` when the payload does not say.
    pub sms_marketing_consent: Option<bool>,
    /// Number of orders (API versions before 2025-01 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub orders_count: Option<u64>,
    /// Lifetime spend in `currency` (API versions before 2025-01 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_spent: Option<Money>,
    /// The customer's latest order (API versions before 2025-01 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_order_id: Option<u64>,
    /// The currency of `total_spent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<CurrencyCode>,
    /// Hashed match keys.
    pub user_data: UserData,
}

impl CustomerEvent {
    /// Hashes a customer record. `shop_country` is the last-resort country context.
    pub(crate) fn from_customer(
        customer: &Customer<'_>,
        shop_country: Option<CountryHint>,
    ) -> CustomerEvent {
        CustomerEvent {
            customer_id: customer.id,
            created_at: customer.created_at,
            updated_at: customer.updated_at,
            state: customer.state,
            verified_email: customer.verified_email,
            email_marketing_consent: customer.email_marketing(),
            sms_marketing_consent: customer.sms_marketing(),
            orders_count: customer.orders_count,
            total_spent: customer.total_spent,
            last_order_id: customer.last_order_id,
            currency: customer.currency,
            user_data: customer_user_data(customer, shop_country),
        }
    }
}

/// Match keys of a customer record: its email and phones, names (else the default
/// address's), the default address's location, and its id.
fn customer_user_data(customer: &Customer<'_>, shop_country: Option<CountryHint>) -> UserData {
    let address = customer.default_address.as_ref();
    let home = CountryHint::of(address).or(shop_country);
    let mut keys = UserDataBuilder::new();
    keys.email(customer.email.as_deref(), "email");
    keys.phone(customer.phone.as_deref(), home, "phone");
    keys.phone(
        address.and_then(|a| a.phone.as_deref()),
        home,
        "default_address.phone",
    );
    keys.first_of(
        Field::FirstName,
        [
            (customer.first_name.as_deref(), home, "first_name"),
            (
                address.and_then(|a| a.first_name.as_deref()),
                home,
                "default_address.first_name",
            ),
        ],
    );
    keys.first_of(
        Field::LastName,
        [
            (customer.last_name.as_deref(), home, "last_name"),
            (
                address.and_then(|a| a.last_name.as_deref()),
                home,
                "default_address.last_name",
            ),
        ],
    );
    if let Some(address) = address.filter(|a| has_location(a)) {
        keys.location(address, shop_country, &DEFAULT_ADDRESS);
    }
    keys.external_id(Some(customer.id));
    keys.finish()
}
