//! The actor: one task owning the swarm, driven by swarm events, handle commands and a
//! housekeeping tick.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use libp2p::core::transport::ListenerId;
use libp2p::core::transport::TransportError;
use libp2p::identity::Keypair;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{Multiaddr, PeerId, Swarm, connection_limits, identify, kad, mdns, memory_connection_limits, ping};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::behaviour::{AddressBook, Gate, NetBehaviour, NetBehaviourEvent};
use crate::config::{NetConfig, Parsed, PeerAddrs, peer_of, without_p2p};
use crate::connmgr::{self, Candidate};
use crate::dht::{self, Dht, DhtCommand, DhtNet, Followup, OpKind};
use crate::error::NetError;
use crate::filter::{AddrFilters, IpCidr, NoAnnounce};
use crate::guard::{ConnStats, Registry, StreamLimits};
use crate::handle::{Command, NetHandle};
use crate::peering::Peering;
use crate::transport::{self, TransportOptions};
use crate::types::{
    BandwidthStats, ConnectionInfo, Direction, DisconnectTarget, IdentifyInfo, NetEvent, PeerInfo, ResourceStats,
};

/// Identify's protocol version, the same as Kubo's.
pub const PROTOCOL_VERSION: &str = "ipfs/0.1.0";
/// The protection tag of peering peers (Kubo's `ipfs-peering`).
pub const PEERING_TAG: &str = "ipfs-peering";

/// Bounds for state that grows with requests or with what peers tell us.
const MAX_PENDING: usize = 1024;
const MAX_FILTERS: usize = 1024;
const MAX_PROTECTED_PEERS: usize = 10_000;
const MAX_TAGS_PER_PEER: usize = 64;
const MAX_TAG_LEN: usize = 128;
/// How long shutdown waits for connections to close before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// How long `start` waits for listeners to report their addresses.
const LISTEN_WAIT: Duration = Duration::from_secs(10);

type Reply<T> = oneshot::Sender<Result<T, NetError>>;

struct Conn {
    remote: Multiaddr,
    direction: Direction,
    established: Instant,
    stats: Option<Arc<ConnStats>>,
}

#[derive(Default)]
struct PeerState {
    conns: HashMap<ConnectionId, Conn>,
    identify: Option<IdentifyInfo>,
    rtt: Option<Duration>,
}

/// Smoothed byte rates (exponential moving average with a one-second time constant).
struct Meter {
    last: Instant,
    last_in: u64,
    last_out: u64,
    rate_in: f64,
    rate_out: f64,
}

impl Meter {
    fn sample(&mut self, now: Instant, total_in: u64, total_out: u64) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        if dt < 0.001 {
            return;
        }
        let alpha = 1.0 - (-dt).exp();
        let inst_in = total_in.saturating_sub(self.last_in) as f64 / dt;
        let inst_out = total_out.saturating_sub(self.last_out) as f64 / dt;
        self.rate_in += alpha * (inst_in - self.rate_in);
        self.rate_out += alpha * (inst_out - self.rate_out);
        self.last = now;
        self.last_in = total_in;
        self.last_out = total_out;
    }
}

struct Actor {
    swarm: Swarm<NetBehaviour>,
    commands: mpsc::Receiver<Command>,
    commands_open: bool,
    events: broadcast::Sender<NetEvent>,
    cfg: NetConfig,
    local: PeerId,
    registry: Arc<Registry>,

    listeners: HashSet<ListenerId>,
    listen_addrs: Vec<Multiaddr>,
    announce: Vec<Multiaddr>,
    append_announce: Vec<Multiaddr>,
    no_announce: Vec<NoAnnounce>,
    bootstrap: Vec<(PeerId, Multiaddr)>,

    peers: HashMap<PeerId, PeerState>,
    protected: HashMap<PeerId, BTreeSet<String>>,
    peering: Peering,

    pending_connects: HashMap<ConnectionId, (PeerId, Reply<PeerId>)>,
    /// `connect_peer` calls that found a dial to the peer already under way.
    pending_peer_connects: HashMap<PeerId, Vec<Reply<PeerId>>>,
    /// Each waits for all of its connections to close.
    pending_disconnects: Vec<(HashSet<ConnectionId>, Reply<()>)>,
    pending_identify: HashMap<PeerId, Vec<Reply<IdentifyInfo>>>,
    pending_identify_count: usize,

    meter: Meter,
    last_conn_mgr: Instant,
    last_bootstrap: Instant,
    conn_mgr_runs: u64,
    conn_mgr_trimmed: u64,

    shutdown_waiters: Vec<oneshot::Sender<()>>,
    shutdown_deadline: Option<Instant>,

    dht: Option<Dht>,
}

/// Builds the swarm, opens the listeners (waiting until their addresses are known), dials the
/// peering and bootstrap peers, and spawns the actor. Must be called inside a tokio runtime.
pub async fn start(config: NetConfig, keypair: Keypair) -> Result<(NetHandle, JoinHandle<()>), NetError> {
    let parsed = config.parse()?;
    let local = keypair.public().to_peer_id();
    let limits = &config.limits;
    let registry = Arc::new(Registry::new(StreamLimits {
        max_inbound: limits.max_inbound_streams_per_connection,
        max_refused: limits.max_refused_streams_per_connection,
    }));
    let transport = transport::build(
        &TransportOptions {
            keypair: &keypair,
            security: &config.security,
            tcp: config.tcp,
            quic: config.quic,
            handshake_timeout: config.handshake_timeout,
            max_inbound_streams: limits.max_inbound_streams_per_connection,
        },
        &registry,
    )?;
    let inbound = Arc::new(crate::inbound::Shared::default());
    let behaviour = build_behaviour(&config, &parsed, &keypair, &inbound)?;
    let swarm_cfg = libp2p::swarm::Config::with_tokio_executor()
        // Kubo closes idle connections only through its connection manager; the swarm copes with
        // a huge timeout (it clamps what does not fit an Instant).
        .with_idle_connection_timeout(config.idle_connection_timeout.unwrap_or(Duration::from_secs(u64::MAX)))
        .with_max_negotiating_inbound_streams(limits.max_negotiating_inbound_streams);
    let swarm = Swarm::new(transport, behaviour, local, swarm_cfg);
    let control = swarm.behaviour().stream.new_control();
    let (cmd_tx, cmd_rx) = mpsc::channel(config.command_queue);
    let (ev_tx, _) = broadcast::channel(config.event_queue);
    let now = Instant::now();
    let mut actor = Actor {
        swarm,
        commands: cmd_rx,
        commands_open: true,
        events: ev_tx.clone(),
        local,
        registry,
        listeners: HashSet::new(),
        listen_addrs: Vec::new(),
        announce: parsed.announce.clone(),
        append_announce: parsed.append_announce.clone(),
        no_announce: parsed.no_announce.clone(),
        bootstrap: parsed.bootstrap.clone(),
        peers: HashMap::new(),
        protected: HashMap::new(),
        peering: Peering::new(config.peering_backoff),
        pending_connects: HashMap::new(),
        pending_peer_connects: HashMap::new(),
        pending_disconnects: Vec::new(),
        pending_identify: HashMap::new(),
        pending_identify_count: 0,
        meter: Meter { last: now, last_in: 0, last_out: 0, rate_in: 0.0, rate_out: 0.0 },
        last_conn_mgr: now,
        last_bootstrap: now,
        conn_mgr_runs: 0,
        conn_mgr_trimmed: 0,
        shutdown_waiters: Vec::new(),
        shutdown_deadline: None,
        dht: config.dht.clone().map(Dht::new),
        cfg: config,
    };
    actor.listen(&parsed.listen).await?;
    actor.refresh_announced();
    for p in parsed.peering {
        actor.peering_add(p)?;
    }
    actor.dial_due_peering(Instant::now());
    actor.dial_bootstrap();
    let handle = NetHandle {
        commands: cmd_tx,
        control,
        inbound,
        inbound_queue: actor.cfg.inbound_stream_queue,
        events: ev_tx,
        local_peer_id: local,
        request_timeout: actor.cfg.request_timeout,
        ping_timeout: actor.cfg.ping_timeout,
    };
    Ok((handle, tokio::spawn(actor.run())))
}

fn build_behaviour(
    config: &NetConfig,
    parsed: &Parsed,
    keypair: &Keypair,
    inbound: &Arc<crate::inbound::Shared>,
) -> Result<NetBehaviour, NetError> {
    let local = keypair.public().to_peer_id();
    let l = &config.limits;
    let mut conn_limits = connection_limits::ConnectionLimits::default();
    let mut memory = None;
    if l.enabled {
        // A TCP connection holds a file descriptor; keep half of them for the rest of the node.
        let fd_cap = l.max_file_descriptors.map(|fds| u32::try_from(fds / 2).unwrap_or(u32::MAX));
        let total = match (l.max_connections, fd_cap) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        conn_limits = conn_limits
            .with_max_established(total)
            .with_max_established_per_peer(l.max_connections_per_peer)
            .with_max_pending_incoming(l.max_pending_incoming)
            .with_max_pending_outgoing(l.max_pending_outgoing);
        memory = l
            .max_memory
            .map(|m| memory_connection_limits::Behaviour::with_max_bytes(usize::try_from(m).unwrap_or(usize::MAX)));
    }
    let identify = identify::Behaviour::new(
        identify::Config::new(PROTOCOL_VERSION.to_string(), keypair.public())
            .with_agent_version(config.agent_version.clone())
            // We advertise exactly the announced set, kept as the swarm's external addresses.
            .with_hide_listen_addrs(true)
            // The gate's address book is the one place dial addresses come from (and are filtered).
            .with_cache_size(0)
            .with_push_listen_addr_updates(true),
    );
    let mdns = if config.mdns {
        Some(
            mdns::tokio::Behaviour::new(mdns::Config::default(), local)
                .map_err(|e| NetError::Transport(format!("mdns: {e}")))?,
        )
    } else {
        None
    };
    let mut filters = AddrFilters::default();
    for f in &parsed.addr_filters {
        filters.add(*f);
    }
    Ok(NetBehaviour {
        gate: Gate::new(filters, AddressBook::new(config.max_known_peers)),
        limits: connection_limits::Behaviour::new(conn_limits),
        memory: Toggle::from(memory),
        identify,
        ping: ping::Behaviour::new(
            ping::Config::new().with_interval(config.ping_interval).with_timeout(config.ping_timeout),
        ),
        pong: crate::ping::Responder,
        inbound: crate::inbound::Inbound { shared: inbound.clone() },
        stream: libp2p_stream::Behaviour::new(),
        mdns: Toggle::from(mdns),
        kad: Toggle::from(config.dht.as_ref().filter(|d| d.wan).map(|d| dht::build(d, local, DhtNet::Wan))),
        kad_lan: Toggle::from(config.dht.as_ref().filter(|d| d.lan).map(|d| dht::build(d, local, DhtNet::Lan))),
    })
}

impl Actor {
    fn emit(&self, e: NetEvent) {
        // No subscriber is fine: nobody is interested yet.
        let _ = self.events.send(e);
    }

    async fn listen(&mut self, addrs: &[Multiaddr]) -> Result<(), NetError> {
        let mut waiting: HashMap<ListenerId, Multiaddr> = HashMap::new();
        let mut first_error = None;
        for a in addrs {
            match self.swarm.listen_on(a.clone()) {
                Ok(id) => {
                    self.listeners.insert(id);
                    waiting.insert(id, a.clone());
                }
                Err(TransportError::MultiaddrNotSupported(a)) => {
                    tracing::warn!(%a, "Addresses.Swarm: transport not supported, skipped");
                }
                Err(TransportError::Other(e)) => {
                    tracing::warn!(%a, "cannot listen: {e}");
                    first_error.get_or_insert(NetError::Listen { addr: a.clone(), reason: e.to_string() });
                }
            }
        }
        let deadline = tokio::time::Instant::now() + LISTEN_WAIT;
        while !waiting.is_empty() {
            let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.swarm.next()).await else {
                break;
            };
            match &event {
                SwarmEvent::NewListenAddr { listener_id, .. } => {
                    waiting.remove(listener_id);
                }
                SwarmEvent::ListenerClosed { listener_id, reason, .. } => {
                    if let Some(a) = waiting.remove(listener_id) {
                        let reason = match reason {
                            Err(e) => e.to_string(),
                            Ok(()) => "closed".into(),
                        };
                        first_error.get_or_insert(NetError::Listen { addr: a, reason });
                    }
                }
                _ => {}
            }
            self.on_swarm_event(event);
        }
        if let Some((_, a)) = waiting.into_iter().next() {
            first_error.get_or_insert(NetError::Listen { addr: a, reason: "no address reported in time".into() });
        }
        // As go-libp2p: a failing address is only fatal when none works.
        match (self.listen_addrs.is_empty() && !addrs.is_empty(), first_error) {
            (true, Some(e)) => Err(e),
            (true, None) => Err(NetError::NoListener),
            (false, Some(e)) => {
                tracing::warn!("some listen addresses failed: {e}");
                Ok(())
            }
            (false, None) => Ok(()),
        }
    }

    async fn run(mut self) {
        let mut tick = tokio::time::interval(self.cfg.housekeeping_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                cmd = self.commands.recv(), if self.commands_open => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    // Every handle is gone: nobody can use the network any more.
                    None => {
                        self.commands_open = false;
                        self.begin_shutdown();
                    }
                },
                _ = tick.tick() => self.housekeeping(),
            }
            if let Some(deadline) = self.shutdown_deadline
                && ((self.peers.is_empty() && self.listeners.is_empty()) || Instant::now() >= deadline)
            {
                break;
            }
        }
        for net in [DhtNet::Wan, DhtNet::Lan] {
            if let Some(k) = self.kad_mut(net) {
                k.store_mut().flush();
            }
        }
        let waiters = std::mem::take(&mut self.shutdown_waiters);
        // Drop the swarm (sockets, connections) before telling anyone we are done, so that a
        // restart on the same port finds it free.
        drop(self);
        for w in waiters {
            let _ = w.send(());
        }
    }

    fn begin_shutdown(&mut self) {
        if self.shutdown_deadline.is_some() {
            return;
        }
        tracing::debug!("network shutting down");
        self.shutdown_deadline = Some(Instant::now() + SHUTDOWN_GRACE);
        for id in self.listeners.clone() {
            self.swarm.remove_listener(id);
        }
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for p in peers {
            let _ = self.swarm.disconnect_peer_id(p);
        }
    }

    fn shutting_down(&self) -> bool {
        self.shutdown_deadline.is_some()
    }

    // ---- swarm events -------------------------------------------------------------------

    fn on_swarm_event(&mut self, event: SwarmEvent<NetBehaviourEvent>) {
        match event {
            SwarmEvent::Behaviour(b) => self.on_behaviour_event(b),
            SwarmEvent::ConnectionEstablished { peer_id, connection_id, endpoint, num_established, .. } => {
                let remote = endpoint.get_remote_address().clone();
                let direction = if endpoint.is_dialer() { Direction::Outbound } else { Direction::Inbound };
                let stats = self.registry.take(peer_id, &remote);
                if direction == Direction::Outbound {
                    self.swarm.behaviour_mut().gate.book.add(peer_id, &remote);
                }
                self.peers.entry(peer_id).or_default().conns.insert(
                    connection_id,
                    Conn { remote: remote.clone(), direction, established: Instant::now(), stats },
                );
                if num_established.get() == 1 {
                    self.peering.on_connected(&peer_id);
                    self.emit(NetEvent::PeerConnected { peer: peer_id, addr: remote, direction });
                }
                if let Some((_, tx)) = self.pending_connects.remove(&connection_id) {
                    let _ = tx.send(Ok(peer_id));
                }
                for tx in self.pending_peer_connects.remove(&peer_id).unwrap_or_default() {
                    let _ = tx.send(Ok(peer_id));
                }
                if self.shutting_down() {
                    self.swarm.close_connection(connection_id);
                }
            }
            SwarmEvent::ConnectionClosed { peer_id, connection_id, num_established, .. } => {
                if let Some(p) = self.peers.get_mut(&peer_id) {
                    p.conns.remove(&connection_id);
                }
                if num_established == 0 {
                    self.peers.remove(&peer_id);
                    if let Some(waiters) = self.pending_identify.remove(&peer_id) {
                        self.pending_identify_count -= waiters.len();
                        for w in waiters {
                            let _ = w.send(Err(NetError::NotConnected(peer_id)));
                        }
                    }
                    self.peering.on_disconnected(&peer_id, Instant::now());
                    self.emit(NetEvent::PeerDisconnected { peer: peer_id });
                }
                for (ids, _) in &mut self.pending_disconnects {
                    ids.remove(&connection_id);
                }
                let mut i = 0;
                while i < self.pending_disconnects.len() {
                    if self.pending_disconnects[i].0.is_empty() {
                        let (_, tx) = self.pending_disconnects.swap_remove(i);
                        let _ = tx.send(Ok(()));
                    } else {
                        i += 1;
                    }
                }
            }
            SwarmEvent::OutgoingConnectionError { connection_id, peer_id, error } => {
                if let Some((peer, tx)) = self.pending_connects.remove(&connection_id) {
                    let _ = tx.send(Err(dial_error(peer, &error)));
                }
                if let Some(p) = peer_id
                    && !self.swarm.is_connected(&p)
                {
                    for tx in self.pending_peer_connects.remove(&p).unwrap_or_default() {
                        let _ = tx.send(Err(dial_error(p, &error)));
                    }
                }
                if let Some(p) = peer_id {
                    self.peering.on_dial_failed(&p, Some(connection_id), Instant::now());
                }
            }
            SwarmEvent::IncomingConnectionError { send_back_addr, error, .. } => {
                tracing::debug!(%send_back_addr, "inbound connection failed: {error}");
            }
            SwarmEvent::NewListenAddr { address, .. } => {
                tracing::info!(%address, "listening");
                if !self.listen_addrs.contains(&address) {
                    self.listen_addrs.push(address);
                    self.listen_addrs_changed();
                }
            }
            SwarmEvent::ExpiredListenAddr { address, .. } => {
                self.listen_addrs.retain(|a| *a != address);
                self.listen_addrs_changed();
            }
            SwarmEvent::ListenerClosed { listener_id, addresses, reason } => {
                if let Err(e) = reason {
                    tracing::warn!("listener closed: {e}");
                }
                self.listeners.remove(&listener_id);
                self.listen_addrs.retain(|a| !addresses.contains(a));
                self.listen_addrs_changed();
            }
            SwarmEvent::ListenerError { error, .. } => tracing::warn!("listener error: {error}"),
            _ => {}
        }
    }

    fn listen_addrs_changed(&mut self) {
        self.refresh_announced();
        self.emit(NetEvent::ListenAddrsChanged { addrs: self.listen_addrs.clone() });
    }

    fn on_behaviour_event(&mut self, event: NetBehaviourEvent) {
        match event {
            NetBehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. })
            | NetBehaviourEvent::Identify(identify::Event::Pushed { peer_id, info, .. }) => {
                self.on_identified(peer_id, info.into());
            }
            NetBehaviourEvent::Identify(identify::Event::Error { peer_id, error, .. }) => {
                tracing::debug!(%peer_id, "identify failed: {error}");
                let known = self.peers.get(&peer_id).is_some_and(|p| p.identify.is_some());
                if !known && let Some(waiters) = self.pending_identify.remove(&peer_id) {
                    self.pending_identify_count -= waiters.len();
                    for w in waiters {
                        let _ = w.send(Err(NetError::Identify(error.to_string())));
                    }
                }
            }
            NetBehaviourEvent::Ping(ping::Event { peer, result: Ok(rtt), .. }) => {
                if let Some(p) = self.peers.get_mut(&peer) {
                    p.rtt = Some(rtt);
                }
            }
            NetBehaviourEvent::Kad(e) => self.on_kad(DhtNet::Wan, e),
            NetBehaviourEvent::KadLan(e) => self.on_kad(DhtNet::Lan, e),
            NetBehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if peer == self.local {
                        continue;
                    }
                    self.swarm.behaviour_mut().gate.book.add(peer, &addr);
                    if !self.swarm.is_connected(&peer) && !self.shutting_down() {
                        let _ = self.dial(peer, vec![addr], PeerCondition::DisconnectedAndNotDialing);
                    }
                }
            }
            _ => {}
        }
    }

    fn kad_mut(&mut self, net: DhtNet) -> Option<&mut kad::Behaviour<crate::store::DhtStore>> {
        let b = self.swarm.behaviour_mut();
        match net {
            DhtNet::Wan => b.kad.as_mut(),
            DhtNet::Lan => b.kad_lan.as_mut(),
        }
    }

    fn on_kad(&mut self, net: DhtNet, event: kad::Event) {
        let Some(mut dht) = self.dht.take() else { return };
        match event {
            kad::Event::OutboundQueryProgressed { id, result, step, stats } => {
                if step.last {
                    dht.query_done(stats.num_requests());
                }
                let mut finish = Vec::new();
                for f in dht.on_progress(net, id, result, stats.num_successes(), step.last, &mut finish) {
                    match f {
                        Followup::Dial(p) if p != self.local && !self.swarm.is_connected(&p) => {
                            // Now, while the lookup that found it still holds its addresses.
                            let opts = DialOpts::peer_id(p).condition(PeerCondition::DisconnectedAndNotDialing).build();
                            if let Err(e) = self.swarm.dial(opts) {
                                tracing::debug!(peer = %p, "dht: cannot dial provider: {e}");
                            }
                        }
                        _ => {}
                    }
                }
                self.finish_queries(finish);
            }
            kad::Event::InboundRequest { request } => {
                if let Some(k) = self.kad_mut(net) {
                    dht.on_inbound(net, k, request);
                }
            }
            kad::Event::RoutingUpdated { peer, is_new_peer: true, .. } => {
                tracing::debug!(%peer, dht = net.name(), "dht: peer added to the routing table");
            }
            kad::Event::ModeChanged { new_mode } => {
                tracing::info!(dht = net.name(), "dht: now in {new_mode} mode");
            }
            _ => {}
        }
        self.dht = Some(dht);
    }

    fn finish_queries(&mut self, queries: Vec<(DhtNet, kad::QueryId)>) {
        for (net, id) in queries {
            if let Some(mut q) = self.kad_mut(net).and_then(|k| k.query_mut(&id)) {
                q.finish();
            }
        }
    }

    fn on_dht_command(&mut self, cmd: DhtCommand) {
        let Some(mut dht) = self.dht.take() else {
            let e = || NetError::Dht("routing is disabled (Routing.Type is none or delegated)".into());
            match cmd {
                DhtCommand::FindProviders { .. } => {}
                DhtCommand::Provide { reply, .. } => OpKind::provide(reply).fail(e()),
                DhtCommand::Closest { reply, .. } => OpKind::closest(reply).fail(e()),
                DhtCommand::GetValue { reply, .. } => OpKind::get_value(reply, 1).fail(e()),
                DhtCommand::PutValue { reply, .. } => OpKind::put_value(reply).fail(e()),
                DhtCommand::Stats(r) => {
                    let _ = r.send(dht::DhtStats::default());
                }
                DhtCommand::Bootstrap(r) => {
                    let _ = r.send(Err(e()));
                }
            }
            return;
        };
        match cmd {
            DhtCommand::FindProviders { key, limit, dial, tx } => {
                let key = kad::RecordKey::from(key);
                dht.begin(OpKind::providers(tx, limit, dial), |net| {
                    self.kad_mut(net).map(|k| k.get_providers(key.clone()))
                });
            }
            DhtCommand::Provide { key, reply } => {
                let key = kad::RecordKey::from(key);
                dht.begin(OpKind::provide(reply), |net| {
                    self.kad_mut(net).and_then(|k| k.start_providing(key.clone()).ok())
                });
            }
            DhtCommand::Closest { key, only, reply } => {
                dht.begin(OpKind::closest(reply), |net| {
                    if only.is_some_and(|o| o != net) {
                        return None;
                    }
                    self.kad_mut(net).map(|k| k.get_closest_peers(key.clone()))
                });
            }
            DhtCommand::GetValue { key, limit, reply } => {
                let key = kad::RecordKey::from(key);
                dht.begin(OpKind::get_value(reply, limit), |net| self.kad_mut(net).map(|k| k.get_record(key.clone())));
            }
            DhtCommand::PutValue { key, value, reply } => {
                let rkey = kad::RecordKey::from(key.clone());
                let newer_held = dht.cfg.validator.clone().is_some_and(|v| {
                    dht.nets().into_iter().any(|net| {
                        self.kad_mut(net)
                            .and_then(|k| {
                                libp2p::kad::store::RecordStore::get(k.store_mut(), &rkey).map(|r| r.value.clone())
                            })
                            .is_some_and(|held| v.0.select(&key, &held, &value) == std::cmp::Ordering::Greater)
                    })
                });
                if !dht::accepts_value(dht.cfg.validator.as_ref(), &key, &value) {
                    let _ = reply.send(Err(NetError::Dht("record failed validation".into())));
                } else if newer_held {
                    // Kubo's words for the same refusal.
                    let _ = reply.send(Err(NetError::Dht("can't replace a newer value with an older value".into())));
                } else {
                    let rec = kad::Record::new(key, value);
                    dht.begin(OpKind::put_value(reply), |net| {
                        self.kad_mut(net).and_then(|k| k.put_record(rec.clone(), kad::Quorum::One).ok())
                    });
                }
            }
            DhtCommand::Stats(r) => {
                let mut tables = Vec::new();
                let mut provided = 0;
                let mut records = 0;
                for net in dht.nets() {
                    let Some(k) = self.kad_mut(net) else { continue };
                    let server = k.mode() == kad::Mode::Server;
                    let mut buckets = Vec::new();
                    for b in k.kbuckets() {
                        let idx = b.range().0.ilog2().unwrap_or(0);
                        let peers: Vec<PeerId> = b.iter().map(|e| *e.node.key.preimage()).collect();
                        if !peers.is_empty() {
                            buckets.push((idx, peers));
                        }
                    }
                    provided += k.store_mut().provider_records() as usize;
                    records += k.store_mut().value_records();
                    tables.push(dht::DhtTableStats { net, server, buckets });
                }
                let _ = r.send(dht.stats(tables, provided, records));
            }
            DhtCommand::Bootstrap(r) => {
                let mut any = false;
                for net in dht.nets() {
                    if let Some(k) = self.kad_mut(net) {
                        any |= k.bootstrap().is_ok();
                    }
                }
                let _ = r.send(if any { Ok(()) } else { Err(NetError::Dht("no DHT peers known".into())) });
            }
        }
        self.dht = Some(dht);
    }

    fn on_identified(&mut self, peer: PeerId, info: IdentifyInfo) {
        let book = &mut self.swarm.behaviour_mut().gate.book;
        for a in &info.listen_addrs {
            book.add(peer, a);
        }
        // DHT servers enter the table of each DHT they speak, with the addresses that table keeps.
        if let Some(d) = &self.dht {
            let loopback = d.cfg.loopback_on_lan;
            for net in d.nets() {
                if !info.protocols.iter().any(|p| p.as_str() == net.protocol().as_ref()) {
                    continue;
                }
                let addrs: Vec<Multiaddr> =
                    info.listen_addrs.iter().filter(|a| dht::admits(net, loopback, a)).cloned().collect();
                if let Some(k) = self.kad_mut(net) {
                    for a in addrs {
                        k.add_address(&peer, a);
                    }
                }
            }
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.identify = Some(info.clone());
        }
        if let Some(waiters) = self.pending_identify.remove(&peer) {
            self.pending_identify_count -= waiters.len();
            for w in waiters {
                let _ = w.send(Ok(info.clone()));
            }
        }
        self.emit(NetEvent::PeerIdentified { peer, info: Box::new(info) });
    }

    // ---- commands -----------------------------------------------------------------------

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::ListenAddrs(r) => {
                let _ = r.send(self.listen_addrs.clone());
            }
            Command::AnnouncedAddrs(r) => {
                let _ = r.send(self.swarm.external_addresses().cloned().collect());
            }
            Command::Peers(r) => {
                let _ = r.send(self.peer_infos());
            }
            Command::Connect(addr, r) => self.connect(addr, r),
            Command::ConnectPeer(peer, r) => self.connect_peer(peer, r),
            Command::Disconnect(target, r) => {
                let res = self.disconnect(target);
                match res {
                    Ok(ids) => self.pending_disconnects.push((ids, r)),
                    Err(e) => {
                        let _ = r.send(Err(e));
                    }
                }
            }
            Command::Identify(peer, r) => self.identify(peer, r),
            Command::KnownAddrs(r) => {
                let _ = r.send(self.known_addrs());
            }
            Command::PeeringAdd(p, r) => {
                let res = self.peering_add(p);
                if res.is_ok() {
                    self.dial_due_peering(Instant::now());
                }
                let _ = r.send(res);
            }
            Command::PeeringRm(peer, r) => {
                let removed = self.peering.remove(&peer);
                if removed {
                    self.unprotect(peer, PEERING_TAG);
                    self.swarm.behaviour_mut().limits.remove_peer_id(&peer);
                }
                let _ = r.send(removed);
            }
            Command::PeeringLs(r) => {
                let _ = r.send(self.peering.list());
            }
            Command::FiltersAdd(ma, r) => {
                let res = IpCidr::from_multiaddr(&ma)
                    .map_err(|reason| NetError::InvalidFilter { addr: ma.clone(), reason })
                    .and_then(|net| {
                        let filters = &mut self.swarm.behaviour_mut().gate.filters;
                        if filters.len() >= MAX_FILTERS {
                            return Err(NetError::Limit("address filters"));
                        }
                        Ok(filters.add(net))
                    });
                let _ = r.send(res);
            }
            Command::FiltersRm(ma, r) => {
                let res = IpCidr::from_multiaddr(&ma)
                    .map_err(|reason| NetError::InvalidFilter { addr: ma.clone(), reason })
                    .map(|net| self.swarm.behaviour_mut().gate.filters.remove(&net));
                let _ = r.send(res);
            }
            Command::FiltersLs(r) => {
                let _ = r.send(self.swarm.behaviour().gate.filters.list());
            }
            Command::Protect(peer, tag, r) => {
                let _ = r.send(self.protect(peer, tag));
            }
            Command::Unprotect(peer, tag, r) => {
                let _ = r.send(self.unprotect(peer, &tag));
            }
            Command::Bandwidth(r) => {
                let c = &self.registry.counters;
                let _ = r.send(BandwidthStats {
                    total_in: c.bytes_in.load(Ordering::Relaxed),
                    total_out: c.bytes_out.load(Ordering::Relaxed),
                    rate_in: self.meter.rate_in,
                    rate_out: self.meter.rate_out,
                });
            }
            Command::Resources(r) => {
                let _ = r.send(self.resource_stats());
            }
            Command::Shutdown(r) => {
                self.shutdown_waiters.push(r);
                self.begin_shutdown();
            }
            Command::Dht(c) => self.on_dht_command(c),
        }
    }

    /// Dials `peer`, leaving out filtered addresses (and counting them).
    fn dial(
        &mut self,
        peer: PeerId,
        addrs: Vec<Multiaddr>,
        condition: PeerCondition,
    ) -> Result<ConnectionId, NetError> {
        let gate = &mut self.swarm.behaviour_mut().gate;
        let given = addrs.len();
        let mut first_filtered = None;
        let addrs: Vec<Multiaddr> = addrs
            .into_iter()
            .filter(|a| {
                let blocked = gate.filters.blocks(a);
                if blocked {
                    gate.refusals.addr_filtered_outbound += 1;
                    first_filtered.get_or_insert_with(|| a.clone());
                }
                !blocked
            })
            .collect();
        if given > 0
            && addrs.is_empty()
            && let Some(a) = first_filtered
        {
            return Err(NetError::AddrFiltered(a));
        }
        let opts = DialOpts::peer_id(peer).addresses(addrs).condition(condition).build();
        let id = opts.connection_id();
        self.swarm.dial(opts).map_err(|e| dial_error(peer, &e))?;
        Ok(id)
    }

    fn connect(&mut self, addr: Multiaddr, r: oneshot::Sender<Result<PeerId, NetError>>) {
        let res = (|| {
            if self.shutting_down() {
                return Err(NetError::ShuttingDown);
            }
            let peer = peer_of(&addr).ok_or_else(|| NetError::MissingPeerId(addr.clone()))?;
            if peer == self.local {
                return Err(NetError::SelfDial);
            }
            if self.swarm.is_connected(&peer) {
                return Ok(None);
            }
            if self.pending_connects.len() >= MAX_PENDING {
                return Err(NetError::Busy("connect"));
            }
            let id = self.dial(peer, vec![without_p2p(&addr)], PeerCondition::Always)?;
            self.swarm.behaviour_mut().gate.book.add(peer, &addr);
            Ok(Some((peer, id)))
        })();
        match res {
            Ok(Some((peer, id))) => {
                self.pending_connects.insert(id, (peer, r));
            }
            Ok(None) => {
                let _ = r.send(peer_of(&addr).ok_or(NetError::MissingPeerId(addr)));
            }
            Err(e) => {
                let _ = r.send(Err(e));
            }
        }
    }

    /// Connects to `peer` by id: addresses from the book, and from DHT lookups under way.
    fn connect_peer(&mut self, peer: PeerId, r: oneshot::Sender<Result<PeerId, NetError>>) {
        if self.shutting_down() {
            let _ = r.send(Err(NetError::ShuttingDown));
            return;
        }
        if peer == self.local {
            let _ = r.send(Err(NetError::SelfDial));
            return;
        }
        if self.swarm.is_connected(&peer) {
            let _ = r.send(Ok(peer));
            return;
        }
        let waiting: usize = self.pending_peer_connects.values().map(Vec::len).sum();
        if self.pending_connects.len() >= MAX_PENDING || waiting >= MAX_PENDING {
            let _ = r.send(Err(NetError::Busy("connect")));
            return;
        }
        // Filtered addresses are left out by the gate; the book and running DHT lookups supply
        // the rest.
        let opts = DialOpts::peer_id(peer).condition(PeerCondition::DisconnectedAndNotDialing).build();
        let id = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                self.pending_connects.insert(id, (peer, r));
            }
            // A dial is under way: wait for it.
            Err(DialError::DialPeerConditionFalse(_)) => {
                self.pending_peer_connects.entry(peer).or_default().push(r);
            }
            Err(e) => {
                let _ = r.send(Err(dial_error(peer, &e)));
            }
        }
    }

    /// Starts closing the matching connections; returns their ids.
    fn disconnect(&mut self, target: DisconnectTarget) -> Result<HashSet<ConnectionId>, NetError> {
        if self.pending_disconnects.len() >= MAX_PENDING {
            return Err(NetError::Busy("disconnect"));
        }
        let ids: HashSet<ConnectionId> = match &target {
            DisconnectTarget::Peer(p) => self
                .peers
                .get(p)
                .map(|s| s.conns.keys().copied().collect())
                .filter(|ids: &HashSet<_>| !ids.is_empty())
                .ok_or(NetError::NotConnected(*p))?,
            DisconnectTarget::Addr(a) => {
                let want_peer = peer_of(a);
                let base = without_p2p(a);
                let ids: HashSet<_> = self
                    .peers
                    .iter()
                    .filter(|(p, _)| want_peer.is_none_or(|w| w == **p))
                    .flat_map(|(_, s)| s.conns.iter())
                    .filter(|(_, c)| base.is_empty() || without_p2p(&c.remote) == base)
                    .map(|(id, _)| *id)
                    .collect();
                if ids.is_empty() {
                    return Err(NetError::NoSuchConnection(a.clone()));
                }
                ids
            }
        };
        for id in &ids {
            self.swarm.close_connection(*id);
        }
        Ok(ids)
    }

    fn identify(&mut self, peer: PeerId, r: oneshot::Sender<Result<IdentifyInfo, NetError>>) {
        match self.peers.get(&peer) {
            None => {
                let _ = r.send(Err(NetError::NotConnected(peer)));
            }
            Some(PeerState { identify: Some(info), .. }) => {
                let _ = r.send(Ok(info.clone()));
            }
            // Connected, identify still on its way: it runs on every new connection.
            Some(_) if self.pending_identify_count < MAX_PENDING => {
                self.pending_identify.entry(peer).or_default().push(r);
                self.pending_identify_count += 1;
            }
            Some(_) => {
                let _ = r.send(Err(NetError::Busy("identify")));
            }
        }
    }

    fn peering_add(&mut self, p: PeerAddrs) -> Result<(), NetError> {
        if p.id == self.local {
            return Err(NetError::SelfDial);
        }
        let addrs: Vec<Multiaddr> = p.addrs.iter().map(without_p2p).collect();
        let connected = self.swarm.is_connected(&p.id);
        // Peering peers are ours to keep: the connection manager and the count limits pass them.
        self.protect(p.id, PEERING_TAG.to_string())?;
        if self.peering.add(p.id, addrs.clone(), connected, Instant::now()).is_err() {
            self.unprotect(p.id, PEERING_TAG);
            return Err(NetError::Limit("peering peers"));
        }
        let b = self.swarm.behaviour_mut();
        b.limits.bypass_peer_id(&p.id);
        for a in &addrs {
            b.gate.book.add(p.id, a);
        }
        Ok(())
    }

    fn dial_due_peering(&mut self, now: Instant) {
        if self.shutting_down() {
            return;
        }
        for (peer, addrs) in self.peering.due(now) {
            match self.dial(peer, addrs, PeerCondition::DisconnectedAndNotDialing) {
                Ok(id) => self.peering.on_dial_started(&peer, id),
                Err(e) => {
                    tracing::debug!(%peer, "peering dial: {e}");
                    self.peering.on_dial_failed(&peer, None, now);
                }
            }
        }
    }

    fn dial_bootstrap(&mut self) {
        for (peer, addr) in self.bootstrap.clone() {
            if peer == self.local || self.swarm.is_connected(&peer) {
                continue;
            }
            if let Err(e) = self.dial(peer, vec![without_p2p(&addr)], PeerCondition::DisconnectedAndNotDialing) {
                tracing::debug!(%peer, "bootstrap dial: {e}");
            }
        }
    }

    fn protect(&mut self, peer: PeerId, tag: String) -> Result<(), NetError> {
        if tag.len() > MAX_TAG_LEN {
            return Err(NetError::Limit("protection tag length"));
        }
        if !self.protected.contains_key(&peer) && self.protected.len() >= MAX_PROTECTED_PEERS {
            return Err(NetError::Limit("protected peers"));
        }
        let tags = self.protected.entry(peer).or_default();
        if !tags.contains(&tag) && tags.len() >= MAX_TAGS_PER_PEER {
            return Err(NetError::Limit("protection tags per peer"));
        }
        tags.insert(tag);
        Ok(())
    }

    /// Returns whether the peer is still protected by another tag.
    fn unprotect(&mut self, peer: PeerId, tag: &str) -> bool {
        let Some(tags) = self.protected.get_mut(&peer) else { return false };
        tags.remove(tag);
        if tags.is_empty() {
            self.protected.remove(&peer);
            return false;
        }
        true
    }

    // ---- views --------------------------------------------------------------------------

    fn peer_infos(&self) -> Vec<PeerInfo> {
        let now = Instant::now();
        let mut out: Vec<PeerInfo> = self
            .peers
            .iter()
            .filter(|(_, s)| !s.conns.is_empty())
            .map(|(peer, s)| {
                let mut connections: Vec<(Instant, ConnectionInfo)> = s
                    .conns
                    .values()
                    .map(|c| {
                        let load = |f: fn(&ConnStats) -> u64| c.stats.as_deref().map(f).unwrap_or(0);
                        let info = ConnectionInfo {
                            remote_addr: c.remote.clone(),
                            direction: c.direction,
                            age: now.saturating_duration_since(c.established),
                            inbound_streams: load(|s| s.inbound.load(Ordering::Relaxed) as u64) as usize,
                            outbound_streams: load(|s| s.outbound.load(Ordering::Relaxed) as u64) as usize,
                            bytes_in: load(|s| s.bytes_in.load(Ordering::Relaxed)),
                            bytes_out: load(|s| s.bytes_out.load(Ordering::Relaxed)),
                        };
                        (c.established, info)
                    })
                    .collect();
                connections.sort_by_key(|(t, _)| *t);
                let id = s.identify.as_ref();
                PeerInfo {
                    peer: *peer,
                    connections: connections.into_iter().map(|(_, c)| c).collect(),
                    latency: s.rtt,
                    agent_version: id.map(|i| i.agent_version.clone()),
                    protocol_version: id.map(|i| i.protocol_version.clone()),
                    protocols: id.map(|i| i.protocols.clone()).unwrap_or_default(),
                    protected_tags: self.protected.get(peer).map(|t| t.iter().cloned().collect()).unwrap_or_default(),
                }
            })
            .collect();
        out.sort_by_key(|p| p.peer.to_bytes());
        out
    }

    fn known_addrs(&self) -> Vec<PeerAddrs> {
        let mut map: HashMap<PeerId, Vec<Multiaddr>> = HashMap::new();
        for (peer, addrs) in self.swarm.behaviour().gate.book.all() {
            map.entry(*peer).or_default().extend(addrs.cloned());
        }
        for (peer, s) in &self.peers {
            let list = map.entry(*peer).or_default();
            for c in s.conns.values() {
                let a = without_p2p(&c.remote);
                if c.direction == Direction::Outbound && !list.contains(&a) {
                    list.push(a);
                }
            }
        }
        let mut out: Vec<PeerAddrs> = map.into_iter().map(|(id, addrs)| PeerAddrs { id, addrs }).collect();
        out.sort_by_key(|p| p.id.to_bytes());
        out
    }

    fn resource_stats(&self) -> ResourceStats {
        let info = self.swarm.network_info();
        let c = info.connection_counters();
        let counters = &self.registry.counters;
        let mut refused = self.swarm.behaviour().gate.refusals.clone();
        refused.streams_refused = counters.streams_refused.load(Ordering::Relaxed);
        refused.connections_cut = counters.connections_cut.load(Ordering::Relaxed);
        refused.streams_queue_full = self.swarm.behaviour().inbound.shared.dropped.load(Ordering::Relaxed);
        ResourceStats {
            peers: info.num_peers(),
            connections_inbound: c.num_established_incoming(),
            connections_outbound: c.num_established_outgoing(),
            pending_incoming: c.num_pending_incoming(),
            pending_outgoing: c.num_pending_outgoing(),
            inbound_streams: counters.inbound_streams.load(Ordering::Relaxed),
            outbound_streams: counters.outbound_streams.load(Ordering::Relaxed),
            refused,
            conn_mgr_runs: self.conn_mgr_runs,
            conn_mgr_trimmed: self.conn_mgr_trimmed,
        }
    }

    /// Makes the swarm's external addresses (what identify advertises) match the announce rules.
    fn refresh_announced(&mut self) {
        let base = if self.announce.is_empty() { &self.listen_addrs } else { &self.announce };
        let mut want: Vec<Multiaddr> = Vec::new();
        for a in base.iter().chain(&self.append_announce) {
            if !want.contains(a) && !self.no_announce.iter().any(|n| n.matches(a)) {
                want.push(a.clone());
            }
        }
        let have: Vec<Multiaddr> = self.swarm.external_addresses().cloned().collect();
        let mut changed = false;
        for a in have.iter().filter(|a| !want.contains(a)) {
            self.swarm.remove_external_address(a);
            changed = true;
        }
        for a in want.into_iter().filter(|a| !have.contains(a)) {
            self.swarm.add_external_address(a);
            changed = true;
        }
        if let Some(d) = &self.dht
            && d.cfg.mode == dht::DhtMode::Auto
        {
            // Without AutoNAT, a public announced address is our sign of being reachable.
            let public = self.swarm.external_addresses().any(|a| dht::admits(DhtNet::Wan, false, a));
            if let Some(k) = self.swarm.behaviour_mut().kad.as_mut() {
                k.set_mode(Some(if public { kad::Mode::Server } else { kad::Mode::Client }));
            }
        }
        if changed {
            let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
            if !peers.is_empty() {
                self.swarm.behaviour_mut().identify.push(peers);
            }
        }
    }

    // ---- housekeeping -------------------------------------------------------------------

    fn housekeeping(&mut self) {
        let now = Instant::now();
        let c = &self.registry.counters;
        self.meter.sample(now, c.bytes_in.load(Ordering::Relaxed), c.bytes_out.load(Ordering::Relaxed));
        self.registry.prune();
        // Callers that gave up (timed out) leave closed senders behind.
        self.pending_connects.retain(|_, (_, tx)| !tx.is_closed());
        self.pending_peer_connects.retain(|_, v| {
            v.retain(|tx| !tx.is_closed());
            !v.is_empty()
        });
        let mut dropped = 0;
        self.pending_identify.retain(|_, ws| {
            let before = ws.len();
            ws.retain(|w| !w.is_closed());
            dropped += before - ws.len();
            !ws.is_empty()
        });
        self.pending_identify_count -= dropped;
        if let Some(d) = self.dht.as_mut() {
            let gone = d.abandoned();
            let refresh = d.refresh_due();
            let expire = d.expire_due();
            let nets = d.nets();
            self.finish_queries(gone);
            for net in nets.iter().copied() {
                if let Some(k) = self.kad_mut(net) {
                    // What strangers stored lately goes to disk at least once a tick.
                    k.store_mut().flush();
                    if expire {
                        let n = k.store_mut().expire(100_000);
                        tracing::debug!(dht = net.name(), removed = n, "dht: expired records removed");
                    }
                }
            }
            for net in nets.into_iter().filter(|_| refresh) {
                // Only tables with peers: an empty one has nobody to ask.
                if let Some(k) = self.kad_mut(net)
                    && k.kbuckets().any(|b| b.num_entries() > 0)
                {
                    let _ = k.bootstrap();
                }
            }
        }
        if self.shutting_down() {
            return;
        }
        self.dial_due_peering(now);
        if now.saturating_duration_since(self.last_bootstrap) >= self.cfg.bootstrap_interval {
            self.last_bootstrap = now;
            if self.swarm.network_info().num_peers() < self.cfg.bootstrap_min_peers {
                self.dial_bootstrap();
            }
        }
        if now.saturating_duration_since(self.last_conn_mgr) >= self.cfg.conn_mgr.check_interval {
            self.last_conn_mgr = now;
            self.trim_connections(now);
        }
    }

    fn trim_connections(&mut self, now: Instant) {
        self.conn_mgr_runs += 1;
        let total: usize = self.peers.values().map(|p| p.conns.len()).sum();
        // Peers in a DHT routing table are kept, as go-libp2p-kad-dht protects them: trimming
        // them would empty the table the node routes with.
        let mut in_tables: HashSet<PeerId> = HashSet::new();
        for net in [DhtNet::Wan, DhtNet::Lan] {
            if let Some(k) = self.kad_mut(net) {
                for b in k.kbuckets() {
                    in_tables.extend(b.iter().map(|e| *e.node.key.preimage()));
                }
            }
        }
        let candidates: Vec<Candidate> = self
            .peers
            .iter()
            .filter(|(peer, s)| !self.protected.contains_key(peer) && !in_tables.contains(peer) && !s.conns.is_empty())
            .map(|(peer, s)| {
                let stats = s.conns.values().filter_map(|c| c.stats.as_deref());
                Candidate {
                    peer: *peer,
                    connections: s.conns.len(),
                    first_seen: s.conns.values().map(|c| c.established).min().unwrap_or(now),
                    open_streams: stats
                        .clone()
                        .map(|st| st.inbound.load(Ordering::Relaxed) + st.outbound.load(Ordering::Relaxed))
                        .sum(),
                    last_active: stats
                        .map(|st| self.registry.instant_of(st.last_active_ms.load(Ordering::Relaxed)))
                        .max()
                        .unwrap_or(now),
                }
            })
            .collect();
        for peer in connmgr::select(&self.cfg.conn_mgr, total, candidates, now) {
            let ids: Vec<ConnectionId> =
                self.peers.get(&peer).map(|s| s.conns.keys().copied().collect()).unwrap_or_default();
            tracing::debug!(%peer, connections = ids.len(), "connection manager: trimming");
            for id in ids {
                if self.swarm.close_connection(id) {
                    self.conn_mgr_trimmed += 1;
                }
            }
        }
    }
}

fn dial_error(peer: PeerId, e: &DialError) -> NetError {
    if let DialError::Denied { cause } = e
        && let Some(f) = cause.downcast_ref::<crate::behaviour::AddrFiltered>()
    {
        return NetError::AddrFiltered(f.0.clone());
    }
    NetError::DialFailed { peer, reason: e.to_string() }
}
