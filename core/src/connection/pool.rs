//! The bounded pool of dedicated connections (deadpool-redis) and the [`Lease`] type.
//!
//! Blocking commands, WATCH transactions and (in pooled mode) every command run on a
//! connection leased from here. The pool is bounded by `max_connections`; a lease waits
//! at most `pool_timeout` and then fails with [`ErrorKind::PoolTimeout`]. Recycling
//! health-checks the connection (UNWATCH + PING); connections idle longer than
//! `idle_timeout` are closed. A connection whose request timed out or was cancelled is
//! never returned to the pool: its late reply (or a still-blocking BLPOP) must not reach
//! the next holder.

use std::sync::Arc;
use std::time::Duration;

use deadpool_redis::{Hook, HookError, Manager, PoolError, Runtime, TimeoutType};
use redis::Value;

use crate::cache::Cache;
use crate::client::refusal;
use crate::command::{Command, Flags};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::guard::Guard;
use crate::pipeline::{self, Pipeline};
use crate::policy;
use crate::stats::{PoolState, Stats};

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
    pub(crate) async fn lease(&self, guard: Guard, cache: Option<Arc<Cache>>) -> Result<Lease> {
        let status = self.pool.status();
        if status.available == 0 && status.size >= status.max_size {
            self.stats.pool_wait();
        }
        match self.pool.get().await {
            Ok(conn) => Ok(Lease {
                conn: Some(conn),
                config: self.config.clone(),
                guard,
                stats: self.stats.clone(),
                cache,
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
                Err(crate::multiplexed::connect_error(e.into(), &self.config))
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

/// A dedicated connection leased from the pool: for blocking commands and for WATCH …
/// MULTI … EXEC, where the connection's state belongs to one caller. Returned to the
/// pool when dropped (after UNWATCH), or closed if a request on it did not finish.
pub struct Lease {
    conn: Option<deadpool_redis::Connection>,
    config: Arc<Config>,
    guard: Guard,
    stats: Arc<Stats>,
    cache: Option<Arc<Cache>>,
    tainted: bool,
}

impl Lease {
    /// Runs one command on this connection (WATCH, GET, BLPOP, MULTI…, but not SELECT
    /// or other connection-state commands). No retries: a lease holds state (WATCH) that
    /// a new connection would not have.
    pub async fn execute(&mut self, cmd: &Command) -> Result<Value> {
        self.stats.request();
        let result = async {
            if cmd.flags().contains(Flags::STATE) {
                return Err(refusal(cmd.meta()));
            }
            self.guard.before(cmd.meta())?;
            let reply = self
                .run(cmd, policy::response_timeout(cmd, &self.config))
                .await?;
            self.guard.after(cmd.meta(), &reply);
            Ok(reply)
        }
        .await;
        self.count(result)
    }

    /// Runs a pipeline or MULTI/EXEC transaction on this connection (after WATCH, a
    /// changed key gives an [`ErrorKind::Watch`] error).
    pub async fn pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        self.stats.request();
        let result = async {
            for m in pipe.metas() {
                self.guard.before(m)?;
            }
            if let Some(cache) = &self.cache {
                pipe.for_each_command(|meta, args| cache.before_write_args(meta, args));
            }
            self.pipeline_raw(pipe).await
        }
        .await;
        self.count(result)
    }

    fn count<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            self.stats.error(e.kind());
        }
        result
    }

    /// One timed attempt, no guard, no stats (the caller's policy loop does those).
    pub(crate) async fn run(&mut self, cmd: &Command, timeout: Option<Duration>) -> Result<Value> {
        let conn = self.conn_mut()?;
        let reply = run_timed(conn.send_packed_command(cmd.cmd()), timeout, cmd.name()).await;
        self.settle(reply).and_then(crate::pipeline::slot)
    }

    /// One timed pipeline attempt, no guard, no stats.
    pub(crate) async fn pipeline_raw(&mut self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        pipe.check(true)?;
        let timeout = pipe.timeout(&self.config);
        let conn = self.conn_mut()?;
        let result = run_timed(pipeline::send(conn, pipe), timeout, "pipeline").await;
        self.settle(result)
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

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            if self.tainted {
                // Closes the socket instead of returning it: a reply may still be due.
                drop(deadpool_redis::Connection::take(conn));
            }
        }
    }
}

/// Awaits `fut` for at most `timeout` (no limit when `None`).
pub(crate) async fn run_timed<T, E: Into<Error>>(
    fut: impl std::future::Future<Output = std::result::Result<T, E>>,
    timeout: Option<Duration>,
    what: &str,
) -> Result<T> {
    match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r.map_err(Into::into),
            Err(_) => Err(Error::timeout(what, t)),
        },
        None => fut.await.map_err(Into::into),
    }
}
