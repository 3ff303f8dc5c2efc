//! The shared multiplexed connection, kept alive by a supervisor task.
//!
//! One redis-rs `MultiplexedConnection` carries every ordinary command of a client;
//! concurrent requests are written together (auto-pipelining). A supervisor task owns
//! its life: it connects (handshake: HELLO, AUTH, SELECT, CLIENT SETNAME), publishes the
//! connection, and when the connection breaks it reconnects in the background with the
//! policy's backoff. Commands issued meanwhile wait for the next connection up to their
//! own timeout.
//!
//! Two seams are exposed for the client-side cache: RESP3 push messages are handed to
//! every [`ConnectionObserver`] on the connection's reader, in order with replies, and
//! connects and disconnects are announced with a generation number.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{PushInfo, PushKind};
use tokio::sync::{mpsc, oneshot, watch, Notify};

use crate::error::{Error, ErrorKind, Result};
use crate::observe::{CloseReason, ConnectionRole, Event, Observers, Server, Stats};
use crate::policy::backoff;
use crate::settings::{Addr, Config, Protocol};

#[derive(Clone)]
enum Slot {
    /// `connected` counts the connections made so far (0: never connected yet).
    Connecting {
        last_error: Option<Error>,
        connected: u64,
    },
    Ready {
        generation: u64,
        conn: MultiplexedConnection,
    },
    Closed,
}

/// The shared connection of one client.
pub(crate) struct Multiplexed {
    state: watch::Receiver<Slot>,
    broken: mpsc::UnboundedSender<u64>,
    /// The newest generation reported broken: never handed out again, even before the
    /// supervisor has replaced it (an unsafe command would fail on it without a retry).
    broken_generation: AtomicU64,
    stop: Mutex<Option<oneshot::Sender<()>>>,
    /// Set by the first request: the supervisor connects only then, so a client whose
    /// requests all go elsewhere (the sync engine's direct connection) opens no socket
    /// it does not use.
    wanted: AtomicBool,
    demand: Arc<Notify>,
}

impl Multiplexed {
    /// Starts the supervisor on the current runtime; the first connect begins with the
    /// first request (or [`Self::wait_first`]), at once when the cache is on.
    pub(crate) fn start(
        config: Arc<Config>,
        client: redis::Client,
        observers: Arc<Observers>,
        stats: Arc<Stats>,
    ) -> Multiplexed {
        let (tx, rx) = watch::channel(Slot::Connecting {
            last_error: None,
            connected: 0,
        });
        let (broken_tx, broken_rx) = mpsc::unbounded_channel();
        let (stop_tx, stop_rx) = oneshot::channel();
        let demand = Arc::new(Notify::new());
        // With the client-side cache on, this connection carries the invalidations the
        // cache depends on: it connects at once.
        let eager = config.cache().is_some();
        if eager {
            demand.notify_one();
        }
        let sup = Supervisor {
            demand: demand.clone(),
            config,
            client,
            observers,
            stats,
            state: tx,
            broken_tx: broken_tx.clone(),
            broken_rx,
        };
        tokio::spawn(sup.run(stop_rx));
        Multiplexed {
            state: rx,
            broken: broken_tx,
            broken_generation: AtomicU64::new(0),
            stop: Mutex::new(Some(stop_tx)),
            wanted: AtomicBool::new(eager),
            demand,
        }
    }

    /// Lets the supervisor make its first connect (once; one relaxed load afterwards).
    fn want(&self) {
        if !self.wanted.load(Ordering::Relaxed) && !self.wanted.swap(true, Ordering::AcqRel) {
            self.demand.notify_one();
        }
    }

    /// Whether [`Multiplexed::get`] answers at once now: a connection is there, or the
    /// attempts failed in a way waiting cannot help.
    pub(crate) fn settled(&self) -> bool {
        let broken = self.broken_generation.load(Ordering::Acquire);
        ready_or_failed(&self.state.borrow(), broken).is_some()
    }

    /// The current connection, waiting up to `wait` for one while (re)connecting.
    ///
    /// Fails at once, without waiting, when waiting cannot help: the last attempt was
    /// refused for good (wrong password, …), or the client never connected and its last
    /// attempt failed (as redis-py fails when the server is down; the supervisor keeps
    /// trying in the background). After a drop, commands wait for the reconnect.
    /// `addr` names the server in the error (called only then).
    pub(crate) async fn get(
        &self,
        wait: Option<Duration>,
        addr: impl FnOnce() -> Addr,
    ) -> Result<(u64, MultiplexedConnection)> {
        self.want();
        let broken = self.broken_generation.load(Ordering::Acquire);
        if let Some(r) = ready_or_failed(&self.state.borrow(), broken) {
            return r;
        }
        let mut rx = self.state.clone();
        let waiting = async {
            loop {
                if let Some(r) = ready_or_failed(&rx.borrow_and_update(), broken) {
                    return r;
                }
                if rx.changed().await.is_err() {
                    return Err(closed());
                }
            }
        };
        let result = match wait {
            Some(t) => tokio::time::timeout(t, waiting).await.ok(),
            None => Some(waiting.await),
        };
        result.unwrap_or_else(|| {
            let waited = wait.unwrap_or_default();
            let why = match &*self.state.borrow() {
                Slot::Connecting {
                    last_error: Some(e),
                    ..
                } => format!("; last attempt: {}", e.message()),
                _ => String::new(),
            };
            // The whole budget went into waiting: another attempt would only wait again.
            Err(not_connected(&addr(), waited, &why))
        })
    }

    /// Waits for the first connection and returns its error if it failed.
    pub(crate) async fn wait_first(&self, wait: Duration) -> Result<()> {
        self.want();
        let mut rx = self.state.clone();
        let first = async {
            loop {
                match &*rx.borrow_and_update() {
                    Slot::Ready { .. } => return Ok(()),
                    Slot::Connecting {
                        last_error: Some(e),
                        ..
                    } => return Err(e.clone()),
                    Slot::Closed => return Err(closed()),
                    Slot::Connecting {
                        last_error: None, ..
                    } => {}
                }
                if rx.changed().await.is_err() {
                    return Err(closed());
                }
            }
        };
        tokio::time::timeout(wait, first)
            .await
            .unwrap_or_else(|_| Err(Error::timeout("connecting", wait)))
    }

    /// Reports that the connection of `generation` broke (a command saw it fail).
    pub(crate) fn report_broken(&self, generation: u64) {
        self.broken_generation
            .fetch_max(generation, Ordering::AcqRel);
        let _ = self.broken.send(generation);
    }

    /// Stops the supervisor: the connection closes, waiting commands fail.
    pub(crate) fn stop(&self) {
        self.stop.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// The generation of the connection now published, if one is.
    pub(crate) fn generation(&self) -> Option<u64> {
        match &*self.state.borrow() {
            Slot::Ready { generation, .. } => Some(*generation),
            _ => None,
        }
    }
}

/// `Some` when a caller need not (or must not) wait: the connection, or the error. A
/// connection of generation `broken` is known dead: wait for its successor.
fn ready_or_failed(slot: &Slot, broken: u64) -> Option<Result<(u64, MultiplexedConnection)>> {
    match slot {
        Slot::Ready { generation, .. } if *generation == broken => None,
        Slot::Ready { generation, conn } => Some(Ok((*generation, conn.clone()))),
        Slot::Closed => Some(Err(closed())),
        Slot::Connecting {
            last_error: Some(e),
            connected,
        } if *connected == 0 || !e.is_transient(false) => Some(Err(e.clone().settled())),
        Slot::Connecting { .. } => None,
    }
}

fn closed() -> Error {
    Error::new(
        ErrorKind::Connection,
        "the client is closed; create a new client",
    )
}

struct Supervisor {
    /// Notified by the first request (see [`Multiplexed::want`]).
    demand: Arc<Notify>,
    config: Arc<Config>,
    client: redis::Client,
    observers: Arc<Observers>,
    stats: Arc<Stats>,
    state: watch::Sender<Slot>,
    broken_tx: mpsc::UnboundedSender<u64>,
    broken_rx: mpsc::UnboundedReceiver<u64>,
}

impl Supervisor {
    async fn run(mut self, mut stop: oneshot::Receiver<()>) {
        tokio::select! {
            _ = self.demand.notified() => {}
            _ = &mut stop => {
                self.state.send_replace(Slot::Closed);
                return;
            }
        }
        let mut generation = 0u64;
        let mut failures = 0u32;
        loop {
            let next = generation + 1;
            let began = self.stats.events.on().then(Instant::now);
            let attempt = tokio::select! {
                r = self.connect(next) => r,
                _ = &mut stop => break,
            };
            self.stats.events.emit_with(|| match &attempt {
                Ok(_) => Event::ConnectionCreated {
                    role: ConnectionRole::Shared,
                    server: Server::of(&self.config),
                    took: began.map_or(Duration::ZERO, |t| t.elapsed()),
                },
                Err(e) => Event::ConnectionFailed {
                    role: ConnectionRole::Shared,
                    server: Server::of(&self.config),
                    error: e.kind(),
                },
            });
            match attempt {
                Ok(conn) => {
                    generation = next;
                    failures = 0;
                    if generation > 1 {
                        self.stats.reconnect();
                    }
                    // Observers first: a request that finds the connection ready must
                    // find the cache serving too, or its read is not stored (seen under
                    // valgrind, where this task can be parked between the two steps).
                    self.observers.each(|o| o.on_connected(generation));
                    self.state.send_replace(Slot::Ready { generation, conn });
                    loop {
                        tokio::select! {
                            g = self.broken_rx.recv() => match g {
                                Some(g) if g == generation => break,
                                Some(_) => continue,
                                None => return,
                            },
                            _ = &mut stop => {
                                self.state.send_replace(Slot::Closed);
                                self.closed(CloseReason::Application);
                                return;
                            }
                        }
                    }
                    self.closed(CloseReason::Error);
                    self.state.send_replace(Slot::Connecting {
                        last_error: None,
                        connected: generation,
                    });
                    self.observers.each(|o| o.on_disconnected(generation));
                }
                Err(e) => {
                    self.state.send_replace(Slot::Connecting {
                        last_error: Some(e),
                        connected: generation,
                    });
                    let delay = backoff(failures.min(10));
                    failures += 1;
                    tokio::select! {
                        _ = tokio::time::sleep(delay) => {}
                        _ = &mut stop => break,
                    }
                }
            }
        }
        self.state.send_replace(Slot::Closed);
    }

    /// Reports the connection up now as closed (when someone listens).
    fn closed(&self, reason: CloseReason) {
        self.stats.events.emit_with(|| Event::ConnectionClosed {
            role: ConnectionRole::Shared,
            server: Server::of(&self.config),
            reason,
        });
    }

    async fn connect(&self, generation: u64) -> Result<MultiplexedConnection> {
        // A Sentinel-managed client whose node is not found yet: say so (the engine is
        // built again once it is).
        self.config.target()?;
        // No sender ever waits for room: a waiting sender can be overtaken by a later
        // one, and requests must reach the server in the order they were made.
        let mut cfg = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.config.connect_timeout))
            .set_response_timeout(None)
            .set_pipeline_buffer_size(1 << 20);
        if self.config.protocol == Protocol::Resp3 {
            let observers = self.observers.clone();
            let broken = self.broken_tx.clone();
            cfg = cfg.set_push_sender(move |push: PushInfo| {
                if push.kind == PushKind::Disconnection {
                    observers.each(|o| o.on_disconnected(generation));
                    let _ = broken.send(generation);
                } else {
                    observers.each(|o| o.on_push(generation, &push));
                }
                Ok::<(), std::convert::Infallible>(())
            });
        }
        let mut conn = self
            .client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .map_err(|e| connect_error(e.into(), &self.config))?;
        init_connection(&mut conn, &self.config).await?;
        Ok(conn)
    }
}

/// Runs what the handshake of redis-rs does not: CLIENT SETNAME.
pub(crate) async fn init_connection(
    conn: &mut MultiplexedConnection,
    config: &Config,
) -> Result<()> {
    if let Some(name) = &config.client_name {
        let mut c = redis::cmd("CLIENT");
        c.arg("SETNAME").arg(name);
        conn.send_packed_command(&c).await?;
    }
    // The cache's tracking goes on before the connection is published: no read untracked.
    if let Some(cache) = &config.cache {
        let reply = conn.send_packed_command(&cache.tracking_command()).await?;
        crate::wire::slot(reply)?;
    }
    Ok(())
}

/// The error of a wait for a connection that took its whole budget (`waited`): names the
/// server and the wait, `why` (the last attempt's error, or empty), and what to check.
/// Settled: another attempt would only wait again.
pub(crate) fn not_connected(addr: &Addr, waited: Duration, why: &str) -> Error {
    Error::new(
        ErrorKind::Connection,
        format!(
            "not connected to {addr}: no connection within {} ms{why}; is the server running \
             and reachable?",
            waited.as_millis()
        ),
    )
    .settled()
}

/// Adds the address (never the password) and a hint to a connect failure.
pub(crate) fn connect_error(e: Error, config: &Config) -> Error {
    // The node the connection went to: for a Sentinel client the one discovery found,
    // not the (unused) configured address.
    let addr = config.target_or_addr();
    if config.tls.is_some() {
        if let Some(why) = crate::settings::explain_tls(e.message(), &addr) {
            return Error::new(ErrorKind::Connection, why);
        }
    }
    match e.kind() {
        ErrorKind::Connection | ErrorKind::Timeout => Error::new(
            e.kind(),
            format!(
                "could not connect to {addr}: {}; is redis-server running there?",
                e.message()
            ),
        ),
        _ => e,
    }
}
