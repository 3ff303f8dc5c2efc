//! SCAN / SSCAN / HSCAN / ZSCAN as one lazily paged stream.
//!
//! The stream asks for the next page only when the caller has consumed the current
//! one. [`ScanCursor`] holds the cursor logic (which command to send next, how to read a
//! page); the async [`ScanStream`] and the blocking [`crate::SyncScan`] drive it with
//! their own engine. HSCAN and ZSCAN items come back as two-element arrays
//! (`[field, value]`, `[member, score]`); SCAN and SSCAN items as plain values.

use redis::Value;

use crate::client::Client;
use crate::cluster::{slot_of, Primary};
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

/// Where a cluster-wide SCAN is: the primaries (fetched on the first page) and which
/// one is being scanned. Only the keys of the slots a primary serves are taken from it,
/// so a key is never yielded by two nodes.
#[derive(Clone, Debug, Default)]
struct Walk {
    primaries: Option<Vec<Primary>>,
    at: usize,
}

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

    /// Makes a SCAN of keys walk every primary of a cluster (other kinds name a key,
    /// which routes them).
    pub(crate) fn for_cluster(mut self) -> Self {
        if self.kind == ScanKind::Keys {
            self.walk = Some(Walk::default());
        }
        self
    }

    /// A cluster walk that has not fetched its primaries yet.
    pub(crate) fn needs_primaries(&self) -> bool {
        matches!(&self.walk, Some(w) if w.primaries.is_none())
    }

    /// Starts the walk over these primaries.
    pub(crate) fn set_primaries(&mut self, primaries: Vec<Primary>) {
        if let Some(w) = &mut self.walk {
            self.done = primaries.is_empty();
            w.primaries = Some(primaries);
            w.at = 0;
        }
    }

    /// The node the next command must go to (cluster walk), else `None` (routed as usual).
    pub(crate) fn target(&self) -> Option<(&str, u16)> {
        let w = self.walk.as_ref()?;
        let p = w.primaries.as_ref()?.get(w.at)?;
        Some((p.host.as_str(), p.port))
    }

    /// True once the server returned cursor 0.
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
        let node_done = self.cursor == b"0";
        let mut serving = None;
        if let Some(w) = &mut self.walk {
            let primaries = w.primaries.as_deref().unwrap_or_default();
            serving = primaries.get(w.at).cloned();
            if node_done {
                w.at += 1;
                self.cursor = b"0".to_vec();
            }
            self.done = w.at >= primaries.len();
        } else {
            self.done = node_done;
        }
        let items = match items {
            Value::Array(v) | Value::Set(v) => v,
            Value::Map(m) => m.into_iter().flat_map(|(k, v)| [k, v]).collect(),
            _ => return Err(bad("items are not an array")),
        };
        let items = match serving {
            Some(p) => items
                .into_iter()
                .filter(|k| matches!(k, Value::BulkString(b) if p.serves(slot_of(b))))
                .collect(),
            None => items,
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
    while !cursor.is_done() {
        if cursor.needs_primaries() {
            let primaries = client.cluster_primaries().await?;
            cursor.set_primaries(primaries);
            continue;
        }
        let cmd = cursor.next_command()?;
        let reply = match cursor.target() {
            Some((host, port)) => client.execute_on_node(&cmd, host, port).await?,
            None => client.execute(&cmd).await?,
        };
        let items = cursor.accept(reply)?;
        if !items.is_empty() {
            return Ok(Some(items));
        }
    }
    Ok(None)
}

/// An async SCAN-family iteration over a [`Client`].
pub struct ScanStream {
    client: Client,
    cursor: ScanCursor,
}

impl ScanStream {
    pub(crate) fn new(client: Client, cursor: ScanCursor) -> ScanStream {
        ScanStream { client, cursor }
    }

    /// The next non-empty page, or `None` when the iteration is complete. Fetches only
    /// when called: nothing is read ahead.
    pub async fn next_batch(&mut self) -> Result<Option<Vec<Value>>> {
        next_page(&self.client, &mut self.cursor).await
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
