//! Hashed match keys (Meta's `user_data`), gathered from the contact fields of a payload.
//!
//! Each raw value goes through [`normalize::hash`] with the country context
//! `shared/guide/normalization.md` prescribes: the address the value came from, else the
//! customer's default address, else the shop's country. A value that fails normalization never
//! fails the event: it is left out and recorded in [`UserData::invalid_fields`] with the
//! reason, never the value.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::normalize::{self, Field, Hashed};
use crate::shopify::Address;

/// Meta's customer information parameters, hashed. Serialized with the Conversions API keys
/// (`em`, `ph`, `fn`, `ln`, `ct`, `st`, `zp`, `country`, `external_id`); empty keys are left
/// out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct UserData {
    /// Email addresses, distinct, in order of preference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub em: Vec<Hashed>,
    /// Phone numbers (E.164 digits), distinct, in order of preference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ph: Vec<Hashed>,
    /// First name.
    #[serde(rename = "fn", default, skip_serializing_if = "Option::is_none")]
    pub fn_: Option<Hashed>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ln: Option<Hashed>,
    /// City.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ct: Option<Hashed>,
    /// State or province.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub st: Option<Hashed>,
    /// Postal code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zp: Option<Hashed>,
    /// Country (ISO 3166-1 alpha-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<Hashed>,
    /// The Shopify customer id, as a decimal string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<Hashed>,
    /// Values that failed normalization and were left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_fields: Vec<InvalidField>,
}

impl UserData {
    /// True when no match key is present.
    pub fn is_empty(&self) -> bool {
        self.em.is_empty()
            && self.ph.is_empty()
            && self.fn_.is_none()
            && self.ln.is_none()
            && self.ct.is_none()
            && self.st.is_none()
            && self.zp.is_none()
            && self.country.is_none()
            && self.external_id.is_none()
    }
}

/// A value left out of [`UserData`] because it failed normalization. Carries no raw value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvalidField {
    /// The Conversions API key (`ph`, `em`, ...), for `invalid_field_total{field}`.
    pub field: Cow<'static, str>,
    /// Where in the Shopify payload the value was (`billing_address.phone`).
    pub source: Cow<'static, str>,
    /// Why it was refused (`invalid phone`).
    pub reason: String,
}

/// A lower-case ISO 3166-1 alpha-2 code used as the country context of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CountryHint([u8; 2]);

impl CountryHint {
    /// Two ASCII letters (any case), else `None`.
    pub(crate) fn parse(raw: &str) -> Option<CountryHint> {
        match raw.trim().as_bytes() {
            &[a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => Some(CountryHint([
                a.to_ascii_lowercase(),
                b.to_ascii_lowercase(),
            ])),
            _ => None,
        }
    }

    /// The country of an address, from its `country_code`.
    pub(crate) fn of(address: Option<&Address<'_>>) -> Option<CountryHint> {
        address?
            .country_code
            .as_deref()
            .and_then(CountryHint::parse)
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// Which of an address's fields supply the location keys.
pub(crate) fn has_location(address: &Address<'_>) -> bool {
    [
        &address.city,
        &address.province,
        &address.province_code,
        &address.zip,
        &address.country,
        &address.country_code,
    ]
    .iter()
    .any(|field| field.as_deref().is_some_and(|v| !v.trim().is_empty()))
}

/// Collects hashed keys and invalid fields for one event.
pub(crate) struct UserDataBuilder<'s> {
    data: UserData,
    /// Raw multi-valued inputs already hashed (field, raw, country), so that a phone repeated
    /// on the billing and shipping address is parsed once and reported once.
    seen: Vec<(Field, &'s str, Option<CountryHint>)>,
}

impl<'s> UserDataBuilder<'s> {
    pub(crate) fn new() -> UserDataBuilder<'s> {
        UserDataBuilder {
            data: UserData::default(),
            seen: Vec::new(),
        }
    }

    pub(crate) fn finish(self) -> UserData {
        self.data
    }

    /// Hashes `raw`; records a failure and returns `None`.
    fn hash(
        &mut self,
        field: Field,
        raw: &str,
        country: Option<CountryHint>,
        source: &'static str,
    ) -> Option<Hashed> {
        match normalize::hash(field, raw, country.as_ref().map(CountryHint::as_str)) {
            Ok(hashed) => hashed,
            Err(error) => {
                self.data.invalid_fields.push(InvalidField {
                    field: Cow::Borrowed(field.capi_key()),
                    source: Cow::Borrowed(source),
                    reason: error.to_string(),
                });
                None
            }
        }
    }

    /// Adds one more email (`em`), unless already present.
    pub(crate) fn email(&mut self, raw: Option<&'s str>, source: &'static str) {
        self.push_many(Field::Email, raw, None, source);
    }

    /// Adds one more phone (`ph`), read with the given country context.
    pub(crate) fn phone(
        &mut self,
        raw: Option<&'s str>,
        country: Option<CountryHint>,
        source: &'static str,
    ) {
        self.push_many(Field::Phone, raw, country, source);
    }

    fn push_many(
        &mut self,
        field: Field,
        raw: Option<&'s str>,
        country: Option<CountryHint>,
        source: &'static str,
    ) {
        let Some(raw) = raw else { return };
        if raw.trim().is_empty() || self.seen.contains(&(field, raw, country)) {
            return;
        }
        self.seen.push((field, raw, country));
        let Some(hashed) = self.hash(field, raw, country, source) else {
            return;
        };
        let list = match field {
            Field::Phone => &mut self.data.ph,
            _ => &mut self.data.em,
        };
        if !list.contains(&hashed) {
            list.push(hashed);
        }
    }

    /// Sets a single-valued key from the first candidate that yields a hash; candidates that
    /// fail are recorded, empty ones skipped. Does nothing for a key already set, or for a
    /// field that has no single-valued slot here (`em`, `ph`, `ge`, `db`).
    pub(crate) fn first_of<const N: usize>(
        &mut self,
        field: Field,
        candidates: [(Option<&str>, Option<CountryHint>, &'static str); N],
    ) {
        if !matches!(self.slot(field), Some(None)) {
            return;
        }
        for (raw, country, source) in candidates {
            let Some(raw) = raw else { continue };
            if raw.trim().is_empty() {
                continue;
            }
            if let Some(hashed) = self.hash(field, raw, country, source) {
                if let Some(slot) = self.slot(field) {
                    *slot = Some(hashed);
                }
                return;
            }
        }
    }

    fn slot(&mut self, field: Field) -> Option<&mut Option<Hashed>> {
        Some(match field {
            Field::FirstName => &mut self.data.fn_,
            Field::LastName => &mut self.data.ln,
            Field::City => &mut self.data.ct,
            Field::State => &mut self.data.st,
            Field::Zip => &mut self.data.zp,
            Field::Country => &mut self.data.country,
            Field::ExternalId => &mut self.data.external_id,
            Field::Email | Field::Phone | Field::Gender | Field::DateOfBirth => return None,
        })
    }

    /// `ct`, `st`, `zp` and `country` from one address, read in that address's country
    /// (else `fallback_country`). `sources` name the fields in invalid-field reports.
    pub(crate) fn location(
        &mut self,
        address: &Address<'_>,
        fallback_country: Option<CountryHint>,
        sources: &LocationSources,
    ) {
        let country = CountryHint::of(Some(address)).or(fallback_country);
        self.first_of(
            Field::City,
            [(address.city.as_deref(), country, sources.city)],
        );
        // `province_code` when it is a plain code (`KY`, `ON`, `NSW`); codes such as `JP-13`
        // would collapse to their country letters under the state rule, so those fall back to
        // the province name.
        let code = address
            .province_code
            .as_deref()
            .filter(|code| !code.is_empty() && code.bytes().all(|b| b.is_ascii_alphabetic()));
        match code {
            Some(code) => {
                self.first_of(Field::State, [(Some(code), country, sources.province_code)])
            }
            None => self.first_of(
                Field::State,
                [(address.province.as_deref(), country, sources.province)],
            ),
        }
        self.first_of(Field::Zip, [(address.zip.as_deref(), country, sources.zip)]);
        let country_code = address
            .country_code
            .as_deref()
            .filter(|c| !c.trim().is_empty());
        match country_code {
            Some(code) => self.first_of(Field::Country, [(Some(code), None, sources.country_code)]),
            None => self.first_of(
                Field::Country,
                [(address.country.as_deref(), None, sources.country)],
            ),
        }
    }

    /// `external_id`: the hash of the Shopify customer id as a decimal string.
    pub(crate) fn external_id(&mut self, customer_id: Option<u64>) {
        if let Some(id) = customer_id {
            let id = id.to_string();
            self.first_of(
                Field::ExternalId,
                [(Some(id.as_str()), None, "customer.id")],
            );
        }
    }
}

/// Payload paths of an address's fields, for invalid-field reports.
pub(crate) struct LocationSources {
    pub(crate) city: &'static str,
    pub(crate) province: &'static str,
    pub(crate) province_code: &'static str,
    pub(crate) zip: &'static str,
    pub(crate) country: &'static str,
    pub(crate) country_code: &'static str,
}

macro_rules! location_sources {
    ($name:ident, $prefix:literal) => {
        pub(crate) const $name: LocationSources = LocationSources {
            city: concat!($prefix, ".city"),
            province: concat!($prefix, ".province"),
            province_code: concat!($prefix, ".province_code"),
            zip: concat!($prefix, ".zip"),
            country: concat!($prefix, ".country"),
            country_code: concat!($prefix, ".country_code"),
        };
    };
}

location_sources!(DEFAULT_ADDRESS, "default_address");
location_sources!(CUSTOMER_DEFAULT_ADDRESS, "customer.default_address");
location_sources!(BILLING_ADDRESS, "billing_address");
location_sources!(SHIPPING_ADDRESS, "shipping_address");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_hints_are_two_letters_lower_cased() {
        assert_eq!(CountryHint::parse("US").unwrap().as_str(), "us");
        assert_eq!(CountryHint::parse(" ca ").unwrap().as_str(), "ca");
        for bad in ["", "USA", "U", "example string", "1A", "é"] {
            assert!(CountryHint::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn empty_user_data_serializes_to_an_empty_object() {
        assert_eq!(serde_json::to_string(&UserData::default()).unwrap(), "{}");
        assert!(UserData::default().is_empty());
    }

    #[test]
    fn repeated_values_are_hashed_once() {
        let mut builder = UserDataBuilder::new();
        builder.email(Some("Jon@Example.com"), "email");
        builder.email(Some("jon@example.com "), "contact_email");
        builder.email(Some("Jon@Example.com"), "customer.email");
        builder.email(Some("   "), "customer.email");
        builder.email(None, "customer.email");
        let data = builder.finish();
        assert_eq!(data.em.len(), 1);
        assert!(data.invalid_fields.is_empty());
    }

    #[test]
    fn invalid_values_are_recorded_without_the_value() {
        let mut builder = UserDataBuilder::new();
        builder.email(Some("not-an-email"), "email");
        builder.email(Some("not-an-email"), "contact_email");
        let data = builder.finish();
        assert!(data.em.is_empty());
        assert_eq!(
            data.invalid_fields,
            [InvalidField {
                field: "em".into(),
                source: "email".into(),
                reason: "invalid email".into(),
            }]
        );
        let json = serde_json::to_string(&data).unwrap();
        assert!(!json.contains("not-an-email"), "{json}");
    }

    #[test]
    fn first_candidate_that_hashes_wins() {
        let mut builder = UserDataBuilder::new();
        builder.first_of(
            Field::FirstName,
            [
                (None, None, "customer.first_name"),
                (Some(" "), None, "x"),
                (Some("Steve"), None, "billing_address.first_name"),
            ],
        );
        builder.first_of(Field::FirstName, [(Some("John"), None, "later")]);
        let data = builder.finish();
        assert_eq!(data.fn_, Some(Hashed::of("steve")));
    }
}
