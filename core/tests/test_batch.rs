//! The batched crossing used by the event-loop bindings (Node, asyncio).
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use redbridge::{Batcher, Client, Completion, Done, ErrorKind, Pipeline, Script, Value};
use support::{c, commandstats as calls, TestServer};

/// Waits for wake-ups and drains until `n` completions are in.
fn collect(batcher: &Batcher, rx: &mpsc::Receiver<()>, n: usize) -> Vec<Completion> {
    let mut got = Vec::new();
    for _ in 0..n {
        if got.len() >= n {
            break;
        }
        rx.recv_timeout(Duration::from_secs(5)).expect("a wake-up");
        got.extend(batcher.drain());
    }
    got
}

fn batcher(srv: &TestServer) -> (Batcher, mpsc::Receiver<()>, Arc<AtomicUsize>) {
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(srv.config()).unwrap()
    };
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let wakes = Arc::new(AtomicUsize::new(0));
    let w = Arc::clone(&wakes);
    let b = Batcher::new(client, move |_: &Batcher| {
        w.fetch_add(1, Ordering::SeqCst);
        let _ = tx.lock().unwrap().send(());
    });
    (b, rx, wakes)
}

/// 1000 requests submitted together each come back with their own reply, with far fewer
/// wake-ups of the loop than replies.
#[test]
fn replies_come_back_tagged_and_batched() {
    let srv = TestServer::start();
    let (b, rx, wakes) = batcher(&srv);
    for i in 0..1000u64 {
        b.submit(i, c(&["SET", &format!("bt:{i}"), &i.to_string()]));
    }
    assert_eq!(collect(&b, &rx, 1000).len(), 1000);
    for i in 0..1000u64 {
        b.submit(i, c(&["GET", &format!("bt:{i}")]));
    }
    let replies = collect(&b, &rx, 1000);
    assert_eq!(replies.len(), 1000);
    for (tag, r) in replies {
        let Done::Reply(v) = r.unwrap() else {
            panic!("a command gives a reply")
        };
        assert_eq!(v, Value::BulkString(tag.to_string().into_bytes()));
    }
    let wakes = wakes.load(Ordering::SeqCst);
    assert!(
        wakes < 1000,
        "{wakes} wake-ups for 2000 replies: not batched"
    );
    eprintln!("{wakes} wake-ups for 2000 replies");
}

/// Errors travel in their slot; a slow command does not hold back the others' replies.
#[test]
fn errors_in_place_and_no_head_of_line_wait() {
    let srv = TestServer::start();
    let (b, rx, _) = batcher(&srv);
    b.submit(1, c(&["SET", "bt:str", "x"]));
    assert!(collect(&b, &rx, 1)[0].1.is_ok());
    b.submit(2, c(&["BLPOP", "bt:empty", "1"]));
    b.submit(3, c(&["LPUSH", "bt:str", "y"]));
    b.submit(4, c(&["GET", "bt:str"]));
    let first = collect(&b, &rx, 2);
    let tags: Vec<u64> = first.iter().map(|(t, _)| *t).collect();
    assert!(
        !tags.contains(&2),
        "BLPOP answered before its 1 s: {tags:?}"
    );
    let wrongtype = first.iter().find(|(t, _)| *t == 3).unwrap();
    let e = wrongtype.1.as_ref().unwrap_err();
    assert_eq!(
        (e.kind(), e.code()),
        (ErrorKind::Response, Some("WRONGTYPE"))
    );
    let blpop = collect(&b, &rx, 1);
    assert_eq!(blpop[0].0, 2);
    assert!(matches!(blpop[0].1, Ok(Done::Reply(Value::Nil))));
}

/// Pipelines travel the same way and come back as slots, in order.
#[test]
fn pipelines_come_back_as_slots() {
    let srv = TestServer::start();
    let (b, rx, _) = batcher(&srv);
    let mut pipe = Pipeline::new(false);
    pipe.add(c(&["SET", "bt:p", "1"]))
        .add(c(&["INCR", "bt:p"]))
        .add(c(&["HGET", "bt:p", "f"]));
    b.submit_pipeline(7, pipe);
    let mut tx = Pipeline::new(true);
    tx.add(c(&["INCR", "bt:q"])).add(c(&["INCR", "bt:q"]));
    b.submit_pipeline(8, tx);
    let mut done = collect(&b, &rx, 2);
    done.sort_by_key(|(t, _)| *t);
    let Ok(Done::Slots(slots)) = &done[0].1 else {
        panic!("{:?}", done[0])
    };
    assert_eq!(slots[1].as_ref().unwrap(), &Value::Int(2));
    assert_eq!(slots[2].as_ref().unwrap_err().code(), Some("WRONGTYPE"));
    let Ok(Done::Slots(slots)) = &done[1].1 else {
        panic!("{:?}", done[1])
    };
    assert_eq!(slots.len(), 2);
}

/// A scan's pages travel the same way; a second page request while one is in flight is
/// refused, not raced.
#[test]
fn scan_pages_come_back_in_turn() {
    let srv = TestServer::start();
    let (b, rx, _) = batcher(&srv);
    let mut pipe = Pipeline::new(false);
    for i in 0..500 {
        pipe.add(c(&["SADD", "bt:set", &i.to_string()]));
    }
    b.submit_pipeline(1, pipe);
    collect(&b, &rx, 1);
    let stream = b
        .client()
        .scan(
            redbridge::ScanKind::Set(b"bt:set".to_vec()),
            redbridge::ScanOptions {
                count: Some(100),
                ..Default::default()
            },
        )
        .unwrap();
    let slot: redbridge::ScanSlot = Arc::new(Mutex::new(Some(stream)));
    let mut seen = 0;
    for round in 0..100u64 {
        b.submit_scan(round * 2, slot.clone());
        b.submit_scan(round * 2 + 1, slot.clone());
        let mut done = collect(&b, &rx, 2);
        done.sort_by_key(|(t, _)| *t);
        let refused = done.iter().filter(|(_, r)| r.is_err()).count();
        assert!(refused <= 1, "{done:?}");
        let mut finished = false;
        for (_, r) in done {
            match r {
                Ok(Done::Page(Some(items))) => seen += items.len(),
                Ok(Done::Page(None)) => finished = true,
                Ok(other) => panic!("{other:?}"),
                Err(e) => assert!(e.to_string().contains("already being fetched"), "{e}"),
            }
        }
        if finished {
            break;
        }
    }
    assert_eq!(seen, 500);
}

/// Requests reach the server in the order they were submitted, however many are
/// submitted at once (tokio's cooperative budget and the connection's queue once let a
/// later one overtake).
#[test]
fn thousands_submitted_at_once_run_in_order() {
    let srv = TestServer::start();
    let (b, rx, _) = batcher(&srv);
    b.submit(0, c(&["DEL", "ord:n"]));
    collect(&b, &rx, 1);
    incrs_run_in_order(&b, &rx, "ord:n");
}

/// 3000 INCRs of `key` (which must not exist) submitted at once: each must see the count
/// its submission number gives (the server ran them in that order).
fn incrs_run_in_order(b: &Batcher, rx: &mpsc::Receiver<()>, key: &str) {
    for tag in 1..=3000u64 {
        b.submit(tag, c(&["INCR", key]));
    }
    let mut got = collect(b, rx, 3000);
    while got.len() < 3000 {
        rx.recv_timeout(Duration::from_secs(5)).expect("a wake-up");
        got.extend(b.drain());
    }
    for (tag, r) in got {
        match r {
            Ok(Done::Reply(Value::Int(n))) => assert_eq!(n as u64, tag, "INCR #{tag} ran as #{n}"),
            other => panic!("{other:?}"),
        }
    }
}

/// A burst submitted before the client's connection is up runs in submission order:
/// its requests are not queued while they wait for the connection (woken together, they
/// would be queued in any order), but once it is there.
#[test]
fn a_burst_before_the_connection_opens_runs_in_order() {
    let srv = TestServer::start();
    let (b, rx, _) = batcher(&srv);
    let mut ctl = srv.control();
    redis::cmd("DEL").arg("ord:first").exec(&mut ctl).unwrap();
    incrs_run_in_order(&b, &rx, "ord:first");
}

/// Drives a batcher the way an event loop does: polls its own connection's socket,
/// reads it when readable, drains runtime completions, fires a request's timeout.
fn drive(b: &Batcher, want: usize, timeout_at: Option<Duration>) -> Vec<Completion> {
    let start = std::time::Instant::now();
    let mut got = Vec::new();
    let mut timed_out = None;
    while got.len() < want {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "stuck with {got:?}"
        );
        got.extend(b.drain());
        got.extend(b.flush_loop());
        let w = b.loop_watch();
        if let (Some(limit), Some((seq, _))) = (timeout_at, w.in_flight) {
            if start.elapsed() >= limit && timed_out != Some(seq) {
                timed_out = Some(seq);
                got.extend(b.on_timeout(seq));
                b.release_retired();
                continue;
            }
        }
        match w.fd {
            Some(fd) => {
                let mut p = libc::pollfd {
                    fd,
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                if unsafe { libc::poll(&mut p, 1, 5) } > 0 {
                    got.extend(b.on_readable());
                }
            }
            None => std::thread::sleep(Duration::from_millis(2)),
        }
        if b.loop_watch().fd != w.fd {
            b.release_retired();
        }
    }
    got
}

/// PINGs (tagged `tag`) until the loop's own connection is open (it opens in the
/// background, on the first request); at most 5 s.
fn until_the_loops_connection_opens(b: &Batcher, tag: u64) {
    let start = std::time::Instant::now();
    while b.loop_watch().fd.is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the loop's connection opens"
        );
        b.submit(tag, c(&["PING"]));
        drive(b, 1, None);
    }
}

fn reply(done: &[Completion], tag: u64) -> Value {
    match done.iter().find(|(t, _)| *t == tag) {
        Some((_, Ok(Done::Reply(v)))) => v.clone(),
        other => panic!("tag {tag}: {other:?}"),
    }
}

/// Requests go on the loop's own connection (no thread hop), a turn's together, behind
/// those in flight, and replies come in submission order; a connection the server drops
/// costs a safe command nothing; a timeout fails the request in flight, and the next
/// request gets its own reply.
#[test]
fn the_loop_carries_lone_requests_itself() {
    let srv = TestServer::start_owned(&[]);
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(
            srv.builder()
                .response_timeout(Duration::from_millis(150))
                .build()
                .unwrap(),
        )
        .unwrap()
    };
    let b = Batcher::with_loop_io(client.clone(), |_: &Batcher| {});
    // The first request waits for the loop's connection to open.
    b.submit(1, c(&["SET", "lo:k", "v"]));
    assert_eq!(reply(&drive(&b, 1, None), 1), Value::Okay);
    until_the_loops_connection_opens(&b, 2);

    let direct = client.stats().direct_requests;
    b.submit(3, c(&["GET", "lo:k"]));
    assert!(b.loop_watch().candidates);
    assert!(b.flush_loop().is_empty());
    assert!(
        b.loop_watch().in_flight.is_some(),
        "a lone GET is on the loop's connection"
    );
    assert_eq!(
        reply(&drive(&b, 1, None), 3),
        Value::BulkString(b"v".to_vec())
    );
    assert_eq!(client.stats().direct_requests, direct + 1);

    // Three in one turn go on it together (one write), in order.
    let direct = client.stats().direct_requests;
    for tag in [10, 11, 12] {
        b.submit(tag, c(&["INCR", "lo:n"]));
    }
    let done = drive(&b, 3, None);
    assert_eq!(client.stats().direct_requests, direct + 3);
    assert_eq!(
        done.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        vec![10, 11, 12]
    );
    assert_eq!(reply(&done, 12), Value::Int(3));
    // One in flight on the loop's connection: the next two are written behind it.
    b.submit(13, c(&["INCR", "lo:n"]));
    assert!(b.flush_loop().is_empty());
    assert!(b.loop_watch().in_flight.is_some());
    b.submit(14, c(&["INCR", "lo:n"]));
    b.submit(15, c(&["INCR", "lo:n"]));
    let done = drive(&b, 3, None);
    assert_eq!(
        done.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        vec![13, 14, 15]
    );
    assert_eq!(reply(&done, 15), Value::Int(6));

    let mut pipe = Pipeline::new(true);
    pipe.add(c(&["INCR", "lo:n"])).add(c(&["GET", "lo:k"]));
    b.submit_pipeline(20, pipe);
    match &drive(&b, 1, None)[0] {
        (20, Ok(Done::Slots(s))) => assert_eq!(s[0].as_ref().unwrap(), &Value::Int(7)),
        other => panic!("{other:?}"),
    }

    // The server drops every connection of the client: a GET is sent again.
    let mut control = srv.control();
    redis::cmd("CLIENT")
        .arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"])
        .exec(&mut control)
        .unwrap();
    b.submit(30, c(&["GET", "lo:k"]));
    assert_eq!(
        reply(&drive(&b, 1, None), 30),
        Value::BulkString(b"v".to_vec())
    );

    // A stalled server: the request in flight times out; the next gets its own reply.
    until_the_loops_connection_opens(&b, 31);
    b.submit(40, c(&["DEBUG", "SLEEP", "0.3"]));
    assert!(b.flush_loop().is_empty());
    assert!(b.loop_watch().in_flight.is_some());
    let done = drive(&b, 1, Some(Duration::from_millis(150)));
    match &done[0] {
        (40, Err(e)) => assert_eq!(e.kind(), ErrorKind::Timeout, "{e}"),
        other => panic!("{other:?}"),
    }
    // Once the server is awake (its late +OK must not be taken for the GET's reply).
    std::thread::sleep(Duration::from_millis(200));
    b.submit(41, c(&["GET", "lo:k"]));
    assert_eq!(
        reply(&drive(&b, 1, None), 41),
        Value::BulkString(b"v".to_vec())
    );
}

/// A client's first requests wait for the loop's own connection while it opens, and go
/// on it in their order once the loop is woken, ahead of later ones. No other connection
/// carries them: the server lists one connection of the client.
#[test]
fn the_first_requests_wait_for_the_loops_connection() {
    let srv = TestServer::start_owned(&[]);
    let mut ctl = srv.control();
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(srv.builder().client_name("lo-first").build().unwrap()).unwrap()
    };
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let b = Batcher::with_loop_io(client.clone(), move |_: &Batcher| {
        let _ = tx.lock().unwrap().send(());
    });
    b.submit(1, c(&["SET", "lo:f", "v"]));
    b.submit(2, c(&["GET", "lo:f"]));
    assert!(b.flush_loop().is_empty());
    rx.recv_timeout(Duration::from_secs(5))
        .expect("a wake-up once the loop's connection is open");
    assert!(b.drain().is_empty(), "nothing completed on the runtime");
    let w = b.loop_watch();
    assert!(
        w.candidates && w.in_flight.is_none(),
        "they go on at turn end: {w:?}"
    );
    b.submit(3, c(&["INCR", "lo:n"]));
    let done = drive(&b, 3, None);
    assert_eq!(
        done.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(reply(&done, 1), Value::Okay);
    assert_eq!(reply(&done, 2), Value::BulkString(b"v".to_vec()));
    assert_eq!(reply(&done, 3), Value::Int(1));
    assert_eq!(client.stats().direct_requests, 3, "all three went direct");
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut ctl).unwrap();
    let named = list
        .lines()
        .filter(|l| l.contains("name=lo-first "))
        .count();
    assert_eq!(
        named, 1,
        "one connection for the loop's requests, none for the runtime: {list}"
    );
}

/// A client whose loop's connection cannot open (nothing listens): its first request
/// waited for that open, then takes the runtime, which reports the refused connection.
#[test]
fn a_first_request_whose_loop_connection_fails_takes_the_runtime() {
    // A port nobody listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        let config = redbridge::Config::builder().port(port).build().unwrap();
        Client::new(config).unwrap()
    };
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let b = Batcher::with_loop_io(client, move |_: &Batcher| {
        let _ = tx.lock().unwrap().send(());
    });
    b.submit(1, c(&["GET", "lo:f"]));
    assert!(b.flush_loop().is_empty());
    let done = collect(&b, &rx, 1);
    match &done[..] {
        [(1, Err(e))] => {
            assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
            assert!(e.to_string().contains(&port.to_string()), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

/// With the client-side cache on, a read it holds is answered by `submit` itself, on the
/// loop's thread (no completion comes for it); a read it does not hold is queued.
#[test]
fn a_cache_hit_is_answered_at_submit() {
    let srv = TestServer::start();
    let cfg = srv
        .builder()
        .cache(redbridge::CacheConfig::default())
        .build()
        .unwrap();
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(cfg).unwrap()
    };
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let b = Batcher::new(client, move |_: &Batcher| {
        let _ = tx.lock().unwrap().send(());
    });
    assert_eq!(
        b.submit(1, c(&["SET", "bt:hit", "v"])),
        None,
        "a write is queued"
    );
    assert_eq!(collect(&b, &rx, 1).len(), 1);
    // The first reads go to the server (and may go out before tracking is up); read
    // until the cache holds the key.
    let mut hit = None;
    for tag in 2..200u64 {
        match b.submit(tag, c(&["GET", "bt:hit"])) {
            Some(v) => {
                hit = Some(v);
                break;
            }
            None => {
                let got = collect(&b, &rx, 1);
                assert_eq!(got.len(), 1);
                assert_eq!(got[0].0, tag);
            }
        }
    }
    assert_eq!(hit, Some(Value::BulkString(b"v".to_vec())));
    assert!(b.client().stats().cache.unwrap().hits >= 1);
    // A write voids it: the next read is queued again and sees the new value.
    assert_eq!(b.submit(500, c(&["SET", "bt:hit", "w"])), None);
    assert_eq!(collect(&b, &rx, 1).len(), 1);
    assert_eq!(b.submit(501, c(&["GET", "bt:hit"])), None);
    let got = collect(&b, &rx, 1);
    let Ok(Done::Reply(v)) = &got[0].1 else {
        panic!("{:?}", got[0])
    };
    assert_eq!(v, &Value::BulkString(b"w".to_vec()));
}

fn owned(items: &[&str]) -> Vec<Vec<u8>> {
    items.iter().map(|s| s.as_bytes().to_vec()).collect()
}

/// A script crosses in the batch like a command: EVALSHA, EVAL on NOSCRIPT (the first
/// call on a fresh server), EVALSHA alone after; one request per call and no error
/// counted for a cured NOSCRIPT, as `Client::eval_script`; a script's own error in its
/// slot; run in submission order with the commands around it.
#[test]
fn scripts_cross_in_the_batch() {
    let srv = TestServer::start_owned(&[]);
    let mut ctl = srv.control();
    support::forget_scripts(&mut ctl);
    let (b, rx, _) = batcher(&srv);
    let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    let before = b.client().stats();

    b.submit_script(1, script.clone(), owned(&["bs:n"]), owned(&["5"]));
    let done = collect(&b, &rx, 1);
    assert_eq!(reply(&done, 1), Value::Int(5));
    assert_eq!(calls(&mut ctl, "evalsha"), (1, 1));
    assert_eq!(calls(&mut ctl, "eval"), (1, 0));

    b.submit(2, c(&["SET", "bs:s", "x"]));
    b.submit_script(3, script.clone(), owned(&["bs:n"]), owned(&["2"]));
    b.submit(4, c(&["GET", "bs:n"]));
    let mut done = collect(&b, &rx, 3);
    // The server runs them in order (the GET sees the script's write); their completions
    // may come in two wake-ups (each drain is in order, and nothing waits for another).
    done.sort_by_key(|(t, _)| *t);
    assert_eq!(
        done.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    assert_eq!(reply(&done, 3), Value::Int(7));
    assert_eq!(reply(&done, 4), Value::BulkString(b"7".to_vec()));
    assert_eq!(calls(&mut ctl, "evalsha"), (2, 1));
    assert_eq!(calls(&mut ctl, "eval"), (1, 0));

    let after = b.client().stats();
    assert_eq!(after.requests - before.requests, 4, "{after:?}");
    assert_eq!(after.errors_of(ErrorKind::Response), 0, "{after:?}");

    let raise = Script::new("return redis.error_reply('MYERR no luck')");
    b.submit_script(5, raise, Vec::new(), Vec::new());
    let done = collect(&b, &rx, 1);
    let Some((5, Err(e))) = done.first() else {
        panic!("a script's error comes back in its slot: {done:?}")
    };
    assert_eq!((e.kind(), e.code()), (ErrorKind::Response, Some("MYERR")));
}

/// With the loop's own connection, a script still takes the runtime (its fallback needs
/// a second command), behind a request in flight there, and completes in turn.
#[test]
fn scripts_take_the_runtime_beside_the_loops_connection() {
    let srv = TestServer::start_owned(&[]);
    let mut ctl = srv.control();
    redis::cmd("SCRIPT").arg("FLUSH").exec(&mut ctl).unwrap();
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(srv.config()).unwrap()
    };
    let b = Batcher::with_loop_io(client.clone(), |_: &Batcher| {});
    until_the_loops_connection_opens(&b, 1);
    let script = Script::new("return redis.call('GET', KEYS[1])").read_only(true);
    // Alone in its turn: not put on the loop's connection.
    b.submit_script(2, script.clone(), owned(&["lo:s"]), Vec::new());
    assert!(b.flush_loop().is_empty());
    assert!(b.loop_watch().in_flight.is_none());
    assert_eq!(reply(&drive(&b, 1, None), 2), Value::Nil);
    // Behind a lone SET in flight on the loop's connection: it waits its turn.
    b.submit(3, c(&["SET", "lo:s", "v"]));
    assert!(b.flush_loop().is_empty());
    assert!(b.loop_watch().in_flight.is_some());
    b.submit_script(4, script, owned(&["lo:s"]), Vec::new());
    let done = drive(&b, 2, None);
    assert_eq!(done.iter().map(|(t, _)| *t).collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(reply(&done, 4), Value::BulkString(b"v".to_vec()));
    assert_eq!(calls(&mut ctl, "evalsha_ro"), (2, 1));
    assert_eq!(calls(&mut ctl, "eval_ro"), (1, 0));
}

/// A batcher whose loop's own connection is open.
fn loop_batcher(srv: &TestServer, spin_wait: Duration) -> Batcher {
    let client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(srv.builder().spin_wait(spin_wait).build().unwrap()).unwrap()
    };
    let b = Batcher::with_loop_io(client, |_: &Batcher| {});
    until_the_loops_connection_opens(&b, 0);
    b
}

/// The loop is told to poll for a reply (not sleep) for `spin_wait` after its write,
/// only while a request is in flight; spins that run out with no reply make it sleep
/// for the next replies, and a reply caught by a spin makes it spin again.
#[test]
fn the_loop_spins_for_replies_only_while_it_pays() {
    let srv = TestServer::start_owned(&[]);
    let off = loop_batcher(&srv, Duration::ZERO);
    off.submit(1, c(&["PING"]));
    assert!(off.flush_loop().is_empty());
    assert!(off.loop_watch().in_flight.is_some());
    assert_eq!(off.loop_watch().spin_until, None, "spin_wait 0: never");
    drive(&off, 1, None);

    let wait = Duration::from_micros(50);
    let b = loop_batcher(&srv, wait);
    assert_eq!(
        b.loop_watch().spin_until,
        None,
        "nothing in flight: no spin"
    );
    let before = std::time::Instant::now();
    b.submit(1, c(&["PING"]));
    assert!(b.flush_loop().is_empty());
    let until = b
        .loop_watch()
        .spin_until
        .expect("a request in flight: spin");
    assert!(
        until > before && until <= std::time::Instant::now() + wait,
        "spin_wait from the write"
    );
    drive(&b, 1, None);
    assert_eq!(b.loop_watch().spin_until, None, "its reply read: no spin");

    // Four spins that run out with no reply between them: the next 16 replies (the one
    // in flight counts) are waited for asleep, then spinning is tried again.
    let mut tag = 10;
    let mut one = |b: &Batcher, ran_out: bool| -> Option<std::time::Instant> {
        tag += 1;
        b.submit(tag, c(&["PING"]));
        assert!(b.flush_loop().is_empty());
        let spin = b.loop_watch().spin_until;
        if ran_out {
            // The reply comes (is read) after the spin: a slow or distant server.
            std::thread::sleep(Duration::from_millis(1));
            b.spin_ran_out();
        }
        drive(b, 1, None);
        spin
    };
    for _ in 0..4 {
        assert!(one(&b, true).is_some());
    }
    for i in 0..15 {
        assert_eq!(
            one(&b, false),
            None,
            "request {i} after the backoff: asleep"
        );
    }
    // Tried again after 16 replies; that try runs out too: straight back to sleep, now
    // for 32 replies.
    assert!(one(&b, true).is_some(), "tried again after 16 replies");
    for i in 0..31 {
        assert_eq!(one(&b, false), None, "request {i} after the second backoff");
    }
    assert!(one(&b, false).is_some());
}
