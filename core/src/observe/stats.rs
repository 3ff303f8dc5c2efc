//! Counters every binding can read: requests, errors by kind, retries, reconnects, pool,
//! pub/sub deliveries.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::events::{Event, Events};
use crate::error::ErrorKind;

/// Live counters of one client (lock-free, relaxed).
#[derive(Default, Debug)]
pub struct Stats {
    requests: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    retries: AtomicU64,
    reconnects: AtomicU64,
    pool_waits: AtomicU64,
    pool_wait_timeouts: AtomicU64,
    direct: AtomicU64,
    /// Blocking callers inside a request now (not reported: whether one may spin).
    callers: AtomicU64,
    pubsub_messages: AtomicU64,
    pubsub_dropped: AtomicU64,
    pubsub_resubscribes: AtomicU64,
    sentinel_switches: AtomicU64,
    /// The event stream of the same client, reported next to the counters.
    pub(crate) events: Events,
}

/// One blocking caller inside a request (see [`Stats::caller`]).
pub(crate) struct Caller<'a>(&'a AtomicU64);

impl Drop for Caller<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Relaxed);
    }
}

impl Stats {
    pub(crate) fn request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }
    pub(crate) fn error(&self, kind: ErrorKind) {
        self.errors[kind.index()].fetch_add(1, Relaxed);
    }
    pub(crate) fn retry(&self) {
        self.retries.fetch_add(1, Relaxed);
    }
    pub(crate) fn reconnect(&self) {
        self.reconnects.fetch_add(1, Relaxed);
    }
    pub(crate) fn pool_wait(&self) {
        self.pool_waits.fetch_add(1, Relaxed);
    }
    pub(crate) fn pool_wait_timeout(&self) {
        self.pool_wait_timeouts.fetch_add(1, Relaxed);
    }
    pub(crate) fn direct(&self) {
        self.direct.fetch_add(1, Relaxed);
    }
    /// A blocking caller starts a request; it counts until the returned guard drops.
    pub(crate) fn caller(&self) -> Caller<'_> {
        self.callers.fetch_add(1, Relaxed);
        Caller(&self.callers)
    }
    /// Blocking callers inside a request now.
    pub(crate) fn callers(&self) -> u64 {
        self.callers.load(Relaxed)
    }
    /// `n` messages queued: one atomic add for a read's worth (the counter is shared by
    /// every subscriber of the client, whose connections are read on several threads).
    pub(crate) fn pubsub_messages(&self, n: u64) {
        if n == 0 {
            return;
        }
        self.pubsub_messages.fetch_add(n, Relaxed);
        if self.events.on() {
            for _ in 0..n {
                self.events.emit(&Event::PubSubReceived);
            }
        }
    }
    pub(crate) fn pubsub_dropped(&self) {
        self.pubsub_dropped.fetch_add(1, Relaxed);
        self.events.emit_with(|| Event::PubSubDropped);
    }
    pub(crate) fn pubsub_resubscribe(&self) {
        self.pubsub_resubscribes.fetch_add(1, Relaxed);
    }
    pub(crate) fn sentinel_switch(&self) {
        self.sentinel_switches.fetch_add(1, Relaxed);
    }

    /// A consistent-enough copy of the counters plus the pool's and cache's state.
    pub(crate) fn snapshot(&self, pool: PoolState, cache: Option<CacheStats>) -> StatsSnapshot {
        StatsSnapshot {
            client_id: self.events.client_id(),
            requests: self.requests.load(Relaxed),
            errors: ErrorKind::ALL
                .iter()
                .map(|k| (*k, self.errors[k.index()].load(Relaxed)))
                .collect(),
            retries: self.retries.load(Relaxed),
            reconnects: self.reconnects.load(Relaxed),
            direct_requests: self.direct.load(Relaxed),
            pool,
            pool_waits: self.pool_waits.load(Relaxed),
            pool_wait_timeouts: self.pool_wait_timeouts.load(Relaxed),
            cache,
            nodes: Vec::new(),
            pubsub_messages: self.pubsub_messages.load(Relaxed),
            pubsub_dropped: self.pubsub_dropped.load(Relaxed),
            pubsub_resubscribes: self.pubsub_resubscribes.load(Relaxed),
            sentinel_switches: self.sentinel_switches.load(Relaxed),
        }
    }
}

/// The pool of dedicated connections right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolState {
    /// Upper bound (`max_connections`).
    pub max_size: usize,
    /// Connections open (idle + in use).
    pub size: usize,
    /// Open and idle.
    pub idle: usize,
    /// Leased right now.
    pub in_use: usize,
    /// Callers waiting for a lease right now.
    pub waiting: usize,
}

/// A copy of a client's counters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// The client's number in the process, as its events name it
    /// ([`super::Events::client_id`]): how a binding matches what it observes of a client
    /// (its pool, its cache) with the events it recorded.
    pub client_id: u64,
    /// Requests issued (a pipeline counts once).
    pub requests: u64,
    /// Final errors by kind (after retries), every kind listed.
    pub errors: Vec<(ErrorKind, u64)>,
    /// Retries made.
    pub retries: u64,
    /// Times a command connection was re-established: the shared one, or the one an
    /// event loop drives itself (Node, asyncio).
    pub reconnects: u64,
    /// Requests the sync engine served on the calling thread (no thread hop).
    pub direct_requests: u64,
    /// The pool now.
    pub pool: PoolState,
    /// Leases that had to wait because no connection was idle.
    pub pool_waits: u64,
    /// Leases that gave up after `pool_timeout`.
    pub pool_wait_timeouts: u64,
    /// The client-side cache, when it is on (on a cluster: every node's, added up).
    pub cache: Option<CacheStats>,
    /// On a cluster: each node seen as a primary, with its own counters. Empty otherwise.
    pub nodes: Vec<NodeStats>,
    /// Pub/sub messages received and queued for a subscriber (see `client::pubsub`).
    pub pubsub_messages: u64,
    /// Pub/sub messages dropped because a subscriber's queue was full (each reported to
    /// the application as a gap); `pubsub_messages + pubsub_dropped` is what arrived.
    pub pubsub_dropped: u64,
    /// Times a subscriber connection was re-established and its subscriptions made again.
    pub pubsub_resubscribes: u64,
    /// Times a Sentinel-managed client moved to another node (a failover, or a replica
    /// client's replica gone).
    pub sentinel_switches: u64,
}

/// One cluster node's counters. A request counts on the node that serves its first key
/// (by the client's last read of the slot table); keyless commands (PING, DBSIZE…) count
/// in the totals only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeStats {
    /// `host:port`.
    pub addr: String,
    /// Whether it serves slots as a primary now.
    pub primary: bool,
    /// Requests sent to it (each command of a pipeline counts).
    pub requests: u64,
    /// Those that failed.
    pub errors: u64,
    /// Its part of the client-side cache, when the cache is on.
    pub cache: Option<CacheStats>,
}

impl StatsSnapshot {
    /// Errors of one kind.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        self.errors
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    }

    /// Every counter as `(name, value)`, the shape bindings turn into a dict/object/struct.
    /// Per-node counters are in [`StatsSnapshot::nodes`] (see [`NodeStats::entries`]).
    pub fn entries(&self) -> Vec<(String, u64)> {
        let mut out = vec![
            ("client_id".to_string(), self.client_id),
            ("requests".to_string(), self.requests),
            ("retries".to_string(), self.retries),
            ("reconnects".to_string(), self.reconnects),
            ("direct_requests".to_string(), self.direct_requests),
            ("pool_max_size".to_string(), self.pool.max_size as u64),
            ("pool_size".to_string(), self.pool.size as u64),
            ("pool_idle".to_string(), self.pool.idle as u64),
            ("pool_in_use".to_string(), self.pool.in_use as u64),
            ("pool_waiting".to_string(), self.pool.waiting as u64),
            ("pool_waits".to_string(), self.pool_waits),
            ("pool_wait_timeouts".to_string(), self.pool_wait_timeouts),
            ("pubsub_messages".to_string(), self.pubsub_messages),
            ("pubsub_dropped".to_string(), self.pubsub_dropped),
            ("pubsub_resubscribes".to_string(), self.pubsub_resubscribes),
            ("sentinel_switches".to_string(), self.sentinel_switches),
        ];
        for (k, n) in &self.errors {
            out.push((format!("errors_{}", k.name()), *n));
        }
        if let Some(c) = &self.cache {
            out.extend(cache_entries(c));
        }
        out
    }
}

impl NodeStats {
    /// The node's counters as `(name, value)` (its address aside), like
    /// [`StatsSnapshot::entries`]: `requests`, `errors`, `primary` (0/1), `cache_*`.
    pub fn entries(&self) -> Vec<(String, u64)> {
        let mut out = vec![
            ("primary".to_string(), u64::from(self.primary)),
            ("requests".to_string(), self.requests),
            ("errors".to_string(), self.errors),
        ];
        if let Some(c) = &self.cache {
            out.extend(cache_entries(c));
        }
        out
    }
}

/// The cache counters as `(name, value)`, named `cache_*`.
fn cache_entries(c: &CacheStats) -> [(String, u64); 6] {
    [
        ("cache_hits".to_string(), c.hits),
        ("cache_misses".to_string(), c.misses),
        ("cache_invalidations".to_string(), c.invalidations),
        ("cache_evictions".to_string(), c.evictions),
        ("cache_entries".to_string(), c.entries),
        ("cache_bytes".to_string(), c.bytes),
    ]
}

/// The cache's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Cacheable reads that went to the server.
    pub misses: u64,
    /// Keys invalidated (by the server or by this client's writes), and flushes.
    pub invalidations: u64,
    /// Entries dropped to stay within the bounds (or expired by the TTL).
    pub evictions: u64,
    /// Entries now.
    pub entries: u64,
    /// Approximate bytes now.
    pub bytes: u64,
}
