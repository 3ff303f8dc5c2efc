//! `redbridge_scan`: a SCAN / SSCAN / HSCAN / ZSCAN cursor, one batch at a time.

use std::ffi::{c_char, c_int};

use redbridge::{ScanKind, ScanOptions, SyncScan, Value};

use crate::client::redbridge_client;
use crate::ffi::{arg, arg_mut, boundary, c_str, free_box, null, out_ptr, put, redbridge_status};
use crate::reply::{redbridge_reply, to_reply};
use redbridge::Error;

/// Keys of the database (SCAN); `key` is ignored.
pub const REDBRIDGE_SCAN_KEYS: c_int = 0;
/// Members of the set at `key` (SSCAN).
pub const REDBRIDGE_SCAN_SET: c_int = 1;
/// Fields and values of the hash at `key` (HSCAN): each item is a 2-element ARRAY.
pub const REDBRIDGE_SCAN_HASH: c_int = 2;
/// Members and scores of the sorted set at `key` (ZSCAN): each item a 2-element ARRAY.
pub const REDBRIDGE_SCAN_ZSET: c_int = 3;

/// An iteration in progress (an opaque handle). Use from one thread at a time.
pub struct redbridge_scan {
    inner: SyncScan,
}

/// Starts an iteration. `kind` is REDBRIDGE_SCAN_*; `key`/`keylen` name the collection
/// (ignored for KEYS); `pattern` (MATCH), `count` (COUNT, 0 for the server default) and
/// `type` (TYPE, KEYS only) are optional (NULL / 0). Nothing is sent until the first
/// redbridge_scan_next. The client must outlive the scan.
#[no_mangle]
pub extern "C" fn redbridge_scan_new(
    client: *const redbridge_client,
    kind: c_int,
    key: *const c_char,
    keylen: usize,
    pattern: *const c_char,
    count: usize,
    r#type: *const c_char,
    out: *mut *mut redbridge_scan,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?;
        let out = out_ptr(out, "out")?;
        let key_bytes = || -> Result<Vec<u8>, Error> {
            if key.is_null() {
                return Err(null("key"));
            }
            // SAFETY: key points to keylen readable bytes by contract.
            Ok(unsafe { std::slice::from_raw_parts(key.cast::<u8>(), keylen) }.to_vec())
        };
        let kind = match kind {
            REDBRIDGE_SCAN_KEYS => ScanKind::Keys,
            REDBRIDGE_SCAN_SET => ScanKind::Set(key_bytes()?),
            REDBRIDGE_SCAN_HASH => ScanKind::Hash(key_bytes()?),
            REDBRIDGE_SCAN_ZSET => ScanKind::SortedSet(key_bytes()?),
            other => {
                return Err(Error::invalid(format!(
                    "unknown scan kind {other}; use REDBRIDGE_SCAN_KEYS, _SET, _HASH or _ZSET"
                )))
            }
        };
        let opts = ScanOptions {
            pattern: if pattern.is_null() {
                None
            } else {
                Some(c_str(pattern, "pattern")?.as_bytes().to_vec())
            },
            count: (count > 0).then_some(count),
            key_type: if r#type.is_null() {
                None
            } else {
                Some(c_str(r#type, "type")?.to_string())
            },
        };
        let inner = client.inner.scan(kind, opts)?;
        put(out, Box::into_raw(Box::new(redbridge_scan { inner })));
        Ok(())
    })
}

/// Fetches the next non-empty batch: *batch is an ARRAY reply (free it with
/// redbridge_reply_free), or NULL when the iteration is complete.
#[no_mangle]
pub extern "C" fn redbridge_scan_next(
    scan: *mut redbridge_scan,
    batch: *mut *mut redbridge_reply,
) -> redbridge_status {
    boundary(|| {
        let scan = arg_mut(scan, "scan")?;
        let out = out_ptr(batch, "batch")?;
        match scan.inner.next_batch()? {
            Some(items) => put(out, to_reply(Value::Array(items))),
            None => put(out, std::ptr::null_mut()),
        }
        Ok(())
    })
}

/// Frees a scan. NULL is a no-op.
#[no_mangle]
pub extern "C" fn redbridge_scan_free(scan: *mut redbridge_scan) {
    free_box(scan, |_| {});
}
