//! The boundary: status codes, the thread's last error, panic catching, pointer checks.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use redbridge::{Error, ErrorKind};

/// Result of every fallible function. 0 is success; each core error kind has its code.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum redbridge_status {
    /// Success.
    REDBRIDGE_OK = 0,
    /// The connection could not be made or broke.
    REDBRIDGE_ERR_CONNECTION = 1,
    /// No reply within the response (or connect) timeout.
    REDBRIDGE_ERR_TIMEOUT = 2,
    /// No pooled connection became free within pool_timeout.
    REDBRIDGE_ERR_POOL_TIMEOUT = 3,
    /// The server answered with an error reply (see redbridge_last_error and the reply).
    REDBRIDGE_ERR_RESPONSE = 4,
    /// Unparseable or unexpected bytes from the server.
    REDBRIDGE_ERR_PROTOCOL = 5,
    /// A bad argument: NULL pointer, bad URL or option, empty command, bad handle use.
    REDBRIDGE_ERR_INVALID_ARGUMENT = 6,
    /// Refused by the guard (guard=deny): KEYS, FLUSHALL without ASYNC.
    REDBRIDGE_ERR_DENIED = 7,
    /// The request was cancelled.
    REDBRIDGE_ERR_CANCELLED = 8,
    /// Wrong username or password.
    REDBRIDGE_ERR_AUTHENTICATION = 9,
    /// A transaction was aborted because a watched key changed.
    REDBRIDGE_ERR_WATCH = 10,
    /// A cluster-level failure.
    REDBRIDGE_ERR_CLUSTER = 11,
    /// A bug inside redbridge was caught at the boundary (please report it).
    REDBRIDGE_ERR_PANIC = 99,
}

/// The status for a core error kind: the one mapping.
pub(crate) fn status_of(kind: ErrorKind) -> redbridge_status {
    use redbridge_status::*;
    match kind {
        ErrorKind::Connection => REDBRIDGE_ERR_CONNECTION,
        ErrorKind::Timeout => REDBRIDGE_ERR_TIMEOUT,
        ErrorKind::PoolTimeout => REDBRIDGE_ERR_POOL_TIMEOUT,
        ErrorKind::Response => REDBRIDGE_ERR_RESPONSE,
        ErrorKind::Protocol => REDBRIDGE_ERR_PROTOCOL,
        ErrorKind::InvalidArgument => REDBRIDGE_ERR_INVALID_ARGUMENT,
        ErrorKind::Denied => REDBRIDGE_ERR_DENIED,
        ErrorKind::Cancelled => REDBRIDGE_ERR_CANCELLED,
        ErrorKind::Authentication => REDBRIDGE_ERR_AUTHENTICATION,
        ErrorKind::Watch => REDBRIDGE_ERR_WATCH,
        ErrorKind::Cluster => REDBRIDGE_ERR_CLUSTER,
        _ => REDBRIDGE_ERR_PROTOCOL,
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let c = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Runs a function body: catches panics, records the error message of this thread, and
/// turns the outcome into a status.
pub(crate) fn boundary(f: impl FnOnce() -> Result<(), Error>) -> redbridge_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => redbridge_status::REDBRIDGE_OK,
        Ok(Err(e)) => {
            set_last_error(&e.to_string());
            status_of(e.kind())
        }
        Err(_) => {
            set_last_error("internal error in redbridge (a panic was caught at the C boundary); please report it");
            redbridge_status::REDBRIDGE_ERR_PANIC
        }
    }
}

/// Like [`boundary`] for functions that return a value (a handle, a count): `fallback`
/// on error or panic.
pub(crate) fn boundary_value<T>(fallback: T, f: impl FnOnce() -> Result<T, Error>) -> T {
    let mut out = None;
    boundary(|| {
        out = Some(f()?);
        Ok(())
    });
    out.unwrap_or(fallback)
}

/// The error for a NULL pointer argument.
pub(crate) fn null(name: &str) -> Error {
    Error::invalid(format!("`{name}` is NULL; pass a valid pointer"))
}

/// Borrows `*p`, or an error naming the argument when it is NULL.
pub(crate) fn arg<'a, T>(p: *const T, name: &str) -> Result<&'a T, Error> {
    // SAFETY: non-NULL pointers are the caller's promise of a live object (header contract).
    unsafe { p.as_ref() }.ok_or_else(|| null(name))
}

/// Mutably borrows `*p`, or an error naming the argument when it is NULL.
pub(crate) fn arg_mut<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Error> {
    // SAFETY: as for `arg`; the caller does not share a mutable handle across threads.
    unsafe { p.as_mut() }.ok_or_else(|| null(name))
}

/// Reads a NUL-terminated UTF-8 string argument.
pub(crate) fn c_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL, NUL-terminated by contract.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| Error::invalid(format!("`{name}` is not valid UTF-8")))
}

/// Writes an out-parameter (checked non-NULL beforehand by the caller of this helper).
pub(crate) fn put<T>(out: *mut T, value: T) {
    // SAFETY: `out` was checked non-NULL by `out_ptr`.
    unsafe { out.write(value) }
}

/// Checks an out-parameter pointer.
pub(crate) fn out_ptr<T>(out: *mut T, name: &str) -> Result<*mut T, Error> {
    if out.is_null() {
        Err(null(name))
    } else {
        Ok(out)
    }
}

/// Reads `argc` binary-safe arguments (`argvlen` NULL means NUL-terminated strings).
pub(crate) fn argv_slices<'a>(
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> Result<Vec<&'a [u8]>, Error> {
    if argc <= 0 {
        return Err(Error::invalid("argc must be at least 1 (the command name)"));
    }
    arg_slices(argc as usize, argv, argvlen)
}

/// Reads `n` binary-safe arguments as [`argv_slices`] does, where none is fine (then
/// `argv` may be NULL): a script's keys and arguments.
pub(crate) fn arg_slices<'a>(
    n: usize,
    argv: *const *const c_char,
    argvlen: *const usize,
) -> Result<Vec<&'a [u8]>, Error> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if argv.is_null() {
        return Err(null("argv"));
    }
    // SAFETY: argv (and argvlen when given) point to argc elements by contract.
    let ptrs = unsafe { std::slice::from_raw_parts(argv, n) };
    let lens = if argvlen.is_null() {
        None
    } else {
        Some(unsafe { std::slice::from_raw_parts(argvlen, n) })
    };
    ptrs.iter()
        .enumerate()
        .map(|(i, p)| {
            if p.is_null() {
                return Err(Error::invalid(format!("argv[{i}] is NULL")));
            }
            Ok(match lens {
                // SAFETY: argv[i] points to argvlen[i] readable bytes.
                Some(l) => unsafe { std::slice::from_raw_parts(p.cast::<u8>(), l[i]) },
                // SAFETY: NUL-terminated by contract.
                None => unsafe { CStr::from_ptr(*p) }.to_bytes(),
            })
        })
        .collect()
}

/// The calling thread's message for the last failed call ("" if none). Valid until the
/// next redbridge call on this thread; do not free it.
#[no_mangle]
pub extern "C" fn redbridge_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// A constant name for a status code ("REDBRIDGE_ERR_TIMEOUT"); never NULL, do not free.
#[no_mangle]
pub extern "C" fn redbridge_status_name(status: redbridge_status) -> *const c_char {
    use redbridge_status::*;
    let s: &'static CStr = match status {
        REDBRIDGE_OK => c"REDBRIDGE_OK",
        REDBRIDGE_ERR_CONNECTION => c"REDBRIDGE_ERR_CONNECTION",
        REDBRIDGE_ERR_TIMEOUT => c"REDBRIDGE_ERR_TIMEOUT",
        REDBRIDGE_ERR_POOL_TIMEOUT => c"REDBRIDGE_ERR_POOL_TIMEOUT",
        REDBRIDGE_ERR_RESPONSE => c"REDBRIDGE_ERR_RESPONSE",
        REDBRIDGE_ERR_PROTOCOL => c"REDBRIDGE_ERR_PROTOCOL",
        REDBRIDGE_ERR_INVALID_ARGUMENT => c"REDBRIDGE_ERR_INVALID_ARGUMENT",
        REDBRIDGE_ERR_DENIED => c"REDBRIDGE_ERR_DENIED",
        REDBRIDGE_ERR_CANCELLED => c"REDBRIDGE_ERR_CANCELLED",
        REDBRIDGE_ERR_AUTHENTICATION => c"REDBRIDGE_ERR_AUTHENTICATION",
        REDBRIDGE_ERR_WATCH => c"REDBRIDGE_ERR_WATCH",
        REDBRIDGE_ERR_CLUSTER => c"REDBRIDGE_ERR_CLUSTER",
        REDBRIDGE_ERR_PANIC => c"REDBRIDGE_ERR_PANIC",
    };
    s.as_ptr()
}

/// The library version ("0.1.0"); never NULL, do not free.
#[no_mangle]
pub extern "C" fn redbridge_version() -> *const c_char {
    static VERSION: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    VERSION.as_ptr()
}

/// Frees a handle made with `Box::into_raw`, after `before` (e.g. close); NULL is a no-op.
/// Never unwinds into C.
pub(crate) fn free_box<T>(p: *mut T, before: impl FnOnce(&mut T)) {
    if p.is_null() {
        return;
    }
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `p` came from Box::into_raw in this crate and is freed once (contract).
        let mut b = unsafe { Box::from_raw(p) };
        before(&mut b);
    }));
}
