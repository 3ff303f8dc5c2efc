//! Errors: clear kinds and messages; the password never shows.
mod support;

use std::time::Duration;

use redbridge::{Client, Config, ErrorKind, SyncClient};
use support::{c, TestServer};

const SECRET: &str = "hunter2-do-not-leak";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_is_an_authentication_error_without_the_password() {
    let srv = TestServer::start_owned(&["--requirepass", "the-right-one"]);
    let url = format!("redis://:{SECRET}@127.0.0.1:{}/0", srv.port);
    let cfg = Config::from_url(&url).unwrap();
    assert!(!format!("{cfg:?}").contains(SECRET));
    let e = Client::connect(cfg.clone()).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(
        !e.to_string().contains(SECRET) && !format!("{e:?}").contains(SECRET),
        "{e:?}"
    );
    let client = Client::new(cfg.clone()).unwrap();
    assert!(!format!("{client:?}").contains(SECRET));
    let e = SyncClient::connect(cfg).unwrap_err();
    assert!(!e.to_string().contains(SECRET));

    let good = Config::from_url(&format!("redis://:the-right-one@127.0.0.1:{}", srv.port)).unwrap();
    let client = Client::connect(good).await.unwrap();
    client.execute(&c(&["PING"])).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_server_names_the_address() {
    // A port nobody listens on (bound then released).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = Config::builder()
        .port(port)
        .password(SECRET)
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let e = Client::connect(cfg).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(e.message().contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(!e.to_string().contains(SECRET));
}

#[tokio::test]
async fn server_errors_keep_their_code() {
    let srv = TestServer::start();
    let client = Client::connect(srv.config()).await.unwrap();
    client.execute(&c(&["SET", "e:s", "x"])).await.unwrap();
    let e = client
        .execute(&c(&["LPUSH", "e:s", "y"]))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Response);
    assert_eq!(e.code(), Some("WRONGTYPE"));
    let e = client.execute(&c(&["NOSUCHCMD"])).await.unwrap_err();
    assert_eq!(e.code(), Some("ERR"));
    // Binary arguments round-trip.
    let bin = [0u8, 255, 13, 10, 0];
    client
        .execute(&redbridge::Command::new([&b"SET"[..], b"e:bin", &bin]).unwrap())
        .await
        .unwrap();
    let v = client
        .execute(&redbridge::Command::new([&b"GET"[..], b"e:bin"]).unwrap())
        .await
        .unwrap();
    assert_eq!(v, redbridge::Value::BulkString(bin.to_vec()));
}

#[test]
fn invalid_urls_name_the_bad_part() {
    for (url, part) in [
        ("redis://localhost:99999", "port"),
        ("redis://localhost/abc", "database"),
        ("ftp://localhost", "scheme"),
        ("redis://localhost?max_connections=0", "max_connections"),
        ("redis://localhost?guard=maybe", "guard"),
        ("not a url", "invalid Redis URL"),
    ] {
        let e = Config::from_url(url).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(e.message().contains(part), "{url}: {e}");
    }
}

#[test]
fn a_lazy_client_fails_fast_when_the_server_was_never_reachable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = Config::builder().port(port).build().unwrap();
    let client = SyncClient::new(cfg).unwrap();
    let t0 = std::time::Instant::now();
    let e = client.execute(&c(&["GET", "k"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t0.elapsed()
    );
}

#[test]
fn a_lazy_client_with_a_wrong_password_fails_fast_with_authentication() {
    let srv = TestServer::start_owned(&["--requirepass", "the-right-one"]);
    let url = format!("redis://:{SECRET}@127.0.0.1:{}/0", srv.port);
    let client = SyncClient::new(Config::from_url(&url).unwrap()).unwrap();
    let t0 = std::time::Instant::now();
    let e = client.execute(&c(&["GET", "k"])).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(
        t0.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t0.elapsed()
    );
    assert!(!e.to_string().contains(SECRET));
}
