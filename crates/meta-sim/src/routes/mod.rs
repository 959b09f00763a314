//! HTTP routes: the simulator's admin API under `/_sim/` and, for every other path, the Graph
//! API.

pub mod admin;
pub mod graph;
