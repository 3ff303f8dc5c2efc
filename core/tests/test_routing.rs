//! Routing: blocking commands on leased connections, state commands refused, pool bounds.
mod support;

use std::time::{Duration, Instant};

use redbridge::{Client, ErrorKind, Mode, Value};
use support::{c, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blpop_does_not_delay_concurrent_gets() {
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    client
        .execute(&c(&["SET", "routing:k", "v"]))
        .await
        .unwrap();
    client.execute(&c(&["DEL", "routing:q"])).await.unwrap();

    let blocker = client.clone();
    let started = Instant::now();
    let blpop = tokio::spawn(async move {
        let r = blocker.execute(&c(&["BLPOP", "routing:q", "2"])).await;
        (r, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(50)).await;

    let t0 = Instant::now();
    let gets = (0..1000).map(|_| {
        let cl = client.clone();
        async move { cl.execute(&c(&["GET", "routing:k"])).await }
    });
    let replies = futures::future::join_all(gets).await;
    let gets_took = t0.elapsed();
    for r in replies {
        assert_eq!(r.unwrap(), Value::BulkString(b"v".to_vec()));
    }
    assert!(
        gets_took < Duration::from_millis(1000),
        "1000 GETs took {gets_took:?} behind a BLPOP"
    );

    let (r, blocked_for) = blpop.await.unwrap();
    assert_eq!(
        r.unwrap(),
        Value::Nil,
        "BLPOP times out server-side with nil"
    );
    assert!(
        blocked_for >= Duration::from_millis(1900),
        "BLPOP returned after {blocked_for:?}"
    );
    let stats = client.stats();
    assert!(
        stats.pool.size >= 1,
        "BLPOP used a pooled connection: {stats:?}"
    );
}

#[tokio::test]
async fn state_commands_are_refused_with_the_option_to_use() {
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    for (args, hint) in [
        (&["SELECT", "1"][..], "db option"),
        (&["AUTH", "x"][..], "password"),
        (&["CLIENT", "TRACKING", "on"][..], "cache"),
        (&["MONITOR"][..], "MONITOR"),
        (&["QUIT"][..], "close()"),
        (&["SUBSCRIBE", "ch"][..], "pub/sub"),
        (&["MULTI"][..], "transaction=True"),
        (&["WATCH", "k"][..], "watch"),
    ] {
        let e = client.execute(&c(args)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{args:?}");
        assert!(e.message().contains(hint), "{args:?}: {e}");
    }
    // The shared connection is untouched: still db 0, still answering.
    assert_eq!(
        client.execute(&c(&["PING"])).await.unwrap(),
        Value::SimpleString("PONG".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exhausted_pool_gives_pool_timeout_within_pool_timeout() {
    let srv = TestServer::start();
    let cfg = srv
        .builder()
        .max_connections(2)
        .pool_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    let _a = client.lease().await.unwrap();
    let _b = client.lease().await.unwrap();
    assert_eq!(client.stats().pool.in_use, 2);
    let t0 = Instant::now();
    let e = client.lease().await.err().expect("third lease must fail");
    let waited = t0.elapsed();
    assert_eq!(e.kind(), ErrorKind::PoolTimeout, "{e}");
    assert!(e.message().contains("max_connections"), "{e}");
    assert!(
        waited >= Duration::from_millis(290) && waited < Duration::from_millis(500),
        "{waited:?}"
    );
    // A blocking command also needs a lease: same outcome, same bound.
    let t0 = Instant::now();
    let e = client
        .execute(&c(&["BLPOP", "routing:none", "1"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PoolTimeout);
    assert!(t0.elapsed() < Duration::from_millis(500));
    let stats = client.stats();
    assert_eq!(stats.pool_wait_timeouts, 2, "{stats:?}");
    assert!(stats.pool_waits >= 2);
    assert_eq!(stats.errors_of(ErrorKind::PoolTimeout), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pooled_mode_leases_every_command() {
    let srv = TestServer::start();
    let cfg = srv
        .builder()
        .mode(Mode::Pooled)
        .max_connections(4)
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    let tasks = (0..200).map(|i| {
        let cl = client.clone();
        async move {
            let k = format!("pooled:{i}");
            cl.execute(&c(&["SET", &k, &i.to_string()])).await.unwrap();
            cl.execute(&c(&["GET", &k])).await.unwrap()
        }
    });
    let out = futures::future::join_all(tasks).await;
    for (i, v) in out.into_iter().enumerate() {
        assert_eq!(v, Value::BulkString(i.to_string().into_bytes()));
    }
    let stats = client.stats();
    assert!(stats.pool.size >= 1 && stats.pool.size <= 4, "{stats:?}");
}

#[tokio::test]
async fn db_and_client_name_apply_to_every_connection() {
    let srv = TestServer::start();
    let cfg = srv
        .builder()
        .db(3)
        .client_name("routing-test")
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    client.execute(&c(&["SET", "dbkey", "in3"])).await.unwrap();
    let mut ctl = srv.control();
    let v: Option<String> = redis::cmd("GET").arg("dbkey").query(&mut ctl).unwrap();
    assert_eq!(v, None, "db 0 does not have it");
    let _: () = redis::cmd("SELECT").arg(3).query(&mut ctl).unwrap();
    let v: Option<String> = redis::cmd("GET").arg("dbkey").query(&mut ctl).unwrap();
    assert_eq!(v.as_deref(), Some("in3"));
    // Leased connection: same db and name.
    let mut lease = client.lease().await.unwrap();
    assert_eq!(
        lease.execute(&c(&["GET", "dbkey"])).await.unwrap(),
        Value::BulkString(b"in3".to_vec())
    );
    let name = lease.execute(&c(&["CLIENT", "GETNAME"])).await.unwrap();
    assert_eq!(name, Value::BulkString(b"routing-test".to_vec()));
    let name = client.execute(&c(&["CLIENT", "GETNAME"])).await.unwrap();
    assert_eq!(name, Value::BulkString(b"routing-test".to_vec()));
}
