//! Helpers shared by the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::io::Read;
use std::sync::Arc;

use rubo_mfs::{
    CidPrefix, CpOptions, CpSource, MemStore, Mfs, MfsConfig, MkdirOptions, RmOptions, Store, WriteOptions,
};
use rubo_types::{Block, Bytes, Cid, Version, hash};
use rubo_unixfs::file::{BuildError, FileOptions, build_file, leaf};
use rubo_unixfs::pb::UnixTime;

pub type TestMfs = Mfs<Arc<MemStore>>;

pub fn fixed_now() -> UnixTime {
    UnixTime { seconds: 1_700_000_000, nanos: Some(5) }
}

pub fn mfs(config: MfsConfig) -> (TestMfs, Cid) {
    let store = Arc::new(MemStore::new());
    let m = Mfs::new(store, MfsConfig { now: fixed_now, ..config });
    let root = m.empty_root().unwrap();
    (m, root)
}

pub fn v1() -> CidPrefix {
    CidPrefix { version: Version::V1, ..Default::default() }
}

pub fn blake2b() -> CidPrefix {
    CidPrefix { version: Version::V1, hash: hash::BLAKE2B_MIN + 31, ..Default::default() }
}

/// `ipfs add` of `data` (balanced, 256 KiB chunks), blocks stored.
pub fn add(store: &impl Store, data: &[u8], opts: &FileOptions) -> Cid {
    let chunks: Vec<Bytes> =
        if data.is_empty() { vec![] } else { data.chunks(262_144).map(Bytes::copy_from_slice).collect() };
    let leaves = chunks.into_iter().map(|c| leaf(c, opts).map_err(BuildError::from));
    let mut blocks: Vec<Block> = Vec::new();
    let root = build_file(leaves, opts, &mut |b| {
        blocks.push(b);
        Ok(())
    })
    .unwrap();
    store.put_many(blocks).unwrap();
    root.cid
}

pub fn write(m: &TestMfs, root: &Cid, path: &str, data: &[u8], opts: &WriteOptions) -> Cid {
    m.write(root, path, data, opts).unwrap_or_else(|e| panic!("write {path}: {e}"))
}

pub fn read_all(m: &TestMfs, root: &Cid, path: &str) -> Vec<u8> {
    let mut out = Vec::new();
    m.read(root, path, 0, None).unwrap().read_to_end(&mut out).unwrap();
    out
}

pub fn names(m: &TestMfs, root: &Cid, path: &str) -> Vec<String> {
    m.ls(root, path, false, true).unwrap().into_iter().map(|e| e.name.to_string()).collect()
}

pub fn mkdir(m: &TestMfs, root: &Cid, path: &str, parents: bool, prefix: Option<CidPrefix>) -> Cid {
    m.mkdir(root, path, &MkdirOptions { parents, cid_prefix: prefix }).unwrap_or_else(|e| panic!("mkdir {path}: {e}"))
}

pub fn cp_cid(m: &TestMfs, root: &Cid, cid: Cid, dst: &str, opts: &CpOptions) -> Cid {
    let p = format!("/ipfs/{cid}");
    m.cp(root, CpSource::Content { path: &p, cid }, dst, opts).unwrap_or_else(|e| panic!("cp {p} {dst}: {e}"))
}

pub fn rm(m: &TestMfs, root: &Cid, paths: &[&str], recursive: bool) -> Cid {
    let out = m.rm(root, paths, RmOptions { recursive, force: false }).unwrap();
    assert!(
        out.failures.is_empty(),
        "rm {paths:?}: {:?}",
        out.failures.iter().map(|f| f.to_string()).collect::<Vec<_>>()
    );
    out.root
}

pub fn hash(m: &TestMfs, root: &Cid, path: &str) -> String {
    m.stat(root, path, false).unwrap().hash.to_string()
}
