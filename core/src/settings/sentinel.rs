//! Where a Sentinel-managed client finds its server: the sentinels to ask, the service
//! they watch, whether the client wants the primary or a replica, the sentinels' own
//! credentials, and the node in use now (shared by every clone of the configuration,
//! so each connection opens to the node discovery last settled on).

use std::fmt;
use std::sync::{Arc, RwLock};

use super::config::{Addr, Secret};
use super::tls::TlsConfig;
use crate::error::{Error, ErrorKind, Result};

/// A Sentinel deployment to follow (see `ConfigBuilder::sentinel`).
#[derive(Clone)]
pub struct SentinelConfig {
    /// The sentinels, as given and as learned (`SENTINEL SENTINELS`) later.
    pub(crate) sentinels: Arc<RwLock<Vec<(String, u16)>>>,
    /// The service name the sentinels monitor (`sentinel monitor <name> …`).
    pub(crate) service: String,
    /// A replica of the service instead of its primary.
    pub(crate) replica: bool,
    /// ACL user for the sentinels (the data nodes use the client's own credentials).
    pub(crate) username: Option<String>,
    /// Password for the sentinels.
    pub(crate) password: Option<Secret>,
    /// TLS to the sentinels (their own: the data nodes use the client's).
    pub(crate) tls: Option<TlsConfig>,
    /// The data node in use now; `None` until discovery first found one.
    pub(crate) current: Arc<RwLock<Option<(String, u16)>>>,
    /// Why the last discovery found nothing (a sentinel's connect error, say a failed
    /// TLS handshake), for the error connections give until a node is found.
    pub(crate) last_failure: Arc<RwLock<Option<String>>>,
}

impl SentinelConfig {
    /// A deployment of `service` watched by `sentinels` (at least one).
    pub(crate) fn new(service: String, sentinels: Vec<(String, u16)>) -> SentinelConfig {
        SentinelConfig {
            sentinels: Arc::new(RwLock::new(sentinels)),
            service,
            replica: false,
            username: None,
            password: None,
            tls: None,
            current: Arc::default(),
            last_failure: Arc::default(),
        }
    }

    /// The service name.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// TLS settings for the sentinels, when their connections are encrypted.
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    /// Whether the client wants a replica rather than the primary.
    pub fn wants_replica(&self) -> bool {
        self.replica
    }

    /// The sentinels known now (given and learned).
    pub fn sentinels(&self) -> Vec<(String, u16)> {
        self.sentinels
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Adds sentinels not known yet (learned from `SENTINEL SENTINELS`).
    pub(crate) fn learn(&self, found: impl IntoIterator<Item = (String, u16)>) {
        let mut known = self.sentinels.write().unwrap_or_else(|p| p.into_inner());
        for s in found {
            if !known.contains(&s) {
                known.push(s);
            }
        }
    }

    /// Puts `node` first: the sentinel that answered is asked first next time.
    pub(crate) fn prefer(&self, node: &(String, u16)) {
        let mut known = self.sentinels.write().unwrap_or_else(|p| p.into_inner());
        if let Some(i) = known.iter().position(|n| n == node) {
            known[..=i].rotate_right(1);
        }
    }

    /// The node connections open to now, or why there is none yet.
    pub(crate) fn current_addr(&self) -> Result<Addr> {
        match &*self.current.read().unwrap_or_else(|p| p.into_inner()) {
            Some((host, port)) => Ok(Addr::Tcp {
                host: host.clone(),
                port: *port,
            }),
            None => Err(Error::new(
                ErrorKind::Connection,
                format!(
                    "no {} of service `{}` is known yet: none of the sentinels ({}) named one that answers{}",
                    if self.replica { "replica" } else { "primary" },
                    self.service,
                    self.sentinels()
                        .iter()
                        .map(|(h, p)| format!("{h}:{p}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.last_failure
                        .read()
                        .unwrap_or_else(|p| p.into_inner())
                        .as_ref()
                        .map(|why| format!("; the sentinels said: {why}"))
                        .unwrap_or_default()
                ),
            )),
        }
    }

    /// Keeps why the last discovery failed (`None`: it succeeded).
    pub(crate) fn note_failure(&self, why: Option<String>) {
        *self.last_failure.write().unwrap_or_else(|p| p.into_inner()) = why;
    }

    /// The node in use now, if any.
    pub fn current(&self) -> Option<(String, u16)> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Makes `node` the one connections open to; whether it changed.
    pub(crate) fn set_current(&self, node: (String, u16)) -> bool {
        let mut current = self.current.write().unwrap_or_else(|p| p.into_inner());
        if current.as_ref() == Some(&node) {
            return false;
        }
        *current = Some(node);
        true
    }
}

impl fmt::Debug for SentinelConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentinelConfig")
            .field("service", &self.service)
            .field("sentinels", &self.sentinels())
            .field("replica", &self.replica)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("tls", &self.tls)
            .field("current", &self.current())
            .finish()
    }
}
