//! The composed [`NetworkBehaviour`] and the small `Gate` behaviour of our own.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Poll};
use std::time::Instant;

use libp2p::core::Endpoint;
use libp2p::core::transport::PortUse;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::{
    ConnectionDenied, ConnectionId, DialError, FromSwarm, ListenError, NetworkBehaviour, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm, dummy,
};
use libp2p::{Multiaddr, PeerId, connection_limits, identify, kad, mdns, memory_connection_limits, ping};

use crate::config::without_p2p;
use crate::filter::AddrFilters;
use crate::types::Refusals;

/// All protocols of the swarm. Order matters for connection checks: the gate and the limits
/// refuse a connection before any protocol sets up state for it.
#[derive(NetworkBehaviour)]
pub(crate) struct NetBehaviour {
    pub(crate) gate: Gate,
    pub(crate) limits: connection_limits::Behaviour,
    pub(crate) memory: Toggle<memory_connection_limits::Behaviour>,
    pub(crate) identify: identify::Behaviour,
    /// Answers every inbound ping stream. Before `ping` on purpose: for a protocol two handlers
    /// offer, the first field wins (see `crate::ping`).
    pub(crate) pong: crate::ping::Responder,
    /// Only our own periodic latency probes; inbound pings go to `pong`.
    pub(crate) ping: ping::Behaviour,
    /// Inbound streams for protocol crates, queued: see [`crate::NetHandle::accept`].
    pub(crate) inbound: crate::inbound::Inbound,
    /// Outbound streams for protocol crates: see [`crate::NetHandle::stream_control`].
    pub(crate) stream: libp2p_stream::Behaviour,
    pub(crate) mdns: Toggle<mdns::tokio::Behaviour>,
    /// The WAN DHT (`/ipfs/kad/1.0.0`), see `crate::dht`.
    pub(crate) kad: Toggle<kad::Behaviour<crate::store::DhtStore>>,
    /// The LAN DHT (`/ipfs/lan/kad/1.0.0`).
    pub(crate) kad_lan: Toggle<kad::Behaviour<crate::store::DhtStore>>,
}

/// Why the gate refused a connection.
#[derive(Debug)]
pub(crate) struct AddrFiltered(pub(crate) Multiaddr);

impl fmt::Display for AddrFiltered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "address {} is blocked by Swarm.AddrFilters", self.0)
    }
}

impl std::error::Error for AddrFiltered {}

/// `Swarm.AddrFilters` enforcement for every dial and every inbound connection, and the address
/// book the swarm consults when something (libp2p-stream, a redial) dials a peer by id alone.
pub(crate) struct Gate {
    pub(crate) filters: AddrFilters,
    pub(crate) book: AddressBook,
    /// Refusals seen by the swarm, whoever refused and whoever dialled: every behaviour hears of
    /// every failed dial and failed inbound connection, so this is the one place that sees all.
    pub(crate) refusals: Refusals,
}

impl Gate {
    pub(crate) fn new(filters: AddrFilters, book: AddressBook) -> Self {
        Self { filters, book, refusals: Refusals::default() }
    }

    fn count_denied(&mut self, cause: &ConnectionDenied, inbound: bool) {
        let r = &mut self.refusals;
        if cause.downcast_ref::<AddrFiltered>().is_some() {
            if inbound {
                r.addr_filtered_inbound += 1;
            } else {
                r.addr_filtered_outbound += 1;
            }
        } else if cause.downcast_ref::<connection_limits::Exceeded>().is_some() {
            r.connection_limit += 1;
        } else if cause.downcast_ref::<memory_connection_limits::MemoryUsageLimitExceeded>().is_some() {
            r.memory_limit += 1;
        }
    }

    fn check(&self, addr: &Multiaddr) -> Result<(), ConnectionDenied> {
        if self.filters.blocks(addr) { Err(ConnectionDenied::new(AddrFiltered(addr.clone()))) } else { Ok(()) }
    }
}

impl NetworkBehaviour for Gate {
    type ConnectionHandler = dummy::ConnectionHandler;
    type ToSwarm = std::convert::Infallible;

    fn handle_pending_inbound_connection(
        &mut self,
        _: ConnectionId,
        _local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.check(remote)
    }

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(dummy::ConnectionHandler)
    }

    fn handle_pending_outbound_connection(
        &mut self,
        _: ConnectionId,
        maybe_peer: Option<PeerId>,
        addresses: &[Multiaddr],
        _: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        let known = maybe_peer.map(|p| self.book.get(&p)).unwrap_or_default();
        let extra: Vec<Multiaddr> = known
            .iter()
            .filter(|a| !self.filters.blocks(a) && !addresses.iter().any(|given| without_p2p(given) == **a))
            .cloned()
            .collect();
        // A dial left with only filtered addresses is refused here, before any packet. (Callers
        // in this crate drop filtered addresses from the ones they give beforehand.)
        if extra.is_empty() {
            let pool = if addresses.is_empty() { &known[..] } else { addresses };
            if let Some(first) = pool.first()
                && pool.iter().all(|a| self.filters.blocks(a))
            {
                return Err(ConnectionDenied::new(AddrFiltered(first.clone())));
            }
        }
        Ok(extra)
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        _: PeerId,
        addr: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        // Backstop for addresses other behaviours (Kademlia, later) add to a dial.
        self.check(addr)?;
        Ok(dummy::ConnectionHandler)
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        match event {
            FromSwarm::DialFailure(f) => {
                if let DialError::Denied { cause } = f.error {
                    self.count_denied(cause, false);
                }
            }
            // Addresses of peers the DHT put in its table: dials by peer id find them here.
            FromSwarm::NewExternalAddrOfPeer(e) => self.book.add(e.peer_id, e.addr),
            FromSwarm::ListenFailure(f) => match f.error {
                ListenError::Denied { cause } => self.count_denied(cause, true),
                ListenError::Transport(_) => self.refusals.handshake_failures += 1,
                _ => {}
            },
            _ => {}
        }
    }

    fn on_connection_handler_event(&mut self, _: PeerId, _: ConnectionId, e: THandlerOutEvent<Self>) {
        match e {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

/// Addresses per peer, bounded in peers and in addresses per peer; least recently seen go first.
pub(crate) struct AddressBook {
    max_peers: usize,
    peers: HashMap<PeerId, BookEntry>,
}

struct BookEntry {
    /// Most recently learnt first.
    addrs: VecDeque<Multiaddr>,
    last_seen: Instant,
}

/// More addresses than this for one peer are noise (or an attack); keep the newest.
const MAX_ADDRS_PER_PEER: usize = 32;

impl AddressBook {
    pub(crate) fn new(max_peers: usize) -> Self {
        Self { max_peers: max_peers.max(1), peers: HashMap::new() }
    }

    pub(crate) fn add(&mut self, peer: PeerId, addr: &Multiaddr) {
        let addr = without_p2p(addr);
        if addr.is_empty() {
            return;
        }
        if !self.peers.contains_key(&peer) && self.peers.len() >= self.max_peers {
            // O(n), but only when full, and n is bounded by max_peers.
            if let Some(oldest) = self.peers.iter().min_by_key(|(_, e)| e.last_seen).map(|(p, _)| *p) {
                self.peers.remove(&oldest);
            }
        }
        let entry =
            self.peers.entry(peer).or_insert_with(|| BookEntry { addrs: VecDeque::new(), last_seen: Instant::now() });
        entry.last_seen = Instant::now();
        entry.addrs.retain(|a| *a != addr);
        entry.addrs.push_front(addr);
        entry.addrs.truncate(MAX_ADDRS_PER_PEER);
    }

    pub(crate) fn get(&self, peer: &PeerId) -> Vec<Multiaddr> {
        self.peers.get(peer).map(|e| e.addrs.iter().cloned().collect()).unwrap_or_default()
    }

    pub(crate) fn all(&self) -> impl Iterator<Item = (&PeerId, impl Iterator<Item = &Multiaddr>)> {
        self.peers.iter().map(|(p, e)| (p, e.addrs.iter()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn book_is_bounded() {
        let mut book = AddressBook::new(2);
        let (a, b, c) = (PeerId::random(), PeerId::random(), PeerId::random());
        let addr = |port: u16| -> Multiaddr { format!("/ip4/127.0.0.1/tcp/{port}").parse().unwrap() };
        book.add(a, &addr(1));
        book.add(b, &addr(2));
        book.add(c, &addr(3));
        assert_eq!(book.all().count(), 2);
        assert!(book.get(&a).is_empty(), "the least recently seen peer is evicted");
        for port in 0..100 {
            book.add(c, &addr(port));
        }
        let got = book.get(&c);
        assert_eq!(got.len(), MAX_ADDRS_PER_PEER);
        assert_eq!(got[0], addr(99));
        book.add(c, &addr(99).with(libp2p::multiaddr::Protocol::P2p(c)));
        assert_eq!(book.get(&c).len(), MAX_ADDRS_PER_PEER, "a /p2p/ suffix is the same address");
    }
}
