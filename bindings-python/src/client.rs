//! `NativeClient`, `NativeLease`, `NativeScan`: the core's engines for the Python package.
//!
//! Sync methods release the GIL while they wait. `*_async` methods start the request on
//! the core runtime and settle an asyncio future through `loop.call_soon_threadsafe`;
//! they return a `Pending` whose `cancel()` drops the request (the core guarantees its
//! reply never reaches anyone else).

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use redbridge::{
    ConfigBuilder, Lease, Pipeline, ScanKind, ScanOptions, ScanStream, SyncClient, SyncLease,
    SyncScan,
};

use crate::conv;
use crate::error::{config_err, to_py_err};

/// The core client for one `redbridge.Redis` (sync or asyncio).
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct NativeClient {
    client: SyncClient,
    decode: conv::Decode,
    batch: Mutex<Option<LoopBatch>>,
}

/// The batched crossing for asyncio (docs/architecture.md, "Engines"): commands submitted from the loop go to the
/// core together, and the core wakes the loop through an eventfd (no GIL taken off the
/// loop's thread) so one `drain()` settles every reply that is in. Made per process: a
/// forked child gets its own.
struct LoopBatch {
    pid: u32,
    batcher: redbridge::Batcher,
    fd: Arc<EventFd>,
}

/// An eventfd owned by the batch; closed when the last holder lets go.
struct EventFd(i32);

impl EventFd {
    fn new() -> std::io::Result<EventFd> {
        // SAFETY: plain syscall; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(EventFd(fd))
    }

    fn signal(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a valid u64 to an fd this struct owns. A full
        // counter (EAGAIN) still leaves the fd readable, which is all a wake-up needs.
        unsafe { libc::write(self.0, (&one as *const u64).cast(), 8) };
    }

    fn clear(&self) {
        let mut n: u64 = 0;
        // SAFETY: reads 8 bytes into a valid u64; EAGAIN (nothing pending) is fine.
        unsafe { libc::read(self.0, (&mut n as *mut u64).cast(), 8) };
    }
}

impl Drop for EventFd {
    fn drop(&mut self) {
        // SAFETY: the fd is owned by this struct and closed once.
        unsafe { libc::close(self.0) };
    }
}

impl NativeClient {
    /// `f` on the loop batch, if one was made (`batch_fd`); `T::default()` if not.
    fn with_batch<T: Default>(&self, f: impl FnOnce(&redbridge::Batcher) -> T) -> T {
        let slot = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        slot.as_ref().map(|b| f(&b.batcher)).unwrap_or_default()
    }

    /// Completions as the flat list `[tag, ok, value, …]` that `drain()` returns.
    fn settled(&self, py: Python<'_>, done: Vec<redbridge::Completion>) -> PyResult<Py<PyList>> {
        check_warnings(py)?;
        let out = PyList::empty(py);
        for (tag, result) in done {
            out.append(tag)?;
            let converted = result
                .map_err(|e| to_py_err(py, &e))
                .and_then(|done| match done {
                    redbridge::Done::Reply(v) => conv::to_py(py, v, self.decode),
                    redbridge::Done::Slots(slots) => conv::slots(py, slots, self.decode),
                    redbridge::Done::Page(Some(items)) => {
                        conv::to_py(py, redbridge::Value::Array(items), self.decode)
                    }
                    redbridge::Done::Page(None) => Ok(py.None()),
                });
            match converted {
                Ok(v) => {
                    out.append(true)?;
                    out.append(v)?;
                }
                Err(e) => {
                    out.append(false)?;
                    out.append(e.into_value(py))?;
                }
            }
        }
        Ok(out.unbind())
    }
}

/// A started async request; `cancel()` drops it.
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct Pending {
    handle: redbridge::runtime::AbortHandle,
}

#[pymethods]
impl Pending {
    /// Drops the request if it is still running.
    fn cancel(&self) {
        self.handle.abort();
    }
}

/// Runs `work` on the core runtime, converts its result with the GIL, and settles the
/// asyncio future `fut` on its loop's thread through the package's
/// `settle_fn(fut, ok, value)`. The one bridge of every `*_async` method (client, lease,
/// scan, monitor, pub/sub, sentinel). Once the interpreter is shutting down nothing is
/// settled: a runtime thread must not take the GIL then (CPython may end such a thread
/// in the middle of the call).
pub(crate) fn spawn_settled<T, W, C>(
    work: W,
    convert: C,
    loop_: Py<PyAny>,
    fut: Py<PyAny>,
    settle_fn: Py<PyAny>,
) -> Pending
where
    T: Send + 'static,
    W: std::future::Future<Output = redbridge::Result<T>> + Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    let handle = redbridge::runtime::spawn(async move {
        let result = work.await;
        Python::try_attach(|py| {
            let (ok, value) = match result
                .map_err(|e| to_py_err(py, &e))
                .and_then(|v| convert(py, v))
            {
                Ok(v) => (true, v),
                Err(e) => (false, e.into_value(py).into_any()),
            };
            // The loop may be closed already (the caller gave up): nothing to settle then.
            let _ = loop_.call_method1(py, "call_soon_threadsafe", (settle_fn, fut, ok, value));
        });
    });
    Pending { handle }
}

/// A script run: the script, its keys, its arguments.
type ScriptCall = (redbridge::Script, Vec<Vec<u8>>, Vec<Vec<u8>>);

/// A script call from Python: the script's body (str or bytes) and its keys and
/// arguments (iterables of values redis-py's encoder takes). The core hashes the body.
fn script_call(
    script: &Bound<'_, PyAny>,
    keys: &Bound<'_, PyAny>,
    args: &Bound<'_, PyAny>,
) -> PyResult<ScriptCall> {
    let mut body = Vec::with_capacity(1);
    conv::encode(script, &mut body)?;
    let script = redbridge::Script::new(body.pop().unwrap_or_default());
    let owned = |values: &Bound<'_, PyAny>| -> PyResult<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        for v in values.try_iter()? {
            let v = v?;
            let mut one = Vec::with_capacity(1);
            conv::encode(&v, &mut one)?;
            out.extend(one.into_iter().map(|a| a.into_owned()));
        }
        Ok(out)
    };
    Ok((script, owned(keys)?, owned(args)?))
}

fn commands(py: Python<'_>, list: &Bound<'_, PyList>, transaction: bool) -> PyResult<Pipeline> {
    let mut pipe = Pipeline::new(transaction);
    for item in list.iter() {
        let args = item.cast::<PyTuple>().map_err(|_| {
            to_py_err(
                py,
                &redbridge::Error::invalid("each pipeline command must be a tuple of arguments"),
            )
        })?;
        pipe.add(conv::command(args)?);
    }
    Ok(pipe)
}

#[pymethods]
impl NativeClient {
    /// `url` (optional) then `options` as (name, value) strings, the core's option names;
    /// `warn(message)` receives guard warnings.
    #[new]
    /// `decode` and `encoding_errors` are redis-py's `decode_responses` and its handler
    /// for invalid UTF-8 ("strict", "replace", "ignore", "backslashreplace",
    /// "surrogateescape").
    #[pyo3(signature = (url, options, decode, warn=None, encoding_errors="strict"))]
    fn new(
        py: Python<'_>,
        url: Option<&str>,
        options: Vec<(String, String)>,
        decode: bool,
        warn: Option<Py<PyAny>>,
        encoding_errors: &str,
    ) -> PyResult<Self> {
        let decode = conv::Decode::new(decode, encoding_errors).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(
                "encoding_errors must be one of 'strict', 'replace', 'ignore', \
                 'backslashreplace', 'surrogateescape'",
            )
        })?;
        let mut builder = match url {
            Some(u) => ConfigBuilder::from_url(u).map_err(|e| config_err(&e))?,
            None => ConfigBuilder::default(),
        };
        for (k, v) in &options {
            builder.set_option(k, v).map_err(|e| config_err(&e))?;
        }
        if let Some(warn) = warn {
            builder = builder.on_warning(move |w| {
                // Not while the interpreter shuts down (see `spawn_settled`).
                Python::try_attach(|py| {
                    if let Err(e) = warn.call1(py, (w.message.clone(),)) {
                        // A warnings filter set to "error" raises: surface it later.
                        e.restore(py);
                    }
                });
            });
        }
        let config = builder.build().map_err(|e| config_err(&e))?;
        // Without the GIL: a Sentinel client finds its node first, on the runtime, whose
        // threads may be waiting for the GIL to hand another call's reply to asyncio.
        let client = py
            .detach(|| SyncClient::new(config))
            .map_err(|e| config_err(&e))?;
        Ok(NativeClient {
            client,
            decode,
            batch: Mutex::new(None),
        })
    }

    /// The eventfd that becomes readable when submitted commands have replies: the
    /// asyncio loop watches it (`add_reader`) and calls `drain()`.
    fn batch_fd(&self) -> PyResult<i32> {
        let mut slot = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        let pid = std::process::id();
        if let Some(b) = slot.as_ref().filter(|b| b.pid == pid) {
            return Ok(b.fd.0);
        }
        let fd = Arc::new(EventFd::new().map_err(|e| {
            pyo3::exceptions::PyOSError::new_err(format!("cannot make the asyncio wake-up fd: {e}"))
        })?);
        let wake = Arc::clone(&fd);
        // The loop also carries lone requests itself when the core says it may (a
        // standalone plain server, no cache): `loop_watch` and the `loop_*` calls.
        let batcher =
            redbridge::Batcher::with_loop_io(self.client.async_client().clone(), move |_| {
                wake.signal()
            });
        let raw = fd.0;
        *slot = Some(LoopBatch { pid, batcher, fd });
        Ok(raw)
    }

    /// Queues one command for the batched crossing; its reply comes out of `drain()`
    /// with `tag`. Returns None; or `(reply,)` when the client-side cache answered it at
    /// once (nothing comes out of `drain()` for it then). Bad arguments raise here.
    fn submit(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        tag: u64,
    ) -> PyResult<Option<Py<PyTuple>>> {
        let cmd = conv::command(args)?;
        let slot = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        let Some(b) = slot.as_ref() else {
            return Err(to_py_err(
                py,
                &redbridge::Error::invalid("call batch_fd() before submit()"),
            ));
        };
        match b.batcher.submit(tag, cmd) {
            None => Ok(None),
            Some(hit) => {
                drop(slot);
                let value = conv::to_py(py, hit, self.decode)?;
                Ok(Some(PyTuple::new(py, [value])?.unbind()))
            }
        }
    }

    /// `submit` for a pipeline (a list of argument tuples); its value out of `drain()` is
    /// one slot per command, as `pipeline()` gives.
    fn submit_pipeline(
        &self,
        py: Python<'_>,
        cmds: &Bound<'_, PyList>,
        transaction: bool,
        tag: u64,
    ) -> PyResult<()> {
        let pipe = commands(py, cmds, transaction)?;
        self.batched(py, "submit_pipeline", |b| b.submit_pipeline(tag, pipe))
    }

    /// `submit` for the next page of an asyncio scan; its value out of `drain()` is the
    /// page (a list), or None when the scan is complete.
    fn submit_scan(
        &self,
        py: Python<'_>,
        scan: PyRef<'_, NativeAsyncScan>,
        tag: u64,
    ) -> PyResult<()> {
        self.batched(py, "submit_scan", |b| {
            b.submit_scan(tag, scan.stream.clone())
        })
    }

    /// `submit` for a Lua script run by its SHA1 (`eval_script`): its value out of
    /// `drain()` is the script's reply.
    fn submit_script(
        &self,
        py: Python<'_>,
        script: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
        tag: u64,
    ) -> PyResult<()> {
        let (script, keys, args) = script_call(script, keys, args)?;
        self.batched(py, "submit_script", |b| {
            b.submit_script(tag, script, keys, args)
        })
    }

    /// Every reply since the last drain as a flat list `[tag, ok, value, …]`; `value`
    /// is the reply, or the exception instance when `ok` is False.
    fn drain(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let done = {
            let slot = self.batch.lock().unwrap_or_else(|e| e.into_inner());
            match slot.as_ref() {
                Some(b) => {
                    b.fd.clear();
                    b.batcher.drain()
                }
                None => Vec::new(),
            }
        };
        self.settled(py, done)
    }

    /// What the loop must watch for its own connection (docs/architecture.md, "Engines"):
    /// `(fd, seq, timeout, flush)`: the socket to read (-1: none), the oldest request in
    /// flight on it and the seconds left before its deadline (None: none, or no limit),
    /// and whether requests wait for `loop_flush()` at the end of this turn.
    fn loop_watch(&self) -> (i32, Option<u64>, Option<f64>, bool) {
        let w = self.with_batch(|b| b.loop_watch());
        let (seq, left) = match w.in_flight {
            Some((seq, left)) => (Some(seq), left.map(|d| d.as_secs_f64())),
            None => (None, None),
        };
        (w.fd.unwrap_or(-1), seq, left, w.candidates)
    }

    /// At the end of a turn of the loop (when `loop_watch` says so): this turn's requests
    /// written on the loop's own connection; completions as `drain()` gives them.
    fn loop_flush(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let done = self.with_batch(|b| b.flush_loop());
        self.settled(py, done)
    }

    /// When the loop's socket is readable: the requests whose replies are in.
    fn loop_readable(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let done = self.with_batch(|b| b.on_readable());
        self.settled(py, done)
    }

    /// When the oldest request in flight (`seq`, from `loop_watch`) has waited its
    /// timeout: it fails, and the connection is retired.
    fn loop_timeout(&self, py: Python<'_>, seq: u64) -> PyResult<Py<PyList>> {
        let done = self.with_batch(|b| b.on_timeout(seq));
        self.settled(py, done)
    }

    /// After the loop stopped watching a socket (`remove_reader`): connections retired
    /// since may be closed now, their descriptor numbers no longer watched.
    fn loop_release(&self) {
        self.with_batch(|b| b.release_retired());
    }

    /// The client closes on its loop: what is in flight on the loop's connection fails.
    fn loop_close(&self, py: Python<'_>) -> PyResult<Py<PyList>> {
        let done = self.with_batch(|b| {
            let done = b.close_loop_io();
            b.release_retired();
            done
        });
        self.settled(py, done)
    }

    /// Runs one command and returns its reply in the core's normal form (GIL released
    /// while waiting).
    fn execute(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        self.run(py, conv::command(args)?)
    }

    /// [`Self::execute`] with the reply as the server sent it (RESP2 or RESP3 shape).
    fn execute_raw(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        self.run(py, conv::raw_command(args)?)
    }

    /// [`Self::execute`] with strings kept as bytes whatever `decode_responses` says
    /// (redis-py's NEVER_DECODE: DUMP's serialized value is binary).
    fn execute_bytes(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        self.run_decoded(py, conv::command(args)?, conv::Decode::Bytes)
    }

    /// [`Self::execute_async`] with strings kept as bytes (see [`Self::execute_bytes`]).
    fn execute_bytes_async(
        &self,
        args: &Bound<'_, PyTuple>,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        self.start(args, conv::Decode::Bytes, loop_, fut, settle_fn)
    }

    /// Starts one command on the core runtime; settles `fut` on `loop` when done.
    fn execute_async(
        &self,
        args: &Bound<'_, PyTuple>,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        self.start(args, self.decode, loop_, fut, settle_fn)
    }

    /// Runs a Lua script (its body, str or bytes) with `keys` and `args` by its SHA1:
    /// the core sends EVALSHA, and EVAL with the body only on NOSCRIPT. Returns the
    /// script's reply (GIL released while waiting).
    fn eval_script(
        &self,
        py: Python<'_>,
        script: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let (script, keys, args) = script_call(script, keys, args)?;
        let result = py.detach(|| self.client.eval_script(&script, &keys, &args));
        check_warnings(py)?;
        match result {
            Ok(v) => conv::to_py(py, v, self.decode),
            Err(e) => Err(to_py_err(py, &e)),
        }
    }

    /// The async form of [`NativeClient::eval_script`] (an asyncio loop's own batch is
    /// `submit_script`).
    fn eval_script_async(
        &self,
        script: &Bound<'_, PyAny>,
        keys: &Bound<'_, PyAny>,
        args: &Bound<'_, PyAny>,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        let (script, keys, args) = script_call(script, keys, args)?;
        let client = self.client.async_client().clone();
        let decode = self.decode;
        Ok(spawn_settled(
            async move { client.eval_script(&script, &keys, &args).await },
            move |py, v| conv::to_py(py, v, decode),
            loop_,
            fut,
            settle_fn,
        ))
    }

    /// Sends commands (a list of argument tuples) as one pipeline; returns one slot per
    /// command: its reply, or an exception instance.
    fn pipeline(
        &self,
        py: Python<'_>,
        cmds: &Bound<'_, PyList>,
        transaction: bool,
    ) -> PyResult<Py<PyAny>> {
        let pipe = commands(py, cmds, transaction)?;
        let result = py.detach(|| self.client.pipeline(&pipe));
        match result {
            Ok(slots) => conv::slots(py, slots, self.decode),
            Err(e) => Err(to_py_err(py, &e)),
        }
    }

    /// The async form of [`NativeClient::pipeline`].
    fn pipeline_async(
        &self,
        py: Python<'_>,
        cmds: &Bound<'_, PyList>,
        transaction: bool,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        let pipe = commands(py, cmds, transaction)?;
        let client = self.client.async_client().clone();
        let decode = self.decode;
        Ok(spawn_settled(
            async move { client.pipeline(&pipe).await },
            move |py, slots| conv::slots(py, slots, decode),
            loop_,
            fut,
            settle_fn,
        ))
    }

    /// Leases a dedicated connection (for WATCH … MULTI … EXEC).
    fn lease(&self, py: Python<'_>) -> PyResult<NativeLease> {
        match py.detach(|| self.client.lease()) {
            Ok(lease) => Ok(NativeLease {
                lease: Mutex::new(Some(lease)),
                decode: self.decode,
            }),
            Err(e) => Err(to_py_err(py, &e)),
        }
    }

    /// Leases a dedicated connection on the core runtime; settles `fut` with a
    /// `NativeAsyncLease` (asyncio WATCH … MULTI … EXEC).
    fn lease_async(
        &self,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        let client = self.client.async_client().clone();
        let decode = self.decode;
        Ok(spawn_settled(
            async move { client.lease().await },
            move |py, lease| {
                let lease = Arc::new(Mutex::new(Some(lease)));
                Py::new(py, NativeAsyncLease { lease, decode }).map(Py::into_any)
            },
            loop_,
            fut,
            settle_fn,
        ))
    }

    /// A SCAN-family iteration: kind is "keys", "set", "hash" or "zset".
    #[pyo3(signature = (kind, key=None, pattern=None, count=None, key_type=None))]
    fn scan(
        &self,
        py: Python<'_>,
        kind: &str,
        key: Option<&Bound<'_, PyAny>>,
        pattern: Option<&Bound<'_, PyAny>>,
        count: Option<usize>,
        key_type: Option<String>,
    ) -> PyResult<NativeScan> {
        let (kind, opts) = scan_spec(py, kind, key, pattern, count, key_type)?;
        let scan = self
            .client
            .scan(kind, opts)
            .map_err(|e| to_py_err(py, &e))?;
        Ok(NativeScan {
            scan: Mutex::new(scan),
            decode: self.decode,
        })
    }

    /// The asyncio form of [`NativeClient::scan`].
    #[pyo3(signature = (kind, key=None, pattern=None, count=None, key_type=None))]
    fn scan_async(
        &self,
        py: Python<'_>,
        kind: &str,
        key: Option<&Bound<'_, PyAny>>,
        pattern: Option<&Bound<'_, PyAny>>,
        count: Option<usize>,
        key_type: Option<String>,
    ) -> PyResult<NativeAsyncScan> {
        let (kind, opts) = scan_spec(py, kind, key, pattern, count, key_type)?;
        let stream = self
            .client
            .async_client()
            .scan(kind, opts)
            .map_err(|e| to_py_err(py, &e))?;
        Ok(NativeAsyncScan {
            stream: Arc::new(Mutex::new(Some(stream))),
            decode: self.decode,
        })
    }

    /// The core's counters as a dict.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (k, v) in self.client.stats().entries() {
            d.set_item(k, v)?;
        }
        Ok(d)
    }

    /// Per-node counters of a cluster client, by `host:port` (empty when standalone).
    fn node_stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for node in self.client.stats().nodes {
            let counters = PyDict::new(py);
            for (k, v) in node.entries() {
                counters.set_item(k, v)?;
            }
            d.set_item(node.addr, counters)?;
        }
        Ok(d)
    }

    /// Empties the client-side cache (no-op when it is off).
    fn cache_clear(&self, py: Python<'_>) {
        py.detach(|| self.client.cache_clear());
    }

    /// Closes every connection; later calls raise ConnectionError. Without the GIL
    /// (closing waits for locks the runtime's threads may hold while they wait for it).
    fn close(&self, py: Python<'_>) {
        py.detach(|| self.client.close());
    }
}

impl NativeClient {
    /// The core client (for the objects made from it: subscribers).
    pub(crate) fn core(&self) -> &SyncClient {
        &self.client
    }

    /// Starts one command on the core runtime, its reply decoded as `decode` says;
    /// settles `fut` on `loop_` when done.
    fn start(
        &self,
        args: &Bound<'_, PyTuple>,
        decode: conv::Decode,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        let cmd = conv::command(args)?;
        let client = self.client.async_client().clone();
        Ok(spawn_settled(
            async move { client.execute(&cmd).await },
            move |py, v| conv::to_py(py, v, decode),
            loop_,
            fut,
            settle_fn,
        ))
    }

    /// Hands a request to the asyncio loop's batch (`what` names the caller in the error
    /// when `batch_fd()` was not called first).
    fn batched(
        &self,
        py: Python<'_>,
        what: &str,
        submit: impl FnOnce(&redbridge::Batcher),
    ) -> PyResult<()> {
        let slot = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        match slot.as_ref() {
            Some(b) => {
                submit(&b.batcher);
                Ok(())
            }
            None => Err(to_py_err(
                py,
                &redbridge::Error::invalid(format!("call batch_fd() before {what}()")),
            )),
        }
    }

    /// One command on the sync engine, the GIL released while it waits.
    fn run(&self, py: Python<'_>, cmd: redbridge::Command) -> PyResult<Py<PyAny>> {
        self.run_decoded(py, cmd, self.decode)
    }

    /// [`Self::run`], strings decoded to str when `decode`.
    fn run_decoded(
        &self,
        py: Python<'_>,
        cmd: redbridge::Command,
        decode: conv::Decode,
    ) -> PyResult<Py<PyAny>> {
        let result = py.detach(|| self.client.execute(&cmd));
        check_warnings(py)?;
        match result {
            Ok(v) => conv::to_py(py, v, decode),
            Err(e) => Err(to_py_err(py, &e)),
        }
    }
}

/// Parses the SCAN arguments shared by the sync and async iterators.
fn scan_spec(
    py: Python<'_>,
    kind: &str,
    key: Option<&Bound<'_, PyAny>>,
    pattern: Option<&Bound<'_, PyAny>>,
    count: Option<usize>,
    key_type: Option<String>,
) -> PyResult<(ScanKind, ScanOptions)> {
    let one = |v: Option<&Bound<'_, PyAny>>| -> PyResult<Option<Vec<u8>>> {
        match v {
            None => Ok(None),
            Some(v) => {
                let mut out = Vec::new();
                conv::encode(v, &mut out)?;
                Ok(out.pop().map(|a| a.into_owned()))
            }
        }
    };
    let kind = ScanKind::parse(kind, one(key)?).map_err(|e| to_py_err(py, &e))?;
    Ok((
        kind,
        ScanOptions {
            pattern: one(pattern)?,
            count,
            key_type,
        },
    ))
}

/// A guard warning raised as an exception by a `warnings` filter is raised here.
fn check_warnings(py: Python<'_>) -> PyResult<()> {
    match PyErr::take(py) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// A leased dedicated connection.
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct NativeLease {
    lease: Mutex<Option<SyncLease>>,
    decode: conv::Decode,
}

impl NativeLease {
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut SyncLease) -> redbridge::Result<T> + Send,
    ) -> PyResult<T> {
        let result = py.detach(|| {
            let mut guard = self.lease.lock().unwrap_or_else(|p| p.into_inner());
            match guard.as_mut() {
                Some(lease) => f(lease),
                None => Err(redbridge::Error::invalid(
                    "this connection was already released",
                )),
            }
        });
        result.map_err(|e| to_py_err(py, &e))
    }
}

#[pymethods]
impl NativeLease {
    /// Runs one command on the leased connection.
    fn execute(&self, py: Python<'_>, args: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let cmd = conv::command(args)?;
        let v = self.with(py, |l| l.execute(&cmd))?;
        conv::to_py(py, v, self.decode)
    }

    /// Runs a pipeline or transaction on the leased connection.
    fn pipeline(
        &self,
        py: Python<'_>,
        cmds: &Bound<'_, PyList>,
        transaction: bool,
    ) -> PyResult<Py<PyAny>> {
        let pipe = commands(py, cmds, transaction)?;
        let slots = self.with(py, |l| l.pipeline(&pipe))?;
        conv::slots(py, slots, self.decode)
    }

    /// Returns the connection to the pool (after UNWATCH). Idempotent.
    fn release(&self) {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}

/// A SCAN-family iteration.
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct NativeScan {
    scan: Mutex<SyncScan>,
    decode: conv::Decode,
}

#[pymethods]
impl NativeScan {
    /// The next non-empty page (a list), or None when the iteration is complete.
    fn next_batch(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let page = py.detach(|| {
            self.scan
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .next_batch()
        });
        match page {
            Ok(Some(items)) => conv::to_py(py, redbridge::Value::Array(items), self.decode),
            Ok(None) => Ok(py.None()),
            Err(e) => Err(to_py_err(py, &e)),
        }
    }
}

/// An asyncio SCAN-family iteration.
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct NativeAsyncScan {
    stream: Arc<Mutex<Option<ScanStream>>>,
    decode: conv::Decode,
}

#[pymethods]
impl NativeAsyncScan {
    /// Fetches the next page on the core runtime; settles `fut` with a list, or None
    /// when the iteration is complete.
    fn next_batch_async(
        &self,
        py: Python<'_>,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        let taken = self.stream.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(mut stream) = taken else {
            return Err(to_py_err(
                py,
                &redbridge::Error::invalid(
                    "a page of this scan is already being fetched; await it first",
                ),
            ));
        };
        let slot = self.stream.clone();
        let decode = self.decode;
        let work = async move {
            let page = stream.next_batch().await;
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(stream);
            page
        };
        Ok(spawn_settled(
            work,
            move |py, page| match page {
                Some(items) => conv::to_py(py, redbridge::Value::Array(items), decode),
                None => Ok(py.None()),
            },
            loop_,
            fut,
            settle_fn,
        ))
    }
}

/// A leased dedicated connection for asyncio callers.
#[pyclass(frozen, module = "redbridge._redbridge")]
pub struct NativeAsyncLease {
    lease: Arc<Mutex<Option<Lease>>>,
    decode: conv::Decode,
}

/// What an async lease call sends.
enum LeaseCall {
    One(redbridge::Command),
    Many(Pipeline),
}

impl NativeAsyncLease {
    fn start(
        &self,
        py: Python<'_>,
        call: LeaseCall,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        let single = matches!(call, LeaseCall::One(_));
        let taken = self.lease.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(mut lease) = taken else {
            return Err(to_py_err(
                py,
                &redbridge::Error::invalid(
                    "this connection was released, or a command on it is still running; await it first",
                ),
            ));
        };
        let slot = self.lease.clone();
        let decode = self.decode;
        let work = async move {
            let result = match call {
                LeaseCall::One(cmd) => lease.execute(&cmd).await.map(|v| vec![Ok(v)]),
                LeaseCall::Many(pipe) => lease.pipeline(&pipe).await,
            };
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(lease);
            result.map(|slots| (single, slots))
        };
        Ok(spawn_settled(
            work,
            move |py, (single, slots): (bool, Vec<redbridge::Result<redbridge::Value>>)| {
                if single {
                    match slots.into_iter().next() {
                        Some(Ok(v)) => conv::to_py(py, v, decode),
                        Some(Err(e)) => Err(to_py_err(py, &e)),
                        None => Ok(py.None()),
                    }
                } else {
                    conv::slots(py, slots, decode)
                }
            },
            loop_,
            fut,
            settle_fn,
        ))
    }
}

#[pymethods]
impl NativeAsyncLease {
    /// Runs one command on the leased connection; settles `fut` with the reply.
    fn execute_async(
        &self,
        py: Python<'_>,
        args: &Bound<'_, PyTuple>,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        let cmd = conv::command(args)?;
        self.start(py, LeaseCall::One(cmd), loop_, fut, settle_fn)
    }

    /// Runs a pipeline or transaction on the leased connection; settles `fut` with slots.
    fn pipeline_async(
        &self,
        py: Python<'_>,
        cmds: &Bound<'_, PyList>,
        transaction: bool,
        loop_: Py<PyAny>,
        fut: Py<PyAny>,
        settle_fn: Py<PyAny>,
    ) -> PyResult<Pending> {
        let pipe = commands(py, cmds, transaction)?;
        self.start(py, LeaseCall::Many(pipe), loop_, fut, settle_fn)
    }

    /// Returns the connection to the pool (after UNWATCH). Idempotent.
    fn release(&self) {
        self.lease.lock().unwrap_or_else(|p| p.into_inner()).take();
    }
}
