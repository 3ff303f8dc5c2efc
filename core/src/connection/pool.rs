//! The bounded pool of dedicated connections (deadpool-redis).
//!
//! Blocking commands, WATCH transactions and (in pooled mode) every command run on a
//! connection leased from here (the public face is [`crate::Lease`]). The pool is bounded by `max_connections`; a lease waits
//! at most `pool_timeout` and then fails with [`ErrorKind::PoolTimeout`]. Recycling
//! health-checks the connection (UNWATCH + PING); connections idle longer than
//! `idle_timeout` are closed. A connection whose request timed out or was cancelled is
//! never returned to the pool: its late reply (or a still-blocking BLPOP) must not reach
//! the next holder.

use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool_redis::{Hook, HookError, Manager, PoolError, Runtime, TimeoutType};
use redis::Value;

use super::send;
use crate::command::Command;
use crate::error::{Error, ErrorKind, Result};
use crate::observe::{Event, PoolState, Server, Stats};
use crate::policy::{self, run_timed};
use crate::settings::Config;
use crate::wire::{self, Pipeline};

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
        let manager = Manager::new_with_config(
            config.redis_client()?.get_connection_info().clone(),
            conn_cfg,
        )?;
        let name = config.client_name.clone();
        let pool = deadpool_redis::Pool::builder(manager)
            .max_size(config.max_connections)
            .wait_timeout(Some(config.pool_timeout))
            .create_timeout(Some(config.connect_timeout))
            .recycle_timeout(Some(config.response_timeout))
            .runtime(Runtime::Tokio1)
            .post_create(Hook::async_fn(move |conn, _| {
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
        let began = self.stats.events.on().then(Instant::now);
        let got = self.pool.get().await;
        if let Some(began) = began {
            self.stats.events.emit(&Event::PoolWait {
                server: Server::of(&self.config),
                waited: began.elapsed(),
                timed_out: matches!(got, Err(PoolError::Timeout(TimeoutType::Wait))),
            });
        }
        match got {
            Ok(conn) => Ok(Pooled {
                conn: Some(conn),
                config: self.config.clone(),
                tainted: false,
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

    /// A handle for the reaper task (which ends when the pool is closed).
    pub(crate) fn handle(&self) -> deadpool_redis::Pool {
        self.pool.clone()
    }

    /// Closes every connection; pending and later leases fail.
    pub(crate) fn close(&self) {
        self.pool.close();
    }
}

/// Closes idle connections periodically until the pool is closed.
pub(crate) async fn reaper(pool: deadpool_redis::Pool, idle: Duration) {
    let period = (idle / 2).max(Duration::from_millis(200));
    while !pool.is_closed() {
        tokio::time::sleep(period).await;
        pool.retain(|_, m| m.last_used() < idle);
    }
}

/// A dedicated connection leased from the pool. Returned to the pool when dropped
/// (deadpool's recycle runs UNWATCH + PING), or closed if a request on it did not finish.
pub(crate) struct Pooled {
    conn: Option<deadpool_redis::Connection>,
    config: Arc<Config>,
    tainted: bool,
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
            tainted: std::mem::take(&mut self.tainted),
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
            Err(e) if e.is_connection_level() || e.kind() == ErrorKind::Timeout => {}
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
            }
        }
    }
}
