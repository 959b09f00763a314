//! Meta's customer-data normalization and SHA-256 hashing, exactly as
//! `shared/guide/normalization.md` specifies (with the readings listed in
//! `shared/fixtures/meta/README.md` where the guide is silent).
//!
//! Meta matches people by comparing hashes, so a value normalized any differently from Meta's own
//! data never matches. This module is the one place that knows the rules; ingest calls it once,
//! at the edge, and everything downstream only ever sees [`Hashed`] values.
//!
//! Every hashed field goes through the same steps (`text.rs`): drop format characters, turn
//! control characters into spaces, NFC, trim, full lower-case; an empty value is omitted
//! (`Ok(None)`); a value that is exactly 64 lower-case hex characters is taken as already hashed
//! and passed through. Then the per-field rule applies (one submodule per non-trivial rule) and
//! the result is hashed. A rule that rejects a value returns a [`NormalizeError`]: callers leave
//! the field out and count it, they never fail the event.
//!
//! `currency`, `client_ip_address`, `fbc` and `fbp` are never hashed; their well-formedness
//! checks live here too so that every rule about what is sent to Meta sits together.

mod country;
mod country_table;
mod date;
mod email;
mod phone;
mod region;
mod text;
mod unhashed;
mod zip;

use std::fmt;

use sha2::{Digest, Sha256};

pub use unhashed::{client_ip_address, fbc, fbc_from_click_id, fbp};

/// A customer-data field that Meta matches on (hashed before it is sent).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// Email address: `em` · `EMAIL`.
    Email,
    /// Phone number, E.164 digits without `+`: `ph` · `PHONE`.
    Phone,
    /// First name: `fn` · `FN`.
    FirstName,
    /// Last name: `ln` · `LN`.
    LastName,
    /// Gender, `m` or `f`: `ge` · `GEN`.
    Gender,
    /// Date of birth, `YYYYMMDD`: `db` (Custom Audiences split it into `DOBY`/`DOBM`/`DOBD`).
    DateOfBirth,
    /// City: `ct` · `CT`.
    City,
    /// State or province: `st` · `ST`.
    State,
    /// Postal code: `zp` · `ZIP`.
    Zip,
    /// Country, ISO 3166-1 alpha-2: `country` · `COUNTRY`.
    Country,
    /// The advertiser's own customer id (the Shopify customer id): `external_id` · `EXTERN_ID`.
    ExternalId,
}

impl Field {
    /// Every field, in Conversions API documentation order.
    pub const ALL: [Field; 11] = [
        Field::Email,
        Field::Phone,
        Field::FirstName,
        Field::LastName,
        Field::Gender,
        Field::DateOfBirth,
        Field::City,
        Field::State,
        Field::Zip,
        Field::Country,
        Field::ExternalId,
    ];

    /// The Conversions API `user_data` key (`em`, `ph`, `fn`, …, `external_id`).
    pub fn capi_key(self) -> &'static str {
        match self {
            Field::Email => "em",
            Field::Phone => "ph",
            Field::FirstName => "fn",
            Field::LastName => "ln",
            Field::Gender => "ge",
            Field::DateOfBirth => "db",
            Field::City => "ct",
            Field::State => "st",
            Field::Zip => "zp",
            Field::Country => "country",
            Field::ExternalId => "external_id",
        }
    }

    /// The Custom Audiences multi-key schema key (`EMAIL`, `PHONE`, `FN`, …, `EXTERN_ID`).
    ///
    /// The schema has no key for a whole date of birth: it takes the year, month and day as
    /// `DOBY`, `DOBM` and `DOBD`, which are derived keys outside this specification. For
    /// [`Field::DateOfBirth`] this returns `DOBY`, the closest documented key; an audience upload
    /// must derive the three parts itself, and [`Field::from_key`] does not map `DOBY` back
    /// (its value is a year, not a date).
    pub fn audience_key(self) -> &'static str {
        match self {
            Field::Email => "EMAIL",
            Field::Phone => "PHONE",
            Field::FirstName => "FN",
            Field::LastName => "LN",
            Field::Gender => "GEN",
            Field::DateOfBirth => "DOBY",
            Field::City => "CT",
            Field::State => "ST",
            Field::Zip => "ZIP",
            Field::Country => "COUNTRY",
            Field::ExternalId => "EXTERN_ID",
        }
    }

    /// The field for a Conversions API key or a Custom Audiences schema key, including the
    /// single-key schemas `EMAIL_SHA256` and `PHONE_SHA256`. Keys are case-sensitive, as Meta's
    /// are. Derived keys (`fi`, `f5first`, `doby`, `DOBY`, …) and mobile advertiser ids are
    /// outside the specification and give `None`.
    pub fn from_key(key: &str) -> Option<Field> {
        Some(match key {
            "em" | "EMAIL" | "EMAIL_SHA256" => Field::Email,
            "ph" | "PHONE" | "PHONE_SHA256" => Field::Phone,
            "fn" | "FN" => Field::FirstName,
            "ln" | "LN" => Field::LastName,
            "ge" | "GEN" => Field::Gender,
            "db" => Field::DateOfBirth,
            "ct" | "CT" => Field::City,
            "st" | "ST" => Field::State,
            "zp" | "ZIP" => Field::Zip,
            "country" | "COUNTRY" => Field::Country,
            "external_id" | "EXTERN_ID" => Field::ExternalId,
            _ => return None,
        })
    }
}

impl fmt::Display for Field {
    /// The Conversions API key, e.g. for an `invalid_field_total{field}` label.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.capi_key())
    }
}

/// A lower-case hex SHA-256 (64 characters), as sent to Meta.
///
/// A hash is not personal data, so `Debug` and `Display` print it.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Hashed(String);

impl Hashed {
    /// The 64 lower-case hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts exactly 64 lower-case hex characters (an already hashed value), nothing else.
    pub fn parse(s: &str) -> Option<Hashed> {
        text::is_sha256_hex(s).then(|| Hashed(s.to_owned()))
    }

    /// The lower-case hex SHA-256 of the UTF-8 bytes of an already normalized value.
    pub fn of(normalized: &str) -> Hashed {
        let mut hex = [0u8; 64];
        // `hex::encode` collects one `char` at a time; writing into a buffer is several times
        // faster, and a webhook hashes about ten values (docs/benchmarks.md).
        let written = hex::encode_to_slice(Sha256::digest(normalized.as_bytes()), &mut hex);
        debug_assert!(written.is_ok(), "32 bytes always fit 64 hex digits");
        // Hex digits are ASCII: this never takes the default.
        Hashed(std::str::from_utf8(&hex).unwrap_or_default().to_owned())
    }

    /// The hash as an owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for Hashed {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Hashed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A normalized value and its hash.
///
/// `value` is personal data in plain text: use it only where the normalized form itself is
/// needed (diagnostics tools, tests), never in logs. `Debug` does not print it. For a value that
/// arrived already hashed, `value` equals `hash`.
#[derive(Clone, PartialEq, Eq)]
pub struct Normalized {
    /// The normalized plain value (PII).
    pub value: String,
    /// `value`'s SHA-256, or `value` itself when it arrived already hashed.
    pub hash: Hashed,
}

impl fmt::Debug for Normalized {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Normalized")
            .field("value", &"<redacted>")
            .field("hash", &self.hash)
            .finish()
    }
}

/// Why a value was rejected. The field is left out and counted; the event still goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NormalizeError {
    /// `em` does not look like `local@domain.tld`.
    #[error("invalid email")]
    InvalidEmail,
    /// `ph` is not a valid phone number for its region (libphonenumber metadata).
    #[error("invalid phone")]
    InvalidPhone,
    /// `ge` is not one of `m`, `male`, `man`, `f`, `female`, `woman`.
    #[error("invalid gender")]
    InvalidGender,
    /// `db` is not an accepted layout, not a real date, before 1900 or in the future.
    #[error("invalid date of birth")]
    InvalidDateOfBirth,
    /// `country` is not an ISO 3166-1 code or English country name.
    #[error("invalid country")]
    InvalidCountry,
    /// `currency` is not three ASCII letters.
    #[error("invalid currency")]
    InvalidCurrency,
}

/// Normalizes one raw value of `field` and hashes it.
///
/// `country` is the ISO 3166-1 alpha-2 context of the value (any case, e.g. `"GB"` or `"gb"`;
/// `uk`, alpha-3 codes and English names are read too), used by `ph` (default region), `st`
/// (which name table applies) and `zp` (US truncation); other fields ignore it. `None`, an empty
/// string or an unrecognised country means "unknown".
///
/// Returns `Ok(None)` when the field is omitted (empty, or nothing left after its rule). A value
/// that is exactly 64 lower-case hex characters after the common steps is taken as already
/// hashed: `value` and `hash` are that string.
///
/// # Errors
///
/// The field's [`NormalizeError`] when its rule rejects the value (for example an email without
/// a domain, or a phone number that is not valid for its region).
pub fn normalize(
    field: Field,
    raw: &str,
    country: Option<&str>,
) -> Result<Option<Normalized>, NormalizeError> {
    normalize_on(field, raw, country, || chrono::Utc::now().date_naive())
}

/// [`normalize`], returning only the hash.
///
/// # Errors
///
/// As [`normalize`].
pub fn hash(
    field: Field,
    raw: &str,
    country: Option<&str>,
) -> Result<Option<Hashed>, NormalizeError> {
    Ok(normalize(field, raw, country)?.map(|n| n.hash))
}

/// Normalizes a `custom_data.currency` code: three ASCII letters, upper-cased (`usd` → `USD`).
/// Never hashed. `Ok(None)` when empty.
///
/// # Errors
///
/// [`NormalizeError::InvalidCurrency`] unless the value is exactly three ASCII letters (no
/// ISO 4217 membership check).
pub fn normalize_currency(raw: &str) -> Result<Option<String>, NormalizeError> {
    let value = text::prepare(raw);
    if value.is_empty() {
        return Ok(None);
    }
    if value.len() == 3 && value.bytes().all(|b| b.is_ascii_alphabetic()) {
        Ok(Some(value.to_ascii_uppercase()))
    } else {
        Err(NormalizeError::InvalidCurrency)
    }
}

/// [`normalize`] with the date that "not in the future" is judged against supplied lazily (only
/// `db` reads it), so tests can fix it.
fn normalize_on(
    field: Field,
    raw: &str,
    country: Option<&str>,
    today: impl FnOnce() -> chrono::NaiveDate,
) -> Result<Option<Normalized>, NormalizeError> {
    let mut value = text::prepare(raw);
    if value.is_empty() {
        return Ok(None);
    }
    if text::is_sha256_hex(&value) {
        return Ok(Some(Normalized {
            hash: Hashed(value.clone()),
            value,
        }));
    }
    let value = match field {
        Field::Email if email::is_valid(&value) => value,
        Field::Email => return Err(NormalizeError::InvalidEmail),
        Field::Phone => {
            let region = country::context(country).and_then(phone::region_id);
            phone::e164_digits(&value, region).ok_or(NormalizeError::InvalidPhone)?
        }
        Field::FirstName | Field::LastName | Field::City => {
            text::retain_letters_and_marks(&mut value);
            value
        }
        Field::State => {
            text::retain_letters_and_marks(&mut value);
            if value.is_empty() {
                return Ok(None);
            }
            region::state_code(value, country::context(country))
        }
        Field::Zip => zip::normalize(value, country::context(country)),
        Field::Gender => gender(&value)?.to_owned(),
        Field::DateOfBirth => {
            date::normalize(&value, today()).ok_or(NormalizeError::InvalidDateOfBirth)?
        }
        Field::Country => country::alpha2(&value)
            .ok_or(NormalizeError::InvalidCountry)?
            .to_owned(),
        Field::ExternalId => value,
    };
    if value.is_empty() {
        return Ok(None);
    }
    Ok(Some(Normalized {
        hash: Hashed::of(&value),
        value,
    }))
}

/// The `ge` rule: only the six listed words (after trim and lower-case; `M.` is invalid).
fn gender(value: &str) -> Result<&'static str, NormalizeError> {
    match value {
        "m" | "male" | "man" => Ok("m"),
        "f" | "female" | "woman" => Ok("f"),
        _ => Err(NormalizeError::InvalidGender),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(field: Field, raw: &str, country: Option<&str>) -> Option<String> {
        normalize(field, raw, country)
            .expect("valid")
            .map(|n| n.value)
    }

    #[test]
    fn keys_round_trip() {
        for field in Field::ALL {
            assert_eq!(Field::from_key(field.capi_key()), Some(field));
            if field != Field::DateOfBirth {
                assert_eq!(Field::from_key(field.audience_key()), Some(field));
            }
        }
        assert_eq!(Field::from_key("EMAIL_SHA256"), Some(Field::Email));
        assert_eq!(Field::from_key("PHONE_SHA256"), Some(Field::Phone));
        assert_eq!(Field::from_key("DOBY"), None);
        assert_eq!(Field::from_key("MADID"), None);
        assert_eq!(Field::from_key("currency"), None);
    }

    #[test]
    fn hash_is_lower_case_hex_sha256() {
        assert_eq!(
            Hashed::of("").as_str(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let h = Hashed::of("207119551");
        assert_eq!(Hashed::parse(h.as_str()), Some(h.clone()));
        assert_eq!(Hashed::parse(&h.as_str().to_uppercase()), None);
        assert_eq!(
            serde_json::to_string(&h).expect("serializes"),
            format!("\"{h}\"")
        );
    }

    #[test]
    fn normalized_debug_does_not_print_the_value() {
        let n = normalize(Field::Email, "jane.doe@example.com", None)
            .expect("valid")
            .expect("present");
        let debug = format!("{n:?}");
        assert!(!debug.contains("jane"), "{debug}");
        assert!(debug.contains(n.hash.as_str()));
    }

    #[test]
    fn empty_values_are_omitted_never_hashed() {
        for field in Field::ALL {
            assert_eq!(
                normalize(field, " \u{200b}\t", Some("us")),
                Ok(None),
                "{field}"
            );
        }
        assert_eq!(value(Field::FirstName, "1234", None), None);
        assert_eq!(value(Field::State, "..", Some("us")), None);
    }

    #[test]
    fn already_hashed_values_pass_through_every_field() {
        let hashed = Hashed::of("x");
        for field in Field::ALL {
            let n = normalize(field, &hashed.as_str().to_uppercase(), Some("us"))
                .expect("valid")
                .expect("present");
            assert_eq!(n.hash, hashed, "{field}");
            assert_eq!(n.value, hashed.as_str(), "{field}");
        }
    }

    #[test]
    fn a_32_character_hex_value_is_not_passed_through() {
        assert_eq!(
            normalize(Field::Email, "55502f40dc8b7c769880b10874abc9d0", None),
            Err(NormalizeError::InvalidEmail)
        );
    }

    #[test]
    fn gender_words() {
        assert_eq!(value(Field::Gender, "Female", None).as_deref(), Some("f"));
        assert_eq!(value(Field::Gender, " MAN ", None).as_deref(), Some("m"));
        assert_eq!(
            normalize(Field::Gender, "M.", None),
            Err(NormalizeError::InvalidGender)
        );
    }

    #[test]
    fn names_and_cities_keep_letters_and_marks() {
        assert_eq!(
            value(Field::FirstName, "Anne-Marie", None).as_deref(),
            Some("annemarie")
        );
        assert_eq!(
            value(Field::LastName, "D’Souza", None).as_deref(),
            Some("dsouza")
        );
        assert_eq!(
            value(Field::City, "Washington, D.C.", None).as_deref(),
            Some("washingtondc")
        );
        assert_eq!(
            value(Field::City, "São Paulo", Some("br")).as_deref(),
            Some("sãopaulo")
        );
    }

    #[test]
    fn country_context_is_read_in_any_case() {
        assert_eq!(
            value(Field::Phone, "020 7946 0958", Some("GB")).as_deref(),
            Some("442079460958")
        );
        assert_eq!(
            value(Field::State, "Texas", Some("US")).as_deref(),
            Some("tx")
        );
        assert_eq!(
            value(Field::Zip, "94107-1234", Some("US")).as_deref(),
            Some("94107")
        );
    }

    #[test]
    fn date_of_birth_uses_the_supplied_today() {
        let today = || chrono::NaiveDate::from_ymd_opt(2000, 1, 1).expect("a real date");
        assert_eq!(
            normalize_on(Field::DateOfBirth, "2000-01-02", None, today),
            Err(NormalizeError::InvalidDateOfBirth)
        );
        assert!(normalize_on(Field::DateOfBirth, "2000-01-01", None, today).is_ok());
    }

    #[test]
    fn currency_is_three_letters_upper_cased() {
        assert_eq!(normalize_currency(" usd "), Ok(Some("USD".to_owned())));
        assert_eq!(normalize_currency(""), Ok(None));
        assert_eq!(
            normalize_currency("US$"),
            Err(NormalizeError::InvalidCurrency)
        );
        assert_eq!(
            normalize_currency("usdd"),
            Err(NormalizeError::InvalidCurrency)
        );
    }

    /// Measures normalizing the fields of one typical Shopify customer (what ingest does per
    /// webhook). Run with
    /// `cargo test -p audience-core --release --lib -- --ignored --nocapture normalization_cost`.
    #[test]
    #[ignore = "timing, not a check; run by hand in release mode"]
    fn customer_normalization_cost() {
        let customer = [
            (Field::Email, " Jane.Doe+Shop@Example.COM ", Some("US")),
            (Field::Phone, "(415) 555-0100", Some("US")),
            (Field::FirstName, "Anne-Marie", None),
            (Field::LastName, "O'Brien", None),
            (Field::City, "San Francisco", Some("US")),
            (Field::State, "California", Some("US")),
            (Field::Zip, "94107-1234", Some("US")),
            (Field::Country, "US", None),
            (Field::ExternalId, "207119551", None),
        ];
        let rounds = 2_000_u32;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            for (field, raw, country) in customer {
                let _ = std::hint::black_box(hash(field, raw, country));
            }
        }
        let per_customer = start.elapsed() / rounds;
        let start = std::time::Instant::now();
        for _ in 0..rounds {
            for (field, raw, country) in customer {
                if field != Field::Phone {
                    let _ = std::hint::black_box(hash(field, raw, country));
                }
            }
        }
        let without_phone = start.elapsed() / rounds;
        println!("one customer: {per_customer:?}; without the phone: {without_phone:?}");
    }

    #[test]
    fn errors_display_the_specified_reason() {
        assert_eq!(NormalizeError::InvalidPhone.to_string(), "invalid phone");
        assert_eq!(
            NormalizeError::InvalidDateOfBirth.to_string(),
            "invalid date of birth"
        );
    }
}
