//! The sync engine's direct connection: the calling thread writes the request and
//! reads the reply on its own socket, with no thread hop (docs/architecture.md, "Engines").
//!
//! Plain TCP and Unix sockets are opened here and read with [`resp::Reader`], which
//! is much cheaper than redis-rs's combine parser on large replies (SCAN pages,
//! pipelines). TLS connections are redis-rs's blocking `Connection`, which owns the
//! rustls session; they behave the same, only slower to parse.
//!
//! The handshake is the one redis-rs does for the runtime's connections (HELLO or AUTH,
//! SELECT, CLIENT SETINFO) plus CLIENT SETNAME. A direct connection that cannot be
//! opened is not an error the caller sees: the sync engine falls back to the runtime's
//! connection, which reconnects with backoff and reports the real error.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
#[cfg(unix)]
use std::os::unix::net::UnixStream;
use std::time::Duration;

use redis::{ConnectionLike, Value};

use super::Spin;
use crate::command::Command;
use crate::error::{Error, ErrorKind, Result};
use crate::settings::{Addr, Config, Protocol};
use crate::wire::{self, resp::Reader};

/// A blocking connection owned by one caller at a time.
pub(crate) struct DirectConn {
    wire: Wire,
    read_timeout: Option<Duration>,
    /// How long a blocking reply read polls first ([`Config::spin_wait`]), and whether
    /// that pays on this connection.
    spin_wait: Duration,
    spin: Spin,
    /// False: the next reply is waited for asleep (other callers are at work).
    spin_now: bool,
}

enum Wire {
    /// Our own socket and reply reader.
    Own {
        stream: Stream,
        reader: Reader,
        out: Vec<u8>,
    },
    /// TLS: redis-rs's blocking connection.
    Redis(redis::Connection),
}

enum Stream {
    Tcp(TcpStream),
    #[cfg(unix)]
    Unix(UnixStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write(buf),
        }
    }

    fn set_nonblocking(&self, on: bool) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_nonblocking(on),
            #[cfg(unix)]
            Stream::Unix(s) => s.set_nonblocking(on),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.write_all(buf),
            #[cfg(unix)]
            Stream::Unix(s) => s.write_all(buf),
        }
    }

    fn set_timeouts(&self, read: Option<Duration>, write: Option<Duration>) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => {
                s.set_read_timeout(read)?;
                s.set_write_timeout(write)
            }
            #[cfg(unix)]
            Stream::Unix(s) => {
                s.set_read_timeout(read)?;
                s.set_write_timeout(write)
            }
        }
    }

    fn set_read_timeout(&self, t: Option<Duration>) -> std::io::Result<()> {
        match self {
            Stream::Tcp(s) => s.set_read_timeout(t),
            #[cfg(unix)]
            Stream::Unix(s) => s.set_read_timeout(t),
        }
    }
}

impl DirectConn {
    /// Opens and sets up a connection for `config` (plain sockets here, TLS through
    /// `redis_client`). Reads block without limit until [`Self::set_read_timeout`].
    pub(crate) fn open(config: &Config, redis_client: &redis::Client) -> Result<DirectConn> {
        if config.tls.is_some() {
            let mut conn = redis_client
                .get_connection_with_timeout(config.connect_timeout)
                .map_err(Error::from)?;
            conn.set_write_timeout(Some(config.response_timeout))?;
            if let Some(name) = &config.client_name {
                conn.req_command(redis::cmd("CLIENT").arg("SETNAME").arg(name))
                    .map_err(Error::from)
                    .and_then(wire::slot)?;
            }
            return Ok(DirectConn {
                wire: Wire::Redis(conn),
                read_timeout: None,
                spin_wait: Duration::ZERO,
                spin: Spin::default(),
                spin_now: false,
            });
        }
        let stream = connect(&config.target()?, config.connect_timeout)?;
        // The handshake must not hang on a server that accepts and never answers.
        stream
            .set_timeouts(Some(config.connect_timeout), Some(config.response_timeout))
            .map_err(io_error)?;
        let mut wire = Wire::Own {
            stream,
            reader: Reader::default(),
            out: Vec::with_capacity(4096),
        };
        let (setup, must_succeed) = handshake(config);
        let replies = wire.requests(setup.cmd_iter(), setup.len())?;
        for (reply, must) in replies.into_iter().zip(must_succeed) {
            if let (Value::ServerError(e), true) = (reply, must) {
                return Err(Error::from(e));
            }
        }
        if let Wire::Own { stream, .. } = &wire {
            stream.set_read_timeout(None).map_err(io_error)?;
        }
        Ok(DirectConn {
            wire,
            read_timeout: None,
            spin_wait: config.spin_wait,
            spin: Spin::default(),
            spin_now: false,
        })
    }

    /// Sets how long a read may block; `None` blocks without limit.
    pub(crate) fn set_read_timeout(&mut self, timeout: Option<Duration>) -> Result<()> {
        if self.read_timeout != timeout {
            match &mut self.wire {
                Wire::Own { stream, .. } => stream.set_read_timeout(timeout).map_err(io_error)?,
                Wire::Redis(c) => c.set_read_timeout(timeout)?,
            }
            self.read_timeout = timeout;
        }
        Ok(())
    }

    /// Sends one command and reads its reply; a server error stays a value.
    pub(crate) fn request(&mut self, cmd: &redis::Cmd) -> Result<Value> {
        match &mut self.wire {
            Wire::Redis(c) => match c.req_command(cmd) {
                Ok(v) => Ok(v),
                Err(e) => Err(Error::from(e)),
            },
            Wire::Own { .. } => Ok(self
                .own_requests(std::iter::once(cmd), 1)?
                .pop()
                .unwrap_or(Value::Nil)),
        }
    }

    /// [`Wire::requests`] with a spin for the reply between the write and the read.
    fn own_requests<'a>(
        &mut self,
        cmds: impl Iterator<Item = &'a redis::Cmd>,
        count: usize,
    ) -> Result<Vec<Value>> {
        self.wire.write(cmds)?;
        self.spin_for_reply();
        self.wire.read_replies(count)
    }

    /// Writes one command without reading its reply; [`Self::recv_then`] reads it later.
    /// Used to ask for the next SCAN page while the caller works on this one.
    pub(crate) fn send(&mut self, cmd: &redis::Cmd) -> Result<()> {
        match &mut self.wire {
            Wire::Redis(c) => Ok(c.send_packed_command(&cmd.get_packed_command())?),
            Wire::Own { stream, out, .. } => {
                pack(out, std::iter::once(cmd));
                stream.write_all(out).map_err(io_error)
            }
        }
    }

    /// Reads the reply of a command written by [`Self::send`], skipping push messages (a
    /// server error stays a value). When the reply is an array, `next` is called with its
    /// first item as soon as that has arrived: the command it returns is written at once,
    /// and returned with the reply. A SCAN page (`[cursor, items]`) so asks for the page after
    /// it before its own items are read and parsed, which keeps the server busy meanwhile.
    pub(crate) fn recv_then(
        &mut self,
        next: impl FnOnce(&Value) -> Option<Command>,
    ) -> Result<(Value, Option<Command>)> {
        self.spin_for_reply();
        let mut next = Some(next);
        let mut sent = None;
        let reply = loop {
            let v = match &mut self.wire {
                Wire::Redis(c) => c.recv_response()?,
                Wire::Own {
                    stream,
                    reader,
                    out,
                } => reader.read_then(stream, |stream, first| {
                    if let Some(cmd) = next.take().and_then(|next| next(first)) {
                        pack(out, std::iter::once(cmd.cmd()));
                        stream.write_all(out).map_err(io_error)?;
                        sent = Some(cmd);
                    }
                    Ok(())
                })?,
            };
            if !matches!(v, Value::Push { .. }) {
                break v;
            }
        };
        // TLS: redis-rs reads the reply whole, so the next command goes out after it.
        if let (Some(next), Value::Array(items)) = (next, &reply) {
            if let Some(cmd) = items.first().and_then(next) {
                self.send(cmd.cmd())?;
                sent = Some(cmd);
            }
        }
        Ok((reply, sent))
    }

    /// Whether the next request's reply may be spun for ([`Self::spin_for_reply`]): only
    /// when the caller is the client's only one at work.
    pub(crate) fn spin_if(&mut self, alone: bool) {
        self.spin_now = alone;
    }

    /// Before a blocking read of a reply just asked for: polls the socket, without
    /// sleeping, for up to `spin_wait` (a thread woken from sleep by the reply pays tens
    /// of microseconds on virtual machines; see [`Config::spin_wait`]). A poll that runs
    /// out counts against spinning ([`Spin`]), and the read then blocks as before.
    fn spin_for_reply(&mut self) {
        if !std::mem::take(&mut self.spin_now) {
            return;
        }
        #[cfg(unix)]
        {
            let Wire::Own { reader, .. } = &self.wire else {
                return;
            };
            if reader.has_unread() {
                return;
            }
            let Some(fd) = self.raw_fd() else { return };
            let start = std::time::Instant::now();
            let Some(until) = self.spin.until(start, self.spin_wait) else {
                self.spin.replies_read(start, None);
                return;
            };
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            loop {
                // SAFETY: one valid pollfd; a zero timeout never blocks.
                let ready = unsafe { libc::poll(&mut p, 1, 0) } != 0;
                let now = std::time::Instant::now();
                if ready {
                    self.spin.replies_read(now, Some(until));
                    return;
                }
                if now >= until {
                    self.spin.ran_out();
                    return;
                }
                std::hint::spin_loop();
            }
        }
    }

    /// The socket to watch for replies when the connection is non-blocking (an event
    /// loop's own connection); `None` for TLS, whose reads redis-rs owns.
    #[cfg(unix)]
    pub(crate) fn raw_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        match &self.wire {
            Wire::Own {
                stream: Stream::Tcp(s),
                ..
            } => Some(s.as_raw_fd()),
            Wire::Own {
                stream: Stream::Unix(s),
                ..
            } => Some(s.as_raw_fd()),
            Wire::Redis(_) => None,
        }
    }

    /// Makes reads return at once ([`Self::try_recv`]); writes still finish.
    pub(crate) fn set_nonblocking(&mut self, on: bool) -> Result<()> {
        match &self.wire {
            Wire::Own { stream, .. } => stream.set_nonblocking(on).map_err(io_error),
            Wire::Redis(_) => Err(Error::invalid(
                "a TLS connection cannot be driven by an event loop here",
            )),
        }
    }

    /// Writes `cmds` together on a non-blocking connection. When the socket's buffer is
    /// full (a request larger than it), the rest is written blocking, within the write
    /// timeout: a request is never left half-written.
    pub(crate) fn send_nonblocking<'a>(
        &mut self,
        cmds: impl Iterator<Item = &'a redis::Cmd>,
    ) -> Result<()> {
        let Wire::Own { stream, out, .. } = &mut self.wire else {
            return Err(Error::invalid("not an event loop's connection"));
        };
        pack(out, cmds);
        let mut rest = &out[..];
        while !rest.is_empty() {
            match stream.write(rest) {
                Ok(0) => {
                    return Err(Error::new(
                        ErrorKind::Connection,
                        "connection to the server failed: it accepts no more bytes",
                    ))
                }
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    stream.set_nonblocking(false).map_err(io_error)?;
                    let done = stream.write_all(rest);
                    stream.set_nonblocking(true).map_err(io_error)?;
                    done.map_err(io_error)?;
                    break;
                }
                Err(e) => return Err(io_error(e)),
            }
        }
        Ok(())
    }

    /// On a non-blocking connection: the next reply if it is all there, else `None`
    /// (what has arrived is kept). Push messages are skipped.
    pub(crate) fn try_recv(&mut self) -> Result<Option<Value>> {
        let Wire::Own { stream, reader, .. } = &mut self.wire else {
            return Err(Error::invalid("not an event loop's connection"));
        };
        loop {
            match reader.try_read(stream)? {
                Some(Value::Push { .. }) => continue,
                other => return Ok(other),
            }
        }
    }

    /// Sends the commands of `chunk` in one write and reads their replies in order;
    /// server errors stay values.
    pub(crate) fn pipeline(&mut self, chunk: &redis::Pipeline) -> Result<Vec<Value>> {
        match &mut self.wire {
            Wire::Redis(c) => {
                Ok(c.req_packed_commands(&chunk.get_packed_pipeline(), 0, chunk.len())?)
            }
            Wire::Own { .. } => self.own_requests(chunk.cmd_iter(), chunk.len()),
        }
    }
}

impl Wire {
    /// Writes `cmds` together, then reads `count` replies, skipping push messages.
    fn requests<'a>(
        &mut self,
        cmds: impl Iterator<Item = &'a redis::Cmd>,
        count: usize,
    ) -> Result<Vec<Value>> {
        self.write(cmds)?;
        self.read_replies(count)
    }

    /// Writes `cmds` together.
    fn write<'a>(&mut self, cmds: impl Iterator<Item = &'a redis::Cmd>) -> Result<()> {
        let Wire::Own { stream, out, .. } = self else {
            return Err(Error::invalid("a TLS connection is driven by redis-rs"));
        };
        pack(out, cmds);
        stream.write_all(out).map_err(io_error)
    }

    /// Reads `count` replies, skipping push messages.
    fn read_replies(&mut self, count: usize) -> Result<Vec<Value>> {
        let Wire::Own { stream, reader, .. } = self else {
            return Err(Error::invalid("a TLS connection is driven by redis-rs"));
        };
        let mut replies = Vec::with_capacity(count);
        while replies.len() < count {
            match reader.read(stream)? {
                Value::Push { .. } => continue,
                v => replies.push(v),
            }
        }
        Ok(replies)
    }
}

/// The setup commands, and for each whether its failure fails the connection
/// (CLIENT SETINFO is informational: older servers refuse it).
fn handshake(config: &Config) -> (redis::Pipeline, Vec<bool>) {
    let mut p = redis::pipe();
    let mut must = Vec::new();
    let login = config.login();
    match (config.protocol, login) {
        (Protocol::Resp3, login) => {
            let hello = p.cmd("HELLO").arg(3);
            if let Some((user, pw)) = login {
                hello.arg("AUTH").arg(user.unwrap_or("default")).arg(pw);
            }
            must.push(true);
        }
        (Protocol::Resp2, Some((user, pw))) => {
            let auth = p.cmd("AUTH");
            if let Some(user) = user {
                auth.arg(user);
            }
            auth.arg(pw);
            must.push(true);
        }
        (Protocol::Resp2, None) => {}
    }
    if config.db != 0 {
        p.cmd("SELECT").arg(config.db);
        must.push(true);
    }
    if let Some(name) = &config.client_name {
        p.cmd("CLIENT").arg("SETNAME").arg(name);
        must.push(true);
    }
    p.cmd("CLIENT")
        .arg("SETINFO")
        .arg("LIB-NAME")
        .arg("redbridge");
    p.cmd("CLIENT")
        .arg("SETINFO")
        .arg("LIB-VER")
        .arg(env!("CARGO_PKG_VERSION"));
    must.extend([false, false]);
    (p, must)
}

fn connect(addr: &Addr, timeout: Duration) -> Result<Stream> {
    match addr {
        Addr::Tcp { host, port } => {
            let mut last = None;
            for sa in (host.as_str(), *port).to_socket_addrs().map_err(io_error)? {
                match TcpStream::connect_timeout(&sa, timeout) {
                    Ok(s) => {
                        s.set_nodelay(true).map_err(io_error)?;
                        return Ok(Stream::Tcp(s));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.map(io_error).unwrap_or_else(|| {
                Error::new(
                    ErrorKind::Connection,
                    format!("connection to the server failed: {host} resolves to no address"),
                )
            }))
        }
        #[cfg(unix)]
        Addr::Unix(path) => Ok(Stream::Unix(UnixStream::connect(path).map_err(io_error)?)),
        #[cfg(not(unix))]
        Addr::Unix(_) => Err(Error::new(
            ErrorKind::InvalidArgument,
            "Unix sockets need a Unix system",
        )),
    }
}

/// Packs `cmds` into `out`, reusing its allocation; one huge request does not pin its
/// buffer for the connection's life.
fn pack<'a>(out: &mut Vec<u8>, cmds: impl Iterator<Item = &'a redis::Cmd>) {
    if out.capacity() > 1024 * 1024 {
        *out = Vec::with_capacity(4096);
    }
    out.clear();
    for cmd in cmds {
        cmd.write_packed_command(out);
    }
}

/// An I/O error as redis-rs would report it (timeouts become timeouts).
fn io_error(e: std::io::Error) -> Error {
    Error::from(redis::RedisError::from(e))
}
