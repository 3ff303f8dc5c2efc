//! `NativePubSub`: the core's subscriber for `redbridge.pubsub.PubSub` / `AsyncPubSub`
//! (conversion only: each core event becomes a `(type, pattern, channel, data)` tuple the
//! package turns into redis-py's message dict).
//!
//! A subscriber is made from the client's `NativeClient` (its own connection with the
//! client's handshake, counted in the client's stats). Sync waits release the GIL in
//! slices so that Ctrl-C is seen; asyncio waits run on the core runtime and settle an
//! asyncio future, and a cancelled wait loses no event (the core's read is cancel-safe).

use std::time::{Duration, Instant};

use pyo3::prelude::*;
use pyo3::types::PyTuple;
use redbridge::{PubSubEvent, PubSubOptions, SubscriptionKind, SyncSubscriber};

use crate::client::NativeClient;
use crate::error::to_py_err;
use crate::monitor::{on_runtime, MonitorWait};

/// How long a sync wait keeps the GIL released before it looks at signals.
const SLICE: Duration = Duration::from_millis(100);

/// The subscription kind named as redis-py's message types name it.
/// `(type, pattern, channel, data)`: a message's pattern (pmessage only), channel and
/// payload; a confirmation's channel (None for an unsubscribe of nothing) and count; a
/// gap's `("gap", None, None, (cause, dropped))`; a pong's `("pong", None, None, data)`.
fn event_tuple(py: Python<'_>, event: PubSubEvent) -> PyResult<Py<PyAny>> {
    let none = || py.None();
    let bytes = |b: Vec<u8>| pyo3::types::PyBytes::new(py, &b).into_any().unbind();
    let items: [Py<PyAny>; 4] = match event {
        PubSubEvent::Message(m) => [
            m.kind.as_str().into_pyobject(py)?.into_any().unbind(),
            m.pattern.map_or_else(none, bytes),
            bytes(m.channel),
            bytes(m.payload),
        ],
        PubSubEvent::Subscription {
            kind,
            channel,
            count,
        } => [
            kind.as_str().into_pyobject(py)?.into_any().unbind(),
            none(),
            channel.map_or_else(none, bytes),
            count.into_pyobject(py)?.into_any().unbind(),
        ],
        PubSubEvent::Gap(g) => {
            let cause = g.cause.as_str();
            [
                "gap".into_pyobject(py)?.into_any().unbind(),
                none(),
                none(),
                (cause, g.dropped).into_pyobject(py)?.into_any().unbind(),
            ]
        }
        PubSubEvent::Pong(data) => [
            "pong".into_pyobject(py)?.into_any().unbind(),
            none(),
            none(),
            bytes(data),
        ],
    };
    Ok(PyTuple::new(py, items)?.into_any().unbind())
}

fn optional_event(py: Python<'_>, event: Option<PubSubEvent>) -> PyResult<Py<PyAny>> {
    match event {
        Some(e) => event_tuple(py, e),
        None => Ok(py.None()),
    }
}

/// Seconds from Python as a duration (`None` stays `None`); negative or NaN is refused.
fn seconds(t: Option<f64>) -> redbridge::Result<Option<Duration>> {
    match t {
        Some(t) if t.is_finite() && t >= 0.0 => Ok(Some(Duration::from_secs_f64(t))),
        Some(_) => Err(redbridge::Error::invalid(
            "a time in seconds must be a number >= 0",
        )),
        None => Ok(None),
    }
}

/// A subscriber on a connection of its own, for sync and asyncio callers alike.
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct NativePubSub {
    sub: SyncSubscriber,
}

#[pymethods]
impl NativePubSub {
    /// A subscriber of `client` (its configuration and stats): queue bounds (None: the
    /// core's defaults) and the health check interval in seconds (None or 0: the
    /// connect timeout). The connection opens with the first subscription.
    #[new]
    #[pyo3(signature = (client, max_messages=None, max_bytes=None, health_check_interval=None))]
    fn new(
        py: Python<'_>,
        client: &NativeClient,
        max_messages: Option<usize>,
        max_bytes: Option<usize>,
        health_check_interval: Option<f64>,
    ) -> PyResult<Self> {
        let defaults = PubSubOptions::default();
        let options = PubSubOptions {
            max_messages: max_messages.unwrap_or(defaults.max_messages),
            max_bytes: max_bytes.unwrap_or(defaults.max_bytes),
            health_check_interval: seconds(health_check_interval).map_err(|e| to_py_err(py, &e))?,
        };
        match py.detach(|| client.core().pubsub(options)) {
            Ok(sub) => Ok(NativePubSub { sub }),
            Err(e) => Err(to_py_err(py, &e)),
        }
    }

    /// Subscribes (`kind`: "subscribe", "psubscribe" or "ssubscribe") to `names`, with
    /// the GIL released; returns once the server confirmed.
    fn subscribe(&self, py: Python<'_>, kind: &str, names: Vec<Vec<u8>>) -> PyResult<()> {
        let result =
            SubscriptionKind::parse(kind).and_then(|k| py.detach(|| self.sub.subscribe(k, names)));
        result.map_err(|e| to_py_err(py, &e))
    }

    /// Unsubscribes (`kind`: "unsubscribe", "punsubscribe" or "sunsubscribe") from
    /// `names`, or from all of that kind when empty.
    fn unsubscribe(&self, py: Python<'_>, kind: &str, names: Vec<Vec<u8>>) -> PyResult<()> {
        let result = SubscriptionKind::parse(kind)
            .and_then(|k| py.detach(|| self.sub.unsubscribe(k, names)));
        result.map_err(|e| to_py_err(py, &e))
    }

    /// The next event as a tuple, or None when `timeout` seconds pass first (None: wait
    /// as long as it takes; 0: only what is queued).
    #[pyo3(signature = (timeout=None))]
    fn next(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let wait = seconds(timeout).map_err(|e| to_py_err(py, &e))?;
        let deadline = wait.map(|w| Instant::now() + w);
        loop {
            let slice = deadline.map_or(SLICE, |d| {
                d.saturating_duration_since(Instant::now()).min(SLICE)
            });
            match py.detach(|| self.sub.next(Some(slice))) {
                Ok(Some(e)) => return event_tuple(py, e),
                Ok(None) if deadline.is_some_and(|d| Instant::now() >= d) => return Ok(py.None()),
                Ok(None) => py.check_signals()?,
                Err(e) => return Err(to_py_err(py, &e)),
            }
        }
    }

    /// A subscribe or unsubscribe (`kind` as for [`Self::subscribe`] and
    /// [`Self::unsubscribe`]) on the core runtime; settles `fut` with None once confirmed.
    fn change_async(
        &self,
        py: Python<'_>,
        kind: &str,
        names: Vec<Vec<u8>>,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<MonitorWait> {
        let k = SubscriptionKind::parse(kind).map_err(|e| to_py_err(py, &e))?;
        let sub = self.sub.as_async().clone();
        let work = async move {
            match k {
                SubscriptionKind::Subscribe
                | SubscriptionKind::PSubscribe
                | SubscriptionKind::SSubscribe => sub.subscribe(k, names).await,
                _ => sub.unsubscribe(k, names).await,
            }
        };
        Ok(on_runtime(
            work,
            |py, ()| Ok(py.None()),
            loop_,
            fut,
            settle_fn,
        ))
    }

    /// Waits for the next event on the core runtime; settles `fut` with its tuple.
    /// Cancelling the wait loses no event.
    fn next_async(&self, loop_: Py<PyAny>, fut: Py<PyAny>, settle_fn: Py<PyAny>) -> MonitorWait {
        let sub = self.sub.as_async().clone();
        let work = async move { sub.next_event().await.map(Some) };
        on_runtime(work, optional_event, loop_, fut, settle_fn)
    }

    /// The next event if one is queued (no waiting, the GIL kept).
    fn try_next(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self.sub.try_next() {
            Ok(e) => optional_event(py, e),
            Err(e) => Err(to_py_err(py, &e)),
        }
    }

    /// PING on the subscriber's connection (with `message`), the GIL released; a pong
    /// event follows the events received before it.
    #[pyo3(signature = (message=None))]
    fn ping(&self, py: Python<'_>, message: Option<Vec<u8>>) -> PyResult<()> {
        let result = py.detach(|| self.sub.ping(message));
        result.map_err(|e| to_py_err(py, &e))
    }

    /// [`Self::ping`] on the core runtime; settles `fut` with None once answered.
    fn ping_async(
        &self,
        message: Option<Vec<u8>>,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> MonitorWait {
        let sub = self.sub.as_async().clone();
        let work = async move { sub.ping(message).await };
        on_runtime(work, |py, ()| Ok(py.None()), loop_, fut, settle_fn)
    }

    /// Drops the connection as if it had broken: it reconnects and resubscribes by itself.
    fn reconnect(&self) {
        self.sub.reconnect();
    }

    /// Whether the connection is up and subscribed now.
    fn is_connected(&self) -> bool {
        self.sub.is_connected()
    }

    /// Closes the connection; waits in progress and later reads fail. Idempotent.
    fn close(&self) {
        self.sub.close();
    }
}
