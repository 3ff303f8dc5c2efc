//! A listener that gathers events for a binding which records them later, in batches,
//! on a thread of its own runtime (Python's recording thread, Node's JS thread).
//!
//! What a runtime pays per recorded operation is what matters (an OpenTelemetry SDK's
//! `record` costs microseconds there), so the gathering does the rest once, here:
//! operations are grouped by what their attributes depend on ([`OpKey`]: client,
//! command, server, outcome, retries, how served), each key gets a stable number the
//! first time it is seen, and a batch hands the runtime the new keys once, then per key
//! only the durations. A binding builds one attributes object per key and keeps it. On
//! the thread of the event: a hash of the borrowed fields, one lookup under a lock, one
//! `f64` pushed; no allocation once the key is known. Events that only count (cache,
//! pub/sub) are added up per client; connection events and pool waits are rare and kept
//! as they come.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

use super::events::{
    CacheOutcome, CloseReason, ConnectionRole, Event, Listener, Operation, Served, Server,
};
use crate::error::ErrorKind;

/// Keys known at most (a new one beyond is dropped and counted): far more than the
/// commands times servers times outcomes an application meets.
const MAX_KEYS: usize = 100_000;

/// A server, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// Host (or socket path), as in [`Server`].
    pub host: String,
    /// TCP port, 0 for a Unix socket.
    pub port: u16,
    /// Database index.
    pub db: i64,
}

impl Place {
    fn of(s: &Server<'_>) -> Place {
        Place {
            host: s.host.to_string(),
            port: s.port,
            db: s.db,
        }
    }

    fn is(&self, s: &Server<'_>) -> bool {
        self.host == s.host && self.port == s.port && self.db == s.db
    }
}

/// What an operation's attributes depend on: all of an [`Operation`] but its duration
/// and batch size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpKey {
    /// The client ([`super::Events::client_id`]).
    pub client: u64,
    /// The command's table name, `PIPELINE` or `MULTI`.
    pub name: String,
    /// Where it went.
    pub place: Place,
    /// The final error's kind, if it failed.
    pub error: Option<ErrorKind>,
    /// The server's error code, if the server refused it.
    pub code: Option<String>,
    /// Attempts after the first.
    pub retries: u32,
    /// How it was served.
    pub served: Served,
    /// A blocking command.
    pub blocking: bool,
}

impl OpKey {
    fn is(&self, client: u64, op: &Operation<'_>) -> bool {
        self.client == client
            && self.name == op.name
            && self.place.is(&op.server)
            && self.error == op.error
            && self.code.as_deref() == op.code
            && self.retries == op.retries
            && self.served == op.served
            && self.blocking == op.blocking
    }
}

fn hash_of(client: u64, op: &Operation<'_>) -> u64 {
    // FxHash: the key's fields are the client's own, nothing an attacker picks to collide.
    let mut h = rustc_hash::FxHasher::default();
    (
        client,
        op.name,
        op.server.host,
        op.server.port,
        op.server.db,
    )
        .hash(&mut h);
    (op.error, op.code, op.retries, op.served as u8, op.blocking).hash(&mut h);
    h.finish()
}

/// A connection event or a pool wait, owned.
#[derive(Clone, Debug, PartialEq)]
pub struct Other {
    /// The client.
    pub client: u64,
    /// What happened.
    pub what: OtherKind,
    /// The server.
    pub place: Place,
    /// Create time of a created connection, time waited for a lease; else 0.
    pub seconds: f64,
}

/// What an [`Other`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OtherKind {
    /// A connection is ready.
    Created(ConnectionRole),
    /// Opening one failed.
    Failed(ConnectionRole, ErrorKind),
    /// One was closed.
    Closed(ConnectionRole, CloseReason),
    /// A lease from the pool was waited for (and timed out, or not).
    PoolWait {
        /// It gave up after `pool_timeout`.
        timed_out: bool,
    },
}

/// The counting events, by index in [`Counts`].
pub const COUNTED: [(&str, &str); 5] = [
    ("cache", "hit"),
    ("cache", "miss"),
    ("cache", "invalidation"),
    ("pubsub", "received"),
    ("pubsub", "dropped"),
];

/// Per client, how many of each [`COUNTED`] event.
pub type Counts = [u64; COUNTED.len()];

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

/// What a [`Gather::take`] hands over.
#[derive(Debug, Default)]
pub struct Batch {
    /// Keys seen for the first time since the last take, with their numbers.
    pub new_keys: Vec<(u32, OpKey)>,
    /// Per key number, the durations (seconds) of its operations, oldest first.
    pub ops: Vec<(u32, Vec<f64>)>,
    /// Connection events and pool waits, oldest first.
    pub others: Vec<Other>,
    /// Per client, the counting events added up.
    pub counts: Vec<(u64, Counts)>,
}

impl Batch {
    /// Nothing in it.
    pub fn is_empty(&self) -> bool {
        self.new_keys.is_empty()
            && self.ops.is_empty()
            && self.others.is_empty()
            && self.counts.is_empty()
    }

    /// Operations in it.
    pub fn operations(&self) -> usize {
        self.ops.iter().map(|(_, d)| d.len()).sum()
    }
}

#[derive(Default)]
struct State {
    keys: Vec<OpKey>,
    by_hash: HashMap<u64, Vec<u32>>,
    /// Keys not yet handed over: from this index on.
    announced: usize,
    /// Per key number, durations waiting; `waiting` lists the numbers with some.
    durations: Vec<Vec<f64>>,
    waiting: Vec<u32>,
    others: Vec<Other>,
    counts: HashMap<u64, Counts>,
    /// Operations and others waiting, against the capacity.
    queued: usize,
}

impl State {
    fn is_empty(&self) -> bool {
        self.waiting.is_empty() && self.others.is_empty() && self.counts.is_empty()
    }

    /// The number of `op`'s key, new or known; `None` when the table is full.
    fn key(&mut self, client: u64, op: &Operation<'_>) -> Option<u32> {
        let h = hash_of(client, op);
        if let Some(ids) = self.by_hash.get(&h) {
            if let Some(&id) = ids
                .iter()
                .find(|&&id| self.keys[id as usize].is(client, op))
            {
                return Some(id);
            }
        }
        if self.keys.len() >= MAX_KEYS {
            return None;
        }
        let id = u32::try_from(self.keys.len()).ok()?;
        self.keys.push(OpKey {
            client,
            name: op.name.to_string(),
            place: Place::of(&op.server),
            error: op.error,
            code: op.code.map(str::to_string),
            retries: op.retries,
            served: op.served,
            blocking: op.blocking,
        });
        self.durations.push(Vec::new());
        self.by_hash.entry(h).or_default().push(id);
        Some(id)
    }
}

/// The gathering listener. Register it (globally or per client), then [`Gather::take`]
/// batches from the runtime's thread.
pub struct Gather {
    state: Mutex<State>,
    ready: Condvar,
    capacity: usize,
    dropped: AtomicU64,
    /// Called when the first event arrives after a take (outside the lock), so the
    /// runtime can schedule one call of its own.
    wake: Box<dyn Fn() + Send + Sync>,
}

impl Gather {
    /// Holds at most `capacity` operations and other events between two takes (then
    /// drops them and counts them); `wake` is called when an event arrives and none was
    /// waiting.
    pub fn new(capacity: usize, wake: Box<dyn Fn() + Send + Sync>) -> Gather {
        Gather {
            state: Mutex::default(),
            ready: Condvar::new(),
            capacity: capacity.max(1),
            dropped: AtomicU64::new(0),
            wake,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes everything gathered (at most `max` operations and others; counts always).
    pub fn take(&self, max: usize) -> Batch {
        let mut s = self.lock();
        let mut batch = Batch {
            new_keys: (s.announced..s.keys.len())
                .map(|i| (i as u32, s.keys[i].clone()))
                .collect(),
            ..Batch::default()
        };
        s.announced = s.keys.len();
        let mut room = max.max(1);
        let n = s.others.len().min(room);
        batch.others = s.others.drain(..n).collect();
        room -= n;
        while room > 0 {
            let Some(&id) = s.waiting.last() else { break };
            let d = &mut s.durations[id as usize];
            if d.len() <= room {
                room -= d.len();
                batch.ops.push((id, std::mem::take(d)));
                s.waiting.pop();
            } else {
                batch.ops.push((id, d.drain(..room).collect()));
                room = 0;
            }
        }
        s.queued -= n + batch.operations();
        batch.counts = s.counts.drain().collect();
        batch
    }

    /// Waits up to `timeout` until something is gathered; whether something is.
    pub fn wait(&self, timeout: Duration) -> bool {
        let s = self.lock();
        if !s.is_empty() || timeout.is_zero() {
            return !s.is_empty();
        }
        let (s, _) = self
            .ready
            .wait_timeout_while(s, timeout, |s| s.is_empty())
            .unwrap_or_else(|p| p.into_inner());
        !s.is_empty()
    }

    /// Wakes every waiter (when listening stops).
    pub fn wake_all(&self) {
        self.ready.notify_all();
    }

    /// Events dropped because the capacity or the key table was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Relaxed)
    }

    fn woke(&self, was_empty: bool) {
        if was_empty {
            self.ready.notify_all();
            (self.wake)();
        }
    }
}

impl Listener for Gather {
    fn on_event(&self, client: u64, event: &Event<'_>) {
        let mut s = self.lock();
        let was_empty = s.is_empty();
        if let Some((at, n)) = counted(event) {
            s.counts.entry(client).or_default()[at] += n;
            drop(s);
            return self.woke(was_empty);
        }
        if s.queued >= self.capacity {
            self.dropped.fetch_add(1, Relaxed);
            return;
        }
        match event {
            Event::Operation(op) => {
                let Some(id) = s.key(client, op) else {
                    self.dropped.fetch_add(1, Relaxed);
                    return;
                };
                if s.durations[id as usize].is_empty() {
                    s.waiting.push(id);
                }
                s.durations[id as usize].push(op.duration.as_secs_f64());
            }
            _ => {
                let Some(other) = other_of(client, event) else {
                    return;
                };
                s.others.push(other);
            }
        }
        s.queued += 1;
        drop(s);
        self.woke(was_empty);
    }
}

fn other_of(client: u64, event: &Event<'_>) -> Option<Other> {
    let (what, server, took) = match event {
        Event::ConnectionCreated { role, server, took } => {
            (OtherKind::Created(*role), server, *took)
        }
        Event::ConnectionFailed {
            role,
            server,
            error,
        } => (OtherKind::Failed(*role, *error), server, Duration::ZERO),
        Event::ConnectionClosed {
            role,
            server,
            reason,
        } => (OtherKind::Closed(*role, *reason), server, Duration::ZERO),
        Event::PoolWait {
            server,
            waited,
            timed_out,
        } => (
            OtherKind::PoolWait {
                timed_out: *timed_out,
            },
            server,
            *waited,
        ),
        _ => return None,
    };
    Some(Other {
        client,
        what,
        place: Place::of(server),
        seconds: took.as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op<'a>(name: &'a str, error: Option<ErrorKind>, ms: u64) -> Event<'a> {
        Event::Operation(Operation {
            name,
            batch: 1,
            server: Server {
                host: "h",
                port: 1,
                db: 0,
            },
            duration: Duration::from_millis(ms),
            error,
            code: None,
            retries: 0,
            served: Served::Runtime,
            blocking: false,
        })
    }

    #[test]
    fn operations_are_grouped_by_key_and_keys_announced_once() {
        let woken = std::sync::Arc::new(AtomicU64::new(0));
        let w = woken.clone();
        let g = Gather::new(
            10,
            Box::new(move || {
                w.fetch_add(1, Relaxed);
            }),
        );
        g.on_event(1, &op("GET", None, 1));
        g.on_event(1, &op("GET", None, 2));
        g.on_event(1, &op("GET", Some(ErrorKind::Timeout), 3));
        g.on_event(2, &op("GET", None, 4));
        g.on_event(1, &Event::PubSubReceived);
        assert_eq!(woken.load(Relaxed), 1, "woken once, by the first event");
        let b = g.take(100);
        assert_eq!(b.new_keys.len(), 3);
        assert_eq!(b.operations(), 4);
        let get = b
            .new_keys
            .iter()
            .find(|(_, k)| k.client == 1 && k.error.is_none());
        let (id, _) = get.expect("client 1's GET");
        let (_, d) = b.ops.iter().find(|(i, _)| i == id).expect("its durations");
        assert_eq!(d, &[0.001, 0.002]);
        assert_eq!(b.counts, vec![(1, [0, 0, 0, 1, 0])]);
        g.on_event(1, &op("GET", None, 5));
        let b = g.take(100);
        assert!(b.new_keys.is_empty(), "known keys are not announced again");
        assert_eq!(b.ops, vec![(*id, vec![0.005])]);
        assert_eq!(woken.load(Relaxed), 2);
    }

    /// What gathering one operation of a known key costs on the event's thread (the
    /// hash, the lock, the push): `cargo test --release -p redbridge-core --lib
    /// gather_cost -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn gather_cost() {
        let g = Gather::new(usize::MAX, Box::new(|| {}));
        let event = op("GET", None, 1);
        let n = 1_000_000;
        let mut best = f64::MAX;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            for _ in 0..n {
                g.on_event(1, &event);
            }
            best = best.min(t.elapsed().as_nanos() as f64 / n as f64);
            g.take(usize::MAX);
        }
        println!("gathering one operation: {best:.0} ns");
    }

    #[test]
    fn capacity_drops_and_take_limits() {
        let g = Gather::new(3, Box::new(|| {}));
        for ms in 0..5 {
            g.on_event(1, &op("GET", None, ms));
        }
        assert_eq!(g.dropped(), 2);
        assert_eq!(g.take(2).operations(), 2);
        assert_eq!(g.take(2).operations(), 1);
        assert!(g.take(2).is_empty());
        g.on_event(1, &op("GET", None, 9));
        assert!(g.wait(Duration::ZERO));
    }
}
