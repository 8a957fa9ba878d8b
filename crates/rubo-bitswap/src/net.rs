//! Streams: accepting and reading inbound ones to their end, and one writer per peer and
//! direction (our wants; our answers) on long-lived outbound streams.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::{AsyncWriteExt as _, StreamExt as _};
use libp2p::{PeerId, Stream, StreamProtocol};
use libp2p_stream::OpenStreamError;
use rubo_net::{Incoming, NetHandle};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;

use crate::message::{self, FrameError, MAX_MESSAGE_SIZE, Message, ProtocolVersion, Received};
use crate::{Arrival, Error, Inner, Offense, lock, server, session};

/// Our protocols, most preferred first.
pub(crate) const PROTOCOLS: [(&str, ProtocolVersion); 4] = [
    ("/ipfs/bitswap/1.2.0", ProtocolVersion::V120),
    ("/ipfs/bitswap/1.1.0", ProtocolVersion::V110),
    ("/ipfs/bitswap/1.0.0", ProtocolVersion::V100),
    ("/ipfs/bitswap", ProtocolVersion::V100),
];

/// Registers every protocol for inbound streams.
pub(crate) fn accept_all(net: &NetHandle) -> Result<Vec<(ProtocolVersion, Incoming)>, Error> {
    PROTOCOLS
        .iter()
        .map(|(name, v)| {
            net.accept(StreamProtocol::new(name)).map(|s| (*v, s)).map_err(|e| Error::Network(format!("{name}: {e}")))
        })
        .collect()
}

/// Drains one protocol's inbound streams promptly (rubo-net resets streams that find the
/// protocol's queue full), each read by a task of its own.
pub(crate) async fn accept_loop(inner: Arc<Inner>, version: ProtocolVersion, mut streams: Incoming) {
    while let Some((peer, stream)) = streams.next().await {
        if inner.is_banned(&peer) {
            continue;
        }
        tokio::spawn(read_stream(inner.clone(), peer, version, stream));
    }
}

/// Reads messages until the peer closes the stream.
async fn read_stream(inner: Arc<Inner>, peer: PeerId, version: ProtocolVersion, stream: Stream) {
    if let Some(c) = inner.add_peer(peer) {
        c.saw_version(version);
    }
    let mut r = futures::io::BufReader::with_capacity(64 << 10, stream);
    loop {
        if inner.is_banned(&peer) {
            return;
        }
        let body = match message::read_frame(&mut r, MAX_MESSAGE_SIZE).await {
            Ok(Some(b)) => b,
            Ok(None) => return,
            Err(FrameError::TooLarge(n)) => {
                tracing::debug!(%peer, n, "bitswap: oversized message");
                inner.offend(peer, Offense::Oversized);
                return;
            }
            Err(FrameError::BadLength) => {
                inner.offend(peer, Offense::Garbage);
                return;
            }
            // Resets and half-written frames happen when peers go away.
            Err(FrameError::Truncated | FrameError::Io(_)) => return,
        };
        let len = body.len();
        match Received::decode(body) {
            Ok(m) => handle_message(&inner, peer, version, m, len).await,
            Err(e) => {
                tracing::debug!(%peer, "bitswap: undecodable message: {e}");
                inner.offend(peer, Offense::Garbage);
                return;
            }
        }
    }
}

/// Payloads above this are hashed on a blocking thread rather than on the runtime.
const INLINE_HASH_BYTES: usize = 64 << 10;

async fn handle_message(inner: &Arc<Inner>, peer: PeerId, version: ProtocolVersion, m: Received, len: usize) {
    inner.stats.messages_received.fetch_add(1, Ordering::Relaxed);
    lock(&inner.server).received(&peer, len);
    for _ in 0..m.invalid_cids.min(inner.cfg.max_offense_score as usize) {
        inner.offend(peer, Offense::BadCid);
    }
    if m.full || !m.entries.is_empty() {
        server::on_wantlist(inner, peer, version, m.full, m.entries);
    }
    if !m.presences.is_empty() {
        session::on_presences(inner, peer, m.presences);
    }
    if m.blocks.is_empty() {
        return;
    }
    let raw = m.blocks;
    let payload: usize = raw.iter().map(|b| b.data.len()).sum();
    let verified = if payload > INLINE_HASH_BYTES {
        match tokio::task::spawn_blocking(move || raw.iter().map(|b| b.verify()).collect::<Vec<_>>()).await {
            Ok(v) => v,
            Err(_) => return,
        }
    } else {
        raw.iter().map(|b| b.verify()).collect()
    };
    let mut wanted = Vec::new();
    for v in verified {
        let block = match v {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(%peer, "bitswap: refused block: {e}");
                inner.offend(peer, Offense::BadCid);
                continue;
            }
        };
        let n = block.len() as u64;
        inner.stats.blocks_received.fetch_add(1, Ordering::Relaxed);
        inner.stats.data_received.fetch_add(n, Ordering::Relaxed);
        let (is_wanted, asked) = lock(&inner.client).classify(&peer, block.cid());
        if is_wanted {
            wanted.push(block);
        } else {
            inner.stats.dup_blocks.fetch_add(1, Ordering::Relaxed);
            inner.stats.dup_data.fetch_add(n, Ordering::Relaxed);
            if !asked {
                inner.offend(peer, Offense::UnaskedBlock);
            }
        }
    }
    if !wanted.is_empty() {
        lock(&inner.server).received_blocks(&peer, wanted.len());
        // Bounded: a slow store slows the readers, and so the senders.
        let _ = inner.arrivals.send(Arrival { from: peer, blocks: wanted }).await;
    }
}

const UNKNOWN: u8 = 0;
const NOT_BITSWAP: u8 = 255;

fn encode_version(v: ProtocolVersion) -> u8 {
    match v {
        ProtocolVersion::V100 => 1,
        ProtocolVersion::V110 => 2,
        ProtocolVersion::V120 => 3,
    }
}

/// One connected peer: what it speaks, and its two writers.
pub(crate) struct PeerConn {
    pub(crate) peer: PeerId,
    /// Best version the peer is known to speak; `UNKNOWN` until identify or a stream tells.
    version: AtomicU8,
    /// Protocols from identify, if it came: restricts what we try when opening.
    identified: Mutex<Option<Vec<ProtocolVersion>>>,
    client_wake: Notify,
    server_tx: mpsc::Sender<Message>,
    stopped: AtomicBool,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl PeerConn {
    pub(crate) fn start(inner: &Arc<Inner>, peer: PeerId) -> Arc<Self> {
        // A few messages at most: the byte cap, not this, bounds what waits here.
        let (server_tx, server_rx) = mpsc::channel(16);
        let conn = Arc::new(Self {
            peer,
            version: AtomicU8::new(UNKNOWN),
            identified: Mutex::new(None),
            client_wake: Notify::new(),
            server_tx,
            stopped: AtomicBool::new(false),
            tasks: Mutex::new(Vec::new()),
        });
        let a = tokio::spawn(client_writer(inner.clone(), conn.clone()));
        let b = tokio::spawn(server_writer(inner.clone(), conn.clone(), server_rx));
        lock(&conn.tasks).extend([a, b]);
        conn
    }

    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::Relaxed);
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
    }

    pub(crate) fn wake_client(&self) {
        self.client_wake.notify_one();
    }

    /// Queues an answer; false if the peer is gone.
    pub(crate) async fn send_answer(&self, m: Message) -> bool {
        self.server_tx.send(m).await.is_ok()
    }

    pub(crate) fn set_protocols(&self, protocols: &[String]) {
        let mut ours: Vec<ProtocolVersion> =
            PROTOCOLS.iter().filter(|(name, _)| protocols.iter().any(|p| p == name)).map(|(_, v)| *v).collect();
        ours.dedup();
        if ours.is_empty() {
            self.version.store(NOT_BITSWAP, Ordering::Relaxed);
        }
        *lock(&self.identified) = Some(ours);
    }

    fn saw_version(&self, v: ProtocolVersion) {
        let _ = self.version.compare_exchange(UNKNOWN, encode_version(v), Ordering::Relaxed, Ordering::Relaxed);
    }

    /// Whether the peer speaks Bitswap, or might (not identified yet).
    pub(crate) fn maybe_bitswap(&self) -> bool {
        self.version.load(Ordering::Relaxed) != NOT_BITSWAP
    }

    /// Opens a stream, trying our protocols in order (only those the peer listed, if it did).
    async fn open(&self, net: &NetHandle) -> Result<(Stream, ProtocolVersion), OpenError> {
        let allowed = lock(&self.identified).clone();
        let mut control = net.stream_control();
        for (name, v) in PROTOCOLS {
            if allowed.as_ref().is_some_and(|a| !a.contains(&v)) {
                continue;
            }
            match control.open_stream(self.peer, StreamProtocol::new(name)).await {
                Ok(s) => {
                    self.version.store(encode_version(v), Ordering::Relaxed);
                    return Ok((s, v));
                }
                Err(OpenStreamError::UnsupportedProtocol(_)) => continue,
                Err(e) => return Err(OpenError::Io(e.to_string())),
            }
        }
        self.version.store(NOT_BITSWAP, Ordering::Relaxed);
        Err(OpenError::NotBitswap)
    }
}

#[derive(Debug)]
enum OpenError {
    NotBitswap,
    Io(String),
}

/// A long-lived outbound stream, reopened when a write fails.
struct Outbound {
    stream: Option<(Stream, ProtocolVersion)>,
}

/// Attempts per message (boxo: 3), reopening the stream between them.
const SEND_ATTEMPTS: usize = 3;

impl Outbound {
    async fn send(&mut self, inner: &Inner, conn: &PeerConn, m: &Message) -> bool {
        for _ in 0..SEND_ATTEMPTS {
            if conn.stopped.load(Ordering::Relaxed) {
                return false;
            }
            if self.stream.is_none() {
                match tokio::time::timeout(inner.cfg.send_timeout, conn.open(&inner.net)).await {
                    Ok(Ok(s)) => self.stream = Some(s),
                    Ok(Err(OpenError::NotBitswap)) => return false,
                    Ok(Err(OpenError::Io(e))) => {
                        tracing::debug!(peer = %conn.peer, "bitswap: open stream: {e}");
                        continue;
                    }
                    Err(_) => continue,
                }
            }
            let Some((stream, version)) = self.stream.as_mut() else { continue };
            let frame: Bytes = m.to_frame(*version);
            let write = async {
                stream.write_all(&frame).await?;
                stream.flush().await
            };
            match tokio::time::timeout(inner.cfg.send_timeout, write).await {
                Ok(Ok(())) => return true,
                _ => self.stream = None,
            }
        }
        false
    }
}

/// Entries per wantlist message: far under the message cap whatever the CIDs.
const ENTRIES_PER_MESSAGE: usize = 4096;

/// Sends our wantlist changes, batching whatever accumulated while the last write ran.
async fn client_writer(inner: Arc<Inner>, conn: Arc<PeerConn>) {
    let mut out = Outbound { stream: None };
    loop {
        conn.client_wake.notified().await;
        loop {
            let (full, entries) = lock(&inner.client).take_pending(&conn.peer);
            if !full && entries.is_empty() {
                break;
            }
            let mut chunks = entries.chunks(ENTRIES_PER_MESSAGE).peekable();
            if chunks.peek().is_none() {
                let m = Message { full, ..Message::default() };
                out.send(&inner, &conn, &m).await;
            }
            let mut first = true;
            for chunk in chunks {
                // A full list only makes sense as one message: the first chunk carries the flag.
                let m = Message { full: full && first, entries: chunk.to_vec(), ..Message::default() };
                first = false;
                if !out.send(&inner, &conn, &m).await {
                    tracing::debug!(peer = %conn.peer, "bitswap: wantlist not delivered");
                    break;
                }
            }
        }
    }
}

/// Writes our answers (blocks, presences) and gives back the peer's byte budget as they go.
async fn server_writer(inner: Arc<Inner>, conn: Arc<PeerConn>, mut rx: mpsc::Receiver<Message>) {
    let mut out = Outbound { stream: None };
    while let Some(m) = rx.recv().await {
        let bytes = m.block_bytes();
        let blocks = m.blocks.len();
        let ok = out.send(&inner, &conn, &m).await;
        if ok {
            inner.stats.blocks_sent.fetch_add(blocks as u64, Ordering::Relaxed);
            inner.stats.data_sent.fetch_add(bytes as u64, Ordering::Relaxed);
        }
        // Gives back the bytes the worker counted against the peer, and its turn.
        server::requeue(&inner, &conn.peer, bytes, blocks, ok);
    }
}
