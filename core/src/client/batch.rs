//! Requests from a foreign event loop (Node's JS thread, an asyncio loop), carried in
//! batches across the thread boundary.
//!
//! `docs/architecture.md` ("Batch the crossings") has the measurements: one crossing per
//! request costs more than the request. So
//! [`Batcher::submit`] only queues the command; the first submit after a flush wakes the
//! runtime once, and every command submitted until that flush runs goes out with it (the
//! multiplexed connection then writes them together). Replies go the other way the same
//! way: each completion is queued, and only the first after a [`Batcher::drain`] calls
//! the binding's `wake` (a threadsafe function, an eventfd write), so replies that arrive
//! together are settled by one callback on the loop's thread.
//!
//! The policy (guard, cache, routing, timeouts, retries) is the one request path's
//! ([`Client::begin`] … [`Client::end`]): a batch changes how requests cross threads,
//! not what happens to them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use redis::Value;

use super::{Begin, Client, ScanStream, Script};
use crate::command::Command;
use crate::connection::{DirectConn, Spin};
use crate::error::{Error, Result};
use crate::observe::{CloseReason, ConnectionRole, Event};
use crate::policy::route::{self, Carrier, Work};
use crate::policy::{self, Decision, Retry, Seat};
use crate::runtime;
use crate::wire::{self, Pipeline};

/// A SCAN iteration a binding holds between pages; a page request takes the stream out
/// while it fetches and puts it back before completing.
pub type ScanSlot = Arc<Mutex<Option<ScanStream>>>;

/// What a submitted request asks for.
enum Job {
    Command(Command),
    Pipeline(Pipeline),
    Scan(ScanSlot),
    /// A Lua script by SHA1 ([`Client::eval_script`]): always carried by the runtime,
    /// since its `EVAL` fallback is a second command that depends on the first's reply.
    Script(ScriptCall),
    /// A command or pipeline whose attempt on the loop's connection failed and that the
    /// retry policy resends: carried on by the runtime after `delay`, with its retry
    /// state (count, start time), so it ends as one request with its retries.
    Resent {
        again: Again,
        retry: Retry,
        delay: Duration,
    },
}

/// What the loop's connection carries, and so what may be resent from it.
enum Again {
    Command(Command),
    Pipeline(Pipeline),
}

/// A script submitted with its keys and arguments.
struct ScriptCall {
    script: Script,
    keys: Vec<Vec<u8>>,
    args: Vec<Vec<u8>>,
}

/// What a completed request gives back.
#[derive(Debug)]
pub enum Done {
    /// The reply of a command.
    Reply(Value),
    /// A pipeline's slots, in order: each command's reply or error.
    Slots(Vec<Result<Value>>),
    /// The next non-empty page of a scan, or `None` when it is complete.
    Page(Option<Vec<Value>>),
}

/// A completed request: the tag it was submitted with, and its result.
pub type Completion = (u64, Result<Done>);

/// Carries single commands from one event loop to the core and their replies back, a
/// batch per crossing. Cheap to clone (one shared state).
#[derive(Clone)]
pub struct Batcher {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    /// Jobs pushed to the runtime whose completions the loop has not drained yet.
    pending: AtomicUsize,
    /// The loop's own connection, when the binding drives one ([`Batcher::enable_loop_io`]).
    own: Option<Mutex<LoopIo>>,
    /// Jobs for the next flush: submission number, tag, job.
    submitted: Mutex<Vec<(u64, u64, Job)>>,
    /// The next submission number.
    next_seq: std::sync::atomic::AtomicU64,
    /// A flush task is scheduled and has not yet taken `submitted`.
    flush_armed: AtomicBool,
    /// Held by a flush while it takes its batch and queues it (see `flush`).
    order: Mutex<()>,
    /// Completions with their submission number (see `drain`).
    done: Mutex<Vec<(u64, Completion)>>,
    /// `wake` was called and the loop has not yet drained.
    wake_armed: AtomicBool,
    wake: Box<dyn Fn(&Batcher) + Send + Sync>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves plain vectors behind: still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Batcher {
    /// A batcher for `client`; `wake` is called (from a runtime thread, at most once per
    /// [`drain`](Batcher::drain)) when completions are waiting, with the batcher to drain
    /// (so it need not hold one itself, which would keep it alive forever). It must not
    /// block.
    pub fn new(client: Client, wake: impl Fn(&Batcher) + Send + Sync + 'static) -> Batcher {
        Batcher::build(client, wake, false)
    }

    /// A batcher whose loop also carries lone requests itself, on a connection of its
    /// own that the binding watches (a lone request must not pay two thread hops; see
    /// `docs/architecture.md`). After every call into the batcher the binding reads [`Batcher::loop_watch`]
    /// and keeps its poller and timer in step with it, then calls
    /// [`Batcher::on_readable`] / [`Batcher::on_timeout`] from the loop. Standalone
    /// servers over plain TCP or Unix sockets with a shared connection and no cache; for
    /// anything else this is [`Batcher::new`].
    pub fn with_loop_io(
        client: Client,
        wake: impl Fn(&Batcher) + Send + Sync + 'static,
    ) -> Batcher {
        let able = route::direct(client.config(), Carrier::Loop, Work::Any);
        Batcher::build(client, wake, able)
    }

    fn build(
        client: Client,
        wake: impl Fn(&Batcher) + Send + Sync + 'static,
        own: bool,
    ) -> Batcher {
        Batcher {
            inner: Arc::new(Inner {
                client,
                pending: AtomicUsize::new(0),
                own: own.then(|| Mutex::new(LoopIo::default())),
                submitted: Mutex::default(),
                next_seq: std::sync::atomic::AtomicU64::new(0),
                flush_armed: AtomicBool::new(false),
                order: Mutex::default(),
                done: Mutex::default(),
                wake_armed: AtomicBool::new(false),
                wake: Box::new(wake),
            }),
        }
    }

    /// The client requests run on.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Queues `cmd`; its result comes back from [`drain`](Batcher::drain) with `tag`
    /// (the binding's own request id). A reply the client-side cache holds is returned
    /// here instead, answered on the loop's thread with no I/O (then nothing comes back
    /// for `tag`). Never blocks and never waits for I/O.
    pub fn submit(&self, tag: u64, cmd: Command) -> Option<Value> {
        if let Some(hit) = self.inner.client.cached(&cmd) {
            return Some(hit);
        }
        self.route(tag, Job::Command(cmd));
        None
    }

    /// Queues a pipeline (or transaction); it completes with [`Done::Slots`].
    pub fn submit_pipeline(&self, tag: u64, pipe: Pipeline) {
        self.route(tag, Job::Pipeline(pipe));
    }

    /// Queues a run of `script` with `keys` and `args` ([`Client::eval_script`]:
    /// `EVALSHA`, then `EVAL` with the body on `NOSCRIPT`, counted as one request); it
    /// completes with [`Done::Reply`]. It is carried by the runtime, also when the
    /// batcher has a connection of its own: in order behind a request in flight there.
    pub fn submit_script(&self, tag: u64, script: Script, keys: Vec<Vec<u8>>, args: Vec<Vec<u8>>) {
        self.route(tag, Job::Script(ScriptCall { script, keys, args }));
    }

    /// A command or pipeline goes on the loop's own connection unless the runtime still
    /// carries requests of this batcher (then it goes there too, behind them). Requests
    /// of one turn are written together at its end ([`Batcher::flush_loop`]), behind
    /// those in flight: many in flight, replies settled in submission order. A request
    /// that cannot go that way waits (held) until the loop's connection has nothing in
    /// flight, then takes the runtime: nothing overtakes a request already submitted.
    fn route(&self, tag: u64, job: Job) {
        let Some(own) = &self.inner.own else {
            return self.push(tag, job);
        };
        let mut io = lock(own);
        if !io.held.is_empty() {
            io.held.push((tag, job));
            return;
        }
        if io.in_flight.is_empty()
            && io.candidates.is_empty()
            && io.awaiting.is_empty()
            && self.inner.pending.load(Ordering::Acquire) > 0
        {
            drop(io);
            return self.push(tag, job);
        }
        io.candidates.push((tag, job));
    }

    /// On the loop, once per turn while [`LoopWatch::candidates`] says so (Node: libuv's
    /// check and idle phases): the turn's requests are written on the loop's own
    /// connection with one write, in order. From the first one that cannot go there
    /// (a script, a blocking command, too large…) on, the rest take the runtime, at once
    /// when nothing is in flight here, else after it. While the connection opens, a
    /// request that could go there waits for it with those behind it (the loop is woken
    /// to write them once it is open), so the runtime opens no connection of its own for
    /// a client's first requests. Returns what failed at once (a write error that the
    /// retry policy does not resend).
    #[must_use = "requests that failed at once complete here"]
    pub fn flush_loop(&self) -> Vec<Completion> {
        let Some(own) = &self.inner.own else {
            return Vec::new();
        };
        let mut guard = lock(own);
        let io = &mut *guard;
        let candidates = std::mem::take(&mut io.candidates);
        let first_new = io.in_flight.len();
        let mut rest = candidates.into_iter();
        let mut left = Vec::new();
        for (tag, job) in rest.by_ref() {
            if let Some(job) = io.stage(&self.inner.client, tag, job) {
                left.push((tag, job));
                break;
            }
        }
        left.extend(rest);
        let mut done = Vec::new();
        let mut resend = Vec::new();
        if io.in_flight.len() > first_new && io.write_staged(first_new).is_err() {
            // The connection broke under the write: what it carried fails or, where the
            // retry policy allows, is resent through the runtime.
            io.fail_all(&self.inner.client, None, &mut done, &mut resend);
        }
        if !left.is_empty() {
            io.ensure_open(&self.inner);
            if io.waits_for_open(self.inner.client.config(), &left[0].1) {
                io.awaiting.append(&mut left);
            }
        }
        if io.in_flight.is_empty() {
            resend.append(&mut io.held);
            resend.append(&mut left);
        } else {
            io.held.append(&mut left);
        }
        drop(guard);
        for (tag, job) in resend {
            self.push(tag, job);
        }
        done
    }

    /// Connects the client for a binding whose clients connect explicitly (node-redis's
    /// `connect()`): the loop's own connection when the batcher has one (so a client holds
    /// that one connection, and the runtime opens its own only for what cannot go there),
    /// else the runtime's ([`Client::wait_connected`]). Waits at most `wait`; the error
    /// says why it could not connect.
    pub async fn connect(&self, wait: Duration) -> Result<()> {
        let Some(own) = &self.inner.own else {
            return self.inner.client.wait_connected(wait).await;
        };
        let started = Instant::now();
        let late = || {
            crate::connection::not_connected(&self.inner.client.config().target_or_addr(), wait, "")
        };
        loop {
            // Some(open begun here), None (one under way); the client's error if closed.
            let task = {
                let mut io = lock(own);
                if io.conn.is_some() || io.opened.is_some() {
                    return Ok(());
                }
                match io.opening {
                    true => Ok(None),
                    false => io.start_open(&self.inner).map(Some).ok_or(()),
                }
            };
            let left = wait.saturating_sub(started.elapsed());
            match task {
                Err(()) => return self.inner.client.wait_connected(wait).await,
                Ok(Some(task)) => {
                    return match tokio::time::timeout(left, task).await {
                        Ok(Ok(outcome)) => outcome.map_err(|e| {
                            crate::connection::connect_error(e, self.inner.client.config())
                        }),
                        Ok(Err(_)) => Err(Error::new(
                            crate::error::ErrorKind::Connection,
                            "the connection attempt stopped (the runtime is shutting down)",
                        )),
                        Err(_) => Err(late()),
                    };
                }
                // An open a request began: its outcome is the loop's to see; look again.
                Ok(None) if left.is_zero() => return Err(late()),
                Ok(None) => tokio::time::sleep(Duration::from_millis(2)).await,
            }
        }
    }

    /// What the binding must watch now: the socket of the loop's own connection and the
    /// request in flight on it (its sequence number and timeout).
    pub fn loop_watch(&self) -> LoopWatch {
        match &self.inner.own {
            None => LoopWatch::default(),
            Some(own) => {
                let io = lock(own);
                LoopWatch {
                    spin_until: io.spin_until(self.inner.client.config().spin_wait()),
                    fd: io.conn.as_ref().and_then(|c| c.raw_fd()),
                    in_flight: io.in_flight.front().map(|f| {
                        let left = f
                            .deadline
                            .map(|d| d.saturating_duration_since(Instant::now()));
                        (f.seq, left)
                    }),
                    candidates: !io.candidates.is_empty(),
                }
            }
        }
    }

    /// The binding's loop spun until [`LoopWatch::spin_until`] and no reply came: after
    /// a few of those, the loop sleeps for the next replies instead (see [`Spin`]).
    pub fn spin_ran_out(&self) {
        if let Some(own) = &self.inner.own {
            let mut io = lock(own);
            if !io.in_flight.is_empty() {
                io.spin.ran_out();
            }
        }
    }

    /// Closes connections the loop stopped watching (call after the poller let go of
    /// their sockets, so no descriptor number is reused while it is still watched).
    pub fn release_retired(&self) {
        if let Some(own) = &self.inner.own {
            lock(own).retired.clear();
        }
    }

    /// On the loop, when its connection's socket is readable: the completions of the
    /// requests in flight whose replies are all there, in order. A broken connection is
    /// retired; its requests are resent through the runtime where the retry policy
    /// allows it, else they fail. Once nothing is in flight, held requests go on.
    pub fn on_readable(&self) -> Vec<Completion> {
        let Some(own) = &self.inner.own else {
            return Vec::new();
        };
        let mut guard = lock(own);
        let io = &mut *guard;
        let mut done = Vec::new();
        let mut resend = Vec::new();
        let client = &self.inner.client;
        let spun_until = io.spin_until(client.config().spin_wait());
        let mut read = false;
        let failed = match io.conn.as_mut() {
            None => return done,
            Some(conn) => loop {
                match conn.try_recv() {
                    Ok(None) => break None,
                    Ok(Some(v)) => match io.in_flight.front_mut() {
                        // A reply nobody asked for: the connection is out of step.
                        None => {
                            break Some(Error::new(
                                crate::error::ErrorKind::Protocol,
                                "a reply arrived with no request in flight",
                            ))
                        }
                        Some(f) => {
                            read = true;
                            f.replies.push(v);
                            if f.replies.len() == f.want {
                                let f = io.in_flight.pop_front().expect("the front");
                                resend.extend(f.finish(client, &mut done));
                            }
                        }
                    },
                    Err(e) => break Some(e),
                }
            },
        };
        if read {
            let now = Instant::now();
            io.spin.replies_read(now, spun_until);
            io.last_io = Some(now);
        }
        if let Some(e) = failed {
            io.fail_all(client, Some(e), &mut done, &mut resend);
        }
        let held = if io.in_flight.is_empty() {
            std::mem::take(&mut io.held)
        } else {
            Vec::new()
        };
        drop(guard);
        self.release(resend, held);
        done
    }

    /// After requests on the loop's connection: those resent go first, then (once
    /// nothing is in flight there) the held ones: routed again when one is alone, else
    /// all to the runtime, behind the resent ones, so none overtakes another.
    fn release(&self, resend: Vec<(u64, Job)>, held: Vec<(u64, Job)>) {
        let alone = resend.is_empty() && held.len() == 1;
        for (tag, job) in resend {
            self.push(tag, job);
        }
        if alone {
            for (tag, job) in held {
                self.route(tag, job);
            }
        } else {
            for (tag, job) in held {
                self.push(tag, job);
            }
        }
    }

    /// On the loop, when the client closes: the request in flight on the loop's own
    /// connection and those held behind it fail, and the connection is retired.
    pub fn close_loop_io(&self) -> Vec<Completion> {
        let Some(own) = &self.inner.own else {
            return Vec::new();
        };
        let mut io = lock(own);
        io.retire(&self.inner.client, CloseReason::Application);
        let closed = || {
            Error::new(
                crate::error::ErrorKind::Connection,
                "the client was closed before the reply arrived",
            )
        };
        let mut done: Vec<Completion> = io
            .in_flight
            .drain(..)
            .map(|f| (f.tag, Err(closed())))
            .collect();
        done.extend(io.held.drain(..).map(|(tag, _)| (tag, Err(closed()))));
        done.extend(io.awaiting.drain(..).map(|(tag, _)| (tag, Err(closed()))));
        done.extend(io.candidates.drain(..).map(|(tag, _)| (tag, Err(closed()))));
        done
    }

    /// On the loop, when the oldest request in flight on its connection (`seq`, from
    /// [`Batcher::loop_watch`]) has waited its whole timeout: it fails (or is resent when
    /// the policy retries timeouts), and the connection is retired, since its reply may
    /// still come; the requests behind it fail with a connection error, or are resent
    /// where the retry policy allows.
    pub fn on_timeout(&self, seq: u64) -> Vec<Completion> {
        let Some(own) = &self.inner.own else {
            return Vec::new();
        };
        let mut guard = lock(own);
        let io = &mut *guard;
        let mut done = Vec::new();
        let mut resend = Vec::new();
        // The loop's timer may fire a little early: only a deadline passed counts.
        match io.in_flight.front() {
            Some(f) if f.seq == seq && f.deadline.is_none_or(|d| Instant::now() >= d) => {}
            _ => return done,
        }
        let f = io.in_flight.pop_front().expect("checked above");
        let e = Error::timeout(f.name(), f.timeout.unwrap_or_default());
        resend.extend(f.fail(&self.inner.client, e, &mut done));
        io.fail_all(&self.inner.client, None, &mut done, &mut resend);
        let held = std::mem::take(&mut io.held);
        drop(guard);
        self.release(resend, held);
        done
    }

    /// Queues the fetch of a scan's next page; it completes with [`Done::Page`]. A scan
    /// whose page is already being fetched completes with an error.
    pub fn submit_scan(&self, tag: u64, scan: ScanSlot) {
        self.route(tag, Job::Scan(scan));
    }

    fn push(&self, tag: u64, job: Job) {
        self.inner.pending.fetch_add(1, Ordering::AcqRel);
        let seq = self.inner.next_seq.fetch_add(1, Ordering::Relaxed);
        lock(&self.inner.submitted).push((seq, tag, job));
        if !self.inner.flush_armed.swap(true, Ordering::AcqRel) {
            let inner = Arc::clone(&self.inner);
            runtime::spawn(inner.flush());
        }
    }

    /// Every completion since the last drain, in the order the requests were submitted
    /// (two flushes running at once may record them in another). Call it from the loop
    /// when woken; the next completion wakes it again. With the loop's own connection,
    /// read [`Batcher::loop_watch`] after it too: a wake-up also comes when that
    /// connection opened for requests that waited for it (now candidates).
    pub fn drain(&self) -> Vec<Completion> {
        self.inner.wake_armed.store(false, Ordering::SeqCst);
        let mut done = std::mem::take(&mut *lock(&self.inner.done));
        self.inner.pending.fetch_sub(done.len(), Ordering::AcqRel);
        done.sort_by_key(|(seq, _)| *seq);
        done.into_iter().map(|(_, c)| c).collect()
    }
}

/// What an event loop must watch for its own connection ([`Batcher::loop_watch`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LoopWatch {
    /// The socket to poll for reading; `None` when there is no connection now.
    #[cfg(unix)]
    pub fd: Option<std::os::fd::RawFd>,
    /// The oldest request in flight: its sequence number (for [`Batcher::on_timeout`])
    /// and how long until its deadline (`None`: no limit). Requests behind it were sent
    /// later; one with a shorter timeout is timed once it is the oldest.
    pub in_flight: Option<(u64, Option<Duration>)>,
    /// Requests wait for [`Batcher::flush_loop`] at the end of this turn of the loop.
    pub candidates: bool,
    /// Until when the loop should poll without sleeping (requests are in flight and a
    /// reply is due soon; see [`Config::spin_wait`](crate::Config::spin_wait)): the binding
    /// keeps its loop turning until then, then lets it sleep.
    pub spin_until: Option<Instant>,
}

/// After a failed open, the loop's own connection is tried again after this long.
const OPEN_RETRY_AFTER: Duration = Duration::from_millis(500);

/// The loop's own connection and the requests in flight on it, oldest first.
#[derive(Default)]
struct LoopIo {
    conn: Option<DirectConn>,
    opening: bool,
    /// A connection opened before: the next one counts as a reconnect (`Stats`).
    ever_opened: bool,
    retry_after: Option<Instant>,
    /// Opened by a blocking task, installed by the loop on its next request.
    opened: Option<DirectConn>,
    in_flight: VecDeque<InFlight>,
    /// Submitted in this turn of the loop: written together at its end (`flush_loop`).
    candidates: Vec<(u64, Job)>,
    /// Requests that must take the runtime, submitted while requests were in flight
    /// here (and all submitted after them): pushed once nothing is in flight, in order.
    held: Vec<(u64, Job)>,
    /// Requests waiting for the connection being opened (the first one could go there,
    /// the rest came after it), in order: candidates again once it is open, pushed to
    /// the runtime if it fails.
    awaiting: Vec<(u64, Job)>,
    /// Dropped connections kept open until the binding's poller let go of them.
    retired: Vec<DirectConn>,
    seq: u64,
    /// The last write or read of requests in flight: a spin lasts `spin_wait` from it.
    last_io: Option<Instant>,
    spin: Spin,
}

struct InFlight {
    seq: u64,
    tag: u64,
    job: Job,
    want: usize,
    replies: Vec<Value>,
    timeout: Option<Duration>,
    deadline: Option<Instant>,
    retry: Retry,
}

impl LoopIo {
    /// Takes `job` in flight for the next write ([`LoopIo::write_staged`]); gives it back
    /// when it must take the runtime (no connection yet, not a plain command or
    /// pipeline, refused by the guard, too large).
    fn stage(&mut self, client: &Client, tag: u64, job: Job) -> Option<Job> {
        // A connection opened in the background is installed between requests only.
        if self.in_flight.is_empty() {
            if let Some(conn) = self.opened.take() {
                if let Some(old) = self.conn.replace(conn) {
                    self.retired.push(old);
                }
            }
        }
        if self.conn.is_none() {
            return Some(job);
        }
        let config = client.config();
        // What the policy lets go here (no blocking command, nothing large or needing a
        // dedicated connection), through the first half of the request path; a request
        // refused there takes the runtime, which refuses it the same way.
        let (want, timeout, mut retry) = match &job {
            Job::Command(cmd) if route::direct(config, Carrier::Loop, Work::Command(cmd)) => {
                match client.begin(cmd, Seat::Shared) {
                    Ok(Begin::Send(retry)) => (1, policy::response_timeout(cmd, config), retry),
                    _ => return Some(job),
                }
            }
            Job::Pipeline(pipe) if route::direct(config, Carrier::Loop, Work::Pipeline(pipe)) => {
                let Ok(retry) = client.begin_pipeline(pipe) else {
                    return Some(job);
                };
                let want = wire::wire_chunks(pipe).map(|c| c.len()).sum();
                (want, policy::pipeline_timeout(pipe, config), retry)
            }
            _ => return Some(job),
        };
        client.shared.stats.direct();
        retry.went_direct();
        self.seq += 1;
        self.in_flight.push_back(InFlight {
            seq: self.seq,
            tag,
            job,
            want,
            replies: Vec::with_capacity(want),
            timeout,
            deadline: None,
            retry,
        });
        None
    }

    /// Writes the requests in flight from `first` on (staged this turn) with one write;
    /// their deadlines start now.
    fn write_staged(&mut self, first: usize) -> Result<()> {
        let Some(conn) = self.conn.as_mut() else {
            return Err(Error::new(
                crate::error::ErrorKind::Connection,
                "the loop's connection is gone",
            ));
        };
        let staged = self.in_flight.range(first..);
        let chunks: Vec<Vec<_>> = staged
            .clone()
            .map(|f| match &f.job {
                Job::Pipeline(pipe) => wire::wire_chunks(pipe).collect(),
                _ => Vec::new(),
            })
            .collect();
        let mut cmds: Vec<&redis::Cmd> = Vec::with_capacity(chunks.len());
        for (f, chunks) in staged.zip(&chunks) {
            match &f.job {
                Job::Command(cmd) => cmds.push(cmd.cmd()),
                Job::Pipeline(_) => cmds.extend(chunks.iter().flat_map(|c| c.cmd_iter())),
                Job::Scan(_) | Job::Script(_) | Job::Resent { .. } => {
                    unreachable!("scans, scripts and resent requests are not sent here")
                }
            }
        }
        conn.send_nonblocking(cmds.into_iter())?;
        let now = Instant::now();
        for f in self.in_flight.range_mut(first..) {
            f.deadline = f.timeout.map(|t| now + t);
        }
        self.last_io = Some(now);
        Ok(())
    }

    /// Until when the loop should spin now: `spin_wait` after the last write or read,
    /// while requests are in flight and spinning has not been failing.
    fn spin_until(&self, spin_wait: Duration) -> Option<Instant> {
        if self.in_flight.is_empty() {
            return None;
        }
        self.spin.until(self.last_io?, spin_wait)
    }

    /// The connection failed (`e`) or is given up: it is retired and every request in
    /// flight on it settles, in order, through the retry policy: its error among `done`,
    /// or the job among `resend`.
    fn fail_all(
        &mut self,
        client: &Client,
        e: Option<Error>,
        done: &mut Vec<Completion>,
        resend: &mut Vec<(u64, Job)>,
    ) {
        // No error: given up after a request on it timed out.
        let reason = if e.is_some() {
            CloseReason::Error
        } else {
            CloseReason::Timeout
        };
        self.retire(client, reason);
        let e = e.unwrap_or_else(|| {
            Error::new(
                crate::error::ErrorKind::Connection,
                "the event loop's connection was dropped (an earlier request on it timed out or it broke) before the reply arrived",
            )
        });
        for f in self.in_flight.drain(..) {
            resend.extend(f.fail(client, e.clone(), done));
        }
    }

    /// Whether `job`, left over for want of a connection (or behind one that was), waits
    /// for the connection being opened: it could go there, or requests before it wait.
    fn waits_for_open(&self, config: &crate::Config, job: &Job) -> bool {
        if !self.opening {
            return false;
        }
        if !self.awaiting.is_empty() {
            return true;
        }
        match job {
            Job::Command(cmd) => route::direct(config, Carrier::Loop, Work::Command(cmd)),
            Job::Pipeline(pipe) => route::direct(config, Carrier::Loop, Work::Pipeline(pipe)),
            _ => false,
        }
    }

    /// Starts opening the connection in the background when there is none; once it is
    /// open (or failed), the requests awaiting it go on (see [`LoopIo::awaiting`]).
    fn ensure_open(&mut self, inner: &Arc<Inner>) {
        if self.conn.is_some() || self.opened.is_some() || self.opening {
            return;
        }
        if self.retry_after.is_some_and(|t| Instant::now() < t) {
            return;
        }
        self.start_open(inner);
    }

    /// Opens the connection on a blocking thread; the handle gives how it went (the
    /// connection itself is installed by the loop, between requests). `None` when the
    /// client has no engine (closed).
    fn start_open(&mut self, inner: &Arc<Inner>) -> Option<tokio::task::JoinHandle<Result<()>>> {
        let engine = inner.client.engine().ok()?;
        self.opening = true;
        let weak = Arc::downgrade(inner);
        let config = inner.client.config().clone();
        let redis = engine.redis.clone();
        Some(engine.runtime.spawn_blocking(move || {
            let began = Instant::now();
            let conn = DirectConn::open(&config, &redis).and_then(|mut c| {
                c.set_nonblocking(true)?;
                Ok(c)
            });
            let outcome = conn.as_ref().map(|_| ()).map_err(Clone::clone);
            if let Some(inner) = weak.upgrade() {
                inner.opened(conn, began);
            }
            outcome
        }))
    }

    /// Stops using the connection; it stays open until the binding releases it.
    fn retire(&mut self, client: &Client, reason: CloseReason) {
        if let Some(c) = self.conn.take() {
            self.retired.push(c);
            client.own_connection_event(|server| Event::ConnectionClosed {
                role: ConnectionRole::Direct,
                server,
                reason,
            });
        }
    }
}

impl InFlight {
    fn name(&self) -> &str {
        match &self.job {
            Job::Command(cmd) => cmd.name(),
            Job::Script(_) => "EVALSHA",
            _ => "pipeline",
        }
    }

    /// Settles the request from every reply read, through the second half of the
    /// request path: its completion among `done`, or (an error the policy retries) the
    /// job to resend through the runtime.
    fn finish(self, client: &Client, done: &mut Vec<Completion>) -> Option<(u64, Job)> {
        let InFlight {
            tag,
            job,
            mut replies,
            retry,
            ..
        } = self;
        let completion = match &job {
            Job::Command(cmd) => match wire::slot(replies.pop().unwrap_or_default()) {
                Ok(v) => client.end(cmd, Ok(v), Some(&retry)).map(Done::Reply),
                Err(e) => return settle_failure(client, tag, job, retry, e, done),
            },
            Job::Pipeline(pipe) => match wire::finish(pipe, replies) {
                Ok(slots) => client
                    .end_pipeline(pipe, Ok(slots), Some(&retry))
                    .map(Done::Slots),
                Err(e) => return settle_failure(client, tag, job, retry, e, done),
            },
            Job::Scan(_) | Job::Script(_) | Job::Resent { .. } => {
                unreachable!("scans, scripts and resent requests are not sent here")
            }
        };
        done.push((tag, completion));
        None
    }

    /// A request whose connection failed or timed out: see [`settle_failure`].
    fn fail(self, client: &Client, e: Error, done: &mut Vec<Completion>) -> Option<(u64, Job)> {
        settle_failure(client, self.tag, self.job, self.retry, e, done)
    }
}

/// A request that failed on the loop's connection: the job to resend through the
/// runtime when the retry policy says so, else its error among `done` (through the
/// second half of the request path).
fn settle_failure(
    client: &Client,
    tag: u64,
    job: Job,
    mut retry: Retry,
    e: Error,
    done: &mut Vec<Completion>,
) -> Option<(u64, Job)> {
    match retry.on_error(e) {
        Decision::RetryAfter(delay) => {
            client.shared.stats.retry();
            let again = match job {
                Job::Command(cmd) => Again::Command(cmd),
                Job::Pipeline(pipe) => Again::Pipeline(pipe),
                // Not carried by the loop's connection: resent as they were.
                other => return Some((tag, other)),
            };
            Some((
                tag,
                Job::Resent {
                    again,
                    retry,
                    delay,
                },
            ))
        }
        Decision::Fail(e) => {
            let failed = match &job {
                Job::Command(cmd) => client.end(cmd, Err(e), Some(&retry)).map(Done::Reply),
                Job::Pipeline(pipe) => client
                    .end_pipeline(pipe, Err(e), Some(&retry))
                    .map(Done::Slots),
                Job::Scan(_) | Job::Script(_) | Job::Resent { .. } => Err(e),
            };
            done.push((tag, failed));
            None
        }
    }
}

/// Whether the runtime carries `job` on the client's shared connection (in multiplexed
/// mode: not a blocking command, nor a pipeline that needs a connection of its own).
fn takes_shared(config: &crate::Config, job: &Job) -> bool {
    match job {
        Job::Command(cmd) => route::direct(config, Carrier::Caller, Work::Command(cmd)),
        Job::Pipeline(pipe) => route::direct(config, Carrier::Caller, Work::Pipeline(pipe)),
        Job::Script(_) | Job::Resent { .. } => true,
        Job::Scan(_) => false,
    }
}

async fn next_page(slot: &ScanSlot) -> Result<Option<Vec<Value>>> {
    let Some(mut stream) = lock(slot).take() else {
        return Err(Error::invalid(
            "a page of this scan is already being fetched; await it first",
        ));
    };
    let page = stream.next_batch().await;
    *lock(slot) = Some(stream);
    page
}

impl Inner {
    async fn flush(self: Arc<Self>) {
        type Request<'a> =
            std::pin::Pin<Box<dyn std::future::Future<Output = (u64, Completion)> + Send + 'a>>;
        let mut started: Vec<Request<'_>> = Vec::new();
        let mut early = Vec::new();
        // Requests polled in order are queued in order only on a connection that is there:
        // a batch for the shared connection waits for it first (those submitted meanwhile
        // join the batch; a later batch is taken only after this one).
        let config = self.client.config();
        let shared = lock(&self.submitted)
            .iter()
            .any(|(_, _, job)| takes_shared(config, job));
        if shared {
            self.client.shared_settled().await;
        }
        // Requests reach the connection in the order they were submitted, also when two
        // flushes run at once on two runtime threads: a batch is taken, and each of its
        // requests polled once in order (which queues it on the connection), under one
        // lock. (FuturesUnordered alone polls in no set order.)
        std::future::poll_fn(|cx| {
            let _order = lock(&self.order);
            // Disarm before taking: a submit that lands after the take arms a new flush.
            self.flush_armed.store(false, Ordering::SeqCst);
            let batch = std::mem::take(&mut *lock(&self.submitted));
            for (seq, tag, job) in batch {
                let client = &self.client;
                // Unconstrained: tokio's cooperative budget (128 operations per poll)
                // would make the 129th request yield before it is queued.
                let mut request: Request<'_> = Box::pin(tokio::task::unconstrained(async move {
                    let done = match job {
                        Job::Command(cmd) => client.execute(&cmd).await.map(Done::Reply),
                        Job::Pipeline(pipe) => client.pipeline(&pipe).await.map(Done::Slots),
                        Job::Scan(slot) => next_page(&slot).await.map(Done::Page),
                        Job::Script(call) => client
                            .eval_script(&call.script, &call.keys, &call.args)
                            .await
                            .map(Done::Reply),
                        Job::Resent {
                            again,
                            retry,
                            delay,
                        } => {
                            if !delay.is_zero() {
                                tokio::time::sleep(delay).await;
                            }
                            match again {
                                Again::Command(cmd) => {
                                    client.resume(&cmd, retry).await.map(Done::Reply)
                                }
                                Again::Pipeline(pipe) => {
                                    client.resume_pipeline(&pipe, retry).await.map(Done::Slots)
                                }
                            }
                        }
                    };
                    (seq, (tag, done))
                }));
                match request.as_mut().poll(cx) {
                    std::task::Poll::Ready(done) => early.push(done),
                    std::task::Poll::Pending => started.push(request),
                }
            }
            std::task::Poll::Ready(())
        })
        .await;
        let mut running: FuturesUnordered<Request<'_>> = started.into_iter().collect();
        let batcher = Batcher {
            inner: Arc::clone(&self),
        };
        if !early.is_empty() {
            lock(&self.done).extend(early);
            self.wake_loop(&batcher);
        }
        while let Some(first) = running.next().await {
            // Take every other reply that is already in as well: one lock, one wake-up.
            let mut done = lock(&self.done);
            done.push(first);
            while let Some(Some(more)) = running.next().now_or_never() {
                done.push(more);
            }
            drop(done);
            self.wake_loop(&batcher);
        }
    }

    /// The loop's connection opened (or failed to) after `began`: it is there for the
    /// loop to install, and the requests awaiting it go on (see [`LoopIo::awaiting`]).
    fn opened(self: Arc<Self>, conn: Result<DirectConn>, began: Instant) {
        self.client.own_connection_event(|server| match &conn {
            Ok(_) => Event::ConnectionCreated {
                role: ConnectionRole::Direct,
                server,
                took: began.elapsed(),
            },
            Err(e) => Event::ConnectionFailed {
                role: ConnectionRole::Direct,
                server,
                error: e.kind(),
            },
        });
        let Some(own) = &self.own else { return };
        let mut io = lock(own);
        io.opening = false;
        let opened = conn.is_ok();
        match conn {
            Ok(c) => {
                if std::mem::replace(&mut io.ever_opened, true) {
                    self.client.shared.stats.reconnect();
                }
                io.opened = Some(c);
            }
            Err(_) => io.retry_after = Some(Instant::now() + OPEN_RETRY_AFTER),
        }
        let mut awaiting = std::mem::take(&mut io.awaiting);
        if awaiting.is_empty() {
            return;
        }
        let batcher = Batcher {
            inner: Arc::clone(&self),
        };
        if opened {
            // The loop writes them at the end of its next turn, ahead of any submitted
            // since; the wake-up makes the binding look (`loop_watch`).
            awaiting.append(&mut io.candidates);
            io.candidates = awaiting;
            drop(io);
            self.wake_loop(&batcher);
        } else {
            // Under the lock, so that none submitted later overtakes them.
            for (tag, job) in awaiting {
                batcher.push(tag, job);
            }
        }
    }

    /// Calls the binding's `wake` unless it was called since the loop last drained
    /// (`batcher` is this one's handle, for the binding).
    fn wake_loop(&self, batcher: &Batcher) {
        if !self.wake_armed.swap(true, Ordering::AcqRel) {
            (self.wake)(batcher);
        }
    }
}
