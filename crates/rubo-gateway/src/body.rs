//! Response bodies produced on blocking threads: a bounded channel of
//! chunks (a slow client slows the producer; a client that goes away stops
//! it at its next send), an idle limit between chunks (Kubo's
//! `RetrievalTimeout` after the first byte), and the request's concurrency
//! slot held until the body is done.

use std::io::Write;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use hyper::body::Frame;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc;

use rubo_node::NodeError;
use rubo_types::{Block, Cid};
use rubo_unixfs::export;

use crate::store::Store;

/// A chunk, or the status and message of the failure that ended the body.
pub(crate) type Chunk = Result<Bytes, (u16, String)>;

/// Chunks in flight per response: with 64 KiB chunks, 256 KiB a response.
const DEPTH: usize = 4;
/// Bytes gathered before a chunk is sent.
pub(crate) const CHUNK: usize = 64 << 10;

/// Writes bytes as chunks down the channel (`io::Write` for the CAR, TAR
/// and listing writers).
pub(crate) struct ChunkWriter {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
}

fn gone() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away")
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| gone())
    }
}

/// Runs `produce` on a blocking thread; its output arrives on the receiver,
/// its failure as the last item.
pub(crate) fn produce<F>(produce: F) -> mpsc::Receiver<Chunk>
where
    F: FnOnce(&mut ChunkWriter) -> Result<(), (u16, String)> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(DEPTH);
    let err_tx = tx.clone();
    tokio::task::spawn_blocking(move || {
        let mut w = ChunkWriter { tx, buf: Vec::with_capacity(CHUNK) };
        let res = produce(&mut w).and_then(|()| w.flush().map_err(|e| (500, e.to_string())));
        if let Err(e) = res {
            let _ = err_tx.blocking_send(Err(e));
        }
    });
    rx
}

/// The rest of a produced body, after `first`.
pub(crate) fn stream(first: Option<Bytes>, rx: mpsc::Receiver<Chunk>, idle: Option<Duration>) -> Body {
    let state = (first, rx, idle);
    let s = futures::stream::unfold(Some(state), |st| async move {
        let (first, mut rx, idle) = st?;
        if let Some(b) = first {
            return Some((Ok(b), Some((None, rx, idle))));
        }
        let next = match idle {
            Some(d) => match tokio::time::timeout(d, rx.recv()).await {
                Ok(n) => n,
                Err(_) => {
                    return Some((Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "retrieval timeout")), None));
                }
            },
            None => rx.recv().await,
        };
        match next {
            None => None,
            Some(Ok(b)) => Some((Ok(b), Some((None, rx, idle)))),
            // Status is sent: ending the body without its terminating chunk
            // tells the client the response is incomplete.
            Some(Err((_, msg))) => Some((Err(std::io::Error::other(msg)), None)),
        }
    });
    Body::from_stream(s)
}

/// Bytes read per step of a file body.
const FILE_STEP: u64 = 1 << 20;

/// File bytes `from..end`, after `first`: pulled a step at a time as the
/// client reads, each step a short blocking read. A slow client holds no
/// thread, only its position.
pub(crate) fn file(
    store: Store,
    root: Block,
    first: Option<Bytes>,
    from: u64,
    end: u64,
    idle: Option<Duration>,
) -> Body {
    type St = (Store, Block, u64, std::collections::VecDeque<Bytes>);
    let mut pending = std::collections::VecDeque::new();
    pending.extend(first);
    let st: St = (store, root, from, pending);
    let s = futures::stream::unfold(Some(st), move |st| async move {
        let (store, root, pos, mut pending) = st?;
        if let Some(b) = pending.pop_front() {
            return Some((Ok(b), Some((store, root, pos, pending))));
        }
        if pos >= end {
            return None;
        }
        let len = (end - pos).min(FILE_STEP);
        let step = tokio::task::spawn_blocking(move || {
            let mut out = std::collections::VecDeque::new();
            let mut get = |c: &Cid| store.get(c);
            let res = export::read_file::<NodeError>(&root, pos, Some(len), &mut get, &mut |b: Bytes| {
                out.push_back(b);
                Ok(())
            });
            (store, root, out, res.map_err(|e| e.to_string()))
        });
        let joined = match idle {
            Some(d) => tokio::time::timeout(d, step).await.map_err(|_| "retrieval timeout".to_string()),
            None => Ok(step.await),
        };
        let (store, root, mut out, res) = match joined {
            Ok(Ok(x)) => x,
            Ok(Err(e)) => return Some((Err(std::io::Error::other(e.to_string())), None)),
            Err(e) => return Some((Err(std::io::Error::new(std::io::ErrorKind::TimedOut, e)), None)),
        };
        if let Err(e) = res {
            return Some((Err(std::io::Error::other(e)), None));
        }
        let got: u64 = out.iter().map(|b| b.len() as u64).sum();
        if got == 0 {
            // The DAG holds less than its size says: end short, not loop.
            return Some((Err(std::io::Error::other("file ended before its size")), None));
        }
        let b = out.pop_front()?;
        Some((Ok(b), Some((store, root, pos + got, out))))
    });
    Body::from_stream(s)
}

/// A body that keeps the request's concurrency slot until it is done.
pub(crate) struct Held {
    pub(crate) inner: Body,
    pub(crate) _permit: OwnedSemaphorePermit,
}

impl hyper::body::Body for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}
