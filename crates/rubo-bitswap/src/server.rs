//! The server: per-peer ledgers of wants and a fair task queue.
//!
//! A peer's wants become tasks, ordered by the peer's priorities. Peers with tasks wait in one
//! round-robin queue; a worker takes the peer at the front, answers a batch of its tasks as one
//! message of at most [`crate::Config::target_message_size`] block bytes (plus presences), and
//! puts the peer back at the end if it has more: every peer gets one message per turn, whatever
//! its appetite. A peer whose unwritten answers exceed
//! [`crate::Config::max_inflight_per_peer`] skips its turns until its writer catches up, so a slow
//! reader holds neither workers nor memory.
//!
//! want-have is answered from `size()`: HAVE without reading the block, or the block itself if
//! it is small (boxo). A want for a block we lack gets DONT_HAVE if asked for, and stays in the
//! ledger: [`notify`] turns it back into a task when the block arrives.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

use libp2p::PeerId;
use rubo_types::{BLOCK_SIZE_LIMIT, Cid};

use crate::message::{Entry, Message, Presence, ProtocolVersion, WantType};
use crate::stats::LedgerInfo;
use crate::store::{BlockStore, identity_block};
use crate::{Config, Inner, Offense, lock};

/// Tasks taken from a peer per turn (a message closes earlier once it is big enough).
const TASKS_PER_TURN: usize = 64;

#[derive(Clone, Copy, Debug)]
struct Want {
    priority: i32,
    want_type: WantType,
    send_dont_have: bool,
}

/// One thing to answer.
#[derive(Clone, Debug)]
pub(crate) struct Task {
    cid: Cid,
    want_type: WantType,
    send_dont_have: bool,
}

type TaskKey = (Reverse<i32>, u64);

struct Ledger {
    version: ProtocolVersion,
    wants: HashMap<Cid, Want>,
    tasks: BTreeMap<TaskKey, Cid>,
    task_keys: HashMap<Cid, TaskKey>,
    /// In the ready queue.
    queued: bool,
    /// A worker is answering a batch of it.
    busy: bool,
    /// Answer bytes handed to the writer and not yet written.
    inflight: usize,
    sent_bytes: u64,
    recv_bytes: u64,
    blocks_sent: u64,
    blocks_recv: u64,
    exchanged: u64,
    /// Wants refused because the ledger was full.
    refused: u64,
}

impl Ledger {
    fn new(version: ProtocolVersion) -> Self {
        Self {
            version,
            wants: HashMap::new(),
            tasks: BTreeMap::new(),
            task_keys: HashMap::new(),
            queued: false,
            busy: false,
            inflight: 0,
            sent_bytes: 0,
            recv_bytes: 0,
            blocks_sent: 0,
            blocks_recv: 0,
            exchanged: 0,
            refused: 0,
        }
    }

    fn add_task(&mut self, cid: Cid, seq: &mut u64) {
        let Some(w) = self.wants.get(&cid) else { return };
        if self.task_keys.contains_key(&cid) {
            return;
        }
        *seq += 1;
        let key = (Reverse(w.priority), *seq);
        self.tasks.insert(key, cid);
        self.task_keys.insert(cid, key);
    }

    fn remove_task(&mut self, cid: &Cid) {
        if let Some(k) = self.task_keys.remove(cid) {
            self.tasks.remove(&k);
        }
    }
}

/// Every peer's ledger, the index of who wants what, and the ready queue.
#[derive(Default)]
pub(crate) struct ServerState {
    ledgers: HashMap<PeerId, Ledger>,
    index: HashMap<Cid, HashSet<PeerId>>,
    ready: VecDeque<PeerId>,
    seq: u64,
}

pub(crate) struct Batch {
    peer: PeerId,
    version: ProtocolVersion,
    tasks: Vec<Task>,
}

/// What a worker did with a batch.
pub(crate) struct Outcome {
    msg: Message,
    /// Wants answered (block or HAVE sent), with the type they were answered as.
    done: Vec<(Cid, WantType)>,
    /// Tasks not reached (message full): back in the queue.
    leftover: Vec<Task>,
}

impl ServerState {
    fn ledger(&mut self, peer: &PeerId) -> &mut Ledger {
        self.ledgers.entry(*peer).or_insert_with(|| Ledger::new(ProtocolVersion::V120))
    }

    fn enqueue(&mut self, peer: PeerId) -> bool {
        let Some(l) = self.ledgers.get_mut(&peer) else { return false };
        if l.queued || l.busy || l.tasks.is_empty() {
            return false;
        }
        l.queued = true;
        self.ready.push_back(peer);
        true
    }

    /// Applies a received wantlist. Returns (flooding, work queued).
    fn apply(
        &mut self,
        cfg: &Config,
        peer: PeerId,
        version: ProtocolVersion,
        full: bool,
        entries: Vec<Entry>,
    ) -> (bool, bool) {
        let mut seq = self.seq;
        let l = self.ledgers.entry(peer).or_insert_with(|| Ledger::new(version));
        l.version = version;
        let index = &mut self.index;
        let unindex = |index: &mut HashMap<Cid, HashSet<PeerId>>, cid: &Cid| {
            if let Some(s) = index.get_mut(cid) {
                s.remove(&peer);
                if s.is_empty() {
                    index.remove(cid);
                }
            }
        };
        if full {
            for cid in l.wants.keys() {
                unindex(index, cid);
            }
            l.wants.clear();
            l.tasks.clear();
            l.task_keys.clear();
        }
        let mut flood = false;
        for e in entries {
            if e.cancel {
                if l.wants.remove(&e.cid).is_some() {
                    unindex(index, &e.cid);
                }
                l.remove_task(&e.cid);
                continue;
            }
            let full_ledger = l.wants.len() >= cfg.max_wants_per_peer;
            match l.wants.get_mut(&e.cid) {
                Some(w) => {
                    // A block want supersedes a have want, never the reverse.
                    if e.want_type == WantType::Block {
                        w.want_type = WantType::Block;
                    }
                    w.priority = e.priority;
                    w.send_dont_have = e.send_dont_have;
                }
                None if full_ledger => {
                    l.refused += 1;
                    flood |= l.refused > cfg.flood_threshold;
                    continue;
                }
                None => {
                    l.wants.insert(
                        e.cid,
                        Want { priority: e.priority, want_type: e.want_type, send_dont_have: e.send_dont_have },
                    );
                    index.entry(e.cid).or_default().insert(peer);
                }
            }
            l.add_task(e.cid, &mut seq);
        }
        self.seq = seq;
        (flood, self.enqueue(peer))
    }

    /// The next peer's batch, round robin; peers over their byte budget wait for their writer.
    fn next_batch(&mut self, max_inflight: usize) -> Option<Batch> {
        while let Some(peer) = self.ready.pop_front() {
            let Some(l) = self.ledgers.get_mut(&peer) else { continue };
            if l.tasks.is_empty() || l.inflight >= max_inflight {
                l.queued = false;
                continue;
            }
            let mut tasks = Vec::new();
            while tasks.len() < TASKS_PER_TURN {
                let Some((_, cid)) = l.tasks.pop_first() else { break };
                l.task_keys.remove(&cid);
                if let Some(w) = l.wants.get(&cid) {
                    tasks.push(Task { cid, want_type: w.want_type, send_dont_have: w.send_dont_have });
                }
            }
            // The peer stays out of the queue until this batch is done: one batch per peer at a
            // time keeps its answers in priority order (clients read reordering as loss).
            l.queued = false;
            l.busy = true;
            return Some(Batch { peer, version: l.version, tasks });
        }
        None
    }

    fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Records a worker's outcome. Returns whether the peer is queued again.
    fn complete(&mut self, peer: &PeerId, out: &Outcome) -> bool {
        let mut seq = self.seq;
        let Some(l) = self.ledgers.get_mut(peer) else { return false };
        l.busy = false;
        l.inflight += out.msg.block_bytes();
        for (cid, answered_as) in &out.done {
            let remove = match l.wants.get(cid) {
                // A want upgraded to a block while we sent a HAVE is still owed its block.
                Some(w) => *answered_as == WantType::Block || w.want_type == WantType::Have,
                None => false,
            };
            if remove {
                l.wants.remove(cid);
                l.remove_task(cid);
                if let Some(s) = self.index.get_mut(cid) {
                    s.remove(peer);
                    if s.is_empty() {
                        self.index.remove(cid);
                    }
                }
            }
        }
        for t in &out.leftover {
            l.add_task(t.cid, &mut seq);
        }
        self.seq = seq;
        self.enqueue(*peer)
    }

    /// A message to `peer` was written (or dropped). Returns whether the peer is queued again.
    pub(crate) fn sent(&mut self, peer: &PeerId, bytes: usize, blocks: usize, ok: bool) -> bool {
        let Some(l) = self.ledgers.get_mut(peer) else { return false };
        l.inflight = l.inflight.saturating_sub(bytes);
        if ok {
            l.sent_bytes += bytes as u64;
            l.blocks_sent += blocks as u64;
            l.exchanged += 1;
        }
        self.enqueue(*peer)
    }

    pub(crate) fn received(&mut self, peer: &PeerId, bytes: usize) {
        let l = self.ledger(peer);
        l.recv_bytes += bytes as u64;
        l.exchanged += 1;
    }

    pub(crate) fn received_blocks(&mut self, peer: &PeerId, n: usize) {
        self.ledger(peer).blocks_recv += n as u64;
    }

    pub(crate) fn peer_gone(&mut self, peer: &PeerId) {
        if let Some(l) = self.ledgers.remove(peer) {
            for cid in l.wants.keys() {
                if let Some(s) = self.index.get_mut(cid) {
                    s.remove(peer);
                    if s.is_empty() {
                        self.index.remove(cid);
                    }
                }
            }
        }
        self.ready.retain(|p| p != peer);
    }

    /// Turns wants for newly stored blocks back into tasks. Returns whether any peer was queued.
    fn blocks_arrived(&mut self, cids: impl Iterator<Item = Cid>) -> bool {
        let mut seq = self.seq;
        let mut touched = Vec::new();
        for cid in cids {
            let Some(peers) = self.index.get(&cid) else { continue };
            for p in peers {
                if let Some(l) = self.ledgers.get_mut(p) {
                    l.add_task(cid, &mut seq);
                    touched.push(*p);
                }
            }
        }
        self.seq = seq;
        let mut any = false;
        for p in touched {
            any |= self.enqueue(p);
        }
        any
    }

    pub(crate) fn wantlist(&self, peer: &PeerId) -> Vec<Cid> {
        let Some(l) = self.ledgers.get(peer) else { return Vec::new() };
        let mut v: Vec<(Reverse<i32>, Cid)> = l.wants.iter().map(|(c, w)| (Reverse(w.priority), *c)).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.to_bytes().cmp(&b.1.to_bytes())));
        v.into_iter().map(|(_, c)| c).collect()
    }

    pub(crate) fn ledger_info(&self, peer: PeerId) -> LedgerInfo {
        let (sent, recv, exchanged) =
            self.ledgers.get(&peer).map(|l| (l.sent_bytes, l.recv_bytes, l.exchanged)).unwrap_or_default();
        LedgerInfo { peer: peer.to_string(), value: sent as f64 / (recv as f64 + 1.0), sent, recv, exchanged }
    }

    /// Blocks sent to and received from `peer` (for tests and diagnostics).
    pub(crate) fn block_counts(&self, peer: &PeerId) -> (u64, u64) {
        self.ledgers.get(peer).map(|l| (l.blocks_sent, l.blocks_recv)).unwrap_or_default()
    }
}

/// A peer's wantlist arrived.
pub(crate) fn on_wantlist(inner: &Arc<Inner>, peer: PeerId, version: ProtocolVersion, full: bool, entries: Vec<Entry>) {
    let (flood, wake) = lock(&inner.server).apply(&inner.cfg, peer, version, full, entries);
    if flood {
        inner.offend(peer, Offense::Flood);
    } else if wake {
        inner.server_wake.notify_one();
    }
}

/// Blocks were stored: serve the peers waiting for them.
pub(crate) fn notify(inner: &Inner, cids: impl Iterator<Item = Cid>) {
    if lock(&inner.server).blocks_arrived(cids) {
        inner.server_wake.notify_one();
    }
}

/// Builds one answer from a batch, reading from the store (on a blocking thread).
fn process(store: &dyn BlockStore, version: ProtocolVersion, tasks: Vec<Task>, cfg: &Config) -> Outcome {
    let mut out = Outcome { msg: Message::default(), done: Vec::new(), leftover: Vec::new() };
    let presences = version.supports_have();
    let mut tasks = tasks.into_iter();
    for t in tasks.by_ref() {
        let mut missing = || {
            if presences && t.send_dont_have {
                out.msg.presences.push((t.cid, Presence::DontHave));
            }
        };
        let block = if let Some(b) = identity_block(&t.cid) {
            Some(b)
        } else if t.want_type == WantType::Have {
            match store.size(&t.cid) {
                Ok(Some(n)) if n > BLOCK_SIZE_LIMIT => None,
                Ok(Some(n)) if n > cfg.want_have_replace_size => {
                    out.msg.presences.push((t.cid, Presence::Have));
                    out.done.push((t.cid, WantType::Have));
                    continue;
                }
                Ok(Some(_)) => store.get(&t.cid).ok().flatten(),
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!("bitswap: blockstore size: {e}");
                    None
                }
            }
        } else {
            store.get(&t.cid).unwrap_or_else(|e| {
                tracing::warn!("bitswap: blockstore get: {e}");
                None
            })
        };
        // Blocks past Bitswap's limit (stored with --allow-big-block) cannot cross the wire.
        let block = block.filter(|b| b.len() <= BLOCK_SIZE_LIMIT);
        match block {
            Some(b) => {
                out.msg.blocks.push(b);
                out.done.push((t.cid, WantType::Block));
            }
            None => missing(),
        }
        if out.msg.block_bytes() >= cfg.target_message_size {
            break;
        }
    }
    out.leftover.extend(tasks);
    out
}

/// A server worker: takes a peer's turn, answers it, hands the message to the peer's writer.
pub(crate) async fn worker(inner: Arc<Inner>) {
    loop {
        let batch = lock(&inner.server).next_batch(inner.cfg.max_inflight_per_peer);
        let Some(batch) = batch else {
            inner.server_wake.notified().await;
            continue;
        };
        if lock(&inner.server).has_ready() {
            // More peers are waiting: let another worker take the next one.
            inner.server_wake.notify_one();
        }
        let Batch { peer, version, tasks } = batch;
        let Some(conn) = inner.peer(&peer) else {
            lock(&inner.server).peer_gone(&peer);
            continue;
        };
        let store = inner.store.clone();
        let cfg = inner.cfg.clone();
        let out = match tokio::task::spawn_blocking(move || process(&*store, version, tasks, &cfg)).await {
            Ok(out) => out,
            // The store panicked: give the peer nothing this turn rather than wedge its ledger.
            Err(_) => Outcome { msg: Message::default(), done: Vec::new(), leftover: Vec::new() },
        };
        let requeued = lock(&inner.server).complete(&peer, &out);
        if requeued {
            inner.server_wake.notify_one();
        }
        let bytes = out.msg.block_bytes();
        if !out.msg.is_empty() && !conn.send_answer(out.msg).await {
            requeue(&inner, &peer, bytes, 0, false);
        }
    }
}

/// After a write: the peer may take its turn again.
pub(crate) fn requeue(inner: &Inner, peer: &PeerId, bytes: usize, blocks: usize, ok: bool) {
    if lock(&inner.server).sent(peer, bytes, blocks, ok) {
        inner.server_wake.notify_one();
    }
}

/// Blocks sent to and received from `peer`.
pub(crate) fn block_counts_of(inner: &Inner, peer: &PeerId) -> (u64, u64) {
    lock(&inner.server).block_counts(peer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::{Bytes, Version, codec, hash};

    fn cid(i: u64) -> Cid {
        *rubo_types::Block::encode(Bytes::from(i.to_le_bytes().to_vec()), codec::RAW, hash::SHA2_256, None, Version::V1)
            .expect("block")
            .cid()
    }

    fn wants(range: std::ops::Range<u64>) -> Vec<Entry> {
        range.map(|i| Entry::want(cid(i), 1000 - i as i32, WantType::Block, true)).collect()
    }

    #[test]
    fn peers_take_turns_one_batch_each() {
        let cfg = Config::default();
        let mut s = ServerState::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        // A greedy peer with many wants, a modest one with a few.
        assert_eq!(s.apply(&cfg, a, ProtocolVersion::V120, false, wants(0..500)), (false, true));
        assert_eq!(s.apply(&cfg, b, ProtocolVersion::V120, false, wants(1000..1010)), (false, true));
        let first = s.next_batch(usize::MAX).expect("a batch");
        assert_eq!(first.peer, a);
        assert_eq!(first.tasks.len(), TASKS_PER_TURN);
        // Highest priority first.
        assert_eq!(first.tasks[0].cid, cid(0));
        // A is busy with its batch: B is next, whatever A still has.
        let second = s.next_batch(usize::MAX).expect("a batch");
        assert_eq!(second.peer, b);
        assert!(s.next_batch(usize::MAX).is_none(), "one batch per peer at a time");
        let done = |batch: &Batch| Outcome {
            msg: Message::default(),
            done: batch.tasks.iter().map(|t| (t.cid, WantType::Block)).collect(),
            leftover: Vec::new(),
        };
        assert!(s.complete(&a, &done(&first)), "A has more: back in the queue");
        assert!(!s.complete(&b, &done(&second)), "B is done");
        assert_eq!(s.next_batch(usize::MAX).expect("a batch").peer, a);
        assert_eq!(s.wantlist(&b), Vec::<Cid>::new());
    }

    #[test]
    fn peers_over_their_byte_budget_wait() {
        let cfg = Config::default();
        let mut s = ServerState::default();
        let a = PeerId::random();
        s.apply(&cfg, a, ProtocolVersion::V120, false, wants(0..200));
        let batch = s.next_batch(cfg.max_inflight_per_peer).expect("a batch");
        let big = rubo_types::Block::new_unchecked(cid(0), Bytes::from(vec![0u8; cfg.max_inflight_per_peer]));
        let out = Outcome {
            msg: Message { blocks: vec![big], ..Message::default() },
            done: Vec::new(),
            leftover: batch.tasks,
        };
        s.complete(&a, &out);
        assert!(s.next_batch(cfg.max_inflight_per_peer).is_none(), "over budget: skipped");
        // The writer catches up: the peer gets its turn again.
        assert!(s.sent(&a, cfg.max_inflight_per_peer, 1, true));
        assert!(s.next_batch(cfg.max_inflight_per_peer).is_some());
    }

    #[test]
    fn full_ledgers_refuse_and_floods_are_seen() {
        let cfg = Config { max_wants_per_peer: 10, flood_threshold: 20, ..Config::default() };
        let mut s = ServerState::default();
        let a = PeerId::random();
        assert!(!s.apply(&cfg, a, ProtocolVersion::V120, false, wants(0..25)).0);
        assert_eq!(s.wantlist(&a).len(), 10);
        assert!(s.apply(&cfg, a, ProtocolVersion::V120, false, wants(100..120)).0, "flooding");
        // A full list replaces the ledger; cancels remove.
        s.apply(&cfg, a, ProtocolVersion::V120, true, wants(200..203));
        assert_eq!(s.wantlist(&a).len(), 3);
        s.apply(&cfg, a, ProtocolVersion::V120, false, vec![Entry::cancel(cid(200))]);
        assert_eq!(s.wantlist(&a), vec![cid(201), cid(202)]);
        // Wants kept for missing blocks come back as tasks when the blocks arrive.
        while s.next_batch(usize::MAX).is_some() {}
        s.ledgers.get_mut(&a).expect("ledger").busy = false;
        assert!(s.blocks_arrived([cid(202)].into_iter()));
        let batch = s.next_batch(usize::MAX).expect("a batch");
        assert_eq!(batch.tasks.len(), 1);
        assert_eq!(batch.tasks[0].cid, cid(202));
    }
}
