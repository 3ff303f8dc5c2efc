//! Redis Cluster: a local 3+3 cluster from the harness (stopped by PID). The same client
//! API as standalone: slot routing and redirects (redis-rs), cross-slot pipelines and
//! multi-key commands, transactions in one slot, cluster-wide SCAN, blocking commands on
//! their own connection, failover.
mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use redbridge::{Client, ErrorKind, Pipeline, ScanKind, ScanOptions, SyncClient, Value};
use support::{c, TestCluster};

fn client(cluster: &TestCluster) -> Client {
    let _rt = redbridge::runtime::runtime().enter();
    Client::new(cluster.builder().build().unwrap()).unwrap()
}

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    redbridge::runtime::runtime().block_on(f)
}

fn bulk(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

#[test]
fn one_cluster_many_checks() {
    let mut cluster = TestCluster::start();
    let client = client(&cluster);
    run(async {
        client.wait_connected(Duration::from_secs(5)).await.unwrap();

        // 10k keys written and read back, 200 requests in flight at a time.
        for chunk in (0..10_000).collect::<Vec<_>>().chunks(200) {
            let sets = chunk.iter().map(|i| {
                let (k, v) = (format!("k:{i}"), format!("v{i}"));
                let client = client.clone();
                async move { client.execute(&c(&["SET", &k, &v])).await }
            });
            for r in futures::future::join_all(sets).await {
                r.unwrap();
            }
        }
        for i in (0..10_000).step_by(97) {
            let v = client
                .execute(&c(&["GET", &format!("k:{i}")]))
                .await
                .unwrap();
            assert_eq!(v, bulk(&format!("v{i}")));
        }

        // A cross-slot pipeline of 1000 commands: every reply, in order.
        let mut pipe = Pipeline::new(false);
        for i in 0..1000 {
            pipe.add(c(&["GET", &format!("k:{i}")]));
        }
        let slots = client.pipeline(&pipe).await.unwrap();
        assert_eq!(slots.len(), 1000);
        for (i, s) in slots.iter().enumerate() {
            assert_eq!(s.as_ref().unwrap(), &bulk(&format!("v{i}")));
        }

        // A mixed pipeline: reads of one key go together, the rest each on its own (a
        // multi-slot MGET split, a keyless DBSIZE summed over the primaries by redis-rs).
        let mut mixed = Pipeline::new(false);
        for _ in 0..50 {
            mixed.add(c(&["GET", "k:1"]));
        }
        mixed
            .add(c(&["MGET", "k:1", "k:2", "k:3"]))
            .add(c(&["DBSIZE"]))
            .add(c(&["EXISTS", "k:1", "k:2"]))
            .add(c(&["HGET", "k:1", "f"]))
            .add(c(&["GET", "k:2"]));
        let slots = client.pipeline(&mixed).await.unwrap();
        assert!(slots[..50]
            .iter()
            .all(|s| s.as_ref().unwrap() == &bulk("v1")));
        assert_eq!(
            slots[50].as_ref().unwrap(),
            &Value::Array(vec![bulk("v1"), bulk("v2"), bulk("v3")])
        );
        assert!(
            matches!(slots[51], Ok(Value::Int(n)) if n >= 10_000),
            "{:?}",
            slots[51]
        );
        assert_eq!(slots[52].as_ref().unwrap(), &Value::Int(2));
        assert_eq!(slots[53].as_ref().unwrap_err().code(), Some("WRONGTYPE"));
        assert_eq!(slots[54].as_ref().unwrap(), &bulk("v2"));

        // Multi-key commands across slots, as one call each.
        let keys: Vec<String> = (0..50).map(|i| format!("k:{i}")).collect();
        let mut mget = vec!["MGET".to_string()];
        mget.extend(keys.iter().cloned());
        let got = client
            .execute(&redbridge::Command::new(mget.iter().map(String::as_bytes)).unwrap())
            .await
            .unwrap();
        let expect: Vec<Value> = (0..50).map(|i| bulk(&format!("v{i}"))).collect();
        assert_eq!(got, Value::Array(expect));
        let mut exists = vec!["EXISTS".to_string()];
        exists.extend(keys.iter().cloned());
        let n = client
            .execute(&redbridge::Command::new(exists.iter().map(String::as_bytes)).unwrap())
            .await
            .unwrap();
        assert_eq!(n, Value::Int(50));

        // Transactions keep to one slot; a cross-slot one names the hash-tag fix.
        let mut tx = Pipeline::new(true);
        tx.add(c(&["INCR", "{user1}:visits"]))
            .add(c(&["INCR", "{user1}:visits"]));
        let slots = client.pipeline(&tx).await.unwrap();
        assert_eq!(slots[1].as_ref().unwrap(), &Value::Int(2));
        let mut bad = Pipeline::new(true);
        bad.add(c(&["SET", "a", "1"])).add(c(&["SET", "b", "2"]));
        let e = client.pipeline(&bad).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Cluster, "{e}");
        assert!(e.to_string().contains("{user1}"), "{e}");

        // A blocking pop waits on its own connection: the shared one keeps serving.
        let blocker = {
            let client = client.clone();
            tokio::spawn(async move { client.execute(&c(&["BLPOP", "k:list", "1"])).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;
        let t = Instant::now();
        for i in 0..100 {
            client
                .execute(&c(&["GET", &format!("k:{i}")]))
                .await
                .unwrap();
        }
        assert!(
            t.elapsed() < Duration::from_millis(800),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(blocker.await.unwrap().unwrap(), Value::Nil);
    });

    // The guard treats KEYS on a cluster as on every node: a warning naming SCAN, and the
    // keys of every primary (redis-rs asks them all); deny mode refuses it unsent.
    let (seen, sink) = support::warning_collector();
    let warned = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(cluster.builder().on_warning(sink).build().unwrap()).unwrap()
    };
    let Value::Array(all_keys) = run(warned.execute(&c(&["KEYS", "k:1*"]))).unwrap() else {
        panic!("KEYS gives an array")
    };
    assert_eq!(all_keys.len(), 1111, "k:1, k:10-19, k:100-199, k:1000-1999");
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .any(|w| w.message.contains("SCAN")));
    let denied = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(
            cluster
                .builder()
                .guard(redbridge::GuardMode::Deny)
                .build()
                .unwrap(),
        )
        .unwrap()
    };
    let e = run(denied.execute(&c(&["KEYS", "*"]))).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied, "{e}");

    // Cluster-wide SCAN: each of the 10k keys exactly once, async and sync.
    let opts = ScanOptions {
        pattern: Some(b"k:*".to_vec()),
        count: Some(500),
        key_type: None,
    };
    let all = run(client
        .scan(ScanKind::Keys, opts.clone())
        .unwrap()
        .collect_all())
    .unwrap();
    let seen: HashSet<Vec<u8>> = all
        .iter()
        .map(|v| match v {
            Value::BulkString(b) => b.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(all.len(), 10_000, "no duplicates");
    assert_eq!(seen.len(), 10_000);
    let sync = SyncClient::new(cluster.builder().build().unwrap()).unwrap();
    let mut n = 0;
    for page in sync.scan(ScanKind::Keys, opts).unwrap() {
        n += page.unwrap().len();
    }
    assert_eq!(n, 10_000);
    // TYPE across the cluster: only the 50 hashes among the 10k strings, each once.
    for i in 0..50 {
        sync.execute(&c(&["HSET", &format!("k:h:{i}"), "f", "v"]))
            .unwrap();
    }
    let hashes = ScanOptions {
        pattern: Some(b"k:*".to_vec()),
        count: None,
        key_type: Some("hash".to_string()),
    };
    let mut found = HashSet::new();
    for page in sync.scan(ScanKind::Keys, hashes).unwrap() {
        for k in page.unwrap() {
            let Value::BulkString(k) = k else {
                panic!("{k:?}")
            };
            assert!(k.starts_with(b"k:h:"), "{}", String::from_utf8_lossy(&k));
            assert!(found.insert(k), "each hash once");
        }
    }
    assert_eq!(found.len(), 50);
    assert_eq!(
        sync.execute(&c(&["GET", "k:42"])).unwrap(),
        bulk("v42"),
        "the sync client routes too"
    );

    // Failover: stop the primary that serves "k:0"; its replica takes over and the
    // client keeps serving, with every acknowledged write still there.
    let owner = cluster.owner_of(cluster.slot_of("k:0"));
    cluster.kill_node(owner);
    let stopped = Instant::now();
    let mut acked = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut failures = 0;
    let mut i = 0;
    while Instant::now() < deadline && acked.len() < 300 {
        let (k, v) = (format!("k:{}", i % 1000), format!("after{i}"));
        match sync.execute(&c(&["SET", &k, &v])) {
            Ok(_) => acked.push((k, v)),
            Err(_) => failures += 1,
        }
        i += 1;
    }
    assert!(
        acked.len() >= 300,
        "the cluster came back ({failures} failures)"
    );
    eprintln!(
        "failover: {failures} failed writes, {} acknowledged in {:?} after the primary stopped",
        acked.len(),
        stopped.elapsed()
    );
    let mut last = std::collections::HashMap::new();
    for (k, v) in &acked {
        last.insert(k.clone(), v.clone());
    }
    for (k, v) in last {
        assert_eq!(sync.execute(&c(&["GET", &k])).unwrap(), bulk(&v), "{k}");
    }
}

#[test]
fn scan_yields_each_key_once_while_slots_migrate() {
    let cluster = TestCluster::start();
    let sync = SyncClient::new(cluster.builder().build().unwrap()).unwrap();
    let mut pipe = Pipeline::new(false);
    for i in 0..10_000 {
        pipe.add(c(&["SET", &format!("m:{i}"), "x"]));
    }
    // 200 more keys in one slot (a hash tag) ahead of the walk's first page: that slot is
    // left half-migrated below.
    let tag = ["mig", "tag2", "tag3", "tag4", "tag5"]
        .into_iter()
        .find(|t| (1000..15000).contains(&cluster.slot_of(t)))
        .unwrap();
    let tag_slot = cluster.slot_of(tag);
    for i in 0..200 {
        pipe.add(c(&["SET", &format!("m:{{{tag}}}:{i}"), "x"]));
    }
    sync.pipeline(&pipe).unwrap();
    // The primaries' first slots, as redis-cli --cluster create assigns them.
    let owner_of = |slot: i64| cluster.owner_of(slot);
    let (first, second, third) = (owner_of(0), owner_of(8000), owner_of(16000));
    let opts = ScanOptions {
        pattern: Some(b"m:*".to_vec()),
        count: None,
        key_type: None,
    };
    let mut scan = sync.scan(ScanKind::Keys, opts).unwrap();
    let mut seen: Vec<Vec<u8>> = Vec::new();
    let mut take = |page: Vec<Value>| {
        for v in page {
            let Value::BulkString(b) = v else {
                panic!("{v:?}")
            };
            seen.push(b);
        }
    };
    take(scan.next().unwrap().unwrap()); // the walk has started
                                         // Mid-walk: slots ahead of it move to another primary, a slot behind it moves too,
                                         // one slot is left half-migrated, and slots move onto a node whose own range is done.
    cluster.migrate(&(3000..3040).collect::<Vec<_>>(), first, second, true);
    cluster.migrate(&[5], first, third, true);
    let tag_owner = owner_of(tag_slot);
    let elsewhere = if tag_owner == second { third } else { second };
    cluster.migrate(&[tag_slot], tag_owner, elsewhere, false);
    cluster.migrate(&(15000..15020).collect::<Vec<_>>(), third, first, true);
    for page in scan {
        take(page.unwrap());
    }
    let distinct: HashSet<&Vec<u8>> = seen.iter().collect();
    assert_eq!(distinct.len(), 10_200, "every key");
    assert_eq!(seen.len(), 10_200, "no key twice");
    // The client keeps serving the moved keys (MOVED and ASK followed by redis-rs).
    for i in 0..200 {
        let k = format!("m:{{{tag}}}:{i}");
        assert_eq!(sync.execute(&c(&["GET", &k])).unwrap(), bulk("x"), "{k}");
    }
}

/// A cluster that speaks TLS only (nodes, bus, replication): the same client with the CA.
#[test]
fn tls_cluster() {
    let cluster = TestCluster::start_tls();
    assert!(cluster.url.starts_with("rediss://"));
    let ca = cluster.ca.clone().unwrap();
    let sync = SyncClient::new(cluster.builder().tls_ca_file(&ca).build().unwrap()).unwrap();
    let mut pipe = Pipeline::new(false);
    for i in 0..1000 {
        pipe.add(c(&["SET", &format!("t:{i}"), &i.to_string()]));
    }
    assert!(sync.pipeline(&pipe).unwrap().iter().all(|s| s.is_ok()));
    assert_eq!(sync.execute(&c(&["GET", "t:777"])).unwrap(), bulk("777"));
    let n: usize = sync
        .scan(ScanKind::Keys, ScanOptions::default())
        .unwrap()
        .map(|p| p.unwrap().len())
        .sum();
    assert_eq!(n, 1000);
    // Without the CA: a connection error that says why.
    let untrusted = SyncClient::new(
        cluster
            .builder()
            .connect_timeout(Duration::from_secs(1))
            .build()
            .unwrap(),
    )
    .unwrap();
    let e = untrusted.execute(&c(&["GET", "t:1"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.to_string().contains("not signed by a CA"), "{e}");
}
