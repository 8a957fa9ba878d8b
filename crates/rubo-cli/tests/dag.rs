//! `rubo dag` and `rubo refs` through the binary, against Kubo's own test
//! vectors (sharness t0053, t0054, t0095; test/cli/dag_test.go). The CAR
//! fixtures are Kubo's (see crates/rubo-dag/tests/data/README.md).

mod common;

use std::path::PathBuf;

use common::TestRepo;

fn kubo(name: &str) -> PathBuf {
    common::peers::workspace_root().join("crates/rubo-dag/tests/data/kubo").join(name)
}

fn kubo_str(name: &str) -> String {
    kubo(name).to_str().unwrap().to_string()
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

const FOO: &str = "QmYNmQKp6SuaVrpgWRsPTgCQCnpxUYGq76YEKBXuj2N4H6";
const BAR: &str = "QmTz3oc4gdpRMKP2sdGUPZTAGRngqjsi99BPoztyP53JMM";
const BAZ: &str = "QmWLdkp93sNxGRjnFHPaYg8tCQ35NBY3XPn6KiETd3Z4WR";
const GENESIS: &str = "bafy2bzaceaxm23epjsmh75yvzcecsrbavlmkcxnva66bkdebdcnyw3bjrc74u";
const TESTNET_128: &str = "bafy2bzaced4ueelaegfs5fqu4tzsh6ywbbpfk3cxppupmxfdhbpbhzawfw5oy";
const EMPTY_DIR: &str = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";

#[test]
fn t0053_put_get_resolve() {
    let r = TestRepo::new();
    // The three one-block files of t0053 ("foo\n", "bar\n", "baz\n").
    for (data, want) in [(b"foo\n", FOO), (b"bar\n", BAR), (b"baz\n", BAZ)] {
        assert_eq!(r.ok_stdin(&["add", "-q"], data), want);
    }
    let obj = format!(
        r#"{{"hello":"world","cats":[{{"/":"{FOO}"}},{{"water":{{"/":"{BAR}"}}}}],"magic":{{"/":"{BAZ}"}},"sub":{{"dict":"ionary","beep":[0,"bop"]}}}}"#
    );
    let h = r.ok_stdin(&["dag", "put"], obj.as_bytes());
    assert_eq!(h, "bafyreiblwimnjbqcdoeafiobk6q27jcw64ew7n2fmmhdpldd63edmjecde");
    assert_eq!(
        r.ok_stdin(&["dag", "put", "--cid-base=base58btc"], obj.as_bytes()),
        "zdpuAoN1XJ3GsrxEzMuCbRKZzRUVJekJUCbPVgCgE4D9yYqVi"
    );
    assert_eq!(
        r.ok_stdin(&["dag", "put", "--store-codec", "dag-json"], obj.as_bytes()),
        "baguqeera6gviseelmbzn2ugoddo5vulxlshqs3kw5ymgsb6w4cabnoh4ldpa"
    );
    assert_eq!(
        r.ok_stdin(&["dag", "put", "--hash", "sha3-512"], obj.as_bytes()),
        "bafyriqforjma7y7akqz7nhuu73r6liggj5zhkbfiqgicywe3fgkna2ijlhod2af3ue7doj56tlzt5hh6iu5esafc4msr3sd53jol5m2o25ucy"
    );
    let json = r.run_stdin(&["dag", "put", "--enc=json"], obj.as_bytes());
    assert_eq!(String::from_utf8_lossy(&json.stdout), format!("{{\"Cid\":{{\"/\":\"{h}\"}}}}\n"));

    // dag get: no trailing newline; paths into dag-cbor and through links.
    let get = |p: String| {
        let out = r.run(&["dag", "get", &p]);
        assert!(out.status.success(), "dag get {p}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(get(format!("{h}/hello")), r#""world""#);
    assert_eq!(get(format!("{h}/sub")), r#"{"beep":[0,"bop"],"dict":"ionary"}"#);
    assert_eq!(get(format!("/ipfs/{h}/sub/beep/1")), r#""bop""#);
    assert_eq!(get(format!("{h}/cats/0")), r#"{"Data":{"/":{"bytes":"CAISBGZvbwoYBA"}},"Links":[]}"#);
    assert_eq!(get(format!("/ipld/{h}/cats/1/water/Data")), r#"{"/":{"bytes":"CAISBGJhcgoYBA"}}"#);
    // The whole object, fed back to dag put, is the same object.
    assert_eq!(r.ok_stdin(&["dag", "put"], get(h.clone()).as_bytes()), h);
    assert!(r.fails(&["dag", "get", &format!("{h}/nope")]).contains(r#"key not found: "nope""#));
    assert!(r.fails(&["dag", "get", &format!("{h}/nope/x")]).contains(&format!(r#"no link named "nope" under {h}"#)));
    assert!(r.fails(&["dag", "get", "--output-codec", "nonsense", &h]).contains("unknown multicodec"));

    // dag resolve prints <cid>[/<rest>] with no newline.
    let resolve = |p: String| String::from_utf8(r.run(&["dag", "resolve", &p]).stdout).unwrap();
    assert_eq!(resolve(format!("{h}/cats/0")), FOO);
    assert_eq!(resolve(format!("{h}/cats/1/water")), BAR);
    assert_eq!(resolve(format!("{h}/magic")), BAZ);
    assert_eq!(resolve(format!("{h}/sub/beep/1")), format!("{h}/sub/beep/1"));
    let json = r.run(&["dag", "resolve", "--enc=json", &format!("{h}/sub/beep")]);
    assert_eq!(
        String::from_utf8_lossy(&json.stdout),
        format!("{{\"Cid\":{{\"/\":\"{h}\"}},\"RemPath\":\"sub/beep\"}}\n")
    );

    // A non-canonical dag-cbor input is normalised (t0053).
    let nc = kubo_str("non-canon.cbor");
    let c = r.ok(&["dag", "put", "--store-codec", "dag-cbor", "--input-codec", "dag-cbor", &nc]);
    assert_eq!(c, "bafyreiawx7ona7oa2ptcoh6vwq4q6bmd7x2ibtkykld327bgb7t73ayrqm");
    assert_eq!(get(format!("{c}/arr")), "[]");

    // dag-pb in, typed data model out; --output-codec dag-cbor (t0053).
    let pb = r.ok_stdin(
        &["dag", "put", "--input-codec", "dag-json", "--store-codec", "dag-pb"],
        br#"{"Data":{"/":{"bytes":"AAECAwQ"}},"Links":[]}"#,
    );
    assert_eq!(pb, "bafybeibazl2z4vqp2tmwcfag6wirmtpnomxknqcgrauj7m2yisrz3qjbom");
    let cbor = r.run(&["dag", "get", "--output-codec", "dag-cbor", &pb]).stdout;
    let digest = r.ok_stdin(&["block", "put", "--cid-codec", "dag-cbor", "--cid-base=base16"], &cbor);
    // f + cidv1 + dag-cbor + sha2-256 + 32 bytes
    assert_eq!(digest, "f0171122082a2e4c892e7dcf1d491b30d68aa73ba76bec94f87d4e1a887596ce0730a534a");
    // raw in, raw out
    let raw = r.ok_stdin(&["dag", "put", "--input-codec", "raw", "--store-codec", "raw"], b"foo bar\n");
    assert_eq!(r.run(&["dag", "get", "--output-codec", "raw", &raw]).stdout, b"foo bar\n");

    // Bad input is a clear error.
    assert!(r.fails_stdin(&["dag", "put"], b"{\"a\":").contains("Error:"));
    assert!(r.fails_stdin(&["dag", "put", "--input-codec", "dag-pb"], b"\xff\xff").contains("Error:"));
    assert!(r.fails_stdin(&["dag", "put", "--store-codec", "nonsense"], b"{}").contains("unknown multicodec"));
}

#[test]
fn dag_put_pin_and_big_blocks() {
    let r = TestRepo::new();
    let c = r.ok_stdin(&["dag", "put", "--pin"], br#"{"foo":"bar"}"#);
    assert_eq!(c, "bafyreiblaotetvwobe7cu2uqvnddr6ew2q3cu75qsoweulzku2egca4dxq");
    assert_eq!(r.ok(&["pin", "ls", "--type=recursive", &c]), format!("{c} recursive"));
    // t0054: a block over 2 MiB needs --allow-big-block, at put and at import.
    let big = vec![0u8; 2097153];
    let e = r.fails_stdin(&["dag", "put", "--input-codec=raw", "--store-codec=raw"], &big);
    assert!(e.contains("block is over 2MiB"), "{e}");
    let big_cid = r.ok_stdin(&["dag", "put", "--input-codec=raw", "--store-codec=raw", "--allow-big-block"], &big);
    let car = r.run(&["dag", "export", &big_cid]);
    assert!(car.status.success());
    let r2 = TestRepo::new();
    let e = r2.fails_stdin(&["dag", "import"], &car.stdout);
    assert!(e.contains("block is over 2MiB"), "{e}");
    let out = r2.ok_stdin(&["dag", "import", "--allow-big-block"], &car.stdout);
    assert_eq!(out, format!("Pinned root\t{big_cid}\tsuccess"));
}

#[test]
fn t0054_import_export() {
    let r = TestRepo::new();
    let files = [
        "combined_naked_roots_genesis_and_128.car",
        "lotus_testnet_export_128_shuffled_nulroot.car",
        "lotus_devnet_genesis_shuffled_nulroot.car",
    ]
    .map(kubo_str);
    let mut args = vec!["dag", "import", "--stats"];
    args.extend(files.iter().map(String::as_str));
    let out = r.ok(&args);
    let want = [
        "Imported 1198 blocks (468513 bytes)".to_string(),
        "Pinned root\tbafkqaaa\tsuccess".to_string(),
        format!("Pinned root\t{GENESIS}\tsuccess"),
        format!("Pinned root\t{TESTNET_128}\tsuccess"),
    ];
    let mut want = want.to_vec();
    want.sort();
    assert_eq!(sorted_lines(&out), want);
    // Re-exports of the shuffled CARs are the canonical CARs, byte for byte.
    for (root, canonical) in [(TESTNET_128, "lotus_testnet_export_128.car"), (GENESIS, "lotus_devnet_genesis.car")] {
        let car = r.run(&["dag", "export", root]);
        assert!(car.status.success(), "{}", String::from_utf8_lossy(&car.stderr));
        assert!(car.stdout == std::fs::read(kubo(canonical)).unwrap(), "export of {root} differs from {canonical}");
    }
    assert!(r.ok(&["repo", "verify"]).contains("all blocks validated"));

    // Pin-less import of the canonical CARs (t0054).
    let r2 = TestRepo::new();
    let out = r2.run(&[
        "dag",
        "import",
        "--stats",
        "--enc=json",
        "--pin-roots=false",
        &kubo_str("lotus_devnet_genesis.car"),
        &kubo_str("lotus_testnet_export_128.car"),
    ]);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"Stats\":{\"BlockCount\":1198,\"BlockBytesCount\":468513}}\n");
    assert_eq!(r2.ok(&["pin", "ls", "--type=recursive", "-q"]), EMPTY_DIR);
    // Naked roots, relying on the blocks already here.
    let out =
        r2.run(&["dag", "import", "--stats", "--enc=json", &kubo_str("combined_naked_roots_genesis_and_128.car")]);
    assert!(out.status.success());
    let got = String::from_utf8_lossy(&out.stdout).to_string();
    let mut want = vec![
        format!(r#"{{"Root":{{"Cid":{{"/":"{GENESIS}"}},"PinErrorMsg":""}}}}"#),
        format!(r#"{{"Root":{{"Cid":{{"/":"{TESTNET_128}"}},"PinErrorMsg":""}}}}"#),
        r#"{"Stats":{"BlockCount":0,"BlockBytesCount":0}}"#.to_string(),
    ];
    want.sort();
    assert_eq!(sorted_lines(&got), want);

    // CARv2 (t0054 "version 2 import").
    let r3 = TestRepo::new();
    let out = r3.ok(&["dag", "import", &kubo_str("lotus_devnet_genesis_v2.car")]);
    assert_eq!(out, format!("Pinned root\t{GENESIS}\tsuccess"));
}

#[test]
fn t0054_partial_dag_and_offline_errors() {
    let r = TestRepo::new();
    let partial = kubo_str("partial-dag-scope-entity.car");
    let out = r.run(&["dag", "import", "--stats", "--enc=json", "--pin-roots=false", &partial]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "{\"Stats\":{\"BlockCount\":1,\"BlockBytesCount\":1618}}\n");
    let e = r.fails(&["dag", "import", &partial]);
    assert!(
        e.contains(
            "Error: pinning root \"QmPDC11yLAbVw3dX5jMeEuSdk4BiVjSd9X87zaYRdVjzW3\" FAILED: block was not found locally"
        ),
        "{e}"
    );
    // No pin is left behind.
    assert_eq!(r.ok(&["pin", "ls", "--type=recursive", "-q"]), EMPTY_DIR);
    let e = r.fails(&["dag", "export", "QmYwAPJXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"]);
    assert!(
        e.contains(
            "Error: block was not found locally (offline): ipld: could not find QmYwAPJXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
        ),
        "{e}"
    );
    // Exporting a DAG with a missing block fails (after a partial CAR).
    let e = r.fails(&["dag", "export", "QmPDC11yLAbVw3dX5jMeEuSdk4BiVjSd9X87zaYRdVjzW3"]);
    assert!(e.contains("could not find"), "{e}");
}

/// Finds the first block section of a CARv1 whose data can be changed, and
/// returns the offset of its last byte (a hand-rolled reader: the code under
/// test is not used to find it).
fn last_byte_of_first_block(car: &[u8]) -> usize {
    fn varint(b: &[u8], mut i: usize) -> (u64, usize) {
        let (mut v, mut s) = (0u64, 0);
        loop {
            let x = b[i];
            v |= u64::from(x & 0x7f) << s;
            i += 1;
            if x & 0x80 == 0 {
                return (v, i);
            }
            s += 7;
        }
    }
    let (hlen, i) = varint(car, 0);
    let start = i + hlen as usize;
    let (slen, j) = varint(car, start);
    j + slen as usize - 1
}

#[test]
fn bad_cars_are_refused_and_leave_no_pin() {
    let good = std::fs::read(kubo("lotus_devnet_genesis.car")).unwrap();
    let r = TestRepo::new();
    // A lying block: its bytes do not hash to its CID.
    let mut lying = good.clone();
    let at = last_byte_of_first_block(&lying);
    lying[at] ^= 0xff;
    let e = r.fails_stdin(&["dag", "import"], &lying);
    assert!(e.contains("import failed") && e.contains("mismatch"), "{e}");
    // Truncated in the middle of a block.
    let e = r.fails_stdin(&["dag", "import"], &good[..good.len() / 2]);
    assert!(e.contains("import failed"), "{e}");
    // Not a CAR at all, and an empty input.
    assert!(r.fails_stdin(&["dag", "import"], b"hello world, not a car").contains("Error:"));
    assert!(r.fails_stdin(&["dag", "import"], b"").contains("Error:"));
    // A header that claims a huge length.
    assert!(r.fails_stdin(&["dag", "import"], &[0xff, 0xff, 0xff, 0xff, 0x0f, 0xa1]).contains("Error:"));
    // None of it left a pin; the repo still verifies.
    assert_eq!(r.ok(&["pin", "ls", "--type=recursive", "-q"]), EMPTY_DIR);
    assert!(r.ok(&["repo", "verify"]).contains("all blocks validated"));
    // The good CAR still imports afterwards.
    assert_eq!(r.ok_stdin(&["dag", "import"], &good), format!("Pinned root\t{GENESIS}\tsuccess"));
}

#[test]
fn dag_stat_like_kubo() {
    let r = TestRepo::new();
    let root = "bafyreifrm6uf5o4dsaacuszf35zhibyojlqclabzrms7iak67pf62jygaq";
    let n1 = "bafyreibmdfd7c5db4kls4ty57zljfhqv36gi43l6txl44pi423wwmeskwy";
    let n2 = "bafyreie3njilzdi4ixumru4nzgecsnjtu7fzfcwhg7e6s4s5i7cnbslvn4";
    assert_eq!(r.ok(&["dag", "import", &kubo_str("TestDagStat.car")]), format!("Pinned root\t{root}\tsuccess"));
    let out = r.run(&["dag", "stat", "--progress=false", n1, n2]);
    assert!(out.status.success());
    assert_eq!(out.stdout, std::fs::read(kubo("TestDagStatExpectedOutput.txt")).unwrap());
    let out = r.run(&["dag", "stat", "--progress=false", "--enc=json", root]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["UniqueBlocks"], 4);
    assert_eq!(v["TotalSize"], 194);
    assert!(v.get("SharedSize").is_none());
    assert_eq!(v["Ratio"], 1);
    assert_eq!(v["DagStats"][0]["Cid"], root);
    assert_eq!(v["DagStats"][0]["NumBlocks"], 4);
    let out = r.run(&["dag", "stat", "--progress=false", "--enc=json", n1, n2]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (v["UniqueBlocks"].as_u64(), v["SharedSize"].as_u64(), v["TotalSize"].as_u64()),
        (Some(3), Some(7), Some(99))
    );
    assert!((v["Ratio"].as_f64().unwrap() - 106.0 / 99.0).abs() < 1e-6);
    assert!(r.fails(&["dag", "stat", &format!("{root}/nope")]).contains("Error:"));
}

/// t0095's tree: A/{1.txt, B/{1.txt, D/2.txt}, C/B/{1.txt, D/2.txt}, D/2.txt}.
fn refs_tree(r: &TestRepo) -> (tempfile::TempDir, String) {
    let t = tempfile::tempdir().unwrap();
    let a = t.path().join("A");
    for d in ["B/D", "C/B/D", "D"] {
        std::fs::create_dir_all(a.join(d)).unwrap();
    }
    for f in ["1.txt", "B/1.txt", "C/B/1.txt"] {
        std::fs::write(a.join(f), "1\n").unwrap();
    }
    for f in ["B/D/2.txt", "C/B/D/2.txt", "D/2.txt"] {
        std::fs::write(a.join(f), "2\n").unwrap();
    }
    let root = r.ok(&["add", "-r", "-Q", a.to_str().unwrap()]);
    (t, root)
}

#[test]
fn t0095_refs() {
    let r = TestRepo::new();
    let (_t, root) = refs_tree(&r);
    assert_eq!(root, "QmU6xujRsYzcrkocuR3fhfnkZBB8eyUFFq4WKRGw2aS15h");
    let (one, b, d, two, c) = (
        "QmdytmR4wULMd3SLo6ePF4s3WcRHWcpnJZ7bHhoj3QB13v",
        "QmNkQvpiyAEtbeLviC7kqfifYoK1GXPcsSxTpP1yS3ykLa",
        "QmSanP5DpxpqfDdS4yekHY1MqrVge47gtxQcp2e2yZ4UwS",
        "QmSFxnK675wQ9Kc1uqWKyJUaNxvSc2BP5DbXCD3x93oq61",
        "QmXXazTjeNCKFnpW1D65vTKsTs8fbgkCWTv8Em4pdK2coH",
    );
    let lines = |v: &[&str]| v.join("\n");
    assert_eq!(r.ok(&["refs", "-r", &root]), lines(&[one, b, one, d, two, c, b, one, d, two, d, two]));
    assert_eq!(r.ok(&["refs", "-r", "--unique", &root]), lines(&[one, b, d, two, c]));
    assert_eq!(r.ok(&["refs", &root]), lines(&[one, b, c, d]));
    assert_eq!(r.ok(&["refs", "-r", "--max-depth=0", &root]), "");
    assert_eq!(r.ok(&["refs", "-r", "--max-depth=1", &root]), r.ok(&["refs", &root]));
    assert_eq!(r.ok(&["refs", "-r", "--max-depth=2", &root]), lines(&[one, b, one, d, c, b, d, two]));
    assert_eq!(r.ok(&["refs", "-r", "--unique", "--max-depth=2", &root]), lines(&[one, b, d, c, two]));
    // --cid-base=base32 prints the same refs in base32 CIDv1.
    let b32: Vec<String> =
        r.ok(&["refs", "-r", "--unique", &root]).lines().map(|c| r.ok(&["cid", "base32", c])).collect();
    assert_eq!(r.ok(&["refs", "-r", "--unique", "--cid-base=base32", &root]), b32.join("\n"));
    // Edges and formats.
    assert_eq!(r.ok(&["refs", "-e", &root]).lines().next().unwrap(), format!("{root} -> {one}"));
    assert_eq!(
        r.ok(&["refs", "--format=<linkname>: <src> <dst>", &root]).lines().nth(1).unwrap(),
        format!("B: {root} {b}")
    );
    assert!(
        r.fails(&["refs", "-e", "--format=<src>", &root]).contains("using format argument with edges is not allowed")
    );
    // refs local: every block as a raw CIDv1, the empty directory included.
    let local = r.ok(&["refs", "local"]);
    let empty_raw = r.ok(&["cid", "format", "-v", "1", "--mc", "raw", "-b", "base32", EMPTY_DIR]);
    assert!(local.lines().any(|l| l == empty_raw), "{local}");
    let root_raw = r.ok(&["cid", "format", "-v", "1", "--mc", "raw", "-b", "base32", &root]);
    assert!(local.lines().any(|l| l == root_raw));
    // A missing block is an error, offline, at once.
    std::fs::remove_file(r.block_file(d)).unwrap();
    let e = r.fails(&["refs", "-r", &root]);
    assert!(e.contains(&format!("could not find {d}")), "{e}");
}
