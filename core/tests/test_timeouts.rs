//! Timeouts: a slow server gives a Timeout in time, and no reply ever reaches the wrong caller.
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use redbridge::{Client, ErrorKind, SyncClient, Value};
use support::{c, TestServer};

/// GETs `key` until a reply comes (timeouts while the server sleeps are retried), for at
/// most `within`.
async fn get_past_timeouts(client: &Client, key: &str, within: Duration) -> Value {
    tokio::time::timeout(within, async {
        loop {
            match client.execute(&c(&["GET", key])).await {
                Ok(v) => break v,
                Err(e) if e.kind() == ErrorKind::Timeout => continue,
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("a reply once the server is awake")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_sleep_beyond_response_timeout_times_out_and_next_reply_is_own() {
    let srv = TestServer::start_owned(&[]);
    let timeout = Duration::from_millis(200);
    let cfg = srv.builder().response_timeout(timeout).build().unwrap();
    let client = Client::connect(cfg).await.unwrap();
    client.execute(&c(&["SET", "t:k", "mine"])).await.unwrap();

    let t0 = Instant::now();
    let e = client
        .execute(&c(&["DEBUG", "SLEEP", "0.6"]))
        .await
        .unwrap_err();
    let took = t0.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        took >= timeout && took <= timeout + Duration::from_millis(100),
        "took {took:?}"
    );

    // The next command waits behind the sleeping server, then gets its own reply (not
    // DEBUG's late +OK).
    let v = get_past_timeouts(&client, "t:k", Duration::from_secs(2)).await;
    assert_eq!(v, Value::BulkString(b"mine".to_vec()));
    assert!(client.stats().errors_of(ErrorKind::Timeout) >= 1);
}

#[test]
fn sync_direct_path_times_out_and_next_reply_is_own() {
    let srv = TestServer::start_owned(&[]);
    let timeout = Duration::from_millis(200);
    let cfg = srv.builder().response_timeout(timeout).build().unwrap();
    let client = SyncClient::connect(cfg).unwrap();
    client.execute(&c(&["SET", "t:s", "mine"])).unwrap();
    let t0 = Instant::now();
    let e = client.execute(&c(&["DEBUG", "SLEEP", "0.5"])).unwrap_err();
    let took = t0.elapsed();
    assert_eq!(e.kind(), ErrorKind::Timeout, "{e}");
    assert!(
        took >= timeout && took <= timeout + Duration::from_millis(100),
        "took {took:?}"
    );
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(
        client.execute(&c(&["GET", "t:s"])).unwrap(),
        Value::BulkString(b"mine".to_vec())
    );
    assert!(client.stats().direct_requests >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_requests_with_random_timeouts_and_cancellations_never_cross() {
    let srv = TestServer::start_owned(&[]);
    let cfg = srv
        .builder()
        .response_timeout(Duration::from_millis(3))
        .build()
        .unwrap();
    let client = Client::connect(cfg).await.unwrap();
    let wrong = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for worker in 0..20 {
        let (client, wrong, ok, failed) =
            (client.clone(), wrong.clone(), ok.clone(), failed.clone());
        handles.push(tokio::spawn(async move {
            for i in 0..500 {
                let payload = format!("w{worker}-r{i}-{}", fastrand::u64(..));
                let cmd = c(&["ECHO", &payload]);
                // A third of the requests are cancelled by the caller after a random delay.
                let fut = client.execute(&cmd);
                let outcome = if i % 3 == 0 {
                    tokio::time::timeout(Duration::from_micros(fastrand::u64(0..400)), fut)
                        .await
                        .ok()
                } else {
                    Some(fut.await)
                };
                match outcome {
                    Some(Ok(Value::BulkString(b))) if b == payload.as_bytes() => {
                        ok.fetch_add(1, Ordering::Relaxed)
                    }
                    Some(Ok(_)) => wrong.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    // The server stalls now and then, so response timeouts fire for real.
    let stall = {
        let srv_url = srv.url.clone();
        tokio::task::spawn_blocking(move || {
            let mut ctl = redis::Client::open(srv_url.as_str())
                .unwrap()
                .get_connection()
                .unwrap();
            for _ in 0..15 {
                let _: () = redis::cmd("DEBUG")
                    .arg("SLEEP")
                    .arg("0.005")
                    .query(&mut ctl)
                    .unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    for h in handles {
        h.await.unwrap();
    }
    stall.await.unwrap();
    let (ok, wrong, failed) = (
        ok.load(Ordering::Relaxed),
        wrong.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
    );
    println!("10,000 requests: {ok} own replies, {failed} timed out or cancelled, {wrong} wrong");
    assert_eq!(wrong, 0, "a reply reached the wrong caller");
    assert_eq!(ok + failed, 10_000);
    assert!(
        failed > 0 && ok > 1000,
        "the test must exercise both outcomes: ok={ok} failed={failed}"
    );
}

#[test]
fn sync_threads_with_timeouts_never_get_another_callers_reply() {
    let srv = TestServer::start_owned(&[]);
    let cfg = srv
        .builder()
        .response_timeout(Duration::from_millis(3))
        .build()
        .unwrap();
    let client = SyncClient::connect(cfg).unwrap();
    let wrong = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let staller = {
        let url = srv.url.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut ctl = redis::Client::open(url.as_str())
                .unwrap()
                .get_connection()
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                let _: () = redis::cmd("DEBUG")
                    .arg("SLEEP")
                    .arg("0.005")
                    .query(&mut ctl)
                    .unwrap();
                std::thread::sleep(Duration::from_millis(15));
            }
        })
    };
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (client, wrong, ok) = (client.clone(), wrong.clone(), ok.clone());
            std::thread::spawn(move || {
                for i in 0..1000 {
                    let payload = format!("t{t}-{i}");
                    match client.execute(&c(&["ECHO", &payload])) {
                        Ok(Value::BulkString(b)) if b == payload.as_bytes() => {
                            ok.fetch_add(1, Ordering::Relaxed)
                        }
                        Ok(_) => wrong.fetch_add(1, Ordering::Relaxed),
                        Err(_) => 0,
                    };
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    staller.join().unwrap();
    assert_eq!(wrong.load(Ordering::Relaxed), 0);
    assert!(ok.load(Ordering::Relaxed) > 100);
    let stats = client.stats();
    assert!(stats.direct_requests > 0, "{stats:?}");
}

/// The shared connection's timeouts come from one FIFO of deadlines with one timer (not a
/// timer per request): requests started at different moments against a stalled server
/// each time out at their own deadline, and after an idle spell the timer still fires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staggered_requests_time_out_each_at_its_own_deadline() {
    let srv = TestServer::start_owned(&[]);
    let timeout = Duration::from_millis(150);
    let cfg = srv.builder().response_timeout(timeout).build().unwrap();
    let client = Arc::new(Client::connect(cfg).await.unwrap());
    client.execute(&c(&["SET", "t:f", "mine"])).await.unwrap();

    for round in 0..2 {
        // Idle first (the timer has nothing armed), then stall the server for 1 s.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut ctl = srv.control();
        let stall = std::thread::spawn(move || {
            let _: () = redis::cmd("DEBUG")
                .arg("SLEEP")
                .arg("1")
                .query(&mut ctl)
                .unwrap();
        });
        tokio::time::sleep(Duration::from_millis(50)).await;

        // 6 waves of 8 GETs, 40 ms apart: each wave's deadline is its own.
        let mut lanes = Vec::new();
        for wave in 0..6u64 {
            for _ in 0..8 {
                let client = client.clone();
                lanes.push(tokio::spawn(async move {
                    let t0 = Instant::now();
                    let r = client.execute(&c(&["GET", "t:f"])).await;
                    (wave, r.map(|_| ()).map_err(|e| e.kind()), t0.elapsed())
                }));
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        for lane in lanes {
            let (wave, r, took) = lane.await.unwrap();
            assert_eq!(r, Err(ErrorKind::Timeout), "round {round} wave {wave}");
            assert!(
                took >= timeout && took <= timeout + Duration::from_millis(120),
                "round {round} wave {wave}: timed out after {took:?}, not at its own deadline"
            );
        }
        stall.join().unwrap();
    }
    // The connection still answers with the caller's own reply.
    let v = get_past_timeouts(&client, "t:f", Duration::from_secs(3)).await;
    assert_eq!(v, Value::BulkString(b"mine".to_vec()));
}
