//! The core's event stream to JS, for `observability.js` (node-redis's `OpenTelemetry`).
//!
//! Nothing is registered with the core until JS calls `observeStart`: then one
//! process-wide listener, the core's [`Gather`], groups events on the thread they happen
//! on (a runtime worker, a connection's reader, the JS thread): operations by key
//! (client, command, server, outcome), counting events added up. When something arrives
//! and nothing was waiting, one call of the JS callback is scheduled through a
//! threadsafe function; that call takes everything gathered (`observeTake`). A key is
//! handed to JS once, with its number; then its operations cross as two typed arrays
//! (key numbers, durations): no string and no object per operation. When the gathering
//! is full, events are dropped and counted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use redbridge::observe::{CloseReason, Gather, OtherKind, Place, COUNTED};
use redbridge::ErrorKind;

/// An operation key, handed to JS once: what the attributes of its operations depend on.
#[napi(object)]
pub struct ObservedKey {
    /// Its number in `ObservedBatch.ids`.
    pub id: u32,
    /// The client it came from (the core's client id).
    pub client: i64,
    /// The command's table name (never an argument), `PIPELINE` or `MULTI`.
    pub name: String,
    /// The server it went to: host, port and database.
    pub host: String,
    /// See `host`.
    pub port: u32,
    /// See `host`.
    pub db: i64,
    /// The core's error kind as index.js's error `code` (`RESPONSE`, `TIMEOUT`…).
    pub error: Option<String>,
    /// The server's error code (`WRONGTYPE`…).
    pub code: Option<String>,
    /// Attempts after the first.
    pub retries: u32,
    /// `cache`, `direct`, `runtime` or `not_sent`.
    pub served: String,
    /// A blocking command (BLPOP, XREAD BLOCK…).
    pub blocking: bool,
}

/// A connection event or pool wait: `kind` `connection` (`name` `created`, `failed`,
/// `closed`; `role`; `error` for failed, `detail` the close reason) or `pool_wait`
/// (`timedOut`); `seconds` is the create time or the time waited.
#[napi(object)]
pub struct ObservedOther {
    pub kind: String,
    pub client: i64,
    pub name: Option<String>,
    pub role: Option<String>,
    pub host: String,
    pub port: u32,
    pub db: i64,
    pub seconds: f64,
    pub error: Option<String>,
    pub detail: Option<String>,
    pub timed_out: Option<bool>,
}

/// Counting events added up: `kind` `cache` (`name` `hit`, `miss`, `invalidation`) or
/// `pubsub` (`received`, `dropped`).
#[napi(object)]
pub struct ObservedCount {
    pub kind: String,
    pub client: i64,
    pub name: String,
    pub count: i64,
}

/// One take: new keys, then the operations as parallel arrays (`ids[i]` is the key of
/// the operation that took `seconds[i]`), the other events, the counts.
#[napi(object)]
pub struct ObservedBatch {
    pub keys: Vec<ObservedKey>,
    pub ids: Uint32Array,
    pub seconds: Float64Array,
    pub others: Vec<ObservedOther>,
    pub counts: Vec<ObservedCount>,
}

/// The error `code` index.js sees for a core error of `kind`.
fn code_of(kind: ErrorKind) -> String {
    kind.name().to_ascii_uppercase()
}

/// Wakes JS: called with nothing when events wait.
type NotifyFn = ThreadsafeFunction<(), (), (), Status, false, true>;

/// The gathering and the JS callback it wakes.
struct Listening {
    gather: Arc<Gather>,
    /// A call of the callback is pending: JS has not taken since it was scheduled.
    scheduled: Arc<AtomicBool>,
}

static LISTENING: Mutex<Option<Listening>> = Mutex::new(None);

fn current() -> Option<(Arc<Gather>, Arc<AtomicBool>)> {
    let l = LISTENING.lock().unwrap_or_else(|p| p.into_inner());
    l.as_ref().map(|l| (l.gather.clone(), l.scheduled.clone()))
}

/// Starts listening to every client's events (replacing an earlier start), holding at
/// most `capacity` between takes; `notify()` is called on the JS thread when events
/// wait, and should `observeTake()` them.
#[napi]
pub fn observe_start(notify: Function<(), ()>, capacity: u32) -> Result<()> {
    let notify: NotifyFn = notify
        .build_threadsafe_function()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    let scheduled = Arc::new(AtomicBool::new(false));
    let flag = scheduled.clone();
    let wake = move || {
        if !flag.swap(true, Ordering::AcqRel)
            && notify.call((), ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok
        {
            flag.store(false, Ordering::Release);
        }
    };
    let gather = Arc::new(Gather::new(capacity as usize, Box::new(wake)));
    *LISTENING.lock().unwrap_or_else(|p| p.into_inner()) = Some(Listening {
        gather: gather.clone(),
        scheduled,
    });
    redbridge::set_global_listener(Some(gather));
    Ok(())
}

/// Stops listening: the core's listener is removed and what is still gathered discarded.
#[napi]
pub fn observe_stop() {
    redbridge::set_global_listener(None);
    LISTENING.lock().unwrap_or_else(|p| p.into_inner()).take();
}

/// Whether a listener is registered with the core (`observeStart` without a stop).
#[napi]
pub fn observe_active() -> bool {
    current().is_some()
}

fn place(p: &Place) -> (String, u32, i64) {
    (p.host.clone(), u32::from(p.port), p.db)
}

/// Takes at most `max` operations and other events, and every count; `null` when none
/// wait or nobody listens.
#[napi]
pub fn observe_take(max: u32) -> Option<ObservedBatch> {
    let (gather, scheduled) = current()?;
    // Cleared before taking: an event gathered after this schedules a new call.
    scheduled.store(false, Ordering::Release);
    let batch = gather.take(max as usize);
    if batch.is_empty() {
        return None;
    }
    let n = batch.operations();
    let keys = batch
        .new_keys
        .into_iter()
        .map(|(id, k)| {
            let (host, port, db) = place(&k.place);
            ObservedKey {
                id,
                client: k.client as i64,
                name: k.name,
                host,
                port,
                db,
                error: k.error.map(code_of),
                code: k.code,
                retries: k.retries,
                served: k.served.name().to_string(),
                blocking: k.blocking,
            }
        })
        .collect();
    let (mut ids, mut seconds) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for (id, durations) in batch.ops {
        ids.extend(std::iter::repeat_n(id, durations.len()));
        seconds.extend(durations);
    }
    let others = batch
        .others
        .iter()
        .map(|o| {
            let (host, port, db) = place(&o.place);
            let mut out = ObservedOther {
                kind: "connection".to_string(),
                client: o.client as i64,
                name: None,
                role: None,
                host,
                port,
                db,
                seconds: o.seconds,
                error: None,
                detail: None,
                timed_out: None,
            };
            let role = match o.what {
                OtherKind::PoolWait { timed_out } => {
                    out.kind = "pool_wait".to_string();
                    out.timed_out = Some(timed_out);
                    return out;
                }
                OtherKind::Created(r) => {
                    out.name = Some("created".to_string());
                    r
                }
                OtherKind::Failed(r, e) => {
                    out.name = Some("failed".to_string());
                    out.error = Some(code_of(e));
                    r
                }
                OtherKind::Closed(r, reason) => {
                    out.name = Some("closed".to_string());
                    out.detail = Some(close_reason(reason).to_string());
                    r
                }
            };
            out.role = Some(role.name().to_string());
            out
        })
        .collect();
    let mut counts = Vec::new();
    for (client, amounts) in batch.counts {
        for ((kind, name), n) in COUNTED.iter().zip(amounts) {
            if n > 0 {
                counts.push(ObservedCount {
                    kind: kind.to_string(),
                    client: client as i64,
                    name: name.to_string(),
                    count: i64::try_from(n).unwrap_or(i64::MAX),
                });
            }
        }
    }
    Some(ObservedBatch {
        keys,
        ids: Uint32Array::new(ids),
        seconds: Float64Array::new(seconds),
        others,
        counts,
    })
}

fn close_reason(reason: CloseReason) -> &'static str {
    match reason {
        CloseReason::Application => "application",
        CloseReason::Timeout => "timeout",
        CloseReason::Idle => "idle",
        _ => "error",
    }
}

/// Events dropped because the gathering was full, since listening started.
#[napi]
pub fn observe_dropped() -> f64 {
    current().map_or(0.0, |(g, _)| g.dropped() as f64)
}
