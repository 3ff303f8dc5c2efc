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

use redis::Value;

use super::{Client, Read};
use crate::command::{Command, Meta, Shape};
use crate::error::Result;
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

impl Client {
    /// The first half of the request path for one command, about to run on `seat`:
    /// refusals, the guard's before-send check, the cache (a hit ends the request here;
    /// a write drops the keys it names), and the command's retry state.
    pub(crate) fn begin(&self, cmd: &Command, seat: Seat) -> Result<Begin> {
        let meta = cmd.meta();
        admit(meta, seat)?;
        self.shared.guard.before(meta)?;
        let retry = Retry::for_command(cmd, &self.shared.config);
        if seat == Seat::Lease {
            // A lease's reads go to the server (WATCH wants them fresh); its writes still
            // drop what they name.
            self.for_each_cache(|cache| cache.before_write(cmd));
            return Ok(Begin::Send(retry));
        }
        Ok(match self.probe(cmd) {
            super::Probe::Hit(v) => {
                self.shared.stats.request();
                Begin::Hit(normal_form(meta.shape(), v))
            }
            super::Probe::Miss(read) => Begin::Miss(retry, read),
            super::Probe::Bypass => Begin::Send(retry),
        })
    }

    /// The second half for one command: counts it (and its error), lets the guard see a
    /// large reply, and returns the result in the normal form the command asked for.
    pub(crate) fn end(&self, meta: &Meta, result: Result<Value>) -> Result<Value> {
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
        admit_pipeline(pipe)?;
        for m in pipe.metas() {
            self.shared.guard.before(m)?;
        }
        self.for_each_cache(|cache| {
            pipe.for_each_command(|meta, args| cache.before_write_args(meta, args))
        });
        Ok(Retry::for_pipeline(pipe, &self.shared.config))
    }

    /// The second half for a pipeline: counted once, each reply shown to the guard.
    pub(crate) fn end_pipeline(
        &self,
        pipe: &Pipeline,
        result: Result<Vec<Result<Value>>>,
    ) -> Result<Vec<Result<Value>>> {
        if let Ok(slots) = &result {
            for (m, s) in pipe.metas().iter().zip(slots) {
                if let Ok(v) = s {
                    self.shared.guard.after(m, v);
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
        }
        result
    }
}
