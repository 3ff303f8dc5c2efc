//! Client configuration: a builder, a URL parser, and named options.
//!
//! Every binding reaches the same options through [`ConfigBuilder::set_option`] (by name,
//! from strings) or the typed setters, so defaults and validation exist once. A bad value
//! gets an [`ErrorKind::InvalidArgument`](crate::ErrorKind) error naming the option.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::cache::{CacheConfig, TrackingMode};
use super::guard::{GuardMode, Warning, WarningSink};
use super::sentinel::SentinelConfig;
use super::tls::{self, PemSource, TlsBuilder, TlsConfig, TlsFor};
use crate::error::{Error, Result};

/// Default for [`Config::connect_timeout`].
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default for [`Config::response_timeout`].
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// Default number of retries for commands the command table marks safe to repeat.
pub const DEFAULT_RETRIES: u32 = 3;
/// Default bound of the pool of dedicated connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 16;
/// Default reply size (elements) above which the guard warns.
pub const DEFAULT_GUARD_THRESHOLD: usize = 1000;
/// Idle pooled connections older than this are closed.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Default for [`Config::spin_wait`].
pub const DEFAULT_SPIN_WAIT: Duration = Duration::from_micros(100);
/// The longest [`Config::spin_wait`] accepted.
pub const MAX_SPIN_WAIT: Duration = Duration::from_millis(1);

/// A password: kept out of every `Debug`, `Display` and error message.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The password itself, for the handshake only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Where the server is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Addr {
    /// Host name or IP address and port.
    Tcp {
        /// Host name or address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A Unix domain socket path.
    Unix(PathBuf),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Tcp { host, port } if host.contains(':') => write!(f, "[{host}]:{port}"),
            Addr::Tcp { host, port } => write!(f, "{host}:{port}"),
            Addr::Unix(p) => write!(f, "unix:{}", p.display()),
        }
    }
}

/// The RESP protocol version spoken on every connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// RESP2: every Redis version; no push messages, so no client-side cache.
    Resp2,
    /// RESP3 (default): typed replies and push messages (needed for the cache).
    Resp3,
}

/// How ordinary commands reach the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One shared connection carries every ordinary command, auto-pipelined (default).
    Multiplexed,
    /// Every command leases a connection from the pool, like redis-py and Jedis.
    Pooled,
}

/// A validated client configuration. Build it with [`Config::builder`] or
/// [`Config::from_url`].
#[derive(Clone)]
pub struct Config {
    pub(crate) addr: Addr,
    pub(crate) db: i64,
    pub(crate) username: Option<String>,
    pub(crate) password: Option<Secret>,
    pub(crate) protocol: Protocol,
    pub(crate) client_name: Option<String>,
    pub(crate) mode: Mode,
    pub(crate) max_connections: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) response_timeout: Duration,
    pub(crate) pool_timeout: Duration,
    pub(crate) idle_timeout: Duration,
    pub(crate) spin_wait: Duration,
    pub(crate) retries: u32,
    pub(crate) retry_on_timeout: bool,
    pub(crate) retry_unsafe: bool,
    pub(crate) guard: GuardMode,
    pub(crate) guard_threshold: usize,
    pub(crate) warning_sink: Option<WarningSink>,
    pub(crate) cache: Option<CacheConfig>,
    pub(crate) tls: Option<TlsConfig>,
    pub(crate) cluster: bool,
    pub(crate) cluster_nodes: Vec<(String, u16)>,
    pub(crate) read_from_replicas: bool,
    pub(crate) sentinel: Option<SentinelConfig>,
}

impl Config {
    /// A builder with every default (localhost:6379, RESP3, multiplexed).
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// Parses `redis://[user:password@]host[:port][/db][?option=value&…]` or
    /// `unix:///path/to/socket[?db=N&…]`; query options are those of
    /// [`ConfigBuilder::set_option`].
    pub fn from_url(url: &str) -> Result<Config> {
        ConfigBuilder::from_url(url)?.build()
    }

    /// Server address.
    pub fn addr(&self) -> &Addr {
        &self.addr
    }
    /// Database number selected on every connection.
    pub fn db(&self) -> i64 {
        self.db
    }
    /// ACL user name, if any.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }
    /// True when a password is set (the password itself is not readable here).
    pub fn has_password(&self) -> bool {
        self.password.is_some()
    }
    /// RESP version.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }
    /// Name set with CLIENT SETNAME on every connection.
    pub fn client_name(&self) -> Option<&str> {
        self.client_name.as_deref()
    }
    /// Routing mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }
    /// Bound of the dedicated-connection pool.
    pub fn max_connections(&self) -> usize {
        self.max_connections
    }
    /// Time allowed to open a connection.
    pub fn connect_timeout(&self) -> Duration {
        self.connect_timeout
    }
    /// Time allowed per command, from write to reply.
    pub fn response_timeout(&self) -> Duration {
        self.response_timeout
    }
    /// How long a reply is polled for, without sleeping, after the last write or read:
    /// by Node's event loop, which carries requests itself, while requests are in
    /// flight, and by a lone blocking caller on the sync engine's direct connection (C,
    /// sync Python) when no other caller is inside a request (zero: never). A sleeping
    /// loop pays a wake-up per reply, which on virtual machines costs tens of
    /// microseconds (more than a loopback round trip); polling spends that time on the
    /// CPU instead. The core stops spinning for a while when replies keep arriving after
    /// the spin ended (a slow or distant server).
    pub fn spin_wait(&self) -> Duration {
        self.spin_wait
    }
    /// Time allowed to wait for a pooled connection.
    pub fn pool_timeout(&self) -> Duration {
        self.pool_timeout
    }
    /// Retries for commands that are safe to repeat.
    pub fn retries(&self) -> u32 {
        self.retries
    }
    /// Whether timeouts are retried too.
    pub fn retry_on_timeout(&self) -> bool {
        self.retry_on_timeout
    }
    /// Whether commands the table does not mark safe (INCR, LPUSH…) are retried too.
    pub fn retry_unsafe(&self) -> bool {
        self.retry_unsafe
    }
    /// Guard mode.
    pub fn guard(&self) -> GuardMode {
        self.guard
    }
    /// Reply size above which the guard warns.
    pub fn guard_threshold(&self) -> usize {
        self.guard_threshold
    }
    /// The client-side cache options, when the cache is on.
    pub fn cache(&self) -> Option<&CacheConfig> {
        self.cache.as_ref()
    }

    /// TLS settings, when the connection is encrypted (`rediss://`).
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }
    /// Whether the server is a Redis Cluster (the address is one seed node).
    pub fn is_cluster(&self) -> bool {
        self.cluster
    }

    /// Who connections log in as: (username, password), or None to stay the default
    /// user without AUTH. A username without a password (ACL `nopass`) logs in with an
    /// empty password, as redis-py and node-redis do; otherwise the connection would
    /// silently be the default user's. Every handshake (redis-rs's and the direct
    /// connection's) asks this.
    pub(crate) fn login(&self) -> Option<(Option<&str>, &str)> {
        match (&self.username, &self.password) {
            (user, Some(p)) => Some((user.as_deref(), p.expose())),
            (Some(user), None) => Some((Some(user.as_str()), "")),
            (None, None) => None,
        }
    }

    /// The redis-rs client every connection of this configuration is opened from
    /// (address, TLS, handshake).
    pub(crate) fn redis_client(&self) -> Result<redis::Client> {
        tls::client(self.connection_info_at(&self.target()?), self.tls.as_ref())
    }

    /// [`Config::redis_client`], or for a Sentinel-managed client whose node is not
    /// found yet, a client that cannot connect (engines are built again once it is;
    /// their connects say why meanwhile, from [`Config::target`]).
    pub(crate) fn redis_client_or_pending(&self) -> Result<redis::Client> {
        match self.redis_client() {
            Err(_) if self.sentinel.is_some() => {
                let pending =
                    Addr::Unix("/nonexistent/redbridge-sentinel-node-not-found-yet".into());
                tls::client(self.connection_info_at(&pending), None)
            }
            other => other,
        }
    }

    /// Where connections open now: the address given, or for a Sentinel-managed client
    /// the node discovery settled on (an error until it found one).
    pub(crate) fn target(&self) -> Result<Addr> {
        match &self.sentinel {
            Some(s) => s.current_addr(),
            None => Ok(self.addr.clone()),
        }
    }

    /// [`Config::target`] for messages: the configured address while a Sentinel client
    /// has not found its node yet.
    pub(crate) fn target_or_addr(&self) -> Addr {
        self.target().unwrap_or_else(|_| self.addr.clone())
    }

    /// The Sentinel deployment this client follows, if any.
    pub fn sentinel(&self) -> Option<&SentinelConfig> {
        self.sentinel.as_ref()
    }

    /// A connection to `addr` with the handshake of this configuration (for a sentinel,
    /// with the sentinels' credentials and TLS), as redis-rs opens it.
    pub(crate) fn redis_client_for(&self, addr: &Addr, sentinel: bool) -> Result<redis::Client> {
        let mut info = self.connection_info_at(addr);
        if sentinel {
            let s = self.sentinel.as_ref();
            let mut settings = redis::RedisConnectionInfo::default()
                .set_protocol(redis::ProtocolVersion::RESP3)
                .set_lib_name("redbridge", env!("CARGO_PKG_VERSION"));
            if let Some(password) = s.and_then(|s| s.password.as_ref()) {
                if let Some(user) = s.and_then(|s| s.username.as_deref()) {
                    settings = settings.set_username(user);
                }
                settings = settings.set_password(password.expose());
            }
            info = info.set_redis_settings(settings);
            return tls::client(info, s.and_then(|s| s.tls.as_ref()));
        }
        tls::client(info, self.tls.as_ref())
    }

    /// The redis-rs connection info for this configuration (handshake: AUTH, SELECT,
    /// HELLO, library name).
    fn connection_info_at(&self, addr: &Addr) -> redis::ConnectionInfo {
        use redis::IntoConnectionInfo;
        let addr = match addr {
            Addr::Tcp { host, port } => redis::ConnectionAddr::Tcp(host.clone(), *port),
            Addr::Unix(path) => redis::ConnectionAddr::Unix(path.clone()),
        };
        let mut settings = redis::RedisConnectionInfo::default()
            .set_db(self.db)
            .set_protocol(match self.protocol {
                Protocol::Resp2 => redis::ProtocolVersion::RESP2,
                Protocol::Resp3 => redis::ProtocolVersion::RESP3,
            })
            .set_lib_name("redbridge", env!("CARGO_PKG_VERSION"));
        if let Some((user, password)) = self.login() {
            if let Some(u) = user {
                settings = settings.set_username(u);
            }
            settings = settings.set_password(password);
        }
        addr.into_connection_info()
            .expect("a ConnectionAddr always converts")
            .set_redis_settings(settings)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("db", &self.db)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("protocol", &self.protocol)
            .field("client_name", &self.client_name)
            .field("mode", &self.mode)
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .field("response_timeout", &self.response_timeout)
            .field("pool_timeout", &self.pool_timeout)
            .field("spin_wait", &self.spin_wait)
            .field("retries", &self.retries)
            .field("retry_on_timeout", &self.retry_on_timeout)
            .field("guard", &self.guard)
            .field("guard_threshold", &self.guard_threshold)
            .field("cache", &self.cache)
            .field("tls", &self.tls)
            .field("cluster", &self.cluster)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Config`]; nothing is checked until [`ConfigBuilder::build`].
#[derive(Clone)]
pub struct ConfigBuilder {
    host: String,
    port: u16,
    unix: Option<PathBuf>,
    db: i64,
    username: Option<String>,
    password: Option<Secret>,
    protocol: Protocol,
    client_name: Option<String>,
    mode: Mode,
    max_connections: usize,
    connect_timeout: Duration,
    response_timeout: Duration,
    pool_timeout: Option<Duration>,
    idle_timeout: Duration,
    spin_wait: Duration,
    retries: u32,
    retry_on_timeout: bool,
    retry_unsafe: bool,
    guard: GuardMode,
    guard_threshold: usize,
    warning_sink: Option<WarningSink>,
    cache: Option<CacheConfig>,
    tls: TlsBuilder,
    cluster: bool,
    cluster_nodes: Vec<(String, u16)>,
    read_from_replicas: bool,
    sentinel_nodes: Vec<(String, u16)>,
    sentinel_service: Option<String>,
    sentinel_replica: bool,
    sentinel_username: Option<String>,
    sentinel_password: Option<Secret>,
    sentinel_tls: TlsBuilder,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder {
            host: "127.0.0.1".into(),
            port: 6379,
            unix: None,
            db: 0,
            username: None,
            password: None,
            protocol: Protocol::Resp3,
            client_name: None,
            mode: Mode::Multiplexed,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            response_timeout: DEFAULT_RESPONSE_TIMEOUT,
            pool_timeout: None,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            spin_wait: DEFAULT_SPIN_WAIT,
            retries: DEFAULT_RETRIES,
            retry_on_timeout: false,
            retry_unsafe: false,
            guard: GuardMode::Warn,
            guard_threshold: DEFAULT_GUARD_THRESHOLD,
            warning_sink: None,
            cache: None,
            tls: TlsBuilder::default(),
            cluster: false,
            cluster_nodes: Vec::new(),
            read_from_replicas: false,
            sentinel_nodes: Vec::new(),
            sentinel_service: None,
            sentinel_replica: false,
            sentinel_username: None,
            sentinel_password: None,
            sentinel_tls: TlsBuilder::default(),
        }
    }
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("unix", &self.unix)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

/// The option names [`ConfigBuilder::set_option`] accepts (aliases included).
pub const OPTION_NAMES: &[&str] = &[
    "host",
    "port",
    "unix_socket_path",
    "db",
    "username",
    "password",
    "protocol",
    "client_name",
    "mode",
    "max_connections",
    "connect_timeout",
    "response_timeout",
    "pool_timeout",
    "idle_timeout",
    "spin_wait",
    "retries",
    "retry_on_timeout",
    "retry_unsafe",
    "guard",
    "guard_threshold",
    "cache",
    "cache_max_entries",
    "cache_max_bytes",
    "cache_ttl",
    "cache_mode",
    "cache_prefixes",
    "cache_commands",
    "tls",
    "tls_ca_file",
    "tls_ca",
    "tls_cert_file",
    "tls_cert",
    "tls_key_file",
    "tls_key",
    "tls_verify",
    "cluster",
    "cluster_nodes",
    "read_from_replicas",
    "sentinels",
    "sentinel_service",
    "sentinel_role",
    "sentinel_username",
    "sentinel_password",
    "sentinel_tls",
    "sentinel_tls_ca_file",
    "sentinel_tls_ca",
    "sentinel_tls_cert_file",
    "sentinel_tls_cert",
    "sentinel_tls_key_file",
    "sentinel_tls_key",
    "sentinel_tls_verify",
];

impl ConfigBuilder {
    /// Starts from a URL (see [`Config::from_url`]); later setters override it.
    pub fn from_url(url: &str) -> Result<ConfigBuilder> {
        let mut b = ConfigBuilder::default();
        b.apply_url(url)?;
        Ok(b)
    }

    fn apply_url(&mut self, raw: &str) -> Result<()> {
        let parsed = url::Url::parse(raw).map_err(|e| {
            Error::invalid(format!(
                "invalid Redis URL {}: {e}; expected redis://[user:password@]host:port/db or unix:///path",
                redact_url(raw)
            ))
        })?;
        match parsed.scheme() {
            "redis" | "valkey" => {
                let host = parsed.host_str().unwrap_or("");
                if host.is_empty() {
                    return Err(Error::invalid(format!(
                        "invalid Redis URL {}: the host is missing",
                        redact_url(raw)
                    )));
                }
                self.host = host.trim_start_matches('[').trim_end_matches(']').into();
                self.port = parsed.port().unwrap_or(6379);
                let path = parsed.path().trim_matches('/');
                if !path.is_empty() {
                    self.db = path.parse().map_err(|_| {
                        Error::invalid(format!(
                            "invalid Redis URL {}: the path /{path} is not a database number",
                            redact_url(raw)
                        ))
                    })?;
                }
            }
            "unix" | "redis+unix" => {
                if parsed.path().is_empty() {
                    return Err(Error::invalid(format!(
                        "invalid Redis URL {}: the socket path is missing (unix:///path/to/redis.sock)",
                        redact_url(raw)
                    )));
                }
                self.unix = Some(PathBuf::from(parsed.path()));
            }
            "rediss" | "valkeys" => {
                self.tls.on = true;
                return self
                    .apply_url(&format!("redis{}", &raw[raw.find("://").unwrap_or(0)..]))
                    .map_err(|e| Error::invalid(e.message().replacen("redis://", "rediss://", 1)));
            }
            other => {
                return Err(Error::invalid(format!(
                    "invalid Redis URL {}: unknown scheme {other:?}; use redis:// or unix://",
                    redact_url(raw)
                )))
            }
        }
        if !parsed.username().is_empty() {
            self.username = Some(percent_decode(parsed.username()));
        }
        if let Some(p) = parsed.password() {
            self.password = Some(Secret(percent_decode(p)));
        }
        for (k, v) in parsed.query_pairs() {
            self.set_option(&k, &v)?;
        }
        Ok(())
    }

    /// Sets one option by name from a string, as URL query options and the bindings'
    /// keyword arguments do. Durations are seconds (`2.5`) or carry a unit (`250ms`,
    /// `2s`); booleans are `true/false/1/0/yes/no`. Unknown names are an error.
    pub fn set_option(&mut self, name: &str, value: &str) -> Result<&mut Self> {
        let bad = |expect: &str| {
            Error::invalid(format!(
                "invalid value for `{name}`: {value:?} is not {expect}"
            ))
        };
        match name {
            "host" => self.host = value.to_string(),
            "port" => self.port = value.parse().map_err(|_| bad("a port number (1-65535)"))?,
            "unix_socket_path" | "path" => self.unix = Some(PathBuf::from(value)),
            "db" | "database" => self.db = value.parse().map_err(|_| bad("a database number"))?,
            "username" | "user" => self.username = Some(value.to_string()),
            "password" => self.password = Some(Secret(value.to_string())),
            "protocol" | "resp" => {
                self.protocol = match value.to_ascii_lowercase().as_str() {
                    "2" | "resp2" => Protocol::Resp2,
                    "3" | "resp3" => Protocol::Resp3,
                    _ => {
                        return Err(Error::invalid(format!(
                        "invalid value for `{name}`: {value:?} is not a protocol version (2 or 3)"
                    )))
                    }
                }
            }
            "client_name" | "name" => self.client_name = Some(value.to_string()),
            "mode" => {
                self.mode = match value.to_ascii_lowercase().as_str() {
                    "multiplexed" => Mode::Multiplexed,
                    "pooled" => Mode::Pooled,
                    _ => return Err(bad("a mode (\"multiplexed\" or \"pooled\")")),
                }
            }
            "max_connections" => {
                self.max_connections = value.parse().map_err(|_| bad("a whole number"))?
            }
            "connect_timeout" | "socket_connect_timeout" => {
                self.connect_timeout = parse_duration(value).ok_or_else(|| bad(DURATION))?
            }
            "response_timeout" | "socket_timeout" => {
                self.response_timeout = parse_duration(value).ok_or_else(|| bad(DURATION))?
            }
            "pool_timeout" => {
                self.pool_timeout = Some(parse_duration(value).ok_or_else(|| bad(DURATION))?)
            }
            "idle_timeout" => {
                self.idle_timeout = parse_duration(value).ok_or_else(|| bad(DURATION))?
            }
            "spin_wait" => self.spin_wait = parse_duration(value).ok_or_else(|| bad(DURATION))?,
            "retries" => self.retries = value.parse().map_err(|_| bad("a whole number"))?,
            "retry_on_timeout" => {
                self.retry_on_timeout = parse_bool(value).ok_or_else(|| bad("a boolean"))?
            }
            "retry_unsafe" => {
                self.retry_unsafe = parse_bool(value).ok_or_else(|| bad("a boolean"))?
            }
            "guard" => {
                self.guard = GuardMode::parse(value)
                    .ok_or_else(|| bad("a guard mode (\"warn\", \"deny\" or \"off\")"))?
            }
            "guard_threshold" => {
                self.guard_threshold = value.parse().map_err(|_| bad("a whole number"))?
            }
            "cache" => {
                let on = parse_bool(value).ok_or_else(|| bad("a boolean"))?;
                self.cache = if on {
                    Some(self.cache.take().unwrap_or_default())
                } else {
                    None
                };
            }
            "cache_max_entries" => {
                self.cache_mut().max_entries = value.parse().map_err(|_| bad("a whole number"))?
            }
            "cache_max_bytes" => {
                self.cache_mut().max_bytes =
                    value.parse().map_err(|_| bad("a whole number of bytes"))?
            }
            "cache_ttl" => {
                let ttl = parse_duration(value).ok_or_else(|| bad(DURATION))?;
                self.cache_mut().ttl = (!ttl.is_zero()).then_some(ttl);
            }
            "cache_mode" => {
                let prefixes = match &self.cache_mut().mode {
                    TrackingMode::Broadcast(p) => p.clone(),
                    TrackingMode::Default => Vec::new(),
                };
                self.cache_mut().mode = match value.to_ascii_lowercase().as_str() {
                    "default" => TrackingMode::Default,
                    "broadcast" | "bcast" => TrackingMode::Broadcast(prefixes),
                    _ => return Err(bad("a cache mode (\"default\" or \"broadcast\")")),
                }
            }
            "cache_prefixes" => {
                let prefixes: Vec<Vec<u8>> = value
                    .split(',')
                    .filter(|p| !p.is_empty())
                    .map(|p| p.as_bytes().to_vec())
                    .collect();
                self.cache_mut().mode = TrackingMode::Broadcast(prefixes);
            }
            "tls" | "ssl" | "tls_ca_file" | "ssl_ca_certs" | "tls_ca" | "ssl_ca_data"
            | "tls_cert_file" | "ssl_certfile" | "tls_cert" | "tls_key_file" | "ssl_keyfile"
            | "tls_key" | "tls_verify" | "ssl_cert_reqs" => set_tls(&mut self.tls, name, value)?,
            "cluster" => self.cluster = parse_bool(value).ok_or_else(|| bad("a boolean"))?,
            "cluster_nodes" | "startup_nodes" => {
                self.cluster = true;
                for node in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    let (host, port) = node
                        .rsplit_once(':')
                        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                        .ok_or_else(|| bad("a list of host:port"))?;
                    self.cluster_nodes.push((host.to_string(), port));
                }
            }
            "read_from_replicas" => {
                self.read_from_replicas = parse_bool(value).ok_or_else(|| bad("a boolean"))?
            }
            "sentinels" => {
                for node in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    self.sentinel_nodes
                        .push(host_port(node).ok_or_else(|| bad("a list of host:port"))?);
                }
            }
            "sentinel_service" | "service_name" => {
                if value.is_empty() {
                    return Err(bad("a service name (the one in `sentinel monitor`)"));
                }
                self.sentinel_service = Some(value.to_string())
            }
            "sentinel_role" => {
                self.sentinel_replica = match value.to_ascii_lowercase().as_str() {
                    "master" | "primary" => false,
                    "replica" | "slave" => true,
                    _ => return Err(bad("\"master\" or \"replica\"")),
                }
            }
            "sentinel_tls"
            | "sentinel_ssl"
            | "sentinel_tls_ca_file"
            | "sentinel_ssl_ca_certs"
            | "sentinel_tls_ca"
            | "sentinel_ssl_ca_data"
            | "sentinel_tls_cert_file"
            | "sentinel_ssl_certfile"
            | "sentinel_tls_cert"
            | "sentinel_tls_key_file"
            | "sentinel_ssl_keyfile"
            | "sentinel_tls_key"
            | "sentinel_tls_verify"
            | "sentinel_ssl_cert_reqs" => set_tls(&mut self.sentinel_tls, name, value)?,
            "sentinel_username" => self.sentinel_username = Some(value.to_string()),
            "sentinel_password" => self.sentinel_password = Some(Secret::new(value)),
            "cache_commands" => {
                self.cache_mut().commands = Some(
                    value
                        .split(',')
                        .filter(|c| !c.is_empty())
                        .map(|c| c.trim().to_ascii_uppercase())
                        .collect(),
                )
            }
            _ => {
                return Err(Error::invalid(format!(
                    "unknown option `{name}`; known options: {}",
                    OPTION_NAMES.join(", ")
                )))
            }
        }
        Ok(self)
    }

    /// Server host (TCP).
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self.unix = None;
        self
    }
    /// Server port (TCP).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Connect over a Unix domain socket instead of TCP.
    pub fn unix_socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.unix = Some(path.into());
        self
    }
    /// Database number (SELECT on every connection).
    pub fn db(mut self, db: i64) -> Self {
        self.db = db;
        self
    }
    /// The server is a Redis Cluster; the address is one seed node.
    pub fn cluster(mut self, on: bool) -> Self {
        self.cluster = on;
        self
    }
    /// More seed nodes of the cluster (any one that answers will do); implies `cluster`.
    pub fn cluster_node(mut self, host: impl Into<String>, port: u16) -> Self {
        self.cluster = true;
        self.cluster_nodes.push((host.into(), port));
        self
    }
    /// Follow the Sentinel deployment watching `service`: connections open to its primary
    /// (or a replica, [`ConfigBuilder::sentinel_replica`]) as the sentinels name it, and
    /// move when they fail over. The host and port given otherwise are not used.
    pub fn sentinel(mut self, service: impl Into<String>, sentinels: &[(&str, u16)]) -> Self {
        self.sentinel_service = Some(service.into());
        self.sentinel_nodes
            .extend(sentinels.iter().map(|(h, p)| (h.to_string(), *p)));
        self
    }
    /// With [`ConfigBuilder::sentinel`]: a replica of the service instead of its primary.
    pub fn sentinel_replica(mut self, on: bool) -> Self {
        self.sentinel_replica = on;
        self
    }
    /// With [`ConfigBuilder::sentinel`]: the sentinels' own ACL user and password (the
    /// data nodes use the client's).
    pub fn sentinel_auth(mut self, username: Option<&str>, password: &str) -> Self {
        self.sentinel_username = username.map(str::to_string);
        self.sentinel_password = Some(Secret::new(password));
        self
    }
    /// With [`ConfigBuilder::sentinel`]: TLS to the sentinels, apart from the data nodes'
    /// ([`ConfigBuilder::tls`] and the rest). `ca_file`: the CA (PEM) the sentinels'
    /// certificates must be signed by, `None` for the system's trust store;
    /// `client_cert`: a certificate and key (PEM files) for sentinels that ask for one;
    /// `verify` false accepts any sentinel (tests only). The options `sentinel_tls*` set
    /// the same, PEM text too.
    pub fn sentinel_tls(
        mut self,
        ca_file: Option<&Path>,
        client_cert: Option<(&Path, &Path)>,
        verify: bool,
    ) -> Self {
        let t = &mut self.sentinel_tls;
        t.on = true;
        t.ca = ca_file.map(|p| PemSource::File(p.into()));
        t.cert = client_cert.map(|(c, _)| PemSource::File(c.into()));
        t.key = client_cert.map(|(_, k)| PemSource::File(k.into()));
        t.verify = Some(verify);
        self
    }
    /// In a cluster, send read-only commands to replicas too.
    pub fn read_from_replicas(mut self, on: bool) -> Self {
        self.read_from_replicas = on;
        self
    }
    /// Encrypts every connection with TLS (as a `rediss://` URL does).
    pub fn tls(mut self, on: bool) -> Self {
        self.tls.on = on;
        self
    }
    /// The CA certificate (PEM file) the server's certificate must be signed by; without
    /// it, the system's trust store is used.
    pub fn tls_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.tls.ca = Some(PemSource::File(path.into()));
        self
    }
    /// A client certificate and its key (PEM files), for servers that ask for one
    /// (mutual TLS, `tls-auth-clients yes`).
    pub fn tls_client_cert_files(
        mut self,
        cert: impl Into<PathBuf>,
        key: impl Into<PathBuf>,
    ) -> Self {
        self.tls.cert = Some(PemSource::File(cert.into()));
        self.tls.key = Some(PemSource::File(key.into()));
        self
    }
    /// Whether the server's certificate is verified (default true). Turning it off
    /// (redis-py `ssl_cert_reqs="none"`) accepts any server: for tests only.
    pub fn tls_verify(mut self, verify: bool) -> Self {
        self.tls.verify = Some(verify);
        self
    }
    /// ACL user name.
    pub fn username(mut self, user: impl Into<String>) -> Self {
        self.username = Some(user.into());
        self
    }
    /// Password (never shown in Debug or errors).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Secret(password.into()));
        self
    }
    /// RESP version.
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }
    /// CLIENT SETNAME on every connection.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = Some(name.into());
        self
    }
    /// Routing mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    /// Bound of the dedicated-connection pool.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }
    /// Time allowed to open a connection.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Time allowed per command.
    pub fn response_timeout(mut self, d: Duration) -> Self {
        self.response_timeout = d;
        self
    }
    /// Time allowed to wait for a pooled connection (default: the response timeout).
    pub fn pool_timeout(mut self, d: Duration) -> Self {
        self.pool_timeout = Some(d);
        self
    }
    /// Idle pooled connections older than this are closed.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }
    /// How long the event loop keeps polling for a reply before it sleeps
    /// ([`Config::spin_wait`]); zero turns the spin off.
    pub fn spin_wait(mut self, d: Duration) -> Self {
        self.spin_wait = d;
        self
    }
    /// Retries for commands safe to repeat.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }
    /// Retry timeouts too.
    pub fn retry_on_timeout(mut self, on: bool) -> Self {
        self.retry_on_timeout = on;
        self
    }
    /// Retry every command, even those that are not safe to repeat.
    pub fn retry_unsafe(mut self, on: bool) -> Self {
        self.retry_unsafe = on;
        self
    }
    /// Guard mode.
    pub fn guard(mut self, mode: GuardMode) -> Self {
        self.guard = mode;
        self
    }
    /// Reply size above which the guard warns.
    pub fn guard_threshold(mut self, n: usize) -> Self {
        self.guard_threshold = n;
        self
    }
    /// Where guard warnings go (a binding plugs its ecosystem's channel in here).
    pub fn warning_sink(mut self, sink: WarningSink) -> Self {
        self.warning_sink = Some(sink);
        self
    }
    /// Turns the client-side cache on with these options (RESP3 only).
    pub fn cache(mut self, cache: CacheConfig) -> Self {
        self.cache = Some(cache);
        self
    }

    fn cache_mut(&mut self) -> &mut CacheConfig {
        self.cache.get_or_insert_with(CacheConfig::default)
    }

    /// Removes a sink set before: warnings go to the `log` facade again.
    pub fn without_warning_sink(mut self) -> Self {
        self.warning_sink = None;
        self
    }
    /// Convenience for [`ConfigBuilder::warning_sink`] from a closure.
    pub fn on_warning(self, f: impl Fn(&Warning) + Send + Sync + 'static) -> Self {
        self.warning_sink(Arc::new(f))
    }

    /// Checks every value and returns the configuration.
    pub fn build(self) -> Result<Config> {
        let field = |name: &str, why: &str| Error::invalid(format!("invalid `{name}`: {why}"));
        let addr = match self.unix {
            Some(p) if p.as_os_str().is_empty() => {
                return Err(field("unix_socket_path", "the path is empty"))
            }
            Some(p) => Addr::Unix(p),
            None => {
                if self.host.is_empty() {
                    return Err(field("host", "the host is empty"));
                }
                if self.port == 0 {
                    return Err(field("port", "0 is not a port; use 1-65535 (Redis: 6379)"));
                }
                Addr::Tcp {
                    host: self.host,
                    port: self.port,
                }
            }
        };
        if self.db < 0 {
            return Err(field("db", "must be 0 or more"));
        }
        if self.max_connections == 0 {
            return Err(field("max_connections", "must be at least 1"));
        }
        for (name, d) in [
            ("connect_timeout", self.connect_timeout),
            ("response_timeout", self.response_timeout),
            ("idle_timeout", self.idle_timeout),
        ] {
            if d.is_zero() {
                return Err(field(name, "must be greater than zero"));
            }
        }
        if self.spin_wait > MAX_SPIN_WAIT {
            return Err(field(
                "spin_wait",
                "must be at most 1ms (a longer spin costs more CPU than it saves; 0 turns it off)",
            ));
        }
        if self.pool_timeout.is_some_and(|d| d.is_zero()) {
            return Err(field("pool_timeout", "must be greater than zero"));
        }
        if self.retries > 100 {
            return Err(field("retries", "more than 100 retries is never useful"));
        }
        if self.guard_threshold == 0 {
            return Err(field("guard_threshold", "must be at least 1"));
        }
        if let Some(cache) = &self.cache {
            if self.protocol != Protocol::Resp3 {
                return Err(field(
                    "cache",
                    "the client-side cache needs RESP3 invalidation pushes; use protocol=3 or turn the cache off",
                ));
            }
            if cache.max_entries == 0 || cache.max_bytes == 0 {
                return Err(field(
                    "cache_max_entries",
                    "the cache bounds must be at least 1",
                ));
            }
        }
        if self.cluster {
            if matches!(addr, Addr::Unix(_)) {
                return Err(field(
                    "cluster",
                    "a cluster is reached over TCP, not a Unix socket",
                ));
            }
            if self.db != 0 {
                return Err(field("db", "a Redis Cluster has only database 0"));
            }
        }
        let sentinel = match (self.sentinel_service, self.sentinel_nodes.is_empty()) {
            (None, true) if self.sentinel_tls.on || self.sentinel_tls.any_option() => {
                return Err(field(
                    "sentinel_tls",
                    "TLS settings for sentinels are given but no sentinels (sentinels, sentinel_service)",
                ))
            }
            (None, true) => None,
            (None, false) => {
                return Err(field(
                    "sentinel_service",
                    "sentinels are given but not the service they watch (service_name)",
                ))
            }
            (Some(_), true) => {
                return Err(field(
                    "sentinels",
                    "a service name is given but no sentinel (host:port) to ask",
                ))
            }
            (Some(service), false) => {
                if self.cluster {
                    return Err(field(
                        "sentinels",
                        "a client follows Sentinel or a Redis Cluster, not both",
                    ));
                }
                let mut s = SentinelConfig::new(service, self.sentinel_nodes);
                s.tls = self.sentinel_tls.build(TlsFor::Sentinels, None)?;
                s.replica = self.sentinel_replica;
                s.username = self.sentinel_username;
                s.password = self.sentinel_password;
                Some(s)
            }
        };
        if let Some(name) = &self.client_name {
            if name.contains(' ') || name.contains('\n') {
                return Err(field(
                    "client_name",
                    "Redis client names cannot contain spaces",
                ));
            }
        }
        Ok(Config {
            db: self.db,
            username: self.username,
            password: self.password,
            protocol: self.protocol,
            client_name: self.client_name,
            mode: self.mode,
            max_connections: self.max_connections,
            connect_timeout: self.connect_timeout,
            response_timeout: self.response_timeout,
            pool_timeout: self.pool_timeout.unwrap_or(self.response_timeout),
            idle_timeout: self.idle_timeout,
            spin_wait: self.spin_wait,
            retries: self.retries,
            retry_on_timeout: self.retry_on_timeout,
            retry_unsafe: self.retry_unsafe,
            guard: self.guard,
            guard_threshold: self.guard_threshold,
            warning_sink: self.warning_sink,
            cache: self.cache,
            tls: self.tls.build(TlsFor::Nodes, Some(&addr))?,
            addr,
            cluster: self.cluster,
            cluster_nodes: self.cluster_nodes,
            read_from_replicas: self.read_from_replicas,
            sentinel,
        })
    }
}

/// Sets one TLS option of `tls` (the data nodes' or, named `sentinel_…`, the
/// sentinels'): `tls`/`ssl`, the CA, the client certificate and key (files or PEM text),
/// and verification.
fn set_tls(tls: &mut TlsBuilder, name: &str, value: &str) -> Result<()> {
    let bad = |expect: &str| {
        Error::invalid(format!(
            "invalid value for `{name}`: {value:?} is not {expect}"
        ))
    };
    let file = || PemSource::File(PathBuf::from(value));
    let text = || PemSource::Text(Secret::new(value));
    match name.strip_prefix("sentinel_").unwrap_or(name) {
        "tls" | "ssl" => tls.on = parse_bool(value).ok_or_else(|| bad("a boolean"))?,
        "tls_ca_file" | "ssl_ca_certs" => tls.ca = Some(file()),
        "tls_ca" | "ssl_ca_data" => tls.ca = Some(text()),
        "tls_cert_file" | "ssl_certfile" => tls.cert = Some(file()),
        "tls_cert" => tls.cert = Some(text()),
        "tls_key_file" | "ssl_keyfile" => tls.key = Some(file()),
        "tls_key" => tls.key = Some(text()),
        _ => {
            tls.verify = Some(match value.to_ascii_lowercase().as_str() {
                "required" | "optional" | "cert_required" | "cert_optional" | "true" | "1"
                | "yes" => true,
                "none" | "cert_none" | "false" | "0" | "no" => false,
                _ => return Err(bad("\"required\" or \"none\"")),
            })
        }
    }
    Ok(())
}

/// `host:port` (the host may be an IPv6 address in brackets).
fn host_port(node: &str) -> Option<(String, u16)> {
    let (h, p) = node.rsplit_once(':')?;
    let h = h.trim_start_matches('[').trim_end_matches(']');
    let port = p.parse::<u16>().ok().filter(|p| *p != 0)?;
    (!h.is_empty()).then(|| (h.to_string(), port))
}

const DURATION: &str = "a duration (seconds like 2.5, or 250ms / 2s / 50us)";

/// Parses `2.5`, `2.5s`, `250ms` into a duration; `None` when it is not one.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix("us").or_else(|| s.strip_suffix("µs")) {
        (n, 0.000_001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num.trim().parse().ok()?;
    if !v.is_finite() || v < 0.0 || v * scale > 1e9 {
        return None;
    }
    Some(Duration::from_secs_f64(v * scale))
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL with any password replaced by `***`, for error messages.
pub fn redact_url(raw: &str) -> String {
    if let Some((scheme, rest)) = raw.split_once("://") {
        let (auth_end, _) = rest
            .char_indices()
            .find(|(_, c)| *c == '/' || *c == '?' || *c == '#')
            .unwrap_or((rest.len(), ' '));
        let authority = &rest[..auth_end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            let user = userinfo.split_once(':').map(|(u, _)| u).unwrap_or(userinfo);
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_string()
            };
            return format!(
                "{scheme}://{masked}@{}{}",
                &authority[at + 1..],
                &rest[auth_end..]
            );
        }
    }
    raw.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_with_everything() {
        let c = Config::from_url(
            "redis://alice:s%40cret@example.com:6390/3?protocol=2&response_timeout=250ms&retries=1&client_name=app",
        )
        .unwrap();
        assert_eq!(
            c.addr(),
            &Addr::Tcp {
                host: "example.com".into(),
                port: 6390
            }
        );
        assert_eq!(c.db(), 3);
        assert_eq!(c.username(), Some("alice"));
        assert_eq!(c.password.as_ref().unwrap().expose(), "s@cret");
        assert_eq!(c.protocol(), Protocol::Resp2);
        assert_eq!(c.response_timeout(), Duration::from_millis(250));
        assert_eq!(c.pool_timeout(), Duration::from_millis(250));
        assert_eq!(c.retries(), 1);
        assert_eq!(c.client_name(), Some("app"));
    }

    #[test]
    fn unix_url() {
        let c = Config::from_url("unix:///tmp/redis.sock?db=2").unwrap();
        assert_eq!(c.addr(), &Addr::Unix("/tmp/redis.sock".into()));
        assert_eq!(c.db(), 2);
    }

    #[test]
    fn bad_values_name_the_field() {
        let e = Config::from_url("redis://h:1/?response_timeout=soon").unwrap_err();
        assert!(e.message().contains("response_timeout"), "{e}");
        let e = Config::from_url("redis://h:1/x").unwrap_err();
        assert!(e.message().contains("database number"), "{e}");
        let e = Config::from_url("redis://h:1/?colour=red").unwrap_err();
        assert!(e.message().contains("unknown option `colour`"), "{e}");
        let e = Config::from_url("http://h:1/").unwrap_err();
        assert!(e.message().contains("unknown scheme"), "{e}");
        let e = Config::builder().max_connections(0).build().unwrap_err();
        assert!(e.message().contains("max_connections"), "{e}");
        let e = Config::builder().port(0).build().unwrap_err();
        assert!(e.message().contains("port"), "{e}");
    }

    #[test]
    fn password_never_shown() {
        let c = Config::from_url("redis://u:hunter2@h:1/").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
        let b = ConfigBuilder::from_url("redis://u:hunter2@h:1/").unwrap();
        assert!(!format!("{b:?}").contains("hunter2"));
        let e = Config::from_url("redis://u:hunter2@h:1/?bogus=1").unwrap_err();
        assert!(!e.to_string().contains("hunter2"));
        let e = Config::from_url("redis://u:hunter2@:1/").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(redact_url("redis://u:pw@h:1/0"), "redis://u:***@h:1/0");
    }

    #[test]
    fn sentinel_tls_is_its_own() {
        let dir =
            std::env::temp_dir().join(format!("redbridge-sentinel-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pem = dir.join("x.pem");
        std::fs::write(
            &pem,
            "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let pem = pem.to_str().unwrap();
        let url = format!(
            "redis://h:1/?sentinels=a:26379&sentinel_service=m&sentinel_tls=1&sentinel_ssl_ca_certs={pem}&sentinel_tls_cert_file={pem}&sentinel_tls_key=hunter2&sentinel_tls_verify=required"
        );
        let c = Config::from_url(&url).unwrap();
        let t = c.sentinel().unwrap().tls().expect("sentinel TLS");
        assert!(t.has_ca() && t.has_client_cert() && t.verifies_server());
        assert!(c.tls().is_none(), "the data nodes' TLS stays off");
        assert!(!format!("{c:?}").contains("hunter2"));
        // The sentinels' options without sentinel_tls, and without sentinels, are refused
        // with the sentinel option names.
        let e = Config::from_url(
            "redis://h:1/?sentinels=a:1&sentinel_service=m&sentinel_tls_verify=none",
        )
        .unwrap_err();
        assert!(e.message().contains("sentinel_tls=true"), "{e}");
        let e = Config::from_url("redis://h:1/?sentinel_tls=1").unwrap_err();
        assert!(e.message().contains("no sentinels"), "{e}");
        let e = Config::builder()
            .sentinel("m", &[("a", 1)])
            .sentinel_tls(Some(Path::new(pem)), None, true)
            .tls(true)
            .build()
            .unwrap();
        assert!(e.tls().is_some() && e.sentinel().unwrap().tls().is_some());
        let mut b = Config::builder().sentinel("m", &[("a", 1)]);
        b.set_option("sentinel_tls", "1").unwrap();
        b.set_option("sentinel_tls_cert_file", pem).unwrap();
        let e = b.build().unwrap_err();
        assert!(e.message().contains("sentinel_tls_key_file"), "{e}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("2.5"), Some(Duration::from_millis(2500)));
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("3s"), Some(Duration::from_secs(3)));
        assert_eq!(parse_duration("50us"), Some(Duration::from_micros(50)));
        assert_eq!(parse_duration("50µs"), Some(Duration::from_micros(50)));
        assert_eq!(parse_duration("-1"), None);
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn spin_wait_defaults_to_100us_and_is_bounded() {
        assert_eq!(
            Config::builder().build().unwrap().spin_wait(),
            DEFAULT_SPIN_WAIT
        );
        let c = Config::from_url("redis://h/?spin_wait=0").unwrap();
        assert_eq!(c.spin_wait(), Duration::ZERO);
        let e = Config::from_url("redis://h/?spin_wait=5ms").unwrap_err();
        assert!(
            e.message().contains("spin_wait") && e.message().contains("1ms"),
            "{e}"
        );
        let e = Config::from_url("redis://h/?spin_wait=soon").unwrap_err();
        assert!(e.message().contains("50us"), "{e}");
    }
}
