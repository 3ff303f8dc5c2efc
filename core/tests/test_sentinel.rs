//! Sentinel (issue #18) against a real deployment from the harness: a primary, two
//! replicas and three sentinels on loopback. Discovery names the primary and the healthy
//! replicas (given one sentinel, the client learns the others); a client follows a
//! failover asked of a sentinel and one forced by SIGKILL of the primary, and its writes
//! flow again soon after the new primary reports `ROLE master` (figures printed); a replica client reads
//! from a replica; bad settings are refused with what to do; a subscriber moves with the
//! client off a demoted primary that stays up (`SENTINEL FAILOVER`).
mod support;

use std::path::PathBuf;
use std::process::Command as Proc;
use std::time::{Duration, Instant};

use redbridge::{sentinel, Client, Config, ConfigBuilder, PubSubEvent, SubscriptionKind, Value};
use support::c;

/// The deployment, every process stopped by PID when dropped.
struct Deployment {
    primary: u16,
    replicas: Vec<u16>,
    sentinels: Vec<u16>,
    pidfiles: Vec<String>,
}

fn harness() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/harness/redis_server.py")
}

impl Deployment {
    fn start() -> Deployment {
        let out = Proc::new("python3")
            .arg(harness())
            .arg("sentinel")
            .output()
            .expect("python3 runs the harness");
        assert!(
            out.status.success(),
            "sentinel harness failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let ports = |k: &str| -> Vec<u16> {
            json[k]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_u64().unwrap() as u16)
                .collect()
        };
        Deployment {
            primary: json["primary"].as_u64().unwrap() as u16,
            replicas: ports("replicas"),
            sentinels: ports("sentinels"),
            pidfiles: json["pidfiles"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap().to_string())
                .collect(),
        }
    }

    /// A config following the deployment, given only its first sentinel.
    fn builder(&self) -> ConfigBuilder {
        Config::builder()
            .sentinel("mymaster", &[("127.0.0.1", self.sentinels[0])])
            .connect_timeout(Duration::from_millis(500))
            .response_timeout(Duration::from_millis(500))
    }

    fn node(&self, port: u16) -> redis::Connection {
        redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .unwrap()
            .get_connection_with_timeout(Duration::from_secs(1))
            .unwrap()
    }

    fn role(&self, port: u16) -> Option<String> {
        let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}"))
            .ok()?
            .get_connection_with_timeout(Duration::from_millis(200))
            .ok()?;
        let v: Vec<redis::Value> = redis::cmd("ROLE").query(&mut conn).ok()?;
        match v.first()? {
            redis::Value::BulkString(b) => String::from_utf8(b.clone()).ok(),
            _ => None,
        }
    }

    fn pid_of(&self, port: u16) -> i32 {
        let file = self
            .pidfiles
            .iter()
            .find(|f| f.ends_with(&format!("redis-{port}.pid")))
            .unwrap();
        std::fs::read_to_string(file)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }
}

impl Drop for Deployment {
    fn drop(&mut self) {
        for f in &self.pidfiles {
            let _ = Proc::new("python3")
                .arg(harness())
                .arg("stop")
                .arg(f)
                .status();
        }
    }
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    redbridge::runtime::runtime().block_on(f)
}

/// Waits until the client uses `port` (polled every 2 ms), then writes there (INCR);
/// the moment it switched. Fails after `within`.
fn write_reaches(client: &Client, port: u16, within: Duration) -> Instant {
    let deadline = Instant::now() + within;
    let s = client.config().sentinel().unwrap();
    while s.current() != Some(("127.0.0.1".into(), port)) {
        assert!(
            Instant::now() < deadline,
            "the client did not move to {port} within {within:?}: it is at {:?}",
            s.current()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let switched = Instant::now();
    // New requests go to the new node (the engine is swapped right after the node is
    // recorded; one still waiting on the old node then waits out its timeout).
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_connection()
        .unwrap();
    let key = format!("sentinel:moved:{port}");
    loop {
        run(client.execute(&c(&["SET", &key, "1"]))).unwrap();
        let there: Option<String> = redis::cmd("GET").arg(&key).query(&mut conn).unwrap();
        if there.is_some() {
            break;
        }
        assert!(
            switched.elapsed() < Duration::from_secs(1),
            "writes did not reach {port}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    switched
}

/// Polls ROLE on `ports` until one reports master; that port and the moment.
fn promoted(d: &Deployment, ports: &[u16], within: Duration) -> (u16, Instant) {
    let deadline = Instant::now() + within;
    loop {
        for &p in ports {
            if d.role(p).as_deref() == Some("master") {
                return (p, Instant::now());
            }
        }
        assert!(
            Instant::now() < deadline,
            "no replica was promoted within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn discovers_and_follows_failovers() {
    let d = Deployment::start();
    let config = d.builder().build().unwrap();

    // Discovery: the primary (confirmed by ROLE), the healthy replicas.
    let primary = run(sentinel::discover_primary(&config)).unwrap();
    assert_eq!(primary, ("127.0.0.1".to_string(), d.primary));
    let mut replicas: Vec<u16> = run(sentinel::discover_replicas(&config))
        .unwrap()
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    replicas.sort();
    let mut want = d.replicas.clone();
    want.sort();
    assert_eq!(replicas, want);

    let client = Client::new(config).unwrap();
    assert_eq!(
        run(client.execute(&c(&["SET", "sentinel:k", "v"]))).unwrap(),
        Value::Okay
    );
    let s = client.config().sentinel().unwrap();
    assert_eq!(s.current(), Some(("127.0.0.1".into(), d.primary)));
    // Given one sentinel, the client learns the other two.
    support::wait_for("the other sentinels learned", || s.sentinels().len() == 3);

    // A failover asked of a sentinel.
    let mut sentinel0 = d.node(d.sentinels[0]);
    let _: () = redis::cmd("SENTINEL")
        .arg("FAILOVER")
        .arg("mymaster")
        .query(&mut sentinel0)
        .unwrap();
    let (new_primary, at) = promoted(&d, &d.replicas, Duration::from_secs(10));
    let moved = write_reaches(&client, new_primary, Duration::from_secs(10));
    let lag = moved.saturating_duration_since(at);
    println!("SENTINEL FAILOVER: the client moved to the new primary {lag:?} after it reported ROLE master");
    assert!(lag < Duration::from_millis(500), "{lag:?}");
    // It stays there: a sentinel that still names the old primary (itself still a
    // primary for a moment) does not take the client back.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(s.current(), Some(("127.0.0.1".into(), new_primary)));
    assert_eq!(client.stats().sentinel_switches, 1);
}

/// The nodes of the `SentinelSwitched` events a client reported.
#[derive(Default)]
struct Switches(std::sync::Mutex<Vec<u16>>);

impl redbridge::Listener for Switches {
    fn on_event(&self, _client: u64, event: &redbridge::Event<'_>) {
        if let redbridge::Event::SentinelSwitched { server } = event {
            self.0.lock().unwrap().push(server.port);
        }
    }
}

#[test]
fn follows_a_primary_killed() {
    let d = Deployment::start();
    let client = Client::new(d.builder().build().unwrap()).unwrap();
    let switches = std::sync::Arc::new(Switches::default());
    client.add_listener(switches.clone());
    assert_eq!(
        run(client.execute(&c(&["SET", "sentinel:k", "v"]))).unwrap(),
        Value::Okay
    );
    // The sentinels notice (down-after 1000 ms), elect a leader, promote a replica.
    unsafe { libc::kill(d.pid_of(d.primary), libc::SIGKILL) };
    let killed = Instant::now();
    let (promoted_port, at) = promoted(&d, &d.replicas, Duration::from_secs(20));
    let moved = write_reaches(&client, promoted_port, Duration::from_secs(10));
    let lag = moved.saturating_duration_since(at);
    println!(
        "SIGKILL: promoted {:?} after the kill, the client moved {lag:?} after ROLE master",
        at - killed
    );
    assert!(lag < Duration::from_millis(500), "{lag:?}");
    assert_eq!(client.stats().sentinel_switches, 1);
    // The switch is an event too, naming the node the client moved to (issue #21).
    assert_eq!(*switches.0.lock().unwrap(), vec![promoted_port]);
    // Reads go to the new primary too (it may or may not have the last write: replication
    // is asynchronous).
    run(client.execute(&c(&["GET", "sentinel:k"]))).unwrap();
}

#[test]
fn a_replica_client_reads_from_a_replica() {
    let d = Deployment::start();
    let config = d.builder().sentinel_replica(true).build().unwrap();
    let client = Client::new(config).unwrap();
    let (_, port) = client.config().sentinel().unwrap().current().unwrap();
    assert!(d.replicas.contains(&port), "{port} is not a replica");
    let role = run(client.execute(&c(&["ROLE"]))).unwrap();
    let Value::Array(items) = role else {
        panic!("{role:?}")
    };
    assert_eq!(items[0], Value::BulkString(b"slave".to_vec()));
    let e = run(client.execute(&c(&["SET", "k", "v"]))).unwrap_err();
    assert!(e.to_string().contains("READONLY"), "{e}");

    // Replica clients take the healthy replicas in turn, so reads spread over them (as
    // redis-py's slave_for pools do per connection): six more clients use both.
    let mut used = std::collections::BTreeMap::<u16, usize>::new();
    for _ in 0..6 {
        let config = d.builder().sentinel_replica(true).build().unwrap();
        let client = run(Client::connect(config)).unwrap();
        let (_, port) = client.config().sentinel().unwrap().current().unwrap();
        assert!(d.replicas.contains(&port), "{port} is not a replica");
        *used.entry(port).or_default() += 1;
    }
    assert_eq!(used.len(), 2, "six replica clients on {used:?}");
}

/// READONLY from the node in use makes a primary client ask at once whether it is still
/// the primary (a ROLE round), instead of at the next poll a second later.
#[test]
fn a_readonly_reply_makes_a_primary_client_ask_again() {
    let d = Deployment::start();
    let client = Client::new(d.builder().build().unwrap()).unwrap();
    run(client.execute(&c(&["PING"]))).unwrap();
    let mut ctl = d.node(d.primary);
    let role_calls = |ctl: &mut redis::Connection| -> u64 {
        let info: String = redis::cmd("INFO").arg("commandstats").query(ctl).unwrap();
        info.lines()
            .find_map(|l| l.strip_prefix("cmdstat_role:calls="))
            .and_then(|rest| rest.split(',').next())
            .map_or(0, |n| n.parse().unwrap())
    };
    let before = role_calls(&mut ctl);
    let readonly = c(&[
        "EVAL",
        "return redis.error_reply('READONLY You cannot write against a read only replica.')",
        "0",
    ]);
    for _ in 0..5 {
        let e = run(client.execute(&readonly)).unwrap_err();
        assert_eq!(e.code(), Some("READONLY"), "{e}");
        std::thread::sleep(Duration::from_millis(60));
    }
    let asked = role_calls(&mut ctl) - before;
    // Five READONLY replies in 300 ms: a round each (the poll alone: at most one).
    assert!(asked >= 4, "ROLE asked {asked} times");
    // Still the primary: the client stays there.
    assert_eq!(
        client.config().sentinel().unwrap().current().unwrap().1,
        d.primary
    );
}

#[test]
fn bad_sentinel_settings_say_what_to_do() {
    let refused = |pairs: &[(&str, &str)]| -> String {
        let mut b = Config::builder();
        for (k, v) in pairs {
            if let Err(e) = b.set_option(k, v) {
                return e.to_string();
            }
        }
        b.build().unwrap_err().to_string()
    };
    let e = refused(&[("sentinels", "127.0.0.1:26379")]);
    assert!(e.contains("service"), "{e}");
    let e = refused(&[("sentinel_service", "mymaster")]);
    assert!(e.contains("no sentinel"), "{e}");
    let e = refused(&[("sentinels", "127.0.0.1")]);
    assert!(e.contains("host:port"), "{e}");
    let e = refused(&[("sentinels", "127.0.0.1:0")]);
    assert!(e.contains("host:port"), "{e}");
    let e = refused(&[("sentinel_service", "")]);
    assert!(e.contains("service name"), "{e}");
    let e = refused(&[("sentinel_role", "boss")]);
    assert!(e.contains("replica"), "{e}");
    let e = refused(&[
        ("sentinels", "127.0.0.1:1"),
        ("sentinel_service", "m"),
        ("cluster", "true"),
    ]);
    assert!(e.contains("not both"), "{e}");
    // Nobody there: the client is made, its commands say no primary is known.
    let config = Config::builder()
        .sentinel("mymaster", &[("127.0.0.1", 1)])
        .connect_timeout(Duration::from_millis(200))
        .response_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let client = Client::new(config).unwrap();
    let e = run(client.execute(&c(&["PING"]))).unwrap_err();
    assert!(e.to_string().contains("mymaster"), "{e}");
}

/// After `SENTINEL FAILOVER` the old primary stays up: the client's subscriber moves with
/// the client, so a message published on the new primary reaches it within 2 s of the
/// switch, and none of the client's connections (its name) stay on the old primary.
#[test]
fn subscriptions_follow_a_failover_off_a_live_primary() {
    let d = Deployment::start();
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(d.builder().client_name("rb-follow").build().unwrap()).unwrap()
    };
    run(client.wait_connected(Duration::from_secs(5))).unwrap();
    let sub = client.pubsub(Default::default()).unwrap();
    run(sub.subscribe(SubscriptionKind::Subscribe, ["news"])).unwrap();
    let _: () = redis::cmd("SENTINEL")
        .arg(&["FAILOVER", "mymaster"])
        .query(&mut d.node(d.sentinels[1]))
        .unwrap();
    let (new, _) = promoted(&d, &d.replicas, Duration::from_secs(10));
    let switched = write_reaches(&client, new, Duration::from_secs(3));
    let mut publisher = d.node(new);
    let received = run(async {
        while switched.elapsed() < Duration::from_secs(2) {
            let _: i64 = redis::cmd("PUBLISH")
                .arg(&["news", "after"])
                .query(&mut publisher)
                .unwrap();
            let wait = tokio::time::timeout(Duration::from_millis(50), sub.next_event());
            if let Ok(event) = wait.await {
                if let PubSubEvent::Message(_) = event.unwrap() {
                    return Some(switched.elapsed());
                }
            }
        }
        None
    });
    let Some(after) = received else {
        panic!("no message published on the new primary {new} reached the subscriber within 2 s of the switch");
    };
    eprintln!("SENTINEL FAILOVER: a message published on {new} arrived {after:?} after the switch");
    // The old engine's connections close once their requests are done: bounded wait.
    let mut old = d.node(d.primary);
    let ours = |old: &mut redis::Connection| -> usize {
        let list: String = redis::cmd("CLIENT").arg("LIST").query(old).unwrap();
        list.lines()
            .filter(|l| l.contains("name=rb-follow "))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(1);
    while ours(&mut old) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        ours(&mut old),
        0,
        "the client's connections on the old primary {}",
        d.primary
    );
}

/// How many pub/sub connections a sentinel has (the followers' `+switch-master`
/// subscriptions).
fn subscribers(port: u16) -> usize {
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .unwrap()
        .get_connection_with_timeout(Duration::from_secs(1))
        .unwrap();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .arg("TYPE")
        .arg("pubsub")
        .query(&mut conn)
        .unwrap();
    list.lines().filter(|l| !l.trim().is_empty()).count()
}

/// Polls `ok` every 10 ms for at most `within`; whether it held.
fn holds_within(within: Duration, mut ok: impl FnMut() -> bool) -> bool {
    let t0 = Instant::now();
    loop {
        if ok() {
            return true;
        }
        if t0.elapsed() >= within {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A client dropped without close(), or one whose open failed (never closed), stops
/// following the sentinels at once: its subscriptions to them close within 200 ms, not at
/// the follower's next poll (1 s) or after the handshakes it was in the middle of.
#[test]
fn a_dropped_client_stops_following_the_sentinels_at_once() {
    let d = Deployment::start();
    let s0 = d.sentinels[0];
    assert_eq!(subscribers(s0), 0);
    let client = run(Client::connect(d.builder().build().unwrap())).unwrap();
    run(client.execute(&c(&["SET", "drop:k", "v"]))).unwrap();
    assert!(
        holds_within(Duration::from_secs(3), || subscribers(s0) >= 1),
        "the follower subscribed to +switch-master on the sentinel"
    );
    drop(client);
    assert!(
        holds_within(Duration::from_millis(200), || subscribers(s0) == 0),
        "the dropped client's subscription to the sentinel is gone within 200 ms: {}",
        subscribers(s0)
    );

    // An open that fails (a service the sentinels do not know) leaves nothing behind.
    let unknown = Config::builder()
        .sentinel("nosuchservice", &[("127.0.0.1", s0)])
        .connect_timeout(Duration::from_millis(300))
        .response_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = run(Client::connect(unknown)).expect_err("no primary for an unknown service");
    assert!(e.to_string().contains("nosuchservice"), "{e}");
    assert!(
        holds_within(Duration::from_millis(200), || subscribers(s0) == 0),
        "the failed open's subscription to the sentinel is gone within 200 ms: {}",
        subscribers(s0)
    );
}

// ---- Issue #18's test list: discovery, a writer through SIGKILL, SENTINEL FAILOVER under
// a GET/INCR loop, a frozen primary, sentinel churn.

/// A loopback port nobody listens on (bound, then released).
fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn quick(service: &str, sentinels: &[u16]) -> Config {
    let list: Vec<(&str, u16)> = sentinels.iter().map(|&p| ("127.0.0.1", p)).collect();
    Config::builder()
        .sentinel(service, &list)
        .connect_timeout(Duration::from_millis(500))
        .response_timeout(Duration::from_millis(500))
        .build()
        .unwrap()
}

/// A dead first sentinel is skipped; a service nobody knows is an error that lists each
/// sentinel's answer; a node a sentinel names as the primary but that says it is a
/// replica (`ROLE`) is refused, and said so.
#[test]
fn discovery_skips_a_dead_sentinel_lists_each_answer_and_believes_role() {
    let d = Deployment::start();
    let (s0, s1) = (d.sentinels[0], d.sentinels[1]);
    let dead = dead_port();

    let config = quick("mymaster", &[dead, s0]);
    let primary = run(sentinel::discover_primary(&config)).unwrap();
    assert_eq!(primary.1, d.primary);
    let client = run(Client::connect(config)).unwrap();
    assert_eq!(
        run(client.execute(&c(&["SET", "dead-first:k", "v"]))).unwrap(),
        Value::Okay
    );
    // The sentinel that answered goes first from now on.
    assert_eq!(client.config().sentinel().unwrap().sentinels()[0].1, s0);

    let unknown = quick("nosuch", &[dead, s0, s1]);
    let e = run(sentinel::discover_primary(&unknown))
        .unwrap_err()
        .to_string();
    println!("unknown service: {e}");
    assert!(
        e.contains(&format!("sentinel 127.0.0.1:{dead}: ")) && e.to_lowercase().contains("refused"),
        "{e}"
    );
    // Those that said the same, together.
    assert!(
        e.contains(&format!(
            "sentinels 127.0.0.1:{s0}, 127.0.0.1:{s1}: does not know service `nosuch`"
        )),
        "{e}"
    );
    // A client's open says the same.
    let e = run(Client::connect(unknown))
        .expect_err("unknown service")
        .to_string();
    assert!(e.contains("does not know service `nosuch`"), "{e}");

    // A sentinel told to watch a replica's address as the primary of another service:
    // it names the replica, which says it is one.
    let replica = d.replicas[0];
    let _: () = redis::cmd("SENTINEL")
        .arg(&["MONITOR", "fake", "127.0.0.1", &replica.to_string(), "2"])
        .query(&mut d.node(s0))
        .unwrap();
    let fake = quick("fake", &[s0]);
    let e = run(sentinel::discover_primary(&fake))
        .unwrap_err()
        .to_string();
    println!("replica named as primary: {e}");
    assert!(
        e.contains(&format!(
            "sentinel 127.0.0.1:{s0}: named 127.0.0.1:{replica}, which says it is a slave (ROLE)"
        )),
        "{e}"
    );
    let e = run(Client::connect(fake)).expect_err("a replica is no primary");
    assert!(e.to_string().contains("which says it is a slave"), "{e}");
    let _: () = redis::cmd("SENTINEL")
        .arg(&["REMOVE", "fake"])
        .query(&mut d.node(s0))
        .unwrap();
}

/// One INCR's outcome: when it was sent, when it came back, its reply or error.
struct Shot {
    sent: Instant,
    done: Instant,
    reply: std::result::Result<i64, String>,
}

/// A thread sending INCR `key` every 5 ms (~200/s) until stopped (at most 60 s).
struct Writer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<Vec<Shot>>>,
}

impl Writer {
    fn start(client: Client, key: &'static str) -> Writer {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut shots = Vec::new();
            let t0 = Instant::now();
            while !flag.load(std::sync::atomic::Ordering::Relaxed)
                && t0.elapsed() < Duration::from_secs(60)
            {
                let sent = Instant::now();
                let reply = match run(client.execute(&c(&["INCR", key]))) {
                    Ok(Value::Int(n)) => Ok(n),
                    Ok(v) => Err(format!("{v:?}")),
                    Err(e) => Err(e.to_string()),
                };
                shots.push(Shot {
                    sent,
                    done: Instant::now(),
                    reply,
                });
                std::thread::sleep(Duration::from_millis(5).saturating_sub(sent.elapsed()));
            }
            shots
        });
        Writer {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<Shot> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// How many of the connections on `port` carry the client name `name`.
fn named_connections(port: u16, name: &str) -> usize {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}")) else {
        return 0;
    };
    let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_millis(300)) else {
        return 0;
    };
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(&mut conn)
        .unwrap_or_default();
    list.lines()
        .filter(|l| l.contains(&format!("name={name} ")))
        .count()
}

/// The primary is SIGKILLed under a writer at ~200 INCR/s: writes resume on the new
/// primary (the outage printed), and once the old primary's process is back on its port
/// (a fresh, empty primary until the sentinels make it a replica) no write reaches it:
/// none of the client's connections appear there and the INCR replies after the resume
/// run on without a gap or a restart from 1.
#[test]
fn a_writer_through_a_primary_killed_never_writes_to_it_when_it_returns() {
    let d = Deployment::start();
    let name = "rb-writer";
    let client = run(Client::connect(
        d.builder().client_name(name).build().unwrap(),
    ))
    .unwrap();
    let writer = Writer::start(client.clone(), "w:counter");
    std::thread::sleep(Duration::from_millis(500));
    let old = d.primary;
    unsafe { libc::kill(d.pid_of(old), libc::SIGKILL) };
    let killed = Instant::now();
    let (new, promoted_at) = promoted(&d, &d.replicas, Duration::from_secs(20));
    write_reaches(&client, new, Duration::from_secs(10));

    // The old primary's process comes back on its port, empty (no persistence).
    let dir = std::path::Path::new(&d.pidfiles[0]).parent().unwrap();
    let out = Proc::new("python3")
        .arg(harness())
        .args(["start", "--port", &old.to_string(), "--dir"])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let back = Instant::now();
    // Until the sentinels have made it a replica of the new primary (and a while after),
    // none of the client's connections go there.
    let mut seen_there = 0;
    let mut demoted = None;
    while back.elapsed() < Duration::from_secs(20) {
        seen_there = seen_there.max(named_connections(old, name));
        if demoted.is_none() && d.role(old).as_deref() == Some("slave") {
            demoted = Some(back.elapsed());
        }
        if demoted.is_some_and(|t| back.elapsed() > t + Duration::from_millis(500)) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let shots = writer.finish();
    assert!(
        demoted.is_some(),
        "the sentinels did not make the returned primary a replica within 20 s"
    );
    assert_eq!(
        seen_there, 0,
        "the client had connections on the returned old primary"
    );

    let last_before = shots
        .iter()
        .filter(|s| s.done <= killed && s.reply.is_ok())
        .map(|s| s.done)
        .max()
        .unwrap();
    let after: Vec<&Shot> = shots.iter().filter(|s| s.sent > killed).collect();
    let first_ok = after.iter().position(|s| s.reply.is_ok()).unwrap();
    let resumed = after[first_ok].done;
    let failed = after[..first_ok].len();
    println!(
        "SIGKILL under ~200 INCR/s: outage {:?} (last write before the kill to the first after), \
         promoted {:?} after the kill, writes resumed {:?} after ROLE master; {failed} writes failed; \
         old primary back and demoted {:?} after its restart",
        resumed - last_before,
        promoted_at - killed,
        resumed.saturating_duration_since(promoted_at),
        demoted.unwrap()
    );
    assert!(resumed.saturating_duration_since(promoted_at) < Duration::from_millis(1000));
    // Every write after the resume succeeded and counted on from the one before: a write
    // to the returned (empty) old primary would have answered 1, 2, ...
    let replies: Vec<i64> = after[first_ok..]
        .iter()
        .map(|s| s.reply.clone().expect("a write after the resume failed"))
        .collect();
    assert!(
        replies.len() > 100,
        "{} writes after the resume",
        replies.len()
    );
    // Under load the sentinels may fail over twice (a promotion they did not see confirmed
    // within the failover timeout is given up, and another replica promoted): the writes
    // made on the first new primary are then discarded by the server, as Redis's
    // asynchronous replication allows, and the count goes back a few steps. Only the
    // returned (empty) old primary would count from 1.
    let epoch = d
        .sentinels
        .iter()
        .filter_map(|&p| {
            let info: std::collections::HashMap<String, String> = redis::cmd("SENTINEL")
                .arg("MASTER")
                .arg("mymaster")
                .query(&mut d.node(p))
                .ok()?;
            info.get("config-epoch")?.parse::<u64>().ok()
        })
        .max()
        .unwrap_or(0);
    println!("  sentinels' config epoch after the kill: {epoch}");
    for w in replies.windows(2) {
        let counted_on = w[1] == w[0] + 1;
        let discarded = epoch > 1 && w[1] > 10 && w[1] <= w[0];
        assert!(
            counted_on || discarded,
            "INCR replies after the resume: {w:?} (sentinels' config epoch {epoch})"
        );
    }
    let primary: (String, u16) = redis::cmd("SENTINEL")
        .arg("GET-MASTER-ADDR-BY-NAME")
        .arg("mymaster")
        .query(&mut d.node(d.sentinels[0]))
        .unwrap();
    assert!(epoch > 1 || primary.1 == new, "{primary:?}, promoted {new}");
    let mut conn = d.node(primary.1);
    let stored: i64 = redis::cmd("GET").arg("w:counter").query(&mut conn).unwrap();
    assert_eq!(stored, *replies.last().unwrap());
}

/// READONLY replies a client met (through its event stream).
#[derive(Default)]
struct Readonly(std::sync::atomic::AtomicUsize);

impl redbridge::Listener for Readonly {
    fn on_event(&self, _client: u64, event: &redbridge::Event<'_>) {
        if let redbridge::Event::Operation(op) = event {
            if op.code == Some("READONLY") {
                self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

/// `SENTINEL FAILOVER` with the old primary alive, under a GET/INCR loop: the client
/// writes to the new primary within 2 s of its promotion, no GET ever fails, INCR meets
/// READONLY at most once per connection the client had on the old primary, and none of
/// its connections stay there.
#[test]
fn a_get_incr_loop_through_sentinel_failover() {
    let d = Deployment::start();
    let name = "rb-loop";
    let client = run(Client::connect(
        d.builder().client_name(name).build().unwrap(),
    ))
    .unwrap();
    let readonly = std::sync::Arc::new(Readonly::default());
    client.add_listener(readonly.clone());
    run(client.execute(&c(&["SET", "loop:k", "v"]))).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let looping = client.clone();
    let worker = std::thread::spawn(move || {
        let (mut gets, mut get_errors, mut incr_errors) = (0, Vec::new(), Vec::new());
        let t0 = Instant::now();
        while !flag.load(std::sync::atomic::Ordering::Relaxed)
            && t0.elapsed() < Duration::from_secs(30)
        {
            match run(looping.execute(&c(&["GET", "loop:k"]))) {
                Ok(_) => gets += 1,
                Err(e) => get_errors.push(e.to_string()),
            }
            if let Err(e) = run(looping.execute(&c(&["INCR", "loop:n"]))) {
                incr_errors.push(e.to_string());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        (gets, get_errors, incr_errors)
    });
    std::thread::sleep(Duration::from_millis(300));
    let on_old = named_connections(d.primary, name);
    assert!(on_old >= 1);
    let _: () = redis::cmd("SENTINEL")
        .arg(&["FAILOVER", "mymaster"])
        .query(&mut d.node(d.sentinels[0]))
        .unwrap();
    let (new, at) = promoted(&d, &d.replicas, Duration::from_secs(10));
    let moved = write_reaches(&client, new, Duration::from_secs(2));
    // Let the old primary become a replica while the loop runs (the sentinels demote it
    // once the failover is over: up to the failover timeout, 3 s here, and their next
    // look at it).
    let deadline = Instant::now() + Duration::from_secs(20);
    while d.role(d.primary).as_deref() != Some("slave") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(1000));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (gets, get_errors, incr_errors) = worker.join().unwrap();
    let seen = readonly.0.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "SENTINEL FAILOVER under GET/INCR: moved {:?} after ROLE master; {gets} GETs, GET errors {get_errors:?}, \
         INCR errors {incr_errors:?}, READONLY {seen} (connections on the old primary: {on_old})",
        moved.saturating_duration_since(at)
    );
    assert!(get_errors.is_empty(), "GET failed: {get_errors:?}");
    assert!(
        seen <= on_old,
        "{seen} READONLY replies for {on_old} connections"
    );
    assert_eq!(d.role(d.primary).as_deref(), Some("slave"));
    assert_eq!(
        named_connections(d.primary, name),
        0,
        "connections left on the old primary"
    );
}

/// SIGCONTs a process when dropped (a test that fails leaves nothing frozen).
struct Thaw(i32);

impl Drop for Thaw {
    fn drop(&mut self) {
        unsafe { libc::kill(self.0, libc::SIGCONT) };
    }
}

/// The primary frozen with SIGSTOP (its sockets open, no answer): the client moves once
/// the sentinels promote a replica, and stays there after the old one is thawed.
#[test]
fn follows_a_frozen_primary() {
    let d = Deployment::start();
    let client = run(Client::connect(d.builder().build().unwrap())).unwrap();
    run(client.execute(&c(&["SET", "frozen:k", "v"]))).unwrap();
    let pid = d.pid_of(d.primary);
    let thaw = Thaw(pid);
    unsafe { libc::kill(pid, libc::SIGSTOP) };
    let frozen = Instant::now();
    let (new, at) = promoted(&d, &d.replicas, Duration::from_secs(20));
    let moved = write_reaches(&client, new, Duration::from_secs(10));
    println!(
        "SIGSTOP: promoted {:?} after the freeze, the client moved {:?} after ROLE master",
        at - frozen,
        moved.saturating_duration_since(at)
    );
    assert!(moved.saturating_duration_since(at) < Duration::from_millis(1000));
    drop(thaw);
    std::thread::sleep(Duration::from_millis(1500));
    let s = client.config().sentinel().unwrap();
    assert_eq!(s.current(), Some(("127.0.0.1".into(), new)));
    run(client.execute(&c(&["SET", "frozen:k", "w"]))).unwrap();
    assert_eq!(client.stats().sentinel_switches, 1);
}

/// A sentinel joins (a 4th, monitoring the same primary); the client hears of it
/// (`+sentinel`) within seconds, and once the three it started with are killed it keeps
/// working: commands run, the new sentinel still answers its discovery, and it keeps an
/// event subscription there.
#[test]
fn keeps_working_when_its_seed_sentinels_are_gone() {
    let mut d = Deployment::start();
    let client = run(Client::connect(d.builder().build().unwrap())).unwrap();
    let s = client.config().sentinel().unwrap();
    support::wait_for("the other sentinels learned", || s.sentinels().len() == 3);

    // A 4th sentinel on a free loopback port.
    let dir = std::path::Path::new(&d.pidfiles[0])
        .parent()
        .unwrap()
        .to_path_buf();
    let port = dead_port();
    let conf = dir.join(format!("sentinel-{port}.conf"));
    std::fs::write(
        &conf,
        format!(
            "port {port}\nbind 127.0.0.1\ndaemonize no\ndir {}\nlogfile {}\n\
             sentinel monitor mymaster 127.0.0.1 {} 2\n\
             sentinel down-after-milliseconds mymaster 1000\n\
             sentinel failover-timeout mymaster 3000\n",
            dir.display(),
            dir.join(format!("sentinel-{port}.log")).display(),
            d.primary
        ),
    )
    .unwrap();
    let mut child = Proc::new("redis-server")
        .arg(&conf)
        .arg("--sentinel")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pidfile = dir.join(format!("sentinel-{port}.pid"));
    std::fs::write(&pidfile, child.id().to_string()).unwrap();
    // Stopped by its pidfile with the rest; reaped here when it exits.
    std::thread::spawn(move || child.wait());
    d.pidfiles.push(pidfile.display().to_string());
    let joined = Instant::now();
    assert!(
        holds_within(Duration::from_secs(10), || s
            .sentinels()
            .contains(&("127.0.0.1".into(), port))),
        "the client did not hear of the new sentinel within 10 s: {:?}",
        s.sentinels()
    );
    println!(
        "sentinel churn: the client knew the new sentinel {:?} after it started",
        joined.elapsed()
    );
    assert!(
        holds_within(Duration::from_secs(5), || subscribers(port) >= 1),
        "no event subscription on the new sentinel"
    );

    // The seed and the others it learned at the start go away.
    for p in d.sentinels.clone() {
        let file = d
            .pidfiles
            .iter()
            .find(|f| f.ends_with(&format!("sentinel-{p}.pid")))
            .unwrap()
            .clone();
        let pid: i32 = std::fs::read_to_string(&file)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    std::thread::sleep(Duration::from_millis(1500));
    for i in 0..20 {
        let k = format!("churn:{i}");
        assert_eq!(
            run(client.execute(&c(&["SET", &k, "v"]))).unwrap(),
            Value::Okay
        );
    }
    let found = run(sentinel::discover_primary(client.config())).unwrap();
    assert_eq!(found.1, d.primary);
    assert_eq!(s.current(), Some(("127.0.0.1".into(), d.primary)));
}

/// A request that waits for a connection to the dead primary when the client moves (the
/// old node's reconnects are refused) goes to the new primary instead of waiting out its
/// timeout (5 s here, as Node's default): a sequential writer resumes within 1 s of the
/// promotion. Fails without /tmp/helper-31-mod.rs.patch (client/mod.rs, `on_shared`):
/// the request waits its 5 s out, nothing succeeds within 1.5 s of the move.
#[test]
fn a_request_waiting_on_a_dead_primary_moves_with_the_client() {
    let d = Deployment::start();
    let client = run(Client::connect(
        d.builder()
            .response_timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    ))
    .unwrap();
    let writer = Writer::start(client.clone(), "wait:counter");
    std::thread::sleep(Duration::from_millis(300));
    unsafe { libc::kill(d.pid_of(d.primary), libc::SIGKILL) };
    let killed = Instant::now();
    let (new, at) = promoted(&d, &d.replicas, Duration::from_secs(20));
    write_reaches(&client, new, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(1500));
    let shots = writer.finish();
    let resumed = shots
        .iter()
        .find(|s| s.sent > killed && s.reply.is_ok())
        .map(|s| s.done)
        .expect("no write succeeded after the kill");
    let waited: Vec<Duration> = shots
        .iter()
        .filter(|s| s.sent > killed && s.reply.is_err())
        .map(|s| s.done - s.sent)
        .collect();
    println!(
        "a request waiting on the dead primary: writes resumed {:?} after ROLE master; failed writes took {waited:?}",
        resumed.saturating_duration_since(at)
    );
    assert!(
        resumed.saturating_duration_since(at) < Duration::from_secs(1),
        "writes resumed {:?} after the promotion",
        resumed.saturating_duration_since(at)
    );
}
