//! Response timeouts for the requests of the runtime's shared connections, kept in one
//! FIFO of deadlines per engine with one timer, instead of one timer-wheel entry per
//! request (`tokio::time::timeout`).
//!
//! Requests on a shared connection almost all have the same timeout (the configured
//! response timeout) and start in order, so their deadlines arrive in order: a FIFO holds
//! them, and a single task sleeps until the oldest one. A request pushes its deadline and
//! a ticket, and marks the ticket done when it ends (reply, error or drop). The task pops
//! done tickets and expires the ones whose deadline passed, waking their request, which
//! then fails with a timeout exactly as `tokio::time::timeout` would have failed it.
//!
//! Pushing also pops the done tickets at the front, so the FIFO holds about as many
//! entries as requests are in flight. A deadline earlier than the newest in the FIFO by
//! more than [`SLACK`] (a blocking command's longer timeout is never pushed; two threads
//! racing can produce small inversions) is not pushed: that request falls back to
//! `tokio::time::timeout`. An inversion within `SLACK` is queued at the newer deadline, so
//! it fires at most `SLACK` late.
//!
//! The task sleeps until the oldest deadline it saw; a push wakes it only when it has
//! nothing armed. With one request at a time (W1) it wakes about once per timeout period.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures_util::task::AtomicWaker;
use tokio::sync::Notify;

use crate::error::{Error, Result};

/// How far a deadline may run behind the newest queued one and still be queued (at the
/// newer deadline).
pub(crate) const SLACK: Duration = Duration::from_millis(2);

const WAITING: u8 = 0;
const DONE: u8 = 1;
const EXPIRED: u8 = 2;

/// One request's place in the FIFO.
struct Ticket {
    state: AtomicU8,
    waker: AtomicWaker,
}

impl Ticket {
    fn finished(&self) -> bool {
        self.state.load(Ordering::Acquire) != WAITING
    }
}

/// Marks the ticket done when the request ends, however it ends (also when dropped).
struct Leave(Arc<Ticket>);

impl Drop for Leave {
    fn drop(&mut self) {
        // An expired ticket stays expired; a waiting one is done. The waker goes, so a
        // reused ticket holds no stale task.
        let _ = self
            .0
            .state
            .compare_exchange(WAITING, DONE, Ordering::Release, Ordering::Relaxed);
        drop(self.0.waker.take());
    }
}

/// One part of the FIFO. Each thread pushes into the part its thread index picks, so
/// two runtime threads do not contend for one lock.
#[derive(Default)]
struct Fifo {
    queue: VecDeque<(Instant, Arc<Ticket>)>,
    /// Finished tickets nobody else holds, reused by the next pushes.
    spare: Vec<Arc<Ticket>>,
}

/// How many tickets a part keeps for reuse.
const SPARE: usize = 256;

impl Fifo {
    /// Pops the finished tickets at the front, keeping some for reuse.
    fn pop_finished(&mut self) {
        while self.queue.front().is_some_and(|(_, t)| t.finished()) {
            if let Some((_, t)) = self.queue.pop_front() {
                if self.spare.len() < SPARE && Arc::strong_count(&t) == 1 {
                    self.spare.push(t);
                }
            }
        }
    }
}

/// How many parts the FIFO has (threads share parts beyond this).
const PARTS: usize = 4;

/// A part padded to its own cache line(s), so parts do not share one.
#[repr(align(128))]
#[derive(Default)]
struct Part(Mutex<Fifo>);

std::thread_local! {
    /// This thread's part index, handed out in turn.
    static PART: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % PARTS
    };
}

/// The deadlines of one engine's requests on its shared connections.
pub(crate) struct Deadlines {
    parts: [Part; PARTS],
    /// When the timer task wakes next, in nanoseconds after `epoch` (at least 1); 0: it
    /// waits for a push (idle). Written by the task, and by the push that ends idleness.
    armed: AtomicU64,
    epoch: Instant,
    stopped: AtomicBool,
    wake: Notify,
    /// The timeout nearly every request has (the configured response timeout): only
    /// requests with this one are queued, so the deadlines stay in order.
    usual: Duration,
}

fn lock(part: &Part) -> std::sync::MutexGuard<'_, Fifo> {
    part.0.lock().unwrap_or_else(|p| p.into_inner())
}

impl Deadlines {
    /// A FIFO for requests whose timeout is `usual`, with its timer task spawned on
    /// `runtime`; the task ends with [`Self::stop`].
    pub(crate) fn start(runtime: &tokio::runtime::Runtime, usual: Duration) -> Arc<Deadlines> {
        let d = Arc::new(Deadlines {
            parts: Default::default(),
            armed: AtomicU64::new(0),
            epoch: Instant::now(),
            stopped: AtomicBool::new(false),
            wake: Notify::new(),
            usual,
        });
        runtime.spawn(timer(d.clone()));
        d
    }

    /// Ends the timer task once the queued requests have ended; requests pushed afterwards
    /// use `tokio::time::timeout`.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    fn nanos(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.epoch).as_nanos() as u64).max(1)
    }

    /// Queues `deadline`, or `None` when it cannot be queued in order (see [`SLACK`]).
    fn push(&self, deadline: Instant) -> Option<Arc<Ticket>> {
        if self.stopped.load(Ordering::Relaxed) {
            return None;
        }
        let part = &self.parts[PART.with(|p| *p)];
        let mut f = lock(part);
        f.pop_finished();
        let at = match f.queue.back() {
            Some(&(newest, _)) if deadline < newest => {
                if newest - deadline > SLACK {
                    return None;
                }
                newest
            }
            _ => deadline,
        };
        let ticket = match f.spare.pop() {
            Some(t) => {
                t.state.store(WAITING, Ordering::Relaxed);
                t
            }
            None => Arc::new(Ticket {
                state: AtomicU8::new(WAITING),
                waker: AtomicWaker::new(),
            }),
        };
        f.queue.push_back((at, ticket.clone()));
        drop(f);
        // Pairs with the task's fence between going idle and looking at the parts: either
        // it sees this entry, or this sees it idle and wakes it.
        fence(Ordering::SeqCst);
        if self.armed.load(Ordering::Relaxed) == 0
            && self
                .armed
                .compare_exchange(0, self.nanos(at), Ordering::SeqCst, Ordering::Relaxed)
                .is_ok()
        {
            self.wake.notify_one();
        }
        Some(ticket)
    }

    /// Awaits `fut` until `start + timeout`: `Err(Elapsed)` past it. `start` is when the
    /// request began (its timeout counts from there). A timeout other than the usual one
    /// takes `tokio::time::timeout`.
    pub(crate) async fn run<T>(
        &self,
        fut: impl Future<Output = T>,
        start: Instant,
        timeout: Duration,
    ) -> std::result::Result<T, Elapsed> {
        let queued = match timeout == self.usual {
            true => self.push(start + timeout),
            false => None,
        };
        let Some(ticket) = queued else {
            let left = timeout.saturating_sub(start.elapsed());
            return tokio::time::timeout(left, fut).await.map_err(|_| Elapsed);
        };
        let leave = Leave(ticket);
        let mut fut = pin!(fut);
        poll_fn(|cx| {
            if let Poll::Ready(v) = fut.as_mut().poll(cx) {
                return Poll::Ready(Ok(v));
            }
            let t = &leave.0;
            if t.state.load(Ordering::Acquire) == EXPIRED {
                return Poll::Ready(Err(Elapsed));
            }
            t.waker.register(cx.waker());
            // Expired between the check and the registration: the task woke no one.
            if t.state.load(Ordering::Acquire) == EXPIRED {
                return Poll::Ready(Err(Elapsed));
            }
            Poll::Pending
        })
        .await
    }

    /// [`Self::run`] for a request whose timeout may be absent, with the core's timeout
    /// error naming `what` and the whole budget.
    pub(crate) async fn run_timed<T, E: Into<Error>>(
        &self,
        fut: impl Future<Output = std::result::Result<T, E>>,
        start: Instant,
        timeout: Option<Duration>,
        what: &str,
    ) -> Result<T> {
        match timeout {
            Some(t) => match self.run(fut, start, t).await {
                Ok(r) => r.map_err(Into::into),
                Err(Elapsed) => Err(Error::timeout(what, t)),
            },
            None => fut.await.map_err(Into::into),
        }
    }
}

/// The request's deadline passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Elapsed;

/// The timer task: sleeps until the oldest deadline, expires what is due, repeats; after
/// [`Deadlines::stop`] (the engine stops it when it stops or is dropped) it ends once the
/// requests queued before have all ended.
async fn timer(d: Arc<Deadlines>) {
    loop {
        let next = match d.expire_due() {
            Some(at) => Some(at),
            None => {
                // Going idle: say so first, then look again, so a push in between is
                // either seen here or sees the task idle (and notifies).
                d.armed.store(0, Ordering::SeqCst);
                fence(Ordering::SeqCst);
                d.expire_due()
            }
        };
        match next {
            Some(at) => {
                d.armed.store(d.nanos(at), Ordering::SeqCst);
                tokio::select! {
                    _ = tokio::time::sleep_until(at.into()) => {}
                    _ = d.wake.notified() => {}
                }
            }
            // Stopped, and every request queued before has ended or expired.
            None if d.stopped.load(Ordering::SeqCst) => return,
            None => d.wake.notified().await,
        }
    }
}

impl Deadlines {
    /// Expires every due request (waking it) and drops finished ones at the fronts;
    /// returns the oldest deadline still waiting.
    fn expire_due(&self) -> Option<Instant> {
        let now = Instant::now();
        let mut next: Option<Instant> = None;
        for part in &self.parts {
            let mut f = lock(part);
            f.pop_finished();
            while let Some((at, t)) = f.queue.front() {
                if !t.finished() {
                    if *at > now {
                        next = Some(next.map_or(*at, |n| n.min(*at)));
                        break;
                    }
                    if t.state
                        .compare_exchange(WAITING, EXPIRED, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        t.waker.wake();
                    }
                }
                f.queue.pop_front();
            }
        }
        next
    }
}
