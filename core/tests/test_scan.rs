//! SCAN streams: every item of 10k, lazily paged, through the async and blocking engines.
mod support;

use std::collections::HashSet;

use redbridge::{Client, Pipeline, ScanKind, ScanOptions, SyncClient, Value};
use support::{c, TestServer};

fn bytes(v: &Value) -> Vec<u8> {
    match v {
        Value::BulkString(b) => b.clone(),
        other => panic!("not a bulk string: {other:?}"),
    }
}

async fn fill(client: &Client) {
    let mut pipe = Pipeline::new(false);
    for i in 0..10_000 {
        let i = i.to_string();
        pipe.add(c(&["SET", &format!("scan:key:{i}"), "x"]));
        pipe.add(c(&["SADD", "scan:set", &i]));
        pipe.add(c(&[
            "HSET",
            "scan:hash",
            &format!("f{i}"),
            &format!("v{i}"),
        ]));
        pipe.add(c(&["ZADD", "scan:zset", &i, &format!("m{i}")]));
    }
    pipe.add(c(&["SADD", "scan:other-type", "x"]));
    for slot in client.pipeline(&pipe).await.unwrap() {
        slot.unwrap();
    }
}

/// An async SSCAN of `scan:set` (see [`fill`]), `count` members a page.
fn set_scan(client: &Client, count: usize) -> redbridge::ScanStream {
    let opts = ScanOptions {
        count: Some(count),
        ..Default::default()
    };
    client
        .scan(ScanKind::Set(b"scan:set".to_vec()), opts)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_iterations_return_every_item() {
    let srv = TestServer::start_owned(&[]);
    let client = Client::connect(srv.config()).await.unwrap();
    fill(&client).await;
    let opts = |pattern: Option<&str>| ScanOptions {
        pattern: pattern.map(|p| p.as_bytes().to_vec()),
        count: Some(500),
        key_type: None,
    };

    let keys = client
        .scan(ScanKind::Keys, opts(Some("scan:key:*")))
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let keys: HashSet<Vec<u8>> = keys.iter().map(bytes).collect();
    assert_eq!(keys.len(), 10_000);
    assert!(keys.contains(b"scan:key:9999".as_slice()));

    let typed = ScanOptions {
        key_type: Some("set".into()),
        ..opts(Some("scan:*"))
    };
    let sets: HashSet<Vec<u8>> = client
        .scan(ScanKind::Keys, typed)
        .unwrap()
        .collect_all()
        .await
        .unwrap()
        .iter()
        .map(bytes)
        .collect();
    assert_eq!(
        sets,
        HashSet::from([b"scan:set".to_vec(), b"scan:other-type".to_vec()])
    );

    let members = client
        .scan(ScanKind::Set(b"scan:set".to_vec()), opts(None))
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let members: HashSet<Vec<u8>> = members.iter().map(bytes).collect();
    assert_eq!(
        members,
        (0..10_000).map(|i| i.to_string().into_bytes()).collect()
    );

    let pairs = client
        .scan(ScanKind::Hash(b"scan:hash".to_vec()), opts(None))
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let fields: HashSet<(Vec<u8>, Vec<u8>)> = pairs
        .iter()
        .map(|p| match p {
            Value::Array(fv) => (bytes(&fv[0]), bytes(&fv[1])),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(fields.len(), 10_000);
    assert!(fields.contains(&(b"f42".to_vec(), b"v42".to_vec())));

    let scored = client
        .scan(ScanKind::SortedSet(b"scan:zset".to_vec()), opts(None))
        .unwrap()
        .collect_all()
        .await
        .unwrap();
    let scored: HashSet<(Vec<u8>, Vec<u8>)> = scored
        .iter()
        .map(|p| match p {
            Value::Array(ms) => (bytes(&ms[0]), bytes(&ms[1])),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(scored.len(), 10_000);
    assert!(scored.contains(&(b"m7".to_vec(), b"7".to_vec())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_are_read_at_most_one_ahead() {
    let srv = TestServer::start_owned(&[]);
    let client = Client::connect(srv.config()).await.unwrap();
    fill(&client).await;
    let before = client.stats().requests;
    let before_direct = client.stats().direct_requests;
    let mut stream = set_scan(&client, 100);
    let first = stream.next_batch().await.unwrap().unwrap();
    assert!(!first.is_empty() && first.len() < 10_000);
    // Give a page asked for ahead time to arrive, and any further one time to be asked.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        client.stats().requests - before,
        2,
        "this page and the next"
    );
    let second = stream.next_batch().await.unwrap().unwrap();
    assert!(!second.is_empty());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(client.stats().requests - before, 3);
    let mut total = first.len() + second.len();
    while let Some(page) = stream.next_batch().await.unwrap() {
        total += page.len();
    }
    assert_eq!(total, 10_000, "every member once");
    // Pages are read on the direct connection, with redbridge's own reply reader.
    assert_eq!(
        client.stats().direct_requests - before_direct,
        client.stats().requests - before
    );
}

/// A page request cancelled midway (its future dropped while the page is on its way) is
/// asked for again by the next call: every member once, none lost or repeated, and the
/// client's next command gets its own reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_page_is_asked_for_again() {
    use futures::FutureExt;
    let srv = TestServer::start_owned(&[]);
    let client = Client::connect(srv.config()).await.unwrap();
    fill(&client).await;
    let mut stream = set_scan(&client, 500);
    let mut seen = HashSet::new();
    let mut pages = 0;
    let mut cancelled = 0;
    loop {
        pages += 1;
        let page = if pages % 3 == 0 {
            // Polled once, then dropped: the page is on its way, nobody waits for it.
            match stream.next_batch().now_or_never() {
                None => {
                    cancelled += 1;
                    continue;
                }
                Some(page) => page.unwrap(),
            }
        } else {
            stream.next_batch().await.unwrap()
        };
        let Some(page) = page else {
            break;
        };
        for m in page {
            assert!(seen.insert(bytes(&m)), "a member twice");
        }
    }
    assert_eq!(seen.len(), 10_000);
    assert!(cancelled > 0, "no page request was cancelled midway");
    assert_eq!(
        client.execute(&c(&["SCARD", "scan:set"])).await.unwrap(),
        Value::Int(10_000)
    );
}

#[test]
fn sync_scan_iterates_every_key() {
    let srv = TestServer::start_owned(&[]);
    let client = SyncClient::connect(srv.config()).unwrap();
    let mut pipe = Pipeline::new(false);
    for i in 0..10_000 {
        pipe.add(c(&["SET", &format!("s:{i}"), "x"]));
    }
    client.pipeline(&pipe).unwrap();
    let mut seen = HashSet::new();
    let mut control = srv.control();
    let (scans_before, _) = support::commandstats(&mut control, "scan");
    let before = client.stats();
    let mut pages = 0;
    for page in client
        .scan(
            ScanKind::Keys,
            ScanOptions {
                count: Some(1000),
                ..Default::default()
            },
        )
        .unwrap()
    {
        pages += 1;
        for k in page.unwrap() {
            seen.insert(bytes(&k));
        }
    }
    assert_eq!(seen.len(), 10_000);
    // From the third page on, each page is asked for as soon as the one before has
    // brought its cursor: still one SCAN per page the server served (none after the
    // last), all on the direct connection.
    let after = client.stats();
    let (scans, _) = support::commandstats(&mut control, "scan");
    assert!(pages >= 9, "{pages} pages");
    assert!(
        scans - scans_before >= pages,
        "{scans} {scans_before} {pages}"
    );
    assert_eq!(after.requests - before.requests, scans - scans_before);
    assert_eq!(
        after.direct_requests - before.direct_requests,
        scans - scans_before
    );
    assert_eq!(
        client.execute(&c(&["GET", "s:7"])).unwrap(),
        Value::BulkString(b"x".to_vec())
    );
}

#[test]
fn type_is_only_for_keys() {
    let e = redbridge::ScanCursor::new(
        ScanKind::Set(b"s".to_vec()),
        ScanOptions {
            key_type: Some("set".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.message().contains("TYPE"), "{e}");
}

/// A sync scan asks for its next page before handing out this one; commands and
/// pipelines issued between pages still get their own replies, a connection lost with
/// a page ahead costs nothing but a second ask, and a scan dropped early leaves no reply
/// behind for the next command.
#[test]
fn sync_scan_asks_one_page_ahead_and_shares_the_connection() {
    let srv = TestServer::start_owned(&[]);
    let client = SyncClient::connect(srv.config()).unwrap();
    let mut pipe = Pipeline::new(false);
    for i in 0..10_000 {
        pipe.add(c(&["SET", &format!("sa:{i}"), &i.to_string()]));
    }
    client.pipeline(&pipe).unwrap();
    let opts = || ScanOptions {
        count: Some(2000),
        ..Default::default()
    };
    let value_of = |k: &[u8]| -> Vec<u8> { k[3..].to_vec() };

    let before = client.stats();
    let mut scan = client.scan(ScanKind::Keys, opts()).unwrap();
    let first = scan.next_batch().unwrap().unwrap();
    let after = client.stats();
    assert_eq!(
        after.requests - before.requests,
        2,
        "this page and the next"
    );
    assert_eq!(after.direct_requests - before.direct_requests, 2);

    let mut total = first.len();
    let mut seen: HashSet<Vec<u8>> = first.iter().map(bytes).collect();
    let mut control = srv.control();
    let mut pages = 1;
    while let Some(page) = scan.next_batch().unwrap() {
        pages += 1;
        total += page.len();
        if pages == 3 {
            // The page asked ahead was refused (below): back to no limit.
            redis::cmd("CONFIG")
                .arg(&["SET", "client-output-buffer-limit", "normal 0 0 0"])
                .exec(&mut control)
                .unwrap();
        }
        for k in page.iter().step_by(50) {
            let k = bytes(k);
            let got = client
                .execute(&redbridge::Command::new(vec![b"GET".to_vec(), k.clone()]).unwrap())
                .unwrap();
            assert_eq!(got, Value::BulkString(value_of(&k)));
        }
        let mut p = Pipeline::new(false);
        p.add(c(&["GET", "sa:1"])).add(c(&["GET", "sa:2"]));
        let slots = client.pipeline(&p).unwrap();
        assert_eq!(
            slots[1].as_ref().unwrap(),
            &Value::BulkString(b"2".to_vec())
        );
        seen.extend(page.iter().map(bytes));
        if pages == 2 {
            // This page's ahead reply has been read by the GETs above. The next page asked
            // ahead is over this limit: the server closes the connection instead of
            // answering, so its reply is lost and the page must be asked for again.
            redis::cmd("CONFIG")
                .arg(&["SET", "client-output-buffer-limit", "normal 1000 1000 0"])
                .exec(&mut control)
                .unwrap();
        }
    }
    assert_eq!(seen.len(), 10_000);
    assert_eq!(total, 10_000, "no page twice");

    let mut scan = client.scan(ScanKind::Keys, opts()).unwrap();
    assert!(scan.next_batch().unwrap().is_some());
    drop(scan);
    assert_eq!(
        client.execute(&c(&["GET", "sa:42"])).unwrap(),
        Value::BulkString(b"42".to_vec())
    );
}
