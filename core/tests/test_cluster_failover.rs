//! Redis Cluster failover at the server's pace (issue #18): a primary is SIGKILLed while a
//! writer keeps writing to its slots; the outage is measured against the moment its
//! replica reports `ROLE master` (polled every 2 ms). Writes must flow again within
//! 200 ms of that promotion. Three primaries in turn, on one 3+3 cluster with
//! `cluster-node-timeout 1000`.
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redbridge::{SyncClient, Value};
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

/// One failover: (promoted after kill, first write after kill, write minus promotion).
fn failover(
    cluster: &mut TestCluster,
    sync: &SyncClient,
    (primary, key): (u16, &str),
) -> (Duration, Duration) {
    let replica = cluster
        .ports
        .iter()
        .copied()
        .find(|&p| p != primary && role(p).is_some_and(|r| r.1 == Some(primary)))
        .expect("the primary has a replica");
    sync.execute(&c(&["SET", key, "before"])).unwrap();

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

    cluster.kill_node(primary);
    let killed = Instant::now();
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
    let (up, wrote) = (promoted - killed, written - killed);
    let slack = written.saturating_duration_since(promoted);
    eprintln!(
        "kill {primary}: replica {replica} ROLE master after {up:?}, first write after \
         {wrote:?} ({failures} failed), {slack:?} after the promotion"
    );
    assert_eq!(
        sync.execute(&c(&["GET", key])).unwrap(),
        Value::BulkString(b"after".to_vec())
    );
    (wrote, slack)
}

#[test]
fn writes_resume_within_200ms_of_the_replicas_promotion() {
    let mut cluster = TestCluster::start_args(&["--cluster-node-timeout", "1000"]);
    let sync = SyncClient::new(cluster.builder().build().unwrap()).unwrap();
    let primaries = [
        cluster.owner_of(0),
        cluster.owner_of(8000),
        cluster.owner_of(16000),
    ];
    // Chosen while every node is up (the support's helpers ask the first node).
    let keys = primaries.map(|p| key_on(&cluster, p));
    let mut slacks = Vec::new();
    for (primary, key) in primaries.into_iter().zip(&keys) {
        slacks.push(failover(&mut cluster, &sync, (primary, key)));
    }
    for (i, (wrote, slack)) in slacks.iter().enumerate() {
        assert!(
            *slack <= SLACK,
            "failover {i}: the first write came {slack:?} after the promotion ({wrote:?} after \
             the kill); at most {SLACK:?}"
        );
    }
}
