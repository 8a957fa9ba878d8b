//! Issue 13, second half: a full disk, Kubo parity of `ls`, `add` progress,
//! `block put` codecs, the shard function, and missing flags, driven through
//! the binary. Expected values come from Kubo's sharness tests.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::TestRepo;

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

/// Runs `body` with a small tmpfs mounted at the path it is given: directly
/// when this process already mounted it, else by running this one test again
/// in a private mount namespace (`unshare -m`, as root) with it mounted.
fn in_small_tmpfs(test: &str, size: &str, body: impl FnOnce(&Path)) {
    if let Some(dir) = std::env::var_os("RUBO_TEST_TMPFS") {
        body(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().expect("mount point");
    let exe = std::env::current_exe().expect("test executable");
    let status = Command::new("unshare")
        .args([
            "-m",
            "sh",
            "-c",
            "mount -t tmpfs -o size=\"$RUBO_TEST_TMPFS_SIZE\" none \"$RUBO_TEST_TMPFS\" && exec \"$0\" \"$@\"",
        ])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("RUBO_TEST_TMPFS", dir.path())
        .env("RUBO_TEST_TMPFS_SIZE", size)
        .status()
        .expect("full-disk tests mount a tmpfs in a private mount namespace and need `unshare -m` (root)");
    assert!(status.success(), "{test} failed inside its mount namespace");
}

/// Whether one more byte fits on the filesystem of `dir`.
fn has_room(dir: &Path) -> bool {
    let probe = dir.join("probe");
    let ok = std::fs::File::create(&probe).and_then(|mut f| f.write_all(b"x").and_then(|()| f.sync_all())).is_ok();
    let _ = std::fs::remove_file(&probe);
    ok
}

/// Fills the repo's disk with unpinned blocks, from big to one byte, until
/// not even a one-byte block fits, then the rest with a file.
fn fill_with_blocks(r: &TestRepo, mount: &Path, scratch: &Path, seed: &mut u64) {
    for size in [1_000_000usize, 65536, 4096, 1] {
        loop {
            *seed += 1;
            let f = scratch.join("block");
            let mut data = noise(*seed, size);
            data.extend_from_slice(&seed.to_le_bytes());
            std::fs::write(&f, &data).unwrap();
            let out = r.run(&["block", "put", f.to_str().unwrap()]);
            if !out.status.success() {
                let e = String::from_utf8_lossy(&out.stderr);
                assert!(e.contains("No space left on device"), "{e}");
                assert!(!e.contains("internal error: internal error"), "{e}");
                break;
            }
        }
    }
    // What a block can no longer take (a page left for the repo's own files).
    let mut filler = std::fs::OpenOptions::new().create(true).append(true).open(mount.join("filler")).unwrap();
    while filler.write_all(&[0; 512]).and_then(|()| filler.sync_all()).is_ok() {}
    assert!(!has_room(mount), "the disk should be full");
}

/// Issue 13 item 6: on a full disk the commands that free space still run.
/// Taking the repo lock writes nothing, and removing pins finds the pages
/// its commit needs.
#[test]
fn full_disk_gc_pin_rm_block_rm() {
    in_small_tmpfs("full_disk_gc_pin_rm_block_rm", "8m", |mount| {
        let r = TestRepo { dir: tempfile::tempdir_in(mount).unwrap() };
        let init = r.run(&["init", "--profile", "test"]);
        assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
        let scratch = tempfile::tempdir().unwrap();
        // Something pinned: a file, and many small blocks pinned one by one
        // (their removal on a full disk rewrites many B-tree pages).
        let f = scratch.path().join("pinned");
        std::fs::write(&f, noise(1, 300_000)).unwrap();
        let pinned = r.ok(&["add", "-Q", f.to_str().unwrap()]);
        let mut small = Vec::new();
        for i in 0..200 {
            let p = scratch.path().join(format!("s{i}"));
            std::fs::write(&p, format!("small block {i}\n")).unwrap();
            small.push(p.to_str().unwrap().to_string());
        }
        let args: Vec<&str> = ["block", "put"].into_iter().chain(small.iter().map(String::as_str)).collect();
        let small_cids: Vec<String> = r.ok(&args).lines().map(str::to_string).collect();
        assert_eq!(small_cids.len(), 200);
        let args: Vec<&str> = ["pin", "add"].into_iter().chain(small_cids.iter().map(String::as_str)).collect();
        r.ok(&args);
        // An unpinned block to remove by hand.
        let u = scratch.path().join("unpinned");
        std::fs::write(&u, noise(2, 500_000)).unwrap();
        let unpinned = r.ok(&["block", "put", u.to_str().unwrap()]);

        let mut seed = 100;
        fill_with_blocks(&r, mount, scratch.path(), &mut seed);

        // pin rm: needs the repo lock and a datastore commit.
        r.ok(&["pin", "rm", &pinned]);
        let args: Vec<&str> = ["pin", "rm"].into_iter().chain(small_cids.iter().map(String::as_str)).collect();
        r.ok(&args);
        let pins = r.ok(&["pin", "ls", "--type=recursive"]);
        assert!(!pins.contains(&pinned) && !pins.contains(&small_cids[0]), "{pins}");

        // block rm frees the block's space.
        assert_eq!(r.ok(&["block", "rm", &unpinned]), format!("removed {unpinned}"));
        assert!(has_room(mount));

        // Full again: repo gc frees everything unpinned.
        fill_with_blocks(&r, mount, scratch.path(), &mut seed);
        let gc = r.run(&["repo", "gc"]);
        assert!(gc.status.success(), "{}", String::from_utf8_lossy(&gc.stderr));
        assert!(String::from_utf8_lossy(&gc.stdout).contains(&format!("removed {}", small_cids[0])));
        assert!(r.fails(&["block", "stat", &pinned]).contains("not found"));
        let big = scratch.path().join("big");
        std::fs::write(&big, noise(3, 4_000_000)).unwrap();
        let cid = r.ok(&["add", "-Q", big.to_str().unwrap()]);
        assert_eq!(r.run(&["cat", &cid]).stdout, std::fs::read(&big).unwrap());
        assert_eq!(r.ok(&["repo", "verify"]), "verify complete, all blocks validated.");
        assert!(r.ok(&["pin", "ls", "--type=recursive"]).contains(&cid));
    });
}
