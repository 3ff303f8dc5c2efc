//! `redbridge_config`: a builder handle for every core option.

use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::Arc;

use redbridge::{ConfigBuilder, Error};

use crate::ffi::{arg_mut, boundary, c_str, free_box, out_ptr, put, redbridge_status};

/// Log level of guard warnings.
pub const REDBRIDGE_LOG_WARN: c_int = 2;

/// Receives log lines (guard warnings). May be called from any thread that uses a client
/// built from this config; `message` is valid only during the call.
pub type redbridge_log_fn =
    Option<extern "C" fn(userdata: *mut c_void, level: c_int, message: *const c_char)>;

/// Options for a client (an opaque handle). Build with redbridge_config_new, set options,
/// open a client with redbridge_client_open_config, then redbridge_config_free.
pub struct redbridge_config {
    pub(crate) builder: ConfigBuilder,
}

/// A new config with every default (127.0.0.1:6379, RESP3, multiplexed). Never NULL
/// unless memory is exhausted. Free with redbridge_config_free.
#[no_mangle]
pub extern "C" fn redbridge_config_new() -> *mut redbridge_config {
    Box::into_raw(Box::new(redbridge_config {
        builder: ConfigBuilder::default(),
    }))
}

/// A new config from a URL: redis://[user:password@]host:port/db?option=value&…
/// or unix:///path. On success *out is a handle to free with redbridge_config_free.
#[no_mangle]
pub extern "C" fn redbridge_config_from_url(
    url: *const c_char,
    out: *mut *mut redbridge_config,
) -> redbridge_status {
    boundary(|| {
        let out = out_ptr(out, "out")?;
        let builder = ConfigBuilder::from_url(c_str(url, "url")?)?;
        put(out, Box::into_raw(Box::new(redbridge_config { builder })));
        Ok(())
    })
}

/// Sets any option by name from a string, as in a URL query: "response_timeout" = "2.5"
/// or "250ms", "guard" = "deny", "mode" = "pooled", "protocol" = "2", "db" = "3", …
/// An unknown name or bad value is REDBRIDGE_ERR_INVALID_ARGUMENT naming it.
#[no_mangle]
pub extern "C" fn redbridge_config_set(
    config: *mut redbridge_config,
    name: *const c_char,
    value: *const c_char,
) -> redbridge_status {
    boundary(|| {
        let config = arg_mut(config, "config")?;
        config
            .builder
            .set_option(c_str(name, "name")?, c_str(value, "value")?)?;
        Ok(())
    })
}

fn set_display(
    config: *mut redbridge_config,
    name: &str,
    value: impl ToString,
) -> redbridge_status {
    boundary(|| {
        arg_mut(config, "config")?
            .builder
            .set_option(name, &value.to_string())?;
        Ok(())
    })
}

fn set_text(config: *mut redbridge_config, name: &str, value: *const c_char) -> redbridge_status {
    boundary(|| {
        let value = c_str(value, name)?;
        arg_mut(config, "config")?.builder.set_option(name, value)?;
        Ok(())
    })
}

/// Server host name or address (TCP).
#[no_mangle]
pub extern "C" fn redbridge_config_set_host(
    config: *mut redbridge_config,
    host: *const c_char,
) -> redbridge_status {
    set_text(config, "host", host)
}

/// Server port (TCP).
#[no_mangle]
pub extern "C" fn redbridge_config_set_port(
    config: *mut redbridge_config,
    port: u16,
) -> redbridge_status {
    set_display(config, "port", port)
}

/// Connect over a Unix domain socket at this path.
#[no_mangle]
pub extern "C" fn redbridge_config_set_unix_socket(
    config: *mut redbridge_config,
    path: *const c_char,
) -> redbridge_status {
    set_text(config, "unix_socket_path", path)
}

/// Database number, selected on every connection.
#[no_mangle]
pub extern "C" fn redbridge_config_set_db(
    config: *mut redbridge_config,
    db: i64,
) -> redbridge_status {
    set_display(config, "db", db)
}

/// ACL user name.
#[no_mangle]
pub extern "C" fn redbridge_config_set_username(
    config: *mut redbridge_config,
    username: *const c_char,
) -> redbridge_status {
    set_text(config, "username", username)
}

/// Password (never shown in any message).
#[no_mangle]
pub extern "C" fn redbridge_config_set_password(
    config: *mut redbridge_config,
    password: *const c_char,
) -> redbridge_status {
    set_text(config, "password", password)
}

/// RESP version: 2 or 3 (default 3).
#[no_mangle]
pub extern "C" fn redbridge_config_set_protocol(
    config: *mut redbridge_config,
    protocol: c_int,
) -> redbridge_status {
    set_display(config, "protocol", protocol)
}

/// CLIENT SETNAME on every connection.
#[no_mangle]
pub extern "C" fn redbridge_config_set_client_name(
    config: *mut redbridge_config,
    name: *const c_char,
) -> redbridge_status {
    set_text(config, "client_name", name)
}

/// Time allowed to open a connection, in milliseconds (default 2000).
#[no_mangle]
pub extern "C" fn redbridge_config_set_connect_timeout_ms(
    config: *mut redbridge_config,
    ms: u64,
) -> redbridge_status {
    set_display(config, "connect_timeout", format!("{ms}ms"))
}

/// Time allowed per command, in milliseconds (default 5000); blocking commands add
/// their own block time.
#[no_mangle]
pub extern "C" fn redbridge_config_set_response_timeout_ms(
    config: *mut redbridge_config,
    ms: u64,
) -> redbridge_status {
    set_display(config, "response_timeout", format!("{ms}ms"))
}

/// Time allowed to wait for a pooled connection, in milliseconds (default: the
/// response timeout).
#[no_mangle]
pub extern "C" fn redbridge_config_set_pool_timeout_ms(
    config: *mut redbridge_config,
    ms: u64,
) -> redbridge_status {
    set_display(config, "pool_timeout", format!("{ms}ms"))
}

/// Bound of the pool of dedicated connections (default 16).
#[no_mangle]
pub extern "C" fn redbridge_config_set_max_connections(
    config: *mut redbridge_config,
    n: usize,
) -> redbridge_status {
    set_display(config, "max_connections", n)
}

/// Retries for commands safe to repeat (default 3).
#[no_mangle]
pub extern "C" fn redbridge_config_set_retries(
    config: *mut redbridge_config,
    retries: u32,
) -> redbridge_status {
    set_display(config, "retries", retries)
}

/// Retry timeouts too (default false).
#[no_mangle]
pub extern "C" fn redbridge_config_set_retry_on_timeout(
    config: *mut redbridge_config,
    on: bool,
) -> redbridge_status {
    set_display(config, "retry_on_timeout", on)
}

/// The server is a Redis Cluster: the configured host and port are one seed node. The
/// client routes each command to the node serving its slot and keeps the same API.
#[no_mangle]
pub extern "C" fn redbridge_config_set_cluster(
    config: *mut redbridge_config,
    on: bool,
) -> redbridge_status {
    set_display(config, "cluster", on)
}

/// A string argument that must not be empty (a name), or an error naming it.
fn non_empty<'a>(value: *const c_char, name: &str, why: &str) -> Result<&'a str, Error> {
    match c_str(value, name)? {
        "" => Err(Error::invalid(format!("`{name}` is empty; {why}"))),
        s => Ok(s),
    }
}

/// Appends one node to a `host:port` list option (`cluster_nodes`, `sentinels`): one
/// host name or address per call (a comma would make it two), a port of 1-65535.
fn add_node(
    config: *mut redbridge_config,
    option: &str,
    host: *const c_char,
    port: u16,
) -> redbridge_status {
    boundary(|| {
        let host = non_empty(host, "host", "give a host name or address")?;
        if host.contains(',') {
            return Err(Error::invalid(format!(
                "`host` {host:?} contains a comma; give one host per call"
            )));
        }
        if port == 0 {
            return Err(Error::invalid("`port` is 0; use 1-65535"));
        }
        arg_mut(config, "config")?
            .builder
            .set_option(option, &format!("{host}:{port}"))?;
        Ok(())
    })
}

/// Adds a seed node of the cluster (any one that answers will do); implies cluster mode.
/// An empty host, one with a comma, or port 0 is REDBRIDGE_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn redbridge_config_add_cluster_node(
    config: *mut redbridge_config,
    host: *const c_char,
    port: u16,
) -> redbridge_status {
    add_node(config, "cluster_nodes", host, port)
}

/// In a cluster, send read-only commands to replicas too (default false).
#[no_mangle]
pub extern "C" fn redbridge_config_set_read_from_replicas(
    config: *mut redbridge_config,
    on: bool,
) -> redbridge_status {
    set_display(config, "read_from_replicas", on)
}

/// Adds a sentinel to ask where the service is (call once per sentinel; more are learned
/// from them). With redbridge_config_set_sentinel_service the client follows Sentinel:
/// it opens its connections to the node the sentinels name (the primary, or a replica
/// after redbridge_config_set_sentinel_role), checks that node's ROLE, and moves when
/// the sentinels announce a failover; the configured host and port are not used.
///
/// For example (the first password is the data nodes', the second the sentinels'):
///
///     redbridge_config *cfg = redbridge_config_new();
///     redbridge_config_add_sentinel(cfg, "10.0.0.1", 26379);
///     redbridge_config_add_sentinel(cfg, "10.0.0.2", 26379);
///     redbridge_config_set_sentinel_service(cfg, "mymaster");
///     redbridge_config_set_password(cfg, data_password);
///     redbridge_config_set_sentinel_auth(cfg, NULL, sentinel_password);
///     redbridge_client_open_config(cfg, &client);
///
/// An empty host, one with a comma, or port 0 is REDBRIDGE_ERR_INVALID_ARGUMENT. Sentinel
/// excludes cluster mode and TLS (refused when the client is opened).
#[no_mangle]
pub extern "C" fn redbridge_config_add_sentinel(
    config: *mut redbridge_config,
    host: *const c_char,
    port: u16,
) -> redbridge_status {
    add_node(config, "sentinels", host, port)
}

/// The service name the sentinels monitor (`sentinel monitor <name> …`, often
/// "mymaster"); an empty name is REDBRIDGE_ERR_INVALID_ARGUMENT. Sentinels and a service
/// go together: opening a client with only one of them is refused, naming the other.
#[no_mangle]
pub extern "C" fn redbridge_config_set_sentinel_service(
    config: *mut redbridge_config,
    name: *const c_char,
) -> redbridge_status {
    boundary(|| {
        let name = non_empty(name, "name", "give the service name the sentinels monitor")?;
        arg_mut(config, "config")?
            .builder
            .set_option("sentinel_service", name)?;
        Ok(())
    })
}

/// Which node of the Sentinel service the client uses: "primary" (or "master", the
/// default) or "replica" (or "slave"): a healthy replica the sentinels list, for reads;
/// writes there fail with READONLY. Anything else is REDBRIDGE_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub extern "C" fn redbridge_config_set_sentinel_role(
    config: *mut redbridge_config,
    role: *const c_char,
) -> redbridge_status {
    set_text(config, "sentinel_role", role)
}

/// Credentials for the sentinels themselves (their `requirepass` / ACL user): `username`
/// NULL for the default user, `password` required. The data nodes use the client's own
/// (redbridge_config_set_username / _password). The password never appears in a message.
#[no_mangle]
pub extern "C" fn redbridge_config_set_sentinel_auth(
    config: *mut redbridge_config,
    username: *const c_char,
    password: *const c_char,
) -> redbridge_status {
    boundary(|| {
        let username = if username.is_null() {
            None
        } else {
            Some(non_empty(
                username,
                "username",
                "pass NULL for the default user",
            )?)
        };
        let password = c_str(password, "password")?;
        let config = arg_mut(config, "config")?;
        config.builder = std::mem::take(&mut config.builder).sentinel_auth(username, password);
        Ok(())
    })
}

/// TLS to the sentinels, set apart from the data nodes' (redbridge_config_set_tls and
/// the rest set those): turns it on for every connection to a sentinel (discovery, the
/// failover subscriptions, the sentinels learned). `ca_file`: the CA (PEM file) the
/// sentinels' certificates must be signed by, NULL for the system's trust store.
/// `cert_file` and `key_file`: a client certificate and its key (PEM files) for
/// sentinels that ask for one (`tls-auth-clients yes`), both or neither (NULL).
/// `verify` false accepts any sentinel: for tests only. Files are read when the client
/// is opened; a failed handshake is an error that names the sentinel.
///
///     redbridge_config_set_sentinel_tls(cfg, "/etc/redis/sentinel-ca.crt", NULL, NULL, true);
///     redbridge_config_set_tls(cfg, true);       // the data nodes' TLS, if they use it
///     redbridge_config_set_tls_ca_file(cfg, "/etc/redis/ca.crt");
#[no_mangle]
pub extern "C" fn redbridge_config_set_sentinel_tls(
    config: *mut redbridge_config,
    ca_file: *const c_char,
    cert_file: *const c_char,
    key_file: *const c_char,
    verify: bool,
) -> redbridge_status {
    boundary(|| {
        let optional = |p: *const c_char, name: &str| {
            (!p.is_null())
                .then(|| non_empty(p, name, "pass NULL for none"))
                .transpose()
        };
        let ca = optional(ca_file, "ca_file")?;
        let cert = optional(cert_file, "cert_file")?;
        let key = optional(key_file, "key_file")?;
        if cert.is_some() != key.is_some() {
            return Err(Error::invalid(
                "a client certificate needs both `cert_file` and `key_file` (or neither: NULL, NULL)",
            ));
        }
        let builder = &mut arg_mut(config, "config")?.builder;
        builder.set_option("sentinel_tls", "true")?;
        builder.set_option("sentinel_tls_verify", if verify { "true" } else { "false" })?;
        for (name, value) in [
            ("sentinel_tls_ca_file", ca),
            ("sentinel_tls_cert_file", cert),
            ("sentinel_tls_key_file", key),
        ] {
            if let Some(v) = value {
                builder.set_option(name, v)?;
            }
        }
        Ok(())
    })
}

/// Encrypts every connection with TLS (as a `rediss://` URL does).
#[no_mangle]
pub extern "C" fn redbridge_config_set_tls(
    config: *mut redbridge_config,
    on: bool,
) -> redbridge_status {
    set_display(config, "tls", on)
}

/// The CA certificate (PEM file) the server's certificate must be signed by; without
/// it, the system's trust store is used. Read when the client is opened.
#[no_mangle]
pub extern "C" fn redbridge_config_set_tls_ca_file(
    config: *mut redbridge_config,
    path: *const c_char,
) -> redbridge_status {
    set_text(config, "tls_ca_file", path)
}

/// A client certificate and its private key (PEM files), for servers that require one
/// (mutual TLS, `tls-auth-clients yes`). Both are required.
#[no_mangle]
pub extern "C" fn redbridge_config_set_tls_client_cert(
    config: *mut redbridge_config,
    cert_file: *const c_char,
    key_file: *const c_char,
) -> redbridge_status {
    boundary(|| {
        let cert = c_str(cert_file, "cert_file")?;
        let key = c_str(key_file, "key_file")?;
        let builder = &mut arg_mut(config, "config")?.builder;
        builder.set_option("tls_cert_file", cert)?;
        builder.set_option("tls_key_file", key)?;
        Ok(())
    })
}

/// Whether the server's certificate is verified (default true). false accepts any
/// server: for tests only.
#[no_mangle]
pub extern "C" fn redbridge_config_set_tls_verify(
    config: *mut redbridge_config,
    verify: bool,
) -> redbridge_status {
    set_display(config, "tls_verify", verify)
}

/// "multiplexed" (default) or "pooled".
#[no_mangle]
pub extern "C" fn redbridge_config_set_mode(
    config: *mut redbridge_config,
    mode: *const c_char,
) -> redbridge_status {
    set_text(config, "mode", mode)
}

/// "warn" (default), "deny" or "off".
#[no_mangle]
pub extern "C" fn redbridge_config_set_guard(
    config: *mut redbridge_config,
    mode: *const c_char,
) -> redbridge_status {
    set_text(config, "guard", mode)
}

/// Collection replies above this many elements make the guard warn (default 1000).
#[no_mangle]
pub extern "C" fn redbridge_config_set_guard_threshold(
    config: *mut redbridge_config,
    n: usize,
) -> redbridge_status {
    set_display(config, "guard_threshold", n)
}

/// Turns the client-side cache on (RESP3 only): at most `max_entries` entries and
/// `max_bytes` bytes (0 for the defaults: 10000 entries, 64 MiB), entries served for at
/// most `ttl_ms` milliseconds (0: until the server invalidates them). Hot reads are then
/// answered locally; the server's invalidations keep them fresh. For broadcast mode and
/// the command list use redbridge_config_set ("cache_mode", "cache_prefixes",
/// "cache_commands").
#[no_mangle]
pub extern "C" fn redbridge_config_set_cache(
    config: *mut redbridge_config,
    max_entries: usize,
    max_bytes: usize,
    ttl_ms: u64,
) -> redbridge_status {
    boundary(|| {
        let b = &mut arg_mut(config, "config")?.builder;
        b.set_option("cache", "true")?;
        if max_entries > 0 {
            b.set_option("cache_max_entries", &max_entries.to_string())?;
        }
        if max_bytes > 0 {
            b.set_option("cache_max_bytes", &max_bytes.to_string())?;
        }
        if ttl_ms > 0 {
            b.set_option("cache_ttl", &format!("{ttl_ms}ms"))?;
        }
        Ok(())
    })
}

struct LogTarget {
    callback: extern "C" fn(*mut c_void, c_int, *const c_char),
    userdata: *mut c_void,
}
// SAFETY: the header documents that the callback and its userdata are used from any
// thread that uses the client; making that safe is the caller's contract.
unsafe impl Send for LogTarget {}
unsafe impl Sync for LogTarget {}

/// Where guard warnings go: `callback(userdata, REDBRIDGE_LOG_WARN, message)`. NULL
/// callback restores the default (the Rust `log` facade, silent unless set up).
#[no_mangle]
pub extern "C" fn redbridge_config_set_log_callback(
    config: *mut redbridge_config,
    callback: redbridge_log_fn,
    userdata: *mut c_void,
) -> redbridge_status {
    boundary(|| {
        let config = arg_mut(config, "config")?;
        let builder = std::mem::take(&mut config.builder);
        config.builder = match callback {
            Some(callback) => {
                let target = Arc::new(LogTarget { callback, userdata });
                builder.on_warning(move |w| {
                    let msg = CString::new(w.message.replace('\0', " ")).unwrap_or_default();
                    (target.callback)(target.userdata, REDBRIDGE_LOG_WARN, msg.as_ptr());
                })
            }
            None => builder.without_warning_sink(),
        };
        Ok(())
    })
}

/// Frees a config. NULL is a no-op.
#[no_mangle]
pub extern "C" fn redbridge_config_free(config: *mut redbridge_config) {
    free_box(config, |_| {});
}
