//! Garbage collection through the CoreAPI: what pins and the MFS root reach
//! stays, the rest goes, and an import running at the same time (the daemon's
//! case: one process, many requests) loses nothing.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rubo_node::rubo_repo::InitOptions;
use rubo_node::rubo_unixfs::import::{Entry, EntryKind};
use rubo_node::{AddEvent, AddOptions, GcEvent, LockMode, Node, NodeError, Repo};
use rubo_types::Cid;

fn node() -> (tempfile::TempDir, Node) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    Repo::init(&path, &InitOptions { profiles: vec!["test".into()], ..Default::default() }).unwrap();
    let node = Node::open(&path, LockMode::Exclusive, "test").unwrap();
    // As `rubo init` does.
    let empty = rubo_types::parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
    node.pin().add_recursive_trusted(&empty, "").unwrap();
    (dir, node)
}

/// Deterministic pseudo-random bytes (xorshift), so blocks are distinct.
struct Noise {
    state: u64,
    left: u64,
}

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left as usize) / 8 * 8;
        let n = if n == 0 { buf.len().min(self.left as usize) } else { n };
        for b in buf[..n].iter_mut() {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            *b = self.state as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn add(node: &Node, seed: u64, len: u64, pin: bool) -> Cid {
    let entry = Entry {
        path: Default::default(),
        kind: EntryKind::File(Box::new(Noise { state: seed * 2 + 1, left: len })),
        mode: None,
        mtime: None,
    };
    let entries: rubo_node::AddEntries = Box::new(std::iter::once(Ok::<_, NodeError>(entry)));
    let opts = AddOptions {
        import: Default::default(),
        wrap: false,
        only_hash: false,
        threads: 1,
        pin: pin.then(String::new),
    };
    let mut rx = node.unixfs().add(entries, opts);
    let mut root = None;
    while let Some(ev) = rx.blocking_recv() {
        if let AddEvent::Added { cid, .. } = ev.unwrap() {
            root = Some(cid);
        }
    }
    root.expect("a root")
}

fn gc(node: &Node) -> Vec<Cid> {
    let mut rx = node.gc();
    let mut removed = Vec::new();
    while let Some(ev) = rx.blocking_recv() {
        match ev.unwrap() {
            GcEvent::Removed(c) => removed.push(c),
            GcEvent::Error(e) => panic!("gc error: {e}"),
        }
    }
    removed
}

fn has(node: &Node, c: &Cid) -> bool {
    node.repo().blockstore().has(c).unwrap()
}

/// Links of a dag-pb block, read straight from its bytes.
fn children(node: &Node, c: &Cid) -> Vec<Cid> {
    let b = node.repo().blockstore().get(c).unwrap().unwrap();
    rubo_dag::links::block_links(&b).unwrap()
}

#[test]
fn pins_and_mfs_survive_the_rest_goes() {
    let (_d, node) = node();
    let pinned = add(&node, 1, 3 << 20, true);
    let loose = add(&node, 2, 3 << 20, false);
    let direct = add(&node, 3, 3 << 20, false);
    let in_mfs = add(&node, 4, 3 << 20, false);
    node.pin().add_blocking(&direct, false, "", &mut |_, _| ()).unwrap();
    // The MFS root: a DAG reachable only from there.
    node.repo().datastore().unwrap().put(rubo_node::gc::FILES_ROOT_KEY, &in_mfs.to_bytes()).unwrap();
    let direct_children = children(&node, &direct);
    let loose_children = children(&node, &loose);
    assert!(direct_children.len() > 1 && loose_children.len() > 1);

    let removed = gc(&node);
    // Unpinned content goes, and the children of a direct pin with it.
    assert!(!has(&node, &loose));
    assert!(loose_children.iter().all(|c| !has(&node, c)));
    assert!(direct_children.iter().all(|c| !has(&node, c)));
    assert_eq!(removed.len(), 1 + loose_children.len() + direct_children.len());
    // Recursive pins with their (indirectly pinned) children, the direct
    // pin's own block and the MFS tree stay, whole.
    assert!(has(&node, &direct));
    assert!(node.verify_dag(&pinned).is_empty());
    assert!(node.verify_dag(&in_mfs).is_empty());
    let child = children(&node, &pinned)[0];
    assert!(matches!(node.pin().pinned(&child).unwrap(), Some(rubo_node::PinKind::Indirect(r)) if r == pinned));
    // A second run finds nothing more.
    assert!(gc(&node).is_empty());

    // Asking for removed content is a clear "not found", at once.
    let err = node.repo().blockstore().get(&loose).unwrap();
    assert!(err.is_none());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let e = rt.block_on(node.block().get(&loose)).unwrap_err();
    assert!(e.to_string().contains("block was not found locally"), "{e}");
}

#[test]
fn gc_aborts_on_a_broken_pinned_dag() {
    let (_d, node) = node();
    let pinned = add(&node, 5, 2 << 20, true);
    let loose = add(&node, 6, 1 << 20, false);
    let child = children(&node, &pinned)[1];
    node.repo().blockstore().delete(&child).unwrap();
    let mut rx = node.gc();
    let mut failed = false;
    while let Some(ev) = rx.blocking_recv() {
        match ev {
            Err(e) => {
                assert!(e.to_string().contains("could not mark"), "{e}");
                failed = true;
            }
            Ok(GcEvent::Removed(c)) => panic!("removed {c} although marking failed"),
            Ok(GcEvent::Error(e)) => panic!("{e}"),
        }
    }
    assert!(failed);
    // Nothing was swept.
    assert!(has(&node, &loose));
}

#[test]
fn concurrent_add_loses_nothing() {
    let (_d, node) = node();
    // Garbage for the collector to find on every pass.
    let stop = Arc::new(AtomicBool::new(false));
    let collector = {
        let node = node.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut passes = 0u32;
            let mut removed = 0usize;
            let mut seed = 100;
            while !stop.load(Ordering::Acquire) {
                // Unpinned content added between passes must be collected.
                add(&node, seed, 300 << 10, false);
                seed += 1;
                removed += gc(&node).len();
                passes += 1;
            }
            (passes, removed)
        })
    };
    // A large pinned import while GC runs over and over.
    let big = add(&node, 7, 64 << 20, true);
    stop.store(true, Ordering::Release);
    let (passes, removed) = collector.join().unwrap();
    assert!(passes >= 1 && removed > 0, "the collector ran ({passes} passes, {removed} removed)");
    let bad = node.verify_dag(&big);
    assert!(bad.is_empty(), "blocks lost: {bad:?}");
    assert_eq!(node.pin().pinned(&big).unwrap(), Some(rubo_node::PinKind::Recursive));
    // And a final GC keeps it whole.
    gc(&node);
    assert!(node.verify_dag(&big).is_empty());
}

#[test]
fn a_partial_dag_under_mfs_does_not_stop_gc() {
    let (_d, node) = node();
    let partial = add(&node, 21, 2 << 20, false);
    let loose = add(&node, 22, 1 << 20, false);
    let kids = children(&node, &partial);
    node.repo().blockstore().delete(&kids[0]).unwrap();
    node.repo().datastore().unwrap().put(rubo_node::gc::FILES_ROOT_KEY, &partial.to_bytes()).unwrap();
    let removed = gc(&node);
    // What MFS reaches and is here stays; the rest goes.
    assert!(has(&node, &partial));
    assert!(kids[1..].iter().all(|c| has(&node, c)));
    assert!(!has(&node, &loose));
    assert!(!removed.is_empty());
}
