//! Exact money in PostgreSQL `NUMERIC` columns.
//!
//! [`Amount`] carries an [`audience_core::shopify::Money`] to and from `NUMERIC` through the
//! wire format itself (base-10000 digit groups, a weight and a display scale), so no amount ever
//! passes through a float or a string. A `NUMERIC` with more than
//! [`MAX_SCALE`](audience_core::shopify::money::MAX_SCALE) fractional digits, `NaN`, or a value
//! beyond `i64` units is refused when read.

use std::io::Write as _;

use audience_core::shopify::Money;
use audience_core::shopify::money::MAX_SCALE;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::data_types::PgNumeric;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Numeric;

/// A [`Money`] stored in a `NUMERIC` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Numeric)]
pub struct Amount(pub Money);

/// Why a `NUMERIC` value is not a [`Money`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumericError {
    /// `NaN` is not an amount.
    #[error("NUMERIC NaN is not an amount")]
    NaN,
    /// More fractional digits than an amount keeps.
    #[error("NUMERIC with {0} fractional digits (at most {MAX_SCALE} are supported)")]
    Scale(u16),
    /// Too large for an amount.
    #[error("NUMERIC value out of range")]
    Range,
}

/// The `NUMERIC` wire representation of an amount, normalized (no leading or trailing zero
/// groups; zero has no groups).
pub fn to_pg_numeric(money: Money) -> PgNumeric {
    let scale = u32::from(money.scale());
    let pad = (4 - scale % 4) % 4;
    // |units| ≤ 2^63 and pad ≤ 3, so the product fits in a u128.
    let mut magnitude = u128::from(money.units().unsigned_abs()) * 10_u128.pow(pad);
    let fraction_groups = i64::from((scale + pad) / 4);
    let mut little_endian: Vec<i16> = Vec::new();
    while magnitude > 0 {
        // A remainder below 10 000 always fits in an i16.
        little_endian.push(i16::try_from(magnitude % 10_000).unwrap_or(0));
        magnitude /= 10_000;
    }
    let dscale = u16::from(money.scale());
    if little_endian.is_empty() {
        return PgNumeric::Positive {
            weight: 0,
            scale: dscale,
            digits: Vec::new(),
        };
    }
    let length = i64::try_from(little_endian.len()).unwrap_or(i64::MAX);
    let weight = i16::try_from(length - 1 - fraction_groups).unwrap_or(0);
    let mut digits: Vec<i16> = little_endian.into_iter().rev().collect();
    while digits.last() == Some(&0) {
        digits.pop();
    }
    if money.is_negative() {
        PgNumeric::Negative {
            weight,
            scale: dscale,
            digits,
        }
    } else {
        PgNumeric::Positive {
            weight,
            scale: dscale,
            digits,
        }
    }
}

/// The amount a `NUMERIC` holds, at its display scale.
pub fn from_pg_numeric(numeric: &PgNumeric) -> Result<Money, NumericError> {
    let (negative, weight, dscale, digits) = match numeric {
        PgNumeric::Positive {
            weight,
            scale,
            digits,
        } => (false, *weight, *scale, digits),
        PgNumeric::Negative {
            weight,
            scale,
            digits,
        } => (true, *weight, *scale, digits),
        PgNumeric::NaN => return Err(NumericError::NaN),
    };
    let scale = u8::try_from(dscale)
        .ok()
        .filter(|s| *s <= MAX_SCALE)
        .ok_or(NumericError::Scale(dscale))?;
    let mut units: i128 = 0;
    for (index, digit) in digits.iter().enumerate() {
        let index = i32::try_from(index).map_err(|_| NumericError::Range)?;
        let exponent = 4 * (i32::from(weight) - index) + i32::from(dscale);
        let digit = i128::from(*digit);
        let term = if exponent >= 0 {
            let factor = 10_i128
                .checked_pow(exponent.unsigned_abs())
                .ok_or(NumericError::Range)?;
            digit.checked_mul(factor).ok_or(NumericError::Range)?
        } else {
            // Digits below the display scale must be zero (PostgreSQL rounds to it).
            let divisor = 10_i128
                .checked_pow(exponent.unsigned_abs())
                .ok_or(NumericError::Scale(dscale))?;
            if digit % divisor != 0 {
                return Err(NumericError::Scale(dscale));
            }
            digit / divisor
        };
        units = units.checked_add(term).ok_or(NumericError::Range)?;
    }
    if negative {
        units = -units;
    }
    let units = i64::try_from(units).map_err(|_| NumericError::Range)?;
    Money::from_units(units, scale).ok_or(NumericError::Scale(dscale))
}

impl ToSql<Numeric, Pg> for Amount {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        // The binary NUMERIC format: ndigits, weight, sign, dscale, then the digit groups.
        let (sign, weight, scale, digits) = match to_pg_numeric(self.0) {
            PgNumeric::Positive {
                weight,
                scale,
                digits,
            } => (0x0000_u16, weight, scale, digits),
            PgNumeric::Negative {
                weight,
                scale,
                digits,
            } => (0x4000_u16, weight, scale, digits),
            PgNumeric::NaN => (0xC000_u16, 0, 0, Vec::new()),
        };
        let count = u16::try_from(digits.len())?;
        out.write_all(&count.to_be_bytes())?;
        out.write_all(&weight.to_be_bytes())?;
        out.write_all(&sign.to_be_bytes())?;
        out.write_all(&scale.to_be_bytes())?;
        for digit in digits {
            out.write_all(&digit.to_be_bytes())?;
        }
        Ok(IsNull::No)
    }
}

impl FromSql<Numeric, Pg> for Amount {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let numeric = PgNumeric::from_sql(bytes)?;
        Ok(Amount(from_pg_numeric(&numeric)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        s.parse().unwrap()
    }

    #[test]
    fn amounts_map_to_base_10000_groups() {
        assert_eq!(
            to_pg_numeric(m("1234.5678")),
            PgNumeric::Positive {
                weight: 0,
                scale: 4,
                digits: vec![1234, 5678]
            }
        );
        assert_eq!(
            to_pg_numeric(m("1000.00")),
            PgNumeric::Positive {
                weight: 0,
                scale: 2,
                digits: vec![1000]
            }
        );
        assert_eq!(
            to_pg_numeric(m("10000")),
            PgNumeric::Positive {
                weight: 1,
                scale: 0,
                digits: vec![1]
            }
        );
        assert_eq!(
            to_pg_numeric(m("0.0005")),
            PgNumeric::Positive {
                weight: -1,
                scale: 4,
                digits: vec![5]
            }
        );
        assert_eq!(
            to_pg_numeric(m("0.00000005")),
            PgNumeric::Positive {
                weight: -2,
                scale: 8,
                digits: vec![5]
            }
        );
        assert_eq!(
            to_pg_numeric(m("-404.95")),
            PgNumeric::Negative {
                weight: 0,
                scale: 2,
                digits: vec![404, 9500]
            }
        );
        assert_eq!(
            to_pg_numeric(m("0.00")),
            PgNumeric::Positive {
                weight: 0,
                scale: 2,
                digits: vec![]
            }
        );
    }

    #[test]
    fn amounts_round_trip_with_their_scale() {
        for text in [
            "0",
            "0.00",
            "1",
            "999.99",
            "1000.00",
            "1000.01",
            "0.1",
            "12.345",
            "-5.5",
            "123456789.123",
            "0.000000000001",
            "92233720368.54775807",
            "-92233720368.54775807",
            "10000.0000",
        ] {
            let money = m(text);
            let back = from_pg_numeric(&to_pg_numeric(money)).unwrap();
            assert_eq!(back, money, "{text}");
            assert_eq!(back.to_string(), money.to_string(), "{text}");
        }
    }

    #[test]
    fn the_smallest_amount_round_trips() {
        let min = Money::from_units(i64::MIN, 8).unwrap();
        assert_eq!(from_pg_numeric(&to_pg_numeric(min)).unwrap(), min);
    }

    #[test]
    fn unusable_numerics_are_refused() {
        assert_eq!(from_pg_numeric(&PgNumeric::NaN), Err(NumericError::NaN));
        let deep = PgNumeric::Positive {
            weight: -4,
            scale: 16,
            digits: vec![1],
        };
        assert_eq!(from_pg_numeric(&deep), Err(NumericError::Scale(16)));
        let huge = PgNumeric::Positive {
            weight: 10,
            scale: 0,
            digits: vec![1],
        };
        assert_eq!(from_pg_numeric(&huge), Err(NumericError::Range));
    }
}
