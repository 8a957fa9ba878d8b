//! `Peering.Peers`: kept connected, redialled after a drop and after the peer restarts;
//! add/ls/rm at runtime.

mod common;

use std::time::Duration;

use common::{config, is_connected, start, start_default, wait_for};
use rubo_net::libp2p::PeerId;
use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::{Backoff, Direction, NetConfig, NetEvent, PeeringPeerConfig};
use tokio::sync::broadcast;

fn fast_backoff() -> Backoff {
    Backoff { initial: Duration::from_millis(100), max: Duration::from_millis(800) }
}

async fn next_event_for(rx: &mut broadcast::Receiver<NetEvent>, peer: PeerId, connected: bool) -> Option<Direction> {
    tokio::time::timeout(common::WAIT, async {
        loop {
            match rx.recv().await.expect("event stream") {
                NetEvent::PeerConnected { peer: p, direction, .. } if p == peer && connected => return Some(direction),
                NetEvent::PeerDisconnected { peer: p } if p == peer && !connected => return None,
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no {} event for {peer}", if connected { "connect" } else { "disconnect" }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_peer_is_redialled_after_a_drop_and_after_a_restart() {
    let b_key = Keypair::generate_ed25519();
    let b = start(config(), b_key.clone()).await;
    let b_id = b.id();
    let b_tcp = b.tcp().await;
    let cfg = NetConfig {
        peering: vec![PeeringPeerConfig { id: b_id.to_string(), addrs: vec![b_tcp.to_string()] }],
        peering_backoff: fast_backoff(),
        ..config()
    };
    let a = start(cfg, Keypair::generate_ed25519()).await;
    let mut events = a.handle.subscribe();
    wait_for("a dials its peering peer at start", || async { is_connected(&a.handle, b_id).await.then_some(()) }).await;
    let ls = a.handle.peering_ls().await.expect("ls");
    assert_eq!(ls.len(), 1);
    assert!(ls[0].connected && ls[0].peer == b_id);

    // b drops a: a redials.
    b.handle.disconnect(a.id()).await.expect("disconnect");
    next_event_for(&mut events, b_id, false).await;
    assert_eq!(next_event_for(&mut events, b_id, true).await, Some(Direction::Outbound), "a redialled b");

    // b restarts on the same address with the same key: a redials with backoff until it is up.
    b.stop().await;
    next_event_for(&mut events, b_id, false).await;
    let port =
        b_tcp.iter().find_map(|p| if let Protocol::Tcp(port) = p { Some(port) } else { None }).expect("tcp port");
    let b2 = start(NetConfig { listen: vec![format!("/ip4/127.0.0.1/tcp/{port}")], ..config() }, b_key).await;
    assert_eq!(b2.id(), b_id);
    assert_eq!(next_event_for(&mut events, b_id, true).await, Some(Direction::Outbound), "a redialled b after restart");
    assert!(a.handle.peering_ls().await.expect("ls")[0].connected);

    a.stop().await;
    b2.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peering_add_ls_rm_at_runtime() {
    let cfg = NetConfig {
        peering_backoff: fast_backoff(),
        conn_mgr: rubo_net::ConnMgrConfig { check_interval: Duration::from_millis(50), ..Default::default() },
        ..config()
    };
    let a = start(cfg, Keypair::generate_ed25519()).await;
    let c = start_default().await;
    assert!(a.handle.peering_ls().await.expect("ls").is_empty());
    a.handle.peering_add(c.id(), vec![c.tcp().await]).await.expect("add");
    wait_for("a dials the added peer", || async { is_connected(&a.handle, c.id()).await.then_some(()) }).await;
    let ls = a.handle.peering_ls().await.expect("ls");
    assert_eq!(ls.len(), 1);
    assert_eq!(ls[0].addrs, vec![common::strip_p2p(&c.tcp().await)], "stored without /p2p/");
    assert!(matches!(a.handle.peering_add(a.id(), vec![]).await, Err(rubo_net::NetError::SelfDial)));

    // Known addresses include the peering peer's.
    let known = a.handle.known_addrs().await.expect("addrs");
    assert!(known.iter().any(|p| p.id == c.id() && !p.addrs.is_empty()));

    assert!(a.handle.peering_rm(c.id()).await.expect("rm"));
    assert!(!a.handle.peering_rm(c.id()).await.expect("rm twice"));
    assert!(a.handle.peering_ls().await.expect("ls").is_empty());
    let tags = a.handle.peers().await.expect("peers").into_iter().find(|p| p.peer == c.id()).expect("c").protected_tags;
    assert!(tags.is_empty(), "unprotected once removed: {tags:?}");

    // Once removed, a drop is not redialled: wait well past the backoff (counted in manager
    // runs, which tick every 50 ms) and check it stayed down.
    c.handle.disconnect(a.id()).await.expect("disconnect");
    wait_for("a sees the drop", || async { (!is_connected(&a.handle, c.id()).await).then_some(()) }).await;
    let runs = a.handle.resource_stats().await.expect("stats").conn_mgr_runs;
    wait_for("20 ticks", || async {
        (a.handle.resource_stats().await.expect("stats").conn_mgr_runs >= runs + 20).then_some(())
    })
    .await;
    assert!(!is_connected(&a.handle, c.id()).await, "a removed peering peer is not redialled");

    a.stop().await;
    c.stop().await;
}
