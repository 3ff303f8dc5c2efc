//! SCAN / SSCAN / HSCAN / ZSCAN as one lazily paged stream.
//!
//! The stream asks for the next page only when the caller has consumed the current
//! one. [`ScanCursor`] holds the cursor logic (which command to send next, how to read a
//! page); the async [`ScanStream`] and the blocking [`crate::SyncScan`] drive it with
//! their own engine. HSCAN and ZSCAN items come back as two-element arrays
//! (`[field, value]`, `[member, score]`); SCAN and SSCAN items as plain values.

use redis::Value;

use crate::client::Client;
use crate::cluster::Primary;
use crate::command::Command;
use crate::error::{Error, ErrorKind, Result};

/// What to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScanKind {
    /// Keys of the database (SCAN).
    Keys,
    /// Members of a set (SSCAN key).
    Set(Vec<u8>),
    /// Fields and values of a hash (HSCAN key).
    Hash(Vec<u8>),
    /// Members and scores of a sorted set (ZSCAN key).
    SortedSet(Vec<u8>),
}

/// MATCH, COUNT and TYPE.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanOptions {
    /// Glob pattern (MATCH).
    pub pattern: Option<Vec<u8>>,
    /// Hint of items per page (COUNT).
    pub count: Option<usize>,
    /// Key type filter (TYPE), SCAN only.
    pub key_type: Option<String>,
}

/// The cursor state of one iteration, independent of the engine that sends it.
#[derive(Clone, Debug)]
pub struct ScanCursor {
    kind: ScanKind,
    opts: ScanOptions,
    cursor: Vec<u8>,
    done: bool,
    /// Cluster-wide SCAN: the primaries to walk, one after the other.
    walk: Option<Walk>,
}

/// Where a cluster-wide key walk is: the next hash slot, and the topology last seen.
#[derive(Clone, Debug, Default)]
struct Walk {
    primaries: Option<Vec<Primary>>,
    next_slot: u32,
}

/// Slots read per round trip of a cluster walk.
const SLOTS_PER_PAGE: u16 = 256;

impl ScanCursor {
    /// A cursor at the start; invalid option combinations are an error.
    pub fn new(kind: ScanKind, opts: ScanOptions) -> Result<ScanCursor> {
        if opts.key_type.is_some() && kind != ScanKind::Keys {
            return Err(Error::invalid(
                "TYPE is only accepted by SCAN (keys), not by SSCAN/HSCAN/ZSCAN",
            ));
        }
        if opts.count == Some(0) {
            return Err(Error::invalid("COUNT must be at least 1"));
        }
        Ok(ScanCursor {
            kind,
            opts,
            cursor: b"0".to_vec(),
            done: false,
            walk: None,
        })
    }

    /// Makes a SCAN of keys walk the whole cluster, slot by slot (other kinds name a
    /// key, which routes them).
    pub(crate) fn for_cluster(mut self) -> Result<Self> {
        if self.kind == ScanKind::Keys {
            self.walk = Some(Walk::default());
        }
        Ok(self)
    }

    /// True once the iteration is complete.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The command that fetches the next page.
    pub fn next_command(&self) -> Result<Command> {
        let mut argv: Vec<&[u8]> = Vec::with_capacity(9);
        let count;
        match &self.kind {
            ScanKind::Keys => argv.push(b"SCAN"),
            ScanKind::Set(k) => argv.extend([&b"SSCAN"[..], k]),
            ScanKind::Hash(k) => argv.extend([&b"HSCAN"[..], k]),
            ScanKind::SortedSet(k) => argv.extend([&b"ZSCAN"[..], k]),
        }
        argv.push(&self.cursor);
        if let Some(p) = &self.opts.pattern {
            argv.extend([&b"MATCH"[..], p]);
        }
        if let Some(c) = self.opts.count {
            count = c.to_string();
            argv.extend([&b"COUNT"[..], count.as_bytes()]);
        }
        if let Some(t) = &self.opts.key_type {
            argv.extend([&b"TYPE"[..], t.as_bytes()]);
        }
        Command::new(argv)
    }

    /// Reads a page reply `[cursor, items]`, advances the cursor, returns the items.
    pub fn accept(&mut self, reply: Value) -> Result<Vec<Value>> {
        let bad = |what: &str| {
            Error::new(
                ErrorKind::Protocol,
                format!("unexpected SCAN reply: {what}"),
            )
        };
        let Value::Array(mut parts) = reply else {
            return Err(bad("not an array"));
        };
        if parts.len() != 2 {
            return Err(bad("not [cursor, items]"));
        }
        let items = parts.pop().expect("two parts");
        let cursor = parts.pop().expect("two parts");
        self.cursor = match cursor {
            Value::BulkString(b) => b,
            Value::SimpleString(s) => s.into_bytes(),
            Value::Int(i) => i.to_string().into_bytes(),
            _ => return Err(bad("cursor is not a string")),
        };
        self.done = self.cursor == b"0";
        let items = match items {
            Value::Array(v) | Value::Set(v) => v,
            Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            _ => return Err(bad("items are not an array")),
        };
        Ok(match self.kind {
            ScanKind::Hash(_) | ScanKind::SortedSet(_) => {
                let mut out = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(a), Some(b)) = (it.next(), it.next()) {
                    out.push(Value::Array(vec![a, b]));
                }
                out
            }
            _ => items,
        })
    }
}

/// The next non-empty page of `cursor`, on `client`'s async engine (any topology).
pub(crate) async fn next_page(
    client: &Client,
    cursor: &mut ScanCursor,
) -> Result<Option<Vec<Value>>> {
    if cursor.walk.is_some() {
        return cluster_page(client, cursor).await;
    }
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
/// round trip) and applies MATCH here. After each read it looks again: a slot that has
/// moved to another node meanwhile, or that its node is migrating now, is read where its
/// keys went too, and the two reads are merged. Keys only move from the source to the
/// target, and the target is read after the source, so a key that stays in the cluster
/// for the whole walk is yielded exactly once, through resharding and failover. Memory:
/// one page of keys.
async fn cluster_page(client: &Client, cursor: &mut ScanCursor) -> Result<Option<Vec<Value>>> {
    loop {
        let Some(walk) = cursor.walk.as_mut() else {
            return Ok(None);
        };
        if walk.next_slot >= 16384 {
            cursor.done = true;
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
        let now = client.cluster_primaries().await?;
        let moving = client.cluster_migrating(&owner.host, owner.port).await?;
        for (i, slot) in (first..=last).enumerate() {
            let mut elsewhere: Vec<(String, u16)> = moving
                .iter()
                .filter(|m| m.0 == slot)
                .map(|m| (m.1.clone(), m.2))
                .collect();
            if let Some(o) = now.iter().find(|p| p.serves(slot)) {
                if (o.host.as_str(), o.port) != (owner.host.as_str(), owner.port) {
                    elsewhere.push((o.host.clone(), o.port));
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
        let walk = cursor.walk.as_mut().expect("walking");
        walk.next_slot = last as u32 + 1;
        walk.primaries = Some(now);
        let pattern = cursor.opts.pattern.as_deref();
        let mut items: Vec<Value> = keys
            .into_iter()
            .flatten()
            .filter(|k| match (pattern, k) {
                (None, _) => true,
                (Some(p), Value::BulkString(b)) => crate::glob::matches(p, b),
                _ => false,
            })
            .collect();
        if let Some(wanted) = cursor.opts.key_type.as_deref() {
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
    let mut pipe = crate::pipeline::Pipeline::new(false);
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
/// A cluster-wide walk reads slot runs on demand.
pub struct ScanStream {
    client: Client,
    cursor: ScanCursor,
    /// The next page's request, already on its way.
    ahead: Option<tokio::task::JoinHandle<Result<Value>>>,
}

impl ScanStream {
    pub(crate) fn new(client: Client, cursor: ScanCursor) -> ScanStream {
        ScanStream {
            client,
            cursor,
            ahead: None,
        }
    }

    /// The next non-empty page, or `None` when the iteration is complete.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Value>>> {
        if self.cursor.walk.is_some() {
            return next_page(&self.client, &mut self.cursor).await;
        }
        while !self.cursor.is_done() {
            let task = match self.ahead.take() {
                Some(task) => task,
                None => fetch(&self.client, self.cursor.next_command()?)?,
            };
            let reply = match task.await {
                Ok(reply) => reply?,
                // The task did not run to its end (runtime shutting down): ask here.
                Err(_) => self.client.execute(&self.cursor.next_command()?).await?,
            };
            let items = self.cursor.accept(reply)?;
            if !self.cursor.is_done() {
                self.ahead = Some(fetch(&self.client, self.cursor.next_command()?)?);
            }
            if !items.is_empty() {
                return Ok(Some(items));
            }
        }
        Ok(None)
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

/// Starts the request for a page. On a standalone server with a shared connection it is
/// a blocking task on the client's direct connection: its reply reader takes a
/// 1000-key page in a fraction of the time redis-rs's parser needs (about 340 µs),
/// which is most of a page's cost on the multiplexed connection.
fn fetch(client: &Client, cmd: Command) -> Result<tokio::task::JoinHandle<Result<Value>>> {
    let runtime = client.engine()?.runtime;
    let config = client.config();
    if config.mode == crate::config::Mode::Multiplexed && !config.cluster {
        let sync = crate::sync::SyncClient::of(client);
        Ok(runtime.spawn_blocking(move || sync.execute(&cmd)))
    } else {
        let client = client.clone();
        Ok(runtime.spawn(async move { client.execute(&cmd).await }))
    }
}

impl Drop for ScanStream {
    /// A page asked for ahead and not wanted any more is not waited for.
    fn drop(&mut self) {
        if let Some(task) = self.ahead.take() {
            task.abort();
        }
    }
}
