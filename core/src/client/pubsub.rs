//! Pub/Sub on a connection of its own, kept subscribed by the core.
//!
//! A [`Subscriber`] owns one connection to a standalone server, opened with the client's
//! handshake (TLS, AUTH, db, library name, CLIENT SETNAME) but always in RESP3, so that
//! messages arrive as push frames the connection's reader hands aside, never mixed with
//! the replies to SUBSCRIBE, PING and the rest. The client's `protocol` option decides
//! the shape of command replies; a subscriber's events are [`PubSubEvent`]s either way.
//!
//! Why not the shared multiplexed connection: a subscriber's flood of messages would sit
//! in front of every command reply on it; the server's `client-output-buffer-limit
//! pubsub` would cut off every caller of the client when one consumer is slow; and RESP2
//! clients (where subscriber mode refuses ordinary commands) would need it anyway. One
//! connection per subscriber keeps its failures, its reconnects and its queue its own.
//!
//! What the core guarantees (docs/architecture.md, "Pub/Sub"):
//! - **Resubscription.** A supervisor task holds the connection. When it is lost (server
//!   restart, CLIENT KILL, the output-buffer limit, a dead peer) it reconnects with the
//!   policy's backoff and subscribes again to every channel, pattern and shard channel
//!   wanted, then queues a [`Gap`] with [`GapCause::Reconnected`]: messages published
//!   while disconnected may be missing. What the new connection delivers before its
//!   resubscription is complete is held back and queued after the gap, so the gap sits
//!   between the messages before and after the loss, and an application that re-reads
//!   its state on a gap does so with every subscription in place. Shard channels go one
//!   SSUBSCRIBE each (never all in one command, which a cluster refuses with CROSSSLOT).
//! - **Health check.** Every `health_check_interval` (default: the connect timeout) it
//!   sends PING and waits at most the response timeout, so a peer that stopped answering
//!   is noticed within connect + response timeout. A PONG late behind a flood of
//!   messages (a slow consumer, a starved CPU) is waited for while messages keep
//!   arriving: the peer is alive, and dropping the connection would lose them.
//! - **A bounded queue.** Each subscriber queues at most `max_messages` messages and
//!   `max_bytes` bytes; a message that does not fit is dropped, counted
//!   (`pubsub_dropped`) and reported in order as a [`Gap`] with [`GapCause::Overflow`].
//!   Delivery is at-most-once, as Redis's is; what may have been lost is always reported.
//!
//! Counters: `pubsub_messages` (messages queued), `pubsub_dropped`, `pubsub_resubscribes`
//! in the client's [`Client::stats`]. On a cluster client, a subscriber is made of one
//! of these per node (`pubsub_cluster.rs`).

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{PushInfo, PushKind, Value};
use tokio::sync::{watch, Notify};

#[path = "pubsub_cluster.rs"]
mod cluster;
#[path = "pubsub_sieve.rs"]
mod sieve;

use super::sync::block_on;
use super::Client;
use crate::connection::connect_error;
use crate::error::{Error, ErrorKind, Result};
use crate::observe::Stats;
use crate::policy::backoff;
use crate::runtime;
use crate::settings::{Config, Protocol};

/// Default bound on the messages one subscriber keeps queued.
pub const DEFAULT_MAX_MESSAGES: usize = 100_000;
/// Default bound on the bytes (channel, pattern and payload) one subscriber keeps queued:
/// a burst of a few MB is held, a slow consumer never grows without limit.
pub const DEFAULT_MAX_BYTES: usize = 8 << 20;
/// Subscriptions per SUBSCRIBE / PSUBSCRIBE when resubscribing (keeps commands small).
const RESUBSCRIBE_CHUNK: usize = 1000;

/// Bounds and health check of one subscriber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PubSubOptions {
    /// Messages kept queued at most; more are dropped and reported as a gap.
    pub max_messages: usize,
    /// Bytes (channel + pattern + payload) kept queued at most.
    pub max_bytes: usize,
    /// How often the connection is checked with PING; `None`: the connect timeout, so a
    /// dead peer is noticed within connect + response timeout.
    pub health_check_interval: Option<Duration>,
}

impl Default for PubSubOptions {
    fn default() -> Self {
        PubSubOptions {
            max_messages: DEFAULT_MAX_MESSAGES,
            max_bytes: DEFAULT_MAX_BYTES,
            health_check_interval: None,
        }
    }
}

/// Which command a subscription change answers (redis-py's message `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SubscriptionKind {
    /// SUBSCRIBE: a channel.
    Subscribe,
    /// UNSUBSCRIBE.
    Unsubscribe,
    /// PSUBSCRIBE: a glob pattern.
    PSubscribe,
    /// PUNSUBSCRIBE.
    PUnsubscribe,
    /// SSUBSCRIBE: a shard channel.
    SSubscribe,
    /// SUNSUBSCRIBE.
    SUnsubscribe,
}

impl SubscriptionKind {
    /// The command's name in lower case, as the server and redis-py name the message.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionKind::Subscribe => "subscribe",
            SubscriptionKind::Unsubscribe => "unsubscribe",
            SubscriptionKind::PSubscribe => "psubscribe",
            SubscriptionKind::PUnsubscribe => "punsubscribe",
            SubscriptionKind::SSubscribe => "ssubscribe",
            SubscriptionKind::SUnsubscribe => "sunsubscribe",
        }
    }

    /// The kind named by [`SubscriptionKind::as_str`] (lower case, as bindings pass it).
    pub fn parse(name: &str) -> Result<SubscriptionKind> {
        Ok(match name {
            "subscribe" => SubscriptionKind::Subscribe,
            "unsubscribe" => SubscriptionKind::Unsubscribe,
            "psubscribe" => SubscriptionKind::PSubscribe,
            "punsubscribe" => SubscriptionKind::PUnsubscribe,
            "ssubscribe" => SubscriptionKind::SSubscribe,
            "sunsubscribe" => SubscriptionKind::SUnsubscribe,
            _ => {
                return Err(Error::invalid(
                    "unknown subscription kind: use subscribe, psubscribe, ssubscribe or their unsubscribe forms",
                ))
            }
        })
    }

    fn command(self) -> &'static str {
        match self {
            SubscriptionKind::Subscribe => "SUBSCRIBE",
            SubscriptionKind::Unsubscribe => "UNSUBSCRIBE",
            SubscriptionKind::PSubscribe => "PSUBSCRIBE",
            SubscriptionKind::PUnsubscribe => "PUNSUBSCRIBE",
            SubscriptionKind::SSubscribe => "SSUBSCRIBE",
            SubscriptionKind::SUnsubscribe => "SUNSUBSCRIBE",
        }
    }

    fn of(kind: &PushKind) -> Option<SubscriptionKind> {
        Some(match kind {
            PushKind::Subscribe => SubscriptionKind::Subscribe,
            PushKind::Unsubscribe => SubscriptionKind::Unsubscribe,
            PushKind::PSubscribe => SubscriptionKind::PSubscribe,
            PushKind::PUnsubscribe => SubscriptionKind::PUnsubscribe,
            PushKind::SSubscribe => SubscriptionKind::SSubscribe,
            PushKind::SUnsubscribe => SubscriptionKind::SUnsubscribe,
            _ => return None,
        })
    }
}

/// How a message reached the subscriber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// Published to a subscribed channel.
    Message,
    /// Published to a channel matching a subscribed pattern.
    PMessage,
    /// Published (SPUBLISH) to a subscribed shard channel.
    SMessage,
}

impl MessageKind {
    /// `"message"`, `"pmessage"` or `"smessage"` (redis-py's message `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Message => "message",
            MessageKind::PMessage => "pmessage",
            MessageKind::SMessage => "smessage",
        }
    }
}

/// One published message. `Debug` shows sizes only: channels and payloads are the
/// application's data.
#[derive(Clone, PartialEq, Eq)]
pub struct PubSubMessage {
    /// Which subscription delivered it.
    pub kind: MessageKind,
    /// The channel it was published to.
    pub channel: Vec<u8>,
    /// The pattern that matched it (PMessage only).
    pub pattern: Option<Vec<u8>>,
    /// What was published.
    pub payload: Vec<u8>,
}

impl PubSubMessage {
    /// Bytes it takes in the queue's account: channel, pattern and payload.
    pub fn size(&self) -> usize {
        self.channel.len() + self.pattern.as_ref().map_or(0, Vec::len) + self.payload.len()
    }
}

impl std::fmt::Debug for PubSubMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubMessage")
            .field("kind", &self.kind)
            .field("channel_len", &self.channel.len())
            .field("payload_len", &self.payload.len())
            .finish_non_exhaustive()
    }
}

/// Why messages may be missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GapCause {
    /// The connection was lost and has been made again, every subscription with it:
    /// what was published while it was down was not received.
    Reconnected,
    /// The queue was full (the application reads slower than messages arrive): `dropped`
    /// messages were discarded here.
    Overflow,
}

impl GapCause {
    /// `"reconnected"` or `"overflow"`, as every binding names it.
    pub fn as_str(self) -> &'static str {
        match self {
            GapCause::Reconnected => "reconnected",
            GapCause::Overflow => "overflow",
        }
    }
}

/// Messages may be missing at this point of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    /// Why.
    pub cause: GapCause,
    /// How many messages were dropped (`Overflow`); 0 for `Reconnected`, where nobody
    /// can know how many were published meanwhile.
    pub dropped: u64,
}

/// What a subscriber receives, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PubSubEvent {
    /// A published message.
    Message(PubSubMessage),
    /// The server confirmed a subscription change: `channel` (or pattern; `None` for an
    /// unsubscribe when nothing was subscribed) and how many subscriptions of the
    /// connection remain (shard channels counted apart, as the server does).
    Subscription {
        /// Which command it answers.
        kind: SubscriptionKind,
        /// The channel or pattern.
        channel: Option<Vec<u8>>,
        /// Subscriptions the connection has now.
        count: i64,
    },
    /// Messages may be missing here (see [`Gap`]).
    Gap(Gap),
    /// The answer to [`Subscriber::ping`]: what the PING carried (empty without a
    /// message), after every event received before it. Health-check PINGs are not
    /// queued.
    Pong(Vec<u8>),
}

/// What a subscriber is subscribed to (or will be once connected), each sorted.
/// `Debug` shows counts only.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Subscriptions {
    /// Channels (SUBSCRIBE).
    pub channels: Vec<Vec<u8>>,
    /// Patterns (PSUBSCRIBE).
    pub patterns: Vec<Vec<u8>>,
    /// Shard channels (SSUBSCRIBE).
    pub shards: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Subscriptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriptions")
            .field("channels", &self.channels.len())
            .field("patterns", &self.patterns.len())
            .field("shards", &self.shards.len())
            .finish()
    }
}

/// The events waiting for the application, within the bounds.
#[derive(Default)]
struct Queue {
    items: VecDeque<PubSubEvent>,
    messages: usize,
    bytes: usize,
    closed: bool,
    /// Set while a lost connection's successor resubscribes: what it delivers meanwhile
    /// is queued but hidden (the last `hidden` items) until the gap goes in front of it.
    holding: bool,
    hidden: usize,
}

/// The channels, patterns and shard channels wanted (made again after a reconnect).
#[derive(Clone, Default)]
struct Wanted {
    channels: BTreeSet<Vec<u8>>,
    patterns: BTreeSet<Vec<u8>>,
    shards: BTreeSet<Vec<u8>>,
}

impl Wanted {
    fn set(&mut self, kind: SubscriptionKind) -> &mut BTreeSet<Vec<u8>> {
        match kind {
            SubscriptionKind::Subscribe | SubscriptionKind::Unsubscribe => &mut self.channels,
            SubscriptionKind::PSubscribe | SubscriptionKind::PUnsubscribe => &mut self.patterns,
            SubscriptionKind::SSubscribe | SubscriptionKind::SUnsubscribe => &mut self.shards,
        }
    }

    /// The set `kind` fills, read only.
    fn get(&self, kind: SubscriptionKind) -> &BTreeSet<Vec<u8>> {
        match kind {
            SubscriptionKind::Subscribe | SubscriptionKind::Unsubscribe => &self.channels,
            SubscriptionKind::PSubscribe | SubscriptionKind::PUnsubscribe => &self.patterns,
            SubscriptionKind::SSubscribe | SubscriptionKind::SUnsubscribe => &self.shards,
        }
    }
}

/// The live connection, if any, with its generation.
#[derive(Clone)]
struct Live {
    generation: u64,
    conn: MultiplexedConnection,
    /// The task that reads and writes a sieved connection (see [`open`]), ended when
    /// the last clone of this goes: the socket closes with it.
    _driver: Option<Arc<Driver>>,
}

/// Aborts a connection's driver task when dropped.
struct Driver(runtime::AbortHandle);

impl Drop for Driver {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct Inner {
    config: Config,
    options: PubSubOptions,
    stats: Arc<Stats>,
    queue: Mutex<Queue>,
    /// Woken when the queue gains an event or closes.
    ready: Notify,
    /// Readers between registering with `ready` and returning: a push wakes `ready`
    /// only when there is one (a flood read by a busy consumer takes no Notify lock).
    waiting: AtomicUsize,
    wanted: Mutex<Wanted>,
    /// The connection subscription commands go on; held while resubscribing, so a
    /// caller's command and the supervisor's resubscription never interleave.
    link: tokio::sync::Mutex<Option<Live>>,
    /// The generation of the connection now published (0: none).
    published: watch::Sender<u64>,
    /// The generation a reader or a command saw break.
    lost: watch::Sender<u64>,
    /// Set by the first subscription: the connection opens only then.
    demand: Notify,
    wanted_once: AtomicBool,
    /// Connections made so far.
    generation: AtomicU64,
    /// Why the last connection attempt failed (cleared by a success): what a subscribe
    /// that timed out waiting for the connection tells its caller.
    last_error: Mutex<Option<String>>,
    /// Whether queued messages count in `pubsub_messages` (not for a cluster
    /// subscriber's per-node queues, whose messages are counted where they are merged).
    count_messages: bool,
    /// Pushes received so far (any kind, any connection): traffic proves the peer alive,
    /// so a PING waits for its PONG while pushes keep arriving ahead of it (a slow
    /// consumer is not a dead peer; see `answered`).
    heard: AtomicU64,
}

impl Inner {
    fn new(config: Config, options: PubSubOptions, stats: Arc<Stats>) -> Inner {
        Inner {
            heard: AtomicU64::new(0),
            count_messages: true,
            config,
            options,
            stats,
            queue: Mutex::default(),
            ready: Notify::new(),
            waiting: AtomicUsize::new(0),
            wanted: Mutex::default(),
            link: tokio::sync::Mutex::new(None),
            published: watch::channel(0).0,
            lost: watch::channel(0).0,
            demand: Notify::new(),
            wanted_once: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            last_error: Mutex::default(),
        }
    }

    /// Queues `event`, within the bounds for a message: a message that does not fit is
    /// dropped and counted, and the queue's last event becomes (or grows) an overflow gap.
    fn push(&self, event: PubSubEvent) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.closed {
            return;
        }
        let queued = self.enqueue(&mut q, event);
        drop(q);
        self.count(u64::from(queued));
        self.wake();
    }

    /// Queues the messages of `batch` in order (as [`Inner::push`] each, under one lock,
    /// one wake-up); leaves `batch` empty. A flood's messages arrive a read at a time.
    fn push_messages(&self, batch: &mut Vec<PubSubMessage>) {
        self.heard.fetch_add(batch.len() as u64, Ordering::Relaxed);
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.closed {
            batch.clear();
            return;
        }
        let mut queued = 0;
        for m in batch.drain(..) {
            queued += u64::from(self.enqueue(&mut q, PubSubEvent::Message(m)));
        }
        drop(q);
        self.count(queued);
        self.wake();
    }

    /// Counts `n` messages queued in `pubsub_messages` (see [`Inner::count_messages`]).
    fn count(&self, n: u64) {
        if self.count_messages {
            self.stats.pubsub_messages(n);
        }
    }

    /// [`Inner::push`]'s bounds and drop accounting, on the locked queue: whether the
    /// event is a message that was queued (the caller counts those).
    fn enqueue(&self, q: &mut Queue, event: PubSubEvent) -> bool {
        if let PubSubEvent::Message(m) = &event {
            let size = m.size();
            if q.messages + 1 > self.options.max_messages || q.bytes + size > self.options.max_bytes
            {
                self.stats.pubsub_dropped();
                let grows = (q.hidden > 0 || !q.holding)
                    && matches!(q.items.back(), Some(PubSubEvent::Gap(g)) if g.cause == GapCause::Overflow);
                if grows {
                    if let Some(PubSubEvent::Gap(g)) = q.items.back_mut() {
                        g.dropped += 1;
                    }
                } else {
                    q.items.push_back(PubSubEvent::Gap(Gap {
                        cause: GapCause::Overflow,
                        dropped: 1,
                    }));
                    q.hidden += usize::from(q.holding);
                }
                return false;
            }
            q.messages += 1;
            q.bytes += size;
        }
        let message = matches!(event, PubSubEvent::Message(_));
        q.items.push_back(event);
        q.hidden += usize::from(q.holding);
        message
    }

    /// Wakes the readers waiting for an event, if any. SeqCst on both sides: a reader
    /// counts itself before it looks at the queue, a pusher looks at the count after it
    /// queued, so one of the two sees the other.
    fn wake(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.ready.notify_waiters();
        }
    }

    /// From now until [`Inner::release`], what arrives is queued hidden.
    fn hold(&self) {
        self.queue.lock().unwrap_or_else(|p| p.into_inner()).holding = true;
    }

    /// Queues `gap` in front of what was held since [`Inner::hold`], and shows it all.
    fn release(&self, gap: Gap) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.closed {
            return;
        }
        let at = q.items.len() - q.hidden;
        q.items.insert(at, PubSubEvent::Gap(gap));
        q.holding = false;
        q.hidden = 0;
        drop(q);
        self.wake();
    }

    /// Moves up to `max` visible events into `out` under one lock; how many it moved.
    fn pop_into(&self, max: usize, out: &mut Vec<PubSubEvent>) -> usize {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        let n = (q.items.len() - q.hidden).min(max);
        for _ in 0..n {
            let Some(event) = q.items.pop_front() else {
                break;
            };
            if let PubSubEvent::Message(m) = &event {
                q.messages -= 1;
                q.bytes -= m.size();
            }
            out.push(event);
        }
        n
    }

    /// Puts `events` (taken by [`Inner::pop_into`]) back at the head of the queue, in
    /// order, ahead of what came since; their bounds were checked when they came.
    fn unread(&self, events: Vec<PubSubEvent>) {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.closed || events.is_empty() {
            return;
        }
        for event in events.into_iter().rev() {
            if let PubSubEvent::Message(m) = &event {
                q.messages += 1;
                q.bytes += m.size();
            }
            q.items.push_front(event);
        }
        drop(q);
        self.wake();
    }

    fn pop(&self) -> Option<PubSubEvent> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        if q.items.len() <= q.hidden {
            return None;
        }
        let event = q.items.pop_front()?;
        if let PubSubEvent::Message(m) = &event {
            q.messages -= 1;
            q.bytes -= m.size();
        }
        Some(event)
    }

    /// A push from the connection of `generation`.
    fn on_push(&self, generation: u64, push: PushInfo) {
        self.heard.fetch_add(1, Ordering::Relaxed);
        if push.kind == PushKind::Disconnection {
            self.lost.send_modify(|g| *g = (*g).max(generation));
            return;
        }
        if let Some(event) = event_of(push) {
            self.push(event);
        }
    }

    fn want(&self) {
        if !self.wanted_once.swap(true, Ordering::AcqRel) {
            self.demand.notify_one();
        }
    }
}

/// The event a push frame carries; `None` for a frame of another kind or shape.
fn event_of(push: PushInfo) -> Option<PubSubEvent> {
    fn bytes(v: Value) -> Option<Vec<u8>> {
        match v {
            Value::BulkString(b) => Some(b),
            Value::SimpleString(s) => Some(s.into_bytes()),
            _ => None,
        }
    }
    let mut data = push.data.into_iter();
    let message = |kind, channel: Option<Value>, pattern, payload: Option<Value>| {
        Some(PubSubEvent::Message(PubSubMessage {
            kind,
            channel: bytes(channel?)?,
            pattern,
            payload: bytes(payload?)?,
        }))
    };
    match push.kind {
        PushKind::Message => message(MessageKind::Message, data.next(), None, data.next()),
        PushKind::SMessage => message(MessageKind::SMessage, data.next(), None, data.next()),
        PushKind::PMessage => {
            let pattern = bytes(data.next()?)?;
            message(
                MessageKind::PMessage,
                data.next(),
                Some(pattern),
                data.next(),
            )
        }
        other => {
            let kind = SubscriptionKind::of(&other)?;
            let channel = bytes(data.next()?);
            let count = match data.next()? {
                Value::Int(n) => n,
                _ => return None,
            };
            Some(PubSubEvent::Subscription {
                kind,
                channel,
                count,
            })
        }
    }
}

/// A subscriber: subscriptions on a connection of its own, kept after reconnects, and a
/// bounded queue of [`PubSubEvent`]s. Clones share it; dropping the last one (or
/// [`Subscriber::close`]) closes the connection.
#[derive(Clone)]
pub struct Subscriber {
    handle: Arc<Handle>,
}

struct Handle {
    /// The queue the application reads (and what is wanted); for a cluster subscriber,
    /// where the per-node subscribers' events are merged.
    inner: Arc<Inner>,
    /// The supervisor (standalone) or the placement task (cluster).
    task: runtime::AbortHandle,
    cluster: Option<Arc<cluster::ClusterSubs>>,
}

/// A subscriber reached without keeping it alive: a Sentinel-managed client moves its
/// subscribers to the node it moves to ([`Client::move_to`](super::Client)).
pub(crate) struct SubscriberRef(Weak<Handle>);

impl SubscriberRef {
    /// Reconnects the subscriber (to the client's node now: it resubscribes and queues a
    /// gap, as after any loss) while it is in use; `false` once it is gone.
    pub(crate) fn reconnect(&self) -> bool {
        match self.0.upgrade() {
            Some(handle) => {
                Subscriber { handle }.reconnect();
                true
            }
            None => false,
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(c) = &self.cluster {
            c.close();
        }
    }
}

impl Subscriber {
    /// A subscriber for `config` counting into `stats`; the connection opens with the
    /// first subscription. Not on a cluster yet.
    fn start(config: &Config, stats: Arc<Stats>, options: PubSubOptions) -> Result<Subscriber> {
        Self::start_node(config, stats, options, true)
    }

    /// A subscriber of one server; `count_messages`: see [`Inner::count_messages`].
    fn start_node(
        config: &Config,
        stats: Arc<Stats>,
        options: PubSubOptions,
        count_messages: bool,
    ) -> Result<Subscriber> {
        check_options(&options)?;
        // RESP3 whatever the client's protocol: messages come as pushes, apart from replies.
        let mut config = config.clone();
        config.protocol = Protocol::Resp3;
        config.cache = None;
        config.cluster = false;
        let mut inner = Inner::new(config, options, stats);
        inner.count_messages = count_messages;
        let inner = Arc::new(inner);
        let task = runtime::spawn(supervise(inner.clone()));
        Ok(Subscriber {
            handle: Arc::new(Handle {
                inner,
                task,
                cluster: None,
            }),
        })
    }

    fn inner(&self) -> &Arc<Inner> {
        &self.handle.inner
    }

    /// Subscribes to channels (SUBSCRIBE), patterns (PSUBSCRIBE) or shard channels
    /// (SSUBSCRIBE) — `kind` says which, an unsubscribe kind is refused. Returns once the
    /// server confirmed; the confirmations also arrive as events. The subscription is
    /// kept from now on, even when this call fails (not connected within connect +
    /// response timeout): it is made when the connection is back.
    pub async fn subscribe<I, N>(&self, kind: SubscriptionKind, names: I) -> Result<()>
    where
        I: IntoIterator<Item = N>,
        N: Into<Vec<u8>>,
    {
        if matches!(
            kind,
            SubscriptionKind::Unsubscribe
                | SubscriptionKind::PUnsubscribe
                | SubscriptionKind::SUnsubscribe
        ) {
            return Err(Error::invalid(
                "subscribe takes Subscribe, PSubscribe or SSubscribe",
            ));
        }
        let names: Vec<Vec<u8>> = names.into_iter().map(Into::into).collect();
        if names.is_empty() {
            return Err(Error::invalid(
                "subscribe needs at least one channel or pattern",
            ));
        }
        if let Some(c) = &self.handle.cluster {
            return c.subscribe(kind, names).await;
        }
        self.inner().want();
        self.on_link(kind, names).await
    }

    /// Unsubscribes (`kind`: Unsubscribe, PUnsubscribe or SUnsubscribe) from `names`, or
    /// from every one of that kind when `names` is empty. Returns once the server
    /// confirmed (at once when not connected: nothing is subscribed then).
    pub async fn unsubscribe<I, N>(&self, kind: SubscriptionKind, names: I) -> Result<()>
    where
        I: IntoIterator<Item = N>,
        N: Into<Vec<u8>>,
    {
        if !matches!(
            kind,
            SubscriptionKind::Unsubscribe
                | SubscriptionKind::PUnsubscribe
                | SubscriptionKind::SUnsubscribe
        ) {
            return Err(Error::invalid(
                "unsubscribe takes Unsubscribe, PUnsubscribe or SUnsubscribe",
            ));
        }
        let mut names: Vec<Vec<u8>> = names.into_iter().map(Into::into).collect();
        if let Some(c) = &self.handle.cluster {
            return c.unsubscribe(kind, names).await;
        }
        // Under the link's lock, as subscribing: the supervisor's snapshot agrees.
        let link = self.inner().link.lock().await;
        {
            let mut wanted = self
                .inner()
                .wanted
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let set = wanted.set(kind);
            if names.is_empty() {
                if kind == SubscriptionKind::SUnsubscribe {
                    // One SUNSUBSCRIBE per shard channel: a bare one would answer with
                    // a confirmation per channel to a single request.
                    names = set.iter().cloned().collect();
                }
                set.clear();
            } else {
                for n in &names {
                    set.remove(n);
                }
            }
        }
        let response = self.inner().config.response_timeout();
        match link.as_ref() {
            Some(live) => send(live, kind, names, response).await.inspect_err(|e| {
                if e.kind() == ErrorKind::Connection {
                    self.lost(live.generation);
                }
            }),
            None => Ok(()),
        }
    }

    /// Records `names` as wanted and subscribes them: on the live connection, or, when
    /// there is none, by the supervisor's resubscription as it connects (waiting for it
    /// at most connect + response timeout). Both happen under the link's lock, so each
    /// subscription is sent once: either the supervisor's snapshot of what is wanted has
    /// it, or the connection it publishes is there to send it on.
    async fn on_link(&self, kind: SubscriptionKind, names: Vec<Vec<u8>>) -> Result<()> {
        let inner = self.inner();
        let add = |names: &[Vec<u8>]| {
            let mut wanted = inner.wanted.lock().unwrap_or_else(|p| p.into_inner());
            wanted.set(kind).extend(names.iter().cloned());
        };
        let budget = inner.config.connect_timeout() + inner.config.response_timeout();
        let mut published = inner.published.subscribe();
        let mut added = false;
        let attempt = async {
            {
                let link = inner.link.lock().await;
                add(&names);
                added = true;
                if let Some(live) = link.as_ref() {
                    let response = inner.config.response_timeout();
                    return send(live, kind, names.clone(), response)
                        .await
                        .inspect_err(|e| {
                            if e.kind() == ErrorKind::Connection {
                                self.lost(live.generation);
                            }
                        });
                }
            }
            match published.wait_for(|g| *g != 0).await {
                Ok(_) => Ok(()),
                Err(_) => Err(closed()),
            }
        };
        let result = tokio::time::timeout(budget, attempt).await;
        if !added {
            add(&names);
        }
        match result {
            Ok(r) => r,
            Err(_) => {
                let why = inner
                    .last_error
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .as_ref()
                    .map(|m| format!(" (last attempt: {m})"))
                    .unwrap_or_default();
                Err(Error::new(
                    ErrorKind::Connection,
                    format!(
                        "not connected to {} within {} ms{why}; the subscription is kept and made when the connection is back",
                        inner.config.addr,
                        budget.as_millis()
                    ),
                ))
            }
        }
    }

    fn lost(&self, generation: u64) {
        self.inner().lost.send_modify(|g| *g = (*g).max(generation));
    }

    /// Sends PING (with `message` when given) on the subscriber's connection and queues
    /// a [`PubSubEvent::Pong`] once the server answered: redis-py's `PubSub.ping()`, a
    /// round trip that is seen in order with the messages. A connection error when not
    /// connected (the subscriber reconnects by itself) or when no answer comes within
    /// the response timeout (then the connection is replaced, as a health check would).
    pub async fn ping(&self, message: Option<Vec<u8>>) -> Result<()> {
        if let Some(c) = &self.handle.cluster {
            return Box::pin(c.home()?.ping(message)).await;
        }
        let inner = self.inner();
        let live = inner.link.lock().await.clone().ok_or_else(|| {
            Error::new(
                ErrorKind::Connection,
                format!(
                    "the subscriber is not connected to {} now (it reconnects by itself); subscribe first",
                    inner.config.addr
                ),
            )
        })?;
        let mut cmd = redis::cmd("PING");
        if let Some(m) = &message {
            cmd.arg(m.as_slice());
        }
        let mut conn = live.conn.clone();
        match answered(inner, conn.send_packed_command(&cmd)).await {
            Some(Ok(_)) => {
                inner.push(PubSubEvent::Pong(message.unwrap_or_default()));
                Ok(())
            }
            Some(Err(e)) => {
                let e = Error::from(e);
                if e.kind() == ErrorKind::Connection {
                    self.lost(live.generation);
                }
                Err(e)
            }
            None => {
                self.lost(live.generation);
                Err(Error::new(
                    ErrorKind::Connection,
                    format!(
                        "PING got no answer within {} ms (and nothing else arrived); reconnecting",
                        inner.config.response_timeout().as_millis()
                    ),
                ))
            }
        }
    }

    /// Drops the connection as if it had broken: the subscriber reconnects, resubscribes
    /// everything and queues a gap, as after any loss (redis-py's
    /// `p.connection.disconnect()`, and a way to test what an application does then).
    pub fn reconnect(&self) {
        if let Some(c) = &self.handle.cluster {
            c.reconnect();
            return;
        }
        // The connection made last, published or still resubscribing (its confirmations
        // may already be read): lost first, so the supervisor does not publish it, then
        // not connected from now on, as after a dropped connection. Only that one: the
        // supervisor may have made and published the next one meanwhile.
        let inner = self.inner();
        let generation = inner.generation.load(Ordering::Acquire);
        if generation != 0 {
            self.lost(generation);
            inner.published.send_if_modified(|g| {
                let was = *g != 0 && *g <= generation;
                if was {
                    *g = 0;
                }
                was
            });
        }
    }

    /// The next event, waiting as long as it takes. A connection error once the
    /// subscriber is closed. Cancel-safe: dropping the future loses no event; waiters
    /// sharing the subscriber each get different events.
    pub async fn next_event(&self) -> Result<PubSubEvent> {
        let inner = self.inner();
        if let Some(event) = inner.pop() {
            return Ok(event);
        }
        /// Counts a reader in `waiting` until it returns or is dropped (cancel-safe).
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        inner.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&inner.waiting);
        loop {
            let notified = inner.ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(event) = inner.pop() {
                return Ok(event);
            }
            if inner.queue.lock().unwrap_or_else(|p| p.into_inner()).closed {
                return Err(closed());
            }
            notified.await;
        }
    }

    /// The next event if one is queued, without waiting.
    pub fn try_next(&self) -> Result<Option<PubSubEvent>> {
        match self.inner().pop() {
            Some(e) => Ok(Some(e)),
            None if self.is_closed() => Err(closed()),
            None => Ok(None),
        }
    }

    /// [`Subscriber::try_next`], looking again briefly (a dozen spin-loop hints, under a
    /// microsecond) before it gives up: for callers that would park a thread next.
    /// Messages are queued a socket read at a time (see `pubsub_sieve.rs`), so a reader
    /// that drained a read's worth waits for the next read: parking then costs one
    /// wake-up per read, not per message, and spinning longer only takes the CPU from
    /// the connection's reader and the server (W7b of the bench on 2 CPUs, 10 subscriber
    /// threads: 6 rounds of spinning, 252 hints, cost 10-15% more CPU per message than 2).
    pub fn try_next_soon(&self) -> Result<Option<PubSubEvent>> {
        for round in 0..2u32 {
            if let Some(e) = self.try_next()? {
                return Ok(Some(e));
            }
            for _ in 0..(4u32 << round) {
                std::hint::spin_loop();
            }
        }
        self.try_next()
    }

    /// Moves up to `max` queued events into `out` without waiting (one lock for a
    /// burst); how many. A connection error once closed and nothing was moved.
    pub fn try_next_into(&self, max: usize, out: &mut Vec<PubSubEvent>) -> Result<usize> {
        match self.inner().pop_into(max, out) {
            0 if self.is_closed() => Err(closed()),
            n => Ok(n),
        }
    }

    /// Gives back events taken by [`Subscriber::try_next_into`] and not handled (a
    /// consumer that stops in the middle of a burst): they are the next to be read, in
    /// their order. Discarded once the subscriber is closed.
    pub fn unread(&self, events: Vec<PubSubEvent>) {
        self.inner().unread(events);
    }

    /// Whether a connection is up and subscribed now.
    pub fn is_connected(&self) -> bool {
        match &self.handle.cluster {
            Some(c) => c.is_connected(),
            None => *self.inner().published.borrow() != 0,
        }
    }

    /// Messages and bytes queued now.
    pub fn queued(&self) -> (usize, usize) {
        let q = self.inner().queue.lock().unwrap_or_else(|p| p.into_inner());
        (q.messages, q.bytes)
    }

    /// The channels, patterns and shard channels subscribed (or to be, once connected).
    pub fn subscriptions(&self) -> Subscriptions {
        let w = self
            .inner()
            .wanted
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Subscriptions {
            channels: w.channels.iter().cloned().collect(),
            patterns: w.patterns.iter().cloned().collect(),
            shards: w.shards.iter().cloned().collect(),
        }
    }

    /// Closes the connection and the queue: waiting and later reads fail with a
    /// connection error, queued events are discarded. Idempotent.
    pub fn close(&self) {
        self.handle.task.abort();
        if let Some(c) = &self.handle.cluster {
            c.close();
        }
        let inner = self.inner();
        {
            let mut q = inner.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.closed = true;
            q.hidden = 0;
            q.items.clear();
            q.messages = 0;
            q.bytes = 0;
        }
        inner.ready.notify_waiters();
        inner.published.send_replace(0);
        if let Ok(mut link) = inner.link.try_lock() {
            link.take();
        }
    }

    /// Whether [`Subscriber::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.inner()
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .closed
    }
}

impl std::fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber")
            .field("connected", &self.is_connected())
            .field("queued", &self.queued())
            .finish_non_exhaustive()
    }
}

fn check_options(options: &PubSubOptions) -> Result<()> {
    if options.max_messages == 0 || options.max_bytes == 0 {
        return Err(Error::invalid(
            "a subscriber's queue needs room for at least one message (max_messages, max_bytes > 0)",
        ));
    }
    Ok(())
}

fn closed() -> Error {
    Error::new(
        ErrorKind::Connection,
        "this subscriber is closed; open a new one with pubsub()",
    )
}

/// Sends one subscription command (several for shard channels: one per channel) and
/// waits for the server's confirmations, at most `timeout`; a timeout counts as a lost
/// connection (a confirmation that late cannot be told from a dead peer).
async fn send(
    live: &Live,
    kind: SubscriptionKind,
    names: Vec<Vec<u8>>,
    timeout: Duration,
) -> Result<()> {
    match tokio::time::timeout(timeout, send_untimed(live, kind, names)).await {
        Ok(r) => r,
        Err(_) => Err(Error::new(
            ErrorKind::Connection,
            format!(
                "{} got no confirmation within {} ms; reconnecting",
                kind.command(),
                timeout.as_millis()
            ),
        )),
    }
}

async fn send_untimed(live: &Live, kind: SubscriptionKind, names: Vec<Vec<u8>>) -> Result<()> {
    let mut conn = live.conn.clone();
    let result = match kind {
        SubscriptionKind::Subscribe => conn.subscribe(names).await,
        SubscriptionKind::Unsubscribe => conn.unsubscribe(names).await,
        SubscriptionKind::PSubscribe => conn.psubscribe(names).await,
        SubscriptionKind::PUnsubscribe => conn.punsubscribe(names).await,
        SubscriptionKind::SSubscribe | SubscriptionKind::SUnsubscribe => {
            // One confirmation per command: redis-rs pairs it with the request.
            let mut out = Ok(());
            if names.is_empty() {
                out = conn
                    .send_packed_command(&redis::cmd(kind.command()))
                    .await
                    .map(drop);
            }
            for name in names {
                let mut c = redis::cmd(kind.command());
                c.arg(name);
                if let Err(e) = conn.send_packed_command(&c).await {
                    out = Err(e);
                    break;
                }
            }
            out
        }
    };
    result.map_err(Error::from)
}

/// Subscribes a fresh connection to everything wanted (SUBSCRIBE and PSUBSCRIBE in chunks,
/// one SSUBSCRIBE per shard channel).
async fn resubscribe(inner: &Inner, live: &Live) -> Result<()> {
    let response = inner.config.response_timeout();
    let (channels, patterns, shards) = {
        let w = inner.wanted.lock().unwrap_or_else(|p| p.into_inner());
        let all = |s: &BTreeSet<Vec<u8>>| s.iter().cloned().collect::<Vec<_>>();
        (all(&w.channels), all(&w.patterns), all(&w.shards))
    };
    for (kind, names) in [
        (SubscriptionKind::Subscribe, channels),
        (SubscriptionKind::PSubscribe, patterns),
    ] {
        for chunk in names.chunks(RESUBSCRIBE_CHUNK) {
            send(live, kind, chunk.to_vec(), response).await?;
        }
    }
    for shard in shards {
        match send(
            live,
            SubscriptionKind::SSubscribe,
            vec![shard.clone()],
            response,
        )
        .await
        {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), ErrorKind::Connection | ErrorKind::Timeout) => {
                return Err(e)
            }
            Err(_) => {
                // Refused (MOVED: its slot is served elsewhere now): dropped here and
                // reported as the server reports a slot moving away, so that a cluster
                // subscriber places it again; the other subscriptions go on.
                let mut w = inner.wanted.lock().unwrap_or_else(|p| p.into_inner());
                w.shards.remove(&shard);
                drop(w);
                inner.push(PubSubEvent::Subscription {
                    kind: SubscriptionKind::SUnsubscribe,
                    channel: Some(shard),
                    count: 0,
                });
            }
        }
    }
    Ok(())
}

/// Opens a subscriber connection (RESP3, the client's handshake, CLIENT SETNAME) whose
/// pushes go to `inner`'s queue. A plain TCP or Unix socket is opened here and sieved
/// ([`sieve::Sieve`]: messages skip redis-rs's parser); a TLS one is redis-rs's own.
async fn open(inner: &Arc<Inner>, generation: u64) -> Result<Live> {
    let config = &inner.config;
    let weak: Weak<Inner> = Arc::downgrade(inner);
    let cfg = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout()))
        .set_response_timeout(None)
        .set_push_sender(move |push: PushInfo| {
            if let Some(inner) = weak.upgrade() {
                inner.on_push(generation, push);
            }
            Ok::<(), std::convert::Infallible>(())
        });
    let redis = config.redis_client()?;
    let made = if config.tls.is_some() {
        redis
            .get_multiplexed_async_connection_with_config(&cfg)
            .await
            .map(|conn| (conn, None))
    } else {
        let sieved = sieved(inner, &redis, cfg, config.target()?);
        match tokio::time::timeout(config.connect_timeout(), sieved).await {
            Ok(r) => r,
            Err(_) => Err(redis::RedisError::from(std::io::Error::from(
                std::io::ErrorKind::TimedOut,
            ))),
        }
    };
    let (mut conn, driver) = made.map_err(|e| no_resp3(connect_error(e.into(), config), config))?;
    if let Some(name) = &config.client_name {
        let mut c = redis::cmd("CLIENT");
        c.arg("SETNAME").arg(name);
        conn.send_packed_command(&c).await?;
    }
    Ok(Live {
        generation,
        conn,
        _driver: driver,
    })
}

/// A multiplexed connection over a socket opened here and sieved, with its driver task.
async fn sieved(
    inner: &Arc<Inner>,
    redis: &redis::Client,
    cfg: redis::AsyncConnectionConfig,
    target: crate::settings::Addr,
) -> redis::RedisResult<(MultiplexedConnection, Option<Arc<Driver>>)> {
    let settings = redis.get_connection_info().redis_settings();
    let sink = Arc::downgrade(inner);
    let (conn, driver) = match target {
        crate::settings::Addr::Tcp { host, port } => {
            let stream = tokio::net::TcpStream::connect((host.as_str(), port)).await?;
            stream.set_nodelay(true)?;
            over_sieve(stream, sink, settings, cfg).await?
        }
        #[cfg(unix)]
        crate::settings::Addr::Unix(path) => {
            let stream = tokio::net::UnixStream::connect(path).await?;
            over_sieve(stream, sink, settings, cfg).await?
        }
        #[cfg(not(unix))]
        crate::settings::Addr::Unix(_) => {
            return Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                "Unix sockets need a Unix system",
            )))
        }
    };
    Ok((conn, Some(Arc::new(Driver(driver)))))
}

/// redis-rs's multiplexed connection over `stream` with the sieve in between, and its
/// driver task (TCP and Unix sockets alike).
async fn over_sieve<S>(
    stream: S,
    sink: std::sync::Weak<Inner>,
    settings: &redis::RedisConnectionInfo,
    cfg: redis::AsyncConnectionConfig,
) -> redis::RedisResult<(MultiplexedConnection, runtime::AbortHandle)>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (conn, driver) =
        MultiplexedConnection::new_with_config(settings, sieve::Sieve::new(stream, sink), cfg)
            .await?;
    Ok((conn, runtime::spawn(driver)))
}

/// A server that refuses HELLO 3 (Redis before 6, or HELLO renamed away) cannot carry
/// subscriptions here: say so, instead of the bare server error.
fn no_resp3(e: Error, config: &Config) -> Error {
    let text = e.message().to_ascii_lowercase();
    if text.contains("hello") && (text.contains("unknown command") || text.contains("noproto")) {
        return Error::new(
            ErrorKind::Connection,
            format!(
                "{} refused HELLO 3: subscriptions use RESP3, which needs Redis 6 or newer (or Valkey); the server said: {}",
                config.addr,
                e.message()
            ),
        );
    }
    e
}

/// The supervisor: connects on the first subscription, resubscribes after every loss
/// (then queues a gap), checks the connection with PING, and reconnects with backoff.
async fn supervise(inner: Arc<Inner>) {
    inner.demand.notified().await;
    let budget = inner.config.connect_timeout() + inner.config.response_timeout();
    let interval = inner
        .options
        .health_check_interval
        .filter(|d| !d.is_zero())
        .unwrap_or(inner.config.connect_timeout());
    let mut failures = 0u32;
    let mut connected_before = false;
    let mut lost_rx = inner.lost.subscribe();
    loop {
        let generation = inner.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let made = async {
            let live = open(&inner, generation).await?;
            let mut link = inner.link.lock().await;
            if connected_before {
                // A loss: hold what this connection delivers until the gap is queued.
                inner.hold();
            }
            resubscribe(&inner, &live).await?;
            *link = Some(live.clone());
            Ok::<Live, Error>(live)
        };
        let outcome = match tokio::time::timeout(budget, made).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "connecting and resubscribing took over {} ms",
                    budget.as_millis()
                ),
            )),
        };
        *inner.last_error.lock().unwrap_or_else(|p| p.into_inner()) =
            outcome.as_ref().err().map(|e| e.message().to_string());
        let live = match outcome {
            Ok(live) => live,
            Err(_) => {
                tokio::time::sleep(backoff(failures)).await;
                failures = failures.saturating_add(1);
                continue;
            }
        };
        // Not when reconnect() dropped it meanwhile (checked under the watch's lock, which
        // reconnect() takes after marking it lost): it is not connected then.
        inner.published.send_if_modified(|g| {
            let dropped = *inner.lost.borrow() >= generation;
            if !dropped {
                *g = generation;
            }
            !dropped
        });
        if std::mem::replace(&mut connected_before, true) {
            // Anything published between the loss and now was not received.
            inner.stats.pubsub_resubscribe();
            inner.release(Gap {
                cause: GapCause::Reconnected,
                dropped: 0,
            });
        }
        failures = 0;
        watch_health(&inner, &live, interval, &mut lost_rx).await;
        inner.published.send_replace(0);
        inner.link.lock().await.take();
    }
}

/// Returns when the connection of `live` is lost: its reader saw it close, a command on
/// it failed at the connection level, or it went silent: a PING, sent every `interval`,
/// got no answer and nothing else arrived within the response timeout.
/// While pushes keep arriving the peer is alive and the PONG may be queued behind them
/// (a flood read by a slow consumer, a starved CPU), so the wait goes on, bounded by the
/// server's own output-buffer limit, which closes the connection (seen as a loss).
async fn watch_health(
    inner: &Inner,
    live: &Live,
    interval: Duration,
    lost_rx: &mut watch::Receiver<u64>,
) {
    let ping_cmd = redis::cmd("PING");
    loop {
        if *lost_rx.borrow_and_update() >= live.generation {
            return;
        }
        tokio::select! {
            changed = lost_rx.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(interval) => {
                let mut conn = live.conn.clone();
                if !matches!(answered(inner, conn.send_packed_command(&ping_cmd)).await, Some(Ok(_))) {
                    return;
                }
            }
        }
    }
}

/// Waits for the answer to a command sent on a subscriber's connection: `None` when the
/// connection went silent (no answer and no push for a whole response timeout). Pushes
/// arriving meanwhile prove the peer alive, so the wait goes on (the answer is queued
/// behind them); the server's output-buffer limit bounds how far behind it can be.
async fn answered<T>(inner: &Inner, reply: impl std::future::Future<Output = T>) -> Option<T> {
    let response = inner.config.response_timeout();
    tokio::pin!(reply);
    let mut seen = inner.heard.load(Ordering::Relaxed);
    loop {
        if let Ok(r) = tokio::time::timeout(response, &mut reply).await {
            return Some(r);
        }
        let now = inner.heard.load(Ordering::Relaxed);
        if std::mem::replace(&mut seen, now) == now {
            return None;
        }
    }
}

/// The blocking face of [`Subscriber`] (sync callers, C): calls wait on the calling
/// thread, with the core runtime's I/O.
#[derive(Clone, Debug)]
pub struct SyncSubscriber {
    subscriber: Subscriber,
    runtime: &'static tokio::runtime::Runtime,
}

impl SyncSubscriber {
    /// [`Subscriber::subscribe`], blocking.
    pub fn subscribe<I, N>(&self, kind: SubscriptionKind, names: I) -> Result<()>
    where
        I: IntoIterator<Item = N>,
        N: Into<Vec<u8>>,
    {
        block_on(self.runtime, self.subscriber.subscribe(kind, names))
    }

    /// [`Subscriber::unsubscribe`], blocking.
    pub fn unsubscribe<I, N>(&self, kind: SubscriptionKind, names: I) -> Result<()>
    where
        I: IntoIterator<Item = N>,
        N: Into<Vec<u8>>,
    {
        block_on(self.runtime, self.subscriber.unsubscribe(kind, names))
    }

    /// [`Subscriber::ping`], blocking.
    pub fn ping(&self, message: Option<Vec<u8>>) -> Result<()> {
        block_on(self.runtime, self.subscriber.ping(message))
    }

    /// The next event; `None` when `timeout` passes first (`None`: wait as long as it
    /// takes). A connection error once closed.
    pub fn next(&self, timeout: Option<Duration>) -> Result<Option<PubSubEvent>> {
        let sub = &self.subscriber;
        if let Some(e) = sub.try_next_soon()? {
            return Ok(Some(e));
        }
        block_on(self.runtime, async move {
            match timeout {
                None => sub.next_event().await.map(Some),
                Some(t) => match tokio::time::timeout(t, sub.next_event()).await {
                    Ok(event) => event.map(Some),
                    Err(_) => Ok(None),
                },
            }
        })
    }

    /// The async subscriber this wraps (shares its connection and queue).
    pub fn as_async(&self) -> &Subscriber {
        &self.subscriber
    }
}

impl std::ops::Deref for SyncSubscriber {
    type Target = Subscriber;
    fn deref(&self) -> &Subscriber {
        &self.subscriber
    }
}

impl Client {
    /// A [`Subscriber`] on a connection of its own, with this client's configuration
    /// (always RESP3 on that connection) and its stats. The connection opens with the
    /// first subscription. On a cluster, one such connection per node that serves a
    /// subscription (see `pubsub_cluster.rs`), merged into one queue.
    pub fn pubsub(&self, options: PubSubOptions) -> Result<Subscriber> {
        let engine = self.engine()?;
        let stats = self.shared.stats.clone();
        let result = if engine.cluster.is_some() {
            cluster::start(self.config(), stats, options)
        } else {
            Subscriber::start(self.config(), stats, options)
        };
        if let (Ok(sub), Some(_)) = (&result, self.config().sentinel()) {
            let mut subs = self
                .shared
                .subscribers
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            subs.retain(|s| s.0.strong_count() > 0);
            subs.push(SubscriberRef(Arc::downgrade(&sub.handle)));
        }
        self.count_error(result)
    }
}

impl super::SyncClient {
    /// A [`SyncSubscriber`]: [`Client::pubsub`] with blocking calls.
    pub fn pubsub(&self, options: PubSubOptions) -> Result<SyncSubscriber> {
        let client = self.async_client();
        let runtime = client.engine()?.runtime;
        let subscriber = client.pubsub(options)?;
        Ok(SyncSubscriber {
            subscriber,
            runtime,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inner(max_messages: usize, max_bytes: usize) -> Inner {
        let options = PubSubOptions {
            max_messages,
            max_bytes,
            health_check_interval: None,
        };
        let config = crate::settings::ConfigBuilder::default().build().unwrap();
        Inner::new(config, options, Arc::default())
    }

    fn msg(payload: &[u8]) -> PubSubEvent {
        PubSubEvent::Message(PubSubMessage {
            kind: MessageKind::Message,
            channel: b"c".to_vec(),
            pattern: None,
            payload: payload.to_vec(),
        })
    }

    #[test]
    fn overflow_is_dropped_counted_and_one_gap_in_order() {
        let q = inner(2, 1 << 20);
        for p in [b"1", b"2", b"3", b"4"] {
            q.push(msg(p));
        }
        q.pop();
        q.push(msg(b"5"));
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            rest,
            [
                msg(b"2"),
                PubSubEvent::Gap(Gap {
                    cause: GapCause::Overflow,
                    dropped: 2
                }),
                msg(b"5")
            ]
        );
        let s = q.stats.snapshot(Default::default(), None);
        assert_eq!((s.pubsub_messages, s.pubsub_dropped), (3, 2));
    }

    #[test]
    fn what_a_resubscribing_connection_delivers_waits_behind_the_gap() {
        let q = inner(3, 1 << 20);
        q.push(msg(b"old"));
        q.hold();
        q.push(msg(b"new1"));
        q.push(msg(b"new2"));
        q.push(msg(b"new3")); // over the bound of 3: dropped, a hidden overflow gap
        assert_eq!(q.pop(), Some(msg(b"old")));
        assert_eq!(q.pop(), None, "held events are not visible before the gap");
        let reconnected = Gap {
            cause: GapCause::Reconnected,
            dropped: 0,
        };
        q.release(reconnected);
        let rest: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            rest,
            [
                PubSubEvent::Gap(reconnected),
                msg(b"new1"),
                msg(b"new2"),
                PubSubEvent::Gap(Gap {
                    cause: GapCause::Overflow,
                    dropped: 1
                }),
            ]
        );
        q.push(msg(b"later"));
        assert_eq!(q.pop(), Some(msg(b"later")));
    }

    #[test]
    fn the_byte_bound_holds() {
        let q = inner(100, 10);
        q.push(msg(b"1234")); // 5 bytes with the channel
        q.push(msg(b"1234"));
        q.push(msg(b"1"));
        let held = q.queue.lock().unwrap();
        assert_eq!((held.messages, held.bytes), (2, 10));
    }

    #[test]
    fn pushes_become_events_and_debug_hides_data() {
        let e = event_of(PushInfo {
            kind: PushKind::PMessage,
            data: vec![
                Value::BulkString(b"p*".to_vec()),
                Value::BulkString(b"pa".to_vec()),
                Value::BulkString(b"secret".to_vec()),
            ],
        })
        .unwrap();
        let PubSubEvent::Message(m) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(m.pattern.as_deref(), Some(&b"p*"[..]));
        assert_eq!(m.payload, b"secret");
        assert!(!format!("{e:?}").contains("secret"));
        let e = event_of(PushInfo {
            kind: PushKind::Unsubscribe,
            data: vec![Value::Nil, Value::Int(0)],
        })
        .unwrap();
        assert_eq!(
            e,
            PubSubEvent::Subscription {
                kind: SubscriptionKind::Unsubscribe,
                channel: None,
                count: 0
            }
        );
    }
}
