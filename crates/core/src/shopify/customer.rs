//! `customers/create`, `customers/update` and `customers/delete` bodies, plus the customer and
//! address shapes that orders embed.
//!
//! Only what the pipeline needs is modelled: contact data for matching (email, phone, names,
//! the default address), the account state, marketing consent where the API version still
//! carries it, and the ordering key `updated_at`. Every contact field may be absent or null:
//! without protected-customer-data approval Shopify leaves them out
//! (`shared/guide/shopify-webhooks.md` §9).

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::money::{CurrencyCode, Money};
use super::opt_str;

/// A customer record: the body of `customers/create` and `customers/update`, and the
/// `customer` object inside an order.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Customer<'a> {
    /// The customer id.
    pub id: u64,
    /// Email address as the customer typed it (not normalized); may be absent.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub email: Option<Cow<'a, str>>,
    /// Phone; E.164 by Shopify's documentation, but treat it as free text.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub phone: Option<Cow<'a, str>>,
    /// Given name.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub first_name: Option<Cow<'a, str>>,
    /// Family name.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub last_name: Option<Cow<'a, str>>,
    /// Account state (`disabled`, `invited`, `enabled`, `declined`). Always present on a
    /// customer webhook body; a body without it is not a customer.
    #[serde(default)]
    pub state: Option<AccountState>,
    /// Whether the customer verified their email address.
    #[serde(default)]
    pub verified_email: Option<bool>,
    /// When the record was created (null on some embedded customers).
    #[serde(default)]
    pub created_at: Option<DateTime<FixedOffset>>,
    /// When the record last changed: the ordering key for out-of-order deliveries.
    #[serde(default)]
    pub updated_at: Option<DateTime<FixedOffset>>,
    /// The customer's default address; absent or null when there is none.
    #[serde(default, borrow)]
    pub default_address: Option<Address<'a>>,
    /// Email marketing consent (API versions before 2025-01 only).
    #[serde(default, borrow)]
    pub email_marketing_consent: Option<MarketingConsent<'a>>,
    /// SMS marketing consent (API versions before 2025-01 only).
    #[serde(default, borrow)]
    pub sms_marketing_consent: Option<MarketingConsent<'a>>,
    /// The pre-2024-01 email marketing flag.
    #[serde(default)]
    pub accepts_marketing: Option<bool>,
    /// Number of orders (API versions before 2025-01 only).
    #[serde(default)]
    pub orders_count: Option<u64>,
    /// Lifetime spend in `currency` (API versions before 2025-01 only).
    #[serde(default)]
    pub total_spent: Option<Money>,
    /// The customer's latest order (API versions before 2025-01 only).
    #[serde(default)]
    pub last_order_id: Option<u64>,
    /// The currency of `total_spent`.
    #[serde(default)]
    pub currency: Option<CurrencyCode>,
}

impl Customer<'_> {
    /// Email marketing consent: `email_marketing_consent.state` where the payload carries it,
    /// else the legacy `accepts_marketing` flag, else `None` (unknown: API 2025-01 and later).
    pub fn email_marketing(&self) -> Option<bool> {
        match &self.email_marketing_consent {
            Some(consent) => consent.granted(),
            None => self.accepts_marketing,
        }
    }

    /// SMS marketing consent from `sms_marketing_consent.state`; `None` when unknown.
    pub fn sms_marketing(&self) -> Option<bool> {
        self.sms_marketing_consent
            .as_ref()
            .and_then(MarketingConsent::granted)
    }
}

/// A postal address (a customer's `default_address`, an order's billing or shipping address).
/// Street lines are deliberately not modelled: nothing downstream may see them.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
pub struct Address<'a> {
    /// Given name on the address.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub first_name: Option<Cow<'a, str>>,
    /// Family name on the address.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub last_name: Option<Cow<'a, str>>,
    /// Phone on the address: free text in any format (`555-555-SHIP`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub phone: Option<Cow<'a, str>>,
    /// City.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub city: Option<Cow<'a, str>>,
    /// Province or state name (`Kentucky`), sometimes a code.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub province: Option<Cow<'a, str>>,
    /// Province or state code (`KY`); null for countries without subdivisions.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub province_code: Option<Cow<'a, str>>,
    /// Postal code.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub zip: Option<Cow<'a, str>>,
    /// Country name (`United States`), sometimes a code.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub country: Option<Cow<'a, str>>,
    /// ISO 3166-1 alpha-2 country code (`US`).
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub country_code: Option<Cow<'a, str>>,
}

/// A marketing consent record (`email_marketing_consent`, `sms_marketing_consent`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MarketingConsent<'a> {
    /// The consent state; `None` when null.
    #[serde(default)]
    pub state: Option<ConsentState>,
    /// `single_opt_in`, `confirmed_opt_in` or `unknown`.
    #[serde(default, borrow, deserialize_with = "opt_str")]
    pub opt_in_level: Option<Cow<'a, str>>,
    /// When the state last changed.
    #[serde(default)]
    pub consent_updated_at: Option<DateTime<FixedOffset>>,
}

impl MarketingConsent<'_> {
    /// `Some(true)` when subscribed, `Some(false)` when the customer is known not to be
    /// (not subscribed, unsubscribed, redacted), `None` when it is not settled (pending
    /// double opt-in, invalid address, an unknown state).
    pub fn granted(&self) -> Option<bool> {
        match self.state? {
            ConsentState::Subscribed => Some(true),
            ConsentState::NotSubscribed | ConsentState::Unsubscribed | ConsentState::Redacted => {
                Some(false)
            }
            ConsentState::Pending | ConsentState::Invalid | ConsentState::Unknown => None,
        }
    }
}

/// The `state` of a marketing consent record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentState {
    /// Opted in.
    Subscribed,
    /// Never opted in.
    NotSubscribed,
    /// Opted out.
    Unsubscribed,
    /// Double opt-in not confirmed yet.
    Pending,
    /// Redacted on request.
    Redacted,
    /// The address or number cannot receive marketing.
    Invalid,
    /// A state this build does not know.
    #[serde(other)]
    Unknown,
}

/// A customer account's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountState {
    /// No account (the default for customers created by checkout).
    Disabled,
    /// Invited, not yet accepted.
    Invited,
    /// Active account.
    Enabled,
    /// Invitation declined.
    Declined,
    /// A state this build does not know.
    #[serde(other)]
    Unknown,
}

/// The body of `customers/delete`: `{id, tax_exemptions, admin_graphql_api_id}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct CustomerDeleted {
    /// The deleted customer's id.
    pub id: u64,
}
