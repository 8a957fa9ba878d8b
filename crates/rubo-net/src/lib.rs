//! rubo's libp2p network: the swarm, and the actor that owns it.
//!
//! # The actor
//! [`start`] builds the swarm from a [`NetConfig`] and a [`Keypair`](libp2p::identity::Keypair),
//! opens the listeners (returning once their real addresses are known, port 0 resolved), dials
//! peering and bootstrap peers, and spawns one tokio task: the actor. Only the actor touches the
//! swarm. Its loop waits on three things: swarm events, commands from handles, and a housekeeping
//! tick (peering redials with backoff, the connection manager, bootstrap top-ups, bandwidth rates).
//!
//! What the swarm speaks, for Kubo (go-libp2p) and Helia peers:
//! - TCP with `/noise` and `/tls/1.0.0` (order from `Swarm.Transports.Security`), then
//!   `/yamux/1.0.0`; QUIC-v1; `/dns4`, `/dns6`, `/dnsaddr` resolved only when dialled.
//! - Any key type a peer may have: RSA (`Qm…` ids of older Kubo identities), Ed25519,
//!   secp256k1, ECDSA.
//! - identify `/ipfs/id/1.0.0` (+ push; protocol version `ipfs/0.1.0`, agent from config) and
//!   ping `/ipfs/ping/1.0.0`.
//!
//! Protection against peers: `Swarm.AddrFilters` (deny by CIDR, both directions), connection
//! limits (total, per peer, pending, by file descriptors and process memory), a cap on inbound
//! streams per connection (past it streams are reset; a peer that keeps going is cut off), a
//! handshake timeout, and Kubo's connection manager (trim to `LowWater` above `HighWater`, sparing
//! protected peers and those younger than the grace period). Every refusal is counted
//! ([`ResourceStats`]). Every queue is bounded.
//!
//! # The handle
//! [`NetHandle`] is cheap to clone. Each method sends a command on a bounded channel and awaits a
//! oneshot reply; errors are [`NetError`]. Dropping every handle shuts the actor down;
//! [`NetHandle::shutdown`] does it explicitly and returns when listeners and connections are gone.
//!
//! # Plugging in a protocol crate
//! Protocol crates never see the swarm. Three things are enough for a stream protocol (Bitswap):
//! - [`NetHandle::accept`] yields every inbound stream of a protocol with the peer id, through
//!   a bounded queue (`NetConfig::inbound_stream_queue`; past it streams are reset and counted
//!   in [`Refusals::streams_queue_full`]). Run a loop that only takes streams and hands each to
//!   its own task.
//! - [`NetHandle::stream_control`] gives a [`libp2p_stream::Control`] whose
//!   `open_stream(peer, protocol)` opens one, dialling the peer from known addresses if needed.
//! - [`NetHandle::subscribe`] gives a broadcast of [`NetEvent`]s: peer connected, disconnected,
//!   identified (with its protocol list), so a protocol can greet new peers and drop state of
//!   gone ones.
//!
//! A protocol that must keep peers (Bitswap sessions, the DHT routing table) calls
//! [`NetHandle::protect`] / [`NetHandle::unprotect`] with its own tag. Protocols that need to be
//! a `NetworkBehaviour` (Kademlia, gossipsub) get a `Toggle` slot in the behaviour: the DHT
//! (WAN and LAN Kademlia, `crate::dht`) lives there, driven through the handle's `dht_*` calls.

mod actor;
mod behaviour;
mod config;
mod connmgr;
mod dht;
mod error;
mod filter;
mod guard;
mod handle;
mod inbound;
mod kadwire;
mod peering;
mod ping;
#[doc(hidden)]
pub mod store;
mod transport;
mod types;

pub use actor::{PEERING_TAG, PROTOCOL_VERSION, start};
pub use config::{
    Backoff, ConnMgrConfig, ConnMgrType, LimitsConfig, NetConfig, PeerAddrs, PeeringPeerConfig, SecurityProtocol,
    default_agent_version,
};
pub use dht::{
    DhtConfig, DhtMode, DhtNet, DhtPeer, DhtStats, DhtStorage, DhtTableStats, DhtValidator, DhtValue, LAN_PROTOCOL,
    RecordValidator, WAN_PROTOCOL,
};
pub use error::{ConfigError, NetError};
pub use filter::IpCidr;
pub use handle::{NetHandle, PING_PROTOCOL, PingSession, ProviderSink};
pub use inbound::Incoming;
pub use types::{
    BandwidthStats, ConnectionInfo, Direction, DisconnectTarget, IdentifyInfo, NetEvent, PeerInfo, PeeringStatus,
    Refusals, ResourceStats,
};

/// The libp2p crates this one is built on, so the node and protocol crates use the same versions.
pub use libp2p;
pub use libp2p_stream;
