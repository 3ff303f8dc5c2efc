//! Timeouts: how long a command or pipeline may wait for its reply, and the one helper
//! that enforces it on the runtime's engines.

use std::time::Duration;

use crate::command::{Block, Command};
use crate::error::{Error, Result};
use crate::settings::Config;
use crate::wire::Pipeline;

/// The response timeout of one command: the configured one, or for a blocking command
/// its block time plus the configured one; `None` (no limit) for a block time of 0.
pub fn response_timeout(cmd: &Command, config: &Config) -> Option<Duration> {
    match cmd.block() {
        Block::No => Some(config.response_timeout),
        Block::For(d) => Some(d + config.response_timeout),
        Block::Forever => None,
    }
}

/// The response timeout of one pipeline chunk: the configured one plus every block time
/// in the pipeline (none when any block time is 0).
pub fn pipeline_timeout(pipe: &Pipeline, config: &Config) -> Option<Duration> {
    let mut t = config.response_timeout;
    for m in pipe.metas() {
        match m.block() {
            Block::No => {}
            Block::For(d) => t += d,
            Block::Forever => return None,
        }
    }
    Some(t)
}

/// Awaits `fut` for at most `timeout` (no limit when `None`); `what` names the request
/// in the timeout error.
pub(crate) async fn run_timed<T, E: Into<Error>>(
    fut: impl std::future::Future<Output = std::result::Result<T, E>>,
    timeout: Option<Duration>,
    what: &str,
) -> Result<T> {
    match timeout {
        Some(t) => match tokio::time::timeout(t, fut).await {
            Ok(r) => r.map_err(Into::into),
            Err(_) => Err(Error::timeout(what, t)),
        },
        None => fut.await.map_err(Into::into),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_timeout_adds_block_time() {
        let cfg = Config::builder()
            .response_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let b = Command::new(["BLPOP", "q", "2"]).unwrap();
        assert_eq!(response_timeout(&b, &cfg), Some(Duration::from_secs(3)));
        let b = Command::new(["BLPOP", "q", "0"]).unwrap();
        assert_eq!(response_timeout(&b, &cfg), None);
        let g = Command::new(["GET", "q"]).unwrap();
        assert_eq!(response_timeout(&g, &cfg), Some(Duration::from_secs(1)));
    }
}
