//! UnixFS directories: basic (one dag-pb node) or HAMT-sharded, chosen as
//! Kubo's `ipfs add` chooses (boxo `ipld/unixfs/io/directory.go`,
//! `DynamicDirectory`), and read back for `ls` and path resolution.
//!
//! # When Kubo shards
//!
//! The adder puts the entries into a `DynamicDirectory` one at a time. Before
//! each addition the basic directory checks whether the *new* estimate exceeds
//! the threshold (strictly: a directory exactly at the threshold stays basic)
//! or whether the new link count exceeds `MaxLinks`; if so it converts to a
//! HAMT and never converts back while only new names are added. Estimates only
//! grow as distinct names are added, so the outcome is decided by the final
//! set of entries:
//!
//! - [`SizeEstimation::Links`] (Kubo's default, profile `unixfs-v0-2015`):
//!   `Σ len(name) + len(cid bytes)`; no protobuf overhead, no Tsize, no Data.
//! - [`SizeEstimation::Block`] (`unixfs-v1-2025`): the exact size of the basic
//!   directory block (`linkSerializedSize` per link plus the Data field with
//!   mode/mtime), computed without encoding.
//! - [`SizeEstimation::Disabled`]: size is ignored; only `max_links` converts.
//! - A threshold of 0 disables conversion entirely, `max_links` included: boxo
//!   then refuses the entry beyond `max_links` ("maxLinks reached"), and so do we.
//!
//! # Duplicate names
//!
//! boxo's `Directory.AddChild` would replace an existing entry, but Kubo adds
//! through MFS, whose `Directory.AddChild` refuses a name that exists
//! (`ErrDirExists`: "directory already has entry by that name"), so `ipfs add`
//! of two files with one name fails. [`build_directory`] does the same:
//! [`DirError::DuplicateName`]. (Kubo's size bookkeeping on *replacement* in
//! HAMT mode has quirks — it subtracts the hex-prefixed old name — that can
//! flip a directory just over the threshold back to basic when MFS re-writes
//! sub-directory entries at flush time, in Go's random map order. That corner
//! is not modelled: it is not deterministic in Kubo either.)
//!
//! # Reading
//!
//! [`list_entries`] / [`for_each_entry`] give basic directories' links in block
//! order (name order for any well-formed node) and HAMT entries depth first in
//! link order, boxo's `ForEachLink` order. Kubo's `ipfs ls` sorts by name unless
//! `--stream`, where HAMT order follows its parallel walk and is not
//! deterministic. [`lookup`] fetches one block per HAMT level.

use rubo_types::dagpb::{DagPbError, PbLink, PbNode};
use rubo_types::{BString, Block, BlockError, Cid, codec, pb as wire};
use thiserror::Error;

use crate::hamt::{self, Fanout, HamtError, Shard};
use crate::pb::{Data, DataType, UnixTime, UnixfsPbError};
use crate::{CidPrefix, DirEntry};

/// Kubo's `Import.UnixFSHAMTDirectorySizeThreshold` default (boxo `HAMTShardingSize`).
pub const DEFAULT_HAMT_THRESHOLD: u64 = 256 * 1024;

/// How a basic directory's size is estimated against the HAMT threshold
/// (`Import.UnixFSHAMTDirectorySizeEstimation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizeEstimation {
    /// `links`: Σ len(name) + len(cid bytes).
    #[default]
    Links,
    /// `block`: the exact serialized size of the basic directory node.
    Block,
    /// `disabled`: only `max_links` triggers a HAMT.
    Disabled,
}

/// How directories are built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirOptions {
    /// CID version and hash of directory and shard nodes.
    pub prefix: CidPrefix,
    /// `--max-directory-links`: more entries than this make a HAMT; 0 = unlimited.
    pub max_links: usize,
    /// `--max-hamt-fanout`: a power of two in 8..=1024.
    pub hamt_fanout: u64,
    /// Estimates strictly above this make a HAMT; 0 disables HAMTs.
    pub hamt_threshold: u64,
    pub estimation: SizeEstimation,
    /// Unix permission bits for the directory (root shard only for a HAMT).
    pub mode: Option<u32>,
    pub mtime: Option<UnixTime>,
}

impl Default for DirOptions {
    /// Kubo's defaults: CIDv0 sha2-256, no link limit, fanout 256, 256 KiB, links estimation.
    fn default() -> Self {
        Self {
            prefix: CidPrefix::default(),
            max_links: 0,
            hamt_fanout: hamt::DEFAULT_FANOUT,
            hamt_threshold: DEFAULT_HAMT_THRESHOLD,
            estimation: SizeEstimation::Links,
            mode: None,
            mtime: None,
        }
    }
}

/// Why a directory could not be built or read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DirError<E> {
    #[error("directory already has entry by that name: {0:?}")]
    DuplicateName(BString),
    #[error("BasicDirectory: cannot add child: maxLinks reached")]
    MaxLinks,
    #[error("{0} is not a UnixFS directory")]
    NotADirectory(Box<Cid>),
    #[error("directory {cid}: {err}")]
    DagPb { cid: Box<Cid>, err: DagPbError },
    #[error("directory {cid}: {err}")]
    Unixfs { cid: Box<Cid>, err: UnixfsPbError },
    #[error("directory {0}: node has no UnixFS data")]
    NoData(Box<Cid>),
    #[error(transparent)]
    Hamt(#[from] HamtError),
    #[error(transparent)]
    Block(#[from] BlockError),
    /// `put` failed.
    #[error("{0}")]
    Put(E),
    /// `get` failed.
    #[error("{0}")]
    Get(E),
    /// The visitor of [`for_each_entry`] returned an error.
    #[error("{0}")]
    Visit(E),
}

impl<E> From<hamt::BuildError<E>> for DirError<E> {
    fn from(e: hamt::BuildError<E>) -> Self {
        match e {
            hamt::BuildError::Hamt(e) => Self::Hamt(e),
            hamt::BuildError::Block(e) => Self::Block(e),
            hamt::BuildError::Put(e) => Self::Put(e),
        }
    }
}

impl<E> From<hamt::ReadError<E>> for DirError<E> {
    fn from(e: hamt::ReadError<E>) -> Self {
        match e {
            hamt::ReadError::Hamt(e) => Self::Hamt(e),
            hamt::ReadError::Get(e) => Self::Get(e),
            hamt::ReadError::Visit(e) => Self::Visit(e),
        }
    }
}

/// Go's zero `time.Time` as Unix seconds: boxo leaves it out.
const GO_ZERO_TIME_SECS: i64 = -62_135_596_800;

/// mtime as boxo writes it: nanos only when non-zero, the zero time not at all.
fn normalize_mtime(t: Option<UnixTime>) -> Option<UnixTime> {
    let t = t?;
    let nanos = t.nanos.filter(|&n| n != 0);
    if t.seconds == GO_ZERO_TIME_SECS && nanos.is_none() {
        return None;
    }
    Some(UnixTime { seconds: t.seconds, nanos })
}

fn dir_data(opts: &DirOptions) -> Data {
    let mut d = Data::new(DataType::Directory);
    d.mode = opts.mode;
    d.mtime = normalize_mtime(opts.mtime);
    d
}

/// boxo `linksize.LinkSizeFunction`: the legacy `links` estimate of one entry.
pub fn link_estimate(e: &DirEntry) -> u64 {
    (e.name.len() + e.cid.encoded_len()) as u64
}

/// boxo `linkSerializedSize`: bytes one link adds to a dag-pb node.
pub fn link_serialized_size(e: &DirEntry) -> u64 {
    let link = wire::bytes_field_len(1, e.cid.encoded_len())
        + wire::bytes_field_len(2, e.name.len())
        + 1
        + wire::uvarint_len(e.tsize);
    wire::bytes_field_len(2, link) as u64
}

/// The size estimate `opts.estimation` gives a basic directory holding `entries`
/// (0 for [`SizeEstimation::Disabled`]).
pub fn estimated_size(entries: &[DirEntry], opts: &DirOptions) -> u64 {
    match opts.estimation {
        SizeEstimation::Links => entries.iter().map(link_estimate).sum(),
        SizeEstimation::Block => {
            let data = dir_data(opts).encode();
            let field = wire::bytes_field_len(1, data.len()) as u64;
            field + entries.iter().map(link_serialized_size).sum::<u64>()
        }
        SizeEstimation::Disabled => 0,
    }
}

/// Whether Kubo would end up with a HAMT for these (distinct) entries.
/// With a zero threshold this is `false` (see [`build_directory`] for the
/// `max_links` error it implies).
pub fn needs_hamt(entries: &[DirEntry], opts: &DirOptions) -> bool {
    // Conversion happens when an entry is added: an empty directory stays basic
    // even when its own Data exceeds the threshold.
    if opts.hamt_threshold == 0 || entries.is_empty() {
        return false;
    }
    let too_many = opts.max_links > 0 && entries.len() > opts.max_links;
    too_many || (opts.estimation != SizeEstimation::Disabled && estimated_size(entries, opts) > opts.hamt_threshold)
}

/// Builds a directory node as Kubo ends up with after adding all `entries`: a
/// basic directory (links sorted by name), or a HAMT when [`needs_hamt`].
/// Calls `put` for every node created (children first, the root last); returns
/// the root CID and its cumulative size (the Tsize of a link to it).
pub fn build_directory<E>(
    mut entries: Vec<DirEntry>,
    opts: &DirOptions,
    put: &mut dyn FnMut(Block) -> Result<(), E>,
) -> Result<(Cid, u64), DirError<E>> {
    // boxo validates the fanout when the directory is created, used or not.
    let fanout = Fanout::new(opts.hamt_fanout)?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = entries.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(DirError::DuplicateName(w[0].name.clone()));
    }
    if needs_hamt(&entries, opts) {
        let mtime = normalize_mtime(opts.mtime);
        return Ok(hamt::build(&entries, fanout, &opts.prefix, opts.mode, mtime, put)?);
    }
    if opts.max_links > 0 && entries.len() > opts.max_links {
        return Err(DirError::MaxLinks);
    }
    build_basic(&entries, opts, put)
}

/// A basic directory node of `entries`, which must be sorted by name.
fn build_basic<E>(
    entries: &[DirEntry],
    opts: &DirOptions,
    put: &mut dyn FnMut(Block) -> Result<(), E>,
) -> Result<(Cid, u64), DirError<E>> {
    let links: Vec<PbLink> = entries.iter().map(|e| PbLink::new(e.cid, e.name.clone(), e.tsize)).collect();
    let tsizes = entries.iter().fold(0u64, |acc, e| acc.saturating_add(e.tsize));
    let node = PbNode { links, data: Some(dir_data(opts).encode().into()) };
    let bytes = node.encode();
    let size = (bytes.len() as u64).saturating_add(tsizes);
    let block = opts.prefix.dag_pb(bytes)?;
    let cid = *block.cid();
    put(block).map_err(DirError::Put)?;
    Ok((cid, size))
}

/// A decoded directory root.
#[derive(Debug, Clone)]
pub enum Directory {
    /// A basic directory's links, in block order.
    Basic(Vec<PbLink>),
    /// The root shard of a HAMT.
    Hamt(Shard),
}

impl Directory {
    /// Decodes a directory root (basic or HAMT); anything else is
    /// [`DirError::NotADirectory`].
    pub fn decode<E>(root: &Block) -> Result<Self, DirError<E>> {
        let cid = || Box::new(*root.cid());
        if root.cid().codec() != codec::DAG_PB {
            return Err(DirError::NotADirectory(cid()));
        }
        let node = PbNode::decode(root.data()).map_err(|err| DirError::DagPb { cid: cid(), err })?;
        let raw = node.data.as_ref().ok_or_else(|| DirError::NoData(cid()))?;
        let data = Data::decode(raw).map_err(|err| DirError::Unixfs { cid: cid(), err })?;
        match data.kind {
            DataType::Directory => Ok(Self::Basic(node.links)),
            DataType::HamtShard => Ok(Self::Hamt(Shard::from_parts(node, &data, None)?)),
            _ => Err(DirError::NotADirectory(cid())),
        }
    }
}

fn basic_entry(l: &PbLink) -> DirEntry {
    DirEntry { name: l.name.clone().unwrap_or_default(), cid: l.cid, tsize: l.tsize.unwrap_or(0) }
}

/// Calls `f` with each entry of the directory `root`, fetching HAMT shards
/// with `get` as it goes (memory: one shard per level). Order: see the module docs.
pub fn for_each_entry<E>(
    root: &Block,
    get: &mut dyn FnMut(&Cid) -> Result<Block, E>,
    f: &mut dyn FnMut(DirEntry) -> Result<(), E>,
) -> Result<(), DirError<E>> {
    match Directory::decode(root)? {
        Directory::Basic(links) => links.iter().try_for_each(|l| f(basic_entry(l)).map_err(DirError::Visit)),
        Directory::Hamt(shard) => Ok(hamt::walk(&shard, get, f)?),
    }
}

/// All entries of the directory `root` (see [`for_each_entry`]).
pub fn list_entries<E>(
    root: &Block,
    get: &mut dyn FnMut(&Cid) -> Result<Block, E>,
) -> Result<Vec<DirEntry>, DirError<E>> {
    let mut out = Vec::new();
    for_each_entry(root, get, &mut |e| {
        out.push(e);
        Ok(())
    })?;
    Ok(out)
}

/// The entry `name` of the directory `root`: the first link of that name in a
/// basic directory; in a HAMT, one block fetched per level.
pub fn lookup<E>(
    root: &Block,
    name: &[u8],
    get: &mut dyn FnMut(&Cid) -> Result<Block, E>,
) -> Result<Option<DirEntry>, DirError<E>> {
    match Directory::decode(root)? {
        Directory::Basic(links) => Ok(links
            .iter()
            .find(|l| l.name.as_ref().map_or(name.is_empty(), |n| n.as_slice() == name))
            .map(basic_entry)),
        Directory::Hamt(shard) => Ok(hamt::find(&shard, name, get)?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::parse_cid;

    fn entry(name: &str, tsize: u64) -> DirEntry {
        let cid = parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        DirEntry { name: name.into(), cid, tsize }
    }

    fn build(entries: Vec<DirEntry>, opts: &DirOptions) -> Result<(Cid, u64), DirError<String>> {
        build_directory(entries, opts, &mut |_| Ok::<(), String>(()))
    }

    #[test]
    fn empty_directory() {
        let (cid, size) = build(vec![], &DirOptions::default()).unwrap();
        assert_eq!(cid.to_string(), "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
        assert_eq!(size, 4);
        // Block estimation of an empty directory is 4 > 1, but only an
        // addition converts: an empty directory stays basic.
        let opts = DirOptions { hamt_threshold: 1, estimation: SizeEstimation::Block, ..Default::default() };
        assert_eq!(build(vec![], &opts).unwrap().0.to_string(), "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
    }

    #[test]
    fn link_sizes_match_encoding() {
        for (name, tsize) in [("", 0), ("a", 4), (&"n".repeat(200) as &str, 1 << 40)] {
            let e = entry(name, tsize);
            let node = PbNode { links: vec![PbLink::new(e.cid, e.name.clone(), e.tsize)], data: None };
            assert_eq!(link_serialized_size(&e), node.encode().len() as u64);
            assert_eq!(link_estimate(&e), name.len() as u64 + 34);
        }
        let opts = DirOptions {
            estimation: SizeEstimation::Block,
            mode: Some(0o755),
            mtime: Some(UnixTime { seconds: -5, nanos: Some(7) }),
            ..Default::default()
        };
        let entries = vec![entry("a", 1), entry("b", 300)];
        let mut blocks = Vec::new();
        build_directory(entries.clone(), &opts, &mut |b| {
            blocks.push(b);
            Ok::<(), String>(())
        })
        .unwrap();
        assert_eq!(estimated_size(&entries, &opts), blocks[0].len() as u64);
    }

    #[test]
    fn duplicates_and_limits() {
        let e = vec![entry("x", 1), entry("y", 1), entry("x", 2)];
        assert!(matches!(build(e, &DirOptions::default()), Err(DirError::DuplicateName(n)) if n == "x"));
        let three = || vec![entry("a", 1), entry("b", 1), entry("c", 1)];
        // max_links exceeded converts...
        let opts = DirOptions { max_links: 2, ..Default::default() };
        assert!(needs_hamt(&three(), &opts));
        let hamt_cid = build(three(), &opts).unwrap().0;
        let at = DirOptions { max_links: 3, ..Default::default() };
        assert_ne!(build(three(), &at).unwrap().0, hamt_cid);
        // ...also with size estimation disabled...
        let opts = DirOptions { max_links: 2, estimation: SizeEstimation::Disabled, ..Default::default() };
        assert_eq!(build(three(), &opts).unwrap().0, hamt_cid);
        // ...but a zero threshold disables conversion and boxo refuses the link.
        let opts = DirOptions { max_links: 2, hamt_threshold: 0, ..Default::default() };
        assert!(matches!(build(three(), &opts), Err(DirError::MaxLinks)));
        // Invalid fanouts are refused even when no HAMT is needed.
        let opts = DirOptions { hamt_fanout: 100, ..Default::default() };
        assert!(matches!(build(three(), &opts), Err(DirError::Hamt(HamtError::InvalidFanout(100)))));
    }

    #[test]
    fn threshold_is_strict() {
        // 2 entries of 1+34 bytes = 70.
        let two = || vec![entry("a", 1), entry("b", 1)];
        let at = DirOptions { hamt_threshold: 70, ..Default::default() };
        let over = DirOptions { hamt_threshold: 69, ..Default::default() };
        assert!(!needs_hamt(&two(), &at));
        assert!(needs_hamt(&two(), &over));
    }

    #[test]
    fn mtime_normalized_like_go() {
        assert_eq!(
            normalize_mtime(Some(UnixTime { seconds: 5, nanos: Some(0) })),
            Some(UnixTime { seconds: 5, nanos: None })
        );
        assert_eq!(normalize_mtime(Some(UnixTime { seconds: GO_ZERO_TIME_SECS, nanos: None })), None);
        assert_eq!(
            normalize_mtime(Some(UnixTime { seconds: GO_ZERO_TIME_SECS, nanos: Some(1) })),
            Some(UnixTime { seconds: GO_ZERO_TIME_SECS, nanos: Some(1) })
        );
    }
}
