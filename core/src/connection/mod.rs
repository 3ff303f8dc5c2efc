//! Connections: opening them, keeping them, and carrying requests on them — the shared
//! multiplexed connection and its supervisor, the direct connection a caller or an
//! event loop drives itself, the bounded pool of dedicated connections, and writing a
//! pipeline on any of them.
//!
//! Policy (timeouts, retries, backoff) comes from [`crate::policy`]; which engine uses
//! which connection is decided in [`crate::client`].

mod deadlines;
mod direct;
mod direct_slot;
mod multiplexed;
mod pool;
pub(crate) mod send;
mod spin;

pub(crate) use deadlines::Deadlines;
pub(crate) use direct::DirectConn;
pub(crate) use direct_slot::{Ahead, Direct, DirectSlot, Mailbox};
pub(crate) use multiplexed::{connect_error, not_connected, Multiplexed};
pub(crate) use pool::{Pool, Pooled};
pub(crate) use spin::Spin;
