//! Reproviding many CIDs into a loopback DHT: the sweeping reprovider (keys sorted by DHT key,
//! one exploration of the network, each region's peers sent all their keys) against the naive
//! way (one lookup per key), in the same run, against the same DHT servers.
//!
//! The DHT servers (`--nodes`, with their records on disk as a daemon keeps them) run in a child
//! process, so that the peak memory reported is the providing node's alone. The naive way is
//! timed on a sample of the keys (`--naive`) and its full time extrapolated: at one lookup per
//! key it would take hours for a million. Run inside a private network namespace (bench/reprovide
//! does).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use rand::Rng;
use rubo_net::libp2p::Multiaddr;
use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::{DhtNet, DhtStorage, NetConfig, NetHandle};
use rubo_node::sweep::{self, Keystore, Pace, SweepReport};
use rubo_repo::{Datastore, RedbDatastore};

use crate::dht::{config, opt, peak_rss_kib, table_size};

/// The multihash of the i-th key.
fn key(i: usize) -> rubo_types::Multihash {
    rubo_types::hash::sha2_256(&(i as u64).to_be_bytes())
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn node_config(storage: Option<Arc<dyn Datastore>>) -> NetConfig {
    let mut c = config();
    if let Some(d) = c.dht.as_mut() {
        d.storage = storage.map(DhtStorage);
        // The servers take a million records from one provider: no per-peer limit in the way.
        d.max_puts_per_peer_minute = u32::MAX;
    }
    c
}

pub(crate) fn run(args: &[String]) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if args.iter().any(|a| a == "--servers") {
        return rt.block_on(servers(opt(args, "--nodes", 20)?));
    }
    let nodes = opt(args, "--nodes", 20)?;
    let keys = opt(args, "--keys", 1_000_000)?;
    let naive = opt(args, "--naive", 2_000)?;
    if nodes < 2 {
        bail!("--nodes must be at least 2");
    }
    rt.block_on(bench(nodes, keys, naive))
}

/// Child process: `nodes` DHT servers with on-disk stores, their addresses on stdout; stops
/// when stdin closes, printing how many provider records they hold.
async fn servers(n: usize) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let mut net: Vec<(NetHandle, Multiaddr)> = Vec::with_capacity(n);
    for i in 0..n {
        let ds: Arc<dyn Datastore> = Arc::new(RedbDatastore::open(&dir.path().join(format!("dht-{i}.redb")))?);
        let (h, _task) = rubo_net::start(node_config(Some(ds)), Keypair::generate_ed25519()).await?;
        let id = h.local_peer_id();
        let addr = h.listen_addrs().await?.first().context("no listen address")?.clone().with(Protocol::P2p(id));
        net.push((h, addr));
    }
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
    let want = (n - 1).min(8);
    let deadline = Instant::now() + Duration::from_secs(60);
    for (h, _) in &net {
        while table_size(h).await < want && Instant::now() < deadline {
            let _ = h.dht_bootstrap().await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    {
        let mut out = std::io::stdout().lock();
        for (_, a) in &net {
            writeln!(out, "{a}")?;
        }
        writeln!(out, "ready")?;
        out.flush()?;
    }
    // Until the parent closes our stdin.
    tokio::task::spawn_blocking(|| {
        let mut s = String::new();
        while std::io::stdin().read_line(&mut s).map(|n| n > 0).unwrap_or(false) {
            s.clear();
        }
    })
    .await?;
    let mut held = 0;
    for (h, _) in &net {
        held += h.dht_stats().await.map(|s| s.provider_keys).unwrap_or(0);
    }
    println!("held {held}");
    for (h, _) in net {
        let _ = h.shutdown().await;
    }
    Ok(())
}

async fn bench(nodes: usize, keys: usize, naive: usize) -> Result<()> {
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .args(["reprovide", "--servers", "--nodes", &nodes.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("child stdout")?).lines();
    let mut addrs: Vec<Multiaddr> = Vec::new();
    for l in lines.by_ref() {
        let l = l?;
        if l == "ready" {
            break;
        }
        addrs.push(l.parse()?);
    }
    println!("reprovide: {} DHT servers up (records on disk, in a child process)", addrs.len());

    // The providing node knows one server; the DHT does the rest.
    let dir = tempfile::tempdir()?;
    let ds: Arc<dyn Datastore> = Arc::new(RedbDatastore::open(&dir.path().join("provider.redb"))?);
    let (me, _task) = rubo_net::start(node_config(None), Keypair::generate_ed25519()).await?;
    me.connect(addrs[0].clone()).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while table_size(&me).await < 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = me.dht_bootstrap().await;

    let t = Instant::now();
    let keystore = Keystore::new(ds.clone());
    let n = tokio::task::block_in_place(|| {
        keystore.rebuild(&mut |each| {
            for i in 0..keys {
                if !each(key(i)) {
                    return;
                }
            }
        })
    })?;
    println!(
        "reprovide: keystore of {n} keys written (sorted by DHT key, on disk) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // Sweep. Peak memory is measured from here (VmHWM reset).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss0 = rss_kib();
    let before = me.dht_stats().await?;
    let t = Instant::now();
    let mut report = SweepReport::default();
    sweep::sweep(&me, DhtNet::Lan, &keystore, sweep::new_cycle(), Pace::Now, &mut report).await?;
    let secs = t.elapsed().as_secs_f64();
    let after = me.dht_stats().await?;
    let peak = peak_rss_kib();
    let requests = after.query_requests - before.query_requests;
    println!(
        "sweep: {} keys to {} peers in {} regions in {secs:.1} s = {:.0} keys/s; {} lookups ({} requests), {} ADD_PROVIDER messages ({:.1} per key), {} peers failed",
        report.keys,
        report.peers,
        report.regions,
        report.keys as f64 / secs,
        report.lookups,
        requests,
        report.messages,
        report.messages as f64 / report.keys.max(1) as f64,
        report.failed_peers
    );
    println!(
        "sweep: RSS {} MiB before, peak {} MiB during: {:.1} bytes per key above the start",
        rss0 / 1024,
        peak / 1024,
        (peak.saturating_sub(rss0) * 1024) as f64 / report.keys.max(1) as f64
    );

    // Did it land? A newcomer that knows one server looks sampled keys up (peers never name
    // the asker as a provider, so the provider cannot check for itself).
    let (newcomer, _t2) = rubo_net::start(node_config(None), Keypair::generate_ed25519()).await?;
    newcomer.connect(addrs[addrs.len() / 2].clone()).await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while table_size(&newcomer).await < 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut rng = rand::rng();
    let mut found = 0;
    let sample = 100;
    let mine = me.local_peer_id();
    for _ in 0..sample {
        let k = key(rng.random_range(0..keys)).to_bytes();
        let mut rx = newcomer.dht_find_providers(k, 1, false).await?;
        if rx.recv().await == Some(mine) {
            found += 1;
        }
    }
    let _ = newcomer.shutdown().await;
    println!("sweep: {found}/{sample} sampled keys found by a newcomer with this node as provider");

    // The naive way: one lookup per key (kad's start_providing), 64 in flight.
    let t = Instant::now();
    let before = me.dht_stats().await?;
    let sem = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::with_capacity(naive);
    for i in 0..naive {
        let h = me.clone();
        let permit = sem.clone().acquire_owned().await?;
        // Keys the sweep did not send, so that both do the same work.
        let k = key(keys + i).to_bytes();
        tasks.push(tokio::spawn(async move {
            let r = h.dht_provide(k).await;
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
    let secs_naive = t.elapsed().as_secs_f64();
    let after = me.dht_stats().await?;
    let lookups = after.queries - before.queries;
    let requests = after.query_requests - before.query_requests;
    let rate = ok as f64 / secs_naive;
    println!(
        "naive: {ok}/{naive} keys in {secs_naive:.1} s = {rate:.0} keys/s; {lookups} lookups ({requests} requests, {:.1} per key), {:.1} peers took each record",
        requests as f64 / ok.max(1) as f64,
        stored as f64 / ok.max(1) as f64
    );
    println!(
        "naive: {keys} keys would take {:.0} s ({:.1} h) and {keys} lookups: the sweep took {:.0}x less time and {:.0}x fewer lookups",
        keys as f64 / rate.max(1e-9),
        keys as f64 / rate.max(1e-9) / 3600.0,
        (keys as f64 / rate.max(1e-9)) / secs,
        keys as f64 / report.lookups.max(1) as f64
    );

    drop(child.stdin.take());
    for l in lines {
        let l = l?;
        if let Some(h) = l.strip_prefix("held ") {
            println!(
                "servers: {h} provider records held in all ({:.1} per key)",
                h.parse::<f64>().unwrap_or(0.0) / keys as f64
            );
        }
    }
    let _ = child.wait();
    let _ = me.shutdown().await;
    Ok(())
}
