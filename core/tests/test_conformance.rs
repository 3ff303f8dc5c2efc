//! The shared conformance vectors (tests/conformance/vectors.json), raw replies, RESP2 and RESP3.
mod support;

use redbridge::{CacheConfig, Client, Command, Protocol, Value};
use serde_json::Value as J;
use support::TestServer;

fn vectors() -> J {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/conformance/vectors.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn argv(args: &J) -> Command {
    let parts: Vec<Vec<u8>> = args
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match a {
            J::String(s) => s.as_bytes().to_vec(),
            J::Object(o) => hex(o["hex"].as_str().unwrap()),
            other => panic!("bad argument {other}"),
        })
        .collect();
    Command::new(parts).unwrap()
}

/// Does `got` match the expected form?
fn matches(want: &J, got: &Value) -> bool {
    let (form, arg) = want.as_object().unwrap().iter().next().unwrap();
    let list = |a: &J| a.as_array().unwrap().clone();
    let unordered = |want: Vec<J>, got: &[Value]| {
        want.len() == got.len() && want.iter().all(|w| got.iter().any(|g| matches(w, g)))
    };
    match (form.as_str(), got) {
        ("nil", Value::Nil) => true,
        ("int", Value::Int(i)) => arg.as_i64() == Some(*i),
        ("bulk", Value::BulkString(b)) => arg.as_str().unwrap().as_bytes() == b.as_slice(),
        ("bulk_hex", Value::BulkString(b)) => hex(arg.as_str().unwrap()) == *b,
        ("status", Value::Okay) => arg == "OK",
        ("status", Value::SimpleString(s)) => arg.as_str() == Some(s.as_str()),
        ("double", Value::Double(d)) => arg.as_f64() == Some(*d),
        ("bool", Value::Boolean(b)) => arg.as_bool() == Some(*b),
        ("error", Value::ServerError(e)) => arg.as_str() == Some(e.code()),
        ("array", Value::Array(items)) => {
            let w = list(arg);
            w.len() == items.len() && w.iter().zip(items).all(|(w, g)| matches(w, g))
        }
        ("array_unordered", Value::Array(items)) | ("set", Value::Set(items)) => {
            unordered(list(arg), items)
        }
        ("map", Value::Map(pairs)) => {
            let w = list(arg);
            w.len() == pairs.len()
                && w.iter().all(|kv| {
                    pairs
                        .iter()
                        .any(|(k, v)| matches(&kv[0], k) && matches(&kv[1], v))
                })
        }
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vectors_map_the_same_under_resp2_and_resp3() {
    let srv = TestServer::start();
    let cases = vectors()["cases"].as_array().unwrap().clone();
    assert!(cases.len() >= 30);
    // RESP2, RESP3, and RESP3 with the client-side cache on (read commands then run
    // twice, so cacheable ones are answered once by the server and once by the cache).
    for (protocol, cache) in [
        (Protocol::Resp2, false),
        (Protocol::Resp3, false),
        (Protocol::Resp3, true),
    ] {
        let mut builder = srv.builder().protocol(protocol);
        if cache {
            builder = builder.cache(CacheConfig::default());
        }
        let client = Client::connect(builder.build().unwrap()).await.unwrap();
        for case in &cases {
            let name = case["name"].as_str().unwrap();
            for s in case
                .get("setup")
                .and_then(J::as_array)
                .cloned()
                .unwrap_or_default()
            {
                client.execute(&argv(&s)).await.unwrap();
            }
            let got = client.execute(&argv(&case["command"])).await;
            let read_only = [
                "GET",
                "HGET",
                "HGETALL",
                "HMGET",
                "LRANGE",
                "SMEMBERS",
                "SISMEMBER",
                "SMISMEMBER",
                "ZSCORE",
                "ZRANGE",
                "ZRANK",
                "TYPE",
                "TTL",
                "EXISTS",
                "MGET",
                "ECHO",
                "PING",
            ];
            let cmd_name = case["command"][0].as_str().unwrap_or("");
            if cache && read_only.contains(&cmd_name) {
                let again = client.execute(&argv(&case["command"])).await;
                assert_eq!(
                    format!("{again:?}"),
                    format!("{got:?}"),
                    "{name}: cached reply differs"
                );
            }
            let expect = &case["expect"];
            let want = match protocol {
                Protocol::Resp2 => expect.get("resp2").unwrap_or(expect),
                Protocol::Resp3 => expect.get("resp3").unwrap_or(expect),
            };
            let ok = match (want.get("error"), &got) {
                (Some(code), Err(e)) => e.code() == code.as_str(),
                (None, Ok(v)) => matches(want, v),
                _ => false,
            };
            assert!(
                ok,
                "{protocol:?} cache={cache} {name}: expected {want}, got {got:?}"
            );
        }
        if cache {
            assert!(
                client.stats().cache.unwrap().hits > 0,
                "the cache served some of the vectors"
            );
        }
    }
}
