//! A DHT of many rubo-net nodes in one process on loopback (LAN table,
//! loopback admitted): provide K keys spread over the nodes, then look them
//! up from a newcomer that knows one node. Prints the provide rate, lookup
//! latency (median, p95) and the process's peak memory. Run it inside a
//! private network namespace (bench/dht does).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rand::Rng;
use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_net::{DhtConfig, DhtMode, NetConfig, NetHandle};

pub(crate) fn opt(args: &[String], name: &str, default: usize) -> Result<usize> {
    match args.iter().position(|a| a == name) {
        Some(i) => args.get(i + 1).context("missing value")?.parse().context(name.to_string()),
        None => Ok(default),
    }
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let nodes = opt(args, "--nodes", 50)?;
    let keys = opt(args, "--keys", 10_000)?;
    let lookups = opt(args, "--lookups", 200)?;
    if nodes < 2 {
        bail!("--nodes must be at least 2");
    }
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(bench(nodes, keys, lookups))
}

pub(crate) fn config() -> NetConfig {
    NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        quic: false,
        bootstrap_min_peers: 0,
        dht: Some(DhtConfig {
            wan: false,
            lan: true,
            mode: DhtMode::Server,
            loopback_on_lan: true,
            ..DhtConfig::default()
        }),
        ..NetConfig::default()
    }
}

async fn start() -> Result<(NetHandle, Multiaddr)> {
    let (net, _task) = rubo_net::start(config(), Keypair::generate_ed25519()).await?;
    let id = net.local_peer_id();
    let addr = net.listen_addrs().await?.first().context("no listen address")?.clone().with(Protocol::P2p(id));
    Ok((net, addr))
}

pub(crate) async fn table_size(n: &NetHandle) -> usize {
    n.dht_stats()
        .await
        .map(|s| s.tables.iter().map(|t| t.buckets.iter().map(|b| b.1.len()).sum::<usize>()).sum())
        .unwrap_or(0)
}

/// The DHT key of a CID: its multihash (here of a counter).
fn key(i: usize) -> Vec<u8> {
    rubo_types::hash::sha2_256(&(i as u64).to_le_bytes()).to_bytes()
}

pub(crate) fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

pub(crate) fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

async fn bench(n: usize, keys: usize, lookups: usize) -> Result<()> {
    let t0 = Instant::now();
    let mut net = Vec::with_capacity(n);
    for _ in 0..n {
        net.push(start().await?);
    }
    // Each node knows the first and three random others: the DHT does the rest.
    let mut rng = rand::rng();
    for i in 1..n {
        net[i].0.connect(net[0].1.clone()).await?;
        for _ in 0..3 {
            let j = rng.random_range(0..n);
            if j != i {
                let _ = net[i].0.connect(net[j].1.clone()).await;
            }
        }
    }
    let want = 8.min(n - 1);
    let deadline = Instant::now() + Duration::from_secs(60);
    for (h, _) in &net {
        while table_size(h).await < want && Instant::now() < deadline {
            // Identify runs per connection; a bootstrap fills the rest of the table.
            let _ = h.dht_bootstrap().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    let sizes: Vec<usize> = futures_sizes(&net).await;
    println!(
        "dht: {n} nodes up and connected in {:.1} s; routing tables {}..{} peers",
        t0.elapsed().as_secs_f64(),
        sizes.iter().min().unwrap_or(&0),
        sizes.iter().max().unwrap_or(&0)
    );

    // Provide: keys round-robin over the nodes, 64 announcements in flight.
    let t = Instant::now();
    let sem = std::sync::Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::with_capacity(keys);
    let mut owner: Vec<PeerId> = Vec::with_capacity(keys);
    for k in 0..keys {
        let h = net[k % n].0.clone();
        owner.push(h.local_peer_id());
        let permit = sem.clone().acquire_owned().await?;
        tasks.push(tokio::spawn(async move {
            let r = h.dht_provide(key(k)).await;
            drop(permit);
            r
        }));
    }
    let mut ok = 0;
    let mut stored = 0;
    for t in tasks {
        if let Ok(Ok(s)) = t.await {
            ok += 1;
            stored += s;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "dht: provided {ok}/{keys} keys in {secs:.1} s = {:.0} keys/s (64 in flight), {:.1} peers took each record",
        ok as f64 / secs,
        stored as f64 / ok.max(1) as f64
    );

    // Lookups from a newcomer that knows one node.
    let (newcomer, _) = start().await?;
    newcomer.connect(net[n / 2].1.clone()).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while table_size(&newcomer).await < 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut times = Vec::with_capacity(lookups);
    let mut found = 0;
    for _ in 0..lookups {
        let k = rng.random_range(0..keys);
        let t = Instant::now();
        let mut rx = newcomer.dht_find_providers(key(k), 1, false).await?;
        if let Some(p) = rx.recv().await {
            times.push(t.elapsed());
            if p == owner[k] {
                found += 1;
            }
        }
    }
    times.sort();
    println!(
        "dht: {found}/{lookups} lookups from a node that knew one peer found the provider; first provider after median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        pct(&times, 0.5).as_secs_f64() * 1e3,
        pct(&times, 0.95).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!("dht: peak RSS of the process ({} nodes): {} MiB", n + 1, peak_rss_kib() / 1024);
    for (h, _) in net {
        let _ = h.shutdown().await;
    }
    Ok(())
}

async fn futures_sizes(net: &[(NetHandle, Multiaddr)]) -> Vec<usize> {
    let mut v = Vec::with_capacity(net.len());
    for (h, _) in net {
        v.push(table_size(h).await);
    }
    v
}
