//! `repo gc`, pins and `block rm` through the binary, following Kubo's
//! sharness t0080-repo and t0081-repo-pinning.

mod common;

use std::path::Path;

use common::TestRepo;

const EMPTY_DIR: &str = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";

/// Deterministic pseudo-random bytes.
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

fn block_files(repo: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for shard in std::fs::read_dir(repo.join("blocks")).unwrap() {
        let shard = shard.unwrap().path();
        if shard.is_dir() {
            for f in std::fs::read_dir(&shard).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|e| e == "data") {
                    v.push(f.display().to_string());
                }
            }
        }
    }
    v.sort();
    v
}

#[test]
fn t0080_gc_reverses_add_and_keeps_pins() {
    let r = TestRepo::new();
    // A fresh repo pins the empty directory, as Kubo's does.
    assert_eq!(r.ok(&["pin", "ls", "--type=recursive"]), format!("{EMPTY_DIR} recursive"));
    assert_eq!(r.ok(&["repo", "gc"]), "");
    let before = block_files(&r.path());

    let afile = r.ok_stdin(&["add", "-q"], b"some text\n");
    assert!(r.ok(&["pin", "ls", "--type=recursive"]).contains(&afile));
    assert!(!r.ok(&["repo", "gc"]).contains(&afile));
    assert_eq!(r.ok(&["cat", &afile]), "some text");

    let big = r.ok_stdin(&["add", "-q"], &noise(41, 1_000_000));
    assert_eq!(r.ok(&["pin", "rm", "-r", &afile]), format!("unpinned {afile}"));
    assert_eq!(r.ok(&["pin", "rm", &big]), format!("unpinned {big}"));
    let removed = r.ok(&["repo", "gc"]);
    // Every block of both, and nothing else: the blocks on disk are as before.
    assert!(removed.lines().all(|l| l.starts_with("removed b")), "{removed}");
    // "some text" is one block; 1 MB is four 256 KiB leaves and a root.
    assert_eq!(removed.lines().count(), 1 + 5, "{removed}");
    assert_eq!(block_files(&r.path()), before);

    // --silent prints nothing; content that GC removed is a clear error, at once.
    let bfile = r.ok_stdin(&["add", "-q"], b"should be empty\n");
    r.ok(&["pin", "rm", "-r", &bfile]);
    let out = r.run(&["repo", "gc", "--silent"]);
    assert!(out.status.success() && out.stdout.is_empty());
    let e = r.fails(&["cat", &bfile]);
    assert!(e.contains(&format!("Error: block was not found locally (offline): ipld: could not find {bfile}")), "{e}");
    assert!(r.fails(&["block", "stat", &bfile]).contains("not found"));

    // -q prints bare keys; --enc=json Kubo's GcResult.
    let q = r.ok_stdin(&["add", "-q", "--pin=false"], b"quiet\n");
    let raw = r.ok(&["cid", "format", "-v", "1", "--mc", "raw", "-b", "base32", &q]);
    assert_eq!(r.ok(&["repo", "gc", "-q"]), raw);
    let j = r.ok_stdin(&["add", "-q", "--pin=false"], b"json\n");
    let raw = r.ok(&["cid", "format", "-v", "1", "--mc", "raw", "-b", "base32", &j]);
    assert_eq!(r.ok(&["repo", "gc", "--enc=json"]), format!("{{\"Key\":{{\"/\":\"{raw}\"}}}}"));
}

#[test]
fn t0080_pin_kinds() {
    let r = TestRepo::new();
    let h = r.ok_stdin(&["add", "-q"], b"some text\n");
    assert_eq!(r.fails(&["pin", "add", "-r=false", &h]).trim(), format!("Error: pin: {h} already pinned recursively"));
    assert_eq!(r.fails(&["pin", "rm", "-r=false", &h]).trim(), format!("Error: {h} is pinned recursively"));
    assert_eq!(r.ok(&["pin", "rm", "-r", &h]), format!("unpinned {h}"));
    assert_eq!(r.ok(&["pin", "add", "-r=false", &h]), format!("pinned {h} directly"));
    assert_eq!(r.ok(&["pin", "ls", "--type=direct"]), format!("{h} direct"));
    assert_eq!(r.ok(&["pin", "rm", &h]), format!("unpinned {h}"));

    // Indirect pins are the refs of recursive pins.
    let mb = r.ok_stdin(&["add", "-q"], &noise(7, 1_000_000));
    let mut refs: Vec<String> = r.ok(&["refs", &mb]).lines().map(|l| format!("{l} indirect")).collect();
    refs.sort();
    let mut ind: Vec<String> = r.ok(&["pin", "ls", "--type=indirect"]).lines().map(str::to_string).collect();
    ind.sort();
    assert_eq!(ind, refs);
    let child = r.ok(&["refs", &mb]).lines().next().unwrap().to_string();
    assert_eq!(r.ok(&["pin", "ls", &child]), format!("{child} indirect through {mb}"));

    // block rm refuses pinned blocks, whatever the kind (Kubo's RmBlocks).
    let e = r.fails(&["block", "rm", &mb]);
    assert!(e.contains(&format!("cannot remove {mb}: pinned: recursive")), "{e}");
    let e = r.fails(&["block", "rm", &child]);
    assert!(e.contains(&format!("cannot remove {child}: pinned via {mb}")), "{e}");
    let d = r.ok_stdin(&["block", "put", "--pin"], b"direct block");
    let e = r.fails(&["block", "rm", &d]);
    assert!(e.contains("pinned: recursive"), "{e}");
    assert_eq!(r.run(&["cat", &mb]).stdout, noise(7, 1_000_000));
    r.ok(&["pin", "rm", &d]);
    assert_eq!(r.ok(&["block", "rm", &d]), format!("removed {d}"));

    // pin update: new pin in, old pin out, name kept.
    let a = r.ok_stdin(&["add", "-q", "--pin=false"], b"version 1\n");
    let b = r.ok_stdin(&["add", "-q", "--pin=false"], b"version 2\n");
    r.ok(&["pin", "add", "--name", "release", &a]);
    assert_eq!(r.ok(&["pin", "update", &a, &b]), format!("updated {a} to {b}"));
    let ls = r.ok(&["pin", "ls", "--type=recursive", "--names"]);
    assert!(ls.contains(&format!("{b} recursive release")), "{ls}");
    assert!(!ls.contains(&a));
    assert!(r.fails(&["pin", "update", &a, &b]).contains("'from' cid was not recursively pinned already"));
    assert_eq!(r.ok(&["pin", "verify"]), "");
    assert!(r.ok(&["pin", "verify", "--verbose"]).contains(&format!("{b} ok")));
}

/// Another process's add and `repo gc` cannot interleave: the repo lock
/// refuses the second writer, and nothing of the add is lost.
#[test]
fn gc_during_add_in_another_process() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("big");
    std::fs::write(&f, noise(3, 48 << 20)).unwrap();
    let mut add = r.cmd(&["add", "-q", f.to_str().unwrap()]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    // Wait until the add holds the repo (the kernel's lock table shows it), or is done.
    let lock = r.path().join("repo.lock");
    while !common::flock_held(&lock) && add.try_wait().unwrap().is_none() {
        std::thread::yield_now();
    }
    let mut refused = 0;
    let mut ran = 0;
    loop {
        let out = r.run(&["repo", "gc"]);
        if out.status.success() {
            ran += 1;
        } else {
            let e = String::from_utf8_lossy(&out.stderr);
            assert!(e.contains("lock"), "{e}");
            refused += 1;
        }
        if add.try_wait().unwrap().is_some() {
            break;
        }
    }
    let out = add.wait_with_output().unwrap();
    assert!(out.status.success());
    let cid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(refused + ran > 0);
    let mut verified: Vec<String> = r.ok(&["pin", "verify", "--verbose"]).lines().map(str::to_string).collect();
    verified.sort();
    let mut want = vec![format!("{cid} ok"), format!("{EMPTY_DIR} ok")];
    want.sort();
    assert_eq!(verified, want);
    assert_eq!(r.run(&["cat", &cid]).stdout, std::fs::read(&f).unwrap());
}
