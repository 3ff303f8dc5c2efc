//! The client-facing layer: the engines that carry requests, all on one request path
//! ([`request`]) and one policy ([`crate::policy`]).
//!
//! - [`Client`], the async engine: ordinary commands go to the shared multiplexed
//!   connection; blocking commands, transactions that must not share it, and (in pooled
//!   mode) every command go to a connection leased from the pool; a cluster's go to
//!   redis-rs's cluster connection.
//! - [`SyncClient`], the blocking engine: a lone caller drives the direct connection
//!   itself; concurrent callers share the async engine.
//! - [`Batcher`], requests from a foreign event loop, carried in batches (and, alone, on
//!   the loop's own connection).
//! - [`Lease`], a dedicated connection held by one caller; [`ScanStream`] and
//!   [`SyncScan`], SCAN iterations; [`Script`], Lua scripts run by SHA1 with the
//!   `EVAL` fallback ([`Client::eval_script`]); [`Monitor`] and [`SyncMonitor`], MONITOR
//!   on a connection of its own ([`Client::monitor`]); [`Subscriber`] and
//!   [`SyncSubscriber`], pub/sub on a connection of its own, resubscribed after every
//!   reconnect ([`Client::pubsub`]).
//!
//! `docs/architecture.md` says when each engine is chosen, and why.

mod batch;
mod lease;
mod monitor;
mod pubsub;
mod request;
mod scan;
mod script;
mod sentinel;
mod sync;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arc_swap::ArcSwap;
use redis::Value;
use tokio::runtime::Runtime;

pub use batch::{Batcher, Completion, Done, LoopWatch, ScanSlot};
pub use lease::{Lease, SyncLease};
pub use monitor::{Monitor, MonitorClient, MonitorEvent, SyncMonitor};
pub use pubsub::{
    Gap, GapCause, MessageKind, PubSubEvent, PubSubMessage, PubSubOptions, Subscriber,
    SubscriptionKind, Subscriptions, SyncSubscriber, DEFAULT_MAX_BYTES, DEFAULT_MAX_MESSAGES,
};
pub(crate) use request::Begin;
pub use scan::ScanStream;
pub use script::Script;
pub use sync::{SyncClient, SyncScan};

use crate::cache::{Cache, Ticket};
use crate::cluster::{key_slot, ClusterEngine, Node, NodeView};
use crate::command::{Command, Flags};
use crate::connection::{self, Deadlines, DirectSlot, Multiplexed, Pool, Pooled};
use crate::error::{Error, ErrorKind, Result};
use crate::observe::{
    ConnectionObserver, Event, InvalidationEvents, Listener, Observers, Server, Stats,
    StatsSnapshot,
};
use crate::policy::{self, run_timed, Decision, Guard, Retry, Seat};
use crate::runtime;
use crate::settings::{Config, Mode};
use crate::wire::{self, Pipeline, ScanKind, ScanOptions};

/// A Redis client. Cheap to clone (clones share everything); safe to use from many
/// tasks at once — concurrent commands are pipelined on one connection.
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
}

pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) guard: Guard,
    observers: Arc<Observers>,
    engine: ArcSwap<Engine>,
    rebuild: Mutex<()>,
    closed: AtomicBool,
    pub(crate) cache: Option<Arc<Cache>>,
    /// The connection a lone blocking caller drives itself (see [`SyncClient`]): used
    /// by `SyncClient`s and by SCAN pages, which it reads faster than redis-rs does.
    pub(crate) direct: Arc<Mutex<DirectSlot>>,
    /// The task following the sentinels (a Sentinel-managed client only).
    sentinel: Mutex<Option<runtime::AbortHandle>>,
    /// Wakes that task before its next poll: a node answered READONLY, so it may no
    /// longer be the primary (see `Client::tally`).
    pub(crate) sentinel_wake: Arc<tokio::sync::Notify>,
    /// The client's subscribers (a Sentinel-managed client only), without keeping them
    /// alive: moved with the client when Sentinel names another node.
    pub(crate) subscribers: Mutex<Vec<pubsub::SubscriberRef>>,
}

impl Drop for Shared {
    /// The last handle to the client is gone: the Sentinel follower ends now, with its
    /// subscriptions to the sentinels, rather than when it next looks (after a poll, or
    /// after the handshakes it is in the middle of; a client whose open failed was never
    /// closed). The engine's own Drop stops its connections.
    fn drop(&mut self) {
        let task = self.sentinel.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(task) = task.take() {
            task.abort();
        }
    }
}

/// What the cache says of a command about to run.
pub(crate) enum Probe {
    /// Answered locally.
    Hit(Value),
    /// Cacheable but not cached: read on the tracked connection with this ticket.
    Miss(Option<Read>),
    /// Not cacheable (a write has dropped the keys it names already).
    Bypass,
}

/// A cache miss on its way to the server: the ticket its reply must present to be
/// stored, and on a cluster the node whose cache and tracked connection it uses.
pub(crate) struct Read {
    ticket: Ticket,
    node: Option<Arc<Node>>,
}

/// Everything that belongs to one process: sockets, tasks, the runtime they run on.
pub(crate) struct Engine {
    fork_generation: u64,
    pub(crate) runtime: &'static Runtime,
    pub(crate) redis: redis::Client,
    /// The shared connection (standalone servers).
    mux: Option<Multiplexed>,
    /// The cluster's connections (cluster mode), instead of `mux`.
    pub(crate) cluster: Option<ClusterEngine>,
    pool: Pool,
    /// The response timeouts of requests on the shared connections (one timer).
    deadlines: Arc<Deadlines>,
}

impl Engine {
    fn build(
        shared_cfg: &Arc<Config>,
        stats: &Arc<Stats>,
        observers: &Arc<Observers>,
    ) -> Result<Engine> {
        let runtime = runtime::runtime();
        let _enter = runtime.enter();
        let redis = shared_cfg.redis_client_or_pending()?;
        let (mux, cluster) = if shared_cfg.cluster {
            (None, Some(ClusterEngine::new(shared_cfg, stats)?))
        } else {
            let mux = Multiplexed::start(
                shared_cfg.clone(),
                redis.clone(),
                observers.clone(),
                stats.clone(),
            );
            (Some(mux), None)
        };
        let pool = Pool::new(shared_cfg.clone(), stats.clone())?;
        runtime.spawn(pool.reaper());
        let deadlines = Deadlines::start(runtime, shared_cfg.response_timeout);
        Ok(Engine {
            fork_generation: runtime::fork_generation(),
            runtime,
            redis,
            mux,
            cluster,
            pool,
            deadlines,
        })
    }
}

impl Engine {
    /// Waits until the first shared connection is up, or returns its connect error.
    pub(crate) async fn wait_first(&self, wait: std::time::Duration) -> Result<()> {
        match (&self.mux, &self.cluster) {
            (Some(mux), _) => mux.wait_first(wait).await,
            (None, Some(cluster)) => cluster.conn().await.map(drop),
            (None, None) => Err(no_engine()),
        }
    }

    fn mux(&self) -> Result<&Multiplexed> {
        self.mux.as_ref().ok_or_else(no_engine)
    }

    fn stop(&self) {
        if let Some(mux) = &self.mux {
            mux.stop();
        }
        if let Some(cluster) = &self.cluster {
            cluster.stop();
        }
        self.pool.close();
        self.deadlines.stop();
    }
}

fn not_a_cluster() -> Error {
    Error::new(
        ErrorKind::Cluster,
        "this client is not connected to a cluster",
    )
}

fn no_engine() -> Error {
    Error::new(
        ErrorKind::Cluster,
        "this needs a standalone server's shared connection, which a cluster client does not have",
    )
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Client {
    /// Creates a client and starts connecting in the background; commands issued before
    /// the connection is ready wait for it (up to their timeout). Never blocks.
    pub fn new(config: Config) -> Result<Client> {
        let config = Arc::new(config);
        let stats = Arc::new(Stats::default());
        let observers = Arc::new(Observers::default());
        let guard = Guard::new(
            config.guard,
            config.guard_threshold,
            config.warning_sink.clone(),
        );
        // A cluster keeps one cache per node (in its topology) instead.
        let cache = (!config.cluster)
            .then(|| config.cache.clone().map(|c| Arc::new(Cache::new(c))))
            .flatten();
        if let Some(cache) = &cache {
            observers.add(cache.clone());
            observers.add(Arc::new(InvalidationEvents(stats.clone())));
        }
        sentinel::first_discovery(&config);
        let engine = Engine::build(&config, &stats, &observers)?;
        let client = Client {
            shared: Arc::new(Shared {
                config,
                stats,
                guard,
                observers,
                engine: ArcSwap::from_pointee(engine),
                rebuild: Mutex::new(()),
                closed: AtomicBool::new(false),
                cache,
                direct: Arc::default(),
                sentinel: Mutex::new(None),
                sentinel_wake: Arc::default(),
                subscribers: Mutex::new(Vec::new()),
            }),
        };
        if let Some(task) = sentinel::follow(&client.shared) {
            *client
                .shared
                .sentinel
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(task);
        }
        Ok(client)
    }

    /// Moves a Sentinel-managed client to `node` (whether it moved): records the node and
    /// builds the engine again, under the rebuild lock so that a caller waiting for the
    /// first connection sees both or neither. New connections open to the new node; the
    /// old engine closes when its last request is done (on a node that died, at their
    /// timeout). The cache is flushed (its entries came from the old node) and a move
    /// from a node (not the first one found) counted.
    pub(crate) fn move_to(&self, node: (String, u16)) -> Result<bool> {
        let shared = &self.shared;
        let _lock = shared.rebuild.lock().unwrap_or_else(|p| p.into_inner());
        let Some(s) = shared.config.sentinel() else {
            return Ok(false);
        };
        let moved_from = s.current();
        if shared.closed.load(Ordering::Acquire) || !s.set_current(node) {
            return Ok(false);
        }
        if moved_from.is_some() {
            shared.stats.sentinel_switch();
            let to = shared.config.target_or_addr();
            shared.stats.events.emit_with(|| Event::SentinelSwitched {
                server: Server::at(&to, shared.config.db),
            });
        }
        if let Some(cache) = &shared.cache {
            cache.flush();
        }
        let fresh = Arc::new(Engine::build(
            &shared.config,
            &shared.stats,
            &shared.observers,
        )?);
        drop(shared.engine.swap(fresh));
        if let Ok(mut direct) = shared.direct.lock() {
            direct.drop_conn();
        }
        // Subscriptions follow too: a demoted primary that stays up (SENTINEL FAILOVER)
        // keeps its subscribers until the sentinels kill them, and one that reconnects
        // before the switch lands there again; messages published on the new primary
        // would never reach them.
        shared
            .subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|s| s.reconnect());
        Ok(true)
    }

    /// Creates a client and waits until its shared connection is up, returning the
    /// connect error (refused, timeout, wrong password…) if it is not.
    pub async fn connect(config: Config) -> Result<Client> {
        let client = Client::new(config)?;
        let wait = client.shared.config.connect_timeout * 2;
        // For a Sentinel-managed client this first waits for the discovery.
        client.wait_connected(wait).await?;
        Ok(client)
    }

    /// Before a batch of requests is queued (the batched crossing): while the shared
    /// connection is being opened, waits until it is there or has failed, at most the
    /// connect timeout. Requests that wait for it themselves are woken together and
    /// queued in no set order; after this wait each is queued as it is first polled, in
    /// the batch's order. Their response timeouts start after it, as redis-py's
    /// socket_timeout starts once socket_connect_timeout has let the connection open.
    pub(crate) async fn shared_settled(&self) {
        let config = &self.shared.config;
        if config.mode != Mode::Multiplexed {
            return;
        }
        let Ok(engine) = self.engine() else { return };
        let Some(mux) = &engine.mux else { return };
        if mux.settled() {
            return;
        }
        // Its error, if any, is each request's own to meet.
        let _ = mux
            .get(Some(config.connect_timeout), || config.target_or_addr())
            .await;
    }

    /// Waits until the shared connection is up (at most `wait`), or returns why it is not
    /// (refused, wrong password, timeout). For bindings whose clients connect explicitly.
    pub async fn wait_connected(&self, wait: std::time::Duration) -> Result<()> {
        let start = Instant::now();
        if let Some(s) = self.shared.config.sentinel() {
            // A Sentinel-managed client made on a runtime thread finds its node in the
            // background: wait for that first (the engine is rebuilt with it).
            while s.current().is_none() && start.elapsed() < wait {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            drop(
                self.shared
                    .rebuild
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()),
            );
        }
        let left = wait.saturating_sub(start.elapsed());
        self.engine()?.wait_first(left).await
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &Config {
        &self.shared.config
    }

    /// The engine of this process, rebuilt after a fork.
    pub(crate) fn engine(&self) -> Result<Arc<Engine>> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::Connection,
                "the client is closed; create a new client",
            ));
        }
        let engine = self.shared.engine.load_full();
        if engine.fork_generation == runtime::fork_generation() {
            return Ok(engine);
        }
        let _lock = self
            .shared
            .rebuild
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let current = self.shared.engine.load_full();
        if current.fork_generation == runtime::fork_generation() {
            return Ok(current);
        }
        if let Some(cache) = &self.shared.cache {
            cache.flush();
        }
        let fresh = Arc::new(Engine::build(
            &self.shared.config,
            &self.shared.stats,
            &self.shared.observers,
        )?);
        let old = self.shared.engine.swap(fresh.clone());
        // The parent's sockets and tasks live on a runtime this process does not run.
        std::mem::forget(old);
        std::mem::forget(engine);
        std::mem::forget(current);
        Ok(fresh)
    }

    /// Sends one command and returns its reply, under the full policy: guard, routing,
    /// timeout, retries.
    pub async fn execute(&self, cmd: &Command) -> Result<Value> {
        let (result, retry) = match self.begin(cmd, Seat::Shared) {
            Ok(Begin::Hit(v)) => {
                // A hit is ready at once: take part in tokio's cooperative budget so a
                // loop of hits cannot starve the other tasks of its worker.
                tokio::task::consume_budget().await;
                return Ok(v);
            }
            Ok(Begin::Miss(mut retry, read)) => {
                (self.read_through(cmd, &mut retry, read).await, Some(retry))
            }
            Ok(Begin::Send(mut retry)) => (self.run(cmd, &mut retry, false).await, Some(retry)),
            Err(e) => (Err(e), None),
        };
        self.end(cmd, result, retry.as_ref())
    }

    /// Carries on with a command whose attempt elsewhere (the event loop's own
    /// connection) failed and may be retried: `retry` holds that attempt, so the
    /// retries are counted once and the request ends as one, with its start time.
    pub(crate) async fn resume(&self, cmd: &Command, mut retry: Retry) -> Result<Value> {
        let result = self.run(cmd, &mut retry, false).await;
        self.end(cmd, result, Some(&retry))
    }

    /// [`Client::resume`] for a pipeline.
    pub(crate) async fn resume_pipeline(
        &self,
        pipe: &Pipeline,
        mut retry: Retry,
    ) -> Result<Vec<Result<Value>>> {
        let result = self.send_pipeline(pipe, &mut retry).await;
        self.end_pipeline(pipe, result, Some(&retry))
    }

    /// Asks the cache (when it is on) about a command that is about to run.
    pub(crate) fn probe(&self, cmd: &Command) -> Probe {
        if let Some(cache) = &self.shared.cache {
            return match cache.cacheable_key(cmd) {
                Some(key) => match cache.get(cmd) {
                    Some(v) => Probe::Hit(v),
                    None => Probe::Miss(
                        cache
                            .begin(cmd, key)
                            .map(|ticket| Read { ticket, node: None }),
                    ),
                },
                None => {
                    cache.before_write(cmd);
                    Probe::Bypass
                }
            };
        }
        let Some(config) = &self.shared.config.cache else {
            return Probe::Bypass;
        };
        // A cluster: the key's node keeps its part of the cache.
        let Ok(engine) = self.engine() else {
            return Probe::Bypass;
        };
        let Some(cluster) = &engine.cluster else {
            return Probe::Bypass;
        };
        let topology = &cluster.topology;
        let Some(key) = config.cacheable_key(cmd) else {
            topology.for_each_cache(|cache| cache.before_write(cmd));
            return Probe::Bypass;
        };
        let Some(node) = topology.node_for_slot(key_slot(key)) else {
            return Probe::Bypass;
        };
        let Some(cache) = &node.cache else {
            return Probe::Bypass;
        };
        if let Some(v) = cache.get(cmd) {
            return Probe::Hit(v);
        }
        match cache.begin(cmd, key) {
            Some(ticket) => Probe::Miss(Some(Read {
                ticket,
                node: Some(node.clone()),
            })),
            // The node's tracked connection is not up: read uncached meanwhile.
            None => Probe::Bypass,
        }
    }

    /// A cache miss: read on the tracked connection (the shared one, or on a cluster the
    /// key's node's), store the reply if the ticket is still valid.
    pub(crate) async fn read_through(
        &self,
        cmd: &Command,
        retry: &mut Retry,
        read: Option<Read>,
    ) -> Result<Value> {
        let Some(Read {
            ticket,
            node: Some(node),
        }) = read
        else {
            let result = self.run(cmd, retry, true).await;
            if let (Some(cache), Some(read)) = (&self.shared.cache, read) {
                cache.complete(read.ticket, result.as_ref().ok());
            }
            return result;
        };
        let cache = node
            .cache
            .clone()
            .expect("a cluster read ticket comes from a node cache");
        let result = self.read_on_node(cmd, retry, &node).await;
        match &result {
            Ok((v, true)) => cache.complete(ticket, Some(v)),
            _ => cache.complete(ticket, None),
        }
        result.map(|(v, _)| v)
    }

    /// A cacheable read on a cluster: on the key's node's tracked connection, or when that
    /// node cannot answer for the key now, routed by redis-rs (then `false`: not tracked,
    /// not to be stored).
    async fn read_on_node(
        &self,
        cmd: &Command,
        retry: &mut Retry,
        node: &Node,
    ) -> Result<(Value, bool)> {
        let engine = self.engine()?;
        let cluster = engine.cluster.as_ref().ok_or_else(not_a_cluster)?;
        let timeout = policy::response_timeout(cmd, &self.shared.config);
        self.retrying(retry, || async {
            let r = match cluster.topology.read_tracked(node, cmd, timeout).await {
                Some(r) => r.map(|v| (v, true)),
                None => engine
                    .deadlines
                    .run_timed(cluster.execute(cmd), Instant::now(), timeout, cmd.name())
                    .await
                    .map(|v| (v, false)),
            };
            node.count(r.is_err());
            r
        })
        .await
    }

    /// A cached reply for `cmd`, answered on the caller's thread with no I/O (counted as
    /// a request and a hit), or `None`: then send it with [`Client::execute`]. Lets async
    /// bindings serve hits without a trip through the runtime. Only the lookup: a miss
    /// here is not counted (the execute that follows counts it).
    pub fn cached(&self, cmd: &Command) -> Option<Value> {
        let v = match &self.shared.cache {
            Some(cache) => {
                cache.cacheable_key(cmd)?;
                cache.get(cmd)?
            }
            None => {
                let key = self.shared.config.cache.as_ref()?.cacheable_key(cmd)?;
                let engine = self.engine().ok()?;
                let node = engine
                    .cluster
                    .as_ref()?
                    .topology
                    .node_for_slot(key_slot(key))?;
                node.cache.as_ref()?.get(cmd)?
            }
        };
        self.shared.stats.request();
        self.report_hit(cmd, None);
        Some(wire::normal_form(cmd.meta().shape(), v))
    }

    /// Empties the client-side cache (no-op when it is off); on a cluster, every node's.
    pub fn cache_clear(&self) {
        self.for_each_cache(|cache| cache.flush());
    }

    /// Calls `f` with every part of the cache: the one cache of a standalone client, or
    /// each node's on a cluster (nothing when the cache is off).
    fn for_each_cache(&self, mut f: impl FnMut(&Cache)) {
        if let Some(cache) = &self.shared.cache {
            return f(cache);
        }
        if self.shared.config.cache.is_none() {
            return;
        }
        if let Ok(engine) = self.engine() {
            if let Some(cluster) = &engine.cluster {
                cluster.topology.for_each_cache(f);
            }
        }
    }

    /// Carries one command that passed [`Client::begin`] on the runtime's engines, with
    /// its retries. `tracked` keeps it on the shared (tracked) connection whatever the
    /// mode (a cache miss).
    pub(crate) async fn run(
        &self,
        cmd: &Command,
        retry: &mut Retry,
        tracked: bool,
    ) -> Result<Value> {
        let engine = self.engine()?;
        let config = &self.shared.config;
        let timeout = policy::response_timeout(cmd, config);
        let dedicated =
            !tracked && (config.mode == Mode::Pooled || cmd.flags().contains(Flags::BLOCKING));
        self.retrying(retry, || async {
            if let Some(cluster) = &engine.cluster {
                // redis-rs routes by slot and follows MOVED/ASK; a blocking command
                // gets a cluster connection of its own.
                let r = if cmd.flags().contains(Flags::BLOCKING) {
                    run_timed(cluster.execute_dedicated(cmd), timeout, cmd.name()).await
                } else {
                    let start = Instant::now();
                    let sent = cluster.execute(cmd);
                    engine
                        .deadlines
                        .run_timed(sent, start, timeout, cmd.name())
                        .await
                };
                if let Some(node) = cluster.topology.node_for(cmd) {
                    node.count(r.is_err());
                }
                return r;
            }
            if dedicated {
                let mut conn = self.pooled(&engine).await?;
                conn.run(cmd, timeout).await
            } else {
                self.on_shared(&engine, cmd, timeout).await
            }
        })
        .await
    }

    /// Runs `attempt` until it succeeds or the policy gives up, sleeping the backoff
    /// between attempts. The one retry loop of the async engine.
    async fn retrying<T, F, Fut>(&self, retry: &mut Retry, mut attempt: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        loop {
            match attempt().await {
                Ok(v) => return Ok(v),
                Err(e) => match retry.on_error(e) {
                    Decision::RetryAfter(d) => {
                        self.shared.stats.retry();
                        tokio::time::sleep(d).await;
                    }
                    Decision::Fail(e) => return Err(e),
                },
            }
        }
    }

    async fn on_shared(
        &self,
        engine: &Engine,
        cmd: &Command,
        timeout: Option<std::time::Duration>,
    ) -> Result<Value> {
        let start = Instant::now();
        let mux = engine.mux()?;
        let waiting = mux.get(timeout, || self.shared.config.target_or_addr());
        let (generation, mut conn) = if self.shared.config.sentinel().is_some() {
            // A Sentinel-managed client that moves to another node while this request
            // waits for a connection to the old one (dead: its reconnects are refused)
            // sends it on the new node instead of waiting out its timeout: nothing was
            // sent, so that is safe for any command.
            tokio::pin!(waiting);
            loop {
                tokio::select! {
                    // The connection first: when it is there, no timer is made.
                    biased;
                    got = &mut waiting => break got?,
                    _ = tokio::time::sleep(std::time::Duration::from_millis(10)) => {
                        let now = self.shared.engine.load_full();
                        if !std::ptr::eq(&*now, engine) {
                            let left = timeout.map(|t| t.saturating_sub(start.elapsed()));
                            return Box::pin(self.on_shared(&now, cmd, left)).await;
                        }
                    }
                }
            }
        } else {
            waiting.await?
        };
        // The deadline counts from the start, the wait for the connection included; a
        // timeout error reports the command's whole budget.
        let sent = conn.send_packed_command(cmd.cmd());
        let result = engine
            .deadlines
            .run_timed(sent, start, timeout, cmd.name())
            .await
            .and_then(wire::slot);
        if let Err(e) = &result {
            if e.is_connection_level() {
                mux.report_broken(generation);
            }
        }
        result
    }

    /// Sends a pipeline (or a MULTI/EXEC transaction) and returns each command's reply
    /// or error in its slot. Retried as a whole only when every command is safe to repeat.
    pub async fn pipeline(&self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        let (result, retry) = match self.begin_pipeline(pipe) {
            Ok(mut retry) => (self.send_pipeline(pipe, &mut retry).await, Some(retry)),
            Err(e) => (Err(e), None),
        };
        self.end_pipeline(pipe, result, retry.as_ref())
    }

    /// Carries a pipeline that passed [`Client::begin_pipeline`] on the runtime's
    /// engines, with its retries.
    pub(crate) async fn send_pipeline(
        &self,
        pipe: &Pipeline,
        retry: &mut Retry,
    ) -> Result<Vec<Result<Value>>> {
        let engine = self.engine()?;
        let config = &self.shared.config;
        let timeout = policy::pipeline_timeout(pipe, config);
        let dedicated =
            engine.cluster.is_none() && (config.mode == Mode::Pooled || pipe.needs_dedicated());
        self.retrying(retry, || async {
            if dedicated {
                let mut conn = self.pooled(&engine).await?;
                return conn.pipeline(pipe).await;
            }
            if let Some(cluster) = &engine.cluster {
                let start = Instant::now();
                let sent = cluster.pipeline(pipe);
                let r = engine
                    .deadlines
                    .run_timed(sent, start, timeout, "pipeline")
                    .await;
                cluster.count_pipeline(pipe, &r);
                return r;
            }
            let mux = engine.mux()?;
            let start = Instant::now();
            let (generation, mut conn) = mux.get(timeout, || config.target_or_addr()).await?;
            let sent = connection::send::pipeline(&mut conn, pipe);
            let r = engine
                .deadlines
                .run_timed(sent, start, timeout, "pipeline")
                .await;
            if matches!(&r, Err(e) if e.is_connection_level()) {
                mux.report_broken(generation);
            }
            r
        })
        .await
    }

    /// Leases a dedicated connection (for WATCH … MULTI … EXEC, or to run blocking
    /// commands back to back). Waits at most `pool_timeout`.
    pub async fn lease(&self) -> Result<Lease> {
        let result = async {
            let engine = self.engine()?;
            let conn = self.pooled(&engine).await?;
            Ok(Lease::new(self.clone(), conn))
        }
        .await;
        self.count_error(result)
    }

    /// A connection from the pool (not on a cluster), waiting at most `pool_timeout`.
    async fn pooled(&self, engine: &Engine) -> Result<Pooled> {
        if engine.cluster.is_some() {
            return Err(Error::new(
                ErrorKind::Cluster,
                "WATCH and leased connections are not supported on a cluster yet; use a transaction pipeline (MULTI/EXEC) whose keys share a hash tag",
            ));
        }
        engine.pool.lease().await
    }

    /// A lazy SCAN / SSCAN / HSCAN / ZSCAN iteration. On a cluster, a SCAN of keys walks
    /// every primary, each key once.
    pub fn scan(&self, kind: ScanKind, opts: ScanOptions) -> Result<ScanStream> {
        let pages = scan::Pages::new(self, kind, opts)?;
        Ok(ScanStream::new(self.clone(), pages))
    }

    /// The cluster's primaries and their slots, now.
    pub(crate) async fn cluster_primaries(&self) -> Result<Vec<crate::cluster::Primary>> {
        let engine = self.engine()?;
        let cluster = engine.cluster.as_ref().ok_or_else(not_a_cluster)?;
        let timeout = Some(self.shared.config.response_timeout);
        run_timed(cluster.primaries(), timeout, "CLUSTER SLOTS").await
    }

    /// The keys of slots `first..=last` on the node `host:port` (one round trip of
    /// `CLUSTER GETKEYSINSLOT`), one list per slot.
    pub(crate) async fn cluster_slot_keys(
        &self,
        host: &str,
        port: u16,
        first: u16,
        last: u16,
    ) -> Result<Vec<Vec<Value>>> {
        let result = async {
            let engine = self.engine()?;
            let cluster = engine.cluster.as_ref().ok_or_else(not_a_cluster)?;
            let mut cmds = redis::Pipeline::new();
            for slot in first..=last {
                cmds.cmd("CLUSTER")
                    .arg("GETKEYSINSLOT")
                    .arg(slot)
                    .arg(i32::MAX);
            }
            let timeout = Some(self.shared.config.response_timeout);
            let replies = run_timed(
                cluster.pipeline_on_node(cmds, host, port),
                timeout,
                "CLUSTER GETKEYSINSLOT",
            )
            .await?;
            replies
                .into_iter()
                .map(|r| match wire::slot(r)? {
                    Value::Array(keys) => Ok(keys),
                    other => Err(Error::new(
                        ErrorKind::Protocol,
                        format!("unexpected CLUSTER GETKEYSINSLOT reply: {other:?}"),
                    )),
                })
                .collect()
        }
        .await;
        self.tally(result)
    }

    /// What `host:port` itself says now of its slots (migrating, importing, served by
    /// another primary).
    pub(crate) async fn cluster_view(&self, host: &str, port: u16) -> Result<NodeView> {
        let engine = self.engine()?;
        let cluster = engine.cluster.as_ref().ok_or_else(not_a_cluster)?;
        let timeout = Some(self.shared.config.response_timeout);
        run_timed(cluster.view(host, port), timeout, "CLUSTER NODES").await
    }

    /// The client's counters and its pool's state.
    pub fn stats(&self) -> StatsSnapshot {
        let engine = self.shared.engine.load();
        let pool = engine.pool.state();
        let mut cache = self.shared.cache.as_ref().map(|c| c.stats());
        let mut nodes = Vec::new();
        if let Some(cluster) = &engine.cluster {
            cache = cluster.topology.cache_total();
            nodes = cluster.topology.node_stats();
        }
        let mut snapshot = self.shared.stats.snapshot(pool, cache);
        snapshot.nodes = nodes;
        snapshot
    }

    /// Registers a hook on the shared connection's life (push messages, reconnects).
    pub fn add_observer(&self, observer: Arc<dyn ConnectionObserver>) {
        self.shared.observers.add(observer);
    }

    /// Registers a listener of this client's event stream (operations, connections,
    /// pool waits, cache, pub/sub); see [`crate::observe::Event`]. Listening costs a
    /// clock read per request; not listening costs nothing measurable.
    pub fn add_listener(&self, listener: Arc<dyn Listener>) {
        self.shared.stats.events.add(listener);
    }

    /// Removes this client's listeners (the process-wide one, if any, stays).
    pub fn clear_listeners(&self) {
        self.shared.stats.events.clear();
    }

    /// This client's number, unique in the process, as events name it to listeners
    /// that tell clients apart.
    pub fn client_id(&self) -> u64 {
        self.shared.stats.events.client_id()
    }

    /// Generation of the shared connection now up (1 for the first, +1 per reconnect).
    pub fn connection_generation(&self) -> Option<u64> {
        self.shared
            .engine
            .load()
            .mux
            .as_ref()
            .and_then(|m| m.generation())
    }

    /// Closes the client: the shared connection and every pooled connection. Later
    /// commands fail with a connection error. Idempotent.
    pub fn close(&self) {
        if !self.shared.closed.swap(true, Ordering::AcqRel) {
            self.shared.engine.load().stop();
            if let Some(task) = self
                .shared
                .sentinel
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
            {
                task.abort();
            }
        }
        // A caller busy on it drops it when it next looks (the client is closed).
        if let Ok(mut direct) = self.shared.direct.try_lock() {
            direct.drop_conn();
        }
    }

    /// True once [`Client::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.shared.config)
            .field("closed", &self.is_closed())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn futures_are_send() {
        // Bindings spawn these on the runtime: they must be Send.
        let client = Client::new(Config::builder().build().unwrap()).unwrap();
        let pipe = Pipeline::new(false);
        let cmd = Command::new(["PING"]).unwrap();
        assert_send(&client.pipeline(&pipe));
        assert_send(&client.execute(&cmd));
        assert_send(&client.lease());
        client.close();
    }
}
