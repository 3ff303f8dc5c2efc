//! The client-side cache's settings: bounds, TTL, tracking mode and which commands it
//! holds (the cache itself is [`crate::cache`]).

use std::collections::HashSet;
use std::fmt;
use std::time::Duration;

use crate::command::{Command, Flags};

/// Default bound on cached entries.
pub const DEFAULT_MAX_ENTRIES: usize = 10_000;
/// Default bound on cached bytes (keys + replies, approximate).
pub const DEFAULT_MAX_BYTES: usize = 64 << 20;

/// What the server tracks for this client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrackingMode {
    /// The server remembers the keys this client read and invalidates those.
    Default,
    /// Broadcast: the server invalidates every key with one of these prefixes (all keys
    /// when empty); only such keys are cached.
    Broadcast(Vec<Vec<u8>>),
}

/// Options of the client-side cache.
#[derive(Clone, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most entries kept (LRU beyond).
    pub max_entries: usize,
    /// Most bytes kept, keys and replies, approximate (LRU beyond).
    pub max_bytes: usize,
    /// Entries older than this are not served (none: until invalidated).
    pub ttl: Option<Duration>,
    /// Default or broadcast tracking.
    pub mode: TrackingMode,
    /// Upper-case names of the commands to cache; `None`: the command table's CACHEABLE set.
    pub commands: Option<HashSet<String>>,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: DEFAULT_MAX_BYTES,
            ttl: None,
            mode: TrackingMode::Default,
            commands: None,
        }
    }
}

impl fmt::Debug for CacheConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CacheConfig")
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .field("ttl", &self.ttl)
            .field("mode", &self.mode)
            .field("commands", &self.commands)
            .finish()
    }
}

impl CacheConfig {
    /// The CLIENT TRACKING command that turns tracking on for this configuration.
    pub(crate) fn tracking_command(&self) -> redis::Cmd {
        let mut c = redis::cmd("CLIENT");
        c.arg("TRACKING").arg("ON");
        if let TrackingMode::Broadcast(prefixes) = &self.mode {
            c.arg("BCAST");
            for p in prefixes {
                c.arg("PREFIX").arg(p.as_slice());
            }
        }
        c
    }
}

impl CacheConfig {
    /// The Redis key of a command this configuration caches, or `None` when it does not
    /// apply (a write, several keys, a key outside the broadcast prefixes).
    pub(crate) fn cacheable_key<'a>(&self, cmd: &'a Command) -> Option<&'a [u8]> {
        let allowed = match &self.commands {
            Some(set) => set.contains(cmd.name()),
            None => cmd.flags().contains(Flags::CACHEABLE),
        };
        if !allowed {
            return None;
        }
        // Single-key reads only (EXISTS k1 k2 counts several keys).
        if cmd.name() == "EXISTS" && cmd.args().count() != 2 {
            return None;
        }
        let key = cmd.arg(1)?;
        if let TrackingMode::Broadcast(prefixes) = &self.mode {
            if !prefixes.is_empty() && !prefixes.iter().any(|p| key.starts_with(p)) {
                return None;
            }
        }
        Some(key)
    }
}
