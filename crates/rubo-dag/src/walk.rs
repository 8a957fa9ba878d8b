//! DAG walks: every block under a root once ([`DagWalker`], for `dag export`,
//! `dag stat`, `pin add`, pin listings and verification, GC marking) and every
//! edge as `refs` prints them ([`RefsWalker`]).
//!
//! # The rule, Kubo's, for every walk
//!
//! A block is read with [`source::load`] and its links found with
//! [`crate::links`], nothing else:
//! - An identity-hash CID (multihash 0x00) is never looked up: its block is
//!   the digest (boxo's `NewIdStore`, which Kubo's blockstore is wrapped in).
//!   It is then decoded and walked like any block: `dag export` writes it into
//!   the CAR (go-car's `TraverseV1` loads it through the DAG service), `refs`
//!   prints it, a pin's or GC's walk follows its links.
//! - A libp2p-key (0x72) CID names a peer's key, not IPLD data: Kubo has no
//!   decoder for it (go-ipld-prime registers none; `ipfs cid codecs
//!   --supported` adds it by hand), and boxo's DAG service decodes every block
//!   it returns (`merkledag.Get` -> go-ipld-legacy `DecodeNode`). So walking
//!   into one fails: "no decoder registered for multicodec code 114 (0x72)"
//!   once its block is read (an identity one always is; a sha2-256 one must be
//!   local). The same holds for the identity codec (0x00) and other codecs
//!   without a decoder. `pin add`, GC, `dag export` and `refs` all fail alike.
//! - Raw blocks have no links. Only a walk that wants links alone (GC
//!   marking: Kubo's `ColoredSet` calls `ipld.GetLinks`, which returns at once
//!   for raw CIDs) skips reading them: [`WalkOptions::links_only`].
//!
//! Both walkers are iterative (an explicit stack; any DAG depth is safe) and
//! visit in Kubo's order: depth-first, pre-order, each block's links in stored
//! order. For `dag export` this is go-car's selective traversal with
//! `LinkVisitOnlyOnce`, which writes a block when it is first loaded; for
//! `dag stat` boxo's `traverse.DFSPre` with `SkipDuplicates`.
//!
//! Memory: the walker keeps 16 bytes per visited block ([`Visited`]; about
//! 30 with the set's overhead, so ~300 MB for 10 million blocks; 24 more with
//! a depth limit) and a stack of links not yet followed (at most the sum of
//! the fan-outs along the current path). Block data is held only for the
//! block being returned.

use std::collections::{HashMap, HashSet};

use rubo_types::{Block, Cid, codec, hash};
use thiserror::Error;

use crate::codec::CodecError;
use crate::links::{NamedLink, block_links, named_links};
use crate::node::IpldString;
use crate::source::{self, BlockSource, SourceError};

/// What identifies a block already visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dedup {
    /// The whole CID, as Kubo's export, `dag stat`, `refs --unique` and the
    /// pinner's `FetchGraph` key their sets: the same bytes under a CIDv0 and
    /// a CIDv1, or under two codecs, are two visits.
    #[default]
    Cid,
    /// The block as read: codec and multihash (the CID as CIDv1), as Kubo's
    /// GC marks (`toCidV1`). The same bytes under two codecs are read twice,
    /// since each codec finds other links in them; a CIDv0 and its CIDv1 once.
    /// [`Visited::has_multihash`] then answers for the block store, which
    /// keys blocks by multihash.
    Block,
}

/// 16 bytes of SHA-256 over `bytes`: a compact key for sets of blocks (a
/// collision needs some 2^64 blocks, and a crafted one a SHA-256 break).
pub fn fingerprint(bytes: &[u8]) -> [u8; 16] {
    let d = hash::sha2_256(bytes);
    let mut out = [0u8; 16];
    out.copy_from_slice(&d.digest()[..16]);
    out
}

/// Tags for the codecs blocks usually have; the rest share [`TAG_OTHER`].
fn codec_tag(code: u64) -> u8 {
    match code {
        codec::RAW => 1,
        codec::DAG_PB => 2,
        codec::DAG_CBOR => 3,
        codec::DAG_JSON => 4,
        codec::JSON => 5,
        codec::CBOR => 6,
        codec::LIBP2P_KEY => 7,
        codec::IDENTITY => 8,
        _ => TAG_OTHER,
    }
}

/// A codec without a tag of its own: `others` decides.
const TAG_OTHER: u8 = 0;
/// Marked (a direct pin) but not read: a walk that meets it reads it.
const TAG_UNREAD: u8 = 255;

/// What happens to a link a walk meets.
enum Seen {
    /// Already visited (no deeper than now): skip it and its subtree.
    Skip,
    /// Never visited: read, walk and return it.
    First,
    /// Visited deeper before, within a depth limit: walk it again from here
    /// (everything within the limit is reached), but do not return it again.
    Shallower,
}

/// The blocks a walk visited, 16 bytes each. Walks can share one (across
/// roots, as pin listings and GC do) through [`DagWalker::with_visited`] and
/// [`DagWalker::into_visited`].
#[derive(Debug, Clone, Default)]
pub struct Visited {
    dedup: Dedup,
    /// 15 bytes of the key's fingerprint (the CID's for [`Dedup::Cid`], the
    /// multihash's for [`Dedup::Block`]) -> the tag of the codec it was read
    /// with (0 for [`Dedup::Cid`]).
    seen: HashMap<[u8; 15], u8>,
    /// [`Dedup::Block`]: fingerprints of codec + multihash for the blocks
    /// read under a codec without a tag, or under a second codec (rare).
    others: HashSet<[u8; 16]>,
    /// With a depth limit: key fingerprint -> shallowest depth seen.
    depths: HashMap<[u8; 16], u64>,
}

impl Visited {
    pub fn new(dedup: Dedup) -> Self {
        Self { dedup, ..Default::default() }
    }

    pub fn dedup(&self) -> Dedup {
        self.dedup
    }

    /// How many blocks were visited (or marked).
    pub fn len(&self) -> usize {
        self.seen.len().max(self.depths.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn short(fp: &[u8; 16]) -> [u8; 15] {
        let mut k = [0u8; 15];
        k.copy_from_slice(&fp[..15]);
        k
    }

    /// The fingerprint of the key `cid` has under this dedup.
    fn key(&self, cid: &Cid) -> [u8; 16] {
        match self.dedup {
            Dedup::Cid => fingerprint(&cid.to_bytes()),
            Dedup::Block => fingerprint(&Cid::new_v1(cid.codec(), *cid.hash()).to_bytes()),
        }
    }

    /// Records a visit of `cid` at `depth`.
    fn visit(&mut self, cid: &Cid, depth: u64, limited: bool) -> Seen {
        if limited {
            let key = self.key(cid);
            let seen = match self.depths.get(&key) {
                Some(&d) if d <= depth => return Seen::Skip,
                Some(_) => Seen::Shallower,
                None => Seen::First,
            };
            self.depths.insert(key, depth);
            return seen;
        }
        match self.dedup {
            Dedup::Cid => {
                if self.seen.insert(Self::short(&fingerprint(&cid.to_bytes())), 0).is_none() {
                    Seen::First
                } else {
                    Seen::Skip
                }
            }
            Dedup::Block => {
                let tag = codec_tag(cid.codec());
                let mh = Self::short(&fingerprint(&cid.hash().to_bytes()));
                match self.seen.get(&mh).copied() {
                    None => {
                        self.seen.insert(mh, tag);
                        if tag == TAG_OTHER {
                            self.others.insert(self.key(cid));
                        }
                        Seen::First
                    }
                    Some(t) if t == tag && tag != TAG_OTHER => Seen::Skip,
                    Some(t) => {
                        if t == TAG_UNREAD {
                            // Marked without a read: this is the first read.
                            self.seen.insert(mh, tag);
                            if tag != TAG_OTHER {
                                return Seen::First;
                            }
                        }
                        if self.others.insert(self.key(cid)) { Seen::First } else { Seen::Skip }
                    }
                }
            }
        }
    }

    /// Marks `cid`'s block as kept without reading it (a direct pin): a walk
    /// that meets it later still reads it.
    pub fn mark(&mut self, cid: &Cid) {
        match self.dedup {
            Dedup::Cid => {
                self.seen.entry(Self::short(&fingerprint(&cid.to_bytes()))).or_insert(0);
            }
            Dedup::Block => {
                self.seen.entry(Self::short(&fingerprint(&cid.hash().to_bytes()))).or_insert(TAG_UNREAD);
            }
        }
    }

    /// [`Dedup::Block`]: whether a block with this multihash was visited or
    /// marked, under any codec (GC's question for each stored block).
    pub fn has_multihash(&self, mh: &rubo_types::Multihash) -> bool {
        self.dedup == Dedup::Block && self.seen.contains_key(&Self::short(&fingerprint(&mh.to_bytes())))
    }
}

/// How [`DagWalker`] walks.
#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Deepest level visited (the root is 0); `None` for no limit. Blocks at
    /// the limit are returned but not decoded for links. With a limit, a block
    /// first met deep and later met higher up is walked again below (it is
    /// returned once), so everything within the limit is reached.
    pub max_depth: Option<u64>,
    /// Skip blocks the source does not have, with their subtrees, instead of
    /// failing (`dag export --local-only`, GC's best-effort MFS root).
    pub skip_missing: bool,
    /// Skip blocks the source fails to read, with their subtrees, instead of
    /// failing (`dag export --local-only`).
    pub skip_unreadable: bool,
    /// Skip blocks whose links cannot be read (undecodable, no decoder), with
    /// their subtrees, instead of failing. Such blocks are not returned, as in
    /// boxo's `walker.WalkDAG`.
    pub skip_undecodable: bool,
    /// Only links are wanted: raw blocks, which have none, are not read (nor
    /// returned), as boxo's `GetLinks` does for GC marking.
    pub links_only: bool,
    /// Return an error as an item and go on with the next link (the failed
    /// block's subtree skipped) instead of ending the walk (`pin verify`).
    pub keep_going: bool,
    pub dedup: Dedup,
}

/// One block reached by a walk.
///
/// Identity CIDs are visited like any block, their data taken from the CID:
/// Kubo's `dag export` writes them into the CAR. Callers that skip them
/// (`dag export --local-only` and providing, which use boxo's `walker.WalkDAG`)
/// check [`Visit::is_identity`]; their children are walked either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub block: Block,
    /// Links from the root to this block (the root is 0).
    pub depth: u64,
}

impl Visit {
    /// Whether the block is an identity CID's inline data.
    pub fn is_identity(&self) -> bool {
        crate::source::is_identity(self.block.cid())
    }
}

/// Why a walk stopped.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum WalkError {
    /// A block the source does not have (Kubo: `ipld: could not find <cid>`).
    #[error("ipld: could not find {0}")]
    Missing(Box<Cid>),
    #[error("cannot read block {cid}: {err}")]
    Source { cid: Box<Cid>, err: SourceError },
    #[error("cannot read the links of block {cid}: {err}")]
    Links { cid: Box<Cid>, err: CodecError },
}

impl WalkError {
    /// The block the walk failed at.
    pub fn cid(&self) -> &Cid {
        match self {
            Self::Missing(c) => c,
            Self::Source { cid, .. } | Self::Links { cid, .. } => cid,
        }
    }
}

/// Reads a block for a walk, by the rule in the module docs.
fn read(src: &(impl BlockSource + ?Sized), cid: &Cid) -> Result<Block, WalkError> {
    source::load(src, cid)
        .map_err(|err| WalkError::Source { cid: Box::new(*cid), err })?
        .ok_or_else(|| WalkError::Missing(Box::new(*cid)))
}

/// Every block under a root, once, in Kubo's order. An iterator; an error
/// ends the walk (unless [`WalkOptions::keep_going`]). Generic over the source
/// so that a walker over a `Send` source is `Send`.
pub struct DagWalker<'a, S: BlockSource + ?Sized = dyn BlockSource + 'a> {
    src: &'a S,
    opts: WalkOptions,
    stack: Vec<(Cid, u64)>,
    visited: Visited,
    failed: bool,
}

impl<'a, S: BlockSource + ?Sized> DagWalker<'a, S> {
    pub fn new(src: &'a S, root: Cid, opts: WalkOptions) -> Self {
        let visited = Visited::new(opts.dedup);
        Self::with_visited(src, root, opts, visited)
    }

    /// A walk that skips what `visited` holds (an earlier walk's, handed on
    /// with [`DagWalker::into_visited`]). `visited`'s dedup wins over the
    /// options'.
    pub fn with_visited(src: &'a S, root: Cid, mut opts: WalkOptions, visited: Visited) -> Self {
        opts.dedup = visited.dedup();
        Self { src, opts, stack: vec![(root, 0)], visited, failed: false }
    }

    /// Adds another root, walked after the current ones, sharing the visited
    /// set (blocks already returned are not returned again).
    pub fn push_root(&mut self, root: Cid) {
        self.stack.insert(0, (root, 0));
    }

    /// How many distinct blocks have been visited so far.
    pub fn visited_count(&self) -> usize {
        self.visited.len()
    }

    pub fn visited(&self) -> &Visited {
        &self.visited
    }

    /// The visited set, for the next walk or for questions.
    pub fn into_visited(self) -> Visited {
        self.visited
    }

    fn step(&mut self) -> Result<Option<Visit>, WalkError> {
        while let Some((cid, depth)) = self.stack.pop() {
            let first = match self.visited.visit(&cid, depth, self.opts.max_depth.is_some()) {
                Seen::Skip => continue,
                Seen::First => true,
                Seen::Shallower => false,
            };
            if self.opts.links_only && cid.codec() == codec::RAW {
                continue;
            }
            let block = match read(self.src, &cid) {
                Ok(b) => b,
                Err(WalkError::Missing(_)) if self.opts.skip_missing => continue,
                Err(WalkError::Source { .. }) if self.opts.skip_unreadable => continue,
                Err(e) => return Err(e),
            };
            if self.opts.max_depth.is_none_or(|m| depth < m) {
                match block_links(&block) {
                    Ok(children) => self.stack.extend(children.into_iter().rev().map(|c| (c, depth + 1))),
                    Err(_) if self.opts.skip_undecodable => continue,
                    Err(err) => return Err(WalkError::Links { cid: Box::new(cid), err }),
                }
            }
            if first {
                return Ok(Some(Visit { block, depth }));
            }
        }
        Ok(None)
    }
}

impl<S: BlockSource + ?Sized> Iterator for DagWalker<'_, S> {
    type Item = Result<Visit, WalkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.step() {
            Ok(v) => v.map(Ok),
            Err(e) => {
                self.failed = !self.opts.keep_going;
                Some(Err(e))
            }
        }
    }
}

/// How [`RefsWalker`] walks: Kubo's `RefWriter`.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefsOptions {
    /// `--unique`: print each CID once (keyed by CID).
    pub unique: bool,
    /// `--max-depth`; `None` is Kubo's -1 (no limit). `refs` without `-r` is
    /// `Some(1)`.
    pub max_depth: Option<u64>,
}

/// One edge printed by `refs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ref {
    pub from: Cid,
    pub to: Cid,
    /// The link's name in `from` (dag-pb), empty otherwise.
    pub name: IpldString,
}

struct Frame {
    cid: Cid,
    links: std::vec::IntoIter<NamedLink>,
    depth: u64,
}

/// The edges `ipfs refs` prints for a list of roots, in its order.
///
/// An edge is returned only after its target block was read (as Kubo fetches
/// before printing). An error ends the current root and is returned as an
/// item; the walk goes on with the next root, sharing `--unique` state, as
/// Kubo emits an error line and continues.
pub struct RefsWalker<'a, S: BlockSource + ?Sized = dyn BlockSource + 'a> {
    src: &'a S,
    opts: RefsOptions,
    roots: std::vec::IntoIter<Cid>,
    frames: Vec<Frame>,
    /// `--unique`: CID fingerprint -> shallowest depth printed.
    seen: HashMap<[u8; 16], u64>,
}

impl<'a, S: BlockSource + ?Sized> RefsWalker<'a, S> {
    pub fn new(src: &'a S, roots: Vec<Cid>, opts: RefsOptions) -> Self {
        Self { src, opts, roots: roots.into_iter(), frames: Vec::new(), seen: HashMap::new() }
    }

    fn read(&self, cid: &Cid) -> Result<Vec<NamedLink>, WalkError> {
        let block = read(self.src, cid)?;
        named_links(cid.codec(), block.data()).map_err(|err| WalkError::Links { cid: Box::new(*cid), err })
    }

    /// Kubo's `RefWriter.visit`: (go deeper, print).
    fn visit(&mut self, c: &Cid, depth: u64) -> (bool, bool) {
        let max = self.opts.max_depth;
        if max.is_some_and(|m| depth > m) {
            return (false, false);
        }
        let at_max = max == Some(depth);
        if !self.opts.unique {
            return (!at_max, true);
        }
        let key = fingerprint(&c.to_bytes());
        let old = self.seen.get(&key).copied();
        if let Some(old) = old
            && (max.is_none() || old <= depth)
        {
            return (false, false);
        }
        self.seen.insert(key, depth);
        (!at_max, old.is_none())
    }

    fn step(&mut self) -> Result<Option<Ref>, WalkError> {
        loop {
            let Some(frame) = self.frames.last_mut() else {
                let Some(root) = self.roots.next() else { return Ok(None) };
                let links = self.read(&root)?;
                self.frames.push(Frame { cid: root, links: links.into_iter(), depth: 0 });
                continue;
            };
            let Some(link) = frame.links.next() else {
                self.frames.pop();
                continue;
            };
            let (from, depth) = (frame.cid, frame.depth + 1);
            let (deeper, write) = self.visit(&link.cid, depth);
            if !deeper && !write {
                continue;
            }
            let child_links = self.read(&link.cid)?;
            if deeper {
                self.frames.push(Frame { cid: link.cid, links: child_links.into_iter(), depth });
            }
            if write {
                return Ok(Some(Ref { from, to: link.cid, name: link.name }));
            }
        }
    }
}

impl<S: BlockSource + ?Sized> Iterator for RefsWalker<'_, S> {
    type Item = Result<Ref, WalkError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(r) => r.map(Ok),
            Err(e) => {
                self.frames.clear();
                Some(Err(e))
            }
        }
    }
}
