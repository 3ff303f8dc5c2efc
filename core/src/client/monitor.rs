//! MONITOR on a connection of its own.
//!
//! MONITOR turns a connection into a feed of every command the server runs, so it can
//! never share the multiplexed connection or a pooled one (the command table marks it as
//! connection state, and `admit` refuses it there). [`Client::monitor`] opens a new
//! connection with the client's configuration — the same handshake as every other
//! connection (TLS, HELLO or AUTH, SELECT, library name) through redis-rs's
//! `aio::Monitor` — sends MONITOR, and yields one [`MonitorEvent`] per line the server
//! sends. Dropping the [`Monitor`] closes its connection, which ends the feed on the
//! server.
//!
//! Opening counts as one request in the client's stats (a failure as an error of its
//! kind). The connection is not part of the pool and is never reconnected: when it
//! drops, [`Monitor::next_event`] reports a connection error, and a caller who wants
//! more opens a new monitor (the commands in between are lost either way).

use std::time::Duration;

use futures_util::StreamExt;

use super::sync::block_on;
use super::Client;
use crate::connection::connect_error;
use crate::error::{Error, ErrorKind, Result};
use crate::policy::run_timed;
use crate::runtime;
use crate::settings::Config;

/// Where a monitored command came from, as the server tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MonitorClient {
    /// A TCP client (`client_address` and `client_port` are its peer).
    Tcp,
    /// A client on a Unix socket (`client_port` is the socket's path).
    Unix,
    /// A Lua script (EVAL / FCALL) calling `redis.call`.
    Lua,
    /// The server did not say (an empty client field).
    Unknown,
}

impl MonitorClient {
    /// `"tcp"`, `"unix"`, `"lua"` or `"unknown"` (redis-py's `client_type`).
    pub fn as_str(self) -> &'static str {
        match self {
            MonitorClient::Tcp => "tcp",
            MonitorClient::Unix => "unix",
            MonitorClient::Lua => "lua",
            MonitorClient::Unknown => "unknown",
        }
    }
}

/// One command the server ran, from one MONITOR line such as
/// `1700000000.123456 [0 127.0.0.1:51234] "SET" "k" "v"`.
#[derive(Clone, Debug, PartialEq)]
pub struct MonitorEvent {
    /// Server time the command ran at, in seconds since the epoch.
    pub time: f64,
    /// The database the command ran in.
    pub db: i64,
    /// The client's address (`"lua"` for a script, `"unix"` for a Unix socket).
    pub client_address: String,
    /// The client's port (the socket path for a Unix socket, empty for a script).
    pub client_port: String,
    /// What kind of client sent it.
    pub client_type: MonitorClient,
    /// The command as redis-py shows it: the arguments as the server quoted them
    /// (non-printable bytes as `\xHH`, a backslash as `\\`), joined by spaces, with
    /// `\"` turned back into `"`.
    pub command: String,
    /// The arguments as they were sent, the server's escapes undone.
    pub args: Vec<Vec<u8>>,
    /// The line as the server sent it (what node-redis's monitor callback gets).
    pub line: String,
}

impl MonitorEvent {
    /// Parses one MONITOR line. A line of another shape is a protocol error (whose
    /// message does not repeat the line: it carries argument values).
    pub fn parse(line: &str) -> Result<MonitorEvent> {
        let bad = || {
            Error::new(
                ErrorKind::Protocol,
                "unexpected MONITOR line from the server",
            )
        };
        let (time, rest) = line.split_once(' ').ok_or_else(bad)?;
        let time: f64 = time.parse().map_err(|_| bad())?;
        let rest = rest.strip_prefix('[').ok_or_else(bad)?;
        let (db, rest) = rest.split_once(' ').ok_or_else(bad)?;
        let db: i64 = db.parse().map_err(|_| bad())?;
        let (client, quoted) = match rest.split_once("] ") {
            Some(parts) => parts,
            None => (rest.strip_suffix(']').ok_or_else(bad)?, ""),
        };
        let (client_address, client_port, client_type) = split_client(client);
        let (raw, args) = arguments(quoted).ok_or_else(bad)?;
        let command = raw
            .iter()
            .map(|r| r.replace("\\\"", "\""))
            .collect::<Vec<_>>()
            .join(" ");
        Ok(MonitorEvent {
            time,
            db,
            client_address,
            client_port,
            client_type,
            command,
            args,
            line: line.to_string(),
        })
    }
}

/// `lua`, `unix:/path`, `host:port` (an IPv6 host has colons too), or nothing.
fn split_client(client: &str) -> (String, String, MonitorClient) {
    if client == "lua" {
        return ("lua".into(), String::new(), MonitorClient::Lua);
    }
    if let Some(path) = client.strip_prefix("unix:") {
        return ("unix".into(), path.into(), MonitorClient::Unix);
    }
    match client.rsplit_once(':') {
        Some((host, port)) => (host.into(), port.into(), MonitorClient::Tcp),
        None => (client.into(), String::new(), MonitorClient::Unknown),
    }
}

/// The quoted arguments of a MONITOR line: each one's text between the quotes, and its
/// bytes with the server's escapes (`sdscatrepr`) undone. `None` when it is not a list
/// of quoted strings.
fn arguments(quoted: &str) -> Option<(Vec<&str>, Vec<Vec<u8>>)> {
    let bytes = quoted.as_bytes();
    let (mut raw, mut args) = (Vec::new(), Vec::new());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' {
            i += 1;
            continue;
        }
        if bytes[i] != b'"' {
            return None;
        }
        let start = i + 1;
        let mut arg = Vec::new();
        i = start;
        loop {
            match *bytes.get(i)? {
                b'"' => break,
                b'\\' => {
                    let (byte, len) = unescape(bytes.get(i + 1..)?)?;
                    arg.push(byte);
                    i += 1 + len;
                }
                b => {
                    arg.push(b);
                    i += 1;
                }
            }
        }
        raw.push(&quoted[start..i]);
        args.push(arg);
        i += 1;
    }
    Some((raw, args))
}

/// The byte an escape stands for (what follows its backslash), and how many bytes the
/// escape takes after the backslash.
fn unescape(after: &[u8]) -> Option<(u8, usize)> {
    let byte = match *after.first()? {
        b'n' => b'\n',
        b'r' => b'\r',
        b't' => b'\t',
        b'a' => 0x07,
        b'b' => 0x08,
        b'x' => {
            let hex = std::str::from_utf8(after.get(1..3)?).ok()?;
            return Some((u8::from_str_radix(hex, 16).ok()?, 3));
        }
        other => other,
    };
    Some((byte, 1))
}

/// A connection in MONITOR mode: every command the server runs, in order. Dropping it
/// closes the connection. Waiters may share it (`Arc<Monitor>`): they take turns, each
/// line going to one of them.
pub struct Monitor {
    feed: tokio::sync::Mutex<redis::aio::Monitor>,
}

impl Monitor {
    /// Opens a connection with `config`'s handshake and sends MONITOR; ready when the
    /// server has acknowledged it, so every command the server runs afterwards is seen.
    /// Gives up after `connect_timeout` + `response_timeout`. Not on a cluster (each node
    /// has its own feed): monitor one node with a client of its own.
    pub async fn open(config: &Config) -> Result<Monitor> {
        if config.is_cluster() {
            return Err(Error::new(
                ErrorKind::Cluster,
                "MONITOR is per node: monitor one node of the cluster with a standalone client for it",
            ));
        }
        let redis = config.redis_client()?;
        let budget = config.connect_timeout() + config.response_timeout();
        let feed = runtime::run(async move {
            run_timed(redis.get_async_monitor(), Some(budget), "MONITOR").await
        })
        .await
        .map_err(|e| connect_error(e, config))?;
        Ok(Monitor {
            feed: tokio::sync::Mutex::new(feed),
        })
    }

    /// The next command the server runs, waiting as long as it takes (behind any other
    /// waiter). A connection error once the connection is gone (closed by the server,
    /// killed, network). Cancel-safe: dropping the future loses no line.
    pub async fn next_event(&self) -> Result<MonitorEvent> {
        let mut feed = self.feed.lock().await;
        let line = feed.on_message::<String>().next().await;
        match line {
            Some(line) => MonitorEvent::parse(&line),
            None => Err(Error::new(
                ErrorKind::Connection,
                "the MONITOR connection was closed; open a new monitor to go on",
            )),
        }
    }
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor").finish_non_exhaustive()
    }
}

/// The blocking face of [`Monitor`] (sync callers, C): `next` waits on the calling
/// thread, with the core runtime's I/O.
#[derive(Debug)]
pub struct SyncMonitor {
    monitor: Monitor,
    runtime: &'static tokio::runtime::Runtime,
}

impl SyncMonitor {
    /// [`Monitor::open`], blocking.
    pub fn open(config: &Config) -> Result<SyncMonitor> {
        let runtime = runtime::runtime();
        let monitor = block_on(runtime, Monitor::open(config))?;
        Ok(SyncMonitor { monitor, runtime })
    }

    /// The next command the server runs; `None` when `timeout` passes first (`None`:
    /// wait as long as it takes). A connection error once the connection is gone.
    pub fn next(&mut self, timeout: Option<Duration>) -> Result<Option<MonitorEvent>> {
        let feed = &self.monitor;
        block_on(self.runtime, async move {
            match timeout {
                None => feed.next_event().await.map(Some),
                Some(t) => match tokio::time::timeout(t, feed.next_event()).await {
                    Ok(event) => event.map(Some),
                    Err(_) => Ok(None),
                },
            }
        })
    }
}

impl Client {
    /// Opens a [`Monitor`] on a connection of its own, with this client's configuration
    /// (see [`Monitor::open`]). Counted as one request in [`Client::stats`].
    pub async fn monitor(&self) -> Result<Monitor> {
        let result = async {
            self.engine()?;
            Monitor::open(self.config()).await
        }
        .await;
        self.tally(result)
    }
}

impl super::SyncClient {
    /// Opens a [`SyncMonitor`] on a connection of its own, with this client's
    /// configuration. Counted as one request in the client's stats.
    pub fn monitor(&self) -> Result<SyncMonitor> {
        let client = self.async_client();
        let runtime = client.engine()?.runtime;
        let monitor = block_on(runtime, client.monitor())?;
        Ok(SyncMonitor { monitor, runtime })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_tcp_line() {
        let e = MonitorEvent::parse(r#"1700000000.123456 [3 127.0.0.1:51234] "SET" "k" "v 1""#)
            .unwrap();
        assert_eq!(e.time, 1700000000.123456);
        assert_eq!(e.db, 3);
        assert_eq!(e.client_address, "127.0.0.1");
        assert_eq!(e.client_port, "51234");
        assert_eq!(e.client_type, MonitorClient::Tcp);
        assert_eq!(e.command, "SET k v 1");
        assert_eq!(e.args, [&b"SET"[..], b"k", b"v 1"]);
    }

    #[test]
    fn parses_ipv6_unix_lua_and_empty_clients() {
        let e = MonitorEvent::parse(r#"1.5 [0 [::1]:6000] "PING""#).unwrap();
        assert_eq!(
            (e.client_address.as_str(), e.client_port.as_str()),
            ("[::1]", "6000")
        );
        let e = MonitorEvent::parse(r#"1.5 [0 ::1:6000] "PING""#).unwrap();
        assert_eq!(
            (e.client_address.as_str(), e.client_port.as_str()),
            ("::1", "6000")
        );
        let e = MonitorEvent::parse(r#"1.5 [0 unix:/tmp/r.sock] "PING""#).unwrap();
        assert_eq!(
            (
                e.client_address.as_str(),
                e.client_port.as_str(),
                e.client_type
            ),
            ("unix", "/tmp/r.sock", MonitorClient::Unix)
        );
        let e = MonitorEvent::parse(r#"1.5 [0 lua] "GET" "foo""#).unwrap();
        assert_eq!(
            (
                e.client_address.as_str(),
                e.client_port.as_str(),
                e.client_type
            ),
            ("lua", "", MonitorClient::Lua)
        );
        let e = MonitorEvent::parse(r#"1.5 [0 ] "PING""#).unwrap();
        assert_eq!(e.client_type, MonitorClient::Unknown);
        assert_eq!(e.command, "PING");
    }

    #[test]
    fn keeps_redis_py_command_text_and_unescapes_args() {
        // GET foo"bar / GET b"foo\x92" / GET b"foo\\x92" / a value ending in a backslash.
        let e = MonitorEvent::parse(r#"1.0 [0 1.2.3.4:5] "GET" "foo\"bar""#).unwrap();
        assert_eq!(e.command, r#"GET foo"bar"#);
        assert_eq!(e.args[1], b"foo\"bar");
        let e = MonitorEvent::parse(r#"1.0 [0 1.2.3.4:5] "GET" "foo\x92""#).unwrap();
        assert_eq!(e.command, r"GET foo\x92");
        assert_eq!(e.args[1], b"foo\x92");
        let e = MonitorEvent::parse(r#"1.0 [0 1.2.3.4:5] "GET" "foo\\x92""#).unwrap();
        assert_eq!(e.command, r"GET foo\\x92");
        assert_eq!(e.args[1], br"foo\x92");
        let e = MonitorEvent::parse(r#"1.0 [0 1.2.3.4:5] "SET" "a\\" "\n\t""#).unwrap();
        assert_eq!(e.args, [&b"SET"[..], b"a\\", b"\n\t"]);
    }

    #[test]
    fn refuses_other_shapes_without_echoing_them() {
        for line in [
            "OK",
            "x [0 a:1] \"GET\"",
            "1.0 0 a:1 \"GET\"",
            "1.0 [0 a:1] GET secret",
        ] {
            let e = MonitorEvent::parse(line).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Protocol);
            assert!(!e.message().contains("secret"));
        }
    }
}
