//! rubo <-> rubo: single blocks, a 64 MiB file, two providers at once, a provider going away,
//! a missing block times out.

mod common;

use std::time::Instant;

use common::*;
use futures::StreamExt as _;
use rubo_bitswap::BlockStore as _;
use rubo_types::{Block, Bytes, Version, codec, hash};

fn raw_block(data: &[u8]) -> Block {
    Block::encode(Bytes::copy_from_slice(data), codec::RAW, hash::SHA2_256, None, Version::V1).expect("block")
}

#[test]
fn fetch_single_block() {
    in_netns("fetch_single_block", || async {
        let a = node().await;
        let b = node().await;
        let small = raw_block(b"hello bitswap");
        let big = raw_block(&data(300_000, 1));
        a.store.insert([small.clone(), big.clone()]);
        b.connect(&a).await;
        // Small blocks come back in answer to want-have (≤ 1 KiB), big ones after HAVE.
        for want in [&small, &big] {
            let got = tokio::time::timeout(WAIT, b.bs.get(want.cid())).await.expect("in time").expect("block");
            assert_eq!(&got, want);
            assert!(b.store.has(want.cid()).expect("has"), "fetched blocks are stored");
        }
        let stat = b.bs.stat();
        assert_eq!(stat.blocks_received, 2);
        assert_eq!(stat.data_received, (small.len() + big.len()) as u64);
        assert!(stat.wantlist.is_empty());
        assert_eq!(stat.peers, vec![a.id.to_string()]);
        let sa = a.bs.stat();
        assert_eq!(sa.blocks_sent, 2);
        let json = serde_json::to_value(&stat).expect("json");
        for k in ["ProvideBufLen", "Wantlist", "Peers", "BlocksReceived", "DataReceived", "DupBlksReceived"] {
            assert!(json.get(k).is_some(), "{k} missing from {json}");
        }
        let ledger = serde_json::to_value(a.bs.ledger(b.id)).expect("json");
        assert_eq!(ledger["Peer"], b.id.to_string());
        assert!(ledger["Sent"].as_u64().unwrap_or(0) >= (small.len() + big.len()) as u64);
    });
}

#[test]
fn fetch_64mib_file() {
    in_netns("fetch_64mib_file", || async {
        let a = node().await;
        let b = node().await;
        let bytes = data(64 << 20, 7);
        let (root, blocks) = file_dag(&bytes);
        let count = blocks.len();
        a.store.insert(blocks);
        b.connect(&a).await;
        let start = Instant::now();
        let n = fetch_dag(&b.bs, root).await;
        let secs = start.elapsed().as_secs_f64();
        eprintln!("64 MiB fetched in {secs:.2} s: {:.1} MB/s ({n} blocks)", 64.0 * 1.048_576 / secs);
        assert_eq!(n, count);
        assert_eq!(read_file(&b.store, &root), bytes, "byte-identical");
        let stat = b.bs.stat();
        // Each block once, but for the few a loaded machine makes us ask
        // again (a want overtaken by later ones counts as lost).
        assert_eq!(stat.blocks_received - stat.dup_blks_received, count as u64, "{stat:?}");
        assert!(stat.dup_blks_received * 20 <= count as u64, "few duplicates: {stat:?}");
    });
}

#[test]
fn fetch_directory_of_small_files() {
    in_netns("fetch_directory_of_small_files", || async {
        let a = node().await;
        let b = node().await;
        let files: Vec<Vec<u8>> = (0..1000).map(|i| data(1024, 1000 + i)).collect();
        let (root, blocks) = dir_dag(&files);
        let count = blocks.len();
        a.store.insert(blocks);
        b.connect(&a).await;
        let start = Instant::now();
        let n = fetch_dag(&b.bs, root).await;
        eprintln!("1,000 x 1 KiB fetched in {:.3} s ({n} blocks)", start.elapsed().as_secs_f64());
        assert_eq!(n, count);
        let got = read_dir(&b.store, &root);
        assert_eq!(got.len(), files.len());
        for (i, (name, bytes)) in got.iter().enumerate() {
            assert_eq!(name, &format!("f{i:04}"));
            assert_eq!(bytes, &files[i]);
        }
    });
}

#[test]
fn fetch_from_two_providers() {
    in_netns("fetch_from_two_providers", || async {
        let p1 = node().await;
        let p2 = node().await;
        let b = node().await;
        let bytes = data(32 << 20, 11);
        let (root, blocks) = file_dag(&bytes);
        p1.store.insert(blocks.clone());
        p2.store.insert(blocks);
        b.connect(&p1).await;
        b.connect(&p2).await;
        fetch_dag(&b.bs, root).await;
        assert_eq!(read_file(&b.store, &root), bytes);
        let (_, from1) = b.bs.block_counts(&p1.id);
        let (_, from2) = b.bs.block_counts(&p2.id);
        eprintln!("blocks from provider 1: {from1}, from provider 2: {from2}");
        assert!(from1 > 0 && from2 > 0, "blocks came from both providers ({from1}, {from2})");
        assert!(p1.bs.stat().blocks_sent > 0 && p2.bs.stat().blocks_sent > 0);
    });
}

#[test]
fn provider_leaves_mid_transfer() {
    in_netns("provider_leaves_mid_transfer", || async {
        let p1 = node().await;
        let p2 = node().await;
        let b = node().await;
        let bytes = data(48 << 20, 13);
        let (root, blocks) = file_dag(&bytes);
        let count = blocks.len();
        p1.store.insert(blocks.clone());
        p2.store.insert(blocks);
        b.connect(&p1).await;
        b.connect(&p2).await;
        let session = b.bs.session();
        let mut s = session.fetch_dag(root);
        let mut n = 0;
        let mut p2 = Some(p2);
        let all = async {
            while let Some(r) = s.next().await {
                r.expect("block");
                n += 1;
                if n == count / 4
                    && let Some(p) = p2.take()
                {
                    // Gone for good: its swarm closes every connection.
                    p.shutdown().await;
                }
            }
        };
        tokio::time::timeout(WAIT, all).await.expect("completed after a provider left");
        assert!(p2.is_none(), "the provider was shut down mid-transfer");
        assert_eq!(n, count);
        assert_eq!(read_file(&b.store, &root), bytes);
    });
}

#[test]
fn missing_block_times_out() {
    in_netns("missing_block_times_out", || async {
        let cfg = rubo_bitswap::Config { fetch_timeout: std::time::Duration::from_secs(2), ..Default::default() };
        let a = node().await;
        let b = node_with(cfg).await;
        b.connect(&a).await;
        let nowhere = raw_block(b"nobody has this");
        let r = tokio::time::timeout(WAIT, b.bs.get(nowhere.cid())).await.expect("an answer in time");
        assert!(matches!(r, Err(rubo_bitswap::Error::Timeout(ref c)) if **c == *nowhere.cid()), "{r:?}");
        assert!(b.bs.wantlist(None).is_empty(), "a timed-out want is cancelled");
    });
}
