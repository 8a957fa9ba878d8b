//! Kubo's `test/sharness/t0250-files-api.sh`, replayed: the same commands in
//! the same order, checked against the CIDs the sharness file expects.

mod common;

use common::*;
use rubo_mfs::{CidPrefix, CpOptions, CpSource, MfsConfig, MfsError, RmOptions, WriteOptions};
use rubo_types::{ByteSlice, Cid};
use rubo_unixfs::dir::{DirOptions, build_directory};
use rubo_unixfs::file::FileOptions;
use rubo_unixfs::{DirEntry, file::Layout};

struct Expect {
    root: &'static str,
    cats: &'static str,
    file: &'static str,
    trunc: &'static str,
}

/// One run of sharness `test_files_api`: `args` is `--cid-version=1` (mkdir
/// and write), `raw` is `--raw-leaves` (write), `raw_files` is
/// `create_files --raw-leaves`, `import` the `Import.*` prefix.
fn files_api(import: CidPrefix, args: Option<CidPrefix>, raw: bool, raw_files: bool, exp: &Expect) {
    let (m, mut root) = mfs(MfsConfig { root_prefix: import, ..Default::default() });
    let add_opts = FileOptions { raw_leaves: raw_files, ..Default::default() };
    let file1 = add(m.store(), b"foo\n", &add_opts);
    let file2 = add(m.store(), b"bar\n", &add_opts);
    let file3 = add(m.store(), b"baz\n", &add_opts);
    let prefix = Some(args.unwrap_or(import));
    let wopts = |create: bool| WriteOptions {
        create,
        raw_leaves: raw.then_some(true),
        cid_prefix: prefix,
        ..Default::default()
    };
    let plain_cp = CpOptions { cid_prefix: Some(import), ..Default::default() };

    root = mkdir(&m, &root, "/cats", false, prefix);
    assert_eq!(names(&m, &root, "/"), ["cats"]);
    assert!(names(&m, &root, "/cats").is_empty());
    let before = hash(&m, &root, "/");
    assert!(matches!(m.mkdir(&root, "/", &Default::default()), Err(MfsError::CannotCreateRoot)));
    assert_eq!(hash(&m, &root, "/"), before);

    root = cp_cid(&m, &root, file1, "/cats/file1", &plain_cp);
    assert_eq!(names(&m, &root, "/cats"), ["file1"]);
    let l = m.ls(&root, "/cats", true, true).unwrap();
    assert_eq!((l[0].name.to_str().unwrap(), l[0].hash, l[0].size), ("file1", Some(file1), 4));
    let l = m.ls(&root, "/cats/file1", true, true).unwrap();
    assert_eq!((l[0].name.to_str().unwrap(), l[0].hash, l[0].size), ("file1", Some(file1), 4));
    let st = m.stat(&root, "/cats/file1", false).unwrap();
    assert_eq!((st.hash, st.size, st.blocks, st.kind.as_str(), st.mode, st.mtime), (file1, 4, 0, "file", 0, None));
    assert_eq!(read_all(&m, &root, "/cats/file1"), b"foo\n");

    root = cp_cid(&m, &root, file2, "/file2", &plain_cp);
    assert_eq!(names(&m, &root, "/"), ["cats", "file2"]);
    assert_eq!(read_all(&m, &root, "/file2"), b"bar\n");

    root = mkdir(&m, &root, "/cats/this/is/a/dir", true, prefix);
    assert_eq!(names(&m, &root, "/cats"), ["file1", "this"]);
    assert_eq!(names(&m, &root, "/cats/this/is/a"), ["dir"]);
    let this = m.ls(&root, "/cats", true, true).unwrap().into_iter().find(|e| e.name == "this").unwrap();
    assert_eq!((this.kind, this.size), (rubo_mfs::NodeType::Directory, 0));
    assert_eq!(this.hash.unwrap().to_string(), hash(&m, &root, "/cats/this"));

    root = cp_cid(&m, &root, file3, "/cats/this/is/a/dir/file3", &plain_cp);
    let deep = CpOptions { parents: true, cid_prefix: Some(import), ..Default::default() };
    root = cp_cid(&m, &root, file3, "/cats/some/other/dir/file3", &deep);
    assert_eq!(read_all(&m, &root, "/cats/some/other/dir/file3"), b"baz\n");
    root = rm(&m, &root, &["/cats/some"], true);
    assert_eq!(read_all(&m, &root, "/cats/this/is/a/dir/file3"), b"baz\n");
    root = rm(&m, &root, &["/cats/this/is/a/dir/file3"], false);
    assert!(names(&m, &root, "/cats/this/is/a/dir").is_empty());
    root = rm(&m, &root, &["/cats/this/is/a/dir"], true);
    assert!(names(&m, &root, "/cats/this/is/a").is_empty());
    root = rm(&m, &root, &["/file2"], false);
    assert_eq!(names(&m, &root, "/"), ["cats"]);
    let out = m.rm(&root, &["/"], RmOptions { recursive: true, force: false }).unwrap();
    assert_eq!(out.failures[0].to_string(), "/: cannot delete root");
    assert_eq!(out.root, root);

    // read options
    let read = |off: u64, n: Option<u64>| {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut m.read(&root, "/cats/file1", off, n).unwrap(), &mut v).unwrap();
        v
    };
    assert_eq!(read(1, None), b"oo\n");
    assert_eq!(read(0, Some(2)), b"fo");
    assert_eq!(read(2, None), b"o\n");
    assert_eq!(read(0, Some(0)), b"");
    assert_eq!(read(0, Some(200)), b"foo\n");
    assert_eq!(m.read(&root, "/cats/file1", 5, None).err().unwrap().to_string(), "offset was past end of file (5 > 4)");

    // write
    root = write(&m, &root, "/cats/ipfs", b"ipfs rocks\n", &wopts(true));
    assert_eq!(names(&m, &root, "/cats"), ["file1", "ipfs", "this"]);
    assert_eq!(read_all(&m, &root, "/cats/ipfs"), b"ipfs rocks\n");
    root = write(&m, &root, "/cats/ipfs", b"is super cool\n", &WriteOptions { offset: 5, ..wopts(false) });
    assert_eq!(read_all(&m, &root, "/cats/ipfs"), b"ipfs is super cool\n");
    assert_eq!(hash(&m, &root, "/cats/ipfs"), exp.file, "FILE_HASH");

    root = write(&m, &root, "/fun", b"foobar\n", &wopts(true));
    root = write(&m, &root, "/fun", b"blah\n", &WriteOptions { offset: 50, ..wopts(false) });
    let mut sparse = b"foobar\n".to_vec();
    sparse.resize(50, 0);
    sparse.extend_from_slice(b"blah\n");
    assert_eq!(read_all(&m, &root, "/fun"), sparse);
    root = rm(&m, &root, &["/fun"], false);

    let dirhash = hash(&m, &root, "/cats");
    let err = m.write(&root, "/cats", &b"x"[..], &wopts(false)).unwrap_err();
    assert_eq!(err.to_string(), "/cats was not a file");
    assert_eq!(hash(&m, &root, "/cats"), dirhash);
    let err = m.write(&root, "/cats/bar/", &b"x"[..], &wopts(false)).unwrap_err();
    assert_eq!(err.to_string(), "file does not exist");
    assert_eq!(names(&m, &root, "/cats"), ["file1", "ipfs", "this"]);

    root = write(&m, &root, "/cats/walrus", b"testing\n", &wopts(true));
    assert_eq!(hash(&m, &root, "/"), exp.root, "ROOT_HASH");
    assert_eq!(hash(&m, &root, "/cats"), exp.cats, "CATS_HASH");
    let f = m.flush(&root, "/").unwrap();
    assert_eq!(f.root.to_string(), exp.root);
    root = f.root;

    // mv
    root = m.mv(&root, "/cats/this/is", "/cats/").unwrap();
    root = m.mv(&root, "/cats/is", "/").unwrap();
    root = m.mv(&root, "/is", "/cats").unwrap();
    assert_eq!(names(&m, &root, "/cats"), ["file1", "ipfs", "is", "this", "walrus"]);
    assert!(names(&m, &root, "/cats/this").is_empty());
    root = rm(&m, &root, &["/cats"], true);
    assert!(names(&m, &root, "/").is_empty());

    // truncate
    root = write(&m, &root, "/cats", b"some content\n", &wopts(true));
    root = write(&m, &root, "/cats", b"fish\n", &WriteOptions { truncate: true, ..wopts(false) });
    assert_eq!(read_all(&m, &root, "/cats"), b"fish\n");
    assert_eq!(hash(&m, &root, "/cats"), exp.trunc, "TRUNC_HASH");
    root = rm(&m, &root, &["/cats"], false);

    // flush flags, issue 2654, cp onto a removed dir, cp into a dir
    root = mkdir(&m, &root, "/flushed/deep", true, prefix);
    root = mkdir(&m, &root, "/flushed/deep", true, prefix);
    assert_eq!(names(&m, &root, "/flushed"), ["deep"]);
    root = rm(&m, &root, &["/flushed"], true);
    root = mkdir(&m, &root, "/test_dir", false, prefix);
    root = rm(&m, &root, &["/test_dir"], true);
    root = write(&m, &root, "/test_file", b"content\n", &wopts(true));
    root = m.cp(&root, CpSource::Mfs("/test_file"), "/test_dir", &plain_cp).unwrap();
    assert_eq!(m.stat(&root, "/test_dir", false).unwrap().kind.as_str(), "file");
    root = rm(&m, &root, &["/test_dir", "/test_file"], true);
    root = mkdir(&m, &root, "/adir", false, prefix);
    root = write(&m, &root, "/foobar", b"blah\n", &wopts(true));
    root = m.cp(&root, CpSource::Mfs("/foobar"), "/adir/", &plain_cp).unwrap();
    assert_eq!(names(&m, &root, "/adir"), ["foobar"]);

    // cp --force
    root = cp_cid(&m, &root, file1, "/file1", &plain_cp);
    root = cp_cid(&m, &root, file2, "/file2", &plain_cp);
    let force = CpOptions { force: true, ..plain_cp.clone() };
    root = m.cp(&root, CpSource::Mfs("/file1"), "/file2", &force).unwrap();
    assert_eq!(read_all(&m, &root, "/file2"), read_all(&m, &root, "/file1"));
    root = rm(&m, &root, &["/file1", "/file2"], false);

    // parents
    let err = m.write(&root, "/parents/foo/ipfs.txt", &b"ipfs rocks\n"[..], &wopts(true)).unwrap_err();
    assert!(err.is_not_exist(), "{err}");
    root = write(
        &m,
        &root,
        "/parents/foo/bar/baz/ipfs.txt",
        b"ipfs rocks\n",
        &WriteOptions { parents: true, ..wopts(true) },
    );
    assert_eq!(m.stat(&root, "/parents/foo/bar/baz/ipfs.txt", false).unwrap().kind.as_str(), "file");
    root = rm(&m, &root, &["/foobar", "/adir", "/parents"], true);
    assert!(names(&m, &root, "/").is_empty());

    // rm
    root = write(&m, &root, "/forcibly", b"hello world\n", &wopts(true));
    let force_rm = RmOptions { recursive: false, force: true };
    root = m.rm(&root, &["/forcibly"], force_rm).unwrap().root;
    root = mkdir(&m, &root, "/forcibly-dir", false, prefix);
    root = m.rm(&root, &["/forcibly-dir", "/nonexistent", "/deeply/nonexistent"], force_rm).unwrap().root;
    assert!(names(&m, &root, "/").is_empty());
    root = write(&m, &root, "/file_one", b"hello world\n", &wopts(true));
    root = write(&m, &root, "/file_two", b"hello world\n", &wopts(true));
    let out = m.rm(&root, &["/file_one", "/nonexistent", "/file_two"], RmOptions::default()).unwrap();
    assert_eq!(out.failures.len(), 1);
    assert_eq!(out.failures[0].to_string(), "/nonexistent: file does not exist");
    assert!(names(&m, &out.root, "/").is_empty());
}

#[test]
fn files_api_default() {
    files_api(
        CidPrefix::default(),
        None,
        false,
        false,
        &Expect {
            root: "QmcwKfTMCT7AaeiD92hWjnZn9b6eh9NxnhfSzN5x2vnDpt",
            cats: "Qma88m8ErTGkZHbBWGqy1C7VmEmX8wwNDWNpGyCaNmEgwC",
            file: "QmQdQt9qooenjeaNhiKHF3hBvmNteB4MQBtgu3jxgf9c7i",
            trunc: "QmPVnT9gocPbqzN4G6SMp8vAPyzcjDbUJrNdKgzQquuDg4",
        },
    );
}

#[test]
fn files_api_partial_raw_leaves() {
    files_api(
        CidPrefix::default(),
        None,
        false,
        true,
        &Expect {
            root: "QmTpKiKcAj4sbeesN6vrs5w3QeVmd4QmGpxRL81hHut4dZ",
            cats: "QmPhPkmtUGGi8ySPHoPu1qbfryLJKKq1GYxpgLyyCruvGe",
            file: "QmQdQt9qooenjeaNhiKHF3hBvmNteB4MQBtgu3jxgf9c7i",
            trunc: "QmPVnT9gocPbqzN4G6SMp8vAPyzcjDbUJrNdKgzQquuDg4",
        },
    );
}

#[test]
fn files_api_raw_leaves() {
    files_api(
        CidPrefix::default(),
        None,
        true,
        true,
        &Expect {
            root: "QmTHzLiSouBHVTssS8xRzmfWGAvTGhPEjtPdB6pWMQdxJX",
            cats: "QmPJkzbCoBuL379TbHgwF1YbVHnKgiDa5bjqYhe6Lovdms",
            file: "bafybeibkrazpbejqh3qun7xfnsl7yofl74o4jwhxebpmtrcpavebokuqtm",
            trunc: "bafybeigwhb3q36yrm37jv5fo2ap6r6eyohckqrxmlejrenex4xlnuxiy3e",
        },
    );
}

#[test]
fn files_api_cidv1_args() {
    files_api(
        CidPrefix::default(),
        Some(v1()),
        false,
        true,
        &Expect {
            root: "QmTLdTaZNj8Mvq1cgYup59ZFJFv1KxptouFSZUZKeq7X3z",
            cats: "bafybeihsqinttigpskqqj63wgalrny3lifvqv5ml7igrirdhlcf73l3wvm",
            file: "bafybeibkrazpbejqh3qun7xfnsl7yofl74o4jwhxebpmtrcpavebokuqtm",
            trunc: "bafybeigwhb3q36yrm37jv5fo2ap6r6eyohckqrxmlejrenex4xlnuxiy3e",
        },
    );
}

#[test]
fn files_api_cidv1_root() {
    files_api(
        v1(),
        None,
        false,
        true,
        &Expect {
            root: "bafybeickjecu37qv6ue54ofk3n4rpm4g4abuofz7yc4qn4skffy263kkou",
            cats: "bafybeihsqinttigpskqqj63wgalrny3lifvqv5ml7igrirdhlcf73l3wvm",
            file: "bafybeibkrazpbejqh3qun7xfnsl7yofl74o4jwhxebpmtrcpavebokuqtm",
            trunc: "bafybeigwhb3q36yrm37jv5fo2ap6r6eyohckqrxmlejrenex4xlnuxiy3e",
        },
    );
}

#[test]
fn files_api_blake2b_root() {
    files_api(
        blake2b(),
        None,
        false,
        true,
        &Expect {
            root: "bafykbzaceaebvwrjdw5rfhqqh5miaq3g42yybnrw3kxxxx43ggyttm6xn2zek",
            cats: "bafykbzaceaqvpxs3dfl7su6744jgyvifbusow2tfixdy646chasdwyz2boagc",
            file: "bafykbzaceca45w2i3o3q3ctqsezdv5koakz7sxsw37ygqjg4w54m2bshzevxy",
            trunc: "bafykbzaceadeu7onzmlq7v33ytjpmo37rsqk2q6mzeqf5at55j32zxbcdbwig",
        },
    );
}

/// "root hash is cidv1 after Import config change" and back.
#[test]
fn root_follows_import_config() {
    let (m0, root) = mfs(MfsConfig::default());
    assert_eq!(root.to_string(), "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
    let m1 =
        rubo_mfs::Mfs::new(m0.store().clone(), MfsConfig { root_prefix: v1(), now: fixed_now, ..Default::default() });
    assert_eq!(hash(&m1, &root, "/"), "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
    let m2 = rubo_mfs::Mfs::new(
        m0.store().clone(),
        MfsConfig { root_prefix: blake2b(), now: fixed_now, ..Default::default() },
    );
    assert_eq!(hash(&m2, &root, "/"), "bafykbzacebugfutjir6qie7apo5shpry32ruwfi762uytd5g3u2gk7tpscndq");
    let v1root = m1.flush(&root, "/").unwrap().root;
    assert_eq!(hash(&m0, &v1root, "/"), "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
    // chcid refuses the root, and works on a subdirectory.
    assert!(matches!(m0.chcid(&root, "/", Some(v1())), Err(MfsError::ChcidRoot)));
    assert!(MfsError::ChcidRoot.to_string().contains("Import.CidVersion"));
    let r = mkdir(&m0, &root, "/chcid-test", false, None);
    let r = m0.chcid(&r, "/chcid-test", Some(blake2b())).unwrap();
    let h: Cid = m0.stat(&r, "/chcid-test", false).unwrap().hash;
    assert_eq!(h.hash().code(), rubo_types::hash::BLAKE2B_MIN + 31);
}

/// sharness `test_sharding`: 100 files written into a directory with a 1-byte
/// HAMT threshold.
fn sharding(dir_prefix: Option<CidPrefix>, expect: &str) {
    let cfg = MfsConfig { hamt_threshold: 1, ..Default::default() };
    let (m, mut root) = mfs(cfg);
    root = mkdir(&m, &root, "/foo", false, Some(dir_prefix.unwrap_or_default()));
    let mut want = Vec::new();
    for i in (1..=100).rev() {
        let opts = WriteOptions { create: true, cid_prefix: Some(CidPrefix::default()), ..Default::default() };
        root = write(&m, &root, &format!("/foo/file{i}"), format!("{i}\n").as_bytes(), &opts);
        want.push(format!("file{i}"));
    }
    want.sort();
    assert_eq!(names(&m, &root, "/foo"), want);
    let unsorted: Vec<String> =
        m.ls(&root, "/foo", false, false).unwrap().into_iter().map(|e| e.name.to_string()).collect();
    assert_ne!(unsorted, want, "a HAMT lists in hash order");
    assert_eq!(read_all(&m, &root, "/foo/file65"), b"65\n");
    assert_eq!(hash(&m, &root, "/foo"), expect);
    let r = rm(&m, &root, &["/foo"], true);
    assert!(names(&m, &r, "/").is_empty());
}

#[test]
fn sharding_cidv0() {
    sharding(None, "QmPkwLJTYZRGPJ8Lazr9qPdrLmswPtUjaDbEpmR9jEh1se");
}

#[test]
fn sharding_cidv1() {
    sharding(Some(v1()), "bafybeibu4i76qi26jhpgskqhivuactsvdsia44swpi7eaw45r7c3c3lhs4");
}

/// sharness "automatic sharding/unsharding": a 5960-entry HAMT loses 5
/// entries (turns basic) and gets them back (turns HAMT again).
#[test]
fn automatic_unsharding_and_resharding() {
    let (m, mut root) = mfs(MfsConfig::default());
    let file_opts = FileOptions { layout: Layout::Balanced, ..Default::default() };
    let mut entries = Vec::new();
    for i in 1..=5960u32 {
        let data = format!("{i}\n");
        let cid = add(m.store(), data.as_bytes(), &file_opts);
        // A one-leaf file's cumulative size is its block's length.
        let tsize = rubo_mfs::Store::get(m.store(), &cid).unwrap().unwrap().len() as u64;
        entries.push(DirEntry { name: format!("file{i:06}").into(), cid, tsize });
    }
    let mut blocks = Vec::new();
    let (big, _) = build_directory(entries.clone(), &DirOptions::default(), &mut |b| {
        blocks.push(b);
        Ok::<(), String>(())
    })
    .unwrap();
    rubo_mfs::Store::put_many(m.store(), blocks).unwrap();
    assert_eq!(big.to_string(), "QmWfjnRWRvdvYezQWnfbvrvY7JjrpevsE9cato1x76UqGr");

    root = cp_cid(&m, &root, big, "/big_dir", &CpOptions::default());
    for i in 1..=5 {
        root = rm(&m, &root, &[&format!("/big_dir/file{i:06}")], false);
    }
    assert_eq!(hash(&m, &root, "/big_dir"), "QmbVxi5zDdzytrjdufUejM92JsWj8wGVmukk6tiPce3p1m");
    for e in entries.iter().take(5) {
        root = cp_cid(&m, &root, e.cid, &format!("/big_dir/{}", e.name), &CpOptions::default());
    }
    assert_eq!(hash(&m, &root, "/big_dir"), "QmWfjnRWRvdvYezQWnfbvrvY7JjrpevsE9cato1x76UqGr");
}
