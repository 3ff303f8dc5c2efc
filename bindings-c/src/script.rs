//! `redbridge_script`: a Lua script run by its SHA1, with the core's EVAL fallback.

use std::ffi::{c_char, CString};

use redbridge::{Error, Script};

use crate::client::{deliver, redbridge_client};
use crate::ffi::{
    arg, arg_mut, arg_slices, boundary, boundary_value, free_box, null, out_ptr, put,
    redbridge_status,
};
use crate::reply::redbridge_reply;

/// A Lua script and its SHA1 (an opaque handle). Once made (and marked read-only, if it
/// is), one script may be run from many threads at once.
pub struct redbridge_script {
    inner: Script,
    /// The SHA1 as a C string, for redbridge_script_sha.
    sha: CString,
}

/// Makes a script from its Lua source, `len` bytes at `body` (binary-safe; NUL bytes
/// are kept), and computes its SHA1. On success *out is a script to free with
/// redbridge_script_free. Nothing is sent to the server.
#[no_mangle]
pub extern "C" fn redbridge_script_new(
    body: *const c_char,
    len: usize,
    out: *mut *mut redbridge_script,
) -> redbridge_status {
    boundary(|| {
        if body.is_null() {
            return Err(null("body"));
        }
        let out = out_ptr(out, "out")?;
        // SAFETY: body points to len readable bytes by contract.
        let inner = Script::new(unsafe { std::slice::from_raw_parts(body.cast::<u8>(), len) });
        let sha = CString::new(inner.sha()).map_err(|_| Error::invalid("bad SHA1"))?;
        put(
            out,
            Box::into_raw(Box::new(redbridge_script { inner, sha })),
        );
        Ok(())
    })
}

/// The script's SHA1: 40 lower-case hex digits, NUL-terminated, as SCRIPT LOAD answers
/// and SCRIPT EXISTS takes. Valid as long as the script; do not free it. NULL (with the
/// last error set) for a NULL script.
#[no_mangle]
pub extern "C" fn redbridge_script_sha(script: *const redbridge_script) -> *const c_char {
    boundary_value(std::ptr::null(), || Ok(arg(script, "script")?.sha.as_ptr()))
}

/// Marks the script read-only (`read_only` true) or not. A read-only script runs with
/// EVALSHA_RO / EVAL_RO (Redis 7): the server refuses a write inside it, and each call
/// counts as a read for the policy (retried after a connection error; on a cluster with
/// read_from_replicas, a replica may serve it). Set it before the script is shared
/// between threads.
#[no_mangle]
pub extern "C" fn redbridge_script_set_read_only(
    script: *mut redbridge_script,
    read_only: bool,
) -> redbridge_status {
    boundary(|| {
        let s = arg_mut(script, "script")?;
        s.inner = s.inner.clone().read_only(read_only);
        Ok(())
    })
}

/// Runs the script: EVALSHA first and, only when the server does not have the script
/// (NOSCRIPT), EVAL with the body, which caches it there. The first `numkeys` of the
/// `argc` arguments are its KEYS, the rest its ARGV, binary-safe as in
/// redbridge_command_argv (`argvlen` NULL means NUL-terminated strings; `argv` may be
/// NULL when `argc` is 0). The reply is set as by redbridge_command_argv: on
/// REDBRIDGE_OK the script's reply, on REDBRIDGE_ERR_RESPONSE (an error the script
/// raised, or a Lua error) the server's error as a REDBRIDGE_REPLY_ERROR reply; free it
/// with redbridge_reply_free. Timeouts, retries and counters are those of any command
/// (one request per call).
#[no_mangle]
pub extern "C" fn redbridge_script_eval(
    client: *const redbridge_client,
    script: *const redbridge_script,
    numkeys: i32,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
    reply: *mut *mut redbridge_reply,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?;
        let script = &arg(script, "script")?.inner;
        let out = out_ptr(reply, "reply")?;
        let (Ok(n), Ok(keys)) = (usize::try_from(argc), usize::try_from(numkeys)) else {
            return Err(Error::invalid("argc and numkeys must not be negative"));
        };
        if keys > n {
            return Err(Error::invalid(format!(
                "numkeys ({keys}) is more than argc ({n}): the keys are the first numkeys arguments"
            )));
        }
        let all = arg_slices(n, argv, argvlen)?;
        let (keys, args) = all.split_at(keys);
        deliver(out, client.inner.eval_script(script, keys, args))
    })
}

/// Frees a script. NULL is a no-op.
#[no_mangle]
pub extern "C" fn redbridge_script_free(script: *mut redbridge_script) {
    free_box(script, |_| {});
}
