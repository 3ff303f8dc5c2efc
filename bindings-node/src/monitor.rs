//! `NativeMonitor`: the core's MONITOR feed for the package's `monitor(callback)`
//! (conversion only). The core opens it on a connection of its own with the client's
//! configuration; index.js reads lines with `next`, a burst per crossing, and hands them
//! to the callback as node-redis does: the server's line, as the core keeps it.

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use napi::bindgen_prelude::*;
use napi::tokio::sync::Notify;
use napi_derive::napi;
use redbridge::Monitor;

use crate::{NativeClient, Reply};

/// One MONITOR connection; `close` ends it, and a pending `next` with it.
#[napi]
pub struct NativeMonitor {
    feed: Mutex<Option<Arc<Monitor>>>,
    stop: Arc<Notify>,
}

fn closed() -> redbridge::Error {
    redbridge::Error::new(redbridge::ErrorKind::Connection, "the monitor was closed")
}

/// `f`'s output if it is ready without waiting (a dropped `next_event` loses no line).
fn ready_now<F: Future>(f: F) -> Option<F::Output> {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

#[napi]
impl NativeClient {
    /// Opens a MONITOR connection with the client's configuration; resolves once the
    /// server acknowledged it (every command it runs afterwards is seen), or with an Error.
    #[napi(ts_return_type = "Promise<NativeMonitor | Error>")]
    pub async fn monitor(&self) -> Either<NativeMonitor, Reply> {
        let client = self.client.clone();
        match redbridge::runtime::run(async move { client.monitor().await }).await {
            Ok(m) => Either::A(NativeMonitor {
                feed: Mutex::new(Some(Arc::new(m))),
                stop: Arc::new(Notify::new()),
            }),
            Err(e) => Either::B(Reply::Failure(e)),
        }
    }
}

#[napi]
impl NativeMonitor {
    /// Waits for the next line, then takes up to `max` that have arrived (one crossing
    /// for a burst). An Error once the connection is gone or `close` was called.
    #[napi(ts_return_type = "Promise<string[] | Error>")]
    pub async fn next(&self, max: u32) -> Either<Vec<String>, Reply> {
        let feed = self.feed.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let Some(feed) = feed else {
            return Either::B(Reply::Failure(closed()));
        };
        let stop = self.stop.clone();
        let max = max.max(1) as usize;
        let result = redbridge::runtime::run(async move {
            napi::tokio::select! {
                biased;
                _ = stop.notified() => Err(closed()),
                first = feed.next_event() => {
                    let mut lines = vec![first?.line];
                    while lines.len() < max {
                        match ready_now(feed.next_event()) {
                            Some(Ok(e)) => lines.push(e.line),
                            // An error comes again with the next call.
                            _ => break,
                        }
                    }
                    Ok(lines)
                }
            }
        })
        .await;
        match result {
            Ok(lines) => Either::A(lines),
            Err(e) => Either::B(Reply::Failure(e)),
        }
    }

    /// Closes the connection; a pending `next` resolves with an Error. Idempotent.
    #[napi]
    pub fn close(&self) {
        let _rt = redbridge::runtime::runtime().enter();
        self.feed.lock().unwrap_or_else(|p| p.into_inner()).take();
        // A permit is kept when no `next` waits yet, so one that starts now stops too.
        self.stop.notify_one();
    }
}
