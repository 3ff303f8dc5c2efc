//! The fast path of a subscriber's connection: published messages are taken out of the
//! byte stream before redis-rs parses it.
//!
//! Why: in a flood, redis-rs's `combine` parser and its per-push `Value` tree were over
//! half of the CPU a subscriber spent per message (perf, W7 of the bench, issue #17).
//! A [`Sieve`] sits between the socket and redis-rs's multiplexed connection. It reads
//! the socket itself, recognises the push frames that carry a message
//! (`>3 message channel payload`, `>3 smessage …`, `>4 pmessage pattern channel
//! payload`, all bulk strings), queues them straight into the subscriber's bounded
//! queue, a read's worth under one lock, and hands every other frame (replies, the
//! confirmations of SUBSCRIBE and the rest, PONGs) to redis-rs unchanged, whole, one at
//! a time. So redis-rs still does the handshake, pairs commands with their replies and
//! reports the connection's end; only messages skip it.
//!
//! Order is kept: queued messages are flushed before a frame goes to redis-rs, and the
//! bytes after that frame are looked at only when redis-rs reads again, which it does
//! once it has handled the frame (its push sender queues it synchronously). Anything
//! the sieve does not understand (a malformed or streamed frame) turns it into a plain
//! pass-through for the rest of the connection, so redis-rs reports the error as
//! before. TLS connections are opened by redis-rs itself and are not sieved.

use std::io;
use std::ops::Range;
use std::pin::Pin;
use std::sync::Weak;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::{Inner, MessageKind, PubSubMessage};

/// Bytes asked of the socket per read, at least.
const READ_CHUNK: usize = 64 * 1024;
/// A buffer grown past this (a huge frame) is given back once it is drained.
const KEEP_BUFFER: usize = 1 << 20;
/// Messages queued under one lock at most (a long read is not held back from a
/// waiting reader until its end).
const BATCH: usize = 512;

/// The socket `S` with messages sieved out (see the module's documentation).
pub(super) struct Sieve<S> {
    inner: S,
    /// Where messages go: the subscriber's queue (weak: the connection must not keep a
    /// closed subscriber alive).
    sink: Weak<Inner>,
    /// `buf[start..end]`: bytes read and not looked at yet.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// `buf[pass..pass_end]`: a frame being handed to redis-rs.
    pass: usize,
    pass_end: usize,
    /// Messages found and not queued yet.
    batch: Vec<PubSubMessage>,
    /// Set when a frame was not understood: from then on every byte goes to redis-rs.
    through: bool,
}

impl<S> Sieve<S> {
    pub(super) fn new(inner: S, sink: Weak<Inner>) -> Sieve<S> {
        Sieve {
            inner,
            sink,
            buf: Vec::new(),
            start: 0,
            end: 0,
            pass: 0,
            pass_end: 0,
            batch: Vec::new(),
            through: false,
        }
    }

    /// Queues the messages found so far, in order, under one lock.
    fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        match self.sink.upgrade() {
            Some(inner) => inner.push_messages(&mut self.batch),
            None => self.batch.clear(),
        }
    }

    /// Takes messages from the unread bytes until a frame for redis-rs (then set up in
    /// `pass`, true) or an incomplete frame (false).
    fn sift(&mut self) -> bool {
        while self.start < self.end {
            let data = &self.buf[self.start..self.end];
            let frame = if self.through {
                Frame::Other(data.len())
            } else {
                frame(data)
            };
            match frame {
                Frame::Message(parts) => {
                    self.batch.push(parts.message(data));
                    self.start += parts.len;
                    if self.batch.len() >= BATCH {
                        self.flush();
                    }
                }
                Frame::Other(len) => {
                    (self.pass, self.pass_end) = (self.start, self.start + len);
                    self.start += len;
                    return true;
                }
                Frame::Incomplete => return false,
                Frame::Malformed => self.through = true,
            }
        }
        false
    }

    /// Room for a read after the unread bytes (moved to the front first).
    fn make_room(&mut self) {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
            if self.buf.len() > KEEP_BUFFER {
                self.buf = Vec::new();
            }
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < READ_CHUNK / 4 {
            let want = (self.end + READ_CHUNK).max(self.buf.len() * 2);
            self.buf.resize(want, 0);
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Sieve<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pass < this.pass_end {
                let n = out.remaining().min(this.pass_end - this.pass);
                out.put_slice(&this.buf[this.pass..this.pass + n]);
                this.pass += n;
                if this.pass == this.pass_end {
                    (this.pass, this.pass_end) = (0, 0);
                }
                return Poll::Ready(Ok(()));
            }
            let found = this.sift();
            this.flush();
            if found {
                continue;
            }
            this.make_room();
            let mut room = ReadBuf::new(&mut this.buf[this.end..]);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut room))?;
            let n = room.filled().len();
            if n == 0 {
                // The end: what is left (a cut-off frame) goes to redis-rs, then the end.
                if this.start < this.end {
                    (this.pass, this.pass_end) = (this.start, this.end);
                    this.start = this.end;
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            this.end += n;
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sieve<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// What the bytes at the read position hold.
#[derive(Debug, PartialEq, Eq)]
enum Frame {
    /// A whole message push.
    Message(Parts),
    /// A whole frame of another kind, this long.
    Other(usize),
    /// Not all there yet.
    Incomplete,
    /// Not RESP as the sieve knows it (redis-rs will say what is wrong).
    Malformed,
}

/// Where a message push's parts are in its frame.
#[derive(Debug, PartialEq, Eq)]
struct Parts {
    kind: MessageKind,
    pattern: Option<Range<usize>>,
    channel: Range<usize>,
    payload: Range<usize>,
    /// The frame's length.
    len: usize,
}

impl Parts {
    fn message(&self, frame: &[u8]) -> PubSubMessage {
        PubSubMessage {
            kind: self.kind,
            channel: owned(&frame[self.channel.clone()]),
            pattern: self.pattern.clone().map(|p| owned(&frame[p])),
            payload: owned(&frame[self.payload.clone()]),
        }
    }
}

/// The bytes, with room for one more: a binding that adds a terminating NUL (C) does
/// so without moving them.
fn owned(bytes: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bytes.len() + 1);
    v.extend_from_slice(bytes);
    v
}

/// The heads of the three message pushes, with the bulk strings that follow them.
const HEADS: [(&[u8], MessageKind, usize); 3] = [
    (b">3\r\n$7\r\nmessage\r\n", MessageKind::Message, 2),
    (b">3\r\n$8\r\nsmessage\r\n", MessageKind::SMessage, 2),
    (b">4\r\n$8\r\npmessage\r\n", MessageKind::PMessage, 3),
];

/// Looks at one frame at the start of `data`.
fn frame(data: &[u8]) -> Frame {
    for (head, kind, strings) in HEADS {
        if data.starts_with(head) {
            return message(data, head.len(), kind, strings);
        }
        if head.starts_with(data) {
            return Frame::Incomplete;
        }
    }
    match skip(data) {
        Ok(Some(len)) => Frame::Other(len),
        Ok(None) => Frame::Incomplete,
        Err(()) => Frame::Malformed,
    }
}

/// A message push whose `strings` bulk strings start at `at`; a frame of another shape
/// (not all bulk strings) goes to redis-rs.
fn message(data: &[u8], mut at: usize, kind: MessageKind, strings: usize) -> Frame {
    let mut found: [Range<usize>; 3] = [0..0, 0..0, 0..0];
    for slot in found.iter_mut().take(strings) {
        match bulk(data, at) {
            Ok(Some((range, next))) => {
                *slot = range;
                at = next;
            }
            Ok(None) => return Frame::Incomplete,
            Err(()) => {
                return match skip(data) {
                    Ok(Some(len)) => Frame::Other(len),
                    Ok(None) => Frame::Incomplete,
                    Err(()) => Frame::Malformed,
                }
            }
        }
    }
    let [a, b, c] = found;
    let (pattern, channel, payload) = if strings == 3 {
        (Some(a), b, c)
    } else {
        (None, a, b)
    };
    Frame::Message(Parts {
        kind,
        pattern,
        channel,
        payload,
        len: at,
    })
}

/// A bulk string (`$n\r\n…\r\n`) at `at`: its bytes and where the next element starts;
/// `None` when not all there; an error when something else is there.
fn bulk(data: &[u8], at: usize) -> Result<Option<(Range<usize>, usize)>, ()> {
    match data.get(at) {
        None => return Ok(None),
        Some(b'$') => {}
        Some(_) => return Err(()),
    }
    let Some((n, body)) = header(data, at + 1)? else {
        return Ok(None);
    };
    let n = usize::try_from(n).map_err(drop)?;
    let end = body.checked_add(n).ok_or(())?;
    let Some(next) = end.checked_add(2).filter(|&e| e <= data.len()) else {
        return Ok(None);
    };
    if &data[end..next] != b"\r\n" {
        return Err(());
    }
    Ok(Some((body..end, next)))
}

/// The number in the line at `at` (up to CRLF) and where the line after it starts.
fn header(data: &[u8], at: usize) -> Result<Option<(i64, usize)>, ()> {
    let Some(len) = data[at.min(data.len())..].iter().position(|&b| b == b'\r') else {
        return Ok(None);
    };
    let line = &data[at..at + len];
    match data.get(at + len + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(()),
    }
    let (negative, digits) = match line {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, line),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    let n = digits
        .iter()
        .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
    Ok(Some((if negative { -n } else { n }, at + len + 2)))
}

/// The length of the whole RESP2/RESP3 frame at the start of `data`; `None` when not all
/// there; an error for what the sieve does not know (a streamed aggregate or string).
fn skip(data: &[u8]) -> Result<Option<usize>, ()> {
    let mut at = 0usize;
    let mut left = 1usize;
    while left > 0 {
        left -= 1;
        let Some(&kind) = data.get(at) else {
            return Ok(None);
        };
        match kind {
            b'+' | b'-' | b':' | b',' | b'#' | b'(' | b'_' => {
                let Some(len) = data[at..].windows(2).position(|w| w == b"\r\n") else {
                    return Ok(None);
                };
                at += len + 2;
            }
            b'$' | b'=' | b'!' => {
                let Some((n, body)) = header(data, at + 1)? else {
                    return Ok(None);
                };
                at = body;
                if n >= 0 {
                    let n = usize::try_from(n).map_err(drop)?;
                    at = at.checked_add(n).and_then(|a| a.checked_add(2)).ok_or(())?;
                    if at > data.len() {
                        return Ok(None);
                    }
                }
            }
            b'*' | b'~' | b'>' | b'%' | b'|' => {
                let Some((n, body)) = header(data, at + 1)? else {
                    return Ok(None);
                };
                at = body;
                if n > 0 {
                    let n = usize::try_from(n).map_err(drop)?;
                    let items = if matches!(kind, b'%' | b'|') {
                        n.checked_mul(2).ok_or(())?
                    } else {
                        n
                    };
                    left = left.checked_add(items).ok_or(())?;
                }
                if kind == b'|' {
                    // Attributes come before the value they describe: one more element.
                    left += 1;
                }
            }
            _ => return Err(()),
        }
    }
    Ok(Some(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(f: Frame) -> Parts {
        match f {
            Frame::Message(p) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn message_pushes_are_found_and_everything_else_measured() {
        let m = b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$5\r\na\r\n\0b\r\n";
        let p = parts(frame(m));
        assert_eq!((p.kind, p.len), (MessageKind::Message, m.len()));
        let msg = p.message(m);
        assert_eq!(
            (&msg.channel[..], &msg.payload[..]),
            (&b"ch"[..], &b"a\r\n\0b"[..])
        );
        let pm = b">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$0\r\n\r\n";
        let msg = parts(frame(pm)).message(pm);
        assert_eq!(msg.pattern.as_deref(), Some(&b"c*"[..]));
        assert_eq!(
            (msg.kind, &msg.payload[..]),
            (MessageKind::PMessage, &b""[..])
        );
        let sm = b">3\r\n$8\r\nsmessage\r\n$1\r\ns\r\n$1\r\nx\r\n";
        assert_eq!(parts(frame(sm)).kind, MessageKind::SMessage);
        // Every cut of a message is incomplete, never something else.
        for cut in 0..m.len() {
            assert_eq!(frame(&m[..cut]), Frame::Incomplete, "cut at {cut}");
        }
        for (other, len) in [
            (
                &b">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n+OK\r\n"[..],
                31,
            ),
            (b"+PONG\r\n", 7),
            (b"%1\r\n$1\r\na\r\n*2\r\n:1\r\n_\r\n", 22),
            (b"$-1\r\n", 5),
            (b"|1\r\n+a\r\n+b\r\n:3\r\n", 16),
            (b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n:5\r\n", 29),
        ] {
            assert_eq!(frame(other), Frame::Other(len), "{other:?}");
        }
        assert_eq!(frame(b"$?\r\n"), Frame::Malformed);
        assert_eq!(frame(b"*2\r\n:1\r\n"), Frame::Incomplete);
    }
}
