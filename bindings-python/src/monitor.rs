//! `NativeMonitor`, `NativeAsyncMonitor`: the core's MONITOR connection for
//! `redbridge.monitor.Monitor` / `AsyncMonitor` (conversion only: each command the core
//! parsed becomes redis-py's dict).
//!
//! A monitor is made from the same URL and options as the client's `NativeClient` (its
//! own connection, the same handshake). The sync one waits with the GIL released, in
//! slices so that Ctrl-C is seen; the asyncio one waits on the core runtime and settles
//! an asyncio future, and a cancelled wait loses no command (the core's read is
//! cancel-safe, and waits take turns on the connection).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyDict;
use redbridge::{Config, ConfigBuilder, Monitor, MonitorEvent, SyncMonitor};

use crate::error::{config_err, to_py_err};

/// How long a sync wait keeps the GIL released before it looks at signals.
const SLICE: Duration = Duration::from_millis(100);

/// The configuration of a monitor: `url` (optional) then `options`, as `NativeClient`
/// takes them.
pub(crate) fn config(url: Option<&str>, options: &[(String, String)]) -> PyResult<Config> {
    let mut builder = match url {
        Some(u) => ConfigBuilder::from_url(u).map_err(|e| config_err(&e))?,
        None => ConfigBuilder::default(),
    };
    for (name, value) in options {
        builder
            .set_option(name, value)
            .map_err(|e| config_err(&e))?;
    }
    builder.build().map_err(|e| config_err(&e))
}

/// redis-py's dict of one monitored command.
fn event_dict(py: Python<'_>, e: MonitorEvent) -> PyResult<Py<PyAny>> {
    let d = PyDict::new(py);
    d.set_item("time", e.time)?;
    d.set_item("db", e.db)?;
    d.set_item("client_address", e.client_address)?;
    d.set_item("client_port", e.client_port)?;
    d.set_item("client_type", e.client_type.as_str())?;
    d.set_item("command", e.command)?;
    Ok(d.into_any().unbind())
}

fn closed() -> redbridge::Error {
    redbridge::Error::new(
        redbridge::ErrorKind::Connection,
        "this monitor is closed; open a new one with monitor()",
    )
}

/// A MONITOR connection for sync callers.
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct NativeMonitor {
    monitor: Mutex<Option<SyncMonitor>>,
}

#[pymethods]
impl NativeMonitor {
    /// Opens the connection and sends MONITOR (the GIL released meanwhile).
    #[staticmethod]
    fn open(py: Python<'_>, url: Option<&str>, options: Vec<(String, String)>) -> PyResult<Self> {
        let config = config(url, &options)?;
        match py.detach(|| SyncMonitor::open(&config)) {
            Ok(m) => Ok(NativeMonitor {
                monitor: Mutex::new(Some(m)),
            }),
            Err(e) => Err(to_py_err(py, &e)),
        }
    }

    /// The next command the server runs as a dict, or None when `timeout` seconds pass
    /// first (None: wait as long as it takes).
    #[pyo3(signature = (timeout=None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let deadline = match timeout {
            Some(t) if t.is_finite() && t >= 0.0 => {
                Some(Instant::now() + Duration::from_secs_f64(t))
            }
            Some(_) => {
                return Err(to_py_err(
                    py,
                    &redbridge::Error::invalid("timeout must be a number of seconds >= 0"),
                ))
            }
            None => None,
        };
        loop {
            let wait = deadline.map_or(SLICE, |d| {
                d.saturating_duration_since(Instant::now()).min(SLICE)
            });
            let got = py.detach(|| {
                let mut slot = self.monitor.lock().unwrap_or_else(|p| p.into_inner());
                slot.as_mut().ok_or_else(closed)?.next(Some(wait))
            });
            match got {
                Ok(Some(e)) => return event_dict(py, e),
                Ok(None) if deadline.is_some_and(|d| Instant::now() >= d) => return Ok(py.None()),
                Ok(None) => py.check_signals()?,
                Err(e) => return Err(to_py_err(py, &e)),
            }
        }
    }

    /// Closes the connection (the server stops the feed). Idempotent.
    fn close(&self, py: Python<'_>) {
        let taken = py.detach(|| {
            self.monitor
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
        });
        drop(taken);
    }
}

/// The async monitor's connection once open; `closed` once `close()` was called.
#[derive(Default)]
struct Slot {
    monitor: Option<Arc<Monitor>>,
    closed: bool,
}

// The asyncio bridge is the client's (`spawn_settled`, returning a `Pending`): one
// function for every `*_async` method, under the names the monitor, pub/sub and
// sentinel modules use.
pub(crate) use crate::client::{spawn_settled as on_runtime, Pending as MonitorWait};

/// A MONITOR connection for asyncio callers.
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct NativeAsyncMonitor {
    config: Arc<Config>,
    slot: Arc<Mutex<Slot>>,
}

#[pymethods]
impl NativeAsyncMonitor {
    /// A monitor for the client made from `url` and `options`; opened by `open_async`.
    #[new]
    #[pyo3(signature = (url, options))]
    fn new(url: Option<&str>, options: Vec<(String, String)>) -> PyResult<Self> {
        Ok(NativeAsyncMonitor {
            config: Arc::new(config(url, &options)?),
            slot: Arc::default(),
        })
    }

    /// Opens the connection and sends MONITOR on the core runtime; settles `fut` with
    /// None once the server has acknowledged it.
    fn open_async(&self, loop_: Py<PyAny>, fut: Py<PyAny>, settle_fn: Py<PyAny>) -> MonitorWait {
        let (config, slot) = (self.config.clone(), self.slot.clone());
        let work = async move {
            let monitor = Monitor::open(&config).await?;
            let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
            if slot.closed {
                return Err(closed());
            }
            slot.monitor = Some(Arc::new(monitor));
            Ok(())
        };
        on_runtime(work, |py, ()| Ok(py.None()), loop_, fut, settle_fn)
    }

    /// Waits for the next command on the core runtime; settles `fut` with its dict.
    fn next_async(
        &self,
        py: Python<'_>,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<MonitorWait> {
        let monitor = {
            let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
            match (&slot.monitor, slot.closed) {
                (Some(m), false) => m.clone(),
                (_, true) => return Err(to_py_err(py, &closed())),
                (None, false) => {
                    return Err(to_py_err(
                        py,
                        &redbridge::Error::invalid("this monitor is not open yet; await connect()"),
                    ))
                }
            }
        };
        // Waits take turns on the connection; a cancelled one gives it up at once.
        let work = async move { monitor.next_event().await };
        Ok(on_runtime(work, event_dict, loop_, fut, settle_fn))
    }

    /// Closes the connection (once a wait in progress, if any, has ended). Idempotent.
    fn close(&self) {
        let taken = {
            let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
            slot.closed = true;
            slot.monitor.take()
        };
        drop(taken);
    }
}
