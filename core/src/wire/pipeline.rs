//! Pipelines and MULTI/EXEC transactions.
//!
//! A [`Pipeline`] queues commands and sends them in one write per chunk: each command's
//! reply or error comes back in its own slot. With `transaction = true` the commands are
//! wrapped in MULTI … EXEC. Very large pipelines are packed in chunks (at most
//! [`CHUNK_COMMANDS`] commands or [`CHUNK_BYTES`] bytes) sent one after another, so the
//! memory held at once stays bounded. A transaction that spans several chunks runs on a
//! dedicated connection, since other callers' commands must not land inside it.

use redis::Value;

use crate::command::{Command, Flags, Meta};
use crate::error::{Error, ErrorKind, Result};

/// Most commands packed in one write.
pub const CHUNK_COMMANDS: usize = 10_000;
/// Most argument bytes packed in one write (a single larger command is its own chunk).
pub const CHUNK_BYTES: usize = 4 << 20;

/// A queue of commands sent together.
#[derive(Clone)]
pub struct Pipeline {
    chunks: Vec<redis::Pipeline>,
    chunk_bytes: usize,
    metas: Vec<Meta>,
    transaction: bool,
}

impl Pipeline {
    /// An empty pipeline; `transaction` wraps it in MULTI/EXEC.
    pub fn new(transaction: bool) -> Pipeline {
        let mut first = redis::pipe();
        if transaction {
            first.cmd("MULTI");
        }
        Pipeline {
            chunks: vec![first],
            chunk_bytes: 0,
            metas: Vec::new(),
            transaction,
        }
    }

    /// Queues a command.
    pub fn add(&mut self, cmd: Command) -> &mut Self {
        let Command { cmd, meta } = cmd;
        let last = self.chunks.last().map(|c| c.len()).unwrap_or(0);
        if last >= CHUNK_COMMANDS || (last > 0 && self.chunk_bytes + meta.size() > CHUNK_BYTES) {
            self.chunks.push(redis::pipe());
            self.chunk_bytes = 0;
        }
        self.chunk_bytes += meta.size();
        self.chunks
            .last_mut()
            .expect("a pipeline always has a chunk")
            .add_command(cmd);
        self.metas.push(meta);
        self
    }

    /// Number of queued commands.
    pub fn len(&self) -> usize {
        self.metas.len()
    }
    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.metas.is_empty()
    }
    /// True for MULTI/EXEC.
    pub fn is_transaction(&self) -> bool {
        self.transaction
    }
    /// What the table says of each queued command, in order.
    pub fn metas(&self) -> &[Meta] {
        &self.metas
    }

    /// Every queued command, in order.
    pub(crate) fn cmds(&self) -> impl Iterator<Item = &redis::Cmd> + '_ {
        self.chunks.iter().flat_map(|c| c.cmd_iter())
    }

    /// Calls `f` with each queued command's table row and arguments, in order.
    pub(crate) fn for_each_command(
        &self,
        mut f: impl FnMut(&Meta, &mut dyn Iterator<Item = &[u8]>),
    ) {
        let mut metas = self.metas.iter();
        for (i, chunk) in self.chunks.iter().enumerate() {
            // The first command of a transaction's first chunk is its MULTI.
            let skip = usize::from(i == 0 && self.transaction);
            for cmd in chunk.cmd_iter().skip(skip) {
                let Some(meta) = metas.next() else { return };
                let mut args = cmd.args_iter().map(|a| match a {
                    redis::Arg::Simple(b) => b,
                    _ => &b""[..],
                });
                f(meta, &mut args);
            }
        }
    }

    /// True when the pipeline must not share the multiplexed connection: it holds a
    /// blocking command, or it is a transaction written in more than one chunk.
    pub(crate) fn needs_dedicated(&self) -> bool {
        self.metas
            .iter()
            .any(|m| m.flags().contains(Flags::BLOCKING))
            || (self.transaction && self.chunks.len() > 1)
    }

    /// Total bytes of every command's arguments.
    pub(crate) fn size(&self) -> usize {
        self.metas.iter().map(|m| m.size()).sum()
    }

    /// True when every command is safe to repeat.
    pub(crate) fn retry_safe(&self, retry_unsafe: bool) -> bool {
        self.metas.iter().all(|m| m.retry_safe(retry_unsafe))
    }
}

/// The chunks to write, in order; a transaction's last chunk carries its EXEC.
pub(crate) fn wire_chunks(
    pipe: &Pipeline,
) -> impl Iterator<Item = std::borrow::Cow<'_, redis::Pipeline>> {
    let last = pipe.chunks.len().saturating_sub(1);
    pipe.chunks.iter().enumerate().map(move |(i, chunk)| {
        if i == last && pipe.transaction {
            let mut with_exec = chunk.clone();
            with_exec.cmd("EXEC");
            std::borrow::Cow::Owned(with_exec)
        } else {
            std::borrow::Cow::Borrowed(chunk)
        }
    })
}

/// Each command's reply or error in its slot, from every reply read off the wire.
pub(crate) fn finish(pipe: &Pipeline, replies: Vec<Value>) -> Result<Vec<Result<Value>>> {
    if pipe.transaction {
        exec_result(pipe, replies)
    } else {
        Ok(replies.into_iter().map(slot).collect())
    }
}

/// One slot: a server error reply becomes an `Err`, anything else stays a value.
pub(crate) fn slot(v: Value) -> Result<Value> {
    match v {
        Value::ServerError(e) => Err(server_error(e)),
        v => Ok(v),
    }
}

/// A server error value as a redbridge error.
pub(crate) fn server_error(e: redis::ServerError) -> Error {
    Error::from(e)
}

/// Unpacks `OK, QUEUED…, EXEC-reply` into per-command results.
fn exec_result(pipe: &Pipeline, mut replies: Vec<Value>) -> Result<Vec<Result<Value>>> {
    let exec = replies.pop().unwrap_or(Value::Nil);
    // A command refused while queuing aborts the whole transaction (EXECABORT): name it.
    for (i, queued) in replies.iter().skip(1).enumerate() {
        if let Value::ServerError(e) = queued {
            let inner = server_error(e.clone());
            let name = pipe.metas.get(i).map(|m| m.name()).unwrap_or("?");
            return Err(Error::response(
                "EXECABORT",
                format!(
                    "transaction discarded: command #{} ({name}) was refused: {inner}",
                    i + 1
                ),
            )
            .at_command(i));
        }
    }
    match exec {
        Value::Array(items) => Ok(items.into_iter().map(slot).collect()),
        Value::Nil => Err(Error::new(
            ErrorKind::Watch,
            "transaction aborted: a watched key changed before EXEC; read again and retry",
        )),
        Value::ServerError(e) => Err(server_error(e)),
        other => Err(Error::new(
            ErrorKind::Protocol,
            format!("unexpected EXEC reply: {other:?}"),
        )),
    }
}
