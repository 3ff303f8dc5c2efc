//! `NativeSubscriber`: the core's subscriber for the package's `subscribe` /
//! `pSubscribe` / `sSubscribe` (conversion only). index.js keeps the listeners and pumps
//! events with `next`, one batch per crossing; the core keeps the subscriptions, the
//! resubscription after a reconnect, the health check and the bounded queue.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use redbridge::{PubSubEvent, PubSubOptions, Subscriber, SubscriptionKind};

use crate::{bytes, check, js_array, js_error, js_string, Arg, NativeClient, Reply};

/// Events for index.js, four slots each, flat: `[type, channel, data, pattern, …]`.
/// - a message: `"message" | "pmessage" | "smessage"`, the channel and (pmessage) the
///   pattern as Latin-1 strings (one character per byte, so binary names survive and
///   compare with the names index.js keyed its listeners by), the payload as a string
///   (UTF-8, invalid bytes as U+FFFD) or a Buffer;
/// - a confirmation: the kind (`"subscribe"`, …), the name or null, the count, null;
/// - a gap: `"gap"`, the cause (`"reconnected"` or `"overflow"`), the number dropped, null.
///
/// An `Error` instead when the subscriber is closed.
pub struct Events {
    result: redbridge::Result<Vec<PubSubEvent>>,
    buffers: bool,
}

unsafe fn latin1(env: sys::napi_env, b: &[u8]) -> Result<sys::napi_value> {
    let mut v = ptr::null_mut();
    check(sys::napi_create_string_latin1(
        env,
        b.as_ptr().cast(),
        b.len() as isize,
        &mut v,
    ))?;
    Ok(v)
}

unsafe fn number(env: sys::napi_env, n: f64) -> Result<sys::napi_value> {
    let mut v = ptr::null_mut();
    check(sys::napi_create_double(env, n, &mut v))?;
    Ok(v)
}

unsafe fn null(env: sys::napi_env) -> Result<sys::napi_value> {
    let mut v = ptr::null_mut();
    check(sys::napi_get_null(env, &mut v))?;
    Ok(v)
}

impl ToNapiValue for Events {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let events = match val.result {
            Ok(events) => events,
            Err(e) => return js_error(env, &e),
        };
        let mut items = Vec::with_capacity(events.len() * 4);
        for event in events {
            match event {
                PubSubEvent::Message(m) => {
                    items.push(js_string(env, m.kind.as_str().as_bytes())?);
                    items.push(latin1(env, &m.channel)?);
                    items.push(if val.buffers {
                        let (mut data, mut out) = (ptr::null_mut(), ptr::null_mut());
                        check(sys::napi_create_buffer_copy(
                            env,
                            m.payload.len(),
                            m.payload.as_ptr().cast(),
                            &mut data,
                            &mut out,
                        ))?;
                        out
                    } else {
                        js_string(env, &m.payload)?
                    });
                    items.push(match &m.pattern {
                        Some(p) => latin1(env, p)?,
                        None => null(env)?,
                    });
                }
                PubSubEvent::Subscription {
                    kind,
                    channel,
                    count,
                } => {
                    items.push(js_string(env, kind.as_str().as_bytes())?);
                    items.push(match &channel {
                        Some(c) => latin1(env, c)?,
                        None => null(env)?,
                    });
                    items.push(number(env, count as f64)?);
                    items.push(null(env)?);
                }
                PubSubEvent::Gap(g) => {
                    items.push(js_string(env, b"gap")?);
                    items.push(js_string(env, g.cause.as_str().as_bytes())?);
                    items.push(number(env, g.dropped as f64)?);
                    items.push(null(env)?);
                }
                // node-redis has no PING event on a subscriber; this binding never pings.
                PubSubEvent::Pong(_) => {}
            }
        }
        js_array(env, items)
    }
}

impl TypeName for Events {
    fn type_name() -> &'static str {
        "Array<string | number | Buffer | null> | Error"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

/// One subscriber: its own connection with the client's options (always RESP3 there).
#[napi]
pub struct NativeSubscriber {
    sub: Subscriber,
}

#[napi]
impl NativeClient {
    /// A subscriber with the client's configuration and stats; its connection opens with
    /// the first subscription. `maxMessages` / `maxBytes` bound its queue (what overflows
    /// is dropped, counted and reported as a gap).
    #[napi(ts_return_type = "NativeSubscriber | Error")]
    pub fn subscriber(
        &self,
        max_messages: Option<u32>,
        max_bytes: Option<f64>,
    ) -> Either<NativeSubscriber, Reply> {
        let defaults = PubSubOptions::default();
        let options = PubSubOptions {
            max_messages: max_messages.map_or(defaults.max_messages, |m| m as usize),
            max_bytes: max_bytes
                .filter(|b| b.is_finite() && *b >= 1.0)
                .map_or(defaults.max_bytes, |b| b as usize),
            health_check_interval: None,
        };
        let _rt = redbridge::runtime::runtime().enter();
        match self.client.pubsub(options) {
            Ok(sub) => Either::A(NativeSubscriber { sub }),
            Err(e) => Either::B(Reply::Failure(e)),
        }
    }
}

#[napi]
impl NativeSubscriber {
    /// Subscribes (`kind`: "subscribe", "psubscribe", "ssubscribe") or unsubscribes (their
    /// "un" forms; no names: all of that kind); resolves with null once the server
    /// confirmed, or an Error.
    #[napi]
    pub async fn change(&self, kind: String, names: Vec<Arg>) -> Reply {
        let kind = match SubscriptionKind::parse(&kind) {
            Ok(k) => k,
            Err(e) => return Reply::Failure(e),
        };
        let names: Vec<Vec<u8>> = names.iter().map(|n| bytes(n).to_vec()).collect();
        let sub = self.sub.clone();
        let done = redbridge::runtime::run(async move {
            match kind {
                SubscriptionKind::Subscribe
                | SubscriptionKind::PSubscribe
                | SubscriptionKind::SSubscribe => sub.subscribe(kind, names).await,
                _ => sub.unsubscribe(kind, names).await,
            }
        })
        .await;
        match done {
            Ok(()) => Reply::Value(redbridge::Value::Nil, false),
            Err(e) => Reply::Failure(e),
        }
    }

    /// Waits for the next event, then takes up to `max` that are queued (one crossing
    /// for a burst); payloads as Buffers when `buffers`. See [`Events`].
    #[napi]
    pub async fn next(&self, max: u32, buffers: bool) -> Events {
        let sub = self.sub.clone();
        let max = max.max(1) as usize;
        let result = redbridge::runtime::run(async move {
            let first = sub.next_event().await?;
            let mut events = vec![first];
            while events.len() < max {
                match sub.try_next()? {
                    Some(e) => events.push(e),
                    None => break,
                }
            }
            Ok(events)
        })
        .await;
        Events { result, buffers }
    }

    /// Closes the connection; a pending `next` resolves with an Error.
    #[napi]
    pub fn close(&self) {
        self.sub.close();
    }
}
