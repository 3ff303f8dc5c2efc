//! The guard: commands that walk the whole keyspace or return whole collections.
//!
//! KEYS and a synchronous FLUSHALL/FLUSHDB are caught before they are sent; SMEMBERS,
//! HGETALL, LRANGE, ZRANGE, SUNION… are caught when their reply turns out larger than
//! the threshold. Each catch is a [`Warning`] naming the incremental alternative, sent to
//! the configured [`WarningSink`] (Python `warnings`, Node `process.emitWarning`, a C
//! callback); in deny mode the before-send catches are refused instead.

use redis::Value;

use crate::command::{Flags, Meta};
use crate::error::{Error, ErrorKind, Result};
use crate::settings::{GuardMode, Warning, WarningSink};

/// The guard of one client.
#[derive(Clone)]
pub(crate) struct Guard {
    mode: GuardMode,
    threshold: usize,
    sink: Option<WarningSink>,
}

impl Guard {
    pub(crate) fn new(mode: GuardMode, threshold: usize, sink: Option<WarningSink>) -> Self {
        Guard {
            mode,
            threshold,
            sink,
        }
    }

    fn emit(&self, w: Warning) {
        match &self.sink {
            Some(sink) => sink(&w),
            None => log::warn!(target: "redbridge::guard", "{}", w.message),
        }
    }

    /// Called before a command is sent: refuses it in deny mode, warns in warn mode.
    pub(crate) fn before(&self, cmd: &Meta) -> Result<()> {
        if self.mode == GuardMode::Off || !cmd.flags().contains(Flags::WALKS) {
            return Ok(());
        }
        let name = cmd.name();
        let alternative = cmd.spec().alternative;
        let message = format!(
            "{name} walks the whole keyspace and blocks the server while it runs; use {alternative} instead"
        );
        if self.mode == GuardMode::Deny {
            return Err(Error::new(
                ErrorKind::Denied,
                format!(
                    "{message} (refused because guard=\"deny\"; set guard=\"warn\" to allow it)"
                ),
            ));
        }
        self.emit(Warning {
            command: name.to_string(),
            message,
            alternative,
        });
        Ok(())
    }

    /// Called with a reply: warns when a whole-collection reply exceeds the threshold.
    pub(crate) fn after(&self, cmd: &Meta, reply: &Value) {
        if self.mode == GuardMode::Off || !cmd.flags().contains(Flags::BIG_REPLY) {
            return;
        }
        let n = match reply {
            Value::Array(v) | Value::Set(v) => v.len(),
            Value::Map(m) => m.len(),
            _ => return,
        };
        if n > self.threshold {
            let name = cmd.name();
            let alternative = cmd.spec().alternative;
            self.emit(Warning {
                command: name.to_string(),
                message: format!(
                    "{name} returned {n} elements (guard_threshold is {}); fetch large collections incrementally with {alternative}",
                    self.threshold
                ),
                alternative,
            });
        }
    }
}
