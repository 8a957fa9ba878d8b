//! Interop with a real Kubo (v0.22) on this machine: the block store layout is
//! the same, so each reads the other's blocks.
//!
//! Every test runs inside a private network namespace (see `common::peers`).

mod common;

use std::path::Path;
use std::time::Duration;

use common::TestRepo;
use common::peers::{Kubo, in_netns};
use serde_json::Value;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

fn count_blocks(dir: &Path) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() && !e.file_name().to_string_lossy().starts_with('.') {
            n += std::fs::read_dir(e.path())
                .unwrap()
                .filter(|f| f.as_ref().is_ok_and(|f| f.file_name().to_string_lossy().ends_with(".data")))
                .count();
        }
    }
    n
}

/// Deterministic bytes (no RNG: the same on every run).
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 7919) % 251) as u8).collect()
}

#[test]
fn kubo_blocks_are_readable_by_rubo() {
    in_netns("kubo_blocks_are_readable_by_rubo", || {
        let work = tempfile::tempdir().unwrap();
        let hw = work.path().join("hw.txt");
        std::fs::write(&hw, b"hello world\n").unwrap();
        let big = work.path().join("big.bin");
        std::fs::write(&big, pattern(1_000_000)).unwrap();
        let kubo_repo = work.path().join("kubo");
        let mut kubo = Kubo::start(&kubo_repo);
        let hw_cid = kubo.add(&hw);
        let big_cid = kubo.add(&big);
        kubo.close();
        // Kubo's CID for "hello world\n" (ipfs/kubo docs, go-ipfs README).
        assert_eq!(hw_cid, "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");

        // Put Kubo's block directory in place of rubo's.
        let r = TestRepo::new();
        let blocks = r.path().join("blocks");
        std::fs::remove_dir_all(&blocks).unwrap();
        copy_dir(&kubo_repo.join("blocks"), &blocks);
        let kubo_blocks = count_blocks(&blocks);
        assert!(kubo_blocks >= 6, "Kubo stored {kubo_blocks} blocks");

        // rubo reads and verifies every one of them.
        let verify = r.ok(&["repo", "verify"]);
        assert!(verify.contains("all blocks validated"), "{verify}");
        let stat: Value = serde_json::from_str(&r.ok(&["repo", "stat", "--enc=json"])).unwrap();
        assert_eq!(stat["NumObjects"].as_u64(), Some(kubo_blocks as u64));
        for cid in [&hw_cid, &big_cid] {
            let out = r.run(&["block", "get", cid]);
            assert!(out.status.success(), "rubo cannot read Kubo's block {cid}");
            assert!(!out.stdout.is_empty());
        }
        // The single-block file's node holds the file's bytes.
        let node = r.run(&["block", "get", &hw_cid]).stdout;
        assert!(node.windows(12).any(|w| w == b"hello world\n"));
    });
}

#[test]
fn rubo_blocks_are_readable_by_kubo() {
    in_netns("rubo_blocks_are_readable_by_kubo", || {
        let work = tempfile::tempdir().unwrap();
        let r = TestRepo::new();
        // A one-block UnixFS file, built by hand:
        // PBNode{Data: UnixFS{Type: File, Data: "hello rubo\n", filesize: 11}}
        let content = b"hello rubo\n";
        let mut unixfs = vec![0x08, 0x02, 0x12, content.len() as u8];
        unixfs.extend_from_slice(content);
        unixfs.extend_from_slice(&[0x18, content.len() as u8]);
        let mut node = vec![0x0a, unixfs.len() as u8];
        node.extend_from_slice(&unixfs);
        let file_cid = r.ok_stdin(&["block", "put", "--format=v0"], &node);
        // A raw-leaf file: one raw block.
        let raw_cid = r.ok_stdin(&["block", "put"], b"a raw leaf\n");

        // Kubo's repo, with rubo's blocks copied in before its node starts.
        let kubo_repo = work.path().join("kubo");
        Kubo::start(&kubo_repo).close();
        copy_dir(&r.path().join("blocks"), &kubo_repo.join("blocks"));
        let mut kubo = Kubo::start(&kubo_repo);

        // Kubo serves the files from rubo's blocks (it has no peers).
        let out = work.path().join("out.txt");
        kubo.get(&file_cid, &out, Duration::from_secs(30));
        assert_eq!(std::fs::read(&out).unwrap(), content);
        let out_raw = work.path().join("out.raw");
        kubo.get(&raw_cid, &out_raw, Duration::from_secs(30));
        assert_eq!(std::fs::read(&out_raw).unwrap(), b"a raw leaf\n");

        // And its importer gives the same CID to the same content.
        let src = work.path().join("src.txt");
        std::fs::write(&src, content).unwrap();
        let v = kubo.call(serde_json::json!({"op": "add", "path": src, "only_hash": true}), Duration::from_secs(60));
        assert_eq!(v["cid"].as_str(), Some(file_cid.as_str()));
        kubo.close();
    });
}
