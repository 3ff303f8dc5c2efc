//! Reply normal forms against a real server: every shaped command gives the same value
//! under RESP2 and RESP3, on every engine (async, sync direct, pipelines, cache hits),
//! and a raw command keeps the server's own shape.

mod support;

use redbridge::{CacheConfig, Client, Command, Pipeline, Protocol, SyncClient, Value};
use support::TestServer;

fn cmd(args: &[&str]) -> Command {
    Command::new(args).unwrap()
}

fn b(s: &str) -> Value {
    Value::BulkString(s.as_bytes().to_vec())
}

fn scored(m: &str, s: f64) -> Value {
    Value::Array(vec![b(m), Value::Double(s)])
}

/// The commands with a shaped reply and the normal form each must give, after `setup`.
fn cases(p: &str) -> Vec<(Vec<String>, Value)> {
    let k = |s: &str| format!("{p}:{s}");
    let v = |args: &[&str]| args.iter().map(|a| a.replace("{p}", p)).collect::<Vec<_>>();
    vec![
        (
            v(&["HGETALL", "{p}:h"]),
            Value::Map(vec![(b("f"), b("1")), (b("g"), b("2"))]),
        ),
        (
            v(&["ZRANGE", "{p}:z", "0", "-1", "WITHSCORES"]),
            Value::Array(vec![
                scored("a", 1.0),
                scored("b", 2.5),
                scored("c", f64::INFINITY),
            ]),
        ),
        (
            v(&["ZRANGE", "{p}:z", "0", "0"]),
            Value::Array(vec![b("a")]),
        ),
        (
            v(&["ZREVRANGEBYSCORE", "{p}:z", "+inf", "2", "WITHSCORES"]),
            Value::Array(vec![scored("c", f64::INFINITY), scored("b", 2.5)]),
        ),
        (
            v(&["ZUNION", "1", "{p}:z", "WITHSCORES"]),
            Value::Array(vec![
                scored("a", 1.0),
                scored("b", 2.5),
                scored("c", f64::INFINITY),
            ]),
        ),
        (
            v(&["HSCAN", "{p}:h", "0", "COUNT", "100"]),
            Value::Array(vec![
                b("0"),
                Value::Array(vec![
                    Value::Array(vec![b("f"), b("1")]),
                    Value::Array(vec![b("g"), b("2")]),
                ]),
            ]),
        ),
        (
            v(&["ZSCAN", "{p}:z", "0", "COUNT", "100"]),
            Value::Array(vec![
                b("0"),
                Value::Array(vec![
                    scored("a", 1.0),
                    scored("b", 2.5),
                    scored("c", f64::INFINITY),
                ]),
            ]),
        ),
        (
            v(&["ZPOPMIN", "{p}:pop"]),
            Value::Array(vec![scored("x", -1.0)]),
        ),
        (
            v(&["ZPOPMAX", "{p}:pop", "5"]),
            Value::Array(vec![scored("z", 3.0), scored("y", 2.0)]),
        ),
        (v(&["ZPOPMIN", "{p}:pop"]), Value::Array(vec![])),
        (
            v(&["BZPOPMIN", "{p}:bz", "1"]),
            Value::Array(vec![b(&k("bz")), b("m"), Value::Double(7.0)]),
        ),
    ]
}

fn setup(srv: &TestServer, p: &str) {
    let mut c = srv.control();
    let del: Vec<String> = ["h", "z", "pop", "bz"]
        .iter()
        .map(|s| format!("{p}:{s}"))
        .collect();
    redis::cmd("DEL").arg(&del).exec(&mut c).unwrap();
    redis::cmd("HSET")
        .arg(format!("{p}:h"))
        .arg(&["f", "1", "g", "2"])
        .exec(&mut c)
        .unwrap();
    redis::cmd("ZADD")
        .arg(format!("{p}:z"))
        .arg(&["1", "a", "2.5", "b", "+inf", "c"])
        .exec(&mut c)
        .unwrap();
    redis::cmd("ZADD")
        .arg(format!("{p}:pop"))
        .arg(&["-1", "x", "2", "y", "3", "z"])
        .exec(&mut c)
        .unwrap();
    redis::cmd("ZADD")
        .arg(format!("{p}:bz"))
        .arg(&["7", "m"])
        .exec(&mut c)
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shaped_replies_are_the_same_in_resp2_and_resp3() {
    let srv = TestServer::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let p = format!("nf{protocol:?}");
        setup(&srv, &p);
        let client = Client::connect(srv.builder().protocol(protocol).build().unwrap())
            .await
            .unwrap();
        for (args, want) in cases(&p) {
            let got = client
                .execute(&Command::new(&args).unwrap().normalized())
                .await;
            assert_eq!(got.unwrap(), want, "{protocol:?} {args:?}");
        }
        // The same in one pipeline (and a transaction): each slot in its own form.
        setup(&srv, &p);
        for transaction in [false, true] {
            if transaction {
                setup(&srv, &p);
            }
            let mut pipe = Pipeline::new(transaction);
            let cases = cases(&p);
            for (args, _) in &cases {
                if args[0] != "BZPOPMIN" {
                    pipe.add(Command::new(args).unwrap().normalized());
                }
            }
            let slots = client.pipeline(&pipe).await.unwrap();
            let wants = cases.iter().filter(|(a, _)| a[0] != "BZPOPMIN");
            for (slot, (args, want)) in slots.into_iter().zip(wants) {
                assert_eq!(&slot.unwrap(), want, "{protocol:?} pipeline {args:?}");
            }
        }
        client.close();
    }
}

#[test]
fn the_sync_engine_and_raw_commands() {
    let srv = TestServer::start();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let p = format!("nfs{protocol:?}");
        setup(&srv, &p);
        let client =
            SyncClient::connect(srv.builder().protocol(protocol).build().unwrap()).unwrap();
        for (args, want) in cases(&p) {
            let got = client.execute(&Command::new(&args).unwrap().normalized());
            assert_eq!(got.unwrap(), want, "{protocol:?} {args:?}");
        }
        // Raw: the server's own shape (RESP2 has no maps, no doubles).
        let raw = client
            .execute(&cmd(&["HGETALL", &format!("{p}:h")]))
            .unwrap();
        let raw_scores = client
            .execute(&cmd(&["ZRANGE", &format!("{p}:z"), "0", "0", "WITHSCORES"]))
            .unwrap();
        match protocol {
            Protocol::Resp2 => {
                assert_eq!(raw, Value::Array(vec![b("f"), b("1"), b("g"), b("2")]));
                assert_eq!(raw_scores, Value::Array(vec![b("a"), b("1")]));
            }
            Protocol::Resp3 => {
                assert_eq!(raw, Value::Map(vec![(b("f"), b("1")), (b("g"), b("2"))]));
                assert_eq!(raw_scores, Value::Array(vec![scored("a", 1.0)]));
            }
        }
        client.close();
    }
}

#[test]
fn a_cache_hit_is_in_normal_form_too() {
    let srv = TestServer::start();
    let p = "nfc";
    setup(&srv, p);
    let cfg = srv.builder().cache(CacheConfig::default()).build().unwrap();
    let client = SyncClient::connect(cfg).unwrap();
    let hgetall = || Command::new(["HGETALL", "nfc:h"]).unwrap();
    let want = Value::Map(vec![(b("f"), b("1")), (b("g"), b("2"))]);
    // The first reads may go out before tracking is up: read until one is a hit.
    let hits = || client.stats().cache.unwrap().hits;
    let mut served_from_cache = false;
    for _ in 0..100 {
        let before = hits();
        assert_eq!(client.execute(&hgetall().normalized()).unwrap(), want);
        if hits() > before {
            served_from_cache = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(served_from_cache, "a repeated read became a cache hit");
    let before = hits();
    assert_eq!(
        client.async_client().cached(&hgetall().normalized()),
        Some(want)
    );
    assert_eq!(hits(), before + 1, "served by the cache");
    // Raw, the same entry comes back as the server sent it (RESP3: a map as well).
    assert!(matches!(client.execute(&hgetall()).unwrap(), Value::Map(_)));
    client.close();
}

/// The normalized replies of `calls`, in order, under RESP2 (`[0]`) and RESP3 (`[1]`).
async fn in_both_protocols(srv: &TestServer, calls: &[&[&str]]) -> Vec<Vec<Value>> {
    let mut seen = Vec::new();
    for protocol in [Protocol::Resp2, Protocol::Resp3] {
        let client = Client::connect(srv.builder().protocol(protocol).build().unwrap())
            .await
            .unwrap();
        let mut replies = Vec::new();
        for args in calls {
            replies.push(client.execute(&cmd(args).normalized()).await.unwrap());
        }
        client.close();
        seen.push(replies);
    }
    seen
}

/// Streams: XREAD's stream → entries, XINFO's field/value replies — one form in both
/// protocols (maps), on the async client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_replies_are_maps_in_both_protocols() {
    let srv = TestServer::start();
    let mut c = srv.control();
    redis::cmd("DEL").arg("nfx:s").exec(&mut c).unwrap();
    redis::cmd("XADD")
        .arg(&["nfx:s", "1-1", "f", "v"])
        .exec(&mut c)
        .unwrap();
    redis::cmd("XGROUP")
        .arg(&["CREATE", "nfx:s", "g", "0"])
        .exec(&mut c)
        .unwrap();
    redis::cmd("XGROUP")
        .arg(&["CREATECONSUMER", "nfx:s", "g", "c"])
        .exec(&mut c)
        .unwrap();
    let calls: [&[&str]; 4] = [
        &["XREAD", "STREAMS", "nfx:s", "0"],
        &["XINFO", "STREAM", "nfx:s"],
        &["XINFO", "GROUPS", "nfx:s"],
        &["XINFO", "CONSUMERS", "nfx:s", "g"],
    ];
    let seen = in_both_protocols(&srv, &calls).await;
    let entries = Value::Array(vec![Value::Array(vec![
        b("1-1"),
        Value::Array(vec![b("f"), b("v")]),
    ])]);
    assert_eq!(seen[0][0], Value::Map(vec![(b("nfx:s"), entries)]));
    assert!(
        matches!(&seen[0][1], Value::Map(m) if m.iter().any(|(k, _)| k == &b("last-generated-id")))
    );
    for (i, v) in seen[0].iter().enumerate().skip(2) {
        assert!(
            matches!(v, Value::Array(items) if items.len() == 1 && matches!(items[0], Value::Map(_))),
            "{:?}: {v:?}",
            calls[i]
        );
    }
    // XINFO CONSUMERS has an idle time that moves between the two reads.
    let strip_idle = |v: &Value| match v {
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|m| match m {
                    Value::Map(kv) => Value::Map(
                        kv.iter()
                            .filter(|(k, _)| k != &b("idle") && k != &b("inactive"))
                            .cloned()
                            .collect(),
                    ),
                    other => other.clone(),
                })
                .collect(),
        ),
        other => other.clone(),
    };
    for i in 0..calls.len() {
        assert_eq!(
            strip_idle(&seen[0][i]),
            strip_idle(&seen[1][i]),
            "{:?}: RESP2 and RESP3 differ",
            calls[i]
        );
    }
}

/// A RESP3 set as an array (both protocols' normal forms keep the set/array the server
/// sent; the nesting of maps is what must agree).
fn sets_as_arrays(v: &Value) -> Value {
    match v {
        Value::Set(items) | Value::Array(items) => {
            Value::Array(items.iter().map(sets_as_arrays).collect())
        }
        Value::Map(kv) => Value::Map(
            kv.iter()
                .map(|(k, v)| (k.clone(), sets_as_arrays(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Nested replies (FUNCTION LIST/STATS, COMMAND INFO/DOCS, MEMORY STATS, LATENCY
/// HISTOGRAM, MODULE LIST, HRANDFIELD WITHVALUES): maps wherever RESP3 sends them, in
/// both protocols.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_replies_are_maps_in_both_protocols() {
    let srv = TestServer::start();
    let mut c = srv.control();
    redis::cmd("FUNCTION")
        .arg(&[
            "LOAD",
            "REPLACE",
            "#!lua name=nflib\nredis.register_function{function_name='nff', callback=function() return 1 end, flags={'no-writes'}}",
        ])
        .exec(&mut c)
        .unwrap();
    redis::cmd("HSET")
        .arg(&["nfh", "f", "v"])
        .exec(&mut c)
        .unwrap();
    redis::cmd("SET").arg(&["nfk", "v"]).exec(&mut c).unwrap();
    let calls: [&[&str]; 8] = [
        &["FUNCTION", "LIST", "WITHCODE"],
        &["FUNCTION", "STATS"],
        &["COMMAND", "INFO", "get", "eval", "nosuchcommand"],
        &["COMMAND", "DOCS", "set", "xadd"],
        &["MODULE", "LIST"],
        &["HRANDFIELD", "nfh", "1", "WITHVALUES"],
        &["MEMORY", "STATS"],
        &["LATENCY", "HISTOGRAM", "set"],
    ];
    let seen = in_both_protocols(&srv, &calls).await;
    // The first six are equal; MEMORY STATS and LATENCY HISTOGRAM move between reads.
    for i in 0..6 {
        assert_eq!(
            sets_as_arrays(&seen[0][i]),
            sets_as_arrays(&seen[1][i]),
            "{:?}: RESP2 and RESP3 differ",
            calls[i]
        );
    }
    let Value::Array(libs) = &seen[0][0] else {
        panic!("FUNCTION LIST: {:?}", seen[0][0])
    };
    assert!(
        matches!(&libs[0], Value::Map(kv) if kv.iter().any(|(k, v)| k == &b("functions")
            && matches!(v, Value::Array(f) if matches!(f[0], Value::Map(_))))),
        "{libs:?}"
    );
    assert_eq!(
        seen[0][5],
        Value::Array(vec![Value::Array(vec![b("f"), b("v")])])
    );
    for replies in seen.iter().take(2) {
        let Value::Map(stats) = &replies[6] else {
            panic!("MEMORY STATS: {:?}", replies[6])
        };
        assert!(
            stats
                .iter()
                .any(|(k, v)| k == &b("db.0") && matches!(v, Value::Map(_))),
            "{stats:?}"
        );
        let Value::Map(hist) = &replies[7] else {
            panic!("LATENCY HISTOGRAM: {:?}", replies[7])
        };
        assert!(
            matches!(&hist[0].1, Value::Map(kv) if kv.iter().any(|(k, v)| k == &b("histogram_usec") && matches!(v, Value::Map(_)))),
            "{hist:?}"
        );
    }
}
