//! The one tokio runtime of the process, and fork detection.
//!
//! Every client in a process shares one multi-threaded runtime owned by the core. A
//! forked child (Python multiprocessing) inherits none of the parent's threads, so the
//! parent's runtime and sockets are unusable there: `pthread_atfork` bumps a generation
//! counter in the child, and the runtime and every client engine rebuild themselves when
//! they see a new generation. The parent's objects are leaked in the child on purpose:
//! dropping them would wait for threads that do not exist.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};

use tokio::runtime::Runtime;

static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);
static ATFORK: Once = Once::new();
static RUNTIME: Mutex<Option<(u64, &'static Runtime)>> = Mutex::new(None);

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// The process's fork generation: 0 in the original process, +1 in each forked child.
pub fn fork_generation() -> u64 {
    ATFORK.call_once(|| {
        // SAFETY: registers a handler that only touches an atomic.
        unsafe {
            libc::pthread_atfork(None, None, Some(after_fork_in_child));
        }
    });
    FORK_GENERATION.load(Ordering::SeqCst)
}

/// The shared runtime for this process (rebuilt once in a forked child).
pub fn runtime() -> &'static Runtime {
    let generation = fork_generation();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    match *slot {
        Some((g, rt)) if g == generation => rt,
        _ => {
            let threads = std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2)
                .clamp(2, 4);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("redbridge-rt")
                .enable_all()
                .build()
                .expect("the tokio runtime could not start (out of threads or memory?)");
            // Leaked: lives for the process (or until a fork leaves it behind).
            let rt: &'static Runtime = Box::leak(Box::new(rt));
            *slot = Some((generation, rt));
            rt
        }
    }
}

/// Handle to cancel a task started with [`spawn`].
pub use tokio::task::AbortHandle;

/// Starts a task on the shared runtime (bindings use it to run async requests whose
/// completion they deliver to their own event loop).
pub fn spawn<F>(future: F) -> AbortHandle
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    runtime().spawn(future).abort_handle()
}

/// Runs `future` on the shared runtime, where the connections live, and awaits it from
/// any executor (a binding whose promises are driven by its own runtime). A task that
/// could not finish (the runtime is shutting down) is a `Cancelled` error.
pub async fn run<F, T>(future: F) -> crate::Result<T>
where
    F: std::future::Future<Output = crate::Result<T>> + Send + 'static,
    T: Send + 'static,
{
    match runtime().spawn(future).await {
        Ok(result) => result,
        Err(e) => Err(crate::Error::new(
            crate::ErrorKind::Cancelled,
            format!("the request was cancelled before it finished: {e}"),
        )),
    }
}
