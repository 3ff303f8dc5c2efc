//! A dedicated connection held by one caller: for WATCH … MULTI … EXEC and for blocking
//! commands run back to back, where the connection's state belongs to that caller.

use redis::Value;

use super::sync::block_on;
use super::Client;
use crate::command::Command;
use crate::connection::Pooled;
use crate::error::Result;
use crate::policy::{self, Seat};
use crate::wire::Pipeline;

/// A dedicated connection leased from the pool. Returned to the pool when dropped, or
/// closed if a request on it did not finish. Dropped while a WATCH is active, it sends
/// UNWATCH at once (in the background), as redis-py's pipeline reset does, so the
/// server stops watching the keys now rather than when the connection is next leased.
pub struct Lease {
    client: Client,
    conn: Pooled,
    /// A WATCH succeeded and no UNWATCH, EXEC or DISCARD has ended it since.
    watching: bool,
}

impl Lease {
    pub(crate) fn new(client: Client, conn: Pooled) -> Lease {
        Lease {
            client,
            conn,
            watching: false,
        }
    }

    /// Runs one command on this connection (WATCH, GET, BLPOP, MULTI…, but not SELECT
    /// or other connection-state commands). No retries: a lease holds state (WATCH) that
    /// a new connection would not have.
    pub async fn execute(&mut self, cmd: &Command) -> Result<Value> {
        let (result, retry) = match self.client.begin(cmd, Seat::Lease) {
            Ok(begin) => {
                let timeout = policy::response_timeout(cmd, self.client.config());
                (self.conn.run(cmd, timeout).await, begin.into_retry())
            }
            Err(e) => (Err(e), None),
        };
        if result.is_ok() {
            match cmd.name() {
                "WATCH" => self.watching = true,
                "UNWATCH" | "EXEC" | "DISCARD" => self.watching = false,
                _ => {}
            }
        }
        self.client.end(cmd, result, retry.as_ref())
    }

    /// Runs a pipeline or MULTI/EXEC transaction on this connection (after WATCH, a
    /// changed key gives an [`crate::ErrorKind::Watch`] error).
    pub async fn pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        let (result, retry) = match self.client.begin_pipeline(pipe) {
            Ok(retry) => (self.conn.pipeline(pipe).await, Some(retry)),
            Err(e) => (Err(e), None),
        };
        if pipe.is_transaction() {
            self.watching = false; // EXEC (or its abort) ends every WATCH
        }
        self.client.end_pipeline(pipe, result, retry.as_ref())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.watching {
            return;
        }
        let mut conn = self.conn.take();
        let timeout = Some(self.client.config().response_timeout());
        crate::runtime::runtime().spawn(async move {
            if let Ok(unwatch) = Command::new(["UNWATCH"]) {
                // A failure closes the connection instead (Pooled's drop).
                let _ = conn.run(&unwatch, timeout).await;
            }
        });
    }
}

/// A leased dedicated connection, blocking flavour of [`Lease`].
pub struct SyncLease {
    lease: Lease,
    runtime: &'static tokio::runtime::Runtime,
}

impl SyncLease {
    pub(crate) fn new(lease: Lease, runtime: &'static tokio::runtime::Runtime) -> SyncLease {
        SyncLease { lease, runtime }
    }

    /// Runs one command on the leased connection.
    pub fn execute(&mut self, cmd: &Command) -> Result<Value> {
        block_on(self.runtime, self.lease.execute(cmd))
    }
    /// Runs a pipeline or transaction on the leased connection.
    pub fn pipeline(&mut self, pipe: &Pipeline) -> Result<Vec<Result<Value>>> {
        block_on(self.runtime, self.lease.pipeline(pipe))
    }
}
