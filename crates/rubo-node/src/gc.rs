//! Garbage collection: mark what pins and the MFS root reach, sweep the rest.
//!
//! GC takes the node's GC lock for writing; imports, pins and MFS writes hold
//! it for reading from their first block to their pin or root update, so no
//! block of an operation in flight is collected. Marking is rubo-dag's
//! [`DagWalker`] (the rule every walk follows), deduplicating blocks as Kubo's
//! `ColoredSet` does (CIDs as CIDv1: a block linked under two codecs is read
//! both ways) and, as Kubo's `GetLinks`, not reading raw blocks, which have no
//! links. The mark set holds 16-byte fingerprints (about 30 bytes a block with
//! the set's overhead).

use std::ops::ControlFlow;

use rubo_dag::walk::{DagWalker, Dedup, Visited, WalkOptions};
use rubo_repo::blockstore::StoredKey;
use rubo_types::{Cid, codec};
use tokio::sync::mpsc;

use crate::dag::NodeSource;
use crate::pins::PinFilter;
use crate::{Node, NodeError};

/// What a collection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcEvent {
    /// A block removed (as a raw CIDv1: the store keys blocks by multihash).
    Removed(Cid),
    /// A block that could not be removed; the collection goes on.
    Error(String),
}

/// Marks every block under `root` into `marked`: a DAG that cannot be walked
/// whole stops GC, except that best-effort roots (MFS) may miss blocks (as
/// Kubo's `bestEffortGetLinks`, which forgives only "not found").
fn mark(src: &NodeSource, root: &Cid, marked: Visited, best_effort: bool) -> Result<Visited, NodeError> {
    let opts = WalkOptions { links_only: true, skip_missing: best_effort, ..Default::default() };
    let mut walk = DagWalker::with_visited(src, *root, opts, marked);
    for v in &mut walk {
        v.map_err(|e| NodeError::Internal(format!("could not mark the DAG under {root}: {e}")))?;
    }
    Ok(walk.into_visited())
}

/// Datastore key of the MFS root (Kubo's `/local/filesroot`).
pub const FILES_ROOT_KEY: &[u8] = b"/local/filesroot";

impl Node {
    /// The roots GC keeps: recursive pins (whole DAGs) and direct pins (one
    /// block each). The MFS root is kept apart: best effort.
    fn gc_roots(&self) -> Result<(Vec<Cid>, Vec<Cid>), NodeError> {
        let mut dags = Vec::new();
        let mut single = Vec::new();
        self.pin().stored(PinFilter::All, &mut |p| {
            if p.recursive {
                dags.push(p.cid)
            } else {
                single.push(p.cid)
            }
            ControlFlow::Continue(())
        })?;
        Ok((dags, single))
    }

    /// The MFS root, if one was ever written.
    pub fn files_root(&self) -> Result<Option<Cid>, NodeError> {
        let ds = self.repo().datastore()?;
        match ds.get(FILES_ROOT_KEY)? {
            Some(b) => Ok(Some(
                rubo_types::cid_from_bytes(&b).map_err(|e| NodeError::Internal(format!("corrupt MFS root: {e}")))?,
            )),
            None => Ok(None),
        }
    }

    /// Collects garbage. Marking failures (a pinned DAG with a missing or
    /// unreadable block) abort before anything is removed.
    pub fn gc(&self) -> mpsc::Receiver<Result<GcEvent, NodeError>> {
        let (tx, rx) = mpsc::channel(crate::STREAM_BUFFER);
        let node = self.clone();
        std::thread::spawn(move || {
            if let Err(e) = node.gc_blocking(&tx) {
                let _ = tx.blocking_send(Err(e));
            }
        });
        rx
    }

    fn gc_blocking(&self, tx: &mpsc::Sender<Result<GcEvent, NodeError>>) -> Result<(), NodeError> {
        let _gc = self.gc_write();
        let bs = self.repo().blockstore();
        let src = NodeSource::new(bs.clone());
        let (dags, single) = self.gc_roots()?;
        let mut marked = Visited::new(Dedup::Block);
        for root in &dags {
            marked = mark(&src, root, marked, false)?;
        }
        for c in &single {
            marked.mark(c);
        }
        // Kubo's "best-effort roots": MFS may link to content that was never
        // fetched in full (`files cp /ipfs/...` of a partial DAG); what is
        // here is kept, what is missing is no reason to stop.
        if let Some(root) = self.files_root()? {
            marked = mark(&src, &root, marked, true)?;
        }
        let mut removed = 0u64;
        for key in bs.keys()? {
            let mh = match key? {
                StoredKey::Block(mh) => mh,
                StoredKey::Foreign(_) => continue,
            };
            if marked.has_multihash(&mh) {
                continue;
            }
            let cid = Cid::new_v1(codec::RAW, mh);
            let ev = match bs.delete(&cid) {
                Ok(_) => {
                    removed += 1;
                    GcEvent::Removed(cid)
                }
                Err(e) => GcEvent::Error(format!("could not remove {cid}: {e}")),
            };
            if tx.blocking_send(Ok(ev)).is_err() {
                break;
            }
        }
        if removed > 0 {
            self.repo().blocks().flatfs().sync_deletes().map_err(|e| NodeError::Internal(e.to_string()))?;
        }
        Ok(())
    }
}
