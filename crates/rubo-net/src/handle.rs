//! [`NetHandle`]: the cheap, cloneable way in. Each call is a command on a bounded queue with a
//! oneshot reply; the actor owns the swarm and answers.

use std::time::{Duration, Instant};

use futures::{AsyncReadExt as _, AsyncWriteExt as _};
use libp2p::{Multiaddr, PeerId, Stream, StreamProtocol};
use rand::RngCore as _;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::config::PeerAddrs;
use crate::dht::{DhtCommand, DhtNet, DhtPeer, DhtStats, DhtValue};
use crate::error::NetError;
use crate::types::{BandwidthStats, DisconnectTarget, IdentifyInfo, NetEvent, PeerInfo, PeeringStatus, ResourceStats};

type Reply<T> = oneshot::Sender<T>;

pub(crate) enum Command {
    ListenAddrs(Reply<Vec<Multiaddr>>),
    AnnouncedAddrs(Reply<Vec<Multiaddr>>),
    Peers(Reply<Vec<PeerInfo>>),
    Connect(Multiaddr, Reply<Result<PeerId, NetError>>),
    ConnectPeer(PeerId, Reply<Result<PeerId, NetError>>),
    Disconnect(DisconnectTarget, Reply<Result<(), NetError>>),
    Identify(PeerId, Reply<Result<IdentifyInfo, NetError>>),
    KnownAddrs(Reply<Vec<PeerAddrs>>),
    PeeringAdd(PeerAddrs, Reply<Result<(), NetError>>),
    PeeringRm(PeerId, Reply<bool>),
    PeeringLs(Reply<Vec<PeeringStatus>>),
    FiltersAdd(Multiaddr, Reply<Result<bool, NetError>>),
    FiltersRm(Multiaddr, Reply<Result<bool, NetError>>),
    FiltersLs(Reply<Vec<Multiaddr>>),
    Protect(PeerId, String, Reply<Result<(), NetError>>),
    Unprotect(PeerId, String, Reply<bool>),
    Bandwidth(Reply<BandwidthStats>),
    Resources(Reply<ResourceStats>),
    Shutdown(Reply<()>),
    Dht(crate::dht::DhtCommand),
}

/// The node's (and protocol crates') handle on the network actor. Clone freely: all clones
/// talk to the same actor; when the last one is dropped the actor shuts down.
#[derive(Clone)]
pub struct NetHandle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) control: libp2p_stream::Control,
    pub(crate) inbound: std::sync::Arc<crate::inbound::Shared>,
    pub(crate) inbound_queue: usize,
    pub(crate) events: broadcast::Sender<NetEvent>,
    pub(crate) local_peer_id: PeerId,
    pub(crate) request_timeout: Duration,
    pub(crate) ping_timeout: Duration,
}

/// `/ipfs/ping/1.0.0`: the peer echoes each 32-byte payload.
pub const PING_PROTOCOL: StreamProtocol = StreamProtocol::new("/ipfs/ping/1.0.0");
const PING_SIZE: usize = 32;

impl NetHandle {
    async fn call<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, NetError> {
        let (tx, rx) = oneshot::channel();
        self.commands.send(make(tx)).await.map_err(|_| NetError::Closed)?;
        rx.await.map_err(|_| NetError::Closed)
    }

    /// Like `call`, bounded by the request timeout, for answers that wait on the network.
    async fn call_timed<T>(
        &self,
        what: &'static str,
        make: impl FnOnce(Reply<Result<T, NetError>>) -> Command,
    ) -> Result<T, NetError> {
        tokio::time::timeout(self.request_timeout, self.call(make)).await.map_err(|_| NetError::Timeout(what))??
    }

    pub fn local_peer_id(&self) -> PeerId {
        self.local_peer_id
    }

    /// Addresses we listen on, ports resolved, one per interface for unspecified addresses.
    pub async fn listen_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.call(Command::ListenAddrs).await
    }

    /// What identify advertises: `Announce` or the listen addresses, plus `AppendAnnounce`,
    /// minus `NoAnnounce`.
    pub async fn announced_addrs(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.call(Command::AnnouncedAddrs).await
    }

    /// Connected peers with their connections, latency and identify data.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, NetError> {
        self.call(Command::Peers).await
    }

    /// Dials `/…/p2p/<id>` and returns once connected (at once if already connected).
    pub async fn connect(&self, addr: Multiaddr) -> Result<PeerId, NetError> {
        self.call_timed("connect", |r| Command::Connect(addr, r)).await
    }

    /// Dials `peer` by id (known addresses, and those of DHT lookups under way) and returns once
    /// connected (at once if already connected).
    pub async fn connect_peer(&self, peer: PeerId) -> Result<PeerId, NetError> {
        self.call_timed("connect", |r| Command::ConnectPeer(peer, r)).await
    }

    /// Closes the matching connections and returns once they are closed.
    pub async fn disconnect(&self, target: impl Into<DisconnectTarget>) -> Result<(), NetError> {
        let target = target.into();
        self.call_timed("disconnect", |r| Command::Disconnect(target, r)).await
    }

    /// The identify record a connected peer sent us, waiting for it if it is still on its way.
    pub async fn identify(&self, peer: PeerId) -> Result<IdentifyInfo, NetError> {
        self.call_timed("identify", |r| Command::Identify(peer, r)).await
    }

    /// Every peer whose addresses we know (`swarm addrs`).
    pub async fn known_addrs(&self) -> Result<Vec<PeerAddrs>, NetError> {
        self.call(Command::KnownAddrs).await
    }

    /// Starts pinging `peer` on a fresh `/ipfs/ping/1.0.0` stream (dialling it from known
    /// addresses if needed); each [`PingSession::next`] is one round trip.
    pub async fn ping(&self, peer: PeerId, count: usize) -> Result<PingSession, NetError> {
        let mut control = self.control.clone();
        let stream = tokio::time::timeout(self.ping_timeout, control.open_stream(peer, PING_PROTOCOL))
            .await
            .map_err(|_| NetError::Timeout("ping stream"))?
            .map_err(|e| NetError::Ping(e.to_string()))?;
        Ok(PingSession { stream, remaining: count, timeout: self.ping_timeout })
    }

    /// Adds (or extends) a peering peer: kept connected, redialled, protected.
    pub async fn peering_add(&self, peer: PeerId, addrs: Vec<Multiaddr>) -> Result<(), NetError> {
        self.call(|r| Command::PeeringAdd(PeerAddrs { id: peer, addrs }, r)).await?
    }

    /// Stops keeping `peer` connected (an open connection stays). False if it was not a peering peer.
    pub async fn peering_rm(&self, peer: PeerId) -> Result<bool, NetError> {
        self.call(|r| Command::PeeringRm(peer, r)).await
    }

    pub async fn peering_ls(&self) -> Result<Vec<PeeringStatus>, NetError> {
        self.call(Command::PeeringLs).await
    }

    /// Adds a `/ip4/…/ipcidr/n` deny filter for new connections; false if already there.
    pub async fn filters_add(&self, filter: Multiaddr) -> Result<bool, NetError> {
        self.call(|r| Command::FiltersAdd(filter, r)).await?
    }

    /// Removes a filter; false if it was not there.
    pub async fn filters_rm(&self, filter: Multiaddr) -> Result<bool, NetError> {
        self.call(|r| Command::FiltersRm(filter, r)).await?
    }

    pub async fn filters_ls(&self) -> Result<Vec<Multiaddr>, NetError> {
        self.call(Command::FiltersLs).await
    }

    /// Shields `peer` from the connection manager under `tag` (go-libp2p's `Protect`).
    pub async fn protect(&self, peer: PeerId, tag: impl Into<String>) -> Result<(), NetError> {
        let tag = tag.into();
        self.call(|r| Command::Protect(peer, tag, r)).await?
    }

    /// Removes one tag; returns whether the peer is still protected by another.
    pub async fn unprotect(&self, peer: PeerId, tag: impl Into<String>) -> Result<bool, NetError> {
        let tag = tag.into();
        self.call(|r| Command::Unprotect(peer, tag, r)).await
    }

    pub async fn bandwidth(&self) -> Result<BandwidthStats, NetError> {
        self.call(Command::Bandwidth).await
    }

    pub async fn resource_stats(&self) -> Result<ResourceStats, NetError> {
        self.call(Command::Resources).await
    }

    /// Stops listening, closes every connection and waits for the actor to finish.
    pub async fn shutdown(&self) -> Result<(), NetError> {
        match self.call(Command::Shutdown).await {
            // Already gone is as good as shut down.
            Ok(()) | Err(NetError::Closed) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn dht_call<T>(
        &self,
        what: &'static str,
        make: impl FnOnce(Reply<Result<T, NetError>>) -> DhtCommand,
    ) -> Result<T, NetError> {
        // Lookups have their own timeout in kad; this only bounds a stuck actor.
        let wait = self.request_timeout * 2;
        tokio::time::timeout(wait, self.call(|r| Command::Dht(make(r))))
            .await
            .map_err(|_| NetError::Timeout(what))??
    }

    /// Providers of `key` (a multihash's bytes) from the DHT, streamed as found, at most `limit`
    /// (capped at 1024). `dial`: connect to each as it is found (the lookup's answer carries its
    /// addresses only while the lookup runs).
    pub async fn dht_find_providers(
        &self,
        key: Vec<u8>,
        limit: usize,
        dial: bool,
    ) -> Result<mpsc::Receiver<PeerId>, NetError> {
        let limit = limit.clamp(1, 1024);
        // Room for every provider the lookup may report: the actor never waits on a reader.
        let (tx, rx) = mpsc::channel(limit);
        self.commands
            .send(Command::Dht(DhtCommand::FindProviders { key, limit, dial, tx }))
            .await
            .map_err(|_| NetError::Closed)?;
        Ok(rx)
    }

    /// Announces this node as a provider of `key` (multihash bytes) to the closest DHT peers.
    pub async fn dht_provide(&self, key: Vec<u8>) -> Result<usize, NetError> {
        self.dht_call("provide", |reply| DhtCommand::Provide { key, reply }).await
    }

    /// The closest peers to `key` the DHT can find (`dht query`).
    pub async fn dht_closest_peers(&self, key: Vec<u8>) -> Result<Vec<DhtPeer>, NetError> {
        self.dht_call("DHT query", |reply| DhtCommand::Closest { key, only: None, reply }).await
    }

    /// The closest peers to `key` in one table only (the sweeping provider sends each table's
    /// peers records on that table's protocol).
    pub async fn dht_closest_peers_on(&self, net: DhtNet, key: Vec<u8>) -> Result<Vec<DhtPeer>, NetError> {
        self.dht_call("DHT query", |reply| DhtCommand::Closest { key, only: Some(net), reply }).await
    }

    /// Opens a stream of `net`'s protocol to `peer` for ADD_PROVIDER messages naming this node
    /// (at `addrs`) as provider, one per key pushed: how a sweeping provider hands a region's
    /// peers all their keys without a lookup per key. Dials `peer_addrs` first if not connected.
    pub async fn dht_provider_sink(
        &self,
        net: DhtNet,
        peer: PeerId,
        peer_addrs: &[Multiaddr],
        addrs: Vec<Multiaddr>,
    ) -> Result<ProviderSink, NetError> {
        if !self.peers().await?.iter().any(|p| p.peer == peer) {
            let mut last = NetError::Dht(format!("no address to reach {peer}"));
            let mut ok = false;
            for a in peer_addrs {
                match self.connect(a.clone().with(libp2p::multiaddr::Protocol::P2p(peer))).await {
                    Ok(_) => {
                        ok = true;
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            if !ok {
                return Err(last);
            }
        }
        let stream = self
            .stream_control()
            .open_stream(peer, net.protocol())
            .await
            .map_err(|e| NetError::Dht(format!("cannot open a DHT stream to {peer}: {e}")))?;
        Ok(ProviderSink {
            peer,
            stream,
            buf: Vec::with_capacity(SINK_BUF + 512),
            me: self.local_peer_id(),
            addrs,
            sent: 0,
        })
    }

    /// Where `peer` can be reached: our own knowledge if connected, else a DHT lookup.
    pub async fn dht_find_peer(&self, peer: PeerId) -> Result<Vec<Multiaddr>, NetError> {
        if self.peers().await?.iter().any(|p| p.peer == peer)
            && let Some(known) = self.known_addrs().await?.into_iter().find(|k| k.id == peer)
            && !known.addrs.is_empty()
        {
            return Ok(known.addrs);
        }
        let found = self.dht_closest_peers(peer.to_bytes()).await?;
        match found.into_iter().find(|p| p.id == peer) {
            Some(p) if !p.addrs.is_empty() => Ok(p.addrs),
            _ => Err(NetError::Dht("not found".into())),
        }
    }

    /// Values stored under `key` in the DHT (checked by the validator; ours first when we hold
    /// one), at most `limit` distinct ones (Kubo asks for 16).
    pub async fn dht_get_value(&self, key: Vec<u8>, limit: usize) -> Result<Vec<DhtValue>, NetError> {
        self.dht_call("DHT get", |reply| DhtCommand::GetValue { key, limit, reply }).await
    }

    /// Stores `value` under `key` here and with the closest peers (`routing put`); how many peers
    /// took it. Refused unless the validator accepts it.
    pub async fn dht_put_value(&self, key: Vec<u8>, value: Vec<u8>) -> Result<usize, NetError> {
        self.dht_call("DHT put", |reply| DhtCommand::PutValue { key, value, reply }).await
    }

    pub async fn dht_stats(&self) -> Result<DhtStats, NetError> {
        self.call(|r| Command::Dht(DhtCommand::Stats(r))).await
    }

    /// Starts a routing-table refresh.
    pub async fn dht_bootstrap(&self) -> Result<(), NetError> {
        self.call(|r| Command::Dht(DhtCommand::Bootstrap(r))).await?
    }

    /// Every inbound stream of `protocol` from now on, with the peer that opened it, queued
    /// (`NetConfig::inbound_stream_queue`; past it streams are reset and counted). Take them
    /// promptly and hand each to a task of its own. One taker per protocol at a time.
    pub fn accept(&self, protocol: StreamProtocol) -> Result<crate::inbound::Incoming, NetError> {
        self.inbound.accept(protocol, self.inbound_queue)
    }

    /// Outbound streams for protocol crates: `open_stream(peer, protocol)` (dialling from known
    /// addresses if needed). Take inbound streams with [`NetHandle::accept`], which queues them.
    pub fn stream_control(&self) -> libp2p_stream::Control {
        self.control.clone()
    }

    /// Peer connected / disconnected / identified events. A receiver that falls more than the
    /// configured queue behind gets `Lagged` and misses events, rather than slowing the actor.
    pub fn subscribe(&self) -> broadcast::Receiver<NetEvent> {
        self.events.subscribe()
    }
}

/// An open ping stream; see [`NetHandle::ping`].
pub struct PingSession {
    stream: Stream,
    remaining: usize,
    timeout: Duration,
}

impl PingSession {
    /// The next round trip time, or `None` after `count` pings.
    pub async fn next(&mut self) -> Option<Result<Duration, NetError>> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let r = tokio::time::timeout(self.timeout, self.once()).await.unwrap_or(Err(NetError::Timeout("ping")));
        if r.is_err() {
            // The stream is in an unknown state after a failure: stop here.
            self.remaining = 0;
        }
        Some(r)
    }

    async fn once(&mut self) -> Result<Duration, NetError> {
        let mut payload = [0u8; PING_SIZE];
        rand::rng().fill_bytes(&mut payload);
        let io = |e: std::io::Error| NetError::Ping(e.to_string());
        let start = Instant::now();
        self.stream.write_all(&payload).await.map_err(io)?;
        self.stream.flush().await.map_err(io)?;
        let mut echo = [0u8; PING_SIZE];
        self.stream.read_exact(&mut echo).await.map_err(io)?;
        let rtt = start.elapsed();
        if echo != payload {
            return Err(NetError::Ping("the peer echoed a different payload".into()));
        }
        Ok(rtt)
    }

    /// All remaining round trips; stops at the first error.
    pub async fn collect(mut self) -> Result<Vec<Duration>, NetError> {
        let mut out = Vec::with_capacity(self.remaining);
        while let Some(r) = self.next().await {
            out.push(r?);
        }
        Ok(out)
    }
}

/// Bytes gathered before a write to a [`ProviderSink`]'s stream.
const SINK_BUF: usize = 32 << 10;

/// ADD_PROVIDER messages to one peer on one stream, see [`NetHandle::dht_provider_sink`].
pub struct ProviderSink {
    peer: PeerId,
    stream: Stream,
    buf: Vec<u8>,
    me: PeerId,
    addrs: Vec<Multiaddr>,
    sent: usize,
}

impl ProviderSink {
    /// Queues the message for `key` (multihash bytes), writing when enough are gathered.
    pub async fn push(&mut self, key: &[u8]) -> Result<(), NetError> {
        crate::kadwire::add_provider(key, &self.me, &self.addrs, &mut self.buf);
        self.sent += 1;
        if self.buf.len() >= SINK_BUF {
            self.write().await?;
        }
        Ok(())
    }

    async fn write(&mut self) -> Result<(), NetError> {
        let peer = self.peer;
        self.stream.write_all(&self.buf).await.map_err(|e| NetError::Dht(format!("DHT stream to {peer}: {e}")))?;
        self.buf.clear();
        Ok(())
    }

    /// Writes what is left and closes the stream; how many messages were sent.
    pub async fn finish(mut self) -> Result<usize, NetError> {
        self.write().await?;
        let peer = self.peer;
        self.stream.close().await.map_err(|e| NetError::Dht(format!("DHT stream to {peer}: {e}")))?;
        Ok(self.sent)
    }
}
