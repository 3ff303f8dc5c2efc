//! Writing a pipeline's chunks on a connection, in order, and putting the replies back
//! in their slots: the same for the shared connection, a leased one, a cluster's, and a
//! caller's direct one.

use redis::aio::MultiplexedConnection;
use redis::Value;

use super::DirectConn;
use crate::error::Result;
use crate::wire::{finish, wire_chunks, Pipeline};

/// Something pipelines can be written to: the shared connection, a leased one, a
/// cluster's.
pub(crate) trait PipelineConn: Send {
    /// Writes one chunk and returns every reply it produced.
    fn send_chunk<'a>(
        &'a mut self,
        chunk: &'a redis::Pipeline,
    ) -> impl std::future::Future<Output = Result<Vec<Value>>> + Send + 'a;
}

impl PipelineConn for MultiplexedConnection {
    async fn send_chunk(&mut self, chunk: &redis::Pipeline) -> Result<Vec<Value>> {
        Ok(self.send_packed_commands(chunk, 0, chunk.len()).await?)
    }
}

impl PipelineConn for deadpool_redis::Connection {
    async fn send_chunk(&mut self, chunk: &redis::Pipeline) -> Result<Vec<Value>> {
        Ok(self.send_packed_commands(chunk, 0, chunk.len()).await?)
    }
}

/// Writes every chunk in order and returns each command's reply or error in its slot.
pub(crate) async fn pipeline<C: PipelineConn>(
    conn: &mut C,
    pipe: &Pipeline,
) -> Result<Vec<Result<Value>>> {
    // An empty transaction is still sent (MULTI, EXEC): after WATCH, its EXEC is what
    // tells whether a watched key changed.
    if pipe.is_empty() && !pipe.is_transaction() {
        return Ok(Vec::new());
    }
    let mut replies = Vec::with_capacity(pipe.len() + 2);
    for chunk in wire_chunks(pipe) {
        replies.extend(conn.send_chunk(&chunk).await?);
    }
    finish(pipe, replies)
}

/// [`pipeline`] on a blocking connection driven by the calling thread (the sync
/// engine's direct path).
pub(crate) fn pipeline_blocking(
    conn: &mut DirectConn,
    pipe: &Pipeline,
) -> Result<Vec<Result<Value>>> {
    // An empty transaction is still sent (MULTI, EXEC): after WATCH, its EXEC is what
    // tells whether a watched key changed.
    if pipe.is_empty() && !pipe.is_transaction() {
        return Ok(Vec::new());
    }
    let mut replies = Vec::with_capacity(pipe.len() + 2);
    for chunk in wire_chunks(pipe) {
        replies.extend(conn.pipeline(&chunk)?);
    }
    finish(pipe, replies)
}
