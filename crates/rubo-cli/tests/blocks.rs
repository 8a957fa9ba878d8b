//! The repo and block commands, driven through the real binary.

mod common;

use common::{TestRepo, rubo_bin};
use std::process::Command;

#[test]
fn block_put_get_roundtrip() {
    let r = TestRepo::new();
    let cid = r.ok_stdin(&["block", "put"], b"hi\n");
    // `echo hi | ipfs block put` (Kubo: raw CIDv1, sha2-256)
    assert_eq!(cid, "bafkreiey5jxe6ilpf62lnh77tm5ejbbmhbugzjuf6p2v3remlu73ced34q");
    let out = r.run(&["block", "get", &cid]);
    assert!(out.status.success());
    assert_eq!(out.stdout, b"hi\n");
    assert_eq!(r.ok(&["block", "stat", &cid]), format!("Key: {cid}\nSize: 3"));
    // --enc=json gives Kubo's JSON shape.
    let json: serde_json::Value = serde_json::from_str(&r.ok(&["block", "stat", &cid, "--enc=json"])).unwrap();
    assert_eq!(json, serde_json::json!({"Key": cid, "Size": 3}));
}

#[test]
fn kubo_block_vectors() {
    let r = TestRepo::new();
    // t0050-block.sh
    assert_eq!(
        r.ok_stdin(&["block", "put"], b"Hello Mars!\n"),
        "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4"
    );
    assert_eq!(
        r.ok_stdin(&["block", "put", "--mhtype=sha3", "--mhlen=20"], b"foooo\n"),
        "bafkrifctrq4xazzixy2v4ezymjcvzpskqdwlxra"
    );
    // t0053-dag.sh: the same object in three codecs.
    let cbor = [0xa2, 0x64, b'D', b'a', b't', b'a', 0x45, 0, 1, 2, 3, 4, 0x65, b'L', b'i', b'n', b'k', b's', 0x80];
    assert_eq!(
        r.ok_stdin(&["block", "put", "--cid-codec", "dag-cbor"], &cbor),
        "bafyreieculsmrexh3ty5jentbvuku452o27mst4h2tq2rb2zntqhgcstji"
    );
    assert_eq!(
        r.ok_stdin(&["block", "put", "--cid-codec", "dag-pb"], &[0x0a, 0x05, 0, 1, 2, 3, 4]),
        "bafybeibazl2z4vqp2tmwcfag6wirmtpnomxknqcgrauj7m2yisrz3qjbom"
    );
    assert_eq!(
        r.ok_stdin(&["block", "put", "--cid-codec", "dag-json"], br#"{"Data":{"/":{"bytes":"AAECAwQ"}},"Links":[]}"#),
        "baguqeerajwksxu3lxpomdwxvosl542zl3xknhjgxtq3277gafrhl6vdw5tcq"
    );
    // --format=v0 gives a CIDv0 dag-pb.
    let v0 = r.ok_stdin(&["block", "put", "--format=v0"], &[0x0a, 0x02, 0x08, 0x01]);
    assert_eq!(v0, "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
    // Several files at once, in order.
    let d = tempfile::tempdir().unwrap();
    let a = d.path().join("a");
    let b = d.path().join("b");
    std::fs::write(&a, b"Hello Mars!\n").unwrap();
    std::fs::write(&b, b"hi\n").unwrap();
    let out = r.ok(&["block", "put", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(
        out,
        "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4\nbafkreiey5jxe6ilpf62lnh77tm5ejbbmhbugzjuf6p2v3remlu73ced34q"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let r = TestRepo::new();
    let e = r.fails(&["block", "get", "notacid"]);
    assert_eq!(e, "Error: invalid path \"notacid\": invalid cid: selected encoding not supported\n");
    let e = r.fails(&["block", "get", "bafkreifk"]);
    assert!(e.contains("invalid cid"), "{e}");
    let e = r.fails_stdin(&["block", "put", "--cid-codec", "nope"], b"x");
    assert_eq!(e, "Error: unknown multicodec: \"nope\"\n");
    let e = r.fails_stdin(&["block", "put", "--mhtype", "sha2-257"], b"x");
    assert_eq!(e, "Error: unrecognized multihash function: sha2-257\n");
    let e = r.fails_stdin(&["block", "put", "--mhtype", "md5"], b"x");
    assert_eq!(e, "Error: potentially insecure hash functions not allowed\n");
    let e = r.fails_stdin(&["block", "put", "--mhtype", "sha2-256", "--mhlen", "33"], b"x");
    assert!(e.contains("requested length was too large for digest"), "{e}");
    let e = r.fails_stdin(&["block", "put", "--mhlen", "10"], b"x");
    assert!(e.contains("digest too small"), "{e}");
    // A block that is not there, with no network: an error at once.
    let e = r.fails(&["block", "get", "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4"]);
    assert!(e.contains("not found locally"), "{e}");
    // Unknown command and unknown option.
    r.fails(&["blok"]);
    r.fails(&["block", "put", "--no-such-flag"]);
}

#[test]
fn big_blocks() {
    let r = TestRepo::new();
    let limit = 2 * 1024 * 1024;
    let exactly = vec![7u8; limit];
    let cid = r.ok_stdin(&["block", "put"], &exactly);
    assert_eq!(r.ok(&["block", "stat", &cid]).lines().last(), Some(format!("Size: {limit}").as_str()));
    let over = vec![7u8; limit + 1];
    let e = r.fails_stdin(&["block", "put"], &over);
    assert!(e.contains("produced block is over 2MiB"), "{e}");
    let cid = r.ok_stdin(&["block", "put", "--allow-big-block"], &over);
    let out = r.run(&["block", "get", &cid]);
    assert_eq!(out.stdout.len(), limit + 1);
}

#[test]
fn block_rm() {
    let r = TestRepo::new();
    let cid = r.ok_stdin(&["block", "put"], b"bye\n");
    assert_eq!(r.ok(&["block", "rm", &cid]), format!("removed {cid}"));
    let out = r.run(&["block", "rm", &cid]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("cannot remove {cid}")), "{err}");
    assert!(err.contains("Error: some blocks not removed"), "{err}");
    // With --force a missing block is not an error (Kubo still says "removed").
    assert_eq!(r.ok(&["block", "rm", "-f", &cid]), format!("removed {cid}"));
    assert_eq!(r.ok(&["block", "rm", "-f", "-q", &cid]), "");
}

#[test]
fn corrupt_block_is_reported_and_never_served() {
    let r = TestRepo::new();
    let cid = r.ok_stdin(&["block", "put"], b"precious data\n");
    assert!(r.ok(&["repo", "verify"]).contains("all blocks validated"));
    let file = r.block_file(&cid);
    assert!(file.exists(), "{file:?}");
    std::fs::write(&file, b"precious dat4\n").unwrap();
    // Verify names it and fails.
    let out = r.run(&["repo", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("was corrupt"), "{stdout}");
    assert!(stdout.contains(&cid), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 blocks corrupt"));
    // It is never served.
    let out = r.run(&["block", "get", &cid]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "corrupt data was served");
    assert!(String::from_utf8_lossy(&out.stderr).contains("corrupt"));
    r.fails(&["block", "stat", &cid]);
    // --drop removes it; the repo verifies again.
    let out = r.run(&["repo", "verify", "--drop"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 removed"));
    assert!(r.ok(&["repo", "verify"]).contains("all blocks validated"));
    // And can be stored again.
    assert_eq!(r.ok_stdin(&["block", "put"], b"precious data\n"), cid);
}

#[test]
fn second_writer_gets_a_clear_error() {
    let r = TestRepo::new();
    // A long-running writer: `block put` waiting on stdin holds the lock.
    let mut holder = r
        .cmd(&["block", "put"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until it holds the lock (the kernel's lock table shows it), not a fixed time.
    let lock = r.path().join("repo.lock");
    let mut held = false;
    for _ in 0..500 {
        if common::flock_held(&lock) {
            held = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(held, "the writer never took the lock");
    let e = r.fails_stdin(&["block", "put"], b"x");
    assert!(e.contains("is locked by another rubo process"), "{e}");
    assert!(e.contains(&format!("pid {}", holder.id())), "{e}");
    assert!(e.contains("rubo block put"), "{e}");
    drop(holder.stdin.take());
    assert!(holder.wait().unwrap().success());
    // Readers share: two at once are fine once the writer is gone.
    r.ok(&["repo", "stat"]);
}

#[test]
fn init_errors_and_repo_missing() {
    let r = TestRepo::uninit();
    let e = r.fails(&["repo", "stat"]);
    assert!(e.contains("no rubo repo found"), "{e}");
    let e = r.fails(&["init", "--profile", "nope"]);
    assert_eq!(e, "Error: invalid configuration profile: nope\n");
    r.ok(&["init", "--profile=test"]);
    let e = r.fails(&["init"]);
    assert!(e.contains("already exists"), "{e}");
    let e = r.fails(&["init", "-b", "2048"]);
    assert!(e.contains("ed25519 keys are always 256 bits") || e.contains("already exists"), "{e}");
}

#[test]
fn rsa_identity() {
    let r = TestRepo::uninit();
    let out = r.ok(&["init", "--profile", "test", "-a", "rsa", "-b", "2048"]);
    assert!(out.starts_with("generating 2048-bit RSA keypair...done\npeer identity: Qm"), "{out}");
    let id: serde_json::Value = serde_json::from_str(&r.ok(&["id", "--enc=json"])).unwrap();
    assert!(id["ID"].as_str().unwrap().starts_with("Qm"));
}

#[test]
fn broken_config_is_a_clear_error() {
    let r = TestRepo::new();
    std::fs::write(r.path().join("config"), b"{\"Identity\": 42").unwrap();
    let e = r.fails(&["repo", "stat"]);
    assert!(e.contains("failure to decode config"), "{e}");
    std::fs::write(r.path().join("config"), b"{\"Identity\": 42}").unwrap();
    let e = r.fails(&["block", "put"]);
    assert!(e.contains("config"), "{e}");
    // Commands that need no repo still work.
    assert!(r.ok(&["version"]).starts_with("rubo version "));
}

#[test]
fn help_and_no_args() {
    let out = Command::new(rubo_bin()).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("USAGE"));
    let out = Command::new(rubo_bin()).args(["block", "put", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--cid-codec"), "{help}");
    assert!(help.contains("Store input as an IPFS block"), "{help}");
}
