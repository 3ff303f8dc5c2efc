//! `redbridge_client`: open, run commands, read stats, free.

use std::ffi::c_char;

use redbridge::{Command, Config, Error, ErrorKind, SyncClient, Value};

use crate::config::redbridge_config;
use crate::ffi::{
    arg, argv_slices, boundary, c_str, free_box, out_ptr, put, redbridge_status, status_of,
};
use crate::reply::{error_reply, redbridge_reply, to_reply};

/// A connected client (an opaque handle). Safe to share between threads: concurrent
/// calls are multiplexed on one connection, a lone caller does its own I/O.
pub struct redbridge_client {
    pub(crate) inner: SyncClient,
}

fn open(config: Config, out: *mut *mut redbridge_client) -> Result<(), redbridge::Error> {
    let out = out_ptr(out, "out")?;
    let inner = SyncClient::connect(config)?;
    put(out, Box::into_raw(Box::new(redbridge_client { inner })));
    Ok(())
}

/// Connects to the server at `url` (redis://[user:password@]host:port/db?option=value,
/// unix:///path). On success *out is a client to free with redbridge_client_free; on
/// failure (bad URL, server unreachable, wrong password) *out is untouched.
#[no_mangle]
pub extern "C" fn redbridge_client_open(
    url: *const c_char,
    out: *mut *mut redbridge_client,
) -> redbridge_status {
    boundary(|| open(Config::from_url(c_str(url, "url")?)?, out))
}

/// Connects with the options of `config` (which stays owned by the caller).
#[no_mangle]
pub extern "C" fn redbridge_client_open_config(
    config: *const redbridge_config,
    out: *mut *mut redbridge_client,
) -> redbridge_status {
    boundary(|| open(arg(config, "config")?.builder.clone().build()?, out))
}

/// Closes every connection of the client and frees it. NULL is a no-op. No other thread
/// may be using the client.
#[no_mangle]
pub extern "C" fn redbridge_client_free(client: *mut redbridge_client) {
    free_box(client, |c| c.inner.close());
}

/// Runs one command given as `argc` binary-safe arguments (`argv[i]` of `argvlen[i]`
/// bytes; `argvlen` NULL means NUL-terminated strings), hiredis's redisCommandArgv.
/// On REDBRIDGE_OK, *reply is the reply. On REDBRIDGE_ERR_RESPONSE (the server answered
/// with an error), *reply is that error as a REDBRIDGE_REPLY_ERROR reply. Either way
/// free it with redbridge_reply_free. Other errors leave *reply untouched.
#[no_mangle]
pub extern "C" fn redbridge_command_argv(
    client: *const redbridge_client,
    argc: i32,
    argv: *const *const c_char,
    argvlen: *const usize,
    reply: *mut *mut redbridge_reply,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?;
        let out = out_ptr(reply, "reply")?;
        let cmd = Command::new(argv_slices(argc, argv, argvlen)?)?;
        deliver(out, client.inner.execute(&cmd))
    })
}

/// Hands a command's outcome to C: the reply in `*out`, or for a server error the error
/// as an ERROR reply in `*out` as well as the status; other errors leave `*out` alone.
pub(crate) fn deliver(
    out: *mut *mut redbridge_reply,
    result: Result<Value, redbridge::Error>,
) -> Result<(), redbridge::Error> {
    match result {
        Ok(v) => {
            put(out, to_reply(v));
            Ok(())
        }
        Err(e) => {
            if e.kind() == ErrorKind::Response {
                put(out, error_reply(&e));
            }
            Err(e)
        }
    }
}

/// redbridge_command_argv for NUL-terminated string arguments.
#[no_mangle]
pub extern "C" fn redbridge_command_strv(
    client: *const redbridge_client,
    argc: i32,
    argv: *const *const c_char,
    reply: *mut *mut redbridge_reply,
) -> redbridge_status {
    redbridge_command_argv(client, argc, argv, std::ptr::null(), reply)
}

/// A client's counters. `errors[s]` counts final errors with status code `s`
/// (REDBRIDGE_ERR_TIMEOUT…).
///
/// Fields are only ever added at the end (sentinel_switches was, after
/// pubsub_resubscribes), and every field is a uint64_t. redbridge_client_stats fills the
/// whole struct as this header declares it, so a program built with an older
/// redbridge.h must be rebuilt with the new one before it runs with a newer library;
/// redbridge_client_stats_sized(client, &stats, sizeof stats) needs no rebuild: it fills
/// only the struct the program was built with.
#[repr(C)]
pub struct redbridge_stats {
    /// Requests issued (a pipeline counts once).
    pub requests: u64,
    /// Retries made.
    pub retries: u64,
    /// Times the shared connection was re-established.
    pub reconnects: u64,
    /// Requests served on the calling thread's own connection (no thread hop).
    pub direct_requests: u64,
    /// Pool bound (max_connections).
    pub pool_max_size: u64,
    /// Pooled connections open.
    pub pool_size: u64,
    /// Pooled connections idle.
    pub pool_idle: u64,
    /// Pooled connections leased now.
    pub pool_in_use: u64,
    /// Callers waiting for a pooled connection now.
    pub pool_waiting: u64,
    /// Leases that had to wait.
    pub pool_waits: u64,
    /// Leases that gave up after pool_timeout.
    pub pool_wait_timeouts: u64,
    /// Final errors by status code (index = redbridge_status value, 1..=11).
    pub errors: [u64; 16],
    /// Client-side cache: reads answered locally (0 when the cache is off).
    pub cache_hits: u64,
    /// Client-side cache: cacheable reads that went to the server.
    pub cache_misses: u64,
    /// Client-side cache: keys invalidated, and flushes.
    pub cache_invalidations: u64,
    /// Client-side cache: entries dropped to stay within the bounds.
    pub cache_evictions: u64,
    /// Client-side cache: entries now.
    pub cache_entries: u64,
    /// Client-side cache: approximate bytes now.
    pub cache_bytes: u64,
    /// Pub/sub: messages received and queued by the client's subscribers.
    pub pubsub_messages: u64,
    /// Pub/sub: messages dropped because a subscriber's queue was full (each run of
    /// drops reported as a GAP); pubsub_messages + pubsub_dropped is what arrived.
    pub pubsub_dropped: u64,
    /// Pub/sub: times a subscriber's connection was made again and resubscribed.
    pub pubsub_resubscribes: u64,
    /// Sentinel: times the client moved to another node because the sentinels named one
    /// (a failover, or its replica became unhealthy); 0 without Sentinel.
    pub sentinel_switches: u64,
}

/// Fills *stats with the client's counters. The struct is this header's
/// redbridge_stats: see redbridge_client_stats_sized for a program that may run with
/// another version of the library than the header it was built with.
#[no_mangle]
pub extern "C" fn redbridge_client_stats(
    client: *const redbridge_client,
    stats: *mut redbridge_stats,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?;
        let out = out_ptr(stats, "stats")?;
        put(out, snapshot(client));
        Ok(())
    })
}

/// Fills the first `size` bytes of *stats with the client's counters, where `size` is
/// `sizeof(struct redbridge_stats)` as the program's own redbridge.h declares it: a
/// program built with an older header gets the fields it knows and nothing is written
/// past them; one built with a newer header than the library gets 0 in the fields the
/// library does not have. Call it as `redbridge_client_stats_sized(client, &stats,
/// sizeof stats)`. `size` must be a multiple of 8 (every field is a uint64_t) and at
/// least 8, else REDBRIDGE_ERR_INVALID_ARGUMENT and nothing is written.
#[no_mangle]
pub extern "C" fn redbridge_client_stats_sized(
    client: *const redbridge_client,
    stats: *mut redbridge_stats,
    size: usize,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?;
        let out = out_ptr(stats, "stats")?.cast::<u8>();
        if size < 8 || !size.is_multiple_of(8) {
            return Err(Error::invalid(format!(
                "size {size} is not a redbridge_stats size; pass sizeof(struct \
                 redbridge_stats) from the header the program was built with (a multiple \
                 of 8 bytes, at least 8)"
            )));
        }
        let all = snapshot(client);
        let known = size.min(std::mem::size_of::<redbridge_stats>());
        // SAFETY: `out` is non-NULL and the caller's struct is `size` bytes (the header's
        // contract); `all` is a plain struct of u64 fields, read for `known` bytes only.
        unsafe {
            std::ptr::copy_nonoverlapping(
                (&all as *const redbridge_stats).cast::<u8>(),
                out,
                known,
            );
            std::ptr::write_bytes(out.add(known), 0, size - known);
        }
        Ok(())
    })
}

/// The client's counters as redbridge_stats.
fn snapshot(client: &redbridge_client) -> redbridge_stats {
    let s = client.inner.stats();
    let cache = s.cache.unwrap_or_default();
    let mut errors = [0u64; 16];
    for (kind, n) in &s.errors {
        errors[status_of(*kind) as usize % 16] += n;
    }
    redbridge_stats {
        requests: s.requests,
        retries: s.retries,
        reconnects: s.reconnects,
        direct_requests: s.direct_requests,
        pool_max_size: s.pool.max_size as u64,
        pool_size: s.pool.size as u64,
        pool_idle: s.pool.idle as u64,
        pool_in_use: s.pool.in_use as u64,
        pool_waiting: s.pool.waiting as u64,
        pool_waits: s.pool_waits,
        pool_wait_timeouts: s.pool_wait_timeouts,
        errors,
        cache_hits: cache.hits,
        cache_misses: cache.misses,
        cache_invalidations: cache.invalidations,
        cache_evictions: cache.evictions,
        cache_entries: cache.entries,
        cache_bytes: cache.bytes,
        pubsub_messages: s.pubsub_messages,
        pubsub_dropped: s.pubsub_dropped,
        pubsub_resubscribes: s.pubsub_resubscribes,
        sentinel_switches: s.sentinel_switches,
    }
}

/// One cluster node's counters (see redbridge_client_node_stats).
#[repr(C)]
pub struct redbridge_node_stats {
    /// `host:port`, NUL-terminated (cut to fit).
    pub addr: [c_char; 64],
    /// 1 while it serves slots as a primary, 0 once it no longer does.
    pub primary: u32,
    /// Requests sent to it (counted on the node of a command's first key; each command of
    /// a pipeline counts).
    pub requests: u64,
    /// Those that failed.
    pub errors: u64,
    /// Its part of the client-side cache: reads answered locally (0 when the cache is off).
    pub cache_hits: u64,
    /// Its part of the cache: cacheable reads that went to the node.
    pub cache_misses: u64,
    /// Its part of the cache: keys invalidated, and flushes.
    pub cache_invalidations: u64,
    /// Its part of the cache: entries dropped to stay within the bounds.
    pub cache_evictions: u64,
    /// Its part of the cache: entries now.
    pub cache_entries: u64,
    /// Its part of the cache: approximate bytes now.
    pub cache_bytes: u64,
}

/// Per-node counters of a cluster client: fills nodes[0..capacity) and sets *count to
/// the number of nodes there are (0 for a standalone client), like snprintf: call with
/// capacity 0 (nodes may then be NULL) to learn how many to allocate.
#[no_mangle]
pub extern "C" fn redbridge_client_node_stats(
    client: *const redbridge_client,
    nodes: *mut redbridge_node_stats,
    capacity: usize,
    count: *mut usize,
) -> redbridge_status {
    boundary(|| {
        let client = arg(client, "client")?;
        let count = out_ptr(count, "count")?;
        if capacity > 0 {
            out_ptr(nodes, "nodes")?;
        }
        let all = client.inner.stats().nodes;
        for (i, n) in all.iter().take(capacity).enumerate() {
            let cache = n.cache.unwrap_or_default();
            let mut addr = [0 as c_char; 64];
            for (d, b) in addr.iter_mut().zip(n.addr.bytes().take(63)) {
                *d = b as c_char;
            }
            // SAFETY: the caller gave room for `capacity` entries at `nodes` (checked non-NULL).
            put(
                unsafe { nodes.add(i) },
                redbridge_node_stats {
                    addr,
                    primary: u32::from(n.primary),
                    requests: n.requests,
                    errors: n.errors,
                    cache_hits: cache.hits,
                    cache_misses: cache.misses,
                    cache_invalidations: cache.invalidations,
                    cache_evictions: cache.evictions,
                    cache_entries: cache.entries,
                    cache_bytes: cache.bytes,
                },
            );
        }
        put(count, all.len());
        Ok(())
    })
}

/// Empties the client-side cache (no-op when it is off).
#[no_mangle]
pub extern "C" fn redbridge_client_cache_clear(
    client: *const redbridge_client,
) -> redbridge_status {
    boundary(|| {
        arg(client, "client")?.inner.cache_clear();
        Ok(())
    })
}
