//! A resumable RESP2/RESP3 reply reader for the sync engine's direct connection.
//!
//! Why not redis-rs's parser: its sync `Parser` is built on `combine` and spent about
//! 340 µs on a 1000-key SCAN page (measured in a release build), most of a page's time
//! in the bench's W4; this reader does the same page in a small fraction of that.
//! It yields the same `redis::Value`s, so everything above it is unchanged. Rare reply
//! types whose exact `Value` shape is redis-rs's business (errors, big numbers) are
//! handed to `redis::parse_redis_value` one frame at a time.
//!
//! Aggregates are built on an explicit stack, so a reply that arrives over many reads
//! is parsed once, not from the start after every read.

use std::io::Read;

use redis::{PushKind, Value, VerbatimFormat};

use crate::error::{Error, ErrorKind, Result};

/// Deeper nesting than this is refused as a protocol error (redis-rs allows 100).
const MAX_DEPTH: usize = 100;
/// Bytes asked of the socket per read when the reply's size is not known.
const READ_CHUNK: usize = 16 * 1024;
/// A length prefix may reserve at most this much before its bytes arrive, so a
/// corrupt length cannot allocate gigabytes up front.
const MAX_RESERVE: usize = 64 * 1024 * 1024;
/// Largest element count pre-allocated for an aggregate before its items arrive.
const MAX_PREALLOC: usize = 64 * 1024;

/// What an open aggregate becomes when its last item arrives.
#[derive(Clone, Copy)]
enum Shape {
    Array,
    Set,
    Map,
    Push,
    /// `|n`: n attribute pairs, then the value they describe.
    Attribute,
}

struct Open {
    shape: Shape,
    want: usize,
    items: Vec<Value>,
}

/// The outcome of looking at the bytes at the read position.
enum Step {
    /// A complete value (a scalar, or an empty aggregate).
    Value(Value),
    /// An aggregate header: its items follow.
    Open(Open),
    /// More bytes are needed; at least this many in all from the read position.
    Need(usize),
}

/// Reads replies from a byte stream, buffering what arrives beyond the current reply.
#[derive(Default)]
pub(crate) struct Reader {
    /// Initialised bytes; `buf[pos..end]` is unread data.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    stack: Vec<Open>,
}

impl Reader {
    /// Reads one complete reply from `src`, blocking in `src.read` as needed.
    ///
    /// An I/O error or a malformed reply leaves the reader in an undefined state: the
    /// connection must be dropped (the sync engine does).
    pub(crate) fn read<R: Read>(&mut self, src: &mut R) -> Result<Value> {
        self.read_then(src, |_, _| Ok(()))
    }

    /// [`Self::read`], calling `first(src, item)` as soon as the first item of a reply
    /// that is an array has arrived, before the rest of the reply is read and parsed.
    /// A SCAN page's first item is the cursor of the next page, so the next page can be
    /// asked for while this one is still arriving. An error from `first` is the read's.
    pub(crate) fn read_then<R: Read>(
        &mut self,
        src: &mut R,
        first: impl FnMut(&mut R, &Value) -> Result<()>,
    ) -> Result<Value> {
        self.poll(src, true, first)
            .map(|v| v.expect("a blocking read returns a value or an error"))
    }

    /// Like [`Self::read`] on a non-blocking source: `None` when the reply is not all
    /// there yet. What has arrived is kept, and the next call carries on from it.
    pub(crate) fn try_read<R: Read>(&mut self, src: &mut R) -> Result<Option<Value>> {
        self.poll(src, false, |_, _| Ok(()))
    }

    fn poll<R: Read>(
        &mut self,
        src: &mut R,
        block: bool,
        mut first: impl FnMut(&mut R, &Value) -> Result<()>,
    ) -> Result<Option<Value>> {
        loop {
            match self.step()? {
                Step::Need(n) => {
                    if !self.fill(src, n, block)? {
                        return Ok(None);
                    }
                }
                Step::Open(open) => {
                    if self.stack.len() >= MAX_DEPTH {
                        return Err(protocol("reply nested too deeply"));
                    }
                    self.stack.push(open);
                }
                Step::Value(mut v) => loop {
                    let outermost = self.stack.len() == 1;
                    let Some(top) = self.stack.last_mut() else {
                        if self.pos == self.end {
                            self.pos = 0;
                            self.end = 0;
                        }
                        return Ok(Some(v));
                    };
                    top.items.push(v);
                    if outermost && top.items.len() == 1 && matches!(top.shape, Shape::Array) {
                        first(src, &top.items[0])?;
                    }
                    if top.items.len() < top.want {
                        break;
                    }
                    let done = self.stack.pop().expect("top exists");
                    v = close(done)?;
                },
            }
        }
    }

    /// True when bytes beyond the last reply are buffered (a reply nobody asked for, or
    /// the start of the next one).
    pub(crate) fn has_unread(&self) -> bool {
        self.pos < self.end || !self.stack.is_empty()
    }

    /// Reads from `src` once (asking for at least `need` unread bytes in all); false
    /// when a non-blocking source has nothing now (`block` false).
    fn fill<R: Read>(&mut self, src: &mut R, need: usize, block: bool) -> Result<bool> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        let want = need.min(MAX_RESERVE).max(self.end + READ_CHUNK);
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
        let n = match src.read(&mut self.buf[self.end..]) {
            Ok(n) => n,
            Err(e) if !block && e.kind() == std::io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => return Ok(true),
            Err(e) => return Err(Error::from(redis::RedisError::from(e))),
        };
        if n == 0 {
            return Err(Error::new(
                ErrorKind::Connection,
                "connection to the server failed: the server closed the connection",
            ));
        }
        self.end += n;
        Ok(true)
    }

    /// Parses one element at the read position and consumes it when complete.
    fn step(&mut self) -> Result<Step> {
        let data = &self.buf[self.pos..self.end];
        let Some(&kind) = data.first() else {
            return Ok(Step::Need(1));
        };
        let Some(line_len) = find_crlf(&data[1..]) else {
            return Ok(Step::Need(data.len() + 1));
        };
        let line = &data[1..1 + line_len];
        let header = 1 + line_len + 2;
        let (step, used) = match kind {
            b'+' => {
                let v = if line == b"OK" {
                    Value::Okay
                } else {
                    Value::SimpleString(utf8(line)?.to_owned())
                };
                (Step::Value(v), header)
            }
            b':' => (Step::Value(Value::Int(int(line)?)), header),
            b'$' => match length(line)? {
                None => (Step::Value(Value::Nil), header),
                Some(n) => {
                    let total = header + n + 2;
                    if data.len() < total {
                        return Ok(Step::Need(total));
                    }
                    if &data[header + n..total] != b"\r\n" {
                        return Err(protocol("bulk string not followed by CRLF"));
                    }
                    (
                        Step::Value(Value::BulkString(data[header..header + n].to_vec())),
                        total,
                    )
                }
            },
            b'*' | b'~' | b'%' | b'>' | b'|' => {
                let shape = match kind {
                    b'*' => Shape::Array,
                    b'~' => Shape::Set,
                    b'%' => Shape::Map,
                    b'>' => Shape::Push,
                    _ => Shape::Attribute,
                };
                match length(line)? {
                    None => (Step::Value(Value::Nil), header),
                    Some(n) => {
                        let want = match shape {
                            Shape::Map => n.checked_mul(2),
                            Shape::Attribute => n.checked_mul(2).and_then(|m| m.checked_add(1)),
                            _ => Some(n),
                        }
                        .ok_or_else(|| protocol("aggregate length out of range"))?;
                        let open = Open {
                            shape,
                            want,
                            items: Vec::with_capacity(want.min(MAX_PREALLOC)),
                        };
                        if want == 0 {
                            (Step::Value(close(open)?), header)
                        } else {
                            (Step::Open(open), header)
                        }
                    }
                }
            }
            b'_' => (Step::Value(Value::Nil), header),
            b'#' => match line {
                b"t" => (Step::Value(Value::Boolean(true)), header),
                b"f" => (Step::Value(Value::Boolean(false)), header),
                _ => return Err(protocol("boolean reply is neither t nor f")),
            },
            b',' => {
                let d = utf8(line)?
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| protocol("double reply is not a number"))?;
                (Step::Value(Value::Double(d)), header)
            }
            b'=' => {
                let n = length(line)?.ok_or_else(|| protocol("verbatim string of length -1"))?;
                let total = header + n + 2;
                if data.len() < total {
                    return Ok(Step::Need(total));
                }
                let text = utf8(&data[header..header + n])?;
                let (format, text) = text
                    .split_once(':')
                    .ok_or_else(|| protocol("verbatim string without a format"))?;
                let format = match format {
                    "txt" => VerbatimFormat::Text,
                    "mkd" => VerbatimFormat::Markdown,
                    other => VerbatimFormat::Unknown(other.to_owned()),
                };
                let v = Value::VerbatimString {
                    format,
                    text: text.to_owned(),
                };
                (Step::Value(v), total)
            }
            // Error replies and big numbers: rare, and their `Value` is redis-rs's to
            // shape (error codes, the big-number feature), so redis-rs parses the frame.
            b'-' | b'(' => (Step::Value(delegate(&data[..header])?), header),
            b'!' => {
                let n = length(line)?.ok_or_else(|| protocol("blob error of length -1"))?;
                let total = header + n + 2;
                if data.len() < total {
                    return Ok(Step::Need(total));
                }
                (Step::Value(delegate(&data[..total])?), total)
            }
            other => {
                return Err(protocol(&format!(
                    "unexpected reply type byte 0x{other:02x}"
                )))
            }
        };
        self.pos += used;
        Ok(step)
    }
}

/// Builds the finished value of an aggregate whose items have all arrived.
fn close(open: Open) -> Result<Value> {
    let Open { shape, items, .. } = open;
    Ok(match shape {
        Shape::Array => Value::Array(items),
        Shape::Set => Value::Set(items),
        Shape::Map => Value::Map(pairs(items)),
        Shape::Attribute => {
            let mut items = items;
            let data = items.pop().unwrap_or(Value::Nil);
            Value::Attribute {
                data: Box::new(data),
                attributes: pairs(items),
            }
        }
        Shape::Push => {
            let mut it = items.into_iter();
            let kind = match it.next() {
                Some(Value::BulkString(k)) => {
                    String::from_utf8(k).map_err(|_| protocol("push message kind is not UTF-8"))?
                }
                Some(Value::SimpleString(k)) => k,
                None => String::new(),
                Some(_) => return Err(protocol("push message kind is not a string")),
            };
            Value::Push {
                kind: push_kind(kind),
                data: it.collect(),
            }
        }
    })
}

fn pairs(items: Vec<Value>) -> Vec<(Value, Value)> {
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    out
}

/// The kind of a push message, named as redis-rs names it.
fn push_kind(kind: String) -> PushKind {
    match kind.as_str() {
        "invalidate" => PushKind::Invalidate,
        "message" => PushKind::Message,
        "pmessage" => PushKind::PMessage,
        "smessage" => PushKind::SMessage,
        "unsubscribe" => PushKind::Unsubscribe,
        "punsubscribe" => PushKind::PUnsubscribe,
        "sunsubscribe" => PushKind::SUnsubscribe,
        "subscribe" => PushKind::Subscribe,
        "psubscribe" => PushKind::PSubscribe,
        "ssubscribe" => PushKind::SSubscribe,
        _ => PushKind::Other(kind),
    }
}

fn delegate(frame: &[u8]) -> Result<Value> {
    redis::parse_redis_value(frame).map_err(Error::from)
}

fn find_crlf(data: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = data[from..].iter().position(|&b| b == b'\r') {
        let at = from + i;
        match data.get(at + 1) {
            Some(b'\n') => return Some(at),
            Some(_) => from = at + 1,
            None => return None,
        }
    }
    None
}

fn int(line: &[u8]) -> Result<i64> {
    let (neg, digits) = match line.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, line),
    };
    if digits.is_empty() || digits.len() > 19 {
        return utf8(line)?
            .parse()
            .map_err(|_| protocol("integer reply out of range"));
    }
    let mut n: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return Err(protocol("integer reply is not a number"));
        }
        n = n
            .checked_mul(10)
            .and_then(|n| n.checked_add(i64::from(b - b'0')))
            .ok_or_else(|| protocol("integer reply out of range"))?;
    }
    Ok(if neg { -n } else { n })
}

/// A length prefix: `None` for -1 (null), an error for other negatives.
fn length(line: &[u8]) -> Result<Option<usize>> {
    match int(line)? {
        -1 => Ok(None),
        n if n < 0 => Err(protocol("negative length in reply")),
        n => usize::try_from(n)
            .map(Some)
            .map_err(|_| protocol("length in reply out of range")),
    }
}

fn utf8(bytes: &[u8]) -> Result<&str> {
    std::str::from_utf8(bytes).map_err(|_| protocol("reply line is not UTF-8"))
}

fn protocol(what: &str) -> Error {
    Error::new(
        ErrorKind::Protocol,
        format!("malformed reply from the server: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source that hands out its bytes `step` at a time, as a slow socket would.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(out.len()).min(self.data.len());
            out[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    /// Every reply in `wire`, read in chunks of every size from 1 up; each must
    /// equal what redis-rs's own parser makes of the same bytes.
    fn same_as_redis_rs(wire: &[u8], replies: usize) {
        let mut expected = Vec::new();
        let mut parser = redis::Parser::new();
        let mut rest = wire;
        for _ in 0..replies {
            expected.push(parser.parse_value(&mut rest).expect("redis-rs parses it"));
        }
        assert!(
            rest.is_empty(),
            "the wire holds more than {replies} replies"
        );
        for step in [1, 2, 3, 7, 64, wire.len()] {
            let mut src = Trickle { data: wire, step };
            let mut reader = Reader::default();
            for want in &expected {
                assert_eq!(&reader.read(&mut src).unwrap(), want, "chunk size {step}");
            }
            assert!(!reader.has_unread());
        }
    }

    #[test]
    fn every_reply_type_matches_redis_rs() {
        let wire: &[u8] = b"+OK\r\n+PONG\r\n-ERR unknown command 'x'\r\n-WRONGTYPE bad\r\n\
:0\r\n:-42\r\n:9223372036854775807\r\n$5\r\nhe\r\no\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n\
*3\r\n:1\r\n*2\r\n$1\r\na\r\n_\r\n%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n\
%2\r\n$1\r\nx\r\n,3.5\r\n#t\r\n#f\r\n,inf\r\n,-1.25e3\r\n\
=15\r\ntxt:hello world\r\n(3492890328409238509324850943850943825024385\r\n\
!21\r\nSYNTAX invalid syntax\r\n>3\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n:7\r\n\
|1\r\n+ttl\r\n:3600\r\n$3\r\nval\r\n";
        same_as_redis_rs(wire, 21);
    }

    #[test]
    fn a_scan_page_and_a_large_value() {
        let mut wire = b"*2\r\n$4\r\n1234\r\n*1000\r\n".to_vec();
        for i in 0..1000 {
            let k = format!("key:{i:06}");
            wire.extend_from_slice(format!("${}\r\n{k}\r\n", k.len()).as_bytes());
        }
        let big = vec![b'x'; 300_000];
        wire.extend_from_slice(format!("${}\r\n", big.len()).as_bytes());
        wire.extend_from_slice(&big);
        wire.extend_from_slice(b"\r\n");
        same_as_redis_rs(&wire, 2);
    }

    #[test]
    fn the_first_item_of_an_array_is_seen_before_the_rest_is_read() {
        // A push, a plain value and a nested array first: the callback is for the
        // outermost array of a reply only, once, with its first item.
        let mut wire = b">2\r\n$4\r\nnote\r\n$1\r\nx\r\n:5\r\n*1\r\n*1\r\n:1\r\n".to_vec();
        wire.extend_from_slice(b"*2\r\n$3\r\n170\r\n*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n");
        let mut src = Trickle {
            data: &wire,
            step: 4,
        };
        let mut reader = Reader::default();
        let mut seen = Vec::new();
        let read = |reader: &mut Reader, src: &mut Trickle, seen: &mut Vec<_>| {
            reader
                .read_then(src, |src, first| {
                    seen.push((first.clone(), src.data.len()));
                    Ok(())
                })
                .unwrap()
        };
        assert!(matches!(
            read(&mut reader, &mut src, &mut seen),
            Value::Push { .. }
        ));
        assert_eq!(read(&mut reader, &mut src, &mut seen), Value::Int(5));
        let nested = read(&mut reader, &mut src, &mut seen);
        assert_eq!(
            nested,
            Value::Array(vec![Value::Array(vec![Value::Int(1)])])
        );
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].0, Value::Array(vec![Value::Int(1)]));
        seen.clear();
        let page = read(&mut reader, &mut src, &mut seen);
        assert_eq!(page.as_sequence().map(<[Value]>::len), Some(2));
        // Seen when the cursor had arrived, with the page's items still unread.
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].0, Value::BulkString(b"170".to_vec()));
        assert!(
            seen[0].1 >= 20,
            "read too far first: {} bytes left",
            seen[0].1
        );

        // An error from the callback is the read's.
        let mut src = Trickle {
            data: &wire[wire.len() - 38..],
            step: 64,
        };
        let e = Reader::default()
            .read_then(&mut src, |_, _| Err(protocol("stop")))
            .unwrap_err();
        assert!(e.message().contains("stop"), "{e}");
    }

    #[test]
    fn malformed_replies_are_protocol_errors() {
        for bad in [
            &b"?what\r\n"[..],
            b":12x\r\n",
            b"$3\r\nabcde\r\n",
            b"$-5\r\n",
            b"#x\r\n",
            b",pi\r\n",
            b":99999999999999999999\r\n",
        ] {
            let mut src = Trickle {
                data: bad,
                step: 64,
            };
            let e = Reader::default().read(&mut src).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol, "{bad:?}: {e}");
        }
        let mut deep = b"*1\r\n".repeat(MAX_DEPTH + 1);
        deep.extend_from_slice(b":1\r\n");
        let mut src = Trickle {
            data: &deep,
            step: 4096,
        };
        assert_eq!(
            Reader::default().read(&mut src).unwrap_err().kind(),
            ErrorKind::Protocol
        );
    }

    #[test]
    fn a_closed_stream_is_a_connection_error() {
        let mut src = Trickle {
            data: b"*2\r\n:1\r\n",
            step: 64,
        };
        let e = Reader::default().read(&mut src).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Connection);
    }
}
