//! The daemon's HTTP servers: the RPC API (`rubo-http`) and the gateway
//! (`rubo-gateway`), each on its own listener, each stopping when the
//! daemon's stop signal flips: requests in flight finish, new ones are refused.

use rubo_node::Node;
use tokio::sync::watch;
use tokio::task::JoinHandle;

async fn stopped(mut rx: watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Serves the RPC API on `listener`; Prometheus metrics get the peer count.
pub(crate) fn start(
    listener: tokio::net::TcpListener,
    node: Node,
    doc: &serde_json::Value,
    port: u16,
    stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, String> {
    let mut cfg = rubo_http::ApiConfig::from_config(doc).map_err(|e| format!("API config: {e}"))?;
    cfg.port = Some(port);
    if let Ok(net) = node.net() {
        // Kept from the network's events: a scrape reads a number, never
        // waits on the swarm.
        let peers = std::sync::Arc::new(std::sync::atomic::AtomicI64::new(0));
        let count = peers.clone();
        let mut events = net.subscribe();
        let net = net.clone();
        tokio::spawn(async move {
            use rubo_node::rubo_net::NetEvent;
            use std::sync::atomic::Ordering;
            loop {
                match events.recv().await {
                    Ok(NetEvent::PeerConnected { .. }) => {
                        count.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(NetEvent::PeerDisconnected { .. }) => {
                        count.fetch_sub(1, Ordering::Relaxed);
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        // Missed events: count afresh.
                        if let Ok(p) = net.peers().await {
                            count.store(p.len() as i64, Ordering::Relaxed);
                        }
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        cfg.metrics.add_gauge("ipfs_p2p_peers_total", "Number of connected peers", move || {
            vec![rubo_http::metrics::Sample::new(peers.load(std::sync::atomic::Ordering::Relaxed).max(0) as f64)]
        });
    }
    Ok(tokio::spawn(async move {
        if let Err(e) = rubo_http::serve(listener, node, cfg, stopped(stop)).await {
            tracing::error!("RPC API server: {e}");
        }
    }))
}

/// Serves the gateway on `listener`.
pub(crate) fn start_gateway(
    listener: tokio::net::TcpListener,
    node: Node,
    doc: &serde_json::Value,
    stop: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, String> {
    let cfg = rubo_gateway::GatewayConfig::from_config(doc).map_err(|e| format!("Gateway config: {e}"))?;
    Ok(tokio::spawn(async move {
        if let Err(e) = rubo_gateway::serve(listener, node, cfg, stopped(stop)).await {
            tracing::error!("gateway server: {e}");
        }
    }))
}
