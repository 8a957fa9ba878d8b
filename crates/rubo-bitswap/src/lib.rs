//! Bitswap for rubo: client and server, on libp2p streams, interoperable with Kubo (boxo) and
//! Helia.
//!
//! # Wire
//! `/ipfs/bitswap/1.2.0`, `1.1.0`, `1.0.0` and `/ipfs/bitswap` are accepted; outbound streams
//! prefer 1.2.0 (chosen from the peer's identify list when known, else tried in order). Every
//! inbound stream is read to its end, one length-prefixed message after another ([`message`]).
//! We write on one long-lived stream per peer and direction of traffic: one for our wants, one
//! for our answers, so a large block never delays a want.
//!
//! # Server (`server.rs`)
//! Per-peer ledgers of wants (at most [`Config::max_wants_per_peer`]); a round-robin queue of
//! peers with work, served by a few workers one message (at most
//! [`Config::target_message_size`]) at a time, so peers are served fairly; a per-peer cap on
//! bytes queued but not yet written. want-have is answered from `size()` alone (HAVE, or the block
//! itself when it is at most 1 KiB, as boxo does); DONT_HAVE when asked for. A want we cannot
//! answer stays in the ledger, and [`Bitswap::notify_new_blocks`] serves it later.
//!
//! # Client (`session.rs`)
//! A [`Session`] fetches many blocks at once from the peers that have shown they hold the
//! content, with a window of wants per peer that grows while blocks arrive and halves on
//! timeouts; see the module docs for the algorithm.
//!
//! # Abuse
//! A peer that sends undecodable or oversized messages, floods wants, or keeps sending blocks we
//! did not ask it for (which is what a block that lies about its CID turns into once re-hashed)
//! is banned for a while and disconnected; the others are served as before.

mod client;
mod error;
pub mod message;
mod net;
mod server;
mod session;
mod stats;
mod store;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use libp2p::PeerId;
use rubo_net::{NetEvent, NetHandle};
use rubo_types::{Block, Cid};
use tokio::sync::{Notify, broadcast, mpsc};
use tokio::task::JoinHandle;

pub use crate::error::Error;
pub use crate::message::{Entry, Presence, ProtocolVersion, WantType};
pub use crate::session::{BlockStream, Session};
pub use crate::stats::{LedgerInfo, Stat, WantlistInfo};
pub use crate::store::{BlockStore, MemoryStore, StoreError, identity_block};

use crate::client::ClientState;
use crate::net::PeerConn;
use crate::server::ServerState;

/// Tag under which Bitswap protects peers it is exchanging blocks with.
pub const PROTECT_TAG: &str = "bitswap";

/// Finds providers of a block when no connected peer has it (the DHT, later). Implementations
/// should connect to what they find; the session then asks those peers.
pub trait ProviderFinder: Send + Sync + 'static {
    fn find_providers(&self, cid: Cid, limit: usize) -> BoxFuture<'static, Vec<PeerId>>;
}

/// A [`ProviderFinder`] that finds nothing.
pub struct NoProviders;

impl ProviderFinder for NoProviders {
    fn find_providers(&self, _cid: Cid, _limit: usize) -> BoxFuture<'static, Vec<PeerId>> {
        Box::pin(async { Vec::new() })
    }
}

/// Tunables; the defaults follow boxo where it has a number and measurements where not.
#[derive(Clone, Debug)]
pub struct Config {
    /// Most wants kept per peer (boxo `MaxQueuedWantlistEntriesPerPeer`).
    pub max_wants_per_peer: usize,
    /// Wants refused for a full ledger after which a peer counts as flooding and is cut off.
    pub flood_threshold: u64,
    /// Server workers building messages (store reads run on blocking threads).
    pub server_workers: usize,
    /// A server message is closed once it carries this many block bytes.
    pub target_message_size: usize,
    /// Bytes of answers queued or being written to one peer before it waits for its turn.
    pub max_inflight_per_peer: usize,
    /// Send the block itself for a want-have when it is at most this big (boxo 1024).
    pub want_have_replace_size: usize,
    /// Misbehaviour points (unasked-for blocks, bad CIDs) after which a peer is cut off.
    pub max_offense_score: u32,
    /// How long a cut-off peer is ignored.
    pub ban_duration: Duration,
    /// Wants a session keeps in flight to one peer at first, and at most.
    pub initial_window: usize,
    pub max_window: usize,
    /// Blocks a `get_many` stream may have requested but not yet handed out (memory bound).
    pub max_outstanding: usize,
    /// Wait before asking the [`ProviderFinder`] (boxo `ProvSearchDelay`).
    pub provider_search_delay: Duration,
    /// Re-send want-haves for blocks nobody has shown to hold.
    pub rebroadcast_interval: Duration,
    /// Send each peer our full wantlist this often.
    pub full_wantlist_interval: Duration,
    /// A block not received this long after it was first wanted fails with [`Error::Timeout`].
    pub fetch_timeout: Duration,
    /// Upper bound for one message write.
    pub send_timeout: Duration,
    /// Session housekeeping tick (timeouts, rebroadcasts).
    pub tick: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_wants_per_peer: 1024,
            flood_threshold: 4096,
            server_workers: 4,
            target_message_size: 1 << 20,
            max_inflight_per_peer: 4 << 20,
            want_have_replace_size: 1024,
            max_offense_score: 16,
            ban_duration: Duration::from_secs(600),
            initial_window: 16,
            max_window: 64,
            max_outstanding: 128,
            provider_search_delay: Duration::from_secs(1),
            rebroadcast_interval: Duration::from_secs(10),
            full_wantlist_interval: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(120),
            send_timeout: Duration::from_secs(30),
            tick: Duration::from_millis(100),
        }
    }
}

/// Why a peer is being cut off or scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offense {
    /// A frame that does not decode, or a malformed length.
    Garbage,
    /// A length prefix over the message limit.
    Oversized,
    /// More wants than the ledger holds, again and again.
    Flood,
    /// A block we never asked this peer for (a block that lied about its CID re-hashes to one).
    UnaskedBlock,
    /// A block whose prefix we refuse, or an entry with a malformed CID.
    BadCid,
}

impl Offense {
    fn points(self, cfg: &Config) -> u32 {
        match self {
            Self::Garbage | Self::Oversized | Self::Flood => cfg.max_offense_score,
            Self::UnaskedBlock | Self::BadCid => 1,
        }
    }
}

#[derive(Default)]
pub(crate) struct Counters {
    pub blocks_received: AtomicU64,
    pub data_received: AtomicU64,
    pub dup_blocks: AtomicU64,
    pub dup_data: AtomicU64,
    pub blocks_sent: AtomicU64,
    pub data_sent: AtomicU64,
    pub messages_received: AtomicU64,
}

#[derive(Default)]
struct Offender {
    score: u32,
    banned_until: Option<Instant>,
}

/// Blocks that arrived and were wanted, on their way to the store and then to sessions.
pub(crate) struct Arrival {
    from: PeerId,
    blocks: Vec<Block>,
}

/// State shared by every task.
pub(crate) struct Inner {
    pub cfg: Config,
    pub store: Arc<dyn BlockStore>,
    pub net: NetHandle,
    pub finder: Arc<dyn ProviderFinder>,
    pub peers: Mutex<HashMap<PeerId, Arc<PeerConn>>>,
    pub client: Mutex<ClientState>,
    pub server: Mutex<ServerState>,
    pub server_wake: Notify,
    pub stats: Counters,
    offenders: Mutex<HashMap<PeerId, Offender>>,
    arrivals: mpsc::Sender<Arrival>,
    pub next_id: AtomicU64,
}

/// Locks, shrugging off poison: every critical section leaves the state consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Inner {
    pub(crate) fn is_banned(&self, peer: &PeerId) -> bool {
        let mut o = lock(&self.offenders);
        match o.get(peer).and_then(|x| x.banned_until) {
            Some(t) if t > Instant::now() => true,
            Some(_) => {
                o.remove(peer);
                false
            }
            None => false,
        }
    }

    /// Scores an offense; past the limit the peer is banned, forgotten and disconnected.
    pub(crate) fn offend(self: &Arc<Self>, peer: PeerId, what: Offense) {
        let cut = {
            let mut o = lock(&self.offenders);
            let e = o.entry(peer).or_default();
            if e.banned_until.is_some() {
                return;
            }
            e.score = e.score.saturating_add(what.points(&self.cfg));
            if e.score >= self.cfg.max_offense_score {
                e.banned_until = Some(Instant::now() + self.cfg.ban_duration);
                true
            } else {
                false
            }
        };
        if cut {
            tracing::info!(%peer, ?what, "bitswap: cutting off a misbehaving peer");
            self.remove_peer(peer);
            let net = self.net.clone();
            tokio::spawn(async move {
                let _ = net.disconnect(peer).await;
            });
        } else {
            tracing::debug!(%peer, ?what, "bitswap: peer misbehaved");
        }
    }

    /// Halves every score and forgets expired bans: a peer is cut off for misbehaving
    /// persistently, not for a stray block now and then, and the table stays small.
    fn decay_offenses(&self) {
        let now = Instant::now();
        lock(&self.offenders).retain(|_, o| {
            o.score /= 2;
            match o.banned_until {
                Some(t) => t > now,
                None => o.score > 0,
            }
        });
    }

    /// Starts tracking a connected peer (idempotent).
    pub(crate) fn add_peer(self: &Arc<Self>, peer: PeerId) -> Option<Arc<PeerConn>> {
        if peer == self.net.local_peer_id() || self.is_banned(&peer) {
            return None;
        }
        let conn = {
            let mut peers = lock(&self.peers);
            if let Some(c) = peers.get(&peer) {
                return Some(c.clone());
            }
            let c = PeerConn::start(self, peer);
            peers.insert(peer, c.clone());
            c
        };
        lock(&self.client).add_peer(peer);
        session::broadcast_event(self, session::SessionEvent::PeerNew(peer));
        Some(conn)
    }

    pub(crate) fn remove_peer(self: &Arc<Self>, peer: PeerId) {
        let Some(conn) = lock(&self.peers).remove(&peer) else { return };
        conn.stop();
        lock(&self.client).peer_gone(&peer);
        lock(&self.server).peer_gone(&peer);
        session::broadcast_event(self, session::SessionEvent::PeerGone(peer));
    }

    pub(crate) fn peer(&self, peer: &PeerId) -> Option<Arc<PeerConn>> {
        lock(&self.peers).get(peer).cloned()
    }

    /// Connected peers that speak (or may speak: not identified yet) Bitswap.
    pub(crate) fn bitswap_peers(&self) -> Vec<PeerId> {
        lock(&self.peers).values().filter(|c| c.maybe_bitswap()).map(|c| c.peer).collect()
    }
}

/// Tasks that live as long as some [`Bitswap`] handle does.
struct Tasks {
    inner: Arc<Inner>,
    handles: Vec<JoinHandle<()>>,
}

impl Drop for Tasks {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
        let peers: Vec<PeerId> = lock(&self.inner.peers).keys().copied().collect();
        for p in peers {
            self.inner.remove_peer(p);
        }
    }
}

/// The Bitswap service. Clone freely; when the last clone is dropped, it stops.
#[derive(Clone)]
pub struct Bitswap {
    inner: Arc<Inner>,
    _tasks: Arc<Tasks>,
}

impl Bitswap {
    /// Starts Bitswap on the network: registers the protocols, greets connected peers.
    pub async fn new(net: NetHandle, store: Arc<dyn BlockStore>, cfg: Config) -> Result<Self, Error> {
        Self::with_finder(net, store, cfg, Arc::new(NoProviders)).await
    }

    pub async fn with_finder(
        net: NetHandle,
        store: Arc<dyn BlockStore>,
        cfg: Config,
        finder: Arc<dyn ProviderFinder>,
    ) -> Result<Self, Error> {
        // Subscribe before listing peers, so none falls in between.
        let events = net.subscribe();
        let incoming = net::accept_all(&net)?;
        let (arrivals_tx, arrivals_rx) = mpsc::channel(64);
        let inner = Arc::new(Inner {
            cfg: cfg.clone(),
            store,
            net: net.clone(),
            finder,
            peers: Mutex::default(),
            client: Mutex::new(ClientState::default()),
            server: Mutex::new(ServerState::default()),
            server_wake: Notify::new(),
            stats: Counters::default(),
            offenders: Mutex::default(),
            arrivals: arrivals_tx,
            next_id: AtomicU64::new(1),
        });
        let mut handles = Vec::new();
        for (version, streams) in incoming {
            handles.push(tokio::spawn(net::accept_loop(inner.clone(), version, streams)));
        }
        handles.push(tokio::spawn(event_loop(inner.clone(), events)));
        handles.push(tokio::spawn(store_loop(inner.clone(), arrivals_rx)));
        handles.push(tokio::spawn(housekeeping(inner.clone())));
        for _ in 0..cfg.server_workers.max(1) {
            handles.push(tokio::spawn(server::worker(inner.clone())));
        }
        if let Ok(peers) = net.peers().await {
            for p in peers {
                if let Some(conn) = inner.add_peer(p.peer) {
                    conn.set_protocols(&p.protocols);
                }
            }
        }
        Ok(Self { inner: inner.clone(), _tasks: Arc::new(Tasks { inner, handles }) })
    }

    /// A new session: blocks of one DAG (or one request) fetched together.
    pub fn session(&self) -> Session {
        Session::new(self.inner.clone())
    }

    /// One block: from the store if held, else fetched with a session of its own.
    pub async fn get(&self, cid: &Cid) -> Result<Block, Error> {
        self.session().get(cid).await
    }

    /// Tells Bitswap blocks were stored locally: peers that want them get them now, and local
    /// sessions waiting for them stop asking the network.
    pub fn notify_new_blocks(&self, blocks: &[Block]) {
        session::deliver_local(&self.inner, blocks);
        server::notify(&self.inner, blocks.iter().map(|b| *b.cid()));
    }

    /// Our wantlist (`peer: None`), or what `peer` wants from us (Kubo's `bitswap wantlist -p`).
    pub fn wantlist(&self, peer: Option<PeerId>) -> Vec<Cid> {
        match peer {
            None => lock(&self.inner.client).wantlist(),
            Some(p) => lock(&self.inner.server).wantlist(&p),
        }
    }

    /// What we exchanged with `peer` (`bitswap ledger`).
    pub fn ledger(&self, peer: PeerId) -> LedgerInfo {
        lock(&self.inner.server).ledger_info(peer)
    }

    /// Counters for `bitswap stat`.
    pub fn stat(&self) -> Stat {
        let s = &self.inner.stats;
        let mut peers: Vec<PeerId> = self.inner.bitswap_peers();
        peers.sort();
        Stat {
            provide_buf_len: 0,
            wantlist: self.wantlist(None),
            peers: peers.iter().map(|p| p.to_string()).collect(),
            blocks_received: s.blocks_received.load(Ordering::Relaxed),
            data_received: s.data_received.load(Ordering::Relaxed),
            dup_blks_received: s.dup_blocks.load(Ordering::Relaxed),
            dup_data_received: s.dup_data.load(Ordering::Relaxed),
            blocks_sent: s.blocks_sent.load(Ordering::Relaxed),
            data_sent: s.data_sent.load(Ordering::Relaxed),
            messages_received: s.messages_received.load(Ordering::Relaxed),
        }
    }

    /// Blocks we sent to and received (wanted) from `peer` while it has been connected.
    pub fn block_counts(&self, peer: &PeerId) -> (u64, u64) {
        server::block_counts_of(&self.inner, peer)
    }

    /// Whether `peer` is cut off now.
    pub fn is_banned(&self, peer: &PeerId) -> bool {
        self.inner.is_banned(peer)
    }

    pub fn local_peer_id(&self) -> PeerId {
        self.inner.net.local_peer_id()
    }
}

/// Follows peers coming and going.
async fn event_loop(inner: Arc<Inner>, mut events: broadcast::Receiver<NetEvent>) {
    loop {
        match events.recv().await {
            Ok(NetEvent::PeerConnected { peer, .. }) => {
                if inner.is_banned(&peer) {
                    let net = inner.net.clone();
                    tokio::spawn(async move {
                        let _ = net.disconnect(peer).await;
                    });
                } else {
                    inner.add_peer(peer);
                }
            }
            Ok(NetEvent::PeerDisconnected { peer }) => inner.remove_peer(peer),
            Ok(NetEvent::PeerIdentified { peer, info }) => {
                if let Some(c) = inner.add_peer(peer) {
                    c.set_protocols(&info.protocols);
                }
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // Missed events: resynchronise with the actual peer set.
                if let Ok(now) = inner.net.peers().await {
                    let live: std::collections::HashSet<PeerId> = now.iter().map(|p| p.peer).collect();
                    let known: Vec<PeerId> = lock(&inner.peers).keys().copied().collect();
                    for p in known.into_iter().filter(|p| !live.contains(p)) {
                        inner.remove_peer(p);
                    }
                    for p in now {
                        if let Some(c) = inner.add_peer(p.peer) {
                            c.set_protocols(&p.protocols);
                        }
                    }
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Most bytes stored in one `put_many`.
const STORE_BATCH_BYTES: usize = 32 << 20;

/// Stores wanted blocks in batches (whatever queued while the last batch was written), then
/// hands them to sessions and to peers waiting for them.
async fn store_loop(inner: Arc<Inner>, mut rx: mpsc::Receiver<Arrival>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let mut bytes: usize = batch[0].blocks.iter().map(Block::len).sum();
        while bytes < STORE_BATCH_BYTES {
            match rx.try_recv() {
                Ok(a) => {
                    bytes += a.blocks.iter().map(Block::len).sum::<usize>();
                    batch.push(a);
                }
                Err(_) => break,
            }
        }
        let blocks: Vec<Block> = batch.iter().flat_map(|a| a.blocks.iter().cloned()).collect();
        let store = inner.store.clone();
        match tokio::task::spawn_blocking(move || store.put_many(&blocks)).await {
            Ok(Ok(())) => {}
            // The reader still gets its block; the node's block service decides what a failed
            // store means for it.
            Ok(Err(e)) => tracing::warn!("bitswap: storing fetched blocks failed: {e}"),
            Err(e) => tracing::warn!("bitswap: store task failed: {e}"),
        }
        for a in batch {
            session::deliver(&inner, a.from, a.blocks.clone()).await;
            server::notify(&inner, a.blocks.iter().map(|b| *b.cid()));
        }
    }
}

/// Periodic work: full wantlists, offense decay.
async fn housekeeping(inner: Arc<Inner>) {
    let mut tick = tokio::time::interval(inner.cfg.full_wantlist_interval);
    tick.tick().await;
    loop {
        tick.tick().await;
        inner.decay_offenses();
        let peers = lock(&inner.client).mark_full_wantlists();
        for p in peers {
            if let Some(c) = inner.peer(&p) {
                c.wake_client();
            }
        }
    }
}
