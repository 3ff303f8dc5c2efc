//! Pipelines, MULTI/EXEC, WATCH on a lease, chunking of large pipelines.
mod support;

use redbridge::{Client, ErrorKind, Pipeline, SyncClient, Value};
use support::{c, wait_for, TestServer};

#[tokio::test]
async fn each_reply_or_error_in_its_slot() {
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    let mut pipe = Pipeline::new(false);
    pipe.add(c(&["SET", "p:s", "text"]))
        .add(c(&["INCR", "p:s"]))
        .add(c(&["GET", "p:s"]))
        .add(c(&["DEL", "p:s"]));
    let slots = client.pipeline(&pipe).await.unwrap();
    assert_eq!(slots.len(), 4);
    assert_eq!(slots[0].as_ref().unwrap(), &Value::Okay);
    let e = slots[1].as_ref().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Response);
    assert_eq!(e.code(), Some("ERR"));
    assert_eq!(
        slots[2].as_ref().unwrap(),
        &Value::BulkString(b"text".to_vec())
    );
    assert_eq!(slots[3].as_ref().unwrap(), &Value::Int(1));
}

#[tokio::test]
async fn multi_exec_runs_atomically_and_reports_queue_errors() {
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    let mut tx = Pipeline::new(true);
    tx.add(c(&["SET", "p:t", "1"]))
        .add(c(&["INCR", "p:t"]))
        .add(c(&["GET", "p:t"]));
    let slots = client.pipeline(&tx).await.unwrap();
    let values: Vec<Value> = slots.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        values,
        vec![Value::Okay, Value::Int(2), Value::BulkString(b"2".to_vec())]
    );

    // A command the server refuses while queuing discards the whole transaction.
    let mut bad = Pipeline::new(true);
    bad.add(c(&["SET", "p:t", "9"])).add(c(&["NOSUCHCOMMAND"]));
    let e = client.pipeline(&bad).await.unwrap_err();
    assert_eq!(e.code(), Some("EXECABORT"), "{e}");
    assert!(
        e.message().contains("#2") && e.message().contains("NOSUCHCOMMAND"),
        "{e}"
    );
    assert_eq!(
        client.execute(&c(&["GET", "p:t"])).await.unwrap(),
        Value::BulkString(b"2".to_vec())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_then_change_gives_watch_error() {
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    client.execute(&c(&["SET", "p:w", "1"])).await.unwrap();
    let mut lease = client.lease().await.unwrap();
    lease.execute(&c(&["WATCH", "p:w"])).await.unwrap();
    let seen = lease.execute(&c(&["GET", "p:w"])).await.unwrap();
    assert_eq!(seen, Value::BulkString(b"1".to_vec()));
    // Another writer changes the key between WATCH and EXEC.
    client
        .execute(&c(&["SET", "p:w", "changed"]))
        .await
        .unwrap();
    let mut tx = Pipeline::new(true);
    tx.add(c(&["SET", "p:w", "2"]));
    let e = lease.pipeline(&tx).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Watch, "{e}");
    assert_eq!(
        client.execute(&c(&["GET", "p:w"])).await.unwrap(),
        Value::BulkString(b"changed".to_vec())
    );
    // Unchanged: EXEC goes through.
    lease.execute(&c(&["WATCH", "p:w"])).await.unwrap();
    let slots = lease.pipeline(&tx).await.unwrap();
    assert_eq!(slots[0].as_ref().unwrap(), &Value::Okay);
    drop(lease);
    assert_eq!(
        client.execute(&c(&["GET", "p:w"])).await.unwrap(),
        Value::BulkString(b"2".to_vec())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_pipelines_are_chunked_and_keep_order() {
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    let n = 25_000;
    let mut pipe = Pipeline::new(false);
    for i in 0..n {
        pipe.add(c(&["ECHO", &i.to_string()]));
    }
    let slots = client.pipeline(&pipe).await.unwrap();
    assert_eq!(slots.len(), n);
    for (i, s) in slots.into_iter().enumerate() {
        assert_eq!(s.unwrap(), Value::BulkString(i.to_string().into_bytes()));
    }
    // A transaction larger than one chunk runs on a dedicated connection, still atomic.
    let mut tx = Pipeline::new(true);
    for i in 0..n {
        tx.add(c(&["RPUSH", "p:big", &i.to_string()]));
    }
    let slots = client.pipeline(&tx).await.unwrap();
    assert_eq!(slots.len(), n);
    assert_eq!(slots[n - 1].as_ref().unwrap(), &Value::Int(n as i64));
    // Big values get their own chunks (bounded memory per write).
    let big = "x".repeat(3 << 20);
    let mut pipe = Pipeline::new(false);
    pipe.add(c(&["SET", "p:b1", &big]))
        .add(c(&["SET", "p:b2", &big]))
        .add(c(&["STRLEN", "p:b2"]));
    let slots = client.pipeline(&pipe).await.unwrap();
    assert_eq!(slots[2].as_ref().unwrap(), &Value::Int(3 << 20));
}

#[test]
fn sync_pipeline_and_lease() {
    let srv = TestServer::start();
    let client = SyncClient::connect(srv.config()).unwrap();
    let mut pipe = Pipeline::new(false);
    pipe.add(c(&["SET", "p:sync", "a"]))
        .add(c(&["GET", "p:sync"]));
    let slots = client.pipeline(&pipe).unwrap();
    assert_eq!(
        slots[1].as_ref().unwrap(),
        &Value::BulkString(b"a".to_vec())
    );
    let mut lease = client.lease().unwrap();
    lease.execute(&c(&["WATCH", "p:sync"])).unwrap();
    client.execute(&c(&["SET", "p:sync", "b"])).unwrap();
    let mut tx = Pipeline::new(true);
    tx.add(c(&["SET", "p:sync", "c"]));
    assert_eq!(lease.pipeline(&tx).unwrap_err().kind(), ErrorKind::Watch);
}

#[tokio::test]
async fn state_and_transaction_commands_are_refused_inside_pipelines() {
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    let mut pipe = Pipeline::new(false);
    pipe.add(c(&["SELECT", "2"]));
    let e = client.pipeline(&pipe).await.unwrap_err();
    assert!(e.message().contains("db option"), "{e}");
    let mut pipe = Pipeline::new(false);
    pipe.add(c(&["MULTI"]));
    assert_eq!(
        client.pipeline(&pipe).await.unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_dropped_while_watching_unwatches_at_once() {
    // As redis-py's pipeline reset: the server stops watching when the holder lets go,
    // not only when the pooled connection is leased again.
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    let mut admin = srv.control();
    let mut lease = client.lease().await.unwrap();
    lease.execute(&c(&["WATCH", "p:uw"])).await.unwrap();
    assert_eq!(support::commandstats(&mut admin, "unwatch").0, 0);
    drop(lease);
    wait_for("UNWATCH after the lease was dropped", || {
        support::commandstats(&mut admin, "unwatch").0 == 1
    });
    // A lease whose transaction ran (EXEC ends the WATCH) sends none.
    let mut lease = client.lease().await.unwrap();
    let before = support::commandstats(&mut admin, "unwatch").0;
    lease.execute(&c(&["WATCH", "p:uw"])).await.unwrap();
    let mut tx = Pipeline::new(true);
    tx.add(c(&["SET", "p:uw", "1"]));
    lease.pipeline(&tx).await.unwrap();
    drop(lease);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    // (leasing again recycles with UNWATCH: count only what the drop sent)
    assert_eq!(support::commandstats(&mut admin, "unwatch").0, before);
}
