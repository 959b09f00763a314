//! Injected faults: "the next N requests for this pixel, audience or ad account fail like this".
//!
//! Faults are queued per target and served first in, first out; each request to a matching target
//! consumes one. They exist so that clients can be tested against the failures Meta produces in
//! production (5xx from the edge, hangs, transient codes 1/2, expired tokens, throttling) without
//! waiting for Meta to produce them.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use serde::Deserialize;

/// What a fault applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultTarget {
    /// Requests to `/{pixel_id}/events`.
    Pixel(String),
    /// Requests to `/{audience_id}`, `/{audience_id}/users` and `/{audience_id}/usersreplace`.
    Audience(String),
    /// Every request for an object of the ad account, and `act_{id}/customaudiences`.
    AdAccount(String),
}

impl FaultTarget {
    /// Parses `pixel:<id>`, `audience:<id>` or `ad_account:<id>` (`act_` allowed).
    pub fn parse(text: &str) -> Result<Self, String> {
        let (kind, id) = text.split_once(':').ok_or_else(|| {
            format!("target {text:?} must look like pixel:<id>, audience:<id> or ad_account:<id>")
        })?;
        let id = crate::config::strip_act_prefix(id.trim());
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("target {text:?} must name a numeric id"));
        }
        match kind.trim() {
            "pixel" => Ok(Self::Pixel(id.to_owned())),
            "audience" => Ok(Self::Audience(id.to_owned())),
            "ad_account" => Ok(Self::AdAccount(id.to_owned())),
            other => Err(format!(
                "target kind {other:?} is not one of pixel, audience, ad_account"
            )),
        }
    }
}

impl fmt::Display for FaultTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pixel(id) => write!(f, "pixel:{id}"),
            Self::Audience(id) => write!(f, "audience:{id}"),
            Self::AdAccount(id) => write!(f, "ad_account:{id}"),
        }
    }
}

/// How the faulted request fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// An HTTP 5xx with an HTML body, as an edge proxy sends.
    Http5xx {
        /// The status, 500 to 599.
        status: u16,
    },
    /// The request hangs for the configured delay, then answers 504.
    Timeout,
    /// A Graph error with code 1 or 2 and `is_transient: true`, HTTP 500.
    Transient {
        /// 1 or 2.
        code: u32,
    },
    /// Code 190, subcode 463: the token has expired.
    TokenExpired,
    /// A throttling error with full usage headers.
    Throttle {
        /// 4, 17, 613 or 80003; `None` picks the endpoint's (80003 for audiences, 17 otherwise).
        code: Option<u32>,
        /// `estimated_time_to_regain_access` in minutes.
        regain_minutes: i64,
    },
}

/// The body of `POST /_sim/faults`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRequest {
    /// `pixel:<id>`, `audience:<id>` or `ad_account:<id>`.
    pub target: String,
    /// `http_500`, `timeout`, `transient`, `token_expired` or `throttle`.
    pub kind: String,
    /// How many requests fail (default 1).
    #[serde(default = "one")]
    pub count: u32,
    /// `http_500` only: the status to answer (500–599, default 500).
    #[serde(default)]
    pub status: Option<u16>,
    /// `transient` (1 or 2, default 2) or `throttle` (4, 17, 613, 80003): the Graph code.
    #[serde(default)]
    pub code: Option<u32>,
    /// `throttle` only: minutes reported in `estimated_time_to_regain_access` (default 1).
    #[serde(default)]
    pub estimated_time_to_regain_access: Option<i64>,
}

fn one() -> u32 {
    1
}

impl FaultRequest {
    /// Checks the request and turns it into a target and a kind.
    pub fn parse(&self) -> Result<(FaultTarget, FaultKind, u32), String> {
        let target = FaultTarget::parse(&self.target)?;
        if self.count == 0 {
            return Err("count must be at least 1".into());
        }
        let kind = match self.kind.as_str() {
            "http_500" => {
                let status = self.status.unwrap_or(500);
                if !(500..=599).contains(&status) {
                    return Err(format!("status {status} is not a 5xx status"));
                }
                FaultKind::Http5xx { status }
            }
            "timeout" => FaultKind::Timeout,
            "transient" => {
                let code = self.code.unwrap_or(2);
                if code != 1 && code != 2 {
                    return Err(format!("a transient fault has code 1 or 2, not {code}"));
                }
                FaultKind::Transient { code }
            }
            "token_expired" => FaultKind::TokenExpired,
            "throttle" => {
                if let Some(code) = self.code
                    && ![4, 17, 613, 80_003].contains(&code)
                {
                    return Err(format!(
                        "a throttle fault has code 4, 17, 613 or 80003, not {code}"
                    ));
                }
                let regain = self.estimated_time_to_regain_access.unwrap_or(1);
                if regain < 0 {
                    return Err("estimated_time_to_regain_access must not be negative".into());
                }
                FaultKind::Throttle {
                    code: self.code,
                    regain_minutes: regain,
                }
            }
            other => {
                return Err(format!(
                    "kind {other:?} is not one of http_500, timeout, transient, token_expired, throttle"
                ));
            }
        };
        if self.status.is_some() && self.kind != "http_500" {
            return Err("status applies to http_500 faults only".into());
        }
        if self.estimated_time_to_regain_access.is_some() && self.kind != "throttle" {
            return Err("estimated_time_to_regain_access applies to throttle faults only".into());
        }
        if self.code.is_some() && self.kind != "transient" && self.kind != "throttle" {
            return Err("code applies to transient and throttle faults only".into());
        }
        Ok((target, kind, self.count))
    }
}

/// The queued faults.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    queues: BTreeMap<FaultTarget, VecDeque<(FaultKind, u32)>>,
}

impl Faults {
    /// Queues `count` failures of `kind` for `target`.
    pub fn push(&mut self, target: FaultTarget, kind: FaultKind, count: u32) {
        self.queues
            .entry(target)
            .or_default()
            .push_back((kind, count));
    }

    /// Consumes one fault for the first of `targets` that has one.
    pub fn take(&mut self, targets: &[FaultTarget]) -> Option<FaultKind> {
        for target in targets {
            let Some(queue) = self.queues.get_mut(target) else {
                continue;
            };
            let Some((kind, remaining)) = queue.front_mut() else {
                continue;
            };
            let kind = kind.clone();
            *remaining -= 1;
            if *remaining == 0 {
                queue.pop_front();
            }
            if queue.is_empty() {
                self.queues.remove(target);
            }
            return Some(kind);
        }
        None
    }

    /// Faults still queued, per target, for the admin API.
    pub fn pending(&self) -> BTreeMap<String, u32> {
        self.queues
            .iter()
            .map(|(target, queue)| (target.to_string(), queue.iter().map(|(_, n)| n).sum()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_served_in_order_and_run_out() {
        let mut faults = Faults::default();
        let pixel = FaultTarget::Pixel("1".into());
        faults.push(pixel.clone(), FaultKind::Timeout, 1);
        faults.push(pixel.clone(), FaultKind::TokenExpired, 2);
        let targets = [pixel];
        assert_eq!(faults.take(&targets), Some(FaultKind::Timeout));
        assert_eq!(faults.take(&targets), Some(FaultKind::TokenExpired));
        assert_eq!(faults.take(&targets), Some(FaultKind::TokenExpired));
        assert_eq!(faults.take(&targets), None);
    }

    #[test]
    fn targets_are_parsed_with_or_without_act_prefix() {
        assert_eq!(
            FaultTarget::parse("ad_account:act_12").unwrap(),
            FaultTarget::AdAccount("12".into())
        );
        assert!(FaultTarget::parse("campaign:1").is_err());
        assert!(FaultTarget::parse("pixel").is_err());
    }

    #[test]
    fn a_transient_fault_with_a_throttle_code_is_refused() {
        let request = FaultRequest {
            target: "pixel:1".into(),
            kind: "transient".into(),
            count: 1,
            status: None,
            code: Some(17),
            estimated_time_to_regain_access: None,
        };
        assert!(request.parse().is_err());
    }
}
