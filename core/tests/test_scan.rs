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
async fn pages_are_fetched_only_when_consumed() {
    let srv = TestServer::start_owned(&[]);
    let client = Client::connect(srv.config()).await.unwrap();
    fill(&client).await;
    let before = client.stats().requests;
    let mut stream = client
        .scan(
            ScanKind::Set(b"scan:set".to_vec()),
            ScanOptions {
                count: Some(100),
                ..Default::default()
            },
        )
        .unwrap();
    let first = stream.next_batch().await.unwrap().unwrap();
    assert!(!first.is_empty() && first.len() < 10_000);
    assert_eq!(client.stats().requests - before, 1, "one page, one request");
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
        for k in page.unwrap() {
            seen.insert(bytes(&k));
        }
    }
    assert_eq!(seen.len(), 10_000);
}

#[test]
fn type_is_only_for_keys() {
    let e = redbridge::scan::ScanCursor::new(
        ScanKind::Set(b"s".to_vec()),
        ScanOptions {
            key_type: Some("set".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.message().contains("TYPE"), "{e}");
}
