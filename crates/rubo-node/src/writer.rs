//! Batched, durable block writes for imports.
//!
//! Producers hand blocks over a bounded channel; one thread groups them into
//! batches (up to 256 blocks or 8 MiB, or whatever arrived within 2 ms) and
//! stores each batch durably. `durable()` says how many blocks are on disk, so
//! that callers report a CID only once its blocks are.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError, sync_channel};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rubo_repo::Blockstore;
use rubo_types::Block;

use crate::NodeError;

const BATCH_BLOCKS: usize = 1024;
const BATCH_BYTES: usize = 32 << 20;
const LINGER: Duration = Duration::from_millis(2);
// Blocks waiting for the writer: with 256 KiB chunks, 16 MiB at most.
const QUEUE: usize = 64;

enum Msg {
    Block(Block),
    Flush(SyncSender<()>),
}

struct Shared {
    durable: AtomicU64,
    failed: Mutex<Option<String>>,
    wake: Condvar,
    lock: Mutex<()>,
}

/// A writer thread for one import.
pub struct BlockWriter {
    tx: Option<SyncSender<Msg>>,
    thread: Option<JoinHandle<()>>,
    shared: Arc<Shared>,
    sent: u64,
}

impl BlockWriter {
    pub fn new(store: Arc<dyn Blockstore>) -> Self {
        let (tx, rx) = sync_channel(QUEUE);
        let shared = Arc::new(Shared {
            durable: AtomicU64::new(0),
            failed: Mutex::new(None),
            wake: Condvar::new(),
            lock: Mutex::new(()),
        });
        let s = shared.clone();
        let thread = std::thread::spawn(move || run(store, rx, s));
        Self { tx: Some(tx), thread: Some(thread), shared, sent: 0 }
    }

    fn check(&self) -> Result<(), NodeError> {
        let failed = self.shared.failed.lock().map_err(|_| NodeError::Internal("writer poisoned".into()))?;
        match failed.as_ref() {
            Some(e) => Err(NodeError::Internal(format!("storing blocks: {e}"))),
            None => Ok(()),
        }
    }

    /// Queues a block (blocks when the queue is full).
    pub fn put(&mut self, b: Block) -> Result<(), NodeError> {
        self.check()?;
        let tx = self.tx.as_ref().ok_or_else(|| NodeError::Internal("writer closed".into()))?;
        tx.send(Msg::Block(b))
            .map_err(|_| self.check().err().unwrap_or(NodeError::Internal("writer stopped".into())))?;
        self.sent += 1;
        Ok(())
    }

    /// Blocks queued so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Blocks durably stored so far.
    pub fn durable(&self) -> u64 {
        self.shared.durable.load(Ordering::Acquire)
    }

    /// Waits until everything queued so far is durable.
    pub fn flush(&mut self) -> Result<(), NodeError> {
        let tx = self.tx.as_ref().ok_or_else(|| NodeError::Internal("writer closed".into()))?;
        let (rtx, rrx) = sync_channel(1);
        if tx.send(Msg::Flush(rtx)).is_ok() {
            let _ = rrx.recv();
        }
        self.check()?;
        if self.durable() < self.sent {
            return Err(NodeError::Internal("writer stopped before storing every block".into()));
        }
        Ok(())
    }

    /// Waits (briefly) for the durable count to move, to release waiting output.
    pub fn wait_durable(&self, at_least: u64, timeout: Duration) -> u64 {
        let Ok(guard) = self.shared.lock.lock() else { return self.durable() };
        let _ = self.shared.wake.wait_timeout_while(guard, timeout, |_| self.durable() < at_least);
        self.durable()
    }
}

impl Drop for BlockWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(store: Arc<dyn Blockstore>, rx: Receiver<Msg>, shared: Arc<Shared>) {
    let mut batch: Vec<Block> = Vec::with_capacity(BATCH_BLOCKS);
    let mut bytes = 0usize;
    let mut flushes: Vec<SyncSender<()>> = Vec::new();
    loop {
        // Wait for work; then take what is there, lingering briefly for more.
        let first = if batch.is_empty() { rx.recv().ok() } else { None };
        let mut closed = false;
        match first {
            Some(Msg::Block(b)) => {
                bytes += b.len();
                batch.push(b);
            }
            Some(Msg::Flush(r)) => flushes.push(r),
            None if batch.is_empty() => closed = true,
            None => {}
        }
        while !closed && flushes.is_empty() && batch.len() < BATCH_BLOCKS && bytes < BATCH_BYTES {
            match rx.try_recv() {
                Ok(Msg::Block(b)) => {
                    bytes += b.len();
                    batch.push(b);
                }
                Ok(Msg::Flush(r)) => flushes.push(r),
                Err(TryRecvError::Empty) => match rx.recv_timeout(LINGER) {
                    Ok(Msg::Block(b)) => {
                        bytes += b.len();
                        batch.push(b);
                    }
                    Ok(Msg::Flush(r)) => flushes.push(r),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => closed = true,
                },
                Err(TryRecvError::Disconnected) => closed = true,
            }
        }
        if !batch.is_empty() {
            let n = batch.len() as u64;
            match store.put_many(&batch) {
                Ok(_) => {
                    shared.durable.fetch_add(n, Ordering::Release);
                }
                Err(e) => {
                    if let Ok(mut f) = shared.failed.lock() {
                        *f = Some(e.to_string());
                    }
                    shared.wake.notify_all();
                    for r in flushes.drain(..) {
                        let _ = r.send(());
                    }
                    return;
                }
            }
            batch.clear();
            bytes = 0;
            shared.wake.notify_all();
        }
        for r in flushes.drain(..) {
            let _ = r.send(());
        }
        if closed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_repo::MemBlockstore;
    use rubo_types::{Bytes, Version, codec, hash};

    #[test]
    fn stores_everything_and_counts() {
        let store = Arc::new(MemBlockstore::new());
        let mut w = BlockWriter::new(store.clone());
        let blocks: Vec<Block> = (0..1000u32)
            .map(|i| {
                Block::encode(Bytes::from(i.to_le_bytes().to_vec()), codec::RAW, hash::SHA2_256, None, Version::V1)
                    .unwrap()
            })
            .collect();
        for b in &blocks {
            w.put(b.clone()).unwrap();
        }
        w.flush().unwrap();
        assert_eq!(w.durable(), 1000);
        for b in &blocks {
            assert!(store.has(b.cid()).unwrap());
        }
    }
}
