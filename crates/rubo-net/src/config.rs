//! [`NetConfig`]: the plain settings the node maps Kubo's config onto.
//!
//! Addresses and peer ids are kept as strings, exactly as they appear in Kubo's JSON, so that a bad
//! entry comes back as a [`ConfigError`] naming the key it came from.

use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

use crate::error::ConfigError;
use crate::filter::{IpCidr, NoAnnounce};

/// Everything the network needs; see the field docs for the Kubo key each one maps.
#[derive(Clone, Debug)]
pub struct NetConfig {
    /// `Addresses.Swarm`: where to listen. Port 0 picks a free port; unsupported transports
    /// (websocket, webtransport, webrtc) are skipped with a warning, as long as one address works.
    pub listen: Vec<String>,
    /// `Addresses.Announce`: when not empty, replaces the listen addresses in what we advertise.
    pub announce: Vec<String>,
    /// `Addresses.AppendAnnounce`: added to what we advertise.
    pub append_announce: Vec<String>,
    /// `Addresses.NoAnnounce`: removed from what we advertise; exact addresses or
    /// `/ip4/…/ipcidr/n` networks.
    pub no_announce: Vec<String>,
    /// `Swarm.AddrFilters`: `/ip4/…/ipcidr/n` networks we neither dial nor accept.
    pub addr_filters: Vec<String>,
    /// `Bootstrap`: `/…/p2p/<id>` addresses dialled at start, and again while we have fewer than
    /// [`NetConfig::bootstrap_min_peers`] peers.
    pub bootstrap: Vec<String>,
    /// `Peering.Peers`: kept connected and protected from the connection manager.
    pub peering: Vec<PeeringPeerConfig>,
    /// `Discovery.MDNS.Enabled`.
    pub mdns: bool,
    /// Identify's agent version; Kubo sends `kubo/<version>/<commit>`.
    pub agent_version: String,
    /// `Swarm.Transports.Security`, in order of preference. Empty means both, noise first.
    pub security: Vec<SecurityProtocol>,
    /// `Swarm.Transports.Network.TCP`.
    pub tcp: bool,
    /// `Swarm.Transports.Network.QUIC`.
    pub quic: bool,
    /// `Swarm.ConnMgr`.
    pub conn_mgr: ConnMgrConfig,
    /// `Swarm.ResourceMgr` and the limits derived from it.
    pub limits: LimitsConfig,
    /// Backoff for redialling peering peers.
    pub peering_backoff: Backoff,
    /// Bootstrap again when fewer peers than this are connected (`Bootstrap.MinPeerThreshold`
    /// in go's bootstrap service).
    pub bootstrap_min_peers: usize,
    /// How often to check the bootstrap threshold.
    pub bootstrap_interval: Duration,
    /// How often libp2p-ping measures each connection's latency (shown in `peers()`).
    pub ping_interval: Duration,
    /// Time allowed for one ping, and for each ping of [`crate::NetHandle::ping`].
    pub ping_timeout: Duration,
    /// Time allowed for a new connection's security and muxer negotiation.
    pub handshake_timeout: Duration,
    /// Close a connection that carries no stream for this long. `None` keeps it (Kubo's
    /// behaviour: only the connection manager closes idle connections).
    pub idle_connection_timeout: Option<Duration>,
    /// Upper bound for handle calls that wait on the network (connect, disconnect, identify).
    pub request_timeout: Duration,
    /// Tick of the actor's housekeeping: peering redials, bandwidth rates, pruning.
    pub housekeeping_interval: Duration,
    /// Capacity of the handle's command queue.
    pub command_queue: usize,
    /// Capacity of the [`crate::NetEvent`] broadcast; slow subscribers see `Lagged`.
    pub event_queue: usize,
    /// Most peers whose addresses we remember (for dialling and `swarm addrs`).
    pub max_known_peers: usize,
    /// Inbound streams of one protocol waiting for its crate to take them; past this they are
    /// reset.
    pub inbound_stream_queue: usize,
    /// The DHT (`Routing.Type`); `None` runs none.
    pub dht: Option<crate::dht::DhtConfig>,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            listen: Vec::new(),
            announce: Vec::new(),
            append_announce: Vec::new(),
            no_announce: Vec::new(),
            addr_filters: Vec::new(),
            bootstrap: Vec::new(),
            peering: Vec::new(),
            mdns: false,
            agent_version: default_agent_version(),
            security: Vec::new(),
            tcp: true,
            quic: true,
            conn_mgr: ConnMgrConfig::default(),
            limits: LimitsConfig::default(),
            peering_backoff: Backoff::default(),
            bootstrap_min_peers: 4,
            bootstrap_interval: Duration::from_secs(30),
            ping_interval: Duration::from_secs(15),
            ping_timeout: Duration::from_secs(20),
            handshake_timeout: Duration::from_secs(20),
            idle_connection_timeout: None,
            request_timeout: Duration::from_secs(60),
            housekeeping_interval: Duration::from_secs(1),
            command_queue: 256,
            event_queue: 256,
            max_known_peers: 10_000,
            inbound_stream_queue: 256,
            dht: None,
        }
    }
}

/// `rubo/<crate version>`.
pub fn default_agent_version() -> String {
    format!("rubo/{}", env!("CARGO_PKG_VERSION"))
}

/// One `Peering.Peers` entry: `{"ID": "...", "Addrs": ["..."]}`.
#[derive(Clone, Debug, Default)]
pub struct PeeringPeerConfig {
    pub id: String,
    pub addrs: Vec<String>,
}

/// A connection security protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecurityProtocol {
    /// `/noise`.
    Noise,
    /// `/tls/1.0.0`.
    Tls,
}

/// `Swarm.ConnMgr.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnMgrType {
    /// Trim connections above `HighWater` down to `LowWater`.
    Basic,
    /// Never trim.
    None,
}

/// `Swarm.ConnMgr`.
#[derive(Clone, Debug)]
pub struct ConnMgrConfig {
    pub kind: ConnMgrType,
    pub low_water: usize,
    pub high_water: usize,
    /// Connections younger than this are never trimmed.
    pub grace_period: Duration,
    /// How often to compare the connection count against `high_water` (go-libp2p: 10s).
    pub check_interval: Duration,
}

impl Default for ConnMgrConfig {
    fn default() -> Self {
        Self {
            kind: ConnMgrType::Basic,
            low_water: 32,
            high_water: 96,
            grace_period: Duration::from_secs(20),
            check_interval: Duration::from_secs(10),
        }
    }
}

/// `Swarm.ResourceMgr` and finer limits. `None` means unlimited.
#[derive(Clone, Debug)]
pub struct LimitsConfig {
    /// `Swarm.ResourceMgr.Enabled`: when false, connection and memory limits are off. The
    /// per-connection stream cap stays: without it one peer could hold unbounded state.
    pub enabled: bool,
    /// `Swarm.ResourceMgr.MaxMemory`: refuse new connections while the process uses more bytes.
    pub max_memory: Option<u64>,
    /// `Swarm.ResourceMgr.MaxFileDescriptors`: each TCP connection takes one, so at most this
    /// many connections are established.
    pub max_file_descriptors: Option<u64>,
    /// Most established connections, all peers together.
    pub max_connections: Option<u32>,
    /// Most established connections to one peer.
    pub max_connections_per_peer: Option<u32>,
    /// Most inbound connections still negotiating security and muxer.
    pub max_pending_incoming: Option<u32>,
    /// Most outbound dials in progress.
    pub max_pending_outgoing: Option<u32>,
    /// Most inbound streams open at once on one connection; more are reset and counted.
    pub max_inbound_streams_per_connection: usize,
    /// After this many refused streams, the connection is closed: the peer is abusive.
    pub max_refused_streams_per_connection: usize,
    /// Most inbound streams negotiating a protocol at once, per connection.
    pub max_negotiating_inbound_streams: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_memory: None,
            max_file_descriptors: None,
            max_connections: None,
            // go-libp2p's default per-peer limits: 8 connections, 256 inbound streams.
            max_connections_per_peer: Some(8),
            max_pending_incoming: Some(256),
            max_pending_outgoing: Some(256),
            max_inbound_streams_per_connection: 256,
            max_refused_streams_per_connection: 256,
            max_negotiating_inbound_streams: 128,
        }
    }
}

/// Exponential backoff: `initial`, doubled after each failure, capped at `max`, with jitter.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        // Kubo's peering service waits up to 10 minutes between redials.
        Self { initial: Duration::from_secs(5), max: Duration::from_secs(600) }
    }
}

/// A peer with the addresses we know for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerAddrs {
    pub id: PeerId,
    pub addrs: Vec<Multiaddr>,
}

/// The config, parsed and checked.
#[derive(Clone, Debug)]
pub(crate) struct Parsed {
    pub(crate) listen: Vec<Multiaddr>,
    pub(crate) announce: Vec<Multiaddr>,
    pub(crate) append_announce: Vec<Multiaddr>,
    pub(crate) no_announce: Vec<NoAnnounce>,
    pub(crate) addr_filters: Vec<IpCidr>,
    pub(crate) bootstrap: Vec<(PeerId, Multiaddr)>,
    pub(crate) peering: Vec<PeerAddrs>,
}

pub(crate) fn parse_multiaddr(key: &'static str, value: &str) -> Result<Multiaddr, ConfigError> {
    value.parse::<Multiaddr>().map_err(|e| ConfigError::InvalidMultiaddr {
        key,
        value: value.to_string(),
        reason: e.to_string(),
    })
}

/// The peer id at the end of `/…/p2p/<id>`, if any.
pub(crate) fn peer_of(ma: &Multiaddr) -> Option<PeerId> {
    match ma.iter().last() {
        Some(Protocol::P2p(peer)) => Some(peer),
        _ => None,
    }
}

/// The address without a trailing `/p2p/<id>`.
pub(crate) fn without_p2p(ma: &Multiaddr) -> Multiaddr {
    let mut ma = ma.clone();
    if matches!(ma.iter().last(), Some(Protocol::P2p(_))) {
        ma.pop();
    }
    ma
}

impl NetConfig {
    /// Checks every entry; the first bad one is reported with its Kubo key.
    pub(crate) fn parse(&self) -> Result<Parsed, ConfigError> {
        let many = |key: &'static str, list: &[String]| -> Result<Vec<Multiaddr>, ConfigError> {
            list.iter().map(|s| parse_multiaddr(key, s)).collect()
        };
        let listen = many("Addresses.Swarm", &self.listen)?;
        let announce = many("Addresses.Announce", &self.announce)?;
        let append_announce = many("Addresses.AppendAnnounce", &self.append_announce)?;
        let no_announce = many("Addresses.NoAnnounce", &self.no_announce)?.into_iter().map(NoAnnounce::parse).collect();
        let mut addr_filters = Vec::new();
        for s in &self.addr_filters {
            let ma = parse_multiaddr("Swarm.AddrFilters", s)?;
            let net = IpCidr::from_multiaddr(&ma).map_err(|reason| ConfigError::InvalidFilter {
                key: "Swarm.AddrFilters",
                value: s.clone(),
                reason,
            })?;
            addr_filters.push(net);
        }
        let mut bootstrap = Vec::new();
        for s in &self.bootstrap {
            let ma = parse_multiaddr("Bootstrap", s)?;
            let peer = peer_of(&ma).ok_or_else(|| ConfigError::MissingPeerId { key: "Bootstrap", value: s.clone() })?;
            bootstrap.push((peer, ma));
        }
        let mut peering = Vec::new();
        for p in &self.peering {
            let id = p.id.parse::<PeerId>().map_err(|e| ConfigError::InvalidPeerId {
                key: "Peering.Peers",
                value: p.id.clone(),
                reason: e.to_string(),
            })?;
            let addrs = many("Peering.Peers", &p.addrs)?;
            peering.push(PeerAddrs { id, addrs: addrs.iter().map(without_p2p).collect() });
        }
        let c = &self.conn_mgr;
        if c.kind == ConnMgrType::Basic && c.low_water > c.high_water {
            return Err(ConfigError::Invalid {
                key: "Swarm.ConnMgr",
                reason: format!("LowWater {} is above HighWater {}", c.low_water, c.high_water),
            });
        }
        if !self.tcp && !self.quic {
            return Err(ConfigError::Invalid {
                key: "Swarm.Transports.Network",
                reason: "both TCP and QUIC are disabled".into(),
            });
        }
        let nonzero = [
            ("Swarm.ResourceMgr", self.limits.max_inbound_streams_per_connection, "max inbound streams per connection"),
            ("Swarm.ResourceMgr", self.limits.max_negotiating_inbound_streams, "max negotiating inbound streams"),
            ("rubo-net", self.command_queue, "command queue"),
            ("rubo-net", self.event_queue, "event queue"),
        ];
        for (key, v, what) in nonzero {
            if v == 0 {
                return Err(ConfigError::Invalid { key, reason: format!("{what} must be above 0") });
            }
        }
        // tokio's channels panic above this; nothing sensible needs that much queue.
        const MAX_QUEUE: usize = 1 << 20;
        if self.command_queue > MAX_QUEUE || self.event_queue > MAX_QUEUE {
            return Err(ConfigError::Invalid { key: "rubo-net", reason: format!("queues are limited to {MAX_QUEUE}") });
        }
        let durations = [
            ("Swarm.ConnMgr.CheckInterval", c.check_interval),
            ("rubo-net housekeeping interval", self.housekeeping_interval),
            ("rubo-net bootstrap interval", self.bootstrap_interval),
            ("rubo-net ping interval", self.ping_interval),
            ("Peering backoff", self.peering_backoff.initial),
        ];
        for (key, d) in durations {
            if d.is_zero() {
                return Err(ConfigError::Invalid { key, reason: "must be above zero".into() });
            }
        }
        Ok(Parsed { listen, announce, append_announce, no_announce, addr_filters, bootstrap, peering })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_entries_name_their_key() {
        let mut c = NetConfig { listen: vec!["/ip4/127.0.0.1/tcp/0".into(), "nonsense".into()], ..Default::default() };
        let e = c.parse().unwrap_err();
        assert!(matches!(e, ConfigError::InvalidMultiaddr { key: "Addresses.Swarm", .. }), "{e}");

        c.listen.pop();
        c.bootstrap = vec!["/ip4/1.2.3.4/tcp/4001".into()];
        assert!(matches!(c.parse(), Err(ConfigError::MissingPeerId { key: "Bootstrap", .. })));

        c.bootstrap.clear();
        c.addr_filters = vec!["/ip4/10.0.0.0/tcp/1".into()];
        assert!(matches!(c.parse(), Err(ConfigError::InvalidFilter { .. })));

        c.addr_filters.clear();
        c.peering = vec![PeeringPeerConfig { id: "QmNotAPeer".into(), addrs: vec![] }];
        assert!(matches!(c.parse(), Err(ConfigError::InvalidPeerId { .. })));

        c.peering.clear();
        c.conn_mgr.low_water = 100;
        c.conn_mgr.high_water = 10;
        assert!(matches!(c.parse(), Err(ConfigError::Invalid { key: "Swarm.ConnMgr", .. })));
    }

    #[test]
    fn dns_addresses_parse_without_resolving() {
        let c = NetConfig {
            bootstrap: vec![
                "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN".into(),
                "/dns4/example.com/tcp/4001/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo".into(),
                "/dns6/example.com/udp/4001/quic-v1/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo".into(),
            ],
            ..Default::default()
        };
        let p = c.parse().unwrap();
        assert_eq!(p.bootstrap.len(), 3);
        assert!(p.bootstrap[0].0.to_string().starts_with("Qm"));
    }
}
