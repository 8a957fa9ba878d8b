//! Sessions: fetching many blocks at once from the peers that hold them.
//!
//! # Algorithm
//! Each session is one task that owns its wants and its peers.
//! - A want no session peer can serve is *searched for*: want-have (with send-dont-have) to
//!   every connected Bitswap peer (at most [`MAX_SEARCHING`] such wants at once). A peer that
//!   answers HAVE, or sends the block, joins the session. After
//!   [`crate::Config::provider_search_delay`] the [`crate::ProviderFinder`] is asked too, and
//!   the want-have goes to what it finds. Broadcasts happen only for wants no session peer can
//!   take.
//! - Other wants are assigned as want-block (with send-dont-have) to one session peer each:
//!   a peer that said HAVE for it first, then the peer with the most free room in its window.
//!   Each peer has a window of wants in flight, starting at [`crate::Config::initial_window`],
//!   growing by one per block while under its threshold and more slowly above it (like TCP's
//!   slow start and congestion avoidance), halved on a timeout. Its timeout follows the smoothed
//!   time from want to block (`3 × srtt + 0.25 s`, within 0.5..10 s), so slow peers get fewer
//!   wants and fast ones more, and queued time at the server is part of the measure.
//! - DONT_HAVE, a timeout, or the peer disconnecting moves the want to another session peer;
//!   once no session peer is left for it, it is searched for again. A want that later wants to
//!   the same peer overtook three times is asked for again at once (a lost answer).
//! - A block arriving cancels the want at every other peer; a request that no longer wants
//!   blocks (its stream dropped) cancels the rest.
//!
//! [`Session::get_many`] is bounded: at most [`crate::Config::max_outstanding`] blocks requested
//! and not yet taken by the reader, so memory does not grow with the DAG.
//! [`Session::fetch_dag`] walks a DAG: each block's children are requested together, depth
//! first, so the frontier stays at depth × fan-out.

use std::collections::{HashMap, HashSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt as _};
use libp2p::PeerId;
use rubo_types::{Block, Cid};
use tokio::sync::{Semaphore, mpsc};

use crate::message::{Entry, Presence, WantType};
use crate::store::identity_block;
use crate::{Error, Inner, lock};

/// Most wants a session searches for (broadcasts) at once.
pub(crate) const MAX_SEARCHING: usize = 64;
/// Silence after which a searched-for want is asked again (then twice as long each time).
const FIRST_RESEARCH: Duration = Duration::from_secs(1);
/// Later wants answered before a want, after which it is asked for again.
const FAST_RETRY_AFTER: u32 = 3;
/// Provider lookups a session runs at once.
const MAX_FINDS: usize = 4;
/// Providers asked for per lookup (boxo: 10).
const PROVIDERS_PER_FIND: usize = 10;
const SESSION_EVENTS: usize = 4096;
/// Below this many peers a session looks for more among the connected ones.
const DISCOVERY_TARGET: usize = 8;
/// Want-haves sent to each connected non-session peer to find out if it holds the content.
const PROBES_PER_PEER: u8 = 4;

/// What the shared client tells a session.
#[derive(Clone, Debug)]
pub(crate) enum SessionEvent {
    Block(Block, PeerId),
    Presence(Cid, Presence, PeerId),
    PeerNew(PeerId),
    PeerGone(PeerId),
}

enum Cmd {
    NewReq { req: u64, out: mpsc::Sender<Result<Block, Error>> },
    Want { req: u64, cid: Cid },
    FeedDone { req: u64 },
    CancelReq { req: u64 },
    Providers { cid: Cid, peers: Vec<PeerId> },
}

/// Sends an event to every session (peer changes).
pub(crate) fn broadcast_event(inner: &Inner, ev: SessionEvent) {
    let senders = lock(&inner.client).session_senders();
    for s in senders {
        // A session too far behind to take this recovers through its timeouts.
        let _ = s.try_send(ev.clone());
    }
}

/// Hands stored blocks to the sessions that want them; cancels them elsewhere.
pub(crate) async fn deliver(inner: &Inner, from: PeerId, blocks: Vec<Block>) {
    let mut sends = Vec::new();
    let mut wake = HashSet::new();
    {
        let mut c = lock(&inner.client);
        for b in blocks {
            let (sessions, peers) = c.on_block(&from, b.cid());
            if sessions.is_empty() {
                // Another copy got here first.
                inner.stats.dup_blocks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                inner.stats.dup_data.fetch_add(b.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
            wake.extend(peers);
            for s in sessions {
                sends.push((s, b.clone()));
            }
        }
    }
    for p in wake {
        if let Some(c) = inner.peer(&p) {
            c.wake_client();
        }
    }
    for (s, b) in sends {
        // Sessions drain their queue continuously; blocks are never dropped here.
        let _ = s.send(SessionEvent::Block(b, from)).await;
    }
}

/// Blocks stored locally (not fetched): handed to the sessions waiting for them.
pub(crate) fn deliver_local(inner: &Inner, blocks: &[Block]) {
    let local = inner.net.local_peer_id();
    let mut sends = Vec::new();
    let mut wake = HashSet::new();
    {
        let mut c = lock(&inner.client);
        for b in blocks {
            let (sessions, peers) = c.on_block(&local, b.cid());
            wake.extend(peers);
            sends.extend(sessions.into_iter().map(|s| (s, b.clone())));
        }
    }
    for p in wake {
        if let Some(c) = inner.peer(&p) {
            c.wake_client();
        }
    }
    for (s, b) in sends {
        // Session queues are drained continuously and sized far above what is in flight.
        let _ = s.try_send(SessionEvent::Block(b, local));
    }
}

/// HAVE / DONT_HAVE from `peer`: to the sessions that want those blocks.
pub(crate) fn on_presences(inner: &Inner, peer: PeerId, presences: Vec<(Cid, Presence)>) {
    let mut sends = Vec::new();
    {
        let c = lock(&inner.client);
        for (cid, p) in presences {
            for s in c.sessions_for(&cid) {
                sends.push((s, SessionEvent::Presence(cid, p, peer)));
            }
        }
    }
    for (s, ev) in sends {
        // Presences are hints: a full queue loses one, and timeouts cover it.
        let _ = s.try_send(ev);
    }
}

/// A fetch session. Cheap to keep; dropping it (and its streams) ends it and cancels its wants.
pub struct Session {
    inner: Arc<Inner>,
    cmds: mpsc::Sender<Cmd>,
}

impl Session {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        let id = inner.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (ev_tx, ev_rx) = mpsc::channel(SESSION_EVENTS);
        let (cmd_tx, cmd_rx) = mpsc::channel(256);
        lock(&inner.client).add_session(id, ev_tx);
        let actor = Actor {
            inner: inner.clone(),
            id,
            self_tx: cmd_tx.downgrade(),
            reqs: HashMap::new(),
            wants: HashMap::new(),
            queue: VecDeque::new(),
            searching: HashSet::new(),
            peers: HashMap::new(),
            probed: HashMap::new(),
            prio: i32::MAX,
            finds: 0,
        };
        tokio::spawn(actor.run(cmd_rx, ev_rx));
        Self { inner, cmds: cmd_tx }
    }

    /// Fetches one block (from the store if held).
    pub async fn get(&self, cid: &Cid) -> Result<Block, Error> {
        let mut s = self.get_many([*cid]);
        s.next().await.unwrap_or(Err(Error::Closed))
    }

    /// Fetches blocks, handed out as they arrive (any order), each requested CID once.
    pub fn get_many(&self, cids: impl IntoIterator<Item = Cid, IntoIter: Send + 'static>) -> BlockStream {
        self.get_stream(futures::stream::iter(cids))
    }

    /// Like [`Session::get_many`], with CIDs that come from a stream (fed as room allows).
    pub fn get_stream(&self, cids: impl Stream<Item = Cid> + Send + 'static) -> BlockStream {
        let limit = self.inner.cfg.max_outstanding.max(1);
        let req = self.inner.next_id.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Room for every permit: the session never waits on the reader.
        let (out_tx, out_rx) = mpsc::channel(limit);
        let sem = Arc::new(Semaphore::new(limit));
        let feeder = feed(self.inner.clone(), self.cmds.clone(), req, out_tx, sem.clone(), cids);
        tokio::spawn(feeder);
        BlockStream { rx: out_rx, sem: Some(sem), cancel: Some((self.cmds.clone(), req)) }
    }

    /// Fetches a whole DAG from `root` (blocks already held are read locally): every block once,
    /// in arrival order. Children of each node are requested together.
    pub fn fetch_dag(&self, root: Cid) -> BlockStream {
        let (out_tx, out_rx) = mpsc::channel(16);
        let limit = self.inner.cfg.max_outstanding.max(1);
        let (cid_tx, cid_rx) = mpsc::channel::<Cid>(limit);
        let cids = futures::stream::unfold(cid_rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
        let mut blocks = self.get_stream(cids);
        tokio::spawn(async move {
            let mut stack: Vec<VecDeque<Cid>> = vec![VecDeque::from([root])];
            let mut seen: HashSet<[u8; 16]> = HashSet::new();
            let mut outstanding = 0usize;
            loop {
                while outstanding < limit {
                    let Some(top) = stack.last_mut() else { break };
                    let Some(cid) = top.pop_front() else {
                        stack.pop();
                        continue;
                    };
                    if !seen.insert(fingerprint(&cid)) {
                        continue;
                    }
                    // The channel has room for `limit`, and fewer are outstanding.
                    if cid_tx.try_send(cid).is_err() {
                        return;
                    }
                    outstanding += 1;
                }
                if outstanding == 0 {
                    return;
                }
                let next = tokio::select! {
                    r = blocks.next() => r,
                    // The reader left: stop now (dropping `blocks` cancels the wants).
                    () = out_tx.closed() => return,
                };
                let Some(r) = next else {
                    let _ = out_tx.send(Err(Error::Closed)).await;
                    return;
                };
                outstanding -= 1;
                if let Ok(b) = &r {
                    match rubo_dag::links::block_links(b) {
                        Ok(links) if !links.is_empty() => stack.push(links.into()),
                        Ok(_) => {}
                        // A block we cannot decode has no links we can follow (Kubo fails the
                        // walk; the reader sees the block and decides).
                        Err(e) => tracing::debug!(cid = %b.cid(), "bitswap: no links: {e}"),
                    }
                }
                if out_tx.send(r).await.is_err() {
                    return;
                }
            }
        });
        BlockStream { rx: out_rx, sem: None, cancel: None }
    }
}

/// 16 bytes of the digest: enough to tell blocks apart in a walk, at a fraction of a CID's size.
fn fingerprint(cid: &Cid) -> [u8; 16] {
    let d = cid.hash().digest();
    let mut f = [0u8; 16];
    let tail = &d[d.len().saturating_sub(16)..];
    f[..tail.len()].copy_from_slice(tail);
    f[15] ^= cid.codec() as u8;
    f
}

/// Feeds a request's CIDs to the session as the reader makes room.
async fn feed(
    inner: Arc<Inner>,
    cmds: mpsc::Sender<Cmd>,
    req: u64,
    out: mpsc::Sender<Result<Block, Error>>,
    sem: Arc<Semaphore>,
    cids: impl Stream<Item = Cid> + Send + 'static,
) {
    if cmds.send(Cmd::NewReq { req, out: out.clone() }).await.is_err() {
        return;
    }
    let mut cids = std::pin::pin!(cids);
    let mut requested = HashSet::new();
    while let Some(cid) = cids.next().await {
        if !requested.insert(cid) {
            continue;
        }
        let Ok(permit) = sem.acquire().await else { return };
        // Given back by the reader when it takes an item.
        permit.forget();
        if let Some(b) = identity_block(&cid) {
            if out.send(Ok(b)).await.is_err() {
                return;
            }
            continue;
        }
        let store = inner.store.clone();
        let local = tokio::task::spawn_blocking(move || store.get(&cid)).await;
        if let Ok(Ok(Some(b))) = local {
            if out.send(Ok(b)).await.is_err() {
                return;
            }
            continue;
        }
        if cmds.send(Cmd::Want { req, cid }).await.is_err() {
            return;
        }
    }
    let _ = cmds.send(Cmd::FeedDone { req }).await;
}

/// Blocks of a request, as they arrive. Dropping it cancels what is still wanted.
pub struct BlockStream {
    rx: mpsc::Receiver<Result<Block, Error>>,
    sem: Option<Arc<Semaphore>>,
    cancel: Option<(mpsc::Sender<Cmd>, u64)>,
}

impl Stream for BlockStream {
    type Item = Result<Block, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let r = self.rx.poll_recv(cx);
        if let (Poll::Ready(Some(_)), Some(sem)) = (&r, &self.sem) {
            sem.add_permits(1);
        }
        r
    }
}

impl Drop for BlockStream {
    fn drop(&mut self) {
        if let Some((cmds, req)) = self.cancel.take() {
            // If the queue is full the session notices the closed channel on its next tick.
            let _ = cmds.try_send(Cmd::CancelReq { req });
        }
    }
}

struct Req {
    out: mpsc::Sender<Result<Block, Error>>,
    /// Wants of this request not delivered yet.
    wanted: usize,
    fed: bool,
}

struct Want {
    reqs: Vec<u64>,
    created: Instant,
    priority: i32,
    /// The session peer asked for the block, and when.
    sent: Option<(PeerId, Instant)>,
    have: HashSet<PeerId>,
    dont_have: HashSet<PeerId>,
    timed_out: HashSet<PeerId>,
    broadcast_at: Option<Instant>,
    provider_search: bool,
    /// Blocks from the peer asked for this one that were asked for after it.
    overtaken: u32,
    /// Times it was searched for.
    searches: u32,
}

struct SessPeer {
    inflight: usize,
    window: f64,
    threshold: f64,
    srtt: Option<Duration>,
}

impl SessPeer {
    fn new(initial: usize, max: usize) -> Self {
        Self { inflight: 0, window: initial as f64, threshold: max as f64, srtt: None }
    }

    fn free(&self) -> usize {
        (self.window as usize).saturating_sub(self.inflight)
    }

    fn timeout(&self) -> Duration {
        match self.srtt {
            Some(s) => (s * 3 + Duration::from_millis(250)).clamp(Duration::from_millis(500), Duration::from_secs(10)),
            None => Duration::from_secs(5),
        }
    }

    fn on_block(&mut self, rtt: Duration, max: usize) {
        self.srtt = Some(match self.srtt {
            Some(s) => (s * 7 + rtt) / 8,
            None => rtt,
        });
        self.window += if self.window < self.threshold { 1.0 } else { 1.0 / self.window };
        self.window = self.window.min(max as f64);
    }

    fn on_timeout(&mut self) {
        self.threshold = (self.window / 2.0).max(2.0);
        self.window = self.threshold;
    }
}

enum Pick {
    Peer(PeerId),
    /// Candidates exist but their windows are full.
    Busy,
    /// No session peer can take it.
    Nobody,
}

struct Actor {
    inner: Arc<Inner>,
    id: u64,
    self_tx: mpsc::WeakSender<Cmd>,
    reqs: HashMap<u64, Req>,
    wants: HashMap<Cid, Want>,
    /// Wants waiting for a session peer, oldest (or bounced) first. May hold stale entries.
    queue: VecDeque<Cid>,
    searching: HashSet<Cid>,
    peers: HashMap<PeerId, SessPeer>,
    /// Want-haves sent to connected peers outside the session (discovery).
    probed: HashMap<PeerId, u8>,
    prio: i32,
    finds: usize,
}

impl Actor {
    async fn run(mut self, mut cmds: mpsc::Receiver<Cmd>, mut events: mpsc::Receiver<SessionEvent>) {
        let mut tick = tokio::time::interval(self.inner.cfg.tick);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                c = cmds.recv() => match c {
                    Some(c) => self.on_cmd(c),
                    None => break,
                },
                Some(ev) = events.recv() => {
                    self.on_event(ev);
                    // Take everything queued before deciding whom to ask.
                    while let Ok(ev) = events.try_recv() {
                        self.on_event(ev);
                    }
                }
                _ = tick.tick() => self.on_tick(),
            }
            while let Ok(c) = cmds.try_recv() {
                self.on_cmd(c);
            }
            self.schedule();
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        lock(&self.inner.client).remove_session(self.id);
        let net = self.inner.net.clone();
        let tag = self.tag();
        let peers: Vec<PeerId> = self.peers.keys().copied().collect();
        tokio::spawn(async move {
            for p in peers {
                let _ = net.unprotect(p, tag.clone()).await;
            }
        });
        let cids: Vec<Cid> = self.wants.keys().copied().collect();
        for cid in cids {
            self.drop_want(&cid);
        }
    }

    fn on_cmd(&mut self, c: Cmd) {
        match c {
            Cmd::NewReq { req, out } => {
                self.reqs.insert(req, Req { out, wanted: 0, fed: false });
            }
            Cmd::Want { req, cid } => {
                let Some(r) = self.reqs.get_mut(&req) else { return };
                r.wanted += 1;
                if let Some(w) = self.wants.get_mut(&cid) {
                    w.reqs.push(req);
                    return;
                }
                self.prio = self.prio.saturating_sub(1).max(1);
                self.wants.insert(
                    cid,
                    Want {
                        reqs: vec![req],
                        created: Instant::now(),
                        priority: self.prio,
                        sent: None,
                        have: HashSet::new(),
                        dont_have: HashSet::new(),
                        timed_out: HashSet::new(),
                        broadcast_at: None,
                        provider_search: false,
                        overtaken: 0,
                        searches: 0,
                    },
                );
                lock(&self.inner.client).want(self.id, cid);
                self.queue.push_back(cid);
            }
            Cmd::FeedDone { req } => {
                if let Some(r) = self.reqs.get_mut(&req) {
                    r.fed = true;
                }
                self.maybe_finish(req);
            }
            Cmd::CancelReq { req } => self.cancel_req(req),
            Cmd::Providers { cid, peers } => {
                self.finds = self.finds.saturating_sub(1);
                let Some(w) = self.wants.get(&cid) else { return };
                let entry = Entry::want(cid, w.priority, WantType::Have, true);
                for p in peers {
                    self.send_to(p, vec![entry.clone()]);
                }
            }
        }
    }

    fn maybe_finish(&mut self, req: u64) {
        if self.reqs.get(&req).is_some_and(|r| r.fed && r.wanted == 0) {
            // Dropping our sender ends the reader's stream once the feeder's is gone too.
            self.reqs.remove(&req);
        }
    }

    fn cancel_req(&mut self, req: u64) {
        if self.reqs.remove(&req).is_none() {
            return;
        }
        let orphans: Vec<Cid> = self
            .wants
            .iter_mut()
            .filter_map(|(cid, w)| {
                w.reqs.retain(|r| *r != req);
                w.reqs.is_empty().then_some(*cid)
            })
            .collect();
        for cid in orphans {
            self.drop_want(&cid);
        }
    }

    /// Forgets a want: frees its peer's slot and cancels it at every peer.
    fn drop_want(&mut self, cid: &Cid) {
        let Some(w) = self.wants.remove(cid) else { return };
        if let Some((p, _)) = w.sent
            && let Some(sp) = self.peers.get_mut(&p)
        {
            sp.inflight = sp.inflight.saturating_sub(1);
        }
        self.searching.remove(cid);
        let wake = lock(&self.inner.client).unwant(self.id, cid);
        for p in wake {
            if let Some(c) = self.inner.peer(&p) {
                c.wake_client();
            }
        }
    }

    fn add_peer(&mut self, p: PeerId) {
        // A late event from a peer that is gone must not bring it back.
        if self.peers.contains_key(&p) || self.inner.peer(&p).is_none() {
            return;
        }
        let cfg = &self.inner.cfg;
        self.peers.insert(p, SessPeer::new(cfg.initial_window.max(1), cfg.max_window.max(1)));
        // Keep the connection manager away from peers we are fetching from.
        let net = self.inner.net.clone();
        let tag = self.tag();
        tokio::spawn(async move {
            let _ = net.protect(p, tag).await;
        });
    }

    fn tag(&self) -> String {
        format!("{}-{}", crate::PROTECT_TAG, self.id)
    }

    /// A block asked of `p` at `at` arrived: wants asked of `p` before it are overtaken. Servers
    /// answer in priority order (ours falls with time), so a want overtaken several times was
    /// most likely lost on the way (Kubo answers on a new stream per message, and a stream can
    /// be dropped); ask again now rather than after a timeout, like TCP's fast retransmit.
    fn overtake(&mut self, p: PeerId, at: Instant) {
        // Answers a little out of order are not lost: only count wants older than the peer's
        // usual latency.
        let Some(srtt) = self.peers.get(&p).and_then(|sp| sp.srtt) else { return };
        let now = Instant::now();
        let mut lost = Vec::new();
        for (cid, w) in &mut self.wants {
            if let Some((q, t)) = w.sent
                && q == p
                && t < at
                && now.duration_since(t) > srtt
            {
                w.overtaken += 1;
                if w.overtaken >= FAST_RETRY_AFTER {
                    w.overtaken = 0;
                    lost.push(*cid);
                }
            }
        }
        for cid in lost {
            self.bounce(cid);
        }
    }

    /// Takes a want back from the peer it was sent to, to be placed again.
    fn bounce(&mut self, cid: Cid) {
        let Some(w) = self.wants.get_mut(&cid) else { return };
        if let Some((p, _)) = w.sent.take()
            && let Some(sp) = self.peers.get_mut(&p)
        {
            sp.inflight = sp.inflight.saturating_sub(1);
        }
        self.queue.push_front(cid);
    }

    fn on_event(&mut self, ev: SessionEvent) {
        match ev {
            SessionEvent::Block(b, from) => {
                let cid = *b.cid();
                let Some(w) = self.wants.remove(&cid) else { return };
                self.searching.remove(&cid);
                let max = self.inner.cfg.max_window.max(1);
                self.add_peer(from);
                if let Some((p, at)) = w.sent
                    && let Some(sp) = self.peers.get_mut(&p)
                {
                    sp.inflight = sp.inflight.saturating_sub(1);
                    if p == from {
                        sp.on_block(at.elapsed(), max);
                        self.overtake(p, at);
                    }
                }
                for req in w.reqs {
                    if let Some(r) = self.reqs.get_mut(&req) {
                        r.wanted = r.wanted.saturating_sub(1);
                        // Never full: one slot per permit.
                        let _ = r.out.try_send(Ok(b.clone()));
                    }
                    self.maybe_finish(req);
                }
            }
            SessionEvent::Presence(cid, Presence::Have, p) => {
                // Even for a block that already arrived: the peer holds this session's content.
                self.add_peer(p);
                let Some(w) = self.wants.get_mut(&cid) else { return };
                w.have.insert(p);
                w.timed_out.remove(&p);
                if w.sent.is_none() {
                    self.searching.remove(&cid);
                    self.queue.push_front(cid);
                }
            }
            SessionEvent::Presence(cid, Presence::DontHave, p) => {
                let Some(w) = self.wants.get_mut(&cid) else { return };
                w.have.remove(&p);
                w.dont_have.insert(p);
                if w.sent.is_some_and(|(s, _)| s == p) {
                    self.bounce(cid);
                }
            }
            SessionEvent::PeerNew(p) => {
                // Searched-for wants go to newcomers too.
                let entries: Vec<Entry> = self
                    .searching
                    .iter()
                    .filter_map(|c| self.wants.get(c).map(|w| Entry::want(*c, w.priority, WantType::Have, true)))
                    .collect();
                if !entries.is_empty() {
                    self.send_to(p, entries);
                }
            }
            SessionEvent::PeerGone(p) => {
                self.peers.remove(&p);
                let lost: Vec<Cid> =
                    self.wants.iter().filter(|(_, w)| w.sent.is_some_and(|(s, _)| s == p)).map(|(c, _)| *c).collect();
                for cid in lost {
                    if let Some(w) = self.wants.get_mut(&cid) {
                        w.sent = None;
                        w.have.remove(&p);
                    }
                    self.queue.push_front(cid);
                }
            }
        }
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let cfg = self.inner.cfg.clone();
        // Readers that went away.
        let closed: Vec<u64> = self.reqs.iter().filter(|(_, r)| r.out.is_closed()).map(|(id, _)| *id).collect();
        for req in closed {
            self.cancel_req(req);
        }
        let mut expired = Vec::new();
        let mut late = Vec::new();
        let mut rebroadcast = Vec::new();
        let mut find = Vec::new();
        for (cid, w) in &self.wants {
            if now.duration_since(w.created) > cfg.fetch_timeout {
                expired.push(*cid);
                continue;
            }
            if let Some((p, at)) = w.sent {
                let limit = self.peers.get(&p).map(SessPeer::timeout).unwrap_or_default();
                if now.duration_since(at) > limit {
                    late.push((*cid, p));
                }
            }
            if let Some(at) = w.broadcast_at
                && self.searching.contains(cid)
            {
                if !w.provider_search && now.duration_since(at) >= cfg.provider_search_delay {
                    find.push(*cid);
                }
                // Every 1.2.0 peer answers a want-have with send-dont-have, so silence means the
                // question or the answer was lost: ask again after 1 s, 2 s, 4 s... up to the
                // rebroadcast interval.
                let backoff =
                    (FIRST_RESEARCH * (1 << w.searches.saturating_sub(1).min(16))).min(cfg.rebroadcast_interval);
                if now.duration_since(at) >= backoff {
                    rebroadcast.push(*cid);
                }
            }
        }
        for cid in expired {
            let Some(w) = self.wants.get(&cid) else { continue };
            let reqs = w.reqs.clone();
            // Cancel first: whoever sees the error finds the want gone.
            self.drop_want(&cid);
            for req in reqs {
                if let Some(r) = self.reqs.get_mut(&req) {
                    r.wanted = r.wanted.saturating_sub(1);
                    let _ = r.out.try_send(Err(Error::Timeout(Box::new(cid))));
                }
                self.maybe_finish(req);
            }
        }
        for (cid, p) in late {
            if let Some(sp) = self.peers.get_mut(&p) {
                sp.on_timeout();
            }
            if let Some(w) = self.wants.get_mut(&cid) {
                w.timed_out.insert(p);
            }
            self.bounce(cid);
        }
        for cid in rebroadcast {
            // Give every peer another chance, then place or search again.
            self.searching.remove(&cid);
            if let Some(w) = self.wants.get_mut(&cid) {
                w.timed_out.clear();
                w.broadcast_at = None;
            }
            self.queue.push_back(cid);
        }
        for cid in find {
            if self.finds >= MAX_FINDS {
                break;
            }
            let Some(w) = self.wants.get_mut(&cid) else { continue };
            w.provider_search = true;
            self.finds += 1;
            let fut = self.inner.finder.find_providers(cid, PROVIDERS_PER_FIND);
            let tx = self.self_tx.clone();
            tokio::spawn(async move {
                let peers = fut.await;
                if let Some(tx) = tx.upgrade() {
                    let _ = tx.send(Cmd::Providers { cid, peers }).await;
                }
            });
        }
    }

    fn pick(&self, w: &Want) -> Pick {
        let mut best: Option<((bool, bool, usize), PeerId)> = None;
        let mut any = false;
        for (p, sp) in &self.peers {
            let has = w.have.contains(p);
            if w.dont_have.contains(p) || (w.timed_out.contains(p) && !has) {
                continue;
            }
            any = true;
            let free = sp.free();
            if free == 0 {
                continue;
            }
            let score = (has, sp.srtt.is_some(), free);
            if best.as_ref().is_none_or(|(s, _)| score > *s) {
                best = Some((score, *p));
            }
        }
        match (best, any) {
            (Some((_, p)), _) => Pick::Peer(p),
            (None, true) => Pick::Busy,
            (None, false) => Pick::Nobody,
        }
    }

    /// Places queued wants on session peers; searches for those nobody can take.
    fn schedule(&mut self) {
        // Peers that left without us hearing of it (a dropped event) give their wants back.
        let gone: Vec<PeerId> = self.peers.keys().filter(|p| self.inner.peer(p).is_none()).copied().collect();
        for p in gone {
            self.on_event(SessionEvent::PeerGone(p));
        }
        let mut batches: HashMap<PeerId, Vec<Entry>> = HashMap::new();
        let mut search = Vec::new();
        let mut deferred = VecDeque::new();
        let mut seen = HashSet::new();
        let mut sent_now = Vec::new();
        let now = Instant::now();
        for _ in 0..self.queue.len() {
            let Some(cid) = self.queue.pop_front() else { break };
            let Some(w) = self.wants.get(&cid) else { continue };
            if w.sent.is_some() || self.searching.contains(&cid) || !seen.insert(cid) {
                continue;
            }
            match self.pick(w) {
                Pick::Peer(p) => {
                    let entry = Entry::want(cid, w.priority, WantType::Block, true);
                    sent_now.push((cid, w.priority));
                    if let Some(w) = self.wants.get_mut(&cid) {
                        w.sent = Some((p, now));
                    }
                    if let Some(sp) = self.peers.get_mut(&p) {
                        sp.inflight += 1;
                    }
                    batches.entry(p).or_default().push(entry);
                }
                Pick::Busy => deferred.push_back(cid),
                Pick::Nobody if self.searching.len() < MAX_SEARCHING => {
                    self.searching.insert(cid);
                    search.push(cid);
                }
                Pick::Nobody => deferred.push_back(cid),
            }
        }
        deferred.append(&mut self.queue);
        self.queue = deferred;
        self.discover(&sent_now, &mut batches);
        if !search.is_empty() {
            let targets = self.inner.bitswap_peers();
            for cid in search {
                let Some(w) = self.wants.get_mut(&cid) else { continue };
                w.broadcast_at = Some(now);
                w.searches = w.searches.saturating_add(1);
                for t in &targets {
                    if !w.dont_have.contains(t) {
                        batches.entry(*t).or_default().push(Entry::want(cid, w.priority, WantType::Have, true));
                    }
                }
            }
        }
        for (p, entries) in batches {
            self.send_to(p, entries);
        }
    }

    /// While the session has few peers, asks connected peers outside it
    /// want-have (no DONT_HAVE) for a few of the wants just sent: one that
    /// holds the content answers HAVE and joins, so a large fetch spreads over
    /// every peer that has it, not just the first to answer the search.
    fn discover(&mut self, sent: &[(Cid, i32)], batches: &mut HashMap<PeerId, Vec<Entry>>) {
        if sent.is_empty() || self.peers.len() >= DISCOVERY_TARGET {
            return;
        }
        if self.probed.len() > 4096 {
            self.probed.clear();
        }
        for t in self.inner.bitswap_peers() {
            if self.peers.contains_key(&t) {
                continue;
            }
            let n = self.probed.entry(t).or_default();
            for (cid, prio) in sent.iter().take(usize::from(PROBES_PER_PEER.saturating_sub(*n))) {
                batches.entry(t).or_default().push(Entry::want(*cid, *prio, WantType::Have, false));
                *n += 1;
            }
        }
    }

    fn send_to(&self, peer: PeerId, entries: Vec<Entry>) {
        if lock(&self.inner.client).send(peer, entries)
            && let Some(c) = self.inner.peer(&peer)
        {
            c.wake_client();
        }
    }
}
