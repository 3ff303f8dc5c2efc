//! The client-side cache against a real server: never a stale read.
mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redbridge::{CacheConfig, Client, Config, ErrorKind, Protocol, SyncClient, Value};
use support::{c, int, wait_for, TestServer};

/// These tests measure timing and load the machine: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

// Held for the whole test on purpose, also across awaits: it only orders tests.
#[allow(clippy::await_holding_lock)]
fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

fn cached(srv: &TestServer, name: &str) -> SyncClient {
    let cfg = srv
        .builder()
        .client_name(name)
        .cache(CacheConfig::default())
        .build()
        .unwrap();
    SyncClient::connect(cfg).unwrap()
}

#[test]
fn asking_for_the_cache_with_resp2_is_an_error() {
    let _serial = serial();
    let e = Config::builder()
        .protocol(Protocol::Resp2)
        .cache(CacheConfig::default())
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    assert!(e.message().contains("RESP3"), "{e}");
    assert!(Config::from_url("redis://h/?protocol=2&cache=true").is_err());
}

#[test]
fn hits_are_served_locally_and_invalidated_by_other_writers() {
    let _serial = serial();
    let srv = TestServer::start_owned(&[]);
    let reader = cached(&srv, "csc-reader");
    let writer = SyncClient::connect(srv.config()).unwrap();
    writer.execute(&c(&["SET", "k", "1"])).unwrap();
    assert_eq!(int(reader.execute(&c(&["GET", "k"])).unwrap()), 1);
    assert_eq!(int(reader.execute(&c(&["GET", "k"])).unwrap()), 1);
    let s = reader.stats().cache.unwrap();
    assert_eq!((s.hits, s.misses, s.entries), (1, 1, 1), "{s:?}");
    writer.execute(&c(&["SET", "k", "2"])).unwrap();
    wait_for("the invalidation", || {
        reader.stats().cache.unwrap().entries == 0
    });
    assert_eq!(int(reader.execute(&c(&["GET", "k"])).unwrap()), 2);
    // Every cacheable command returns what it returns uncached.
    let plain = SyncClient::connect(srv.config()).unwrap();
    writer
        .execute(&c(&["HSET", "h", "a", "1", "b", "2"]))
        .unwrap();
    writer.execute(&c(&["RPUSH", "l", "x", "y"])).unwrap();
    writer.execute(&c(&["ZADD", "z", "1.5", "m"])).unwrap();
    for args in [
        &["HGETALL", "h"][..],
        &["HGET", "h", "a"],
        &["HMGET", "h", "a", "nope"],
        &["LRANGE", "l", "0", "-1"],
        &["ZSCORE", "z", "m"],
        &["ZRANGE", "z", "0", "-1", "WITHSCORES"],
        &["EXISTS", "h"],
        &["TYPE", "l"],
        &["STRLEN", "k"],
    ] {
        let want = plain.execute(&c(args)).unwrap();
        assert_eq!(reader.execute(&c(args)).unwrap(), want, "{args:?} (miss)");
        assert_eq!(reader.execute(&c(args)).unwrap(), want, "{args:?} (hit)");
    }
    reader.cache_clear();
    assert_eq!(reader.stats().cache.unwrap().entries, 0);
}

#[test]
fn writer_reader_versions_never_go_down_and_settle_within_100ms() {
    let _serial = serial();
    let srv = TestServer::start_owned(&[]);
    let reader = cached(&srv, "csc-wr");
    let writer = SyncClient::connect(srv.config()).unwrap();
    writer.execute(&c(&["SET", "version", "0"])).unwrap();
    let acks = Arc::new(Mutex::new(vec![Instant::now(); 10_001]));
    let done = Arc::new(AtomicBool::new(false));
    let reading = {
        let (acks, done) = (acks.clone(), done.clone());
        std::thread::spawn(move || {
            let mut last = 0i64;
            let mut seen_at: Vec<(i64, Instant)> = Vec::new();
            let mut finished_at: Option<Instant> = None;
            loop {
                let v = int(reader.execute(&c(&["GET", "version"])).unwrap());
                assert!(v >= last, "version went down: {last} -> {v}");
                if v > last {
                    seen_at.push((v, Instant::now()));
                    last = v;
                }
                if done.load(Ordering::Acquire) {
                    let t = *finished_at.get_or_insert_with(Instant::now);
                    if last == 10_000 {
                        break;
                    }
                    assert!(
                        t.elapsed() < Duration::from_millis(100),
                        "last version not seen within 100 ms (at {last})"
                    );
                }
            }
            let acks = acks.lock().unwrap();
            let mut lags: Vec<Duration> = seen_at
                .iter()
                .map(|(v, t)| t.saturating_duration_since(acks[*v as usize]))
                .collect();
            lags.sort();
            (
                lags[lags.len() / 2],
                lags[lags.len() * 99 / 100],
                reader.stats().cache.unwrap(),
            )
        })
    };
    for i in 1..=10_000 {
        writer
            .execute(&c(&["SET", "version", &i.to_string()]))
            .unwrap();
        acks.lock().unwrap()[i] = Instant::now();
    }
    done.store(true, Ordering::Release);
    let (p50, p99, stats) = reading.join().unwrap();
    println!("staleness window (write ack -> reader sees it): p50 {p50:?}, p99 {p99:?}; {stats:?}");
    assert!(stats.hits > 0 && stats.invalidations > 0, "{stats:?}");
}

#[test]
fn read_your_writes_ten_thousand_times() {
    let _serial = serial();
    let srv = TestServer::start_owned(&[]);
    let client = cached(&srv, "csc-ryw");
    for i in 0..10_000 {
        client.execute(&c(&["SET", "ryw", &i.to_string()])).unwrap();
        assert_eq!(int(client.execute(&c(&["GET", "ryw"])).unwrap()), i);
        assert_eq!(int(client.execute(&c(&["GET", "ryw"])).unwrap()), i);
    }
    // Without writes the key stays cached: the reads are hits.
    let before = client.stats().cache.unwrap().hits;
    for _ in 0..100 {
        assert_eq!(int(client.execute(&c(&["GET", "ryw"])).unwrap()), 9_999);
    }
    let s = client.stats().cache.unwrap();
    assert!(s.hits - before >= 99, "{s:?}");
}

#[test]
fn the_first_read_of_a_new_client_is_stored() {
    // The cache serves from the moment a request can find the connection ready: a read
    // sent right after connecting is stored, so the next one is a hit (the C suite under
    // valgrind once saw two misses: the cache was told of the connection after it was
    // published).
    let _serial = serial();
    let srv = TestServer::start_owned(&[]);
    let writer = SyncClient::connect(srv.config()).unwrap();
    writer.execute(&c(&["SET", "first", "1"])).unwrap();
    for i in 0..50 {
        let client = cached(&srv, "csc-first");
        client.execute(&c(&["SET", "first", "1"])).unwrap();
        assert_eq!(int(client.execute(&c(&["GET", "first"])).unwrap()), 1);
        assert_eq!(int(client.execute(&c(&["GET", "first"])).unwrap()), 1);
        let s = client.stats().cache.unwrap();
        assert_eq!((s.misses, s.hits), (1, 1), "client {i}: {s:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::await_holding_lock)]
async fn in_flight_race_leaves_every_entry_equal_to_the_server() {
    let _serial = serial();
    let srv = TestServer::start_owned(&[]);
    let cfg = srv.builder().cache(CacheConfig::default()).build().unwrap();
    let cached = Client::connect(cfg).await.unwrap();
    let plain = Client::connect(srv.config()).await.unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for r in 0..8 {
        let (client, stop) = (cached.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = r;
            while !stop.load(Ordering::Relaxed) {
                client
                    .execute(&c(&["GET", &format!("race:{}", i % 50)]))
                    .await
                    .unwrap();
                i += 7;
            }
        }));
    }
    for w in 0..2 {
        let (client, stop) = (plain.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                client
                    .execute(&c(&[
                        "SET",
                        &format!("race:{}", (i * 3 + w) % 50),
                        &format!("{w}-{i}"),
                    ]))
                    .await
                    .unwrap();
                i += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = cached.stats().cache.unwrap();
    for k in 0..50 {
        let key = format!("race:{k}");
        let truth = plain.execute(&c(&["GET", &key])).await.unwrap();
        assert_eq!(
            cached.execute(&c(&["GET", &key])).await.unwrap(),
            truth,
            "{key}"
        );
    }
    let after = cached.stats().cache.unwrap();
    println!("race: {before:?}");
    assert!(
        after.hits > before.hits,
        "the final reads were served from the cache"
    );
}

#[test]
fn a_killed_connection_a_restart_and_flushall_leave_nothing_stale() {
    let _serial = serial();
    let mut srv = TestServer::start_owned(&[]);
    let reader = cached(&srv, "csc-faults");
    let writer_cfg = srv.config();
    let writer = SyncClient::connect(writer_cfg.clone()).unwrap();
    let generation = || reader.async_client().connection_generation();

    // CLIENT KILL of the tracked connection, then a write it cannot hear about.
    writer.execute(&c(&["SET", "f", "1"])).unwrap();
    assert_eq!(int(reader.execute(&c(&["GET", "f"])).unwrap()), 1);
    let mut ctl = srv.control();
    let _: i64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("SKIPME")
        .arg("yes")
        .arg("USER")
        .arg("default")
        .query(&mut ctl)
        .unwrap();
    writer.execute(&c(&["SET", "f", "2"])).unwrap();
    wait_for("the reconnect", || generation() == Some(2));
    assert_eq!(int(reader.execute(&c(&["GET", "f"])).unwrap()), 2);

    // FLUSHALL elsewhere: a null invalidation.
    assert_eq!(int(reader.execute(&c(&["GET", "f"])).unwrap()), 2);
    let _: () = redis::cmd("FLUSHALL").query(&mut ctl).unwrap();
    wait_for("the null invalidation", || {
        reader.stats().cache.unwrap().entries == 0
    });
    assert_eq!(reader.execute(&c(&["GET", "f"])).unwrap(), Value::Nil);

    // A server restart: the data is gone, and so is the cache.
    let mut w2 = srv.control();
    let _: () = redis::cmd("SET").arg("f").arg("3").query(&mut w2).unwrap();
    // The cached nil goes when the invalidation arrives (the staleness window).
    wait_for("the invalidation of f", || {
        reader.stats().cache.unwrap().entries == 0
    });
    assert_eq!(int(reader.execute(&c(&["GET", "f"])).unwrap()), 3);
    let before = generation().unwrap();
    srv.restart();
    wait_for("the reconnect after restart", || {
        generation().is_some_and(|g| g > before)
    });
    assert_eq!(reader.execute(&c(&["GET", "f"])).unwrap(), Value::Nil);
}

#[test]
fn keys_evicted_from_the_tracking_table_arrive_as_invalidations() {
    let _serial = serial();
    let srv = TestServer::start_owned(&[]);
    let mut ctl = srv.control();
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("tracking-table-max-keys")
        .arg(10)
        .query(&mut ctl)
        .unwrap();
    let reader = cached(&srv, "csc-table");
    let writer = SyncClient::connect(srv.config()).unwrap();
    for i in 0..1000 {
        writer
            .execute(&c(&["SET", &format!("t:{i}"), "old"]))
            .unwrap();
    }
    for i in 0..1000 {
        reader.execute(&c(&["GET", &format!("t:{i}")])).unwrap();
    }
    wait_for("tracking-table evictions", || {
        reader.stats().cache.unwrap().entries <= 10
    });
    for i in 0..1000 {
        writer
            .execute(&c(&["SET", &format!("t:{i}"), "new"]))
            .unwrap();
    }
    wait_for("invalidations", || {
        reader.stats().cache.unwrap().entries == 0
    });
    for i in 0..1000 {
        assert_eq!(
            reader.execute(&c(&["GET", &format!("t:{i}")])).unwrap(),
            Value::BulkString(b"new".to_vec()),
            "t:{i}"
        );
    }
}

#[test]
fn memory_bounds_hold_over_100k_keys() {
    let _serial = serial();
    let srv = TestServer::start_owned(&[]);
    let cfg = srv
        .builder()
        .cache(CacheConfig {
            max_entries: 1000,
            max_bytes: 1 << 20,
            ..Default::default()
        })
        .build()
        .unwrap();
    let reader = SyncClient::connect(cfg).unwrap();
    let writer = SyncClient::connect(srv.config()).unwrap();
    let mut pipe = redbridge::Pipeline::new(false);
    for i in 0..100_000 {
        let size = if i % 20 == 0 { 8000 } else { 50 };
        pipe.add(c(&["SET", &format!("m:{i}"), &"v".repeat(size)]));
    }
    writer.pipeline(&pipe).unwrap();
    for i in 0..100_000 {
        reader.execute(&c(&["GET", &format!("m:{i}")])).unwrap();
        if i % 1000 == 999 {
            let s = reader.stats().cache.unwrap();
            assert!(s.entries <= 1000 && s.bytes <= 1 << 20, "{s:?}");
        }
    }
    let s = reader.stats().cache.unwrap();
    println!("100k keys: {s:?}");
    assert!(s.evictions > 90_000, "{s:?}");
}
