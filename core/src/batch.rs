//! Requests from a foreign event loop (Node's JS thread, an asyncio loop), carried in
//! batches across the thread boundary.
//!
//! Design §2 measured why: one crossing per request costs more than the request. So
//! [`Batcher::submit`] only queues the command; the first submit after a flush wakes the
//! runtime once, and every command submitted until that flush runs goes out with it (the
//! multiplexed connection then writes them together). Replies go the other way the same
//! way: each completion is queued, and only the first after a [`Batcher::drain`] calls
//! the binding's `wake` (a threadsafe function, an eventfd write), so replies that arrive
//! together are settled by one callback on the loop's thread.
//!
//! The policy (guard, cache, routing, timeouts, retries) is [`Client::execute`]'s: a
//! batch changes how requests cross threads, not what happens to them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use redis::Value;

use crate::client::Client;
use crate::command::Command;
use crate::error::Result;
use crate::pipeline::Pipeline;
use crate::runtime;
use crate::scan::ScanStream;

/// A SCAN iteration a binding holds between pages; a page request takes the stream out
/// while it fetches and puts it back before completing.
pub type ScanSlot = Arc<Mutex<Option<ScanStream>>>;

/// What a submitted request asks for.
enum Job {
    Command(Command),
    Pipeline(Pipeline),
    Scan(ScanSlot),
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
    submitted: Mutex<Vec<(u64, Job)>>,
    /// A flush task is scheduled and has not yet taken `submitted`.
    flush_armed: AtomicBool,
    done: Mutex<Vec<Completion>>,
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
        Batcher {
            inner: Arc::new(Inner {
                client,
                submitted: Mutex::default(),
                flush_armed: AtomicBool::new(false),
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
    /// (the binding's own request id). Never blocks and never waits for I/O.
    pub fn submit(&self, tag: u64, cmd: Command) {
        self.push(tag, Job::Command(cmd));
    }

    /// Queues a pipeline (or transaction); it completes with [`Done::Slots`].
    pub fn submit_pipeline(&self, tag: u64, pipe: Pipeline) {
        self.push(tag, Job::Pipeline(pipe));
    }

    /// Queues the fetch of a scan's next page; it completes with [`Done::Page`]. A scan
    /// whose page is already being fetched completes with an error.
    pub fn submit_scan(&self, tag: u64, scan: ScanSlot) {
        self.push(tag, Job::Scan(scan));
    }

    fn push(&self, tag: u64, job: Job) {
        lock(&self.inner.submitted).push((tag, job));
        if !self.inner.flush_armed.swap(true, Ordering::AcqRel) {
            let inner = Arc::clone(&self.inner);
            runtime::spawn(inner.flush());
        }
    }

    /// Every completion since the last drain, in completion order. Call it from the
    /// loop when woken; the next completion wakes it again.
    pub fn drain(&self) -> Vec<Completion> {
        self.inner.wake_armed.store(false, Ordering::SeqCst);
        std::mem::take(&mut *lock(&self.inner.done))
    }
}

async fn next_page(slot: &ScanSlot) -> Result<Option<Vec<Value>>> {
    let Some(mut stream) = lock(slot).take() else {
        return Err(crate::Error::invalid(
            "a page of this scan is already being fetched; await it first",
        ));
    };
    let page = stream.next_batch().await;
    *lock(slot) = Some(stream);
    page
}

impl Inner {
    async fn flush(self: Arc<Self>) {
        // Disarm before taking: a submit that lands after the take arms a new flush.
        self.flush_armed.store(false, Ordering::SeqCst);
        let batch = std::mem::take(&mut *lock(&self.submitted));
        let mut running: FuturesUnordered<_> = batch
            .into_iter()
            .map(|(tag, job)| {
                let client = &self.client;
                async move {
                    let done = match job {
                        Job::Command(cmd) => client.execute(&cmd).await.map(Done::Reply),
                        Job::Pipeline(pipe) => client.pipeline(&pipe).await.map(Done::Slots),
                        Job::Scan(slot) => next_page(&slot).await.map(Done::Page),
                    };
                    (tag, done)
                }
            })
            .collect();
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
