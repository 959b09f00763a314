//! Start-up configuration of the simulator: the accounts it knows, its rate-limit budgets and the
//! delays of its faults.
//!
//! A `SimConfig` is plain data. Tests build one in code (`SimConfig::default()` plus accounts), the
//! binary reads one from a JSON file (`SimConfig::from_file`) or starts from `SimConfig::dev()`,
//! which registers the documented development account so that `make run` works without a file.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use serde::{Deserialize, Serialize};

/// Access token of the development account registered by [`SimConfig::dev`].
pub const DEV_ACCESS_TOKEN: &str = "dev-token";
/// Ad account (without the `act_` prefix) of the development account.
pub const DEV_AD_ACCOUNT_ID: &str = "1000";
/// Pixel (dataset) of the development account.
pub const DEV_PIXEL_ID: &str = "2000";

/// Calls per hour an ad account may make when its registration names no budget.
///
/// 5 000 is the documented base of the development tier of the `custom_audience` business use
/// case ("5000 (Dev) + 40 × active custom audiences", Marketing API rate limiting).
pub const DEFAULT_CALLS_PER_HOUR: u64 = 5_000;

/// Configuration of one simulator instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimConfig {
    /// Accounts registered at start: each gives a token access to one ad account and its pixels.
    pub accounts: Vec<AccountConfig>,
    /// Calls per rate-limit window that the whole app may make, across every ad account.
    /// `X-App-Usage` reports the share of it used.
    pub app_calls_per_hour: u64,
    /// Length of a rate-limit window in seconds (Meta's business use case window is one hour).
    pub rate_limit_window_seconds: u64,
    /// How long a `timeout` fault holds the request before answering 504, in seconds.
    /// Longer than a client's timeout by default; tests set it to a second or two.
    pub timeout_fault_seconds: f64,
    /// How far in the future an `event_time` may lie before the event is rejected, in seconds.
    pub future_event_skew_seconds: i64,
    /// Number of actix worker threads. One is enough for tests: handlers never block.
    pub workers: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            accounts: Vec::new(),
            app_calls_per_hour: 1_000_000,
            rate_limit_window_seconds: 3_600,
            timeout_fault_seconds: 30.0,
            future_event_skew_seconds: 60,
            workers: 1,
        }
    }
}

impl SimConfig {
    /// The configuration the binary uses without `--config`: defaults plus the development account
    /// (`dev-token`, ad account `1000`, pixel `2000`).
    pub fn dev() -> Self {
        Self {
            accounts: vec![AccountConfig::dev()],
            workers: 2,
            ..Self::default()
        }
    }

    /// Reads a configuration from a JSON file; missing fields take their defaults.
    pub fn from_file(path: impl AsRef<Path>) -> anyhow::Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("Failed to read the meta-sim config file {}", path.display())
        })?;
        let config: Self = serde_json::from_str(&text).with_context(|| {
            format!(
                "Failed to parse the meta-sim config file {}",
                path.display()
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Adds an account to the configuration (builder style, for tests).
    #[must_use]
    pub fn with_account(mut self, account: AccountConfig) -> Self {
        self.accounts.push(account);
        self
    }

    /// Checks the values that would make the simulator misbehave.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.rate_limit_window_seconds > 0,
            "rate_limit_window_seconds must be positive"
        );
        anyhow::ensure!(
            self.app_calls_per_hour > 0,
            "app_calls_per_hour must be positive"
        );
        anyhow::ensure!(
            self.timeout_fault_seconds.is_finite() && self.timeout_fault_seconds >= 0.0,
            "timeout_fault_seconds must be a non-negative number"
        );
        anyhow::ensure!(self.workers > 0, "workers must be positive");
        for account in &self.accounts {
            account.validate()?;
        }
        Ok(())
    }

    /// The `timeout` fault delay as a `Duration`.
    pub fn timeout_fault_delay(&self) -> Duration {
        Duration::from_secs_f64(self.timeout_fault_seconds.max(0.0))
    }
}

/// One registration: a token, the ad account it may use, and that account's pixels.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// The access token clients send as `access_token` or `Authorization: Bearer`.
    pub access_token: String,
    /// The ad account id, with or without the `act_` prefix.
    pub ad_account_id: String,
    /// Pixels (datasets) owned by the ad account.
    #[serde(default)]
    pub pixel_ids: Vec<String>,
    /// Calls per rate-limit window allowed for the ad account; [`DEFAULT_CALLS_PER_HOUR`] if absent.
    #[serde(default)]
    pub calls_per_hour: Option<u64>,
    /// Unix time (simulator clock) at which the token expires; never if absent.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

impl AccountConfig {
    /// An account with the given token, ad account and pixels and the default budget.
    pub fn new(
        access_token: impl Into<String>,
        ad_account_id: impl Into<String>,
        pixel_ids: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            access_token: access_token.into(),
            ad_account_id: ad_account_id.into(),
            pixel_ids: pixel_ids.into_iter().map(Into::into).collect(),
            calls_per_hour: None,
            expires_at: None,
        }
    }

    /// The development account: `dev-token`, ad account `1000`, pixel `2000`.
    pub fn dev() -> Self {
        Self::new(DEV_ACCESS_TOKEN, DEV_AD_ACCOUNT_ID, [DEV_PIXEL_ID])
    }

    /// Sets the ad account's budget per rate-limit window.
    #[must_use]
    pub fn with_calls_per_hour(mut self, calls: u64) -> Self {
        self.calls_per_hour = Some(calls);
        self
    }

    /// Sets the token's expiry (unix seconds on the simulator clock).
    #[must_use]
    pub fn with_expires_at(mut self, expires_at: i64) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The ad account id without the `act_` prefix.
    pub fn bare_ad_account_id(&self) -> &str {
        strip_act_prefix(&self.ad_account_id)
    }

    /// Checks that the ids are usable.
    pub fn validate(&self) -> anyhow::Result<()> {
        anyhow::ensure!(
            !self.access_token.is_empty(),
            "access_token must not be empty"
        );
        let account = self.bare_ad_account_id();
        anyhow::ensure!(
            !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()),
            "ad_account_id must be digits, optionally prefixed with act_ (got {:?})",
            self.ad_account_id
        );
        for pixel in &self.pixel_ids {
            anyhow::ensure!(
                !pixel.is_empty() && pixel.bytes().all(|b| b.is_ascii_digit()),
                "pixel ids must be digits (got {pixel:?})"
            );
        }
        anyhow::ensure!(
            self.calls_per_hour != Some(0),
            "calls_per_hour must be positive"
        );
        Ok(())
    }
}

/// Removes a leading `act_` from an ad account id.
pub fn strip_act_prefix(id: &str) -> &str {
    id.strip_prefix("act_").unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_with_only_accounts_takes_defaults_for_the_rest() {
        let config: SimConfig = serde_json::from_str(
            r#"{"accounts":[{"access_token":"t","ad_account_id":"act_7","pixel_ids":["8"]}]}"#,
        )
        .unwrap();
        assert_eq!(config.accounts[0].bare_ad_account_id(), "7");
        assert_eq!(config.rate_limit_window_seconds, 3_600);
        config.validate().unwrap();
    }

    #[test]
    fn unknown_config_fields_are_refused() {
        let parsed = serde_json::from_str::<SimConfig>(r#"{"acounts":[]}"#);
        assert!(parsed.is_err());
    }

    #[test]
    fn a_non_numeric_ad_account_is_refused() {
        let account = AccountConfig::new("t", "act_x1", ["1"]);
        assert!(account.validate().is_err());
    }
}
