//! The importer: files and trees in, UnixFS DAGs out, in Kubo's order.
//!
//! Hashing is parallel: the thread that reads and chunks a file hands chunks to
//! a pool of hashing threads and assembles their leaves, in order, into the
//! file's DAG. At most a few chunks per thread are in flight, so memory stays
//! bounded whatever the file size. Blocks leave through `sink` (children before
//! parents); events (progress, added) through `events`.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender, bounded};
use rubo_types::dagpb::PbNode;
use rubo_types::{BStr, BString, Block, ByteSlice, Cid};

use crate::DirEntry;
use crate::chunker::{ChunkerSpec, new_chunker};
use crate::dir::{DirOptions, build_directory};
use crate::file::{BuildError, Built, FileOptions, LeafBlock, build_file, leaf};
use crate::pb::{Data, DataType, UnixTime};

/// Kubo's progress step (`progressReaderIncrement`).
pub const PROGRESS_STEP: u64 = 256 * 1024;
/// Chunks smaller than this are hashed by the reading thread itself: handing
/// them to the pool would cost more than hashing them.
const INLINE_HASH_MAX: usize = 16 * 1024;

/// Everything that decides the CIDs of an import.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImportOptions {
    pub file: FileOptions,
    pub chunker: ChunkerSpec,
    pub dir: DirOptions,
    /// Keep empty directories (Kubo's `-E`, default true). The top level is always kept.
    pub include_empty_dirs: bool,
}

/// What an entry is.
pub enum EntryKind {
    File(Box<dyn Read + Send>),
    Dir,
    /// The target, as bytes.
    Symlink(BString),
}

/// One item of a tree to import, in walk order (a directory before its
/// children, siblings sorted by name). `path` is relative to the import's top
/// level, `/`-separated; the top-level item's path is its own name (or empty).
/// Paths are bytes: file names need not be UTF-8.
pub struct Entry {
    pub path: BString,
    pub kind: EntryKind,
    pub mode: Option<u32>,
    pub mtime: Option<UnixTime>,
}

/// What the importer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Bytes of `path` read so far (every 256 KiB and at the end).
    Progress { path: BString, bytes: u64 },
    /// A file, symlink or directory is done. `size` is its DAG's cumulative size.
    Added { path: BString, cid: Cid, size: u64 },
}

/// Why an import failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Block(#[from] rubo_types::BlockError),
    #[error("reading {path}: {source}")]
    Read { path: BString, source: std::io::Error },
    #[error("{0}")]
    Dir(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Sink(String),
}

type Job = (u64, Bytes);
type Done = (u64, Result<LeafBlock, rubo_types::BlockError>);
/// A chunk to hash, where to send its leaf, and how to build it.
type Work = (Job, Sender<Done>, Arc<FileOptions>);

/// Hashing threads shared by all files of an import.
pub struct HashPool {
    jobs: Option<Sender<Work>>,
    threads: Vec<JoinHandle<()>>,
    size: usize,
}

impl HashPool {
    /// `threads` hashing threads (at least one).
    pub fn new(threads: usize) -> Self {
        let size = threads.max(1);
        let (tx, rx) = bounded::<Work>(size * 2);
        let threads = (0..size)
            .map(|_| {
                let rx: Receiver<Work> = rx.clone();
                std::thread::spawn(move || {
                    for ((seq, chunk), reply, opts) in rx {
                        let _ = reply.send((seq, leaf(chunk, &opts)));
                    }
                })
            })
            .collect();
        Self { jobs: Some(tx), threads, size }
    }

    /// As many threads as the machine has cores.
    pub fn per_core() -> Self {
        Self::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
    }
}

impl Drop for HashPool {
    fn drop(&mut self) {
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Leaves of one file, in order, hashed by the pool while the next chunks are read.
struct PooledLeaves<'a> {
    chunks: Box<dyn crate::chunker::Chunker>,
    pool: &'a HashPool,
    opts: Arc<FileOptions>,
    reply_tx: Sender<Done>,
    reply_rx: Receiver<Done>,
    next_send: u64,
    next_yield: u64,
    ready: BTreeMap<u64, Result<LeafBlock, rubo_types::BlockError>>,
    eof: bool,
    read: u64,
    last_progress: u64,
    path: &'a BStr,
    events: &'a mut dyn FnMut(Event) -> Result<(), ImportError>,
    error: Option<ImportError>,
}

impl PooledLeaves<'_> {
    fn fill(&mut self) -> Result<(), ImportError> {
        let window = (self.pool.size * 2) as u64;
        while !self.eof && self.next_send - self.next_yield < window {
            let chunk =
                self.chunks.next_chunk().map_err(|source| ImportError::Read { path: self.path.to_owned(), source })?;
            let Some(chunk) = chunk else {
                self.eof = true;
                if self.read == 0 || self.read != self.last_progress {
                    (self.events)(Event::Progress { path: self.path.to_owned(), bytes: self.read })?;
                }
                break;
            };
            self.read += chunk.len() as u64;
            if self.read - self.last_progress >= PROGRESS_STEP {
                self.last_progress = self.read;
                (self.events)(Event::Progress { path: self.path.to_owned(), bytes: self.read })?;
            }
            let seq = self.next_send;
            self.next_send += 1;
            let jobs = self.pool.jobs.as_ref();
            if chunk.len() <= INLINE_HASH_MAX || jobs.is_none() {
                self.ready.insert(seq, leaf(chunk, &self.opts));
            } else if let Some(jobs) = jobs {
                jobs.send(((seq, chunk), self.reply_tx.clone(), self.opts.clone()))
                    .map_err(|_| ImportError::Sink("hashing threads stopped".into()))?;
            }
        }
        Ok(())
    }

    fn next_leaf(&mut self) -> Result<Option<LeafBlock>, ImportError> {
        self.fill()?;
        if self.next_yield == self.next_send {
            return Ok(None);
        }
        while !self.ready.contains_key(&self.next_yield) {
            let (seq, res) = self.reply_rx.recv().map_err(|_| ImportError::Sink("hashing threads stopped".into()))?;
            self.ready.insert(seq, res);
        }
        let res = self.ready.remove(&self.next_yield).ok_or_else(|| ImportError::Sink("lost a chunk".into()))?;
        self.next_yield += 1;
        Ok(Some(res?))
    }
}

impl Iterator for PooledLeaves<'_> {
    type Item = Result<LeafBlock, BuildError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_leaf() {
            Ok(Some(l)) => Some(Ok(l)),
            Ok(None) => None,
            Err(e) => {
                let msg = e.to_string();
                self.error = Some(e);
                Some(Err(BuildError::Source(msg)))
            }
        }
    }
}

/// Imports one file's bytes. Returns its root (already emitted).
pub fn import_file(
    reader: Box<dyn Read + Send>,
    path: &BStr,
    opts: &ImportOptions,
    file_opts: &FileOptions,
    pool: &HashPool,
    sink: &mut dyn FnMut(Block) -> Result<(), ImportError>,
    events: &mut dyn FnMut(Event) -> Result<(), ImportError>,
) -> Result<Built, ImportError> {
    let (reply_tx, reply_rx) = bounded(pool.size * 2 + 1);
    let mut leaves = PooledLeaves {
        chunks: new_chunker(&opts.chunker, reader),
        pool,
        opts: Arc::new(file_opts.clone()),
        reply_tx,
        reply_rx,
        next_send: 0,
        next_yield: 0,
        ready: BTreeMap::new(),
        eof: false,
        read: 0,
        last_progress: 0,
        path,
        events,
        error: None,
    };
    let mut sink_err = None;
    let mut bsink = |b: Block| -> Result<(), BuildError> {
        sink(b).map_err(|e| {
            let m = e.to_string();
            sink_err = Some(e);
            BuildError::Sink(m)
        })
    };
    let res = build_file(&mut leaves, file_opts, &mut bsink);
    match res {
        Ok(b) => Ok(b),
        Err(e) => Err(leaves.error.take().or(sink_err).unwrap_or(ImportError::Build(e))),
    }
}

fn duplicate(name: &BStr) -> ImportError {
    ImportError::Invalid(format!("directory already has entry by that name: {name:?}"))
}

fn trim_slashes(p: &[u8]) -> &[u8] {
    let start = p.iter().position(|&b| b != b'/').unwrap_or(p.len());
    let end = p.iter().rposition(|&b| b != b'/').map_or(start, |i| i + 1);
    &p[start..end.max(start)]
}

/// A directory under construction.
#[derive(Default)]
struct DirTree {
    children: BTreeMap<BString, Node>,
    /// Seen as an entry of its own (not only made as the parent of one).
    explicit: bool,
    mode: Option<u32>,
    mtime: Option<UnixTime>,
}

enum Node {
    Leaf(Built),
    Dir(DirTree),
}

/// Imports one top-level item (a file, symlink or directory tree) from its
/// entries in walk order, as Kubo's adder does for each argument of `add`.
pub struct Importer<'a> {
    opts: &'a ImportOptions,
    pool: &'a HashPool,
    sink: &'a mut dyn FnMut(Block) -> Result<(), ImportError>,
    events: &'a mut dyn FnMut(Event) -> Result<(), ImportError>,
    /// The wrapping root: the top-level item is its child.
    root: DirTree,
    top_is_dir: bool,
    seen_top: bool,
    top_name: BString,
}

impl<'a> Importer<'a> {
    pub fn new(
        opts: &'a ImportOptions,
        pool: &'a HashPool,
        sink: &'a mut dyn FnMut(Block) -> Result<(), ImportError>,
        events: &'a mut dyn FnMut(Event) -> Result<(), ImportError>,
    ) -> Self {
        Self {
            opts,
            pool,
            sink,
            events,
            root: DirTree::default(),
            top_is_dir: false,
            seen_top: false,
            top_name: BString::default(),
        }
    }

    fn file_opts(&self, mode: Option<u32>, mtime: Option<UnixTime>) -> FileOptions {
        let mut f = self.opts.file.clone();
        if mode.is_some() || mtime.is_some() {
            f.mode = mode;
            f.mtime = mtime;
            // Attributes live in dag-pb nodes: they rule out raw leaves (Kubo).
            f.raw_leaves = false;
        }
        f
    }

    fn dir_at(&mut self, parts: &[&[u8]]) -> Result<&mut DirTree, ImportError> {
        let mut cur = &mut self.root;
        for p in parts {
            let node = cur.children.entry(BString::from(*p)).or_insert_with(|| Node::Dir(DirTree::default()));
            cur = match node {
                Node::Dir(d) => d,
                Node::Leaf(_) => return Err(ImportError::Invalid(format!("{:?} is not a directory", p.as_bstr()))),
            };
        }
        Ok(cur)
    }

    /// Puts a leaf under its parent; a name may be used once (MFS's
    /// `AddChild`, through which Kubo's adder goes, refuses a second one).
    fn insert_leaf(&mut self, parents: &[&[u8]], name: BString, built: Built) -> Result<(), ImportError> {
        match self.dir_at(parents)?.children.entry(name) {
            std::collections::btree_map::Entry::Occupied(o) => Err(duplicate(o.key().as_bstr())),
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(Node::Leaf(built));
                Ok(())
            }
        }
    }

    /// Adds the next entry.
    pub fn add(&mut self, entry: Entry) -> Result<(), ImportError> {
        let path = BString::from(trim_slashes(&entry.path));
        let parts: Vec<&[u8]> = if path.is_empty() { vec![] } else { path.split_str("/").collect() };
        if parts.iter().any(|p| p.is_empty() || *p == b"." || *p == b"..") {
            return Err(ImportError::Invalid(format!("invalid path {path:?}")));
        }
        if !self.seen_top {
            self.seen_top = true;
            // `dir/a.txt` first, with no `dir` entry before it (API clients
            // send only files): `dir` is an implicit top-level directory.
            self.top_is_dir = matches!(entry.kind, EntryKind::Dir) || parts.len() > 1;
            self.top_name = parts.first().map_or_else(BString::default, |p| BString::from(*p));
        }
        let Some((name, parents)) = parts.split_last() else {
            // The top level itself, unnamed (stdin, or a directory given as ".").
            let built = match entry.kind {
                EntryKind::Dir => {
                    if std::mem::replace(&mut self.root.explicit, true) {
                        return Err(duplicate(b"".as_bstr()));
                    }
                    self.root.mode = entry.mode;
                    self.root.mtime = entry.mtime;
                    return Ok(());
                }
                EntryKind::File(r) => self.import_leaf_file(r, b"".as_bstr(), entry.mode, entry.mtime)?,
                EntryKind::Symlink(t) => self.symlink(&t, entry.mtime)?,
            };
            let label = BString::from(built.cid.to_string());
            (self.events)(Event::Added { path: label.clone(), cid: built.cid, size: built.tsize })?;
            return self.insert_leaf(&[], label, built);
        };
        let name = BString::from(*name);
        let parents: Vec<&[u8]> = parents.to_vec();
        let built = match entry.kind {
            EntryKind::Dir => {
                let d = self.dir_at(&parts)?;
                if std::mem::replace(&mut d.explicit, true) {
                    return Err(duplicate(name.as_bstr()));
                }
                d.mode = entry.mode;
                d.mtime = entry.mtime;
                return Ok(());
            }
            EntryKind::File(r) => self.import_leaf_file(r, path.as_bstr(), entry.mode, entry.mtime)?,
            EntryKind::Symlink(t) => self.symlink(&t, entry.mtime)?,
        };
        (self.events)(Event::Added { path: path.clone(), cid: built.cid, size: built.tsize })?;
        self.insert_leaf(&parents, name, built)
    }

    fn import_leaf_file(
        &mut self,
        r: Box<dyn Read + Send>,
        path: &BStr,
        mode: Option<u32>,
        mtime: Option<UnixTime>,
    ) -> Result<Built, ImportError> {
        let fo = self.file_opts(mode, mtime);
        import_file(r, path, self.opts, &fo, self.pool, self.sink, self.events)
    }

    fn symlink(&mut self, target: &[u8], mtime: Option<UnixTime>) -> Result<Built, ImportError> {
        let mut d = Data::new(DataType::Symlink);
        d.data = Some(Bytes::copy_from_slice(target));
        d.mtime = mtime;
        let node = PbNode::with_data(d.encode());
        let block = self.opts.file.prefix.dag_pb(node.encode())?;
        let built = Built { cid: *block.cid(), tsize: block.len() as u64, filesize: 0 };
        (self.sink)(block)?;
        Ok(built)
    }

    /// Builds the directories (children before parents, names in order),
    /// reporting each, and returns the top-level root: the file itself, the
    /// directory, or with `wrap` a directory holding the top-level item.
    pub fn finish(mut self, wrap: bool) -> Result<Option<Built>, ImportError> {
        let root = std::mem::take(&mut self.root);
        if wrap {
            let built = self.build_dir(BString::default(), root)?;
            return Ok(Some(built));
        }
        let mut children = root.children;
        if !self.top_is_dir {
            return match children.into_values().next() {
                Some(Node::Leaf(b)) => Ok(Some(b)),
                Some(Node::Dir(_)) => Err(ImportError::Invalid("a file entry turned into a directory".into())),
                None => Ok(None),
            };
        }
        if self.top_name.is_empty() {
            // An unnamed top-level directory: the root is it.
            let dir = DirTree { children, explicit: true, mode: root.mode, mtime: root.mtime };
            return self.build_dir(BString::default(), dir).map(Some);
        }
        let top = self.top_name.clone();
        match children.remove(&top) {
            Some(Node::Dir(d)) => self.build_dir(top, d).map(Some),
            Some(Node::Leaf(b)) => Ok(Some(b)),
            None => Ok(None),
        }
    }

    fn build_dir(&mut self, path: BString, tree: DirTree) -> Result<Built, ImportError> {
        let mut entries = Vec::with_capacity(tree.children.len());
        for (name, node) in tree.children {
            let built = match node {
                Node::Leaf(b) => b,
                Node::Dir(d) => {
                    if d.children.is_empty() && !self.opts.include_empty_dirs {
                        continue;
                    }
                    let child_path = if path.is_empty() {
                        name.clone()
                    } else {
                        let mut p = path.clone();
                        p.push(b'/');
                        p.extend_from_slice(&name);
                        p
                    };
                    self.build_dir(child_path, d)?
                }
            };
            entries.push(DirEntry { name, cid: built.cid, tsize: built.tsize });
        }
        let mut dopts = self.opts.dir.clone();
        dopts.mode = tree.mode;
        dopts.mtime = tree.mtime;
        let sink = &mut *self.sink;
        let mut put = |b: Block| sink(b);
        let (cid, tsize) = build_directory(entries, &dopts, &mut put).map_err(|e| ImportError::Dir(e.to_string()))?;
        (self.events)(Event::Added { path, cid, size: tsize })?;
        Ok(Built { cid, tsize, filesize: 0 })
    }
}
