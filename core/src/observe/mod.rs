//! What happens, told to whoever watches: the counters every binding reads
//! ([`Stats`]), hooks on a connection's life ([`ConnectionObserver`]) and the event
//! stream listeners receive ([`Event`], [`Listener`]).
//!
//! A low layer: anything above may report here; this module knows no engine.

mod events;
mod observer;
mod stats;

pub use events::{
    set_global_listener, CacheOutcome, CloseReason, ConnectionRole, Event, Events, Listener,
    Operation, Served, Server,
};
pub use observer::ConnectionObserver;
pub(crate) use observer::{InvalidationEvents, Observers};
pub use stats::{CacheStats, NodeStats, PoolState, Stats, StatsSnapshot};
