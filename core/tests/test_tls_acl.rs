//! TLS (rediss://, mutual TLS, clear handshake errors) and ACL users, against real
//! servers the harness starts: a TLS-only one with certificates it makes with openssl,
//! and a plain one with an ACL user.
mod support;

use std::time::Duration;

use redbridge::{Client, ConfigBuilder, ErrorKind, SyncClient, Value};
use support::{c, TestServer};

fn tls_builder(srv: &TestServer) -> ConfigBuilder {
    srv.builder().connect_timeout(Duration::from_secs(1))
}

fn exercise(client: &SyncClient) {
    client.execute(&c(&["SET", "tls:k", "v"])).unwrap();
    assert_eq!(
        client.execute(&c(&["GET", "tls:k"])).unwrap(),
        Value::BulkString(b"v".to_vec())
    );
    // A blocking command runs on a leased (pooled) connection: TLS there too.
    assert_eq!(
        client.execute(&c(&["BLPOP", "tls:empty", "0.05"])).unwrap(),
        Value::Nil
    );
    let mut pipe = redbridge::Pipeline::new(true);
    pipe.add(c(&["INCR", "tls:n"])).add(c(&["INCR", "tls:n"]));
    assert_eq!(
        client.pipeline(&pipe).unwrap()[1].as_ref().unwrap(),
        &Value::Int(2)
    );
}

#[test]
fn tls_with_the_ca_works_on_every_kind_of_connection() {
    let srv = TestServer::start_tls(&[]);
    let files = srv.tls.as_ref().unwrap();
    assert!(srv.url.starts_with("rediss://"));
    let config = tls_builder(&srv).tls_ca_file(&files.ca).build().unwrap();
    assert!(config.tls().unwrap().has_ca());
    let client = SyncClient::connect(config.clone()).unwrap();
    exercise(&client);
    assert!(
        client.stats().direct_requests > 0,
        "the direct path is TLS too"
    );
    // The async client and the query-string form of the options.
    let url = format!("{}?ssl_ca_certs={}", srv.url, files.ca);
    let async_client = {
        let _rt = redbridge::runtime::runtime().enter();
        Client::new(ConfigBuilder::from_url(&url).unwrap().build().unwrap()).unwrap()
    };
    let v = redbridge::runtime::runtime()
        .block_on(async { async_client.execute(&c(&["GET", "tls:k"])).await })
        .unwrap();
    assert_eq!(v, Value::BulkString(b"v".to_vec()));
}

#[test]
fn tls_errors_say_what_failed() {
    let srv = TestServer::start_tls(&[]);
    let files = srv.tls.as_ref().unwrap();
    for builder in [
        tls_builder(&srv),
        tls_builder(&srv).tls_ca_file(&files.other_ca),
    ] {
        let e = SyncClient::connect(builder.build().unwrap())
            .map(drop)
            .expect_err("untrusted CA");
        assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
        assert!(e.to_string().contains("not signed by a CA"), "{e}");
        eprintln!("untrusted: {e}");
    }
    // The certificate is for 127.0.0.1, not for "localhost".
    let by_name = format!("rediss://localhost:{}", srv.port);
    let config = ConfigBuilder::from_url(&by_name)
        .unwrap()
        .connect_timeout(Duration::from_secs(1))
        .tls_ca_file(&files.ca)
        .build()
        .unwrap();
    let e = SyncClient::connect(config)
        .map(drop)
        .expect_err("hostname mismatch");
    eprintln!("mismatch: {e}");
    assert!(
        e.to_string()
            .contains("not valid for the host name \"localhost\""),
        "{e}"
    );
    // Not verifying at all (redis-py ssl_cert_reqs="none") connects to anyone.
    let insecure = tls_builder(&srv).tls_verify(false).build().unwrap();
    exercise(&SyncClient::connect(insecure).unwrap());
    // Bad settings fail when the configuration is built, naming the option.
    let e = tls_builder(&srv)
        .tls_ca_file("/no/such/ca.pem")
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("tls_ca_file") && e.to_string().contains("/no/such/ca.pem"),
        "{e}"
    );
    let e = ConfigBuilder::default()
        .tls_ca_file(&files.ca)
        .build()
        .unwrap_err();
    assert!(
        e.to_string().contains("tls is off") && e.to_string().contains("set tls=true"),
        "{e}"
    );
}

#[test]
fn mutual_tls_needs_and_uses_the_client_certificate() {
    let srv = TestServer::start_tls(&["--tls-auth-clients", "yes"]);
    let files = srv.tls.as_ref().unwrap();
    let without = tls_builder(&srv).tls_ca_file(&files.ca).build().unwrap();
    let e = SyncClient::connect(without)
        .map(drop)
        .expect_err("the server wants a certificate");
    eprintln!("mTLS without a certificate: {e}");
    assert_eq!(e.kind(), ErrorKind::Connection, "{e}");
    let with = tls_builder(&srv)
        .tls_ca_file(&files.ca)
        .tls_client_cert_files(&files.cert, &files.key)
        .build()
        .unwrap();
    let debug = format!("{with:?}");
    let key = std::fs::read_to_string(&files.key).unwrap();
    assert!(
        !debug.contains(key.lines().nth(1).unwrap()),
        "key material in Debug"
    );
    exercise(&SyncClient::connect(with).unwrap());
}

#[test]
fn acl_users_on_every_connection_and_clear_refusals() {
    let srv = TestServer::start_owned(&[]);
    let mut admin = srv.control();
    redis::cmd("ACL")
        .arg(&[
            "SETUSER",
            "app",
            "on",
            ">s3cret-pw",
            "~*",
            "+@all",
            "-keys",
            "-flushall",
        ])
        .exec(&mut admin)
        .unwrap();
    let config = srv
        .builder()
        .username("app")
        .password("s3cret-pw")
        .build()
        .unwrap();
    let client = SyncClient::connect(config).unwrap();
    exercise(&client);
    let who = client.execute(&c(&["ACL", "WHOAMI"])).unwrap();
    assert_eq!(who, Value::BulkString(b"app".to_vec()));
    // NOPERM names the command; it is not retried.
    let e = client.execute(&c(&["KEYS", "*"])).unwrap_err();
    assert_eq!(e.code(), Some("NOPERM"), "{e}");
    assert!(e.to_string().to_lowercase().contains("keys"), "{e}");
    // Reconnects authenticate again.
    redis::cmd("CLIENT")
        .arg(&["KILL", "USER", "app"])
        .exec(&mut admin)
        .unwrap();
    let mut ok = false;
    for _ in 0..50 {
        if client.execute(&c(&["GET", "tls:k"])).is_ok() {
            ok = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(ok, "the client came back as the ACL user");
    // A wrong password is an authentication error that does not show the password.
    let wrong = srv
        .builder()
        .username("app")
        .password("not-the-pw")
        .connect_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let e = SyncClient::connect(wrong)
        .map(drop)
        .expect_err("wrong password");
    eprintln!("wrong password: {e}");
    assert_eq!(e.kind(), ErrorKind::Authentication, "{e}");
    assert!(!e.to_string().contains("not-the-pw") && !format!("{e:?}").contains("not-the-pw"));
}

#[test]
fn a_user_without_a_password_logs_in_as_that_user() {
    // An ACL `nopass` user given without a password: every connection (the direct one,
    // the shared one, a leased one) is that user's, not the default user's.
    let srv = TestServer::start_owned(&[]);
    let mut admin = srv.control();
    redis::cmd("ACL")
        .arg(&[
            "SETUSER", "viewer", "on", "nopass", "~cache:*", "+get", "+acl",
        ])
        .exec(&mut admin)
        .unwrap();
    let config = srv.builder().username("viewer").build().unwrap();
    let client = SyncClient::new(config).unwrap();
    let who = client.execute(&c(&["ACL", "WHOAMI"])).unwrap();
    assert_eq!(who, Value::BulkString(b"viewer".to_vec()));
    let async_who = redbridge::runtime::runtime()
        .block_on(async { client.async_client().execute(&c(&["ACL", "WHOAMI"])).await })
        .unwrap();
    assert_eq!(async_who, Value::BulkString(b"viewer".to_vec()));
    // The user's rules apply: a key outside ~cache:* is refused.
    let e = client.execute(&c(&["GET", "other"])).unwrap_err();
    assert_eq!(e.code(), Some("NOPERM"), "{e}");
}
