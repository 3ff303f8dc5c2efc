//! The guard's settings: what it does with commands that walk the whole keyspace, and
//! where its warnings go (the guard itself is [`crate::policy`]'s).

use std::sync::Arc;

/// What the guard does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardMode {
    /// Send the command and emit a warning (default).
    Warn,
    /// Refuse KEYS and synchronous FLUSHALL/FLUSHDB before they are sent; warn on large replies.
    Deny,
    /// No checks.
    Off,
}

impl GuardMode {
    /// Parses `warn`, `deny` or `off` (any case).
    pub fn parse(s: &str) -> Option<GuardMode> {
        match s.to_ascii_lowercase().as_str() {
            "warn" => Some(GuardMode::Warn),
            "deny" => Some(GuardMode::Deny),
            "off" | "none" => Some(GuardMode::Off),
            _ => None,
        }
    }
}

/// One guard warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// The command name, upper case (`KEYS`).
    pub command: String,
    /// The whole sentence for people: what was seen and what to use instead.
    pub message: String,
    /// The incremental alternative (`SCAN`).
    pub alternative: &'static str,
}

/// Where warnings go. Shared by every connection of a client.
pub type WarningSink = Arc<dyn Fn(&Warning) + Send + Sync>;
