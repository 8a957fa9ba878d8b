//! `Peering.Peers`: peers we keep connected, redialled with exponential backoff after they drop.
//! Pure state; the actor does the dialling and feeds the outcomes back.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId};
use rand::Rng as _;

use crate::config::Backoff;
use crate::types::PeeringStatus;

struct Entry {
    addrs: Vec<Multiaddr>,
    /// Delay before the next attempt after a failure; doubles up to the maximum.
    backoff: Duration,
    next_dial: Option<Instant>,
    dialing: Option<ConnectionId>,
    connected: bool,
}

pub(crate) struct Peering {
    cfg: Backoff,
    max: usize,
    peers: HashMap<PeerId, Entry>,
}

/// More peering peers than this is a misconfiguration; each one is a permanent connection.
pub(crate) const MAX_PEERING_PEERS: usize = 1024;

impl Peering {
    pub(crate) fn new(cfg: Backoff) -> Self {
        Self { cfg, max: MAX_PEERING_PEERS, peers: HashMap::new() }
    }

    /// Adds a peer (or more addresses for one); `Err` when the list is full.
    pub(crate) fn add(&mut self, peer: PeerId, addrs: Vec<Multiaddr>, connected: bool, now: Instant) -> Result<(), ()> {
        if let Some(e) = self.peers.get_mut(&peer) {
            for a in addrs {
                if !e.addrs.contains(&a) {
                    e.addrs.push(a);
                }
            }
            return Ok(());
        }
        if self.peers.len() >= self.max {
            return Err(());
        }
        let next_dial = (!connected).then_some(now);
        self.peers.insert(peer, Entry { addrs, backoff: self.cfg.initial, next_dial, dialing: None, connected });
        Ok(())
    }

    pub(crate) fn remove(&mut self, peer: &PeerId) -> bool {
        self.peers.remove(peer).is_some()
    }

    pub(crate) fn list(&self) -> Vec<PeeringStatus> {
        let mut v: Vec<_> = self
            .peers
            .iter()
            .map(|(p, e)| PeeringStatus { peer: *p, addrs: e.addrs.clone(), connected: e.connected })
            .collect();
        v.sort_by_key(|s| s.peer.to_bytes());
        v
    }

    /// Peers to dial now, with their addresses.
    pub(crate) fn due(&self, now: Instant) -> Vec<(PeerId, Vec<Multiaddr>)> {
        self.peers
            .iter()
            .filter(|(_, e)| !e.connected && e.dialing.is_none() && e.next_dial.is_some_and(|t| t <= now))
            .map(|(p, e)| (*p, e.addrs.clone()))
            .collect()
    }

    pub(crate) fn on_dial_started(&mut self, peer: &PeerId, id: ConnectionId) {
        if let Some(e) = self.peers.get_mut(peer) {
            e.dialing = Some(id);
        }
    }

    pub(crate) fn on_connected(&mut self, peer: &PeerId) {
        if let Some(e) = self.peers.get_mut(peer) {
            e.connected = true;
            e.dialing = None;
            e.next_dial = None;
            e.backoff = self.cfg.initial;
        }
    }

    /// The last connection closed: try again after the current backoff.
    pub(crate) fn on_disconnected(&mut self, peer: &PeerId, now: Instant) {
        let cfg = self.cfg;
        if let Some(e) = self.peers.get_mut(peer) {
            e.connected = false;
            e.next_dial = Some(after(now, jitter(e.backoff.min(cfg.max))));
        }
    }

    /// A dial failed: `id` is the connection attempt, or `None` when it never started.
    pub(crate) fn on_dial_failed(&mut self, peer: &PeerId, id: Option<ConnectionId>, now: Instant) {
        let cfg = self.cfg;
        let Some(e) = self.peers.get_mut(peer) else { return };
        if e.connected || (id.is_some() && e.dialing != id) {
            return;
        }
        e.dialing = None;
        e.next_dial = Some(after(now, jitter(e.backoff.min(cfg.max))));
        e.backoff = e.backoff.saturating_mul(2).min(cfg.max);
    }
}

/// 75%..125% of `d`, so that peers that dropped together do not redial together.
fn jitter(d: Duration) -> Duration {
    // The backoff comes from config: no arithmetic here may overflow (and panic).
    Duration::try_from_secs_f64(d.as_secs_f64() * rand::rng().random_range(0.75..1.25)).unwrap_or(d)
}

/// `now + d`, or a year from now when `d` does not fit.
fn after(now: Instant, d: Duration) -> Instant {
    now.checked_add(d).unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_resets() {
        let cfg = Backoff { initial: Duration::from_secs(1), max: Duration::from_secs(4) };
        let mut p = Peering::new(cfg);
        let peer = PeerId::random();
        let t0 = Instant::now();
        p.add(peer, vec![], false, t0).unwrap();
        assert_eq!(p.due(t0).len(), 1, "a new peer is dialled at once");

        let id = ConnectionId::new_unchecked(1);
        p.on_dial_started(&peer, id);
        assert!(p.due(t0).is_empty(), "not while a dial is in flight");
        let mut now = t0;
        let mut waits = Vec::new();
        for n in 0..5 {
            let id = ConnectionId::new_unchecked(10 + n);
            p.on_dial_started(&peer, id);
            p.on_dial_failed(&peer, Some(id), now);
            let next = p.peers[&peer].next_dial.unwrap();
            waits.push(next - now);
            now = next;
        }
        // 1s, 2s, 4s, 4s, 4s, each ±25%.
        let expect = [1.0, 2.0, 4.0, 4.0, 4.0];
        for (w, e) in waits.iter().zip(expect) {
            let s = w.as_secs_f64();
            assert!(s >= e * 0.75 && s <= e * 1.25, "{waits:?}");
        }
        p.on_connected(&peer);
        assert!(p.due(now + Duration::from_secs(100)).is_empty());
        p.on_disconnected(&peer, now);
        let w = p.peers[&peer].next_dial.unwrap() - now;
        assert!(w <= Duration::from_millis(1250), "backoff was reset on connect: {w:?}");
    }

    #[test]
    fn huge_backoff_does_not_overflow() {
        let mut p = Peering::new(Backoff { initial: Duration::MAX, max: Duration::MAX });
        let peer = PeerId::random();
        let now = Instant::now();
        p.add(peer, vec![], false, now).unwrap();
        p.on_dial_failed(&peer, None, now);
        p.on_disconnected(&peer, now);
        assert!(p.peers[&peer].next_dial.unwrap() > now);
    }

    #[test]
    fn stale_dial_failures_are_ignored() {
        let mut p = Peering::new(Backoff::default());
        let peer = PeerId::random();
        let now = Instant::now();
        p.add(peer, vec![], false, now).unwrap();
        p.on_dial_started(&peer, ConnectionId::new_unchecked(2));
        p.on_dial_failed(&peer, Some(ConnectionId::new_unchecked(1)), now);
        assert!(p.peers[&peer].dialing.is_some());
    }
}
