//! The core's event stream to Python, for `redbridge.observability`.
//!
//! One process-wide core listener copies each event into a bounded queue: the thread
//! the event happened on (a runtime worker, a connection's reader, the caller) never
//! takes the GIL. The Python side drains the queue in batches (`observe_take`), from
//! its own thread and before a metric reader collects, and records them through the
//! OpenTelemetry API. When the queue is full, events are dropped and counted.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use redbridge::observe::{
    CacheOutcome, CloseReason, ConnectionRole, Event, Listener, Served, Server,
};

use crate::error::class_of;

/// Where a server's events are: host, port, db.
type Place = (String, u16, i64);

/// An event, owned, as it waits in the queue.
enum Queued {
    Operation {
        client: u64,
        name: String,
        batch: usize,
        place: Place,
        seconds: f64,
        /// Exception class name and core kind name.
        error: Option<(&'static str, &'static str)>,
        code: Option<String>,
        retries: u32,
        served: &'static str,
        blocking: bool,
    },
    Connection {
        client: u64,
        what: &'static str,
        role: &'static str,
        place: Place,
        /// Create time for `created`, else 0.
        seconds: f64,
        /// Close reason or error class.
        detail: Option<&'static str>,
    },
    PoolWait {
        client: u64,
        place: Place,
        seconds: f64,
        timed_out: bool,
    },
    Cache {
        client: u64,
        outcome: &'static str,
        count: u64,
    },
    PubSub {
        client: u64,
        what: &'static str,
    },
}

fn place(s: &Server<'_>) -> Place {
    (s.host.to_string(), s.port, s.db)
}

fn role(r: ConnectionRole) -> &'static str {
    match r {
        ConnectionRole::Shared => "shared",
        ConnectionRole::Direct => "direct",
        ConnectionRole::Pooled => "pooled",
        _ => "other",
    }
}

impl Queued {
    /// The owned copy of `event`, or `None` for events Python does not use.
    fn of(client: u64, event: &Event<'_>) -> Option<Queued> {
        Some(match event {
            Event::Operation(op) => Queued::Operation {
                client,
                name: op.name.to_string(),
                batch: op.batch,
                place: place(&op.server),
                seconds: op.duration.as_secs_f64(),
                error: op.error.map(|k| (class_of(k, op.code, ""), k.name())),
                code: op.code.map(str::to_string),
                retries: op.retries,
                served: match op.served {
                    Served::Cache => "cache",
                    Served::Direct => "direct",
                    Served::Runtime => "runtime",
                    _ => "not_sent",
                },
                blocking: op.blocking,
            },
            Event::ConnectionCreated {
                role: r,
                server,
                took,
            } => Queued::Connection {
                client,
                what: "created",
                role: role(*r),
                place: place(server),
                seconds: took.as_secs_f64(),
                detail: None,
            },
            Event::ConnectionFailed {
                role: r,
                server,
                error,
            } => Queued::Connection {
                client,
                what: "failed",
                role: role(*r),
                place: place(server),
                seconds: 0.0,
                detail: Some(class_of(*error, None, "")),
            },
            Event::ConnectionClosed {
                role: r,
                server,
                reason,
            } => Queued::Connection {
                client,
                what: "closed",
                role: role(*r),
                place: place(server),
                seconds: 0.0,
                detail: Some(match reason {
                    CloseReason::Application => "application_close",
                    CloseReason::Timeout => "timeout",
                    CloseReason::Idle => "idle",
                    _ => "error",
                }),
            },
            Event::PoolWait {
                server,
                waited,
                timed_out,
            } => Queued::PoolWait {
                client,
                place: place(server),
                seconds: waited.as_secs_f64(),
                timed_out: *timed_out,
            },
            Event::Cache { outcome, count } => Queued::Cache {
                client,
                outcome: match outcome {
                    CacheOutcome::Hit => "hit",
                    CacheOutcome::Miss => "miss",
                    _ => "invalidation",
                },
                count: *count,
            },
            Event::PubSubReceived => Queued::PubSub {
                client,
                what: "received",
            },
            Event::PubSubDropped => Queued::PubSub {
                client,
                what: "dropped",
            },
            _ => return None,
        })
    }

    /// The tuple `redbridge.observability` reads: its kind first, then the client; a
    /// server as `(host, port, db)`.
    fn into_py(self, py: Python<'_>) -> PyResult<Bound<'_, PyTuple>> {
        match self {
            Queued::Operation {
                client,
                name,
                batch,
                place,
                seconds,
                error,
                code,
                retries,
                served,
                blocking,
            } => {
                let (error_type, kind) = error.unzip();
                (
                    "operation",
                    client,
                    name,
                    batch,
                    place,
                    seconds,
                    error_type,
                    kind,
                    code,
                    retries,
                    served,
                    blocking,
                )
                    .into_pyobject(py)
            }
            Queued::Connection {
                client,
                what,
                role,
                place,
                seconds,
                detail,
            } => ("connection", client, what, role, place, seconds, detail).into_pyobject(py),
            Queued::PoolWait {
                client,
                place,
                seconds,
                timed_out,
            } => ("pool_wait", client, place, seconds, timed_out).into_pyobject(py),
            Queued::Cache {
                client,
                outcome,
                count,
            } => ("cache", client, outcome, count).into_pyobject(py),
            Queued::PubSub { client, what } => ("pubsub", client, what).into_pyobject(py),
        }
    }
}

/// The queue between the core's threads and Python.
struct Queue {
    events: Mutex<VecDeque<Queued>>,
    ready: Condvar,
    capacity: usize,
    dropped: std::sync::atomic::AtomicU64,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, VecDeque<Queued>> {
        self.events.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Listener for Queue {
    fn on_event(&self, client: u64, event: &Event<'_>) {
        let Some(q) = Queued::of(client, event) else {
            return;
        };
        let mut events = self.lock();
        if events.len() >= self.capacity {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        events.push_back(q);
        drop(events);
        self.ready.notify_one();
    }
}

static QUEUE: Mutex<Option<Arc<Queue>>> = Mutex::new(None);

fn current() -> Option<Arc<Queue>> {
    QUEUE.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Starts listening to every client's events, queuing at most `capacity` of them.
#[pyfunction]
pub(crate) fn observe_start(capacity: usize) {
    let queue = Arc::new(Queue {
        events: Mutex::new(VecDeque::new()),
        ready: Condvar::new(),
        capacity: capacity.max(1),
        dropped: Default::default(),
    });
    *QUEUE.lock().unwrap_or_else(|p| p.into_inner()) = Some(queue.clone());
    redbridge::set_global_listener(Some(queue));
}

/// Stops listening; what is still queued is discarded and waiting takers return.
#[pyfunction]
pub(crate) fn observe_stop() {
    redbridge::set_global_listener(None);
    if let Some(q) = QUEUE.lock().unwrap_or_else(|p| p.into_inner()).take() {
        q.lock().clear();
        q.ready.notify_all();
    }
}

/// Waits up to `timeout` seconds (GIL released) until an event is queued; whether one is.
#[pyfunction]
pub(crate) fn observe_wait(py: Python<'_>, timeout: f64) -> bool {
    let Some(queue) = current() else {
        return false;
    };
    let wait = Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or(Duration::ZERO);
    py.detach(|| {
        let events = queue.lock();
        if !events.is_empty() || wait.is_zero() {
            return !events.is_empty();
        }
        let (events, _) = queue
            .ready
            .wait_timeout(events, wait)
            .unwrap_or_else(|p| p.into_inner());
        !events.is_empty()
    })
}

/// Takes at most `max` queued events as tuples, at once; an empty list when there are
/// none or nobody listens.
#[pyfunction]
pub(crate) fn observe_take(py: Python<'_>, max: usize) -> PyResult<Vec<Bound<'_, PyTuple>>> {
    let Some(queue) = current() else {
        return Ok(Vec::new());
    };
    let taken: Vec<Queued> = {
        let mut events = queue.lock();
        let n = events.len().min(max);
        events.drain(..n).collect()
    };
    taken.into_iter().map(|q| q.into_py(py)).collect()
}

/// Events dropped because the queue was full, since listening started.
#[pyfunction]
pub(crate) fn observe_dropped() -> u64 {
    current().map_or(0, |q| q.dropped.load(std::sync::atomic::Ordering::Relaxed))
}
