//! The JS thread's own connection (docs/architecture.md, "Engines"): a lone request is written by the JS
//! thread and its reply read there when libuv reports the socket readable, so it pays
//! no thread hop. The core decides which requests go this way and what their replies
//! mean ([`Batcher::with_loop_io`]); this module only keeps a libuv poller and timer in
//! step with [`Batcher::loop_watch`] and hands completions to the package's
//! `settleArgs`, as the batched crossing hands them to `settleBatch`.
//!
//! libuv's functions are Node's own (exported by the `node` executable, as for any
//! addon built with node-gyp); handle types and sizes come from libuv at run time.

use std::alloc::Layout;
use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::ptr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use napi::sys;
use redbridge::{Batcher, Completion};

use crate::{check, completion_values, KeepAlive};

/// `uv_handle_type` values (uv.h: UV_UNKNOWN_HANDLE = 0, then ASYNC, CHECK, FS_EVENT,
/// FS_POLL, HANDLE, IDLE, NAMED_PIPE, POLL, PREPARE, PROCESS, STREAM, TCP, TIMER).
const UV_CHECK: c_int = 2;
const UV_IDLE: c_int = 6;
const UV_POLL: c_int = 8;
const UV_TIMER: c_int = 13;
const UV_READABLE: c_int = 1;

type Handle = *mut c_void;

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(lp: *mut sys::uv_loop_s, h: Handle, fd: c_int) -> c_int;
    fn uv_poll_start(
        h: Handle,
        events: c_int,
        cb: unsafe extern "C" fn(Handle, c_int, c_int),
    ) -> c_int;
    fn uv_poll_stop(h: Handle) -> c_int;
    fn uv_timer_init(lp: *mut sys::uv_loop_s, h: Handle) -> c_int;
    fn uv_timer_start(
        h: Handle,
        cb: unsafe extern "C" fn(Handle),
        timeout: u64,
        repeat: u64,
    ) -> c_int;
    fn uv_timer_stop(h: Handle) -> c_int;
    fn uv_check_init(lp: *mut sys::uv_loop_s, h: Handle) -> c_int;
    fn uv_check_start(h: Handle, cb: unsafe extern "C" fn(Handle)) -> c_int;
    fn uv_check_stop(h: Handle) -> c_int;
    fn uv_idle_init(lp: *mut sys::uv_loop_s, h: Handle) -> c_int;
    fn uv_idle_start(h: Handle, cb: unsafe extern "C" fn(Handle)) -> c_int;
    fn uv_idle_stop(h: Handle) -> c_int;
    fn uv_close(h: Handle, cb: Option<unsafe extern "C" fn(Handle)>);
    fn uv_unref(h: Handle);
}

/// The most arguments one `settleArgs` call gets (an even number: tag and reply pairs).
const MAX_ARGS: usize = 1024;

fn layout(kind: c_int) -> Layout {
    // SAFETY: uv_handle_size only reads a table.
    let size = unsafe { uv_handle_size(kind) };
    Layout::from_size_align(size.max(8), 16).expect("a handle's size is small")
}

/// A zeroed handle of `kind` whose `data` (its first field) points at `io`.
unsafe fn new_handle(kind: c_int, io: *const LoopIo) -> Handle {
    let h = std::alloc::alloc_zeroed(layout(kind)) as Handle;
    if h.is_null() {
        std::alloc::handle_alloc_error(layout(kind));
    }
    *(h as *mut *const LoopIo) = io;
    h
}

unsafe extern "C" fn free_poll(h: Handle) {
    std::alloc::dealloc(h as *mut u8, layout(UV_POLL));
}

unsafe extern "C" fn free_timer(h: Handle) {
    std::alloc::dealloc(h as *mut u8, layout(UV_TIMER));
}

unsafe extern "C" fn free_check(h: Handle) {
    std::alloc::dealloc(h as *mut u8, layout(UV_CHECK));
}

unsafe extern "C" fn free_idle(h: Handle) {
    std::alloc::dealloc(h as *mut u8, layout(UV_IDLE));
}

/// One client's poller and timer; lives (boxed, at a fixed address) as long as its
/// `NativeClient`, and only on the JS thread.
pub(crate) struct LoopIo {
    env: sys::napi_env,
    lp: *mut sys::uv_loop_s,
    batcher: Batcher,
    keep_alive: Arc<KeepAlive>,
    settle: sys::napi_ref,
    ctx: sys::napi_async_context,
    poll: Cell<Handle>,
    poll_fd: Cell<Option<c_int>>,
    timer: Handle,
    timer_seq: Cell<Option<u64>>,
    /// The end of this turn of the loop (check phase, after I/O callbacks; idle phase,
    /// after timers, which also keeps the poll from blocking): `flush_loop` runs there.
    check: Handle,
    idle: Handle,
    flush_armed: Cell<bool>,
    /// Keeps the loop turning (its poll not blocking) while the core says a reply is
    /// due soon ([`redbridge::LoopWatch::spin_until`]), until `spin_until`.
    spin: Handle,
    spin_until: Cell<Option<Instant>>,
    closed: Cell<bool>,
}

impl LoopIo {
    /// Sets up the timer (the poller comes with the first connection). `settle` is the
    /// package's `settleArgs`.
    pub(crate) unsafe fn new(
        env: sys::napi_env,
        batcher: Batcher,
        keep_alive: Arc<KeepAlive>,
        settle: sys::napi_value,
    ) -> napi::Result<Box<LoopIo>> {
        let mut lp = ptr::null_mut();
        check(sys::napi_get_uv_event_loop(env, &mut lp))?;
        let mut settle_ref = ptr::null_mut();
        check(sys::napi_create_reference(env, settle, 1, &mut settle_ref))?;
        let mut resource = ptr::null_mut();
        check(sys::napi_create_object(env, &mut resource))?;
        let mut name = ptr::null_mut();
        check(sys::napi_create_string_utf8(
            env,
            c"redbridge:reply".as_ptr(),
            15,
            &mut name,
        ))?;
        let mut ctx = ptr::null_mut();
        check(sys::napi_async_init(env, resource, name, &mut ctx))?;
        let mut io = Box::new(LoopIo {
            env,
            lp,
            batcher,
            keep_alive,
            settle: settle_ref,
            ctx,
            poll: Cell::new(ptr::null_mut()),
            poll_fd: Cell::new(None),
            timer: ptr::null_mut(),
            timer_seq: Cell::new(None),
            check: ptr::null_mut(),
            idle: ptr::null_mut(),
            flush_armed: Cell::new(false),
            spin: ptr::null_mut(),
            spin_until: Cell::new(None),
            closed: Cell::new(false),
        });
        let timer = new_handle(UV_TIMER, &*io);
        uv_timer_init(lp, timer);
        // Requests in flight keep the loop alive through the settle function's
        // reference count; libuv's handles never do.
        uv_unref(timer);
        io.timer = timer;
        let check = new_handle(UV_CHECK, &*io);
        uv_check_init(lp, check);
        uv_unref(check);
        io.check = check;
        let idle = new_handle(UV_IDLE, &*io);
        uv_idle_init(lp, idle);
        uv_unref(idle);
        io.idle = idle;
        let spin = new_handle(UV_IDLE, &*io);
        uv_idle_init(lp, spin);
        uv_unref(spin);
        io.spin = spin;
        io.keep_alive
            .loop_io
            .store(&*io as *const LoopIo as *mut LoopIo, Ordering::Relaxed);
        Ok(io)
    }

    /// Brings the poller and the timer in step with the core after any call into it.
    pub(crate) fn sync(&self) {
        if self.closed.get() {
            return;
        }
        let watch = self.batcher.loop_watch();
        // SAFETY: on the JS thread, with handles this struct owns.
        unsafe {
            if watch.candidates && !self.flush_armed.replace(true) {
                uv_check_start(self.check, on_turn_end);
                uv_idle_start(self.idle, on_turn_end);
            }
            if watch.fd != self.poll_fd.get() {
                self.stop_poll();
                self.batcher.release_retired();
                if let Some(fd) = watch.fd {
                    let h = new_handle(UV_POLL, self);
                    if uv_poll_init(self.lp, h, fd) == 0 {
                        uv_poll_start(h, UV_READABLE, on_readable);
                        uv_unref(h);
                        self.poll.set(h);
                        self.poll_fd.set(Some(fd));
                    } else {
                        free_poll(h);
                    }
                }
            }
            match watch.spin_until {
                Some(until) if until > Instant::now() => {
                    if self.spin_until.replace(Some(until)).is_none() {
                        uv_idle_start(self.spin, on_spin);
                    }
                }
                _ => self.stop_spin(),
            }
            match watch.in_flight {
                Some((seq, timeout)) if self.timer_seq.get() != Some(seq) => {
                    self.timer_seq.set(Some(seq));
                    uv_timer_stop(self.timer);
                    if let Some(t) = timeout {
                        let ms = t.as_millis().clamp(1, u64::MAX as u128) as u64;
                        uv_timer_start(self.timer, on_timer, ms, 0);
                    }
                }
                Some(_) => {}
                None => {
                    if self.timer_seq.take().is_some() {
                        uv_timer_stop(self.timer);
                    }
                }
            }
        }
    }

    /// After a submit: a request staged for this turn arms the end-of-turn flush; nothing
    /// else a submit does changes what the loop watches, so an armed flush needs no sync.
    pub(crate) fn after_submit(&self) {
        if !self.flush_armed.get() {
            self.sync();
        }
    }

    unsafe fn stop_spin(&self) {
        if self.spin_until.take().is_some() {
            uv_idle_stop(self.spin);
        }
    }

    unsafe fn stop_poll(&self) {
        let h = self.poll.replace(ptr::null_mut());
        if !h.is_null() {
            // Stopping takes the socket out of libuv's epoll set at once, so the core
            // may close it after this.
            uv_poll_stop(h);
            uv_close(h, Some(free_poll));
        }
        self.poll_fd.set(None);
    }

    /// Hands completions to `settleArgs` on the JS thread, as a macrotask callback
    /// (microtasks run after it): `tag, reply, …` as its arguments, at most
    /// `MAX_ARGS` per call.
    unsafe fn settle(&self, done: Vec<Completion>) {
        if done.is_empty() {
            return;
        }
        let env = self.env;
        self.keep_alive.add(env, -(done.len() as isize));
        let mut scope = ptr::null_mut();
        if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
            return;
        }
        let _ = (|| -> napi::Result<()> {
            let values = completion_values(env, done)?;
            let mut func = ptr::null_mut();
            check(sys::napi_get_reference_value(env, self.settle, &mut func))?;
            // napi_make_callback wants an object as `this`.
            let mut recv = ptr::null_mut();
            check(sys::napi_get_global(env, &mut recv))?;
            for args in values.chunks(MAX_ARGS) {
                let mut result = ptr::null_mut();
                let status = sys::napi_make_callback(
                    env,
                    self.ctx,
                    recv,
                    func,
                    args.len(),
                    args.as_ptr(),
                    &mut result,
                );
                if status == sys::Status::napi_pending_exception {
                    // What settleArgs threw goes to process 'uncaughtException', as it
                    // would from any libuv callback.
                    let mut err = ptr::null_mut();
                    sys::napi_get_and_clear_last_exception(env, &mut err);
                    sys::napi_fatal_exception(env, err);
                }
            }
            Ok(())
        })();
        sys::napi_close_handle_scope(env, scope);
    }

    /// The client closes: what was in flight fails, and the handles go.
    pub(crate) fn close(&self) {
        self.shut(true);
    }

    /// `settle` false from a finalizer, where no JS may run (nothing is waiting then:
    /// the promises went with the client).
    fn shut(&self, settle: bool) {
        if self.closed.replace(true) {
            return;
        }
        self.keep_alive
            .loop_io
            .store(ptr::null_mut(), Ordering::Relaxed);
        // SAFETY: on the JS thread, with handles this struct owns.
        unsafe {
            let done = self.batcher.close_loop_io();
            if settle {
                self.settle(done);
            }
            self.stop_poll();
            self.batcher.release_retired();
            uv_timer_stop(self.timer);
            uv_close(self.timer, Some(free_timer));
            uv_check_stop(self.check);
            uv_close(self.check, Some(free_check));
            uv_idle_stop(self.idle);
            uv_close(self.idle, Some(free_idle));
            uv_idle_stop(self.spin);
            uv_close(self.spin, Some(free_idle));
            let mut scope = ptr::null_mut();
            let scoped = sys::napi_open_handle_scope(self.env, &mut scope) == sys::Status::napi_ok;
            sys::napi_delete_reference(self.env, self.settle);
            sys::napi_async_destroy(self.env, self.ctx);
            if scoped {
                sys::napi_close_handle_scope(self.env, scope);
            }
        }
    }
}

impl Drop for LoopIo {
    fn drop(&mut self) {
        self.shut(false);
    }
}

unsafe extern "C" fn on_readable(h: Handle, _status: c_int, _events: c_int) {
    let io = &*(*(h as *const *const LoopIo));
    if io.closed.get() {
        return;
    }
    let done = io.batcher.on_readable();
    io.settle(done);
    io.sync();
}

unsafe extern "C" fn on_turn_end(h: Handle) {
    let io = &*(*(h as *const *const LoopIo));
    if io.closed.get() {
        return;
    }
    io.flush_armed.set(false);
    uv_check_stop(io.check);
    uv_idle_stop(io.idle);
    let done = io.batcher.flush_loop();
    io.settle(done);
    io.sync();
}

/// Each turn of the loop while spinning: nothing to do but stop once the spin is over
/// (the loop's poll finds the reply; `on_readable` reads it).
unsafe extern "C" fn on_spin(h: Handle) {
    let io = &*(*(h as *const *const LoopIo));
    if io.closed.get() {
        io.stop_spin();
    } else if io.spin_until.get().is_none_or(|t| Instant::now() >= t) {
        io.stop_spin();
        io.batcher.spin_ran_out();
    }
}

unsafe extern "C" fn on_timer(h: Handle) {
    let io = &*(*(h as *const *const LoopIo));
    if io.closed.get() {
        return;
    }
    let Some(seq) = io.timer_seq.get() else {
        return;
    };
    let done = io.batcher.on_timeout(seq);
    // Re-armed by sync for whatever is the oldest now (the same request when the timer
    // fired before its deadline).
    io.timer_seq.set(None);
    io.settle(done);
    io.sync();
}
