//! `NativeSubscriber`: the core's subscriber for the package's `subscribe` /
//! `pSubscribe` / `sSubscribe` (conversion only). index.js keeps the listeners and pumps
//! events with `next`, one batch per crossing; the core keeps the subscriptions, the
//! resubscription after a reconnect, the health check and the bounded queue.

use std::ptr;

use napi::bindgen_prelude::*;
use napi::sys;
use napi_derive::napi;
use redbridge::{MessageKind, PubSubEvent, PubSubOptions, Subscriber, SubscriptionKind};

use crate::{bytes, check, js_array, js_error, js_string, Arg, NativeClient, Reply};

/// Events for index.js, flat, in as few napi calls as a burst allows:
/// `[kinds, …fields]`, where `kinds` is one Latin-1 string with a letter per event and
/// the fields follow in that order:
/// - `m` (message) and `s` (smessage): the channel, the payload;
/// - `p` (pmessage): the channel, the payload, the pattern;
/// - `g` (gap): the cause (`"reconnected"` or `"overflow"`), the number dropped.
///
/// Channels and patterns are Latin-1 strings (one character per byte, so binary names
/// survive and compare with the names index.js keyed its listeners by), one string
/// reused while consecutive events share it; payloads are strings (UTF-8, invalid bytes
/// as U+FFFD) or Buffers. Confirmations are left out (they settle the subscribe and
/// unsubscribe calls in the core), as are pongs (this binding never pings).
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

/// The Latin-1 string of `name`, made once while consecutive events repeat it.
struct NameCache {
    last: Vec<u8>,
    value: sys::napi_value,
}

impl NameCache {
    fn new() -> Self {
        NameCache {
            last: Vec::new(),
            value: ptr::null_mut(),
        }
    }

    unsafe fn get(&mut self, env: sys::napi_env, name: &[u8]) -> Result<sys::napi_value> {
        if self.value.is_null() || self.last != name {
            self.value = latin1(env, name)?;
            self.last.clear();
            self.last.extend_from_slice(name);
        }
        Ok(self.value)
    }
}

impl ToNapiValue for Events {
    unsafe fn to_napi_value(env: sys::napi_env, val: Self) -> Result<sys::napi_value> {
        let events = match val.result {
            Ok(events) => events,
            Err(e) => return js_error(env, &e),
        };
        let mut kinds = Vec::with_capacity(events.len());
        let mut items = Vec::with_capacity(events.len() * 2 + 1);
        items.push(ptr::null_mut()); // the kinds, set below
        let (mut channels, mut patterns) = (NameCache::new(), NameCache::new());
        for event in events {
            match event {
                PubSubEvent::Message(m) => {
                    kinds.push(match m.kind {
                        MessageKind::Message => b'm',
                        MessageKind::SMessage => b's',
                        MessageKind::PMessage => b'p',
                    });
                    items.push(channels.get(env, &m.channel)?);
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
                    if let Some(p) = &m.pattern {
                        items.push(patterns.get(env, p)?);
                    }
                }
                PubSubEvent::Gap(g) => {
                    kinds.push(b'g');
                    items.push(js_string(env, g.cause.as_str().as_bytes())?);
                    items.push(number(env, g.dropped as f64)?);
                }
                PubSubEvent::Subscription { .. } | PubSubEvent::Pong(_) => {}
            }
        }
        items[0] = latin1(env, &kinds)?;
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
            let mut events = Vec::with_capacity(max.min(1024));
            events.push(first);
            sub.try_next_into(max - 1, &mut events)?;
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
