//! The local node under hostile input (issue 13, items 1-5, 7 and 12): `get`
//! never writes outside its output path, file names are bytes, repeated
//! arguments, failed walks and bad layouts are refused as Kubo refuses them,
//! modes and mtimes come back, and a file DAG that lies about its size is an
//! error everywhere.

mod common;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::TestRepo;

/// base64 (standard, unpadded) for dag-json `bytes`, written out here.
fn b64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A UnixFS `Data` message (protobuf) as the spec lays it out: Type=1,
/// Data=2, filesize=3, blocksizes=4.
fn unixfs_data(kind: u8, data: Option<&[u8]>, filesize: Option<u64>, blocksizes: &[u64]) -> Vec<u8> {
    fn varint(mut v: u64, out: &mut Vec<u8>) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    let mut out = vec![0x08, kind];
    if let Some(d) = data {
        out.push(0x12);
        varint(d.len() as u64, &mut out);
        out.extend_from_slice(d);
    }
    if let Some(f) = filesize {
        out.push(0x18);
        varint(f, &mut out);
    }
    for b in blocksizes {
        out.push(0x20);
        varint(*b, &mut out);
    }
    out
}

/// Stores a dag-pb node given its UnixFS data and links; returns its CID.
fn put_pb(r: &TestRepo, data: &[u8], links: &[(&str, &str)]) -> String {
    let links: Vec<String> =
        links.iter().map(|(name, cid)| format!(r#"{{"Hash":{{"/":"{cid}"}},"Name":"{name}","Tsize":1}}"#)).collect();
    let json = format!(r#"{{"Data":{{"/":{{"bytes":"{}"}}}},"Links":[{}]}}"#, b64(data), links.join(","));
    r.ok_stdin(&["dag", "put", "--store-codec", "dag-pb", "--input-codec", "dag-json"], json.as_bytes())
}

fn dir_data() -> Vec<u8> {
    unixfs_data(1, None, None, &[])
}

fn symlink_node(r: &TestRepo, target: &str) -> String {
    put_pb(r, &unixfs_data(4, Some(target.as_bytes()), None, &[]), &[])
}

fn file_cid(r: &TestRepo, content: &[u8]) -> String {
    r.ok_stdin(&["add", "-Q"], content)
}

fn is_empty_dir(p: &Path) -> bool {
    std::fs::read_dir(p).map(|mut d| d.next().is_none()).unwrap_or(false)
}

/// Item 1: a directory holding a symlink `x` to an absolute path and then a
/// directory also named `x` must not make `get` write into the target.
#[test]
fn get_never_follows_a_symlink_the_dag_made() {
    let r = TestRepo::new();
    let victim = r.dir.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    let evil = file_cid(&r, b"owned\n");
    let inner = put_pb(&r, &dir_data(), &[("evil.txt", &evil)]);
    let link = symlink_node(&r, victim.to_str().unwrap());
    let root = put_pb(&r, &dir_data(), &[("x", &link), ("x", &inner)]);
    for extra in [&[][..], &["-a"][..], &["-C"][..]] {
        let out = r.dir.path().join(format!("out{}", extra.len()));
        let out_s = out.to_str().unwrap();
        let mut args = vec!["get", "-o", out_s];
        args.extend_from_slice(extra);
        args.push(&root);
        let res = r.run(&args);
        if extra.is_empty() {
            let err = String::from_utf8_lossy(&res.stderr);
            assert_eq!(res.status.code(), Some(1), "get of a hostile DAG must fail");
            assert!(err.contains("cannot extract to symlink"), "{err}");
        }
        assert!(is_empty_dir(&victim), "get {extra:?} wrote into the symlink's target");
    }
}

/// Item 1: a symlink already in the output folder is replaced, never written
/// through; `-o` naming a symlink to a directory is refused for a directory.
#[test]
fn get_replaces_symlinks_already_on_disk() {
    let r = TestRepo::new();
    let src = r.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    std::fs::write(src.join("a.txt"), b"from ipfs\n").unwrap();
    let root = r.ok(&["add", "-Q", "-r", src.to_str().unwrap()]);

    let victim_file = r.dir.path().join("victim.txt");
    std::fs::write(&victim_file, b"precious\n").unwrap();
    let out = r.dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::symlink(&victim_file, out.join("a.txt")).unwrap();
    r.ok(&["get", "-o", out.to_str().unwrap(), &root]);
    assert_eq!(std::fs::read(&victim_file).unwrap(), b"precious\n");
    assert!(!std::fs::symlink_metadata(out.join("a.txt")).unwrap().file_type().is_symlink());
    assert_eq!(std::fs::read(out.join("a.txt")).unwrap(), b"from ipfs\n");

    // -o naming a symlink to a directory: Kubo's "cannot extract to symlink".
    let victim_dir = r.dir.path().join("victim_dir");
    std::fs::create_dir(&victim_dir).unwrap();
    let link = r.dir.path().join("link");
    std::os::unix::fs::symlink(&victim_dir, &link).unwrap();
    let err = r.fails(&["get", "-o", link.to_str().unwrap(), &root]);
    assert!(err.contains("cannot extract to symlink"), "{err}");
    assert!(is_empty_dir(&victim_dir));

    // A file root at a symlink replaces the symlink.
    let file = file_cid(&r, b"new\n");
    let flink = r.dir.path().join("flink");
    std::os::unix::fs::symlink(&victim_file, &flink).unwrap();
    r.ok(&["get", "-o", flink.to_str().unwrap(), &file]);
    assert_eq!(std::fs::read(&victim_file).unwrap(), b"precious\n");
    assert_eq!(std::fs::read(&flink).unwrap(), b"new\n");

    // Archives (-a, -C) replace a symlink at their name too.
    for (flag, name) in [("-a", "arch.tar"), ("-C", "arch.gz")] {
        let path = r.dir.path().join(name);
        std::os::unix::fs::symlink(&victim_file, &path).unwrap();
        r.ok(&["get", flag, "-o", path.to_str().unwrap(), &file]);
        assert_eq!(std::fs::read(&victim_file).unwrap(), b"precious\n", "{flag}");
        assert!(std::fs::symlink_metadata(&path).unwrap().is_file(), "{flag}");
    }
}

/// Item 1, MFS: a symlink node is not a directory to write through.
#[test]
fn files_do_not_traverse_symlink_nodes() {
    let r = TestRepo::new();
    let link = symlink_node(&r, "/etc");
    let root = put_pb(&r, &dir_data(), &[("x", &link)]);
    r.ok(&["files", "cp", &format!("/ipfs/{root}"), "/r"]);
    let err = r.fails_stdin(&["files", "write", "--create", "/r/x/new"], b"data");
    assert!(err.to_lowercase().contains("not a directory"), "{err}");
}

/// Item 2: names are bytes; two names that differ only in invalid UTF-8
/// stay two files through add, ls and get.
#[test]
fn non_utf8_names_survive_add_and_get() {
    let r = TestRepo::new();
    let src = r.dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let a = OsStr::from_bytes(b"bad\xffname");
    let b = OsStr::from_bytes(b"bad\xfename");
    std::fs::write(src.join(a), b"one\n").unwrap();
    std::fs::write(src.join(b), b"two\n").unwrap();
    let root = r.ok(&["add", "-Q", "-r", src.to_str().unwrap()]);
    let ls = r.ok(&["ls", &root]);
    assert_eq!(ls.lines().count(), 2, "{ls}");
    let out = r.dir.path().join("out");
    r.ok(&["get", "-o", out.to_str().unwrap(), &root]);
    assert_eq!(std::fs::read(out.join(a)).unwrap(), b"one\n");
    assert_eq!(std::fs::read(out.join(b)).unwrap(), b"two\n");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2);
    // The same tree added with its names intact gives the same CID again,
    // and the walk sees two entries in byte order.
    let again = r.ok(&["add", "-Q", "-r", out.to_str().unwrap()]);
    assert_eq!(again, root);
}

/// Item 3: go-ipfs-cmds' rules for repeated names (t0040), and its order.
#[test]
fn repeated_arguments_as_kubo() {
    let r = TestRepo::new();
    let d = r.dir.path();
    for sub in ["x", "y", "a/same", "b/same"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    std::fs::write(d.join("x/hello.txt"), b"Hello Worlds!\n").unwrap();
    std::fs::write(d.join("y/hello.txt"), b"Hello Worlds!\n").unwrap();
    std::fs::write(d.join("a/same/f"), b"1\n").unwrap();
    std::fs::write(d.join("b/same/f"), b"2\n").unwrap();
    let p = |s: &str| d.join(s).to_str().unwrap().to_string();

    let err = r.fails(&["add", &p("x/hello.txt"), &p("y/hello.txt")]);
    assert!(err.contains("file name hello.txt repeated under different import directories"), "{err}");
    let err = r.fails(&["add", "-r", "-w", &p("a/same"), &p("b/same")]);
    assert!(err.contains("repeated under different import directories"), "{err}");
    // Nothing was pinned by the refused adds (init pins only the empty dir).
    assert_eq!(r.ok(&["pin", "ls", "-t", "recursive", "-q"]).lines().count(), 1);

    // The same file twice: one line (t0040's expected output).
    let out = r.ok(&["add", &p("x/hello.txt"), &p("x/hello.txt")]);
    assert_eq!(out, "added QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH hello.txt");

    // Sorted by name, whatever the order given.
    std::fs::write(d.join("x/hello2.txt"), b"Helloo Worlds!\n").unwrap();
    let out = r.ok(&["add", &p("x/hello2.txt"), &p("x/hello.txt")]);
    assert_eq!(
        out,
        "added QmVr26fY1tKyspEJBniVhqxQeEjhF78XerGiqWAwraVLQH hello.txt\n\
         added Qmf35k66MZNW2GijohUmXQEWKZU4cCGTCwK6idfnt152wJ hello2.txt"
    );
}

/// Item 4: a walk error aborts the whole add: no root printed, nothing
/// pinned, nothing linked into MFS.
#[test]
fn a_failed_walk_leaves_nothing_behind() {
    let r = TestRepo::new();
    let src = r.dir.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    std::fs::write(src.join("a.txt"), b"a\n").unwrap();
    std::fs::write(src.join("sub/z.txt"), b"z\n").unwrap();
    let st = std::process::Command::new("mkfifo").arg(src.join("sub/fifo")).status().unwrap();
    assert!(st.success());
    let pins_before = r.ok(&["pin", "ls", "-t", "recursive", "-q"]);
    for extra in [&[][..], &["--to-files", "/dst"][..]] {
        let mut args = vec!["add", "-r", src.to_str().unwrap()];
        args.extend_from_slice(extra);
        let out = r.run(&args);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(!stdout.lines().any(|l| l.ends_with(" src")), "root reported: {stdout}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("fifo"));
        assert_eq!(r.ok(&["pin", "ls", "-t", "recursive", "-q"]), pins_before, "{extra:?}");
    }
    assert!(r.ok(&["files", "ls", "/"]).is_empty());
    // Two arguments, the second failing: the first is not pinned either.
    let good = r.dir.path().join("good");
    std::fs::create_dir(&good).unwrap();
    std::fs::write(good.join("g.txt"), b"g\n").unwrap();
    r.fails(&["add", "-r", good.to_str().unwrap(), src.to_str().unwrap()]);
    assert_eq!(r.ok(&["pin", "ls", "-t", "recursive", "-q"]), pins_before);
}

/// Item 5: a file layout that cannot terminate is refused before any block
/// is written.
#[test]
fn impossible_layouts_are_refused_up_front() {
    let r = TestRepo::new();
    let blocks_before = r.ok(&["refs", "local"]).lines().count();
    let data = vec![7u8; 3 << 20];
    for args in [
        &["add", "--max-file-links", "1", "--chunker", "size-1024"][..],
        &["add", "--max-file-links", "0"][..],
        &["add", "--max-file-links=-3"][..],
        &["add", "--max-file-links", "1", "--trickle"][..],
        &["add", "--max-directory-links=-1"][..],
    ] {
        let err = r.fails_stdin(args, &data);
        assert!(err.contains("max-"), "{args:?}: {err}");
    }
    assert_eq!(r.ok(&["refs", "local"]).lines().count(), blocks_before);
    // Two links is the least that works.
    r.ok_stdin(&["add", "-Q", "--max-file-links", "2", "--chunker", "size-262144"], &data);
}

/// Item 7: get restores stored mode and mtime (t0047), writes a file into an
/// existing directory under its name, and handles deep trees.
#[test]
fn get_restores_mode_mtime_and_handles_deep_trees() {
    let r = TestRepo::new();
    let f = r.dir.path().join("f");
    std::fs::write(&f, b"x\n").unwrap();
    // t0047's custom mode and mtime, with nanoseconds.
    let h = r.ok(&["add", "-Q", "--mode=0764", "--mtime=1603539720", "--mtime-nsecs=54321", f.to_str().unwrap()]);
    let out = r.dir.path().join("o1");
    r.ok(&["get", "-o", out.to_str().unwrap(), &h]);
    let m = std::fs::metadata(&out).unwrap();
    assert_eq!(m.permissions().mode() & 0o7777, 0o764);
    assert_eq!((m.mtime(), m.mtime_nsec()), (1603539720, 54321));

    // A preserved mode and mtime of t0047's empty file (0640:1604320482).
    let e = r.dir.path().join("empty.txt");
    std::fs::write(&e, b"").unwrap();
    std::fs::set_permissions(&e, std::fs::Permissions::from_mode(0o640)).unwrap();
    set_mtime(&e, filetime_of(1604320482));
    let h = r.ok(&["add", "-Q", "--preserve-mode", "--preserve-mtime", e.to_str().unwrap()]);
    assert_eq!(h, "QmYkvboLsvLFcSYmqVJRxvBdYRQLroLv9kELf3LRiCqBri");
    let out = r.dir.path().join("o2");
    r.ok(&["get", "-o", out.to_str().unwrap(), &h]);
    let m = std::fs::metadata(&out).unwrap();
    assert_eq!((m.permissions().mode() & 0o7777, m.mtime()), (0o640, 1604320482));

    // -o an existing directory: the file goes inside, under its name.
    let dir = r.dir.path().join("existing");
    std::fs::create_dir(&dir).unwrap();
    let wrapped = r.ok(&["add", "-Q", "-w", f.to_str().unwrap()]);
    r.ok(&["get", "-o", dir.to_str().unwrap(), &format!("{wrapped}/f")]);
    assert_eq!(std::fs::read(dir.join("f")).unwrap(), b"x\n");

    // 150 nested directories: deeper than any file DAG, fine for a tree.
    let deep = r.dir.path().join("deep");
    let mut p = deep.clone();
    for _ in 0..150 {
        p.push("d");
    }
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("leaf"), b"bottom\n").unwrap();
    let h = r.ok(&["add", "-Q", "-r", deep.to_str().unwrap()]);
    let out = r.dir.path().join("o3");
    r.ok(&["get", "-o", out.to_str().unwrap(), &h]);
    let mut q = out.clone();
    for _ in 0..150 {
        q.push("d");
    }
    assert_eq!(std::fs::read(q.join("leaf")).unwrap(), b"bottom\n");
}

fn filetime_of(secs: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs as u64)
}

fn set_mtime(p: &Path, t: std::time::SystemTime) {
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_modified(t).unwrap();
}

/// Item 12: a file whose DAG disagrees with its sizes is one error for cat,
/// get, get -a and get -C; nothing is padded or cut.
#[test]
fn lying_file_sizes_are_an_error_everywhere() {
    let r = TestRepo::new();
    let leaf = r.ok_stdin(&["block", "put"], b"12345");
    // Claims 10 bytes in one child of 10; the child holds 5.
    let long = put_pb(&r, &unixfs_data(2, None, Some(10), &[10]), &[("", &leaf)]);
    // Claims 3 bytes in one child of 3; the child holds 5.
    let short = put_pb(&r, &unixfs_data(2, None, Some(3), &[3]), &[("", &leaf)]);
    for cid in [&long, &short] {
        let err = r.fails(&["cat", cid]);
        assert!(err.contains("parent declares"), "{err}");
        for flags in [&[][..], &["-a"][..], &["-C"][..], &["-a", "-C"][..]] {
            let out = r.dir.path().join(format!("o-{cid}-{}", flags.join("")));
            let mut args = vec!["get", "-o", out.to_str().unwrap()];
            args.extend_from_slice(flags);
            args.push(cid);
            let err = r.fails(&args);
            assert!(err.contains("parent declares") || err.contains("data than its size"), "{flags:?}: {err}");
        }
    }
}
