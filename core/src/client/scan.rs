//! SCAN / SSCAN / HSCAN / ZSCAN as lazily paged streams, on the client's engines.
//!
//! The cursor logic (which command to send next, how a page reads) is
//! [`crate::wire::ScanCursor`]'s; here it is driven: by the async [`ScanStream`], by the
//! blocking [`crate::SyncScan`], and on a cluster by a walk over every primary's slots.

use redis::Value;

use super::{Client, SyncClient, SyncScan};
use crate::cluster::Primary;
use crate::command::Command;
use crate::error::{Error, ErrorKind, Result};
use crate::policy::route::{self, Carrier, Work};
use crate::wire::{ScanCursor, ScanKind, ScanOptions};

/// One iteration: its cursor, and on a cluster the walk over every primary's slots that
/// a SCAN of keys needs instead of one node's cursor.
#[derive(Clone, Debug)]
pub(crate) struct Pages {
    pub(crate) cursor: ScanCursor,
    walk: Option<Walk>,
}

impl Pages {
    /// An iteration of `kind` with `opts` for `client`'s topology (invalid options are an
    /// error).
    pub(crate) fn new(client: &Client, kind: ScanKind, opts: ScanOptions) -> Result<Pages> {
        let cursor = ScanCursor::new(kind, opts)?;
        // Other kinds name a key, which routes them.
        let walk =
            (client.config().is_cluster() && *cursor.kind() == ScanKind::Keys).then(Walk::default);
        Ok(Pages { cursor, walk })
    }

    /// True when this iteration walks a cluster's slots.
    pub(crate) fn walks(&self) -> bool {
        self.walk.is_some()
    }
}

/// Where a cluster-wide key walk is: the next hash slot, and the topology last seen.
#[derive(Clone, Debug, Default)]
struct Walk {
    primaries: Option<Vec<Primary>>,
    next_slot: u32,
}

/// Slots read per round trip of a cluster walk.
const SLOTS_PER_PAGE: u16 = 256;

/// The next non-empty page of `pages`, on `client`'s async engine (any topology).
pub(crate) async fn next_page(client: &Client, pages: &mut Pages) -> Result<Option<Vec<Value>>> {
    if pages.walk.is_some() {
        return cluster_page(client, pages).await;
    }
    let cursor = &mut pages.cursor;
    while !cursor.is_done() {
        let cmd = cursor.next_command()?;
        let reply = client.execute(&cmd).await?;
        let items = cursor.accept(reply)?;
        if !items.is_empty() {
            return Ok(Some(items));
        }
    }
    Ok(None)
}

/// The next non-empty page of a cluster-wide key walk.
///
/// SCAN's cursor belongs to one node and cannot follow keys that move, so the walk reads
/// keys slot by slot instead (`CLUSTER GETKEYSINSLOT`, a run of slots of one primary per
/// round trip) and applies MATCH here. After each read it asks the node it read what
/// that node now says of those slots ([`crate::cluster::NodeView`]): a slot it is
/// migrating, or that it says another primary serves, is read where its keys went too,
/// and the reads are merged. Keys only move from the source to the target, and the
/// target is read after the source, so a key that stays in the cluster for the whole
/// walk is yielded exactly once, through resharding and failover. Memory: one page of
/// keys.
async fn cluster_page(client: &Client, pages: &mut Pages) -> Result<Option<Vec<Value>>> {
    loop {
        let Some(walk) = pages.walk.as_mut() else {
            return Ok(None);
        };
        if walk.next_slot >= 16384 {
            pages.cursor.finish();
            return Ok(None);
        }
        let primaries = match walk.primaries.take() {
            Some(p) => p,
            None => client.cluster_primaries().await?,
        };
        let first = walk.next_slot as u16;
        let Some(owner) = primaries.iter().find(|p| p.serves(first)).cloned() else {
            // A slot no primary serves holds no reachable keys.
            walk.next_slot += 1;
            walk.primaries = Some(primaries);
            continue;
        };
        let mut last = first;
        while last < 16383 && last - first + 1 < SLOTS_PER_PAGE && owner.serves(last + 1) {
            last += 1;
        }
        let mut keys = client
            .cluster_slot_keys(&owner.host, owner.port, first, last)
            .await?;
        // Where else the keys may be, as the node just read says after the read (see
        // `NodeView` for why its own word, not another node's CLUSTER SLOTS).
        let view = client.cluster_view(&owner.host, owner.port).await?;
        let now = client.cluster_primaries().await?;
        for (i, slot) in (first..=last).enumerate() {
            let mut elsewhere = view.elsewhere(slot);
            // A newer owner another node already knows of: one more read, merged below.
            if let Some(o) = now.iter().find(|p| p.serves(slot)) {
                let addr = (o.host.clone(), o.port);
                if addr != (owner.host.clone(), owner.port) && !elsewhere.contains(&addr) {
                    elsewhere.push(addr);
                }
            }
            if elsewhere.is_empty() {
                continue;
            }
            let name = |k: &Value| match k {
                Value::BulkString(b) => b.clone(),
                other => format!("{other:?}").into_bytes(),
            };
            let mut known: std::collections::HashSet<Vec<u8>> = keys[i].iter().map(name).collect();
            for (host, port) in elsewhere {
                let more = client.cluster_slot_keys(&host, port, slot, slot).await?;
                for k in more.into_iter().flatten() {
                    if known.insert(name(&k)) {
                        keys[i].push(k);
                    }
                }
            }
        }
        let walk = pages.walk.as_mut().expect("walking");
        walk.next_slot = last as u32 + 1;
        walk.primaries = Some(now);
        let opts = pages.cursor.options();
        let pattern = opts.pattern.as_deref();
        let mut items: Vec<Value> = keys
            .into_iter()
            .flatten()
            .filter(|k| match (pattern, k) {
                (None, _) => true,
                (Some(p), Value::BulkString(b)) => crate::wire::glob_matches(p, b),
                _ => false,
            })
            .collect();
        if let Some(wanted) = opts.key_type.as_deref() {
            items = of_type(client, items, wanted).await?;
        }
        if !items.is_empty() {
            return Ok(Some(items));
        }
    }
}

/// TYPE for a cluster walk (GETKEYSINSLOT has no TYPE filter): the keys of a page whose
/// type is `wanted`, asked in one cross-slot pipeline of TYPE commands. A key deleted
/// meanwhile is `none` and left out, as SCAN would.
async fn of_type(client: &Client, keys: Vec<Value>, wanted: &str) -> Result<Vec<Value>> {
    if keys.is_empty() {
        return Ok(keys);
    }
    let mut pipe = crate::wire::Pipeline::new(false);
    for k in &keys {
        let Value::BulkString(name) = k else {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("unexpected key in CLUSTER GETKEYSINSLOT reply: {k:?}"),
            ));
        };
        pipe.add(Command::new([&b"TYPE"[..], name])?);
    }
    let types = client.pipeline(&pipe).await?;
    let mut out = Vec::with_capacity(keys.len());
    for (k, t) in keys.into_iter().zip(types) {
        let is = match t? {
            Value::SimpleString(s) => s.eq_ignore_ascii_case(wanted),
            Value::BulkString(b) => b.eq_ignore_ascii_case(wanted.as_bytes()),
            _ => false,
        };
        if is {
            out.push(k);
        }
    }
    Ok(out)
}

/// An async SCAN-family iteration over a [`Client`].
///
/// On a standalone server the next page is asked for as soon as a page arrives, so the
/// server works on it while the caller goes through this one: at most one page ahead.
/// Pages on the direct connection are read by a [`SyncScan`] on a blocking thread, which
/// asks for each page as soon as the one before has brought its cursor. A cluster-wide
/// walk reads slot runs on demand.
pub struct ScanStream {
    client: Client,
    /// Where the iteration is, as of the last page handed out.
    pages: Pages,
    /// The iteration on the direct connection, between pages.
    direct: Option<SyncScan>,
    /// The next page's request, already on its way (when not on the direct connection).
    ahead: Option<tokio::task::JoinHandle<Result<Value>>>,
}

impl ScanStream {
    pub(crate) fn new(client: Client, pages: Pages) -> ScanStream {
        ScanStream {
            client,
            pages,
            direct: None,
            ahead: None,
        }
    }

    /// The next non-empty page, or `None` when the iteration is complete.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Value>>> {
        if self.pages.walks() {
            return next_page(&self.client, &mut self.pages).await;
        }
        if route::direct(self.client.config(), Carrier::Caller, Work::ScanPage) {
            return self.next_direct().await;
        }
        let cursor = &mut self.pages.cursor;
        while !cursor.is_done() {
            let task = match self.ahead.take() {
                Some(task) => task,
                None => fetch(&self.client, cursor.next_command()?)?,
            };
            let reply = match task.await {
                Ok(reply) => reply?,
                // The task did not run to its end (runtime shutting down): ask here.
                Err(_) => self.client.execute(&cursor.next_command()?).await?,
            };
            let items = cursor.accept(reply)?;
            if !cursor.is_done() {
                self.ahead = Some(fetch(&self.client, cursor.next_command()?)?);
            }
            if !items.is_empty() {
                return Ok(Some(items));
            }
        }
        Ok(None)
    }

    /// [`Self::next_batch`] on the direct connection: the [`SyncScan`]'s next page, read on
    /// a blocking thread. Its reply reader takes a 1000-key page in a fraction of the time
    /// redis-rs's parser needs (about 340 µs). Cancelled midway, the page is asked for
    /// again by the next call (the page the lost scan had ahead is discarded).
    async fn next_direct(&mut self) -> Result<Option<Vec<Value>>> {
        let runtime = self.client.engine()?.runtime;
        let mut scan = match self.direct.take() {
            Some(scan) => scan,
            None => SyncScan::new(SyncClient::of(&self.client), self.pages.clone()),
        };
        let task = runtime.spawn_blocking(move || {
            let page = scan.next_batch();
            (scan, page)
        });
        match task.await {
            Ok((scan, page)) => {
                self.pages.clone_from(scan.pages());
                self.direct = Some(scan);
                page
            }
            // The task did not run to its end (runtime shutting down): ask here.
            Err(_) => next_page(&self.client, &mut self.pages).await,
        }
    }

    /// Reads the whole iteration into one vector (for tests and small collections).
    pub async fn collect_all(mut self) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        while let Some(batch) = self.next_batch().await? {
            all.extend(batch);
        }
        Ok(all)
    }
}

/// Starts the request for a page on the runtime's connections.
fn fetch(client: &Client, cmd: Command) -> Result<tokio::task::JoinHandle<Result<Value>>> {
    let runtime = client.engine()?.runtime;
    let client = client.clone();
    Ok(runtime.spawn(async move { client.execute(&cmd).await }))
}

impl Drop for ScanStream {
    /// A page asked for ahead and not wanted any more is not waited for.
    fn drop(&mut self) {
        if let Some(task) = self.ahead.take() {
            task.abort();
        }
    }
}
