//! The bounded pool of dedicated connections (deadpool-redis).
//!
//! Blocking commands, WATCH transactions and (in pooled mode) every command run on a
//! connection leased from here (the public face is [`crate::Lease`]). The pool is bounded by `max_connections`; a lease waits
//! at most `pool_timeout` and then fails with [`ErrorKind::PoolTimeout`]. Recycling
//! health-checks the connection (UNWATCH + PING); connections idle longer than
//! `idle_timeout` are closed. A connection whose request timed out or was cancelled is
//! never returned to the pool: its late reply (or a still-blocking BLPOP) must not reach
//! the next holder.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_redis::{Hook, HookError, Manager, PoolError, Runtime, TimeoutType};
use redis::Value;

use super::send;
use crate::command::Command;
use crate::error::{Error, ErrorKind, Result};
use crate::observe::{CloseReason, ConnectionRole, Event, PoolState, Server, Stats};
use crate::policy::{self, run_timed};
use crate::settings::Config;
use crate::wire::{self, Pipeline};

tokio::task_local! {
    /// What the pool did inside one lease, noted by its hooks (only while someone
    /// listens to events): deadpool creates and recycles inside `get()`, on this task.
    static LEASE: LeaseTrace;
}

/// See [`LEASE`].
struct LeaseTrace {
    began: Instant,
    /// A new connection was made, this long after the lease began.
    created: Cell<Option<Duration>>,
    /// Idle connections health-checked, and those that passed.
    recycling: Cell<u32>,
    recycled: Cell<u32>,
}

/// Notes something in the current lease's trace, if there is one.
fn note(f: impl FnOnce(&LeaseTrace)) {
    let _ = LEASE.try_with(f);
}

/// The pool of one client.
pub(crate) struct Pool {
    pool: deadpool_redis::Pool,
    config: Arc<Config>,
    stats: Arc<Stats>,
}

impl Pool {
    /// Builds the (empty) pool; connections are opened on demand.
    pub(crate) fn new(config: Arc<Config>, stats: Arc<Stats>) -> Result<Pool> {
        let conn_cfg = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(None);
        // A Sentinel-managed client before its node is found gets a pool that cannot
        // connect; the engine, with this pool, is built again once the node is known.
        let info = config
            .redis_client_or_pending()?
            .get_connection_info()
            .clone();
        let manager = Manager::new_with_config(info, conn_cfg)?;
        let name = config.client_name.clone();
        let pool = deadpool_redis::Pool::builder(manager)
            .max_size(config.max_connections)
            .wait_timeout(Some(config.pool_timeout))
            .create_timeout(Some(config.connect_timeout))
            .recycle_timeout(Some(config.response_timeout))
            .runtime(Runtime::Tokio1)
            .post_create(Hook::async_fn(move |conn, _| {
                note(|t| t.created.set(Some(t.began.elapsed())));
                let name = name.clone();
                Box::pin(async move {
                    if let Some(name) = name {
                        let mut c = redis::cmd("CLIENT");
                        c.arg("SETNAME").arg(name);
                        conn.send_packed_command(&c)
                            .await
                            .map_err(HookError::Backend)?;
                    }
                    Ok(())
                })
            }))
            .pre_recycle(Hook::sync_fn(|_, _| {
                note(|t| t.recycling.set(t.recycling.get() + 1));
                Ok(())
            }))
            .post_recycle(Hook::sync_fn(|_, _| {
                note(|t| t.recycled.set(t.recycled.get() + 1));
                Ok(())
            }))
            .build()
            .map_err(|e| Error::invalid(format!("could not build the connection pool: {e}")))?;
        Ok(Pool {
            pool,
            config,
            stats,
        })
    }

    /// Leases a connection, waiting at most `pool_timeout`.
    pub(crate) async fn lease(&self) -> Result<Pooled> {
        let status = self.pool.status();
        if status.available == 0 && status.size >= status.max_size {
            self.stats.pool_wait();
        }
        let got = if self.stats.events.on() {
            self.traced_get().await
        } else {
            self.pool.get().await
        };
        let result = self.lease_result(got);
        if let Err(e) = &result {
            if e.kind() != ErrorKind::PoolTimeout {
                self.event(|server| Event::ConnectionFailed {
                    role: ConnectionRole::Pooled,
                    server,
                    error: e.kind(),
                });
            }
        }
        result
    }

    /// `get()` with its hooks noting what happened, then reported: connections found dead
    /// when health-checked (closed), a new connection (created), the wait.
    async fn traced_get(&self) -> std::result::Result<deadpool_redis::Connection, PoolError> {
        let trace = LeaseTrace {
            began: Instant::now(),
            created: Cell::new(None),
            recycling: Cell::new(0),
            recycled: Cell::new(0),
        };
        let (got, trace) = LEASE
            .scope(trace, async {
                let got = self.pool.get().await;
                let t = LEASE.with(|t| {
                    (
                        t.began,
                        t.created.get(),
                        t.recycling.get() - t.recycled.get(),
                    )
                });
                (got, t)
            })
            .await;
        let (began, created, dead) = trace;
        for _ in 0..dead {
            self.closed(CloseReason::Error);
        }
        if let Some(took) = created {
            self.event(|server| Event::ConnectionCreated {
                role: ConnectionRole::Pooled,
                server,
                took,
            });
        }
        self.event(|server| Event::PoolWait {
            server,
            waited: began.elapsed(),
            timed_out: matches!(got, Err(PoolError::Timeout(TimeoutType::Wait))),
        });
        got
    }

    /// Reports an event about this pool's server (when someone listens).
    fn event(&self, make: impl FnOnce(Server<'_>) -> Event<'_>) {
        let events = &self.stats.events;
        if events.on() {
            events.emit(&make(Server::of(&self.config)));
        }
    }

    /// Reports one of the pool's connections closed.
    fn closed(&self, reason: CloseReason) {
        closed_event(&self.stats, &self.config, reason);
    }

    /// A lease, or the error a caller sees, from what `get()` gave.
    fn lease_result(
        &self,
        got: std::result::Result<deadpool_redis::Connection, PoolError>,
    ) -> Result<Pooled> {
        match got {
            Ok(conn) => Ok(Pooled {
                conn: Some(conn),
                config: self.config.clone(),
                stats: self.stats.clone(),
                tainted: false,
                timed_out: false,
            }),
            Err(PoolError::Timeout(TimeoutType::Wait)) => {
                self.stats.pool_wait_timeout();
                Err(Error::new(
                    ErrorKind::PoolTimeout,
                    format!(
                        "no pooled connection became free within {} ms (max_connections = {}); \
                         raise max_connections or pool_timeout, or hold leases for less time",
                        self.config.pool_timeout.as_millis(),
                        self.config.max_connections
                    ),
                ))
            }
            Err(PoolError::Timeout(_)) => Err(Error::timeout(
                &format!("connecting to {}", self.config.addr),
                self.config.connect_timeout,
            )),
            Err(PoolError::Backend(e)) | Err(PoolError::PostCreateHook(HookError::Backend(e))) => {
                Err(super::connect_error(e.into(), &self.config))
            }
            Err(e) => Err(Error::new(
                ErrorKind::Connection,
                format!("connection pool: {e}"),
            )),
        }
    }

    /// Size, idle and in-use counts right now.
    pub(crate) fn state(&self) -> PoolState {
        let s = self.pool.status();
        PoolState {
            max_size: s.max_size,
            size: s.size,
            idle: s.available,
            in_use: s.size.saturating_sub(s.available),
            waiting: s.waiting,
        }
    }

    /// The task that closes connections idle longer than `idle_timeout`, periodically,
    /// until the pool is closed.
    pub(crate) fn reaper(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let (pool, stats, config) = (self.pool.clone(), self.stats.clone(), self.config.clone());
        let idle = config.idle_timeout;
        async move {
            let period = (idle / 2).max(Duration::from_millis(200));
            while !pool.is_closed() {
                tokio::time::sleep(period).await;
                let reaped = pool.retain(|_, m| m.last_used() < idle).removed;
                for _ in reaped {
                    closed_event(&stats, &config, CloseReason::Idle);
                }
            }
        }
    }

    /// Closes every connection; pending and later leases fail.
    pub(crate) fn close(&self) {
        for _ in 0..self.pool.status().available {
            self.closed(CloseReason::Application);
        }
        self.pool.close();
    }
}

/// Reports a pooled connection closed (when someone listens).
fn closed_event(stats: &Stats, config: &Config, reason: CloseReason) {
    stats.events.emit_with(|| Event::ConnectionClosed {
        role: ConnectionRole::Pooled,
        server: Server::of(config),
        reason,
    });
}

/// A dedicated connection leased from the pool. Returned to the pool when dropped
/// (deadpool's recycle runs UNWATCH + PING), or closed if a request on it did not finish.
pub(crate) struct Pooled {
    conn: Option<deadpool_redis::Connection>,
    config: Arc<Config>,
    stats: Arc<Stats>,
    tainted: bool,
    /// The request that left it tainted timed out (its close is reported so).
    timed_out: bool,
}

impl Pooled {
    /// One timed attempt, no guard, no stats (the caller's policy loop does those).
    pub(crate) async fn run(&mut self, cmd: &Command, timeout: Option<Duration>) -> Result<Value> {
        let conn = self.conn_mut()?;
        let reply = run_timed(conn.send_packed_command(cmd.cmd()), timeout, cmd.name()).await;
        self.settle(reply).and_then(wire::slot)
    }

    /// One timed pipeline attempt, no guard, no stats.
    pub(crate) async fn pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        let timeout = policy::pipeline_timeout(pipe, &self.config);
        let conn = self.conn_mut()?;
        let result = run_timed(send::pipeline(conn, pipe), timeout, "pipeline").await;
        self.settle(result)
    }

    /// Moves the connection out into a new `Pooled` (this one is left released), so that
    /// a last command can run on it after its holder is gone.
    pub(crate) fn take(&mut self) -> Pooled {
        Pooled {
            conn: self.conn.take(),
            config: self.config.clone(),
            stats: self.stats.clone(),
            tainted: std::mem::take(&mut self.tainted),
            timed_out: std::mem::take(&mut self.timed_out),
        }
    }

    fn conn_mut(&mut self) -> Result<&mut deadpool_redis::Connection> {
        self.tainted = true;
        self.conn
            .as_mut()
            .ok_or_else(|| Error::invalid("this lease was already released"))
    }

    /// Marks the connection clean again unless the outcome leaves it unusable.
    fn settle<T>(&mut self, result: Result<T>) -> Result<T> {
        match &result {
            Err(e) if e.is_connection_level() || e.kind() == ErrorKind::Timeout => {
                self.timed_out = e.kind() == ErrorKind::Timeout;
            }
            _ => self.tainted = false,
        }
        result
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.tainted {
                // Closes the socket instead of returning it: a reply may still be due.
                drop(deadpool_redis::Connection::take(conn));
                let reason = match self.timed_out {
                    true => CloseReason::Timeout,
                    false => CloseReason::Error,
                };
                closed_event(&self.stats, &self.config, reason);
            }
        }
    }
}
