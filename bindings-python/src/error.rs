//! Core errors → the exception classes of `redbridge.exceptions` (the one mapping).

use pyo3::prelude::*;
use pyo3::types::PyString;
use redbridge::{Error, ErrorKind};

/// The exception class name for a core error.
fn class_name(e: &Error) -> &'static str {
    class_of(e.kind(), e.code(), e.message())
}

/// The exception class name for an error of `kind` with the server's `code` and
/// `message` (events, which carry no message, pass ""): also the `error.type` of
/// `redbridge.observability`, as redis-py names its errors there.
pub(crate) fn class_of(kind: ErrorKind, code: Option<&str>, message: &str) -> &'static str {
    match kind {
        ErrorKind::Connection => "ConnectionError",
        ErrorKind::Timeout => "TimeoutError",
        ErrorKind::PoolTimeout => "PoolTimeoutError",
        ErrorKind::Response => match code {
            Some("EXECABORT") => "ExecAbortError",
            Some("NOSCRIPT") => "NoScriptError",
            Some("NOPERM") => "NoPermissionError",
            Some("READONLY") => "ReadOnlyError",
            Some("LOADING") => "BusyLoadingError",
            // redis-py tells these apart by the server's wording.
            Some("ERR") if message.contains("called without any password configured") => {
                "AuthenticationError"
            }
            Some("ERR")
                if message.starts_with("Error loading the extension")
                    || message.starts_with("Error unloading module") =>
            {
                "ModuleError"
            }
            _ => "ResponseError",
        },
        ErrorKind::Protocol => "InvalidResponse",
        ErrorKind::InvalidArgument => "DataError",
        ErrorKind::Denied => "GuardError",
        ErrorKind::Authentication => "AuthenticationError",
        ErrorKind::Watch => "WatchError",
        ErrorKind::Cluster => "RedisClusterException",
        _ => "RedisError",
    }
}

/// An exception instance (not raised) for a core error: pipeline slots hold these.
pub(crate) fn exception<'py>(py: Python<'py>, e: &Error) -> PyResult<Bound<'py, PyAny>> {
    let module = py.import("redbridge.exceptions")?;
    let exc = module.getattr(class_name(e))?.call1((e.to_string(),))?;
    if let Some(code) = e.code() {
        exc.setattr("code", PyString::new(py, code))?;
    }
    exc.setattr("kind", PyString::new(py, e.kind().name()))?;
    if let Some(index) = e.command_index() {
        exc.setattr("command_index", index)?;
    }
    Ok(exc)
}

/// The raised form of [`exception`].
pub(crate) fn to_py_err(py: Python<'_>, e: &Error) -> PyErr {
    match exception(py, e) {
        Ok(exc) => PyErr::from_value(exc),
        Err(import_failed) => import_failed,
    }
}

/// A bad option or URL at construction: ValueError, as redis-py raises for a bad URL.
pub(crate) fn config_err(e: &Error) -> PyErr {
    pyo3::exceptions::PyValueError::new_err(e.to_string())
}
