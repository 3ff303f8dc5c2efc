//! Redis Sentinel: which node serves a service now (docs/architecture.md, "Sentinel").
//!
//! Discovery asks the sentinels in turn (`SENTINEL GET-MASTER-ADDR-BY-NAME`, `SENTINEL
//! REPLICAS`) over short connections of their own, with the sentinels' credentials, and
//! believes an answer only once the node itself confirms its role (`ROLE`): a sentinel
//! that has not yet heard of a failover names the old primary, which by then is a
//! replica or gone. A sentinel that answered goes first next time. What moves the client
//! when a failover happens (events, polling, rebuilding its connections) is the client
//! layer's; this layer only finds nodes.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::settings::{explain_tls_for, Addr, Config, SentinelConfig, TlsFor};

/// A node by host and port.
pub type Node = (String, u16);

fn sentinel_of(config: &Config) -> Result<&SentinelConfig> {
    config
        .sentinel()
        .ok_or_else(|| Error::invalid("this client does not follow Sentinel (no sentinels given)"))
}

/// A connection to `node` within the connect timeout: a sentinel (its credentials) or a
/// data node (the client's).
async fn open(config: &Config, node: &Node, sentinel: bool) -> Result<MultiplexedConnection> {
    let addr = Addr::Tcp {
        host: node.0.clone(),
        port: node.1,
    };
    let cfg = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout()))
        .set_response_timeout(Some(config.response_timeout()));
    let client = config.redis_client_for(&addr, sentinel)?;
    client
        .get_multiplexed_async_connection_with_config(&cfg)
        .await
        .map_err(|e| connect_failed(config, &addr, sentinel, e))
}

/// A failed connect in words: which sentinel or node, and for a failed TLS handshake
/// what failed and which options set that TLS (never a password).
fn connect_failed(config: &Config, addr: &Addr, sentinel: bool, e: redis::RedisError) -> Error {
    let e = Error::from(e);
    let (whose, tls) = if sentinel {
        (
            TlsFor::Sentinels,
            config.sentinel().and_then(|s| s.tls()).is_some(),
        )
    } else {
        (TlsFor::Nodes, config.tls().is_some())
    };
    if let Some(why) = tls
        .then(|| explain_tls_for(whose, e.message(), addr))
        .flatten()
    {
        return Error::new(ErrorKind::Connection, why);
    }
    let who = if sentinel { "sentinel" } else { "node" };
    // A TLS-only port resets a plain connection at its first bytes.
    let hint = if !tls && e.message().contains("reset by peer") {
        match whose {
            TlsFor::Sentinels => "; a sentinel that speaks TLS only resets plain connections: set the sentinels' own TLS (option sentinel_tls; Python sentinel_kwargs={'ssl': True, ...})",
            TlsFor::Nodes => "; a server that speaks TLS only resets plain connections: set TLS (option tls, or a rediss:// URL)",
        }
    } else {
        ""
    };
    Error::new(e.kind(), format!("{who} {addr}: {}{hint}", e.message()))
}

/// Runs one command on `conn`, bounded by the response timeout.
async fn ask(config: &Config, conn: &mut MultiplexedConnection, args: &[&str]) -> Result<Value> {
    let mut cmd = redis::cmd(args[0]);
    for a in &args[1..] {
        cmd.arg(*a);
    }
    let t = config.response_timeout();
    match tokio::time::timeout(t, conn.send_packed_command(&cmd)).await {
        Ok(r) => r.map_err(Error::from),
        Err(_) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "{} got no answer within {} ms",
                args[..2].join(" "),
                t.as_millis()
            ),
        )),
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::VerbatimString { text, .. } => Some(text.clone()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The fields of one entry of `SENTINEL REPLICAS` / `SENTINEL SENTINELS` (a map under
/// RESP3, a flat list of names and values under RESP2).
fn fields(entry: &Value) -> Vec<(String, String)> {
    let pairs: Vec<(&Value, &Value)> = match entry {
        Value::Map(m) => m.iter().map(|(k, v)| (k, v)).collect(),
        Value::Array(a) => a.chunks_exact(2).map(|p| (&p[0], &p[1])).collect(),
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
        .collect()
}

fn field<'a>(entry: &'a [(String, String)], name: &str) -> Option<&'a str> {
    entry
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The nodes an answer of `SENTINEL REPLICAS` or `SENTINEL SENTINELS` lists, without
/// those the sentinel flags as down or disconnected.
fn healthy_nodes(reply: &Value) -> Vec<Node> {
    let Value::Array(entries) = reply else {
        return Vec::new();
    };
    entries
        .iter()
        .map(fields)
        .filter(|e| {
            let flags = field(e, "flags").unwrap_or("");
            // Down or unreachable as the sentinel sees it (its view of a replica's link
            // to the primary lags by up to 10 s, so that is not asked here).
            !["s_down", "o_down", "disconnected"]
                .iter()
                .any(|f| flags.contains(f))
        })
        .filter_map(|e| {
            Some((
                field(&e, "ip")?.to_string(),
                field(&e, "port")?.parse().ok()?,
            ))
        })
        .collect()
}

/// The role `node` reports (`ROLE`): "master", "slave" or "sentinel".
async fn role_of(config: &Config, node: &Node) -> Result<String> {
    let mut conn = open(config, node, false).await?;
    match ask(config, &mut conn, &["ROLE"]).await? {
        Value::Array(items) => items
            .first()
            .and_then(text)
            .ok_or_else(|| bad_reply("ROLE")),
        _ => Err(bad_reply("ROLE")),
    }
}

fn bad_reply(what: &str) -> Error {
    Error::new(ErrorKind::Protocol, format!("unexpected reply to {what}"))
}

/// What discovery asks a sentinel.
#[derive(Clone, Copy)]
enum Question {
    /// `SENTINEL GET-MASTER-ADDR-BY-NAME`, confirmed by the node's `ROLE`.
    Primary,
    /// `SENTINEL REPLICAS`, the healthy ones.
    Replicas,
    /// `SENTINEL SENTINELS`, the healthy ones.
    Sentinels,
}

/// One sentinel's answer to `q`: `Err(why)` when it does not know the service, or names
/// a primary that does not confirm it is one (`ROLE`), in words for the error that lists
/// every sentinel's answer.
async fn answer(
    config: &Config,
    conn: &mut MultiplexedConnection,
    service: &str,
    q: Question,
) -> Result<std::result::Result<Vec<Node>, String>> {
    match q {
        Question::Primary => {
            let reply = ask(
                config,
                conn,
                &["SENTINEL", "GET-MASTER-ADDR-BY-NAME", service],
            )
            .await?;
            let Value::Array(parts) = reply else {
                // Nil: this sentinel does not know the service.
                return Ok(Err(format!("does not know service `{service}`")));
            };
            let (Some(host), Some(port)) = (
                parts.first().and_then(text),
                parts.get(1).and_then(text).and_then(|p| p.parse().ok()),
            ) else {
                return Err(bad_reply("SENTINEL GET-MASTER-ADDR-BY-NAME"));
            };
            let node = (host, port);
            // A sentinel that missed a failover names the old primary (or one watches a
            // replica's address): believe the node.
            match role_of(config, &node).await {
                Ok(role) if role == "master" => Ok(Ok(vec![node])),
                Ok(role) => Ok(Err(format!(
                    "named {}:{}, which says it is a {role} (ROLE), not the primary",
                    node.0, node.1
                ))),
                Err(e) => Ok(Err(format!(
                    "named {}:{}, which does not answer: {}",
                    node.0,
                    node.1,
                    e.message()
                ))),
            }
        }
        Question::Replicas | Question::Sentinels => {
            let sub = if matches!(q, Question::Replicas) {
                "REPLICAS"
            } else {
                "SENTINELS"
            };
            let reply = ask(config, conn, &["SENTINEL", sub, service]).await?;
            Ok(Ok(healthy_nodes(&reply)))
        }
    }
}

/// Asks each sentinel in turn until one answers `q`; the sentinel that did goes first
/// next time. When none did, an error listing what each one answered.
async fn ask_sentinels(config: &Config, q: Question) -> Result<Vec<Node>> {
    let s = sentinel_of(config)?;
    // What each sentinel said, those that said the same together (three sentinels
    // naming one unreachable node make one entry).
    let mut answers: Vec<(Vec<String>, String)> = Vec::new();
    let mut said = |node: &Node, why: String| {
        let who = format!("{}:{}", node.0, node.1);
        match answers.iter_mut().find(|(_, w)| *w == why) {
            Some((whom, _)) => whom.push(who),
            None => answers.push((vec![who], why)),
        }
    };
    for node in s.sentinels() {
        let got = match open(config, &node, true).await {
            Ok(mut conn) => answer(config, &mut conn, s.service(), q).await,
            Err(e) => Err(e),
        };
        match got {
            Ok(Ok(nodes)) => {
                s.prefer(&node);
                s.note_failure(None);
                return Ok(nodes);
            }
            Ok(Err(why)) => said(&node, why),
            Err(e) => {
                // A failed connect already names the sentinel.
                let msg = e.to_string();
                let prefix = format!("sentinel {}:{}: ", node.0, node.1);
                said(&node, msg.strip_prefix(&prefix).unwrap_or(&msg).to_string());
            }
        }
    }
    let said = answers
        .iter()
        .map(|(whom, why)| {
            let s = if whom.len() > 1 { "s" } else { "" };
            format!("sentinel{s} {}: {why}", whom.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    s.note_failure(Some(said.clone()));
    Err(not_found(s, &said))
}

fn not_found(s: &SentinelConfig, said: &str) -> Error {
    Error::new(
        ErrorKind::Connection,
        format!(
            "no sentinel named a {} of service `{}` that answers; the sentinels said: {said}",
            if s.wants_replica() {
                "replica"
            } else {
                "primary"
            },
            s.service(),
        ),
    )
}

/// The primary of the service, as a sentinel names it and the node itself confirms.
pub async fn discover_primary(config: &Config) -> Result<Node> {
    let mut nodes = ask_sentinels(config, Question::Primary).await?;
    nodes
        .pop()
        .ok_or_else(|| bad_reply("SENTINEL GET-MASTER-ADDR-BY-NAME"))
}

/// The replicas of the service a sentinel lists as healthy (not down, not
/// disconnected).
pub async fn discover_replicas(config: &Config) -> Result<Vec<Node>> {
    ask_sentinels(config, Question::Replicas).await
}

/// The node a client of this configuration should use now: the primary, or for a
/// replica client one of the healthy replicas that confirms it is one (a different one
/// each call, so clients spread), else the primary, as redis-py's `slave_for` does.
pub(crate) async fn discover(config: &Config, turn: usize) -> Result<Node> {
    let s = sentinel_of(config)?;
    if s.wants_replica() {
        if let Ok(mut replicas) = discover_replicas(config).await {
            if !replicas.is_empty() {
                let n = replicas.len();
                replicas.rotate_left(turn % n);
            }
            for node in replicas {
                if role_of(config, &node).await.is_ok_and(|r| r == "slave") {
                    return Ok(node);
                }
            }
        }
    }
    discover_primary(config).await
}

/// Adds the sentinels that one of the known sentinels knows of (`SENTINEL SENTINELS`),
/// so that a client given one sentinel still finds the others when it is down.
pub(crate) async fn learn_sentinels(config: &Config) -> Result<()> {
    let found = ask_sentinels(config, Question::Sentinels).await?;
    sentinel_of(config)?.learn(found);
    Ok(())
}

/// What a sentinel's event says, as far as a client cares.
pub(crate) enum Announcement {
    /// This node now serves the service as its primary (`+promoted-slave`, the moment
    /// the replica took the role; `+switch-master`, when the failover is over).
    Primary(Node),
    /// The sentinels chose this replica to promote (`+selected-slave`): it becomes the
    /// primary within moments, which a client sees sooner by asking it.
    Selected(Node),
    /// A sentinel joined the deployment (`+sentinel`, from a sentinel that just heard
    /// its hello): added to the known ones at once, so the client still finds one when
    /// those it was given go away.
    Sentinel(Node),
    /// Something else happened to the service (or to another one).
    Other,
    /// The subscription's connection dropped.
    Lost,
}

/// What the event `channel` with `payload` announces for `service`.
fn announcement(service: &str, channel: &[u8], payload: &[u8]) -> Announcement {
    let text = String::from_utf8_lossy(payload);
    let parts: Vec<&str> = text.split(' ').collect();
    let node = |host: usize, port: usize| -> Option<Node> {
        Some((parts.get(host)?.to_string(), parts.get(port)?.parse().ok()?))
    };
    let found = match channel {
        // "<name> <old ip> <old port> <new ip> <new port>"
        b"+switch-master" if parts.first() == Some(&service) => node(3, 4),
        // "slave <ip:port> <ip> <port> @ <name> <primary ip> <primary port>"
        b"+promoted-slave" if parts.get(5) == Some(&service) => node(2, 3),
        b"+selected-slave" if parts.get(5) == Some(&service) => {
            return node(2, 3).map_or(Announcement::Other, Announcement::Selected)
        }
        // "sentinel <ip:port> <ip> <port> @ <name> <primary ip> <primary port>"
        b"+sentinel" if parts.get(5) == Some(&service) => {
            return node(2, 3).map_or(Announcement::Other, Announcement::Sentinel)
        }
        _ => None,
    };
    found.map_or(Announcement::Other, Announcement::Primary)
}

/// A connection to a sentinel, subscribed (RESP3) to `+switch-master`,
/// `+promoted-slave`, `+selected-slave` and `+sentinel`; `on_event` is called from its reader for each event and when the
/// connection drops, so the caller can act at once.
pub(crate) async fn watch_switches(
    config: &Config,
    node: &Node,
    on_event: impl Fn(Announcement) + Send + Sync + 'static,
) -> Result<MultiplexedConnection> {
    let addr = Addr::Tcp {
        host: node.0.clone(),
        port: node.1,
    };
    let service = sentinel_of(config)?.service().to_string();
    let cfg = redis::AsyncConnectionConfig::new()
        .set_connection_timeout(Some(config.connect_timeout()))
        .set_response_timeout(Some(config.response_timeout()))
        .set_push_sender(move |push: redis::PushInfo| {
            let said = match (push.kind, push.data.as_slice()) {
                (redis::PushKind::Disconnection, _) => Announcement::Lost,
                (redis::PushKind::Message, [Value::BulkString(ch), Value::BulkString(p)]) => {
                    announcement(&service, ch, p)
                }
                _ => Announcement::Other,
            };
            on_event(said);
            Ok::<(), std::convert::Infallible>(())
        });
    let mut conn = config
        .redis_client_for(&addr, true)?
        .get_multiplexed_async_connection_with_config(&cfg)
        .await
        .map_err(|e| connect_failed(config, &addr, true, e))?;
    conn.subscribe(&[
        "+switch-master",
        "+promoted-slave",
        "+selected-slave",
        "+sentinel",
    ])
    .await?;
    Ok(conn)
}

/// Whether `node` is a replica a sentinel lists as healthy and that says it is one.
pub(crate) async fn still_replica(config: &Config, node: &Node) -> bool {
    discover_replicas(config)
        .await
        .is_ok_and(|r| r.contains(node))
        && role_of(config, node).await.is_ok_and(|r| r == "slave")
}

/// Whether `node` reports itself the primary (`ROLE`).
pub(crate) async fn confirms_primary(config: &Config, node: &Node) -> bool {
    role_of(config, node).await.is_ok_and(|r| r == "master")
}

/// How often a Sentinel-managed client asks again even when no event came.
pub(crate) const POLL: Duration = Duration::from_secs(1);
