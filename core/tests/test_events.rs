//! The event stream against a real server: what a listener is told of operations,
//! connections, pool waits, the cache and pub/sub, and that it never hears an argument
//! value or a password.
mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redbridge::observe::{Event, Listener, Operation, Served};
use redbridge::{
    CacheConfig, Client, ErrorKind, Mode, Protocol, PubSubOptions, SubscriptionKind, SyncClient,
};
use support::{c, kill_clients, wait_for, TestCluster, TestServer};

/// Keeps every event as its debug text and every operation as an owned copy.
#[derive(Default)]
struct Recorder {
    text: Mutex<Vec<String>>,
    ops: Mutex<Vec<Op>>,
    /// Pool waits: how long, and whether it gave up.
    waits: Mutex<Vec<(Duration, bool)>>,
}

#[derive(Clone, Debug)]
struct Op {
    name: String,
    host: String,
    port: u16,
    db: i64,
    duration: Duration,
    error: Option<ErrorKind>,
    retries: u32,
    served: Served,
}

impl Listener for Recorder {
    fn on_event(&self, _client: u64, event: &Event<'_>) {
        self.text.lock().unwrap().push(format!("{event:?}"));
        if let Event::PoolWait {
            waited, timed_out, ..
        } = event
        {
            self.waits.lock().unwrap().push((*waited, *timed_out));
        }
        if let Event::Operation(Operation {
            name,
            server,
            duration,
            error,
            retries,
            served,
            ..
        }) = event
        {
            self.ops.lock().unwrap().push(Op {
                name: name.to_string(),
                host: server.host.to_string(),
                port: server.port,
                db: server.db,
                duration: *duration,
                error: *error,
                retries: *retries,
                served: *served,
            });
        }
    }
}

impl Recorder {
    fn ops(&self, name: &str) -> Vec<Op> {
        let ops = self.ops.lock().unwrap();
        ops.iter().filter(|o| o.name == name).cloned().collect()
    }
    fn count(&self, what: &str) -> usize {
        let text = self.text.lock().unwrap();
        text.iter().filter(|t| t.contains(what)).count()
    }
    fn all(&self) -> String {
        self.text.lock().unwrap().join("\n")
    }
}

/// A control connection, logged in when the server has a password.
fn control(srv: &TestServer, password: Option<&str>) -> redis::Connection {
    let mut ctl = srv.control();
    if let Some(pw) = password {
        let _: () = redis::cmd("AUTH").arg(pw).query(&mut ctl).unwrap();
    }
    ctl
}

#[test]
fn sync_operations_errors_retries_timeouts_and_connections_are_reported() {
    let srv = TestServer::start_owned(&["--requirepass", "hunter2-secret"]);
    let cfg = srv
        .builder()
        .password("hunter2-secret")
        .protocol(Protocol::Resp2)
        .client_name("events-sync")
        .db(3)
        .response_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let client = SyncClient::connect(cfg).unwrap();
    let rec = Arc::new(Recorder::default());
    client.async_client().add_listener(rec.clone());

    client
        .execute(&c(&["SET", "ev:k", "argument-value-42"]))
        .unwrap();
    client.execute(&c(&["GET", "ev:k"])).unwrap();
    let gets = rec.ops("GET");
    assert_eq!(gets.len(), 1, "{}", rec.all());
    let get = &gets[0];
    assert_eq!(
        (get.host.as_str(), get.port, get.db),
        ("127.0.0.1", srv.port, 3)
    );
    assert_eq!(get.error, None);
    assert_eq!(get.retries, 0);
    assert_eq!(get.served, Served::Direct, "a lone sync caller goes direct");
    assert!(get.duration > Duration::ZERO && get.duration < Duration::from_secs(1));
    assert_eq!(
        rec.count("ConnectionCreated { role: Direct"),
        1,
        "{}",
        rec.all()
    );

    // A failing command: its error kind.
    let e = client.execute(&c(&["INCR", "ev:k"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Response);
    assert_eq!(rec.ops("INCR")[0].error, Some(ErrorKind::Response));
    assert!(rec.all().contains("code: Some(\"ERR\")"), "{}", rec.all());

    // A retried command: the direct connection killed under it.
    let mut ctl = control(&srv, Some("hunter2-secret"));
    assert!(kill_clients(&mut ctl, "events-sync") >= 1);
    client.execute(&c(&["GET", "ev:k"])).unwrap();
    let retried = rec.ops("GET").pop().unwrap();
    // Both the direct and the shared connection were killed (RESP2: the shared one
    // learns it from its next request), so one or two retries; the counter agrees.
    assert!(retried.retries >= 1, "{retried:?}");
    assert_eq!(u64::from(retried.retries), client.stats().retries);
    assert_eq!(retried.error, None);
    assert_eq!(
        retried.served,
        Served::Direct,
        "its first attempt went direct"
    );
    assert_eq!(
        rec.count("ConnectionClosed { role: Direct, server: Server { host: \"127.0.0.1\""),
        1,
        "{}",
        rec.all()
    );

    // A timeout: the server sleeps longer than the response timeout.
    let started = Instant::now();
    let e = client.execute(&c(&["DEBUG", "SLEEP", "0.5"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    let timed_out = rec.ops("DEBUG").pop().unwrap();
    assert_eq!(timed_out.error, Some(ErrorKind::Timeout));
    assert!(timed_out.duration >= Duration::from_millis(200));
    assert!(timed_out.duration <= started.elapsed());
    assert!(rec.count("reason: Timeout") >= 1, "{}", rec.all());
    std::thread::sleep(Duration::from_millis(400));

    // A refused command is reported as not sent, with its error.
    assert!(client.execute(&c(&["SELECT", "1"])).is_err());
    let refused = rec.ops("SELECT").pop().unwrap();
    assert_eq!(refused.served, Served::NotSent);
    assert_eq!(refused.error, Some(ErrorKind::InvalidArgument));

    let all = rec.all();
    assert!(
        !all.contains("argument-value-42"),
        "an argument value leaked: {all}"
    );
    assert!(!all.contains("hunter2"), "the password leaked: {all}");
    assert!(!all.contains("ev:k"), "a key leaked: {all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_pipeline_reconnect_and_listener_removal() {
    let srv = TestServer::start_owned(&[]);
    let cfg = srv.builder().client_name("events-async").build().unwrap();
    let client = Client::new(cfg).unwrap();
    let rec = Arc::new(Recorder::default());
    client.add_listener(rec.clone());
    client.execute(&c(&["PING"])).await.unwrap();
    assert_eq!(rec.ops("PING")[0].served, Served::Runtime);
    assert_eq!(
        rec.count("ConnectionCreated { role: Shared"),
        1,
        "{}",
        rec.all()
    );

    let mut pipe = redbridge::Pipeline::new(false);
    pipe.add(c(&["SET", "ev:p", "1"]));
    pipe.add(c(&["GET", "ev:p"]));
    client.pipeline(&pipe).await.unwrap();
    assert!(
        rec.all().contains("name: \"PIPELINE\", batch: 2"),
        "{}",
        rec.all()
    );

    // A reconnect: the shared connection closed with an error, then made again.
    assert_eq!(kill_clients(&mut control(&srv, None), "events-async"), 1);
    wait_for("the reconnect", || {
        rec.count("ConnectionCreated { role: Shared") == 2
    });
    assert_eq!(
        rec.count("ConnectionClosed { role: Shared, server: Server { host: \"127.0.0.1\", port: "),
        1
    );
    assert!(rec.all().contains("reason: Error"));

    client.clear_listeners();
    let before = rec.text.lock().unwrap().len();
    client.execute(&c(&["PING"])).await.unwrap();
    assert_eq!(
        rec.text.lock().unwrap().len(),
        before,
        "no listener, no event"
    );
    client.close();
}

#[test]
fn cache_hits_misses_and_invalidations_are_reported() {
    let srv = TestServer::start_owned(&[]);
    let cfg = srv.builder().cache(CacheConfig::default()).build().unwrap();
    let client = SyncClient::connect(cfg).unwrap();
    let rec = Arc::new(Recorder::default());
    client.async_client().add_listener(rec.clone());
    client.execute(&c(&["SET", "ev:c", "v"])).unwrap();
    client.execute(&c(&["GET", "ev:c"])).unwrap();
    client.execute(&c(&["GET", "ev:c"])).unwrap();
    assert_eq!(rec.count("Cache { outcome: Miss"), 1, "{}", rec.all());
    assert_eq!(rec.count("Cache { outcome: Hit"), 1, "{}", rec.all());
    let served: Vec<Served> = rec.ops("GET").iter().map(|o| o.served).collect();
    assert_eq!(served, vec![Served::Runtime, Served::Cache]);

    let mut ctl = srv.control();
    let _: () = redis::cmd("SET")
        .arg("ev:c")
        .arg("w")
        .query(&mut ctl)
        .unwrap();
    wait_for("the invalidation", || {
        rec.count("Cache { outcome: Invalidation, count: 1 }") == 1
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_waits_are_timed() {
    let srv = TestServer::start_owned(&[]);
    let cfg = srv
        .builder()
        .mode(Mode::Pooled)
        .max_connections(1)
        .pool_timeout(Duration::from_millis(150))
        .build()
        .unwrap();
    let client = Client::new(cfg).unwrap();
    let rec = Arc::new(Recorder::default());
    client.add_listener(rec.clone());
    let lease = client.lease().await.unwrap();
    let e = client.execute(&c(&["GET", "ev:w"])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PoolTimeout);
    drop(lease);
    client.execute(&c(&["GET", "ev:w"])).await.unwrap();
    let waits = rec.waits.lock().unwrap().clone();
    assert_eq!(waits.len(), 3, "{waits:?}");
    assert!(!waits[0].1 && !waits[2].1, "{waits:?}");
    let (waited, timed_out) = waits[1];
    assert!(timed_out);
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    assert_eq!(rec.ops("GET")[0].error, Some(ErrorKind::PoolTimeout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_connections_are_created_checked_reaped_and_closed() {
    let srv = TestServer::start_owned(&[]);
    let cfg = srv
        .builder()
        .mode(Mode::Pooled)
        .client_name("events-pool")
        .max_connections(2)
        .idle_timeout(Duration::from_millis(400))
        .response_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let client = Client::new(cfg).unwrap();
    let rec = Arc::new(Recorder::default());
    client.add_listener(rec.clone());
    let pooled = |what: &str| rec.count(&format!("{what} {{ role: Pooled"));

    client.execute(&c(&["PING"])).await.unwrap();
    assert_eq!(pooled("ConnectionCreated"), 1, "{}", rec.all());
    client.execute(&c(&["PING"])).await.unwrap();
    assert_eq!(pooled("ConnectionCreated"), 1, "the idle one was reused");

    // Killed while idle: found dead when health-checked, replaced.
    assert_eq!(kill_clients(&mut srv.control(), "events-pool"), 1);
    client.execute(&c(&["PING"])).await.unwrap();
    assert_eq!(
        rec.count("role: Pooled, server: Server { host: \"127.0.0.1\""),
        3,
        "{}",
        rec.all()
    );
    assert_eq!(pooled("ConnectionClosed"), 1);
    assert!(rec.all().contains("reason: Error"));
    assert_eq!(pooled("ConnectionCreated"), 2);

    // A timeout: that connection is closed, never returned.
    let e = client
        .execute(&c(&["DEBUG", "SLEEP", "0.4"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Timeout);
    assert_eq!(
        rec.count("role: Pooled, server: Server { host: \"127.0.0.1\", port: "),
        4
    );
    assert!(rec.all().contains("reason: Timeout"), "{}", rec.all());

    // Idle longer than idle_timeout: reaped.
    tokio::time::sleep(Duration::from_millis(500)).await;
    client.execute(&c(&["PING"])).await.unwrap();
    wait_for("the idle connection reaped", || {
        rec.all().contains("reason: Idle")
    });

    // Closing the client closes what is idle.
    client.execute(&c(&["PING"])).await.unwrap();
    let before = pooled("ConnectionClosed");
    client.close();
    assert_eq!(pooled("ConnectionClosed"), before + 1, "{}", rec.all());
    assert!(rec.all().contains("reason: Application"));
}

#[test]
fn pubsub_messages_are_counted() {
    let srv = TestServer::start_owned(&[]);
    let client = SyncClient::connect(srv.config()).unwrap();
    let rec = Arc::new(Recorder::default());
    client.async_client().add_listener(rec.clone());
    let sub = client.pubsub(PubSubOptions::default()).unwrap();
    sub.subscribe(SubscriptionKind::Subscribe, ["ev:chan"])
        .unwrap();
    for _ in 0..3 {
        client
            .execute(&c(&["PUBLISH", "ev:chan", "payload-secret"]))
            .unwrap();
    }
    wait_for("three messages", || rec.count("PubSubReceived") == 3);
    assert!(!rec.all().contains("payload-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_operations_name_the_node_of_their_key() {
    let cluster = TestCluster::start();
    let client = Client::new(cluster.builder().build().unwrap()).unwrap();
    let rec = Arc::new(Recorder::default());
    client.add_listener(rec.clone());
    let keys = ["ev:a", "ev:b", "ev:c", "ev:d", "ev:e", "ev:f"];
    // The cluster connection opens with the first command, and reads the slot table.
    client.execute(&c(&["PING"])).await.unwrap();
    assert_eq!(
        rec.count("TopologyChanged { primaries: 3, moved_slots: 16384 }"),
        1,
        "{}",
        rec.all()
    );
    // A slot moved to another primary, then the table read again.
    let slot = cluster.slot_of("ev:a");
    let from = cluster.owner_of(slot);
    let to = *cluster.ports[..3].iter().find(|p| **p != from).unwrap();
    cluster.migrate(&[slot], from, to, true);
    // The client reads the table again every 10 s (sooner only for the cache's reads).
    let deadline = Instant::now() + Duration::from_secs(15);
    while rec.count("TopologyChanged { primaries: 3, moved_slots: 1 }") == 0 {
        assert!(Instant::now() < deadline, "{}", rec.all());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for k in keys {
        client.execute(&c(&["SET", k, "v"])).await.unwrap();
    }
    let ops = rec.ops("SET");
    assert_eq!(ops.len(), keys.len());
    let mut nodes = std::collections::HashSet::new();
    for (k, op) in keys.iter().zip(&ops) {
        let owner = cluster.owner_of(cluster.slot_of(k));
        assert_eq!(
            (op.host.as_str(), op.port),
            ("127.0.0.1", owner),
            "{k}: {op:?}"
        );
        assert_eq!(op.served, Served::Runtime);
        nodes.insert(owner);
    }
    assert!(
        nodes.len() > 1,
        "the keys span several primaries: {nodes:?}"
    );
    client.close();
}

/// Listens and does nothing: the cost of the stream itself.
struct Nothing;
impl Listener for Nothing {
    fn on_event(&self, _client: u64, _event: &Event<'_>) {}
}

/// This thread's CPU time (Linux), in ns: the direct path runs all on the caller's
/// thread, so the server's and other processes' load does not count.
fn thread_cpu_ns() -> u64 {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// Sequential direct GETs with no listener and with one that does nothing, in
/// alternating chunks: the caller thread's CPU time per GET, median of 20 chunks each. A
/// measurement, not a check: `cargo test --test test_events -- --ignored --nocapture
/// listener_cost` (use --release for figures worth quoting).
#[test]
#[ignore]
fn listener_cost() {
    let srv = TestServer::start_owned(&[]);
    let client = SyncClient::connect(srv.config()).unwrap();
    client.execute(&c(&["SET", "ev:cost", "v"])).unwrap();
    let get = c(&["GET", "ev:cost"]);
    let n = 2000;
    let run = || {
        let (cpu, wall) = (thread_cpu_ns(), Instant::now());
        for _ in 0..n {
            client.execute(&get).unwrap();
        }
        let per = |x: f64| x / n as f64;
        (
            per((thread_cpu_ns() - cpu) as f64),
            per(wall.elapsed().as_nanos() as f64),
        )
    };
    run();
    let (mut off, mut on) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        off.push(run());
        client.async_client().add_listener(Arc::new(Nothing));
        on.push(run());
        client.async_client().clear_listeners();
    }
    let median = |v: &[(f64, f64)], pick: fn(&(f64, f64)) -> f64| {
        let mut v: Vec<f64> = v.iter().map(pick).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    for (what, pick) in [
        ("CPU", (|p| p.0) as fn(&(f64, f64)) -> f64),
        ("wall", |p| p.1),
    ] {
        let (a, b) = (median(&off, pick), median(&on, pick));
        println!(
            "GET {what} ns: no listener {a:.0}, a listener that does nothing {b:.0} ({:+.0} ns)",
            b - a
        );
    }
}
