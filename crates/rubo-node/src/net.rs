//! The node online: its libp2p network (owned by the `rubo-net` actor, which
//! alone holds the Swarm) and the daemon's lifecycle hooks.
//!
//! [`net_config`] maps Kubo's config keys onto [`NetConfig`]; [`Node::go_online`]
//! starts the network with the repo's identity; commands reach it through
//! [`Node::net`], which answers Kubo's "must be run in online mode" error on an
//! offline node.

use std::time::Duration;

use rubo_net::{ConnMgrConfig, ConnMgrType, LimitsConfig, NetConfig, NetHandle, PeeringPeerConfig, SecurityProtocol};
use serde_json::Value;

use crate::{Node, NodeError};

/// Kubo's error for commands that need the network on an offline node.
pub const OFFLINE_ERROR: &str = "this command must be run in online mode. Try running 'rubo daemon' first";

/// Kubo's fallback bootstrap peers, which `"auto"` in `Bootstrap` stands for
/// (Kubo resolves it through AutoConf, falling back to this list).
pub const DEFAULT_BOOTSTRAP: &[&str] = &[
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmQCU2EcMqAqQPR2i9bChDtGNJchTbq5TbXJJ16u19uLTa",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
    "/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt",
    "/dnsaddr/va1.bootstrap.libp2p.io/p2p/12D3KooWKnDdG3iXw9eTFijk3EWSunZcFi54Zka4wmtqtt6rPxc8",
    "/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
    "/ip4/104.131.131.82/udp/4001/quic-v1/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
];

fn strings(doc: &Value, ptr: &str) -> Vec<String> {
    match doc.pointer(ptr) {
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) if !s.is_empty() => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// A Kubo `Flag`: `null` (default), `true` or `false`.
fn flag(doc: &Value, ptr: &str, default: bool) -> bool {
    doc.pointer(ptr).and_then(Value::as_bool).unwrap_or(default)
}

fn int(doc: &Value, ptr: &str) -> Option<i64> {
    doc.pointer(ptr).and_then(Value::as_i64)
}

/// A Kubo duration (`"20s"`, `"1m30s"`), or a bad-config error naming the key.
fn duration(doc: &Value, ptr: &str) -> Result<Option<Duration>, NodeError> {
    match doc.pointer(ptr) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => rubo_repo::config::units::parse_duration(s)
            .map(Some)
            .map_err(|e| NodeError::InvalidInput(format!("config {ptr}: {e}"))),
        Some(v) => Err(NodeError::InvalidInput(format!("config {ptr}: not a duration: {v}"))),
    }
}

/// A Kubo byte size (`"4GB"` or a number).
fn bytes(doc: &Value, ptr: &str) -> Result<Option<u64>, NodeError> {
    match doc.pointer(ptr) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_u64()),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => rubo_repo::config::units::parse_bytes(s)
            .map(Some)
            .map_err(|e| NodeError::InvalidInput(format!("config {ptr}: {e}"))),
        Some(v) => Err(NodeError::InvalidInput(format!("config {ptr}: not a size: {v}"))),
    }
}

/// Bitswap's settings from Kubo's keys (`Bitswap.Enabled`,
/// `Internal.Bitswap.*`), or `None` when Bitswap is turned off.
pub fn bitswap_config(doc: &Value) -> Result<Option<rubo_bitswap::Config>, NodeError> {
    if !flag(doc, "/Bitswap/Enabled", true) {
        return Ok(None);
    }
    let mut c = rubo_bitswap::Config::default();
    if let Some(n) = int(doc, "/Internal/Bitswap/TaskWorkerCount").filter(|n| *n > 0) {
        c.server_workers = usize::try_from(n).unwrap_or(c.server_workers).min(64);
    }
    if let Some(n) = bytes(doc, "/Internal/Bitswap/MaxOutstandingBytesPerPeer")?.filter(|n| *n > 0) {
        c.max_inflight_per_peer = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(d) = duration(doc, "/Internal/Bitswap/ProviderSearchDelay")? {
        c.provider_search_delay = d;
    }
    Ok(Some(c))
}

/// The network settings Kubo's config asks for.
pub fn net_config(doc: &Value) -> Result<NetConfig, NodeError> {
    let dht = crate::routing::dht_config(doc)?;
    let mut c = NetConfig {
        listen: strings(doc, "/Addresses/Swarm"),
        announce: strings(doc, "/Addresses/Announce"),
        append_announce: strings(doc, "/Addresses/AppendAnnounce"),
        no_announce: strings(doc, "/Addresses/NoAnnounce"),
        addr_filters: strings(doc, "/Swarm/AddrFilters"),
        mdns: flag(doc, "/Discovery/MDNS/Enabled", true),
        agent_version: crate::agent_version(),
        tcp: flag(doc, "/Swarm/Transports/Network/TCP", true),
        quic: flag(doc, "/Swarm/Transports/Network/QUIC", true),
        dht,
        ..NetConfig::default()
    };
    c.bootstrap = strings(doc, "/Bootstrap")
        .into_iter()
        .flat_map(|b| if b == "auto" { DEFAULT_BOOTSTRAP.iter().map(|s| s.to_string()).collect() } else { vec![b] })
        .collect();
    if let Some(Value::Array(peers)) = doc.pointer("/Peering/Peers") {
        for p in peers {
            let id = p.get("ID").and_then(Value::as_str).unwrap_or_default().to_string();
            let addrs = strings(p, "/Addrs");
            c.peering.push(PeeringPeerConfig { id, addrs });
        }
    }
    // Swarm.Transports.Security: a priority per protocol (lower first), a
    // negative one disables it.
    let mut sec: Vec<(i64, SecurityProtocol)> = Vec::new();
    for (key, proto, default) in [("TLS", SecurityProtocol::Tls, 100), ("Noise", SecurityProtocol::Noise, 200)] {
        let prio = int(doc, &format!("/Swarm/Transports/Security/{key}")).unwrap_or(default);
        if prio >= 0 {
            sec.push((prio, proto));
        }
    }
    sec.sort_by_key(|(p, _)| *p);
    c.security = sec.into_iter().map(|(_, s)| s).collect();
    let cm = ConnMgrConfig::default();
    c.conn_mgr = ConnMgrConfig {
        kind: match doc.pointer("/Swarm/ConnMgr/Type").and_then(Value::as_str) {
            Some("none") => ConnMgrType::None,
            _ => ConnMgrType::Basic,
        },
        low_water: int(doc, "/Swarm/ConnMgr/LowWater").map_or(cm.low_water, |v| v.max(0) as usize),
        high_water: int(doc, "/Swarm/ConnMgr/HighWater").map_or(cm.high_water, |v| v.max(0) as usize),
        grace_period: duration(doc, "/Swarm/ConnMgr/GracePeriod")?.unwrap_or(cm.grace_period),
        check_interval: cm.check_interval,
    };
    c.limits = LimitsConfig {
        enabled: flag(doc, "/Swarm/ResourceMgr/Enabled", true),
        max_memory: bytes(doc, "/Swarm/ResourceMgr/MaxMemory")?,
        max_file_descriptors: int(doc, "/Swarm/ResourceMgr/MaxFileDescriptors").map(|v| v.max(0) as u64),
        ..LimitsConfig::default()
    };
    Ok(c)
}

impl Node {
    /// The protocols this node speaks, as `rubo id` lists them.
    pub fn protocols(&self) -> Vec<&'static str> {
        vec!["/ipfs/ping/1.0.0", "/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0"]
    }

    /// Starts the network with the repo's identity; returns once it listens.
    pub async fn go_online(&self, mut cfg: NetConfig) -> Result<NetHandle, NodeError> {
        let key = self.repo().identity().keypair().clone();
        if let Some(d) = cfg.dht.as_mut()
            && d.storage.is_none()
        {
            // What the DHT holds for others outlives a restart, as in Kubo.
            d.storage = Some(rubo_net::DhtStorage(self.repo().datastore()?));
        }
        if let Some(d) = cfg.dht.as_mut()
            && d.validator.is_none()
        {
            d.validator = Some(rubo_net::DhtValidator(std::sync::Arc::new(crate::records::NodeValidator)));
        }
        let (handle, task) =
            rubo_net::start(cfg, key).await.map_err(|e| NodeError::Internal(format!("network: {e}")))?;
        self.inner.net.set(handle.clone()).map_err(|_| NodeError::Internal("the node is already online".into()))?;
        if let Ok(mut t) = self.inner.net_task.lock() {
            *t = Some(task);
        }
        if let Some(client) = crate::routing::delegated_from_config(self.repo().config().doc())? {
            let _ = self.inner.delegated.set(client);
        }
        if let Some(bcfg) = bitswap_config(self.repo().config().doc())? {
            let store = std::sync::Arc::new(crate::bitswap::RepoBlocks(self.repo().blockstore()));
            let finder = self.finder(&handle);
            let bs = rubo_bitswap::Bitswap::with_finder(handle.clone(), store, bcfg, finder)
                .await
                .map_err(crate::bitswap::node_error)?;
            let rt = tokio::runtime::Handle::current();
            let ex = std::sync::Arc::new(crate::bitswap::BitswapExchange::new(bs.clone(), rt.clone()));
            let _ = self.inner.bitswap.set(bs);
            self.set_exchange(ex, rt)?;
        }
        self.start_provider(&handle)?;
        Ok(handle)
    }

    /// Bitswap, or Kubo's offline error.
    pub fn bitswap(&self) -> Result<&rubo_bitswap::Bitswap, NodeError> {
        self.inner.bitswap.get().ok_or_else(|| NodeError::Offline(OFFLINE_ERROR.into()))
    }

    /// Stops the network: listeners closed, connections gone, the actor ended.
    pub async fn go_offline(&self) {
        if let Some(net) = self.inner.net.get() {
            let _ = net.shutdown().await;
        }
        let task = self.inner.net_task.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = task {
            let _ = t.await;
        }
    }

    /// The network, or Kubo's offline error.
    pub fn net(&self) -> Result<&NetHandle, NodeError> {
        self.inner.net.get().ok_or_else(|| NodeError::Offline(OFFLINE_ERROR.into()))
    }

    pub fn is_online(&self) -> bool {
        self.inner.net.get().is_some()
    }

    /// Marks the node as a daemon's: `rubo shutdown` may then stop it.
    pub fn set_daemon(&self) {
        self.inner.daemon.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether a daemon runs this node.
    pub fn is_daemon(&self) -> bool {
        self.inner.daemon.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Asks the daemon to stop (`rubo shutdown`).
    pub fn request_shutdown(&self) -> Result<(), NodeError> {
        if !self.inner.daemon.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(NodeError::InvalidInput("daemon not running".into()));
        }
        self.inner.shutdown.notify_one();
        Ok(())
    }

    /// Resolves when a shutdown was asked for.
    pub async fn shutdown_requested(&self) {
        self.inner.shutdown.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kubo_keys_map_onto_the_network_settings() {
        let doc = json!({
            "Addresses": {"Swarm": ["/ip4/127.0.0.1/tcp/0"], "Announce": [], "NoAnnounce": ["/ip4/10.0.0.0/ipcidr/8"]},
            "Bootstrap": ["auto"],
            "Discovery": {"MDNS": {"Enabled": false}},
            "Peering": {"Peers": [{"ID": "QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ", "Addrs": ["/ip4/127.0.0.1/tcp/4001"]}]},
            "Swarm": {
                "ConnMgr": {"LowWater": 2, "HighWater": 4, "GracePeriod": "1s"},
                "Transports": {"Security": {"TLS": -1}, "Network": {"QUIC": false}},
                "ResourceMgr": {"MaxMemory": "1GB"}
            }
        });
        let c = net_config(&doc).unwrap();
        assert_eq!(c.listen, ["/ip4/127.0.0.1/tcp/0"]);
        assert_eq!(c.bootstrap.len(), DEFAULT_BOOTSTRAP.len());
        assert!(!c.mdns && !c.quic && c.tcp);
        assert_eq!(c.peering.len(), 1);
        assert_eq!((c.conn_mgr.low_water, c.conn_mgr.high_water), (2, 4));
        assert_eq!(c.conn_mgr.grace_period, Duration::from_secs(1));
        assert_eq!(c.security, [SecurityProtocol::Noise]);
        assert_eq!(c.limits.max_memory, Some(1_000_000_000));
        // Kubo's defaults where the config is silent: TLS (100) before noise (200).
        let d = net_config(&json!({})).unwrap();
        assert_eq!(d.security, [SecurityProtocol::Tls, SecurityProtocol::Noise]);
        assert!(d.mdns);
        assert!(net_config(&json!({"Swarm": {"ConnMgr": {"GracePeriod": "soon"}}})).is_err());
    }
}
