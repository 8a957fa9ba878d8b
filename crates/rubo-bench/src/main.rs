//! rubo's benchmarks. `bench/run` builds this in release mode and prints its
//! figures beside Kubo's; it can also be run alone: `rubo-bench flatfs --dir D`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use rand::RngCore;
use rubo_repo::flatfs::{FlatFs, Shard, SyncMode};
use rubo_types::hash;

mod dht;
mod reprovide;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("flatfs") => flatfs(&args[1..]),
        Some("hash") => hash_file(&args[1..]),
        Some("dht") => dht::run(&args[1..]),
        Some("reprovide") => reprovide::run(&args[1..]),
        _ => bail!(
            "usage: rubo-bench flatfs [--dir DIR] [--json] | hash FILE | dht [--nodes N] [--keys K] | reprovide [--nodes N] [--keys K] [--naive K]"
        ),
    }
}

/// SHA-256 of a file, streamed in 1 MiB reads: the ceiling for `add --only-hash`.
fn hash_file(args: &[String]) -> Result<()> {
    use std::io::Read;
    let path = args.first().context("usage: rubo-bench hash FILE")?;
    let mut f = std::fs::File::open(path).with_context(|| format!("open {path}"))?;
    let mut h = hash::Hasher::new(hash::SHA2_256, None)?;
    let mut buf = vec![0u8; 1 << 20];
    let t = Instant::now();
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    let mh = h.finalize()?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({"bytes": n, "seconds": secs, "mb_per_s": n as f64 / secs / 1e6, "digest": hex(mh.digest())})
    );
    Ok(())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn opt(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

/// Blocks/s and MB/s for each durability design, on the same disk.
fn flatfs(args: &[String]) -> Result<()> {
    let base = opt(args, "--dir").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let json = args.iter().any(|a| a == "--json");
    let cases: &[(&str, usize, usize, usize)] = &[
        // name, block size, blocks, batch
        ("1KiB x 2000, single puts", 1024, 2000, 1),
        ("1KiB x 10000, batch 256", 1024, 10_000, 256),
        ("4KiB x 2000, single puts", 4096, 2000, 1),
        ("4KiB x 10000, batch 256", 4096, 10_000, 256),
        ("256KiB x 400, single puts", 256 * 1024, 400, 1),
        ("256KiB x 2000, batch 64", 256 * 1024, 2000, 64),
    ];
    let modes = [
        ("none", SyncMode::None),
        ("per-file", SyncMode::PerFile),
        ("syncfs", SyncMode::SyncFs),
        ("auto", SyncMode::Auto),
    ];
    let mut results = Vec::new();
    for &(name, size, count, batch) in cases {
        let mut rng = rand::rng();
        let blocks: Vec<(rubo_types::Multihash, Vec<u8>)> = (0..count)
            .map(|_| {
                let mut d = vec![0u8; size];
                rng.fill_bytes(&mut d);
                (hash::sha2_256(&d), d)
            })
            .collect();
        for (mname, mode) in modes {
            let dir = tempfile::tempdir_in(&base).context("temp dir")?;
            FlatFs::create(dir.path(), Shard::NextToLast(2))?;
            let fs = FlatFs::open(dir.path(), mode, true)?;
            let t = Instant::now();
            for chunk in blocks.chunks(batch) {
                let items: Vec<_> = chunk.iter().map(|(m, d)| (*m, d.as_slice())).collect();
                fs.put_many(&items)?;
            }
            let secs = t.elapsed().as_secs_f64();
            let bps = count as f64 / secs;
            let mbps = (count * size) as f64 / secs / 1e6;
            if json {
                results.push(serde_json::json!({"case": name, "mode": mname, "blocks_per_s": bps, "mb_per_s": mbps}));
            } else {
                println!("{name:<28} {mname:<9} {bps:>10.0} blocks/s {mbps:>9.1} MB/s");
            }
            if mname == "auto" {
                // Reads as the node does them: the file, then its hash checked.
                let t = Instant::now();
                for (mh, d) in &blocks {
                    let got = fs.get(mh)?.context("block missing")?;
                    if hash::sha2_256(&got) != *mh || got.len() != d.len() {
                        bail!("block read back wrong");
                    }
                }
                let secs = t.elapsed().as_secs_f64();
                let (bps, mbps) = (count as f64 / secs, (count * size) as f64 / secs / 1e6);
                if json {
                    results.push(serde_json::json!({"case": name, "mode": "get (verified)", "blocks_per_s": bps, "mb_per_s": mbps}));
                } else {
                    println!("{name:<28} {:<9} {bps:>10.0} blocks/s {mbps:>9.1} MB/s", "get");
                }
            }
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    Ok(())
}
