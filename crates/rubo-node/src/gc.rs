//! Garbage collection: mark what pins and the MFS root reach, sweep the rest.
//!
//! GC takes the node's GC lock for writing; imports, pins and MFS writes hold
//! it for reading from their first block to their pin or root update, so no
//! block of an operation in flight is collected. The mark set holds 16-byte
//! fingerprints (about 30 bytes a block with the set's overhead).

use std::collections::HashSet;
use std::ops::ControlFlow;

use rubo_repo::blockstore::StoredKey;
use rubo_types::{Cid, codec};
use tokio::sync::mpsc;

use crate::pins::{PinFilter, fingerprint, links_of, walk};
use crate::{Node, NodeError};

/// What a collection reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcEvent {
    /// A block removed (as a raw CIDv1: the store keys blocks by multihash).
    Removed(Cid),
    /// A block that could not be removed; the collection goes on.
    Error(String),
}

/// Marks every block under `root` that is here; missing or unreadable
/// blocks are skipped with their subtrees.
fn mark_best_effort(bs: &dyn rubo_repo::Blockstore, root: &Cid, marked: &mut HashSet<u128>) {
    let mut stack = vec![*root];
    while let Some(cid) = stack.pop() {
        if !marked.insert(fingerprint(&cid)) {
            continue;
        }
        if let Ok(Some(block)) = bs.get(&cid)
            && let Ok(links) = links_of(&block)
        {
            stack.extend(links);
        }
    }
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
        let (dags, single) = self.gc_roots()?;
        let mut marked: HashSet<u128> = HashSet::new();
        for root in &dags {
            let _ = walk(bs.as_ref(), root, &mut marked, &mut |_| Ok(ControlFlow::Continue(())))
                .map_err(|e| NodeError::Internal(format!("could not mark the DAG under {root}: {e}")))?;
        }
        for c in &single {
            marked.insert(fingerprint(c));
        }
        // Kubo's "best-effort roots": MFS may link to content that was never
        // fetched in full (`files cp /ipfs/...` of a partial DAG); what is
        // here is kept, what is missing is no reason to stop.
        if let Some(root) = self.files_root()? {
            mark_best_effort(bs.as_ref(), &root, &mut marked);
        }
        let mut removed = 0u64;
        for key in bs.keys()? {
            let mh = match key? {
                StoredKey::Block(mh) => mh,
                StoredKey::Foreign(_) => continue,
            };
            let cid = Cid::new_v1(codec::RAW, mh);
            if marked.contains(&fingerprint(&cid)) {
                continue;
            }
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
