//! What happens, told to whoever watches: the counters every binding reads
//! ([`Stats`]) and hooks on a connection's life ([`ConnectionObserver`]).
//!
//! A low layer: anything above may report here; this module knows no engine.

mod observer;
mod stats;

pub use observer::ConnectionObserver;
pub(crate) use observer::Observers;
pub use stats::{CacheStats, NodeStats, PoolState, Stats, StatsSnapshot};
