//! The core's event stream to Python, for `redbridge.observability`.
//!
//! One process-wide core listener, the core's [`Gather`], groups events on the thread
//! they happen on (a runtime worker, a connection's reader, the caller) without the GIL:
//! operations by key (client, command, server, outcome), durations only once a key is
//! known; counting events added up. The Python side takes batches (`observe_take`) from
//! its own thread and before a metric reader collects, builds the attributes of a key
//! once, and records each duration with them. When the gathering is full, events are
//! dropped and counted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use redbridge::observe::{CloseReason, Gather, OtherKind, Place, COUNTED};

use crate::error::class_of;

static GATHER: Mutex<Option<Arc<Gather>>> = Mutex::new(None);

fn current() -> Option<Arc<Gather>> {
    GATHER.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn place(p: &Place) -> (&str, u16, i64) {
    (&p.host, p.port, p.db)
}

/// Starts listening to every client's events, holding at most `capacity` between takes.
#[pyfunction]
pub(crate) fn observe_start(capacity: usize) {
    let gather = Arc::new(Gather::new(capacity, Box::new(|| {})));
    *GATHER.lock().unwrap_or_else(|p| p.into_inner()) = Some(gather.clone());
    redbridge::set_global_listener(Some(gather));
}

/// Stops listening; what is still gathered is discarded and waiting takers return.
#[pyfunction]
pub(crate) fn observe_stop() {
    redbridge::set_global_listener(None);
    if let Some(g) = GATHER.lock().unwrap_or_else(|p| p.into_inner()).take() {
        g.take(usize::MAX);
        g.wake_all();
    }
}

/// Waits up to `timeout` seconds (GIL released) until an event is gathered; whether one is.
#[pyfunction]
pub(crate) fn observe_wait(py: Python<'_>, timeout: f64) -> bool {
    let Some(gather) = current() else {
        return false;
    };
    let wait = Duration::try_from_secs_f64(timeout.max(0.0)).unwrap_or(Duration::ZERO);
    py.detach(|| gather.wait(wait))
}

/// Takes at most `max` operations and other events, and every count, as
/// `(new_keys, ops, others, counts)`; `None` when nothing waits or nobody listens.
///
/// - a new key: `(number, client, command, (host, port, db), error class, error kind,
///   server error code, retries, served, blocking)`, the error parts `None` on success;
/// - ops: `(key number, [seconds, ...])`;
/// - others: `("connection", client, what, role, (host, port, db), seconds, detail)`
///   (`what`: created, failed, closed; `detail`: the error class or close reason) or
///   `("pool_wait", client, (host, port, db), seconds, timed_out)`;
/// - counts: `(family, client, what, n)`.
#[pyfunction]
pub(crate) fn observe_take(py: Python<'_>, max: usize) -> PyResult<Option<Bound<'_, PyTuple>>> {
    let Some(gather) = current() else {
        return Ok(None);
    };
    let batch = py.detach(|| gather.take(max));
    if batch.is_empty() {
        return Ok(None);
    }
    let keys = PyList::empty(py);
    for (id, k) in &batch.new_keys {
        let (error_type, kind) = k
            .error
            .map(|e| (class_of(e, k.code.as_deref(), ""), e.name()))
            .unzip();
        let key = (
            id,
            k.client,
            &k.name,
            place(&k.place),
            error_type,
            kind,
            k.code.as_deref(),
            k.retries,
            k.served.name(),
            k.blocking,
        );
        keys.append(key)?;
    }
    let ops = PyList::empty(py);
    for (id, seconds) in batch.ops {
        ops.append((id, seconds))?;
    }
    let others = PyList::empty(py);
    for o in &batch.others {
        let p = place(&o.place);
        match o.what {
            OtherKind::PoolWait { timed_out } => {
                others.append(("pool_wait", o.client, p, o.seconds, timed_out))?
            }
            what => {
                let (what, role, detail) = match what {
                    OtherKind::Created(r) => ("created", r, None),
                    OtherKind::Failed(r, e) => ("failed", r, Some(class_of(e, None, ""))),
                    OtherKind::Closed(r, reason) => ("closed", r, Some(close_reason(reason))),
                    OtherKind::PoolWait { .. } => unreachable!("matched above"),
                };
                let row = (
                    "connection",
                    o.client,
                    what,
                    role.name(),
                    p,
                    o.seconds,
                    detail,
                );
                others.append(row)?
            }
        }
    }
    let counts = PyList::empty(py);
    for (client, amounts) in batch.counts {
        for ((family, what), n) in COUNTED.iter().zip(amounts) {
            if n > 0 {
                counts.append((family, client, what, n))?;
            }
        }
    }
    (keys, ops, others, counts).into_pyobject(py).map(Some)
}

fn close_reason(reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::Application => "application_close",
        CloseReason::Timeout => "timeout",
        CloseReason::Idle => "idle",
        _ => "error",
    }
}

/// Events dropped because the gathering was full, since listening started.
#[pyfunction]
pub(crate) fn observe_dropped() -> u64 {
    current().map_or(0, |g| g.dropped())
}
