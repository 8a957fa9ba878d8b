//! Writes checked against a plain byte vector: big files (only the touched
//! blocks are rewritten or read) and random sequences (proptest).

mod common;

use std::io::Read;

use common::*;
use proptest::prelude::*;
use rubo_mfs::{CidPrefix, CpOptions, MfsConfig, WriteOptions};
use rubo_types::Cid;
use rubo_unixfs::chunker::ChunkerSpec;
use rubo_unixfs::file::FileOptions;
use rubo_unixfs::pb::UnixTime;

fn create() -> WriteOptions {
    WriteOptions { create: true, ..Default::default() }
}

fn pattern(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn read_range(m: &TestMfs, root: &Cid, path: &str, offset: u64, count: Option<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    m.read(root, path, offset, count).unwrap().read_to_end(&mut out).unwrap();
    out
}

/// A multi-MiB file with small leaves (a deep trickle DAG): a write in the
/// middle stores only the leaves it touches and the nodes above them, and
/// reads only the blocks on their paths; so do appends and truncation.
#[test]
fn middle_write_rewrites_only_the_touched_path() {
    let cfg = MfsConfig { chunker: ChunkerSpec::Size(1024), ..Default::default() };
    let (m, mut root) = mfs(cfg);
    let mut model = pattern(6 << 20, 1);
    root = write(&m, &root, "/dir/big", &model, &WriteOptions { parents: true, ..create() });
    let total_blocks = m.store().len();
    assert!(total_blocks > 6000, "{total_blocks} blocks");

    let (gets, news) = (m.store().gets(), m.store().new_blocks());
    let at = (3 << 20) + 1000;
    let patch = b"a patch across a leaf boundary";
    root = write(&m, &root, "/dir/big", patch, &WriteOptions { offset: at as u64, ..Default::default() });
    model[at..at + patch.len()].copy_from_slice(patch);
    let new_blocks = m.store().new_blocks() - news;
    let reads = m.store().gets() - gets;
    // Two leaves, their ancestors in the file (a few levels), the file's
    // directory and the root.
    assert!(new_blocks <= 10, "{new_blocks} new blocks");
    assert!(reads <= 16, "{reads} blocks read");
    assert_eq!(read_range(&m, &root, "/dir/big", at as u64 - 5, Some(40)), model[at - 5..at + 35]);
    assert_eq!(read_all(&m, &root, "/dir/big"), model);

    // Appending extends the last subtree only.
    let (gets, news) = (m.store().gets(), m.store().new_blocks());
    let tail = pattern(3000, 9);
    root = write(&m, &root, "/dir/big", &tail, &WriteOptions { offset: model.len() as u64, ..Default::default() });
    model.extend_from_slice(&tail);
    let new_blocks = m.store().new_blocks() - news;
    assert!(new_blocks <= 14, "{new_blocks} new blocks");
    assert!(m.store().gets() - gets <= 16, "{} reads", m.store().gets() - gets);
    assert_eq!(m.stat(&root, "/dir/big", false).unwrap().size, model.len() as u64);
    assert_eq!(read_range(&m, &root, "/dir/big", model.len() as u64 - 4000, None), model[model.len() - 4000..]);

    // Truncation with an offset write: cut to zero, then zeros and a byte.
    let news = m.store().new_blocks();
    root = write(&m, &root, "/dir/big", b"!", &WriteOptions { truncate: true, offset: 10, ..Default::default() });
    assert!(m.store().new_blocks() - news <= 10);
    assert_eq!(read_all(&m, &root, "/dir/big"), b"\0\0\0\0\0\0\0\0\0\0!");
}

/// A write bigger than boxo's 2 MiB buffer, at an offset inside the file:
/// overwritten part and appended part, several buffer flushes.
#[test]
fn large_overlapping_write() {
    let (m, mut root) = mfs(MfsConfig::default());
    let mut model = pattern(3 << 20, 2);
    root = write(&m, &root, "/f", &model, &create());
    let data = pattern(5 << 20, 3);
    let at = 1_000_000usize;
    root = write(&m, &root, "/f", &data, &WriteOptions { offset: at as u64, ..Default::default() });
    model.truncate(at);
    model.extend_from_slice(&data);
    assert_eq!(m.stat(&root, "/f", false).unwrap().size, model.len() as u64);
    assert_eq!(read_all(&m, &root, "/f"), model);
    assert_eq!(read_range(&m, &root, "/f", 2_500_000, Some(300_000)), model[2_500_000..2_800_000]);
}

#[derive(Debug, Clone)]
enum Op {
    Write { offset: u64, data: Vec<u8>, truncate: bool, count: Option<u64> },
    Chmod(u32),
    Touch(i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u64..12_000, proptest::collection::vec(any::<u8>(), 0..5000), prop::bool::weighted(0.1), prop::option::weighted(0.2, 0u64..3000))
            .prop_map(|(offset, data, truncate, count)| Op::Write { offset, data, truncate, count }),
        1 => (0u32..0o1000).prop_map(Op::Chmod),
        1 => (1i64..2_000_000_000).prop_map(Op::Touch),
    ]
}

#[derive(Debug, Clone, Copy)]
enum Start {
    Created,
    /// `ipfs add` output copied in (balanced; one leaf holds data inline).
    Added {
        len: usize,
        raw: bool,
    },
}

fn start() -> impl Strategy<Value = Start> {
    prop_oneof![Just(Start::Created), (0usize..3000, any::<bool>()).prop_map(|(len, raw)| Start::Added { len, raw }),]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn writes_match_a_model(
        ops in proptest::collection::vec(op(), 1..8),
        start in start(),
        chunk in prop_oneof![Just(16usize), Just(100), Just(262_144)],
        raw in prop_oneof![Just(None), Just(Some(true)), Just(Some(false))],
        v1_file in any::<bool>(),
        probe in (0u64..20_000, 0u64..4000),
    ) {
        let cfg = MfsConfig { chunker: ChunkerSpec::Size(chunk), ..Default::default() };
        let (m, mut root) = mfs(cfg);
        let prefix = if v1_file { v1() } else { CidPrefix::default() };
        let mut model: Vec<u8> = Vec::new();
        match start {
            Start::Created => {
                root = write(&m, &root, "/f", b"", &WriteOptions { cid_prefix: Some(prefix), ..create() });
            }
            Start::Added { len, raw } => {
                model = pattern(len, 7);
                // Small chunks so that some files have several leaves.
                let opts = FileOptions { raw_leaves: raw, prefix, max_links: 3, ..Default::default() };
                let cid = add_chunked(m.store(), &model, 100, &opts);
                root = cp_cid(&m, &root, cid, "/f", &CpOptions::default());
            }
        }
        for op in &ops {
            match op {
                Op::Write { offset, data, truncate, count } => {
                    let opts = WriteOptions { offset: *offset, truncate: *truncate, count: *count, raw_leaves: raw, ..Default::default() };
                    root = write(&m, &root, "/f", data, &opts);
                    if *truncate {
                        model.clear();
                    }
                    let n = count.map_or(data.len(), |c| data.len().min(c as usize));
                    let at = *offset as usize;
                    if model.len() < at {
                        model.resize(at, 0);
                    }
                    let end = at + n;
                    if model.len() < end {
                        model.resize(end, 0);
                    }
                    model[at..end].copy_from_slice(&data[..n]);
                }
                Op::Chmod(mode) => root = m.chmod(&root, "/f", *mode).unwrap(),
                Op::Touch(t) => root = m.touch(&root, "/f", UnixTime { seconds: *t, nanos: None }).unwrap(),
            }
            prop_assert_eq!(m.stat(&root, "/f", false).unwrap().size, model.len() as u64);
            prop_assert_eq!(read_all(&m, &root, "/f"), model.clone());
        }
        let (off, count) = probe;
        if off <= model.len() as u64 {
            let got = read_range(&m, &root, "/f", off, Some(count));
            let end = (off + count).min(model.len() as u64) as usize;
            prop_assert_eq!(got, model[off as usize..end].to_vec());
        } else {
            prop_assert!(m.read(&root, "/f", off, None).is_err());
        }
    }
}

/// `ipfs add` with a given chunk size (balanced).
fn add_chunked(store: &impl rubo_mfs::Store, data: &[u8], chunk: usize, opts: &FileOptions) -> Cid {
    use rubo_types::{Block, Bytes};
    use rubo_unixfs::file::{BuildError, build_file, leaf};
    let chunks: Vec<Bytes> = data.chunks(chunk).map(Bytes::copy_from_slice).collect();
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
