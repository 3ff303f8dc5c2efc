//! What happens, told to whoever watches: the counters every binding reads
//! ([`Stats`]), hooks on a connection's life ([`ConnectionObserver`]) and the event
//! stream listeners receive ([`Event`], [`Listener`]), and a listener that gathers events
//! for bindings that record them in batches ([`Gather`]).
//!
//! A low layer: anything above may report here; this module knows no engine.

mod events;
mod gather;
mod observer;
mod stats;

pub use events::{
    set_global_listener, CacheOutcome, CloseReason, ConnectionRole, Event, Events, Listener,
    Operation, Served, Server,
};
pub use gather::{Batch, Counts, Gather, OpKey, Other, OtherKind, Place, COUNTED};
pub use observer::ConnectionObserver;
pub(crate) use observer::{InvalidationEvents, Observers};
pub use stats::{CacheStats, NodeStats, PoolState, Stats, StatsSnapshot};
