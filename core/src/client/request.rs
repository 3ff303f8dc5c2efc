//! The request path, written once: what happens to every command and pipeline before it
//! is sent and after its reply, whichever engine carries it (the async client, the sync
//! engine's direct connection, a batch from an event loop, the loop's own connection, a
//! lease). An engine calls [`Client::begin`], carries the request its own way under the
//! [`Retry`] it was given, and hands the outcome to [`Client::end`] — exactly once.
//!
//! ```text
//! begin: admit (refusals) → guard (before) → cache (hit / miss ticket / void writes) → retry state
//!   … the engine sends, under policy::{timeout, retry} …
//! end:   count the request (and its error) → guard (large replies) → normal form → result
//! ```
//!
//! Both halves also feed the event stream (`observe::Events`): `begin` notes the start
//! time in the [`Retry`] (only when someone listens), `end` reports the operation with
//! its retries and how it was served; a cache hit is reported by `begin`.

use std::time::{Duration, Instant};

use redis::Value;

use super::{Client, Read};
use crate::command::{Command, Flags, Shape};
use crate::error::{Error, Result};
use crate::observe::{CacheOutcome, Event, Operation, Served, Server};
use crate::policy::{admit, admit_pipeline, Retry, Seat};
use crate::wire::{normal_form, Pipeline};

/// What the request path says of a command about to be sent.
pub(crate) enum Begin {
    /// Answered by the client-side cache on the caller's thread: a whole request, counted
    /// already; there is no [`Client::end`] for it.
    Hit(Value),
    /// A cacheable read the cache does not hold: read it on the tracked connection, with
    /// the ticket its reply must present to be stored (none while tracking is down).
    Miss(Retry, Option<Read>),
    /// Send it.
    Send(Retry),
}

impl Begin {
    /// The retry state a sent request carries (none for a hit).
    pub(crate) fn into_retry(self) -> Option<Retry> {
        match self {
            Begin::Hit(_) => None,
            Begin::Miss(retry, _) | Begin::Send(retry) => Some(retry),
        }
    }
}

impl Client {
    /// The first half of the request path for one command, about to run on `seat`:
    /// refusals, the guard's before-send check, the cache (a hit ends the request here;
    /// a write drops the keys it names), and the command's retry state.
    pub(crate) fn begin(&self, cmd: &Command, seat: Seat) -> Result<Begin> {
        let meta = cmd.meta();
        let started = self.shared.stats.events.on().then(Instant::now);
        admit(meta, seat)?;
        self.shared.guard.before(meta)?;
        let retry = Retry::for_command(cmd, &self.shared.config).started_at(started);
        if seat == Seat::Lease {
            // A lease's reads go to the server (WATCH wants them fresh); its writes still
            // drop what they name.
            self.for_each_cache(|cache| cache.before_write(cmd));
            return Ok(Begin::Send(retry));
        }
        Ok(match self.probe(cmd) {
            super::Probe::Hit(v) => {
                self.shared.stats.request();
                self.report_hit(cmd, started);
                Begin::Hit(normal_form(meta.shape(), v))
            }
            super::Probe::Miss(read) => {
                self.shared.stats.events.emit_with(|| Event::Cache {
                    outcome: CacheOutcome::Miss,
                    count: 1,
                });
                Begin::Miss(retry, read)
            }
            super::Probe::Bypass => Begin::Send(retry),
        })
    }

    /// The second half for one command: counts it (and its error), reports it to the
    /// event stream (`retry` is `None` when `begin` refused it), lets the guard see a
    /// large reply, and returns the result in the normal form the command asked for.
    pub(crate) fn end(
        &self,
        cmd: &Command,
        result: Result<Value>,
        retry: Option<&Retry>,
    ) -> Result<Value> {
        let meta = cmd.meta();
        if self.shared.stats.events.on() {
            self.report(Some(cmd), meta.name(), 1, result.as_ref().err(), retry);
        }
        if let Ok(v) = &result {
            self.shared.guard.after(meta, v);
        }
        self.tally(result).map(|v| normal_form(meta.shape(), v))
    }

    /// The first half for a pipeline or transaction, on any seat (a transaction is asked
    /// for with `Pipeline::new(true)`, never queued as MULTI): refusals, the guard's look
    /// at every command, the cache dropping the keys it writes; its retry state (safe to
    /// repeat only when every command is).
    pub(crate) fn begin_pipeline(&self, pipe: &Pipeline) -> Result<Retry> {
        let started = self.shared.stats.events.on().then(Instant::now);
        admit_pipeline(pipe)?;
        for m in pipe.metas() {
            self.shared.guard.before(m)?;
        }
        self.for_each_cache(|cache| {
            pipe.for_each_command(|meta, args| cache.before_write_args(meta, args))
        });
        Ok(Retry::for_pipeline(pipe, &self.shared.config).started_at(started))
    }

    /// The second half for a pipeline: counted once and reported once, each reply shown
    /// to the guard.
    pub(crate) fn end_pipeline(
        &self,
        pipe: &Pipeline,
        result: Result<Vec<Result<Value>>>,
        retry: Option<&Retry>,
    ) -> Result<Vec<Result<Value>>> {
        if self.shared.stats.events.on() {
            let name = if pipe.is_transaction() {
                "MULTI"
            } else {
                "PIPELINE"
            };
            self.report(None, name, pipe.len(), result.as_ref().err(), retry);
        }
        if let Ok(slots) = &result {
            for (m, s) in pipe.metas().iter().zip(slots) {
                match s {
                    Ok(v) => self.shared.guard.after(m, v),
                    Err(e) => self.readonly_seen(e),
                }
            }
        }
        let mut slots = self.tally(result)?;
        for (slot, m) in slots.iter_mut().zip(pipe.metas()) {
            if let (Ok(v), shape) = (slot, m.shape()) {
                if shape != Shape::Plain {
                    *v = normal_form(shape, std::mem::take(v));
                }
            }
        }
        Ok(slots)
    }

    /// Reports a finished operation (someone listens). `cmd` picks a cluster's node.
    fn report(
        &self,
        cmd: Option<&Command>,
        name: &str,
        batch: usize,
        error: Option<&Error>,
        retry: Option<&Retry>,
    ) {
        let duration = retry
            .and_then(Retry::started)
            .map_or(Duration::ZERO, |t| t.elapsed());
        let served = match retry {
            None => Served::NotSent,
            Some(r) if r.direct() => Served::Direct,
            Some(_) => Served::Runtime,
        };
        let blocking = cmd.is_some_and(|c| c.flags().contains(Flags::BLOCKING));
        self.with_server(cmd, |server| {
            self.shared.stats.events.emit(&Event::Operation(Operation {
                name,
                batch,
                server,
                duration,
                error: error.map(Error::kind),
                code: error.and_then(Error::code),
                retries: retry.map_or(0, Retry::retries),
                served,
                blocking,
            }))
        });
    }

    /// Reports a read the cache answered (when someone listens): a hit, and an
    /// operation served by the cache.
    pub(crate) fn report_hit(&self, cmd: &Command, started: Option<Instant>) {
        let events = &self.shared.stats.events;
        if !events.on() {
            return;
        }
        events.emit(&Event::Cache {
            outcome: CacheOutcome::Hit,
            count: 1,
        });
        let duration = started.map_or(Duration::ZERO, |t| t.elapsed());
        self.with_server(Some(cmd), |server| {
            events.emit(&Event::Operation(Operation {
                name: cmd.name(),
                batch: 1,
                server,
                duration,
                error: None,
                code: None,
                retries: 0,
                served: Served::Cache,
                blocking: false,
            }))
        });
    }

    /// Calls `f` with the server `cmd` goes to: on a cluster the node of its first key
    /// (by the client's slot table), else the configured address.
    pub(crate) fn with_server(&self, cmd: Option<&Command>, f: impl FnOnce(Server<'_>)) {
        let config = &self.shared.config;
        let node = match (cmd, self.shared.engine.load().cluster.as_ref()) {
            (Some(cmd), Some(cluster)) => cluster.topology.node_for(cmd),
            _ => None,
        };
        match &node {
            Some(n) => f(Server {
                host: &n.host,
                port: n.port,
                db: config.db,
            }),
            None => f(Server::of(config)),
        }
    }

    /// Reports an event of one of this client's own connections to the configured
    /// address (the direct and the event loop's), when someone listens.
    pub(crate) fn own_connection_event(&self, make: impl FnOnce(Server<'_>) -> Event<'_>) {
        let shared = &self.shared;
        if shared.stats.events.on() {
            shared.stats.events.emit(&make(Server::of(&shared.config)));
        }
    }

    /// Counts one finished request, and its error if it failed.
    pub(crate) fn tally<T>(&self, result: Result<T>) -> Result<T> {
        self.shared.stats.request();
        self.count_error(result)
    }

    /// Counts the error of a failed call that is not a request (a lease that could not be
    /// had).
    pub(crate) fn count_error<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            self.shared.stats.error(e.kind());
            self.readonly_seen(e);
        }
        result
    }

    /// A Sentinel-managed primary client that meets READONLY asks the sentinels again at
    /// once (the node was demoted; the poll would notice only within a second).
    pub(crate) fn readonly_seen(&self, e: &Error) {
        if e.code() == Some("READONLY")
            && self
                .shared
                .config
                .sentinel()
                .is_some_and(|s| !s.wants_replica())
        {
            self.shared.sentinel_wake.notify_one();
        }
    }
}
