//! The shared connection's life as observers see it: pushes in order with replies,
//! disconnects and reconnects with their generations, state restored after a reconnect.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use redbridge::{CacheConfig, Client, Command, ConnectionObserver, PushInfo};

#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl ConnectionObserver for Recorder {
    fn on_connected(&self, g: u64) {
        self.0.lock().unwrap().push(format!("connected {g}"));
    }
    fn on_disconnected(&self, g: u64) {
        self.0.lock().unwrap().push(format!("disconnected {g}"));
    }
    fn on_push(&self, g: u64, push: &PushInfo) {
        self.0
            .lock()
            .unwrap()
            .push(format!("push {g} {:?} {:?}", push.kind, push.data));
    }
}

impl Recorder {
    fn has(&self, prefix: &str) -> bool {
        self.0.lock().unwrap().iter().any(|e| e.starts_with(prefix))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_and_reconnects_reach_observers() {
    let srv = support::TestServer::start_owned(&[]);
    // Tracking on the shared connection (the cache turns it on before the connection is
    // published), then a write elsewhere.
    let cfg = srv
        .builder()
        .client_name("observed")
        .cache(CacheConfig::default())
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    let rec = Arc::new(Recorder::default());
    client.add_observer(rec.clone());
    client
        .execute(&Command::new(["GET", "obs:k"]).unwrap())
        .await
        .unwrap();
    let mut other = srv.control();
    let _: () = redis::cmd("SET")
        .arg("obs:k")
        .arg("1")
        .query(&mut other)
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !rec.has("push 1 Invalidate") && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(rec.has("push 1 Invalidate"), "{:?}", rec.0.lock().unwrap());
    // Kill the shared connection: observers see the disconnect and the new generation.
    let id = client
        .execute(&Command::new(["CLIENT", "ID"]).unwrap())
        .await
        .unwrap();
    let redis::Value::Int(id) = id else {
        panic!("{id:?}")
    };
    let _: () = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .query(&mut other)
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while !rec.has("connected 2") && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(rec.has("disconnected 1"), "{:?}", rec.0.lock().unwrap());
    assert!(rec.has("connected 2"), "{:?}", rec.0.lock().unwrap());
    assert_eq!(client.connection_generation(), Some(2));
    assert_eq!(client.stats().reconnects, 1);
    // State restored on the new connection: the client name.
    let name = client
        .execute(&Command::new(["CLIENT", "GETNAME"]).unwrap())
        .await
        .unwrap();
    assert_eq!(name, redis::Value::BulkString(b"observed".to_vec()));
}
