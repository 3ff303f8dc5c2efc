//! Test support: a throwaway redis-server from the shared harness
//! (`tests/harness/redis_server.py`), stopped by PID when dropped.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command as Proc;
use std::sync::{Arc, Mutex};

use redbridge::{Config, ConfigBuilder, Warning};

fn harness() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/harness/redis_server.py")
}

/// A redis-server for one test.
pub struct TestServer {
    pub url: String,
    pub port: u16,
    /// For a TLS server: the certificates the harness made.
    pub tls: Option<TlsFiles>,
    pidfile: Option<String>,
    extra: Vec<String>,
}

/// PEM files of a TLS test server: its CA, a client certificate and key signed by it,
/// and a CA that signed nothing here.
pub struct TlsFiles {
    pub ca: String,
    pub cert: String,
    pub key: String,
    pub other_ca: String,
}

fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let k = format!("\"{key}\": ");
    let start = json
        .find(&k)
        .unwrap_or_else(|| panic!("{key} missing in {json}"))
        + k.len();
    let rest = &json[start..];
    let end = rest.find([',', '}']).unwrap();
    rest[..end].trim().trim_matches('"')
}

impl TestServer {
    /// A server for tests that do not stop or restart it: REDBRIDGE_TEST_URL when set,
    /// else a throwaway one.
    pub fn start() -> TestServer {
        if let Ok(url) = std::env::var("REDBRIDGE_TEST_URL") {
            let port = url
                .rsplit(':')
                .next()
                .and_then(|p| p.trim_end_matches('/').parse().ok())
                .unwrap_or(6379);
            return TestServer {
                url,
                port,
                tls: None,
                pidfile: None,
                extra: vec![],
            };
        }
        Self::start_owned(&[])
    }

    /// A throwaway server of this test's own (for fault tests), with extra arguments.
    pub fn start_owned(extra: &[&str]) -> TestServer {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Self::launch(None, extra)
    }

    /// A throwaway TLS-only server (`--tls` of the harness), with extra arguments
    /// (`--tls-auth-clients yes` for mutual TLS).
    pub fn start_tls(extra: &[&str]) -> TestServer {
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        Self::launch_with(None, extra, true)
    }

    fn launch(port: Option<u16>, extra: Vec<String>) -> TestServer {
        Self::launch_with(port, extra, false)
    }

    fn launch_with(port: Option<u16>, extra: Vec<String>, tls: bool) -> TestServer {
        let mut cmd = Proc::new("python3");
        cmd.arg(harness()).arg("start");
        if tls {
            cmd.arg("--tls");
        }
        if let Some(p) = port {
            cmd.arg("--port").arg(p.to_string());
        }
        if !extra.is_empty() {
            cmd.arg("--").args(&extra);
        }
        let out = cmd.output().expect("python3 runs the harness");
        assert!(
            out.status.success(),
            "harness failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = String::from_utf8(out.stdout).unwrap();
        TestServer {
            url: field(&json, "url").to_string(),
            port: field(&json, "port").parse().unwrap(),
            tls: tls.then(|| TlsFiles {
                ca: field(&json, "ca").to_string(),
                cert: field(&json, "cert").to_string(),
                key: field(&json, "key").to_string(),
                other_ca: field(&json, "other_ca").to_string(),
            }),
            pidfile: Some(field(&json, "pidfile").to_string()),
            extra,
        }
    }

    /// Stops the server (by PID).
    pub fn stop(&mut self) {
        if let Some(pidfile) = self.pidfile.take() {
            let _ = Proc::new("python3")
                .arg(harness())
                .arg("stop")
                .arg(pidfile)
                .status();
        }
    }

    /// Stops the server and starts a new one on the same port.
    pub fn restart(&mut self) {
        assert!(self.pidfile.is_some(), "only an owned server can restart");
        self.stop();
        let port = self.port;
        let fresh = Self::launch(Some(port), self.extra.clone());
        self.pidfile = fresh.pidfile.clone();
        std::mem::forget(fresh);
    }

    /// A config builder for this server.
    pub fn builder(&self) -> ConfigBuilder {
        ConfigBuilder::from_url(&self.url).unwrap()
    }

    /// A default config for this server.
    pub fn config(&self) -> Config {
        self.builder().build().unwrap()
    }

    /// A plain redis-rs connection for setting up and inspecting, outside redbridge.
    pub fn control(&self) -> redis::Connection {
        redis::Client::open(self.url.as_str())
            .unwrap()
            .get_connection()
            .unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Collects guard warnings.
pub fn warning_collector() -> (
    Arc<Mutex<Vec<Warning>>>,
    impl Fn(&Warning) + Send + Sync + 'static,
) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink_seen = seen.clone();
    (seen, move |w: &Warning| {
        sink_seen.lock().unwrap().push(w.clone())
    })
}

/// Builds a command or panics (tests only).
/// A string reply holding an integer (`Nil` as 0), as the cache tests' versions.
pub fn int(v: redbridge::Value) -> i64 {
    match v {
        redbridge::Value::BulkString(b) => String::from_utf8(b).unwrap().parse().unwrap(),
        redbridge::Value::Nil => 0,
        other => panic!("{other:?}"),
    }
}

/// Polls `ok` every 5 ms until it holds; fails the test after 10 s.
pub fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

pub fn c(args: &[&str]) -> redbridge::Command {
    redbridge::Command::new(args).unwrap()
}

/// A local Redis Cluster (3 primaries + 3 replicas) from the harness, every node stopped
/// by PID when dropped.
pub struct TestCluster {
    pub url: String,
    pub ports: Vec<u16>,
    /// For a TLS cluster: the CA its certificates are signed by.
    pub ca: Option<String>,
    pidfiles: Vec<Option<String>>,
}

impl TestCluster {
    pub fn start() -> TestCluster {
        Self::start_with(false, &[])
    }

    /// A cluster whose nodes get extra redis-server arguments (after the harness's own,
    /// so they override them: `--cluster-node-timeout 1000`).
    pub fn start_args(extra: &[&str]) -> TestCluster {
        Self::start_with(false, extra)
    }

    /// A cluster whose nodes, bus and replication speak TLS only.
    pub fn start_tls() -> TestCluster {
        Self::start_with(true, &[])
    }

    fn start_with(tls: bool, extra: &[&str]) -> TestCluster {
        let mut cmd = Proc::new("python3");
        cmd.arg(harness()).arg("cluster");
        if tls {
            cmd.arg("--tls");
        }
        if !extra.is_empty() {
            cmd.arg("--").args(extra);
        }
        let out = cmd.output().expect("python3 runs the harness");
        assert!(
            out.status.success(),
            "cluster harness failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json = String::from_utf8(out.stdout).unwrap();
        let list = |key: &str| -> Vec<String> {
            let k = format!("\"{key}\": [");
            let start = json.find(&k).unwrap() + k.len();
            let end = start + json[start..].find(']').unwrap();
            json[start..end]
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_string())
                .collect()
        };
        TestCluster {
            url: field(&json, "url").to_string(),
            ports: list("ports").iter().map(|p| p.parse().unwrap()).collect(),
            ca: tls.then(|| field(&json, "ca").to_string()),
            pidfiles: list("pidfiles").into_iter().map(Some).collect(),
        }
    }

    /// A config builder with the cluster flag on.
    pub fn builder(&self) -> ConfigBuilder {
        ConfigBuilder::from_url(&self.url).unwrap().cluster(true)
    }

    /// A plain connection to one node, for inspecting and for CLUSTER commands.
    pub fn node(&self, port: u16) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// The hash slot of `key` (CLUSTER KEYSLOT).
    pub fn slot_of(&self, key: &str) -> i64 {
        redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut self.node(self.ports[0]))
            .unwrap()
    }

    /// The port of the primary serving `slot` now (CLUSTER SLOTS).
    pub fn owner_of(&self, slot: i64) -> u16 {
        let ranges: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query(&mut self.node(self.ports[0]))
            .unwrap();
        ranges
            .iter()
            .find_map(|r| {
                let redis::Value::Array(p) = r else {
                    return None;
                };
                let (redis::Value::Int(a), redis::Value::Int(b), redis::Value::Array(n)) =
                    (&p[0], &p[1], &p[2])
                else {
                    return None;
                };
                let redis::Value::Int(port) = n[1] else {
                    return None;
                };
                (*a <= slot && slot <= *b).then_some(port as u16)
            })
            .unwrap()
    }

    /// Moves `slots` from the node on `from` to the node on `to` as `redis-cli --cluster
    /// reshard` does; `finish: false` leaves them mid-migration (half their keys moved).
    pub fn migrate(&self, slots: &[i64], from: u16, to: u16, finish: bool) {
        let (mut a, mut b) = (self.node(from), self.node(to));
        let id = |c: &mut redis::Connection| -> String {
            redis::cmd("CLUSTER").arg("MYID").query(c).unwrap()
        };
        let (a_id, b_id) = (id(&mut a), id(&mut b));
        for &slot in slots {
            let _: () = redis::cmd("CLUSTER")
                .arg(&["SETSLOT", &slot.to_string(), "IMPORTING", &a_id])
                .query(&mut b)
                .unwrap();
            let _: () = redis::cmd("CLUSTER")
                .arg(&["SETSLOT", &slot.to_string(), "MIGRATING", &b_id])
                .query(&mut a)
                .unwrap();
            let keys: Vec<String> = redis::cmd("CLUSTER")
                .arg(&["GETKEYSINSLOT", &slot.to_string(), "100000"])
                .query(&mut a)
                .unwrap();
            let moving = if finish {
                &keys[..]
            } else {
                &keys[..keys.len() / 2]
            };
            if !moving.is_empty() {
                let _: () = redis::cmd("MIGRATE")
                    .arg(&["127.0.0.1", &to.to_string(), "", "0", "5000", "KEYS"])
                    .arg(moving)
                    .query(&mut a)
                    .unwrap();
            }
            if finish {
                for port in &self.ports[..3] {
                    let _: () = redis::cmd("CLUSTER")
                        .arg(&["SETSLOT", &slot.to_string(), "NODE", &b_id])
                        .query(&mut self.node(*port))
                        .unwrap_or(());
                }
            }
        }
    }

    /// Kills the node on `port` (SIGKILL, by PID): no graceful shutdown, as a crash.
    pub fn kill_node(&mut self, port: u16) {
        self.signal_node(port, "KILL");
        // The harness's stop (at drop) finds the process gone and cleans up.
    }

    /// Sends `signal` ("KILL", "STOP", "CONT"…) to the node on `port`, by PID.
    pub fn signal_node(&mut self, port: u16, signal: &str) {
        let i = self.ports.iter().position(|&p| p == port).unwrap();
        if let Some(pidfile) = &self.pidfiles[i] {
            let pid = std::fs::read_to_string(pidfile).unwrap();
            let _ = Proc::new("kill")
                .arg(format!("-{signal}"))
                .arg(pid.trim())
                .status();
        }
    }

    /// Stops the node on `port` (SIGTERM, by PID).
    pub fn stop_node(&mut self, port: u16) {
        let i = self.ports.iter().position(|&p| p == port).unwrap();
        if let Some(pidfile) = self.pidfiles[i].take() {
            let _ = Proc::new("python3")
                .arg(harness())
                .arg("stop")
                .arg(pidfile)
                .status();
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for port in self.ports.clone() {
            self.stop_node(port);
        }
    }
}

/// An empty script cache and zeroed INFO commandstats: a script's first call must then
/// fall back (NOSCRIPT, EVAL), and the counts show which command served each call.
pub fn forget_scripts(conn: &mut redis::Connection) {
    redis::cmd("SCRIPT").arg("FLUSH").exec(conn).unwrap();
    redis::cmd("CONFIG").arg("RESETSTAT").exec(conn).unwrap();
}

/// `calls` and `failed_calls` of one command in INFO commandstats (0, 0 before its first).
pub fn commandstats(conn: &mut redis::Connection, command: &str) -> (u64, u64) {
    let info: String = redis::cmd("INFO").arg("commandstats").query(conn).unwrap();
    let Some(line) = info
        .lines()
        .find(|l| l.starts_with(&format!("cmdstat_{command}:")))
    else {
        return (0, 0);
    };
    let field = |name: &str| -> u64 {
        line.split([':', ','])
            .find_map(|f| f.strip_prefix(&format!("{name}=")))
            .map_or(0, |v| v.parse().unwrap())
    };
    (field("calls"), field("failed_calls"))
}

/// Kills every client connection named `name` (by ID) from the control connection `ctl`;
/// how many there were.
pub fn kill_clients(ctl: &mut redis::Connection, name: &str) -> usize {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(ctl).unwrap();
    let ids: Vec<String> = list
        .lines()
        .filter(|l| l.split(' ').any(|f| f == format!("name={name}")))
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_string)
        .collect();
    for id in &ids {
        let _: redis::Value = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query(ctl)
            .unwrap();
    }
    ids.len()
}
