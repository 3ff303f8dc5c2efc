//! Pub/Sub on a Redis Cluster: one standalone subscriber per node that serves a
//! subscription, their events merged into the application's one queue.
//!
//! Where each subscription goes (its *placement*):
//! - a shard channel (SSUBSCRIBE) on the primary serving its slot, one SSUBSCRIBE each
//!   (never several slots in one command, which the server refuses with CROSSSLOT);
//! - a keyspace-notification channel or pattern (`__keyspace@…`, `__keyevent@…`,
//!   `__key*…`) on every primary: each node notifies of its own keys only;
//! - any other channel or pattern on one primary, the *home*: PUBLISH reaches every node
//!   of a cluster, so one subscription hears it whichever node it was published on.
//!
//! A placement reads the primaries (`CLUSTER SLOTS`) and moves what is placed wrong. It
//! runs when the application (un)subscribes, when a node's server unsubscribes a shard
//! channel by itself (its slot moved away: Redis pushes `sunsubscribe`; a MOVED refusal
//! on resubscription is reported the same way), every second while a node's connection
//! is down (a failover: its slots go to the promoted replica), and every 10 s. What moved
//! was not subscribed for a moment, so a move queues a gap, in front of what the new
//! placement delivers (as a reconnect does). Each node's subscriber resubscribes after its
//! own reconnects and reports its own gaps, as on a standalone server.

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use futures_util::future::join_all;

use super::{
    check_options, closed, Gap, GapCause, Handle, Inner, PubSubEvent, PubSubOptions, Subscriber,
    SubscriptionKind, Wanted,
};
use super::{Arc, Duration, Mutex, Notify, Ordering};
use crate::cluster::{key_slot, primaries_from, Primary};
use crate::error::{Error, ErrorKind, Result};
use crate::observe::Stats;
use crate::runtime;
use crate::settings::{Addr, Config};

/// How often the placement task looks at the nodes' connections.
const TICK: Duration = Duration::from_secs(1);
/// How soon it tries again after a placement that did not complete.
const RETRY: Duration = Duration::from_millis(100);
/// How often it re-reads the primaries when nothing else asked for it.
const PERIOD: Duration = Duration::from_secs(10);

type NodeAddr = (String, u16);

/// The subscription kinds, each with the set of [`Wanted`] it fills.
const KINDS: [SubscriptionKind; 3] = [
    SubscriptionKind::Subscribe,
    SubscriptionKind::PSubscribe,
    SubscriptionKind::SSubscribe,
];

fn unsubscribe_kind(kind: SubscriptionKind) -> SubscriptionKind {
    match kind {
        SubscriptionKind::Subscribe => SubscriptionKind::Unsubscribe,
        SubscriptionKind::PSubscribe => SubscriptionKind::PUnsubscribe,
        SubscriptionKind::SSubscribe => SubscriptionKind::SUnsubscribe,
        other => other,
    }
}

fn is_unsubscribe(kind: SubscriptionKind) -> bool {
    matches!(
        kind,
        SubscriptionKind::Unsubscribe
            | SubscriptionKind::PUnsubscribe
            | SubscriptionKind::SUnsubscribe
    )
}

/// Keyspace notifications come from the node holding the key: subscribed on every primary.
fn on_every_primary(name: &[u8]) -> bool {
    name.starts_with(b"__keyspace@")
        || name.starts_with(b"__keyevent@")
        || name.starts_with(b"__key*")
}

/// One node's subscriber and what is placed on it.
struct NodeSub {
    sub: Subscriber,
    placed: Wanted,
    forward: runtime::AbortHandle,
}

/// The per-node subscribers of one cluster subscriber.
pub(super) struct ClusterSubs {
    config: Config,
    options: PubSubOptions,
    stats: Arc<Stats>,
    /// The application's queue and what it wants.
    sink: Arc<Inner>,
    /// One placement at a time; holds the home node.
    placing: tokio::sync::Mutex<Option<NodeAddr>>,
    nodes: Mutex<HashMap<NodeAddr, NodeSub>>,
    /// Names a node's server dropped by itself (their slot moved), to place again.
    evicted: Mutex<Vec<(NodeAddr, SubscriptionKind, Vec<u8>)>>,
    wake: Notify,
    closed: AtomicBool,
    /// Itself, for the forwarders it starts.
    me: std::sync::Weak<ClusterSubs>,
}

/// A cluster subscriber with the cluster client's `config`; nodes are connected as
/// subscriptions are placed on them.
pub(super) fn start(
    config: &Config,
    stats: Arc<Stats>,
    options: PubSubOptions,
) -> Result<Subscriber> {
    check_options(&options)?;
    let sink = Arc::new(Inner::new(config.clone(), options, stats.clone()));
    let subs = Arc::new_cyclic(|me| ClusterSubs {
        me: me.clone(),
        config: config.clone(),
        options,
        stats,
        sink: sink.clone(),
        placing: tokio::sync::Mutex::new(None),
        nodes: Mutex::default(),
        evicted: Mutex::default(),
        wake: Notify::new(),
        closed: AtomicBool::new(false),
    });
    let task = runtime::spawn(place_forever(subs.clone()));
    Ok(Subscriber {
        handle: Arc::new(Handle {
            inner: sink,
            task,
            cluster: Some(subs),
        }),
    })
}

/// Places again when woken, while a node is down, and every [`PERIOD`].
async fn place_forever(subs: Arc<ClusterSubs>) {
    let mut last = Instant::now();
    let mut incomplete = false;
    loop {
        // Soon again after a placement that did not complete (a MOVED refusal while the
        // slot map was changing, a node not answering yet).
        let wait = if incomplete { RETRY } else { TICK };
        let woken = tokio::time::timeout(wait, subs.wake.notified())
            .await
            .is_ok();
        if subs.closed.load(Ordering::Acquire) {
            return;
        }
        let down = subs.lock_nodes().values().any(|n| !n.sub.is_connected());
        if woken || down || incomplete || last.elapsed() >= PERIOD {
            last = Instant::now();
            incomplete = subs.place().await.is_err();
        }
    }
}

impl ClusterSubs {
    fn lock_nodes(&self) -> std::sync::MutexGuard<'_, HashMap<NodeAddr, NodeSub>> {
        self.nodes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records `names` as wanted and places them; returns once every node concerned
    /// confirmed (or with the first failure: what failed stays wanted and is placed again
    /// within a second).
    pub(super) async fn subscribe(
        &self,
        kind: SubscriptionKind,
        names: Vec<Vec<u8>>,
    ) -> Result<()> {
        {
            let mut w = self.sink.wanted.lock().unwrap_or_else(|p| p.into_inner());
            w.set(kind).extend(names);
        }
        self.place().await
    }

    /// Forgets `names` (all of that kind when empty) and places again.
    pub(super) async fn unsubscribe(
        &self,
        kind: SubscriptionKind,
        names: Vec<Vec<u8>>,
    ) -> Result<()> {
        {
            let mut w = self.sink.wanted.lock().unwrap_or_else(|p| p.into_inner());
            let set = w.set(kind);
            if names.is_empty() {
                set.clear();
            } else {
                for n in &names {
                    set.remove(n);
                }
            }
        }
        self.place().await
    }

    /// Whether every node's subscriber is connected and subscribed.
    pub(super) fn is_connected(&self) -> bool {
        self.lock_nodes().values().all(|n| n.sub.is_connected())
    }

    /// A node subscriber to send a PING on: a connected one if any. A connection error
    /// when nothing is subscribed yet (no node connection exists then).
    pub(super) fn home(&self) -> Result<Subscriber> {
        let nodes = self.lock_nodes();
        nodes
            .values()
            .find(|n| n.sub.is_connected())
            .or_else(|| nodes.values().next())
            .map(|n| n.sub.clone())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Connection,
                    "the cluster subscriber has no node connection yet; subscribe first",
                )
            })
    }

    /// Drops every node's connection as if it had broken (each reconnects by itself).
    pub(super) fn reconnect(&self) {
        for node in self.lock_nodes().values() {
            node.sub.reconnect();
        }
    }

    /// Closes every node's subscriber.
    pub(super) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for (_, node) in self.lock_nodes().drain() {
            node.forward.abort();
            node.sub.close();
        }
    }

    fn node_config(&self, addr: &NodeAddr) -> Config {
        Config {
            addr: Addr::Tcp {
                host: addr.0.clone(),
                port: addr.1,
            },
            ..self.config.clone()
        }
    }

    /// A node's event for the application, unless it is an unsubscribe confirmation of
    /// a name still wanted: that is a move of ours, or the server dropping a shard
    /// channel whose slot moved away (then it is placed again).
    fn on_node_event(&self, addr: &NodeAddr, event: PubSubEvent) {
        if let PubSubEvent::Subscription {
            kind,
            channel: Some(name),
            ..
        } = &event
        {
            if is_unsubscribe(*kind) {
                let wanted = {
                    let mut w = self.sink.wanted.lock().unwrap_or_else(|p| p.into_inner());
                    w.set(*kind).contains(name)
                };
                if wanted {
                    let placed_here = self
                        .lock_nodes()
                        .get_mut(addr)
                        .is_some_and(|n| n.placed.set(*kind).contains(name));
                    if placed_here {
                        self.evicted
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((addr.clone(), *kind, name.clone()));
                        self.wake.notify_one();
                    }
                    return;
                }
            }
        }
        self.sink.push(event);
    }

    /// Reads the primaries and makes the placement match what is wanted.
    async fn place(&self) -> Result<()> {
        let mut home = self.placing.lock().await;
        if self.closed.load(Ordering::Acquire) {
            return Err(closed());
        }
        let primaries = self.primaries(home.as_ref()).await?;
        let addrs: Vec<NodeAddr> = primaries.iter().map(|p| (p.host.clone(), p.port)).collect();
        if home.as_ref().is_none_or(|h| !addrs.contains(h)) {
            *home = addrs.first().cloned();
        }

        // What each node should have.
        let wanted = {
            let w = self.sink.wanted.lock().unwrap_or_else(|p| p.into_inner());
            (w.channels.clone(), w.patterns.clone(), w.shards.clone())
        };
        let mut desired: HashMap<NodeAddr, Wanted> = HashMap::new();
        let mut unplaced = None;
        for (kind, names) in [
            (SubscriptionKind::Subscribe, &wanted.0),
            (SubscriptionKind::PSubscribe, &wanted.1),
        ] {
            for name in names {
                let targets: Vec<&NodeAddr> = if on_every_primary(name) {
                    addrs.iter().collect()
                } else {
                    home.iter().collect()
                };
                for t in targets {
                    desired
                        .entry(t.clone())
                        .or_default()
                        .set(kind)
                        .insert(name.clone());
                }
            }
        }
        for name in &wanted.2 {
            let slot = key_slot(name);
            match primaries.iter().find(|p| p.serves(slot)) {
                Some(p) => {
                    desired
                        .entry((p.host.clone(), p.port))
                        .or_default()
                        .shards
                        .insert(name.clone());
                }
                None => unplaced = Some(slot),
            }
        }

        // What changes, node by node; the records change now, the commands follow.
        let evicted = std::mem::take(&mut *self.evicted.lock().unwrap_or_else(|p| p.into_inner()));
        let mut removes: Vec<(Subscriber, SubscriptionKind, Vec<Vec<u8>>)> = Vec::new();
        let mut adds: Vec<(NodeAddr, SubscriptionKind, Vec<Vec<u8>>)> = Vec::new();
        let mut moved = !evicted.is_empty();
        {
            let mut nodes = self.lock_nodes();
            for (addr, kind, name) in &evicted {
                if let Some(n) = nodes.get_mut(addr) {
                    n.placed.set(*kind).remove(name);
                    removes.push((n.sub.clone(), unsubscribe_kind(*kind), vec![name.clone()]));
                }
            }
            // Where each name was placed before this round: a name added elsewhere moved.
            let before: Vec<Wanted> = nodes.values().map(|n| n.placed.clone()).collect();
            let placed_before = |kind: SubscriptionKind, name: &Vec<u8>| {
                before.iter().any(|w| w.get(kind).contains(name))
            };
            let mut all: Vec<NodeAddr> = nodes.keys().cloned().collect();
            all.extend(desired.keys().cloned());
            all.sort();
            all.dedup();
            let empty = Wanted::default();
            for addr in &all {
                let want = desired.get(addr).unwrap_or(&empty);
                for kind in KINDS {
                    let wants = want.get(kind);
                    let node = nodes.get_mut(addr);
                    let have = node
                        .as_ref()
                        .map_or(&empty.channels, |n| n.placed.get(kind));
                    let gone: Vec<Vec<u8>> = have.difference(wants).cloned().collect();
                    let new: Vec<Vec<u8>> = wants.difference(have).cloned().collect();
                    if let (false, Some(n)) = (gone.is_empty(), node) {
                        for g in &gone {
                            n.placed.set(kind).remove(g);
                        }
                        removes.push((n.sub.clone(), unsubscribe_kind(kind), gone));
                    }
                    if !new.is_empty() {
                        moved |= new.iter().any(|n| placed_before(kind, n));
                        adds.push((addr.clone(), kind, new));
                    }
                }
            }
            // Nodes left with nothing: closed (a dead one stops reconnecting).
            nodes.retain(|addr, n| {
                let keep = desired.contains_key(addr);
                if !keep {
                    n.forward.abort();
                    n.sub.close();
                }
                keep
            });
        }

        if moved {
            // What the new placement delivers waits behind the gap.
            self.sink.hold();
        }
        join_all(removes.into_iter().map(|(sub, kind, names)| async move {
            let _ = sub.unsubscribe(kind, names).await;
        }))
        .await;
        let mut jobs = Vec::new();
        for (addr, kind, names) in adds {
            let sub = match self.node(&addr) {
                Ok(s) => s,
                Err(e) => {
                    jobs.push(futures_util::future::Either::Left(async move { Err(e) }));
                    continue;
                }
            };
            jobs.push(futures_util::future::Either::Right(async move {
                let result = sub.subscribe(kind, names.clone()).await;
                match result {
                    Ok(()) => Ok((addr, kind, names)),
                    // Not connected yet: kept by the node's subscriber, made when it is.
                    Err(e) if matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout) => {
                        Ok((addr, kind, names))
                    }
                    Err(e) => {
                        // Refused (MOVED while the slot map was stale): not placed here.
                        let _ = sub.unsubscribe(unsubscribe_kind(kind), names).await;
                        Err(e)
                    }
                }
            }));
        }
        let mut first_error = None;
        for done in join_all(jobs).await {
            match done {
                Ok((addr, kind, names)) => {
                    if let Some(n) = self.lock_nodes().get_mut(&addr) {
                        n.placed.set(kind).extend(names);
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if moved {
            self.stats.pubsub_resubscribe();
            self.sink.release(Gap {
                cause: GapCause::Reconnected,
                dropped: 0,
            });
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        if let Some(slot) = unplaced {
            return Err(Error::new(
                ErrorKind::Cluster,
                format!("slot {slot} of a shard channel is served by no primary now; it is subscribed once one serves it"),
            ));
        }
        Ok(())
    }

    /// The primaries, asked of the home node, else of a node subscribed to, else of the
    /// seeds, each over a short connection of its own (see [`primaries_from`]).
    async fn primaries(&self, home: Option<&NodeAddr>) -> Result<Vec<Primary>> {
        let mut candidates: Vec<NodeAddr> = home.into_iter().cloned().collect();
        candidates.extend(self.lock_nodes().keys().cloned());
        if let Addr::Tcp { host, port } = &self.config.addr {
            candidates.push((host.clone(), *port));
        }
        candidates.extend(self.config.cluster_nodes.iter().cloned());
        let mut seen = Vec::new();
        let mut last = None;
        let budget = self.config.connect_timeout() + self.config.response_timeout();
        for addr in candidates {
            if seen.contains(&addr) {
                continue;
            }
            seen.push(addr.clone());
            let config = self.node_config(&addr);
            match tokio::time::timeout(budget, primaries_from(&config)).await {
                Ok(Ok(p)) if !p.is_empty() => return Ok(p),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => last = Some(e),
                Err(_) => {}
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::new(
                ErrorKind::Cluster,
                "no cluster node answered CLUSTER SLOTS; subscriptions are placed when one does",
            )
        }))
    }

    /// The subscriber of the node on `addr`, started (with its forwarder) if need be.
    fn node(&self, addr: &NodeAddr) -> Result<Subscriber> {
        let mut nodes = self.lock_nodes();
        if let Some(n) = nodes.get(addr) {
            return Ok(n.sub.clone());
        }
        let sub = Subscriber::start_node(
            &self.node_config(addr),
            self.stats.clone(),
            self.options,
            false,
        )?;
        let forward = runtime::spawn(forward(self.me.clone(), addr.clone(), sub.clone()));
        nodes.insert(
            addr.clone(),
            NodeSub {
                sub: sub.clone(),
                placed: Wanted::default(),
                forward,
            },
        );
        Ok(sub)
    }
}

/// Hands a node's events to the cluster subscriber until either is closed.
async fn forward(subs: std::sync::Weak<ClusterSubs>, addr: NodeAddr, sub: Subscriber) {
    while let Ok(event) = sub.next_event().await {
        let Some(subs) = subs.upgrade() else {
            return;
        };
        subs.on_node_event(&addr, event);
    }
}
