//! The guard: KEYS warns (warn) or is refused before sending (deny); big replies warn.
mod support;

use redbridge::{Client, ErrorKind, GuardMode, Pipeline, Value};
use support::{c, warning_collector, TestServer};

fn keys_calls(srv: &TestServer) -> u64 {
    let mut ctl = srv.control();
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query(&mut ctl)
        .unwrap();
    info.lines()
        .find(|l| l.starts_with("cmdstat_keys:"))
        .and_then(|l| l.split(['=', ',']).nth(1))
        .map(|n| n.parse().unwrap())
        .unwrap_or(0)
}

#[tokio::test]
async fn keys_warns_in_warn_mode_and_is_refused_unsent_in_deny_mode() {
    let srv = TestServer::start_owned(&[]);
    let (seen, sink) = warning_collector();
    let client = Client::connect(srv.builder().on_warning(sink).build().unwrap())
        .await
        .unwrap();
    client.execute(&c(&["SET", "g:a", "1"])).await.unwrap();
    let v = client.execute(&c(&["KEYS", "g:*"])).await.unwrap();
    assert_eq!(v, Value::Array(vec![Value::BulkString(b"g:a".to_vec())]));
    {
        let w = seen.lock().unwrap();
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].command, "KEYS");
        assert_eq!(w[0].alternative, "SCAN");
        assert!(w[0].message.contains("SCAN"), "{}", w[0].message);
    }
    assert_eq!(keys_calls(&srv), 1);

    let (denied_seen, sink) = warning_collector();
    let deny = Client::connect(
        srv.builder()
            .guard(GuardMode::Deny)
            .on_warning(sink)
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let e = deny.execute(&c(&["keys", "*"])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Denied);
    assert!(
        e.message().contains("SCAN") && e.message().contains("deny"),
        "{e}"
    );
    assert_eq!(keys_calls(&srv), 1, "refused before it was sent");
    assert!(denied_seen.lock().unwrap().is_empty());
    // Inside a pipeline too.
    let mut pipe = Pipeline::new(false);
    pipe.add(c(&["GET", "g:a"])).add(c(&["KEYS", "*"]));
    assert_eq!(
        deny.pipeline(&pipe).await.unwrap_err().kind(),
        ErrorKind::Denied
    );
    assert_eq!(keys_calls(&srv), 1);
    // FLUSHDB ASYNC is fine even in deny mode; FLUSHDB is not.
    assert_eq!(
        deny.execute(&c(&["FLUSHDB"])).await.unwrap_err().kind(),
        ErrorKind::Denied
    );
    deny.execute(&c(&["FLUSHDB", "ASYNC"])).await.unwrap();

    let off = Client::connect(srv.builder().guard(GuardMode::Off).build().unwrap())
        .await
        .unwrap();
    off.execute(&c(&["KEYS", "*"])).await.unwrap();
}

#[tokio::test]
async fn whole_collection_replies_over_the_threshold_warn() {
    let srv = TestServer::start_owned(&[]);
    let (seen, sink) = warning_collector();
    let cfg = srv
        .builder()
        .guard_threshold(100)
        .on_warning(sink)
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    let small: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let mut args = vec!["SADD", "g:small"];
    args.extend(small.iter().map(String::as_str));
    client.execute(&c(&args)).await.unwrap();
    client.execute(&c(&["SMEMBERS", "g:small"])).await.unwrap();
    assert!(
        seen.lock().unwrap().is_empty(),
        "100 elements is not over a threshold of 100"
    );
    client
        .execute(&c(&["SADD", "g:small", "one-more"]))
        .await
        .unwrap();
    client.execute(&c(&["SMEMBERS", "g:small"])).await.unwrap();
    let w = seen.lock().unwrap().clone();
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].command, "SMEMBERS");
    assert!(
        w[0].message.contains("101") && w[0].message.contains("SSCAN"),
        "{}",
        w[0].message
    );
}
