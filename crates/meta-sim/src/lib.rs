//! meta-sim: a simulator of the parts of Meta's Graph API that audience-sync calls — the
//! Conversions API (`POST /{pixel_id}/events`) and customer-file Custom Audiences (`/users`,
//! `/usersreplace`, `act_{id}/customaudiences`, `GET /{audience_id}`) — with Meta's validation,
//! deduplication, rate limits and error shapes, plus an admin API under `/_sim/` to inspect what
//! arrived, inject faults and move the clock. `docs/meta-sim.md` says what is emulated, from which
//! documented behaviour, and what is not.
//!
//! Layout:
//! - [`config`]: `SimConfig` and the development account.
//! - [`startup`]: [`spawn`] (tests, port 0), [`spawn_at`] (binary), [`app_config`] (mounting).
//! - [`state`]: [`MetaSim`], the shared handle on the single mutex-guarded state.
//! - [`graph`]: routing and answering one Graph call under the lock.
//! - [`capi`], [`audience`]: the Conversions API and Custom Audience rules, as pure functions.
//! - [`rate_limit`], [`faults`], [`stats`], [`graph_error`], [`params`]: the supporting pieces.
//! - [`routes`]: the HTTP layer.
//!
//! ```no_run
//! # async fn example() -> anyhow::Result<()> {
//! use audience_meta_sim::{AccountConfig, SimConfig, spawn};
//! let sim = spawn(SimConfig::default().with_account(AccountConfig::new("token", "1000", ["2000"]))).await?;
//! let graph_url = sim.base_url(); // point META_GRAPH_URL here
//! # let _ = graph_url;
//! sim.stop().await?;
//! # Ok(())
//! # }
//! ```

pub mod audience;
pub mod capi;
pub mod config;
pub mod faults;
pub mod graph;
pub mod graph_error;
pub mod params;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod state;
pub mod stats;

pub use config::{AccountConfig, SimConfig};
pub use faults::FaultRequest;
pub use startup::{RunningSim, app_config, spawn, spawn_at};
pub use state::{MetaSim, StoredEvent};
pub use stats::Stats;
