//! The event stream: what happens to a client, told to whoever listens (the bindings'
//! OpenTelemetry exporters, a C callback, a test).
//!
//! Free when no one listens: every place that reports asks [`Events::on`] first, one or
//! two relaxed atomic loads, and only then reads the clock or builds an event. Events
//! borrow what they name (no allocation) and carry no argument values and no secrets: a
//! command is named by its table name only.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::error::ErrorKind;
use crate::settings::{Addr, Config};

/// Receives a client's events. Called on whichever thread the event happened on (the
/// caller's, a runtime worker, a connection's reader): keep it short and never block;
/// queue the event if it needs more. A panic in it is caught and the event dropped.
pub trait Listener: Send + Sync {
    /// One event of client number `client` ([`Events::client_id`]); its borrowed parts
    /// live only for this call.
    fn on_event(&self, client: u64, event: &Event<'_>);
}

/// Which server an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Server<'a> {
    /// Host name or address as configured (or a cluster node's announced address); the
    /// socket path for a Unix socket.
    pub host: &'a str,
    /// TCP port; 0 for a Unix socket.
    pub port: u16,
    /// Database index the connection selects.
    pub db: i64,
}

impl<'a> Server<'a> {
    /// The server `config` names (a cluster: its first seed).
    pub fn of(config: &'a Config) -> Server<'a> {
        Server::at(&config.addr, config.db)
    }

    /// The server at `addr`, database `db`.
    pub(crate) fn at(addr: &'a Addr, db: i64) -> Server<'a> {
        match addr {
            Addr::Tcp { host, port } => Server {
                host,
                port: *port,
                db,
            },
            Addr::Unix(path) => Server {
                host: path.to_str().unwrap_or("unix"),
                port: 0,
                db,
            },
        }
    }
}

/// How an operation was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Served {
    /// From the client-side cache, on the caller's thread, no I/O.
    Cache,
    /// On a direct connection the caller (or its event loop) drove itself.
    Direct,
    /// By the runtime's connections (shared, pooled, leased or cluster).
    Runtime,
    /// Nowhere: refused before sending (admission, guard), or no connection.
    NotSent,
}

impl Served {
    /// Its name in bindings' events and attributes: `cache`, `direct`, `runtime`,
    /// `not_sent`.
    pub fn name(self) -> &'static str {
        match self {
            Served::Cache => "cache",
            Served::Direct => "direct",
            Served::Runtime => "runtime",
            Served::NotSent => "not_sent",
        }
    }
}

/// One finished command or pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operation<'a> {
    /// The command's name from the table (`GET`, `CLIENT LIST`…), `PIPELINE` or `MULTI`
    /// for a pipeline or transaction. Never an argument.
    pub name: &'a str,
    /// Commands in it: 1, or the pipeline's length.
    pub batch: usize,
    /// Where it went (a cluster: the node of its first key, else the configured seed).
    pub server: Server<'a>,
    /// From the request path's start to its end, retries and backoff included.
    pub duration: Duration,
    /// The final error's kind; `None` when it succeeded (a pipeline whose slots hold
    /// server errors succeeded).
    pub error: Option<ErrorKind>,
    /// The server's error code (`WRONGTYPE`, `NOSCRIPT`…) when the server refused it.
    pub code: Option<&'a str>,
    /// Attempts made after the first.
    pub retries: u32,
    /// How it was served.
    pub served: Served,
    /// A blocking command (BLPOP…), whose duration includes the server's wait.
    pub blocking: bool,
}

/// Which of a client's connections an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionRole {
    /// The shared multiplexed connection (also the client-side cache's tracked one).
    Shared,
    /// The direct connection a lone sync caller drives.
    Direct,
    /// A dedicated connection of the pool (leases, blocking commands, pooled mode).
    Pooled,
}

impl ConnectionRole {
    /// Its name in bindings' events and attributes: `shared`, `direct`, `pooled`.
    pub fn name(self) -> &'static str {
        match self {
            ConnectionRole::Shared => "shared",
            ConnectionRole::Direct => "direct",
            ConnectionRole::Pooled => "pooled",
        }
    }
}

/// Why a connection was closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The application closed the client (or dropped it).
    Application,
    /// It broke (I/O error, the server closed it) or a request on it failed so that it
    /// could not be used again.
    Error,
    /// A request on it timed out; its late reply must never be read.
    Timeout,
    /// A pooled connection idle longer than `idle_timeout`.
    Idle,
}

/// What the client-side cache did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheOutcome {
    /// A read answered from the cache.
    Hit,
    /// A cacheable read that went to the server.
    Miss,
    /// Keys the server said changed (a flush counts as one).
    Invalidation,
}

/// One thing that happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event<'a> {
    /// A command or pipeline finished (a cache hit included).
    Operation(Operation<'a>),
    /// A connection is open and ready (handshake done) after `took`.
    ConnectionCreated {
        /// Which connection.
        role: ConnectionRole,
        /// To which server.
        server: Server<'a>,
        /// From starting to connect to ready.
        took: Duration,
    },
    /// Opening a connection failed.
    ConnectionFailed {
        /// Which connection.
        role: ConnectionRole,
        /// To which server.
        server: Server<'a>,
        /// Why (kind only: the message may name the server's reply).
        error: ErrorKind,
    },
    /// A connection was closed.
    ConnectionClosed {
        /// Which connection.
        role: ConnectionRole,
        /// To which server.
        server: Server<'a>,
        /// Why.
        reason: CloseReason,
    },
    /// A lease from the pool was asked for and obtained (or not) after `waited` (only
    /// while someone listens is the pool traced: its connections' events need it).
    PoolWait {
        /// The pool's server.
        server: Server<'a>,
        /// From asking to having a connection (a new one's connect included).
        waited: Duration,
        /// It gave up after `pool_timeout`.
        timed_out: bool,
    },
    /// The client-side cache's outcome for `count` keys.
    Cache {
        /// What happened.
        outcome: CacheOutcome,
        /// How many (1 for a hit or miss).
        count: u64,
    },
    /// A cluster's slot table was read and differs from the one before (the first read
    /// included).
    TopologyChanged {
        /// Primaries serving slots now.
        primaries: usize,
        /// Slots whose primary changed (all 16384 on the first read).
        moved_slots: usize,
    },
    /// A Sentinel-managed client moved to another node (the sentinels named a new
    /// primary, or a replica client's replica went away): `server` is the node it uses
    /// now. The same moment `Stats::sentinel_switches` counts.
    SentinelSwitched {
        /// The node the client uses from now on.
        server: Server<'a>,
    },
    /// A pub/sub message arrived and was queued for a subscriber.
    PubSubReceived,
    /// A pub/sub message arrived but a subscriber's queue was full: dropped.
    PubSubDropped,
}

static GLOBAL_ON: AtomicBool = AtomicBool::new(false);
static GLOBAL: RwLock<Option<Arc<dyn Listener>>> = RwLock::new(None);
static NEXT_CLIENT: AtomicU64 = AtomicU64::new(1);

/// Sets (or with `None` removes) the process-wide listener, which sees the events of
/// every client, made before or after. For bindings whose API is global (redis-py's
/// `get_observability_instance().init(...)`). When it returns, the listener it replaced
/// is not running and will not be called again.
pub fn set_global_listener(listener: Option<Arc<dyn Listener>>) {
    let mut g = GLOBAL.write().unwrap_or_else(|p| p.into_inner());
    GLOBAL_ON.store(listener.is_some(), Relaxed);
    *g = listener;
}

/// The listeners of one client: its own, plus the global one.
pub struct Events {
    id: u64,
    on: AtomicBool,
    listeners: RwLock<Vec<Arc<dyn Listener>>>,
}

impl Default for Events {
    fn default() -> Events {
        Events {
            id: NEXT_CLIENT.fetch_add(1, Relaxed),
            on: AtomicBool::new(false),
            listeners: RwLock::default(),
        }
    }
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events")
            .field("id", &self.id)
            .field("on", &self.on())
            .finish()
    }
}

impl Events {
    /// Whether anyone listens: the one check on every hot path.
    #[inline]
    pub fn on(&self) -> bool {
        self.on.load(Relaxed) || GLOBAL_ON.load(Relaxed)
    }

    /// This client's number, unique in the process (for listeners that tell clients
    /// apart, such as a pool name).
    pub fn client_id(&self) -> u64 {
        self.id
    }

    /// Registers `listener` for this client's later events.
    pub fn add(&self, listener: Arc<dyn Listener>) {
        let mut l = self.listeners.write().unwrap_or_else(|p| p.into_inner());
        l.push(listener);
        self.on.store(true, Relaxed);
    }

    /// Removes every listener of this client (the global one stays). When it returns,
    /// none of them is running or will be called again.
    pub fn clear(&self) {
        let mut l = self.listeners.write().unwrap_or_else(|p| p.into_inner());
        l.clear();
        self.on.store(false, Relaxed);
    }

    /// Tells every listener; call only after [`Events::on`] said yes. A listener's panic
    /// is caught, so it can never unwind into a connection's task or the caller.
    pub fn emit(&self, event: &Event<'_>) {
        let deliver = |l: &dyn Listener| {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                l.on_event(self.id, event)
            }));
        };
        if self.on.load(Relaxed) {
            for l in self
                .listeners
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
            {
                deliver(l.as_ref());
            }
        }
        if GLOBAL_ON.load(Relaxed) {
            // Delivered under the lock, so once a listener is removed no call of it runs.
            if let Some(l) = GLOBAL.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
                deliver(l.as_ref());
            }
        }
    }

    /// Emits the event `make` builds, only when someone listens.
    #[inline]
    pub fn emit_with<'a>(&self, make: impl FnOnce() -> Event<'a>) {
        if self.on() {
            self.emit(&make());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Count(Mutex<u32>);
    impl Listener for Count {
        fn on_event(&self, _: u64, _: &Event<'_>) {
            *self.0.lock().unwrap() += 1;
        }
    }
    struct Panics;
    impl Listener for Panics {
        fn on_event(&self, _: u64, _: &Event<'_>) {
            panic!("listener bug");
        }
    }

    #[test]
    fn off_until_a_listener_is_added_and_panics_stay_inside() {
        let events = Events::default();
        let built = std::cell::Cell::new(false);
        events.emit_with(|| {
            built.set(true);
            Event::PubSubReceived
        });
        assert!(!built.get(), "no listener: the event is not even built");
        let count = Arc::new(Count::default());
        events.add(Arc::new(Panics));
        events.add(count.clone());
        events.emit_with(|| Event::PubSubDropped);
        assert_eq!(
            *count.0.lock().unwrap(),
            1,
            "the panicking listener did not stop it"
        );
        events.clear();
        events.emit_with(|| Event::PubSubDropped);
        assert_eq!(*count.0.lock().unwrap(), 1);
    }
}
