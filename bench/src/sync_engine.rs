//! The core's engines beside `redis-benchmark` on the same server.
//!
//! Prints the sequential GET rate of the sync engine (a lone caller doing its own I/O)
//! beside `redis-benchmark -P 1 -c 1`, and the rates of 8 threads sharing one
//! `SyncClient` and of 64 async tasks sharing one `Client` beside `-c 8` / `-c 64`.
//! Medians of three runs; values of 100 bytes. Needs REDIS_URL (see
//! `tests/harness/with-redis.sh`); QUICK=1 runs a tiny version.

use std::process::Command as Proc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use redbridge::{Addr, CacheConfig, Client, Command, Config, SyncClient};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn redis_benchmark(host: &str, port: u16, clients: usize, n: usize) -> Option<f64> {
    let out = Proc::new("redis-benchmark")
        .args([
            "-h",
            host,
            "-p",
            &port.to_string(),
            "-P",
            "1",
            "-c",
            &clients.to_string(),
        ])
        .args(["-t", "set,get", "-d", "100", "-n", &n.to_string(), "--csv"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("\"GET\""))?;
    line.split(',').nth(1)?.trim_matches('"').parse().ok()
}

fn get() -> Command {
    Command::new(["GET", "bench:key"]).unwrap()
}

fn sequential(client: &SyncClient, n: usize) -> (f64, Duration, Duration) {
    let mut lat = Vec::with_capacity(n);
    let start = Instant::now();
    let cmd = get();
    for _ in 0..n {
        let t = Instant::now();
        client.execute(&cmd).unwrap();
        lat.push(t.elapsed());
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    lat.sort();
    (rate, lat[n / 2], lat[n * 99 / 100])
}

fn threads(client: &SyncClient, threads: usize, n: usize) -> f64 {
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || {
                let cmd = get();
                for _ in 0..n / threads {
                    client.execute(&cmd).unwrap();
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    (n / threads * threads) as f64 / start.elapsed().as_secs_f64()
}

fn tasks(rt: &tokio::runtime::Runtime, client: &Client, tasks: usize, n: usize) -> f64 {
    rt.block_on(async {
        let start = Instant::now();
        let cmd = Arc::new(get());
        let handles: Vec<_> = (0..tasks)
            .map(|_| {
                let (client, cmd) = (client.clone(), cmd.clone());
                tokio::spawn(async move {
                    for _ in 0..n / tasks {
                        client.execute(&cmd).await.unwrap();
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        (n / tasks * tasks) as f64 / start.elapsed().as_secs_f64()
    })
}

fn main() {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| {
        eprintln!("REDIS_URL is not set; run through tests/harness/with-redis.sh (make bench)");
        std::process::exit(2)
    });
    let quick = std::env::var("QUICK").is_ok_and(|v| v == "1");
    let (n, runs) = if quick { (2_000, 1) } else { (20_000, 3) };
    let config = Config::from_url(&url).expect("REDIS_URL");
    let Addr::Tcp { host, port } = config.addr().clone() else {
        panic!("the bench needs a TCP server");
    };
    let sync = SyncClient::connect(config.clone()).expect("connect");
    sync.execute(&Command::new(["SET", "bench:key", &"x".repeat(100)]).unwrap())
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = rt.block_on(Client::connect(config)).expect("connect");

    let mut w1 = Vec::new();
    let (mut p50s, mut p99s) = (Vec::new(), Vec::new());
    let (mut t8, mut a64) = (Vec::new(), Vec::new());
    let (mut rb1, mut rb8, mut rb64) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        // Interleaved: each run measures every contender once.
        let (rate, p50, p99) = sequential(&sync, n);
        w1.push(rate);
        p50s.push(p50.as_secs_f64() * 1e6);
        p99s.push(p99.as_secs_f64() * 1e6);
        rb1.extend(redis_benchmark(&host, port, 1, n));
        t8.push(threads(&sync, 8, n * 2));
        rb8.extend(redis_benchmark(&host, port, 8, n * 2));
        a64.push(tasks(&rt, &client, 64, n * 4));
        rb64.extend(redis_benchmark(&host, port, 64, n * 4));
    }
    // W5: 50k GETs over 100 hot keys through the client-side cache.
    let cached = SyncClient::connect(
        redbridge::ConfigBuilder::from_url(&url)
            .unwrap()
            .cache(CacheConfig::default())
            .build()
            .unwrap(),
    )
    .expect("connect");
    let hot: Vec<Command> = (0..100)
        .map(|i| {
            sync.execute(
                &Command::new(["SET", &format!("bench:hot:{i}"), &"x".repeat(100)]).unwrap(),
            )
            .unwrap();
            Command::new(["GET", &format!("bench:hot:{i}")]).unwrap()
        })
        .collect();
    let w5n = if quick { 5_000 } else { 50_000 };
    let mut w5 = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        for i in 0..w5n {
            cached.execute(&hot[i % 100]).unwrap();
        }
        w5.push(w5n as f64 / start.elapsed().as_secs_f64());
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("# redbridge core engines vs redis-benchmark (GET, 100 B values, median of {runs})");
    println!("machine load: {}", load.trim());
    println!();
    println!("| workload | redbridge ops/s | redis-benchmark ops/s | ratio |");
    println!("|---|---:|---:|---:|");
    let row = |name: &str, ours: f64, anchor: &[f64], label: &str| {
        if anchor.is_empty() {
            println!("| {name} | {ours:.0} | (redis-benchmark not found) | - |");
        } else {
            let a = median(anchor.to_vec());
            println!(
                "| {name} | {ours:.0} | {a:.0} ({label}) | {:.2}x |",
                ours / a
            );
        }
    };
    row(
        "W1 sequential, sync engine, 1 caller",
        median(w1.clone()),
        &rb1,
        "-P1 -c1",
    );
    row(
        "8 threads sharing one SyncClient",
        median(t8),
        &rb8,
        "-P1 -c8",
    );
    row(
        "64 async tasks sharing one Client",
        median(a64),
        &rb64,
        "-P1 -c64",
    );
    println!();
    println!(
        "W1 latency: p50 {:.1} us, p99 {:.1} us (goal: W1 >= 0.9x redis-benchmark -P1 -c1)",
        median(p50s),
        median(p99s)
    );
    let w1m = median(w1.clone());
    let w5m = median(w5);
    println!(
        "W5 client-side cache, 50k GETs over 100 hot keys: {w5m:.0} ops/s = {:.1}x the uncached W1 (goal >= 20x)",
        w5m / w1m
    );
    let s = sync.stats();
    println!(
        "sync engine: {} of {} requests served on the caller's thread",
        s.direct_requests, s.requests
    );
}
