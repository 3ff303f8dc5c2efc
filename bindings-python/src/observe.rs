//! The core's event stream to Python, for `redbridge.observability`.
//!
//! One process-wide core listener copies each event into a bounded queue: the thread
//! the event happened on (a runtime worker, a connection's reader, the caller) never
//! takes the GIL. The Python side drains the queue in batches (`observe_take`), from
//! its own thread and before a metric reader collects, and records them through the
//! OpenTelemetry API. When the queue is full, events are dropped and counted. Events
//! that only count (cache hits, misses and invalidations, pub/sub messages) are added up
//! per client instead of queued, so a flood of them costs Python one call per drain.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use redbridge::observe::{CacheOutcome, CloseReason, Event, Listener, Server};

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
}

/// A counting event's key: client, family ("cache", "pubsub"), what happened.
type CountKey = (u64, &'static str, &'static str);

/// The key and amount of an event that only counts, or `None` for the others.
fn counted(client: u64, event: &Event<'_>) -> Option<(CountKey, u64)> {
    Some(match event {
        Event::Cache { outcome, count } => {
            let what = match outcome {
                CacheOutcome::Hit => "hit",
                CacheOutcome::Miss => "miss",
                _ => "invalidation",
            };
            ((client, "cache", what), *count)
        }
        Event::PubSubReceived => ((client, "pubsub", "received"), 1),
        Event::PubSubDropped => ((client, "pubsub", "dropped"), 1),
        _ => return None,
    })
}

fn place(s: &Server<'_>) -> Place {
    (s.host.to_string(), s.port, s.db)
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
                served: op.served.name(),
                blocking: op.blocking,
            },
            Event::ConnectionCreated {
                role: r,
                server,
                took,
            } => Queued::Connection {
                client,
                what: "created",
                role: r.name(),
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
                role: r.name(),
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
                role: r.name(),
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
        }
    }
}

/// What waits for Python: queued events, and the counting events added up.
#[derive(Default)]
struct Pending {
    events: VecDeque<Queued>,
    counts: HashMap<CountKey, u64>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.counts.is_empty()
    }
}

/// The queue between the core's threads and Python.
struct Queue {
    pending: Mutex<Pending>,
    ready: Condvar,
    capacity: usize,
    dropped: std::sync::atomic::AtomicU64,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Listener for Queue {
    fn on_event(&self, client: u64, event: &Event<'_>) {
        if let Some((key, n)) = counted(client, event) {
            *self.lock().counts.entry(key).or_default() += n;
            self.ready.notify_one();
            return;
        }
        let Some(q) = Queued::of(client, event) else {
            return;
        };
        let mut pending = self.lock();
        if pending.events.len() >= self.capacity {
            self.dropped
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return;
        }
        pending.events.push_back(q);
        drop(pending);
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
        pending: Mutex::default(),
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
        *q.lock() = Pending::default();
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
        let pending = queue.lock();
        if !pending.is_empty() || wait.is_zero() {
            return !pending.is_empty();
        }
        let (pending, _) = queue
            .ready
            .wait_timeout(pending, wait)
            .unwrap_or_else(|p| p.into_inner());
        !pending.is_empty()
    })
}

/// Takes at most `max` queued events, then every count, as tuples, at once (a count as
/// `(family, client, what, n)`); an empty list when there are none or nobody listens.
#[pyfunction]
pub(crate) fn observe_take(py: Python<'_>, max: usize) -> PyResult<Vec<Bound<'_, PyTuple>>> {
    let Some(queue) = current() else {
        return Ok(Vec::new());
    };
    let (taken, counts): (Vec<Queued>, HashMap<CountKey, u64>) = {
        let mut pending = queue.lock();
        let n = pending.events.len().min(max);
        let taken = pending.events.drain(..n).collect();
        (taken, std::mem::take(&mut pending.counts))
    };
    let mut out = taken
        .into_iter()
        .map(|q| q.into_py(py))
        .collect::<PyResult<Vec<_>>>()?;
    for ((client, family, what), n) in counts {
        out.push((family, client, what, n).into_pyobject(py)?);
    }
    Ok(out)
}

/// Events dropped because the queue was full, since listening started.
#[pyfunction]
pub(crate) fn observe_dropped() -> u64 {
    current().map_or(0, |q| q.dropped.load(std::sync::atomic::Ordering::Relaxed))
}
