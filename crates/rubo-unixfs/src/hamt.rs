//! HAMT-sharded directories, laid out as boxo's `ipld/unixfs/hamt` does.
//!
//! - An entry's key is `murmur3.New64()` of its name: `h1` of MurmurHash3
//!   x64_128 (seed 0), read most significant bit first.
//! - Each level takes the next `log2(fanout)` bits as the slot index; the bits
//!   run out after `64 / log2(fanout)` levels (boxo: "sharded directory too deep").
//! - A shard node is `PBNode{Links, Data: UnixFS{Type: HAMTShard, Data: bitfield,
//!   hashType: 0x22 (murmur3), fanout}}`; only the root carries mode/mtime.
//! - The bitfield is go-bitfield's: `fanout/8` bytes, big-endian (slot `i` is bit
//!   `i % 8` of byte `len-1-i/8`), written with leading zero bytes stripped
//!   (absent when no bit is set).
//! - Links are in slot order; each is named by the slot in upper-case hex,
//!   zero-padded to the width of `fanout-1` (`%0*X`): entry links are that prefix
//!   followed by the entry name (Tsize = the entry's), sub-shard links the prefix
//!   alone (Tsize = the sub-shard's cumulative size).
//! - A slot holds an entry when exactly one name falls in it and a sub-shard when
//!   several do, so the tree depends only on the set of names, not on the order
//!   they were added in (boxo grows it by insertion; the result is the same).

use std::collections::HashSet;

use rubo_types::dagpb::{PbLink, PbNode};
use rubo_types::{BString, Block, Cid, codec};
use thiserror::Error;

use crate::pb::{Data, DataType, UnixTime};
use crate::{CidPrefix, DirEntry, murmur3};

/// The multicodec of murmur3-x64-64, the only HAMT hash Kubo supports.
pub const HASH_MURMUR3: u64 = 0x22;
/// Smallest fanout: the bitfield must be whole bytes.
pub const MIN_FANOUT: u64 = 8;
/// boxo's `maximumHamtWidth`.
pub const MAX_FANOUT: u64 = 1024;
/// Kubo's `Import.UnixFSHAMTDirectoryMaxFanout` default.
pub const DEFAULT_FANOUT: u64 = 256;

/// A malformed HAMT, or one that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HamtError {
    #[error("HAMT fanout must be a power of 2 between {MIN_FANOUT} and {MAX_FANOUT}, got {0}")]
    InvalidFanout(u64),
    #[error("HAMT shard has fanout {got}, its root has {expected}")]
    FanoutMismatch { expected: u64, got: u64 },
    #[error("only murmur3 supported as hash function (got {0:?})")]
    HashType(Option<u64>),
    #[error("HAMT bitfield of {len} bytes is too large for fanout {fanout}")]
    BitfieldTooLarge { len: usize, fanout: u64 },
    #[error("HAMT bitfield has {bits} bits set but the shard has {links} links (likely corrupt bitfield)")]
    BitfieldMismatch { bits: usize, links: usize },
    #[error("invalid HAMT link name {0:?}")]
    InvalidLinkName(String),
    #[error("sharded directory too deep")]
    TooDeep,
    #[error("HAMT link {0} is not a dag-pb HAMT shard")]
    NotAShard(Box<Cid>),
}

/// A validated fanout: a power of two in 8..=1024.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fanout {
    width: u64,
    bits: u32,
    pad: usize,
}

impl Fanout {
    pub fn new(width: u64) -> Result<Self, HamtError> {
        if !(MIN_FANOUT..=MAX_FANOUT).contains(&width) || !width.is_power_of_two() {
            return Err(HamtError::InvalidFanout(width));
        }
        let pad = format!("{:X}", width - 1).len();
        Ok(Self { width, bits: width.trailing_zeros(), pad })
    }

    /// Number of slots.
    pub fn width(self) -> u64 {
        self.width
    }

    /// Hash bits consumed per level (log2 of the width).
    pub fn bits(self) -> u32 {
        self.bits
    }

    /// Length of the hex prefix of link names.
    pub fn pad(self) -> usize {
        self.pad
    }

    /// Levels the 64 hash bits can address: shards exist at depths `0..max_levels()`.
    pub fn max_levels(self) -> usize {
        (64 / self.bits) as usize
    }

    /// The slot of `hash` at `depth` (0 = root), or `None` past the last level.
    pub fn slot(self, hash: u64, depth: usize) -> Option<usize> {
        let end = (depth as u64 + 1) * u64::from(self.bits);
        if end > 64 {
            return None;
        }
        let mask = self.width - 1;
        Some(((hash >> (64 - end)) & mask) as usize)
    }

    /// The link-name prefix of a slot: `%0{pad}X`.
    pub fn prefix(self, slot: usize) -> String {
        format!("{slot:0width$X}", width = self.pad)
    }

    fn bitfield_len(self) -> usize {
        (self.width / 8) as usize
    }
}

/// The HAMT key of a name.
pub fn hash_name(name: &[u8]) -> u64 {
    murmur3::sum64(name)
}

/// Builds the HAMT for `entries` (names must be distinct; order does not
/// matter). `mode`/`mtime` go on the root only. Every shard block goes to
/// `put`, children before parents; returns the root's CID and cumulative size.
pub fn build<E>(
    entries: &[DirEntry],
    fanout: Fanout,
    prefix: &CidPrefix,
    mode: Option<u32>,
    mtime: Option<UnixTime>,
    put: &mut dyn FnMut(Block) -> Result<(), E>,
) -> Result<(Cid, u64), BuildError<E>> {
    let mut keyed: Vec<(u64, &DirEntry)> = entries.iter().map(|e| (hash_name(&e.name), e)).collect();
    // Sorting by the hash groups the entries of every slot at every level.
    keyed.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.name.cmp(&b.1.name)));
    ShardBuilder { fanout, prefix, put }.shard(&keyed, 0, (mode, mtime))
}

/// Why [`build`] failed.
#[derive(Debug, Error)]
pub enum BuildError<E> {
    #[error(transparent)]
    Hamt(#[from] HamtError),
    #[error(transparent)]
    Block(#[from] rubo_types::BlockError),
    #[error("{0}")]
    Put(E),
}

struct ShardBuilder<'a, E> {
    fanout: Fanout,
    prefix: &'a CidPrefix,
    put: &'a mut dyn FnMut(Block) -> Result<(), E>,
}

impl<E> ShardBuilder<'_, E> {
    fn shard(
        &mut self,
        entries: &[(u64, &DirEntry)],
        depth: usize,
        stat: (Option<u32>, Option<UnixTime>),
    ) -> Result<(Cid, u64), BuildError<E>> {
        let fanout = self.fanout;
        let mut bitfield = vec![0u8; fanout.bitfield_len()];
        let mut links = Vec::new();
        let mut tsize_sum = 0u64;
        let mut i = 0;
        while i < entries.len() {
            let slot = fanout.slot(entries[i].0, depth).ok_or(HamtError::TooDeep)?;
            let mut j = i + 1;
            while j < entries.len() && fanout.slot(entries[j].0, depth) == Some(slot) {
                j += 1;
            }
            let blen = bitfield.len();
            bitfield[blen - 1 - slot / 8] |= 1 << (slot % 8);
            let link = if j - i == 1 {
                let e = entries[i].1;
                {
                    let mut name = BString::from(fanout.prefix(slot));
                    name.extend_from_slice(&e.name);
                    PbLink::new(e.cid, name, e.tsize)
                }
            } else {
                let (cid, tsize) = self.shard(&entries[i..j], depth + 1, (None, None))?;
                PbLink::new(cid, fanout.prefix(slot), tsize)
            };
            tsize_sum = tsize_sum.saturating_add(link.tsize.unwrap_or(0));
            links.push(link);
            i = j;
        }
        let first = bitfield.iter().position(|&b| b != 0).unwrap_or(bitfield.len());
        let mut data = Data::new(DataType::HamtShard);
        if first < bitfield.len() {
            data.data = Some(bitfield.split_off(first).into());
        }
        data.hash_type = Some(HASH_MURMUR3);
        data.fanout = Some(fanout.width());
        data.mode = stat.0;
        data.mtime = stat.1;
        let node = PbNode { links, data: Some(data.encode().into()) };
        let bytes = node.encode();
        let size = (bytes.len() as u64).saturating_add(tsize_sum);
        let block = self.prefix.dag_pb(bytes)?;
        let cid = *block.cid();
        (self.put)(block).map_err(BuildError::Put)?;
        Ok((cid, size))
    }
}

/// One decoded shard node.
#[derive(Debug, Clone)]
pub struct Shard {
    pub fanout: Fanout,
    /// The full-width bitfield (`fanout/8` bytes, big-endian).
    bitfield: Vec<u8>,
    pub links: Vec<PbLink>,
    pub mode: Option<u32>,
    pub mtime: Option<UnixTime>,
}

/// What a shard link points to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShardLink<'a> {
    /// A sub-shard (the name is the prefix alone).
    Shard(&'a Cid),
    /// A directory entry; the name without its prefix.
    Entry(DirEntry),
}

impl Shard {
    /// Decodes a shard from its dag-pb node and UnixFS data. `expect` is the
    /// root's fanout when this is a sub-shard.
    pub fn from_parts(node: PbNode, data: &Data, expect: Option<Fanout>) -> Result<Self, HamtError> {
        if data.hash_type != Some(HASH_MURMUR3) {
            return Err(HamtError::HashType(data.hash_type));
        }
        let width = data.fanout.unwrap_or(0);
        let fanout = Fanout::new(width)?;
        if let Some(exp) = expect
            && exp != fanout
        {
            return Err(HamtError::FanoutMismatch { expected: exp.width(), got: width });
        }
        let raw = data.data.as_deref().unwrap_or(&[]);
        let len = fanout.bitfield_len();
        if raw.len() > len {
            return Err(HamtError::BitfieldTooLarge { len: raw.len(), fanout: width });
        }
        let mut bitfield = vec![0u8; len - raw.len()];
        bitfield.extend_from_slice(raw);
        let bits = bitfield.iter().map(|b| b.count_ones() as usize).sum();
        if bits != node.links.len() {
            return Err(HamtError::BitfieldMismatch { bits, links: node.links.len() });
        }
        Ok(Self { fanout, bitfield, links: node.links, mode: data.mode, mtime: data.mtime })
    }

    /// Decodes a sub-shard block.
    pub fn decode(block: &Block, expect: Option<Fanout>) -> Result<Self, HamtError> {
        let not_shard = || HamtError::NotAShard(Box::new(*block.cid()));
        if block.cid().codec() != codec::DAG_PB {
            return Err(not_shard());
        }
        let node = PbNode::decode(block.data()).map_err(|_| not_shard())?;
        let data = node.data.as_ref().ok_or_else(not_shard)?;
        let data = Data::decode(data).map_err(|_| not_shard())?;
        if data.kind != DataType::HamtShard {
            return Err(not_shard());
        }
        Self::from_parts(node, &data, expect)
    }

    fn has(&self, slot: usize) -> bool {
        let len = self.bitfield.len();
        self.bitfield[len - 1 - slot / 8] & (1 << (slot % 8)) != 0
    }

    /// go-bitfield `OnesBefore`: the link index of a set slot.
    fn ones_before(&self, slot: usize) -> usize {
        let len = self.bitfield.len();
        let idx = len - 1 - slot / 8;
        let below = (u16::from(self.bitfield[idx]) << (8 - slot % 8)) as u8;
        below.count_ones() as usize + self.bitfield[idx + 1..].iter().map(|b| b.count_ones() as usize).sum::<usize>()
    }

    /// Classifies a link as boxo's `childLinkType` does: shorter than the
    /// prefix is an error, exactly the prefix a sub-shard, longer an entry.
    /// Unlike boxo, the prefix must be hex digits.
    pub fn classify<'a>(&self, link: &'a PbLink) -> Result<ShardLink<'a>, HamtError> {
        let name: &[u8] = link.name.as_deref().map_or(&[], |n| n.as_slice());
        let pad = self.fanout.pad();
        let bad = || HamtError::InvalidLinkName(String::from_utf8_lossy(name).into_owned());
        let prefix = name.get(..pad).ok_or_else(bad)?;
        if !prefix.iter().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        if name.len() == pad {
            return Ok(ShardLink::Shard(&link.cid));
        }
        Ok(ShardLink::Entry(DirEntry { name: name[pad..].into(), cid: link.cid, tsize: link.tsize.unwrap_or(0) }))
    }

    /// The link `hash` selects at `depth`, if its slot is set.
    fn link_for(&self, hash: u64, depth: usize) -> Result<Option<&PbLink>, HamtError> {
        let slot = self.fanout.slot(hash, depth).ok_or(HamtError::TooDeep)?;
        if !self.has(slot) {
            return Ok(None);
        }
        Ok(self.links.get(self.ones_before(slot)))
    }
}

/// Why reading a HAMT failed.
#[derive(Debug, Error)]
pub enum ReadError<E> {
    #[error(transparent)]
    Hamt(#[from] HamtError),
    /// `get` failed.
    #[error("{0}")]
    Get(E),
    /// The visitor returned an error.
    #[error("{0}")]
    Visit(E),
}

/// Finds `name` under the root shard: one block per level (boxo `Find`).
pub fn find<E>(
    root: &Shard,
    name: &[u8],
    get: &mut dyn FnMut(&Cid) -> Result<Block, E>,
) -> Result<Option<DirEntry>, ReadError<E>> {
    let hash = hash_name(name);
    let fanout = root.fanout;
    let mut owned: Option<Shard> = None;
    for depth in 0..fanout.max_levels() {
        let shard = owned.as_ref().unwrap_or(root);
        let Some(link) = shard.link_for(hash, depth)? else {
            return Ok(None);
        };
        match shard.classify(link)? {
            ShardLink::Entry(e) => return Ok((e.name == name).then_some(e)),
            ShardLink::Shard(cid) => {
                let block = get(cid).map_err(ReadError::Get)?;
                owned = Some(Shard::decode(&block, Some(fanout))?);
            }
        }
    }
    Err(HamtError::TooDeep.into())
}

/// Calls `f` with every entry under the root shard, depth first in link order
/// (boxo's `ForEachLink` order). A sub-shard reached twice is walked once, as
/// boxo's `EnumLinksAsync` does; depth is bounded by the hash width.
pub fn walk<E>(
    root: &Shard,
    get: &mut dyn FnMut(&Cid) -> Result<Block, E>,
    f: &mut dyn FnMut(DirEntry) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    let mut seen = HashSet::new();
    walk_shard(root, 0, &mut seen, get, f)
}

fn walk_shard<E>(
    shard: &Shard,
    depth: usize,
    seen: &mut HashSet<Cid>,
    get: &mut dyn FnMut(&Cid) -> Result<Block, E>,
    f: &mut dyn FnMut(DirEntry) -> Result<(), E>,
) -> Result<(), ReadError<E>> {
    for link in &shard.links {
        match shard.classify(link)? {
            ShardLink::Entry(e) => f(e).map_err(ReadError::Visit)?,
            ShardLink::Shard(cid) => {
                if depth + 1 >= shard.fanout.max_levels() {
                    return Err(HamtError::TooDeep.into());
                }
                if !seen.insert(*cid) {
                    continue;
                }
                let block = get(cid).map_err(ReadError::Get)?;
                let child = Shard::decode(&block, Some(shard.fanout))?;
                walk_shard(&child, depth + 1, seen, get, f)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fanouts() {
        for (w, bits, pad, levels) in [
            (8, 3, 1, 21),
            (16, 4, 1, 16),
            (32, 5, 2, 12),
            (64, 6, 2, 10),
            (128, 7, 2, 9),
            (256, 8, 2, 8),
            (512, 9, 3, 7),
            (1024, 10, 3, 6),
        ] {
            let f = Fanout::new(w).unwrap();
            assert_eq!((f.bits(), f.pad(), f.max_levels()), (bits, pad, levels), "fanout {w}");
        }
        for w in [0, 1, 2, 4, 12, 100, 2048, 1 << 40] {
            assert_eq!(Fanout::new(w), Err(HamtError::InvalidFanout(w)));
        }
        let f = Fanout::new(256).unwrap();
        assert_eq!(f.prefix(0), "00");
        assert_eq!(f.prefix(0xab), "AB");
        assert_eq!(Fanout::new(1024).unwrap().prefix(5), "005");
    }

    #[test]
    fn hash_bits_like_boxo() {
        // boxo util_test.go: TestHashBitsEvenSizes / TestHashBitsUneven.
        let h = u64::from_be_bytes([255, 127, 79, 45, 116, 99, 35, 17]);
        let f8 = Fanout::new(256).unwrap();
        let got: Vec<usize> = (0..8).map(|d| f8.slot(h, d).unwrap()).collect();
        assert_eq!(got, vec![255, 127, 79, 45, 116, 99, 35, 17]);
        assert_eq!(f8.slot(h, 8), None);
        // 16 = 4 bits a level: 0xF, 0xF, 0x7, 0xF, ...
        let f4 = Fanout::new(16).unwrap();
        assert_eq!((0..4).map(|d| f4.slot(h, d).unwrap()).collect::<Vec<_>>(), vec![15, 15, 7, 15]);
        // 1024 = 10 bits a level, crossing bytes; 6 levels then out of bits.
        let f10 = Fanout::new(1024).unwrap();
        assert_eq!(f10.slot(h, 0), Some(((h >> 54) & 0x3ff) as usize));
        assert_eq!(f10.slot(h, 5), Some(((h >> 4) & 0x3ff) as usize));
        assert_eq!(f10.slot(h, 6), None);
    }

    #[test]
    fn hash_collisions_run_out_of_bits() {
        let cid = rubo_types::parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        let a = DirEntry { name: "a".into(), cid, tsize: 4 };
        let b = DirEntry { name: "b".into(), cid, tsize: 4 };
        let prefix = CidPrefix::default();
        let run = |width: u64, keyed: &[(u64, &DirEntry)]| {
            let mut blocks = 0;
            let mut put = |_: Block| {
                blocks += 1;
                Ok::<(), ()>(())
            };
            let r = ShardBuilder { fanout: Fanout::new(width).unwrap(), prefix: &prefix, put: &mut put }.shard(
                keyed,
                0,
                (None, None),
            );
            r.map(|_| blocks)
        };
        // Equal hashes can never be separated.
        assert!(matches!(run(256, &[(42, &a), (42, &b)]), Err(BuildError::Hamt(HamtError::TooDeep))));
        // Differing in the low 4 bits only: 8 levels of 8 bits separate them at
        // the last level; 6 levels of 10 bits (60 bits) never look at them.
        assert_eq!(run(256, &[(0, &a), (0xf, &b)]).unwrap(), 8);
        assert!(matches!(run(1024, &[(0, &a), (0xf, &b)]), Err(BuildError::Hamt(HamtError::TooDeep))));
    }

    #[test]
    fn ones_before_matches_go_bitfield() {
        let data = Data {
            data: Some(vec![0b1000_0001, 0b0000_0101].into()),
            hash_type: Some(HASH_MURMUR3),
            fanout: Some(256),
            ..Data::new(DataType::HamtShard)
        };
        let cid = rubo_types::parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        let node = PbNode { links: vec![PbLink::new(cid, "00a", 1); 4], data: None };
        let s = Shard::from_parts(node, &data, None).unwrap();
        // Bits set: 0, 2, 8, 15.
        for (slot, set, before) in
            [(0, true, 0), (1, false, 1), (2, true, 1), (8, true, 2), (15, true, 3), (16, false, 4), (255, false, 4)]
        {
            assert_eq!(s.has(slot), set, "slot {slot}");
            assert_eq!(s.ones_before(slot), before, "slot {slot}");
        }
    }
}
