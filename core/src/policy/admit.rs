//! Admission: which commands a connection the client manages may carry. Commands that
//! would change its state (SELECT, AUTH, CLIENT TRACKING…) are refused with the option to
//! use instead; transaction control only runs on a leased connection.

use crate::command::{Flags, Meta};
use crate::error::{Error, Result};
use crate::wire::Pipeline;

/// Where a request is about to run, for admission.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Seat {
    /// A connection the client shares or manages (multiplexed, direct, the loop's own,
    /// pooled mode, a cluster's).
    Shared,
    /// A connection the caller leased (WATCH … MULTI … EXEC may run there).
    Lease,
}

/// Refuses what `seat` must not carry: state-changing commands anywhere, transaction
/// control on a shared connection.
pub(crate) fn admit(meta: &Meta, seat: Seat) -> Result<()> {
    let flags = meta.flags();
    if flags.contains(Flags::STATE) || (seat == Seat::Shared && flags.contains(Flags::TXN)) {
        return Err(refusal(meta));
    }
    Ok(())
}

/// Refuses connection-state and transaction-control commands inside a pipeline (a
/// transaction is asked for with `Pipeline::new(true)`, WATCH on a lease).
pub(crate) fn admit_pipeline(pipe: &Pipeline) -> Result<()> {
    for m in pipe.metas() {
        if m.flags().contains(Flags::STATE) {
            return Err(refusal(m));
        }
        if m.flags().contains(Flags::TXN) {
            return Err(Error::invalid(format!(
                "{} cannot be queued in a pipeline; use pipeline(transaction=True) for \
                 MULTI/EXEC, and watch() on a lease for WATCH",
                m.name()
            )));
        }
    }
    Ok(())
}

/// The error for commands the client manages itself, naming what to use instead.
fn refusal(meta: &Meta) -> Error {
    if meta.flags().contains(Flags::TXN) {
        return Error::invalid(format!(
            "{} cannot run on the shared connection (other callers' commands would join the \
             transaction); use {} instead",
            meta.name(),
            meta.spec().alternative
        ));
    }
    Error::invalid(format!(
        "{} would change the state of a connection the client manages; use {} instead",
        meta.name(),
        meta.spec().alternative
    ))
}
