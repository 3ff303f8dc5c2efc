//! Lua scripts by SHA1 (`Client::eval_script`, `SyncClient::eval_script`): EVALSHA, and
//! EVAL with the body on NOSCRIPT, through the request path (one request counted), on a
//! fresh server, on the sync engine's direct connection, with the cache on, and on a
//! cluster (EVAL reaches the node of the keys).
mod support;

use redbridge::{CacheConfig, Client, ErrorKind, Script, SyncClient, Value};
use support::{c, commandstats as calls, TestCluster, TestServer};

/// No keys, or no arguments.
const NONE: &[&str] = &[];

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    redbridge::runtime::runtime().block_on(f)
}

fn bulk(s: &[u8]) -> Value {
    Value::BulkString(s.to_vec())
}

fn script_exists(conn: &mut redis::Connection, script: &Script) -> bool {
    let found: Vec<i64> = redis::cmd("SCRIPT")
        .arg("EXISTS")
        .arg(script.sha())
        .query(conn)
        .unwrap();
    found == [1]
}

#[test]
fn async_client_falls_back_once_then_runs_by_sha() {
    let srv = TestServer::start_owned(&[]);
    let mut ctl = srv.control();
    support::forget_scripts(&mut ctl);
    let script =
        Script::new("redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])");
    let client = run(Client::connect(srv.config())).unwrap();
    let before = client.stats();

    // A fresh server: EVALSHA meets NOSCRIPT, EVAL runs it and caches it there.
    assert!(!script_exists(&mut ctl, &script));
    let v = run(client.eval_script(&script, &["sc:a"], &["one"])).unwrap();
    assert_eq!(v, bulk(b"one"));
    assert!(script_exists(&mut ctl, &script));
    assert_eq!(calls(&mut ctl, "evalsha"), (1, 1));
    assert_eq!(calls(&mut ctl, "eval"), (1, 0));

    // From now on EVALSHA alone.
    let v = run(client.eval_script(&script, &["sc:a"], &["two"])).unwrap();
    assert_eq!(v, bulk(b"two"));
    assert_eq!(calls(&mut ctl, "evalsha"), (2, 1));
    assert_eq!(calls(&mut ctl, "eval"), (1, 0));

    // One request per call; the NOSCRIPT the fallback cured is no error.
    let after = client.stats();
    assert_eq!(after.requests - before.requests, 2, "{after:?}");
    assert_eq!(after.errors_of(ErrorKind::Response), 0, "{after:?}");

    // The read-only family falls back the same way (EVALSHA_RO, then EVAL_RO).
    redis::cmd("SCRIPT").arg("FLUSH").exec(&mut ctl).unwrap();
    let read = Script::new("return redis.call('GET', KEYS[1])").read_only(true);
    for _ in 0..2 {
        let v = run(client.eval_script(&read, &["sc:a"], NONE)).unwrap();
        assert_eq!(v, bulk(b"two"));
    }
    assert_eq!(calls(&mut ctl, "evalsha_ro"), (2, 1));
    assert_eq!(calls(&mut ctl, "eval_ro"), (1, 0));
}

#[test]
fn script_errors_are_the_servers() {
    let srv = TestServer::start();
    let client = SyncClient::connect(srv.config()).unwrap();

    let raise = Script::new("return redis.error_reply('MYERR no luck')");
    for _ in 0..2 {
        // Also after the fallback (first call) and by SHA (second).
        let e = client.eval_script(&raise, NONE, NONE).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Response);
        assert_eq!(e.code(), Some("MYERR"));
        assert!(e.message().contains("no luck"), "{e}");
    }
    let unknown = Script::new("return redis.call('NOSUCHCOMMAND')");
    let e = client.eval_script(&unknown, NONE, NONE).unwrap_err();
    assert_eq!((e.kind(), e.code()), (ErrorKind::Response, Some("ERR")));
    let writes = Script::new("return redis.call('SET', KEYS[1], 'x')").read_only(true);
    assert!(writes.is_read_only());
    let e = client.eval_script(&writes, &["sc:ro"], NONE).unwrap_err();
    assert_eq!(e.code(), Some("ERR"));
    assert!(e.message().contains("read-only"), "{e}");
    let e = client
        .eval_script(&Script::new("this is not lua"), NONE, NONE)
        .unwrap_err();
    assert_eq!(e.code(), Some("ERR"));
    assert!(
        client.stats().errors_of(ErrorKind::Response) >= 5,
        "{:?}",
        client.stats()
    );
}

#[test]
fn sync_engine_runs_scripts_on_its_direct_connection() {
    let srv = TestServer::start();
    let mut ctl = srv.control();
    redis::cmd("SCRIPT").arg("FLUSH").exec(&mut ctl).unwrap();
    let client = SyncClient::connect(srv.config()).unwrap();
    let echo = Script::new("return {KEYS[1], ARGV[1], ARGV[2], #ARGV}");
    let key: &[u8] = b"sc:\x00bin";
    let args: [&[u8]; 2] = [b"a\x00b\r\n", &[0xff, 0x00, 0xfe]];
    let before = client.stats();
    for _ in 0..3 {
        let v = client.eval_script(&echo, &[key], &args).unwrap();
        assert_eq!(
            v,
            Value::Array(vec![bulk(key), bulk(args[0]), bulk(args[1]), Value::Int(2)])
        );
    }
    let after = client.stats();
    assert_eq!(after.requests - before.requests, 3);
    // 4 sends: EVALSHA + EVAL, then EVALSHA twice, all by the calling thread itself.
    assert_eq!(
        after.direct_requests - before.direct_requests,
        4,
        "{after:?}"
    );
}

#[test]
fn a_script_write_drops_cached_keys() {
    let srv = TestServer::start();
    let cfg = srv.builder().cache(CacheConfig::default()).build().unwrap();
    let client = SyncClient::connect(cfg).unwrap();
    client.execute(&c(&["SET", "sc:cached", "old"])).unwrap();
    for _ in 0..2 {
        assert_eq!(
            client.execute(&c(&["GET", "sc:cached"])).unwrap(),
            bulk(b"old")
        );
    }
    assert!(client.stats().cache.unwrap().hits >= 1);
    let set = Script::new("return redis.call('SET', KEYS[1], ARGV[1])");
    assert_eq!(
        client.eval_script(&set, &["sc:cached"], &["new"]).unwrap(),
        Value::Okay
    );
    // Read-your-writes: the script named the key, so the next read goes to the server.
    assert_eq!(
        client.execute(&c(&["GET", "sc:cached"])).unwrap(),
        bulk(b"new")
    );
}

#[test]
fn on_a_cluster_eval_reaches_the_node_of_the_keys() {
    let cluster = TestCluster::start();
    for &port in &cluster.ports {
        let _ = redis::cmd("SCRIPT")
            .arg("FLUSH")
            .exec(&mut cluster.node(port));
    }
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(cluster.builder().build().unwrap()).unwrap()
    };
    let incr = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    // Keys in slots of different primaries.
    let keys = ["sc:{a}", "sc:{b}", "sc:{c}", "sc:{d}"];
    run(async {
        client
            .wait_connected(std::time::Duration::from_secs(5))
            .await
            .unwrap();
        for key in keys {
            for n in 1..=2 {
                let v = client.eval_script(&incr, &[key], &["5"]).await.unwrap();
                assert_eq!(v, Value::Int(5 * n));
            }
        }
    });
    let owners: std::collections::HashSet<u16> = keys
        .iter()
        .map(|k| cluster.owner_of(cluster.slot_of(k)))
        .collect();
    assert!(
        owners.len() >= 2,
        "the keys should span primaries: {owners:?}"
    );
    for &port in &cluster.ports {
        let mut node = cluster.node(port);
        let role: Vec<Value> = redis::cmd("ROLE").query(&mut node).unwrap();
        if role.first() != Some(&Value::BulkString(b"master".to_vec())) {
            continue;
        }
        // The script was cached (by EVAL) exactly on the primaries that own the keys.
        assert_eq!(
            script_exists(&mut node, &incr),
            owners.contains(&port),
            "node {port}"
        );
    }
    // Read-only scripts by SHA on the nodes that have it.
    let read = Script::new("return redis.call('GET', KEYS[1])").read_only(true);
    let v = run(client.eval_script(&read, &["sc:{a}"], NONE)).unwrap();
    assert_eq!(v, bulk(b"10"));
}
