//! The client-side cache on a Redis Cluster (a local 3+3 cluster from the harness,
//! stopped by PID): each primary's invalidations reach that node's part of the cache, a
//! node's part is emptied when its connection drops or its slots move away, and stats
//! come per node and in total. Never a stale read.
mod support;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redbridge::{CacheConfig, NodeStats, SyncClient};
use support::{c, int, wait_for, TestCluster};

fn node(stats: &[NodeStats], port: u16) -> &NodeStats {
    let addr = format!("127.0.0.1:{port}");
    stats
        .iter()
        .find(|n| n.addr == addr)
        .unwrap_or_else(|| panic!("no stats for {addr}: {stats:?}"))
}

#[test]
fn cluster_cache_writer_reader_drops_and_moves() {
    let cluster = TestCluster::start();
    let reader = SyncClient::connect(
        cluster
            .builder()
            .client_name("csc-reader")
            .cache(CacheConfig::default())
            .build()
            .unwrap(),
    )
    .unwrap();
    let writer = SyncClient::connect(cluster.builder().build().unwrap()).unwrap();

    // 30 keys spread over every primary.
    let keys: Vec<String> = (0..30).map(|i| format!("version:{i}")).collect();
    let owners: HashMap<&str, u16> = keys
        .iter()
        .map(|k| (k.as_str(), cluster.owner_of(cluster.slot_of(k))))
        .collect();
    assert_eq!(owners.values().collect::<HashSet<_>>().len(), 3);
    for k in &keys {
        writer.execute(&c(&["SET", k, "0"])).unwrap();
    }

    // Writer/reader: per key, the versions the reader sees never go down, and once the
    // writer is done the reader sees every last version within 100 ms.
    const ROUNDS: i64 = 300;
    let done = Arc::new(AtomicBool::new(false));
    let reading = {
        let (reader, keys, done) = (reader.clone(), keys.clone(), done.clone());
        std::thread::spawn(move || {
            let mut last = vec![0i64; keys.len()];
            let mut finished_at: Option<Instant> = None;
            loop {
                for (i, k) in keys.iter().enumerate() {
                    let v = int(reader.execute(&c(&["GET", k])).unwrap());
                    assert!(v >= last[i], "{k} went down: {} -> {v}", last[i]);
                    last[i] = v;
                }
                if done.load(Ordering::Acquire) {
                    let t = *finished_at.get_or_insert_with(Instant::now);
                    if last.iter().all(|&v| v == ROUNDS) {
                        return;
                    }
                    assert!(
                        t.elapsed() < Duration::from_millis(100),
                        "last versions not seen within 100 ms: {last:?}"
                    );
                }
            }
        })
    };
    for round in 1..=ROUNDS {
        for k in &keys {
            writer.execute(&c(&["SET", k, &round.to_string()])).unwrap();
        }
    }
    done.store(true, Ordering::Release);
    reading.join().unwrap();

    // Stats in total and per node: every primary's part of the cache was used and
    // invalidated by that primary.
    for k in &keys {
        reader.execute(&c(&["GET", k])).unwrap();
        assert_eq!(int(reader.execute(&c(&["GET", k])).unwrap()), ROUNDS);
    }
    let stats = reader.stats();
    let total = stats.cache.unwrap();
    assert!(total.hits > 0 && total.invalidations > 0, "{total:?}");
    assert_eq!(total.entries, 30, "{total:?}");
    let primaries: Vec<&NodeStats> = stats.nodes.iter().filter(|n| n.primary).collect();
    assert_eq!(primaries.len(), 3, "{:?}", stats.nodes);
    for n in &primaries {
        let cache = n.cache.unwrap();
        assert!(
            n.requests > 0 && cache.hits > 0 && cache.invalidations > 0 && cache.entries > 0,
            "{n:?}"
        );
    }
    let hits: u64 = stats.nodes.iter().map(|n| n.cache.unwrap().hits).sum();
    assert_eq!(hits, total.hits);

    // A node's tracked connection dropped (CLIENT KILL on that node): that node's part is
    // emptied, the others keep theirs, and its keys are read fresh.
    let victim = owners["version:0"];
    let mut ctl = cluster.node(victim);
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut ctl).unwrap();
    for line in list.lines().filter(|l| l.contains("name=csc-reader")) {
        let id = line.split(' ').next().unwrap().trim_start_matches("id=");
        let _: () = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query(&mut ctl)
            .unwrap();
    }
    wait_for("the killed node's part to empty", || {
        node(&reader.stats().nodes, victim).cache.unwrap().entries == 0
    });
    let others: u64 = reader
        .stats()
        .nodes
        .iter()
        .filter(|n| n.addr != format!("127.0.0.1:{victim}"))
        .map(|n| n.cache.unwrap().entries)
        .sum();
    assert!(others > 0, "the other nodes keep their entries");
    writer.execute(&c(&["SET", "version:0", "1000"])).unwrap();
    assert_eq!(
        int(reader.execute(&c(&["GET", "version:0"])).unwrap()),
        1000
    );
    wait_for("the node's part to serve again", || {
        reader.execute(&c(&["GET", "version:0"])).unwrap();
        node(&reader.stats().nodes, victim).cache.unwrap().entries > 0
    });

    // A slot moves away (resharded to another primary) while its key is cached: the
    // reader never serves the value from before the move, and caches the key again on
    // its new node.
    let key = "version:0";
    let slot = cluster.slot_of(key);
    let target = *owners.values().find(|&&p| p != victim).unwrap();
    assert_eq!(int(reader.execute(&c(&["GET", key])).unwrap()), 1000);
    cluster.migrate(&[slot], victim, target, true);
    writer.execute(&c(&["SET", key, "2000"])).unwrap();
    assert_eq!(int(reader.execute(&c(&["GET", key])).unwrap()), 2000);
    wait_for("the key served from its new node's part", || {
        let before = node(&reader.stats().nodes, target).cache.unwrap().hits;
        assert_eq!(int(reader.execute(&c(&["GET", key])).unwrap()), 2000);
        node(&reader.stats().nodes, target).cache.unwrap().hits > before
    });
    writer.execute(&c(&["SET", key, "3000"])).unwrap();
    wait_for("the new node's invalidation", || {
        int(reader.execute(&c(&["GET", key])).unwrap()) == 3000
    });
    println!("cluster cache stats: {:?}", reader.stats().nodes);
}
