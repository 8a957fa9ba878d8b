//! Several blocks in one fuzz input, for targets that follow links (HAMT
//! shards, file DAGs, paths across blocks, MFS over a hostile DAG).
//!
//! The input is the blocks' bytes joined by [`SEP`]; the first is the root.
//! A lookup by CID returns the block whose sha2-256 digest the CID carries,
//! else (a link a mutation broke, or any other hash) the block chosen by the
//! digest's last byte, bound to the asked CID without verification. So
//! mutated links still lead somewhere, cycles and diamonds included, and the
//! code under test sees every shape of DAG. Lookups are counted: past
//! [`MAX_GETS`] they fail, which bounds the work a cycle can cause.

use std::cell::Cell;
use std::collections::HashMap;

use rubo_types::hash::{self, SHA2_256};
use rubo_types::{Block, Bytes, Cid, Multihash, Version, codec};

/// Separates blocks in a bundle.
pub const SEP: &[u8] = b"|BLK";
/// Lookups allowed per input: enough for every seed DAG, few enough that an
/// exponential walk of a cyclic or diamond DAG ends quickly.
pub const MAX_GETS: usize = 2000;

/// The blocks of one input.
pub struct Bundle {
    blocks: Vec<Bytes>,
    by_digest: HashMap<Multihash, usize>,
    gets: Cell<usize>,
}

impl Bundle {
    pub fn parse(data: &[u8]) -> Self {
        let blocks: Vec<Bytes> = split(data, SEP).into_iter().map(Bytes::copy_from_slice).collect();
        let by_digest = blocks.iter().enumerate().map(|(i, b)| (hash::sha2_256(b), i)).collect();
        Self { blocks, by_digest, gets: Cell::new(0) }
    }

    /// The root's bytes (the first block; empty input: an empty block).
    pub fn root_bytes(&self) -> Bytes {
        self.blocks.first().cloned().unwrap_or_default()
    }

    /// The root as a verified block of `codec` (CIDv0 for dag-pb, as Kubo's
    /// default; CIDv1 otherwise).
    pub fn root(&self, codec: u64) -> Block {
        let version = if codec == codec::DAG_PB { Version::V0 } else { Version::V1 };
        let bytes = self.root_bytes();
        // sha2-256 of any bytes always makes a valid CID.
        Block::encode(bytes.clone(), codec, SHA2_256, None, version)
            .unwrap_or_else(|_| Block::new_unchecked(Cid::new_v1(codec, hash::sha2_256(&bytes)), bytes))
    }

    /// Every block with the CID it hashes to (`codec` for all), for stores.
    pub fn verified_blocks(&self, codec: u64) -> Vec<Block> {
        let version = if codec == codec::DAG_PB { Version::V0 } else { Version::V1 };
        self.blocks.iter().filter_map(|b| Block::encode(b.clone(), codec, SHA2_256, None, version).ok()).collect()
    }

    /// The block for `cid` as described in the module docs, or `None` once
    /// the lookup budget is spent (or there are no blocks).
    pub fn get(&self, cid: &Cid) -> Option<Block> {
        let n = self.gets.get() + 1;
        self.gets.set(n);
        if n > MAX_GETS || self.blocks.is_empty() {
            return None;
        }
        let mh = cid.hash();
        let i = if mh.code() == SHA2_256 { self.by_digest.get(mh).copied() } else { None };
        let i = i.unwrap_or_else(|| usize::from(mh.digest().last().copied().unwrap_or(0)) % self.blocks.len());
        Some(Block::new_unchecked(*cid, self.blocks[i].clone()))
    }

    /// Lookups so far.
    pub fn gets(&self) -> usize {
        self.gets.get()
    }
}

/// Splits `data` on every occurrence of `sep` (never empty-input special
/// cases: `""` is one empty piece).
pub fn split<'a>(data: &'a [u8], sep: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + sep.len() <= data.len() {
        if &data[i..i + sep.len()] == sep {
            out.push(&data[start..i]);
            i += sep.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&data[start..]);
    out
}

/// Joins blocks into a bundle (for seeds).
pub fn join<B: AsRef<[u8]>>(blocks: &[B]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SEP);
        }
        out.extend_from_slice(b.as_ref());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_joins() {
        assert_eq!(split(b"", SEP), vec![&b""[..]]);
        assert_eq!(split(b"a|BLKb|BLK", SEP), vec![&b"a"[..], b"b", b""]);
        let blocks: Vec<&[u8]> = vec![b"x", b"", b"yz"];
        assert_eq!(split(&join(&blocks), SEP), blocks);
    }

    #[test]
    fn lookups_by_digest_then_by_last_byte_and_bounded() {
        let b = Bundle::parse(&join(&[b"root".as_slice(), b"child"]));
        let child = Cid::new_v1(codec::RAW, hash::sha2_256(b"child"));
        assert_eq!(b.get(&child).unwrap().data().as_ref(), b"child");
        let other = Cid::new_v1(codec::RAW, hash::identity(&[3]).unwrap());
        assert_eq!(b.get(&other).unwrap().data().as_ref(), b"child");
        for _ in 0..MAX_GETS {
            let _ = b.get(&other);
        }
        assert!(b.get(&other).is_none());
    }
}
