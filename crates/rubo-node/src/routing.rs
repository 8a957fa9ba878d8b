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
            strategy: format!("{:?}", p.cfg.strategy).to_lowercase(),
            interval: p.cfg.interval,
        })
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
        let strategy = cfg.strategy;
        let walk: Arc<crate::provider::KeyWalk> = Arc::new(move |each| node.walk_provided(strategy, each));
        let p = crate::provider::Provider::start(net.clone(), cfg, walk);
        if let Some(on) = self.inner.exchange.get() {
            let _ = on.provider.set(p.clone());
        }
        let _ = self.inner.provider.set(p);
        Ok(())
    }

    /// What the strategy announces: every block (`all`), or pin roots.
    fn walk_provided(&self, strategy: crate::provider::Strategy, each: &mut dyn FnMut(rubo_types::Multihash) -> bool) {
        use std::ops::ControlFlow;
        if strategy == crate::provider::Strategy::All {
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
        let _ = self.pin().stored(crate::PinFilter::All, &mut |p| {
            if each(*p.cid.hash()) { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
        });
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
