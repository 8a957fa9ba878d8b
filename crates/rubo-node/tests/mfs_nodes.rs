//! Two nodes in one process change their MFS at the same time: each node's
//! MFS lock is its own, so one node's write in progress never holds up the
//! other's (the lock was process-wide once).

use std::io::Read;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::Duration;

use rubo_node::rubo_mfs::WriteOptions;
use rubo_node::rubo_repo::InitOptions;
use rubo_node::{LockMode, Node, Repo};

fn node() -> (tempfile::TempDir, Node) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("repo");
    Repo::init(&path, &InitOptions { profiles: vec!["test".into()], ..Default::default() }).unwrap();
    (dir, Node::open(&path, LockMode::Exclusive, "test").unwrap())
}

/// Input for `files write` that, on its first read (so inside the write and
/// its MFS lock), says so and then waits to be let go.
struct Gate {
    entered: Option<Sender<()>>,
    go: Receiver<()>,
    data: &'static [u8],
}

impl Read for Gate {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(tx) = self.entered.take() {
            let _ = tx.send(());
            // Only a guard: with a shared lock the other write would never
            // finish, so nothing would let this one go; failing beats hanging.
            match self.go.recv_timeout(Duration::from_secs(300)) {
                Ok(()) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    return Err(std::io::Error::other("never let go: the other node's write did not finish"));
                }
            }
        }
        let n = self.data.len().min(buf.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

async fn read_all(node: &Node, path: &str) -> Vec<u8> {
    let mut rx = node.files().read(path.into(), 0, None).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = rx.recv().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

#[test]
fn two_nodes_write_their_mfs_at_once() {
    let (_da, a) = node();
    let (_db, b) = node();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let create = WriteOptions { create: true, ..Default::default() };
    let (entered_tx, entered_rx) = channel();
    let (go_tx, go_rx) = channel();
    let gate = Gate { entered: Some(entered_tx), go: go_rx, data: b"from a\n" };
    let a_write = {
        let (a, opts) = (a.clone(), create.clone());
        rt.spawn(async move { a.files().write("/a.txt".into(), Box::new(gate), opts).await })
    };
    // A's write is now inside A's MFS lock, waiting for its input.
    entered_rx.recv().unwrap();
    // B writes, twice, from start to end meanwhile.
    rt.block_on(async {
        b.files().write("/b.txt".into(), Box::new(&b"from b\n"[..]), create.clone()).await.unwrap();
        b.files().mkdir("/dir".into(), false, None).await.unwrap();
    });
    go_tx.send(()).unwrap();
    rt.block_on(a_write).unwrap().unwrap();
    rt.block_on(async {
        assert_eq!(read_all(&a, "/a.txt").await, b"from a\n");
        assert_eq!(read_all(&b, "/b.txt").await, b"from b\n");
        // Each node's MFS has its own files only.
        assert!(a.files().stat("/b.txt".into(), false).await.is_err());
        assert!(b.files().stat("/a.txt".into(), false).await.is_err());
        assert!(b.files().stat("/dir".into(), false).await.is_ok());
    });
}
