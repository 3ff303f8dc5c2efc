//! Policy: every decision a request meets on its way, written once and read by every
//! engine — admission (refused state commands), the guard, timeouts, retries with
//! backoff, and whether a request may take the direct connection.
//!
//! Decisions only: this layer opens no connection and runs no request. The engines in
//! [`crate::client`] ask it and act.

mod admit;
mod guard;
mod retry;
pub mod route;
mod timeout;

pub(crate) use admit::{admit, admit_pipeline, Seat};
pub(crate) use guard::Guard;
pub use retry::{backoff, Decision, Retry, BACKOFF_BASE, BACKOFF_CAP};
pub(crate) use timeout::run_timed;
pub use timeout::{pipeline_timeout, response_timeout};
