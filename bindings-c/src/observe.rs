//! The core's event stream as a C callback: operations, connections, pool waits, the
//! client-side cache and pub/sub, per client or for every client of the process.
//!
//! hiredis has no precedent for this. The decision: the callback is called
//! synchronously, on the thread where the event happened (the caller's thread for a
//! direct request, a runtime thread otherwise), with an event that lives only during
//! the call. It costs nothing while no callback is set. It must be quick and
//! thread-safe, and must not call redbridge: queue the event and export it elsewhere
//! (e.g. to an OpenTelemetry C++ meter).

use std::ffi::{c_char, c_void, CString};
use std::ptr;
use std::sync::Arc;

use redbridge::observe::{
    CacheOutcome, CloseReason, ConnectionRole, Event, Listener, Served, Server,
};

use crate::client::redbridge_client;
use crate::ffi::{arg, boundary, redbridge_status, status_of};

/// What an event is about (redbridge_event.kind).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum redbridge_event_type {
    /// A command or pipeline finished: name, batch, server, duration, status, retries,
    /// served, blocking.
    REDBRIDGE_EVENT_OPERATION = 0,
    /// A connection is open and ready after duration_ns: role, server.
    REDBRIDGE_EVENT_CONNECTION_CREATED = 1,
    /// Opening a connection failed: role, server, status.
    REDBRIDGE_EVENT_CONNECTION_FAILED = 2,
    /// A connection was closed: role, server, close_reason.
    REDBRIDGE_EVENT_CONNECTION_CLOSED = 3,
    /// A lease from the pool was obtained (or gave up: timed_out) after duration_ns.
    REDBRIDGE_EVENT_POOL_WAIT = 4,
    /// The client-side cache answered a read.
    REDBRIDGE_EVENT_CACHE_HIT = 5,
    /// A cacheable read went to the server.
    REDBRIDGE_EVENT_CACHE_MISS = 6,
    /// The server invalidated `count` cached keys (a flush counts as one).
    REDBRIDGE_EVENT_CACHE_INVALIDATION = 7,
    /// A pub/sub message arrived and was queued for a subscriber.
    REDBRIDGE_EVENT_PUBSUB_RECEIVED = 8,
    /// A pub/sub message arrived but a subscriber's queue was full: dropped.
    REDBRIDGE_EVENT_PUBSUB_DROPPED = 9,
    /// A cluster's slot table changed (the first read included): `count` slots changed
    /// primary, `batch` primaries serve slots now.
    REDBRIDGE_EVENT_TOPOLOGY_CHANGED = 10,
    /// A Sentinel-managed client moved to another node (a failover): `host`/`port` name
    /// the node it uses now (redbridge_stats.sentinel_switches counts the same moments).
    REDBRIDGE_EVENT_SENTINEL_SWITCHED = 11,
}

/// How an operation was served (redbridge_event.served).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum redbridge_served {
    /// Not an operation, or refused before sending (admission, guard).
    REDBRIDGE_SERVED_NOT_SENT = 0,
    /// From the client-side cache, no I/O.
    REDBRIDGE_SERVED_CACHE = 1,
    /// On the direct connection the calling thread drives.
    REDBRIDGE_SERVED_DIRECT = 2,
    /// By the runtime's connections (shared, pooled, cluster).
    REDBRIDGE_SERVED_RUNTIME = 3,
}

/// Which connection a connection event is about (redbridge_event.role).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum redbridge_connection_role {
    /// Not a connection event.
    REDBRIDGE_CONNECTION_NONE = 0,
    /// The shared multiplexed connection (also the cache's tracked one).
    REDBRIDGE_CONNECTION_SHARED = 1,
    /// The direct connection of a lone calling thread.
    REDBRIDGE_CONNECTION_DIRECT = 2,
    /// A connection of the pool.
    REDBRIDGE_CONNECTION_POOLED = 3,
}

/// Why a connection was closed (redbridge_event.close_reason).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum redbridge_close_reason {
    /// Not a close event.
    REDBRIDGE_CLOSE_NONE = 0,
    /// The application closed or freed the client.
    REDBRIDGE_CLOSE_APPLICATION = 1,
    /// It broke, or a request on it failed so that it could not be used again.
    REDBRIDGE_CLOSE_ERROR = 2,
    /// A request on it timed out (its late reply must never be read).
    REDBRIDGE_CLOSE_TIMEOUT = 3,
    /// A pooled connection idle longer than idle_timeout.
    REDBRIDGE_CLOSE_IDLE = 4,
}

/// One event. Valid only during the callback; strings are NUL-terminated, NULL when
/// they do not apply. Never holds an argument value, a key or a password.
#[repr(C)]
pub struct redbridge_event {
    /// What happened; says which fields below apply.
    pub kind: redbridge_event_type,
    /// The client's number, unique in the process (tells clients apart for a global
    /// callback).
    pub client_id: u64,
    /// OPERATION: the command's name ("GET", "CLIENT LIST"), or "PIPELINE" / "MULTI".
    pub name: *const c_char,
    /// OPERATION: commands in it (1, or the pipeline's length); TOPOLOGY_CHANGED: the
    /// primaries.
    pub batch: usize,
    /// The server's host (or socket path); NULL for cache and pub/sub events.
    pub host: *const c_char,
    /// The server's port (0 for a Unix socket).
    pub port: u16,
    /// The database index.
    pub db: i64,
    /// OPERATION: its duration, retries included; CONNECTION_CREATED: the time to
    /// connect; POOL_WAIT: the wait. In nanoseconds.
    pub duration_ns: u64,
    /// OPERATION and CONNECTION_FAILED: REDBRIDGE_OK or the error's status.
    pub status: redbridge_status,
    /// OPERATION: the server's error code ("WRONGTYPE") when it refused, else NULL.
    pub error_code: *const c_char,
    /// OPERATION: attempts made after the first.
    pub retries: u32,
    /// OPERATION: how it was served.
    pub served: redbridge_served,
    /// OPERATION: a blocking command (BLPOP…), whose duration includes the server's wait.
    pub blocking: bool,
    /// POOL_WAIT: it gave up after pool_timeout.
    pub timed_out: bool,
    /// CONNECTION_*: which connection.
    pub role: redbridge_connection_role,
    /// CONNECTION_CLOSED: why.
    pub close_reason: redbridge_close_reason,
    /// CACHE_INVALIDATION: keys invalidated; TOPOLOGY_CHANGED: slots that changed
    /// primary; 1 for the other cache and pub/sub events.
    pub count: u64,
}

/// `callback(userdata, event)`, called on the thread where the event happened.
pub type redbridge_event_fn =
    Option<extern "C" fn(userdata: *mut c_void, event: *const redbridge_event)>;

/// A C callback as a core listener.
struct Callback {
    callback: extern "C" fn(*mut c_void, *const redbridge_event),
    userdata: *mut c_void,
}
// SAFETY: the header says the callback and its userdata are used from any thread; making
// that safe is the caller's contract.
unsafe impl Send for Callback {}
unsafe impl Sync for Callback {}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

fn ptr_of(s: &Option<CString>) -> *const c_char {
    s.as_ref().map_or(ptr::null(), |s| s.as_ptr())
}

impl Listener for Callback {
    fn on_event(&self, client: u64, event: &Event<'_>) {
        use redbridge_event_type::*;
        let mut out = redbridge_event {
            kind: REDBRIDGE_EVENT_OPERATION,
            client_id: client,
            name: ptr::null(),
            batch: 0,
            host: ptr::null(),
            port: 0,
            db: 0,
            duration_ns: 0,
            status: redbridge_status::REDBRIDGE_OK,
            error_code: ptr::null(),
            retries: 0,
            served: redbridge_served::REDBRIDGE_SERVED_NOT_SENT,
            blocking: false,
            timed_out: false,
            role: redbridge_connection_role::REDBRIDGE_CONNECTION_NONE,
            close_reason: redbridge_close_reason::REDBRIDGE_CLOSE_NONE,
            count: 1,
        };
        let (mut name, mut code, mut server) = (None, None, None::<Server<'_>>);
        let nanos = |d: std::time::Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        match event {
            Event::Operation(op) => {
                name = Some(c_string(op.name));
                code = op.code.map(c_string);
                server = Some(op.server);
                out.batch = op.batch;
                out.duration_ns = nanos(op.duration);
                out.status = op.error.map_or(redbridge_status::REDBRIDGE_OK, status_of);
                out.retries = op.retries;
                out.served = match op.served {
                    Served::Cache => redbridge_served::REDBRIDGE_SERVED_CACHE,
                    Served::Direct => redbridge_served::REDBRIDGE_SERVED_DIRECT,
                    Served::Runtime => redbridge_served::REDBRIDGE_SERVED_RUNTIME,
                    _ => redbridge_served::REDBRIDGE_SERVED_NOT_SENT,
                };
                out.blocking = op.blocking;
            }
            Event::ConnectionCreated {
                role,
                server: s,
                took,
            } => {
                out.kind = REDBRIDGE_EVENT_CONNECTION_CREATED;
                out.role = role_of(*role);
                out.duration_ns = nanos(*took);
                server = Some(*s);
            }
            Event::ConnectionFailed {
                role,
                server: s,
                error,
            } => {
                out.kind = REDBRIDGE_EVENT_CONNECTION_FAILED;
                out.role = role_of(*role);
                out.status = status_of(*error);
                server = Some(*s);
            }
            Event::ConnectionClosed {
                role,
                server: s,
                reason,
            } => {
                out.kind = REDBRIDGE_EVENT_CONNECTION_CLOSED;
                out.role = role_of(*role);
                out.close_reason = match reason {
                    CloseReason::Application => redbridge_close_reason::REDBRIDGE_CLOSE_APPLICATION,
                    CloseReason::Timeout => redbridge_close_reason::REDBRIDGE_CLOSE_TIMEOUT,
                    CloseReason::Idle => redbridge_close_reason::REDBRIDGE_CLOSE_IDLE,
                    _ => redbridge_close_reason::REDBRIDGE_CLOSE_ERROR,
                };
                server = Some(*s);
            }
            Event::PoolWait {
                server: s,
                waited,
                timed_out,
            } => {
                out.kind = REDBRIDGE_EVENT_POOL_WAIT;
                out.duration_ns = nanos(*waited);
                out.timed_out = *timed_out;
                server = Some(*s);
            }
            Event::Cache { outcome, count } => {
                out.kind = match outcome {
                    CacheOutcome::Hit => REDBRIDGE_EVENT_CACHE_HIT,
                    CacheOutcome::Miss => REDBRIDGE_EVENT_CACHE_MISS,
                    _ => REDBRIDGE_EVENT_CACHE_INVALIDATION,
                };
                out.count = *count;
            }
            Event::PubSubReceived => out.kind = REDBRIDGE_EVENT_PUBSUB_RECEIVED,
            Event::PubSubDropped => out.kind = REDBRIDGE_EVENT_PUBSUB_DROPPED,
            Event::TopologyChanged {
                primaries,
                moved_slots,
            } => {
                out.kind = REDBRIDGE_EVENT_TOPOLOGY_CHANGED;
                out.batch = *primaries;
                out.count = *moved_slots as u64;
            }
            Event::SentinelSwitched { server: s } => {
                out.kind = REDBRIDGE_EVENT_SENTINEL_SWITCHED;
                server = Some(*s);
            }
            _ => return,
        }
        let host = server.map(|s| {
            out.port = s.port;
            out.db = s.db;
            c_string(s.host)
        });
        out.name = ptr_of(&name);
        out.error_code = ptr_of(&code);
        out.host = ptr_of(&host);
        (self.callback)(self.userdata, &out);
    }
}

fn role_of(role: ConnectionRole) -> redbridge_connection_role {
    match role {
        ConnectionRole::Shared => redbridge_connection_role::REDBRIDGE_CONNECTION_SHARED,
        ConnectionRole::Direct => redbridge_connection_role::REDBRIDGE_CONNECTION_DIRECT,
        ConnectionRole::Pooled => redbridge_connection_role::REDBRIDGE_CONNECTION_POOLED,
        _ => redbridge_connection_role::REDBRIDGE_CONNECTION_NONE,
    }
}

fn listener(callback: redbridge_event_fn, userdata: *mut c_void) -> Option<Arc<dyn Listener>> {
    callback.map(|callback| Arc::new(Callback { callback, userdata }) as Arc<dyn Listener>)
}

/// Sets the callback receiving `client`'s events (replacing the one set before); a
/// NULL callback removes it, and once that call returns the old callback is not running
/// and will not be called again (its userdata may be freed). Remove it before
/// redbridge_client_free if userdata dies with the client.
///
/// `callback(userdata, event)` runs synchronously on whichever thread the event happened
/// on (the calling thread, or one of redbridge's), possibly on several at once: it must
/// be thread-safe, quick, never block and never call redbridge. hiredis has no event
/// hook to follow; a synchronous call was chosen because it needs no thread or queue of
/// redbridge's, loses nothing, and costs nothing while unset — an exporter that must do
/// more queues the event and works elsewhere. Events from before this call are not
/// replayed.
#[no_mangle]
pub extern "C" fn redbridge_client_set_event_callback(
    client: *const redbridge_client,
    callback: redbridge_event_fn,
    userdata: *mut c_void,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?.inner.async_client();
        client.clear_listeners();
        if let Some(l) = listener(callback, userdata) {
            client.add_listener(l);
        }
        Ok(())
    })
}

/// Sets the callback receiving the events of every client of the process, made before
/// or after (replacing the one set before); NULL removes it. Same contract as
/// redbridge_client_set_event_callback (for a global exporter, as redis-py's
/// observability is global); a client with its own callback calls both, its own first.
#[no_mangle]
pub extern "C" fn redbridge_set_global_event_callback(
    callback: redbridge_event_fn,
    userdata: *mut c_void,
) -> redbridge_status {
    boundary(|| {
        redbridge::set_global_listener(listener(callback, userdata));
        Ok(())
    })
}
