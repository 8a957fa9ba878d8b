//! Two nodes on loopback: connect over TCP and QUIC, see each other, identify, ping, disconnect;
//! peers with every key type; security choices; bootstrap; announce rules.

mod common;

use std::time::Duration;

use common::{Node, config, is_connected, start, start_default, wait_for};
use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_net::{Direction, NetError, NetEvent, PROTOCOL_VERSION, SecurityProtocol};

async fn connect_identify_ping_disconnect(quic: bool) {
    let mut cfg_a = config();
    cfg_a.agent_version = "test-agent-a/1.0".into();
    let a = start(cfg_a, Keypair::generate_ed25519()).await;
    let b = start_default().await;
    let mut b_events = b.handle.subscribe();
    let mut a_events = a.handle.subscribe();

    let addr = b.addr(quic).await;
    let got = a.handle.connect(addr.clone()).await.expect("connect");
    assert_eq!(got, b.id());

    // Both sides list the other, with the right direction and transport.
    let a_peers = a.handle.peers().await.expect("peers");
    let pa = a_peers.iter().find(|p| p.peer == b.id()).expect("a lists b");
    assert_eq!(pa.connections[0].direction, Direction::Outbound);
    let is_quic = |m: &Multiaddr| m.to_string().contains("/quic-v1");
    assert_eq!(is_quic(&pa.connections[0].remote_addr), quic);
    wait_for("b lists a as inbound", || async {
        let peers = b.handle.peers().await.expect("peers");
        let p = peers.into_iter().find(|p| p.peer == a.id())?;
        (p.connections[0].direction == Direction::Inbound).then_some(())
    })
    .await;

    // The connect event reached b's subscribers.
    let ev = tokio::time::timeout(common::WAIT, async {
        loop {
            match b_events.recv().await {
                Ok(NetEvent::PeerConnected { peer, direction, .. }) if peer == a.id() => break direction,
                Ok(_) => {}
                Err(e) => panic!("event stream: {e}"),
            }
        }
    })
    .await
    .expect("PeerConnected event");
    assert_eq!(ev, Direction::Inbound);

    // a's subscribers hear that b identified itself, with its protocols.
    let protocols = tokio::time::timeout(common::WAIT, async {
        loop {
            match a_events.recv().await {
                Ok(NetEvent::PeerIdentified { peer, info }) if peer == b.id() => break info.protocols,
                Ok(_) => {}
                Err(e) => panic!("event stream: {e}"),
            }
        }
    })
    .await
    .expect("PeerIdentified event");
    assert!(protocols.iter().any(|p| p == "/ipfs/ping/1.0.0"));

    // Identify: b learns a's agent, protocol version, protocols and key.
    let info = b.handle.identify(a.id()).await.expect("identify");
    assert_eq!(info.agent_version, "test-agent-a/1.0");
    assert_eq!(info.protocol_version, PROTOCOL_VERSION);
    assert_eq!(info.public_key.to_peer_id(), a.id());
    for p in ["/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", "/ipfs/id/push/1.0.0"] {
        assert!(info.protocols.iter().any(|x| x == p), "{p} missing from {:?}", info.protocols);
    }
    let a_listen = common::strip_p2p(&a.addr(quic).await);
    assert!(info.listen_addrs.contains(&a_listen), "{info:?}");
    let a_info = a.handle.identify(b.id()).await.expect("identify b");
    assert_eq!(a_info.agent_version, rubo_net::default_agent_version());
    // peers() shows it too.
    let pa = a.handle.peers().await.expect("peers").into_iter().find(|p| p.peer == b.id()).expect("b");
    assert_eq!(pa.agent_version.as_deref(), Some(rubo_net::default_agent_version().as_str()));

    // Ping: three round trips on a fresh stream.
    let rtts = a.handle.ping(b.id(), 3).await.expect("ping").collect().await.expect("pings");
    assert_eq!(rtts.len(), 3);
    assert!(rtts.iter().all(|d| *d > Duration::ZERO && *d < common::WAIT));

    // The ping bytes were counted both ways (3 × 32 bytes at least, plus identify).
    let bw = a.handle.bandwidth().await.expect("bw");
    assert!(bw.total_out >= 96 && bw.total_in >= 96, "{bw:?}");

    // Disconnect by address closes that connection; a reconnect works.
    a.handle.disconnect(addr.clone()).await.expect("disconnect by address");
    assert!(!is_connected(&a.handle, b.id()).await);
    let wrong: Multiaddr = format!("/ip4/127.0.0.1/tcp/1/p2p/{}", b.id()).parse().expect("addr");
    assert!(matches!(a.handle.disconnect(wrong).await, Err(NetError::NoSuchConnection(_))));
    a.handle.connect(addr.clone()).await.expect("reconnect");

    // Disconnect returns once closed; both sides drop the other.
    a.handle.disconnect(b.id()).await.expect("disconnect");
    assert!(!is_connected(&a.handle, b.id()).await);
    wait_for("b drops a", || async { (!is_connected(&b.handle, a.id()).await).then_some(()) }).await;
    assert!(matches!(a.handle.disconnect(b.id()).await, Err(NetError::NotConnected(_))));

    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_connect_identify_ping_disconnect() {
    connect_identify_ping_disconnect(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_connect_identify_ping_disconnect() {
    connect_identify_ping_disconnect(true).await;
}

fn rsa_key() -> Keypair {
    let mut der = include_bytes!("data/rsa-2048.pk8").to_vec();
    Keypair::rsa_from_pkcs8(&mut der).expect("test RSA key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_key_type_connects_to_an_ed25519_node() {
    let server = start_default().await;
    let keys = [
        ("rsa", rsa_key()),
        ("ed25519", Keypair::generate_ed25519()),
        ("secp256k1", Keypair::generate_secp256k1()),
        ("ecdsa", Keypair::generate_ecdsa()),
    ];
    for (name, key) in keys {
        let id = key.public().to_peer_id();
        if name == "rsa" {
            assert!(id.to_string().starts_with("Qm"), "RSA ids are Qm… (sha256 multihash): {id}");
        }
        let client = start(config(), key).await;
        for quic in [false, true] {
            client.handle.connect(server.addr(quic).await).await.unwrap_or_else(|e| panic!("{name} quic={quic}: {e}"));
            // The dialer may see the connection before the listener does.
            wait_for("server sees the client", || async { is_connected(&server.handle, id).await.then_some(()) }).await;
            let info = server.handle.identify(id).await.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(info.public_key.to_peer_id(), id, "{name}");
            let rtts = client.handle.ping(server.id(), 1).await.expect("ping").collect().await.expect("rtt");
            assert_eq!(rtts.len(), 1);
            client.handle.disconnect(server.id()).await.expect("disconnect");
            wait_for("server sees the disconnect", || async {
                (!is_connected(&server.handle, id).await).then_some(())
            })
            .await;
        }
        client.stop().await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn noise_only_and_tls_only_peers_both_connect() {
    let server = start_default().await;
    for only in [SecurityProtocol::Tls, SecurityProtocol::Noise] {
        for key in [rsa_key(), Keypair::generate_ecdsa(), Keypair::generate_secp256k1(), Keypair::generate_ed25519()] {
            let cfg = rubo_net::NetConfig { security: vec![only], ..config() };
            let client = start(cfg, key).await;
            client.handle.connect(server.tcp().await).await.unwrap_or_else(|e| panic!("{only:?}: {e}"));
            let rtts = client.handle.ping(server.id(), 2).await.expect("ping").collect().await.expect("rtt");
            assert_eq!(rtts.len(), 2);
            client.stop().await;
        }
    }
    // Two peers with no security protocol in common do not connect.
    let tls =
        start(rubo_net::NetConfig { security: vec![SecurityProtocol::Tls], ..config() }, Keypair::generate_ed25519())
            .await;
    let noise =
        start(rubo_net::NetConfig { security: vec![SecurityProtocol::Noise], ..config() }, Keypair::generate_ed25519())
            .await;
    let err = tls.handle.connect(noise.tcp().await).await.expect_err("no common security protocol");
    assert!(matches!(err, NetError::DialFailed { .. }), "{err}");
    tls.stop().await;
    noise.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bootstrap_peers_are_dialled_at_start() {
    let a = start_default().await;
    let b = start_default().await;
    let cfg =
        rubo_net::NetConfig { bootstrap: vec![a.tcp().await.to_string(), b.addr(true).await.to_string()], ..config() };
    let c = start(cfg, Keypair::generate_ed25519()).await;
    for target in [a.id(), b.id()] {
        wait_for("bootstrap connection", || async { is_connected(&c.handle, target).await.then_some(()) }).await;
    }
    c.stop().await;
    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announce_rules_shape_what_identify_advertises() {
    let announce: Multiaddr = "/ip4/203.0.113.7/tcp/4001".parse().expect("addr");
    let appended: Multiaddr = "/ip4/198.51.100.1/udp/4001/quic-v1".parse().expect("addr");
    let hidden: Multiaddr = "/ip4/203.0.113.8/tcp/4001".parse().expect("addr");
    let cfg = rubo_net::NetConfig {
        announce: vec![announce.to_string(), hidden.to_string()],
        append_announce: vec![appended.to_string()],
        no_announce: vec!["/ip4/203.0.113.8/ipcidr/32".into()],
        ..config()
    };
    let a = start(cfg, Keypair::generate_ed25519()).await;
    let mut want = vec![announce.clone(), appended.clone()];
    want.sort();
    let mut got = a.handle.announced_addrs().await.expect("announced");
    got.sort();
    assert_eq!(got, want, "Announce replaces the listen addresses, AppendAnnounce adds, NoAnnounce removes");

    let b = start_default().await;
    b.handle.connect(a.tcp().await).await.expect("connect");
    let mut seen = b.handle.identify(a.id()).await.expect("identify").listen_addrs;
    seen.sort();
    assert_eq!(seen, want, "identify sends exactly the announced set");

    // Without Announce, the listen addresses are announced, minus NoAnnounce networks.
    let cfg = rubo_net::NetConfig { no_announce: vec!["/ip4/127.0.0.0/ipcidr/8".into()], ..config() };
    let hidden_node = start(cfg, Keypair::generate_ed25519()).await;
    assert!(hidden_node.handle.announced_addrs().await.expect("announced").is_empty());
    let plain = start_default().await;
    let listen = plain.handle.listen_addrs().await.expect("listen");
    let mut announced = plain.handle.announced_addrs().await.expect("announced");
    announced.sort();
    let mut l = listen.clone();
    l.sort();
    assert_eq!(announced, l);
    assert!(
        listen.iter().all(|a| !a.to_string().contains("/tcp/0") && !a.to_string().contains("/udp/0/")),
        "ports resolved: {listen:?}"
    );

    for n in [a, b, hidden_node, plain] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_calls_get_typed_errors() {
    let a = start_default().await;
    let no_peer: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().expect("addr");
    assert!(matches!(a.handle.connect(no_peer).await, Err(NetError::MissingPeerId(_))));
    let own = a.tcp().await;
    assert!(matches!(a.handle.connect(own).await, Err(NetError::SelfDial)));
    // Nothing listens on port 1 of loopback: the dial fails, typed.
    let nobody: Multiaddr = format!("/ip4/127.0.0.1/tcp/1/p2p/{}", PeerId::random()).parse().expect("addr");
    assert!(matches!(a.handle.connect(nobody).await, Err(NetError::DialFailed { .. })));
    assert!(matches!(a.handle.identify(PeerId::random()).await, Err(NetError::NotConnected(_))));
    let bad_filter: Multiaddr = "/ip4/10.0.0.0/tcp/1".parse().expect("addr");
    assert!(matches!(a.handle.filters_add(bad_filter).await, Err(NetError::InvalidFilter { .. })));

    // A config naming only unsupported transports cannot start; one good address is enough.
    let ws_only = rubo_net::NetConfig { listen: vec!["/ip4/127.0.0.1/tcp/0/ws".into()], ..config() };
    assert!(matches!(rubo_net::start(ws_only, Keypair::generate_ed25519()).await, Err(NetError::NoListener)));
    let mixed = rubo_net::NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0/ws".into(), "/ip4/127.0.0.1/tcp/0".into()],
        ..config()
    };
    let m: Node = start(mixed, Keypair::generate_ed25519()).await;
    assert_eq!(m.handle.listen_addrs().await.expect("listen").len(), 1);

    // After shutdown, calls fail with Closed and the actor has ended.
    a.stop().await;
    let h = m.handle.clone();
    m.stop().await;
    assert!(matches!(h.peers().await, Err(NetError::Closed)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_every_handle_stops_the_actor() {
    let a = start_default().await;
    let Node { handle, task } = a;
    drop(handle);
    tokio::time::timeout(common::WAIT, task).await.expect("actor ends").expect("task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_loopback_works() {
    let cfg =
        rubo_net::NetConfig { listen: vec!["/ip6/::1/tcp/0".into(), "/ip6/::1/udp/0/quic-v1".into()], ..config() };
    let a = start(cfg.clone(), Keypair::generate_ed25519()).await;
    let b = start(cfg, Keypair::generate_ed25519()).await;
    for quic in [false, true] {
        let addr = b.addr(quic).await;
        assert!(addr.to_string().starts_with("/ip6/::1/"), "{addr}");
        a.handle.connect(addr).await.expect("connect over ::1");
        let rtts = a.handle.ping(b.id(), 1).await.expect("ping").collect().await.expect("rtt");
        assert_eq!(rtts.len(), 1);
        a.handle.disconnect(b.id()).await.expect("disconnect");
    }
    a.stop().await;
    b.stop().await;
}

const SINK: rubo_net::libp2p::StreamProtocol = rubo_net::libp2p::StreamProtocol::new("/rubo-test/sink/1.0.0");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bandwidth_counts_stream_bytes_and_rates() {
    use futures::{AsyncReadExt as _, AsyncWriteExt as _, StreamExt as _};
    const SIZE: u64 = 1 << 20;
    let a = start_default().await;
    let b = start_default().await;
    // b reads everything it is sent on SINK (a protocol crate's view: stream control only).
    let mut incoming = b.handle.accept(SINK).expect("accept");
    let reader = tokio::spawn(async move {
        let (_, mut s) = incoming.next().await.expect("a stream");
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.expect("read");
        buf.len() as u64
    });
    a.handle.connect(b.tcp().await).await.expect("connect");
    let mut s = a.handle.stream_control().open_stream(b.id(), SINK).await.expect("open");
    s.write_all(&vec![7u8; SIZE as usize]).await.expect("write");
    s.close().await.expect("close");
    assert_eq!(reader.await.expect("reader"), SIZE);

    let bw = wait_for("b's byte rate", || async {
        let bw = b.handle.bandwidth().await.expect("bw");
        (bw.total_in >= SIZE && bw.rate_in > 0.0).then_some(bw)
    })
    .await;
    assert!(bw.total_in < SIZE + 64 * 1024, "counts payload, not much more: {bw:?}");
    assert!(a.handle.bandwidth().await.expect("bw").total_out >= SIZE);
    // Per connection, on both sides (dialer and listener): the bytes are attributed.
    let pa = a.handle.peers().await.expect("peers");
    assert!(pa[0].connections[0].bytes_out >= SIZE, "{pa:?}");
    let pb = b.handle.peers().await.expect("peers");
    assert!(pb[0].connections[0].bytes_in >= SIZE, "{pb:?}");
    a.stop().await;
    b.stop().await;
}
