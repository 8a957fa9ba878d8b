//! The DAG API: IPLD objects in and out (`dag put/get/resolve/stat`) and whole
//! DAGs as CAR streams (`dag export/import`), with Kubo's semantics.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use rubo_dag::car::{CarReader, CarReaderOptions, CarWriter};
use rubo_dag::codec::dagpb::RawPbNode;
use rubo_dag::path::{PbLookup, PbStep, split_path};
use rubo_dag::{
    BlockSource, CarError, Codec, DagWalker, Dedup, PathMode, PbForm, ResolveError, Resolver, Section, SourceError,
    WalkOptions,
};
use rubo_repo::Blockstore;
use rubo_types::{BLOCK_SIZE_LIMIT, Block, Cid, Version, codec, hash, parse_cid};
use tokio::sync::mpsc;

use crate::writer::BlockWriter;
use crate::{BIG_BLOCK_ERROR, Node, NodeError};

/// go-car's own bound on a section (`--allow-big-block` lifts ours to it).
pub const MAX_CAR_SECTION: usize = 8 << 20;

/// The CAR files of an import, read in turn (pulled lazily, so a stream of
/// uploads is read as it arrives).
pub type ImportFiles = Box<dyn Iterator<Item = Result<Box<dyn Read + Send>, NodeError>> + Send>;

/// Blocks from the node's store, for the walkers and resolvers of rubo-dag.
/// Offline: an absent block is `None`, at once.
#[derive(Clone)]
pub struct NodeSource {
    bs: Arc<dyn Blockstore>,
}

impl NodeSource {
    pub fn new(bs: Arc<dyn Blockstore>) -> Self {
        Self { bs }
    }
}

impl BlockSource for NodeSource {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, SourceError> {
        Ok(self.bs.get(cid)?)
    }
}

/// UnixFS path lookup as Kubo's resolver does it: by link name in directories
/// and plain dag-pb nodes, through HAMT shards, and not into files.
#[derive(Debug, Clone, Copy, Default)]
pub struct UnixfsLookup;

impl PbLookup for UnixfsLookup {
    fn lookup(&self, src: &dyn BlockSource, cid: &Cid, node: &RawPbNode, name: &str) -> Result<PbStep, ResolveError> {
        let is_hamt = node.data.as_ref().and_then(|d| rubo_unixfs::pb::Data::decode(d).ok()).map(|d| d.kind)
            == Some(rubo_unixfs::pb::DataType::HamtShard);
        if !is_hamt {
            return rubo_dag::path::NamedLinks.lookup(src, cid, node, name);
        }
        let load = |c: &Cid| -> Result<Block, ResolveError> {
            rubo_dag::source::load(src, c)
                .map_err(|err| ResolveError::Source { cid: Box::new(*c), err })?
                .ok_or_else(|| ResolveError::NotFound(Box::new(*c)))
        };
        let root = load(cid)?;
        let mut get = |c: &Cid| load(c);
        match rubo_unixfs::dir::lookup(&root, name.as_bytes(), &mut get) {
            Ok(Some(e)) => Ok(PbStep::Link(e.cid)),
            Ok(None) => Ok(PbStep::NotFound),
            Err(rubo_unixfs::dir::DirError::Get(e)) => Err(e),
            Err(e) => Err(ResolveError::Other(e.to_string())),
        }
    }
}

/// A path as `dag` commands take it: `/ipfs/<cid>/...` (UnixFS lookups),
/// `/ipld/<cid>/...` (the data model), or a bare `<cid>/...` (as `/ipfs/`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagPath {
    pub root: Cid,
    pub segments: Vec<String>,
    pub ipld: bool,
}

impl DagPath {
    /// Parses as Kubo's `PathOrCidPath`.
    pub fn parse(s: &str) -> Result<Self, NodeError> {
        let bad = |why: String| NodeError::InvalidInput(format!("invalid path {s:?}: {why}"));
        let (ipld, body) = if let Some(r) = s.strip_prefix("/ipld/") {
            (true, format!("/{r}"))
        } else if let Some(r) = s.strip_prefix("/ipfs/") {
            (false, format!("/{r}"))
        } else if s.starts_with("/ipns/") {
            return Err(bad("IPNS names are not supported yet".into()));
        } else if s.starts_with('/') {
            return Err(bad("path does not have a valid namespace (/ipfs/ or /ipld/)".into()));
        } else {
            (false, format!("/{s}"))
        };
        let mut segments = split_path(&body);
        if segments.is_empty() {
            return Err(bad("path does not have enough components".into()));
        }
        let root = parse_cid(&segments.remove(0)).map_err(|e| bad(e.to_string()))?;
        Ok(Self { root, segments, ipld })
    }
}

/// `dag put`'s choices.
#[derive(Debug, Clone)]
pub struct DagPutOptions {
    pub input_codec: u64,
    pub store_codec: u64,
    pub hash: u64,
    pub pin: bool,
    pub allow_big: bool,
}

/// Where a path led: the last block and the path left inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagResolved {
    pub cid: Cid,
    pub remainder: Vec<String>,
}

/// One root's figures in `dag stat`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DagStat {
    pub cid: Cid,
    pub size: u64,
    pub blocks: u64,
}

/// `dag stat`'s totals (Kubo's `DagStatSummary`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DagStatSummary {
    pub dags: Vec<DagStat>,
    /// Bytes of distinct blocks over every root.
    pub total_size: u64,
    /// Bytes counted with repeats across roots.
    pub redundant_size: u64,
    pub unique_blocks: u64,
}

/// `dag import`'s choices.
#[derive(Debug, Clone)]
pub struct DagImportOptions {
    pub pin_roots: bool,
    pub allow_big: bool,
}

/// What `dag import` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportEvent {
    /// Blocks and bytes stored so far (for a progress bar).
    Progress { blocks: u64, bytes: u64 },
    /// A root of the CARs' headers, and why it could not be pinned, if so.
    Root { cid: Cid, error: Option<String> },
    /// Totals, once every file was read.
    Stats { blocks: u64, bytes: u64 },
}

/// The DAG API of a node.
#[derive(Clone)]
pub struct DagApi {
    pub(crate) node: Node,
}

fn resolve_err(e: ResolveError) -> NodeError {
    match e {
        ResolveError::NotFound(c) => NodeError::BlockNotFound(c),
        ResolveError::Source { cid, err } => NodeError::from_source(&cid, err),
        e @ ResolveError::Decode { .. } => NodeError::Undecodable(e.to_string()),
        e => NodeError::InvalidInput(e.to_string()),
    }
}

fn codec_of(code: u64) -> Result<Codec, NodeError> {
    Codec::from_code(code)
        .ok_or_else(|| NodeError::InvalidInput(format!("no codec registered for multicodec code {code} (0x{code:x})")))
}

/// The async face of [`DagApi`]: what the command handlers and the HTTP
/// faces call. Disk, hashing and network waits run on the blocking pool
/// inside the node; results come back as values or bounded streams.
impl DagApi {
    /// `dag put` (see [`DagApi::put_blocking`]).
    pub async fn put(&self, data: Vec<u8>, opts: DagPutOptions) -> Result<Cid, NodeError> {
        self.node.run_blocking(move |n| n.dag().put_blocking(&data, &opts)).await
    }

    /// boxo's `ResolvePath` (see [`DagApi::resolve_blocking`]).
    pub async fn resolve(&self, path: DagPath) -> Result<DagResolved, NodeError> {
        self.node.run_blocking(move |n| n.dag().resolve_blocking(&path)).await
    }

    /// `dag get` (see [`DagApi::get_blocking`]).
    pub async fn get(&self, path: DagPath, output: u64) -> Result<Vec<u8>, NodeError> {
        self.node.run_blocking(move |n| n.dag().get_blocking(&path, output)).await
    }

    /// `dag stat`: a summary after each block (the last one is the total).
    pub fn stat(&self, roots: Vec<Cid>) -> mpsc::Receiver<Result<DagStatSummary, NodeError>> {
        self.node.stream_blocking(move |n, emit| {
            let last = n.dag().stat_blocking(&roots, &mut |s| emit(s.clone()))?;
            emit(last);
            Ok(())
        })
    }

    /// `dag export`: the CAR as a bounded stream of chunks (about 1 MiB);
    /// the root's block is read (fetched, when online) first, so a missing
    /// root is an error before any byte.
    pub async fn export(
        &self,
        root: Cid,
        local_only: bool,
    ) -> Result<mpsc::Receiver<Result<bytes::Bytes, NodeError>>, NodeError> {
        self.node
            .run_blocking(move |n| n.blockstore().get(&root)?.map(|_| ()).ok_or_else(|| NodeError::not_found(&root)))
            .await?;
        Ok(self.node.stream_blocking(move |n, emit| {
            let mut w = crate::ChunkWriter::new(emit, 1 << 20);
            n.dag().export_to(&root, &mut w, local_only)?;
            w.finish()
        }))
    }

    /// `dag import` (see [`DagApi::import_blocking`]): its events as they come.
    pub fn import(&self, files: ImportFiles, opts: DagImportOptions) -> mpsc::Receiver<Result<ImportEvent, NodeError>> {
        self.node.stream_blocking(move |n, emit| n.dag().import_blocking(files, &opts, emit))
    }

    /// `refs`: each edge under `roots` as the walker finds it. An error is an
    /// item (that root's walk ends, the next one goes on, as in Kubo).
    pub fn refs(
        &self,
        roots: Vec<Cid>,
        opts: rubo_dag::walk::RefsOptions,
    ) -> mpsc::Receiver<Result<rubo_dag::walk::Ref, rubo_dag::WalkError>> {
        let (tx, rx) = mpsc::channel(crate::STREAM_CHANNEL);
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || {
            let src = node.dag().source();
            for item in rubo_dag::walk::RefsWalker::new(&src, roots, opts) {
                if tx.blocking_send(item).is_err() {
                    return;
                }
            }
        });
        rx
    }
}

impl DagApi {
    /// The node's blocks as a [`BlockSource`].
    pub fn source(&self) -> NodeSource {
        NodeSource::new(self.node.blockstore())
    }

    /// Decodes `data` with the input codec, encodes it with the store codec
    /// and stores it under a CIDv1 (Kubo's `dag put`). With `pin`, the object
    /// is pinned recursively as it is (its links need not be local, as in Kubo).
    pub fn put_blocking(&self, data: &[u8], opts: &DagPutOptions) -> Result<Cid, NodeError> {
        let input = Codec::decoder(opts.input_codec).map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        let store = Codec::encoder(opts.store_codec).map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        if !hash::is_allowed(opts.hash) {
            return Err(hash::HashError::NotAllowed.into());
        }
        let node = input.decode(data).map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        let bytes = store.encode(&node).map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        if !opts.allow_big && bytes.len() > BLOCK_SIZE_LIMIT {
            return Err(NodeError::InvalidInput(BIG_BLOCK_ERROR.into()));
        }
        let block = Block::encode(bytes, opts.store_codec, opts.hash, None, Version::V1)?;
        let _gc = self.node.gc_read();
        self.node.blockstore().put(&block)?;
        if opts.pin {
            self.node.pin().add_recursive_trusted(block.cid(), "")?;
        }
        Ok(*block.cid())
    }

    /// boxo's `ResolvePath`: the last block the path reaches, and the path
    /// left inside it.
    pub fn resolve_blocking(&self, path: &DagPath) -> Result<DagResolved, NodeError> {
        let src = self.source();
        let mode = if path.ipld { PathMode::Ipld } else { PathMode::UnixFs(&UnixfsLookup) };
        let r = Resolver::new(&src, mode).resolve_to_last_node(&path.root, &path.segments).map_err(resolve_err)?;
        Ok(DagResolved { cid: r.cid, remainder: r.remainder })
    }

    /// `dag get`: the node at `path`, encoded with `output`.
    pub fn get_blocking(&self, path: &DagPath, output: u64) -> Result<Vec<u8>, NodeError> {
        let r = self.resolve_blocking(path)?;
        let block = rubo_dag::source::load(&self.source(), &r.cid)
            .map_err(|e| NodeError::from_source(&r.cid, e))?
            .ok_or_else(|| NodeError::not_found(&r.cid))?;
        let codec = codec_of(r.cid.codec())?;
        let node =
            codec.decode_with(block.data(), PbForm::Typed).map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        let fin = rubo_dag::path::get(&node, &r.remainder, codec == Codec::DagPb)
            .map_err(|e| NodeError::InvalidInput(e.to_string()))?;
        let enc = Codec::encoder(output).map_err(|e| {
            NodeError::InvalidInput(format!(
                "invalid encoding: {} - {e}",
                codec::multicodec_name(output).unwrap_or("?")
            ))
        })?;
        enc.encode(fin).map_err(|e| NodeError::InvalidInput(e.to_string()))
    }

    /// `dag stat`: sizes and block counts, each root's DAG walked once
    /// (duplicates skipped), `progress` called after each block.
    pub fn stat_blocking(
        &self,
        roots: &[Cid],
        progress: &mut dyn FnMut(&DagStatSummary) -> bool,
    ) -> Result<DagStatSummary, NodeError> {
        let src = self.source();
        let mut sum = DagStatSummary::default();
        // Only several roots need a set across them (Kubo saves the memory too).
        let mut across: Option<HashSet<[u8; 16]>> = (roots.len() > 1).then(HashSet::new);
        for root in roots {
            sum.dags.push(DagStat { cid: *root, size: 0, blocks: 0 });
            let i = sum.dags.len() - 1;
            let opts = WalkOptions { dedup: Dedup::Cid, ..Default::default() };
            for v in DagWalker::new(&src, *root, opts) {
                let v = v.map_err(|e| NodeError::from(e).context("error traversing DAG"))?;
                let n = v.block.len() as u64;
                sum.dags[i].size += n;
                sum.dags[i].blocks += 1;
                let first =
                    across.as_mut().is_none_or(|s| s.insert(rubo_dag::walk::fingerprint(&v.block.cid().to_bytes())));
                if first {
                    sum.total_size += n;
                    sum.unique_blocks += 1;
                }
                sum.redundant_size += n;
                if !progress(&sum) {
                    return Err(NodeError::Internal("cancelled".into()));
                }
            }
        }
        Ok(sum)
    }

    /// `dag export`: the DAG under `root` as a CARv1 stream, blocks in
    /// depth-first, first-seen order. Returns the bytes written. A missing
    /// block ends the stream with an error (the CAR is then partial).
    ///
    /// `local_only` (Kubo's `--local-only`, boxo's `walker.WalkDAG`): blocks
    /// missing or unreadable here, or whose links cannot be read, are skipped
    /// with their subtrees, and identity CIDs are left out: a partial CAR.
    pub fn export_to(&self, root: &Cid, out: &mut dyn Write, local_only: bool) -> Result<u64, NodeError> {
        let src = self.source();
        let io = |e: std::io::Error| NodeError::Internal(format!("writing the CAR: {e}"));
        let mut car = CarWriter::new(out, &[*root]).map_err(io)?;
        let opts = WalkOptions {
            dedup: Dedup::Cid,
            skip_missing: local_only,
            skip_undecodable: local_only,
            ..Default::default()
        };
        for v in DagWalker::new(&src, *root, opts) {
            let v = v?;
            if local_only && v.is_identity() {
                continue;
            }
            car.write_block(&v.block).map_err(io)?;
        }
        car.flush().map_err(io)?;
        Ok(car.bytes_written())
    }

    /// `dag import`: stores every block of the CARs (verified against its
    /// CID), then pins each root whose whole DAG is now local. A malformed
    /// CAR stops the import before any pin is made.
    pub fn import_blocking(
        &self,
        files: ImportFiles,
        opts: &DagImportOptions,
        emit: &mut dyn FnMut(ImportEvent) -> bool,
    ) -> Result<(), NodeError> {
        // Held from the first block to the last pin: GC cannot take blocks
        // of a DAG whose root is about to be pinned.
        let _gc = self.node.gc_read();
        let max = if opts.allow_big { MAX_CAR_SECTION } else { BLOCK_SIZE_LIMIT };
        let mut blocks = 0u64;
        let mut bytes = 0u64;
        let mut writer = BlockWriter::new(self.node.blockstore());
        let mut last_report = std::time::Instant::now();
        // A pipeline: this thread stores, one reads and frames sections, and
        // a few hash them (hashing is most of the work of an import).
        let verifiers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, 4);
        let (roots, failed) = std::thread::scope(|s| -> Result<(Vec<Cid>, Option<NodeError>), NodeError> {
            let (sec_tx, sec_rx) = sync_channel::<Section>(PIPELINE_DEPTH);
            let sec_rx = Arc::new(Mutex::new(sec_rx));
            let (blk_tx, blk_rx) = sync_channel::<Result<Block, NodeError>>(PIPELINE_DEPTH);
            for _ in 0..verifiers {
                let rx = sec_rx.clone();
                let tx = blk_tx.clone();
                s.spawn(move || {
                    loop {
                        let next = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let Ok(sec) = next else { return };
                        let cid = sec.cid;
                        let res = sec
                            .verify()
                            .map_err(|e| NodeError::InvalidInput(format!("import failed at block \"{cid}\": {e}")))
                            .and_then(|b| check_decodes(&b).map(|()| b));
                        if tx.send(res).is_err() {
                            return;
                        }
                    }
                });
            }
            drop((sec_rx, blk_tx));
            let reader = s.spawn(move || read_cars(files, max, &sec_tx));
            let mut failed = None;
            for res in blk_rx.iter() {
                let block = match res {
                    Ok(b) => b,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                };
                blocks += 1;
                bytes += block.len() as u64;
                if let Err(e) = writer.put(block) {
                    failed = Some(e);
                    break;
                }
                if last_report.elapsed() >= std::time::Duration::from_millis(100) {
                    last_report = std::time::Instant::now();
                    if !emit(ImportEvent::Progress { blocks, bytes }) {
                        failed = Some(NodeError::Internal("cancelled".into()));
                        break;
                    }
                }
            }
            // Dropping the receiver stops the verifiers, and then the reader.
            drop(blk_rx);
            let roots = reader.join().map_err(|_| NodeError::Internal("CAR reader panicked".into()))?;
            match (roots, failed) {
                (Ok(r), f) => Ok((r, f)),
                // A framing error is the cause when both failed.
                (Err(e), _) => Ok((Vec::new(), Some(e))),
            }
        })?;
        if let Some(e) = failed {
            return Err(e);
        }
        writer.flush()?;
        drop(writer);
        if opts.pin_roots {
            for root in roots {
                let error = match self.node.pin().add_locked(&root, true, "", &mut |_, _| ()) {
                    Ok(()) => None,
                    Err(e) => Some(e.to_string()),
                };
                if !emit(ImportEvent::Root { cid: root, error }) {
                    return Ok(());
                }
            }
        }
        emit(ImportEvent::Stats { blocks, bytes });
        Ok(())
    }
}

/// Sections in flight between the stages of an import.
const PIPELINE_DEPTH: usize = 32;

/// Reads and frames the sections of every CAR in turn; returns the header
/// roots, each once, in the order met.
fn read_cars(files: ImportFiles, max: usize, out: &SyncSender<Section>) -> Result<Vec<Cid>, NodeError> {
    let mut roots: Vec<Cid> = Vec::new();
    let mut seen = HashSet::new();
    for file in files {
        let file = file?;
        let ropts = CarReaderOptions { max_block_size: max, ..Default::default() };
        let mut car = CarReader::with_options(std::io::BufReader::with_capacity(1 << 20, file), ropts)
            .map_err(|e| import_error(None, e))?;
        for r in car.roots() {
            if seen.insert(*r) {
                roots.push(*r);
            }
        }
        loop {
            let previous = car.last_cid().copied();
            match car.next_section() {
                Ok(Some(s)) => {
                    if out.send(s).is_err() {
                        // The import stopped downstream; its error is reported there.
                        return Ok(roots);
                    }
                }
                Ok(None) => break,
                Err(CarError::BlockTooBig { cid, .. }) => {
                    return Err(NodeError::InvalidInput(format!(
                        "import failed at block \"{cid}\": {BIG_BLOCK_ERROR}"
                    )));
                }
                Err(e) => return Err(import_error(previous.as_ref(), e)),
            }
        }
    }
    Ok(roots)
}

/// Kubo decodes every imported block (the CAR reader already verified its hash).
fn check_decodes(block: &Block) -> Result<(), NodeError> {
    let code = block.cid().codec();
    let res = match Codec::from_code(code) {
        // Raw data has nothing to check.
        Some(Codec::Raw) => Ok(()),
        // dag-pb is checked without copying its data.
        Some(Codec::DagPb) => rubo_dag::codec::dagpb::decode_raw(block.data()).map(|_| ()).map_err(|e| e.to_string()),
        Some(c) => c.decode(block.data()).map(|_| ()).map_err(|e| e.to_string()),
        None => Err(format!("no decoder registered for multicodec code {code} (0x{code:x})")),
    };
    res.map_err(|e| NodeError::InvalidInput(format!("import failed at block \"{}\": {e}", block.cid())))
}

/// Kubo's wording: which block the import failed after.
fn import_error(previous: Option<&Cid>, e: CarError) -> NodeError {
    match previous {
        Some(p) => NodeError::InvalidInput(format!("import failed after block \"{p}\": {e}")),
        None => NodeError::InvalidInput(format!("import failed: {e}")),
    }
}

impl Node {
    pub fn dag(&self) -> DagApi {
        DagApi { node: self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let c = "bafyreiblwimnjbqcdoeafiobk6q27jcw64ew7n2fmmhdpldd63edmjecde";
        let p = DagPath::parse(&format!("{c}/a/b")).unwrap();
        assert_eq!(p.root.to_string(), c);
        assert_eq!(p.segments, vec!["a", "b"]);
        assert!(!p.ipld);
        let p = DagPath::parse(&format!("/ipld/{c}/a/../b")).unwrap();
        assert!(p.ipld);
        assert_eq!(p.segments, vec!["b"]);
        assert!(DagPath::parse("/ipfs/").is_err());
        assert!(DagPath::parse("/foo/bar").is_err());
        assert!(DagPath::parse("notacid").is_err());
    }
}
