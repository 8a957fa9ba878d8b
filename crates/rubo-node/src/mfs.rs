//! The Files API (Kubo's `ipfs files`): MFS over the node's blocks, its root
//! CID in the datastore under [`FILES_ROOT_KEY`] (Kubo's `/local/filesroot`).
//!
//! Each change is one read-modify-write of the root: the operation (in
//! `rubo-mfs`) stores every new block durably (`Blockstore::put_many`) before
//! it returns the new root, and only then is the root key written (one redb
//! commit). A crash at any point leaves the old root or the new one, never a
//! root whose blocks are missing. The node's GC read lock is held from before
//! the first block is written until the root is persisted, so GC (which keeps
//! what the stored root reaches) cannot collect an operation's blocks in
//! flight. A node's changes are serialized by its own lock; the repo lock
//! serializes processes.
//!
//! Under `Provide.Strategy` `mfs`, a change is queued for announcement once
//! its root is stored: the new root, the directories written and the entries
//! (files, subdirectories) written under them, as Kubo's MFS provides the
//! nodes it writes.
//!
//! Kubo's `--flush=false` defers the root update in a daemon; every rubo
//! command is its own process, which (like an offline Kubo command) persists
//! the root when it is done, so the flag changes nothing here.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use rubo_mfs::{
    CidPrefix, CpOptions, CpSource, LsEntry, Mfs, MfsConfig, MfsError, RmOptions, Stat, StatType, Store, StoreError,
    WriteOptions,
};
use rubo_repo::Blockstore;
use rubo_repo::config::ImportConfig;
use rubo_repo::config::units::parse_bytes;
use rubo_types::dagpb::PbNode;
use rubo_types::{Block, Bytes, Cid, Version, hash, parse_cid};
use rubo_unixfs::chunker::ChunkerSpec;
use rubo_unixfs::dir::SizeEstimation;
use rubo_unixfs::pb::{Data, DataType, UnixTime};
use serde_json::Value;
use tokio::sync::mpsc;

pub use rubo_mfs;

use crate::gc::FILES_ROOT_KEY;
use crate::path::IpfsPath;
use crate::{Node, NodeError};

/// The UnixFS empty directory (CIDv0): the MFS root before anything is written.
pub const EMPTY_DIR: &str = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";
/// Its block: `Data = {Type: Directory}`.
const EMPTY_DIR_BLOCK: &[u8] = &[0x0a, 0x02, 0x08, 0x01];
/// Bytes per chunk of `files read` output.
const READ_CHUNK: usize = 256 * 1024;

/// The node's blocks as MFS sees them: verified reads, durable batched writes.
///
/// Reading commands may re-encode a directory (the root takes the format
/// `Import.*` gives it, as Kubo's does) without being allowed to write: their
/// store keeps such blocks in memory for the length of the command.
#[derive(Clone)]
pub struct NodeStore {
    bs: Arc<dyn Blockstore>,
    scratch: Option<Arc<Mutex<HashMap<Cid, Block>>>>,
    /// What was written, when a change is to be announced (`Provide.Strategy` `mfs`).
    written: Option<Arc<Mutex<Written>>>,
}

impl NodeStore {
    /// Writes go to the block store, durably.
    pub fn new(bs: Arc<dyn Blockstore>) -> Self {
        Self { bs, scratch: None, written: None }
    }

    /// Writes stay in memory (for commands that only read).
    pub fn reading(bs: Arc<dyn Blockstore>) -> Self {
        Self { bs, scratch: Some(Arc::default()), written: None }
    }
}

/// What one MFS change wrote, for the `mfs` strategy: Kubo's MFS provides each directory and
/// file node it writes, not the chunks under files. Written directories (and HAMT shards) are
/// kept with their links; a written block one of them links to is an entry that changed (a
/// file's root, a subdirectory).
#[derive(Default)]
struct Written {
    blocks: std::collections::HashSet<rubo_types::Multihash>,
    dirs: Vec<(Cid, Vec<Cid>)>,
}

impl Written {
    fn record(&mut self, blocks: &[Block]) {
        for b in blocks {
            self.blocks.insert(*b.cid().hash());
            if b.cid().codec() != rubo_types::codec::DAG_PB {
                continue;
            }
            let Ok(node) = rubo_dag::codec::dagpb::decode_raw(b.data()) else { continue };
            let dir = node
                .data
                .as_ref()
                .and_then(|d| Data::decode(d).ok())
                .is_some_and(|d| matches!(d.kind, DataType::Directory | DataType::HamtShard));
            if dir {
                self.dirs.push((*b.cid(), node.links.iter().map(|l| l.cid).collect()));
            }
        }
    }

    /// The new root, the directories written and the written entries they link to, each once.
    fn announced(&self, root: &Cid) -> Vec<rubo_types::Multihash> {
        let mut out = std::collections::HashSet::new();
        out.insert(*root.hash());
        for (dir, links) in &self.dirs {
            out.insert(*dir.hash());
            out.extend(links.iter().map(|l| *l.hash()).filter(|h| self.blocks.contains(h)));
        }
        out.into_iter().collect()
    }
}

impl Store for NodeStore {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError> {
        if let Some(s) = &self.scratch
            && let Some(b) = s.lock().map_err(|_| StoreError::new("scratch store poisoned"))?.get(cid)
        {
            return Ok(Some(b.clone()));
        }
        match self.bs.get(cid) {
            Ok(Some(b)) => Ok(Some(b)),
            // Kubo always has the empty directory; a repo might not store it.
            Ok(None) if cid.to_string() == EMPTY_DIR => Ok(Some(Block::new_unchecked(*cid, EMPTY_DIR_BLOCK))),
            Ok(None) => Ok(None),
            Err(e) => Err(StoreError::new(e.to_string())),
        }
    }

    fn put_many(&self, blocks: Vec<Block>) -> Result<(), StoreError> {
        if let Some(s) = &self.scratch {
            let mut s = s.lock().map_err(|_| StoreError::new("scratch store poisoned"))?;
            for b in blocks {
                s.insert(*b.cid(), b);
            }
            return Ok(());
        }
        self.bs.put_many(&blocks).map_err(|e| StoreError::new(e.to_string()))?;
        if let Some(w) = &self.written {
            w.lock().map_err(|_| StoreError::new("written blocks poisoned"))?.record(&blocks);
        }
        Ok(())
    }
}

/// What `files chroot` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chroot {
    /// The root before, if one was stored.
    pub old: Option<Cid>,
    pub new: Cid,
}

/// The Files API of a node.
#[derive(Clone)]
pub struct FilesApi {
    pub(crate) node: Node,
}

fn mfs_err(e: MfsError) -> NodeError {
    match e {
        MfsError::BlockNotFound(c) => NodeError::BlockNotFound(c),
        MfsError::Store(s) => NodeError::Internal(s.message),
        e => NodeError::InvalidInput(e.to_string()),
    }
}

/// A file reader's error: the MFS error inside it, with its kind, when there
/// is one; otherwise a file DAG that is not what it says (held data the node
/// cannot read).
fn read_err(e: std::io::Error) -> NodeError {
    let msg = e.to_string();
    match e.into_inner().map(|inner| inner.downcast::<MfsError>()) {
        Some(Ok(m)) => mfs_err(*m),
        _ => NodeError::Undecodable(msg),
    }
}

/// Go's `%q` for the simple strings paths are (Rust's `{:?}` escapes alike).
fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// The prefix Kubo's `files` commands build from `--cid-version`/`--hash`
/// (`getPrefix`): `None` when neither is given. A hash other than the
/// default implies CIDv1.
pub fn cid_prefix(version: Option<i64>, hash_name: Option<&str>) -> Result<Option<CidPrefix>, NodeError> {
    if version.is_none() && hash_name.is_none() {
        return Ok(None);
    }
    let mut v = version.unwrap_or(0);
    if hash_name.is_some() && v == 0 {
        v = 1;
    }
    let version = match v {
        0 => Version::V0,
        1 => Version::V1,
        v => return Err(NodeError::InvalidInput(format!("unknown CID version: {v}"))),
    };
    let code = match hash_name {
        None => hash::SHA2_256,
        Some(h) => hash::code_of(&h.to_lowercase())
            .map_err(|_| NodeError::InvalidInput(format!("unrecognized hash function: {}", quote(h))))?,
    };
    if !hash::is_allowed(code) {
        return Err(NodeError::InvalidInput("potentially insecure hash functions not allowed".into()));
    }
    Ok(Some(CidPrefix { version, hash: code, hash_len: None, inline_limit: None }))
}

/// Kubo's `Import.UnixFSCidBuilder`: the format of the MFS root and, unless
/// flags say otherwise, of new files and directories.
fn import_prefix(cfg: &ImportConfig) -> Result<CidPrefix, NodeError> {
    let mut v = cfg.cid_version.unwrap_or(0);
    let name = cfg.hash_function.clone().unwrap_or_else(|| "sha2-256".into());
    let code = hash::code_of(&name.to_lowercase())
        .map_err(|_| NodeError::InvalidInput(format!("Import.HashFunction unrecognized: {}", quote(&name))))?;
    if code != hash::SHA2_256 && v == 0 {
        v = 1;
    }
    let version = match v {
        0 => Version::V0,
        1 => Version::V1,
        v => return Err(NodeError::InvalidInput(format!("unknown CID version: {v}"))),
    };
    Ok(CidPrefix { version, hash: code, hash_len: None, inline_limit: None })
}

/// The MFS settings from `Import.*`, and `Import.UnixFSRawLeaves` when set.
fn mfs_config(cfg: &ImportConfig) -> Result<(MfsConfig, Option<bool>), NodeError> {
    let bad = |m: String| NodeError::InvalidInput(m);
    let chunker = match &cfg.chunker {
        Some(s) => ChunkerSpec::parse(s).map_err(|e| bad(e.to_string()))?,
        None => ChunkerSpec::default(),
    };
    let estimation = match cfg.hamt_size_estimation.as_deref() {
        None | Some("links") => SizeEstimation::Links,
        Some("block") => SizeEstimation::Block,
        Some("disabled") => SizeEstimation::Disabled,
        Some(o) => return Err(bad(format!("unknown Import.UnixFSHAMTDirectorySizeEstimation {o:?}"))),
    };
    let default = MfsConfig::default();
    let hamt_threshold = match &cfg.hamt_size_threshold {
        None | Some(Value::Null) => default.hamt_threshold,
        Some(Value::Number(n)) => n.as_u64().ok_or_else(|| bad(format!("invalid HAMT threshold {n}")))?,
        Some(Value::String(s)) => parse_bytes(s).map_err(bad)?,
        Some(v) => return Err(bad(format!("invalid HAMT threshold {v}"))),
    };
    let fanout = cfg.hamt_max_fanout.unwrap_or(default.hamt_fanout as i64);
    let max_links = cfg.directory_max_links.unwrap_or(0);
    let config = MfsConfig {
        root_prefix: import_prefix(cfg)?,
        chunker,
        max_links: usize::try_from(max_links).unwrap_or(0),
        hamt_fanout: u64::try_from(fanout).map_err(|_| bad(format!("invalid HAMT fanout {fanout}")))?,
        hamt_threshold,
        estimation,
        now: rubo_mfs::system_now,
    };
    Ok((config, cfg.raw_leaves))
}

/// A content path (`/ipfs/...`, `ipfs://...`) rather than an MFS path, as
/// Kubo's `checkContentOrMfsPath` decides; with its canonical form. IPNS and
/// IPLD paths are content paths rubo cannot resolve yet.
fn content_path(s: &str) -> Option<Result<(IpfsPath, String), NodeError>> {
    let canonical = if let Some(rest) = s.strip_prefix("ipfs://") {
        format!("/ipfs/{rest}")
    } else if s.starts_with("/ipfs/") {
        s.to_string()
    } else if s.starts_with("/ipns/") || s.starts_with("ipns://") || s.starts_with("/ipld/") {
        return Some(IpfsPath::parse(s).map(|p| (p, s.to_string())));
    } else {
        return None;
    };
    // A string that does not parse as a content path is an MFS path in Kubo.
    IpfsPath::parse(&canonical).ok().map(|p| Ok((p, canonical)))
}

impl FilesApi {
    fn settings(&self) -> Result<(MfsConfig, Option<bool>), NodeError> {
        let cfg = self.node.repo().config().typed()?.import;
        mfs_config(&cfg)
    }

    /// MFS over the node's blocks; `writing` stores new blocks durably,
    /// otherwise they stay in memory.
    fn mfs(&self, writing: bool) -> Result<(Mfs<NodeStore>, Option<bool>), NodeError> {
        let (config, raw) = self.settings()?;
        let bs = self.node.blockstore();
        let store = if writing { NodeStore::new(bs) } else { NodeStore::reading(bs) };
        Ok((Mfs::new(store, config), raw))
    }

    /// The format new files and directories get without flags.
    pub fn default_prefix(&self) -> Result<CidPrefix, NodeError> {
        Ok(self.settings()?.0.root_prefix)
    }

    /// The stored MFS root, or the empty directory when none was written.
    pub fn root(&self) -> Result<Cid, NodeError> {
        match self.node.files_root()? {
            Some(c) => Ok(c),
            None => Ok(parse_cid(EMPTY_DIR)?),
        }
    }

    fn persist(&self, root: &Cid) -> Result<(), NodeError> {
        self.node.repo().datastore()?.put(FILES_ROOT_KEY, &root.to_bytes())?;
        Ok(())
    }

    /// Runs a change: `op` gets the current root and returns the new one
    /// (its blocks durable), which is then persisted.
    fn mutate<T>(
        &self,
        op: impl FnOnce(&Mfs<NodeStore>, &Cid, Option<bool>) -> Result<(Cid, T), NodeError>,
    ) -> Result<T, NodeError> {
        let _serial = self.node.mfs_lock();
        let _gc = self.node.gc_read();
        // Under the `mfs` strategy, what the change wrote is announced once the root is stored.
        let announce = self.node.provider().filter(|p| p.strategy().mfs()).cloned();
        let (config, raw) = self.settings()?;
        let mut store = NodeStore::new(self.node.blockstore());
        let written = announce.as_ref().map(|_| Arc::new(Mutex::new(Written::default())));
        store.written = written.clone();
        let mfs = Mfs::new(store, config);
        let stored = self.node.files_root()?;
        let root = match stored {
            Some(c) => c,
            None => parse_cid(EMPTY_DIR)?,
        };
        let (new, out) = op(&mfs, &root, raw)?;
        if stored != Some(new) && !(stored.is_none() && new == root) {
            self.persist(&new)?;
            if let (Some(p), Some(w)) = (announce, written) {
                match w.lock() {
                    Ok(w) => p.provide(w.announced(&new)),
                    Err(_) => tracing::warn!("mfs: written blocks poisoned, nothing announced"),
                }
            }
        }
        Ok(out)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(FilesApi) -> Result<T, NodeError> + Send + 'static,
    ) -> Result<T, NodeError> {
        let api = self.clone();
        tokio::task::spawn_blocking(move || f(api)).await?
    }

    /// `files ls`: the entries of a directory (in directory order), or the
    /// file itself; `long` resolves types, sizes and CIDs. The flag says
    /// whether the path is a directory.
    pub async fn ls(&self, path: String, long: bool) -> Result<(bool, Vec<LsEntry>), NodeError> {
        self.blocking(move |api| {
            let (mfs, _) = api.mfs(false)?;
            let root = api.root()?;
            let entries = mfs.ls(&root, &path, long, false).map_err(mfs_err)?;
            let dir = !long || mfs.stat(&root, &path, false).map_err(mfs_err)?.kind == StatType::Directory;
            Ok((dir, entries))
        })
        .await
    }

    /// `files stat` of an MFS path or a content path (`/ipfs/...`).
    pub async fn stat(&self, path: String, with_local: bool) -> Result<Stat, NodeError> {
        self.blocking(move |api| {
            let (mfs, _) = api.mfs(false)?;
            if let Some(p) = content_path(&path) {
                let (p, _) = p?;
                let cid = api.node.unixfs().resolve_blocking(&p)?;
                return mfs.stat_cid(&cid, with_local).map_err(mfs_err);
            }
            mfs.stat(&api.root()?, &path, with_local).map_err(mfs_err)
        })
        .await
    }

    /// `files mkdir`; `prefix` from `--cid-version`/`--hash`, else `Import.*`.
    pub async fn mkdir(&self, path: String, parents: bool, prefix: Option<CidPrefix>) -> Result<(), NodeError> {
        self.blocking(move |api| {
            api.mutate(|mfs, root, _| {
                let cid_prefix = Some(prefix.unwrap_or(mfs.config().root_prefix));
                let opts = rubo_mfs::MkdirOptions { parents, cid_prefix };
                Ok((mfs.mkdir(root, &path, &opts).map_err(mfs_err)?, ()))
            })
        })
        .await
    }

    /// `files write`. Unset `raw_leaves` and `cid_prefix` take `Import.*`, as
    /// in Kubo.
    pub async fn write(
        &self,
        path: String,
        data: Box<dyn Read + Send>,
        mut opts: WriteOptions,
    ) -> Result<(), NodeError> {
        self.blocking(move |api| {
            api.mutate(|mfs, root, raw| {
                opts.raw_leaves = opts.raw_leaves.or(raw);
                opts.cid_prefix = Some(opts.cid_prefix.unwrap_or(mfs.config().root_prefix));
                Ok((mfs.write(root, &path, data, &opts).map_err(mfs_err)?, ()))
            })
        })
        .await
    }

    /// `files read`: streams bytes `[offset, offset + count)` of a file.
    /// Errors about the path come back at once; a block missing midway ends
    /// the stream with an error.
    pub async fn read(
        &self,
        path: String,
        offset: u64,
        count: Option<u64>,
    ) -> Result<mpsc::Receiver<Result<Bytes, NodeError>>, NodeError> {
        let reader = self
            .blocking(move |api| {
                let (mfs, _) = api.mfs(false)?;
                mfs.read(&api.root()?, &path, offset, count).map_err(mfs_err)
            })
            .await?;
        let (tx, rx) = mpsc::channel(8);
        tokio::task::spawn_blocking(move || {
            let mut reader = reader;
            loop {
                let mut buf = vec![0u8; READ_CHUNK];
                let mut filled = 0;
                while filled < buf.len() {
                    match reader.read(&mut buf[filled..]) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => {
                            let _ = tx.blocking_send(Err(read_err(e)));
                            return;
                        }
                    }
                }
                if filled == 0 {
                    return;
                }
                buf.truncate(filled);
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    return;
                }
            }
        });
        Ok(rx)
    }

    /// `files cp`: `src` is a content path (lazily referenced: only its root
    /// block must be local) or an MFS path. New parents (`-p`) get `Import.*`.
    pub async fn cp(&self, src: String, dst: String, mut opts: CpOptions) -> Result<(), NodeError> {
        self.blocking(move |api| {
            api.mutate(|mfs, root, _| {
                opts.cid_prefix = Some(opts.cid_prefix.unwrap_or(mfs.config().root_prefix));
                // Kubo checks the destination before it resolves the source.
                rubo_mfs::check_path(&dst).map_err(mfs_err)?;
                let new = match content_path(&src) {
                    Some(p) => {
                        let (p, canonical) = p?;
                        let canonical = canonical.trim_end_matches('/').to_string();
                        let cid = api.node.unixfs().resolve_blocking(&p).map_err(|e| {
                            NodeError::InvalidInput(format!("cp: cannot get node from path {canonical}: {e}"))
                        })?;
                        let source = CpSource::Content { path: &canonical, cid };
                        mfs.cp(root, source, &dst, &opts)
                    }
                    None => mfs.cp(root, CpSource::Mfs(&src), &dst, &opts),
                };
                Ok((new.map_err(mfs_err)?, ()))
            })
        })
        .await
    }

    /// `files mv`.
    pub async fn mv(&self, src: String, dst: String) -> Result<(), NodeError> {
        self.blocking(move |api| api.mutate(|mfs, root, _| Ok((mfs.mv(root, &src, &dst).map_err(mfs_err)?, ())))).await
    }

    /// `files rm`: removes what it can and returns Kubo's message for each
    /// path it could not remove.
    pub async fn rm(&self, paths: Vec<String>, opts: RmOptions) -> Result<Vec<String>, NodeError> {
        self.blocking(move |api| {
            api.mutate(|mfs, root, _| {
                let args: Vec<&str> = paths.iter().map(String::as_str).collect();
                let out = mfs.rm(root, &args, opts).map_err(mfs_err)?;
                Ok((out.root, out.failures.iter().map(ToString::to_string).collect()))
            })
        })
        .await
    }

    /// `files flush`: the CID at `path` (taken as given, as Kubo does).
    pub async fn flush(&self, path: String) -> Result<Cid, NodeError> {
        self.blocking(move |api| {
            api.mutate(|mfs, root, _| {
                let f = mfs.flush(root, &path).map_err(mfs_err)?;
                Ok((f.root, f.cid))
            })
        })
        .await
    }

    /// `files chcid`: re-encodes a directory with `prefix` (`None`: flushes only).
    pub async fn chcid(&self, path: String, prefix: Option<CidPrefix>) -> Result<(), NodeError> {
        self.blocking(move |api| api.mutate(|mfs, root, _| Ok((mfs.chcid(root, &path, prefix).map_err(mfs_err)?, ()))))
            .await
    }

    /// `files chmod`: `mode` in octal, parsed as Kubo parses it.
    pub async fn chmod(&self, mode: String, path: String) -> Result<(), NodeError> {
        self.blocking(move |api| {
            api.mutate(|mfs, root, _| {
                let mode = rubo_mfs::parse_mode(&mode).map_err(mfs_err)?;
                Ok((mfs.chmod(root, &path, mode).map_err(mfs_err)?, ()))
            })
        })
        .await
    }

    /// `files touch`: sets the modification time (`None`: now).
    pub async fn touch(&self, path: String, mtime: Option<UnixTime>) -> Result<(), NodeError> {
        self.blocking(move |api| {
            api.mutate(|mfs, root, _| {
                let t = mtime.unwrap_or_else(rubo_mfs::system_now);
                Ok((mfs.touch(root, &path, t).map_err(mfs_err)?, ()))
            })
        })
        .await
    }

    /// `files chroot`: replaces the root (by default with the empty directory).
    /// The new root must be a local UnixFS directory.
    pub async fn chroot(&self, new: Option<Cid>) -> Result<Chroot, NodeError> {
        self.blocking(move |api| {
            let _serial = api.node.mfs_lock();
            let _gc = api.node.gc_read();
            let empty = parse_cid(EMPTY_DIR)?;
            let new = new.unwrap_or(empty);
            let bad = |m: String| NodeError::InvalidInput(m);
            match api.node.blockstore().get(&new)? {
                None if new == empty => {}
                None => {
                    return Err(bad(format!(
                        "new root {new} does not exist locally; fetch it first with 'ipfs block get'"
                    )));
                }
                Some(b) => {
                    let pb = PbNode::decode(b.data())
                        .map_err(|e| bad(format!("new root is not a valid dag-pb node: {e}")))?;
                    let raw = pb.data.unwrap_or_default();
                    let d = Data::decode(&raw).map_err(|e| bad(format!("new root is not a valid UnixFS node: {e}")))?;
                    if !matches!(d.kind, DataType::Directory | DataType::HamtShard) {
                        return Err(bad(format!("new root must be a directory, got {}", go_type_name(d.kind))));
                    }
                }
            }
            let old = api.node.files_root()?;
            api.persist(&new)?;
            Ok(Chroot { old, new })
        })
        .await
    }

    /// `add --to-files`: links an added item (`name`, the CID of its root)
    /// into MFS at `to_files`, with Kubo's rules: a destination ending in `/`
    /// is an existing directory the item goes into under its name; otherwise
    /// it is the new entry's path, so only one item can go there (`linked`:
    /// an earlier item was already linked).
    pub async fn add_to_files(&self, to_files: String, name: String, cid: Cid, linked: bool) -> Result<(), NodeError> {
        self.blocking(move |api| {
            let bad = |m: String| NodeError::InvalidInput(format!("to-files: {m}"));
            if name.is_empty() {
                return Err(bad("cannot add unnamed files to MFS".into()));
            }
            let to = if to_files.is_empty() { "/".to_string() } else { to_files };
            let mut dst = rubo_mfs::check_path(&to).map_err(|e| bad(e.to_string()))?;
            let as_dir = dst.ends_with('/');
            api.mutate(|mfs, root, _| {
                if as_dir {
                    let st = mfs
                        .stat(root, &dst, false)
                        .map_err(|e| bad(format!("MFS destination directory {} does not exist: {e}", quote(&dst))))?;
                    if st.kind != StatType::Directory {
                        return Err(bad(format!("MFS destination {} is not a directory", quote(&dst))));
                    }
                    dst.push_str(&rubo_mfs::path::base(&name));
                }
                if linked && !as_dir {
                    return Err(bad(format!(
                        "MFS destination is a file: only one entry can be copied to {}",
                        quote(&dst)
                    )));
                }
                let parent = rubo_mfs::path::dir(&dst);
                mfs.stat(root, &parent, false).map_err(|e| {
                    bad(format!("MFS destination parent {} {} does not exist: {e}", quote(&dst), quote(&parent)))
                })?;
                let canonical = format!("/ipfs/{cid}");
                let source = CpSource::Content { path: &canonical, cid };
                let new = mfs.cp(root, source, &dst, &CpOptions::default()).map_err(|e| match e {
                    MfsError::CpPut { source, .. } => bad(format!("cannot put node in path {}: {source}", quote(&dst))),
                    e => mfs_err(e),
                })?;
                Ok((new, ()))
            })
        })
        .await
    }
}

/// Go's names of UnixFS types (`pb.Data_DataType.String()`).
fn go_type_name(t: DataType) -> &'static str {
    match t {
        DataType::Raw => "Raw",
        DataType::Directory => "Directory",
        DataType::File => "File",
        DataType::Metadata => "Metadata",
        DataType::Symlink => "Symlink",
        DataType::HamtShard => "HAMTShard",
    }
}

impl Node {
    /// The Files API (MFS).
    pub fn files(&self) -> FilesApi {
        FilesApi { node: self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_announces_the_entries_it_wrote_not_their_chunks() {
        let block = |codec: u64, data: Vec<u8>| Block::new_unchecked(Cid::new_v1(codec, hash::sha2_256(&data)), data);
        let pb = |kind: DataType, links: &[Cid]| {
            let node = PbNode {
                links: links.iter().map(|c| rubo_types::dagpb::PbLink::new(*c, "n", 1)).collect(),
                data: Some(Data::new(kind).encode().into()),
            };
            block(rubo_types::codec::DAG_PB, node.encode())
        };
        let chunks = [block(rubo_types::codec::RAW, b"one".to_vec()), block(rubo_types::codec::RAW, b"two".to_vec())];
        let file = pb(DataType::File, &[*chunks[0].cid(), *chunks[1].cid()]);
        // An entry that was there before: linked, not written by this change.
        let kept = Cid::new_v1(rubo_types::codec::RAW, hash::sha2_256(b"kept"));
        let sub = pb(DataType::Directory, &[*file.cid(), kept]);
        let root = pb(DataType::Directory, &[*sub.cid()]);
        let mut w = Written::default();
        w.record(&[chunks[0].clone(), chunks[1].clone(), file.clone()]);
        w.record(&[sub.clone(), root.clone()]);
        let mut got = w.announced(root.cid());
        got.sort_by_key(rubo_types::Multihash::to_bytes);
        let mut want: Vec<_> = [&root, &sub, &file].iter().map(|b| *b.cid().hash()).collect();
        want.sort_by_key(rubo_types::Multihash::to_bytes);
        assert_eq!(got, want);
    }

    #[test]
    fn prefixes_like_kubo() {
        assert_eq!(cid_prefix(None, None).unwrap(), None);
        let p = cid_prefix(Some(1), None).unwrap().unwrap();
        assert_eq!((p.version, p.hash), (Version::V1, hash::SHA2_256));
        // A hash implies CIDv1, even with --cid-version=0.
        let p = cid_prefix(Some(0), Some("Blake2b-256")).unwrap().unwrap();
        assert_eq!(p.version, Version::V1);
        assert_eq!(cid_prefix(Some(2), None).unwrap_err().to_string(), "unknown CID version: 2");
        assert_eq!(cid_prefix(None, Some("nope")).unwrap_err().to_string(), "unrecognized hash function: \"nope\"");
        let cfg = ImportConfig { hash_function: Some("sha2-512".into()), ..Default::default() };
        assert_eq!(import_prefix(&cfg).unwrap().version, Version::V1);
        let cfg = ImportConfig { cid_version: Some(7), ..Default::default() };
        assert!(import_prefix(&cfg).is_err());
    }

    #[test]
    fn config_from_import() {
        let cfg = ImportConfig {
            hamt_size_threshold: Some(Value::String("1KiB".into())),
            hamt_size_estimation: Some("block".into()),
            chunker: Some("size-1024".into()),
            raw_leaves: Some(true),
            ..Default::default()
        };
        let (c, raw) = mfs_config(&cfg).unwrap();
        assert_eq!(c.hamt_threshold, 1024);
        assert_eq!(c.estimation, SizeEstimation::Block);
        assert_eq!(c.chunker, ChunkerSpec::Size(1024));
        assert_eq!(raw, Some(true));
        let (c, raw) = mfs_config(&ImportConfig::default()).unwrap();
        assert_eq!(c.hamt_threshold, 256 * 1024);
        assert_eq!(raw, None);
        assert!(mfs_config(&ImportConfig { hamt_size_estimation: Some("x".into()), ..Default::default() }).is_err());
    }

    #[test]
    fn content_paths() {
        let c = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";
        assert!(content_path("/cats").is_none());
        // Not a CID: Kubo treats it as an MFS path.
        assert!(content_path("/ipfs/notacid").is_none());
        let (_, canon) = content_path(&format!("ipfs://{c}/a")).unwrap().unwrap();
        assert_eq!(canon, format!("/ipfs/{c}/a"));
        assert!(content_path("/ipns/example.com").unwrap().is_err());
    }
}
