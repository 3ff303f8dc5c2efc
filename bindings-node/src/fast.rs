//! The fast submit function of a client (issue #19, "a cheaper crossing per request"):
//! a plain napi function whose data is the client's [`Crossing`], so a call costs no
//! class-method checks (unwrap, type tag, borrow guard) and no argument vector: each
//! string is copied by one napi call into a buffer the function reuses, and the command
//! is built from there.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::sys;

use crate::{check, command, Crossing, Reply, TAG_NORMAL};

/// What the function keeps between calls.
struct Fast {
    crossing: Arc<Crossing>,
    /// The arguments of the call being made, back to back, and where each ends.
    scratch: RefCell<(Vec<u8>, Vec<usize>)>,
}

/// Room left in the buffer before a string is copied into it. A copy that leaves less
/// than 4 bytes free may have stopped early (napi writes whole characters only, up to 4
/// bytes each); the string's length is then asked for and it is copied again.
const ROOM: usize = 4096;

/// The most room the buffer keeps between calls.
const KEEP: usize = 1 << 20;

/// A JS function `(args, tag)` bound to `crossing`; it lives until V8 collects it.
pub(crate) unsafe fn submitter(
    env: sys::napi_env,
    crossing: Arc<Crossing>,
) -> Result<Unknown<'static>> {
    let data = Box::into_raw(Box::new(Fast {
        crossing,
        scratch: RefCell::new((Vec::with_capacity(ROOM), Vec::new())),
    }));
    let mut f = ptr::null_mut();
    let made = check(sys::napi_create_function(
        env,
        c"fastSubmit".as_ptr(),
        10,
        Some(call),
        data.cast(),
        &mut f,
    ))
    .and_then(|()| {
        check(sys::napi_add_finalizer(
            env,
            f,
            data.cast(),
            Some(finalize),
            ptr::null_mut(),
            ptr::null_mut(),
        ))
    });
    if let Err(e) = made {
        drop(Box::from_raw(data));
        return Err(e);
    }
    Ok(Unknown::from_raw_unchecked(env, f))
}

unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    drop(Box::from_raw(data as *mut Fast));
}

unsafe extern "C" fn call(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    // No panic may cross into V8: one becomes a thrown Error.
    match std::panic::catch_unwind(|| submit(env, info)) {
        Ok(Ok(v)) => v,
        Ok(Err(message)) => {
            throw(env, &message);
            ptr::null_mut()
        }
        Err(_) => {
            throw(
                env,
                "redbridge: fastSubmit failed unexpectedly (a bug in redbridge)",
            );
            ptr::null_mut()
        }
    }
}

unsafe fn throw(env: sys::napi_env, message: &str) {
    let text = std::ffi::CString::new(message.replace('\0', " ")).unwrap_or_default();
    sys::napi_throw_type_error(env, ptr::null(), text.as_ptr());
}

/// `(args, tag)`: undefined when queued, else the reply or Error to return at once.
unsafe fn submit(
    env: sys::napi_env,
    info: sys::napi_callback_info,
) -> std::result::Result<sys::napi_value, String> {
    let mut argc = 2usize;
    let mut argv = [ptr::null_mut(); 2];
    let mut data = ptr::null_mut();
    if sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        ptr::null_mut(),
        &mut data,
    ) != sys::Status::napi_ok
        || argc < 2
    {
        return Err("fastSubmit(args, tag): two arguments expected".into());
    }
    let fast = &*(data as *const Fast);
    let mut tag = 0f64;
    if sys::napi_get_value_double(env, argv[1], &mut tag) != sys::Status::napi_ok {
        return Err("fastSubmit: the tag must be a number".into());
    }
    let tag = tag as u64;
    let mut len = 0u32;
    if sys::napi_get_array_length(env, argv[0], &mut len) != sys::Status::napi_ok {
        return Err("fastSubmit: args must be an array".into());
    }
    let cmd = {
        let mut guard = fast
            .scratch
            .try_borrow_mut()
            .map_err(|_| "fastSubmit re-entered".to_string())?;
        let (buf, ends) = &mut *guard;
        buf.clear();
        ends.clear();
        for i in 0..len {
            let mut v = ptr::null_mut();
            if sys::napi_get_element(env, argv[0], i, &mut v) != sys::Status::napi_ok {
                return Err(format!("fastSubmit: args[{i}] could not be read"));
            }
            read_arg(env, v, buf).map_err(|what| format!("args[{i}] {what}"))?;
            ends.push(buf.len());
        }
        let mut start = 0;
        let args = ends.iter().map(|&end| {
            let a = &buf[start..end];
            start = end;
            a
        });
        let cmd = command(args, tag & TAG_NORMAL != 0);
        // A large value's room is not kept for the requests after it.
        if buf.capacity() > KEEP {
            *buf = Vec::with_capacity(ROOM);
        }
        cmd
    };
    let out = fast
        .crossing
        .enqueue(env, tag, |b, tag| Ok(b.submit(tag, cmd?)));
    let mut v = ptr::null_mut();
    match out {
        Either::B(()) => {
            sys::napi_get_undefined(env, &mut v);
            Ok(v)
        }
        Either::A(reply) => Reply::to_napi_value(env, reply).map_err(|e| e.reason.clone()),
    }
}

/// Appends a string (as UTF-8) or a Buffer's bytes to `buf`.
unsafe fn read_arg(
    env: sys::napi_env,
    v: sys::napi_value,
    buf: &mut Vec<u8>,
) -> std::result::Result<(), &'static str> {
    let start = buf.len();
    buf.reserve(ROOM);
    let room = buf.capacity() - start;
    let mut n = 0usize;
    let status =
        sys::napi_get_value_string_utf8(env, v, buf.as_mut_ptr().add(start).cast(), room, &mut n);
    if status == sys::Status::napi_ok {
        if n + 4 < room {
            buf.set_len(start + n);
            return Ok(());
        }
        // Maybe cut short: ask the length, then copy it whole.
        if sys::napi_get_value_string_utf8(env, v, ptr::null_mut(), 0, &mut n)
            != sys::Status::napi_ok
        {
            return Err("could not be read");
        }
        buf.reserve(n + 1);
        let mut got = 0usize;
        if sys::napi_get_value_string_utf8(
            env,
            v,
            buf.as_mut_ptr().add(start).cast(),
            n + 1,
            &mut got,
        ) != sys::Status::napi_ok
        {
            return Err("could not be read");
        }
        buf.set_len(start + got);
        return Ok(());
    }
    let mut is_buffer = false;
    if sys::napi_is_buffer(env, v, &mut is_buffer) == sys::Status::napi_ok && is_buffer {
        let mut data = ptr::null_mut();
        let mut blen = 0usize;
        if sys::napi_get_buffer_info(env, v, &mut data, &mut blen) != sys::Status::napi_ok {
            return Err("could not be read");
        }
        if blen > 0 {
            buf.extend_from_slice(std::slice::from_raw_parts(data as *const u8, blen));
        }
        return Ok(());
    }
    Err("must be a string or a Buffer")
}
