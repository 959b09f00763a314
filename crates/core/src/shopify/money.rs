//! Exact money amounts and ISO 4217 currency codes.
//!
//! Shopify sends money as decimal strings on orders (`"404.95"`, `"20"` for zero-decimal
//! currencies) and as JSON numbers on refund line items (`89.99`, `0`). [`Money`] accepts both
//! and keeps the decimal digits exactly (integer units plus a scale), so sums and comparisons
//! never go through binary floating point. A JSON number is read back through its shortest
//! round-trip representation, which reproduces the digits Shopify wrote for any amount of up to
//! 15 significant digits.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The most fractional digits a [`Money`] keeps (Shopify uses at most 3 for amounts).
pub const MAX_SCALE: u8 = 12;

/// An exact decimal amount: `units / 10^scale`. The currency travels beside it.
///
/// Equality, ordering and hashing compare the value, so `"20"` equals `"20.00"`; [`Display`]
/// keeps the scale it was written with.
///
/// [`Display`]: fmt::Display
#[derive(Clone, Copy)]
pub struct Money {
    units: i64,
    scale: u8,
}

/// Why a string is not a decimal amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid decimal {0:?}")]
pub struct MoneyError(String);

impl Money {
    /// Zero, with no fractional digits.
    pub const ZERO: Money = Money { units: 0, scale: 0 };

    /// `units / 10^scale`; `None` when `scale` exceeds [`MAX_SCALE`].
    pub fn from_units(units: i64, scale: u8) -> Option<Money> {
        (scale <= MAX_SCALE).then_some(Money { units, scale })
    }

    /// The amount in units of `10^-scale` (`404.95` → `40495`).
    pub fn units(self) -> i64 {
        self.units
    }

    /// How many fractional digits the amount carries.
    pub fn scale(self) -> u8 {
        self.scale
    }

    /// True for any zero (`0`, `0.00`).
    pub fn is_zero(self) -> bool {
        self.units == 0
    }

    /// True below zero.
    pub fn is_negative(self) -> bool {
        self.units < 0
    }

    /// The same value with `scale` fractional digits; `None` if that loses digits or overflows.
    pub fn rescale(self, scale: u8) -> Option<Money> {
        if scale > MAX_SCALE {
            return None;
        }
        match scale.cmp(&self.scale) {
            Ordering::Equal => Some(self),
            Ordering::Greater => {
                let factor = pow10(scale - self.scale)?;
                let units = self.units.checked_mul(i64::try_from(factor).ok()?)?;
                Some(Money { units, scale })
            }
            Ordering::Less => {
                let factor = i64::try_from(pow10(self.scale - scale)?).ok()?;
                (self.units % factor == 0).then(|| Money {
                    units: self.units / factor,
                    scale,
                })
            }
        }
    }

    /// `self + other` at the larger of the two scales; `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        let scale = self.scale.max(other.scale);
        let a = self.rescale(scale)?;
        let b = other.rescale(scale)?;
        Some(Money {
            units: a.units.checked_add(b.units)?,
            scale,
        })
    }

    /// `self × numerator / denominator`, rounded half away from zero to `scale` fractional
    /// digits. Used to carry a presentment-currency amount into the shop currency with the
    /// ratio of a pair of amounts Shopify gave in both. `None` when `denominator` is zero or
    /// on overflow.
    pub fn mul_div(self, numerator: Money, denominator: Money, scale: u8) -> Option<Money> {
        if denominator.is_zero() || scale > MAX_SCALE {
            return None;
        }
        // value = (a / 10^sa) × (n / 10^sn) / (d / 10^sd); in units of 10^-scale:
        // a × n × 10^(sd + scale) / (d × 10^(sa + sn)).
        let mut num = i128::from(self.units).checked_mul(i128::from(numerator.units))?;
        let mut den = i128::from(denominator.units);
        let up = u32::from(denominator.scale) + u32::from(scale);
        let down = u32::from(self.scale) + u32::from(numerator.scale);
        if up >= down {
            num = num.checked_mul(10_i128.checked_pow(up - down)?)?;
        } else {
            den = den.checked_mul(10_i128.checked_pow(down - up)?)?;
        }
        if den < 0 {
            num = num.checked_neg()?;
            den = den.checked_neg()?;
        }
        let quotient = num / den;
        let remainder = num % den;
        let rounded = if remainder.checked_mul(2)?.abs() >= den {
            quotient + num.signum()
        } else {
            quotient
        };
        Some(Money {
            units: i64::try_from(rounded).ok()?,
            scale,
        })
    }

    /// Both values at a common scale, widened so that the comparison cannot overflow.
    fn aligned(self, other: Money) -> (i128, i128) {
        let scale = self.scale.max(other.scale);
        let widen = |m: Money| {
            // scale ≤ MAX_SCALE, so 10^(scale - m.scale) ≤ 10^12 and units × that fits in i128.
            i128::from(m.units) * 10_i128.pow(u32::from(scale - m.scale))
        };
        (widen(self), widen(other))
    }

    /// The value with trailing fractional zeros removed (for hashing by value).
    fn canonical(self) -> (i64, u8) {
        let (mut units, mut scale) = (self.units, self.scale);
        while scale > 0 && units % 10 == 0 {
            units /= 10;
            scale -= 1;
        }
        (units, scale)
    }
}

fn pow10(exp: u8) -> Option<u64> {
    10_u64.checked_pow(u32::from(exp))
}

impl PartialEq for Money {
    fn eq(&self, other: &Money) -> bool {
        let (a, b) = self.aligned(*other);
        a == b
    }
}

impl Eq for Money {}

impl PartialOrd for Money {
    fn partial_cmp(&self, other: &Money) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Money {
    fn cmp(&self, other: &Money) -> Ordering {
        let (a, b) = self.aligned(*other);
        a.cmp(&b)
    }
}

impl Hash for Money {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical().hash(state);
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Money({self})")
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.scale == 0 {
            return write!(f, "{}", self.units);
        }
        let sign = if self.units < 0 { "-" } else { "" };
        let magnitude = self.units.unsigned_abs();
        // scale ≤ MAX_SCALE, so the divisor never overflows.
        let divisor = 10_u64.pow(u32::from(self.scale));
        let width = usize::from(self.scale);
        write!(
            f,
            "{sign}{}.{:0width$}",
            magnitude / divisor,
            magnitude % divisor
        )
    }
}

impl FromStr for Money {
    type Err = MoneyError;

    /// Parses `-?digits(.digits)?` (`"404.95"`, `"20"`, `"-5.00"`, `"0.0"`).
    fn from_str(s: &str) -> Result<Money, MoneyError> {
        parse_decimal(s).ok_or_else(|| MoneyError(truncate_for_message(s)))
    }
}

fn parse_decimal(s: &str) -> Option<Money> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((int_part, frac_part)) => (int_part, Some(frac_part)),
        None => (digits, None),
    };
    if int_part.is_empty() || frac_part.is_some_and(str::is_empty) {
        return None;
    }
    let frac_part = frac_part.unwrap_or("");
    let scale = u8::try_from(frac_part.len()).ok()?;
    if scale > MAX_SCALE {
        return None;
    }
    let mut units: i64 = 0;
    for byte in int_part.bytes().chain(frac_part.bytes()) {
        if !byte.is_ascii_digit() {
            return None;
        }
        units = units.checked_mul(10)?.checked_add(i64::from(byte - b'0'))?;
    }
    Some(Money {
        units: if negative { -units } else { units },
        scale,
    })
}

/// Echo at most 40 characters of a bad value in an error message.
pub(crate) fn truncate_for_message(s: &str) -> String {
    match s.char_indices().nth(40) {
        Some((end, _)) => format!("{}…", &s[..end]),
        None => s.to_owned(),
    }
}

impl Serialize for Money {
    /// A decimal string, as Shopify writes order amounts (`"404.95"`).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Money {
    /// A decimal string or a JSON number.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
        deserializer.deserialize_any(MoneyVisitor)
    }
}

struct MoneyVisitor;

impl Visitor<'_> for MoneyVisitor {
    type Value = Money;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal amount (string or number)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
        i64::try_from(v)
            .map(|units| Money { units, scale: 0 })
            .map_err(|_| E::custom(format_args!("invalid decimal {v}: out of range")))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
        Ok(Money { units: v, scale: 0 })
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
        // `Display` for f64 prints the shortest decimal that reads back as the same double,
        // without exponent: 89.99 → "89.99", 12.5 → "12.5".
        let text = v.to_string();
        parse_decimal(&text).ok_or_else(|| {
            E::custom(format_args!(
                "invalid decimal {}",
                truncate_for_message(&text)
            ))
        })
    }
}

/// An ISO 4217 currency code: three ASCII letters, stored upper-case (`USD`, `VND`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

/// Why a string is not a currency code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid currency code {0:?}")]
pub struct CurrencyCodeError(String);

impl CurrencyCode {
    /// The code, upper-case.
    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl FromStr for CurrencyCode {
    type Err = CurrencyCodeError;

    /// Three ASCII letters in any case (`usd` → `USD`).
    fn from_str(s: &str) -> Result<CurrencyCode, CurrencyCodeError> {
        match s.as_bytes() {
            &[a, b, c] if [a, b, c].iter().all(u8::is_ascii_alphabetic) => Ok(CurrencyCode([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(CurrencyCodeError(truncate_for_message(s))),
        }
    }
}

impl fmt::Debug for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CurrencyCode({})", self.as_str())
    }
}

impl fmt::Display for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CurrencyCode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CurrencyCode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CurrencyCode, D::Error> {
        struct CurrencyVisitor;
        impl Visitor<'_> for CurrencyVisitor {
            type Value = CurrencyCode;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a three-letter currency code")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CurrencyCode, E> {
                v.parse().map_err(E::custom)
            }
        }
        deserializer.deserialize_str(CurrencyVisitor)
    }
}

/// An amount with its currency, as in Shopify's `*_set.shop_money` / `presentment_money`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MoneyAmount {
    /// The amount (a decimal string in Shopify's payloads).
    pub amount: Money,
    /// The amount's currency; absent in a few older payloads.
    #[serde(default)]
    pub currency_code: Option<CurrencyCode>,
}

/// An amount in both the shop's currency and the currency the buyer saw (Shopify's
/// `*_set` objects: `total_price_set`, `subtotal_set`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct MoneySet {
    /// The amount in the shop's currency.
    #[serde(default)]
    pub shop_money: Option<MoneyAmount>,
    /// The amount in the buyer's (presentment) currency.
    #[serde(default)]
    pub presentment_money: Option<MoneyAmount>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn parses_decimal_strings_exactly() {
        assert_eq!(m("404.95").units(), 40495);
        assert_eq!(m("404.95").scale(), 2);
        assert_eq!(m("20").to_string(), "20");
        assert_eq!(m("0.0").to_string(), "0.0");
        assert_eq!(m("-5.00").to_string(), "-5.00");
        assert_eq!(m("0.05").to_string(), "0.05");
        assert_eq!(m("-0.05").to_string(), "-0.05");
    }

    #[test]
    fn rejects_what_is_not_a_decimal() {
        for bad in [
            "",
            "-",
            "example string",
            "1.",
            ".5",
            "1e3",
            "+1",
            " 1",
            "1,00",
            "99999999999999999999",
            "0.0000000000001",
        ] {
            let err = bad.parse::<Money>().unwrap_err();
            assert!(
                err.to_string().starts_with("invalid decimal"),
                "{bad:?}: {err}"
            );
        }
        assert_eq!(
            "example string".parse::<Money>().unwrap_err().to_string(),
            r#"invalid decimal "example string""#
        );
    }

    #[test]
    fn reads_json_numbers_and_strings() {
        let v: Vec<Money> =
            serde_json::from_str(r#"["404.95", "20", 12.5, 89.99, 0, -3, 159.99]"#).unwrap();
        let shown: Vec<String> = v.iter().map(Money::to_string).collect();
        assert_eq!(
            shown,
            ["404.95", "20", "12.5", "89.99", "0", "-3", "159.99"]
        );
        assert!(serde_json::from_str::<Money>("true").is_err());
        assert!(serde_json::from_str::<Money>("null").is_err());
    }

    #[test]
    fn serializes_as_a_decimal_string() {
        assert_eq!(serde_json::to_string(&m("404.95")).unwrap(), r#""404.95""#);
    }

    #[test]
    fn compares_by_value() {
        assert_eq!(m("20"), m("20.00"));
        assert!(m("20.01") > m("20"));
        assert!(m("-1") < m("0.0"));
        let hash = |x: Money| {
            use std::collections::hash_map::DefaultHasher;
            let mut h = DefaultHasher::new();
            x.hash(&mut h);
            h.finish()
        };
        assert_eq!(hash(m("20")), hash(m("20.000")));
    }

    #[test]
    fn adds_exactly_across_scales() {
        let sum = m("75.00").checked_add(m("10")).unwrap();
        assert_eq!(sum.to_string(), "85.00");
        let cents = (0..10).fold(Money::ZERO, |acc, _| acc.checked_add(m("0.1")).unwrap());
        assert_eq!(cents, m("1"));
        assert!(
            Money::from_units(i64::MAX, 0)
                .unwrap()
                .checked_add(m("1"))
                .is_none()
        );
    }

    #[test]
    fn rescales_only_without_loss() {
        assert_eq!(m("1.5").rescale(3).unwrap().to_string(), "1.500");
        assert_eq!(m("1.500").rescale(1).unwrap().to_string(), "1.5");
        assert!(m("1.55").rescale(1).is_none());
    }

    #[test]
    fn mul_div_rounds_half_away_from_zero() {
        // 10.00 EUR at 110.00 USD / 100.00 EUR = 11.00 USD
        assert_eq!(
            m("10.00")
                .mul_div(m("110.00"), m("100.00"), 2)
                .unwrap()
                .to_string(),
            "11.00"
        );
        // 1 / 3 → 0.33; 2 / 3 → 0.67; -2 / 3 → -0.67
        assert_eq!(
            m("1").mul_div(m("1"), m("3"), 2).unwrap().to_string(),
            "0.33"
        );
        assert_eq!(
            m("2").mul_div(m("1"), m("3"), 2).unwrap().to_string(),
            "0.67"
        );
        assert_eq!(
            m("-2").mul_div(m("1"), m("3"), 2).unwrap().to_string(),
            "-0.67"
        );
        assert_eq!(
            m("0.125").mul_div(m("1"), m("1"), 2).unwrap().to_string(),
            "0.13"
        );
        // zero-decimal target: 20 USD at 25000 VND / 1 USD
        assert_eq!(
            m("20.00")
                .mul_div(m("25000"), m("1.00"), 0)
                .unwrap()
                .to_string(),
            "500000"
        );
        assert!(m("1").mul_div(m("1"), m("0.00"), 2).is_none());
    }

    #[test]
    fn currency_codes_are_three_letters_upper_cased() {
        assert_eq!("usd".parse::<CurrencyCode>().unwrap().as_str(), "USD");
        assert_eq!(
            serde_json::from_str::<CurrencyCode>(r#""VND""#)
                .unwrap()
                .to_string(),
            "VND"
        );
        for bad in ["", "US", "USDX", "U$D", "example string", "123"] {
            assert!(bad.parse::<CurrencyCode>().is_err(), "{bad:?}");
        }
        assert_eq!(
            serde_json::from_str::<CurrencyCode>(r#""example string""#)
                .unwrap_err()
                .to_string(),
            r#"invalid currency code "example string" at line 1 column 16"#
        );
        assert_eq!(
            serde_json::to_string(&"eur".parse::<CurrencyCode>().unwrap()).unwrap(),
            r#""EUR""#
        );
    }
}
