//! The native module `redbridge._redbridge`: conversion and error mapping only.
//!
//! The Python package (`bindings-python/python/redbridge`) gives the redis-py surface;
//! this module hands it the core's client, pipelines, leases, SCAN streams, MONITOR
//! connections and subscribers, converts arguments and replies, releases the GIL while
//! blocking, and maps core errors to the package's exception classes. No policy lives
//! here.

mod client;
mod conv;
mod error;
mod monitor;
mod observe;
mod pubsub;
mod sentinel;

use pyo3::prelude::*;

#[pymodule]
fn _redbridge(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<client::NativeClient>()?;
    m.add_class::<client::NativeLease>()?;
    m.add_class::<client::NativeAsyncLease>()?;
    m.add_class::<client::NativeScan>()?;
    m.add_class::<client::NativeAsyncScan>()?;
    m.add_class::<client::Pending>()?;
    m.add_class::<monitor::NativeMonitor>()?;
    m.add_class::<monitor::NativeAsyncMonitor>()?;
    m.add_class::<pubsub::NativePubSub>()?;
    m.add_function(wrap_pyfunction!(sentinel::sentinel_discover, m)?)?;
    m.add_function(wrap_pyfunction!(sentinel::sentinel_discover_async, m)?)?;
    m.add_function(wrap_pyfunction!(observe::observe_start, m)?)?;
    m.add_function(wrap_pyfunction!(observe::observe_stop, m)?)?;
    m.add_function(wrap_pyfunction!(observe::observe_wait, m)?)?;
    m.add_function(wrap_pyfunction!(observe::observe_take, m)?)?;
    m.add_function(wrap_pyfunction!(observe::observe_dropped, m)?)?;
    m.add_function(wrap_pyfunction!(command_word, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("OPTION_NAMES", redbridge::settings::OPTION_NAMES.to_vec())?;
    Ok(())
}

/// The name spans may show for a command whose first argument is `first` (the core's
/// `command_word`: an argument passed inside the name is never shown).
#[pyfunction]
fn command_word(first: &[u8]) -> String {
    redbridge::command::command_word(first).into_owned()
}
