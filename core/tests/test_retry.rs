//! Retries and reconnects: only safe commands are repeated; a restarted server is rejoined.
mod support;

use std::time::{Duration, Instant};

use redbridge::{Client, ErrorKind, Protocol, SyncClient, Value};
use support::{c, kill_clients, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incr_in_flight_is_not_retried_after_its_connection_is_killed() {
    let srv = TestServer::start_owned(&[]);
    let cfg = srv.builder().client_name("retry-incr").build().unwrap();
    let client = Client::connect(cfg).await.unwrap();
    let mut ctl = srv.control();
    // Hold writes server-side so the INCR is in flight when its connection dies.
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(2000)
        .arg("WRITE")
        .query(&mut ctl)
        .unwrap();
    let cl = client.clone();
    let incr = tokio::spawn(async move { cl.execute(&c(&["INCR", "retry:counter"])).await });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let killed = kill_clients(&mut srv.control(), "retry-incr");
    assert!(killed >= 1);
    let _: () = redis::cmd("CLIENT").arg("UNPAUSE").query(&mut ctl).unwrap();
    let e = incr.await.unwrap().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(
        e.message().contains("not retried"),
        "the error says why: {e}"
    );
    let v: Option<i64> = redis::cmd("GET")
        .arg("retry:counter")
        .query(&mut ctl)
        .unwrap();
    assert_eq!(v, None, "INCR was not sent a second time");
    assert_eq!(client.stats().retries, 0);
    // The client reconnects by itself.
    assert_eq!(
        client
            .execute(&c(&["INCR", "retry:counter"]))
            .await
            .unwrap(),
        Value::Int(1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_is_retried_after_its_connection_is_killed() {
    let srv = TestServer::start_owned(&[]);
    // RESP2: no push channel, so the client learns of the kill only from the GET itself.
    let cfg = srv
        .builder()
        .protocol(Protocol::Resp2)
        .client_name("retry-get")
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    client.execute(&c(&["SET", "retry:k", "v"])).await.unwrap();
    assert_eq!(kill_clients(&mut srv.control(), "retry-get"), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let v = client.execute(&c(&["GET", "retry:k"])).await.unwrap();
    assert_eq!(v, Value::BulkString(b"v".to_vec()));
    let stats = client.stats();
    assert!(stats.retries >= 1, "{stats:?}");
    assert!(stats.reconnects >= 1, "{stats:?}");

    // INCR after the same kind of kill: refused, not repeated, counter untouched.
    assert_eq!(kill_clients(&mut srv.control(), "retry-get"), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let e = client.execute(&c(&["INCR", "retry:n"])).await.unwrap_err();
    assert!(e.message().contains("not retried"), "{e}");
    // …unless the caller opts in for this call.
    client.execute(&c(&["PING"])).await.unwrap();
    assert_eq!(kill_clients(&mut srv.control(), "retry-get"), 1);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let v = client
        .execute(&c(&["INCR", "retry:n"]).with_retry(true))
        .await
        .unwrap();
    assert_eq!(
        v,
        Value::Int(1),
        "the failed INCR never reached the server; the opted-in one did"
    );
}

#[test]
fn sync_direct_get_is_retried_after_kill() {
    let srv = TestServer::start_owned(&[]);
    let cfg = srv
        .builder()
        .protocol(Protocol::Resp2)
        .client_name("retry-sync")
        .build()
        .unwrap();
    let client = SyncClient::connect(cfg).unwrap();
    client.execute(&c(&["SET", "retry:s", "v"])).unwrap();
    assert!(kill_clients(&mut srv.control(), "retry-sync") >= 1);
    let v = client.execute(&c(&["GET", "retry:s"])).unwrap();
    assert_eq!(v, Value::BulkString(b"v".to_vec()));
    assert!(client.stats().retries >= 1);
    // Reopen the direct connection, kill it, then a non-idempotent command on it.
    client.execute(&c(&["PING"])).unwrap();
    assert!(kill_clients(&mut srv.control(), "retry-sync") >= 1);
    let e = client.execute(&c(&["INCR", "retry:sn"])).unwrap_err();
    assert!(e.message().contains("not retried"), "{e}");
    let mut ctl = srv.control();
    let v: Option<i64> = redis::cmd("GET").arg("retry:sn").query(&mut ctl).unwrap();
    assert_eq!(v, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_restart_mid_run_is_recovered_on_its_own() {
    let mut srv = TestServer::start_owned(&[]);
    let cfg = srv
        .builder()
        .response_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    let cl = client.clone();
    let worker = tokio::spawn(async move {
        let (mut ok, mut failed) = (0u32, 0u32);
        let deadline = Instant::now() + Duration::from_secs(4);
        while Instant::now() < deadline {
            match cl.execute(&c(&["SET", "restart:k", "v"])).await {
                Ok(_) => ok += 1,
                Err(_) => failed += 1,
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        (ok, failed)
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    tokio::task::block_in_place(|| srv.restart());
    let (ok, failed) = worker.await.unwrap();
    println!("restart: {ok} ok, {failed} failed");
    // After the restart, the same client works without any call from the user.
    let v = client.execute(&c(&["GET", "restart:k"])).await.unwrap();
    assert_eq!(v, Value::BulkString(b"v".to_vec()));
    let stats = client.stats();
    assert!(stats.reconnects >= 1, "{stats:?}");
    assert!(ok > 100, "{ok}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_wait_for_a_reconnect_up_to_their_timeout_then_fail() {
    let mut srv = TestServer::start_owned(&[]);
    let cfg = srv
        .builder()
        .response_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    tokio::task::block_in_place(|| srv.stop());
    let t0 = Instant::now();
    let e = client.execute(&c(&["GET", "x"])).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(t0.elapsed() < Duration::from_secs(3), "{:?}", t0.elapsed());
}
