//! Content routing for the node: which routers `Routing.Type` and
//! `Routing.DelegatedRouters` ask for (the dual DHT run by `rubo-net`, and
//! delegated `/routing/v1` HTTP routers), the provider lookups Bitswap
//! sessions make when no connected peer has a block (providers found are
//! dialled, then asked), and the `routing`, `dht` and `provide` commands.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rubo_bitswap::ProviderFinder;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_net::{DhtConfig, DhtMode, DhtPeer, DhtStats, NetHandle};
use rubo_routing::{DelegatedClient, Provider};
use rubo_types::Cid;
use serde_json::Value;

use crate::net::OFFLINE_ERROR;
use crate::{Node, NodeError};

/// How long one delegated lookup may take (Kubo's HTTP routers: 30 s).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long dialling one provider may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

/// The DHT `Routing.Type` asks for: `auto` (the default) and `dht` run the
/// dual DHT, server on the WAN once reachable; `autoclient` and `dhtclient`
/// only ask; `dhtserver` always answers; `none` and `delegated` run none.
pub fn dht_config(doc: &Value) -> Result<Option<DhtConfig>, NodeError> {
    let kind = doc.pointer("/Routing/Type").and_then(Value::as_str).unwrap_or("auto");
    let mode = match kind {
        "" | "auto" | "dht" => DhtMode::Auto,
        "autoclient" | "dhtclient" => DhtMode::Client,
        "dhtserver" => DhtMode::Server,
        "none" | "delegated" => return Ok(None),
        "custom" => {
            tracing::warn!("Routing.Type \"custom\" is not supported; running the DHT as \"auto\"");
            DhtMode::Auto
        }
        other => {
            return Err(NodeError::InvalidInput(format!("config Routing.Type: unknown routing type {other:?}")));
        }
    };
    let loopback_on_lan = doc.pointer("/Routing/LoopbackAddressesOnLanDHT").and_then(Value::as_bool).unwrap_or(false);
    Ok(Some(DhtConfig { mode, loopback_on_lan, ..DhtConfig::default() }))
}

/// The delegated client the config asks for, if any: `Routing.Type`
/// `auto`/`autoclient`/`delegated` (or unset) with `Routing.DelegatedRouters`.
pub fn delegated_from_config(doc: &Value) -> Result<Option<DelegatedClient>, NodeError> {
    let kind = doc.pointer("/Routing/Type").and_then(Value::as_str).unwrap_or("auto");
    if !matches!(kind, "auto" | "autoclient" | "delegated" | "") {
        return Ok(None);
    }
    // "auto" stands for AutoConf's routers (cid.contact), which are https://,
    // as are most public ones: rubo has no TLS client yet, so they are left
    // out with a warning rather than keeping the daemon from starting.
    let urls: Vec<String> = doc
        .pointer("/Routing/DelegatedRouters")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect::<Vec<String>>())
        .unwrap_or_default()
        .into_iter()
        .filter(|u| {
            if u == "auto" {
                tracing::info!("Routing.DelegatedRouters: \"auto\" (https routers) left out");
                return false;
            }
            if u.starts_with("https://") {
                tracing::warn!("Routing.DelegatedRouters: {u:?} left out (only http:// routers are supported)");
                return false;
            }
            true
        })
        .collect();
    if urls.is_empty() {
        return Ok(None);
    }
    let client = DelegatedClient::new(&urls, LOOKUP_TIMEOUT)
        .map_err(|e| NodeError::InvalidInput(format!("config Routing.DelegatedRouters: {e}")))?;
    Ok(Some(client))
}

/// Bitswap's provider lookups through the delegated routers: providers are
/// dialled (each address in turn, with its /p2p/ part) before the session
/// asks them.
pub(crate) struct DelegatedFinder {
    pub(crate) client: DelegatedClient,
    pub(crate) net: NetHandle,
}

/// An address with `/p2p/<peer>` at its end.
fn with_peer(addr: &Multiaddr, peer: PeerId) -> Multiaddr {
    match addr.iter().last() {
        Some(Protocol::P2p(_)) => addr.clone(),
        _ => addr.clone().with(Protocol::P2p(peer)),
    }
}

/// Connects to a provider; its peer id once connected.
async fn dial(net: &NetHandle, p: &Provider) -> Option<PeerId> {
    for a in &p.addrs {
        if let Ok(Ok(id)) = tokio::time::timeout(DIAL_TIMEOUT, net.connect(with_peer(a, p.id))).await {
            return Some(id);
        }
    }
    None
}

impl ProviderFinder for DelegatedFinder {
    fn find_providers(&self, cid: Cid, limit: usize) -> BoxFuture<'static, Vec<PeerId>> {
        let (client, net) = (self.client.clone(), self.net.clone());
        Box::pin(async move {
            let found = match client.find_providers(&cid, limit).await {
                Ok(f) => f,
                Err(e) => {
                    tracing::debug!(%cid, "delegated routing: {e}");
                    return Vec::new();
                }
            };
            let mut peers = Vec::new();
            for p in &found {
                if let Some(id) = dial(&net, p).await {
                    peers.push(id);
                }
            }
            peers
        })
    }
}

/// Bitswap's provider lookups through the DHT: each provider is dialled as
/// the lookup finds it (while the lookup still holds its addresses).
pub(crate) struct DhtFinder {
    pub(crate) net: NetHandle,
}

impl ProviderFinder for DhtFinder {
    fn find_providers(&self, cid: Cid, limit: usize) -> BoxFuture<'static, Vec<PeerId>> {
        let net = self.net.clone();
        Box::pin(async move {
            let mut rx = match net.dht_find_providers(cid.hash().to_bytes(), limit, true).await {
                Ok(rx) => rx,
                Err(e) => {
                    tracing::debug!(%cid, "dht: {e}");
                    return Vec::new();
                }
            };
            let mut dials = futures::stream::FuturesUnordered::new();
            while let Some(p) = rx.recv().await {
                let net = net.clone();
                dials.push(async move { tokio::time::timeout(DIAL_TIMEOUT, net.connect_peer(p)).await });
            }
            let mut peers = Vec::new();
            while let Some(r) = futures::StreamExt::next(&mut dials).await {
                if let Ok(Ok(p)) = r {
                    peers.push(p);
                }
            }
            peers
        })
    }
}

/// Every router the node has, asked together.
pub(crate) struct Finders(Vec<Arc<dyn ProviderFinder>>);

impl ProviderFinder for Finders {
    fn find_providers(&self, cid: Cid, limit: usize) -> BoxFuture<'static, Vec<PeerId>> {
        let all: Vec<_> = self.0.iter().map(|f| f.find_providers(cid, limit)).collect();
        Box::pin(async move {
            let mut out: Vec<PeerId> = Vec::new();
            for found in futures::future::join_all(all).await {
                for p in found {
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
            out.truncate(limit.max(1));
            out
        })
    }
}

/// Kubo's error when a DHT command runs on a node without a DHT.
const NO_DHT: &str = "routing service is not a DHT";
/// How long a fast provide in the background may take (Kubo's `DefaultFastProvideTimeout`).
const FAST_PROVIDE_TIMEOUT: Duration = Duration::from_secs(10);
/// The first bloom filter of a `+unique` walk (some 4 MiB at Kubo's rate; it grows as needed).
const UNIQUE_BLOOM_START: u64 = 1 << 20;

impl Node {
    fn online_net(&self) -> Result<&NetHandle, NodeError> {
        match self.inner.net.get() {
            Some(n) if !self.offline => Ok(n),
            _ => Err(NodeError::Offline(OFFLINE_ERROR.into())),
        }
    }

    fn has_dht(&self) -> bool {
        matches!(dht_config(self.repo().config().doc()), Ok(Some(_)))
    }

    /// Providers of `cid` from the node's routers (`routing findprovs`):
    /// the DHT and the delegated routers, merged.
    pub async fn find_providers(&self, cid: &Cid, limit: usize) -> Result<Vec<Provider>, NodeError> {
        let net = self.online_net()?.clone();
        let client = self.inner.delegated.get().cloned();
        if client.is_none() && !self.has_dht() {
            return Err(NodeError::InvalidInput(
                "no content router: Routing.Type is none and Routing.DelegatedRouters is empty".into(),
            ));
        }
        let delegated = async {
            match &client {
                Some(c) => c.find_providers(cid, limit).await.unwrap_or_else(|e| {
                    tracing::debug!(%cid, "delegated routing: {e}");
                    Vec::new()
                }),
                None => Vec::new(),
            }
        };
        let dht = async {
            if !self.has_dht() {
                return Vec::new();
            }
            let Ok(mut rx) = net.dht_find_providers(cid.hash().to_bytes(), limit, false).await else {
                return Vec::new();
            };
            let mut v = Vec::new();
            while let Some(p) = rx.recv().await {
                v.push(p);
            }
            v
        };
        let (mut out, from_dht) = futures::join!(delegated, dht);
        let known = if from_dht.is_empty() { Vec::new() } else { net.known_addrs().await.unwrap_or_default() };
        for id in from_dht {
            if out.iter().any(|p| p.id == id) {
                continue;
            }
            let addrs = known.iter().find(|k| k.id == id).map(|k| k.addrs.clone()).unwrap_or_default();
            out.push(Provider { id, addrs, protocols: Vec::new() });
        }
        out.truncate(limit.max(1));
        Ok(out)
    }

    /// Announces `cids` (with `recursive`, their whole local DAGs) to the DHT
    /// now (`routing provide`, `provide once`); each CID with the number of
    /// peers that took its record.
    pub async fn provide_now(&self, cids: &[Cid], recursive: bool) -> Result<Vec<(Cid, usize)>, NodeError> {
        let net = self.online_net()?.clone();
        if !self.has_dht() {
            return Err(NodeError::InvalidInput(NO_DHT.into()));
        }
        if net.peers().await.map_err(net_error)?.is_empty() {
            return Err(NodeError::InvalidInput("cannot provide, no connected peers".into()));
        }
        let store = self.repo().blockstore();
        for c in cids {
            if !store.has(c).map_err(|e| NodeError::Internal(e.to_string()))? {
                return Err(NodeError::InvalidInput(format!("block {c} not found locally, cannot provide")));
            }
        }
        let all = if recursive {
            let roots = cids.to_vec();
            self.run_blocking(move |node| node.local_dags(&roots)).await?
        } else {
            cids.to_vec()
        };
        let mut out = Vec::with_capacity(all.len());
        for c in all {
            out.push((c, net.dht_provide(c.hash().to_bytes()).await.map_err(net_error)?));
        }
        Ok(out)
    }

    /// Every CID of the local DAGs under `roots`, each once (a missing block
    /// is an error: only what is here can be provided).
    fn local_dags(&self, roots: &[Cid]) -> Result<Vec<Cid>, NodeError> {
        let store = self.repo().blockstore();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        let mut todo: Vec<Cid> = roots.to_vec();
        while let Some(c) = todo.pop() {
            if !seen.insert(c) {
                continue;
            }
            let block = store
                .get(&c)
                .map_err(|e| NodeError::Internal(e.to_string()))?
                .ok_or_else(|| NodeError::InvalidInput(format!("block {c} not found locally, cannot provide")))?;
            let links = rubo_dag::links::block_links(&block).map_err(|e| NodeError::InvalidInput(e.to_string()))?;
            todo.extend(links);
            out.push(c);
        }
        Ok(out)
    }

    /// Where `peer` is (`routing findpeer`).
    pub async fn find_peer(&self, peer: PeerId) -> Result<Vec<Multiaddr>, NodeError> {
        let net = self.online_net()?;
        if peer == net.local_peer_id() {
            return Err(NodeError::InvalidInput("found self".into()));
        }
        if !self.has_dht() {
            return Err(NodeError::InvalidInput(NO_DHT.into()));
        }
        net.dht_find_peer(peer).await.map_err(net_error)
    }

    /// The peers closest to `peer`'s key the DHT finds (`dht query`).
    pub async fn dht_query(&self, peer: PeerId) -> Result<Vec<DhtPeer>, NodeError> {
        let net = self.online_net()?;
        if !self.has_dht() {
            return Err(NodeError::InvalidInput(NO_DHT.into()));
        }
        net.dht_closest_peers(peer.to_bytes()).await.map_err(net_error)
    }

    /// Routing tables and counters (`stats dht`).
    pub async fn dht_stats(&self) -> Result<DhtStats, NodeError> {
        let net = self.online_net()?;
        if !self.has_dht() {
            return Err(NodeError::InvalidInput(NO_DHT.into()));
        }
        net.dht_stats().await.map_err(net_error)
    }

    /// The provider's counters (`provide stat`), if the node provides.
    pub fn provide_stats(&self) -> Result<ProvideStat, NodeError> {
        self.online_net()?;
        let Some(p) = self.inner.provider.get() else {
            return Err(NodeError::InvalidInput("provider is not running (Provide.Enabled is false or no DHT)".into()));
        };
        let c = &p.counters;
        let ld = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
        Ok(ProvideStat {
            queued: ld(&c.queued),
            provided: ld(&c.provided),
            failed: ld(&c.failed),
            dropped: ld(&c.dropped),
            in_flight: ld(&c.in_flight),
            last_reprovide: ld(&c.last_reprovide),
            avg_ms: ld(&c.total_ms).checked_div(ld(&c.provided) + ld(&c.failed)).unwrap_or(0),
            strategy: p.cfg.strategy.to_string(),
            interval: p.cfg.interval,
            sweep: p.sweep_status(),
        })
    }

    /// Starts a reprovide cycle now (`bitswap reprovide`); nothing when the node does not
    /// provide (Kubo's command succeeds the same).
    pub fn reprovide_now(&self) -> Result<(), NodeError> {
        self.online_net()?;
        if let Some(p) = self.inner.provider.get() {
            p.reprovide_now();
        }
        Ok(())
    }

    /// Starts announcing what the node stores, when a DHT runs and
    /// `Provide.Enabled` is on.
    pub(crate) fn start_provider(&self, net: &NetHandle) -> Result<(), NodeError> {
        let config = self.repo().config();
        let doc = config.doc();
        let cfg = crate::provider::ProvideConfig::from_config(doc)?;
        if !cfg.enabled || dht_config(doc)?.is_none() {
            return Ok(());
        }
        let node = self.clone();
        let (strategy, fp_rate) = (cfg.strategy, cfg.bloom_fp_rate);
        let walk: Arc<crate::provider::KeyWalk> = Arc::new(move |each| node.walk_provided(strategy, fp_rate, each));
        let p = crate::provider::Provider::start(net.clone(), cfg, walk, self.repo().datastore()?);
        if let Some(on) = self.inner.exchange.get() {
            let _ = on.provider.set(p.clone());
        }
        let _ = self.inner.provider.set(p);
        Ok(())
    }

    /// What the strategy announces, streamed to `each` until it says stop (Kubo's
    /// `createKeyProvider`): with `all` every block stored; with `pinned` the roots of the pins
    /// (recursive ones, then direct ones) and then the blocks under each recursive pin; with
    /// `roots` the roots alone; with `mfs` the local blocks of the MFS tree, after the pins.
    /// With `+unique` one bloom filter spans every DAG (MFS first, then the recursive pins, then
    /// the direct pins not met yet) and what was seen is skipped with its subtree; with
    /// `+entities` only the roots of files, directories, HAMT shards and symlinks are handed out.
    /// Only the pin list is held, not the blocks: without `+unique` each DAG is walked with a
    /// bloom filter of its own.
    pub(crate) fn walk_provided(
        &self,
        strategy: crate::provider::Strategy,
        fp_rate: u64,
        each: &mut dyn FnMut(rubo_types::Multihash) -> bool,
    ) {
        use crate::provider::BloomTracker;
        use std::ops::ControlFlow;
        if strategy.is_all() {
            let store = self.repo().blockstore();
            let Ok(keys) = store.keys() else { return };
            for k in keys {
                if let Ok(rubo_repo::blockstore::StoredKey::Block(mh)) = k
                    && !each(mh)
                {
                    return;
                }
            }
            return;
        }
        let src = crate::dag::NodeSource::new(self.repo().blockstore());
        // The pins as they are now (Kubo snapshots the pin index too): pinning goes on meanwhile.
        let (mut recursive, mut direct) = (Vec::new(), Vec::new());
        if strategy.pinned() || strategy.roots() {
            let listed = self.pin().stored(crate::PinFilter::All, &mut |p| {
                if p.recursive {
                    recursive.push(p.cid)
                } else {
                    direct.push(p.cid)
                }
                ControlFlow::Continue(())
            });
            if let Err(e) = listed {
                tracing::warn!("provide: cannot list the pins: {e}");
            }
        }
        let mfs_root = if strategy.mfs() {
            self.files_root().unwrap_or_else(|e| {
                tracing::warn!("provide: cannot read the MFS root: {e}");
                None
            })
        } else {
            None
        };
        if strategy.unique() {
            let mut seen = BloomTracker::new(UNIQUE_BLOOM_START, fp_rate);
            let entities = strategy.entities();
            if let Some(root) = mfs_root
                && !walk_local(&src, root, &mut seen, entities, false, each)
            {
                return;
            }
            if strategy.pinned() {
                for root in &recursive {
                    if !walk_local(&src, *root, &mut seen, entities, false, each) {
                        return;
                    }
                }
                for c in &direct {
                    if !rubo_dag::source::is_identity(c) && seen.visit(&c.hash().to_bytes()) && !each(*c.hash()) {
                        return;
                    }
                }
            }
            return;
        }
        for c in recursive.iter().chain(&direct) {
            if !rubo_dag::source::is_identity(c) && !each(*c.hash()) {
                return;
            }
        }
        if strategy.pinned() {
            for root in &recursive {
                let mut seen = BloomTracker::new(0, fp_rate);
                if !walk_local(&src, *root, &mut seen, false, true, each) {
                    return;
                }
            }
        }
        if let Some(root) = mfs_root {
            let mut seen = BloomTracker::new(0, fp_rate);
            walk_local(&src, root, &mut seen, false, false, each);
        }
    }

    /// The provider, when this node announces (online, `Provide.Enabled`, a DHT).
    pub(crate) fn provider(&self) -> Option<&Arc<crate::provider::Provider>> {
        self.inner.provider.get()
    }

    /// Queues a pin's root, as Kubo's pinner does under `roots` (under `pinned` the pin's walk
    /// queues its whole DAG instead).
    pub(crate) fn provide_pin_root(&self, cid: &Cid) {
        if let Some(p) = self.provider()
            && p.strategy().roots()
            && !p.strategy().pinned()
        {
            p.provide([*cid.hash()]);
        }
    }

    /// `provide clear`: empties the queue of new content; how many keys it held (0 when the
    /// node does not provide).
    pub fn provide_clear(&self) -> usize {
        self.provider().map_or(0, |p| p.clear())
    }

    /// `--fast-provide-root` / `--fast-provide-dag` after `add`, `dag import`, `pin add` and
    /// `pin update` (Kubo's `ExecuteFastProvideRoot` / `ExecuteFastProvideDAG`), for content
    /// that is `pinned` (pins' roots) and/or in MFS.
    ///
    /// Nothing happens unless the node provides (online, `Provide.Enabled`, a DHT). With `dag`,
    /// and a strategy that walks DAGs (`pinned`, `mfs`), the local DAGs are walked as the
    /// strategy walks them (`+entities`: entity roots only), one bloom filter across them, and
    /// queued; with `wait` the walk is done before this returns. Otherwise, with `root`, each
    /// root the strategy covers is announced to the DHT at once, outside the queue: with `wait`
    /// this returns when it is done, and fails if it failed (`fast-provide: ...`); without, it
    /// runs in the background for at most 10 seconds.
    pub async fn fast_provide(&self, roots: &[Cid], fp: FastProvide, pinned: bool, mfs: bool) -> Result<(), NodeError> {
        let Some(p) = self.provider().cloned() else {
            tracing::debug!("fast-provide: skipped, the node does not provide");
            return Ok(());
        };
        let Ok(net) = self.online_net().cloned() else { return Ok(()) };
        let strategy = p.strategy();
        if fp.dag {
            if !strategy.walks_dags() {
                tracing::debug!(%strategy, "fast-provide-dag: nothing to walk for this strategy");
                return Ok(());
            }
            let roots = roots.to_vec();
            let fp_rate = p.cfg.bloom_fp_rate;
            let src = crate::dag::NodeSource::new(self.repo().blockstore());
            let job = move || {
                let mut seen = crate::provider::BloomTracker::new(0, fp_rate);
                for root in roots {
                    if !walk_local(&src, root, &mut seen, strategy.entities(), false, &mut |k| p.provide_wait(k)) {
                        break;
                    }
                }
                tracing::debug!(queued = seen.count(), "fast-provide-dag: walked");
            };
            if fp.wait {
                tokio::task::spawn_blocking(job).await?;
            } else {
                drop(tokio::task::spawn_blocking(job));
            }
            return Ok(());
        }
        if !fp.root {
            return Ok(());
        }
        if !strategy.covers(pinned, pinned, mfs) {
            tracing::debug!(%strategy, pinned, mfs, "fast-provide-root: skipped, the strategy does not cover it");
            return Ok(());
        }
        for root in roots {
            let key = root.hash().to_bytes();
            if fp.wait {
                net.dht_provide(key).await.map_err(|e| NodeError::Context {
                    context: "fast-provide".into(),
                    source: Box::new(net_error(e)),
                })?;
            } else {
                let (net, root) = (net.clone(), *root);
                tokio::spawn(async move {
                    match tokio::time::timeout(FAST_PROVIDE_TIMEOUT, net.dht_provide(key)).await {
                        Ok(Ok(_)) => tracing::debug!(%root, "fast-provide-root: done"),
                        // Best effort in the background (no peers yet is common): quiet at
                        // the default level, as Kubo's (whose default level is error).
                        Ok(Err(e)) => tracing::debug!(%root, "fast-provide-root: {e}"),
                        Err(_) => tracing::debug!(%root, "fast-provide-root: timed out"),
                    }
                });
            }
        }
        Ok(())
    }

    pub(crate) fn finder(&self, net: &NetHandle) -> Arc<dyn ProviderFinder> {
        let mut all: Vec<Arc<dyn ProviderFinder>> = Vec::new();
        if self.has_dht() {
            all.push(Arc::new(DhtFinder { net: net.clone() }));
        }
        if let Some(client) = self.inner.delegated.get() {
            all.push(Arc::new(DelegatedFinder { client: client.clone(), net: net.clone() }));
        }
        match all.len() {
            0 => Arc::new(rubo_bitswap::NoProviders),
            1 => all.remove(0),
            _ => Arc::new(Finders(all)),
        }
    }
}

/// `provide stat`.
#[derive(Clone, Debug)]
pub struct ProvideStat {
    pub queued: u64,
    pub provided: u64,
    pub failed: u64,
    pub dropped: u64,
    pub in_flight: u64,
    /// Unix seconds.
    pub last_reprovide: u64,
    pub avg_ms: u64,
    pub strategy: String,
    pub interval: Option<Duration>,
    /// The sweeping reprovider's figures.
    pub sweep: crate::provider::SweepStatus,
}

fn net_error(e: rubo_net::NetError) -> NodeError {
    match e {
        rubo_net::NetError::Dht(m) => {
            NodeError::InvalidInput(if m == "not found" { "routing: not found".into() } else { m })
        }
        rubo_net::NetError::Timeout(what) => NodeError::Internal(format!("timed out waiting for {what}")),
        other => NodeError::Internal(other.to_string()),
    }
}

/// Kubo's `--fast-provide-root`, `--fast-provide-dag` and `--fast-provide-wait`, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FastProvide {
    pub root: bool,
    pub dag: bool,
    pub wait: bool,
}

impl FastProvide {
    /// As Kubo resolves them: the flag when given, else `Import.FastProvideRoot`,
    /// `Import.FastProvideDAG` and `Import.FastProvideWait`, else Kubo's defaults (root on, the
    /// others off).
    pub fn resolve(doc: &Value, root: Option<bool>, dag: Option<bool>, wait: Option<bool>) -> Self {
        let conf = |key: &str, default: bool| doc.pointer(key).and_then(Value::as_bool).unwrap_or(default);
        Self {
            root: root.unwrap_or_else(|| conf("/Import/FastProvideRoot", true)),
            dag: dag.unwrap_or_else(|| conf("/Import/FastProvideDAG", false)),
            wait: wait.unwrap_or_else(|| conf("/Import/FastProvideWait", false)),
        }
    }
}

/// Whether a block is an entity that `+entities` does not walk into: a file (a raw block, or
/// a UnixFS file or raw node; its children are chunks) or a symlink (boxo's `WalkEntityRoots`).
fn stops_entity_walk(block: &rubo_types::Block) -> bool {
    use rubo_unixfs::pb::{Data, DataType};
    match block.cid().codec() {
        rubo_types::codec::RAW => true,
        rubo_types::codec::DAG_PB => rubo_dag::codec::dagpb::decode_raw(block.data())
            .ok()
            .and_then(|n| n.data)
            .and_then(|d| Data::decode(&d).ok())
            .is_some_and(|d| matches!(d.kind, DataType::File | DataType::Raw | DataType::Symlink)),
        _ => false,
    }
}

/// Walks the local DAG under `root` as boxo's provide walks do (`walker.WalkDAG`,
/// `WalkEntityRoots`): depth-first, pre-order, links in order; a block seen before (by
/// `seen`) is skipped with its subtree; a block that is not here, cannot be read or has
/// unreadable links is skipped with its subtree (logged); identity CIDs are walked through but
/// not handed out. With `entities`, files and symlinks are handed out but not walked into.
/// With `skip_root`, the root is walked but not handed out. False once `each` said stop.
fn walk_local(
    src: &crate::dag::NodeSource,
    root: Cid,
    seen: &mut crate::provider::BloomTracker,
    entities: bool,
    skip_root: bool,
    each: &mut dyn FnMut(rubo_types::Multihash) -> bool,
) -> bool {
    let mut stack = vec![root];
    let mut first = true;
    while let Some(c) = stack.pop() {
        let is_root = std::mem::take(&mut first);
        if !seen.visit(&c.hash().to_bytes()) {
            continue;
        }
        let block = match rubo_dag::source::load(src, &c) {
            Ok(Some(b)) => b,
            Ok(None) => {
                tracing::debug!(%c, "provide walk: not here, skipped");
                continue;
            }
            Err(e) => {
                tracing::debug!(%c, "provide walk: {e}");
                continue;
            }
        };
        if !(entities && stops_entity_walk(&block)) {
            match rubo_dag::links::block_links(&block) {
                Ok(links) => stack.extend(links.into_iter().rev()),
                Err(e) => {
                    tracing::debug!(%c, "provide walk: {e}");
                    continue;
                }
            }
        }
        if rubo_dag::source::is_identity(&c) || (skip_root && is_root) {
            continue;
        }
        if !each(*c.hash()) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{DEFAULT_BLOOM_FP_RATE, Strategy};
    use rubo_types::dagpb::{PbLink, PbNode};
    use rubo_types::{Block, Multihash, codec, hash};
    use rubo_unixfs::pb::{Data, DataType};

    fn node() -> (tempfile::TempDir, Node) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        let opts = rubo_repo::InitOptions { profiles: vec!["test".into()], ..Default::default() };
        rubo_repo::Repo::init(&path, &opts).unwrap();
        (dir, Node::open(&path, rubo_repo::LockMode::Exclusive, "test").unwrap())
    }

    fn put(node: &Node, codec: u64, data: Vec<u8>) -> Cid {
        let cid = Cid::new_v1(codec, hash::sha2_256(&data));
        node.repo().blockstore().put_many(&[Block::new_unchecked(cid, data)]).unwrap();
        cid
    }

    /// A UnixFS node of `kind` linking to `links`.
    fn unixfs(node: &Node, kind: DataType, links: &[(&str, Cid)]) -> Cid {
        let pb = PbNode {
            links: links.iter().map(|(n, c)| PbLink::new(*c, *n, 1)).collect(),
            data: Some(Data::new(kind).encode().into()),
        };
        put(node, codec::DAG_PB, pb.encode())
    }

    /// Two directories sharing a file of two raw chunks, pinned recursively, and a raw block
    /// pinned directly.
    struct Dags {
        dir: Cid,
        dir2: Cid,
        file: Cid,
        chunks: [Cid; 2],
        direct: Cid,
    }

    fn dags(node: &Node) -> Dags {
        let chunks = [put(node, codec::RAW, b"chunk one".to_vec()), put(node, codec::RAW, b"chunk two".to_vec())];
        let file = unixfs(node, DataType::File, &[("", chunks[0]), ("", chunks[1])]);
        let dir = unixfs(node, DataType::Directory, &[("f", file)]);
        let dir2 = unixfs(node, DataType::Directory, &[("g", file)]);
        let direct = put(node, codec::RAW, b"pinned directly".to_vec());
        for (c, recursive) in [(dir, true), (dir2, true), (direct, false)] {
            node.pin().add_blocking(&c, recursive, "", &mut |_, _| ()).unwrap();
        }
        Dags { dir, dir2, file, chunks, direct }
    }

    fn walked(node: &Node, strategy: &str) -> Vec<Multihash> {
        let mut out = Vec::new();
        let s = Strategy::parse(strategy).unwrap();
        node.walk_provided(s, DEFAULT_BLOOM_FP_RATE, &mut |k| {
            out.push(k);
            true
        });
        out
    }

    fn h(cs: &[Cid]) -> Vec<Multihash> {
        let mut v: Vec<Multihash> = cs.iter().map(|c| *c.hash()).collect();
        v.sort_by_key(Multihash::to_bytes);
        v
    }

    fn sorted(mut v: Vec<Multihash>) -> Vec<Multihash> {
        v.sort_by_key(Multihash::to_bytes);
        v
    }

    #[test]
    fn roots_are_the_pins_alone() {
        let (_d, node) = node();
        let d = dags(&node);
        let got = walked(&node, "roots");
        assert_eq!(sorted(got.clone()), h(&[d.dir, d.dir2, d.direct]));
        // Recursive pins first, then direct ones (Kubo's pinSet order).
        assert_eq!(got[2], *d.direct.hash());
    }

    #[test]
    fn pinned_is_the_roots_then_each_pinned_dag() {
        let (_d, node) = node();
        let d = dags(&node);
        let got = walked(&node, "pinned");
        // The three roots come first.
        assert_eq!(sorted(got[..3].to_vec()), h(&[d.dir, d.dir2, d.direct]));
        // Then each recursive DAG under its root: the shared file is walked for both.
        assert_eq!(sorted(got[3..].to_vec()), h(&[d.file, d.file, d.chunks[0], d.chunks[0], d.chunks[1], d.chunks[1]]));
    }

    #[test]
    fn unique_walks_shared_blocks_once_and_entities_skips_chunks() {
        let (_d, node) = node();
        let d = dags(&node);
        let all = h(&[d.dir, d.dir2, d.file, d.chunks[0], d.chunks[1], d.direct]);
        assert_eq!(sorted(walked(&node, "pinned+unique")), all);
        // No chunks of files: the file's root stands for them.
        assert_eq!(sorted(walked(&node, "pinned+entities")), h(&[d.dir, d.dir2, d.file, d.direct]));
    }

    #[test]
    fn mfs_is_the_local_part_of_the_files_tree() {
        let (_d, node) = node();
        let d = dags(&node);
        assert!(walked(&node, "mfs").is_empty(), "no MFS root stored yet");
        node.repo().datastore().unwrap().put(crate::gc::FILES_ROOT_KEY, &d.dir.to_bytes()).unwrap();
        assert_eq!(sorted(walked(&node, "mfs")), h(&[d.dir, d.file, d.chunks[0], d.chunks[1]]));
        assert_eq!(sorted(walked(&node, "mfs+entities")), h(&[d.dir, d.file]));
        // A block that is not here is skipped, the rest still walked.
        node.repo().blockstore().delete(&d.chunks[0]).unwrap();
        assert_eq!(sorted(walked(&node, "mfs")), h(&[d.dir, d.file, d.chunks[1]]));
        // pinned+mfs: the pins first, then MFS.
        let got = walked(&node, "pinned+mfs");
        assert_eq!(got.len(), 3 + 4 + 3, "{got:?}");
        assert_eq!(sorted(got[got.len() - 3..].to_vec()), h(&[d.dir, d.file, d.chunks[1]]));
    }

    #[test]
    fn all_is_every_block_and_a_walk_stops_when_told() {
        let (_d, node) = node();
        let d = dags(&node);
        let got = walked(&node, "all");
        for c in [d.dir, d.dir2, d.file, d.chunks[0], d.chunks[1], d.direct] {
            assert!(got.contains(c.hash()), "{c} is stored");
        }
        for s in ["all", "pinned", "pinned+unique", "roots", "pinned+entities"] {
            let mut n = 0;
            node.walk_provided(Strategy::parse(s).unwrap(), DEFAULT_BLOOM_FP_RATE, &mut |_| {
                n += 1;
                false
            });
            assert_eq!(n, 1, "{s}");
        }
    }

    #[test]
    fn identity_cids_are_walked_through_but_not_announced() {
        let (_d, node) = node();
        let leaf = put(&node, codec::RAW, b"under an identity node".to_vec());
        let inline = PbNode {
            links: vec![PbLink::new(leaf, "x", 1)],
            data: Some(Data::new(DataType::Directory).encode().into()),
        };
        let id = Cid::new_v1(codec::DAG_PB, Multihash::wrap(hash::IDENTITY, &inline.encode()).unwrap());
        let top = unixfs(&node, DataType::Directory, &[("id", id)]);
        node.pin().add_blocking(&top, true, "", &mut |_, _| ()).unwrap();
        assert_eq!(sorted(walked(&node, "pinned+unique")), h(&[top, leaf]));
    }

    #[test]
    fn fast_provide_flags_resolve_as_kubo() {
        let none = serde_json::json!({});
        assert_eq!(FastProvide::resolve(&none, None, None, None), FastProvide { root: true, dag: false, wait: false });
        let conf =
            serde_json::json!({"Import": {"FastProvideRoot": false, "FastProvideDAG": true, "FastProvideWait": null}});
        assert_eq!(FastProvide::resolve(&conf, None, None, None), FastProvide { root: false, dag: true, wait: false });
        assert_eq!(
            FastProvide::resolve(&conf, Some(true), Some(false), Some(true)),
            FastProvide { root: true, dag: false, wait: true }
        );
    }
}
