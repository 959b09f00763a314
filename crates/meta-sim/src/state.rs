//! The simulator's whole state, behind one mutex, and the handle tests and handlers share.
//!
//! One `Mutex<SimState>` keeps every change atomic: a Conversions API batch is validated,
//! deduplicated and recorded in one critical section, so concurrent clients see Meta's
//! all-or-nothing behaviour. Handlers never await while holding the lock. The clock is the real
//! time plus an offset that `POST /_sim/clock` sets, so that tests can cross the 7-day, 48-hour
//! and rate-limit windows without waiting.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::audience::{Audience, Member};
use crate::config::{AccountConfig, DEFAULT_CALLS_PER_HOUR, SimConfig};
use crate::faults::{FaultRequest, Faults};
use crate::rate_limit::UsageWindow;
use crate::stats::Stats;

/// What a token may reach.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TokenInfo {
    /// Ad accounts (without `act_`) the token was registered with.
    pub ad_accounts: BTreeSet<String>,
    /// Expiry on the simulator clock, if any.
    pub expires_at: Option<i64>,
}

/// An ad account's budget and usage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AdAccount {
    /// Calls allowed per window.
    pub calls_per_hour: u64,
    /// Calls in the current window.
    pub window: UsageWindow,
}

/// A pixel (dataset) and what it received.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Pixel {
    /// The owning ad account.
    pub ad_account_id: String,
    /// Accepted events after deduplication, in arrival order.
    pub events: Vec<StoredEvent>,
    /// First arrival of each `(event_name, event_id)`, for the 48-hour deduplication.
    pub first_seen: HashMap<(String, String), i64>,
}

/// An accepted Conversions API event, as `GET /_sim/pixels/{id}/events` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    /// The event object as the client sent it.
    pub event: Value,
    /// Arrival time (unix seconds, simulator clock).
    pub received_at: i64,
    /// The request's `test_event_code`, if any.
    pub test_event_code: Option<String>,
    /// The `fbtrace_id` of the request that carried it.
    pub fbtrace_id: String,
}

/// Everything the simulator knows.
#[derive(Debug)]
pub(crate) struct SimState {
    pub config: SimConfig,
    pub tokens: HashMap<String, TokenInfo>,
    pub ad_accounts: BTreeMap<String, AdAccount>,
    pub pixels: BTreeMap<String, Pixel>,
    pub audiences: BTreeMap<String, Audience>,
    pub app_window: UsageWindow,
    pub faults: Faults,
    pub stats: Stats,
    pub clock_offset_seconds: i64,
    pub next_audience_seq: u64,
}

/// First audience id handed out; Meta's ids are 17-digit numbers of this shape.
const FIRST_AUDIENCE_ID: u64 = 23_850_000_000_000_001;

impl SimState {
    fn new(config: SimConfig) -> Result<Self, String> {
        let mut state = Self {
            config: config.clone(),
            tokens: HashMap::new(),
            ad_accounts: BTreeMap::new(),
            pixels: BTreeMap::new(),
            audiences: BTreeMap::new(),
            app_window: UsageWindow::default(),
            faults: Faults::default(),
            stats: Stats::default(),
            clock_offset_seconds: 0,
            next_audience_seq: FIRST_AUDIENCE_ID,
        };
        for account in &config.accounts {
            state.register(account)?;
        }
        Ok(state)
    }

    /// Unix seconds on the simulator clock.
    pub fn now(&self) -> i64 {
        Utc::now().timestamp() + self.clock_offset_seconds
    }

    pub fn register(&mut self, account: &AccountConfig) -> Result<(), String> {
        account.validate().map_err(|e| e.to_string())?;
        let ad_account_id = account.bare_ad_account_id().to_owned();
        for pixel in &account.pixel_ids {
            if let Some(existing) = self.pixels.get(pixel)
                && existing.ad_account_id != ad_account_id
            {
                return Err(format!(
                    "pixel {pixel} already belongs to ad account {}",
                    existing.ad_account_id
                ));
            }
        }
        let token = self.tokens.entry(account.access_token.clone()).or_default();
        token.ad_accounts.insert(ad_account_id.clone());
        if account.expires_at.is_some() {
            token.expires_at = account.expires_at;
        }
        let entry = self
            .ad_accounts
            .entry(ad_account_id.clone())
            .or_insert_with(|| AdAccount {
                calls_per_hour: DEFAULT_CALLS_PER_HOUR,
                window: UsageWindow::default(),
            });
        if let Some(calls) = account.calls_per_hour {
            entry.calls_per_hour = calls;
        }
        for pixel in &account.pixel_ids {
            self.pixels.entry(pixel.clone()).or_insert_with(|| Pixel {
                ad_account_id: ad_account_id.clone(),
                ..Pixel::default()
            });
        }
        Ok(())
    }

    pub fn next_audience_id(&mut self) -> String {
        let id = self.next_audience_seq;
        self.next_audience_seq += 1;
        id.to_string()
    }
}

/// A cheap, cloneable handle on one simulator's state. Handlers receive it as `web::Data`; tests
/// get it from [`crate::RunningSim::state`] to look inside without HTTP.
#[derive(Debug, Clone)]
pub struct MetaSim {
    inner: Arc<Mutex<SimState>>,
}

impl MetaSim {
    /// Builds the state from a configuration, registering its accounts.
    pub fn new(config: SimConfig) -> anyhow::Result<Self> {
        config.validate()?;
        let state = SimState::new(config).map_err(anyhow::Error::msg)?;
        Ok(Self {
            inner: Arc::new(Mutex::new(state)),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SimState> {
        // A panic while holding the lock leaves consistent data (every change is a few field
        // updates), so a poisoned lock is used as is.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The configuration the simulator was started with.
    pub fn config(&self) -> SimConfig {
        self.lock().config.clone()
    }

    /// Unix seconds on the simulator clock.
    pub fn now(&self) -> i64 {
        self.lock().now()
    }

    /// The simulator clock as a date.
    pub fn now_datetime(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.now(), 0).unwrap_or_else(Utc::now)
    }

    /// Sets the clock offset: the simulator's time becomes real time plus `offset_seconds`.
    pub fn set_clock_offset(&self, offset_seconds: i64) {
        self.lock().clock_offset_seconds = offset_seconds;
    }

    /// The current clock offset in seconds.
    pub fn clock_offset(&self) -> i64 {
        self.lock().clock_offset_seconds
    }

    /// Registers a token with its ad account and pixels (as `POST /_sim/accounts` does).
    pub fn register_account(&self, account: &AccountConfig) -> Result<(), String> {
        self.lock().register(account)
    }

    /// Queues a fault (as `POST /_sim/faults` does).
    pub fn inject_fault(&self, request: &FaultRequest) -> Result<(), String> {
        let (target, kind, count) = request.parse()?;
        self.lock().faults.push(target, kind, count);
        Ok(())
    }

    /// Faults still queued, per target.
    pub fn pending_faults(&self) -> BTreeMap<String, u32> {
        self.lock().faults.pending()
    }

    /// Forgets events, audiences, sessions, faults, usage, statistics and the clock offset; keeps
    /// the registered accounts.
    pub fn reset(&self) {
        let mut state = self.lock();
        for pixel in state.pixels.values_mut() {
            pixel.events.clear();
            pixel.first_seen.clear();
        }
        for account in state.ad_accounts.values_mut() {
            account.window = UsageWindow::default();
        }
        state.audiences.clear();
        state.app_window = UsageWindow::default();
        state.faults = Faults::default();
        state.stats = Stats::default();
        state.clock_offset_seconds = 0;
    }

    /// Accepted events of a pixel, after deduplication, in arrival order; `None` for an unknown
    /// pixel.
    pub fn accepted_events(&self, pixel_id: &str) -> Option<Vec<StoredEvent>> {
        self.lock().pixels.get(pixel_id).map(|p| p.events.clone())
    }

    /// Current members of an audience; `None` for an unknown audience.
    pub fn members(&self, audience_id: &str) -> Option<Vec<Member>> {
        self.lock()
            .audiences
            .get(audience_id)
            .map(|a| a.members.iter().cloned().collect())
    }

    /// Ids of every audience, in creation order.
    pub fn audience_ids(&self) -> Vec<String> {
        let state = self.lock();
        let mut audiences: Vec<&Audience> = state.audiences.values().collect();
        audiences.sort_by_key(|a| a.id.parse::<u64>().unwrap_or(u64::MAX));
        audiences.into_iter().map(|a| a.id.clone()).collect()
    }

    /// Decides and records one Graph call.
    pub(crate) fn handle_graph(&self, call: crate::graph::GraphCall) -> crate::graph::Outcome {
        self.lock().handle_graph(call)
    }

    /// Answers a request that is not a Graph call the simulator can route (bad version, method
    /// or parameters): counted under `other`, with the app usage header.
    pub(crate) fn refuse(&self, error: crate::graph_error::GraphError) -> crate::graph::Outcome {
        self.lock().refuse(error)
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }
}
