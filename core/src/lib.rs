#![warn(missing_docs)]
//! redbridge: one Redis connection policy, written once, for Python, Node.js and C.
//!
//! The request path is `classify (command table) → guard → route → policy → reply`:
//! [`command`] holds the table every decision reads, [`guard`] catches whole-keyspace
//! commands, [`client`] routes ordinary commands to one shared multiplexed connection
//! and blocking/transactional ones to a leased dedicated connection ([`pool`]),
//! [`policy`] applies timeouts and retries, and [`sync`] gives blocking callers a
//! fast path that does its own I/O when it is alone.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod batch;
pub mod cache;
pub mod client;
mod cluster;
pub mod command;
pub mod config;
mod direct;
pub mod error;
mod glob;
pub mod guard;
pub mod multiplexed;
pub mod pipeline;
pub mod policy;
pub mod pool;
mod resp;
pub mod runtime;
pub mod scan;
pub mod stats;
pub mod sync;
pub mod tls;
mod topology;

// Lets the shared test support (written for integration tests) name this crate.
#[cfg(test)]
extern crate self as redbridge;
#[cfg(test)]
#[path = "../tests/support/mod.rs"]
mod test_support;

pub use batch::{Batcher, Completion, Done, LoopWatch, ScanSlot};
pub use cache::{CacheConfig, CacheStats, TrackingMode};
pub use client::Client;
pub use command::{Block, Command, Flags};
pub use config::{Addr, Config, ConfigBuilder, Mode, Protocol};
pub use error::{Error, ErrorKind, Result};
pub use guard::{GuardMode, Warning, WarningSink};
pub use multiplexed::ConnectionObserver;
pub use pipeline::Pipeline;
pub use pool::Lease;
pub use scan::{ScanKind, ScanOptions, ScanStream};
pub use stats::{NodeStats, PoolState, StatsSnapshot};
pub use sync::{SyncClient, SyncLease, SyncScan};
pub use tls::TlsConfig;

/// Reply values, exactly as redis-rs gives them for RESP2 and RESP3.
pub use redis::{PushInfo, PushKind, Value};

/// Compiles the README's Rust quick start as a doctest, so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
