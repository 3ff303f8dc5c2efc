//! `redbridge_reply`: a plain reply tree laid out like hiredis's `redisReply`.

use std::ffi::{c_char, c_int, c_longlong};
use std::ptr;

use redbridge::{Error, Value};

/// A bulk string (`str`, `len`).
pub const REDBRIDGE_REPLY_STRING: c_int = 1;
/// An array (`element`, `elements`).
pub const REDBRIDGE_REPLY_ARRAY: c_int = 2;
/// An integer (`integer`).
pub const REDBRIDGE_REPLY_INTEGER: c_int = 3;
/// Nil.
pub const REDBRIDGE_REPLY_NIL: c_int = 4;
/// A status line such as OK (`str`, `len`).
pub const REDBRIDGE_REPLY_STATUS: c_int = 5;
/// A server error reply, "CODE message" (`str`, `len`).
pub const REDBRIDGE_REPLY_ERROR: c_int = 6;
/// A RESP3 double (`dval`, and its text in `str`).
pub const REDBRIDGE_REPLY_DOUBLE: c_int = 7;
/// A RESP3 boolean (`integer` 0 or 1).
pub const REDBRIDGE_REPLY_BOOL: c_int = 8;
/// A RESP3 map: `elements` is twice the number of pairs, keys and values alternating.
pub const REDBRIDGE_REPLY_MAP: c_int = 9;
/// A RESP3 set (`element`, `elements`).
pub const REDBRIDGE_REPLY_SET: c_int = 10;
/// A RESP3 attribute (kept for hiredis parity; attributes are passed as their data).
pub const REDBRIDGE_REPLY_ATTR: c_int = 11;
/// A RESP3 push: the first element is the kind ("invalidate", "message"…).
pub const REDBRIDGE_REPLY_PUSH: c_int = 12;
/// A RESP3 big number, as decimal text (`str`, `len`).
pub const REDBRIDGE_REPLY_BIGNUM: c_int = 13;
/// A RESP3 verbatim string (`str`, `len`, format in `vtype`).
pub const REDBRIDGE_REPLY_VERB: c_int = 14;

/// A reply. Every string is NUL-terminated as well as sized (binary data may hold NUL
/// bytes: use `len`). Freed, with all its elements, by one `redbridge_reply_free`.
#[repr(C)]
pub struct redbridge_reply {
    /// REDBRIDGE_REPLY_*.
    pub r#type: c_int,
    /// INTEGER and BOOL.
    pub integer: c_longlong,
    /// DOUBLE.
    pub dval: f64,
    /// Length of `str` in bytes (without the terminating NUL).
    pub len: usize,
    /// STRING, STATUS, ERROR, DOUBLE, BIGNUM, VERB; NULL otherwise.
    pub str: *mut c_char,
    /// VERB: the 3-character format ("txt", "mkd"), NUL-terminated.
    pub vtype: [c_char; 4],
    /// ARRAY, MAP, SET, PUSH: number of elements.
    pub elements: usize,
    /// ARRAY, MAP, SET, PUSH: the elements; NULL when there are none.
    pub element: *mut *mut redbridge_reply,
}

fn blank(kind: c_int) -> redbridge_reply {
    redbridge_reply {
        r#type: kind,
        integer: 0,
        dval: 0.0,
        len: 0,
        str: ptr::null_mut(),
        vtype: [0; 4],
        elements: 0,
        element: ptr::null_mut(),
    }
}

fn with_str(kind: c_int, bytes: &[u8]) -> redbridge_reply {
    let mut buf = Vec::with_capacity(bytes.len() + 1);
    buf.extend_from_slice(bytes);
    buf.push(0);
    let mut r = blank(kind);
    r.len = bytes.len();
    r.str = Box::into_raw(buf.into_boxed_slice()).cast::<c_char>();
    r
}

fn with_elements(kind: c_int, items: Vec<*mut redbridge_reply>) -> redbridge_reply {
    let mut r = blank(kind);
    r.elements = items.len();
    if !items.is_empty() {
        r.element = Box::into_raw(items.into_boxed_slice()).cast::<*mut redbridge_reply>();
    }
    r
}

/// Builds a heap reply tree from a value.
pub(crate) fn to_reply(v: Value) -> *mut redbridge_reply {
    let r = match v {
        Value::Nil => blank(REDBRIDGE_REPLY_NIL),
        Value::Int(i) => {
            let mut r = blank(REDBRIDGE_REPLY_INTEGER);
            r.integer = i;
            r
        }
        Value::BulkString(b) => with_str(REDBRIDGE_REPLY_STRING, &b),
        Value::SimpleString(s) => with_str(REDBRIDGE_REPLY_STATUS, s.as_bytes()),
        Value::Okay => with_str(REDBRIDGE_REPLY_STATUS, b"OK"),
        Value::Array(items) => with_elements(
            REDBRIDGE_REPLY_ARRAY,
            items.into_iter().map(to_reply).collect(),
        ),
        Value::Set(items) => with_elements(
            REDBRIDGE_REPLY_SET,
            items.into_iter().map(to_reply).collect(),
        ),
        Value::Map(pairs) => with_elements(
            REDBRIDGE_REPLY_MAP,
            pairs
                .into_iter()
                .flat_map(|(k, v)| [to_reply(k), to_reply(v)])
                .collect(),
        ),
        Value::Attribute { data, .. } => return to_reply(*data),
        Value::Double(d) => {
            let mut r = with_str(REDBRIDGE_REPLY_DOUBLE, d.to_string().as_bytes());
            r.dval = d;
            r
        }
        Value::Boolean(b) => {
            let mut r = blank(REDBRIDGE_REPLY_BOOL);
            r.integer = b as c_longlong;
            r
        }
        Value::VerbatimString { format, text } => {
            let mut r = with_str(REDBRIDGE_REPLY_VERB, text.as_bytes());
            let f = format.to_string();
            for (d, s) in r.vtype.iter_mut().zip(f.bytes().take(3)) {
                *d = s as c_char;
            }
            r
        }
        Value::BigNumber(n) => with_str(REDBRIDGE_REPLY_BIGNUM, format!("{n:?}").as_bytes()),
        Value::Push { kind, data } => {
            let mut items = vec![to_reply(Value::BulkString(kind.to_string().into_bytes()))];
            items.extend(data.into_iter().map(to_reply));
            with_elements(REDBRIDGE_REPLY_PUSH, items)
        }
        Value::ServerError(e) => {
            let text = match e.details() {
                Some(d) => format!("{} {d}", e.code()),
                None => e.code().to_string(),
            };
            with_str(REDBRIDGE_REPLY_ERROR, text.as_bytes())
        }
        other => with_str(REDBRIDGE_REPLY_STRING, format!("{other:?}").as_bytes()),
    };
    Box::into_raw(Box::new(r))
}

/// An ERROR reply for a core error (a server error in a pipeline slot, or a failed command).
pub(crate) fn error_reply(e: &Error) -> *mut redbridge_reply {
    Box::into_raw(Box::new(with_str(
        REDBRIDGE_REPLY_ERROR,
        e.to_string().as_bytes(),
    )))
}

/// Frees a reply and everything it holds. NULL is a no-op; do not free an element on its
/// own, and do not free the same reply twice.
#[no_mangle]
pub extern "C" fn redbridge_reply_free(reply: *mut redbridge_reply) {
    let _ = std::panic::catch_unwind(|| free_tree(reply));
}

fn free_tree(reply: *mut redbridge_reply) {
    if reply.is_null() {
        return;
    }
    // SAFETY: every reply was made by `to_reply`/`error_reply` with Box::into_raw, and
    // its buffers with the lengths recorded beside them.
    let r = unsafe { Box::from_raw(reply) };
    if !r.str.is_null() {
        let slice = ptr::slice_from_raw_parts_mut(r.str.cast::<u8>(), r.len + 1);
        drop(unsafe { Box::from_raw(slice) });
    }
    if !r.element.is_null() {
        let slice = ptr::slice_from_raw_parts_mut(r.element, r.elements);
        let items = unsafe { Box::from_raw(slice) };
        for item in items.iter() {
            free_tree(*item);
        }
    }
}
