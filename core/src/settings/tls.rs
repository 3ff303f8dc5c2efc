//! TLS (`rediss://`): the settings, how they become a redis-rs client (rustls, with the
//! ring crypto provider), and what a failed handshake means in words.
//!
//! Certificates and keys are PEM, given as files (`tls_ca_file`, redis-py's
//! `ssl_ca_certs`…) or as PEM text (Node's `socket.tls.ca`). Files are read when the
//! configuration is built, so a wrong path is an error there and then. Key material never
//! appears in `Debug` or in any error.

use std::fmt;
use std::path::PathBuf;

use super::config::{Addr, Secret};
use crate::error::{Error, Result};

/// Where a PEM certificate or key comes from.
#[derive(Clone)]
pub(crate) enum PemSource {
    File(PathBuf),
    Text(Secret),
}

impl PemSource {
    fn load(&self, option: &str) -> Result<Vec<u8>> {
        match self {
            PemSource::Text(t) => Ok(t.expose().as_bytes().to_vec()),
            PemSource::File(p) => std::fs::read(p).map_err(|e| {
                Error::invalid(format!(
                    "invalid `{option}`: cannot read {}: {e}",
                    p.display()
                ))
            }),
        }
    }
}

/// Whose TLS settings: the data nodes' (`tls_*`) or the sentinels' (`sentinel_tls_*`),
/// for the option names an error tells the user to set.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum TlsFor {
    Nodes,
    Sentinels,
}

impl TlsFor {
    /// The option name for `what` (`tls`, `tls_ca_file`…), with `sentinel_` for sentinels.
    fn option(self, what: &str) -> String {
        match self {
            TlsFor::Nodes => what.to_string(),
            TlsFor::Sentinels => format!("sentinel_{what}"),
        }
    }
    /// Where each ecosystem sets `what`: "ca", "cert" or "on".
    fn elsewhere(self, what: &str) -> &'static str {
        match (self, what) {
            (TlsFor::Nodes, "ca") => "Python ssl_ca_certs=; Node socket.ca",
            (TlsFor::Nodes, "cert") => {
                "Python ssl_certfile=/ssl_keyfile=; Node socket.cert/socket.key"
            }
            (TlsFor::Nodes, _) => "Python: ssl=True, Node: socket.tls",
            (TlsFor::Sentinels, "ca") => {
                "Python sentinel_kwargs ssl_ca_certs; Node sentinelClientOptions.socket.ca; C redbridge_config_set_sentinel_tls"
            }
            (TlsFor::Sentinels, "cert") => {
                "Python sentinel_kwargs ssl_certfile/ssl_keyfile; Node sentinelClientOptions.socket.cert/key; C redbridge_config_set_sentinel_tls"
            }
            (TlsFor::Sentinels, _) => {
                "Python: sentinel_kwargs ssl=True, Node: sentinelClientOptions.socket.tls, C: redbridge_config_set_sentinel_tls"
            }
        }
    }
}

/// TLS settings as the builder collects them.
#[derive(Clone, Default)]
pub(crate) struct TlsBuilder {
    pub(crate) on: bool,
    pub(crate) ca: Option<PemSource>,
    pub(crate) cert: Option<PemSource>,
    pub(crate) key: Option<PemSource>,
    /// `Some(false)`: do not verify the server's certificate (redis-py
    /// `ssl_cert_reqs="none"`).
    pub(crate) verify: Option<bool>,
}

impl TlsBuilder {
    /// Whether any option besides `on` is set.
    pub(crate) fn any_option(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some() || self.verify.is_some()
    }

    /// Checks and loads everything; `None` when TLS is off. `addr` is the data node's
    /// address (a Unix socket cannot carry TLS); `None` for the sentinels.
    pub(crate) fn build(self, whose: TlsFor, addr: Option<&Addr>) -> Result<Option<TlsConfig>> {
        let name = |what: &str| whose.option(what);
        if !self.on {
            if self.any_option() {
                return Err(Error::invalid(format!(
                    "{} options are set but {} is off: {}set {}=true ({})",
                    name("tls"),
                    name("tls"),
                    if whose == TlsFor::Nodes {
                        "use a rediss:// URL or "
                    } else {
                        ""
                    },
                    name("tls"),
                    whose.elsewhere("on")
                )));
            }
            return Ok(None);
        }
        if matches!(addr, Some(Addr::Unix(_))) {
            return Err(Error::invalid(
                "TLS is for TCP connections, not Unix sockets: drop tls or use host and port",
            ));
        }
        let ca = self.ca.map(|s| s.load(&name("tls_ca_file"))).transpose()?;
        let client = match (self.cert, self.key) {
            (None, None) => None,
            (Some(c), Some(k)) => Some((
                c.load(&name("tls_cert_file"))?,
                k.load(&name("tls_key_file"))?,
            )),
            _ => {
                return Err(Error::invalid(format!(
                    "a client certificate needs both {} and {} ({})",
                    name("tls_cert_file"),
                    name("tls_key_file"),
                    whose.elsewhere("cert")
                )))
            }
        };
        Ok(Some(TlsConfig {
            ca,
            client,
            verify: self.verify.unwrap_or(true),
        }))
    }
}

/// TLS settings of a built configuration.
#[derive(Clone)]
pub struct TlsConfig {
    ca: Option<Vec<u8>>,
    client: Option<(Vec<u8>, Vec<u8>)>,
    verify: bool,
}

impl TlsConfig {
    /// Whether the server's certificate is verified (against the CA given, or the
    /// system's trust store).
    pub fn verifies_server(&self) -> bool {
        self.verify
    }
    /// Whether a CA certificate was given (else the system's trust store is used).
    pub fn has_ca(&self) -> bool {
        self.ca.is_some()
    }
    /// Whether a client certificate is presented (mutual TLS).
    pub fn has_client_cert(&self) -> bool {
        self.client.is_some()
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsConfig")
            .field("ca", &self.ca.as_ref().map(|_| "<pem>"))
            .field(
                "client_cert",
                &self.client.as_ref().map(|_| "<pem>, key ***"),
            )
            .field("verify", &self.verify)
            .finish()
    }
}

/// The redis-rs client for `info`, over TLS when `tls` is set.
pub(crate) fn client(
    mut info: redis::ConnectionInfo,
    tls: Option<&TlsConfig>,
) -> Result<redis::Client> {
    let Some(tls) = tls else {
        return Ok(redis::Client::open(info)?);
    };
    // rustls needs a process-wide crypto provider; a second install (another client) is
    // refused harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (host, port) = match info.addr() {
        redis::ConnectionAddr::Tcp(h, p) => (h.clone(), *p),
        _ => return Err(Error::invalid("TLS needs a TCP address")),
    };
    info = info.set_addr(redis::ConnectionAddr::TcpTls {
        host,
        port,
        insecure: !tls.verify,
        tls_params: None,
    });
    let Some(certs) = certificates(tls) else {
        return Ok(redis::Client::open(info)?);
    };
    redis::Client::build_with_tls(info, certs).map_err(|e| {
        // The message may quote the PEM parser; never the key itself.
        Error::invalid(format!(
            "the TLS certificates or key could not be used ({}): give PEM files (tls_ca_file, tls_cert_file, tls_key_file)",
            e.category()
        ))
    })
}

/// The TLS mode and certificates of a cluster client (redis-rs's cluster builder takes
/// them apart from the node addresses).
pub(crate) fn cluster_settings(
    tls: &TlsConfig,
) -> (redis::TlsMode, Option<redis::TlsCertificates>) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mode = if tls.verify {
        redis::TlsMode::Secure
    } else {
        redis::TlsMode::Insecure
    };
    (mode, certificates(tls))
}

/// The CA and client certificate for redis-rs, when either is given (else the system's
/// trust store and no client certificate).
fn certificates(tls: &TlsConfig) -> Option<redis::TlsCertificates> {
    (tls.ca.is_some() || tls.client.is_some()).then(|| redis::TlsCertificates {
        client_tls: tls
            .client
            .as_ref()
            .map(|(cert, key)| redis::ClientTlsConfig {
                client_cert: cert.clone(),
                client_key: key.clone(),
            }),
        root_cert: tls.ca.clone(),
    })
}

/// Plain words for a failed TLS handshake with a data node, from the TLS library's
/// message.
pub(crate) fn explain(message: &str, addr: &Addr) -> Option<String> {
    explain_for(TlsFor::Nodes, message, addr)
}

/// [`explain`] for a data node or a sentinel (the error names which, and the options
/// that set its TLS).
pub(crate) fn explain_for(whose: TlsFor, message: &str, addr: &Addr) -> Option<String> {
    let m = message;
    let ca = format!("{}; {}", whose.option("tls_ca_file"), whose.elsewhere("ca"));
    let cert = format!(
        "{} and {}; {}",
        whose.option("tls_cert_file"),
        whose.option("tls_key_file"),
        whose.elsewhere("cert")
    );
    // BadSignature: a CA of the same name as the issuer's, but another key (another CA).
    let why = if m.contains("UnknownIssuer")
        || m.contains("unknown issuer")
        || m.contains("BadSignature")
    {
        format!(
            "the server's certificate is not signed by a CA this client trusts: give its CA ({ca})"
        )
    } else if m.contains("NotValidForName") || m.contains("not valid for name") {
        let host = match addr {
            Addr::Tcp { host, .. } => host.as_str(),
            Addr::Unix(_) => "?",
        };
        format!("the server's certificate is not valid for the host name {host:?}: connect with a name or IP address the certificate was made for")
    } else if m.contains("Expired") || m.contains("expired") {
        "the server's certificate has expired (or is not valid yet): renew it on the server"
            .to_string()
    } else if m.contains("CertificateRequired")
        || m.contains("certificate required")
        || m.contains("HandshakeFailure")
    {
        format!("the server asks for a client certificate (mutual TLS): give {cert}")
    } else if m.contains("InvalidContentType") || m.contains("CorruptMessage") {
        "the server did not answer in TLS: is TLS enabled on that port (tls-port)?".to_string()
    } else {
        return None;
    };
    let who = match whose {
        TlsFor::Nodes => "",
        TlsFor::Sentinels => "sentinel ",
    };
    Some(format!("TLS handshake with {who}{addr} failed: {why}"))
}
