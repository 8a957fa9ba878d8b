//! The Amino DHT as Kubo runs it: two Kademlia instances side by side (go-libp2p-kad-dht's
//! "dual" DHT). The WAN one speaks `/ipfs/kad/1.0.0` and keeps only peers with public
//! addresses; the LAN one speaks `/ipfs/lan/kad/1.0.0` and keeps only private ones (loopback
//! too when `Routing.LoopbackAddressesOnLanDHT` says so, as Kubo's test harness sets it).
//!
//! rust-libp2p's kad does the wire protocol and the queries; this module configures it as Amino
//! (k=20, alpha=10, 48 h records, Kubo's 4 MiB message limit), decides which peers enter which
//! routing table (identify tells us who speaks which protocol, and where it listens), filters what
//! strangers store with us (provider records need addresses and come at a bounded rate per peer,
//! value records only under `/pk/`), and runs the handle's lookups on both tables at once,
//! merging their answers.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use libp2p::kad::store::RecordStore as _;
use libp2p::kad::{
    self, BucketInserts, Caching, GetClosestPeersOk, GetProvidersOk, Mode, QueryId, QueryResult, StoreInserts,
};
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId, StreamProtocol};
use tokio::sync::{mpsc, oneshot};

use crate::error::NetError;
use crate::store::{DhtStore, StoreLimits};

/// Kubo's WAN DHT protocol (Amino).
pub const WAN_PROTOCOL: StreamProtocol = StreamProtocol::new("/ipfs/kad/1.0.0");
/// Kubo's LAN DHT protocol.
pub const LAN_PROTOCOL: StreamProtocol = StreamProtocol::new("/ipfs/lan/kad/1.0.0");

/// Whether we answer DHT queries (server) or only ask them (client).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DhtMode {
    Client,
    Server,
    /// Server when reachable: on the WAN when an announced address is public; always on the LAN.
    Auto,
}

/// The DHT settings the node derives from `Routing.*`.
#[derive(Clone, Debug)]
pub struct DhtConfig {
    /// Run the WAN DHT (`/ipfs/kad/1.0.0`).
    pub wan: bool,
    /// Run the LAN DHT (`/ipfs/lan/kad/1.0.0`).
    pub lan: bool,
    pub mode: DhtMode,
    /// `Routing.LoopbackAddressesOnLanDHT`: loopback peers count as LAN peers.
    pub loopback_on_lan: bool,
    /// Bucket size and replication (Amino: 20).
    pub k: usize,
    /// Query parallelism (Amino: 10).
    pub alpha: usize,
    /// Upper bound for one lookup.
    pub query_timeout: Duration,
    /// Largest DHT message read or written (Kubo: 4 MiB).
    pub max_packet_size: usize,
    /// Value records kept for others.
    pub max_records: usize,
    /// Provider records (key, provider) held, ours and others'.
    pub max_provider_records: u64,
    /// Where records are kept (the repo's datastore); in memory when `None`.
    pub storage: Option<DhtStorage>,
    /// Checks value records other than `/pk/`; without one, only `/pk/` records are taken.
    pub validator: Option<DhtValidator>,
    /// ADD_PROVIDER and PUT_VALUE requests taken from one peer per minute; more are dropped.
    pub max_puts_per_peer_minute: u32,
}

impl Default for DhtConfig {
    fn default() -> Self {
        Self {
            wan: true,
            lan: true,
            mode: DhtMode::Auto,
            loopback_on_lan: false,
            k: 20,
            alpha: 10,
            query_timeout: Duration::from_secs(60),
            max_packet_size: 4 << 20,
            max_records: 16_384,
            max_provider_records: 1 << 24,
            storage: None,
            validator: None,
            // A sweeping provider sends a peer all the keys of its region at once (Kubo's sweep
            // provider does too): allow bursts of 1,000 a second, refuse floods beyond.
            max_puts_per_peer_minute: 60_000,
        }
    }
}

/// Checks value records: what strangers store with us and what lookups bring back. `/pk/`
/// records are checked here; the node supplies this for the rest (`/ipns/`, as Kubo).
pub trait RecordValidator: Send + Sync + 'static {
    /// Ok when `value` may be stored under `key`.
    fn validate(&self, key: &[u8], value: &[u8]) -> Result<(), String>;
    /// Which of two valid values of `key` is better (`Greater`: `a`).
    fn select(&self, key: &[u8], a: &[u8], b: &[u8]) -> std::cmp::Ordering;
}

/// The node's [`RecordValidator`].
#[derive(Clone)]
pub struct DhtValidator(pub Arc<dyn RecordValidator>);

impl std::fmt::Debug for DhtValidator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DhtValidator")
    }
}

/// A value a lookup found, and who sent it (`None`: our own store).
#[derive(Clone, Debug)]
pub struct DhtValue {
    pub from: Option<PeerId>,
    pub value: Vec<u8>,
}

/// The datastore DHT records are kept in.
#[derive(Clone)]
pub struct DhtStorage(pub Arc<dyn rubo_repo::Datastore>);

impl std::fmt::Debug for DhtStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DhtStorage")
    }
}

/// Which of the two tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DhtNet {
    Wan,
    Lan,
}

impl DhtNet {
    pub fn protocol(self) -> StreamProtocol {
        match self {
            Self::Wan => WAN_PROTOCOL,
            Self::Lan => LAN_PROTOCOL,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Wan => "wan",
            Self::Lan => "lan",
        }
    }
}

/// Where an address leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scope {
    Public,
    Private,
    Loopback,
    /// Not an IP address (DNS names are resolved when dialled: treat as public).
    Other,
}

fn scope(addr: &Multiaddr) -> Scope {
    let ip = match addr.iter().next() {
        Some(Protocol::Ip4(ip)) => IpAddr::V4(ip),
        Some(Protocol::Ip6(ip)) => IpAddr::V6(ip),
        _ => return Scope::Other,
    };
    if ip.is_loopback() {
        return Scope::Loopback;
    }
    if ip.is_unspecified() {
        return Scope::Private;
    }
    let private = match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local() || v4.octets()[0] == 100 && v4.octets()[1] & 0xc0 == 64,
        // Unique local (fc00::/7) and link-local (fe80::/10).
        IpAddr::V6(v6) => (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80,
    };
    if private { Scope::Private } else { Scope::Public }
}

/// Whether `addr` belongs in the routing table of `net`.
pub(crate) fn admits(net: DhtNet, loopback_on_lan: bool, addr: &Multiaddr) -> bool {
    match (net, scope(addr)) {
        (DhtNet::Wan, Scope::Public | Scope::Other) => true,
        (DhtNet::Lan, Scope::Private) => true,
        (DhtNet::Lan, Scope::Loopback) => loopback_on_lan,
        _ => false,
    }
}

/// A kad behaviour configured as Amino.
pub(crate) fn build(cfg: &DhtConfig, local: PeerId, net: DhtNet) -> kad::Behaviour<DhtStore> {
    let mut k = kad::Config::new(net.protocol());
    let hours = |h: u64| Duration::from_secs(h * 3600);
    k.set_replication_factor(NonZeroUsize::new(cfg.k).unwrap_or(kad::K_VALUE))
        .set_kbucket_size(NonZeroUsize::new(cfg.k).unwrap_or(kad::K_VALUE))
        .set_parallelism(NonZeroUsize::new(cfg.alpha).unwrap_or(kad::ALPHA_VALUE))
        .set_query_timeout(cfg.query_timeout)
        .set_max_packet_size(cfg.max_packet_size)
        .set_record_ttl(Some(hours(48)))
        .set_provider_record_ttl(Some(hours(48)))
        // The node's provider module re-announces (sweeping the keyspace), not kad.
        .set_provider_publication_interval(None)
        // Kubo neither re-puts others' records nor caches them along the lookup path.
        .set_replication_interval(None)
        .set_publication_interval(None)
        .set_caching(Caching::Disabled)
        // kad's own timer warns on every start with an empty table; the actor refreshes tables
        // that have peers instead (`Dht::refresh_due`).
        .set_periodic_bootstrap_interval(None)
        // We decide who enters the table (by address scope) and what strangers store.
        .set_kbucket_inserts(BucketInserts::Manual)
        .set_record_filtering(StoreInserts::FilterBoth);
    let ds = match &cfg.storage {
        Some(s) => s.0.clone(),
        // No repo (tests, throwaway nodes): the same store, in memory.
        None => Arc::new(rubo_repo::MemDatastore::new()),
    };
    let limits = StoreLimits {
        max_records: cfg.max_records,
        max_value_bytes: 64 << 10,
        max_providers_per_key: cfg.k,
        max_provider_records: cfg.max_provider_records,
    };
    let store = DhtStore::open(ds, &format!("/dht/{}/", net.name()), local, limits);
    let mut b = kad::Behaviour::with_config(local, store, k);
    b.set_mode(Some(match (net, cfg.mode) {
        (_, DhtMode::Client) => Mode::Client,
        (_, DhtMode::Server) | (DhtNet::Lan, DhtMode::Auto) => Mode::Server,
        // Until an announced address shows we are reachable (see `Dht::addresses_changed`).
        (DhtNet::Wan, DhtMode::Auto) => Mode::Client,
    }));
    b
}

/// One routing table, for `stats dht`.
#[derive(Clone, Debug)]
pub struct DhtTableStats {
    pub net: DhtNet,
    pub server: bool,
    /// Peers per bucket: (bucket index by distance, peers with when they were added).
    pub buckets: Vec<(u32, Vec<PeerId>)>,
}

/// What the DHT did for others and refused to do, for `stats dht`.
#[derive(Clone, Debug, Default)]
pub struct DhtStats {
    pub tables: Vec<DhtTableStats>,
    pub provider_keys: usize,
    pub records: usize,
    pub inbound_requests: u64,
    /// GET_PROVIDERS requests we answered with at least one provider.
    pub providers_served: u64,
    pub provider_records_accepted: u64,
    pub provider_records_refused: u64,
    pub value_records_accepted: u64,
    pub value_records_refused: u64,
    pub rate_limited: u64,
    /// Lookups (queries) this node ran, and the requests they sent.
    pub queries: u64,
    pub query_requests: u64,
}

/// A peer found by a lookup, with the addresses the answer carried.
#[derive(Clone, Debug)]
pub struct DhtPeer {
    pub id: PeerId,
    pub addrs: Vec<Multiaddr>,
}

pub(crate) enum DhtCommand {
    /// Streams providers of a key (multihash bytes) as they are found; the channel closes at the
    /// end of the lookup. `dial`: connect to each, so that its addresses are ours to use.
    FindProviders {
        key: Vec<u8>,
        limit: usize,
        dial: bool,
        tx: mpsc::Sender<PeerId>,
    },
    /// Announces us as a provider of a key; answers how many peers took the record.
    Provide {
        key: Vec<u8>,
        reply: oneshot::Sender<Result<usize, NetError>>,
    },
    /// The k closest peers to a key, by lookup (on one table, or both).
    Closest {
        key: Vec<u8>,
        only: Option<DhtNet>,
        reply: oneshot::Sender<Result<Vec<DhtPeer>, NetError>>,
    },
    /// Values stored under a key (validated), up to `limit` of them.
    GetValue {
        key: Vec<u8>,
        limit: usize,
        reply: oneshot::Sender<Result<Vec<DhtValue>, NetError>>,
    },
    /// Stores a value here and with the closest peers; answers how many peers took it.
    PutValue {
        key: Vec<u8>,
        value: Vec<u8>,
        reply: oneshot::Sender<Result<usize, NetError>>,
    },
    Stats(oneshot::Sender<DhtStats>),
    Bootstrap(oneshot::Sender<Result<(), NetError>>),
}

pub(crate) enum OpKind {
    Providers { tx: mpsc::Sender<PeerId>, seen: HashSet<PeerId>, limit: usize, dial: bool },
    Provide { reply: Option<oneshot::Sender<Result<usize, NetError>>>, stored: usize, ok: bool },
    Closest { reply: Option<oneshot::Sender<Result<Vec<DhtPeer>, NetError>>>, peers: HashMap<PeerId, Vec<Multiaddr>> },
    GetValue { reply: Option<oneshot::Sender<Result<Vec<DhtValue>, NetError>>>, found: Vec<DhtValue>, limit: usize },
    PutValue { reply: Option<oneshot::Sender<Result<usize, NetError>>>, stored: usize, ok: bool },
}

/// One handle request, running as a query on each table.
struct Op {
    kind: OpKind,
    queries: Vec<(DhtNet, QueryId)>,
}

/// What the actor should do after a kad event.
pub(crate) enum Followup {
    /// Dial this provider (its addresses are in the lookup that found it, so dial at once).
    Dial(PeerId),
}

struct Rate {
    window_start: Instant,
    count: u32,
}

/// The actor's DHT state: open requests, counters and per-peer rates.
pub(crate) struct Dht {
    pub(crate) cfg: DhtConfig,
    ops: HashMap<u64, Op>,
    by_query: HashMap<(DhtNet, QueryId), u64>,
    next_op: u64,
    rates: HashMap<PeerId, Rate>,
    counters: DhtStats,
    last_refresh: Instant,
    last_expire: Instant,
}

/// How often routing tables with peers are refreshed (kad's default; Kubo refreshes each bucket
/// every 10 min, which a whole-table bootstrap every 5 min covers).
pub(crate) const REFRESH_EVERY: Duration = Duration::from_secs(300);

/// How often expired records are deleted from the store (Kubo's provider GC: hourly).
const EXPIRE_EVERY: Duration = Duration::from_secs(3600);

/// Requests in flight at once; more are refused with `Busy` rather than queued without bound.
const MAX_OPS: usize = 1024;

impl Dht {
    pub(crate) fn new(cfg: DhtConfig) -> Self {
        Self {
            cfg,
            ops: HashMap::new(),
            by_query: HashMap::new(),
            next_op: 0,
            rates: HashMap::new(),
            counters: DhtStats::default(),
            last_refresh: Instant::now(),
            last_expire: Instant::now(),
        }
    }

    /// The tables this node runs.
    pub(crate) fn nets(&self) -> Vec<DhtNet> {
        let mut v = Vec::new();
        if self.cfg.wan {
            v.push(DhtNet::Wan);
        }
        if self.cfg.lan {
            v.push(DhtNet::Lan);
        }
        v
    }

    /// Starts a request on every table `start` returns a query for.
    pub(crate) fn begin(&mut self, kind: OpKind, mut start: impl FnMut(DhtNet) -> Option<QueryId>) {
        if self.ops.len() >= MAX_OPS {
            return kind.fail(NetError::Busy("DHT lookups"));
        }
        let mut queries = Vec::new();
        for net in self.nets() {
            if let Some(q) = start(net) {
                queries.push((net, q));
            }
        }
        if queries.is_empty() {
            return kind.fail(NetError::Dht("no DHT is running".into()));
        }
        let id = self.next_op;
        self.next_op += 1;
        for q in &queries {
            self.by_query.insert(*q, id);
        }
        self.ops.insert(id, Op { kind, queries });
    }

    /// A query of one table made progress.
    pub(crate) fn on_progress(
        &mut self,
        net: DhtNet,
        id: QueryId,
        result: QueryResult,
        successes: u32,
        last: bool,
        finish: &mut Vec<(DhtNet, QueryId)>,
    ) -> Vec<Followup> {
        let Some(&op_id) = self.by_query.get(&(net, id)) else { return Vec::new() };
        let mut follow = Vec::new();
        let mut done_early = false;
        let validator = self.cfg.validator.clone();
        if let Some(op) = self.ops.get_mut(&op_id) {
            match (&mut op.kind, result) {
                (
                    OpKind::Providers { tx, seen, limit, dial },
                    QueryResult::GetProviders(Ok(GetProvidersOk::FoundProviders { providers, .. })),
                ) => {
                    for p in providers {
                        if seen.len() >= *limit || !seen.insert(p) {
                            continue;
                        }
                        if *dial {
                            follow.push(Followup::Dial(p));
                        }
                        // A caller that stopped reading ends the lookup.
                        if tx.try_send(p).is_err() && tx.is_closed() {
                            done_early = true;
                        }
                    }
                    if seen.len() >= *limit {
                        done_early = true;
                    }
                }
                (OpKind::Provide { stored, ok, .. }, QueryResult::StartProviding(r)) => {
                    // kad says Ok even when it found nobody to send the record to: count the
                    // peers that answered.
                    *stored = (*stored).max(successes as usize);
                    if r.is_ok() && successes > 0 {
                        *ok = true;
                    }
                }
                (
                    OpKind::GetValue { found, limit, .. },
                    QueryResult::GetRecord(Ok(kad::GetRecordOk::FoundRecord(r))),
                ) => {
                    let v = r.record.value;
                    let key = r.record.key.as_ref();
                    // What a peer sends is checked like what it stores: a bad value is dropped.
                    if accepts_value(validator.as_ref(), key, &v) && !found.iter().any(|f| f.value == v) {
                        found.push(DhtValue { from: r.peer, value: v });
                    }
                    if found.len() >= *limit {
                        done_early = true;
                    }
                }
                (OpKind::PutValue { stored, ok, .. }, QueryResult::PutRecord(r)) => {
                    *stored = (*stored).max(successes as usize);
                    match r {
                        Ok(_) => *ok = true,
                        Err(kad::PutRecordError::QuorumFailed { success, .. }) => *stored = success.len(),
                        Err(_) => {}
                    }
                }
                (OpKind::Closest { peers, .. }, QueryResult::GetClosestPeers(r)) => {
                    let found = match r {
                        Ok(GetClosestPeersOk { peers, .. }) => peers,
                        Err(kad::GetClosestPeersError::Timeout { peers, .. }) => peers,
                    };
                    for p in found {
                        // Kubo prints and stores addresses without the /p2p/ part.
                        let addrs = p.addrs.iter().map(crate::config::without_p2p);
                        peers.entry(p.peer_id).or_default().extend(addrs);
                    }
                }
                _ => {}
            }
        }
        if done_early {
            if let Some(op) = self.ops.get(&op_id) {
                finish.extend(op.queries.iter().copied());
            }
            self.close(op_id);
        } else if last {
            self.by_query.remove(&(net, id));
            let finished = self.ops.get_mut(&op_id).map(|op| {
                op.queries.retain(|q| *q != (net, id));
                op.queries.is_empty()
            });
            if finished == Some(true) {
                self.close(op_id);
            }
        }
        follow
    }

    /// Ends a request: answers its caller.
    fn close(&mut self, op_id: u64) {
        let Some(op) = self.ops.remove(&op_id) else { return };
        for q in &op.queries {
            self.by_query.remove(q);
        }
        match op.kind {
            // Dropping the sender ends the caller's stream.
            OpKind::Providers { .. } => {}
            OpKind::Provide { reply, ok, stored } => {
                if let Some(r) = reply {
                    let _ = r.send(if ok {
                        Ok(stored)
                    } else {
                        Err(NetError::Dht("failed to find any peer in table".into()))
                    });
                }
            }
            OpKind::GetValue { reply, found, .. } => {
                if let Some(r) = reply {
                    let _ = r.send(if found.is_empty() { Err(NetError::Dht("not found".into())) } else { Ok(found) });
                }
            }
            OpKind::PutValue { reply, stored, ok } => {
                if let Some(r) = reply {
                    let _ = r.send(if ok || stored > 0 {
                        Ok(stored)
                    } else {
                        Err(NetError::Dht("failed to find any peer in table".into()))
                    });
                }
            }
            OpKind::Closest { reply, peers } => {
                if let Some(r) = reply {
                    let v: Vec<DhtPeer> = peers
                        .into_iter()
                        .map(|(id, mut addrs)| {
                            addrs.dedup();
                            DhtPeer { id, addrs }
                        })
                        .collect();
                    let _ = r.send(Ok(v));
                }
            }
        }
    }

    /// Requests whose caller went away (a dropped receiver), to be stopped.
    pub(crate) fn abandoned(&mut self) -> Vec<(DhtNet, QueryId)> {
        let gone: Vec<u64> = self
            .ops
            .iter()
            .filter(|(_, op)| match &op.kind {
                OpKind::Providers { tx, .. } => tx.is_closed(),
                OpKind::Provide { reply, .. } => reply.as_ref().is_some_and(|r| r.is_closed()),
                OpKind::Closest { reply, .. } => reply.as_ref().is_some_and(|r| r.is_closed()),
                OpKind::GetValue { reply, .. } => reply.as_ref().is_some_and(|r| r.is_closed()),
                OpKind::PutValue { reply, .. } => reply.as_ref().is_some_and(|r| r.is_closed()),
            })
            .map(|(id, _)| *id)
            .collect();
        let mut out = Vec::new();
        for id in gone {
            if let Some(op) = self.ops.get(&id) {
                out.extend(op.queries.iter().copied());
            }
            self.close(id);
        }
        self.rates.retain(|_, r| r.window_start.elapsed() < Duration::from_secs(60));
        out
    }

    /// Whether the periodic table refresh is due (and marks it done).
    pub(crate) fn refresh_due(&mut self) -> bool {
        if self.last_refresh.elapsed() < REFRESH_EVERY {
            return false;
        }
        self.last_refresh = Instant::now();
        true
    }

    /// A lookup ended having sent `requests` messages.
    pub(crate) fn query_done(&mut self, requests: u32) {
        self.counters.queries += 1;
        self.counters.query_requests += u64::from(requests);
    }

    /// Whether the hourly removal of expired records is due (and marks it done).
    pub(crate) fn expire_due(&mut self) -> bool {
        if self.last_expire.elapsed() < EXPIRE_EVERY {
            return false;
        }
        self.last_expire = Instant::now();
        true
    }

    /// Whether `peer` may store one more record with us this minute.
    fn allow_put(&mut self, peer: PeerId) -> bool {
        if self.rates.len() > 65_536 && !self.rates.contains_key(&peer) {
            // Too many distinct writers to track: refuse newcomers rather than grow.
            self.counters.rate_limited += 1;
            return false;
        }
        let now = Instant::now();
        let r = self.rates.entry(peer).or_insert(Rate { window_start: now, count: 0 });
        if now.duration_since(r.window_start) >= Duration::from_secs(60) {
            r.window_start = now;
            r.count = 0;
        }
        r.count += 1;
        if r.count > self.cfg.max_puts_per_peer_minute {
            self.counters.rate_limited += 1;
            return false;
        }
        true
    }

    /// An inbound request kad handed us to decide on (record filtering is on).
    pub(crate) fn on_inbound(&mut self, net: DhtNet, kad: &mut kad::Behaviour<DhtStore>, req: kad::InboundRequest) {
        self.counters.inbound_requests += 1;
        tracing::debug!(dht = net.name(), ?req, "dht: inbound request");
        match req {
            kad::InboundRequest::GetProvider { num_provider_peers, .. } if num_provider_peers > 0 => {
                self.counters.providers_served += 1;
            }
            kad::InboundRequest::AddProvider { record: Some(mut rec) } => {
                // kad already checked the record names the sender as provider. Kubo drops records
                // without addresses: nobody could dial such a provider.
                let loopback = self.cfg.loopback_on_lan;
                rec.addresses.retain(|a| admits(net, loopback, a));
                rec.addresses.truncate(32);
                if rec.addresses.is_empty() || !self.allow_put(rec.provider) {
                    self.counters.provider_records_refused += 1;
                    return;
                }
                match kad.store_mut().add_provider(rec) {
                    Ok(()) => self.counters.provider_records_accepted += 1,
                    Err(_) => self.counters.provider_records_refused += 1,
                }
            }
            kad::InboundRequest::PutRecord { source, record: Some(rec), .. } => {
                // Kubo accepts only `/pk/` and `/ipns/` values, each checked by its validator.
                if !self.allow_put(source) || !accepts_value(self.cfg.validator.as_ref(), rec.key.as_ref(), &rec.value)
                {
                    self.counters.value_records_refused += 1;
                    return;
                }
                // A value older than the one held (a lower IPNS sequence) does not replace it.
                if let (Some(v), Some(old)) = (&self.cfg.validator, kad.store_mut().get(&rec.key))
                    && v.0.select(rec.key.as_ref(), &old.value, &rec.value) == std::cmp::Ordering::Greater
                {
                    self.counters.value_records_refused += 1;
                    return;
                }
                match kad.store_mut().put(rec) {
                    Ok(()) => self.counters.value_records_accepted += 1,
                    Err(_) => self.counters.value_records_refused += 1,
                }
            }
            _ => {}
        }
    }

    pub(crate) fn stats(&self, tables: Vec<DhtTableStats>, provider_keys: usize, records: usize) -> DhtStats {
        DhtStats { tables, provider_keys, records, ..self.counters.clone() }
    }
}

/// Whether a value may be stored under `key`: `/pk/` records checked here, the rest by the
/// node's validator (none: refused, as Kubo refuses namespaces it has no validator for).
pub(crate) fn accepts_value(validator: Option<&DhtValidator>, key: &[u8], value: &[u8]) -> bool {
    if key.starts_with(b"/pk/") {
        return valid_pk_record(&kad::Record::new(key.to_vec(), value.to_vec()));
    }
    validator.is_some_and(|v| v.0.validate(key, value).is_ok())
}

/// `/pk/<peer id multihash>` → the protobuf public key of that peer.
fn valid_pk_record(rec: &kad::Record) -> bool {
    let key = rec.key.as_ref();
    let Some(mh) = key.strip_prefix(b"/pk/") else { return false };
    let Ok(id) = PeerId::from_bytes(mh) else { return false };
    libp2p::identity::PublicKey::try_decode_protobuf(&rec.value).is_ok_and(|pk| pk.to_peer_id() == id)
}

impl OpKind {
    pub(crate) fn providers(tx: mpsc::Sender<PeerId>, limit: usize, dial: bool) -> Self {
        Self::Providers { tx, seen: HashSet::new(), limit: limit.max(1), dial }
    }

    pub(crate) fn provide(reply: oneshot::Sender<Result<usize, NetError>>) -> Self {
        Self::Provide { reply: Some(reply), stored: 0, ok: false }
    }

    pub(crate) fn closest(reply: oneshot::Sender<Result<Vec<DhtPeer>, NetError>>) -> Self {
        Self::Closest { reply: Some(reply), peers: HashMap::new() }
    }

    /// Answers a request that could not start.
    pub(crate) fn fail(self, e: NetError) {
        match self {
            Self::Providers { .. } => {}
            Self::Provide { reply, .. } => {
                if let Some(r) = reply {
                    let _ = r.send(Err(e));
                }
            }
            Self::Closest { reply, .. } => {
                if let Some(r) = reply {
                    let _ = r.send(Err(e));
                }
            }
            Self::GetValue { reply, .. } => {
                if let Some(r) = reply {
                    let _ = r.send(Err(e));
                }
            }
            Self::PutValue { reply, .. } => {
                if let Some(r) = reply {
                    let _ = r.send(Err(e));
                }
            }
        }
    }

    pub(crate) fn get_value(reply: oneshot::Sender<Result<Vec<DhtValue>, NetError>>, limit: usize) -> Self {
        Self::GetValue { reply: Some(reply), found: Vec::new(), limit: limit.clamp(1, 64) }
    }

    pub(crate) fn put_value(reply: oneshot::Sender<Result<usize, NetError>>) -> Self {
        Self::PutValue { reply: Some(reply), stored: 0, ok: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ma(s: &str) -> Multiaddr {
        s.parse().expect("multiaddr")
    }

    #[test]
    fn tables_take_addresses_by_scope() {
        let public = ma("/ip4/8.8.8.8/tcp/4001");
        let private = ma("/ip4/192.168.1.2/tcp/4001");
        let cgnat = ma("/ip4/100.64.0.1/tcp/4001");
        let loopback = ma("/ip4/127.0.0.1/tcp/4001");
        let ula = ma("/ip6/fd00::1/tcp/4001");
        let dns = ma("/dns4/example.com/tcp/4001");
        assert!(admits(DhtNet::Wan, false, &public));
        assert!(admits(DhtNet::Wan, false, &dns));
        assert!(!admits(DhtNet::Wan, true, &private));
        assert!(!admits(DhtNet::Wan, true, &loopback));
        assert!(!admits(DhtNet::Wan, true, &cgnat));
        assert!(admits(DhtNet::Lan, false, &private));
        assert!(admits(DhtNet::Lan, false, &cgnat));
        assert!(admits(DhtNet::Lan, false, &ula));
        assert!(!admits(DhtNet::Lan, false, &loopback));
        assert!(admits(DhtNet::Lan, true, &loopback));
        assert!(!admits(DhtNet::Lan, true, &public));
    }

    #[test]
    fn pk_records_must_match_their_key() {
        let kp = libp2p::identity::Keypair::generate_ed25519();
        let id = kp.public().to_peer_id();
        let mut key = b"/pk/".to_vec();
        key.extend_from_slice(&id.to_bytes());
        let good = kad::Record::new(key.clone(), kp.public().encode_protobuf());
        assert!(valid_pk_record(&good));
        let other = libp2p::identity::Keypair::generate_ed25519();
        assert!(!valid_pk_record(&kad::Record::new(key, other.public().encode_protobuf())));
        let mut ipns = b"/ipns/".to_vec();
        ipns.extend_from_slice(&id.to_bytes());
        assert!(!valid_pk_record(&kad::Record::new(ipns, vec![1, 2, 3])));
        assert!(!valid_pk_record(&kad::Record::new(b"/pk/garbage".to_vec(), vec![])));
    }

    #[test]
    fn puts_are_rate_limited_per_peer() {
        let mut d = Dht::new(DhtConfig { max_puts_per_peer_minute: 3, ..DhtConfig::default() });
        let (a, b) = (PeerId::random(), PeerId::random());
        assert!((0..3).all(|_| d.allow_put(a)));
        assert!(!d.allow_put(a), "the fourth put in a minute is refused");
        assert!(d.allow_put(b), "other peers are unaffected");
        assert_eq!(d.counters.rate_limited, 1);
    }
}
