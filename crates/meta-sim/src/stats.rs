//! Counters for `GET /_sim/stats`: requests by endpoint and status, and what happened to events
//! and audience rows.

use std::collections::BTreeMap;

use serde::Serialize;

/// Everything the simulator counts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Graph requests by endpoint (e.g. `POST /{pixel_id}/events`) and HTTP status.
    pub requests: BTreeMap<String, BTreeMap<u16, u64>>,
    /// Conversions API event counters.
    pub events: EventStats,
    /// Custom audience row counters.
    pub audience_rows: RowStats,
    /// Requests answered with a throttling error (budget spent or injected).
    pub throttled: u64,
    /// Requests answered by an injected fault (throttle faults included).
    pub faults_served: u64,
}

/// What happened to Conversions API events.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EventStats {
    /// Events in accepted requests (the sum of `events_received`).
    pub received: u64,
    /// Events kept after deduplication.
    pub accepted: u64,
    /// Events dropped as duplicates (same `event_name` + `event_id` within 48 hours).
    pub deduplicated: u64,
    /// Events in rejected requests (a rejected request records none of its events).
    pub rejected: u64,
}

/// What happened to custom audience rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RowStats {
    /// Rows received in accepted requests.
    pub received: u64,
    /// Rows counted invalid.
    pub invalid: u64,
}

impl Stats {
    /// Counts one answered request.
    pub fn count_request(&mut self, endpoint: &str, status: u16) {
        *self
            .requests
            .entry(endpoint.to_owned())
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
}
