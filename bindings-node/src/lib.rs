//! The native addon behind the `redbridge` npm package: conversion only.
//!
//! `index.js` gives the node-redis surface; this module hands it the core's client,
//! pipelines, leases and SCAN streams. Every async method resolves (never rejects): with
//! the reply, or with an `Error` whose `code` is the core's error kind, which the facade
//! turns into its error classes. Replies keep their RESP shape: strings (or Buffers when
//! asked), numbers, null, arrays, objects for RESP3 maps.

#![deny(clippy::all)]

use std::collections::HashMap;
use std::ffi::c_char;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::sys;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

mod fast;
mod loop_io;
mod monitor;
// Public so that its #[napi] functions count as used in the test build too (clippy
// --all-targets), as the exported classes of the other modules do.
pub mod observe;
mod pubsub;
use redbridge::{
    Batcher, Command, ConfigBuilder, Done, Lease, Pipeline, ScanKind, ScanOptions, ScanStream,
    Value,
};

/// One argument: a string or a Buffer (binary-safe).
type Arg = Either<String, Buffer>;

fn bytes(arg: &Arg) -> &[u8] {
    match arg {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b.as_ref(),
    }
}

/// A command from its arguments; `normal` asks for its reply in the core's normal form
/// (node-redis's command methods shape replies, `sendCommand` gives them raw).
fn command<'a>(
    args: impl IntoIterator<Item = &'a [u8]>,
    normal: bool,
) -> redbridge::Result<Command> {
    let cmd = Command::new(args)?;
    Ok(if normal { cmd.normalized() } else { cmd })
}

/// A pipeline; `normal[i]` asks for command `i`'s reply in normal form (none: all raw).
fn pipeline(
    cmds: &[Vec<Arg>],
    transaction: bool,
    normal: Option<&[bool]>,
) -> redbridge::Result<Pipeline> {
    let mut pipe = Pipeline::new(transaction);
    for (i, args) in cmds.iter().enumerate() {
        let normal = normal.and_then(|n| n.get(i)).copied().unwrap_or(false);
        pipe.add(command(args.iter().map(bytes), normal)?);
    }
    Ok(pipe)
}

/// Bit 1 of a submit tag asks for the reply in normal form (bit 0 asks for Buffers).
const TAG_NORMAL: u64 = 2;

/// A pipeline of string arguments that index.js packed into one string, so the whole
/// pipeline crosses the boundary in one napi call instead of one or more per argument:
/// per command `argc*` (or `argc#` to ask for its reply in normal form), then per
/// argument `len:` and the argument, `len` in UTF-16 code units. Lone surrogates become
/// U+FFFD, as napi's UTF-8 conversion makes them.
fn unpacked_pipeline(packed: &[u16], transaction: bool) -> redbridge::Result<Pipeline> {
    let bad = || {
        redbridge::Error::invalid("a packed pipeline is malformed (a bug in redbridge's index.js)")
    };
    let mut at = 0;
    // A number and the character that ends it, one of `ends`.
    let number = |at: &mut usize, ends: &[u8]| -> redbridge::Result<(usize, u8)> {
        let mut n = 0usize;
        loop {
            let c = *packed.get(*at).ok_or_else(bad)?;
            *at += 1;
            match c {
                d @ 0x30..=0x39 => {
                    n = n
                        .checked_mul(10)
                        .and_then(|n| n.checked_add(usize::from(d - 0x30)))
                        .ok_or_else(bad)?
                }
                c if ends.iter().any(|&e| u16::from(e) == c) => return Ok((n, c as u8)),
                _ => return Err(bad()),
            }
        }
    };
    let mut pipe = Pipeline::new(transaction);
    let mut scratch: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    while at < packed.len() {
        let (argc, end) = number(&mut at, b"*#")?;
        scratch.clear();
        ends.clear();
        for _ in 0..argc {
            let (len, _) = number(&mut at, b":")?;
            let units = packed.get(at..at + len).ok_or_else(bad)?;
            at += len;
            if units.iter().all(|&u| u < 0x80) {
                scratch.extend(units.iter().map(|&u| u as u8));
            } else {
                scratch.extend_from_slice(String::from_utf16_lossy(units).as_bytes());
            }
            ends.push(scratch.len());
        }
        let mut start = 0;
        let args = ends.iter().map(|&end| {
            let arg = &scratch[start..end];
            start = end;
            arg
        });
        pipe.add(command(args, end == b'#')?);
    }
    Ok(pipe)
}

/// What a call resolves with: a reply, the slots of a pipeline, or a failure.
pub enum Reply {
    /// A reply; `buffers` turns bulk strings into Buffers.
    Value(Value, bool),
    /// Pipeline slots: replies, or failures in place.
    Slots(Vec<redbridge::Result<Value>>, bool),
    /// A failure, resolved as an `Error` object with `code` = the core's kind.
    Failure(redbridge::Error),
}

impl From<redbridge::Result<Value>> for Reply {
    fn from(r: redbridge::Result<Value>) -> Self {
        match r {
            Ok(v) => Reply::Value(v, false),
            Err(e) => Reply::Failure(e),
        }
    }
}

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(
            Status::GenericFailure,
            "a JavaScript value could not be created",
        ))
    }
}

/// A JS string from reply bytes: invalid UTF-8 becomes U+FFFD, as node-redis decodes.
/// ASCII (most replies) is handed over as Latin-1, which V8 copies without decoding;
/// anything else is made valid UTF-8 here (a copy only when it was not) and decoded by V8.
unsafe fn js_string(env: sys::napi_env, s: &[u8]) -> Result<sys::napi_value> {
    let ascii = s.is_ascii();
    let text = if ascii {
        std::borrow::Cow::Borrowed(s)
    } else {
        match String::from_utf8_lossy(s) {
            std::borrow::Cow::Borrowed(t) => std::borrow::Cow::Borrowed(t.as_bytes()),
            std::borrow::Cow::Owned(t) => std::borrow::Cow::Owned(t.into_bytes()),
        }
    };
    let (ptr, len) = (text.as_ptr() as *const c_char, text.len() as isize);
    let mut v = ptr::null_mut();
    check(if ascii {
        sys::napi_create_string_latin1(env, ptr, len, &mut v)
    } else {
        sys::napi_create_string_utf8(env, ptr, len, &mut v)
    })?;
    Ok(v)
}

unsafe fn js_error(env: sys::napi_env, e: &redbridge::Error) -> Result<sys::napi_value> {
    let code = js_string(env, e.kind().name().to_ascii_uppercase().as_bytes())?;
    let msg = js_string(env, e.to_string().as_bytes())?;
    let mut err = ptr::null_mut();
    check(sys::napi_create_error(env, code, msg, &mut err))?;
    if let Some(redis_code) = e.code() {
        let key = js_string(env, b"redisCode")?;
        check(sys::napi_set_property(
            env,
            err,
            key,
            js_string(env, redis_code.as_bytes())?,
        ))?;
    }
    Ok(err)
}

unsafe fn js_array(env: sys::napi_env, items: Vec<sys::napi_value>) -> Result<sys::napi_value> {
    let mut arr = ptr::null_mut();
    check(sys::napi_create_array_with_length(
        env,
        items.len(),
        &mut arr,
    ))?;
    for (i, item) in items.into_iter().enumerate() {
        check(sys::napi_set_element(env, arr, i as u32, item))?;
    }
    Ok(arr)
}

fn key_text(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        Value::SimpleString(s) => s.clone().into_bytes(),
        Value::Int(i) => i.to_string().into_bytes(),
        Value::Double(d) => d.to_string().into_bytes(),
        other => format!("{other:?}").into_bytes(),
    }
}

unsafe fn js_value(env: sys::napi_env, v: Value, buffers: bool) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    match v {
        Value::Nil => check(sys::napi_get_null(env, &mut out))?,
        Value::Int(i) => check(sys::napi_create_double(env, i as f64, &mut out))?,
        Value::Double(d) => check(sys::napi_create_double(env, d, &mut out))?,
        Value::Boolean(b) => check(sys::napi_get_boolean(env, b, &mut out))?,
        Value::BulkString(b) if buffers => {
            let mut data = ptr::null_mut();
            check(sys::napi_create_buffer_copy(
                env,
                b.len(),
                b.as_ptr().cast(),
                &mut data,
                &mut out,
            ))?
        }
        Value::BulkString(b) => out = js_string(env, &b)?,
        Value::SimpleString(s) => out = js_string(env, s.as_bytes())?,
        Value::Okay => out = js_string(env, b"OK")?,
        Value::VerbatimString { text, .. } => out = js_string(env, text.as_bytes())?,
        Value::BigNumber(n) => out = js_string(env, format!("{n:?}").as_bytes())?,
        Value::Array(items) | Value::Set(items) => {
            let items = items
                .into_iter()
                .map(|i| js_value(env, i, buffers))
                .collect::<Result<Vec<_>>>()?;
            out = js_array(env, items)?
        }
        Value::Map(pairs) => {
            check(sys::napi_create_object(env, &mut out))?;
            for (k, v) in pairs {
                let key = js_string(env, &key_text(&k))?;
                check(sys::napi_set_property(
                    env,
                    out,
                    key,
                    js_value(env, v, buffers)?,
                ))?;
            }
        }
        Value::Attribute { data, .. } => out = js_value(env, *data, buffers)?,
        Value::Push { kind, data } => {
            let mut items = vec![js_string(env, kind.to_string().as_bytes())?];
            for d in data {
                items.push(js_value(env, d, buffers)?);
            }
            out = js_array(env, items)?
        }
        Value::ServerError(e) => out = js_error(env, &redbridge::Error::from(e))?,
        other => out = js_string(env, format!("{other:?}").as_bytes())?,
    }
    Ok(out)
}

impl ToNapiValue for Reply {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        match val {
            Reply::Value(v, buffers) => js_value(env, v, buffers),
            Reply::Failure(e) => js_error(env, &e),
            Reply::Slots(slots, buffers) => {
                let items = slots
                    .into_iter()
                    .map(|s| match s {
                        Ok(v) => js_value(env, v, buffers),
                        Err(e) => js_error(env, &e),
                    })
                    .collect::<Result<Vec<_>>>()?;
                js_array(env, items)
            }
        }
    }
}

impl TypeName for Reply {
    fn type_name() -> &'static str {
        "Reply"
    }
    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

fn value(r: redbridge::Result<Value>, buffers: bool) -> Reply {
    match r {
        Ok(v) => Reply::Value(v, buffers),
        Err(e) => Reply::Failure(e),
    }
}

fn slots(r: redbridge::Result<Vec<redbridge::Result<Value>>>, buffers: bool) -> Reply {
    match r {
        Ok(s) => Reply::Slots(s, buffers),
        Err(e) => Reply::Failure(e),
    }
}

/// The wake-up of a client's batch (docs/architecture.md, "Engines": one crossing per batch, not per reply):
/// turned into JS on the JS thread, it drains every completion since the last one into a
/// flat array `[tag, reply, tag, reply, …]` for the package's `settleBatch`. A tag's low
/// bit asks for Buffers instead of strings.
pub struct Drained {
    batcher: Batcher,
    keep_alive: Arc<KeepAlive>,
}

/// Requests in flight keep the event loop alive (the threadsafe function is referenced);
/// an idle client does not hold the process open.
pub(crate) struct KeepAlive {
    in_flight: AtomicUsize,
    /// Set once at construction; alive as long as the batcher whose wake-up owns it.
    tsfn: sys::napi_threadsafe_function,
    /// The JS thread's own connection's libuv side from its creation until it shuts (null
    /// otherwise): a drain brings it in step, since a wake-up also comes when requests
    /// that waited for that connection can be written. Set and read on the JS thread only.
    pub(crate) loop_io: AtomicPtr<loop_io::LoopIo>,
}

// SAFETY: the raw threadsafe-function handle is only used on the JS thread (submit and the
// drain conversion); napi threadsafe functions are made to be shared between threads.
unsafe impl Send for KeepAlive {}
unsafe impl Sync for KeepAlive {}

impl KeepAlive {
    /// On the JS thread: `delta` requests more (or fewer) in flight; (un)ref at 0.
    pub(crate) unsafe fn add(&self, env: sys::napi_env, delta: isize) {
        let before = if delta >= 0 {
            self.in_flight.fetch_add(delta as usize, Ordering::Relaxed)
        } else {
            self.in_flight
                .fetch_sub((-delta) as usize, Ordering::Relaxed)
        };
        let after = before as isize + delta;
        if before == 0 && after > 0 {
            sys::napi_ref_threadsafe_function(env, self.tsfn);
        } else if before > 0 && after == 0 {
            sys::napi_unref_threadsafe_function(env, self.tsfn);
        }
    }
}

impl ToNapiValue for Drained {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let done = val.batcher.drain();
        val.keep_alive.add(env, -(done.len() as isize));
        let io = val.keep_alive.loop_io.load(Ordering::Relaxed);
        if !io.is_null() {
            // SAFETY: on the JS thread, where the LoopIo lives and clears this pointer
            // before it goes.
            (*io).sync();
        }
        completions_js(env, done)
    }
}

/// Completions as `settleBatch` takes them: `[tag, reply, tag, reply, …]`.
unsafe fn completions_js(
    env: sys::napi_env,
    done: Vec<redbridge::Completion>,
) -> Result<sys::napi_value> {
    js_array(env, completion_values(env, done)?)
}

/// Completions as a flat list of JS values: tag, reply, tag, reply, …
pub(crate) unsafe fn completion_values(
    env: sys::napi_env,
    done: Vec<redbridge::Completion>,
) -> Result<Vec<sys::napi_value>> {
    let mut items = Vec::with_capacity(done.len() * 2);
    for (tag, result) in done {
        let mut t = ptr::null_mut();
        check(sys::napi_create_double(env, tag as f64, &mut t))?;
        items.push(t);
        let buffers = tag & 1 == 1;
        items.push(match result {
            Ok(Done::Reply(v)) => js_value(env, v, buffers)?,
            Ok(Done::Slots(slots)) => Reply::to_napi_value(env, Reply::Slots(slots, buffers))?,
            Ok(Done::Page(Some(items))) => js_value(env, Value::Array(items), buffers)?,
            Ok(Done::Page(None)) => js_value(env, Value::Nil, false)?,
            Err(e) => js_error(env, &e)?,
        });
    }
    Ok(items)
}

impl TypeName for Drained {
    fn type_name() -> &'static str {
        "Array<number | Reply>"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

type SettleFn = ThreadsafeFunction<Drained, (), Drained, Status, false, true>;

fn bad_config(e: redbridge::Error) -> Error {
    Error::new(Status::InvalidArg, e.to_string())
}

/// The core client for one `createClient()`.
#[napi]
pub struct NativeClient {
    client: redbridge::Client,
    crossing: Option<Arc<Crossing>>,
}

/// The batched crossing of one client: its batcher, what keeps the process alive while
/// requests are out, and the JS thread's own connection. Shared with the client's fast
/// submit function ([`fast`]).
pub(crate) struct Crossing {
    batcher: Batcher,
    keep_alive: Arc<KeepAlive>,
    io: LoopHandle,
}

impl Crossing {
    /// Submits through `submit`: undefined when queued (its completion keeps the process
    /// alive until it is settled), or what to return at once — a reply answered without
    /// I/O, or the Error of a request that could not be made. On the JS thread.
    pub(crate) fn enqueue(
        &self,
        env: sys::napi_env,
        tag: u64,
        submit: impl FnOnce(&Batcher, u64) -> redbridge::Result<Option<Value>>,
    ) -> Either<Reply, ()> {
        match submit(&self.batcher, tag) {
            Ok(None) => {
                // SAFETY: called on the JS thread with its env.
                unsafe { self.keep_alive.add(env, 1) };
                self.io.0.after_submit();
                Either::B(())
            }
            Ok(Some(v)) => Either::A(Reply::Value(v, tag & 1 == 1)),
            Err(e) => Either::A(Reply::Failure(e)),
        }
    }
}

/// The JS thread's own connection's libuv side.
struct LoopHandle(Box<loop_io::LoopIo>);

// SAFETY: created, used and dropped on the JS thread only (submit, close, the
// finalizer and libuv callbacks all run there); the async methods of the client never
// touch it.
unsafe impl Send for LoopHandle {}
unsafe impl Sync for LoopHandle {}

#[napi]
impl NativeClient {
    /// `url` (optional), then `[name, value]` option pairs with the core's option names;
    /// `warn(message)` receives guard warnings (on the JS thread); `settle(batch)` receives
    /// the completions of `submit`ted commands (see `Drained`) and `settleArgs(tag, reply,
    /// …)` those read on the JS thread's own connection, as arguments (no array to fill).
    #[napi(constructor)]
    pub fn new(
        env: Env,
        url: Option<String>,
        options: Vec<Vec<String>>,
        warn: Option<Function<String, ()>>,
        settle: Option<Function<Drained, ()>>,
        settle_args: Option<Function<'_>>,
    ) -> Result<Self> {
        let mut builder = match url {
            Some(u) => ConfigBuilder::from_url(&u).map_err(bad_config)?,
            None => ConfigBuilder::default(),
        };
        for pair in &options {
            let [k, v] = pair.as_slice() else {
                return Err(Error::new(
                    Status::InvalidArg,
                    "options must be [name, value] pairs",
                ));
            };
            builder.set_option(k, v).map_err(bad_config)?;
        }
        if let Some(warn) = warn {
            let tsfn: ThreadsafeFunction<String, (), String, Status, false, true> = warn
                .build_threadsafe_function()
                .callee_handled::<false>()
                .weak::<true>()
                .build()?;
            builder = builder.on_warning(move |w| {
                tsfn.call(w.message.clone(), ThreadsafeFunctionCallMode::NonBlocking);
            });
        }
        let config = builder.build().map_err(bad_config)?;
        let _rt = redbridge::runtime::runtime().enter();
        let client = redbridge::Client::new(config).map_err(bad_config)?;
        let crossing = match settle {
            None => None,
            Some(settle) => {
                let settle_fn = settle_args
                    .as_ref()
                    .map_or(settle.value().value, |f| f.value().value);
                let tsfn: SettleFn = settle
                    .build_threadsafe_function()
                    .callee_handled::<false>()
                    .weak::<true>()
                    .build()?;
                let keep_alive = Arc::new(KeepAlive {
                    in_flight: AtomicUsize::new(0),
                    tsfn: tsfn.raw(),
                    loop_io: AtomicPtr::new(ptr::null_mut()),
                });
                let ka = Arc::clone(&keep_alive);
                let batcher = Batcher::with_loop_io(client.clone(), move |b: &Batcher| {
                    let drained = Drained {
                        batcher: b.clone(),
                        keep_alive: Arc::clone(&ka),
                    };
                    tsfn.call(drained, ThreadsafeFunctionCallMode::NonBlocking);
                });
                // SAFETY: on the JS thread, with its env and the settle function.
                let io = LoopHandle(unsafe {
                    loop_io::LoopIo::new(
                        env.raw(),
                        batcher.clone(),
                        Arc::clone(&keep_alive),
                        settle_fn,
                    )?
                });
                Some(Arc::new(Crossing {
                    batcher,
                    keep_alive,
                    io,
                }))
            }
        };
        Ok(NativeClient { client, crossing })
    }

    /// Queues one command for the batched crossing; its reply reaches `settle` with `tag`
    /// (an integer below 2^53 whose bit 0 asks for Buffers, bit 1 for the reply in normal
    /// form). Returns undefined; or at once the reply the client-side cache holds, or an
    /// Error for arguments that are not a command.
    #[napi(ts_return_type = "unknown")]
    pub fn submit(&self, env: Env, args: Vec<Arg>, tag: f64) -> Either<Reply, ()> {
        self.enqueue(env, tag, |b, tag| {
            Ok(b.submit(tag, command(args.iter().map(bytes), tag & TAG_NORMAL != 0)?))
        })
    }

    /// `submit` for a pipeline (or MULTI/EXEC): `settle` gets one slot per command;
    /// `normal[i]` asks for command `i`'s reply in normal form.
    #[napi(ts_return_type = "Error | undefined")]
    pub fn submit_pipeline(
        &self,
        env: Env,
        cmds: Vec<Vec<Arg>>,
        transaction: bool,
        tag: f64,
        normal: Option<Vec<bool>>,
    ) -> Either<Reply, ()> {
        self.enqueue(env, tag, |b, tag| {
            b.submit_pipeline(tag, pipeline(&cmds, transaction, normal.as_deref())?);
            Ok(None)
        })
    }

    /// `submit_pipeline` for a pipeline of string arguments packed into one string by
    /// index.js (see `unpacked_pipeline`): one boundary crossing for all of it.
    #[napi(ts_return_type = "Error | undefined")]
    pub fn submit_pipeline_packed(
        &self,
        env: Env,
        packed: Utf16String,
        transaction: bool,
        tag: f64,
    ) -> Either<Reply, ()> {
        self.enqueue(env, tag, |b, tag| {
            b.submit_pipeline(tag, unpacked_pipeline(&packed, transaction)?);
            Ok(None)
        })
    }

    /// `submit` for a Lua script run by its SHA1 ([`NativeScript`]): the core sends
    /// EVALSHA (EVALSHA_RO for a read-only script), and EVAL with the body only when the
    /// server answers NOSCRIPT; `settle` gets the script's reply.
    #[napi(ts_return_type = "Error | undefined")]
    pub fn submit_script(
        &self,
        env: Env,
        script: &NativeScript,
        keys: Vec<Arg>,
        args: Vec<Arg>,
        tag: f64,
    ) -> Either<Reply, ()> {
        let owned = |values: &[Arg]| values.iter().map(|v| bytes(v).to_vec()).collect();
        let (keys, args) = (owned(&keys), owned(&args));
        let script = script.script.clone();
        self.enqueue(env, tag, |b, tag| {
            b.submit_script(tag, script, keys, args);
            Ok(None)
        })
    }

    /// `submit` for the next page of a scan: `settle` gets the page, or null at the end.
    #[napi(ts_return_type = "Error | undefined")]
    pub fn submit_scan(&self, env: Env, scan: &NativeScan, tag: f64) -> Either<Reply, ()> {
        let stream = scan.stream.clone();
        self.enqueue(env, tag, |b, tag| {
            b.submit_scan(tag, stream);
            Ok(None)
        })
    }

    /// [`Crossing::enqueue`] on this client's crossing.
    fn enqueue(
        &self,
        env: Env,
        tag: f64,
        submit: impl FnOnce(&Batcher, u64) -> redbridge::Result<Option<Value>>,
    ) -> Either<Reply, ()> {
        match &self.crossing {
            Some(c) => c.enqueue(env.raw(), tag as u64, submit),
            None => Either::A(Reply::Failure(redbridge::Error::invalid(
                "this client was made without a settle callback",
            ))),
        }
    }

    /// A function `(args, tag)` that does what `submit` does for a command of strings and
    /// Buffers, without the per-call checks of a class method or an argument vector: the
    /// arguments are read into a reused buffer (see [`fast`]).
    #[napi(ts_return_type = "(args: Array<string | Buffer>, tag: number) => unknown")]
    pub fn fast_submit(&self, env: Env) -> Result<Unknown<'_>> {
        let Some(c) = &self.crossing else {
            return Err(Error::new(
                Status::InvalidArg,
                "this client was made without a settle callback",
            ));
        };
        // SAFETY: on the JS thread with its env.
        unsafe { fast::submitter(env.raw(), Arc::clone(c)) }
    }

    /// Waits until the connection is up; resolves with null or the connect error.
    #[napi]
    pub async fn connect(&self) -> Reply {
        let client = self.client.clone();
        let wait = client.config().connect_timeout() * 2;
        // With the batched crossing: its JS-thread connection (the client's one
        // connection for what it carries), else the runtime's.
        let batcher = self.crossing.as_ref().map(|c| c.batcher.clone());
        let connected = async move {
            match batcher {
                Some(b) => b.connect(wait).await,
                None => client.wait_connected(wait).await,
            }
        };
        match redbridge::runtime::run(connected).await {
            Ok(()) => Reply::Value(Value::Nil, false),
            Err(e) => Reply::Failure(e),
        }
    }

    /// Runs one command (strings or Buffers); resolves with the reply (in normal form
    /// when `normal`) or an Error.
    #[napi]
    pub async fn execute(&self, args: Vec<Arg>, buffers: bool, normal: bool) -> Reply {
        let client = self.client.clone();
        let cmd = match command(args.iter().map(bytes), normal) {
            Ok(c) => c,
            Err(e) => return Reply::Failure(e),
        };
        value(
            redbridge::runtime::run(async move { client.execute(&cmd).await }).await,
            buffers,
        )
    }

    /// Sends commands as one pipeline (or MULTI/EXEC); resolves with one slot per command.
    #[napi]
    pub async fn pipeline(
        &self,
        cmds: Vec<Vec<Arg>>,
        transaction: bool,
        buffers: bool,
        normal: Option<Vec<bool>>,
    ) -> Reply {
        let client = self.client.clone();
        let pipe = match pipeline(&cmds, transaction, normal.as_deref()) {
            Ok(p) => p,
            Err(e) => return Reply::Failure(e),
        };
        slots(
            redbridge::runtime::run(async move { client.pipeline(&pipe).await }).await,
            buffers,
        )
    }

    /// Leases a dedicated connection (WATCH … MULTI … EXEC); resolves with the lease or
    /// an Error.
    #[napi(ts_return_type = "Promise<NativeLease | Error>")]
    pub async fn lease(&self) -> Either<NativeLease, Reply> {
        let client = self.client.clone();
        match redbridge::runtime::run(async move { client.lease().await }).await {
            Ok(lease) => Either::A(NativeLease {
                lease: Arc::new(Mutex::new(Some(lease))),
            }),
            Err(e) => Either::B(Reply::Failure(e)),
        }
    }

    /// A SCAN-family iteration: kind is "keys", "set", "hash" or "zset".
    #[napi]
    pub fn scan(
        &self,
        kind: String,
        key: Option<Arg>,
        pattern: Option<Arg>,
        count: Option<u32>,
        key_type: Option<String>,
    ) -> Result<NativeScan> {
        let key = key.map(|k| bytes(&k).to_vec());
        let kind = ScanKind::parse(&kind, key).map_err(bad_config)?;
        let opts = ScanOptions {
            pattern: pattern.map(|p| bytes(&p).to_vec()),
            count: count.map(|c| c as usize),
            key_type,
        };
        let stream = self.client.scan(kind, opts).map_err(bad_config)?;
        Ok(NativeScan {
            stream: Arc::new(Mutex::new(Some(stream))),
        })
    }

    /// The core's counters.
    #[napi]
    pub fn stats(&self) -> HashMap<String, f64> {
        self.client
            .stats()
            .entries()
            .into_iter()
            .map(|(k, v)| (k, v as f64))
            .collect()
    }

    /// Per-node counters of a cluster client, by `host:port` (empty when standalone).
    #[napi]
    pub fn node_stats(&self) -> HashMap<String, HashMap<String, f64>> {
        self.client
            .stats()
            .nodes
            .into_iter()
            .map(|n| {
                let counters = n
                    .entries()
                    .into_iter()
                    .map(|(k, v)| (k, v as f64))
                    .collect();
                (n.addr, counters)
            })
            .collect()
    }

    /// Empties the client-side cache (no-op when it is off).
    #[napi]
    pub fn cache_clear(&self) {
        self.client.cache_clear();
    }

    /// Closes every connection; later calls fail with a connection error.
    #[napi]
    pub fn close(&self) {
        if let Some(c) = &self.crossing {
            c.io.0.close();
        }
        self.client.close();
    }
}

/// A Lua script for `NativeClient.submitScript`: its body and the SHA1 the core computed
/// once (node-redis's `defineScript`).
#[napi]
pub struct NativeScript {
    script: redbridge::Script,
}

#[napi]
impl NativeScript {
    /// `body` (the Lua source); `readOnly` runs it with EVALSHA_RO / EVAL_RO.
    #[napi(constructor)]
    pub fn new(body: Arg, read_only: bool) -> Self {
        NativeScript {
            script: redbridge::Script::new(bytes(&body)).read_only(read_only),
        }
    }

    /// The SHA1 of the body, 40 lower-case hex digits.
    #[napi(getter)]
    pub fn sha1(&self) -> String {
        self.script.sha().to_string()
    }
}

/// A leased dedicated connection.
#[napi]
pub struct NativeLease {
    lease: Arc<Mutex<Option<Lease>>>,
}

impl NativeLease {
    fn take(&self) -> redbridge::Result<Lease> {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).take().ok_or_else(|| {
            redbridge::Error::invalid("this connection was released, or a command on it is still running; await it first")
        })
    }
}

#[napi]
impl NativeLease {
    /// Runs one command on the leased connection (its reply in normal form when
    /// `normal`).
    #[napi]
    pub async fn execute(&self, args: Vec<Arg>, buffers: bool, normal: bool) -> Reply {
        let (mut lease, cmd) = match self
            .take()
            .and_then(|l| Ok((l, command(args.iter().map(bytes), normal)?)))
        {
            Ok(x) => x,
            Err(e) => return Reply::Failure(e),
        };
        let slot = self.lease.clone();
        let r = redbridge::runtime::run(async move {
            let r = lease.execute(&cmd).await;
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
            r
        })
        .await;
        value(r, buffers)
    }

    /// Runs a pipeline or transaction on the leased connection.
    #[napi]
    pub async fn pipeline(
        &self,
        cmds: Vec<Vec<Arg>>,
        transaction: bool,
        buffers: bool,
        normal: Option<Vec<bool>>,
    ) -> Reply {
        let (mut lease, pipe) = match self
            .take()
            .and_then(|l| Ok((l, pipeline(&cmds, transaction, normal.as_deref())?)))
        {
            Ok(x) => x,
            Err(e) => return Reply::Failure(e),
        };
        let slot = self.lease.clone();
        let r = redbridge::runtime::run(async move {
            let r = lease.pipeline(&pipe).await;
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
            r
        })
        .await;
        slots(r, buffers)
    }

    /// Returns the connection to the pool (after UNWATCH). Idempotent.
    #[napi]
    pub fn release(&self) {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// A SCAN-family iteration.
#[napi]
pub struct NativeScan {
    stream: Arc<Mutex<Option<ScanStream>>>,
}

#[napi]
impl NativeScan {
    /// The next non-empty page (an array), or null when the iteration is complete.
    #[napi]
    pub async fn next_batch(&self, buffers: bool) -> Reply {
        let taken = self.stream.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(mut stream) = taken else {
            return Reply::Failure(redbridge::Error::invalid(
                "a page of this scan is already being fetched; await it first",
            ));
        };
        let slot = self.stream.clone();
        let page = redbridge::runtime::run(async move {
            let page = stream.next_batch().await;
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(stream);
            page
        })
        .await;
        match page {
            Ok(Some(items)) => Reply::Value(Value::Array(items), buffers),
            Ok(None) => Reply::Value(Value::Nil, false),
            Err(e) => Reply::Failure(e),
        }
    }
}

/// The name the tracing channels may show for a command whose first argument is `first`
/// (the core's `command_word`: an argument passed inside the name is never shown).
#[napi]
pub fn command_word(first: Either<String, Buffer>) -> String {
    let bytes: &[u8] = match &first {
        Either::A(s) => s.as_bytes(),
        Either::B(b) => b,
    };
    redbridge::command::command_word(bytes).into_owned()
}
