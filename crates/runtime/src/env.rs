//! Typed environment variables (12-factor configuration).
//!
//! Every service builds its `Settings` from these helpers, so a bad value stops start-up with
//! a message that names the variable and says what was expected.

use std::fmt::Display;
use std::str::FromStr;

/// A configuration value is missing or cannot be parsed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set (or empty).
    #[error("{name} is not set: {hint}")]
    Missing {
        /// The variable.
        name: &'static str,
        /// What to put there.
        hint: &'static str,
    },
    /// A variable is set to a value that does not parse.
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// The value found (never a secret: secrets are reported without their value).
        value: String,
        /// Why it is invalid.
        reason: String,
    },
}

/// The variable's value, if set and not empty.
pub fn get(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The variable parsed as `T`, or `default` when it is unset.
pub fn parse_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match get(name) {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|e: T::Err| ConfigError::Invalid {
                name,
                reason: e.to_string(),
                value,
            }),
    }
}

/// The variable as a string, or `default` when unset.
pub fn string_or(name: &'static str, default: &str) -> String {
    get(name).unwrap_or_else(|| default.to_owned())
}

/// Builds an [`ConfigError::Invalid`] for a value that parsed but is out of range.
pub fn invalid(name: &'static str, value: impl Display, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.to_string(),
        reason: reason.into(),
    }
}
