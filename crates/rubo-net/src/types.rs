//! What the handle returns and what the event broadcast carries.

use std::time::Duration;

use libp2p::identity::PublicKey;
use libp2p::{Multiaddr, PeerId};

/// Who opened a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

/// Broadcast to subscribers ([`crate::NetHandle::subscribe`]) so protocols can react to peers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum NetEvent {
    /// The first connection to `peer` is up.
    PeerConnected { peer: PeerId, addr: Multiaddr, direction: Direction },
    /// The last connection to `peer` closed.
    PeerDisconnected { peer: PeerId },
    /// `peer` told us who it is (identify, or an identify push).
    PeerIdentified { peer: PeerId, info: Box<IdentifyInfo> },
    /// Our listen addresses changed; `addrs` is the full new list.
    ListenAddrsChanged { addrs: Vec<Multiaddr> },
}

/// A remote's identify record (`/ipfs/id/1.0.0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifyInfo {
    pub public_key: PublicKey,
    pub protocol_version: String,
    pub agent_version: String,
    pub listen_addrs: Vec<Multiaddr>,
    pub protocols: Vec<String>,
    /// How the remote sees our address.
    pub observed_addr: Multiaddr,
}

impl From<libp2p::identify::Info> for IdentifyInfo {
    fn from(i: libp2p::identify::Info) -> Self {
        Self {
            public_key: i.public_key,
            protocol_version: i.protocol_version,
            agent_version: i.agent_version,
            listen_addrs: i.listen_addrs,
            protocols: i.protocols.into_iter().map(|p| p.to_string()).collect(),
            observed_addr: i.observed_addr,
        }
    }
}

/// One connected peer, for `swarm peers`.
#[derive(Clone, Debug)]
pub struct PeerInfo {
    pub peer: PeerId,
    /// Oldest connection first.
    pub connections: Vec<ConnectionInfo>,
    /// Round trip of the last libp2p-ping on any of its connections.
    pub latency: Option<Duration>,
    /// From identify; `None` until the peer has identified.
    pub agent_version: Option<String>,
    pub protocol_version: Option<String>,
    pub protocols: Vec<String>,
    /// Protection tags (peering, or set through [`crate::NetHandle::protect`]).
    pub protected_tags: Vec<String>,
}

/// One connection of a peer.
#[derive(Clone, Debug)]
pub struct ConnectionInfo {
    pub remote_addr: Multiaddr,
    pub direction: Direction,
    /// Time since it was established.
    pub age: Duration,
    /// Substreams open now. Their protocol ids are negotiated above the muxer, out of our sight,
    /// so only counts are given.
    pub inbound_streams: usize,
    pub outbound_streams: usize,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

/// `stats bw`: stream payload bytes in and out, with rates smoothed over about a second.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BandwidthStats {
    pub total_in: u64,
    pub total_out: u64,
    /// Bytes per second.
    pub rate_in: f64,
    pub rate_out: f64,
}

/// Current use and refusal counts, for `swarm resources` and for tests.
#[derive(Clone, Debug, Default)]
pub struct ResourceStats {
    pub peers: usize,
    pub connections_inbound: u32,
    pub connections_outbound: u32,
    pub pending_incoming: u32,
    pub pending_outgoing: u32,
    pub inbound_streams: u64,
    pub outbound_streams: u64,
    pub refused: Refusals,
    /// Connection manager passes that ran, and connections it closed.
    pub conn_mgr_runs: u64,
    pub conn_mgr_trimmed: u64,
}

/// How often something was refused or cut off since start.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refusals {
    /// Connections refused by a connection count limit (total, per peer, pending).
    pub connection_limit: u64,
    /// Connections refused because the process used more than `MaxMemory`.
    pub memory_limit: u64,
    /// Inbound connections from a filtered address.
    pub addr_filtered_inbound: u64,
    /// Dials to a filtered address.
    pub addr_filtered_outbound: u64,
    /// Inbound connections that failed their security/muxer handshake (garbage, wrong protocol,
    /// timeouts).
    pub handshake_failures: u64,
    /// Inbound streams reset because the connection had too many open.
    pub streams_refused: u64,
    /// Connections closed because their peer kept opening streams past the cap.
    pub connections_cut: u64,
    /// Inbound streams reset because their protocol's queue was full.
    pub streams_queue_full: u64,
}

/// A peering peer and whether it is connected now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeeringStatus {
    pub peer: PeerId,
    pub addrs: Vec<Multiaddr>,
    pub connected: bool,
}

/// What [`crate::NetHandle::disconnect`] closes.
#[derive(Clone, Debug)]
pub enum DisconnectTarget {
    /// Every connection to this peer.
    Peer(PeerId),
    /// Connections to this address; with `/p2p/<id>`, only that peer's.
    Addr(Multiaddr),
}

impl From<PeerId> for DisconnectTarget {
    fn from(p: PeerId) -> Self {
        Self::Peer(p)
    }
}

impl From<Multiaddr> for DisconnectTarget {
    fn from(a: Multiaddr) -> Self {
        Self::Addr(a)
    }
}
