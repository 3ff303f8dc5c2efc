//! Hooks on a connection's life: connects, disconnects and RESP3 pushes, for core
//! features (the client-side cache) and, later, the event stream users can listen to.

use std::sync::{Arc, RwLock};

use redis::{PushInfo, PushKind, Value};

use super::events::{CacheOutcome, Event};
use super::Stats;

/// Hooks on the shared connection's life, for core features such as the cache.
///
/// Called on the runtime's threads, the push hook on the connection's reader: keep them
/// short and never block. `on_disconnected` may be called more than once per generation.
pub trait ConnectionObserver: Send + Sync {
    /// A connection (generation 1, 2, …) is ready; called just before it is published,
    /// so a request that finds it ready finds every observer told.
    fn on_connected(&self, _generation: u64) {}
    /// The connection of this generation broke; a new one is being made.
    fn on_disconnected(&self, _generation: u64) {}
    /// A RESP3 push message (invalidation, pub/sub…) arrived on this generation.
    fn on_push(&self, _generation: u64, _push: &PushInfo) {}
}

/// The registered observers of one client.
#[derive(Default)]
pub struct Observers(RwLock<Vec<Arc<dyn ConnectionObserver>>>);

impl Observers {
    /// Registers `o`; it sees every later event.
    pub fn add(&self, o: Arc<dyn ConnectionObserver>) {
        self.0.write().unwrap_or_else(|p| p.into_inner()).push(o);
    }
    /// Calls `f` with every observer, in the order they were added.
    pub fn each(&self, f: impl Fn(&dyn ConnectionObserver)) {
        for o in self.0.read().unwrap_or_else(|p| p.into_inner()).iter() {
            f(o.as_ref());
        }
    }
}

/// Tells the event stream of the invalidations the server pushes to the client-side
/// cache (a null one, the server's flush, counts as one).
pub(crate) struct InvalidationEvents(pub(crate) Arc<Stats>);

impl ConnectionObserver for InvalidationEvents {
    fn on_push(&self, _generation: u64, push: &PushInfo) {
        if push.kind != PushKind::Invalidate {
            return;
        }
        self.0.events.emit_with(|| Event::Cache {
            outcome: CacheOutcome::Invalidation,
            count: match push.data.first() {
                Some(Value::Array(keys)) => keys.len() as u64,
                _ => 1,
            },
        });
    }
}
