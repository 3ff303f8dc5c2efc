//! What the client knows of a cluster's shape: which primary serves which slot, and what
//! it keeps per node — request and error counters, and (cache on) that node's part of the
//! client-side cache with the tracked connection that feeds it.
//!
//! redis-rs routes every ordinary command and follows MOVED/ASK itself, but it keeps its
//! slot map private and hands RESP3 pushes from all nodes to one sender without saying
//! which node sent them. The cache needs both: an invalidation is only meaningful with
//! the node it came from (a dropped node must empty its own entries and nothing else),
//! and a node's tracking only covers reads made on a connection it tracks. So with the
//! cache on, each primary gets one tracked multiplexed connection of ours (the same
//! supervised connection as a standalone client's: `CLIENT TRACKING on` before it is
//! published, flush on drop and reconnect), and cacheable reads of a key go there.
//!
//! The table is read (`CLUSTER SLOTS`) when the cluster connection first comes up,
//! when a tracked read meets MOVED/ASK or a node that is down, when a request shows the
//! cluster changing under it ([`Topology::changing`]: a failover, a slot moved), and
//! every [`REFRESH_EVERY`] in the background for the changes no request met. A node that
//! loses slots has its cache emptied; a node that loses all of them has its tracked
//! connection closed.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use arc_swap::ArcSwap;
use redis::cluster_async::ClusterConnection;
use redis::Value;

use crate::cache::Cache;
use crate::command::{Command, Meta};
use crate::connection::Multiplexed;
use crate::error::Result;
use crate::observe::{CacheStats, ConnectionObserver, Event, NodeStats, Observers, Stats};
use crate::policy::run_timed;
use crate::settings::{Addr, Config};

/// The number of hash slots of a Redis Cluster.
pub(crate) const SLOTS: usize = 16384;
/// How often the table is read again while nothing else asked for it.
pub(crate) const REFRESH_EVERY: Duration = Duration::from_secs(10);
/// After a request showed the cluster changing, the table is read at once and again
/// this much later: the node asked first may learn of a promotion a moment after the
/// request that met it (the new primary's announcement travels the cluster bus).
const FOLLOW_UP: Duration = Duration::from_millis(100);
/// At most one pair of such reads per this long, however many requests meet the change
/// (a stream of slow pipelines costs at most 8 `CLUSTER SLOTS` a second).
const CHANGING_EVERY: Duration = Duration::from_millis(250);
/// A slot no known primary serves.
const NONE: u16 = u16::MAX;

/// The slot of a key, as Redis computes it: CRC16 (XMODEM) of the key, or of its hash tag
/// (the part between the first `{` and the next `}`, when not empty), mod 16384.
pub(crate) fn key_slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    crc16::State::<crc16::XMODEM>::calculate(hashed) % SLOTS as u16
}

/// The key a request is counted under: its first key. Commands without one (PING,
/// DBSIZE, INFO…) count in the totals only.
pub(crate) fn first_key<'a>(
    meta: &Meta,
    mut args: impl Iterator<Item = &'a [u8]>,
) -> Option<&'a [u8]> {
    let _name = args.next()?;
    let name = meta.name();
    let first = name.split(' ').next().unwrap_or(name);
    match first {
        "PING" | "ECHO" | "INFO" | "DBSIZE" | "TIME" | "LASTSAVE" | "RANDOMKEY" | "KEYS"
        | "SCAN" | "FLUSHALL" | "FLUSHDB" | "WAIT" | "WAITAOF" | "PUBLISH" | "SPUBLISH"
        | "SCRIPT" | "FUNCTION" | "CONFIG" | "CLUSTER" | "CLIENT" | "COMMAND" | "SLOWLOG"
        | "LATENCY" | "ACL" | "HELLO" | "READONLY" | "READWRITE" | "MULTI" | "EXEC" | "DISCARD"
        | "UNWATCH" => None,
        // EVAL script numkeys key…: a key only when numkeys > 0.
        "EVAL" | "EVALSHA" | "EVAL_RO" | "EVALSHA_RO" | "FCALL" | "FCALL_RO" => {
            let numkeys = args.nth(1)?;
            if numkeys == b"0" {
                None
            } else {
                args.next()
            }
        }
        "XREAD" | "XREADGROUP" => {
            let mut args = args.skip_while(|a| !a.eq_ignore_ascii_case(b"STREAMS"));
            args.next()?;
            args.next()
        }
        // Container commands: the key follows the subcommand.
        "OBJECT" | "MEMORY" | "XINFO" => args.nth(1),
        _ => args.next(),
    }
}

/// One primary (or one that was): counters, and its part of the cache.
pub(crate) struct Node {
    pub(crate) host: String,
    pub(crate) port: u16,
    requests: AtomicU64,
    errors: AtomicU64,
    /// This node's entries of the client-side cache (cache on).
    pub(crate) cache: Option<Arc<Cache>>,
    /// The tracked connection whose pushes feed `cache`, while the node serves slots.
    tracked: Mutex<Option<Arc<Multiplexed>>>,
}

impl Node {
    fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// Counts a request on this node, and whether it failed.
    pub(crate) fn count(&self, failed: bool) {
        self.requests.fetch_add(1, Relaxed);
        if failed {
            self.errors.fetch_add(1, Relaxed);
        }
    }

    fn tracked(&self) -> Option<Arc<Multiplexed>> {
        self.tracked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn stop_tracking(&self) {
        if let Some(mux) = self
            .tracked
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            mux.stop();
        }
        if let Some(cache) = &self.cache {
            cache.on_disconnected(0);
        }
    }
}

/// Slot → primary, as of the last refresh. Never changed, only replaced.
struct Table {
    owner: Vec<u16>,
    nodes: Vec<Arc<Node>>,
}

impl Table {
    fn empty() -> Table {
        Table {
            owner: vec![NONE; SLOTS],
            nodes: Vec::new(),
        }
    }
}

/// The cluster's shape and the per-node state of one client.
pub(crate) struct Topology {
    config: Arc<Config>,
    stats: Arc<Stats>,
    table: ArcSwap<Table>,
    /// Every node ever seen as a primary (their counters stay in the stats).
    registry: Mutex<Vec<Arc<Node>>>,
    /// The shared cluster connection, once it is up: what refreshes read with (the newest
    /// one when the engine replaced a stalled connection).
    conn: Mutex<Option<ClusterConnection>>,
    refreshing: AtomicBool,
    /// When requests last had the table read ([`Topology::changing`]).
    changing_at: Mutex<Option<std::time::Instant>>,
    stopped: AtomicBool,
}

impl Topology {
    pub(crate) fn new(config: Arc<Config>, stats: Arc<Stats>) -> Arc<Topology> {
        let topo = Arc::new(Topology {
            config,
            stats,
            table: ArcSwap::from_pointee(Table::empty()),
            registry: Mutex::new(Vec::new()),
            conn: Mutex::new(None),
            refreshing: AtomicBool::new(false),
            changing_at: Mutex::new(None),
            stopped: AtomicBool::new(false),
        });
        tokio::spawn(periodic_refresh(Arc::downgrade(&topo)));
        topo
    }

    /// The cluster connection is up: read the table (and start the tracked connections)
    /// before the first command, so it is routed, counted and cached from the start. A
    /// failure here only delays that to the next refresh.
    pub(crate) async fn connected(&self, conn: &ClusterConnection) {
        *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn.clone());
        let _ = self.refresh().await;
    }

    /// The primary serving `slot`, by the last table read.
    pub(crate) fn node_for_slot(&self, slot: u16) -> Option<Arc<Node>> {
        let table = self.table.load();
        let i = *table.owner.get(slot as usize)?;
        table.nodes.get(i as usize).cloned()
    }

    /// The primary a request is counted on (its first key's), if it has a key.
    pub(crate) fn node_for(&self, cmd: &Command) -> Option<Arc<Node>> {
        first_key(cmd.meta(), cmd.args()).and_then(|k| self.node_for_slot(key_slot(k)))
    }

    /// Reads the table again in the background (one refresh at a time).
    pub(crate) fn refresh_soon(self: &Arc<Self>) {
        if self.stopped.load(Relaxed) || self.refreshing.swap(true, Relaxed) {
            return;
        }
        let topo = self.clone();
        crate::runtime::runtime().spawn(async move {
            let _ = topo.refresh().await;
            topo.refreshing.store(false, Relaxed);
        });
    }

    /// A request met a change of the cluster (its node went away, a failover or a slot
    /// move held it up): the table is read now and once more after [`FOLLOW_UP`], at most
    /// once per [`CHANGING_EVERY`]. So per-node counters, the cache's placement and the
    /// topology event follow a failover as fast as the requests do, not at the next
    /// [`REFRESH_EVERY`].
    pub(crate) fn changing(self: &Arc<Self>) {
        if self.stopped.load(Relaxed) {
            return;
        }
        {
            let mut at = self.changing_at.lock().unwrap_or_else(|p| p.into_inner());
            if at.is_some_and(|t| t.elapsed() < CHANGING_EVERY) {
                return;
            }
            *at = Some(std::time::Instant::now());
        }
        let topo = self.clone();
        crate::runtime::runtime().spawn(async move {
            let _ = topo.refresh().await;
            tokio::time::sleep(FOLLOW_UP).await;
            if !topo.stopped.load(Relaxed) {
                let _ = topo.refresh().await;
            }
        });
    }

    /// Reads `CLUSTER SLOTS` and installs the new table: nodes that lost slots have
    /// their cache emptied, nodes without slots their tracked connection closed, new
    /// primaries get one (cache on).
    pub(crate) async fn refresh(&self) -> Result<()> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(conn) = conn else {
            return Ok(());
        };
        let timeout = Some(self.config.response_timeout);
        let primaries = run_timed(
            super::engine::read_primaries(conn),
            timeout,
            "CLUSTER SLOTS",
        )
        .await?;
        if self.stopped.load(Relaxed) {
            return Ok(());
        }
        let old = self.table.load_full();
        let mut fresh = Table::empty();
        for p in &primaries {
            let node = self.node(&p.host, p.port);
            let i = fresh.nodes.len() as u16;
            for &(a, b) in &p.slots {
                for s in a..=b.min(SLOTS as u16 - 1) {
                    fresh.owner[s as usize] = i;
                }
            }
            fresh.nodes.push(node);
        }
        // A node's entries are only as good as its claim on their slots.
        let registry = self
            .registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for node in &registry {
            let owner_of = |t: &Table, s: usize| {
                t.nodes
                    .get(t.owner[s] as usize)
                    .is_some_and(|n| Arc::ptr_eq(n, node))
            };
            let lost = (0..SLOTS).any(|s| owner_of(&old, s) && !owner_of(&fresh, s));
            let serves = fresh.nodes.iter().any(|n| Arc::ptr_eq(n, node));
            if !serves {
                node.stop_tracking();
            } else if lost {
                if let Some(cache) = &node.cache {
                    cache.flush();
                }
            }
        }
        if self.config.cache.is_some() {
            for node in &fresh.nodes {
                self.ensure_tracked(node);
            }
        }
        self.report_change(&old, &fresh);
        self.table.store(Arc::new(fresh));
        Ok(())
    }

    /// Tells the event stream (when someone listens) how many slots changed primary.
    fn report_change(&self, old: &Table, fresh: &Table) {
        let events = &self.stats.events;
        if !events.on() {
            return;
        }
        let owner = |t: &Table, s: usize| t.nodes.get(t.owner[s] as usize).map(Arc::as_ptr);
        let moved_slots = (0..SLOTS)
            .filter(|&s| owner(old, s) != owner(fresh, s))
            .count();
        if moved_slots > 0 {
            events.emit(&Event::TopologyChanged {
                primaries: fresh.nodes.len(),
                moved_slots,
            });
        }
    }

    /// The registry's node for an address, made on first sight.
    fn node(&self, host: &str, port: u16) -> Arc<Node> {
        let mut registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = registry.iter().find(|n| n.host == host && n.port == port) {
            return n.clone();
        }
        let node = Arc::new(Node {
            host: host.to_string(),
            port,
            requests: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            cache: self.config.cache.clone().map(|c| Arc::new(Cache::new(c))),
            tracked: Mutex::new(None),
        });
        registry.push(node.clone());
        node
    }

    /// Starts the node's tracked connection unless it has one.
    fn ensure_tracked(&self, node: &Arc<Node>) {
        let (Some(cache), false) = (&node.cache, self.stopped.load(Relaxed)) else {
            return;
        };
        let mut slot = node.tracked.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_some() {
            return;
        }
        let config = Config {
            addr: Addr::Tcp {
                host: node.host.clone(),
                port: node.port,
            },
            cluster: false,
            cluster_nodes: Vec::new(),
            ..(*self.config).clone()
        };
        let Ok(client) = config.redis_client() else {
            return;
        };
        let observers = Arc::new(Observers::default());
        observers.add(cache.clone());
        let _rt = crate::runtime::runtime().enter();
        *slot = Some(Arc::new(Multiplexed::start(
            Arc::new(config),
            client,
            observers,
            self.stats.clone(),
        )));
    }

    /// A cacheable read on `node`'s tracked connection, so that the node reports the
    /// key's invalidations to its cache. `None` when this node cannot answer for the key
    /// now (its connection is not up, or the slot moved: MOVED/ASK); the table is read
    /// again and the caller reads through the routed connection, uncached.
    pub(crate) async fn read_tracked(
        self: &Arc<Self>,
        node: &Node,
        cmd: &Command,
        timeout: Option<Duration>,
    ) -> Option<Result<Value>> {
        let Some(mux) = node.tracked().filter(|m| m.generation().is_some()) else {
            self.refresh_soon();
            return None;
        };
        let addr = Addr::Tcp {
            host: node.host.clone(),
            port: node.port,
        };
        let (generation, mut conn) = match mux.get(timeout, || addr.clone()).await {
            Ok(c) => c,
            Err(_) => {
                self.refresh_soon();
                return None;
            }
        };
        let r = run_timed(conn.send_packed_command(cmd.cmd()), timeout, cmd.name())
            .await
            .and_then(crate::wire::slot);
        match &r {
            Err(e) if matches!(e.code(), Some("MOVED" | "ASK" | "TRYAGAIN" | "CLUSTERDOWN")) => {
                self.refresh_soon();
                return None;
            }
            Err(e) if e.is_connection_level() => mux.report_broken(generation),
            _ => {}
        }
        Some(r)
    }

    /// Calls `f` with every node's cache (cache on): writes drop their keys wherever
    /// they are cached. No allocation: it runs before every write.
    pub(crate) fn for_each_cache(&self, mut f: impl FnMut(&Cache)) {
        for node in self
            .registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            if let Some(c) = &node.cache {
                f(c);
            }
        }
    }

    /// Counters per node ever seen as a primary, with whether it is one now.
    pub(crate) fn node_stats(&self) -> Vec<NodeStats> {
        let table = self.table.load();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        registry
            .iter()
            .map(|n| NodeStats {
                addr: n.addr(),
                primary: table.nodes.iter().any(|t| Arc::ptr_eq(t, n)),
                requests: n.requests.load(Relaxed),
                errors: n.errors.load(Relaxed),
                cache: n.cache.as_ref().map(|c| c.stats()),
            })
            .collect()
    }

    /// The cache counters of every node, added up.
    pub(crate) fn cache_total(&self) -> Option<CacheStats> {
        self.config.cache.as_ref()?;
        let mut total = CacheStats::default();
        self.for_each_cache(|c| {
            let s = c.stats();
            total.hits += s.hits;
            total.misses += s.misses;
            total.invalidations += s.invalidations;
            total.evictions += s.evictions;
            total.entries += s.entries;
            total.bytes += s.bytes;
        });
        Some(total)
    }

    /// Closes every tracked connection; nothing is served from the cache after this.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Relaxed);
        for node in self
            .registry
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            node.stop_tracking();
        }
    }
}

/// Reads the table every [`REFRESH_EVERY`] while the topology lives.
async fn periodic_refresh(topo: Weak<Topology>) {
    loop {
        tokio::time::sleep(REFRESH_EVERY).await;
        match topo.upgrade() {
            Some(t) if !t.stopped.load(Relaxed) => t.refresh_soon(),
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_slots_match_redis() {
        // Values from CLUSTER KEYSLOT on Redis 7.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1}:a"), key_slot(b"user1"));
        assert_eq!(key_slot(b"{}x"), key_slot(b"{}x"));
        assert_ne!(key_slot(b"{}x"), key_slot(b"x"));
        assert_eq!(key_slot(b"a{b}c{d}"), key_slot(b"b"));
    }

    #[test]
    fn first_keys() {
        let key = |args: &[&str]| {
            let cmd = Command::new(args).unwrap();
            first_key(cmd.meta(), cmd.args()).map(|k| String::from_utf8(k.to_vec()).unwrap())
        };
        assert_eq!(key(&["GET", "k"]).as_deref(), Some("k"));
        assert_eq!(key(&["PING"]), None);
        assert_eq!(key(&["DBSIZE"]), None);
        assert_eq!(key(&["EVAL", "s", "1", "k", "a"]).as_deref(), Some("k"));
        assert_eq!(key(&["EVAL", "s", "0", "a"]), None);
        assert_eq!(
            key(&["XREAD", "COUNT", "1", "STREAMS", "s", "0"]).as_deref(),
            Some("s")
        );
    }
}
