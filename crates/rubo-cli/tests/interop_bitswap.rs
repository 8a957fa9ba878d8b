//! Content moves between rubo's daemon and the real implementations over
//! Bitswap, inside a private network namespace: Kubo v0.22 and Helia 7 fetch
//! files and directories only rubo holds, rubo fetches what only they hold
//! (CIDv0 and CIDv1 with raw leaves, 0 bytes to 64 MiB), byte-identical;
//! two rubo daemons trade through `cat`, `get`, `pin add` and `dag export`;
//! `--offline` never waits for the network.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::TestRepo;
use common::daemon::Daemon;
use common::peers::{Helia, Kubo, in_netns};
use serde_json::{Value, json};

/// Deterministic bytes that do not compress or repeat (xorshift).
fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// Sizes that cross every layout boundary: empty, one small block, one full
/// chunk and a byte, a balanced tree, and (once per peer) 64 MiB.
const SIZES: &[usize] = &[0, 1000, 262_145, 5 << 20];
const BIG: usize = 64 << 20;

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write input");
    p
}

/// A small tree: a file, an empty file, a subfolder with a multi-block file.
fn make_tree(root: &Path) -> Vec<(String, Vec<u8>)> {
    let files = vec![
        ("a.txt".to_string(), b"hello from the tree\n".to_vec()),
        ("empty".to_string(), Vec::new()),
        ("sub/b.bin".to_string(), data(700_000, 99)),
    ];
    for (name, bytes) in &files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, bytes).expect("write");
    }
    files
}

fn assert_tree(root: &Path, files: &[(String, Vec<u8>)]) {
    for (name, bytes) in files {
        let got = std::fs::read(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(got == *bytes, "{name}: {} bytes, expected {}", got.len(), bytes.len());
    }
}

fn add(r: &TestRepo, path: &Path, v1: bool) -> String {
    let p = path.to_str().expect("utf-8 path");
    let out = if v1 { r.ok(&["add", "-Q", "--cid-version=1", "--raw-leaves", p]) } else { r.ok(&["add", "-Q", p]) };
    out.trim().to_string()
}

fn cat(r: &TestRepo, cid: &str) -> Vec<u8> {
    let out = r.run(&["cat", cid]);
    assert!(out.status.success(), "cat {cid}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn json_of(r: &TestRepo, args: &[&str]) -> Value {
    let args = [args, &["--enc=json"]].concat();
    serde_json::from_str(&r.ok(&args)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn tcp_addr(addrs: &[String]) -> String {
    addrs.iter().find(|a| a.contains("/tcp/") && a.contains("127.0.0.1")).expect("a loopback tcp address").clone()
}

/// The daemon's loopback TCP address, with its peer id.
fn rubo_addr(r: &TestRepo) -> String {
    let id = json_of(r, &["id"]);
    let addrs: Vec<String> =
        id["Addresses"].as_array().into_iter().flatten().filter_map(|a| a.as_str().map(String::from)).collect();
    tcp_addr(&addrs)
}

/// GET through the daemon's gateway (its address from `$RUBO_PATH/gateway`).
fn http_get(r: &TestRepo, path: &str) -> (u16, Vec<u8>) {
    use std::io::{Read, Write};
    let maddr = std::fs::read_to_string(r.path().join("gateway")).expect("gateway file");
    // `http://127.0.0.1:N` (Kubo's form) or a multiaddr: the port is last.
    let port: String =
        maddr.trim().chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    let mut s = std::net::TcpStream::connect(format!("127.0.0.1:{port}")).expect("connect to the gateway");
    // Host 127.0.0.1: a path gateway (on `localhost` Kubo redirects to subdomains).
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").expect("request");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("response");
    let head_end = resp.windows(4).position(|w| w == b"\r\n\r\n").expect("end of head") + 4;
    let head = String::from_utf8_lossy(&resp[..head_end]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).expect("status");
    let mut body = resp[head_end..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        let (mut out, mut rest) = (Vec::new(), &body[..]);
        loop {
            let eol = rest.windows(2).position(|w| w == b"\r\n").expect("chunk size line");
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[..eol]).trim(), 16).expect("chunk size");
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 4 + size..];
        }
        body = out;
    }
    (status, body)
}

#[test]
fn kubo_and_rubo_fetch_from_each_other() {
    in_netns("kubo_and_rubo_fetch_from_each_other", || {
        let r = TestRepo::new();
        let mut d = Daemon::start(&r, &[]);
        let work = tempfile::tempdir().expect("tmp");
        let mut kubo = Kubo::start(&work.path().join("kubo"));
        r.ok(&["swarm", "connect", &tcp_addr(&kubo.addrs)]);

        // Kubo fetches files only rubo holds: CIDv0 and CIDv1 with raw leaves.
        let mut sent_bytes = 0u64;
        for (i, &size) in SIZES.iter().chain([BIG].iter()).enumerate() {
            let bytes = data(size, i as u64);
            let f = write(work.path(), &format!("rubo-{i}"), &bytes);
            for v1 in [false, true] {
                if size == BIG && !v1 {
                    continue;
                }
                let cid = add(&r, &f, v1);
                assert!(cid.starts_with(if v1 { "baf" } else { "Qm" }), "{cid}");
                let dest = work.path().join(format!("kubo-got-{i}-{v1}"));
                kubo.get(&cid, &dest, Duration::from_secs(300));
                let got = std::fs::read(&dest).expect("kubo's copy");
                assert!(got == bytes, "Kubo's copy of {size} bytes ({cid}) differs: {} bytes", got.len());
                sent_bytes += size as u64;
            }
        }
        // ... and a directory.
        let tree = work.path().join("tree");
        let files = make_tree(&tree);
        let root = r.ok(&["add", "-r", "-Q", tree.to_str().expect("utf-8")]).trim().to_string();
        let dest = work.path().join("kubo-tree");
        kubo.get(&root, &dest, Duration::from_secs(120));
        assert_tree(&dest, &files);

        // What rubo says it sent, and to whom.
        let stat = json_of(&r, &["bitswap", "stat"]);
        assert!(stat["BlocksSent"].as_u64().unwrap_or(0) > 0, "{stat}");
        assert!(stat["DataSent"].as_u64().unwrap_or(0) >= sent_bytes, "{stat} < {sent_bytes}");
        let ledger = json_of(&r, &["bitswap", "ledger", &kubo.id]);
        assert_eq!(ledger["Peer"], json!(kubo.id));
        assert!(ledger["Sent"].as_u64().unwrap_or(0) >= sent_bytes, "{ledger}");
        let text = r.ok(&["bitswap", "stat", "-v"]);
        assert!(text.starts_with("bitswap status\n\tprovides buffer: 0 / 256\n\tblocks received: "), "{text}");
        assert!(text.contains(&format!("\tpartners [1]\n\t\t{}", kubo.id)), "{text}");

        // rubo fetches what only Kubo holds (Kubo adds CIDv0, its default).
        for (i, &size) in SIZES.iter().chain([BIG].iter()).enumerate() {
            let bytes = data(size, 1000 + i as u64);
            let f = write(work.path(), &format!("kubo-{i}"), &bytes);
            let cid = kubo.add(&f);
            // Not here before: the offline view fails at once, naming the block.
            if size > 0 {
                let err = r.fails(&["cat", "--offline", &cid]);
                assert!(err.contains("not found") || err.contains("offline"), "{err}");
            }
            assert!(cat(&r, &cid) == bytes, "rubo's copy of Kubo's {size} bytes ({cid}) differs");
        }
        let stat = json_of(&r, &["bitswap", "stat"]);
        assert!(stat["BlocksReceived"].as_u64().unwrap_or(0) > 0, "{stat}");
        assert_eq!(json_of(&r, &["bitswap", "wantlist"])["Keys"], json!([]), "nothing left wanted");
        kubo.close();
        assert!(d.stop().success());
    });
}

#[test]
fn helia_and_rubo_fetch_from_each_other() {
    in_netns("helia_and_rubo_fetch_from_each_other", || {
        let r = TestRepo::new();
        let mut d = Daemon::start(&r, &[]);
        let work = tempfile::tempdir().expect("tmp");
        let mut helia = Helia::start();
        r.ok(&["swarm", "connect", &tcp_addr(&helia.addrs)]);
        let long = Duration::from_secs(300);

        // Helia fetches files only rubo holds.
        for (i, &size) in SIZES.iter().chain([BIG].iter()).enumerate() {
            let bytes = data(size, 2000 + i as u64);
            let f = write(work.path(), &format!("rubo-{i}"), &bytes);
            for v1 in [false, true] {
                if size == BIG && !v1 {
                    continue;
                }
                let cid = add(&r, &f, v1);
                let out = work.path().join(format!("helia-got-{i}-{v1}"));
                helia.call(json!({"op": "cat", "cid": cid, "out": out}), long);
                let got = std::fs::read(&out).expect("helia's copy");
                assert!(got == bytes, "Helia's copy of {size} bytes ({cid}) differs: {} bytes", got.len());
            }
        }
        // ... and a directory: Helia lists it and reads every file.
        let tree = work.path().join("tree");
        let files = make_tree(&tree);
        let root = r.ok(&["add", "-r", "-Q", "--cid-version=1", tree.to_str().expect("utf-8")]).trim().to_string();
        let top = helia.call(json!({"op": "ls", "cid": root}), long);
        let names: Vec<&str> =
            top["entries"].as_array().expect("entries").iter().filter_map(|e| e["name"].as_str()).collect();
        assert_eq!(names, ["a.txt", "empty", "sub"]);
        for (name, bytes) in &files {
            let out = work.path().join(format!("helia-tree-{}", name.replace('/', "_")));
            helia.call(json!({"op": "cat", "cid": root, "path": name, "out": out}), long);
            assert!(std::fs::read(&out).expect("read") == *bytes, "{name}");
        }

        // rubo fetches what only Helia holds: files both CID versions, and a directory.
        for (i, &size) in SIZES.iter().chain([BIG].iter()).enumerate() {
            let bytes = data(size, 3000 + i as u64);
            let f = write(work.path(), &format!("helia-{i}"), &bytes);
            for v1 in [false, true] {
                if size == BIG && !v1 {
                    continue;
                }
                let cid = helia.call(json!({"op": "add", "path": f, "v1": v1}), long)["cid"]
                    .as_str()
                    .expect("cid")
                    .to_string();
                assert!(cat(&r, &cid) == bytes, "rubo's copy of Helia's {size} bytes ({cid}) differs");
            }
        }
        let htree = work.path().join("htree");
        std::fs::create_dir_all(&htree).expect("mkdir");
        let entries: Vec<Value> = (0..3)
            .map(|i| {
                let p = write(&htree, &format!("f{i}"), &data(100_000 * i + 10, 4000 + i as u64));
                json!({"name": format!("f{i}"), "path": p})
            })
            .collect();
        let dir = helia.call(json!({"op": "adddir", "entries": entries, "v1": true}), long)["cid"]
            .as_str()
            .expect("cid")
            .to_string();
        let out = work.path().join("rubo-got-htree");
        r.ok(&["get", "-o", out.to_str().expect("utf-8"), &dir]);
        for i in 0..3 {
            let want = std::fs::read(htree.join(format!("f{i}"))).expect("read");
            assert!(std::fs::read(out.join(format!("f{i}"))).expect("read") == want, "f{i}");
        }
        helia.close();
        assert!(d.stop().success());
    });
}

#[test]
fn two_rubo_daemons_trade_blocks() {
    in_netns("two_rubo_daemons_trade_blocks", || {
        let a = TestRepo::new();
        let b = TestRepo::new();
        let mut da = Daemon::start(&a, &[]);
        let mut db = Daemon::start(&b, &[]);
        let work = tempfile::tempdir().expect("tmp");
        b.ok(&["swarm", "connect", &rubo_addr(&a)]);

        let bytes = data(20 << 20, 5);
        let f = write(work.path(), "big", &bytes);
        let cid = add(&a, &f, true);
        let tree = work.path().join("tree");
        let files = make_tree(&tree);
        let root = a.ok(&["add", "-r", "-Q", tree.to_str().expect("utf-8")]).trim().to_string();

        // Every reader fetches what is missing: pin add walks the whole DAG.
        b.ok(&["pin", "add", &cid]);
        assert!(b.ok(&["pin", "ls", "--type=recursive"]).contains(&cid));
        // Now local: the offline view reads it.
        assert!(b.run(&["cat", "--offline", &cid]).stdout == bytes);
        // get of a directory, dag export of it.
        let out = work.path().join("got");
        b.ok(&["get", "-o", out.to_str().expect("utf-8"), &root]);
        assert_tree(&out, &files);
        let car = b.run(&["dag", "export", &root]);
        assert!(car.status.success());
        // ls, refs -r on content fetched as above: all local now, same answers on both.
        assert_eq!(b.ok(&["refs", "-r", &root]), a.ok(&["refs", "-r", &root]));
        assert_eq!(b.ok(&["ls", &root]), a.ok(&["ls", &root]));
        let sa = json_of(&a, &["bitswap", "stat"]);
        let sb = json_of(&b, &["bitswap", "stat"]);
        assert!(sa["DataSent"].as_u64().unwrap_or(0) >= bytes.len() as u64, "{sa}");
        assert!(sb["DataReceived"].as_u64().unwrap_or(0) >= bytes.len() as u64, "{sb}");
        // The gateway reads through the same block service: content only A
        // has comes over Bitswap to B's gateway.
        let page = data(3 << 20, 77);
        let pcid = add(&a, &write(work.path(), "page", &page), true);
        let (status, body) = http_get(&b, &format!("/ipfs/{pcid}"));
        assert_eq!(status, 200);
        assert!(body == page, "the gateway served {} bytes", body.len());
        // A block nobody has: the daemon's own --offline fails at once.
        let missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
        let err = b.fails(&["block", "get", "--offline", missing]);
        assert!(!err.is_empty());
        assert!(da.stop().success());
        assert!(db.stop().success());
    });
}
