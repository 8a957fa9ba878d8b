//! MFS, the mutable file system behind Kubo's `ipfs files ...`, with Kubo's
//! semantics, error messages and CIDs (boxo `mfs`, `ipld/unixfs/mod`).
//!
//! # Model
//!
//! The MFS state is one root CID, a UnixFS directory. Every operation takes
//! the current root, loads what it needs (one directory at a time along the
//! path, file DAGs only where the bytes touched are), changes it copy-on-write,
//! stores the new blocks through the [`Store`] and returns the new root. All
//! blocks are stored (children before parents) before an operation returns,
//! so the caller can then persist the root atomically. Nothing is cached
//! between operations: each behaves like an offline Kubo command, which
//! flushes when it is done (`--flush=false` has nothing to defer here).
//!
//! The root directory is re-encoded with [`MfsConfig::root_prefix`]
//! (Kubo: `Import.CidVersion`/`Import.HashFunction`), as Kubo's MFS root does;
//! every other directory keeps the format of its own CID.
//!
//! # Paths
//!
//! Paths go through Kubo's `checkPath` ([`check_path`]) where Kubo's commands
//! use it (`flush` and `chcid` take theirs as given, as in Kubo).
//!
//! # Kubo behaviours kept, surprising as they are
//!
//! - `files write` is boxo's `DagModifier`: a fresh file is trickle-appended
//!   to an empty file node. boxo's `trickle.Append` moves on to depth-2
//!   subtrees once the root holds 174 leaves, so beyond 348 leaves the DAG
//!   (and CID) differs from `ipfs add --trickle`; ours follows boxo.
//! - With raw leaves, a file whose root has one raw child and no mode/mtime
//!   is replaced by that child whenever it is flushed (`files flush`, and
//!   `files cp` of such a CIDv1 root).
//! - `files cp` of a symlink fails when flushing it ("symlinks not yet
//!   supported"); `write`/`read` of one fail the same way.
//! - Replacing an entry in a HAMT (rewriting a file in it, or any change
//!   below it) sizes the new link without its name, so a HAMT within a name's
//!   length of the threshold turns basic (boxo's `needsToSwitchToBasicDir`).
//! - `chmod` of a raw file wraps its data in a CIDv0 dag-pb leaf; the mode
//!   argument goes through Go's `os.FileMode`, so only `0o777` (and Go's own
//!   setuid/setgid/sticky positions) survive.
//! - Truncating a dag-pb leaf re-encodes it as CIDv0 (boxo `NodeWithData`).
//!
//! # What differs from Kubo
//!
//! - Moving a directory into itself is an error ([`MfsError::IntoItself`]);
//!   boxo's `Mv` silently drops the directory.
//! - `mv` decides "same place" by path; boxo compares directory *names*,
//!   which turns `mv /a/x/f /b/x/` into a copy.
//! - A file node with both inline data and links (appending to a one-leaf
//!   `ipfs add` file gives one) is overwritten and truncated at the right
//!   offsets and never collapsed to its raw child; boxo ignores the inline
//!   bytes there and corrupts the file.
//! - HAMT directories are rebuilt from their entries when they change (same
//!   CIDs, see the `dir` module), and every directory on the path of a change
//!   changes (it gets its child again, as boxo's `updateChildEntry` does): an
//!   operation under a big sharded directory costs in proportion to it.
//!   Updating only the shards on the name's path is future work.
//! - An operation that fails changes nothing (Kubo may keep a file created by
//!   a `files write --create` whose write then fails).
//! - `files write` reads its input as Go's `io.Copy` does from a file (32 KiB
//!   reads): boxo writes the buffered bytes out each time more than 2 MiB are
//!   buffered, which decides leaf boundaries for inputs over 2 MiB. Kubo reading
//!   a pipe or an HTTP body may cut elsewhere.

mod cursor;
mod dagmod;
mod dir;
pub mod error;
mod node;
pub mod path;
mod read;
mod store;

use std::fmt;
use std::io::Read;
use std::time::{SystemTime, UNIX_EPOCH};

use rubo_types::{BString, Block, Bytes, Cid, codec};
use rubo_unixfs::chunker::ChunkerSpec;
use rubo_unixfs::dir::{DEFAULT_HAMT_THRESHOLD, SizeEstimation};
use rubo_unixfs::hamt::DEFAULT_FANOUT;
use rubo_unixfs::pb::{Data, DataType, UnixTime};

pub use crate::error::{MfsError, StoreError};
pub use crate::path::check_path;
pub use crate::read::FileRead;
pub use crate::store::{MemStore, Store};
pub use rubo_unixfs::CidPrefix;

use crate::cursor::{Cursor, Found, WalkEnd};
use crate::dagmod::{DagMod, check_openable};
use crate::dir::{Dir, DirConfig};
use crate::node::{Child, FileNode, PbFile, classify, go_file_size, go_mode, go_mtime, node_size};
use crate::store::Ctx;

/// The settings Kubo gives its MFS root (from `Import.*`).
#[derive(Debug, Clone)]
pub struct MfsConfig {
    /// Format of the root directory's node (`Import.CidVersion`, `Import.HashFunction`).
    pub root_prefix: CidPrefix,
    /// Chunker of data written with `files write` (`Import.UnixFSChunker`).
    pub chunker: ChunkerSpec,
    /// `Import.UnixFSDirectoryMaxLinks` (0: no limit).
    pub max_links: usize,
    /// `Import.UnixFSHAMTDirectoryMaxFanout`.
    pub hamt_fanout: u64,
    /// `Import.UnixFSHAMTDirectorySizeThreshold` (0: never shard).
    pub hamt_threshold: u64,
    /// `Import.UnixFSHAMTDirectorySizeEstimation`.
    pub estimation: SizeEstimation,
    /// The clock boxo reads when a write refreshes a file's mtime.
    pub now: fn() -> UnixTime,
}

/// The current time as UnixFS stores it.
pub fn system_now() -> UnixTime {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let nanos = d.subsec_nanos();
    UnixTime { seconds: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), nanos: (nanos > 0).then_some(nanos) }
}

impl Default for MfsConfig {
    /// Kubo's defaults.
    fn default() -> Self {
        Self {
            root_prefix: CidPrefix::default(),
            chunker: ChunkerSpec::default(),
            max_links: 0,
            hamt_fanout: DEFAULT_FANOUT,
            hamt_threshold: DEFAULT_HAMT_THRESHOLD,
            estimation: SizeEstimation::Links,
            now: system_now,
        }
    }
}

impl MfsConfig {
    fn dir(&self) -> DirConfig {
        DirConfig {
            max_links: self.max_links,
            fanout: self.hamt_fanout,
            threshold: self.hamt_threshold,
            estimation: self.estimation,
        }
    }
}

/// boxo's `mfs.NodeType` (`Type` in `files ls --long`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    File = 0,
    Directory = 1,
}

/// One line of `files ls` (boxo `NodeListing`). Without `--long` only the name
/// is set (Kubo sends `Type: 0, Size: 0, Hash: ""`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsEntry {
    pub name: BString,
    pub kind: NodeType,
    /// File size (0 for directories).
    pub size: u64,
    /// Kubo prints a directory's entries with `Cid.String()` (ignoring
    /// `--cid-base`) and a file path's own line with the CID encoder.
    pub hash: Option<Cid>,
}

/// `files stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    pub hash: Cid,
    /// File size (0 for directories; a symlink's target length).
    pub size: u64,
    pub cumulative_size: u64,
    /// Links of the node itself (`ChildBlocks`).
    pub blocks: usize,
    pub kind: StatType,
    /// Kubo's `Mode`: a Go `os.FileMode` (type bits included, e.g. `ModeDir`),
    /// 0 when unset. Text output prints `Mode & 0o777` in octal.
    pub mode: u32,
    /// `Mtime`/`MtimeNsecs`, when set.
    pub mtime: Option<UnixTime>,
    /// `--with-local`.
    pub locality: Option<Locality>,
}

/// `Type` of `files stat`: symlinks and raw nodes are files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatType {
    File,
    Directory,
}

impl StatType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Directory => "directory",
        }
    }
}

/// `files stat --with-local`: whether every block is local, and their size
/// (blocks reached twice counted twice, as Kubo does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locality {
    pub local: bool,
    pub size_local: u64,
}

/// `files mkdir` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MkdirOptions {
    /// `-p`: create parents, no error if the directory exists.
    pub parents: bool,
    /// Format of the new directories (`--cid-version`/`--hash`; Kubo passes
    /// `Import.*` when neither is given). `None`: the root's format.
    pub cid_prefix: Option<CidPrefix>,
}

/// `files write` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// `--offset`: past the end, the file first grows with zeros.
    pub offset: u64,
    /// `-e`: create the file if missing.
    pub create: bool,
    /// `-p`: create parent directories.
    pub parents: bool,
    /// `-t`: truncate to zero before writing.
    pub truncate: bool,
    /// `-n`: at most this many bytes of input.
    pub count: Option<u64>,
    /// `--raw-leaves`, else `Import.UnixFSRawLeaves` when set; `None`: raw
    /// leaves for CIDv1 files, as boxo decides.
    pub raw_leaves: Option<bool>,
    /// Format of a new file and new parents (`--cid-version`/`--hash`, else
    /// `Import.*`, as Kubo passes). `None`: the parent directory's format.
    pub cid_prefix: Option<CidPrefix>,
}

/// Where `files cp` copies from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpSource<'a> {
    /// An MFS path.
    Mfs(&'a str),
    /// A content path (`/ipfs/...`) the caller resolved to `cid`; `path` is
    /// used for messages and for the name when the destination ends in `/`.
    Content { path: &'a str, cid: Cid },
}

/// `files cp` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpOptions {
    /// `-p`: create the destination's parents.
    pub parents: bool,
    /// `--force`: replace an existing file at the destination.
    pub force: bool,
    /// Format of new parents (as for mkdir).
    pub cid_prefix: Option<CidPrefix>,
}

/// `files rm` options.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RmOptions {
    /// `-r`.
    pub recursive: bool,
    /// `--force`: remove anything, ignore missing paths.
    pub force: bool,
}

/// What `files rm` did: the new root, and the paths it could not remove (the
/// others are removed; Kubo then fails with "can't remove some files").
#[derive(Debug)]
pub struct RmOutcome {
    pub root: Cid,
    pub failures: Vec<RmFailure>,
}

/// One path `files rm` could not remove.
#[derive(Debug)]
pub struct RmFailure {
    /// The argument (invalid paths) or the checked path.
    pub path: String,
    pub error: MfsError,
    /// The argument failed `checkPath`.
    pub invalid_path: bool,
}

impl fmt::Display for RmFailure {
    /// Kubo's per-path message.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.invalid_path {
            write!(f, "{} is not a valid path: {}", self.path, self.error)
        } else {
            write!(f, "{}: {}", self.path, self.error)
        }
    }
}

/// `files flush`: the new root and the CID at the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flushed {
    pub root: Cid,
    pub cid: Cid,
}

/// boxo buffers writes and writes them out once more than 2 MiB are buffered;
/// with Go's 32 KiB copy buffer that is at 2 MiB + 32 KiB.
const WRITE_FLUSH_AT: usize = (2 << 20) + (32 << 10);

/// Go's `os.ModeDir` and `os.ModeSymlink`.
const GO_MODE_DIR: u32 = 1 << 31;
const GO_MODE_SYMLINK: u32 = 1 << 27;

/// The MFS operations over a store.
#[derive(Debug, Clone)]
pub struct Mfs<S> {
    store: S,
    config: MfsConfig,
}

impl<S: Store> Mfs<S> {
    pub fn new(store: S, config: MfsConfig) -> Self {
        Self { store, config }
    }

    pub fn config(&self) -> &MfsConfig {
        &self.config
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    fn ctx(&self) -> Ctx<'_, S> {
        Ctx::new(&self.store)
    }

    fn open(&self, ctx: &mut Ctx<'_, S>, root: &Cid) -> Result<Cursor, MfsError> {
        Cursor::open(ctx, root, self.config.root_prefix)
    }

    fn commit(&self, ctx: &mut Ctx<'_, S>, cur: Cursor) -> Result<Cid, MfsError> {
        let root = cur.commit(ctx, &self.config.dir())?;
        ctx.flush()?;
        Ok(root)
    }

    /// An empty MFS root (what Kubo starts with), stored.
    pub fn empty_root(&self) -> Result<Cid, MfsError> {
        let mut ctx = self.ctx();
        let (cid, _) = Dir::new_empty(self.config.root_prefix, None, None).encode(&mut ctx)?;
        ctx.flush()?;
        Ok(cid)
    }

    /// `files ls`: entries in directory order, or sorted by name (the text
    /// output's order; Kubo's JSON keeps directory order, `-U` keeps it in text).
    /// `long` loads every entry for its type, size and CID.
    pub fn ls(&self, root: &Cid, path: &str, long: bool, sorted: bool) -> Result<Vec<LsEntry>, MfsError> {
        let p = check_path(path)?;
        let parts = path::lookup_parts(&p);
        let mut ctx = self.ctx();
        let mut cur = self.open(&mut ctx, root)?;
        let mut out = match cur.walk_to_dir(&mut ctx, &parts)? {
            WalkEnd::File(block, entry) => {
                let name = BString::from(path::split(&p).1);
                if !long {
                    return Ok(vec![LsEntry { name, kind: NodeType::File, size: 0, hash: None }]);
                }
                let size = file_size_of(&block)?;
                return Ok(vec![LsEntry { name, kind: NodeType::File, size, hash: Some(entry.cid) }]);
            }
            WalkEnd::Dir => {
                let entries = cur.top_ref().entries(&mut ctx)?;
                let mut out = Vec::with_capacity(entries.len());
                for e in entries {
                    if !long {
                        out.push(LsEntry { name: e.name, kind: NodeType::File, size: 0, hash: None });
                        continue;
                    }
                    let (kind, size) = match node::load_child(&mut ctx, &e.cid, e.tsize)? {
                        Child::Dir(_) => (NodeType::Directory, 0),
                        Child::File(b) => (NodeType::File, file_size_of(&b)?),
                    };
                    out.push(LsEntry { name: e.name, kind, size, hash: Some(e.cid) });
                }
                out
            }
        };
        if sorted {
            out.sort_by(|a, b| a.name.cmp(&b.name));
        }
        Ok(out)
    }

    /// `files stat` of an MFS path.
    pub fn stat(&self, root: &Cid, path: &str, with_local: bool) -> Result<Stat, MfsError> {
        let p = check_path(path)?;
        let parts = path::lookup_parts(&p);
        let mut ctx = self.ctx();
        let mut cur = self.open(&mut ctx, root)?;
        let block = match cur.walk_to_dir(&mut ctx, &parts)? {
            WalkEnd::File(b, _) => b,
            WalkEnd::Dir => {
                let (cid, _) = cur.top_ref().encode(&mut ctx)?;
                ctx.flush()?;
                ctx.get(&cid)?
            }
        };
        self.stat_block(&mut ctx, &block, with_local)
    }

    /// `files stat` of content (`/ipfs/...`, resolved by the caller).
    pub fn stat_cid(&self, cid: &Cid, with_local: bool) -> Result<Stat, MfsError> {
        let mut ctx = self.ctx();
        let block = ctx.get(cid)?;
        self.stat_block(&mut ctx, &block, with_local)
    }

    fn stat_block(&self, ctx: &mut Ctx<'_, S>, block: &Block, with_local: bool) -> Result<Stat, MfsError> {
        let hash = *block.cid();
        let cumulative_size = node_size(block)?;
        let mut st = match hash.codec() {
            codec::RAW => Stat {
                hash,
                size: cumulative_size,
                cumulative_size,
                blocks: 0,
                kind: StatType::File,
                mode: 0,
                mtime: None,
                locality: None,
            },
            codec::DAG_PB => {
                let pb = node::decode_pb(block)?;
                let d = node::decode_data(block, &pb)?;
                let kind = match d.kind {
                    DataType::Directory | DataType::HamtShard => StatType::Directory,
                    _ => StatType::File,
                };
                Stat {
                    hash,
                    size: go_file_size(&d),
                    cumulative_size,
                    blocks: pb.links.len(),
                    kind,
                    mode: kubo_mode(&d),
                    mtime: go_mtime(&d),
                    locality: None,
                }
            }
            _ => return Err(MfsError::NotUnixfsNode),
        };
        if with_local {
            st.locality = Some(locality(ctx, block)?);
        }
        Ok(st)
    }

    /// `files mkdir`.
    pub fn mkdir(&self, root: &Cid, path: &str, opts: &MkdirOptions) -> Result<Cid, MfsError> {
        let p = check_path(path)?;
        let mut ctx = self.ctx();
        self.mkdir_in(&mut ctx, root, &p, opts.parents, opts.cid_prefix)
    }

    /// boxo `mfs.Mkdir`.
    fn mkdir_in(
        &self,
        ctx: &mut Ctx<'_, S>,
        root: &Cid,
        p: &str,
        parents: bool,
        prefix: Option<CidPrefix>,
    ) -> Result<Cid, MfsError> {
        let parts = path::mkdir_parts(p);
        let Some((last, inner)) = parts.split_last() else {
            if parents {
                let cur = self.open(ctx, root)?;
                return self.commit(ctx, cur);
            }
            return Err(MfsError::CannotCreateRoot);
        };
        let cfg = self.config.dir();
        let prefix = prefix.unwrap_or(self.config.root_prefix);
        let mut cur = self.open(ctx, root)?;
        for (i, d) in inner.iter().enumerate() {
            match cur.find(ctx, d)? {
                Found::Missing if parents => {
                    let new = Dir::new_empty(prefix, None, None);
                    let (cid, tsize) = new.encode(ctx)?;
                    cur.top().add(ctx, d, cid, tsize, &cfg)?;
                    cur.push(d, new);
                }
                Found::Missing => return Err(MfsError::NotExist),
                Found::Dir(dir) => cur.push(d, *dir),
                Found::File(..) => return Err(MfsError::WasNotDirectory(parts[..i].join("/"))),
            }
        }
        match cur.find(ctx, last)? {
            // boxo flushes the existing directory up to the root.
            Found::Dir(dir) if parents => cur.push(last, *dir),
            Found::Dir(..) | Found::File(..) => return Err(MfsError::Exist),
            Found::Missing => {
                let new = Dir::new_empty(prefix, None, None);
                let (cid, tsize) = new.encode(ctx)?;
                cur.top().add(ctx, last, cid, tsize, &cfg)?;
            }
        }
        self.commit(ctx, cur)
    }

    /// `files write`: writes `data` into the file at `path`.
    pub fn write(&self, root: &Cid, path: &str, data: impl Read, opts: &WriteOptions) -> Result<Cid, MfsError> {
        let p = check_path(path)?;
        let mut ctx = self.ctx();
        let mut root = *root;
        if opts.parents {
            let d = path::dir(&p);
            if d != "/" {
                root = self.mkdir_in(&mut ctx, &root, &d, true, opts.cid_prefix)?;
            }
        }
        let cfg = self.config.dir();
        let parts = path::lookup_parts(&p);
        let Some(name) = parts.last() else {
            return Err(MfsError::NotAFile(p));
        };
        let mut cur = self.open(&mut ctx, &root)?;
        cur.walk_to_parent(&mut ctx, &parts)?;
        let block = match cur.find(&mut ctx, name)? {
            Found::Dir(..) => return Err(MfsError::NotAFile(p)),
            Found::File(b, _) => b,
            Found::Missing => {
                // A trailing slash names a directory to create the file in: none.
                if !opts.create || p.ends_with('/') {
                    return Err(MfsError::NotExist);
                }
                let prefix = opts.cid_prefix.unwrap_or(cur.top_ref().prefix);
                let empty = PbFile::new_file(prefix);
                let st = empty.commit(&mut ctx)?;
                cur.top().add(&mut ctx, name, st.cid, st.tsize, &cfg)?;
                empty.encode()?
            }
        };
        let node = FileNode::from_block(block)?;
        check_openable(&node)?;
        let mut dm = DagMod::new(node, opts.raw_leaves, self.config.chunker, (self.config.now)());
        if opts.truncate {
            dm.truncate(&mut ctx, 0)?;
        }
        dm.seek(&mut ctx, opts.offset)?;
        let mut input = data.take(opts.count.unwrap_or(u64::MAX));
        let mut buf = vec![0u8; WRITE_FLUSH_AT];
        loop {
            let filled = read_full(&mut input, &mut buf)?;
            if filled > 0 {
                dm.sync(&mut ctx, Bytes::copy_from_slice(&buf[..filled]))?;
            }
            if filled < buf.len() {
                break;
            }
        }
        let new = dm.get_node(&mut ctx)?;
        let (cid, tsize) = stored_entry(&new)?;
        cur.top().add(&mut ctx, name, cid, tsize, &cfg)?;
        self.commit(&mut ctx, cur)
    }

    /// `files read`: the file's bytes from `offset`, at most `count`.
    pub fn read(&self, root: &Cid, path: &str, offset: u64, count: Option<u64>) -> Result<FileRead<S>, MfsError>
    where
        S: Clone,
    {
        let p = check_path(path)?;
        let parts = path::lookup_parts(&p);
        let mut ctx = self.ctx();
        let at = |e: MfsError| MfsError::AtPath { path: p.clone(), source: Box::new(e) };
        let mut cur = self.open(&mut ctx, root).map_err(at)?;
        let block = match cur.walk_to_dir(&mut ctx, &parts).map_err(at)? {
            WalkEnd::Dir => return Err(MfsError::NotAFile(p)),
            WalkEnd::File(b, _) => b,
        };
        let node = FileNode::from_block(block.clone())?;
        check_openable(&node)?;
        let size = node.file_size();
        if offset > size {
            return Err(MfsError::OffsetPastEnd { offset, size });
        }
        Ok(FileRead::new(self.store.clone(), block, offset, count))
    }

    /// `files cp`.
    pub fn cp(&self, root: &Cid, src: CpSource<'_>, dst: &str, opts: &CpOptions) -> Result<Cid, MfsError> {
        let src_path = match src {
            CpSource::Mfs(s) => check_path(s)?,
            CpSource::Content { path, .. } => path.to_string(),
        };
        let src_path = src_path.trim_end_matches('/').to_string();
        let mut dst = check_path(dst)?;
        if dst.ends_with('/') {
            dst.push_str(&path::base(&src_path));
        }
        let mut ctx = self.ctx();
        let get_err = |e: MfsError| MfsError::CpGetNode { path: src_path.clone(), source: Box::new(e) };
        let block = match src {
            CpSource::Mfs(_) => self.node_at(&mut ctx, root, &src_path).map_err(get_err)?,
            CpSource::Content { cid, .. } => ctx.get(&cid).map_err(get_err)?,
        };
        match block.cid().codec() {
            codec::RAW => {}
            codec::DAG_PB => {
                let pb = node::decode_pb(&block).map_err(get_err)?;
                let raw = pb.data.clone().unwrap_or_default();
                Data::decode(&raw).map_err(|e| MfsError::CpInvalidUnixfs(Some(e.to_string())))?;
            }
            _ => return Err(MfsError::CpInvalidUnixfs(None)),
        }
        let mut root = *root;
        if opts.parents {
            let d = path::dir(&dst);
            if d != "/" {
                root = self.mkdir_in(&mut ctx, &root, &d, true, opts.cid_prefix)?;
            }
        }
        if opts.force {
            root = self.unlink_if_exists(&mut ctx, &root, &dst).map_err(|e| MfsError::CpUnlink(Box::new(e)))?;
        }
        let put_err = |e: MfsError| MfsError::CpPut { path: dst.clone(), source: Box::new(e) };
        let (dirp, filename) = path::split(&dst);
        if filename.is_empty() {
            return Err(put_err(MfsError::EmptyName));
        }
        let mut cur = self.open(&mut ctx, &root).map_err(put_err)?;
        self.lookup_dir(&mut ctx, &mut cur, dirp).map_err(put_err)?;
        if cur.top_ref().get(&mut ctx, filename).map_err(put_err)?.is_some() {
            return Err(put_err(MfsError::DirExists));
        }
        let cfg = self.config.dir();
        let tsize = node_size(&block)?;
        cur.top().add(&mut ctx, filename, *block.cid(), tsize, &cfg).map_err(put_err)?;
        // Kubo flushes the new entry: a file goes through the DagModifier.
        let flush_err = |e: MfsError| MfsError::CpFlush { path: dst.clone(), source: Box::new(e) };
        if let Child::File(b) = classify(block, tsize, None).map_err(flush_err)?
            && let Some((cid, tsize)) = self.flush_file(&mut ctx, b).map_err(flush_err)?
        {
            cur.top().add(&mut ctx, filename, cid, tsize, &cfg)?;
        }
        self.commit(&mut ctx, cur)
    }

    /// The node at an MFS path (boxo `Lookup` + `GetNode`).
    fn node_at(&self, ctx: &mut Ctx<'_, S>, root: &Cid, p: &str) -> Result<Block, MfsError> {
        let parts = path::lookup_parts(p);
        let mut cur = self.open(ctx, root)?;
        match cur.walk_to_dir(ctx, &parts)? {
            WalkEnd::File(b, _) => Ok(b),
            WalkEnd::Dir => {
                let (cid, _) = cur.top_ref().encode(ctx)?;
                ctx.flush()?;
                ctx.get(&cid)
            }
        }
    }

    /// boxo `lookupDir`: walks `cur` into the directory `p` names.
    fn lookup_dir(&self, ctx: &mut Ctx<'_, S>, cur: &mut Cursor, p: &str) -> Result<(), MfsError> {
        let parts = path::lookup_parts(p);
        match cur.walk_to_dir(ctx, &parts)? {
            WalkEnd::Dir => Ok(()),
            WalkEnd::File(..) => Err(MfsError::IsNotDirectory(p.to_string())),
        }
    }

    /// Kubo `unlinkNodeIfExists` (`files cp --force`).
    fn unlink_if_exists(&self, ctx: &mut Ctx<'_, S>, root: &Cid, p: &str) -> Result<Cid, MfsError> {
        let (dir, name) = path::split(p);
        let mut cur = self.open(ctx, root)?;
        match cur.walk_to_dir(ctx, &path::lookup_parts(dir)) {
            Ok(WalkEnd::Dir) => {}
            Ok(WalkEnd::File(..)) => return Err(MfsError::UnlinkNotDirectory(dir.to_string())),
            Err(MfsError::NotExist) => return Ok(*root),
            Err(e) => return Err(e),
        }
        match cur.find(ctx, name) {
            Ok(Found::File(..)) => {}
            Ok(Found::Dir(..)) => return Err(MfsError::UnlinkNotFile(p.to_string())),
            Ok(Found::Missing) | Err(_) => return Ok(*root),
        }
        cur.top().remove(ctx, name, &self.config.dir())?;
        self.commit(ctx, cur)
    }

    /// boxo `File.Flush`: the DagModifier may re-shape the node (a CIDv1 root
    /// over one raw leaf collapses to the leaf). `Some` when it changed.
    fn flush_file(&self, ctx: &mut Ctx<'_, S>, block: Block) -> Result<Option<(Cid, u64)>, MfsError> {
        let orig = *block.cid();
        let node = FileNode::from_block(block)?;
        check_openable(&node)?;
        let dm = DagMod::new(node, None, self.config.chunker, (self.config.now)());
        let new = dm.get_node(ctx)?;
        let (cid, tsize) = stored_entry(&new)?;
        Ok((cid != orig).then_some((cid, tsize)))
    }

    /// `files mv`.
    pub fn mv(&self, root: &Cid, src: &str, dst: &str) -> Result<Cid, MfsError> {
        let src = check_path(src)?;
        let dst = check_path(dst)?;
        let (src_dir, src_name) = path::split(&src);
        let (dst_dir, mut dst_name) = if dst.ends_with('/') { (dst.as_str(), src_name) } else { path::split(&dst) };
        let cfg = self.config.dir();
        let mut ctx = self.ctx();

        // boxo's lookups, in its order, for its errors.
        let mut dcur = self.open(&mut ctx, root)?;
        self.lookup_dir(&mut ctx, &mut dcur, dst_dir)?;
        let mut scur = self.open(&mut ctx, root)?;
        self.lookup_dir(&mut ctx, &mut scur, src_dir)?;
        let (src_block, src_is_dir) = match scur.find(&mut ctx, src_name)? {
            Found::Missing => return Err(MfsError::NotExist),
            Found::Dir(d) => {
                let (cid, _) = d.encode(&mut ctx)?;
                (ctx.get(&cid)?, true)
            }
            Found::File(b, _) => (b, false),
        };
        let src_cid = *src_block.cid();
        let src_tsize = node_size(&src_block)?;
        let mut target_dir = dcur.parts();
        let mut replace = false;
        match dcur.find(&mut ctx, dst_name)? {
            Found::Missing => {}
            Found::File(..) => replace = true,
            Found::Dir(..) => {
                target_dir.push(dst_name.to_string());
                dst_name = src_name;
            }
        }
        let src_parts = scur.parts();
        let join = |dir: &[String], name: &str| {
            let mut v = dir.to_vec();
            v.push(name.to_string());
            format!("/{}", v.join("/"))
        };
        let target = join(&target_dir, dst_name);
        let source = join(&src_parts, src_name);
        if src_is_dir && (target == source || target.starts_with(&format!("{source}/"))) {
            return Err(MfsError::IntoItself { src: source, dst: target });
        }
        if target == source {
            let cur = self.open(&mut ctx, root)?;
            return self.commit(&mut ctx, cur);
        }

        let mut cur = self.open(&mut ctx, root)?;
        self.walk_parts(&mut ctx, &mut cur, &target_dir)?;
        if replace {
            cur.top().remove(&mut ctx, dst_name, &cfg)?;
        }
        if cur.top_ref().get(&mut ctx, dst_name)?.is_some() {
            return Err(MfsError::DirExists);
        }
        cur.top().add(&mut ctx, dst_name, src_cid, src_tsize, &cfg)?;
        if target_dir == src_parts {
            cur.top().remove(&mut ctx, src_name, &cfg)?;
            return self.commit(&mut ctx, cur);
        }
        let root = self.commit(&mut ctx, cur)?;
        let mut cur = self.open(&mut ctx, &root)?;
        self.walk_parts(&mut ctx, &mut cur, &src_parts)?;
        cur.top().remove(&mut ctx, src_name, &cfg)?;
        self.commit(&mut ctx, cur)
    }

    fn walk_parts(&self, ctx: &mut Ctx<'_, S>, cur: &mut Cursor, parts: &[String]) -> Result<(), MfsError> {
        match cur.walk_to_dir(ctx, parts)? {
            WalkEnd::Dir => Ok(()),
            WalkEnd::File(..) => Err(MfsError::ExpectedDirectory),
        }
    }

    /// `files rm`: removes each path in turn; failures are collected.
    pub fn rm(&self, root: &Cid, paths: &[&str], opts: RmOptions) -> Result<RmOutcome, MfsError> {
        let mut ctx = self.ctx();
        let mut root = *root;
        let mut failures = Vec::new();
        for arg in paths {
            let p = match check_path(arg) {
                Ok(p) => p,
                Err(error) => {
                    failures.push(RmFailure { path: (*arg).to_string(), error, invalid_path: true });
                    continue;
                }
            };
            match self.remove_path(&mut ctx, &root, &p, opts) {
                Ok(r) => root = r,
                Err(error) => failures.push(RmFailure { path: p, error, invalid_path: false }),
            }
        }
        ctx.flush()?;
        Ok(RmOutcome { root, failures })
    }

    /// Kubo `removePath`.
    fn remove_path(&self, ctx: &mut Ctx<'_, S>, root: &Cid, p: &str, opts: RmOptions) -> Result<Cid, MfsError> {
        if p == "/" {
            return Err(MfsError::CannotDeleteRoot);
        }
        let p = p.strip_suffix('/').unwrap_or(p);
        let (dir, name) = path::split(p);
        let mut cur = self.open(ctx, root)?;
        match cur.walk_to_dir(ctx, &path::lookup_parts(dir)) {
            Ok(WalkEnd::Dir) => {}
            Ok(WalkEnd::File(..)) => return Err(MfsError::ExpectedDirectory),
            Err(MfsError::NotExist) if opts.force => return Ok(*root),
            Err(e) => return Err(e),
        }
        let cfg = self.config.dir();
        if opts.force {
            return match cur.top().remove(ctx, name, &cfg) {
                Ok(()) => self.commit(ctx, cur),
                Err(MfsError::NotExist) => Ok(*root),
                Err(e) => Err(e),
            };
        }
        match cur.find(ctx, name)? {
            Found::Missing => return Err(MfsError::NotExist),
            Found::Dir(..) if !opts.recursive => return Err(MfsError::IsDirectory),
            _ => {}
        }
        cur.top().remove(ctx, name, &cfg)?;
        self.commit(ctx, cur)
    }

    /// `files flush` (the path is used as given, as Kubo does).
    pub fn flush(&self, root: &Cid, path: &str) -> Result<Flushed, MfsError> {
        let mut ctx = self.ctx();
        self.flush_in(&mut ctx, root, path)
    }

    fn flush_in(&self, ctx: &mut Ctx<'_, S>, root: &Cid, p: &str) -> Result<Flushed, MfsError> {
        let parts = path::lookup_parts(p);
        let mut cur = self.open(ctx, root)?;
        let Some(name) = parts.last() else {
            let root = self.commit(ctx, cur)?;
            return Ok(Flushed { root, cid: root });
        };
        cur.walk_to_parent(ctx, &parts)?;
        let cid = match cur.find(ctx, name)? {
            Found::Missing => return Err(MfsError::NotExist),
            Found::Dir(d) => d.encode(ctx)?.0,
            Found::File(b, _) => {
                let orig = *b.cid();
                match self.flush_file(ctx, b)? {
                    Some((cid, tsize)) => {
                        cur.top().add(ctx, name, cid, tsize, &self.config.dir())?;
                        cid
                    }
                    None => orig,
                }
            }
        };
        let root = self.commit(ctx, cur)?;
        Ok(Flushed { root, cid })
    }

    /// `files chcid`: re-encodes the directory at `path` with `prefix` (no
    /// prefix: only flushes, as Kubo does without `--cid-version`/`--hash`).
    pub fn chcid(&self, root: &Cid, path: &str, prefix: Option<CidPrefix>) -> Result<Cid, MfsError> {
        if path == "/" {
            return Err(MfsError::ChcidRoot);
        }
        let mut ctx = self.ctx();
        let mut root = *root;
        if let Some(prefix) = prefix {
            let parts = path::lookup_parts(path);
            if parts.is_empty() {
                return Err(MfsError::ChcidRoot);
            }
            let mut cur = self.open(&mut ctx, &root)?;
            match cur.walk_to_dir(&mut ctx, &parts)? {
                WalkEnd::File(..) => return Err(MfsError::OnlyDirectories),
                WalkEnd::Dir => cur.top().set_prefix(prefix),
            }
            root = self.commit(&mut ctx, cur)?;
        }
        root = self.flush_in(&mut ctx, &root, path)?.root;
        Ok(self.flush_in(&mut ctx, &root, &path::dir(path))?.root)
    }

    /// `files chmod` (`mode` as parsed from Kubo's octal argument: see [`parse_mode`]).
    pub fn chmod(&self, root: &Cid, path: &str, mode: u32) -> Result<Cid, MfsError> {
        self.set_attr(root, path, Attr::Mode(mode))
    }

    /// `files touch`: sets the modification time.
    pub fn touch(&self, root: &Cid, path: &str, mtime: UnixTime) -> Result<Cid, MfsError> {
        let extra = mtime.nanos.unwrap_or(0) / 1_000_000_000;
        let nanos = mtime.nanos.unwrap_or(0) % 1_000_000_000;
        let t =
            UnixTime { seconds: mtime.seconds.saturating_add(i64::from(extra)), nanos: (nanos > 0).then_some(nanos) };
        self.set_attr(root, path, Attr::Mtime(t))
    }

    fn set_attr(&self, root: &Cid, path: &str, attr: Attr) -> Result<Cid, MfsError> {
        let p = check_path(path)?;
        let parts = path::lookup_parts(&p);
        let mut ctx = self.ctx();
        let mut cur = self.open(&mut ctx, root)?;
        match cur.walk_to_dir(&mut ctx, &parts)? {
            WalkEnd::Dir => match attr {
                Attr::Mode(m) => cur.top().set_mode(m)?,
                Attr::Mtime(t) => cur.top().set_mtime(Some(t))?,
            },
            WalkEnd::File(block, entry) => {
                let new = file_with_attr(&block, attr)?;
                let tsize = node_size(&new)?;
                let cid = *new.cid();
                ctx.put(new)?;
                cur.top().add(&mut ctx, &entry.name, cid, tsize, &self.config.dir())?;
            }
        }
        self.commit(&mut ctx, cur)
    }
}

#[derive(Debug, Clone, Copy)]
enum Attr {
    Mode(u32),
    Mtime(UnixTime),
}

/// boxo `File.SetMode`/`SetModTime`: a raw file is wrapped in a dag-pb leaf
/// (default format); a dag-pb node keeps its links and format.
fn file_with_attr(block: &Block, attr: Attr) -> Result<Block, MfsError> {
    let mut f = if block.cid().codec() == codec::RAW {
        let mut d = Data::new(DataType::File);
        d.data = Some(block.data().clone());
        d.filesize = Some(block.len() as u64);
        // `FilePBDataWithStat` sets the mode only when non-zero.
        if let Attr::Mode(m) = attr
            && m != 0
        {
            d.mode = Some(node::unix_perms_of_go_mode(m));
        }
        if let Attr::Mtime(t) = attr {
            d.mtime = Some(t);
        }
        return Ok(CidPrefix::default().dag_pb(rubo_types::dagpb::PbNode::with_data(d.encode()).encode())?);
    } else {
        PbFile::from_block(block)?
    };
    match attr {
        Attr::Mode(m) => node::set_unix_perms(&mut f.data, m),
        Attr::Mtime(t) => f.data.mtime = Some(t),
    }
    f.encode()
}

/// Kubo's `statOutput.Mode`: the UnixFS permissions as a Go `os.FileMode`,
/// with the type bit; a symlink without one reads `ModeSymlink | 0777`.
fn kubo_mode(d: &Data) -> u32 {
    match go_mode(d) {
        Some(perms) => {
            let mut m = (perms & 0x1FF) | ((perms & 0xC00) << 12) | ((perms & 0x200) << 11);
            match d.kind {
                DataType::Directory | DataType::HamtShard => m |= GO_MODE_DIR,
                DataType::Symlink => m |= GO_MODE_SYMLINK,
                _ => {}
            }
            m
        }
        None if d.kind == DataType::Symlink => GO_MODE_SYMLINK | 0x1FF,
        None => 0,
    }
}

/// Parses `files chmod`'s mode as Kubo does (`strconv.ParseInt(s, 8, 32)`).
pub fn parse_mode(s: &str) -> Result<u32, MfsError> {
    let v = rubo_types::go::parse_int(s, 8, 32).map_err(MfsError::ParseMode)?;
    // Go converts the int64 to os.FileMode (uint32).
    Ok(v as i32 as u32)
}

/// boxo `File.Size()`.
fn file_size_of(block: &Block) -> Result<u64, MfsError> {
    match block.cid().codec() {
        codec::RAW => Ok(block.len() as u64),
        _ => {
            let pb = node::decode_pb(block)?;
            Ok(go_file_size(&node::decode_data(block, &pb)?))
        }
    }
}

/// What a parent links to for a file node.
fn stored_entry(node: &FileNode) -> Result<(Cid, u64), MfsError> {
    match node {
        FileNode::Raw(b) => Ok((*b.cid(), b.len() as u64)),
        FileNode::Pb(f) => {
            let b = f.encode()?;
            let tsize = f.links.iter().fold(b.len() as u64, |a, l| a.saturating_add(l.tsize.unwrap_or(0)));
            Ok((*b.cid(), tsize))
        }
    }
}

/// Kubo `walkBlock`: every block reachable through dag-pb links, counted each
/// time it is reached.
fn locality<S: Store + ?Sized>(ctx: &mut Ctx<'_, S>, root: &Block) -> Result<Locality, MfsError> {
    let mut local = true;
    let mut size_local = root.len() as u64;
    let mut stack: Vec<Cid> = Vec::new();
    let push_links = |stack: &mut Vec<Cid>, b: &Block| -> Result<(), MfsError> {
        if b.cid().codec() == codec::DAG_PB {
            let pb = node::decode_pb(b)?;
            stack.extend(pb.links.iter().rev().map(|l| l.cid));
        }
        Ok(())
    };
    push_links(&mut stack, root)?;
    while let Some(cid) = stack.pop() {
        match ctx.try_get(&cid)? {
            None => local = false,
            Some(b) => {
                size_local = size_local.saturating_add(b.len() as u64);
                push_links(&mut stack, &b)?;
            }
        }
    }
    Ok(Locality { local, size_local })
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, MfsError> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(filled)
}
