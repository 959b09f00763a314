//! Call budgets and Meta's usage headers.
//!
//! Each ad account and the app have a budget of calls per window (one hour by default). A window
//! opens at the first call and closes `window` seconds later; when the calls in it reach the
//! budget (100 %), further calls are throttled until it closes. Every Graph answer carries
//! `X-App-Usage`, `X-Ad-Account-Usage` and `X-Business-Use-Case-Usage` in the shapes of Meta's
//! rate-limiting pages; values are percentages and `estimated_time_to_regain_access` is in
//! minutes.

use serde_json::{Value, json};

/// Calls made in the current window of one budget.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UsageWindow {
    started_at: Option<i64>,
    calls: u64,
}

impl UsageWindow {
    /// Closes the window if it has run its course.
    pub fn roll(&mut self, now: i64, window_seconds: i64) {
        if let Some(start) = self.started_at
            && now >= start + window_seconds
        {
            *self = Self::default();
        }
    }

    /// Whether the budget is spent.
    pub fn is_exhausted(&self, budget: u64) -> bool {
        self.calls >= budget
    }

    /// Counts one call, opening a window if none is open.
    pub fn record(&mut self, now: i64) {
        self.started_at.get_or_insert(now);
        self.calls += 1;
    }

    /// Share of the budget used, in percent.
    pub fn percent(&self, budget: u64) -> u64 {
        self.calls.saturating_mul(100) / budget.max(1)
    }

    /// Seconds until the window closes (0 when none is open).
    pub fn seconds_to_reset(&self, now: i64, window_seconds: i64) -> i64 {
        self.started_at
            .map(|start| (start + window_seconds - now).max(0))
            .unwrap_or(0)
    }

    /// Calls counted in the window.
    pub fn calls(&self) -> u64 {
        self.calls
    }
}

/// The business use case a call counts under, as named in `X-Business-Use-Case-Usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UseCase {
    /// Custom audience creation, reads and membership changes.
    CustomAudience,
    /// Everything else the simulator serves (Conversions API events).
    AdsManagement,
}

impl UseCase {
    /// The `type` value in the header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomAudience => "custom_audience",
            Self::AdsManagement => "ads_management",
        }
    }
}

/// The ad account part of the usage headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountUsage {
    /// Ad account id (without `act_`).
    pub ad_account_id: String,
    /// Percent of the budget used.
    pub percent: u64,
    /// Seconds until the window closes.
    pub reset_seconds: i64,
    /// Minutes until calls are allowed again (0 when not throttled).
    pub regain_minutes: i64,
    /// The use case of the call.
    pub use_case: UseCase,
}

/// What the usage headers of one answer say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageReport {
    /// Percent of the app budget used.
    pub app_percent: u64,
    /// The ad account's usage, when the call concerned one.
    pub account: Option<AccountUsage>,
}

impl UsageReport {
    /// `X-App-Usage`. CPU and time shares are reported equal to the call share: the simulator
    /// spends no measurable time per call.
    pub fn app_header(&self) -> String {
        let pct = self.app_percent;
        json!({"call_count": pct, "total_cputime": pct, "total_time": pct}).to_string()
    }

    /// `X-Ad-Account-Usage`.
    pub fn ad_account_header(&self) -> String {
        let (pct, reset) = self
            .account
            .as_ref()
            .map(|a| (a.percent, a.reset_seconds))
            .unwrap_or((0, 0));
        json!({
            "acc_id_util_pct": pct,
            "reset_time_duration": reset,
            "ads_api_access_tier": "standard_access"
        })
        .to_string()
    }

    /// `X-Business-Use-Case-Usage`: `{ad_account_id: [{type, call_count, total_cputime,
    /// total_time, estimated_time_to_regain_access, ads_api_access_tier}]}`.
    pub fn business_use_case_header(&self) -> String {
        let Some(account) = &self.account else {
            return "{}".into();
        };
        let mut object = serde_json::Map::new();
        object.insert(
            account.ad_account_id.clone(),
            json!([{
                "type": account.use_case.as_str(),
                "call_count": account.percent,
                "total_cputime": account.percent,
                "total_time": account.percent,
                "estimated_time_to_regain_access": account.regain_minutes,
                "ads_api_access_tier": "standard_access"
            }]),
        );
        Value::Object(object).to_string()
    }
}

/// Whole minutes, rounded up, until `seconds` have passed.
pub fn minutes_ceil(seconds: i64) -> i64 {
    (seconds.max(0) + 59) / 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reaches_one_hundred_percent_at_its_budget_and_reopens_after_it_closes() {
        let mut window = UsageWindow::default();
        for t in 0..4 {
            window.record(100 + t);
        }
        assert_eq!(window.percent(4), 100);
        assert!(window.is_exhausted(4));
        window.roll(100 + 3_599, 3_600);
        assert!(window.is_exhausted(4));
        window.roll(100 + 3_600, 3_600);
        assert!(!window.is_exhausted(4));
        assert_eq!(window.percent(4), 0);
    }

    #[test]
    fn the_business_use_case_header_is_keyed_by_ad_account() {
        let report = UsageReport {
            app_percent: 1,
            account: Some(AccountUsage {
                ad_account_id: "1000".into(),
                percent: 50,
                reset_seconds: 60,
                regain_minutes: 0,
                use_case: UseCase::CustomAudience,
            }),
        };
        let header: Value = serde_json::from_str(&report.business_use_case_header()).unwrap();
        assert_eq!(header["1000"][0]["type"], "custom_audience");
        assert_eq!(header["1000"][0]["call_count"], 50);
    }

    #[test]
    fn minutes_are_rounded_up() {
        assert_eq!(minutes_ceil(0), 0);
        assert_eq!(minutes_ceil(1), 1);
        assert_eq!(minutes_ceil(60), 1);
        assert_eq!(minutes_ceil(61), 2);
    }
}
