//! The UnixFS API: add, cat, ls, get, resolve.

use std::cell::RefCell;
use std::collections::VecDeque;

use rubo_types::{BString, Block, Bytes, Cid, codec};
use rubo_unixfs::export::{self, ExportError, NodeKind};
use rubo_unixfs::import::{Entry, Event, HashPool, ImportError, ImportOptions, Importer};
use rubo_unixfs::pb::UnixTime;
use tokio::sync::mpsc;

use crate::path::IpfsPath;
use crate::writer::BlockWriter;
use crate::{Node, NodeError};

/// How `add` imports.
#[derive(Debug, Clone)]
pub struct AddOptions {
    pub import: ImportOptions,
    /// Wrap everything in one directory (`-w`).
    pub wrap: bool,
    /// Compute CIDs without storing anything (`-n`).
    pub only_hash: bool,
    /// Hashing threads (0: one per core).
    pub threads: usize,
    /// Pin each top-level root recursively, with this name.
    pub pin: Option<String>,
}

/// What an import reports (Kubo's `AddEvent`, before formatting).
pub type AddEvent = Event;

/// Entries to import, in walk order.
pub type AddEntries = Box<dyn Iterator<Item = Result<Entry, NodeError>> + Send>;

/// A directory entry as `ls` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LsEntry {
    pub name: BString,
    pub cid: Cid,
    /// File size when resolved, else the link's cumulative size.
    pub size: u64,
    pub kind: LsKind,
    pub target: BString,
    pub mode: Option<u32>,
    pub mtime: Option<UnixTime>,
}

/// UnixFS types as Kubo's `ls` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LsKind {
    /// Not resolved (`--resolve-type=false` on a dag-pb child).
    Unknown,
    File,
    Directory,
    Symlink,
}

/// The UnixFS API of a node.
#[derive(Clone)]
pub struct UnixfsApi {
    pub(crate) node: Node,
}

fn import_err(e: ImportError) -> NodeError {
    match e {
        ImportError::Read { .. } | ImportError::Invalid(_) => NodeError::InvalidInput(e.to_string()),
        e => NodeError::Internal(e.to_string()),
    }
}

fn export_err(e: ExportError<NodeError>) -> NodeError {
    match e {
        ExportError::Get(e) => e,
        ExportError::IsDir(_) => NodeError::InvalidInput("this dag node is a directory".into()),
        ExportError::NotDir(c) => NodeError::InvalidInput(format!("{c} is not a directory")),
        ExportError::NoLink { name, .. } => NodeError::InvalidInput(format!("no link named {name:?}")),
        e => NodeError::InvalidInput(e.to_string()),
    }
}

/// Groups a flat entry stream into top-level items: each argument of `add`
/// is imported (and reported) on its own, as Kubo does.
fn top_of(path: &[u8]) -> &[u8] {
    let start = path.iter().position(|&b| b != b'/').unwrap_or(path.len());
    let rest = &path[start..];
    rest.split(|&b| b == b'/').next().unwrap_or_default()
}

impl UnixfsApi {
    /// Imports entries. Returns a stream of events; each `Added` event arrives
    /// only once every block under it is durable (or, with `only_hash`, at once).
    pub fn add(&self, entries: AddEntries, opts: AddOptions) -> mpsc::Receiver<Result<AddEvent, NodeError>> {
        let (tx, rx) = mpsc::channel(crate::STREAM_BUFFER);
        let node = self.node.clone();
        std::thread::spawn(move || {
            let res = run_add(entries, &opts, &node, &tx);
            if let Err(e) = res {
                let _ = tx.blocking_send(Err(e));
            }
        });
        rx
    }

    /// A block through the block service, or "not found".
    pub(crate) fn get_block(&self, cid: &Cid) -> Result<Block, NodeError> {
        let bs = self.node.blockstore();
        bs.get(cid)?.ok_or_else(|| NodeError::not_found(cid))
    }

    /// Follows a path to its CID.
    pub async fn resolve(&self, path: &IpfsPath) -> Result<Cid, NodeError> {
        let api = self.clone();
        let path = path.clone();
        tokio::task::spawn_blocking(move || api.resolve_blocking(&path)).await?
    }

    pub(crate) fn resolve_blocking(&self, path: &IpfsPath) -> Result<Cid, NodeError> {
        let names: Vec<&str> = path.rest.iter().map(String::as_str).collect();
        let mut get = |c: &Cid| self.get_block(c);
        export::resolve(&path.root, &names, &mut get).map_err(export_err)
    }

    /// Streams a file's bytes `[offset, offset + length)`.
    pub async fn cat(
        &self,
        path: &IpfsPath,
        offset: u64,
        length: Option<u64>,
    ) -> Result<mpsc::Receiver<Result<Bytes, NodeError>>, NodeError> {
        let cid = self.resolve(path).await?;
        let api = self.clone();
        // Fail before streaming if the root is not a file.
        let root = {
            let api = api.clone();
            tokio::task::spawn_blocking(move || api.get_block(&cid)).await??
        };
        match export::decode::<NodeError>(&root).map_err(export_err)?.kind {
            NodeKind::File { .. } => {}
            NodeKind::Directory | NodeKind::HamtDirectory => {
                return Err(NodeError::InvalidInput("this dag node is a directory".into()));
            }
            _ => return Err(NodeError::InvalidInput(format!("{cid} is not a unixfs file"))),
        }
        let (tx, rx) = mpsc::channel(8);
        tokio::task::spawn_blocking(move || {
            let mut get = |c: &Cid| api.get_block(c);
            let mut out = |b: Bytes| tx.blocking_send(Ok(b)).map_err(|_| "reader went away".to_string());
            if let Err(e) = export::read_file(&root, offset, length, &mut get, &mut out) {
                let _ = tx.blocking_send(Err(export_err(e)));
            }
        });
        Ok(rx)
    }

    /// What a CID is, decoded.
    pub async fn stat(&self, cid: &Cid) -> Result<export::Node, NodeError> {
        let api = self.clone();
        let c = *cid;
        tokio::task::spawn_blocking(move || {
            let b = api.get_block(&c)?;
            export::decode::<NodeError>(&b).map_err(export_err)
        })
        .await?
    }

    /// The entries of a directory, with types and sizes resolved when asked.
    pub async fn ls(&self, cid: &Cid, resolve: bool) -> Result<Vec<LsEntry>, NodeError> {
        let api = self.clone();
        let c = *cid;
        tokio::task::spawn_blocking(move || api.ls_blocking(&c, resolve)).await?
    }

    /// What `ls` lists under `cid`, as Kubo's `Unixfs().Ls`: a directory's
    /// entries (basic or HAMT); for any other node its links (a file's
    /// chunks, a dag-cbor node's CIDs; a raw block has none), with types and
    /// sizes resolved when asked.
    pub(crate) fn ls_blocking(&self, cid: &Cid, resolve: bool) -> Result<Vec<LsEntry>, NodeError> {
        let root = self.get_block(cid)?;
        // (name, cid, size the parent records for the link)
        let links: Vec<(BString, Cid, u64)> = match cid.codec() {
            codec::RAW => Vec::new(),
            codec::DAG_PB => {
                let n = export::decode::<NodeError>(&root).map_err(export_err)?;
                match (&n.kind, &n.data) {
                    (NodeKind::Directory | NodeKind::HamtDirectory, _) => {
                        let mut get = |c: &Cid| self.get_block(c);
                        export::list_dir(&root, &mut get)
                            .map_err(export_err)?
                            .into_iter()
                            .map(|e| (e.name, e.cid, e.tsize))
                            .collect()
                    }
                    // dag-pb without UnixFS data: boxo cannot read its type either.
                    (_, None) => {
                        return Err(NodeError::InvalidInput(format!("{cid} is not a UnixFS node (no Data)")));
                    }
                    _ => {
                        n.pb.map(|pb| pb.links)
                            .unwrap_or_default()
                            .into_iter()
                            .map(|l| (l.name.unwrap_or_default(), l.cid, l.tsize.unwrap_or(0)))
                            .collect()
                    }
                }
            }
            // Other codecs: the CIDs the data holds, unnamed and unsized (go-ipld-legacy).
            _ => rubo_dag::links::block_links(&root)
                .map_err(|e| NodeError::InvalidInput(format!("{cid}: {e}")))?
                .into_iter()
                .map(|c| (BString::default(), c, 0))
                .collect(),
        };
        let mut out = Vec::with_capacity(links.len());
        for (name, cid, tsize) in links {
            // boxo's processLink: sizes only for raw children (the link's) and
            // resolved dag-pb ones (the file size); 0 otherwise.
            let mut item = LsEntry {
                name,
                cid,
                size: 0,
                kind: LsKind::Unknown,
                target: BString::default(),
                mode: None,
                mtime: None,
            };
            if cid.codec() == codec::RAW {
                item.kind = LsKind::File;
                item.size = tsize;
            } else if resolve && cid.codec() == codec::DAG_PB {
                let b = self.get_block(&cid)?;
                let n = export::decode::<NodeError>(&b).map_err(export_err)?;
                if n.data.is_none() {
                    return Err(NodeError::InvalidInput(format!("{cid} is not a UnixFS node (no Data)")));
                }
                item.mode = n.mode;
                item.mtime = n.mtime;
                (item.kind, item.size) = match n.kind {
                    NodeKind::File { size } => (LsKind::File, size),
                    NodeKind::Directory | NodeKind::HamtDirectory | NodeKind::Other => (LsKind::Directory, 0),
                    NodeKind::Symlink { target } => {
                        item.target = target;
                        (LsKind::Symlink, 0)
                    }
                };
            }
            out.push(item);
        }
        Ok(out)
    }
}

fn run_add(
    entries: AddEntries,
    opts: &AddOptions,
    node: &Node,
    tx: &mpsc::Sender<Result<AddEvent, NodeError>>,
) -> Result<(), NodeError> {
    // No GC between the first block written and the root pinned.
    let _gc = (!opts.only_hash).then(|| node.gc_read());
    let store = node.blockstore();
    let pool = if opts.threads == 0 { HashPool::per_core() } else { HashPool::new(opts.threads) };
    let writer = RefCell::new(if opts.only_hash { None } else { Some(BlockWriter::new(store)) });
    // `Added` events wait here until their blocks are durable.
    let pending: RefCell<VecDeque<(u64, AddEvent)>> = RefCell::new(VecDeque::new());
    let send = |e: AddEvent| tx.blocking_send(Ok(e)).map_err(|_| ImportError::Sink("the caller went away".into()));
    let release = |all: bool| -> Result<(), ImportError> {
        let durable = writer.borrow().as_ref().map_or(u64::MAX, |w| w.durable());
        let mut p = pending.borrow_mut();
        while let Some((needed, _)) = p.front() {
            if !all && *needed > durable {
                break;
            }
            if let Some((_, e)) = p.pop_front() {
                send(e)?;
            }
        }
        Ok(())
    };
    let mut sink = |b: Block| -> Result<(), ImportError> {
        if let Some(w) = writer.borrow_mut().as_mut() {
            w.put(b).map_err(|e| ImportError::Sink(e.to_string()))?;
        }
        Ok(())
    };
    let events = |e: AddEvent| -> Result<(), ImportError> {
        match e {
            Event::Progress { .. } => send(e),
            Event::Added { .. } => {
                let needed = writer.borrow().as_ref().map_or(0, |w| w.sent());
                pending.borrow_mut().push_back((needed, e));
                release(false)
            }
        }
    };
    // Directories are reported after every file, as Kubo's adder does.
    // The importer reports directories from `finish` only.
    let held: RefCell<Vec<AddEvent>> = RefCell::new(Vec::new());
    let finishing = std::cell::Cell::new(false);
    let mut hold_dirs = |e: AddEvent| -> Result<(), ImportError> {
        if finishing.get() && matches!(e, Event::Added { .. }) {
            held.borrow_mut().push(e);
            return Ok(());
        }
        events(e)
    };
    let flush = || -> Result<(), NodeError> {
        if let Some(w) = writer.borrow_mut().as_mut() {
            w.flush()?;
        }
        Ok(())
    };

    // Kubo's adder fails as a whole: an error anywhere (a file that cannot
    // be read, a walk error, a duplicate name) leaves nothing pinned, and the
    // directories' `added` lines, which it prints last, are never printed.
    let mut roots = Vec::new();
    let mut entries = entries.peekable();
    while entries.peek().is_some() {
        let mut importer = Importer::new(&opts.import, &pool, &mut sink, &mut hold_dirs);
        let mut top: Option<Vec<u8>> = None;
        while let Some(next) = entries.peek() {
            let this_top = match next {
                Ok(e) => top_of(&e.path).to_vec(),
                Err(_) => Vec::new(),
            };
            if !opts.wrap && top.as_ref().is_some_and(|t| *t != this_top || t.is_empty()) {
                break;
            }
            top.get_or_insert(this_top);
            let Some(entry) = entries.next() else { break };
            importer.add(entry?).map_err(import_err)?;
        }
        finishing.set(true);
        let root = importer.finish(opts.wrap).map_err(import_err)?;
        finishing.set(false);
        roots.extend(root);
    }
    flush()?;
    if let (Some(name), false) = (&opts.pin, opts.only_hash) {
        for root in &roots {
            node.pin().add_recursive_trusted(&root.cid, name)?;
        }
    }
    for e in held.into_inner() {
        events(e).map_err(import_err)?;
    }
    release(true).map_err(import_err)?;
    Ok(())
}
