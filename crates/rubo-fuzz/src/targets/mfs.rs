//! rubo-mfs: path checks and `chmod` modes, writes and reads checked
//! against a byte vector, and MFS over a hostile file DAG.

use std::io::Read;
use std::sync::Arc;

use rubo_mfs::path::{base, clean, dir, lookup_parts, mkdir_parts, split};
use rubo_mfs::{CidPrefix, CpOptions, CpSource, MemStore, Mfs, MfsConfig, Store, WriteOptions, check_path, parse_mode};
use rubo_types::{Block, Bytes, Cid, Version, codec, hash};
use rubo_unixfs::chunker::ChunkerSpec;
use rubo_unixfs::file::{BuildError, FileOptions, Layout, build_file, leaf};
use rubo_unixfs::pb::UnixTime;

use crate::bundle::{Bundle, split as split_bytes};

/// Most bytes read back from a hostile file.
const MAX_OUTPUT: u64 = 1 << 20;

fn fixed_now() -> UnixTime {
    UnixTime { seconds: 1_700_000_000, nanos: Some(5) }
}

/// Kubo's `checkPath`, Go's `path` functions, `files chmod` modes.
pub fn path(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    match check_path(&s) {
        Ok(p) => {
            assert!(p.starts_with('/'), "{p:?}");
            assert_eq!(check_path(&p).ok().as_ref(), Some(&p), "check_path is not idempotent");
            assert!(lookup_parts(&p).iter().all(|c| !c.is_empty() && c != "." && c != ".."), "{p:?}");
        }
        Err(_) => assert!(s.is_empty() || !s.starts_with('/'), "{s:?} refused"),
    }
    let c = clean(&s);
    assert_eq!(clean(&c), c, "clean is not idempotent");
    assert!(!c.is_empty());
    let (d, f) = split(&s);
    assert_eq!(format!("{d}{f}"), s);
    assert!(!f.contains('/'));
    let _ = (dir(&s), base(&s), mkdir_parts(&s));
    if let Ok(m) = parse_mode(&s) {
        // Go's ParseInt(s, 8, 32) range: the value is an i32.
        let v = m as i32;
        let text = if v < 0 { format!("-{:o}", -i64::from(v)) } else { format!("{v:o}") };
        assert_eq!(parse_mode(&text).ok(), Some(m), "{s:?} -> {text:?}");
    }
}

/// A byte stream that never runs dry (zeros past the end).
struct Ops<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Ops<'_> {
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    /// `n` bytes: from the input while it lasts, then a pattern.
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|i| if self.done() { (i * 7 + 3) as u8 } else { self.byte() }).collect()
    }
}

/// A pattern of `len` bytes that differs by seed.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn read_all(m: &Mfs<Arc<MemStore>>, root: &Cid, path: &str, offset: u64, count: Option<u64>) -> Vec<u8> {
    let mut out = Vec::new();
    m.read(root, path, offset, count)
        .unwrap_or_else(|e| panic!("read {path} at {offset}: {e}"))
        .read_to_end(&mut out)
        .unwrap_or_else(|e| panic!("reading {path} at {offset}: {e}"));
    out
}

/// An `ipfs add`-style file (balanced or trickle, small leaves), stored.
fn add(store: &MemStore, data: &[u8], chunk: usize, opts: &FileOptions) -> Cid {
    let leaves = data.chunks(chunk.max(1)).map(|c| leaf(Bytes::copy_from_slice(c), opts).map_err(BuildError::from));
    let mut blocks: Vec<Block> = Vec::new();
    let built = build_file(leaves, opts, &mut |b| {
        blocks.push(b);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("building a file: {e}"));
    store.put_many(blocks).unwrap_or_else(|e| panic!("memory store: {e}"));
    built.cid
}

/// MFS writes and reads driven by the input, each checked against a
/// `Vec<u8>` model of the file.
///
/// Byte 0 picks the chunker, raw leaves and CID version; byte 1 how the file
/// starts (created empty, or an added file of `byte 2 * 13` bytes copied in).
/// Then each operation is a byte (low 3 bits: write, write, write, long
/// write, read a range, stat, chmod/touch, full read; bit 4: truncate first,
/// bit 5: a `--count`) followed by its arguments.
pub fn write_read(data: &[u8]) {
    let mut ops = Ops { data, pos: 0 };
    let cfg0 = ops.byte();
    let chunk = [16usize, 64, 100, 256, 1024, 262_144][usize::from(cfg0 % 6)];
    let raw_leaves = [None, Some(true), Some(false)][usize::from(cfg0 / 6 % 3)];
    let prefix = if cfg0 / 18 % 2 == 1 {
        CidPrefix { version: Version::V1, ..Default::default() }
    } else {
        CidPrefix::default()
    };
    let store = Arc::new(MemStore::new());
    let cfg = MfsConfig { chunker: ChunkerSpec::Size(chunk), now: fixed_now, ..Default::default() };
    let m = Mfs::new(store.clone(), cfg);
    let mut root = m.empty_root().unwrap_or_else(|e| panic!("empty root: {e}"));
    let start = ops.byte();
    let mut model: Vec<u8>;
    if start.is_multiple_of(2) {
        model = Vec::new();
        let opts = WriteOptions { create: true, cid_prefix: Some(prefix), ..Default::default() };
        root = m.write(&root, "/f", &b""[..], &opts).unwrap_or_else(|e| panic!("create: {e}"));
    } else {
        model = pattern(usize::from(ops.byte()) * 13, start);
        let layout = if start & 2 != 0 { Layout::Trickle } else { Layout::Balanced };
        let opts = FileOptions { raw_leaves: start & 4 != 0, prefix, max_links: 3, layout, ..Default::default() };
        let cid = add(&store, &model, 1 + usize::from(start >> 3), &opts);
        let p = format!("/ipfs/{cid}");
        root = m
            .cp(&root, CpSource::Content { path: &p, cid }, "/f", &CpOptions::default())
            .unwrap_or_else(|e| panic!("cp: {e}"));
    }
    let mut n_ops = 0;
    while !ops.done() && n_ops < 24 {
        n_ops += 1;
        let op = ops.byte();
        match op & 7 {
            0..=3 => {
                let span = model.len() + 600;
                let offset = usize::from(ops.u16()) % span;
                let len = if op & 7 == 3 { usize::from(ops.byte()) * 37 } else { usize::from(ops.byte()) * 3 };
                let bytes = if op & 7 == 3 { pattern(len, op) } else { ops.bytes(len) };
                let truncate = op & 0x10 != 0;
                let count = (op & 0x20 != 0).then(|| u64::from(ops.byte()) * 4);
                let opts = WriteOptions { offset: offset as u64, truncate, count, raw_leaves, ..Default::default() };
                root = m
                    .write(&root, "/f", &bytes[..], &opts)
                    .unwrap_or_else(|e| panic!("write {len} at {offset} (truncate {truncate}, count {count:?}): {e}"));
                if truncate {
                    model.clear();
                }
                let n = count.map_or(bytes.len(), |c| bytes.len().min(c as usize));
                if model.len() < offset + n {
                    model.resize(offset + n, 0);
                }
                model[offset..offset + n].copy_from_slice(&bytes[..n]);
            }
            4 => {
                let offset = u64::from(ops.u16()) % (model.len() as u64 + 2);
                let count = (op & 0x20 != 0).then(|| u64::from(ops.byte()) * 8);
                if offset > model.len() as u64 {
                    assert!(m.read(&root, "/f", offset, count).is_err(), "read past the end");
                } else {
                    let got = read_all(&m, &root, "/f", offset, count);
                    let end = count.map_or(model.len(), |c| (offset + c).min(model.len() as u64) as usize);
                    assert_eq!(got, model[offset as usize..end], "read at {offset}, count {count:?}");
                }
            }
            5 => {
                let st = m.stat(&root, "/f", false).unwrap_or_else(|e| panic!("stat: {e}"));
                assert_eq!(st.size, model.len() as u64, "stat size");
            }
            6 => {
                let arg = ops.u16();
                root = if op & 0x10 != 0 {
                    m.chmod(&root, "/f", u32::from(arg) & 0o7777)
                } else {
                    m.touch(&root, "/f", UnixTime { seconds: i64::from(arg), nanos: None })
                }
                .unwrap_or_else(|e| panic!("chmod/touch: {e}"));
            }
            _ => assert_eq!(read_all(&m, &root, "/f", 0, None), model, "full read"),
        }
    }
    assert_eq!(read_all(&m, &root, "/f", 0, None), model, "final read");
    assert_eq!(m.stat(&root, "/f", false).map(|s| s.size).ok(), Some(model.len() as u64));
}

/// MFS over a file DAG from the input (a bundle; every block stored under
/// its dag-pb CIDv0 and v1 and raw CIDs): copy it in, stat, read, write,
/// chmod. Errors are expected; panics are not.
pub fn hostile_file(data: &[u8]) {
    let store = Arc::new(MemStore::new());
    for piece in split_bytes(data, crate::bundle::SEP) {
        let mh = hash::sha2_256(piece);
        let bytes = Bytes::copy_from_slice(piece);
        if let Ok(v0) = Cid::new_v0(mh) {
            store.insert(Block::new_unchecked(v0, bytes.clone()));
        }
        store.insert(Block::new_unchecked(Cid::new_v1(codec::DAG_PB, mh), bytes.clone()));
        store.insert(Block::new_unchecked(Cid::new_v1(codec::RAW, mh), bytes));
    }
    let bundle = Bundle::parse(data);
    let cid = *bundle.root(codec::DAG_PB).cid();
    let m = Mfs::new(store, MfsConfig { chunker: ChunkerSpec::Size(64), now: fixed_now, ..Default::default() });
    let Ok(mut root) = m.empty_root() else { return };
    let p = format!("/ipfs/{cid}");
    let Ok(r) = m.cp(&root, CpSource::Content { path: &p, cid }, "/f", &CpOptions::default()) else { return };
    root = r;
    let _ = m.stat(&root, "/f", true);
    let _ = m.ls(&root, "/", true, true);
    let pick = |i: usize| u64::from(data.get(i).copied().unwrap_or(0));
    for (offset, count) in [(0, None), (pick(1) * 3, Some(pick(2) * 5))] {
        if let Ok(r) = m.read(&root, "/f", offset, count) {
            let _ = r.take(MAX_OUTPUT).read_to_end(&mut Vec::new());
        }
    }
    let opts = WriteOptions { offset: pick(3) * 11, ..Default::default() };
    if let Ok(r) = m.write(&root, "/f", &b"fuzz"[..], &opts) {
        root = r;
        if let Ok(r) = m.read(&root, "/f", 0, None) {
            let _ = r.take(MAX_OUTPUT).read_to_end(&mut Vec::new());
        }
    }
    let _ = m.chmod(&root, "/f", 0o644);
    let _ = m.flush(&root, "/f");
}
