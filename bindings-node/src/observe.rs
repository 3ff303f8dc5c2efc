//! The core's event stream to JS, for `observability.js` (node-redis's `OpenTelemetry`).
//!
//! Nothing is registered with the core until JS calls `observeStart`: then one
//! process-wide listener copies each event into a bounded queue on the thread it happened
//! on (a runtime worker, a connection's reader, the JS thread) and, when the queue turns
//! non-empty, schedules one call of the JS callback through a threadsafe function. That
//! call takes everything queued by then (`observeTake`), so a burst of events costs JS one
//! call, not one per event. Events that only count (cache hits, misses, invalidations,
//! pub/sub messages) are added up per client instead of queued. When the queue is full,
//! events are dropped and counted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use redbridge::observe::{CacheOutcome, CloseReason, ConnectionRole, Event, Listener, Server};
use redbridge::ErrorKind;

/// One event as JS receives it. `kind` says which fields are set:
/// - `operation`: `name` (the command's table name, never an argument), `batch`, server,
///   `seconds`, `error`/`code` on failure, `retries`, `served`, `blocking`;
/// - `connection`: `name` (`created`, `failed`, `closed`), `role`, server, `seconds`
///   (create time), `error` (failed), `detail` (close reason);
/// - `pool_wait`: server, `seconds`, `blocking` (timed out);
/// - `cache`: `name` (`hit`, `miss`, `invalidation`) and `count`;
/// - `pubsub`: `name` (`received`, `dropped`) and `count`.
///
/// A server is `host`, `port`, `db`; an error is the core's kind as the error `code` of
/// index.js (`RESPONSE`, `TIMEOUT`…), `code` the server's error code.
#[napi(object)]
pub struct ObservedEvent {
    pub kind: String,
    pub client: i64,
    pub name: Option<String>,
    pub batch: Option<u32>,
    pub host: Option<String>,
    pub port: Option<u32>,
    pub db: Option<i64>,
    pub seconds: Option<f64>,
    pub error: Option<String>,
    pub code: Option<String>,
    pub retries: Option<u32>,
    pub served: Option<String>,
    pub role: Option<String>,
    pub detail: Option<String>,
    pub blocking: Option<bool>,
    pub count: Option<i64>,
}

impl ObservedEvent {
    fn new(kind: &str, client: u64, name: &str) -> ObservedEvent {
        ObservedEvent {
            kind: kind.to_string(),
            client: client as i64,
            name: Some(name.to_string()),
            batch: None,
            host: None,
            port: None,
            db: None,
            seconds: None,
            error: None,
            code: None,
            retries: None,
            served: None,
            role: None,
            detail: None,
            blocking: None,
            count: None,
        }
    }

    fn at(mut self, server: &Server<'_>) -> ObservedEvent {
        self.host = Some(server.host.to_string());
        self.port = Some(u32::from(server.port));
        self.db = Some(server.db);
        self
    }

    fn connection(client: u64, what: &str, role: ConnectionRole, server: &Server<'_>) -> Self {
        let mut e = ObservedEvent::new("connection", client, what).at(server);
        e.role = Some(role.name().to_string());
        e
    }

    /// The owned copy of `event`, or `None` for counting events and those JS does not use.
    fn of(client: u64, event: &Event<'_>) -> Option<ObservedEvent> {
        Some(match event {
            Event::Operation(op) => {
                let mut e = ObservedEvent::new("operation", client, op.name).at(&op.server);
                e.batch = Some(u32::try_from(op.batch).unwrap_or(u32::MAX));
                e.seconds = Some(op.duration.as_secs_f64());
                e.error = op.error.map(code_of);
                e.code = op.code.map(str::to_string);
                e.retries = Some(op.retries);
                e.served = Some(op.served.name().to_string());
                e.blocking = Some(op.blocking);
                e
            }
            Event::ConnectionCreated { role, server, took } => {
                let mut e = ObservedEvent::connection(client, "created", *role, server);
                e.seconds = Some(took.as_secs_f64());
                e
            }
            Event::ConnectionFailed {
                role,
                server,
                error,
            } => {
                let mut e = ObservedEvent::connection(client, "failed", *role, server);
                e.error = Some(code_of(*error));
                e
            }
            Event::ConnectionClosed {
                role,
                server,
                reason,
            } => {
                let mut e = ObservedEvent::connection(client, "closed", *role, server);
                e.detail = Some(
                    match reason {
                        CloseReason::Application => "application",
                        CloseReason::Timeout => "timeout",
                        CloseReason::Idle => "idle",
                        _ => "error",
                    }
                    .to_string(),
                );
                e
            }
            Event::PoolWait {
                server,
                waited,
                timed_out,
            } => {
                let mut e = ObservedEvent::new("pool_wait", client, "lease").at(server);
                e.seconds = Some(waited.as_secs_f64());
                e.blocking = Some(*timed_out);
                e
            }
            _ => return None,
        })
    }
}

/// The error `code` index.js sees for a core error of `kind`.
fn code_of(kind: ErrorKind) -> String {
    kind.name().to_ascii_uppercase()
}

/// The events that only count, as JS receives them (`kind`, `name`), by index.
const COUNTED: [(&str, &str); 5] = [
    ("cache", "hit"),
    ("cache", "miss"),
    ("cache", "invalidation"),
    ("pubsub", "received"),
    ("pubsub", "dropped"),
];

/// The index in [`COUNTED`] and the amount of an event that only counts.
fn counted(event: &Event<'_>) -> Option<(usize, u64)> {
    match event {
        Event::Cache {
            outcome: CacheOutcome::Hit,
            count,
        } => Some((0, *count)),
        Event::Cache {
            outcome: CacheOutcome::Miss,
            count,
        } => Some((1, *count)),
        Event::Cache { count, .. } => Some((2, *count)),
        Event::PubSubReceived => Some((3, 1)),
        Event::PubSubDropped => Some((4, 1)),
        _ => None,
    }
}

#[derive(Default)]
struct Pending {
    events: Vec<ObservedEvent>,
    /// Per client, the amounts of the [`COUNTED`] events.
    counts: HashMap<u64, [u64; COUNTED.len()]>,
}

/// Wakes JS: called with the number of events queued when it was scheduled.
type NotifyFn = ThreadsafeFunction<u32, (), u32, Status, false, true>;

/// The queue between the core's threads and the JS thread.
struct Queue {
    pending: Mutex<Pending>,
    capacity: usize,
    dropped: AtomicU64,
    /// A call of `notify` is pending: JS has not taken since it was scheduled.
    scheduled: AtomicBool,
    notify: NotifyFn,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Schedules one call of JS unless one is pending already.
    fn wake(&self, queued: usize) {
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            let n = u32::try_from(queued).unwrap_or(u32::MAX);
            if self.notify.call(n, ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
                self.scheduled.store(false, Ordering::Release);
            }
        }
    }
}

impl Listener for Queue {
    fn on_event(&self, client: u64, event: &Event<'_>) {
        let queued = if let Some((at, n)) = counted(event) {
            let mut pending = self.lock();
            pending.counts.entry(client).or_default()[at] += n;
            pending.events.len() + pending.counts.len()
        } else {
            let Some(e) = ObservedEvent::of(client, event) else {
                return;
            };
            let mut pending = self.lock();
            if pending.events.len() >= self.capacity {
                self.dropped.fetch_add(1, Ordering::Relaxed);
                return;
            }
            pending.events.push(e);
            pending.events.len() + pending.counts.len()
        };
        self.wake(queued);
    }
}

static QUEUE: Mutex<Option<Arc<Queue>>> = Mutex::new(None);

fn current() -> Option<Arc<Queue>> {
    QUEUE.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Starts listening to every client's events (replacing an earlier start), queuing at
/// most `capacity`; `notify(queued)` is called on the JS thread when events wait, and
/// should `observeTake()` them.
#[napi]
pub fn observe_start(notify: Function<u32, ()>, capacity: u32) -> Result<()> {
    let notify: NotifyFn = notify
        .build_threadsafe_function()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    let queue = Arc::new(Queue {
        pending: Mutex::default(),
        capacity: capacity.max(1) as usize,
        dropped: AtomicU64::new(0),
        scheduled: AtomicBool::new(false),
        notify,
    });
    *QUEUE.lock().unwrap_or_else(|p| p.into_inner()) = Some(queue.clone());
    redbridge::set_global_listener(Some(queue));
    Ok(())
}

/// Stops listening: the core's listener is removed and what is still queued discarded.
#[napi]
pub fn observe_stop() {
    redbridge::set_global_listener(None);
    QUEUE.lock().unwrap_or_else(|p| p.into_inner()).take();
}

/// Whether a listener is registered with the core (`observeStart` without a stop).
#[napi]
pub fn observe_active() -> bool {
    current().is_some()
}

/// Takes at most `max` queued events, then every count as a `cache` or `pubsub` event;
/// empty when none wait or nobody listens.
#[napi]
pub fn observe_take(max: u32) -> Vec<ObservedEvent> {
    let Some(queue) = current() else {
        return Vec::new();
    };
    // Cleared before taking: an event queued after this schedules a new call.
    queue.scheduled.store(false, Ordering::Release);
    let (mut out, counts) = {
        let mut pending = queue.lock();
        let n = pending.events.len().min(max as usize);
        let taken: Vec<ObservedEvent> = pending.events.drain(..n).collect();
        (taken, std::mem::take(&mut pending.counts))
    };
    for (client, amounts) in counts {
        for ((kind, what), n) in COUNTED.iter().zip(amounts) {
            if n > 0 {
                let mut e = ObservedEvent::new(kind, client, what);
                e.count = Some(i64::try_from(n).unwrap_or(i64::MAX));
                out.push(e);
            }
        }
    }
    out
}

/// Events dropped because the queue was full, since listening started.
#[napi]
pub fn observe_dropped() -> f64 {
    current().map_or(0.0, |q| q.dropped.load(Ordering::Relaxed) as f64)
}
