//! The blocking engine: a lone caller does its own I/O; threads share; fork works.
mod support;

use std::time::Duration;

use redbridge::{ErrorKind, SyncClient, Value};
use support::{c, TestServer};

#[test]
fn lone_caller_uses_the_direct_path() {
    let srv = TestServer::start();
    let client = SyncClient::connect(srv.config()).unwrap();
    for i in 0..100 {
        client
            .execute(&c(&["SET", "sy:k", &i.to_string()]))
            .unwrap();
        assert_eq!(
            client.execute(&c(&["GET", "sy:k"])).unwrap(),
            Value::BulkString(i.to_string().into_bytes())
        );
    }
    let stats = client.stats();
    assert!(stats.direct_requests >= 200, "{stats:?}");
    let e = client.execute(&c(&["LPUSH", "sy:k", "x"])).unwrap_err();
    assert_eq!(e.code(), Some("WRONGTYPE"));
    assert_eq!(
        client.execute(&c(&["SELECT", "1"])).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
}

#[test]
fn eight_threads_share_one_client() {
    let srv = TestServer::start();
    let client = SyncClient::connect(srv.config()).unwrap();
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for i in 0..500 {
                    let k = format!("sy:t{t}");
                    let v = format!("{t}-{i}");
                    client.execute(&c(&["SET", &k, &v])).unwrap();
                    assert_eq!(
                        client.execute(&c(&["GET", &k])).unwrap(),
                        Value::BulkString(v.into_bytes())
                    );
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let stats = client.stats();
    assert_eq!(stats.requests, 8 * 500 * 2, "{stats:?}");
    assert!(
        stats.direct_requests < stats.requests,
        "concurrent callers used the shared connection too"
    );
}

#[test]
fn blocking_commands_from_sync_callers() {
    let srv = TestServer::start();
    let client = SyncClient::connect(srv.config()).unwrap();
    let pusher = {
        let client = client.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            client.execute(&c(&["RPUSH", "sy:q", "job"])).unwrap();
        })
    };
    let v = client.execute(&c(&["BLPOP", "sy:q", "5"])).unwrap();
    assert_eq!(
        v,
        Value::Array(vec![
            Value::BulkString(b"sy:q".to_vec()),
            Value::BulkString(b"job".to_vec())
        ])
    );
    pusher.join().unwrap();
}

#[test]
fn client_created_before_fork_works_in_the_child() {
    let srv = TestServer::start();
    let client = SyncClient::connect(srv.config()).unwrap();
    client.execute(&c(&["SET", "sy:fork", "parent"])).unwrap();
    // SAFETY: the child only uses the client and exits with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let ok = (|| -> redbridge::Result<bool> {
            let v = client.execute(&c(&["GET", "sy:fork"]))?;
            client.execute(&c(&["SET", "sy:fork", "child"]))?;
            let mut pipe = redbridge::Pipeline::new(false);
            pipe.add(c(&["INCR", "sy:fork-n"]));
            client.pipeline(&pipe)?;
            Ok(v == Value::BulkString(b"parent".to_vec()))
        })();
        unsafe { libc::_exit(if matches!(ok, Ok(true)) { 0 } else { 1 }) };
    }
    let mut status = 0;
    let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(waited, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "child failed: status {status}"
    );
    // The parent's client is unaffected and sees the child's writes.
    assert_eq!(
        client.execute(&c(&["GET", "sy:fork"])).unwrap(),
        Value::BulkString(b"child".to_vec())
    );
    assert_eq!(
        client.execute(&c(&["GET", "sy:fork-n"])).unwrap(),
        Value::BulkString(b"1".to_vec())
    );
}

#[tokio::test]
async fn sync_client_works_from_spawn_blocking_and_inside_a_runtime() {
    let srv = TestServer::start();
    let client = SyncClient::new(srv.config()).unwrap();
    let c2 = client.clone();
    let v = tokio::task::spawn_blocking(move || c2.execute(&c(&["BLPOP", "sy:none", "0.1"])))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v, Value::Nil);
    // Called straight from async code it blocks this thread, but works and never panics.
    assert_eq!(
        client.execute(&c(&["BLPOP", "sy:none", "0.1"])).unwrap(),
        Value::Nil
    );
    assert_eq!(
        client.execute(&c(&["ECHO", "x"])).unwrap(),
        Value::BulkString(b"x".to_vec())
    );
}

/// A lone caller's pipeline goes out on the direct connection: replies and server errors
/// in their slots, a transaction's EXECABORT as the whole answer (and sent once).
#[test]
fn lone_caller_pipeline_uses_the_direct_path() {
    use redbridge::Pipeline;
    let srv = TestServer::start();
    let client = SyncClient::connect(srv.config()).unwrap();
    client.execute(&c(&["DEL", "sp:list", "sp:n"])).unwrap();
    let before = client.stats().direct_requests;
    let mut pipe = Pipeline::new(false);
    pipe.add(c(&["SET", "sp:k", "v"]))
        .add(c(&["LPUSH", "sp:k", "x"]))
        .add(c(&["GET", "sp:k"]));
    let slots = client.pipeline(&pipe).unwrap();
    assert_eq!(slots[0].as_ref().unwrap(), &Value::Okay);
    assert_eq!(slots[1].as_ref().unwrap_err().code(), Some("WRONGTYPE"));
    assert_eq!(
        slots[2].as_ref().unwrap(),
        &Value::BulkString(b"v".to_vec())
    );
    assert_eq!(client.stats().direct_requests, before + 1);

    let mut tx = Pipeline::new(true);
    tx.add(c(&["INCR", "sp:n"])).add(c(&["NOSUCHCOMMAND"]));
    let e = client.pipeline(&tx).unwrap_err();
    assert_eq!(e.code(), Some("EXECABORT"), "{e}");
    assert_eq!(client.execute(&c(&["GET", "sp:n"])).unwrap(), Value::Nil);
    let mut tx = Pipeline::new(true);
    tx.add(c(&["INCR", "sp:n"])).add(c(&["INCR", "sp:n"]));
    let slots = client.pipeline(&tx).unwrap();
    assert_eq!(slots[1].as_ref().unwrap(), &Value::Int(2));
}

/// The direct connection does its own handshake: user and password, database, client
/// name, library name and protocol are those of the configuration, over TCP and over a
/// Unix socket, and a SCAN page and a large value read back whole.
#[test]
fn direct_connection_handshake_and_large_replies() {
    use redbridge::Protocol;
    let sock = std::env::temp_dir().join(format!("redbridge-direct-{}.sock", std::process::id()));
    let sock_s = sock.to_str().unwrap().to_string();
    let srv = TestServer::start_owned(&["--unixsocket", &sock_s, "--unixsocketperm", "700"]);
    let mut control = srv.control();
    redis::cmd("ACL")
        .arg(&["SETUSER", "direct", "on", ">s3cret", "~*", "+@all"])
        .exec(&mut control)
        .unwrap();
    for (protocol, unix) in [
        (Protocol::Resp3, false),
        (Protocol::Resp2, false),
        (Protocol::Resp3, true),
    ] {
        let mut builder = srv
            .builder()
            .username("direct")
            .password("s3cret")
            .db(5)
            .client_name("rb-direct")
            .protocol(protocol);
        if unix {
            builder = builder.unix_socket(&sock);
        }
        let client = SyncClient::connect(builder.build().unwrap()).unwrap();
        let before = client.stats().direct_requests;
        let info = match client.execute(&c(&["CLIENT", "INFO"])).unwrap() {
            Value::BulkString(b) => String::from_utf8(b).unwrap(),
            Value::VerbatimString { text, .. } => text,
            other => panic!("CLIENT INFO gave {other:?}"),
        };
        let info = format!(" {} ", info.trim());
        assert_eq!(client.stats().direct_requests, before + 1, "{info}");
        let resp = if protocol == Protocol::Resp3 { 3 } else { 2 };
        for want in [
            " name=rb-direct ".to_string(),
            " db=5 ".to_string(),
            " user=direct ".to_string(),
            format!(" resp={resp} "),
        ] {
            assert!(info.contains(&want), "{want:?} not in {info}");
        }
        assert_eq!(info.contains("addr=/"), unix, "{info}");
        // Redis 7.2+ shows the library name CLIENT SETINFO gave.
        if info.contains("lib-name=") {
            assert!(info.contains(" lib-name=redbridge "), "{info}");
        }
        client.execute(&c(&["SET", "dh:k", "in-db-5"])).unwrap();
    }
    redis::cmd("SELECT").arg(5).exec(&mut control).unwrap();
    let v: String = redis::cmd("GET").arg("dh:k").query(&mut control).unwrap();
    assert_eq!(v, "in-db-5");

    // Replies that span many reads: a 3000-key SCAN page and a 1 MiB value.
    let client = SyncClient::connect(srv.config()).unwrap();
    let mut pipe = redbridge::Pipeline::new(false);
    for i in 0..3000 {
        pipe.add(c(&["SET", &format!("dh:scan:{i}"), "x"]));
    }
    client.pipeline(&pipe).unwrap();
    let page = client
        .execute(&c(&["SCAN", "0", "MATCH", "dh:scan:*", "COUNT", "100000"]))
        .unwrap();
    let Value::Array(parts) = page else {
        panic!("SCAN gave {page:?}")
    };
    assert_eq!(parts[0], Value::BulkString(b"0".to_vec()));
    let Value::Array(keys) = &parts[1] else {
        panic!("SCAN keys: {:?}", parts[1])
    };
    assert_eq!(keys.len(), 3000);
    let big: String = (0..1024 * 1024)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    client.execute(&c(&["SET", "dh:big", &big])).unwrap();
    assert_eq!(
        client.execute(&c(&["GET", "dh:big"])).unwrap(),
        Value::BulkString(big.into_bytes())
    );
    assert!(client.stats().direct_requests >= 4);
    let _ = std::fs::remove_file(&sock);
}

/// A wrong password on the direct connection is not what the caller sees: the
/// runtime's connection reports the authentication error, without the password.
#[test]
fn direct_connection_with_a_wrong_password_reports_authentication() {
    let srv = TestServer::start_owned(&["--requirepass", "the-right-one"]);
    let client = SyncClient::new(srv.builder().password("not-the-one").build().unwrap()).unwrap();
    let e = client.execute(&c(&["PING"])).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::Authentication | ErrorKind::Connection),
        "{e}"
    );
    assert!(!e.to_string().contains("not-the-one"), "{e}");
    assert_eq!(client.stats().direct_requests, 0);
}

#[test]
fn a_lone_caller_opens_one_connection() {
    // The shared (multiplexed) connection opens on the first request that needs it: a
    // client used from one thread talks over its direct connection only.
    let srv = TestServer::start();
    let config = srv.builder().client_name("lone-caller").build().unwrap();
    let client = SyncClient::new(config).unwrap();
    for i in 0..20 {
        client
            .execute(&c(&["SET", "sy:lone", &i.to_string()]))
            .unwrap();
    }
    let mut admin = srv.control();
    let list: String = redis::cmd("CLIENT").arg("LIST").query(&mut admin).unwrap();
    let named = list
        .lines()
        .filter(|l| l.contains(" name=lone-caller "))
        .count();
    assert_eq!(named, 1, "{list}");
    // The async face still works: it opens the shared connection when first used.
    let v = redbridge::runtime::runtime()
        .block_on(async { client.async_client().execute(&c(&["GET", "sy:lone"])).await })
        .unwrap();
    assert_eq!(v, Value::BulkString(b"19".to_vec()));
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// A lone caller polls for its reply for at most `spin_wait` before it sleeps: a reply
/// that takes 5 ms costs the thread no more than that spin (and, once spins keep running
/// out, not even that), not 5 ms of CPU; fast replies still come back right.
#[test]
fn a_lone_caller_spins_for_its_reply_only_briefly() {
    let srv = TestServer::start_owned(&[]);
    let client = SyncClient::connect(srv.builder().build().unwrap()).unwrap();
    client.execute(&c(&["SET", "spin:k", "v"])).unwrap();
    for _ in 0..200 {
        assert_eq!(
            client.execute(&c(&["GET", "spin:k"])).unwrap(),
            Value::BulkString(b"v".to_vec())
        );
    }
    let direct = client.stats().direct_requests;
    let cpu = thread_cpu();
    let wall = std::time::Instant::now();
    for _ in 0..20 {
        assert_eq!(
            client.execute(&c(&["DEBUG", "SLEEP", "0.005"])).unwrap(),
            Value::Okay
        );
    }
    let (cpu, wall) = (thread_cpu() - cpu, wall.elapsed());
    assert_eq!(
        client.stats().direct_requests - direct,
        20,
        "on the direct connection"
    );
    assert!(wall >= Duration::from_millis(100), "{wall:?}");
    assert!(
        cpu < Duration::from_millis(20),
        "20 replies of 5 ms cost the caller {cpu:?} of CPU in {wall:?}"
    );
}
