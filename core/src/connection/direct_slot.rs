//! A client's direct connection as the sync engine shares it: at most one caller drives
//! it at a time (under the slot's lock), and a SCAN page asked for ahead on it is read
//! into its scan's mailbox by whoever uses the connection next.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::Value;

use super::DirectConn;
use crate::command::Command;
use crate::error::{Error, ErrorKind, Result};

/// A client's direct connection and what it is doing; one per [`crate::Client`], shared
/// by every `SyncClient` made from it.
#[derive(Default)]
pub(crate) struct DirectSlot {
    pub(crate) conn: Option<Direct>,
    pub(crate) unavailable_until: Option<Instant>,
    /// A SCAN page asked for ahead by a [`crate::SyncScan`]: its reply is the next one on the
    /// socket, so whoever uses the connection first reads it into the scan's mailbox.
    pub(crate) ahead: Option<Ahead>,
}

/// Where a page asked for ahead is delivered: `None` until its reply has been read.
pub(crate) type Mailbox = Mutex<Option<Result<Value>>>;

/// A page asked for ahead: how long its reply may take, and where it goes.
pub(crate) struct Ahead {
    /// The page's response timeout.
    pub(crate) timeout: Option<Duration>,
    /// Dropped with its scan; a reply nobody waits for any more is read and discarded.
    pub(crate) mailbox: std::sync::Weak<Mailbox>,
}

impl DirectSlot {
    /// Drops the direct connection, and with it any reply still to be read: a scan whose
    /// page was ahead on it asks again.
    pub(crate) fn drop_conn(&mut self) {
        self.conn = None;
        self.ahead = None;
    }

    /// Reads the page asked for ahead (if any) into its mailbox, so the socket's next
    /// reply is the caller's. False when the connection broke doing so.
    pub(crate) fn settle_ahead(&mut self) -> bool {
        self.settle_ahead_then(|_| None).0
    }

    /// [`Self::settle_ahead`], with `next` called on the page's cursor as soon as it has
    /// arrived ([`DirectConn::recv_then`]): the command it returns is written then, and
    /// returned (the caller records it as the page now ahead).
    pub(crate) fn settle_ahead_then(
        &mut self,
        next: impl FnOnce(&Value) -> Option<Command>,
    ) -> (bool, Option<Command>) {
        let Some(ahead) = self.ahead.take() else {
            return (true, None);
        };
        let Some(direct) = self.conn.as_mut() else {
            return (true, None);
        };
        let read = direct
            .conn
            .set_read_timeout(ahead.timeout)
            .and_then(|()| direct.conn.recv_then(next))
            .map_err(|e| match (e.kind(), ahead.timeout) {
                (ErrorKind::Timeout, Some(t)) => Error::timeout("SCAN page", t),
                _ => e,
            });
        let (reply, sent) = match read {
            Ok((reply, sent)) => (Ok(reply), sent),
            Err(e) => (Err(e), None),
        };
        let broken = reply.is_err();
        if let Some(mailbox) = ahead.mailbox.upgrade() {
            *mailbox.lock().unwrap_or_else(|p| p.into_inner()) = Some(reply);
        }
        if broken {
            self.drop_conn();
        }
        (!broken, sent)
    }
}

/// An open direct connection.
pub(crate) struct Direct {
    /// The socket.
    pub(crate) conn: DirectConn,
    /// The process that opened it (a forked child must not touch the parent's socket).
    pub(crate) fork_generation: u64,
}
