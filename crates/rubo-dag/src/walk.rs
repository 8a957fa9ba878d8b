//! DAG walks: every block under a root once ([`DagWalker`], for `dag export`,
//! `dag stat`, `pin add`, GC marking) and every edge as `refs` prints them
//! ([`RefsWalker`]).
//!
//! Both are iterative (an explicit stack; any DAG depth is safe) and visit in
//! Kubo's order: depth-first, pre-order, each block's links in stored order.
//! For `dag export` this is go-car's selective traversal with
//! `LinkVisitOnlyOnce`, which writes a block when it is first loaded; for
//! `dag stat` boxo's `traverse.DFSPre` with `SkipDuplicates`.
//!
//! Memory: the walker keeps every visited key (the CID's bytes, or the
//! multihash's, about 36-70 bytes each plus ~30 bytes of hash-set overhead:
//! roughly 100 bytes per block, so ~1 GB for 10 million blocks) and a stack of
//! links not yet followed (at most the sum of the fan-outs along the current
//! path). Block data is held only for the block being returned.

use std::collections::HashMap;

use rubo_types::{Block, Cid};
use thiserror::Error;

use crate::codec::CodecError;
use crate::links::{NamedLink, block_links, named_links};
use crate::node::IpldString;
use crate::source::{BlockSource, SourceError, load};

/// What identifies a block already visited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dedup {
    /// The whole CID, as Kubo's export, `dag stat`, `refs --unique` and the
    /// pinner do: the same bytes under a CIDv0 and a CIDv1, or under two
    /// codecs, are two blocks.
    #[default]
    Cid,
    /// The multihash, as the block store keys blocks (GC marking).
    Multihash,
}

impl Dedup {
    fn key(self, cid: &Cid) -> Box<[u8]> {
        match self {
            Dedup::Cid => cid.to_bytes().into_boxed_slice(),
            Dedup::Multihash => cid.hash().to_bytes().into_boxed_slice(),
        }
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
    /// Skip blocks the source does not have (and cannot read), with their
    /// subtrees, instead of failing: `dag export --local-only`.
    pub skip_missing: bool,
    /// Skip blocks whose links cannot be read (undecodable, unknown codec),
    /// with their subtrees, instead of failing. Such blocks are not returned,
    /// as in boxo's `walker.WalkDAG`.
    pub skip_undecodable: bool,
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

/// Every block under a root, once, in Kubo's order. An iterator; an error
/// ends the walk. Generic over the source so that a walker over a `Send`
/// source is `Send`.
pub struct DagWalker<'a, S: BlockSource + ?Sized = dyn BlockSource + 'a> {
    src: &'a S,
    opts: WalkOptions,
    stack: Vec<(Cid, u64)>,
    /// Key -> shallowest depth seen (the depth only matters with `max_depth`).
    visited: HashMap<Box<[u8]>, u64>,
    failed: bool,
}

impl<'a, S: BlockSource + ?Sized> DagWalker<'a, S> {
    pub fn new(src: &'a S, root: Cid, opts: WalkOptions) -> Self {
        Self { src, opts, stack: vec![(root, 0)], visited: HashMap::new(), failed: false }
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

    fn step(&mut self) -> Result<Option<Visit>, WalkError> {
        while let Some((cid, depth)) = self.stack.pop() {
            let key = self.opts.dedup.key(&cid);
            let first = match self.visited.get(&key) {
                Some(&d) if self.opts.max_depth.is_none() || d <= depth => continue,
                Some(_) => false,
                None => true,
            };
            self.visited.insert(key, depth);
            let block = match load(self.src, &cid) {
                Ok(Some(b)) => b,
                Ok(None) if self.opts.skip_missing => continue,
                Ok(None) => return Err(WalkError::Missing(Box::new(cid))),
                Err(_) if self.opts.skip_missing => continue,
                Err(err) => return Err(WalkError::Source { cid: Box::new(cid), err }),
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
                self.failed = true;
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
    seen: HashMap<Box<[u8]>, u64>,
}

impl<'a, S: BlockSource + ?Sized> RefsWalker<'a, S> {
    pub fn new(src: &'a S, roots: Vec<Cid>, opts: RefsOptions) -> Self {
        Self { src, opts, roots: roots.into_iter(), frames: Vec::new(), seen: HashMap::new() }
    }

    fn read(&self, cid: &Cid) -> Result<Vec<NamedLink>, WalkError> {
        let block = load(self.src, cid)
            .map_err(|err| WalkError::Source { cid: Box::new(*cid), err })?
            .ok_or_else(|| WalkError::Missing(Box::new(*cid)))?;
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
        let key = c.to_bytes().into_boxed_slice();
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
