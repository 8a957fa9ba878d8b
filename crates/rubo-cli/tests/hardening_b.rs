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

// Kubo vectors: `echo "Hello Mars!" | ipfs block put` (t0050) and
// `echo hi | ipfs block put`: raw CIDv1s of those bytes.
const MARS_RAW: &str = "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4";
const HI_RAW: &str = "bafkreiey5jxe6ilpf62lnh77tm5ejbbmhbugzjuf6p2v3remlu73ced34q";
const EMPTY_DIR: &str = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";

/// Issue 13 item 8 (t0045 `test_ls_object`): `ls` of a file lists its
/// chunks, unnamed, with their sizes; of a raw block nothing; of a dag-cbor
/// node its links.
#[test]
fn ls_of_file_raw_and_cbor() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("f");
    std::fs::write(&f, b"Hello Mars!\nhi\n").unwrap();
    // Two raw chunks: "Hello Mars!\n" and "hi\n".
    let file = r.ok(&["add", "-Q", "--chunker=size-12", "--raw-leaves", f.to_str().unwrap()]);
    // t0045: `<hash> <size> <empty name>`, tab-aligned (trailing spaces kept).
    let out = r.run(&["ls", &file]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{MARS_RAW} 12 \n{HI_RAW} 3  \n"));
    let out = r.run(&["ls", "--size=false", &file]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{MARS_RAW} \n{HI_RAW} \n"));

    // A raw block has no links: nothing, and success.
    let out = r.run(&["ls", MARS_RAW]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());

    // dag-cbor: its links in data-model order, unnamed; a dag-pb child is
    // resolved (here a directory: `-` and a `/`), a raw child gets the
    // link's size, which dag-cbor does not record (0).
    let doc = format!(r#"{{"a":{{"/":"{EMPTY_DIR}"}},"b":[{{"/":"{MARS_RAW}"}}]}}"#);
    let cbor = r.ok_stdin(&["dag", "put"], doc.as_bytes());
    let out = r.run(&["ls", &cbor]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{EMPTY_DIR}{} - /\n{MARS_RAW} 0 \n", " ".repeat(13)));
    // JSON: Kubo's LsLink; an unresolved dag-pb link has type 0 (TUnknown) and size 0.
    let json: serde_json::Value =
        serde_json::from_str(&r.ok(&["ls", "--enc=json", "--resolve-type=false", "--size=false", &cbor])).unwrap();
    let links = &json["Objects"][0]["Links"];
    assert_eq!(
        links[0],
        serde_json::json!({"Name": "", "Hash": EMPTY_DIR, "Size": 0, "Type": 0, "Target": "",
            "Mode": 0, "ModTime": "0001-01-01T00:00:00Z"})
    );
    assert_eq!((links[1]["Type"].clone(), links[1]["Size"].clone()), (serde_json::json!(2), serde_json::json!(0)));
}

/// The date `date(1)` prints for `secs` in `tz` with `format` (an oracle
/// outside the code under test).
fn date_of(secs: i64, tz: &str, format: &str) -> String {
    let out = Command::new("date").env("TZ", tz).arg("-d").arg(format!("@{secs}")).arg(format).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

/// Issue 13 item 8 (Kubo test/cli/ls_test.go): `ls --long` shows the mode
/// as `ls -l` does and the mtime as `Jun 15  2020`, or `Jun 15 10:30` within
/// the last six months, in local time; JSON carries Go's time.Time.
#[test]
fn ls_long_mode_and_mtime() {
    use std::os::unix::fs::PermissionsExt;
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("testdata");
    std::fs::create_dir(&d).unwrap();
    let set = |name: &str, mode: u32, secs: u64| {
        let p = d.join(name);
        std::fs::write(&p, name.as_bytes()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
        let f = std::fs::File::options().write(true).open(&p).unwrap();
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs)).unwrap();
    };
    // 2020-06-15T10:30:00Z, as in Kubo's test.
    set("executable.sh", 0o755, 1_592_217_000);
    set("readable.txt", 0o644, 1_592_217_000);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let recent = now - 3 * 86_400;
    set("recent.txt", 0o4750, recent);
    let dir = r.ok(&["add", "-r", "--preserve-mode", "--preserve-mtime", "-Q", d.to_str().unwrap()]);
    let ls = |tz: &str, args: &[&str]| {
        let mut a = vec!["ls"];
        a.extend_from_slice(args);
        a.push(&dir);
        let out = r.cmd(&a).env("TZ", tz).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = ls("UTC", &["--long"]);
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert_eq!(
        (lines[0][0], &lines[0][3..6], lines[0][6]),
        ("-rwxr-xr-x", &["Jun", "15", "2020"][..], "executable.sh")
    );
    assert_eq!((lines[1][0], &lines[1][3..6], lines[1][6]), ("-rw-r--r--", &["Jun", "15", "2020"][..], "readable.txt"));
    assert!(out.contains(" Jun 15  2020 "), "{out}");
    // Setuid without group execute: ls -l's `s`; a recent time shows the clock.
    assert_eq!(lines[2][0], "-rwsr-x---");
    assert!(out.contains(&format!(" {} recent.txt", date_of(recent as i64, "UTC", "+%b %d %H:%M"))), "{out}");
    // Local time: the zone decides the day and the clock.
    let out = ls("Asia/Tokyo", &["--long"]);
    assert!(out.contains(&format!(" {} recent.txt", date_of(recent as i64, "Asia/Tokyo", "+%b %d %H:%M"))), "{out}");
    let json: serde_json::Value = serde_json::from_str(&ls("Asia/Tokyo", &["--enc=json"])).unwrap();
    let link = &json["Objects"][0]["Links"][1];
    assert_eq!(link["ModTime"], "2020-06-15T19:30:00+09:00");
    assert_eq!(link["Mode"], 0o644);
    let json: serde_json::Value = serde_json::from_str(&ls("UTC", &["--enc=json"])).unwrap();
    assert_eq!(json["Objects"][0]["Links"][1]["ModTime"], "2020-06-15T10:30:00Z");
    // Go's os.FileMode: setuid is bit 23.
    assert_eq!(json["Objects"][0]["Links"][2]["Mode"], (1u32 << 23) | 0o750);
    // Without preserved metadata: `-` for both.
    let plain = r.ok(&["add", "-r", "-Q", d.to_str().unwrap()]);
    let out = r.ok(&["ls", "-l", &plain]);
    // Kubo: `^-\s+\S+\s+\d+\s+-\s+`.
    assert!(out.lines().all(|l| l.starts_with("- Qm") && l.contains(" - ")), "{out}");
}

/// Issue 13 item 9: progress events only when progress is on (Kubo's adder
/// gets `Progress(progress)`), and an explicit `-p` draws the bar even when
/// stderr is not a terminal (Kubo's pb bar writes to stderr regardless).
#[test]
fn add_progress_only_when_asked() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("z");
    std::fs::write(&f, vec![0u8; 1 << 20]).unwrap();
    let fs = f.to_str().unwrap();
    // Not a terminal, no -p: only the `added` event.
    let out = r.run(&["add", "--enc=json", fs]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].get("Bytes").is_none() && lines[0]["Hash"].is_string(), "{lines:?}");
    assert!(out.stderr.is_empty());
    // -p: progress events ({"Name","Bytes"}) before the `added` one.
    let out = r.run(&["add", "--enc=json", "-p", fs]);
    let lines: Vec<serde_json::Value> =
        String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(lines.len() > 1 && lines[0]["Bytes"].is_u64(), "{lines:?}");
    assert_eq!(lines.iter().filter_map(|l| l["Bytes"].as_u64()).max(), Some(1 << 20));
    // Text with -p on a pipe: the bar is drawn on stderr, ending at the total.
    let out = r.run(&["add", "-p", fs]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("1.00 MiB / 1.00 MiB"), "{err:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("added "));
    // Without -p, nothing on stderr.
    assert!(r.run(&["add", fs]).stderr.is_empty());
}

/// Issue 13 item 10 (t0050): `block put` stores the bytes as given, whatever
/// `--cid-codec` says; what later decodes the block reports it, no panic.
#[test]
fn block_put_stores_undecodable_bytes() {
    let r = TestRepo::new();
    // t0050-block.sh: "can set multihash type and length on block put with cid-codec=dag-pb".
    let pb = r.ok_stdin(&["block", "put", "--mhtype=sha3", "--mhlen=20", "--cid-codec=dag-pb"], b"foooo\n");
    assert_eq!(pb, "bafybifctrq4xazzixy2v4ezymjcvzpskqdwlxra");
    assert_eq!(r.run(&["block", "get", &pb]).stdout, b"foooo\n");
    for (codec, data) in [("dag-cbor", &b"\xa1\x61"[..]), ("dag-json", b"{"), ("json", b"{")] {
        let c = r.ok_stdin(&["block", "put", "--cid-codec", codec], data);
        assert_eq!(r.run(&["block", "get", &c]).stdout, data, "{codec}");
        r.fails(&["dag", "get", &c]);
    }
    // Readers of the invalid dag-pb block: a clear error each (`fails`
    // checks exit code 1 and no panic), naming the block where they walk.
    for args in [
        &["dag", "get", &pb][..],
        &["dag", "stat", &pb],
        &["dag", "export", &pb],
        &["refs", "-r", &pb],
        &["ls", &pb],
        &["cat", &pb],
    ] {
        let e = r.fails(args);
        assert!(e.starts_with("Error: ") && e.contains("protobuf"), "{args:?}: {e}");
    }
    let e = r.fails(&["pin", "add", &pb]);
    assert!(e.contains(&pb), "{e}");
    // Pinned as it is (--pin does not walk): GC refuses to run rather than
    // guess what the pin keeps, and removes nothing.
    let other = r.ok_stdin(&["block", "put"], b"unpinned\n");
    r.ok_stdin(&["block", "put", "--mhtype=sha3", "--mhlen=20", "--cid-codec=dag-pb", "--pin"], b"foooo\n");
    let e = r.fails(&["repo", "gc"]);
    assert!(e.contains(&pb), "{e}");
    r.ok(&["block", "stat", &other]);
    let out = r.run(&["pin", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{pb} broken")));
    // Unpinned, GC runs and takes both (naming blocks by multihash, as raw
    // CIDs: t0050's CID of the same bytes with --format=raw).
    r.ok(&["pin", "rm", &pb]);
    let gc = r.ok(&["repo", "gc"]);
    assert!(gc.contains("removed bafkrifctrq4xazzixy2v4ezymjcvzpskqdwlxra"), "{gc}");
    assert!(gc.contains(&format!("removed {other}")), "{gc}");
}

/// Issue 13 item 11: a `blocks/SHARDING` other than the configured shard
/// function makes the repo refuse to open, in go-ds-flatfs's words, before
/// anything reads or changes it.
#[test]
fn contradicting_sharding_file_refuses_to_open() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("f");
    std::fs::write(&f, b"Hello Mars!\n").unwrap();
    let cid = r.ok(&["add", "-Q", f.to_str().unwrap()]);
    let sharding = r.path().join("blocks/SHARDING");
    let kubo = std::fs::read_to_string(&sharding).unwrap();
    assert_eq!(kubo, "/repo/flatfs/shard/v1/next-to-last/2\n");
    std::fs::write(&sharding, "/repo/flatfs/shard/v1/prefix/2\n").unwrap();
    let want = "specified shard func '/repo/flatfs/shard/v1/next-to-last/2' does not match repo shard func \
                '/repo/flatfs/shard/v1/prefix/2'";
    for args in [&["repo", "verify"][..], &["cat", &cid], &["pin", "ls"], &["repo", "gc"], &["block", "put"]] {
        let e = r.fails_stdin(args, b"x");
        assert_eq!(e, format!("Error: {want}\n"), "{args:?}");
    }
    // Nothing was touched: with the file put back, all is there.
    std::fs::write(&sharding, kubo).unwrap();
    assert_eq!(r.run(&["cat", &cid]).stdout, b"Hello Mars!\n");
    assert_eq!(r.ok(&["repo", "verify"]), "verify complete, all blocks validated.");

    // init over a blocks directory of another shard function is refused too.
    let r2 = TestRepo::uninit();
    let blocks = r2.path().join("blocks");
    std::fs::create_dir_all(&blocks).unwrap();
    std::fs::write(blocks.join("SHARDING"), "/repo/flatfs/shard/v1/suffix/3\n").unwrap();
    let e = r2.fails(&["init", "--profile", "test"]);
    assert!(e.contains("does not match repo shard func '/repo/flatfs/shard/v1/suffix/3'"), "{e}");
}

/// Issue 13 item 13: `--version` (Kubo's start.go turns `ipfs --version`
/// into `ipfs version`), and `init -a` naming every algorithm it takes
/// (Kubo's CreateIdentity: rsa, ed25519, secp256k1).
#[test]
fn version_flag_and_key_types() {
    let r = TestRepo::uninit();
    let v = r.ok(&["--version"]);
    assert_eq!(v, r.ok(&["version"]));
    assert!(v.starts_with("rubo version "), "{v}");
    let e = r.fails(&["init", "-a", "foo"]);
    assert!(e.contains("unrecognized key type: foo") && e.contains("secp256k1"), "{e}");
    r.ok(&["init", "-a", "secp256k1", "--profile", "test"]);
}

/// Issue 13 item 13: a closed stdout ends the command quietly with the
/// status a shell reports for a Go program killed by SIGPIPE (141).
#[test]
fn closed_pipe_is_quiet() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let f = t.path().join("big");
    // Far more than a pipe holds: rubo is still writing when the reader goes.
    std::fs::write(&f, noise(5, 4 << 20)).unwrap();
    let cid = r.ok(&["add", "-Q", f.to_str().unwrap()]);
    let mut child = r
        .cmd(&["cat", &cid])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut one = [0u8; 1];
    std::io::Read::read_exact(&mut out, &mut one).unwrap();
    drop(out);
    let res = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&res.stderr), "");
    assert_eq!(res.status.code(), Some(141));
}

/// Issue 13 item 13: errors read like Kubo's, without an "internal error:"
/// prefix (which nesting doubled): here an add on a full disk.
#[test]
fn full_disk_error_has_no_internal_prefix() {
    in_small_tmpfs("full_disk_error_has_no_internal_prefix", "8m", |mount| {
        let r = TestRepo { dir: tempfile::tempdir_in(mount).unwrap() };
        let init = r.run(&["init", "--profile", "test"]);
        assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
        // Leave about 256 KiB free (a filler file outside the repo), then
        // add a file four times that big.
        let st = Command::new("stat").args(["-f", "-c", "%a %S"]).arg(mount).output().unwrap();
        let st = String::from_utf8_lossy(&st.stdout).to_string();
        let v: Vec<u64> = st.split_whitespace().map(|x| x.parse().unwrap()).collect();
        let free = v[0] * v[1];
        std::fs::write(mount.join("filler"), vec![0u8; (free - (256 << 10)) as usize]).unwrap();
        let scratch = tempfile::tempdir().unwrap();
        let f = scratch.path().join("f");
        std::fs::write(&f, noise(9, 1 << 20)).unwrap();
        let e = r.fails(&["add", f.to_str().unwrap()]);
        assert!(e.contains("No space left on device"), "{e}");
        assert!(!e.contains("internal error"), "{e}");
    });
}

/// Issue 13 item 13: `--config-file` names the config to use instead of
/// `$RUBO_PATH/config`; a bare file name is in the repo (Kubo's
/// `config.Filename`).
#[test]
fn config_file_option() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let alt = t.path().join("alt.json");
    std::fs::copy(r.path().join("config"), &alt).unwrap();
    let alt_s = alt.to_str().unwrap();
    r.ok(&["--config-file", alt_s, "config", "Datastore.StorageMax", "1GB"]);
    assert_eq!(r.ok(&["--config-file", alt_s, "config", "Datastore.StorageMax"]), "1GB");
    assert_eq!(r.ok(&["config", "Datastore.StorageMax"]), "10GB");
    let shown: serde_json::Value = serde_json::from_str(&r.ok(&["config", "show", "--config-file", alt_s])).unwrap();
    assert_eq!(shown["Datastore"]["StorageMax"], "1GB");
    // A bare name: in the repo.
    std::fs::copy(&alt, r.path().join("mine")).unwrap();
    assert_eq!(r.ok(&["--config-file=mine", "config", "Datastore.StorageMax"]), "1GB");
    // The repo works under it.
    assert_eq!(r.ok_stdin(&["--config-file", alt_s, "block", "put"], b"hi\n"), HI_RAW);
    assert!(r.fails(&["--config-file", "/nonexistent/config", "repo", "stat"]).contains("/nonexistent/config"));
}

/// Issue 13 item 13: Kubo's add options `--dereference-args` (deprecated:
/// a symlink argument is replaced by its target, named after it) and
/// `--fast-provide-{root,dag,wait}` (accepted, on add, dag import, pin add
/// and pin update; checked as booleans).
#[test]
fn add_deref_args_and_fast_provide() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let target = t.path().join("target.txt");
    std::fs::write(&target, b"Hello Mars!\n").unwrap();
    let link = t.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let direct = r.ok(&["add", target.to_str().unwrap()]);
    assert_eq!(r.ok(&["add", "--dereference-args", link.to_str().unwrap()]), direct);
    // Without it, the symlink itself is added.
    assert_ne!(r.ok(&["add", link.to_str().unwrap()]), direct);
    let fs = target.to_str().unwrap();
    let q = r.ok(&["add", "-Q", fs]);
    assert_eq!(
        r.ok(&["add", "-Q", "--fast-provide-root", "--fast-provide-dag=false", "--fast-provide-wait=true", fs]),
        q
    );
    r.fails(&["add", "--fast-provide-root=maybe", fs]);
    r.ok(&["pin", "add", "--fast-provide-root", &q]);
    let help = r.ok(&["add", "--help"]);
    assert!(help.contains("--fast-provide-root") && help.contains("--fast-provide-wait"), "{help}");
    let car = t.path().join("x.car");
    std::fs::write(&car, r.run(&["dag", "export", &q]).stdout).unwrap();
    r.ok(&["dag", "import", "--fast-provide-root=false", "--fast-provide-wait", car.to_str().unwrap()]);
}

/// Issue 13 item 13: `dag export --local-only` writes what is here (a
/// missing block is skipped with its subtree) and `dag import --local-only`
/// pins nothing (Kubo's dag.go, export.go, import.go).
#[test]
fn dag_local_only() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("d");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("a"), b"Hello Mars!\n").unwrap();
    std::fs::write(d.join("b"), b"hi\n").unwrap();
    let root = r.ok(&["add", "-Q", "-r", "--raw-leaves", d.to_str().unwrap()]);
    let full = r.run(&["dag", "export", &root]).stdout;
    // Remove one leaf: the plain export fails, the local-only one skips it.
    r.ok(&["pin", "rm", &root]);
    r.ok(&["block", "rm", HI_RAW]);
    let e = r.fails(&["dag", "export", &root]);
    assert!(e.contains("could not find"), "{e}");
    let out = r.run(&["dag", "export", "--local-only", &root]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let partial = out.stdout;
    assert!(partial.len() < full.len());
    // A CAR of the root and the other leaf: what a fresh repo gets from it.
    let car = t.path().join("partial.car");
    std::fs::write(&car, &partial).unwrap();
    let r2 = TestRepo::new();
    let e = r2.fails(&["dag", "import", "--local-only", "--pin-roots=true", car.to_str().unwrap()]);
    assert!(e.contains("--local-only implies --pin-roots=false and cannot be combined with --pin-roots=true"), "{e}");
    let out = r2.ok(&["dag", "import", "--local-only", "--stats", car.to_str().unwrap()]);
    assert_eq!(out, format!("Imported 2 blocks ({} bytes)", partial_block_bytes(&r2, &root)));
    assert!(!r2.ok(&["pin", "ls", "--type=recursive"]).contains(&root));
    r2.ok(&["block", "stat", &root]);
    r2.ok(&["block", "stat", MARS_RAW]);
    r2.fails(&["block", "stat", HI_RAW]);
}

/// Bytes of the root block and the Mars leaf in `r`.
fn partial_block_bytes(r: &TestRepo, root: &str) -> u64 {
    let size = |c: &str| -> u64 {
        let v: serde_json::Value = serde_json::from_str(&r.ok(&["block", "stat", "--enc=json", c])).unwrap();
        v["Size"].as_u64().unwrap()
    };
    size(root) + size(MARS_RAW)
}

/// Issue 13 item 13: `repo ls` is `refs local`, and `files ls -U` lists in
/// directory order.
#[test]
fn repo_ls_and_files_ls_unsorted() {
    let r = TestRepo::new();
    r.ok_stdin(&["block", "put"], b"hi\n");
    let local = r.ok(&["refs", "local"]);
    assert!(local.contains(HI_RAW));
    assert_eq!(r.ok(&["repo", "ls"]), local);
    r.ok(&["files", "mkdir", "/d"]);
    for n in ["b", "a"] {
        r.ok_stdin(&["files", "write", "--create", &format!("/d/{n}")], n.as_bytes());
    }
    // A basic directory's links are sorted by name, so its order is sorted too.
    assert_eq!(r.ok(&["files", "ls", "-U", "/d"]), "a\nb");
}

/// Issue 13 item 13 (Kubo's pin.go, test/cli/pin_ls_names_test.go): `pin ls`
/// prints a name only when there is one (no trailing space), JSON always
/// carries `Name`, and names come back for CIDs asked for by argument.
#[test]
fn pin_ls_names() {
    let r = TestRepo::new();
    let a = r.ok_stdin(&["add", "-Q", "--pin=false"], b"a\n");
    let b = r.ok_stdin(&["add", "-Q", "--pin=false"], b"b\n");
    r.ok(&["pin", "add", "--name", "pin-a", &a]);
    r.ok(&["pin", "add", &b]);
    let out = r.run(&["pin", "ls", "--type=recursive", "--names"]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.lines().any(|l| l == format!("{a} recursive pin-a")), "{text:?}");
    assert!(text.lines().any(|l| l == format!("{b} recursive")), "{text:?}");
    assert!(!text.lines().any(|l| l.ends_with(' ')), "{text:?}");
    assert_eq!(r.ok(&["pin", "ls", "--names", &a]), format!("{a} recursive pin-a"));
    assert_eq!(r.ok(&["pin", "ls", &a]), format!("{a} recursive"));
    let json: serde_json::Value = serde_json::from_str(&r.ok(&["pin", "ls", "--names", "--enc=json", &a])).unwrap();
    assert_eq!(json, serde_json::json!({"Keys": {a.clone(): {"Type": "recursive", "Name": "pin-a"}}}));
    let json: serde_json::Value =
        serde_json::from_str(&r.ok(&["pin", "ls", "--enc=json", "--type=recursive"])).unwrap();
    assert_eq!(json["Keys"][&a], serde_json::json!({"Type": "recursive", "Name": ""}));
    // --stream: PinLsObject, Name left out when empty.
    let line = r.ok(&["pin", "ls", "--stream", "--enc=json", &b]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&line).unwrap(),
        serde_json::json!({"Cid": b, "Type": "recursive"})
    );
}

/// Issue 13 item 13: `--upgrade-cidv0-in-output` applies wherever Kubo
/// encodes CIDs for output.
#[test]
fn upgrade_cidv0_everywhere() {
    let r = TestRepo::new();
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("d");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("a"), b"Hello Mars!\n").unwrap();
    let root = r.ok(&["add", "-Q", "-r", d.to_str().unwrap()]);
    assert!(root.starts_with("Qm"));
    r.ok(&["files", "cp", &format!("/ipfs/{root}"), "/d"]);
    let up = "--upgrade-cidv0-in-output";
    for args in [
        &["add", "-r", d.to_str().unwrap()][..],
        &["block", "stat", &root],
        &["dag", "stat", "--progress=false", &root],
        &["refs", "-r", &root],
        &["pin", "ls"],
        &["pin", "ls", "--stream"],
        &["pin", "verify", "--verbose"],
        &["ls", &root],
        &["files", "stat", "/d"],
        &["files", "stat", "--hash", "/d"],
    ] {
        let mut a = vec![up];
        a.extend_from_slice(args);
        let out = r.ok(&a);
        assert!(!out.contains("Qm") && out.contains("bafy"), "{args:?}: {out}");
    }
}
