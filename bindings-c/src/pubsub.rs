//! `redbridge_pubsub`: the core's subscriber (its own connection, resubscribed after every
//! loss, a bounded queue, gaps reported) with its events as `redbridge_message`s, taken
//! one at a time (`redbridge_pubsub_next`) or handed to a callback (`redbridge_pubsub_run`).
//!
//! The handle is reference counted (`Arc::into_raw`): a call holds a reference while it
//! runs, so `redbridge_pubsub_free` may come from another thread (or from the callback)
//! while a call waits; it closes the subscriber, the waiting call returns
//! `REDBRIDGE_ERR_CANCELLED`, and the memory goes with the last reference.
//!
//! Waiting is the core's cancel-safe `Subscriber::next_event`, polled on the calling
//! thread by a small parking executor that also watches `redbridge_pubsub_stop` and the
//! deadline, so a stop wakes a waiting call at once (no polling in slices).

use std::ffi::{c_char, c_int, c_longlong, c_void, CStr};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use redbridge::{
    Error, ErrorKind, GapCause, MessageKind, PubSubEvent, PubSubOptions, SubscriptionKind,
    SyncSubscriber,
};

use crate::client::redbridge_client;
use crate::ffi::{arg, arg_slices, boundary, null, out_ptr, put, redbridge_status};

/// A message published to a subscribed channel (`channel`, `payload`).
pub const REDBRIDGE_PUBSUB_MESSAGE: c_int = 1;
/// A message published to a channel matching a subscribed pattern (`pattern`,
/// `channel`, `payload`).
pub const REDBRIDGE_PUBSUB_PMESSAGE: c_int = 2;
/// A message SPUBLISHed to a subscribed shard channel (`channel`, `payload`).
pub const REDBRIDGE_PUBSUB_SMESSAGE: c_int = 3;
/// The server confirmed a SUBSCRIBE (`channel`, `count`).
pub const REDBRIDGE_PUBSUB_SUBSCRIBE: c_int = 4;
/// The server confirmed an UNSUBSCRIBE (`channel`, NULL when nothing was subscribed;
/// `count`).
pub const REDBRIDGE_PUBSUB_UNSUBSCRIBE: c_int = 5;
/// The server confirmed a PSUBSCRIBE (the pattern in `channel`, `count`).
pub const REDBRIDGE_PUBSUB_PSUBSCRIBE: c_int = 6;
/// The server confirmed a PUNSUBSCRIBE (the pattern in `channel`, `count`).
pub const REDBRIDGE_PUBSUB_PUNSUBSCRIBE: c_int = 7;
/// The server confirmed an SSUBSCRIBE (`channel`, `count` of shard channels).
pub const REDBRIDGE_PUBSUB_SSUBSCRIBE: c_int = 8;
/// The server confirmed an SUNSUBSCRIBE (`channel`, `count` of shard channels).
pub const REDBRIDGE_PUBSUB_SUNSUBSCRIBE: c_int = 9;
/// Messages may be missing at this point of the stream (`gap_cause`, `dropped`).
pub const REDBRIDGE_PUBSUB_GAP: c_int = 10;
/// The answer to redbridge_pubsub_ping (`payload`: what the PING carried, empty
/// without a message), in order with the messages received before it.
pub const REDBRIDGE_PUBSUB_PONG: c_int = 11;

/// Gap cause: the connection was lost and made again, with every subscription; what
/// was published meanwhile was not received (how much is unknown, `dropped` is 0).
pub const REDBRIDGE_GAP_RECONNECTED: c_int = 1;
/// Gap cause: the subscriber's queue was full (the application reads slower than
/// messages arrive); `dropped` messages were discarded here.
pub const REDBRIDGE_GAP_OVERFLOW: c_int = 2;

/// One event of a subscriber, in the order it happened. Laid out like a reply: each
/// string is sized and also NUL-terminated (binary data may hold NUL bytes: use the
/// length), NULL when absent. Free it with redbridge_message_free (a message handed to
/// a redbridge_pubsub_run callback is freed by run).
#[repr(C)]
pub struct redbridge_message {
    /// REDBRIDGE_PUBSUB_*.
    pub kind: c_int,
    /// The kind as the server names it ("message", "pmessage", "smessage", "subscribe",
    /// "unsubscribe", "psubscribe", …) or "gap". Static; do not free.
    pub kind_name: *const c_char,
    /// Messages: the channel published to. Confirmations: the channel, pattern or shard
    /// channel named (NULL for an unsubscribe when nothing was subscribed). Gaps: NULL.
    pub channel: *const c_char,
    /// Length of `channel` in bytes.
    pub channel_len: usize,
    /// PMESSAGE: the subscribed pattern that matched; NULL otherwise.
    pub pattern: *const c_char,
    /// Length of `pattern` in bytes.
    pub pattern_len: usize,
    /// Messages: what was published; NULL otherwise.
    pub payload: *const c_char,
    /// Length of `payload` in bytes.
    pub payload_len: usize,
    /// Confirmations: subscriptions the connection has after it (shard channels counted
    /// apart, as the server does); 0 otherwise.
    pub count: c_longlong,
    /// GAP: REDBRIDGE_GAP_RECONNECTED or REDBRIDGE_GAP_OVERFLOW; 0 otherwise.
    pub gap_cause: c_int,
    /// GAP with REDBRIDGE_GAP_OVERFLOW: messages dropped; 0 otherwise.
    pub dropped: u64,
}

/// A message and the buffers its pointers point into. `msg` comes first, so a pointer
/// to the message is a pointer to this (what redbridge_message_free takes back).
#[repr(C)]
struct Owned {
    msg: redbridge_message,
    _buffers: [Vec<u8>; 3],
}

/// A string field: the bytes with a NUL after them (kept alive by `Owned`), and its
/// pointer and length; NULL and 0 when absent.
fn field(bytes: Option<Vec<u8>>) -> (Vec<u8>, *const c_char, usize) {
    match bytes {
        Some(mut b) => {
            let len = b.len();
            b.push(0);
            let p = b.as_ptr().cast::<c_char>();
            (b, p, len)
        }
        None => (Vec::new(), std::ptr::null(), 0),
    }
}

fn kind_of(kind: SubscriptionKind) -> (c_int, &'static CStr) {
    match kind {
        SubscriptionKind::Subscribe => (REDBRIDGE_PUBSUB_SUBSCRIBE, c"subscribe"),
        SubscriptionKind::Unsubscribe => (REDBRIDGE_PUBSUB_UNSUBSCRIBE, c"unsubscribe"),
        SubscriptionKind::PSubscribe => (REDBRIDGE_PUBSUB_PSUBSCRIBE, c"psubscribe"),
        SubscriptionKind::PUnsubscribe => (REDBRIDGE_PUBSUB_PUNSUBSCRIBE, c"punsubscribe"),
        SubscriptionKind::SSubscribe => (REDBRIDGE_PUBSUB_SSUBSCRIBE, c"ssubscribe"),
        SubscriptionKind::SUnsubscribe => (REDBRIDGE_PUBSUB_SUNSUBSCRIBE, c"sunsubscribe"),
    }
}

impl Owned {
    fn new(event: PubSubEvent) -> Owned {
        let mut msg = redbridge_message {
            kind: 0,
            kind_name: c"".as_ptr(),
            channel: std::ptr::null(),
            channel_len: 0,
            pattern: std::ptr::null(),
            pattern_len: 0,
            payload: std::ptr::null(),
            payload_len: 0,
            count: 0,
            gap_cause: 0,
            dropped: 0,
        };
        let (channel, pattern, payload) = match event {
            PubSubEvent::Message(m) => {
                let (kind, name) = match m.kind {
                    MessageKind::Message => (REDBRIDGE_PUBSUB_MESSAGE, c"message"),
                    MessageKind::PMessage => (REDBRIDGE_PUBSUB_PMESSAGE, c"pmessage"),
                    MessageKind::SMessage => (REDBRIDGE_PUBSUB_SMESSAGE, c"smessage"),
                };
                (msg.kind, msg.kind_name) = (kind, name.as_ptr());
                (Some(m.channel), m.pattern, Some(m.payload))
            }
            PubSubEvent::Subscription {
                kind,
                channel,
                count,
            } => {
                let (kind, name) = kind_of(kind);
                (msg.kind, msg.kind_name, msg.count) = (kind, name.as_ptr(), count);
                (channel, None, None)
            }
            PubSubEvent::Gap(g) => {
                (msg.kind, msg.kind_name) = (REDBRIDGE_PUBSUB_GAP, c"gap".as_ptr());
                msg.gap_cause = match g.cause {
                    GapCause::Reconnected => REDBRIDGE_GAP_RECONNECTED,
                    GapCause::Overflow => REDBRIDGE_GAP_OVERFLOW,
                };
                msg.dropped = g.dropped;
                (None, None, None)
            }
            PubSubEvent::Pong(data) => {
                (msg.kind, msg.kind_name) = (REDBRIDGE_PUBSUB_PONG, c"pong".as_ptr());
                (None, None, Some(data))
            }
        };
        let (channel, p, n) = field(channel);
        (msg.channel, msg.channel_len) = (p, n);
        let (pattern, p, n) = field(pattern);
        (msg.pattern, msg.pattern_len) = (p, n);
        let (payload, p, n) = field(payload);
        (msg.payload, msg.payload_len) = (p, n);
        Owned {
            msg,
            _buffers: [channel, pattern, payload],
        }
    }
}

/// A subscriber (an opaque handle): subscriptions on a connection of its own, kept by
/// the core across reconnects, and a bounded queue of events. Unlike the other handles
/// besides the client, it may be used from several threads at once.
pub struct redbridge_pubsub {
    sub: SyncSubscriber,
    /// Set by redbridge_pubsub_free: calls still running on the handle are cancelled.
    freed: AtomicBool,
    stop: Stop,
}

/// redbridge_pubsub_stop's request and the wakers of the calls waiting meanwhile.
#[derive(Default)]
struct Stop {
    requested: AtomicBool,
    waiters: Mutex<Vec<(u64, Waker)>>,
    ids: AtomicU64,
}

impl Stop {
    /// Takes a pending stop request (one call consumes each).
    fn take(&self) -> bool {
        self.requested.swap(false, Ordering::AcqRel)
    }

    fn request(&self) {
        self.requested.store(true, Ordering::Release);
        self.wake_all();
    }

    fn wake_all(&self) {
        let waiters = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        for (_, w) in waiters.iter() {
            w.wake_by_ref();
        }
    }

    fn register(&self, waker: &Waker) -> Registration<'_> {
        let id = self.ids.fetch_add(1, Ordering::Relaxed);
        self.waiters
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, waker.clone()));
        Registration { stop: self, id }
    }
}

/// A waiting call's place among the stop's waiters, left when the call ends.
struct Registration<'a> {
    stop: &'a Stop,
    id: u64,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let mut w = self.stop.waiters.lock().unwrap_or_else(|p| p.into_inner());
        w.retain(|(id, _)| *id != self.id);
    }
}

/// Wakes the parked calling thread.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// What ended a wait.
enum Woke {
    Event(PubSubEvent),
    Stopped,
    TimedOut,
}

impl redbridge_pubsub {
    /// The error for a call that found (or saw) the handle freed.
    fn freed_error() -> Error {
        Error::new(
            ErrorKind::Cancelled,
            "the subscriber was freed (redbridge_pubsub_free) while this call was running",
        )
    }

    /// A core error, or the cancellation it stands for once the handle is freed.
    fn error(&self, e: Error) -> Error {
        if self.freed.load(Ordering::Acquire) {
            Self::freed_error()
        } else {
            e
        }
    }

    /// The next event, a stop request, or the deadline (`None`: none), whichever comes
    /// first; a stop is seen before a queued event. Polls the core's cancel-safe read on
    /// the calling thread, which parks in between.
    fn wait(&self, deadline: Option<Instant>) -> Result<Woke, Error> {
        // The fast path of a busy stream: an event already queued, no waker made.
        if self.stop.take() {
            return Ok(Woke::Stopped);
        }
        if let Some(e) = self.sub.try_next_soon().map_err(|e| self.error(e))? {
            return Ok(Woke::Event(e));
        }
        let _context = redbridge::runtime::runtime().enter();
        let waker = Waker::from(Arc::new(Unpark(thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut next = pin!(self.sub.as_async().next_event());
        let mut registration = None;
        loop {
            if self.stop.take() {
                return Ok(Woke::Stopped);
            }
            if let Poll::Ready(r) = next.as_mut().poll(&mut cx) {
                return r.map(Woke::Event).map_err(|e| self.error(e));
            }
            if registration.is_none() {
                // Look again once registered: a stop in between must not be missed.
                registration = Some(self.stop.register(&waker));
                continue;
            }
            match deadline {
                None => thread::park(),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(Woke::TimedOut);
                    }
                    thread::park_timeout(d - now);
                }
            }
        }
    }
}

/// A reference to the handle for the duration of a call.
fn handle(p: *const redbridge_pubsub) -> Result<Arc<redbridge_pubsub>, Error> {
    if p.is_null() {
        return Err(null("pubsub"));
    }
    // SAFETY: `p` came from Arc::into_raw in redbridge_pubsub_new_with and its reference
    // was not given up (redbridge_pubsub_free) before this call began (header contract).
    // The count goes up before the Arc is made, so the call owns one reference.
    unsafe {
        Arc::increment_strong_count(p);
        Ok(Arc::from_raw(p))
    }
}

/// A deadline `timeout_ms` from now; `None` (no deadline) when negative or too far.
fn deadline(timeout_ms: i64) -> Option<Instant> {
    let ms = u64::try_from(timeout_ms).ok()?;
    Instant::now().checked_add(Duration::from_millis(ms))
}

/// Opens a subscriber with the client's configuration (address, TLS, AUTH, db, client
/// name, timeouts, reconnect backoff) on a connection of its own, always RESP3 there
/// (events look the same whatever the client's protocol). Its counters go into the
/// client's redbridge_stats. The connection opens with the first subscription; the
/// client may be freed before or after the subscriber. On a cluster client it is the
/// core's cluster subscriber: shard channels at the primary of their slot (followed when
/// the slot moves, behind a GAP), other channels and patterns at one primary. The queue
/// keeps at most `max_messages` messages and `max_bytes` bytes (channel + pattern +
/// payload); what does not fit is dropped and reported as a GAP. Every `health_check_interval_ms` a PING checks the
/// connection. 0 for any of the three means the default (100000 messages, 8 MiB, the
/// connect timeout). On success *out is a handle to free with redbridge_pubsub_free.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_new_with(
    client: *const redbridge_client,
    max_messages: usize,
    max_bytes: usize,
    health_check_interval_ms: u64,
    out: *mut *mut redbridge_pubsub,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?;
        let out = out_ptr(out, "out")?;
        let defaults = PubSubOptions::default();
        let options = PubSubOptions {
            max_messages: if max_messages == 0 {
                defaults.max_messages
            } else {
                max_messages
            },
            max_bytes: if max_bytes == 0 {
                defaults.max_bytes
            } else {
                max_bytes
            },
            health_check_interval: (health_check_interval_ms > 0)
                .then(|| Duration::from_millis(health_check_interval_ms)),
        };
        let sub = client.inner.pubsub(options)?;
        let handle = Arc::new(redbridge_pubsub {
            sub,
            freed: AtomicBool::new(false),
            stop: Stop::default(),
        });
        put(out, Arc::into_raw(handle).cast_mut());
        Ok(())
    })
}

/// redbridge_pubsub_new_with with the default bounds and health check.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_new(
    client: *const redbridge_client,
    out: *mut *mut redbridge_pubsub,
) -> redbridge_status {
    redbridge_pubsub_new_with(client, 0, 0, 0, out)
}

/// Subscribes or unsubscribes `argc` binary-safe names, as the core's subscriber does.
fn change(
    pubsub: *const redbridge_pubsub,
    kind: SubscriptionKind,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> redbridge_status {
    boundary(|| {
        let h = handle(pubsub)?;
        let Ok(n) = usize::try_from(argc) else {
            return Err(Error::invalid("argc must not be negative"));
        };
        let names = arg_slices(n, argv, argvlen)?;
        if h.freed.load(Ordering::Acquire) {
            return Err(redbridge_pubsub::freed_error());
        }
        let names = names.into_iter().map(<[u8]>::to_vec);
        let result = match kind {
            SubscriptionKind::Subscribe
            | SubscriptionKind::PSubscribe
            | SubscriptionKind::SSubscribe => {
                if n == 0 {
                    let (_, name) = kind_of(kind);
                    return Err(Error::invalid(format!(
                        "{} needs at least one name: argc is 0",
                        name.to_string_lossy()
                    )));
                }
                h.sub.subscribe(kind, names)
            }
            _ => h.sub.unsubscribe(kind, names),
        };
        result.map_err(|e| h.error(e))
    })
}

/// Subscribes to `argc` channels (SUBSCRIBE), each binary-safe as in
/// redbridge_command_argv (`argv[i]` of `argvlen[i]` bytes; `argvlen` NULL means
/// NUL-terminated strings). Returns once the server confirmed; the confirmations also
/// arrive as REDBRIDGE_PUBSUB_SUBSCRIBE events. argc 0 is REDBRIDGE_ERR_INVALID_ARGUMENT.
/// REDBRIDGE_ERR_CONNECTION when not connected within connect + response timeout: the
/// subscription is kept all the same, and made when the connection is back.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_subscribe(
    pubsub: *mut redbridge_pubsub,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> redbridge_status {
    change(pubsub, SubscriptionKind::Subscribe, argc, argv, argvlen)
}

/// Subscribes to `argc` glob patterns (PSUBSCRIBE); as redbridge_pubsub_subscribe.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_psubscribe(
    pubsub: *mut redbridge_pubsub,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> redbridge_status {
    change(pubsub, SubscriptionKind::PSubscribe, argc, argv, argvlen)
}

/// Subscribes to `argc` shard channels (SSUBSCRIBE, one command per channel, so that
/// channels of different slots never meet in one); as redbridge_pubsub_subscribe.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_ssubscribe(
    pubsub: *mut redbridge_pubsub,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> redbridge_status {
    change(pubsub, SubscriptionKind::SSubscribe, argc, argv, argvlen)
}

/// Unsubscribes from `argc` channels (UNSUBSCRIBE), or from every channel when argc is
/// 0 (`argv` may then be NULL). Returns once the server confirmed (at once when not
/// connected); the confirmations arrive as REDBRIDGE_PUBSUB_UNSUBSCRIBE events.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_unsubscribe(
    pubsub: *mut redbridge_pubsub,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> redbridge_status {
    change(pubsub, SubscriptionKind::Unsubscribe, argc, argv, argvlen)
}

/// Unsubscribes from `argc` patterns (PUNSUBSCRIBE), or from all when argc is 0; as
/// redbridge_pubsub_unsubscribe.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_punsubscribe(
    pubsub: *mut redbridge_pubsub,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> redbridge_status {
    change(pubsub, SubscriptionKind::PUnsubscribe, argc, argv, argvlen)
}

/// Unsubscribes from `argc` shard channels (SUNSUBSCRIBE), or from all when argc is 0;
/// as redbridge_pubsub_unsubscribe.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_sunsubscribe(
    pubsub: *mut redbridge_pubsub,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> redbridge_status {
    change(pubsub, SubscriptionKind::SUnsubscribe, argc, argv, argvlen)
}

/// Sends PING on the subscriber's connection (with `message` of `len` bytes, binary-safe,
/// when `message` is not NULL) and returns once the server answered; a
/// REDBRIDGE_PUBSUB_PONG event carrying `message` is queued then, after every event
/// received before it. REDBRIDGE_ERR_CONNECTION when not connected (subscribe first; a
/// subscriber reconnects by itself) or when no answer came within the response timeout.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_ping(
    pubsub: *mut redbridge_pubsub,
    message: *const c_char,
    len: usize,
) -> redbridge_status {
    boundary(|| {
        let h = handle(pubsub)?;
        let data = if message.is_null() {
            None
        } else {
            // SAFETY: the caller passes `len` readable bytes at a non-NULL `message`.
            Some(unsafe { std::slice::from_raw_parts(message.cast::<u8>(), len) }.to_vec())
        };
        if h.freed.load(Ordering::Acquire) {
            return Err(redbridge_pubsub::freed_error());
        }
        h.sub.ping(data).map_err(|e| h.error(e))
    })
}

/// Takes the next event, waiting at most `timeout_ms` milliseconds (0: only what is
/// queued; negative: as long as it takes). REDBRIDGE_OK with *message an event to free
/// with redbridge_message_free, or REDBRIDGE_OK with *message NULL when the time passed
/// first (a timeout is not an error). REDBRIDGE_ERR_CANCELLED when
/// redbridge_pubsub_stop interrupted the wait, or the handle was freed meanwhile.
/// Several threads may wait on one subscriber: each event goes to one of them.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_next(
    pubsub: *mut redbridge_pubsub,
    timeout_ms: i64,
    message: *mut *mut redbridge_message,
) -> redbridge_status {
    boundary(|| {
        let h = handle(pubsub)?;
        let out = out_ptr(message, "message")?;
        match h.wait(deadline(timeout_ms))? {
            Woke::Event(e) => {
                let owned = Box::into_raw(Box::new(Owned::new(e)));
                put(out, owned.cast::<redbridge_message>());
            }
            Woke::TimedOut => put(out, std::ptr::null_mut()),
            Woke::Stopped => {
                return Err(Error::new(
                    ErrorKind::Cancelled,
                    "redbridge_pubsub_next was interrupted by redbridge_pubsub_stop",
                ))
            }
        }
        Ok(())
    })
}

/// Receives every event of a subscriber in redbridge_pubsub_run: return 0 to go on,
/// anything else to stop. Called on the thread that called run; `message` (and its
/// strings) is valid only during the call, and freed by run. The callback may
/// subscribe, unsubscribe, stop or even free the subscriber.
pub type redbridge_pubsub_fn =
    Option<extern "C" fn(userdata: *mut c_void, message: *const redbridge_message) -> c_int>;

/// Delivers events to `callback(userdata, message)` on the calling thread, in order,
/// until the callback returns nonzero, redbridge_pubsub_stop is called (from another
/// thread, or from the callback), or `timeout_ms` milliseconds have passed (negative:
/// no limit); each of these returns REDBRIDGE_OK. Events not yet delivered stay queued
/// for the next call. REDBRIDGE_ERR_CANCELLED when the handle is freed meanwhile.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_run(
    pubsub: *mut redbridge_pubsub,
    callback: redbridge_pubsub_fn,
    userdata: *mut c_void,
    timeout_ms: i64,
) -> redbridge_status {
    boundary(|| {
        let h = handle(pubsub)?;
        let Some(callback) = callback else {
            return Err(null("callback"));
        };
        let until = deadline(timeout_ms);
        // Events are taken a burst at a time (one queue lock, not one per event); what
        // is left of a burst when the callback or a stop ends the call goes back to the
        // head of the queue. The clock is read once per burst (a wait reads it anyway).
        const BURST: usize = 64;
        let mut burst = Vec::with_capacity(BURST);
        loop {
            if h.sub
                .try_next_into(BURST, &mut burst)
                .map_err(|e| h.error(e))?
                == 0
            {
                match h.wait(until)? {
                    Woke::Event(e) => burst.push(e),
                    Woke::Stopped | Woke::TimedOut => return Ok(()),
                }
            }
            let mut events = burst.drain(..);
            while let Some(e) = events.next() {
                // A stop is seen before a queued event (as in wait); a cheap load first.
                if h.stop.requested.load(Ordering::Relaxed) && h.stop.take() {
                    h.sub.unread(std::iter::once(e).chain(events).collect());
                    return Ok(());
                }
                let owned = Owned::new(e);
                if callback(userdata, &owned.msg) != 0 {
                    h.sub.unread(events.collect());
                    return Ok(());
                }
                if h.freed.load(Ordering::Acquire) {
                    return Err(redbridge_pubsub::freed_error());
                }
            }
            drop(events);
            if until.is_some_and(|d| Instant::now() >= d) {
                return Ok(());
            }
        }
    })
}

/// Stops one waiting call on the subscriber: a redbridge_pubsub_run in progress returns
/// REDBRIDGE_OK, a redbridge_pubsub_next returns REDBRIDGE_ERR_CANCELLED. When none is
/// waiting, the next such call to start stops at once (so a stop that comes before its
/// run has begun is not lost). Callable from any thread, including from the callback.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_stop(pubsub: *mut redbridge_pubsub) -> redbridge_status {
    boundary(|| {
        handle(pubsub)?.stop.request();
        Ok(())
    })
}

/// How many channels, patterns and shard channels the subscriber is subscribed to (or
/// will be once connected); any of the three out-parameters may be NULL.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_subscriptions(
    pubsub: *const redbridge_pubsub,
    channels: *mut usize,
    patterns: *mut usize,
    shards: *mut usize,
) -> redbridge_status {
    boundary(|| {
        let s = handle(pubsub)?.sub.subscriptions();
        for (out, n) in [
            (channels, s.channels.len()),
            (patterns, s.patterns.len()),
            (shards, s.shards.len()),
        ] {
            if !out.is_null() {
                put(out, n);
            }
        }
        Ok(())
    })
}

/// Closes the subscriber's connection and frees the handle. NULL is a no-op. May be
/// called while other threads wait in redbridge_pubsub_next or _run on it (or from the
/// run callback): those calls return REDBRIDGE_ERR_CANCELLED, and the memory is
/// released when the last of them returns. No call may start on the handle afterwards.
#[no_mangle]
pub extern "C" fn redbridge_pubsub_free(pubsub: *mut redbridge_pubsub) {
    if pubsub.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: from Arc::into_raw in redbridge_pubsub_new_with; this gives up the
        // handle's own reference, once (contract). Running calls hold their own.
        let h = unsafe { Arc::from_raw(pubsub.cast_const()) };
        h.freed.store(true, Ordering::Release);
        h.sub.close();
        h.stop.wake_all();
    }));
}

/// Frees a message from redbridge_pubsub_next. NULL is a no-op.
#[no_mangle]
pub extern "C" fn redbridge_message_free(message: *mut redbridge_message) {
    if message.is_null() {
        return;
    }
    // SAFETY: made by Box::into_raw(Box<Owned>) in redbridge_pubsub_next; `msg` is the
    // first field of the repr(C) `Owned`, so the pointers agree. Freed once (contract).
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
        drop(Box::from_raw(message.cast::<Owned>()));
    }));
}
