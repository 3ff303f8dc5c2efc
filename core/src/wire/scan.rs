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
        self.command_at(&self.cursor)
    }

    /// The command for the page after the one whose reply begins with `first` (its
    /// cursor), before that reply is read to its end ([`crate::SyncScan`] asks for it
    /// then); `None` when `first` ends the iteration or is not a cursor.
    pub(crate) fn command_after(&self, first: &Value) -> Option<Command> {
        match cursor_of(first)? {
            c if c == b"0" => None,
            c => self.command_at(&c).ok(),
        }
    }

    fn command_at(&self, cursor: &[u8]) -> Result<Command> {
        let mut argv: Vec<&[u8]> = Vec::with_capacity(9);
        let count;
        match &self.kind {
            ScanKind::Keys => argv.push(b"SCAN"),
            ScanKind::Set(k) => argv.extend([&b"SSCAN"[..], k]),
            ScanKind::Hash(k) => argv.extend([&b"HSCAN"[..], k]),
            ScanKind::SortedSet(k) => argv.extend([&b"ZSCAN"[..], k]),
        }
        argv.push(cursor);
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
        self.cursor = cursor_of(&cursor).ok_or_else(|| bad("cursor is not a string"))?;
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

/// A page reply's cursor as the next command sends it.
fn cursor_of(v: &Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b.clone()),
        Value::SimpleString(s) => Some(s.clone().into_bytes()),
        Value::Int(i) => Some(i.to_string().into_bytes()),
        _ => None,
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

    #[test]
    fn the_next_page_from_a_cursor_alone_is_the_page_accept_leads_to() {
        let opts = ScanOptions {
            pattern: Some(b"user:*".to_vec()),
            count: Some(100),
            key_type: None,
        };
        let mut cursor = ScanCursor::new(ScanKind::Hash(b"h".to_vec()), opts).unwrap();
        let argv = |c: &Command| c.args().map(<[u8]>::to_vec).collect::<Vec<_>>();
        for first in [
            Value::BulkString(b"96".to_vec()),
            Value::SimpleString("7".into()),
            Value::Int(12),
        ] {
            let early = cursor.command_after(&first).expect("a cursor that goes on");
            let page = Value::Array(vec![first, Value::Array(vec![])]);
            cursor.accept(page).unwrap();
            assert_eq!(argv(&early), argv(&cursor.next_command().unwrap()));
        }
        for done in [Value::BulkString(b"0".to_vec()), Value::Int(0), Value::Nil] {
            assert!(cursor.command_after(&done).is_none(), "{done:?}");
        }
    }
}
