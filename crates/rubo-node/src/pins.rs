//! Pins, with Kubo's semantics: recursive (a DAG), direct (one block) and
//! indirect (anything under a recursive pin, computed, never stored).
//!
//! Pins live in the datastore under `/pins/r/<cid>` and `/pins/d/<cid>` (binary
//! CID), the value being the pin's name; every change is one atomic batch.
//! Every walk is rubo-dag's [`DagWalker`] (Kubo's rule for identity and
//! libp2p-key CIDs, see its module), keeping 16-byte fingerprints of the
//! blocks seen, not the CIDs.
//!
//! On a node that provides, new pins are queued for announcement as Kubo's
//! pinner does: under `Provide.Strategy` `pinned` every block `pin add` walks,
//! under `roots` the root of each pin made.

use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use rubo_dag::walk::{DagWalker, Dedup, Visited, WalkError, WalkOptions, fingerprint};
use rubo_repo::{Batch, Datastore};
use rubo_types::{Cid, cid_from_bytes};

use tokio::sync::mpsc;

use crate::dag::NodeSource;
use crate::{Node, NodeError};

const RECURSIVE: &[u8] = b"/pins/r/";
const DIRECT: &[u8] = b"/pins/d/";
/// Kubo's limit on pin names.
pub const MAX_PIN_NAME: usize = 255;

/// How a CID is pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PinKind {
    Recursive,
    Direct,
    /// Under the recursive pin of this root.
    Indirect(Cid),
}

impl PinKind {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Recursive => "recursive",
            Self::Direct => "direct",
            Self::Indirect(_) => "indirect",
        }
    }
}

/// A stored pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub cid: Cid,
    pub recursive: bool,
    pub name: String,
}

/// Which pins to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinFilter {
    All,
    Recursive,
    Direct,
    Indirect,
}

impl PinFilter {
    pub fn parse(s: &str) -> Result<Self, NodeError> {
        match s {
            "all" => Ok(Self::All),
            "recursive" => Ok(Self::Recursive),
            "direct" => Ok(Self::Direct),
            "indirect" => Ok(Self::Indirect),
            _ => Err(NodeError::InvalidInput(format!(
                "invalid type '{s}', must be one of {{direct, indirect, recursive, all}}"
            ))),
        }
    }
}

fn key(prefix: &[u8], cid: &Cid) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(&cid.to_bytes());
    k
}

/// Walks for pins and GC: whole CIDs as the pinner's `FetchGraph` keys them,
/// or blocks as GC marks them.
pub(crate) fn walk_opts(dedup: Dedup) -> WalkOptions {
    WalkOptions { dedup, ..Default::default() }
}

/// The pin API of a node.
#[derive(Clone)]
pub struct PinApi {
    pub(crate) node: Node,
}

/// Progress of `pin add`: blocks and bytes walked so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinProgress {
    pub blocks: u64,
    pub bytes: u64,
}

/// One pin as `pin ls` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPin {
    pub cid: Cid,
    pub kind: PinKind,
    /// The pin's name (recursive and direct pins; empty otherwise).
    pub name: String,
}

/// A recursive pin's root and the blocks of its DAG that are missing or
/// corrupt, with why (`pin verify`).
pub type Verified = (Cid, Vec<(Cid, String)>);

/// How often `pin add` reports progress.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// The async face of [`PinApi`], for the command handlers and the HTTP faces.
impl PinApi {
    /// Pins each of `cids` in turn (see [`PinApi::add_blocking`]); the stream
    /// carries progress (at most every 200 ms) and ends when all are pinned,
    /// or with the error that stopped it.
    pub fn add(&self, cids: Vec<Cid>, recursive: bool, name: String) -> mpsc::Receiver<Result<PinProgress, NodeError>> {
        self.node.stream_blocking(move |n, emit| {
            let mut last = std::time::Instant::now();
            let mut gone = false;
            for cid in &cids {
                n.pin().add_blocking(cid, recursive, &name, &mut |blocks, bytes| {
                    if !gone && last.elapsed() >= PROGRESS_EVERY {
                        last = std::time::Instant::now();
                        gone = !emit(PinProgress { blocks, bytes });
                    }
                })?;
            }
            Ok(())
        })
    }

    /// Unpins each of `cids`; the first failure stops it.
    pub async fn rm(&self, cids: Vec<Cid>, recursive: bool) -> Result<(), NodeError> {
        self.node
            .run_blocking(move |n| {
                for c in &cids {
                    n.pin().rm_blocking(c, recursive)?;
                }
                Ok(())
            })
            .await
    }

    /// `pin update` (see [`PinApi::update_blocking`]).
    pub async fn update(&self, from: Cid, to: Cid, unpin: bool) -> Result<(), NodeError> {
        self.node.run_blocking(move |n| n.pin().update_blocking(&from, &to, unpin)).await
    }

    /// How each of `cids` is pinned, with its name when `names`.
    pub async fn kinds(&self, cids: Vec<Cid>, names: bool) -> Result<Vec<(Option<PinKind>, String)>, NodeError> {
        self.node
            .run_blocking(move |n| {
                let pins = n.pin();
                cids.iter()
                    .map(|c| {
                        let kind = pins.pinned(c)?;
                        let name = match kind {
                            Some(PinKind::Recursive | PinKind::Direct) if names => pins.name_of(c)?,
                            _ => String::new(),
                        };
                        Ok((kind, name))
                    })
                    .collect()
            })
            .await
    }

    /// Every pin `filter` selects, streamed: stored ones (those whose name
    /// contains `name`, if given), then, for `All` and `Indirect` without a
    /// name filter, the indirect ones that are not pinned otherwise.
    pub fn list(&self, filter: PinFilter, name: Option<String>) -> mpsc::Receiver<Result<ListedPin, NodeError>> {
        self.node.stream_blocking(move |n, emit| {
            let pins = n.pin();
            let mut seen = std::collections::HashSet::new();
            let mut gone = false;
            if filter != PinFilter::Indirect {
                pins.stored(filter, &mut |p| {
                    if name.as_ref().is_none_or(|f| p.name.contains(f.as_str())) {
                        seen.insert(p.cid);
                        let kind = if p.recursive { PinKind::Recursive } else { PinKind::Direct };
                        gone = !emit(ListedPin { cid: p.cid, kind, name: p.name });
                    }
                    if gone { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
                })?;
            }
            if !gone && matches!(filter, PinFilter::All | PinFilter::Indirect) && name.is_none() {
                pins.indirect(&mut |c, root| {
                    if !seen.contains(&c)
                        && !emit(ListedPin { cid: c, kind: PinKind::Indirect(root), name: String::new() })
                    {
                        return ControlFlow::Break(());
                    }
                    ControlFlow::Continue(())
                })?;
            }
            Ok(())
        })
    }

    /// `pin verify`: each recursive pin's root with the blocks of its DAG
    /// that are missing or corrupt (none: the DAG is complete).
    pub fn verify(&self) -> mpsc::Receiver<Result<Verified, NodeError>> {
        self.node.stream_blocking(move |n, emit| {
            let mut roots = Vec::new();
            n.pin().stored(PinFilter::Recursive, &mut |p| {
                roots.push(p.cid);
                ControlFlow::Continue(())
            })?;
            for root in roots {
                let bad = n.verify_dag(&root);
                if !emit((root, bad)) {
                    break;
                }
            }
            Ok(())
        })
    }
}

impl PinApi {
    fn ds(&self) -> Result<Arc<dyn Datastore>, NodeError> {
        Ok(self.node.repo().datastore()?)
    }

    fn src(&self) -> NodeSource {
        NodeSource::new(self.node.blockstore())
    }

    /// Every stored pin (recursive and direct), streamed from the datastore.
    pub fn stored(&self, filter: PinFilter, each: &mut dyn FnMut(Pin) -> ControlFlow<()>) -> Result<(), NodeError> {
        let ds = self.ds()?;
        let mut bad = None;
        for (prefix, recursive) in [(RECURSIVE, true), (DIRECT, false)] {
            let wanted = match filter {
                PinFilter::All => true,
                PinFilter::Recursive => recursive,
                PinFilter::Direct => !recursive,
                PinFilter::Indirect => false,
            };
            if !wanted {
                continue;
            }
            let mut stop = false;
            ds.scan(prefix, &mut |k, v| match cid_from_bytes(&k[prefix.len()..]) {
                Ok(cid) => {
                    let flow = each(Pin { cid, recursive, name: String::from_utf8_lossy(v).into_owned() });
                    stop = flow.is_break();
                    flow
                }
                Err(e) => {
                    bad = Some(e.to_string());
                    ControlFlow::Break(())
                }
            })?;
            if let Some(e) = bad.take() {
                return Err(NodeError::Internal(format!("corrupt pin key: {e}")));
            }
            if stop {
                break;
            }
        }
        Ok(())
    }

    /// The name given to a recursive or direct pin of `cid` (empty if none,
    /// or not pinned so).
    pub fn name_of(&self, cid: &Cid) -> Result<String, NodeError> {
        let ds = self.ds()?;
        for k in [key(RECURSIVE, cid), key(DIRECT, cid)] {
            if let Some(v) = ds.get(&k)? {
                return Ok(String::from_utf8_lossy(&v).into_owned());
            }
        }
        Ok(String::new())
    }

    /// How `cid` is pinned, if it is (indirect pins cost a walk of every
    /// recursive pin until found).
    pub fn pinned(&self, cid: &Cid) -> Result<Option<PinKind>, NodeError> {
        let ds = self.ds()?;
        if ds.has(&key(RECURSIVE, cid))? {
            return Ok(Some(PinKind::Recursive));
        }
        if ds.has(&key(DIRECT, cid))? {
            return Ok(Some(PinKind::Direct));
        }
        let mut roots = Vec::new();
        self.stored(PinFilter::Recursive, &mut |p| {
            roots.push(p.cid);
            ControlFlow::Continue(())
        })?;
        let src = self.src();
        for root in roots {
            let mut walk = DagWalker::new(&src, root, walk_opts(Dedup::Block));
            // Any CID of the block (the store keys blocks by multihash); a
            // pinned DAG with missing blocks does not stop the search in others.
            if walk.any(|v| v.is_ok_and(|v| v.block.cid().hash() == cid.hash() && v.depth > 0)) {
                return Ok(Some(PinKind::Indirect(root)));
            }
        }
        Ok(None)
    }

    /// How each of `cids` is pinned, with one walk of the recursive pins for
    /// all of them (`block rm`'s check; Kubo's `CheckIfPinned`). The walk
    /// stops once every CID is placed.
    pub fn check_pinned(&self, cids: &[Cid]) -> Result<Vec<Option<PinKind>>, NodeError> {
        let ds = self.ds()?;
        let mut out = Vec::with_capacity(cids.len());
        // By multihash: a block is pinned whatever CID reaches it.
        let mut open: HashMap<Vec<u8>, Vec<usize>> = HashMap::new();
        for (i, c) in cids.iter().enumerate() {
            if ds.has(&key(RECURSIVE, c))? {
                out.push(Some(PinKind::Recursive));
            } else if ds.has(&key(DIRECT, c))? {
                out.push(Some(PinKind::Direct));
            } else {
                out.push(None);
                open.entry(c.hash().to_bytes()).or_default().push(i);
            }
        }
        if open.is_empty() {
            return Ok(out);
        }
        let mut roots = Vec::new();
        self.stored(PinFilter::Recursive, &mut |p| {
            roots.push(p.cid);
            ControlFlow::Continue(())
        })?;
        let src = self.src();
        for root in roots {
            // A pinned DAG with missing blocks does not stop the search in others.
            for v in DagWalker::new(&src, root, walk_opts(Dedup::Block)).map_while(Result::ok) {
                if v.depth > 0
                    && let Some(idx) = open.remove(&v.block.cid().hash().to_bytes())
                {
                    for i in idx {
                        out[i] = Some(PinKind::Indirect(root));
                    }
                }
                if open.is_empty() {
                    return Ok(out);
                }
            }
        }
        Ok(out)
    }

    /// Pins `cid`. Recursive pins first check that every block of the DAG is
    /// here (the node is offline), reporting blocks walked through `progress`.
    pub fn add_blocking(
        &self,
        cid: &Cid,
        recursive: bool,
        name: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), NodeError> {
        if name.len() > MAX_PIN_NAME {
            return Err(NodeError::InvalidInput(format!(
                "pin name is {} bytes (max {MAX_PIN_NAME} bytes)",
                name.len()
            )));
        }
        let _gc = self.node.gc_read();
        self.add_locked(cid, recursive, name, progress)
    }

    /// [`PinApi::add`] for a caller that already holds the GC lock.
    pub(crate) fn add_locked(
        &self,
        cid: &Cid,
        recursive: bool,
        name: &str,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<(), NodeError> {
        let ds = self.ds()?;
        let bs = self.node.blockstore();
        if recursive {
            let mut n = 0u64;
            let mut bytes = 0u64;
            // Under `pinned`, each block is queued as the walk meets it (boxo's pinner hands
            // its provider to FetchGraph).
            let announce = self.node.provider().filter(|p| p.strategy().pinned());
            // boxo's FetchGraph: every block must be here, each CID once.
            for v in DagWalker::new(&self.src(), *cid, walk_opts(Dedup::Cid)) {
                let v = v?;
                n += 1;
                bytes += v.block.len() as u64;
                progress(n, bytes);
                if let Some(p) = announce {
                    p.provide([*v.block.cid().hash()]);
                }
            }
            let mut batch = Batch::new();
            batch.put(key(RECURSIVE, cid), name.as_bytes()).delete(key(DIRECT, cid));
            ds.commit(batch)?;
        } else {
            if ds.has(&key(RECURSIVE, cid))? {
                return Err(NodeError::InvalidInput(format!("{cid} already pinned recursively")));
            }
            if !bs.has(cid)? {
                return Err(NodeError::not_found(cid));
            }
            ds.put(&key(DIRECT, cid), name.as_bytes())?;
        }
        self.node.provide_pin_root(cid);
        Ok(())
    }

    /// Records a recursive pin on a DAG the caller just wrote in full (add,
    /// dag import): no walk needed.
    pub fn add_recursive_trusted(&self, cid: &Cid, name: &str) -> Result<(), NodeError> {
        let mut batch = Batch::new();
        batch.put(key(RECURSIVE, cid), name.as_bytes()).delete(key(DIRECT, cid));
        self.ds()?.commit(batch)?;
        self.node.provide_pin_root(cid);
        Ok(())
    }

    /// Unpins. With `recursive` false, a recursive pin is an error (Kubo).
    pub fn rm_blocking(&self, cid: &Cid, recursive: bool) -> Result<(), NodeError> {
        let ds = self.ds()?;
        if ds.has(&key(RECURSIVE, cid))? {
            if !recursive {
                return Err(NodeError::InvalidInput(format!("{cid} is pinned recursively")));
            }
            ds.delete(&key(RECURSIVE, cid))?;
            return Ok(());
        }
        if ds.has(&key(DIRECT, cid))? {
            ds.delete(&key(DIRECT, cid))?;
            return Ok(());
        }
        Err(NodeError::InvalidInput("not pinned or pinned indirectly".into()))
    }

    /// Replaces a recursive pin `from` by `to` (pinning `to` first: its blocks
    /// must be here), optionally keeping `from`.
    pub fn update_blocking(&self, from: &Cid, to: &Cid, unpin: bool) -> Result<(), NodeError> {
        let ds = self.ds()?;
        let name = match ds.get(&key(RECURSIVE, from))? {
            Some(n) => String::from_utf8_lossy(&n).into_owned(),
            None => return Err(NodeError::InvalidInput("'from' cid was not recursively pinned already".into())),
        };
        if from == to {
            return Ok(());
        }
        let _gc = self.node.gc_read();
        self.check_diff(from, to)?;
        let mut batch = Batch::new();
        batch.put(key(RECURSIVE, to), name.as_bytes()).delete(key(DIRECT, to));
        if unpin {
            batch.delete(key(RECURSIVE, from));
        }
        ds.commit(batch)?;
        Ok(())
    }

    /// Checks that every block of `to` is here, reading only what differs
    /// from `from` (boxo's `DiffEnumerate`): `from` is pinned, so the
    /// subtrees they share are complete. A link of `to` that is also a link
    /// of the `from` node it is compared with is skipped; one paired by name
    /// (dag-pb) is diffed against its counterpart; the rest are walked whole.
    /// Returns the number of blocks read.
    pub(crate) fn check_diff(&self, from: &Cid, to: &Cid) -> Result<u64, NodeError> {
        let src = self.src();
        // The same reads and links as every walk (rubo-dag's rule).
        let links = |c: &Cid| -> Result<Vec<rubo_dag::NamedLink>, NodeError> {
            let b = rubo_dag::source::load(&src, c)
                .map_err(|err| WalkError::Source { cid: Box::new(*c), err })?
                .ok_or_else(|| NodeError::not_found(c))?;
            Ok(rubo_dag::named_links(c.codec(), b.data()).map_err(|err| WalkError::Links { cid: Box::new(*c), err })?)
        };
        let mut seen = HashSet::new();
        let mut read = 0u64;
        let mut stack: Vec<(Cid, Option<Cid>)> = vec![(*to, Some(*from))];
        while let Some((t, f)) = stack.pop() {
            if !seen.insert(fingerprint(&t.to_bytes())) {
                continue;
            }
            let tlinks = links(&t)?;
            read += 1;
            let flinks = match f {
                Some(f) => links(&f)?,
                None => Vec::new(),
            };
            let shared: HashSet<Cid> = flinks.iter().map(|l| l.cid).collect();
            for l in tlinks.into_iter().rev() {
                if shared.contains(&l.cid) {
                    continue;
                }
                let pair =
                    (!l.name.is_empty()).then(|| flinks.iter().find(|fl| fl.name == l.name).map(|fl| fl.cid)).flatten();
                stack.push((l.cid, pair));
            }
        }
        Ok(read)
    }

    /// Lists indirect pins: every block under a recursive pin, once, that is
    /// not itself a recursive or direct pin.
    pub fn indirect(&self, each: &mut dyn FnMut(Cid, Cid) -> ControlFlow<()>) -> Result<(), NodeError> {
        let mut roots = Vec::new();
        let mut direct_or_root = HashSet::new();
        self.stored(PinFilter::All, &mut |p| {
            direct_or_root.insert(fingerprint(&p.cid.hash().to_bytes()));
            if p.recursive {
                roots.push(p.cid);
            }
            ControlFlow::Continue(())
        })?;
        let src = self.src();
        // One visited set across the roots: each block is listed once.
        let mut visited = Visited::new(Dedup::Block);
        for root in roots {
            let mut walk = DagWalker::with_visited(&src, root, WalkOptions::default(), visited);
            for v in &mut walk {
                let c = *v?.block.cid();
                if direct_or_root.contains(&fingerprint(&c.hash().to_bytes())) {
                    continue;
                }
                if each(c, root).is_break() {
                    return Ok(());
                }
            }
            visited = walk.into_visited();
        }
        Ok(())
    }
}

impl Node {
    /// The blocks of a DAG that are missing or corrupt, with why; empty when
    /// the DAG is complete (`pin verify`).
    pub fn verify_dag(&self, root: &Cid) -> Vec<(Cid, String)> {
        let src = NodeSource::new(self.repo().blockstore());
        let opts = WalkOptions { keep_going: true, ..walk_opts(Dedup::Block) };
        DagWalker::new(&src, *root, opts)
            .filter_map(Result::err)
            .map(|e| match e {
                WalkError::Source { cid, err } => (*cid, err.to_string()),
                e => (*e.cid(), e.to_string()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DagPutOptions;
    use rubo_types::{codec, hash};

    fn node() -> (tempfile::TempDir, Node) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let opts = rubo_repo::InitOptions { profiles: vec!["test".into()], ..Default::default() };
        rubo_repo::Repo::init(&path, &opts).unwrap();
        (dir, Node::open(&path, rubo_repo::LockMode::Exclusive, "test").unwrap())
    }

    fn put(node: &Node, json: &str) -> Cid {
        let opts = DagPutOptions {
            input_codec: codec::DAG_JSON,
            store_codec: codec::DAG_CBOR,
            hash: hash::SHA2_256,
            pin: false,
            allow_big: false,
        };
        node.dag().put_blocking(json.as_bytes(), &opts).unwrap()
    }

    fn list(links: &[Cid]) -> String {
        let items: Vec<String> = links.iter().map(|c| format!("{{\"/\":\"{c}\"}}")).collect();
        format!("{{\"links\":[{}]}}", items.join(","))
    }

    #[test]
    fn update_reads_only_what_differs() {
        let (_d, node) = node();
        let leaves: Vec<Cid> = (0..50).map(|i| put(&node, &format!("{{\"i\":{i}}}"))).collect();
        let from = put(&node, &list(&leaves));
        node.pin().add_blocking(&from, true, "mine", &mut |_, _| ()).unwrap();
        let mut more = leaves.clone();
        more.push(put(&node, "{\"i\":\"new\"}"));
        let to = put(&node, &list(&more));
        // The new root and the new leaf; the 50 shared leaves are not read.
        assert_eq!(node.pin().check_diff(&from, &to).unwrap(), 2);
        node.pin().update_blocking(&from, &to, true).unwrap();
        assert_eq!(node.pin().pinned(&to).unwrap(), Some(PinKind::Recursive));
        assert_ne!(node.pin().pinned(&from).unwrap(), Some(PinKind::Recursive));
        let mut names = Vec::new();
        node.pin()
            .stored(PinFilter::Recursive, &mut |p| {
                names.push(p.name);
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(names, vec!["mine"]);
        // A new block that is missing fails the update and leaves the pins as they were.
        let absent = Cid::new_v1(codec::DAG_CBOR, hash::sha2_256(b"not stored"));
        let mut broken = more.clone();
        broken.push(absent);
        let to2 = put(&node, &list(&broken));
        assert!(node.pin().update_blocking(&to, &to2, true).is_err());
        assert_eq!(node.pin().pinned(&to).unwrap(), Some(PinKind::Recursive));
        assert_eq!(node.pin().pinned(&to2).unwrap(), None);
    }
}
