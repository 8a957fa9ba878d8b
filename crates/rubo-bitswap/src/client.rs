//! The client's shared bookkeeping: which blocks we want and for which sessions, what we told
//! each peer, and the wantlist changes waiting for each peer's writer.
//!
//! Sessions decide whom to ask; this records it, so that a block that arrives cancels the want
//! at every other peer, a full wantlist can be rebuilt, and a block nobody asked a peer for is
//! recognised as such.

use std::collections::{HashMap, HashSet, VecDeque};

use libp2p::PeerId;
use rubo_types::Cid;
use tokio::sync::mpsc;

use crate::message::{Entry, WantType};
use crate::session::SessionEvent;

/// Cancelled wants remembered per peer: a block for one of them is a race, not an offense.
const RECENT_CANCELS: usize = 4096;

struct WantRec {
    sessions: Vec<u64>,
    /// Peers we sent a want for it to.
    sent_to: HashSet<PeerId>,
}

#[derive(Default)]
struct PeerWants {
    /// What the peer has been told we want (and as what).
    sent: HashMap<Cid, WantType>,
    /// Entries not written yet.
    pending: Vec<Entry>,
    full_due: bool,
    recent: VecDeque<Cid>,
    recent_set: HashSet<Cid>,
}

impl PeerWants {
    fn cancel(&mut self, cid: Cid) {
        if self.sent.remove(&cid).is_none() {
            return;
        }
        self.pending.push(Entry::cancel(cid));
        if self.recent_set.insert(cid) {
            self.recent.push_back(cid);
            if self.recent.len() > RECENT_CANCELS
                && let Some(old) = self.recent.pop_front()
            {
                self.recent_set.remove(&old);
            }
        }
    }
}

/// Blocks received lately, with the sessions that wanted them: a HAVE that arrives after the
/// block still tells those sessions the peer holds their content.
const RECENT_BLOCKS: usize = 4096;

#[derive(Default)]
pub(crate) struct ClientState {
    wants: HashMap<Cid, WantRec>,
    peers: HashMap<PeerId, PeerWants>,
    sessions: HashMap<u64, mpsc::Sender<SessionEvent>>,
    received: HashMap<Cid, Vec<u64>>,
    received_order: VecDeque<Cid>,
}

impl ClientState {
    pub(crate) fn add_session(&mut self, id: u64, tx: mpsc::Sender<SessionEvent>) {
        self.sessions.insert(id, tx);
    }

    pub(crate) fn remove_session(&mut self, id: u64) {
        self.sessions.remove(&id);
    }

    pub(crate) fn session_senders(&self) -> Vec<mpsc::Sender<SessionEvent>> {
        self.sessions.values().cloned().collect()
    }

    pub(crate) fn add_peer(&mut self, peer: PeerId) {
        self.peers.entry(peer).or_default();
    }

    pub(crate) fn peer_gone(&mut self, peer: &PeerId) {
        if let Some(pw) = self.peers.remove(peer) {
            for cid in pw.sent.keys() {
                if let Some(w) = self.wants.get_mut(cid) {
                    w.sent_to.remove(peer);
                }
            }
        }
    }

    /// `session` wants `cid`.
    pub(crate) fn want(&mut self, session: u64, cid: Cid) {
        let w = self.wants.entry(cid).or_insert_with(|| WantRec { sessions: Vec::new(), sent_to: HashSet::new() });
        if !w.sessions.contains(&session) {
            w.sessions.push(session);
        }
    }

    /// `session` no longer wants `cid`. Returns the peers that now have a cancel to send.
    pub(crate) fn unwant(&mut self, session: u64, cid: &Cid) -> Vec<PeerId> {
        let Some(w) = self.wants.get_mut(cid) else { return Vec::new() };
        w.sessions.retain(|s| *s != session);
        if !w.sessions.is_empty() {
            return Vec::new();
        }
        let Some(w) = self.wants.remove(cid) else { return Vec::new() };
        let mut wake = Vec::new();
        for p in w.sent_to {
            if let Some(pw) = self.peers.get_mut(&p) {
                pw.cancel(*cid);
                wake.push(p);
            }
        }
        wake
    }

    /// Queues wants for `peer`. Returns false if the peer is not connected.
    pub(crate) fn send(&mut self, peer: PeerId, entries: Vec<Entry>) -> bool {
        let Some(pw) = self.peers.get_mut(&peer) else { return false };
        for e in entries {
            let Some(w) = self.wants.get_mut(&e.cid) else { continue };
            w.sent_to.insert(peer);
            let t = pw.sent.entry(e.cid).or_insert(e.want_type);
            if e.want_type == WantType::Block {
                *t = WantType::Block;
            }
            pw.pending.push(e);
        }
        true
    }

    /// Whether a block is wanted, and whether `peer` was ever asked for it (or only just
    /// cancelled).
    pub(crate) fn classify(&self, peer: &PeerId, cid: &Cid) -> (bool, bool) {
        let wanted = self.wants.contains_key(cid);
        let asked = self.peers.get(peer).is_some_and(|pw| pw.sent.contains_key(cid) || pw.recent_set.contains(cid));
        (wanted, asked)
    }

    /// A wanted block arrived from `from`: the sessions to hand it to, and the peers that now
    /// have a cancel to send.
    pub(crate) fn on_block(&mut self, from: &PeerId, cid: &Cid) -> (Vec<mpsc::Sender<SessionEvent>>, Vec<PeerId>) {
        let Some(w) = self.wants.remove(cid) else { return (Vec::new(), Vec::new()) };
        let sessions = w.sessions.iter().filter_map(|s| self.sessions.get(s).cloned()).collect();
        if self.received.insert(*cid, w.sessions.clone()).is_none() {
            self.received_order.push_back(*cid);
            if self.received_order.len() > RECENT_BLOCKS
                && let Some(old) = self.received_order.pop_front()
            {
                self.received.remove(&old);
            }
        }
        let mut wake = Vec::new();
        for p in w.sent_to {
            let Some(pw) = self.peers.get_mut(&p) else { continue };
            if p == *from {
                // The sender dropped the want when it sent the block: no cancel needed.
                pw.sent.remove(cid);
                if pw.recent_set.insert(*cid) {
                    pw.recent.push_back(*cid);
                }
            } else {
                pw.cancel(*cid);
                wake.push(p);
            }
        }
        (sessions, wake)
    }

    /// Sessions that want `cid`, or wanted it lately.
    pub(crate) fn sessions_for(&self, cid: &Cid) -> Vec<mpsc::Sender<SessionEvent>> {
        let ids = match self.wants.get(cid) {
            Some(w) => &w.sessions,
            None => match self.received.get(cid) {
                Some(s) => s,
                None => return Vec::new(),
            },
        };
        ids.iter().filter_map(|s| self.sessions.get(s).cloned()).collect()
    }

    /// What the writer of `peer` should send now: (full list?, entries).
    pub(crate) fn take_pending(&mut self, peer: &PeerId) -> (bool, Vec<Entry>) {
        let Some(pw) = self.peers.get_mut(peer) else { return (false, Vec::new()) };
        if pw.full_due {
            pw.full_due = false;
            pw.pending.clear();
            // The full list replaces the peer's view of our wants, cancels included.
            let entries = pw
                .sent
                .iter()
                .enumerate()
                .map(|(i, (cid, t))| Entry::want(*cid, i32::MAX - i as i32, *t, true))
                .collect();
            return (true, entries);
        }
        (false, std::mem::take(&mut pw.pending))
    }

    /// Marks every peer we want something from for a full wantlist; returns them.
    pub(crate) fn mark_full_wantlists(&mut self) -> Vec<PeerId> {
        let mut v = Vec::new();
        for (p, pw) in &mut self.peers {
            if !pw.sent.is_empty() {
                pw.full_due = true;
                v.push(*p);
            }
        }
        v
    }

    pub(crate) fn wantlist(&self) -> Vec<Cid> {
        let mut v: Vec<Cid> = self.wants.keys().copied().collect();
        v.sort_by_key(|c| c.to_bytes());
        v
    }
}
