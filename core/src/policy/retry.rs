//! Retries: whether a failed attempt is tried again, how long to wait before the next
//! one, and what the final error says. The one rule for commands and pipelines on every
//! engine (async, sync, batched, the loop's own connection).

use std::time::{Duration, Instant};

use crate::command::Command;
use crate::error::{Error, ErrorKind};
use crate::settings::Config;
use crate::wire::Pipeline;

/// First backoff step.
pub const BACKOFF_BASE: Duration = Duration::from_millis(10);
/// Largest backoff step.
pub const BACKOFF_CAP: Duration = Duration::from_secs(1);

/// Exponential backoff with full jitter: a random delay in `[0, min(cap, base·2^attempt)]`.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_BASE
        .saturating_mul(1u32 << attempt.min(16))
        .min(BACKOFF_CAP);
    ceiling.mul_f64(fastrand::f64())
}

/// What to do after a failed attempt.
#[derive(Debug)]
pub enum Decision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// Give up with this error.
    Fail(Error),
}

/// The retry state of one request across its attempts, and what the event stream says
/// of it when it ends (when it began, retries made, whether it went direct).
#[derive(Debug)]
pub struct Retry {
    attempts: u32,
    retries: u32,
    max_retries: u32,
    retry_on_timeout: bool,
    safe: bool,
    started: Option<Instant>,
    direct: bool,
}

impl Retry {
    /// The retry state for `cmd` (its safety from the command table or the per-call
    /// override) under `config`.
    pub fn for_command(cmd: &Command, config: &Config) -> Retry {
        Retry::new(cmd.retry_safe(config.retry_unsafe), config)
    }

    /// The retry state for `pipe`: safe to repeat only when every command in it is.
    pub fn for_pipeline(pipe: &Pipeline, config: &Config) -> Retry {
        Retry::new(pipe.retry_safe(config.retry_unsafe), config)
    }

    /// The retry state of a request that is safe to repeat or not.
    pub fn new(safe: bool, config: &Config) -> Retry {
        Retry {
            attempts: 0,
            retries: 0,
            max_retries: config.retries,
            retry_on_timeout: config.retry_on_timeout,
            safe,
            started: None,
            direct: false,
        }
    }

    /// Attempts made so far.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Retries decided so far (attempts after the first).
    pub fn retries(&self) -> u32 {
        self.retries
    }

    /// Notes when the request began (only read when someone listens to events).
    pub fn started_at(mut self, at: Option<Instant>) -> Retry {
        self.started = at;
        self
    }

    /// When the request began, if it was noted.
    pub fn started(&self) -> Option<Instant> {
        self.started
    }

    /// Notes that an attempt went on a direct connection.
    pub fn went_direct(&mut self) {
        self.direct = true;
    }

    /// Whether an attempt went on a direct connection.
    pub fn direct(&self) -> bool {
        self.direct
    }

    /// Records a failed attempt and decides: retry after a backoff, or fail with an
    /// error whose message says how many attempts were made and why it stopped.
    pub fn on_error(&mut self, err: Error) -> Decision {
        self.attempts += 1;
        if !err.is_transient(self.retry_on_timeout) {
            if self.attempts > 1 {
                let note = format!("after {} attempts", self.attempts);
                return Decision::Fail(err.with_note(&note));
            }
            return Decision::Fail(err);
        }
        if !self.safe {
            let why = if err.kind() == ErrorKind::Timeout {
                "not retried: the command is not safe to repeat and may have run"
            } else {
                "not retried: the command is not safe to repeat (it may have run before the \
                 connection broke); allow it per call or with retry_unsafe"
            };
            return Decision::Fail(err.with_note(why));
        }
        if self.attempts > self.max_retries {
            let note = format!(
                "gave up after {} attempts; retries = {}",
                self.attempts, self.max_retries
            );
            return Decision::Fail(err.with_note(&note));
        }
        self.retries += 1;
        Decision::RetryAfter(backoff(self.attempts - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::builder().retries(2).build().unwrap()
    }

    #[test]
    fn backoff_is_bounded_and_jittered() {
        for attempt in 0..40 {
            let d = backoff(attempt);
            assert!(d <= BACKOFF_CAP);
            assert!(d <= BACKOFF_BASE * 2u32.pow(attempt.min(20)));
        }
        let distinct: std::collections::HashSet<_> = (0..20).map(|_| backoff(5)).collect();
        assert!(distinct.len() > 1, "full jitter draws different delays");
    }

    #[test]
    fn safe_command_retries_then_gives_up() {
        let cfg = config();
        let get = Command::new(["GET", "k"]).unwrap();
        let mut r = Retry::for_command(&get, &cfg);
        let conn_err = || Error::new(ErrorKind::Connection, "broken");
        assert!(matches!(r.on_error(conn_err()), Decision::RetryAfter(_)));
        assert!(matches!(r.on_error(conn_err()), Decision::RetryAfter(_)));
        match r.on_error(conn_err()) {
            Decision::Fail(e) => assert!(e.message().contains("after 3 attempts"), "{e}"),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn unsafe_command_is_not_retried_and_says_why() {
        let cfg = config();
        let incr = Command::new(["INCR", "k"]).unwrap();
        let mut r = Retry::for_command(&incr, &cfg);
        match r.on_error(Error::new(ErrorKind::Connection, "broken")) {
            Decision::Fail(e) => assert!(e.message().contains("not retried"), "{e}"),
            d => panic!("{d:?}"),
        }
    }

    #[test]
    fn timeouts_only_with_retry_on_timeout() {
        let get = Command::new(["GET", "k"]).unwrap();
        let mut r = Retry::for_command(&get, &config());
        assert!(matches!(
            r.on_error(Error::new(ErrorKind::Timeout, "slow")),
            Decision::Fail(_)
        ));
        let cfg = Config::builder().retry_on_timeout(true).build().unwrap();
        let mut r = Retry::for_command(&get, &cfg);
        assert!(matches!(
            r.on_error(Error::new(ErrorKind::Timeout, "slow")),
            Decision::RetryAfter(_)
        ));
    }
}
