//! Client-side caching with RESP3 server-assisted invalidation (CLIENT TRACKING).
//!
//! redis-rs 1.x ships a cache of its own (`cache-aio`); it was evaluated first and is not
//! used, because it lives inside one `MultiplexedConnection` and so cannot see reads and
//! writes made on the sync engine's direct connection or on leased connections, and it
//! has no byte bound, no broadcast (prefix) mode, no eviction/byte statistics and no
//! in-flight voiding across connections. This module is the one cache of a client:
//!
//! - **Where reads come from.** While the cache is on, cacheable reads (the command table's
//!   CACHEABLE flag, single key) go to the shared multiplexed connection, which has
//!   `CLIENT TRACKING on`; its reader hands invalidation pushes to the cache in order with
//!   replies. Hits are answered on the caller's thread without touching the runtime.
//! - **Never stale.** A read records a ticket (the cache epoch and the key's invalidation
//!   count) before it is sent; an invalidation of that key, or a flush, that is processed
//!   before the reply voids the ticket, so the reply is returned but not stored.
//! - **Read your writes.** Before any other command is sent, on any connection, every
//!   argument that names a cached key drops that key's entries (FLUSHALL, FLUSHDB and
//!   SWAPDB drop everything).
//! - **Flushes.** A dropped connection, a reconnect, a null invalidation (FLUSHALL on the
//!   server) or a fork empties the cache, and nothing is served until tracking is on again.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;

use lru::LruCache;
use redis::{PushInfo, PushKind, Value};

use crate::command::{Command, Flags, Meta};
use crate::observe::{CacheStats, ConnectionObserver};
use crate::settings::CacheConfig;

struct Entry {
    value: Value,
    key: Vec<u8>,
    bytes: usize,
    stored: Instant,
}

#[derive(Default)]
struct Pending {
    readers: u32,
    invalidations: u64,
}

struct Inner {
    entries: LruCache<Vec<u8>, Entry>,
    by_key: HashMap<Vec<u8>, HashSet<Vec<u8>>>,
    pending: HashMap<Vec<u8>, Pending>,
    bytes: usize,
}

/// A read in flight: stored only if nothing invalidated its key meanwhile.
pub(crate) struct Ticket {
    entry_key: Vec<u8>,
    key: Vec<u8>,
    epoch: u64,
    invalidations: u64,
}

/// The client-side cache of one client.
pub struct Cache {
    config: CacheConfig,
    inner: Mutex<Inner>,
    /// Bumped by every flush: tickets of an older epoch are void.
    epoch: AtomicU64,
    /// True while a tracked connection is up.
    serving: AtomicBool,
    hits: AtomicU64,
    misses: AtomicU64,
    invalidations: AtomicU64,
    evictions: AtomicU64,
}

fn value_size(v: &Value) -> usize {
    16 + match v {
        Value::BulkString(b) => b.len(),
        Value::SimpleString(s) => s.len(),
        Value::Array(items) | Value::Set(items) => items.iter().map(value_size).sum(),
        Value::Map(pairs) => pairs
            .iter()
            .map(|(k, v)| value_size(k) + value_size(v))
            .sum(),
        Value::VerbatimString { text, .. } => text.len(),
        _ => 8,
    }
}

/// The cache key of a command: its arguments, length-prefixed.
fn entry_key(cmd: &Command) -> Vec<u8> {
    let mut out = Vec::with_capacity(cmd.meta().size() + 32);
    for a in cmd.args() {
        out.extend_from_slice(&(a.len() as u32).to_le_bytes());
        out.extend_from_slice(a);
    }
    out
}

impl Cache {
    /// An empty cache, not serving until a tracked connection is up.
    pub fn new(config: CacheConfig) -> Cache {
        Cache {
            config,
            inner: Mutex::new(Inner {
                entries: LruCache::unbounded(),
                by_key: HashMap::new(),
                pending: HashMap::new(),
                bytes: 0,
            }),
            epoch: AtomicU64::new(0),
            serving: AtomicBool::new(false),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            invalidations: AtomicU64::new(0),
            evictions: AtomicU64::new(0),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The Redis key of a command the cache may hold, or `None` when it does not apply.
    pub(crate) fn cacheable_key<'a>(&self, cmd: &'a Command) -> Option<&'a [u8]> {
        self.config.cacheable_key(cmd)
    }

    /// A cached reply, if there is a fresh one.
    pub(crate) fn get(&self, cmd: &Command) -> Option<Value> {
        if !self.serving.load(Relaxed) {
            return None;
        }
        let ek = entry_key(cmd);
        let mut inner = self.lock();
        let expired = match inner.entries.get(&ek) {
            Some(e) => match self.config.ttl {
                Some(ttl) if e.stored.elapsed() > ttl => true,
                _ => {
                    self.hits.fetch_add(1, Relaxed);
                    return Some(e.value.clone());
                }
            },
            None => false,
        };
        if expired {
            Self::remove_entry(&mut inner, &ek);
            self.evictions.fetch_add(1, Relaxed);
        }
        None
    }

    /// Starts a read of `key`: the ticket its reply must present to be stored.
    pub(crate) fn begin(&self, cmd: &Command, key: &[u8]) -> Option<Ticket> {
        self.misses.fetch_add(1, Relaxed);
        if !self.serving.load(Relaxed) {
            return None;
        }
        let epoch = self.epoch.load(Relaxed);
        let mut inner = self.lock();
        let p = inner.pending.entry(key.to_vec()).or_default();
        p.readers += 1;
        Some(Ticket {
            entry_key: entry_key(cmd),
            key: key.to_vec(),
            epoch,
            invalidations: p.invalidations,
        })
    }

    /// Ends a read: stores the reply unless the key was invalidated (or the cache
    /// flushed) while the read was in flight. Errors are never stored.
    pub(crate) fn complete(&self, ticket: Ticket, reply: Option<&Value>) {
        let mut inner = self.lock();
        let valid = match inner.pending.get_mut(&ticket.key) {
            Some(p) => {
                let valid = p.invalidations == ticket.invalidations;
                p.readers -= 1;
                if p.readers == 0 {
                    inner.pending.remove(&ticket.key);
                }
                valid
            }
            None => false,
        };
        let Some(value) = reply else { return };
        if !valid || ticket.epoch != self.epoch.load(Relaxed) || !self.serving.load(Relaxed) {
            return;
        }
        let bytes = ticket.entry_key.len() + value_size(value);
        if bytes > self.config.max_bytes {
            return;
        }
        Self::remove_entry(&mut inner, &ticket.entry_key);
        inner
            .by_key
            .entry(ticket.key.clone())
            .or_default()
            .insert(ticket.entry_key.clone());
        inner.bytes += bytes;
        inner.entries.put(
            ticket.entry_key,
            Entry {
                value: value.clone(),
                key: ticket.key,
                bytes,
                stored: Instant::now(),
            },
        );
        while inner.entries.len() > self.config.max_entries || inner.bytes > self.config.max_bytes {
            let Some((ek, _)) = inner.entries.peek_lru().map(|(k, e)| (k.clone(), e.bytes)) else {
                break;
            };
            Self::remove_entry(&mut inner, &ek);
            self.evictions.fetch_add(1, Relaxed);
        }
    }

    fn remove_entry(inner: &mut Inner, ek: &[u8]) {
        if let Some(e) = inner.entries.pop(ek) {
            inner.bytes -= e.bytes;
            if let Some(set) = inner.by_key.get_mut(&e.key) {
                set.remove(ek);
                if set.is_empty() {
                    inner.by_key.remove(&e.key);
                }
            }
        }
    }

    /// Drops every entry of `key` and voids reads of it in flight.
    pub fn invalidate(&self, key: &[u8]) {
        let mut inner = self.lock();
        self.invalidate_locked(&mut inner, key);
    }

    fn invalidate_locked(&self, inner: &mut Inner, key: &[u8]) {
        if let Some(p) = inner.pending.get_mut(key) {
            p.invalidations += 1;
        }
        if let Some(set) = inner.by_key.remove(key) {
            for ek in set {
                if let Some(e) = inner.entries.pop(&ek) {
                    inner.bytes -= e.bytes;
                }
            }
        }
        self.invalidations.fetch_add(1, Relaxed);
    }

    /// Read-your-writes: before a write is sent, drops the entries of every key it names
    /// (everything for FLUSHALL, FLUSHDB, SWAPDB).
    pub(crate) fn before_write(&self, cmd: &Command) {
        self.before_write_args(cmd.meta(), &mut cmd.args());
    }

    /// [`Cache::before_write`] for a command known by its table row and arguments (a
    /// pipeline slot).
    pub(crate) fn before_write_args(&self, meta: &Meta, args: &mut dyn Iterator<Item = &[u8]>) {
        if meta.flags().contains(Flags::READONLY) {
            return;
        }
        if matches!(meta.name(), "FLUSHALL" | "FLUSHDB" | "SWAPDB") {
            self.flush();
            return;
        }
        let mut inner = self.lock();
        if inner.by_key.is_empty() && inner.pending.is_empty() {
            return;
        }
        for a in args.skip(1) {
            if inner.by_key.contains_key(a) || inner.pending.contains_key(a) {
                self.invalidate_locked(&mut inner, a);
            }
        }
    }

    /// Empties the cache and voids every read in flight.
    pub fn flush(&self) {
        let mut inner = self.lock();
        self.epoch.fetch_add(1, Relaxed);
        inner.entries.clear();
        inner.by_key.clear();
        inner.bytes = 0;
        for p in inner.pending.values_mut() {
            p.invalidations += 1;
        }
        self.invalidations.fetch_add(1, Relaxed);
    }

    /// True while entries may be served (a tracked connection is up).
    pub fn is_serving(&self) -> bool {
        self.serving.load(Relaxed)
    }

    /// The counters now.
    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            hits: self.hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            invalidations: self.invalidations.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
            entries: inner.entries.len() as u64,
            bytes: inner.bytes as u64,
        }
    }
}

impl ConnectionObserver for Cache {
    fn on_connected(&self, _generation: u64) {
        self.flush();
        self.serving.store(true, Relaxed);
    }

    fn on_disconnected(&self, _generation: u64) {
        self.serving.store(false, Relaxed);
        self.flush();
    }

    fn on_push(&self, _generation: u64, push: &PushInfo) {
        if push.kind != PushKind::Invalidate {
            return;
        }
        match push.data.first() {
            Some(Value::Array(keys)) => {
                let mut inner = self.lock();
                for k in keys {
                    if let Value::BulkString(k) = k {
                        self.invalidate_locked(&mut inner, k);
                    }
                }
            }
            // A null invalidation: the server flushed (FLUSHALL) or lost track.
            _ => self.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::settings::TrackingMode;

    fn cmd(args: &[&str]) -> Command {
        Command::new(args).unwrap()
    }

    fn serving(config: CacheConfig) -> Cache {
        let c = Cache::new(config);
        c.on_connected(1);
        c
    }

    fn read(c: &Cache, args: &[&str], v: &str) {
        let command = cmd(args);
        let key = c.cacheable_key(&command).unwrap().to_vec();
        let t = c.begin(&command, &key).unwrap();
        c.complete(t, Some(&Value::BulkString(v.as_bytes().to_vec())));
    }

    #[test]
    fn stores_serves_and_invalidates_by_key() {
        let c = serving(CacheConfig::default());
        read(&c, &["GET", "k"], "v");
        read(&c, &["HGET", "h", "f"], "x");
        assert_eq!(
            c.get(&cmd(&["GET", "k"])),
            Some(Value::BulkString(b"v".to_vec()))
        );
        c.invalidate(b"k");
        assert_eq!(c.get(&cmd(&["GET", "k"])), None);
        assert!(c.get(&cmd(&["HGET", "h", "f"])).is_some());
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.entries), (2, 2, 1));
    }

    #[test]
    fn an_invalidation_during_the_read_voids_it() {
        let c = serving(CacheConfig::default());
        let command = cmd(&["GET", "k"]);
        let t = c.begin(&command, b"k").unwrap();
        c.invalidate(b"k");
        c.complete(t, Some(&Value::BulkString(b"old".to_vec())));
        assert_eq!(c.get(&command), None, "voided read must not be stored");
        let t = c.begin(&command, b"k").unwrap();
        c.flush();
        c.complete(t, Some(&Value::BulkString(b"old".to_vec())));
        assert_eq!(c.get(&command), None, "a flush voids reads in flight too");
    }

    #[test]
    fn writes_drop_the_keys_they_name() {
        let c = serving(CacheConfig::default());
        read(&c, &["GET", "a"], "1");
        read(&c, &["GET", "b"], "2");
        c.before_write(&cmd(&["GET", "a"]));
        assert!(c.get(&cmd(&["GET", "a"])).is_some(), "reads drop nothing");
        c.before_write(&cmd(&["MSET", "a", "x", "z", "y"]));
        assert!(c.get(&cmd(&["GET", "a"])).is_none());
        assert!(c.get(&cmd(&["GET", "b"])).is_some());
        c.before_write(&cmd(&["FLUSHDB"]));
        assert_eq!(c.stats().entries, 0);
    }

    #[test]
    fn bounds_hold() {
        let c = serving(CacheConfig {
            max_entries: 10,
            max_bytes: 2000,
            ..Default::default()
        });
        for i in 0..1000 {
            read(&c, &["GET", &format!("k{i}")], &"x".repeat(i % 300));
            let s = c.stats();
            assert!(s.entries <= 10 && s.bytes <= 2000, "{s:?}");
        }
        assert!(c.stats().evictions > 900);
    }

    #[test]
    fn nothing_is_served_while_disconnected() {
        let c = serving(CacheConfig::default());
        read(&c, &["GET", "k"], "v");
        c.on_disconnected(1);
        assert!(c.get(&cmd(&["GET", "k"])).is_none());
        assert!(c.begin(&cmd(&["GET", "k"]), b"k").is_none());
        c.on_connected(2);
        assert!(c.get(&cmd(&["GET", "k"])).is_none(), "flushed on reconnect");
    }

    #[test]
    fn broadcast_caches_only_its_prefixes_and_ttl_expires() {
        let c = serving(CacheConfig {
            mode: TrackingMode::Broadcast(vec![b"user:".to_vec()]),
            ttl: Some(Duration::from_millis(30)),
            ..Default::default()
        });
        assert!(c.cacheable_key(&cmd(&["GET", "other"])).is_none());
        read(&c, &["GET", "user:1"], "v");
        assert!(c.get(&cmd(&["GET", "user:1"])).is_some());
        std::thread::sleep(Duration::from_millis(40));
        assert!(c.get(&cmd(&["GET", "user:1"])).is_none(), "expired by ttl");
        assert!(c
            .cacheable_key(&cmd(&["EXISTS", "user:1", "user:2"]))
            .is_none());
        assert!(c.cacheable_key(&cmd(&["SET", "user:1", "x"])).is_none());
    }
}
