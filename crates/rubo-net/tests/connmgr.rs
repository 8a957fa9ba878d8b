//! Kubo's connection manager: above HighWater, unprotected peers past their grace period are
//! trimmed down to LowWater; protected and peering peers stay.

mod common;

use std::time::Duration;

use common::{Node, config, is_connected, peer_ids, start, start_default, wait_for};
use rubo_net::libp2p::identity::Keypair;
use rubo_net::{ConnMgrConfig, ConnMgrType, NetConfig, NetEvent, PEERING_TAG, PeeringPeerConfig};

fn conn_mgr(low: usize, high: usize, grace: Duration) -> ConnMgrConfig {
    ConnMgrConfig {
        kind: ConnMgrType::Basic,
        low_water: low,
        high_water: high,
        grace_period: grace,
        check_interval: Duration::from_millis(50),
    }
}

async fn start_many(n: usize) -> Vec<Node> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(start_default().await);
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trims_to_low_water_and_keeps_the_peering_peer() {
    let keeper = start_default().await;
    let cfg = NetConfig {
        // A grace period far longer than connecting the six others takes
        // (milliseconds; seconds on a loaded CI machine), so that one trim
        // sees all of them (a trim half-way would leave the late arrivals
        // under HighWater, and nothing more to trim).
        conn_mgr: conn_mgr(2, 4, Duration::from_secs(8)),
        peering: vec![PeeringPeerConfig { id: keeper.id().to_string(), addrs: vec![keeper.tcp().await.to_string()] }],
        ..config()
    };
    let x = start(cfg, Keypair::generate_ed25519()).await;
    let mut events = x.handle.subscribe();
    wait_for("peering connection", || async { is_connected(&x.handle, keeper.id()).await.then_some(()) }).await;

    let others = start_many(6).await;
    for o in &others {
        o.handle.connect(x.tcp().await).await.expect("connect");
    }
    let remaining = wait_for("trim to LowWater", || async {
        let peers = peer_ids(&x.handle).await;
        (peers.len() <= 2).then_some(peers)
    })
    .await;
    assert!(remaining.contains(&keeper.id()), "the peering peer is kept: {remaining:?}");
    let stats = x.handle.resource_stats().await.expect("stats");
    assert!(stats.conn_mgr_trimmed >= 5, "{stats:?}");
    let info = x.handle.peers().await.expect("peers");
    let k = info.iter().find(|p| p.peer == keeper.id()).expect("keeper");
    assert_eq!(k.protected_tags, vec![PEERING_TAG.to_string()]);
    // The peering connection was never closed on the way.
    while let Ok(ev) = events.try_recv() {
        if let NetEvent::PeerDisconnected { peer } = ev {
            assert_ne!(peer, keeper.id(), "the peering peer was disconnected");
        }
    }
    for n in others.into_iter().chain([x, keeper]) {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_within_the_grace_period_are_spared() {
    let cfg = NetConfig { conn_mgr: conn_mgr(1, 2, Duration::from_secs(3600)), ..config() };
    let y = start(cfg, Keypair::generate_ed25519()).await;
    let others = start_many(4).await;
    for o in &others {
        o.handle.connect(y.tcp().await).await.expect("connect");
    }
    wait_for("all four connected", || async { (peer_ids(&y.handle).await.len() == 4).then_some(()) }).await;
    // Let the manager run several times over the over-full set.
    let runs = y.handle.resource_stats().await.expect("stats").conn_mgr_runs;
    wait_for("five more manager runs", || async {
        let s = y.handle.resource_stats().await.expect("stats");
        (s.conn_mgr_runs >= runs + 5).then_some(())
    })
    .await;
    assert_eq!(peer_ids(&y.handle).await.len(), 4, "young peers are not trimmed");
    assert_eq!(y.handle.resource_stats().await.expect("stats").conn_mgr_trimmed, 0);
    for n in others.into_iter().chain([y]) {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protect_api_shields_a_peer_and_type_none_never_trims() {
    let cfg = NetConfig { conn_mgr: conn_mgr(1, 1, Duration::ZERO), ..config() };
    let z = start(cfg, Keypair::generate_ed25519()).await;
    let others = start_many(3).await;
    z.handle.protect(others[0].id(), "bitswap-session").await.expect("protect");
    z.handle.protect(others[0].id(), "dht").await.expect("protect");
    for o in &others {
        o.handle.connect(z.tcp().await).await.expect("connect");
    }
    let left = wait_for("trim", || async {
        let p = peer_ids(&z.handle).await;
        (p.len() == 1).then_some(p)
    })
    .await;
    assert_eq!(left, vec![others[0].id()]);
    assert!(z.handle.unprotect(others[0].id(), "dht").await.expect("unprotect"), "still protected by the other tag");
    assert!(!z.handle.unprotect(others[0].id(), "bitswap-session").await.expect("unprotect"));

    let none =
        NetConfig { conn_mgr: ConnMgrConfig { kind: ConnMgrType::None, ..conn_mgr(1, 1, Duration::ZERO) }, ..config() };
    let n = start(none, Keypair::generate_ed25519()).await;
    for o in &others {
        o.handle.connect(n.tcp().await).await.expect("connect");
    }
    let runs = n.handle.resource_stats().await.expect("stats").conn_mgr_runs;
    wait_for("manager runs", || async {
        (n.handle.resource_stats().await.expect("stats").conn_mgr_runs >= runs + 5).then_some(())
    })
    .await;
    assert_eq!(peer_ids(&n.handle).await.len(), 3);
    for node in others.into_iter().chain([z, n]) {
        node.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_in_the_dht_routing_table_are_not_trimmed() {
    use rubo_net::{DhtConfig, DhtMode};
    let dht = || {
        Some(DhtConfig { wan: false, lan: true, mode: DhtMode::Server, loopback_on_lan: true, ..DhtConfig::default() })
    };
    let cfg = NetConfig { conn_mgr: conn_mgr(1, 1, Duration::ZERO), dht: dht(), ..config() };
    let z = start(cfg, Keypair::generate_ed25519()).await;
    let server = start(NetConfig { dht: dht(), ..config() }, Keypair::generate_ed25519()).await;
    // Alone it is under HighWater; once identify put it in the table, it stays.
    server.handle.connect(z.tcp().await).await.expect("connect");
    wait_for("the server in z's routing table", || async {
        let s = z.handle.dht_stats().await.ok()?;
        s.tables.iter().any(|t| t.buckets.iter().any(|(_, p)| p.contains(&server.id()))).then_some(())
    })
    .await;
    let others = start_many(2).await;
    for o in &others {
        o.handle.connect(z.tcp().await).await.expect("connect");
    }
    let left = wait_for("trim", || async {
        let p = peer_ids(&z.handle).await;
        (p.len() == 1).then_some(p)
    })
    .await;
    assert_eq!(left, vec![server.id()], "the routing-table peer is kept, the others trimmed");
    for node in others.into_iter().chain([z, server]) {
        node.stop().await;
    }
}
