//! A Sentinel-managed client follows failovers (docs/architecture.md, "Sentinel").
//!
//! One task per client: it asks the sentinels which node serves the service (believing
//! only a node that confirms its role), keeps `+switch-master` / `+promoted-slave` /
//! `+selected-slave` subscriptions on the sentinels (up to five), asks the replica chosen
//! for promotion its role every 20 ms so that the new primary is used the moment it takes
//! the role, asks again
//! every second in case an event was missed (or every sentinel subscription is down),
//! and learns the other sentinels (`SENTINEL SENTINELS` every 30 s, and a sentinel that
//! joins at once from the `+sentinel` event, so the client survives its seeds' loss). When the node changes, the client's engine is built
//! again: new connections open to the new node, the old ones are closed once their
//! requests are done, the cache is flushed and the switch is counted.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use tokio::sync::Notify;

use super::{Client, Shared};
use crate::error::Result;
use crate::runtime;
use crate::sentinel::{self, Announcement, Node};
use crate::settings::Config;

/// Spreads replica clients over the replicas: each client starts at another one.
static TURN: AtomicUsize = AtomicUsize::new(0);

/// How often the sentinels are asked for the sentinels they know.
const LEARN: Duration = Duration::from_secs(30);

/// Sentinels with an event subscription open at once: all of a usual deployment, as
/// only the sentinel leading a failover announces its steps (`+selected-slave`,
/// `+promoted-slave`); the others hear of it up to seconds later.
const WATCHED: usize = 5;

/// How often the replica chosen for promotion is asked its role, and for how long.
const PROMOTION_POLL: Duration = Duration::from_millis(20);
const PROMOTION_WAIT: Duration = Duration::from_secs(10);

/// The replica the sentinels chose to promote, and since when.
type Chosen = Arc<Mutex<Option<(Node, Instant)>>>;

/// Finds the node before the client's first command when the caller may block (not on
/// a runtime thread), so the first connections open to the right node at once.
pub(super) fn first_discovery(config: &Config) {
    let Some(s) = config.sentinel() else { return };
    if s.current().is_some() || tokio::runtime::Handle::try_current().is_ok() {
        return;
    }
    let turn = TURN.load(Ordering::Relaxed);
    if let Ok(node) = runtime::runtime().block_on(sentinel::discover(config, turn)) {
        s.set_current(node);
    }
}

/// Starts following the sentinels for the client of `shared` (until it is dropped or
/// closed); `None` when it does not use Sentinel.
pub(super) fn follow(shared: &Arc<Shared>) -> Option<runtime::AbortHandle> {
    shared.config.sentinel()?;
    Some(runtime::spawn(run(
        Arc::downgrade(shared),
        shared.config.clone(),
        shared.sentinel_wake.clone(),
    )))
}

/// A `+switch-master` subscription and whether its connection is still up.
struct Watch {
    node: Node,
    alive: Arc<AtomicBool>,
    _conn: MultiplexedConnection,
}

async fn run(shared: Weak<Shared>, config: Arc<Config>, wake: Arc<Notify>) {
    let Some(s) = config.sentinel() else { return };
    let announced: Arc<Mutex<Vec<Node>>> = Arc::default();
    let selected: Chosen = Arc::default();
    let mut watches: Vec<Watch> = Vec::new();
    let mut learned: Option<Instant> = None;
    let turn = TURN.fetch_add(1, Ordering::Relaxed);
    loop {
        // A primary a sentinel announced, believed once it confirms the role: the
        // fastest way to a new primary (the sentinels' own answers change only when the
        // failover is over).
        let mut heard: Vec<Node> =
            std::mem::take(&mut *announced.lock().unwrap_or_else(|p| p.into_inner()));
        // The replica being promoted, asked until it takes the role (then it is tried
        // first, like an announced primary).
        let chosen = selected.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some((node, since)) = chosen {
            if since.elapsed() > PROMOTION_WAIT || s.current().as_ref() == Some(&node) {
                *selected.lock().unwrap_or_else(|p| p.into_inner()) = None;
            } else {
                heard.push(node);
            }
        }
        let mut found = None;
        if !s.wants_replica() {
            for node in heard.into_iter().rev() {
                if sentinel::confirms_primary(&config, &node).await {
                    found = Some(node);
                    break;
                }
            }
        }
        // Whether the node in use still holds its role, else what the sentinels say: on
        // a frozen node (SIGSTOP, a hung host) each ROLE waits out the response timeout,
        // for the node in use and again for every sentinel still naming it. Meanwhile an
        // event (the promoted node announced) or, during a promotion, the next look at
        // the chosen replica must not wait: the check gives way to them.
        let promoting = selected.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        if found.is_none() {
            let check = async {
                // The node in use stays while it still holds its role: during a failover
                // a sentinel may name the old primary, still a primary for a moment,
                // after the new one was announced; going back there would lose writes. A
                // replica client stays on its replica while that one is healthy.
                if let Some(node) = s.current() {
                    let holds = if s.wants_replica() {
                        sentinel::still_replica(&config, &node).await
                    } else {
                        sentinel::confirms_primary(&config, &node).await
                    };
                    if holds {
                        return Some(node);
                    }
                }
                sentinel::discover(&config, turn).await.ok()
            };
            tokio::select! {
                f = check => found = f,
                _ = wake.notified() => continue,
                _ = tokio::time::sleep(PROMOTION_POLL), if promoting && !s.wants_replica() => continue,
            }
        }
        if let Some(node) = found {
            if s.current().as_ref() != Some(&node) {
                let Some(shared) = shared.upgrade() else {
                    return;
                };
                let _ = Client { shared }.move_to(node);
            }
        }
        if learned.is_none_or(|t| t.elapsed() >= LEARN) {
            learned = Some(Instant::now());
            let _ = sentinel::learn_sentinels(&config).await;
        }
        watches.retain(|w| w.alive.load(Ordering::Acquire));
        for node in s.sentinels() {
            if watches.len() >= WATCHED {
                break;
            }
            if watches.iter().any(|w| w.node == node) {
                continue;
            }
            if let Ok(w) = watch(&config, node, &wake, &announced, &selected).await {
                watches.push(w);
            }
        }
        if shared.strong_count() == 0 {
            return;
        }
        let promoting = selected.lock().unwrap_or_else(|p| p.into_inner()).is_some();
        let pause = if promoting {
            PROMOTION_POLL
        } else {
            sentinel::POLL
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// Subscribes to the failover events of one sentinel; they (and the connection's loss)
/// wake the follower, an announced primary is kept for it to check.
async fn watch(
    config: &Config,
    node: Node,
    wake: &Arc<Notify>,
    announced: &Arc<Mutex<Vec<Node>>>,
    selected: &Chosen,
) -> Result<Watch> {
    let alive = Arc::new(AtomicBool::new(true));
    let (flag, bell, heard) = (alive.clone(), wake.clone(), announced.clone());
    let chosen = selected.clone();
    let learned = config.sentinel().cloned();
    let conn = sentinel::watch_switches(config, &node, move |said| {
        match said {
            Announcement::Lost => flag.store(false, Ordering::Release),
            Announcement::Primary(n) => heard.lock().unwrap_or_else(|p| p.into_inner()).push(n),
            Announcement::Selected(n) => {
                *chosen.lock().unwrap_or_else(|p| p.into_inner()) = Some((n, Instant::now()))
            }
            Announcement::Sentinel(n) => {
                if let Some(s) = &learned {
                    s.learn([n]);
                }
            }
            Announcement::Other => {}
        }
        bell.notify_one();
    })
    .await?;
    Ok(Watch {
        node,
        alive,
        _conn: conn,
    })
}
