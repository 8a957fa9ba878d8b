//! A stream-muxer wrapper that caps inbound streams per connection and counts bytes.
//!
//! It sits around every connection's muxer (yamux over TCP, QUIC's own), below the swarm, so it
//! sees every substream whatever protocol it later negotiates:
//! - past `max_inbound` open inbound streams, a new one is dropped (the remote sees a reset) and
//!   counted; past `max_refused` refusals the connection is closed: that peer is abusive;
//! - bytes read and written on substreams are added to per-connection and global counters
//!   (stream payload, as Kubo's `stats bw` counts it, not transport framing);
//! - the time of the last byte feeds the connection manager's "idle longest first".
//!
//! The actor finds a connection's [`ConnStats`] in the [`Registry`] by peer and remote address,
//! which the swarm reports with the connection.

use std::collections::HashMap;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use futures::{AsyncRead, AsyncWrite};
use libp2p::core::muxing::StreamMuxerExt as _;
use libp2p::core::muxing::{StreamMuxer, StreamMuxerBox, StreamMuxerEvent, SubstreamBox};
use libp2p::{Multiaddr, PeerId};

/// Process-wide counters, shared by all connections and read by the actor.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) inbound_streams: AtomicU64,
    pub(crate) outbound_streams: AtomicU64,
    pub(crate) streams_refused: AtomicU64,
    pub(crate) connections_cut: AtomicU64,
}

/// Counters of one connection.
#[derive(Debug)]
pub(crate) struct ConnStats {
    pub(crate) inbound: AtomicUsize,
    pub(crate) outbound: AtomicUsize,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    /// Milliseconds since the registry's epoch at the last byte moved.
    pub(crate) last_active_ms: AtomicU64,
    refused: AtomicUsize,
    cut: AtomicBool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct StreamLimits {
    pub(crate) max_inbound: usize,
    pub(crate) max_refused: usize,
}

type Key = (PeerId, Multiaddr);

/// Where new connections' stats wait for the actor to pick them up.
#[derive(Debug)]
pub(crate) struct Registry {
    epoch: Instant,
    limits: StreamLimits,
    pub(crate) counters: Counters,
    /// Weak: a connection that fails after its muxer was made (e.g. denied by a behaviour) leaves
    /// a dead entry, pruned later, instead of keeping its stats alive.
    waiting: Mutex<HashMap<Key, Vec<Weak<ConnStats>>>>,
}

impl Registry {
    pub(crate) fn new(limits: StreamLimits) -> Self {
        Self { epoch: Instant::now(), limits, counters: Counters::default(), waiting: Mutex::default() }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Vec<Weak<ConnStats>>>> {
        // The map stays consistent whatever panicked while holding it: recover it.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// The instant a `last_active_ms` value stands for.
    pub(crate) fn instant_of(&self, ms: u64) -> Instant {
        self.epoch + std::time::Duration::from_millis(ms)
    }

    fn register(&self, peer: PeerId, remote: Multiaddr) -> Arc<ConnStats> {
        let stats = Arc::new(ConnStats {
            inbound: AtomicUsize::new(0),
            outbound: AtomicUsize::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            last_active_ms: AtomicU64::new(self.now_ms()),
            refused: AtomicUsize::new(0),
            cut: AtomicBool::new(false),
        });
        let mut map = self.lock();
        let list = map.entry((peer, remote)).or_default();
        list.retain(|w| w.strong_count() > 0);
        list.push(Arc::downgrade(&stats));
        stats
    }

    /// The stats of an established connection; each registration is handed out once.
    pub(crate) fn take(&self, peer: PeerId, remote: &Multiaddr) -> Option<Arc<ConnStats>> {
        let mut map = self.lock();
        let key = (peer, remote.clone());
        let list = map.get_mut(&key)?;
        let found = loop {
            if list.is_empty() {
                break None;
            }
            if let Some(s) = list.remove(0).upgrade() {
                break Some(s);
            }
        };
        if list.is_empty() {
            map.remove(&key);
        }
        found
    }

    /// Drops entries whose connection is gone.
    pub(crate) fn prune(&self) {
        let mut map = self.lock();
        map.retain(|_, list| {
            list.retain(|w| w.strong_count() > 0);
            !list.is_empty()
        });
    }

    /// Wraps a fresh connection's muxer. `remote` must be the address the swarm will report.
    pub(crate) fn guard(self: &Arc<Self>, peer: PeerId, remote: Multiaddr, inner: StreamMuxerBox) -> StreamMuxerBox {
        let stats = self.register(peer, remote);
        StreamMuxerBox::new(GuardedMuxer { inner, stats, registry: Arc::clone(self) })
    }
}

struct GuardedMuxer {
    inner: StreamMuxerBox,
    stats: Arc<ConnStats>,
    registry: Arc<Registry>,
}

fn cut_off() -> io::Error {
    io::Error::other("peer opened too many streams: connection closed")
}

impl StreamMuxer for GuardedMuxer {
    type Substream = Counted;
    type Error = io::Error;

    fn poll_inbound(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Self::Substream, Self::Error>> {
        let this = self.get_mut();
        let limits = this.registry.limits;
        loop {
            if this.stats.cut.load(Ordering::Relaxed) {
                return Poll::Ready(Err(cut_off()));
            }
            let stream = ready!(this.inner.poll_inbound_unpin(cx))?;
            if this.stats.inbound.load(Ordering::Relaxed) < limits.max_inbound {
                return Poll::Ready(Ok(Counted::new(stream, Dir::In, &this.stats, &this.registry)));
            }
            // Over the cap: dropping the substream resets it; the peer may retry later.
            drop(stream);
            this.registry.counters.streams_refused.fetch_add(1, Ordering::Relaxed);
            let refused = this.stats.refused.fetch_add(1, Ordering::Relaxed) + 1;
            if refused > limits.max_refused {
                tracing::debug!(refused, "closing a connection whose peer keeps opening streams past the cap");
                this.stats.cut.store(true, Ordering::Relaxed);
                this.registry.counters.connections_cut.fetch_add(1, Ordering::Relaxed);
                return Poll::Ready(Err(cut_off()));
            }
        }
    }

    fn poll_outbound(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Self::Substream, Self::Error>> {
        let this = self.get_mut();
        let stream = ready!(this.inner.poll_outbound_unpin(cx))?;
        Poll::Ready(Ok(Counted::new(stream, Dir::Out, &this.stats, &this.registry)))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.get_mut().inner.poll_close_unpin(cx)
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<StreamMuxerEvent, Self::Error>> {
        let this = self.get_mut();
        if this.stats.cut.load(Ordering::Relaxed) {
            return Poll::Ready(Err(cut_off()));
        }
        this.inner.poll_unpin(cx)
    }
}

#[derive(Clone, Copy)]
enum Dir {
    In,
    Out,
}

/// A substream that counts its bytes and, while open, itself.
pub(crate) struct Counted {
    inner: SubstreamBox,
    dir: Dir,
    stats: Arc<ConnStats>,
    registry: Arc<Registry>,
}

impl Counted {
    fn new(inner: SubstreamBox, dir: Dir, stats: &Arc<ConnStats>, registry: &Arc<Registry>) -> Self {
        let (local, global) = match dir {
            Dir::In => (&stats.inbound, &registry.counters.inbound_streams),
            Dir::Out => (&stats.outbound, &registry.counters.outbound_streams),
        };
        local.fetch_add(1, Ordering::Relaxed);
        global.fetch_add(1, Ordering::Relaxed);
        Self { inner, dir, stats: Arc::clone(stats), registry: Arc::clone(registry) }
    }

    fn moved(&self, n: usize, read: bool) {
        if n == 0 {
            return;
        }
        let n = n as u64;
        let (local, global) = if read {
            (&self.stats.bytes_in, &self.registry.counters.bytes_in)
        } else {
            (&self.stats.bytes_out, &self.registry.counters.bytes_out)
        };
        local.fetch_add(n, Ordering::Relaxed);
        global.fetch_add(n, Ordering::Relaxed);
        self.stats.last_active_ms.store(self.registry.now_ms(), Ordering::Relaxed);
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let (local, global) = match self.dir {
            Dir::In => (&self.stats.inbound, &self.registry.counters.inbound_streams),
            Dir::Out => (&self.stats.outbound, &self.registry.counters.outbound_streams),
        };
        local.fetch_sub(1, Ordering::Relaxed);
        global.fetch_sub(1, Ordering::Relaxed);
    }
}

impl AsyncRead for Counted {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        this.moved(n, true);
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Counted {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.moved(n, false);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}
