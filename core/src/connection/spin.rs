//! Spinning for a reply instead of sleeping ([`Config::spin_wait`](crate::Config::spin_wait)):
//! when to, and when it stops paying. Used by the event loop's own connection
//! ([`crate::Batcher`]) and by the sync engine's direct connection.

use std::time::{Duration, Instant};

/// Spins ran out this many times with no reply in between: the loop stops spinning for
/// a while.
const SPIN_MISSES: u32 = 4;
/// Replies read without spinning (the one awaited when it backs off included) before it
/// is tried again, at first; doubled after each failed try, up to [`SPIN_SKIP_MAX`].
const SPIN_SKIP_MIN: u32 = 16;
/// The most replies read without spinning between two tries.
const SPIN_SKIP_MAX: u32 = 4096;

/// Whether spinning for replies pays (see [`Config::spin_wait`](crate::Config::spin_wait)):
/// a spin that runs out before a reply comes is CPU spent for nothing, so after a few
/// with no reply in between the loop sleeps for the next replies, longer after each
/// retry that runs out too (a slow or distant server).
pub(crate) struct Spin {
    misses: u32,
    skip: u32,
    backoff: u32,
}

impl Default for Spin {
    fn default() -> Spin {
        Spin {
            misses: 0,
            skip: 0,
            backoff: SPIN_SKIP_MIN,
        }
    }
}

impl Spin {
    /// Until when to spin for a reply after the last write or read at `last_io`; `None`
    /// when spinning is off (`wait` zero) or backing off.
    pub(crate) fn until(&self, last_io: Instant, wait: Duration) -> Option<Instant> {
        (!wait.is_zero() && self.skip == 0).then(|| last_io + wait)
    }

    /// Replies were read at `now`; the loop was to spin until `until` (`None`: not at
    /// all). Read within the spin: spinning pays.
    pub(crate) fn replies_read(&mut self, now: Instant, until: Option<Instant>) {
        match until {
            None => self.skip = self.skip.saturating_sub(1),
            Some(until) if now <= until => {
                self.misses = 0;
                self.backoff = SPIN_SKIP_MIN;
            }
            // Late, but the loop may not have spun (it ran other callbacks meanwhile):
            // only a spin the binding saw run out counts against spinning.
            Some(_) => {}
        }
    }

    /// A spin ran out with requests still in flight.
    pub(crate) fn ran_out(&mut self) {
        self.misses += 1;
        if self.misses >= SPIN_MISSES {
            self.skip = self.backoff;
            self.backoff = (self.backoff * 2).min(SPIN_SKIP_MAX);
            // The first retry that runs out too backs off again.
            self.misses = SPIN_MISSES - 1;
        }
    }
}
