//! The cursor of SCAN / SSCAN / HSCAN / ZSCAN: which command fetches the next page and
//! how a page reply reads, the same for every engine and protocol. The engines that
//! drive it are [`crate::client`]'s ([`crate::ScanStream`], [`crate::SyncScan`]).
//!
//! HSCAN and ZSCAN items come back as two-element arrays (`[field, value]`,
//! `[member, score]`); SCAN and SSCAN items as plain values.

use redis::Value;

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

impl ScanKind {
    /// The kind a binding names `keys`, `set`, `hash` or `zset`, with the key that SSCAN,
    /// HSCAN and ZSCAN scan.
    pub fn parse(name: &str, key: Option<Vec<u8>>) -> Result<ScanKind> {
        let need_key = || {
            key.ok_or_else(|| {
                Error::invalid(format!(
                    "a {name} scan needs the key to scan (SSCAN/HSCAN/ZSCAN name one)"
                ))
            })
        };
        Ok(match name {
            "keys" => ScanKind::Keys,
            "set" => ScanKind::Set(need_key()?),
            "hash" => ScanKind::Hash(need_key()?),
            "zset" => ScanKind::SortedSet(need_key()?),
            other => {
                return Err(Error::invalid(format!(
                    "unknown scan kind {other:?}: use keys, set, hash or zset"
                )))
            }
        })
    }
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
        })
    }

    /// True once the iteration is complete.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Marks the iteration complete (a cluster walk that has read every slot).
    pub(crate) fn finish(&mut self) {
        self.done = true;
    }

    /// What is scanned.
    pub fn kind(&self) -> &ScanKind {
        &self.kind
    }

    /// MATCH, COUNT and TYPE.
    pub fn options(&self) -> &ScanOptions {
        &self.opts
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(ScanKind::parse("keys", None).unwrap(), ScanKind::Keys);
        let k = Some(b"k".to_vec());
        assert_eq!(
            ScanKind::parse("hash", k.clone()).unwrap(),
            ScanKind::Hash(b"k".to_vec())
        );
        assert_eq!(
            ScanKind::parse("zset", k.clone()).unwrap(),
            ScanKind::SortedSet(b"k".to_vec())
        );
        assert_eq!(
            ScanKind::parse("set", k).unwrap(),
            ScanKind::Set(b"k".to_vec())
        );
        let e = ScanKind::parse("hash", None).unwrap_err();
        assert!(e.message().contains("needs the key"), "{e}");
        let e = ScanKind::parse("list", None).unwrap_err();
        assert!(e.message().contains("unknown scan kind \"list\""), "{e}");
    }
}
