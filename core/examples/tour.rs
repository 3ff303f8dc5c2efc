//! A short tour of the redbridge core against the server in REDIS_URL.
//!
//! `make demo` runs it against a throwaway redis-server. Every figure printed is measured
//! on the spot.

use std::time::{Duration, Instant};

use redbridge::{
    Client, Command, ConfigBuilder, Pipeline, ScanKind, ScanOptions, SyncClient, Value,
};

fn cmd(args: &[&str]) -> Command {
    Command::new(args).expect("a valid command")
}

/// Shows a reply the way redis-cli would.
fn show(v: &Value) -> String {
    match v {
        Value::Nil => "(nil)".into(),
        Value::Int(i) => format!("(integer) {i}"),
        Value::BulkString(b) => format!("{:?}", String::from_utf8_lossy(b)),
        Value::SimpleString(s) => s.clone(),
        Value::Okay => "OK".into(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(show).collect::<Vec<_>>().join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> redbridge::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let builder = ConfigBuilder::from_url(&url)?
        .client_name("redbridge-tour")
        .on_warning(|w| println!("   guard warning -> {}", w.message));
    let config = builder.build()?;
    println!("redbridge tour — {url}\n");
    println!("1. One client, one shared connection (RESP3, auto-pipelined)");
    let client = Client::connect(config.clone()).await?;
    client
        .execute(&cmd(&["SET", "tour:greeting", "hello"]))
        .await?;
    let v = client.execute(&cmd(&["GET", "tour:greeting"])).await?;
    println!("   GET tour:greeting -> {}", show(&v));

    println!("\n2. 10,000 GETs from 64 concurrent tasks share that one connection");
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..157 {
                c.execute(&cmd(&["GET", "tour:greeting"])).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let took = t0.elapsed();
    println!(
        "   {} in {} ({:.0} ops/s)",
        64 * 157,
        ms(took),
        (64.0 * 157.0) / took.as_secs_f64()
    );

    println!("\n3. A pipeline sends 10,000 commands in one write");
    let t0 = Instant::now();
    for i in 0..1000 {
        client
            .execute(&cmd(&["SET", &format!("tour:seq:{i}"), "v"]))
            .await?;
    }
    let sequential = t0.elapsed();
    let mut pipe = Pipeline::new(false);
    for i in 0..10_000 {
        pipe.add(cmd(&["SET", &format!("tour:key:{i}"), "v"]));
    }
    let t0 = Instant::now();
    let slots = client.pipeline(&pipe).await?;
    println!(
        "   1,000 awaited one by one: {}; 10,000 pipelined: {} ({} replies, each in its slot)",
        ms(sequential),
        ms(t0.elapsed()),
        slots.len()
    );

    println!("\n4. A BLPOP blocking for 1 s runs on a leased connection; GETs are not held up");
    let blocker = client.clone();
    let blpop =
        tokio::spawn(async move { blocker.execute(&cmd(&["BLPOP", "tour:queue", "1"])).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let t0 = Instant::now();
    client.execute(&cmd(&["GET", "tour:greeting"])).await?;
    println!("   GET during the BLPOP took {}", ms(t0.elapsed()));
    println!("   BLPOP -> {}", show(&blpop.await.expect("task")?));

    println!("\n5. SCAN, page by page, instead of KEYS");
    let mut stream = client.scan(
        ScanKind::Keys,
        ScanOptions {
            pattern: Some(b"tour:key:*".to_vec()),
            count: Some(1000),
            key_type: None,
        },
    )?;
    let (mut pages, mut keys) = (0, 0);
    while let Some(page) = stream.next_batch().await? {
        pages += 1;
        keys += page.len();
    }
    println!("   {keys} keys in {pages} pages");
    println!("   and KEYS, for comparison:");
    let _ = client.execute(&cmd(&["KEYS", "tour:key:1*"])).await?;

    println!("\n6. Timeouts: a server stalled by DEBUG SLEEP 0.5, response_timeout 100 ms");
    let impatient = Client::connect(
        ConfigBuilder::from_url(&url)?
            .response_timeout(Duration::from_millis(100))
            .build()?,
    )
    .await?;
    let t0 = Instant::now();
    match impatient.execute(&cmd(&["DEBUG", "SLEEP", "0.5"])).await {
        Err(e) => println!("   after {}: {:?} — {e}", ms(t0.elapsed()), e.kind()),
        Ok(v) => println!("   unexpected reply {}", show(&v)),
    }
    tokio::time::sleep(Duration::from_millis(450)).await;
    let v = impatient.execute(&cmd(&["GET", "tour:greeting"])).await?;
    println!("   the next command still gets its own reply: {}", show(&v));

    println!("\n7. State changes are refused with the option to use instead");
    if let Err(e) = client.execute(&cmd(&["SELECT", "2"])).await {
        println!("   SELECT 2 -> {e}");
    }

    println!("\n8. The blocking engine: a lone thread does its own I/O (no thread hop)");
    let sync = tokio::task::spawn_blocking(move || -> redbridge::Result<(Duration, u64)> {
        let sync = SyncClient::connect(config)?;
        let get = cmd(&["GET", "tour:greeting"]);
        let t0 = Instant::now();
        for _ in 0..5000 {
            sync.execute(&get)?;
        }
        Ok((t0.elapsed(), sync.stats().direct_requests))
    })
    .await
    .expect("thread")?;
    println!(
        "   5,000 sequential GETs in {} ({:.0} ops/s), {} on the caller's thread",
        ms(sync.0),
        5000.0 / sync.0.as_secs_f64(),
        sync.1
    );

    let mut cleanup = Pipeline::new(false);
    cleanup.add(cmd(&["UNLINK", "tour:greeting"]));
    client.pipeline(&cleanup).await?;
    let s = client.stats();
    println!(
        "\n9. Stats: {} requests, {} retries, {} reconnects, pool {:?}",
        s.requests, s.retries, s.reconnects, s.pool
    );
    Ok(())
}
