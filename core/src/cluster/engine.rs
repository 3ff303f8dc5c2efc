//! Redis Cluster: the same client over a sharded fleet.
//!
//! Routing by slot, MOVED/ASK redirects, topology refresh and the splitting of
//! multi-key commands (MGET, DEL, EXISTS… across slots) are redis-rs's `cluster-async`.
//! What it lacks, and this module adds:
//! - **cross-slot pipelines**: redis-rs refuses a pipeline whose keys span slots, so
//!   single-key reads of one slot go as one sub-pipeline and every other command on
//!   its own, all at once; redis-rs's per-node connections pipeline them on the wire, and
//!   the replies are put back in the caller's order;
//! - **transactions** stay in one slot, with an error that names the hash-tag fix;
//! - **blocking commands** run on a dedicated cluster connection (so a BLPOP does not
//!   hold up the shared connection to that node);
//! - **cluster-wide SCAN** that survives resharding: slot by slot (see the client's scan walk);
//! - **a stalled shared connection is replaced** (see [`Shared`]): redis-rs's cluster task
//!   can stop answering for good, and every command would then time out.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use futures_util::future::join_all;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::cluster_read_routing::RandomReplicaStrategy;
use redis::cluster_routing::{
    MultipleNodeRoutingInfo, ResponsePolicy, Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr,
};
use redis::Value;

use super::topology::{self, Topology};
use crate::command::Command;
use crate::connection::send::{self, PipelineConn};
use crate::error::{Error, ErrorKind, Result};
use crate::observe::Stats;
use crate::settings::{Addr, Config, Protocol};
use crate::wire::{self, Pipeline};

/// How long redis-rs itself waits for a reply: longer than any of ours, which apply
/// per command (blocking commands included).
const REDIS_RS_RESPONSE_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// redis-rs's wait between its own retries of a request that found no connection to
/// its slot's node, or met CLUSTERDOWN / TRYAGAIN / MASTERDOWN: uniform between these
/// bounds, the same at every retry (exponent base 1: redis-rs computes base^retry in a
/// u64, which overflows past some 60 retries of base 2). redis-rs's
/// default is a fixed 1,280 ms for the first 8 retries, so after a primary died, writes
/// to its slots came back only at the next multiple of 1.28 s after the replica's
/// promotion (issue #18: 2.57 s and 3.85 s, exactly, in every run).
const RETRY_WAIT_MS: (u64, u64) = (10, 100);

/// How many times redis-rs retries a request itself: enough to keep trying, at the
/// shortest wait, for the whole response timeout (our timeout ends the request first),
/// as redis-rs's 16 retries of 1.28 s did before. Those retries send nothing twice: a
/// request that found no connection, or was refused by a cluster that is down, did not
/// run. (A request whose connection broke after it was sent is retried once by
/// redis-rs whatever this number.)
fn redis_rs_retries(response_timeout: Duration) -> u32 {
    (response_timeout.as_millis() / u128::from(RETRY_WAIT_MS.0) + 16).min(10_000) as u32
}

/// A node of the cluster as a config of its own (same handshake, TLS, credentials).
fn node_config(config: &Config, host: &str, port: u16) -> Config {
    Config {
        addr: Addr::Tcp {
            host: host.to_string(),
            port,
        },
        ..config.clone()
    }
}

/// The redis-rs cluster client of `config`, starting from `seeds`.
fn cluster_client(config: &Config, seeds: Vec<redis::ConnectionInfo>) -> Result<ClusterClient> {
    let mut builder = ClusterClientBuilder::new(seeds)
        .use_protocol(match config.protocol {
            Protocol::Resp2 => redis::ProtocolVersion::RESP2,
            Protocol::Resp3 => redis::ProtocolVersion::RESP3,
        })
        .connection_timeout(config.connect_timeout)
        .response_timeout(REDIS_RS_RESPONSE_TIMEOUT)
        .min_retry_wait(RETRY_WAIT_MS.0)
        .max_retry_wait(RETRY_WAIT_MS.1)
        .retry_wait_formula(RETRY_WAIT_MS.1, 1)
        .retries(redis_rs_retries(config.response_timeout));
    if let Some(u) = &config.username {
        builder = builder.username(u);
    }
    if let Some(p) = &config.password {
        builder = builder.password(p.expose());
    }
    if config.read_from_replicas {
        builder = builder.read_routing_strategy(RandomReplicaStrategy);
    }
    if let Some(tls) = &config.tls {
        let (mode, certs) = crate::settings::cluster_settings(tls);
        builder = builder.tls(mode);
        if let Some(certs) = certs {
            builder = builder.certs(certs);
        }
    }
    Ok(builder.build()?)
}

/// While a request waits past [`STALL_AFTER`], how often the engine looks whether the
/// primary it was sent to has been replaced by a failover (one look serves every waiting
/// request).
const FAILOVER_POLL: Duration = Duration::from_millis(20);
/// The same for a blocking command (BLPOP, XREAD BLOCK…), whose wait is its own: a look
/// costs one PING on the engine's probe connection to its primary, so a command that
/// blocks for minutes sends ten a second, not fifty.
const BLOCKING_POLL: Duration = Duration::from_millis(100);
/// How long a look may wait for another primary's answer, on a short connection of its
/// own.
const ASK_WAIT: Duration = Duration::from_millis(300);
/// How long the primary of a waiting request may take to answer a PING of the engine's
/// own before it counts as silent (slow or frozen). Only a silent primary can count as
/// replaced, and that also takes the cluster's word: flagged `fail`, its slots given away
/// (the bus missed it for the whole node timeout).
const PING_WAIT: Duration = Duration::from_millis(25);

/// How long a request on the shared connection waits for its answer before the engine
/// checks that the connection still answers anything at all.
const STALL_AFTER: Duration = Duration::from_millis(500);
/// How long that check waits for an answer through the connection.
const PROBE_WAIT: Duration = Duration::from_secs(1);

/// The shared cluster connection (redis-rs keeps one multiplexed connection per node
/// under it), with what tells whether it still answers.
///
/// redis-rs 1.8's cluster task can stop answering for good: on MOVED it refreshes its slot
/// map under the write half of its connection-map lock and polls nothing else until that
/// is done, while requests it parked may hold read permits of that lock. With tokio ≥ 1.54
/// a request polled after the task's cooperative budget ran out takes its read permit and
/// then yields (`batch_semaphore::Acquire::poll`), so a pipeline of many commands that
/// meets a slot migration wedges the task: the refresh waits for permits held by requests
/// that are only polled after the refresh. Every later command then waits forever.
///
/// So a request that has had no answer after [`STALL_AFTER`] checks the connection (one
/// check at a time): when, for [`PROBE_WAIT`], no request on it got an answer and a PING
/// to every primary (the first answer is enough) got none either, the connection is
/// marked stalled. Its waiting requests fail with a connection error, and the next
/// request opens a new cluster connection. A connection that is merely busy, or a node
/// that is slow, still answers the PING from some primary and is kept.
struct Shared {
    conn: ClusterConnection,
    /// Answers received by requests on this connection (errors included).
    answers: AtomicU64,
    /// Set once the connection was found stalled: it is then replaced.
    stalled: AtomicBool,
    /// The last check and its verdict (`true`: it answers); one check at a time.
    checked: tokio::sync::Mutex<Option<(Instant, bool)>>,
    /// The primaries when it opened: the map redis-rs routes by until a MOVED, a refused
    /// connection or CLUSTERDOWN makes it read another. A primary that freezes (SIGSTOP,
    /// a hung host) gives none of those, so its slots stay routed to it after a failover.
    opened_with: Vec<Primary>,
    /// Primaries of `opened_with` a failover replaced while they were frozen: a request
    /// still waiting on one fails at its next look, without a look of its own.
    gone: Mutex<Vec<(String, u16)>>,
}

/// The error of a request on a shared connection that stopped answering.
fn stalled_error() -> Error {
    Error::new(
        ErrorKind::Connection,
        "the cluster connection stopped answering (redis-rs's cluster task is stalled); it \
         was replaced by a new one, the request may be retried",
    )
}

/// The error of a request that waited on a frozen primary a failover replaced.
fn replaced_error((host, port): (String, u16)) -> Error {
    Error::new(
        ErrorKind::Connection,
        format!(
            "the primary {host}:{port} stopped answering and a failover replaced it; the \
             cluster connection was replaced, the request may be retried"
        ),
    )
}

impl Shared {
    fn new(conn: ClusterConnection, opened_with: Vec<Primary>) -> Shared {
        Shared {
            conn,
            answers: AtomicU64::new(0),
            stalled: AtomicBool::new(false),
            checked: tokio::sync::Mutex::new(None),
            opened_with,
            gone: Mutex::new(Vec::new()),
        }
    }

    /// The primaries (indices in `opened_with`) that serve any of `slots`, each once.
    fn serving(&self, slots: impl IntoIterator<Item = u16>) -> Vec<usize> {
        let mut out = Vec::new();
        for slot in slots {
            if let Some(i) = self.opened_with.iter().position(|p| p.serves(slot)) {
                if !out.contains(&i) {
                    out.push(i);
                }
            }
        }
        out
    }

    /// The primary (index in `opened_with`) at `host:port`, if it was one.
    fn at(&self, host: &str, port: u16) -> Vec<usize> {
        self.opened_with
            .iter()
            .position(|p| p.host == host && p.port == port)
            .into_iter()
            .collect()
    }

    /// Runs `fut` (a request on this connection) to its answer, unless the connection is
    /// found stalled while it waits.
    async fn watched<T>(&self, fut: impl Future<Output = Result<T>>) -> Result<T> {
        let mut fut = pin!(fut);
        loop {
            tokio::select! {
                biased;
                r = &mut fut => return self.answered(r),
                _ = tokio::time::sleep(STALL_AFTER) => {}
            }
            tokio::select! {
                biased;
                r = &mut fut => return self.answered(r),
                answers = self.check() => if !answers {
                    return Err(stalled_error());
                }
            }
        }
    }

    fn answered<T>(&self, r: Result<T>) -> Result<T> {
        self.answers.fetch_add(1, Relaxed);
        r
    }

    /// Whether the connection still answers: the last verdict when it is recent, else a
    /// new check. Marks the connection stalled when it does not.
    async fn check(&self) -> bool {
        if self.stalled.load(Relaxed) {
            return false;
        }
        let mut checked = self.checked.lock().await;
        if let Some((at, answers)) = *checked {
            if at.elapsed() < STALL_AFTER {
                return answers;
            }
        }
        let before = self.answers.load(Relaxed);
        // One PING per primary, each routed to its address, the first reply enough; not
        // redis-rs's fan-out (AllMasters): redis-rs 1.8.1 queues a fan-out's requests from
        // inside its task without waking it, so while every other request waits on a
        // frozen primary they are never sent, and a working connection looked stalled
        // (fixed in redis-rs 1.8.2).
        let pings = self.opened_with.iter().map(|p| {
            let mut conn = self.conn.clone();
            let route = RoutingInfo::SingleNode(SingleNodeRoutingInfo::ByAddress {
                host: p.host.clone(),
                port: p.port,
            });
            Box::pin(async move { conn.route_command(redis::cmd("PING"), route).await })
        });
        let ping = async {
            if self.opened_with.is_empty() {
                let mut conn = self.conn.clone();
                let all = RoutingInfo::MultiNode((
                    MultipleNodeRoutingInfo::AllMasters,
                    Some(ResponsePolicy::OneSucceeded),
                ));
                let _ = conn.route_command(redis::cmd("PING"), all).await;
            } else {
                // Any reply, an error too, shows the cluster task is still at work.
                let _ = futures_util::future::select_all(pings).await;
            }
        };
        let pinged = tokio::time::timeout(PROBE_WAIT, ping).await.is_ok();
        let answers = pinged || self.answers.load(Relaxed) != before;
        *checked = Some((Instant::now(), answers));
        if !answers {
            log::warn!(
                target: "redbridge::cluster",
                "the cluster connection stopped answering (no reply for {} ms, not even to \
                 PING); opening a new one",
                (STALL_AFTER + PROBE_WAIT).as_millis()
            );
            self.stalled.store(true, Relaxed);
        }
        answers
    }
}

/// One client's connections to a cluster.
pub(crate) struct ClusterEngine {
    config: Arc<Config>,
    /// Opens cluster connections; made again with live seeds after a failover away from
    /// a frozen primary (which may be a seed: redis-rs waits for every seed).
    client: Mutex<ClusterClient>,
    /// The last look for a failover at each primary looked at (one look at a time, reused
    /// for [`FAILOVER_POLL`] by requests waiting on the same primary).
    looked: tokio::sync::Mutex<Vec<Looked>>,
    /// The engine's own connection to each primary it looked at, for the look's PING.
    probes: Mutex<Vec<((String, u16), MultiplexedConnection)>>,
    /// The shared connection, once opened; replaced when found stalled.
    shared: ArcSwapOption<Shared>,
    /// Held while the shared connection is being opened (one at a time).
    opening: tokio::sync::Mutex<()>,
    /// Spare connections for blocking commands, with the [`ClusterEngine::epoch`] they
    /// were opened in.
    dedicated: Mutex<Vec<(u64, ClusterConnection)>>,
    /// Counts the failovers found while a primary was frozen: a spare opened before one
    /// routes the replaced primary's slots to it, so it is dropped.
    epoch: AtomicU64,
    max_dedicated: usize,
    connect_timeout: Duration,
    /// The first seed node and whether TLS is on: for connect errors in words.
    seed: Addr,
    tls: bool,
    /// Slot → primary, per-node counters and (cache on) per-node caches.
    pub(crate) topology: Arc<Topology>,
}

/// A primary and the slot ranges it serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Primary {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) slots: Vec<(u16, u16)>,
}

impl Primary {
    pub(crate) fn serves(&self, slot: u16) -> bool {
        self.slots.iter().any(|&(a, b)| a <= slot && slot <= b)
    }
}

impl ClusterEngine {
    /// Needs the runtime's context (the topology's refresher is spawned on it).
    pub(crate) fn new(config: &Arc<Config>, stats: &Arc<Stats>) -> Result<ClusterEngine> {
        let seed = config.redis_client()?.get_connection_info().clone();
        let mut seeds = vec![seed];
        for (host, port) in &config.cluster_nodes {
            seeds.push(
                node_config(config, host, *port)
                    .redis_client()?
                    .get_connection_info()
                    .clone(),
            );
        }
        Ok(ClusterEngine {
            config: config.clone(),
            client: Mutex::new(cluster_client(config, seeds)?),
            looked: tokio::sync::Mutex::new(Vec::new()),
            probes: Mutex::new(Vec::new()),
            shared: ArcSwapOption::empty(),
            opening: tokio::sync::Mutex::new(()),
            dedicated: Mutex::new(Vec::new()),
            epoch: AtomicU64::new(0),
            max_dedicated: config.max_connections,
            connect_timeout: config.connect_timeout,
            seed: config.addr.clone(),
            tls: config.tls.is_some(),
            topology: Topology::new(config.clone(), stats.clone()),
        })
    }

    /// The shared connection (redis-rs keeps one multiplexed connection per node under
    /// it), opened on first use.
    pub(crate) async fn conn(&self) -> Result<ClusterConnection> {
        Ok(self.shared().await?.conn.clone())
    }

    /// The shared connection with its stall check: opened on first use, and again after
    /// it was found stalled.
    async fn shared(&self) -> Result<Arc<Shared>> {
        let usable = |s: &Option<Arc<Shared>>| s.clone().filter(|s| !s.stalled.load(Relaxed));
        if let Some(s) = usable(&self.shared.load_full()) {
            return Ok(s);
        }
        let _opening = self.opening.lock().await;
        if let Some(s) = usable(&self.shared.load_full()) {
            return Ok(s);
        }
        let wait = self.connect_timeout * 2;
        let client = self.client();
        let conn = match tokio::time::timeout(wait, client.get_async_connection()).await {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return Err(self.connect_error(e.into())),
            Err(_) => {
                return Err(Error::new(
                    ErrorKind::Connection,
                    format!(
                        "could not connect to the cluster within {} ms; are the seed nodes up?",
                        wait.as_millis()
                    ),
                ))
            }
        };
        self.topology.connected(&conn).await;
        // The map redis-rs starts from (it read it just now): what a failover look compares.
        let opened_with = tokio::time::timeout(ASK_WAIT, read_primaries(conn.clone()))
            .await
            .ok()
            .and_then(|r| r.ok())
            .unwrap_or_default();
        let s = Arc::new(Shared::new(conn, opened_with));
        self.shared.store(Some(s.clone()));
        Ok(s)
    }

    /// The redis-rs client new connections are opened with.
    fn client(&self) -> ClusterClient {
        lock(&self.client).clone()
    }

    /// [`Shared::watched`], and for a request on the primaries `targets` (indices in the
    /// connection's `opened_with`: those of its keys), while it waits, a look every
    /// [`FAILOVER_POLL`] whether one was replaced by a failover while frozen: then the
    /// request fails with a connection error (retried if safe) and the connection is
    /// replaced, since redis-rs would keep routing the slot there.
    ///
    /// `blocking`: `fut` is a blocking command on a connection of its own, whose long wait
    /// is normal: it looks every [`BLOCKING_POLL`], and never counts as a stall of the
    /// shared connection.
    async fn watched<T>(
        &self,
        shared: &Shared,
        targets: Vec<usize>,
        blocking: bool,
        fut: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        if targets.is_empty() {
            return match blocking {
                false => shared.watched(fut).await,
                true => fut.await,
            };
        }
        let answered = |r| match blocking {
            false => shared.answered(r),
            true => r,
        };
        let mut fut = pin!(fut);
        let mut wait = STALL_AFTER;
        loop {
            tokio::select! {
                biased;
                r = &mut fut => return answered(r),
                _ = tokio::time::sleep(wait) => {}
            }
            wait = if blocking {
                BLOCKING_POLL
            } else {
                FAILOVER_POLL
            };
            let look = async {
                let mut silent = false;
                for &i in &targets {
                    match self.failed_over(shared, i).await {
                        Verdict::Replaced(addr) => return Some(replaced_error(addr)),
                        Verdict::Silent => silent = true,
                        Verdict::Fine => {}
                    }
                }
                // A primary that is slow or frozen (its PING is late too), or that the
                // cluster is failing over: the wait is the node's, not a stall of redis-rs's
                // task; wait for an answer or the promotion (a new connection now would
                // wait on the frozen node too).
                if silent || blocking {
                    return None;
                }
                (!shared.check().await).then(stalled_error)
            };
            tokio::select! {
                biased;
                r = &mut fut => return answered(r),
                e = look => if let Some(e) = e {
                    return Err(e);
                }
            }
        }
    }

    /// Whether the primary `opened_with[i]` of `shared` was replaced by a failover while
    /// frozen: the `CLUSTER NODES` of every other primary that answers flags it `fail`
    /// with no slots, and it does not answer a PING within [`PING_WAIT`]. `shared` is then
    /// marked stalled, the spares for blocking commands are dropped, and the next
    /// connection starts from the live primaries.
    ///
    /// A primary that refuses connections (dead) is left to redis-rs, which re-reads its
    /// map and retries; one that answers sends MOVED. Only a frozen one (SIGSTOP, a hung
    /// host) keeps redis-rs's requests waiting on it with its slots served elsewhere.
    async fn failed_over(&self, shared: &Shared, i: usize) -> Verdict {
        let Some(was) = shared.opened_with.get(i) else {
            return Verdict::Fine;
        };
        let addr = (was.host.clone(), was.port);
        if lock(&shared.gone).contains(&addr) {
            return Verdict::Replaced(addr);
        }
        let mut looked = self.looked.lock().await;
        // A look that ended while this request waited for the lock serves it too.
        let recent = |l: &&Looked| l.node == addr && l.at.elapsed() < FAILOVER_POLL;
        let seen = match looked.iter().find(recent) {
            Some(l) => l.clone(),
            None => {
                let l = self.look(shared, was).await;
                looked.retain(|x| x.node != addr);
                looked.push(l.clone());
                l
            }
        };
        drop(looked);
        if seen.replaced {
            lock(&shared.gone).push(addr.clone());
            if !shared.stalled.swap(true, Relaxed) {
                self.epoch.fetch_add(1, Relaxed);
                lock(&self.dedicated).clear();
                self.topology.refresh_soon();
            }
            return Verdict::Replaced(addr);
        }
        if seen.silent {
            return Verdict::Silent;
        }
        Verdict::Fine
    }

    /// One look (see [`ClusterEngine::failed_over`]) at `was` through the other primaries
    /// `shared` opened with. When it was replaced while frozen, the client's seeds become
    /// the live primaries.
    async fn look(&self, shared: &Shared, was: &Primary) -> Looked {
        let addr = (was.host.clone(), was.port);
        let mut seen = Looked {
            node: addr.clone(),
            at: Instant::now(),
            silent: false,
            replaced: false,
        };
        if self.answers(&was.host, was.port).await {
            seen.at = Instant::now();
            return seen;
        }
        seen.silent = true;
        // The cluster's word, only now: a primary that answers, or refuses, needs none.
        // Every other primary that answers must say so: a new cluster connection reads its
        // map from whichever seed redis-rs reaches first, and a primary that has not yet
        // heard of the promotion still names the frozen node, whose connect then waits out
        // the whole connect timeout (2 s by default) before the connection opens.
        let ask = redis::cmd("CLUSTER").arg("NODES").clone();
        let others = shared.opened_with.iter().filter(|p| !std::ptr::eq(*p, was));
        let views: Vec<Membership> =
            join_all(others.map(|p| self.ask_probe(&p.host, p.port, &ask, ASK_WAIT)))
                .await
                .into_iter()
                .filter_map(|reply| nodes_text(reply.ok()?).ok())
                .map(|text| Membership::parse(&text))
                .collect();
        seen.at = Instant::now();
        let agreed = !views.is_empty() && views.iter().all(|m| m.replaced.contains(&addr));
        let Some(live) = views.into_iter().next().filter(|_| agreed) else {
            return seen;
        };
        log::warn!(
            target: "redbridge::cluster",
            "the primary {}:{} does not answer and a failover gave its slots to another; \
             opening a new cluster connection",
            was.host,
            was.port
        );
        let seeds = live
            .primaries
            .iter()
            .filter_map(|(h, p)| node_config(&self.config, h, *p).redis_client().ok())
            .map(|c| c.get_connection_info().clone())
            .collect();
        if let Ok(client) = cluster_client(&self.config, seeds) {
            *lock(&self.client) = client;
        }
        seen.replaced = true;
        seen
    }

    /// Whether `host:port` answers a PING within [`PING_WAIT`], on the engine's probe
    /// connection to it (kept until it breaks, so a look costs one PING, not a connection,
    /// at a healthy primary and at a frozen one alike). A refused connection counts as an
    /// answer: redis-rs sees that too, and re-reads its map by itself.
    async fn answers(&self, host: &str, port: u16) -> bool {
        match self
            .ask_probe(host, port, &redis::cmd("PING"), PING_WAIT)
            .await
        {
            Ok(_) => true,
            Err(probed) => matches!(probed, Probe::Refused),
        }
    }

    /// `cmd` on the engine's probe connection to `host:port` within `wait` (opened when
    /// there is none: a PING within [`PING_WAIT`]). No answer in time keeps the connection
    /// (a frozen node answers it once it runs again); a broken one is dropped and the node
    /// probed on a new one, which tells a refusing node from a silent one.
    async fn ask_probe(
        &self,
        host: &str,
        port: u16,
        cmd: &redis::Cmd,
        wait: Duration,
    ) -> std::result::Result<Value, Probe> {
        let key = (host.to_string(), port);
        let kept = lock(&self.probes)
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, c)| c.clone());
        let mut conn = match kept {
            Some(conn) => conn,
            None => match probe(&self.config, host, port).await {
                Probe::Answers(conn) => {
                    lock(&self.probes).push((key.clone(), conn.clone()));
                    conn
                }
                other => return Err(other),
            },
        };
        match tokio::time::timeout(wait, conn.send_packed_command(cmd)).await {
            Ok(Ok(v)) => Ok(v),
            Err(_) => Err(Probe::Silent),
            Ok(Err(_)) => {
                lock(&self.probes).retain(|(k, _)| *k != key);
                match probe(&self.config, host, port).await {
                    Probe::Answers(conn) => {
                        lock(&self.probes).push((key, conn));
                        // It answers again; the command itself is the caller's to repeat.
                        Err(Probe::Silent)
                    }
                    other => Err(other),
                }
            }
        }
    }

    /// One command, routed by redis-rs (multi-slot commands split and merged there).
    pub(crate) async fn execute(&self, cmd: &Command) -> Result<Value> {
        let began = Instant::now();
        let shared = self.shared().await?;
        let mut conn = shared.conn.clone();
        let slot = topology::first_key(cmd.meta(), cmd.args()).map(topology::key_slot);
        let r = self
            .watched(&shared, shared.serving(slot), false, async {
                Ok(conn.req_packed_command(cmd.cmd()).await?)
            })
            .await;
        self.met_change(began, &r);
        wire::slot(r?)
    }

    /// Has the client's slot table read again when a request on the shared connection
    /// shows the cluster changing: it failed as requests fail while a node goes away or
    /// a slot moves, or it waited [`STALL_AFTER`] or more, which is how a request that
    /// redis-rs carried through a failover by itself (reconnecting, re-reading its own
    /// map, retrying) looks from here.
    fn met_change<T>(&self, began: Instant, r: &Result<T>) {
        let changing = match r {
            Err(e) => {
                e.is_connection_level()
                    || matches!(
                        e.code(),
                        Some(
                            "MOVED"
                                | "ASK"
                                | "CLUSTERDOWN"
                                | "TRYAGAIN"
                                | "MASTERDOWN"
                                | "READONLY"
                        )
                    )
            }
            Ok(_) => began.elapsed() >= STALL_AFTER,
        };
        if changing {
            self.topology.changing();
        }
    }

    /// A blocking command on a dedicated cluster connection, which goes back to the
    /// spares only when the command finished (a cancelled one is dropped with its
    /// connection, so its late reply reaches nobody). While it waits, its key's primary
    /// is watched as the shared connection's requests are (a frozen primary replaced by
    /// a failover ends it with a connection error), at the pace of [`BLOCKING_POLL`].
    pub(crate) async fn execute_dedicated(&self, cmd: &Command) -> Result<Value> {
        let epoch = self.epoch.load(Relaxed);
        let spare = lock(&self.dedicated).pop();
        let mut conn = match spare {
            Some((e, c)) if e == epoch => c,
            _ => self
                .client()
                .get_async_connection()
                .await
                .map_err(|e| self.connect_error(e.into()))?,
        };
        // The shared connection's map tells which primary the key's slot went to (opened
        // here when it is not yet; without it, nothing is watched).
        let slot = topology::first_key(cmd.meta(), cmd.args()).map(topology::key_slot);
        let shared = match slot {
            Some(_) => self.shared().await.ok(),
            None => None,
        };
        let run = async { Ok(conn.req_packed_command(cmd.cmd()).await?) };
        let result = match &shared {
            Some(shared) => self.watched(shared, shared.serving(slot), true, run).await,
            None => run.await,
        };
        if result.is_ok() {
            let mut spares = lock(&self.dedicated);
            if spares.len() < self.max_dedicated && self.epoch.load(Relaxed) == epoch {
                spares.push((epoch, conn));
            }
        }
        wire::slot(result?)
    }

    /// A pipeline: single-key reads of a slot together, every other command on its own,
    /// all at once, replies in order. A transaction goes to one node as MULTI … EXEC and
    /// must keep to one slot.
    pub(crate) async fn pipeline(&self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        if pipe.is_empty() {
            return Ok(Vec::new());
        }
        let began = Instant::now();
        let r = self.send_pipeline(pipe).await;
        self.met_change(began, &r);
        r
    }

    async fn send_pipeline(&self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        let shared = self.shared().await?;
        let conn = &shared.conn;
        let mut slots = Vec::new();
        pipe.for_each_command(|meta, args| {
            if let Some(key) = topology::first_key(meta, args) {
                slots.push(topology::key_slot(key));
            }
        });
        let targets = shared.serving(slots);
        if pipe.is_transaction() {
            let mut c = conn.clone();
            return self
                .watched(&shared, targets, false, send::pipeline(&mut c, pipe))
                .await
                .map_err(cross_slot_hint);
        }
        // Single-key reads of one slot go together as one sub-pipeline (redis-rs routes it
        // by that slot); every other command goes on its own, so redis-rs can route or
        // split it as it would alone. All at once; replies back in the caller's order.
        let cmds: Vec<&redis::Cmd> = pipe.cmds().collect();
        let mut groups: Vec<(Route, Vec<usize>)> = Vec::new();
        for (i, (cmd, meta)) in cmds.iter().zip(pipe.metas()).enumerate() {
            match single_slot_key(cmd, meta) {
                Some(key) => {
                    let route = Route::with_key(key, SlotAddr::Master);
                    match groups.iter_mut().find(|(r, _)| *r == route) {
                        Some((_, members)) => members.push(i),
                        None => groups.push((route, vec![i])),
                    }
                }
                None => groups.push((Route::new(u16::MAX, SlotAddr::Master), vec![i])),
            }
        }
        let sends = groups.into_iter().map(|(_, members)| {
            let mut c = conn.clone();
            let cmds = &cmds;
            async move {
                if members.len() == 1 {
                    let r = c
                        .req_packed_command(cmds[members[0]])
                        .await
                        .map_err(Error::from)
                        .and_then(wire::slot);
                    return vec![(members[0], r)];
                }
                let mut sub = redis::Pipeline::new();
                for &i in &members {
                    sub.add_command(cmds[i].clone());
                }
                match c.req_packed_commands(&sub, 0, members.len()).await {
                    Ok(replies) => members
                        .into_iter()
                        .zip(replies.into_iter().map(wire::slot))
                        .collect(),
                    Err(e) => {
                        let e = Error::from(e);
                        members.into_iter().map(|i| (i, Err(e.clone()))).collect()
                    }
                }
            }
        });
        let mut out: Vec<Option<Result<Value>>> = (0..cmds.len()).map(|_| None).collect();
        let replies = self
            .watched(&shared, targets, false, async { Ok(join_all(sends).await) })
            .await?;
        for (i, r) in replies.into_iter().flatten() {
            out[i] = Some(r);
        }
        Ok(out
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(Error::new(
                        ErrorKind::Protocol,
                        "a pipeline reply is missing",
                    ))
                })
            })
            .collect())
    }

    /// The primaries and their slots, as the cluster reports them now.
    pub(crate) async fn primaries(&self) -> Result<Vec<Primary>> {
        let shared = self.shared().await?;
        shared.watched(read_primaries(shared.conn.clone())).await
    }

    /// Counts each command of a pipeline on the node of its first key.
    pub(crate) fn count_pipeline(&self, pipe: &Pipeline, result: &Result<Vec<Result<Value>>>) {
        let mut i = 0;
        pipe.for_each_command(|meta, args| {
            if let Some(key) = topology::first_key(meta, args) {
                if let Some(node) = self.topology.node_for_slot(topology::key_slot(key)) {
                    let failed = match result {
                        Ok(slots) => slots.get(i).is_some_and(|s| s.is_err()),
                        Err(_) => true,
                    };
                    node.count(failed);
                }
            }
            i += 1;
        });
    }

    /// Closes the connections this module opened itself (the tracked ones of the cache).
    pub(crate) fn stop(&self) {
        self.topology.stop();
    }

    /// Commands sent to one node by address in one round trip; replies in order.
    pub(crate) async fn pipeline_on_node(
        &self,
        cmds: redis::Pipeline,
        host: &str,
        port: u16,
    ) -> Result<Vec<Value>> {
        let shared = self.shared().await?;
        let mut conn = shared.conn.clone();
        let n = cmds.len();
        let route = SingleNodeRoutingInfo::ByAddress {
            host: host.to_string(),
            port,
        };
        self.watched(&shared, shared.at(host, port), false, async {
            Ok(conn.route_pipeline(cmds, 0, n, route).await?)
        })
        .await
    }

    /// What `host:port` itself says now of where keys of its slots may be
    /// (`CLUSTER NODES` on that node): the scan walk's check after reading keys there.
    pub(crate) async fn view(&self, host: &str, port: u16) -> Result<NodeView> {
        let mut cmd = redis::Pipeline::new();
        cmd.cmd("CLUSTER").arg("NODES");
        let reply = self.pipeline_on_node(cmd, host, port).await?;
        let text = nodes_text(reply.into_iter().next().unwrap_or(Value::Nil))?;
        Ok(NodeView::parse(&text, host, port))
    }
}

/// `CLUSTER SLOTS` on any primary → the primaries and their slots.
pub(crate) async fn read_primaries(mut conn: ClusterConnection) -> Result<Vec<Primary>> {
    let reply = conn
        .route_command(
            redis::cmd("CLUSTER").arg("SLOTS").clone(),
            RoutingInfo::SingleNode(SingleNodeRoutingInfo::RandomPrimary),
        )
        .await?;
    parse_slots(reply)
}

impl PipelineConn for ClusterConnection {
    async fn send_chunk(&mut self, chunk: &redis::Pipeline) -> Result<Vec<Value>> {
        Ok(self.req_packed_commands(chunk, 0, chunk.len()).await?)
    }
}

/// The key of a command that reads exactly one key (the table's cacheable reads, which
/// name their key first), else `None`.
fn single_slot_key<'a>(cmd: &'a redis::Cmd, meta: &crate::command::Meta) -> Option<&'a [u8]> {
    if !meta.flags().contains(crate::command::Flags::CACHEABLE) {
        return None;
    }
    let mut args = cmd.args_iter();
    let _name = args.next();
    let redis::Arg::Simple(key) = args.next()? else {
        return None;
    };
    // EXISTS k1 k2 … names several keys.
    (meta.name() != "EXISTS" || args.next().is_none()).then_some(key)
}

impl ClusterEngine {
    fn connect_error(&self, e: Error) -> Error {
        if self.tls {
            if let Some(why) = crate::settings::explain_tls(e.message(), &self.seed) {
                return Error::new(ErrorKind::Connection, why);
            }
        }
        connect_error(e)
    }
}

fn connect_error(e: Error) -> Error {
    match e.kind() {
        ErrorKind::Authentication => e,
        _ => Error::new(
            ErrorKind::Connection,
            format!(
                "could not connect to the cluster: {}; are the seed nodes up and in cluster mode?",
                e.message()
            ),
        ),
    }
}

/// A cross-slot transaction: say how to keep its keys in one slot.
fn cross_slot_hint(e: Error) -> Error {
    if e.code() == Some("CROSSSLOT") || e.message().contains("crossed slots") {
        Error::new(
            ErrorKind::Cluster,
            "a transaction (MULTI/EXEC) must keep all its keys in one hash slot: give them a common hash tag, e.g. {user1}:name and {user1}:email",
        )
    } else {
        e
    }
}

/// The primaries as the node of `config` reports them (`CLUSTER SLOTS`), asked over a
/// connection of its own, not the shared cluster connection: for readers that must keep
/// working whatever state that connection is in (the cluster subscriber's placement).
pub(crate) async fn primaries_from(config: &Config) -> Result<Vec<Primary>> {
    parse_slots(ask_own(config, redis::cmd("CLUSTER").arg("SLOTS")).await?)
}

/// What a PING on a new connection to a node found.
enum Probe {
    /// It answered within [`PING_WAIT`]; the connection, to ask again.
    Answers(MultiplexedConnection),
    /// It refused the connection (no process there).
    Refused,
    /// No answer within [`PING_WAIT`] (frozen, hung, or unreachable).
    Silent,
}

/// A PING to `host:port` on a new connection of its own, within [`PING_WAIT`].
async fn probe(config: &Config, host: &str, port: u16) -> Probe {
    let node = node_config(config, host, port);
    let open = async {
        // No response timeout of redis-rs's: each use of the connection is bounded by its
        // caller, and a late answer must not break it.
        let cfg = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(PING_WAIT))
            .set_response_timeout(None);
        let mut conn = node
            .redis_client()?
            .get_multiplexed_async_connection_with_config(&cfg)
            .await?;
        conn.send_packed_command(&redis::cmd("PING")).await?;
        Ok::<_, Error>(conn)
    };
    match tokio::time::timeout(PING_WAIT, open).await {
        Ok(Ok(conn)) => Probe::Answers(conn),
        Ok(Err(e)) if e.message().contains("refused") => Probe::Refused,
        _ => Probe::Silent,
    }
}

/// A std mutex's guard, whether or not a holder panicked.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// One command to the node of `config` on a short connection of its own.
async fn ask_own(config: &Config, cmd: &redis::Cmd) -> Result<Value> {
    let cfg = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(config.response_timeout));
    let mut conn = config
        .redis_client()?
        .get_multiplexed_async_connection_with_config(&cfg)
        .await?;
    Ok(conn.send_packed_command(cmd).await?)
}

/// The text of a `CLUSTER NODES` reply.
fn nodes_text(reply: Value) -> Result<String> {
    match reply {
        Value::BulkString(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Value::VerbatimString { text, .. } => Ok(text),
        Value::SimpleString(t) => Ok(t),
        other => Err(Error::new(
            ErrorKind::Protocol,
            format!("unexpected CLUSTER NODES reply: {other:?}"),
        )),
    }
}

/// Who is who by one node's `CLUSTER NODES`: the live primaries that serve slots, and the
/// primaries flagged `fail` that serve none (a failover gave their slots away).
#[derive(Debug, Default, PartialEq, Eq)]
struct Membership {
    primaries: Vec<(String, u16)>,
    replaced: Vec<(String, u16)>,
}

impl Membership {
    fn parse(text: &str) -> Membership {
        let mut out = Membership::default();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 8 {
                continue;
            }
            let addr = f[1].split(['@', ',']).next().unwrap_or("");
            let Some((h, p)) = addr.rsplit_once(':') else {
                continue;
            };
            let Ok(p) = p.parse::<u16>() else { continue };
            let flags: Vec<&str> = f[2].split(',').collect();
            let slots = f[8..].iter().any(|x| !x.starts_with('['));
            if !flags.contains(&"master") {
                continue;
            }
            if flags.contains(&"fail") {
                if !slots {
                    out.replaced.push((h.to_string(), p));
                }
            } else if slots {
                out.primaries.push((h.to_string(), p));
            }
        }
        out
    }

    #[cfg(test)]
    fn replaced(&self, host: &str, port: u16) -> bool {
        self.replaced.iter().any(|(h, p)| h == host && *p == port)
    }
}

/// What a look at one primary found: whether it answered a PING, and whether a failover
/// had replaced it.
#[derive(Clone, Debug)]
struct Looked {
    node: (String, u16),
    at: Instant,
    silent: bool,
    replaced: bool,
}

/// A waiting request's primary: answers its PING, does not, or was replaced while it
/// did not.
enum Verdict {
    Fine,
    Silent,
    Replaced((String, u16)),
}

/// `CLUSTER SLOTS` → the primaries (address of the first node of each range).
fn parse_slots(reply: Value) -> Result<Vec<Primary>> {
    let bad = || Error::new(ErrorKind::Protocol, "unexpected CLUSTER SLOTS reply");
    let Value::Array(ranges) = reply else {
        return Err(bad());
    };
    let mut out: Vec<Primary> = Vec::new();
    for range in ranges {
        let Value::Array(parts) = range else {
            return Err(bad());
        };
        let (Some(Value::Int(a)), Some(Value::Int(b)), Some(Value::Array(node))) =
            (parts.first(), parts.get(1), parts.get(2))
        else {
            return Err(bad());
        };
        let host = match node.first() {
            Some(Value::BulkString(h)) => String::from_utf8_lossy(h).into_owned(),
            Some(Value::SimpleString(h)) => h.clone(),
            _ => return Err(bad()),
        };
        let Some(Value::Int(port)) = node.get(1) else {
            return Err(bad());
        };
        let (port, range) = (*port as u16, (*a as u16, *b as u16));
        match out.iter_mut().find(|p| p.host == host && p.port == port) {
            Some(p) => p.slots.push(range),
            None => out.push(Primary {
                host,
                port,
                slots: vec![range],
            }),
        }
    }
    Ok(out)
}

/// One node's own account of its slots (its `CLUSTER NODES`): the slots it is migrating
/// away or importing, and the slots it knows another primary serves.
///
/// Asked of the very node whose keys were just read, after reading them, it tells
/// where else a slot's keys may be, with no race against a reshard: that node's state of
/// a slot only goes "serves it" → "migrating it" → "another node serves it", and keys
/// leave it only while it is migrating. So if it still serves a slot and migrates
/// nothing, no key of the slot had left it when its keys were read. (Another node's
/// `CLUSTER SLOTS` can lag: it may still name this node after this node gave the slot
/// away, and once this node's migration ended its migrating mark is gone too; reading
/// the marks of one node and the owners of another can miss a slot between them.)
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeView {
    /// (slot, address of the node it is moving to).
    migrating: Vec<(u16, String, u16)>,
    /// (slot, address of the node it is coming from).
    importing: Vec<(u16, String, u16)>,
    /// (first, last, address) of ranges other primaries serve, as this node knows.
    others: Vec<(u16, u16, String, u16)>,
    /// The node itself.
    me: (String, u16),
}

impl NodeView {
    /// Lines: `id addr@cport[,hostname] flags master … slot-ranges… [slot->-id] [slot-<-id]`.
    fn parse(text: &str, host: &str, port: u16) -> NodeView {
        let mut addr_of = std::collections::HashMap::new();
        let lines: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .filter(|f| f.len() >= 8)
            .collect();
        for f in &lines {
            let addr = f[1].split(['@', ',']).next().unwrap_or("");
            if let Some((h, p)) = addr.rsplit_once(':') {
                if let Ok(p) = p.parse::<u16>() {
                    addr_of.insert(f[0], (h.to_string(), p));
                }
            }
        }
        let mut view = NodeView {
            me: (host.to_string(), port),
            ..NodeView::default()
        };
        for f in &lines {
            let myself = f[2].split(',').any(|x| x == "myself");
            let Some((h, p)) = addr_of.get(f[0]).cloned() else {
                continue;
            };
            for slot in &f[8..] {
                if let Some(inner) = slot.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
                    let (marks, arrow) = if let Some(x) = inner.split_once("->-") {
                        (&mut view.migrating, x)
                    } else if let Some(x) = inner.split_once("-<-") {
                        (&mut view.importing, x)
                    } else {
                        continue;
                    };
                    let (Ok(s), Some((th, tp))) = (arrow.0.parse::<u16>(), addr_of.get(arrow.1))
                    else {
                        continue;
                    };
                    if myself {
                        marks.push((s, th.clone(), *tp));
                    }
                    continue;
                }
                if myself {
                    continue;
                }
                let (a, b) = match slot.split_once('-') {
                    Some((a, b)) => (a.parse::<u16>(), b.parse::<u16>()),
                    None => (slot.parse::<u16>(), slot.parse::<u16>()),
                };
                if let (Ok(a), Ok(b)) = (a, b) {
                    view.others.push((a, b, h.clone(), p));
                }
            }
        }
        view
    }

    /// The nodes to read `slot`'s keys on after this node's, in that order (none when
    /// this node holds all of them): where it is migrating the slot, or the primary this
    /// node says serves it; for a slot it imports, the source and then this node again
    /// (keys go from the source to it, so it is read after the source).
    pub(crate) fn elsewhere(&self, slot: u16) -> Vec<(String, u16)> {
        let mut out: Vec<(String, u16)> = Vec::new();
        let mut add = |addr: (String, u16)| {
            if !out.contains(&addr) {
                out.push(addr);
            }
        };
        for (s, h, p) in &self.migrating {
            if *s == slot {
                add((h.clone(), *p));
            }
        }
        for (a, b, h, p) in &self.others {
            if *a <= slot && slot <= *b {
                add((h.clone(), *p));
            }
        }
        let imports: Vec<_> = self.importing.iter().filter(|m| m.0 == slot).collect();
        for (_, h, p) in &imports {
            add((h.clone(), *p));
        }
        if !imports.is_empty() {
            out.push(self.me.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_tells_refused_from_silent() {
        let config = Config::builder().build().unwrap();
        let rt = crate::runtime::runtime();
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        assert!(
            matches!(
                rt.block_on(probe(&config, "127.0.0.1", port)),
                Probe::Refused
            ),
            "refused"
        );
        // Accepted by the kernel (backlog), never answered: a frozen server.
        let mute = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = mute.local_addr().unwrap().port();
        assert!(
            matches!(
                rt.block_on(probe(&config, "127.0.0.1", port)),
                Probe::Silent
            ),
            "silent"
        );
    }

    #[test]
    fn membership_names_a_primary_a_failover_replaced() {
        let text = "a1 127.0.0.1:7000@17000 master,fail - 0 0 1 connected\n\
                    b2 127.0.0.1:7001@17001 myself,master - 0 0 2 connected 5461-10922\n\
                    c3 127.0.0.1:7002@17002 master - 0 0 3 connected 10923-16383\n\
                    d4 127.0.0.1:7003@17003 master - 0 0 4 connected 0-5460\n\
                    e5 127.0.0.1:7004@17004 master,fail? - 0 0 5 connected\n";
        let m = Membership::parse(text);
        assert!(m.replaced("127.0.0.1", 7000));
        assert!(!m.replaced("127.0.0.1", 7004), "only suspected, not failed");
        let ports: Vec<u16> = m.primaries.iter().map(|p| p.1).collect();
        assert_eq!(ports, vec![7001, 7002, 7003]);
    }

    #[test]
    fn a_node_view_names_where_else_a_slot_is() {
        let text = "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 [42->-b2] [6000-<-b2]\n\
                    b2 127.0.0.1:7001@17001,host2 master - 0 0 2 connected 5461-10922 [7->-a1]\n\
                    c3 127.0.0.1:7002@17002 master - 0 0 3 connected 10923-16383\n\
                    d4 127.0.0.1:7003@17003 slave a1 0 0 1 connected\n";
        let view = NodeView::parse(text, "127.0.0.1", 7000);
        let at = |p: u16| ("127.0.0.1".to_string(), p);
        assert_eq!(view.elsewhere(1), vec![]);
        assert_eq!(view.elsewhere(42), vec![at(7001)]);
        assert_eq!(view.elsewhere(7), vec![], "only its own marks count");
        assert_eq!(view.elsewhere(12000), vec![at(7002)]);
        assert_eq!(
            view.elsewhere(6000),
            vec![at(7001), at(7000)],
            "source, then itself"
        );
    }
}
