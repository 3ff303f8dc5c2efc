//! Redis Cluster: big cross-slot pipelines while slots migrate (as `redis-cli --cluster
//! reshard` moves them). Each pipeline either answers or fails with an error, and the
//! same client keeps answering afterwards: redis-rs's cluster task could stall for good
//! when a MOVED met a pipeline of many commands (see `Shared` in the cluster engine).
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redbridge::{Client, Pipeline};
use support::{c, TestCluster};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    redbridge::runtime::runtime().block_on(f)
}

/// Up to 100 slots of `names` that the node on `from` serves now, sorted.
fn slots_on(cluster: &TestCluster, names: &[String], from: u16) -> Vec<i64> {
    let mut slots: Vec<i64> = names
        .iter()
        .map(|n| cluster.slot_of(n))
        .filter(|s| cluster.owner_of(*s) == from)
        .collect();
    slots.sort();
    slots.dedup();
    slots.truncate(100);
    slots
}

/// Sends `make()` in a loop while `cluster.migrate(slots, from, to)` runs, and two rounds
/// after it finished. Every round must end (answer or error) well within 10 s.
fn pipelines_during_migration(
    cluster: &TestCluster,
    client: &Client,
    what: &str,
    make: impl Fn() -> Pipeline + Send + 'static,
    slots: &[i64],
    (from, to): (u16, u16),
) {
    let done = Arc::new(AtomicBool::new(false));
    let flow = {
        let (client, done) = (client.clone(), done.clone());
        let what = what.to_string();
        redbridge::runtime::runtime().spawn(async move {
            let mut after = 0;
            for round in 0..100 {
                if done.load(Ordering::SeqCst) {
                    after += 1;
                    if after > 2 {
                        break;
                    }
                }
                let pipe = make();
                let t = Instant::now();
                let r = tokio::time::timeout(Duration::from_secs(10), client.pipeline(&pipe)).await;
                let took = t.elapsed();
                let Ok(r) = r else {
                    panic!("{what}: round {round} hung for 10 s");
                };
                match &r {
                    Ok(slots) => {
                        let failed = slots.iter().filter(|s| s.is_err()).count();
                        eprintln!("{what}: round {round}: {failed} failed commands, {took:?}");
                    }
                    Err(e) => eprintln!("{what}: round {round}: error {e:?}, {took:?}"),
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(30));
    cluster.migrate(slots, from, to, true);
    done.store(true, Ordering::SeqCst);
    run(flow).unwrap();
}

/// The client answers a command and a 1000-command pipeline within 1 s each.
fn answers_within_a_second(client: &Client, pipe: &Pipeline) {
    run(async {
        for cmd in [c(&["GET", "foo"]), c(&["SPUBLISH", "sh:1", "x"])] {
            let t = Instant::now();
            let r = tokio::time::timeout(Duration::from_secs(1), client.execute(&cmd)).await;
            assert!(
                matches!(r, Ok(Ok(_))),
                "{cmd:?} after the migration: {r:?} in {:?}",
                t.elapsed()
            );
        }
        let t = Instant::now();
        let r = tokio::time::timeout(Duration::from_secs(1), client.pipeline(pipe)).await;
        let Ok(Ok(slots)) = r else {
            panic!("pipeline after the migration: {r:?} in {:?}", t.elapsed());
        };
        assert_eq!(slots.len(), pipe.len());
        assert!(slots.iter().all(|s| s.is_ok()), "{slots:?}");
    });
}

#[test]
fn big_pipelines_while_slots_migrate_never_wedge_the_client() {
    let cluster = TestCluster::start();
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(cluster.builder().build().unwrap()).unwrap()
    };
    run(client.wait_connected(Duration::from_secs(5))).unwrap();
    let ports = (cluster.ports[0], cluster.ports[1], cluster.ports[2]);

    // SPUBLISH to 1000 shard channels while 100 of their slots move.
    let chans: Vec<String> = (0..1000).map(|i| format!("sh:{i}")).collect();
    let spublish = {
        let chans = chans.clone();
        move || {
            let mut pipe = Pipeline::new(false);
            for ch in &chans {
                pipe.add(c(&["SPUBLISH", ch, "x"]));
            }
            pipe
        }
    };
    let slots = slots_on(&cluster, &chans, ports.0);
    assert!(!slots.is_empty());
    pipelines_during_migration(
        &cluster,
        &client,
        "SPUBLISH",
        spublish.clone(),
        &slots,
        (ports.0, ports.1),
    );
    answers_within_a_second(&client, &spublish());

    // SET on 1000 keys (written before) while 100 of their slots, keys and all, move.
    let keys: Vec<String> = (0..1000).map(|i| format!("mk:{i}")).collect();
    let sets = {
        let keys = keys.clone();
        move || {
            let mut pipe = Pipeline::new(false);
            for k in &keys {
                pipe.add(c(&["SET", k, "v"]));
            }
            pipe
        }
    };
    run(client.pipeline(&sets())).unwrap();
    let slots = slots_on(&cluster, &keys, ports.1);
    assert!(!slots.is_empty());
    pipelines_during_migration(
        &cluster,
        &client,
        "SET",
        sets.clone(),
        &slots,
        (ports.1, ports.2),
    );
    answers_within_a_second(&client, &sets());
    for k in keys.iter().step_by(37) {
        let v = run(client.execute(&c(&["GET", k]))).unwrap();
        assert_eq!(v, redbridge::Value::BulkString(b"v".to_vec()), "{k}");
    }
}
