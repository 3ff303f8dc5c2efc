//! Settings: what a client is told when it is made, checked once, with no behaviour of
//! their own — addresses and credentials ([`Config`]), TLS, the client-side cache's
//! bounds and tracking mode, and the guard's mode and warning sink.
//!
//! The lowest layer above the command table: every other layer reads these, none is
//! read from here.

mod cache;
mod config;
mod guard;
mod sentinel;
mod tls;

pub use cache::{CacheConfig, TrackingMode, DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES};
pub use config::{
    Addr, Config, ConfigBuilder, Mode, Protocol, Secret, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_GUARD_THRESHOLD, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_RESPONSE_TIMEOUT, DEFAULT_RETRIES, OPTION_NAMES,
};
pub use guard::{GuardMode, Warning, WarningSink};
pub use sentinel::SentinelConfig;
pub use tls::TlsConfig;
pub(crate) use tls::{
    cluster_settings, explain as explain_tls, explain_for as explain_tls_for, TlsFor,
};
