//! The one decision of which requests may skip the runtime: a *direct* connection is
//! written and read by whoever asks — the calling thread of a sync client (blocking
//! socket) or a foreign event loop (non-blocking socket, Node's JS thread) — instead of
//! the runtime's multiplexed connection. `docs/architecture.md` ("Engines") has the
//! measurements behind it: a thread hop costs more than the request.

use crate::command::{Command, Flags};
use crate::settings::{Config, Mode};
use crate::wire::Pipeline;

/// Who drives a direct connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// A blocking caller's own thread (Python sync, C, a sync SCAN's pages).
    Caller,
    /// A foreign event loop, with a non-blocking socket it polls (Node's JS thread).
    Loop,
}

/// What would go on the direct connection.
#[derive(Clone, Copy)]
pub enum Work<'a> {
    /// Nothing yet: may this client have a direct connection at all?
    Any,
    /// One command.
    Command(&'a Command),
    /// A pipeline or transaction.
    Pipeline(&'a Pipeline),
    /// A SCAN-family page (on a blocking caller's thread only).
    ScanPage,
}

/// Requests larger than this go through the runtime: an event loop never blocks on a
/// write.
pub const MAX_LOOP_REQUEST: usize = 64 * 1024;

/// True when `work` may run on a direct connection driven by `carrier`.
///
/// Never on a cluster (redis-rs routes by slot) or in pooled mode (the user asked for
/// the pool); never for blocking commands or pipelines that need a dedicated connection.
/// A loop's non-blocking socket is plain TCP or Unix (no TLS) and carries no client-side
/// cache (invalidations must reach the runtime's tracked connection first), nor large
/// requests, nor a Sentinel-managed client's (it does not follow a failover). A pipeline skips the direct path while the cache is on: its reads go to
/// the tracked connection.
pub fn direct(config: &Config, carrier: Carrier, work: Work<'_>) -> bool {
    if config.mode != Mode::Multiplexed || config.cluster {
        return false;
    }
    let on_loop = carrier == Carrier::Loop;
    // A Sentinel-managed client moves by rebuilding its engine, which a loop's own
    // connection is not part of: it stays on the runtime's connections.
    if on_loop && (config.tls.is_some() || config.cache.is_some() || config.sentinel.is_some()) {
        return false;
    }
    match work {
        Work::Any => true,
        Work::Command(cmd) => {
            !cmd.flags().contains(Flags::BLOCKING)
                && (!on_loop || cmd.meta().size() <= MAX_LOOP_REQUEST)
        }
        Work::Pipeline(pipe) => {
            !pipe.needs_dedicated()
                && config.cache.is_none()
                && (!on_loop || (!pipe.is_empty() && pipe.size() <= MAX_LOOP_REQUEST))
        }
        Work::ScanPage => !on_loop,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::CacheConfig;

    fn cmd(args: &[&str]) -> Command {
        Command::new(args).unwrap()
    }

    #[test]
    fn who_may_go_direct() {
        let plain = Config::builder().build().unwrap();
        let get = cmd(&["GET", "k"]);
        let blpop = cmd(&["BLPOP", "q", "1"]);
        for carrier in [Carrier::Caller, Carrier::Loop] {
            assert!(direct(&plain, carrier, Work::Command(&get)));
            assert!(!direct(&plain, carrier, Work::Command(&blpop)));
        }
        assert!(direct(&plain, Carrier::Caller, Work::ScanPage));
        assert!(!direct(&plain, Carrier::Loop, Work::ScanPage));

        let big = cmd(&["SET", "k", &"x".repeat(MAX_LOOP_REQUEST + 1)]);
        assert!(direct(&plain, Carrier::Caller, Work::Command(&big)));
        assert!(!direct(&plain, Carrier::Loop, Work::Command(&big)));

        let mut pipe = Pipeline::new(false);
        assert!(direct(&plain, Carrier::Caller, Work::Pipeline(&pipe)));
        assert!(
            !direct(&plain, Carrier::Loop, Work::Pipeline(&pipe)),
            "empty"
        );
        pipe.add(get.clone());
        assert!(direct(&plain, Carrier::Loop, Work::Pipeline(&pipe)));
        pipe.add(blpop.clone());
        assert!(!direct(&plain, Carrier::Caller, Work::Pipeline(&pipe)));

        let pooled = Config::builder().mode(Mode::Pooled).build().unwrap();
        let cluster = Config::builder().cluster(true).build().unwrap();
        for cfg in [&pooled, &cluster] {
            assert!(!direct(cfg, Carrier::Caller, Work::Any));
            assert!(!direct(cfg, Carrier::Caller, Work::Command(&get)));
        }

        let cached = Config::builder()
            .protocol(crate::settings::Protocol::Resp3)
            .cache(CacheConfig::default())
            .build()
            .unwrap();
        assert!(direct(&cached, Carrier::Caller, Work::Command(&get)));
        assert!(!direct(&cached, Carrier::Loop, Work::Any));
        let mut one = Pipeline::new(false);
        one.add(get);
        assert!(!direct(&cached, Carrier::Caller, Work::Pipeline(&one)));
    }
}
