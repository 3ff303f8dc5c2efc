#![warn(missing_docs)]
//! redbridge: one Redis connection policy, written once, for Python, Node.js and C.
//!
//! The modules are layers; each uses only those listed before it (an architecture test,
//! `tests/test_architecture.rs`, keeps it so). `docs/architecture.md` tells the whole
//! story: the layers, the request path, the engines and when each is chosen.
//!
//! - [`error`], [`runtime`]: the error type every layer returns; the process's tokio
//!   runtime (rebuilt after a fork).
//! - [`command`]: the command table every decision reads.
//! - [`settings`]: configuration, TLS, cache and guard settings.
//! - [`observe`]: counters, connection hooks and the event stream listeners receive.
//! - [`wire`]: the RESP reader, pipelines in chunks, the SCAN cursor.
//! - [`policy`]: admission, guard, timeouts, retries, and which requests may go direct.
//! - [`cache`]: the client-side cache (RESP3 tracking).
//! - `connection`: the shared multiplexed connection, direct connections, the pool.
//! - `cluster`: Redis Cluster routing, slot table and per-node caches.
//! - [`sentinel`]: which node serves a Sentinel-watched service now.
//! - [`client`]: the engines — [`Client`] (async), [`SyncClient`], [`Batcher`] — on one
//!   request path.

#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod error;
pub mod runtime;

pub mod command;

pub mod settings;

pub mod observe;

pub mod wire;

pub mod policy;

pub mod cache;

mod connection;

mod cluster;

pub mod sentinel;

pub mod client;

pub use cache::Cache;
pub use client::{
    Batcher, Client, Completion, Done, Gap, GapCause, Lease, LoopWatch, MessageKind, Monitor,
    MonitorClient, MonitorEvent, PubSubEvent, PubSubMessage, PubSubOptions, ScanSlot, ScanStream,
    Script, Subscriber, SubscriptionKind, Subscriptions, SyncClient, SyncLease, SyncMonitor,
    SyncScan, SyncSubscriber,
};
pub use command::{Block, Command, Flags};
pub use error::{Error, ErrorKind, Result};
pub use observe::{
    set_global_listener, CacheStats, ConnectionObserver, Event, Listener, NodeStats, PoolState,
    StatsSnapshot,
};
pub use settings::{
    Addr, CacheConfig, Config, ConfigBuilder, GuardMode, Mode, Protocol, SentinelConfig, TlsConfig,
    TrackingMode, Warning, WarningSink,
};
pub use wire::{Pipeline, ScanCursor, ScanKind, ScanOptions};

/// Reply values, exactly as redis-rs gives them for RESP2 and RESP3.
pub use redis::{PushInfo, PushKind, Value};

/// Compiles the README's Rust quick start as a doctest, so it cannot drift.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
