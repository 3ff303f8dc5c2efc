//! Redis Cluster failover at the server's pace (issue #18): a primary is SIGKILLed (or
//! frozen with SIGSTOP) while a writer keeps writing to its slots; the outage is measured
//! against the moment its replica reports `ROLE master` (polled every 2 ms). Writes must
//! flow again within 200 ms of that promotion. Three primaries in turn, on one 3+3
//! cluster with `cluster-node-timeout 1000`. redis-py's RedisCluster writes through the
//! same SIGKILL failovers when `target/py-venv` has it; its figures are printed beside
//! ours, and ours must be no later.
//!
//! The client's own slot table (per-node stats, the cache's placement) must name the new
//! primary within 200 ms of the first write. Requests in flight on the primary when it
//! dies or freezes are held to the same 200 ms:
//! concurrent SETs and pipelines (safe: retried on the new primary), an XREAD BLOCK (safe:
//! it gets the entry added on the new primary) and a BLPOP (not safe: it ends with the
//! element pushed on the new primary, or a connection error that popped nothing).
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redbridge::{Client, ErrorKind, Pipeline, SyncClient, Value};
use support::{c, TestCluster};

/// The most a write may trail the promotion.
const SLACK: Duration = Duration::from_millis(200);

/// `ROLE` of the node on `port`: ("master", None) or ("slave", Some(its primary's port)).
fn role(port: u16) -> Option<(String, Option<u16>)> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    let mut conn = client
        .get_connection_with_timeout(Duration::from_millis(200))
        .ok()?;
    conn.set_read_timeout(Some(Duration::from_millis(200)))
        .ok()?;
    role_on(&mut conn)
}

fn role_on(conn: &mut redis::Connection) -> Option<(String, Option<u16>)> {
    let v: Value = redis::cmd("ROLE").query(conn).ok()?;
    let Value::Array(parts) = v else { return None };
    let name = match parts.first()? {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        _ => return None,
    };
    let primary = match parts.get(2) {
        Some(Value::Int(p)) if name == "slave" => Some(*p as u16),
        _ => None,
    };
    Some((name, primary))
}

/// A key served by the primary on `port` (by CLUSTER KEYSLOT / SLOTS).
fn key_on(cluster: &TestCluster, port: u16) -> String {
    (0..)
        .map(|i| format!("fo:{i}"))
        .find(|k| cluster.owner_of(cluster.slot_of(k)) == port)
        .unwrap()
}

/// The Python with redis-py that `make` sets up (`target/py-venv`, in CARGO_TARGET_DIR
/// when that is set).
fn python() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        std::path::PathBuf::from,
    );
    target.join("py-venv/bin/python")
}

/// redis-py's RedisCluster writing through the same failover
/// (`tests/harness/failover_writer.py`), when that Python is there: its figures are printed
/// beside ours, for comparison (issue #18), not asserted.
struct RedisPy(std::process::Child);

impl RedisPy {
    fn start(seed: u16, key: &str) -> Option<RedisPy> {
        use std::io::BufRead;
        if !python().exists() {
            return None;
        }
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/harness/failover_writer.py"
        );
        let mut child = std::process::Command::new(python())
            .args([script, &seed.to_string(), &seed.to_string(), key])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .ok()?;
        let mut ready = String::new();
        let out = child.stdout.as_mut().unwrap();
        std::io::BufReader::new(out).read_line(&mut ready).ok()?;
        if ready.trim() != "ready" {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        Some(RedisPy(child))
    }

    fn killed(&mut self) {
        use std::io::Write;
        let stdin = self.0.stdin.as_mut().unwrap();
        let _ = stdin.write_all(b"killed\n").and_then(|_| stdin.flush());
    }

    /// Its JSON line (it gives up by itself after 30 s).
    fn result(self) -> String {
        match self.0.wait_with_output() {
            Ok(out) => String::from_utf8_lossy(&out.stdout).trim().to_string(),
            Err(e) => format!("failed: {e}"),
        }
    }
}

/// When each request of the in-flight load began and ended, and what it got.
type Log = Arc<Mutex<Vec<(&'static str, Instant, Instant, redbridge::Result<Value>)>>>;

/// Requests kept in flight on the primary serving `key` (its hash tag) through the
/// failover: four SET loops, a pipeline loop (SETs and GETs of its slot, and a SET
/// elsewhere), and one XREAD BLOCK and one BLPOP begun before the signal.
struct InFlight {
    log: Log,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl InFlight {
    fn start(client: &Client, key: &str, entry: &str) -> InFlight {
        let rt = redbridge::runtime::runtime();
        let (log, stop): (Log, _) = (Arc::default(), Arc::new(AtomicBool::new(false)));
        let mut tasks = Vec::new();
        let note = |log: &Log, what, t, r| log.lock().unwrap().push((what, t, Instant::now(), r));
        for (i, what) in ["SET 0", "SET 1", "SET 2", "SET 3"].into_iter().enumerate() {
            let (client, log, stop) = (client.clone(), log.clone(), stop.clone());
            let k = format!("{{{key}}}:w{i}");
            tasks.push(rt.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = client.execute(&c(&["SET", &k, "v"])).await;
                    note(&log, what, t, r);
                }
            }));
        }
        {
            let (client, log, stop) = (client.clone(), log.clone(), stop.clone());
            let k = format!("{{{key}}}:p");
            tasks.push(rt.spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let mut p = Pipeline::new(false);
                    p.add(c(&["SET", &k, "p"]));
                    p.add(c(&["GET", &k]));
                    p.add(c(&["SET", "fo:elsewhere", "p"]));
                    let t = Instant::now();
                    let r = client.pipeline(&p).await.and_then(|replies| {
                        replies.into_iter().collect::<redbridge::Result<Vec<_>>>()
                    });
                    note(&log, "pipeline", t, r.map(Value::Array));
                }
            }));
        }
        let blocking = [
            (
                "XREAD",
                c(&[
                    "XREAD",
                    "BLOCK",
                    "10000",
                    "STREAMS",
                    &format!("{{{key}}}:s"),
                    entry,
                ]),
            ),
            ("BLPOP", c(&["BLPOP", &format!("{{{key}}}:l"), "10"])),
        ];
        for (what, cmd) in blocking {
            let (client, log) = (client.clone(), log.clone());
            tasks.push(rt.spawn(async move {
                let t = Instant::now();
                let r = client.execute(&cmd).await;
                note(&log, what, t, r);
            }));
        }
        InFlight { log, stop, tasks }
    }

    /// Stops the loops; each loop's request that was in flight at `signalled` (or, for a
    /// loop caught between two requests, the one it sent next: the first to end after
    /// the signal) must have ended within [`SLACK`] of `promoted` (the blocking ones: of
    /// `pushed`, when their data came on the new primary), the safe ones with their reply.
    fn check(self, signalled: Instant, promoted: Instant, pushed: Instant, left: i64) {
        self.stop.store(true, Ordering::Relaxed);
        redbridge::runtime::runtime().block_on(async {
            for t in self.tasks {
                tokio::time::timeout(Duration::from_secs(15), t)
                    .await
                    .expect("the in-flight load ended")
                    .unwrap();
            }
        });
        let log = self.log.lock().unwrap();
        let after = |t: Instant, mark: Instant| t.saturating_duration_since(mark);
        let mut at_signal: Vec<&(&str, Instant, Instant, redbridge::Result<Value>)> = Vec::new();
        for x in log.iter().filter(|x| x.2 >= signalled) {
            match at_signal.iter_mut().find(|y| y.0 == x.0) {
                Some(y) if x.2 < y.2 => *y = x,
                Some(_) => {}
                None => at_signal.push(x),
            }
        }
        let in_flight = at_signal.len();
        for (what, _began, ended, r) in at_signal {
            let late = match *what {
                "XREAD" | "BLPOP" => after(*ended, promoted.max(pushed)),
                _ => after(*ended, promoted),
            };
            assert!(
                late <= SLACK,
                "{what} in flight at the signal ended {late:?} after the promotion \
                 (or the push); at most {SLACK:?}: {r:?}"
            );
            match (*what, r) {
                ("BLPOP", Err(e)) => {
                    assert_eq!(e.kind(), ErrorKind::Connection, "{e:?}");
                    assert_eq!(left, 1, "a BLPOP that failed popped nothing");
                }
                ("BLPOP", Ok(v)) => {
                    assert!(matches!(v, Value::Array(a) if a.len() == 2), "{v:?}");
                    assert_eq!(left, 0);
                }
                ("XREAD", Ok(v)) => assert_ne!(v, &Value::Nil, "XREAD got the new entry"),
                (_, r) => assert!(r.is_ok(), "{what} (safe) failed: {r:?}"),
            }
        }
        assert_eq!(
            in_flight, 7,
            "4 SET loops, a pipeline loop, XREAD and BLPOP in flight"
        );
        let failed = log
            .iter()
            .filter(|x| x.1 > signalled && x.0 != "BLPOP" && x.3.is_err())
            .count();
        let slowest = log
            .iter()
            .filter(|x| x.1 <= signalled && x.2 >= signalled)
            .map(|x| after(x.2, promoted))
            .max()
            .unwrap_or_default();
        eprintln!(
            "  in flight at the signal: {in_flight} requests, the last ended {slowest:?} after \
             the promotion; {failed} safe requests begun later failed"
        );
    }
}

/// What one failover measured.
struct Figures {
    /// Our first write after the kill.
    wrote: Duration,
    /// How long after the promotion it came (0 when before).
    slack: Duration,
    /// redis-py's first write after the kill, in the same failover.
    redis_py: Option<Duration>,
}

/// One failover of the primary on `primary`, writing `key` (one of its keys), after
/// `signal` ("KILL", or "STOP": frozen, resumed with CONT once measured).
fn failover(
    cluster: &mut TestCluster,
    (sync, client): (&SyncClient, &Client),
    (primary, key): (u16, &str),
    signal: &str,
) -> Figures {
    let replica = cluster
        .ports
        .iter()
        .copied()
        .find(|&p| p != primary && role(p).is_some_and(|r| r.1 == Some(primary)))
        .expect("the primary has a replica");
    sync.execute(&c(&["SET", key, "before"])).unwrap();
    // The stream's first entry, and the list's absence, on the replica too before the
    // signal: the blocking reads begin from them.
    let (stream, list) = (format!("{{{key}}}:s"), format!("{{{key}}}:l"));
    sync.execute(&c(&["DEL", &list])).unwrap();
    let entry = match sync
        .execute(&c(&["XADD", &stream, "*", "f", "before"]))
        .unwrap()
    {
        Value::BulkString(id) => String::from_utf8(id).unwrap(),
        other => panic!("XADD: {other:?}"),
    };
    let _: i64 = redis::cmd("WAIT")
        .arg(1)
        .arg(2000)
        .query(&mut cluster.node(primary))
        .unwrap();
    let load = InFlight::start(client, key, &entry);
    std::thread::sleep(Duration::from_millis(300));

    // The replica's ROLE, polled on a connection of its own from before the kill.
    let mut watch = cluster.node(replica);
    let promoted: Arc<Mutex<Option<Instant>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let poller = {
        let (promoted, stop) = (promoted.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if role_on(&mut watch).is_some_and(|r| r.0 == "master") {
                    *promoted.lock().unwrap() = Some(Instant::now());
                    return;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };

    // redis-py's RedisCluster has no socket timeout by default: it would wait on a frozen
    // node for good.
    let mut redis_py = if signal == "KILL" {
        RedisPy::start(replica, key)
    } else {
        None
    };
    cluster.signal_node(primary, signal);
    let killed = Instant::now();
    if let Some(py) = &mut redis_py {
        py.killed();
    }
    let mut failures = 0;
    let written = loop {
        assert!(
            killed.elapsed() < Duration::from_secs(20),
            "no write within 20 s of the kill ({failures} failed)"
        );
        match sync.execute(&c(&["SET", key, "after"])) {
            Ok(_) => break Instant::now(),
            Err(_) => failures += 1,
        }
    };
    // The write may land before the poller's next look; wait for it (bounded).
    let deadline = Instant::now() + Duration::from_secs(10);
    while promoted.lock().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    stop.store(true, Ordering::Relaxed);
    poller.join().unwrap();
    let promoted = promoted.lock().unwrap().expect("the replica became master");
    // The client's own slot table (per-node stats, cache placement, topology events)
    // follows as fast as the writes: the replica a primary, the old primary not.
    let noticed = written.max(promoted) + SLACK;
    let addr = |port: u16| format!("127.0.0.1:{port}");
    let table_follows = || {
        let nodes = sync.stats().nodes;
        let is_primary = |port| nodes.iter().any(|n| n.addr == addr(port) && n.primary);
        is_primary(replica) && !is_primary(primary)
    };
    while !table_follows() && Instant::now() < noticed {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        table_follows(),
        "200 ms after the first write, the client's slot table still names {primary} the \
         primary, not {replica}: {:?}",
        sync.stats().nodes
    );
    // Data for the blocking reads, on the new primary.
    sync.execute(&c(&["XADD", &stream, "*", "f", "after"]))
        .unwrap();
    sync.execute(&c(&["LPUSH", &list, "x"])).unwrap();
    let pushed = Instant::now();
    std::thread::sleep(SLACK);
    let left = match sync.execute(&c(&["LLEN", &list])).unwrap() {
        Value::Int(n) => n,
        other => panic!("LLEN: {other:?}"),
    };
    load.check(killed, promoted, pushed, left);
    let (up, wrote) = (promoted - killed, written - killed);
    let slack = written.saturating_duration_since(promoted);
    eprintln!(
        "SIG{signal} {primary}: replica {replica} ROLE master after {up:?}; redbridge's first \
         write after {wrote:?} ({failures} failed), {slack:?} after the promotion"
    );
    if signal == "STOP" {
        cluster.signal_node(primary, "CONT");
    }
    let redis_py = match redis_py.map(RedisPy::result) {
        Some(line) => {
            eprintln!("kill {primary}: redis-py RedisCluster in the same failover: {line}");
            let figures: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
            figures["killed_to_write_ms"]
                .as_f64()
                .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        }
        None if signal == "KILL" => {
            eprintln!(
                "kill {primary}: redis-py not measured (no {})",
                python().display()
            );
            None
        }
        None => None,
    };
    assert_eq!(
        sync.execute(&c(&["GET", key])).unwrap(),
        Value::BulkString(b"after".to_vec())
    );
    Figures {
        wrote,
        slack,
        redis_py,
    }
}

/// One failover test at a time: each starts its own cluster and measures in
/// milliseconds, and two at once on a 2-core machine measure each other's load
/// (a first write 229 ms after the promotion was seen so).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Fails over each primary in turn after `signal`; checks the figures.
fn each_primary_fails_over(signal: &str) {
    let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let mut cluster = TestCluster::start_args(&["--cluster-node-timeout", "1000"]);
    let sync = SyncClient::new(cluster.builder().build().unwrap()).unwrap();
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(cluster.builder().build().unwrap()).unwrap()
    };
    let primaries = [
        cluster.owner_of(0),
        cluster.owner_of(8000),
        cluster.owner_of(16000),
    ];
    // Chosen while every node is up (the support's helpers ask the first node).
    let keys = primaries.map(|p| key_on(&cluster, p));
    let mut runs = Vec::new();
    for (primary, key) in primaries.into_iter().zip(&keys) {
        runs.push(failover(
            &mut cluster,
            (&sync, &client),
            (primary, key),
            signal,
        ));
    }
    for (i, f) in runs.iter().enumerate() {
        assert!(
            f.slack <= SLACK,
            "failover {i}: the first write came {:?} after the promotion ({:?} after the \
             kill); at most {SLACK:?}",
            f.slack,
            f.wrote
        );
        // No later than redis-py in the same failover; 100 ms for the two writers' luck
        // (each polls on its own step; ours is at most 100 ms).
        if let Some(py) = f.redis_py {
            assert!(
                f.wrote <= py + Duration::from_millis(100),
                "failover {i}: redbridge wrote {:?} after the kill, redis-py {py:?}",
                f.wrote
            );
        }
    }
}

#[test]
fn writes_resume_within_200ms_of_the_replicas_promotion() {
    each_primary_fails_over("KILL");
}

/// A frozen primary (SIGSTOP) gives no refused connection and no reset: redis-rs would
/// wait on it for good. The engine sees the failover (the cluster flags it `fail` and
/// its slots moved, and it does not answer a PING) and opens a new connection.
#[test]
fn writes_resume_within_200ms_when_a_frozen_primary_is_replaced() {
    each_primary_fails_over("STOP");
}
