//! rubo-unixfs: the UnixFS `Data` message, node decoding, directories (basic
//! and HAMT), file reading, chunker strings.

use std::io::Read;

use rubo_types::dagpb::PbNode;
use rubo_types::{Block, Bytes, Cid, Version, codec, hash};
use rubo_unixfs::chunker::{self, BUZHASH_MAX, CHUNK_SIZE_LIMIT, ChunkerSpec};
use rubo_unixfs::dir::{self, Directory};
use rubo_unixfs::export::{self, FileReader, NodeKind};
use rubo_unixfs::pb::Data;

use crate::bundle::Bundle;

/// Most bytes a file target collects: a hostile DAG may claim any size.
const MAX_OUTPUT: usize = 1 << 20;

/// `Data` decoding; what decodes re-encodes (in Kubo's field order) to bytes
/// that decode to the same value.
pub fn data(data: &[u8]) {
    let Ok(d) = Data::decode(&Bytes::copy_from_slice(data)) else { return };
    let enc = d.encode();
    let back = Data::decode(&Bytes::from(enc.clone())).unwrap_or_else(|e| panic!("re-encoded Data refused: {e}"));
    assert_eq!(back, d, "Data round trip");
    assert_eq!(back.encode(), enc, "Data encoding is not stable");
    let _ = (d.file_size(), d.kind.name());
}

/// A single block as the exporter sees it: dag-pb (and UnixFS `Data`) or raw.
pub fn node(data: &[u8]) {
    for (code, version) in [(codec::DAG_PB, Version::V0), (codec::RAW, Version::V1), (codec::DAG_CBOR, Version::V1)] {
        let Ok(block) = Block::encode(Bytes::copy_from_slice(data), code, hash::SHA2_256, None, version) else {
            continue;
        };
        let decoded = export::decode::<String>(&block);
        match code {
            codec::RAW => {
                let n = decoded.unwrap_or_else(|e| panic!("a raw block is a file: {e}"));
                assert_eq!(n.kind, NodeKind::File { size: data.len() as u64 });
            }
            codec::DAG_PB => {
                let pb = PbNode::decode_slice(data);
                match decoded {
                    Ok(n) => assert_eq!(n.pb.as_ref(), pb.as_ref().ok()),
                    // Only a node whose UnixFS Data is malformed fails after dag-pb.
                    Err(_) => assert!(pb.is_err() || pb.is_ok_and(|p| p.data.is_some())),
                }
                let _ = Directory::decode::<String>(&block);
            }
            _ => assert!(decoded.is_err(), "a dag-cbor block is not UnixFS"),
        }
        // With no other block available, reading ends in an error or the data.
        let mut out = Vec::new();
        let _ = export::read_file(&block, 0, None, &mut |_| Err("no blocks".to_string()), &mut |b| {
            out.extend_from_slice(&b);
            Ok(())
        });
    }
}

/// Directories: decoding the root, listing (HAMT shards fetched from the
/// bundle), lookups by name, path resolution and a tree walk.
pub fn dir(data: &[u8]) {
    let bundle = Bundle::parse(data);
    let root = bundle.root(codec::DAG_PB);
    let mut get = |cid: &Cid| bundle.get(cid).ok_or_else(|| "block not available".to_string());
    let decoded = Directory::decode::<String>(&root);
    let listed = dir::list_entries(&root, &mut get);
    if let (Ok(dir), Ok(entries)) = (&decoded, &listed) {
        for e in entries.iter().take(8) {
            match dir::lookup(&root, &e.name, &mut get) {
                Ok(Some(found)) => assert_eq!(found.name, e.name),
                // A basic directory finds every name it lists; a hostile HAMT
                // may list an entry in a slot its hash does not lead to.
                Ok(None) => assert!(matches!(dir, Directory::Hamt(_)), "listed entry {:?} not found", e.name),
                Err(_) => {}
            }
        }
        if let Some(e) = entries.first() {
            let name = String::from_utf8_lossy(&e.name);
            let _ = export::resolve(root.cid(), &[&name, "x"], &mut get);
        }
    }
    let _ = dir::lookup(&root, b"", &mut get);
    let _ = export::list_dir(&root, &mut get);
    let mut read = 0usize;
    let _ = export::walk_tree::<String>(&root, &mut get, &mut |item, block, get| {
        assert!(!item.path.starts_with(b"/") && !item.path.windows(2).any(|w| w == b"//"), "{:?}", item.path);
        if let NodeKind::File { .. } = item.kind {
            let _ = export::read_file(block, 0, None, get, &mut |b| {
                read += b.len();
                if read > MAX_OUTPUT { Err("enough".into()) } else { Ok(()) }
            });
        }
        Ok(())
    });
}

/// File DAGs: whole and ranged reads, and the streaming reader. A range read
/// never returns more than asked, and on a file whose sizes are consistent
/// (every seed) it is the matching slice of the whole read.
pub fn file(data: &[u8]) {
    let bundle = Bundle::parse(data);
    let root = bundle.root(codec::DAG_PB);
    let mut get = |cid: &Cid| bundle.get(cid).ok_or_else(|| "block not available".to_string());
    let mut whole = Vec::new();
    let full = export::read_file(&root, 0, None, &mut get, &mut |b| {
        if whole.len() + b.len() > MAX_OUTPUT {
            return Err("enough".into());
        }
        whole.extend_from_slice(&b);
        Ok(())
    });
    let sane = full.is_ok() && consistent(&Bundle::parse(data), &root);
    // Ranges picked from the input's bytes.
    let pick = |i: usize| u64::from(data.get(i).copied().unwrap_or(0));
    let ranges = [(0, Some(1)), (pick(1), Some(pick(2))), (pick(3) * 7, None), (pick(4), Some(pick(5) * 300))];
    for (offset, length) in ranges {
        let ranged = Bundle::parse(data);
        let mut get = |cid: &Cid| ranged.get(cid).ok_or_else(|| "block not available".to_string());
        let mut part = Vec::new();
        let r = export::read_file(&root, offset, length, &mut get, &mut |b| {
            if part.len() + b.len() > MAX_OUTPUT {
                return Err("enough".into());
            }
            part.extend_from_slice(&b);
            Ok(())
        });
        if let Some(l) = length {
            assert!(part.len() as u64 <= l, "asked for {l} bytes at {offset}, got {}", part.len());
        }
        if r.is_ok() && sane {
            let from = (offset as usize).min(whole.len());
            let to = length.map_or(whole.len(), |l| (from as u64 + l).min(whole.len() as u64) as usize);
            assert_eq!(part, whole[from..to], "range {offset}+{length:?}");
        }
    }
    let streamed = Bundle::parse(data);
    let mut reader =
        FileReader::new(root.clone(), |cid: &Cid| streamed.get(cid).ok_or_else(|| "block not available".to_string()))
            .take(MAX_OUTPUT as u64);
    let mut out = Vec::new();
    if reader.read_to_end(&mut out).is_ok() && sane {
        assert_eq!(out, whole, "FileReader and read_file disagree");
    }
}

/// Whether every file node under `root` has blocksizes that match its
/// children's sizes and a filesize that matches its own (the shape Kubo
/// writes). Only sha2-256 links to blocks of the bundle count.
fn consistent(bundle: &Bundle, root: &Block) -> bool {
    let mut stack = vec![(root.clone(), 0usize)];
    let mut budget = 256;
    while let Some((block, depth)) = stack.pop() {
        budget -= 1;
        if budget == 0 || depth > 16 {
            return false;
        }
        let Ok(node) = export::decode::<String>(&block) else { return false };
        let (NodeKind::File { size }, Some(pb), Some(d)) = (&node.kind, &node.pb, &node.data) else {
            if block.cid().codec() == codec::RAW {
                continue;
            }
            return false;
        };
        let inline = d.data.as_ref().map_or(0, |x| x.len() as u64);
        if !pb.links.is_empty() && d.blocksizes.len() != pb.links.len() {
            return false;
        }
        let sum = d.blocksizes.iter().try_fold(inline, |a, b| a.checked_add(*b));
        if d.filesize != Some(*size) || sum != Some(*size) {
            return false;
        }
        for (l, bs) in pb.links.iter().zip(&d.blocksizes) {
            if l.cid.hash().code() != hash::SHA2_256 {
                return false;
            }
            let Some(child) = bundle.get(&l.cid) else { return false };
            if hash::sha2_256(child.data()) != *l.cid.hash() {
                return false;
            }
            let child_size = match export::decode::<String>(&child).map(|n| n.kind) {
                Ok(NodeKind::File { size }) => size,
                _ => return false,
            };
            if child_size != *bs {
                return false;
            }
            stack.push((child, depth + 1));
        }
    }
    true
}

/// `--chunker` strings: what parses prints back to a string that parses to
/// the same spec, and a chunker built from it cuts the input into non-empty
/// chunks no longer than its bound that join back to the input.
pub fn chunker_spec(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    let Ok(spec) = ChunkerSpec::parse(&s) else { return };
    let text = spec.to_string();
    assert_eq!(ChunkerSpec::parse(&text), Ok(spec), "{s:?} printed as {text:?}");
    let max = spec.max_chunk_len();
    if let Some(m) = max {
        assert!(m <= CHUNK_SIZE_LIMIT.max(BUZHASH_MAX), "{spec:?} allows {m}-byte chunks");
    }
    let input = data.repeat(8);
    let mut joined = Vec::new();
    for c in chunker::chunks(chunker::new_chunker(&spec, Box::new(std::io::Cursor::new(input.clone())))) {
        let c = c.unwrap_or_else(|e| panic!("{spec:?} fails on memory input: {e}"));
        assert!(!c.is_empty());
        if let Some(m) = max {
            assert!(c.len() <= m, "{spec:?} made a {}-byte chunk", c.len());
        }
        joined.extend_from_slice(&c);
    }
    assert_eq!(joined, input);
}
