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
    /// Checks and loads everything; `None` when TLS is off.
    pub(crate) fn build(self, addr: &Addr) -> Result<Option<TlsConfig>> {
        let any_option =
            self.ca.is_some() || self.cert.is_some() || self.key.is_some() || self.verify.is_some();
        if !self.on {
            if any_option {
                return Err(Error::invalid(
                    "TLS options are set but TLS is off: use a rediss:// URL or set tls=true (Python: ssl=True, Node: socket.tls)",
                ));
            }
            return Ok(None);
        }
        if matches!(addr, Addr::Unix(_)) {
            return Err(Error::invalid(
                "TLS is for TCP connections, not Unix sockets: drop tls or use host and port",
            ));
        }
        let ca = self.ca.map(|s| s.load("tls_ca_file")).transpose()?;
        let client = match (self.cert, self.key) {
            (None, None) => None,
            (Some(c), Some(k)) => Some((c.load("tls_cert_file")?, k.load("tls_key_file")?)),
            _ => {
                return Err(Error::invalid(
                    "a client certificate needs both tls_cert_file and tls_key_file (Python: ssl_certfile and ssl_keyfile; Node: socket.cert and socket.key)",
                ))
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

/// Plain words for a failed TLS handshake, from the TLS library's message.
pub(crate) fn explain(message: &str, addr: &Addr) -> Option<String> {
    let m = message;
    let why = if m.contains("UnknownIssuer") || m.contains("unknown issuer") {
        "the server's certificate is not signed by a CA this client trusts: give its CA (tls_ca_file; Python ssl_ca_certs=; Node socket.ca)".to_string()
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
        "the server asks for a client certificate (mutual TLS): give tls_cert_file and tls_key_file (Python ssl_certfile=/ssl_keyfile=; Node socket.cert/socket.key)".to_string()
    } else if m.contains("InvalidContentType") || m.contains("CorruptMessage") {
        "the server did not answer in TLS: is TLS enabled on that port (tls-port)?".to_string()
    } else {
        return None;
    };
    Some(format!("TLS handshake with {addr} failed: {why}"))
}
