//! Content routing for the node: which router `Routing.Type` and
//! `Routing.DelegatedRouters` ask for, the provider lookups Bitswap sessions
//! make when no connected peer has a block (providers found are dialled, then
//! asked), and `routing findprovs`.
//!
//! Only delegated routing (`/routing/v1` over HTTP) exists so far; the DHT
//! types (`auto`'s DHT half, `dht`, `dhtclient`, `dhtserver`) have none yet.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use rubo_bitswap::ProviderFinder;
use rubo_net::NetHandle;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_routing::{DelegatedClient, Provider};
use rubo_types::Cid;
use serde_json::Value;

use crate::net::OFFLINE_ERROR;
use crate::{Node, NodeError};

/// How long one delegated lookup may take (Kubo's HTTP routers: 30 s).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long dialling one provider may take.
const DIAL_TIMEOUT: Duration = Duration::from_secs(10);

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

impl Node {
    /// Providers of `cid` from the node's routers (`routing findprovs`).
    pub async fn find_providers(&self, cid: &Cid, limit: usize) -> Result<Vec<Provider>, NodeError> {
        if self.inner.net.get().is_none() || self.offline {
            return Err(NodeError::Offline(OFFLINE_ERROR.into()));
        }
        let Some(client) = self.inner.delegated.get() else {
            return Err(NodeError::InvalidInput(
                "no content router: set Routing.DelegatedRouters (rubo has no DHT yet)".into(),
            ));
        };
        client.find_providers(cid, limit).await.map_err(|e| NodeError::Internal(e.to_string()))
    }

    pub(crate) fn finder(&self, net: &NetHandle) -> Arc<dyn ProviderFinder> {
        match self.inner.delegated.get() {
            Some(client) => Arc::new(DelegatedFinder { client: client.clone(), net: net.clone() }),
            None => Arc::new(rubo_bitswap::NoProviders),
        }
    }
}
