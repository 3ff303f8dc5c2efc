//! The blocking engine for sync bindings (Python sync, C).
//!
//! Same policy as [`Client`], two ways to carry a request:
//! - **direct**: when no other thread is using it, the calling thread takes the client's
//!   direct connection and writes and reads the socket itself — no thread hop, the
//!   latency of hiredis;
//! - **shared**: when the direct connection is busy (callers are concurrent), the request
//!   goes to the runtime's multiplexed connection, where concurrent requests are written
//!   together.
//!
//! Which requests may go direct is `policy::route::direct`'s decision (not blocking
//! commands, leases, pooled mode, a cluster, or pipelines while the cache is on). A
//! direct request that fails on the connection drops that socket (so a late reply can
//! never reach the next caller) and, when the policy allows, is retried on the runtime.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::Value;

use super::lease::SyncLease;
use super::scan::{self, Pages};
use super::{Begin, Client};
use crate::command::Command;
use crate::connection::{send, Ahead, Direct, DirectConn, DirectSlot, Mailbox};
use crate::error::{Error, ErrorKind, Result};
use crate::observe::{
    CloseReason, ConnectionObserver, ConnectionRole, Event, Server, StatsSnapshot,
};
use crate::policy::route::{self, Carrier, Work};
use crate::policy::{self, Decision, Retry, Seat};
use crate::runtime;
use crate::settings::Config;
use crate::wire::{self, Pipeline, ScanCursor, ScanKind, ScanOptions};

/// After a failed direct connect, wait this long before trying the direct path again.
const DIRECT_RETRY_AFTER: Duration = Duration::from_millis(500);

/// A blocking Redis client, safe to share between threads.
#[derive(Clone)]
pub struct SyncClient {
    client: Client,
    direct: Arc<Mutex<DirectSlot>>,
}

impl SyncClient {
    /// Creates a client; connections open on first use.
    pub fn new(config: Config) -> Result<SyncClient> {
        Ok(SyncClient::of(&Client::new(config)?))
    }

    /// The blocking face of `client` (same connections, direct one included).
    pub(crate) fn of(client: &Client) -> SyncClient {
        SyncClient {
            client: client.clone(),
            direct: Arc::clone(&client.shared.direct),
        }
    }

    /// Creates a client and checks that the server is reachable (the connect error if not).
    pub fn connect(config: Config) -> Result<SyncClient> {
        let client = SyncClient::new(config)?;
        client.ping_connect()?;
        Ok(client)
    }

    fn ping_connect(&self) -> Result<()> {
        let engine = self.client.engine()?;
        let c = self.client.clone();
        block_on(engine.runtime, async move {
            let wait = c.config().connect_timeout() * 2;
            c.engine()?.wait_first(wait).await
        })
    }

    /// The async client underneath (same connections, same counters).
    pub fn async_client(&self) -> &Client {
        &self.client
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        self.client.config()
    }

    /// Sends one command and returns its reply, under the same policy as
    /// [`Client::execute`]. Blocks the calling thread; never call it from async code.
    pub fn execute(&self, cmd: &Command) -> Result<Value> {
        let client = &self.client;
        let (result, retry) = match client.begin(cmd, Seat::Shared) {
            // A hit never leaves the calling thread.
            Ok(Begin::Hit(v)) => return Ok(v),
            Ok(Begin::Miss(mut retry, read)) => {
                let r = client
                    .engine()
                    .and_then(|e| block_on(e.runtime, client.read_through(cmd, &mut retry, read)));
                (r, Some(retry))
            }
            Ok(Begin::Send(mut retry)) => (self.send(cmd, &mut retry), Some(retry)),
            Err(e) => (Err(e), None),
        };
        client.end(cmd, result, retry.as_ref())
    }

    /// Carries a command that passed [`Client::begin`]: on the direct connection when
    /// the policy lets it and nobody else is using it, else (or to retry) on the runtime.
    pub(super) fn send(&self, cmd: &Command, retry: &mut Retry) -> Result<Value> {
        let _caller = self.client.shared.stats.caller();
        if route::direct(self.config(), Carrier::Caller, Work::Command(cmd)) {
            if let Ok(mut slot) = self.direct.try_lock() {
                if let Some(result) = self.direct_attempt(&mut slot, cmd) {
                    retry.went_direct();
                    match result {
                        Ok(v) => return Ok(v),
                        Err(e) => self.after_direct_failure(retry, e, slot)?,
                    }
                }
            }
        }
        let engine = self.client.engine()?;
        block_on(engine.runtime, self.client.run(cmd, retry, false))
    }

    /// A direct attempt failed: the policy's decision, and its backoff slept with the
    /// direct connection released (the runtime's engine makes the next attempt).
    fn after_direct_failure(
        &self,
        retry: &mut Retry,
        e: Error,
        slot: std::sync::MutexGuard<'_, DirectSlot>,
    ) -> Result<()> {
        match retry.on_error(e) {
            Decision::Fail(e) => Err(e),
            Decision::RetryAfter(d) => {
                drop(slot);
                self.client.shared.stats.retry();
                std::thread::sleep(d);
                Ok(())
            }
        }
    }

    /// One attempt on the direct connection; `None` when it is not available now.
    fn direct_attempt(&self, slot: &mut DirectSlot, cmd: &Command) -> Option<Result<Value>> {
        let timeout = policy::response_timeout(cmd, &self.client.shared.config);
        self.on_direct(slot, timeout, cmd.name(), |conn| {
            conn.request(cmd.cmd()).and_then(wire::slot)
        })
    }

    /// Runs `request` on the direct connection (opening it if needed) with `timeout`
    /// as its read timeout; `None` when the direct connection is not available now.
    fn on_direct<T>(
        &self,
        slot: &mut DirectSlot,
        timeout: Option<Duration>,
        what: &str,
        request: impl FnOnce(&mut DirectConn) -> Result<T>,
    ) -> Option<Result<T>> {
        if self.client.is_closed() {
            slot.drop_conn();
            return None;
        }
        let generation = runtime::fork_generation();
        if slot
            .conn
            .as_ref()
            .is_some_and(|d| d.fork_generation != generation)
        {
            // Opened by the parent process: its socket is not ours to use or close.
            std::mem::forget(slot.conn.take());
            slot.ahead = None;
        }
        if slot.conn.is_none() {
            if slot.unavailable_until.is_some_and(|t| Instant::now() < t) {
                return None;
            }
            let began = self.client.shared.stats.events.on().then(Instant::now);
            let opened = self.open_direct(generation);
            self.direct_event(|server| match &opened {
                Ok(_) => Event::ConnectionCreated {
                    role: ConnectionRole::Direct,
                    server,
                    took: began.map_or(Duration::ZERO, |t| t.elapsed()),
                },
                Err(e) => Event::ConnectionFailed {
                    role: ConnectionRole::Direct,
                    server,
                    error: e.kind(),
                },
            });
            match opened {
                Ok(d) => slot.conn = Some(d),
                Err(_) => {
                    // The runtime engine reconnects with backoff and reports the error.
                    slot.unavailable_until = Some(Instant::now() + DIRECT_RETRY_AFTER);
                    return None;
                }
            }
        }
        if !slot.settle_ahead() {
            return None;
        }
        let stats = &self.client.shared.stats;
        stats.direct();
        let direct = slot.conn.as_mut()?;
        // Only a lone caller spins for its reply: with others waiting, a spinning thread
        // takes the CPU their requests (and, on a small machine, the server) need.
        direct.conn.spin_if(stats.callers() <= 1);
        if let Err(e) = direct.conn.set_read_timeout(timeout) {
            slot.drop_conn();
            return Some(Err(e));
        }
        let result = request(&mut direct.conn).map_err(|e| match (e.kind(), timeout) {
            (ErrorKind::Timeout, Some(t)) => Error::timeout(what, t),
            _ => e,
        });
        if let Err(e) = &result {
            if e.is_connection_level() || e.kind() == ErrorKind::Timeout {
                // A reply may still be on its way: this socket must never be read again.
                slot.drop_conn();
                let reason = match e.kind() {
                    ErrorKind::Timeout => CloseReason::Timeout,
                    _ => CloseReason::Error,
                };
                self.direct_event(|server| Event::ConnectionClosed {
                    role: ConnectionRole::Direct,
                    server,
                    reason,
                });
            }
        }
        Some(result)
    }

    /// Reports an event of the direct connection (when someone listens).
    fn direct_event(&self, make: impl FnOnce(Server<'_>) -> Event<'_>) {
        self.client.own_connection_event(make);
    }

    fn open_direct(&self, fork_generation: u64) -> Result<Direct> {
        let engine = self.client.engine()?;
        Ok(Direct {
            conn: DirectConn::open(&self.client.shared.config, &engine.redis)?,
            fork_generation,
        })
    }

    /// Writes `cmd` (a SCAN page) on the direct connection without waiting for its
    /// reply; `None` when the direct connection is busy, closed or already has a page
    /// ahead, and the page is then asked for when it is needed.
    fn ask_ahead(&self, cmd: &Command) -> Option<Arc<Mailbox>> {
        let mut slot = self.direct.try_lock().ok()?;
        if slot.ahead.is_some() || !self.may_ask_ahead(&slot) {
            return None;
        }
        let direct = slot.conn.as_mut()?;
        if direct.conn.send(cmd.cmd()).is_err() {
            slot.drop_conn();
            return None;
        }
        Some(self.asked_ahead(&mut slot, cmd))
    }

    /// Whether a SCAN page may be asked for ahead on the direct connection now.
    fn may_ask_ahead(&self, slot: &DirectSlot) -> bool {
        route::direct(self.config(), Carrier::Caller, Work::ScanPage)
            && slot
                .conn
                .as_ref()
                .is_some_and(|d| d.fork_generation == runtime::fork_generation())
    }

    /// Records `cmd`, just written on the direct connection, as the page ahead; its reply
    /// goes to the returned mailbox.
    fn asked_ahead(&self, slot: &mut DirectSlot, cmd: &Command) -> Arc<Mailbox> {
        // Counted as a request now, when it is sent (its reply may never be wanted).
        let stats = &self.client.shared.stats;
        stats.request();
        stats.direct();
        let mailbox = Arc::new(Mailbox::default());
        slot.ahead = Some(Ahead {
            timeout: policy::response_timeout(cmd, self.config()),
            mailbox: Arc::downgrade(&mailbox),
        });
        mailbox
    }

    /// The reply of page `cmd` asked for ahead, read now if nobody has yet; `None` when
    /// it has to be asked again (the connection broke first, or the reply is an error the
    /// retry policy would retry). Read now, the page after it is asked for as soon as
    /// its cursor has arrived (returned second, with where its reply goes).
    fn take_ahead(
        &self,
        cmd: &Command,
        mailbox: &Arc<Mailbox>,
        cursor: &ScanCursor,
    ) -> (Option<Result<Value>>, Option<PageAhead>) {
        let mut slot = self.direct.lock().unwrap_or_else(|p| p.into_inner());
        let ours = slot
            .ahead
            .as_ref()
            .is_some_and(|a| std::ptr::eq(a.mailbox.as_ptr(), Arc::as_ptr(mailbox)));
        let mut asked = None;
        if ours {
            let ask = self.may_ask_ahead(&slot);
            let (_, sent) =
                slot.settle_ahead_then(|first| ask.then(|| cursor.command_after(first))?);
            if let Some(next) = sent {
                let next_box = self.asked_ahead(&mut slot, &next);
                asked = Some((next, next_box));
            }
        }
        drop(slot);
        let reply = self.read_mailbox(cmd, mailbox);
        // A page asked after one that has to be asked again would skip it.
        if !matches!(reply, Some(Ok(_))) {
            asked = None;
        }
        (reply, asked)
    }

    /// What page `cmd`'s mailbox holds (see [`Self::take_ahead`]).
    fn read_mailbox(&self, cmd: &Command, mailbox: &Arc<Mailbox>) -> Option<Result<Value>> {
        let reply = mailbox.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        let reply = reply.and_then(wire::slot);
        if let Err(e) = &reply {
            let mut retry = Retry::for_command(cmd, self.config());
            if matches!(retry.on_error(e.clone()), Decision::RetryAfter(_)) {
                return None;
            }
        }
        // Counted as a request when it was asked for; only its error is left to count.
        Some(self.client.count_error(reply))
    }

    /// Sends a pipeline or transaction; see [`Client::pipeline`].
    ///
    /// Like a single command, a lone caller's pipeline goes out on the direct connection
    /// (no thread hop); concurrent callers, transactions that need a lease, pooled mode
    /// and clients with a cache use the runtime's engines.
    pub fn pipeline(&self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        let client = &self.client;
        let (result, retry) = match client.begin_pipeline(pipe) {
            Ok(mut retry) => (self.send_pipeline(pipe, &mut retry), Some(retry)),
            Err(e) => (Err(e), None),
        };
        client.end_pipeline(pipe, result, retry.as_ref())
    }

    /// Carries a pipeline that passed [`Client::begin_pipeline`], as [`Self::send`] does
    /// a command.
    fn send_pipeline(&self, pipe: &Pipeline, retry: &mut Retry) -> Result<Vec<Result<Value>>> {
        let config = self.config();
        if route::direct(config, Carrier::Caller, Work::Pipeline(pipe)) {
            if let Ok(mut slot) = self.direct.try_lock() {
                let timeout = policy::pipeline_timeout(pipe, config);
                let attempt = self.on_direct(&mut slot, timeout, "pipeline", |conn| {
                    send::pipeline_blocking(conn, pipe)
                });
                if attempt.is_some() {
                    retry.went_direct();
                }
                match attempt {
                    Some(Ok(slots)) => return Ok(slots),
                    Some(Err(e)) => self.after_direct_failure(retry, e, slot)?,
                    None => {}
                }
            }
        }
        let engine = self.client.engine()?;
        block_on(engine.runtime, self.client.send_pipeline(pipe, retry))
    }

    /// Leases a dedicated connection (WATCH … MULTI … EXEC, blocking commands).
    pub fn lease(&self) -> Result<SyncLease> {
        let engine = self.client.engine()?;
        let lease = block_on(engine.runtime, self.client.lease())?;
        Ok(SyncLease::new(lease, engine.runtime))
    }

    /// A lazy SCAN / SSCAN / HSCAN / ZSCAN iteration: an iterator of pages.
    pub fn scan(&self, kind: ScanKind, opts: ScanOptions) -> Result<SyncScan> {
        Ok(SyncScan::new(
            self.clone(),
            Pages::new(&self.client, kind, opts)?,
        ))
    }

    /// Counters and pool state.
    pub fn stats(&self) -> StatsSnapshot {
        self.client.stats()
    }

    /// Registers a hook on the shared connection's life.
    pub fn add_observer(&self, observer: Arc<dyn ConnectionObserver>) {
        self.client.add_observer(observer)
    }

    /// Empties the client-side cache (no-op when it is off).
    pub fn cache_clear(&self) {
        self.client.cache_clear()
    }

    /// Closes every connection; later calls fail. Idempotent.
    pub fn close(&self) {
        self.client.close();
        // The client's close drops the direct connection as well.
    }
}

impl std::fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SyncClient").field(&self.client).finish()
    }
}

/// Runs a future to completion on the calling thread, with the core runtime's I/O and
/// timers. Works from any thread, including `spawn_blocking` threads and threads that
/// are inside another runtime (which it then blocks, as any blocking call would).
pub(crate) fn block_on<T>(
    rt: &'static tokio::runtime::Runtime,
    fut: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let _context = rt.enter();
    futures_executor::block_on(fut)
}

/// A SCAN page asked for ahead: its command, and where its reply arrives.
type PageAhead = (Command, Arc<Mailbox>);

/// A blocking SCAN-family iteration: yields pages until the cursor returns to 0.
///
/// On a standalone server the next page is asked for on the direct connection before
/// this one is handed out, so the server works on it while the caller goes through this
/// one: as soon as this page's cursor has arrived when this page was itself asked ahead
/// (before the rest of it is read), else once it has been read. Stopping early leaves
/// one page unread; the connection's next user reads and discards it.
pub struct SyncScan {
    client: SyncClient,
    pages: Pages,
    /// The next page's command and where its reply arrives, when it was asked ahead.
    ahead: Option<PageAhead>,
}

impl SyncScan {
    /// The iteration `pages` on `client`, no page asked for yet.
    pub(crate) fn new(client: SyncClient, pages: Pages) -> SyncScan {
        SyncScan {
            client,
            pages,
            ahead: None,
        }
    }

    /// Where the iteration is.
    pub(crate) fn pages(&self) -> &Pages {
        &self.pages
    }

    /// The next non-empty page, or `None` when done.
    pub fn next_batch(&mut self) -> Result<Option<Vec<Value>>> {
        if self.pages.walks() {
            let engine = self.client.client.engine()?;
            let client = self.client.client.clone();
            return block_on(engine.runtime, scan::next_page(&client, &mut self.pages));
        }
        let cursor = &mut self.pages.cursor;
        while !cursor.is_done() {
            let reply = match self.ahead.take() {
                Some((cmd, mailbox)) => {
                    let (reply, asked) = self.client.take_ahead(&cmd, &mailbox, cursor);
                    self.ahead = asked;
                    match reply {
                        Some(reply) => reply?,
                        // The connection broke before the page was read: ask again.
                        None => self.client.execute(&cmd)?,
                    }
                }
                None => self.client.execute(&cursor.next_command()?)?,
            };
            let items = match cursor.accept(reply) {
                Ok(items) => items,
                Err(e) => {
                    // The cursor stays where it was: a page asked for after this one
                    // would skip it on the next call, so it is left unread.
                    self.ahead = None;
                    return Err(e);
                }
            };
            if !cursor.is_done() && self.ahead.is_none() {
                let cmd = cursor.next_command()?;
                self.ahead = self.client.ask_ahead(&cmd).map(|m| (cmd, m));
            }
            if !items.is_empty() {
                return Ok(Some(items));
            }
        }
        Ok(None)
    }
}

impl Iterator for SyncScan {
    type Item = Result<Vec<Value>>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}
