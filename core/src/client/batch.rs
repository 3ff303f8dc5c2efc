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

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use redis::Value;

use super::{Begin, Client, ScanStream, Script};
use crate::command::Command;
use crate::connection::DirectConn;
use crate::error::{Error, Result};
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

    /// A command or pipeline goes on the loop's own connection when it is alone (nothing
    /// of this batcher in flight or undrained, so replies settle in submission order);
    /// behind a request in flight there it waits its turn; else it is queued.
    fn route(&self, tag: u64, job: Job) {
        let Some(own) = &self.inner.own else {
            return self.push(tag, job);
        };
        let mut io = lock(own);
        if io.in_flight.is_some() {
            io.held.push((tag, job));
            return;
        }
        if !io.candidates.is_empty() {
            // A second request in the same turn: concurrent load. The runtime starts on
            // it now, while the loop is still submitting.
            let first = std::mem::take(&mut io.candidates);
            drop(io);
            for (tag, job) in first {
                self.push(tag, job);
            }
            return self.push(tag, job);
        }
        if self.inner.pending.load(Ordering::Acquire) > 0 || !io.held.is_empty() {
            drop(io);
            return self.push(tag, job);
        }
        // Whether it is alone is known at the end of the loop's turn (flush_loop).
        io.candidates.push((tag, job));
    }

    /// On the loop, once per turn while [`LoopWatch::candidates`] says so (Node: libuv's
    /// check and idle phases): a request that was alone in its turn goes on the loop's
    /// own connection; several are concurrent load and take the runtime together.
    pub fn flush_loop(&self) {
        let Some(own) = &self.inner.own else {
            return;
        };
        let mut io = lock(own);
        let mut candidates = std::mem::take(&mut io.candidates);
        if candidates.len() == 1 && io.in_flight.is_none() {
            let (tag, job) = candidates.pop().expect("one");
            match io.send(&self.inner.client, tag, job) {
                None => return,
                Some(job) => {
                    io.ensure_open(&self.inner);
                    candidates.push((tag, job));
                }
            }
        }
        drop(io);
        for (tag, job) in candidates {
            self.push(tag, job);
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
                    fd: io.conn.as_ref().and_then(|c| c.raw_fd()),
                    in_flight: io.in_flight.as_ref().map(|f| (f.seq, f.timeout)),
                    candidates: !io.candidates.is_empty(),
                }
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

    /// On the loop, when its connection's socket is readable: the completion of the
    /// request in flight when its reply is all there (then the next held request goes
    /// out). A broken connection is retired; its request is resent through the runtime
    /// when the retry policy allows it, else it fails.
    pub fn on_readable(&self) -> Vec<Completion> {
        let Some(own) = &self.inner.own else {
            return Vec::new();
        };
        let mut guard = lock(own);
        let io = &mut *guard;
        let mut done = Vec::new();
        let client = &self.inner.client;
        let outcome = match io.conn.as_mut() {
            None => return done,
            Some(conn) => loop {
                match conn.try_recv() {
                    Ok(None) => break None,
                    Ok(Some(v)) => match io.in_flight.as_mut() {
                        // A reply nobody asked for: the connection is out of step.
                        None => {
                            break Some(Err(Error::new(
                                crate::error::ErrorKind::Protocol,
                                "a reply arrived with no request in flight",
                            )))
                        }
                        Some(f) => {
                            f.replies.push(v);
                            if f.replies.len() == f.want {
                                break Some(Ok(()));
                            }
                        }
                    },
                    Err(e) => break Some(Err(e)),
                }
            },
        };
        let resend = match outcome {
            None => return done,
            Some(Ok(())) => {
                let f = io
                    .in_flight
                    .take()
                    .expect("a complete reply has its request");
                f.finish(client, &mut done)
            }
            Some(Err(e)) => {
                io.retire();
                io.in_flight
                    .take()
                    .and_then(|f| f.fail(client, e, &mut done))
            }
        };
        let held = std::mem::take(&mut io.held);
        drop(guard);
        self.release(resend, held);
        done
    }

    /// After the loop's request: a resent one and those held behind it go on, in order.
    /// One held request alone goes the lone way again; several are concurrent load,
    /// which the runtime carries (all of them, so none overtakes another).
    fn release(&self, resend: Option<(u64, Job)>, held: Vec<(u64, Job)>) {
        if let Some((tag, job)) = resend {
            self.push(tag, job);
        }
        if held.len() == 1 {
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
        io.retire();
        let closed = || {
            Error::new(
                crate::error::ErrorKind::Connection,
                "the client was closed before the reply arrived",
            )
        };
        let mut done: Vec<Completion> = io
            .in_flight
            .take()
            .map(|f| (f.tag, Err(closed())))
            .into_iter()
            .collect();
        done.extend(io.held.drain(..).map(|(tag, _)| (tag, Err(closed()))));
        done.extend(io.candidates.drain(..).map(|(tag, _)| (tag, Err(closed()))));
        done
    }

    /// On the loop, when the request in flight on its connection has waited its whole
    /// timeout: it fails (or is resent when the policy retries timeouts), and the
    /// connection is retired, since its reply may still come.
    pub fn on_timeout(&self, seq: u64) -> Vec<Completion> {
        let Some(own) = &self.inner.own else {
            return Vec::new();
        };
        let mut io = lock(own);
        let mut done = Vec::new();
        if io.in_flight.as_ref().map(|f| f.seq) != Some(seq) {
            return done;
        }
        let f = io.in_flight.take().expect("checked above");
        io.retire();
        let e = Error::timeout(f.name(), f.timeout.unwrap_or_default());
        let resend = f.fail(&self.inner.client, e, &mut done);
        let held = std::mem::take(&mut io.held);
        drop(io);
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
    /// when woken; the next completion wakes it again.
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
    /// The request in flight: its sequence number (for [`Batcher::on_timeout`]) and
    /// how long it may wait (`None`: no limit).
    pub in_flight: Option<(u64, Option<Duration>)>,
    /// Requests wait for [`Batcher::flush_loop`] at the end of this turn of the loop.
    pub candidates: bool,
}

/// After a failed open, the loop's own connection is tried again after this long.
const OPEN_RETRY_AFTER: Duration = Duration::from_millis(500);

/// The loop's own connection and the one request it carries at a time.
#[derive(Default)]
struct LoopIo {
    conn: Option<DirectConn>,
    opening: bool,
    retry_after: Option<Instant>,
    /// Opened by a blocking task, installed by the loop on its next request.
    opened: Option<DirectConn>,
    in_flight: Option<InFlight>,
    /// Submitted in this turn of the loop with nothing in flight: see `flush_loop`.
    candidates: Vec<(u64, Job)>,
    /// Submitted while a request was in flight here: sent (or queued) after it, in order.
    held: Vec<(u64, Job)>,
    /// Dropped connections kept open until the binding's poller let go of them.
    retired: Vec<DirectConn>,
    seq: u64,
}

struct InFlight {
    seq: u64,
    tag: u64,
    job: Job,
    want: usize,
    replies: Vec<Value>,
    timeout: Option<Duration>,
    retry: Retry,
}

impl LoopIo {
    /// Writes `job` on the connection (`None`); gives it back when it must take the runtime
    /// (no connection yet, not a plain command or pipeline, refused by the guard, too
    /// large, or the write failed, in which case the server has not got all of it).
    fn send(&mut self, client: &Client, tag: u64, job: Job) -> Option<Job> {
        if let Some(conn) = self.opened.take() {
            if let Some(old) = self.conn.replace(conn) {
                self.retired.push(old);
            }
        }
        let Some(conn) = self.conn.as_mut() else {
            return Some(job);
        };
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
        let sent = match &job {
            Job::Command(cmd) => conn.send_nonblocking(std::iter::once(cmd.cmd())),
            Job::Pipeline(pipe) => {
                let chunks: Vec<_> = wire::wire_chunks(pipe).collect();
                conn.send_nonblocking(chunks.iter().flat_map(|c| c.cmd_iter()))
            }
            Job::Scan(_) | Job::Script(_) => unreachable!("scans and scripts are not sent here"),
        };
        if sent.is_err() {
            self.retire();
            return Some(job);
        }
        client.shared.stats.direct();
        retry.went_direct();
        self.seq += 1;
        self.in_flight = Some(InFlight {
            seq: self.seq,
            tag,
            job,
            want,
            replies: Vec::with_capacity(want),
            timeout,
            retry,
        });
        None
    }

    /// Starts opening the connection in the background when there is none.
    fn ensure_open(&mut self, inner: &Arc<Inner>) {
        if self.conn.is_some() || self.opened.is_some() || self.opening {
            return;
        }
        if self.retry_after.is_some_and(|t| Instant::now() < t) {
            return;
        }
        let Ok(engine) = inner.client.engine() else {
            return;
        };
        self.opening = true;
        let weak = Arc::downgrade(inner);
        let config = inner.client.config().clone();
        let redis = engine.redis.clone();
        engine.runtime.spawn_blocking(move || {
            let conn = DirectConn::open(&config, &redis).and_then(|mut c| {
                c.set_nonblocking(true)?;
                Ok(c)
            });
            let Some(inner) = weak.upgrade() else { return };
            let Some(own) = &inner.own else { return };
            let mut io = lock(own);
            io.opening = false;
            match conn {
                Ok(c) => io.opened = Some(c),
                Err(_) => io.retry_after = Some(Instant::now() + OPEN_RETRY_AFTER),
            }
        });
    }

    /// Stops using the connection; it stays open until the binding releases it.
    fn retire(&mut self) {
        if let Some(c) = self.conn.take() {
            self.retired.push(c);
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
            Job::Scan(_) | Job::Script(_) => unreachable!("scans and scripts are not sent here"),
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
        Decision::RetryAfter(_) => {
            client.shared.stats.retry();
            Some((tag, job))
        }
        Decision::Fail(e) => {
            let failed = match &job {
                Job::Command(cmd) => client.end(cmd, Err(e), Some(&retry)).map(Done::Reply),
                Job::Pipeline(pipe) => client
                    .end_pipeline(pipe, Err(e), Some(&retry))
                    .map(Done::Slots),
                Job::Scan(_) | Job::Script(_) => Err(e),
            };
            done.push((tag, failed));
            None
        }
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
        if !early.is_empty() {
            lock(&self.done).extend(early);
            if !self.wake_armed.swap(true, Ordering::AcqRel) {
                (self.wake)(&Batcher {
                    inner: Arc::clone(&self),
                });
            }
        }
        while let Some(first) = running.next().await {
            // Take every other reply that is already in as well: one lock, one wake-up.
            let mut done = lock(&self.done);
            done.push(first);
            while let Some(Some(more)) = running.next().now_or_never() {
                done.push(more);
            }
            drop(done);
            if !self.wake_armed.swap(true, Ordering::AcqRel) {
                (self.wake)(&Batcher {
                    inner: Arc::clone(&self),
                });
            }
        }
    }
}
