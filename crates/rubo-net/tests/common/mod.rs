//! Helpers shared by the integration tests. Every node listens on loopback only; the suite is
//! meant to run inside a private network namespace (`unshare -n`, with `lo` up).
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::time::Duration;

use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_net::{NetConfig, NetHandle};
use tokio::task::JoinHandle;

/// Upper bound for anything a test waits for; conditions usually hold within milliseconds.
pub const WAIT: Duration = Duration::from_secs(30);

/// A config for tests: loopback TCP and QUIC on free ports, fast housekeeping.
pub fn config() -> NetConfig {
    NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".into(), "/ip4/127.0.0.1/udp/0/quic-v1".into()],
        housekeeping_interval: Duration::from_millis(50),
        request_timeout: WAIT,
        ..NetConfig::default()
    }
}

pub struct Node {
    pub handle: NetHandle,
    pub task: JoinHandle<()>,
}

impl Node {
    pub fn id(&self) -> PeerId {
        self.handle.local_peer_id()
    }

    /// Our first listen address of the given transport, with `/p2p/<id>`.
    pub async fn addr(&self, quic: bool) -> Multiaddr {
        let addrs = self.handle.listen_addrs().await.expect("listen_addrs");
        let a = addrs
            .into_iter()
            .find(|a| a.iter().any(|p| matches!(p, Protocol::QuicV1)) == quic)
            .unwrap_or_else(|| panic!("no {} listen address", if quic { "QUIC" } else { "TCP" }));
        a.with(Protocol::P2p(self.id()))
    }

    pub async fn tcp(&self) -> Multiaddr {
        self.addr(false).await
    }

    pub async fn stop(self) {
        self.handle.shutdown().await.expect("shutdown");
        tokio::time::timeout(WAIT, self.task).await.expect("actor ends after shutdown").expect("actor task");
    }
}

/// Starts a node, failing the test loudly when loopback cannot be bound.
pub async fn start(cfg: NetConfig, key: Keypair) -> Node {
    // RUST_LOG=rubo_net=debug shows what the nodes do when a test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    match rubo_net::start(cfg, key).await {
        Ok((handle, task)) => Node { handle, task },
        Err(e) => panic!("cannot start a node on loopback (run the tests inside `unshare -n` with lo up): {e}"),
    }
}

pub async fn start_default() -> Node {
    start(config(), Keypair::generate_ed25519()).await
}

/// Re-checks `cond` until it returns `Some`, at most for [`WAIT`]. The pause between checks
/// only spaces the polls; the test waits for the condition, not for a time.
pub async fn wait_for<T, F, Fut>(what: &str, mut cond: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = cond().await {
            return v;
        }
        if tokio::time::Instant::now() >= deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn peer_ids(h: &NetHandle) -> Vec<PeerId> {
    h.peers().await.expect("peers").into_iter().map(|p| p.peer).collect()
}

pub async fn is_connected(h: &NetHandle, p: PeerId) -> bool {
    peer_ids(h).await.contains(&p)
}

pub fn strip_p2p(a: &Multiaddr) -> Multiaddr {
    let mut a = a.clone();
    if matches!(a.iter().last(), Some(Protocol::P2p(_))) {
        a.pop();
    }
    a
}
