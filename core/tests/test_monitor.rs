//! MONITOR on a connection of its own (`Client::monitor`, `SyncClient::monitor`): a
//! command another client sends shows up with its arguments, database and address; the
//! feed ends on the server when the monitor is dropped; a killed connection is a
//! connection error; the handshake is the client's (password, db, TLS); opening counts
//! as a request; a closed client and a cluster config are refused.
mod support;

use std::time::Duration;

use redbridge::{
    Client, Config, ErrorKind, Monitor, MonitorClient, MonitorEvent, SyncClient, SyncMonitor,
};
use support::{c, wait_for, TestServer};

fn run<T>(f: impl std::future::Future<Output = T>) -> T {
    redbridge::runtime::runtime().block_on(f)
}

/// The ids of the monitor connections the server has now (`O` in CLIENT LIST's flags).
fn monitors(ctl: &mut redis::Connection) -> Vec<String> {
    let list: String = redis::cmd("CLIENT").arg("LIST").query(ctl).unwrap();
    list.lines()
        .filter(|l| {
            l.split(' ')
                .any(|f| f.strip_prefix("flags=").is_some_and(|v| v.contains('O')))
        })
        .filter_map(|l| l.split(' ').find_map(|f| f.strip_prefix("id=")))
        .map(str::to_string)
        .collect()
}

/// Reads the sync feed until a command named `name` (case-insensitive) shows up.
fn sync_until(m: &mut SyncMonitor, name: &str) -> MonitorEvent {
    loop {
        let e = m
            .next(Some(Duration::from_secs(5)))
            .unwrap()
            .unwrap_or_else(|| panic!("no {name} within 5 s"));
        if e.args[0].eq_ignore_ascii_case(name.as_bytes()) {
            return e;
        }
    }
}

async fn async_until(m: &mut Monitor, name: &str) -> MonitorEvent {
    loop {
        let e = tokio::time::timeout(Duration::from_secs(5), m.next_event())
            .await
            .unwrap_or_else(|_| panic!("no {name} within 5 s"))
            .unwrap();
        if e.args[0].eq_ignore_ascii_case(name.as_bytes()) {
            return e;
        }
    }
}

#[test]
fn another_clients_command_shows_up_with_its_arguments() {
    let srv = TestServer::start_owned(&[]);
    let config = srv.builder().db(2).build().unwrap();
    let client = run(Client::connect(config)).unwrap();
    let before = client.stats().requests;
    let mut m = run(client.monitor()).unwrap();
    assert_eq!(client.stats().requests, before + 1, "opening counts once");

    let mut other = srv.control();
    redis::cmd("SET")
        .arg(b"mon:k \"q\"".as_slice())
        .arg(b"v\x92\\\n".as_slice())
        .exec(&mut other)
        .unwrap();
    let e = run(async_until(&mut m, "SET"));
    assert_eq!(e.args, [&b"SET"[..], b"mon:k \"q\"", b"v\x92\\\n"], "{e:?}");
    assert_eq!(e.command, r#"SET mon:k "q" v\x92\\\n"#);
    assert_eq!(e.db, 0, "the other client's database");
    assert_eq!(e.client_type, MonitorClient::Tcp);
    assert_eq!(e.client_address, "127.0.0.1");
    assert!(e.client_port.parse::<u16>().is_ok(), "{e:?}");
    assert!(e.time > 1.6e9, "{e:?}");

    // The client's own commands are seen too, in its database.
    run(client.execute(&c(&["GET", "mon:own"]))).unwrap();
    let e = run(async_until(&mut m, "GET"));
    assert_eq!((e.db, e.command.as_str()), (2, "GET mon:own"));
}

#[test]
fn dropping_the_monitor_ends_the_feed_and_a_killed_one_reports_it() {
    let srv = TestServer::start_owned(&[]);
    let mut ctl = srv.control();
    let client = SyncClient::connect(srv.config()).unwrap();
    let mut m = client.monitor().unwrap();
    assert_eq!(monitors(&mut ctl).len(), 1);
    // Quiet server: the timeout passes with nothing to say.
    assert_eq!(m.next(Some(Duration::from_millis(100))).unwrap(), None);
    client.execute(&c(&["PING"])).unwrap();
    assert_eq!(sync_until(&mut m, "PING").command, "PING");
    drop(m);
    wait_for("the monitor connection to close", || {
        monitors(&mut ctl).is_empty()
    });
    // The client goes on.
    client.execute(&c(&["PING"])).unwrap();

    let mut m = client.monitor().unwrap();
    let [id] = &monitors(&mut ctl)[..] else {
        panic!("one monitor connection expected")
    };
    redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(id)
        .exec(&mut ctl)
        .unwrap();
    let e = loop {
        match m.next(Some(Duration::from_secs(5))) {
            Ok(Some(_)) => continue, // CLIENT KILL itself is monitored first
            Ok(None) => panic!("the killed monitor kept waiting"),
            Err(e) => break e,
        }
    };
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    // Once gone, it stays gone.
    assert_eq!(m.next(None).unwrap_err().kind(), ErrorKind::Connection);
}

#[test]
fn the_handshake_is_the_clients_password_and_db() {
    let srv = TestServer::start_owned(&["--requirepass", "s3cret"]);
    let config = srv.builder().password("s3cret").db(5).build().unwrap();
    let client = SyncClient::new(config).unwrap();
    let mut m = client.monitor().unwrap();
    client.execute(&c(&["SET", "mon:db", "1"])).unwrap();
    let e = sync_until(&mut m, "SET");
    assert_eq!(e.db, 5);
    // RESP2 as well as the default RESP3.
    let config = srv
        .builder()
        .password("s3cret")
        .protocol(redbridge::Protocol::Resp2)
        .build()
        .unwrap();
    let mut m2 = SyncMonitor::open(&config).unwrap();
    client.execute(&c(&["INCR", "mon:n"])).unwrap();
    assert_eq!(sync_until(&mut m2, "INCR").command, "INCR mon:n");

    let wrong = srv.builder().password("nope").build().unwrap();
    let e = SyncClient::new(wrong).unwrap().monitor().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(!e.to_string().contains("nope"), "{e}");
    let refused = Config::builder().host("127.0.0.1").port(1).build().unwrap();
    let client = SyncClient::new(refused).unwrap();
    let e = client.monitor().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    let stats = client.stats();
    assert_eq!(stats.requests, 1);
    assert!(
        stats.errors.contains(&(ErrorKind::Connection, 1)),
        "{stats:?}"
    );
}

#[test]
fn over_tls() {
    let srv = TestServer::start_tls(&[]);
    let files = srv.tls.as_ref().unwrap();
    let config = srv.builder().tls_ca_file(&files.ca).build().unwrap();
    let client = SyncClient::new(config).unwrap();
    let mut m = client.monitor().unwrap();
    client.execute(&c(&["GET", "mon:tls"])).unwrap();
    assert_eq!(sync_until(&mut m, "GET").command, "GET mon:tls");
}

#[test]
fn a_closed_client_and_a_cluster_are_refused() {
    let srv = TestServer::start();
    let client = SyncClient::new(srv.config()).unwrap();
    client.close();
    let e = client.monitor().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    let cluster = srv.builder().cluster(true).build().unwrap();
    let e = SyncMonitor::open(&cluster).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Cluster, "{e}");
}

#[test]
fn waiters_take_turns_and_a_cancelled_wait_loses_nothing() {
    let srv = TestServer::start_owned(&[]);
    let client = run(Client::connect(srv.config())).unwrap();
    let m = std::sync::Arc::new(run(client.monitor()).unwrap());
    // A wait given up before anything came.
    let gave_up =
        run(async { tokio::time::timeout(Duration::from_millis(50), m.next_event()).await });
    assert!(gave_up.is_err());
    let (a, b) = (m.clone(), m.clone());
    let first = redbridge::runtime::runtime().spawn(async move { a.next_event().await });
    let second = redbridge::runtime::runtime().spawn(async move { b.next_event().await });
    run(client.execute(&c(&["GET", "mon:1"]))).unwrap();
    run(client.execute(&c(&["GET", "mon:2"]))).unwrap();
    let mut got = vec![
        run(first).unwrap().unwrap().command,
        run(second).unwrap().unwrap().command,
    ];
    got.sort();
    assert_eq!(got, ["GET mon:1", "GET mon:2"]);
}
