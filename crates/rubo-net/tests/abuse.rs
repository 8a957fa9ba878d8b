//! Hostile input: garbage on the swarm ports, a peer opening thousands of streams, dials to and
//! from filtered addresses. The node refuses, counts, and keeps serving others.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{config, is_connected, start, start_default, wait_for};
use futures::StreamExt as _;
use rand::RngCore as _;
use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::libp2p::{Multiaddr, StreamProtocol};
use rubo_net::{NetConfig, NetError};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn socket_addr(a: &Multiaddr) -> SocketAddr {
    let mut ip = None;
    let mut port = None;
    for p in a.iter() {
        match p {
            Protocol::Ip4(v) => ip = Some(v.into()),
            Protocol::Tcp(v) | Protocol::Udp(v) => port = Some(v),
            _ => {}
        }
    }
    SocketAddr::new(ip.expect("ip"), port.expect("port"))
}

fn garbage(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    rand::rng().fill_bytes(&mut v);
    v
}

/// Writes `payload` and reads until the node closes the socket (or the bound runs out).
async fn send_raw(target: SocketAddr, payload: &[u8]) {
    let mut s = tokio::net::TcpStream::connect(target).await.expect("raw TCP connect to the swarm port");
    // The node may close before everything is written: that is the point.
    let _ = s.write_all(payload).await;
    let mut sink = vec![0u8; 4096];
    let closed = tokio::time::timeout(common::WAIT, async {
        loop {
            match s.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "the node must close a connection that sent garbage");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_on_the_swarm_ports_is_refused_and_the_node_keeps_serving() {
    // A short handshake timeout, so payloads that stop mid-handshake are dropped quickly.
    let cfg = NetConfig { handshake_timeout: Duration::from_secs(2), ..config() };
    let node = start(cfg, Keypair::generate_ed25519()).await;
    let tcp = socket_addr(&node.tcp().await);
    let quic = socket_addr(&node.addr(true).await);

    // Random bytes; a valid multistream header then garbage; a security protocol we do not
    // speak; a noise handshake that is garbage.
    let mut payloads = vec![garbage(64 * 1024), garbage(7), b"\x13/multistream/1.0.0\n".to_vec()];
    let mut header = b"\x13/multistream/1.0.0\n".to_vec();
    payloads.last_mut().expect("payload").extend(garbage(4096));
    header.extend(b"\x0b/plaintext\n");
    payloads.push(header.clone());
    let mut noise = b"\x13/multistream/1.0.0\n\x07/noise\n".to_vec();
    noise.extend(garbage(2048));
    payloads.push(noise);
    for p in &payloads {
        send_raw(tcp, p).await;
    }
    // Random datagrams at the QUIC port.
    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0").await.expect("udp bind");
    for n in [1, 20, 1200, 1500] {
        udp.send_to(&garbage(n), quic).await.expect("udp send");
    }

    let refused = wait_for("handshake failures counted", || async {
        let s = node.handle.resource_stats().await.expect("stats");
        (s.refused.handshake_failures >= payloads.len() as u64).then_some(s.refused.handshake_failures)
    })
    .await;
    assert!(refused >= payloads.len() as u64);
    assert!(node.handle.peers().await.expect("peers").is_empty(), "garbage never becomes a peer");

    // Still serving: a real peer connects over both transports and pings.
    for quic in [false, true] {
        let peer = start_default().await;
        peer.handle.connect(node.addr(quic).await).await.expect("connect after garbage");
        let rtts = peer.handle.ping(node.id(), 2).await.expect("ping").collect().await.expect("rtt");
        assert_eq!(rtts.len(), 2);
        peer.stop().await;
    }
    node.stop().await;
}

const SINK: StreamProtocol = StreamProtocol::new("/rubo-test/sink/1.0.0");

struct Flood {
    opened: usize,
    held: usize,
    stats: rubo_net::ResourceStats,
}

/// An attacker opens `attempts` streams of a protocol the victim accepts and holds, 128 at a
/// time; an honest peer connects and pings in the middle of it. The victim runs only one
/// transport so the attacker cannot move to the other.
async fn flood(quic: bool, cap: usize, attempts: usize, per_attempt: Duration) -> Flood {
    let mut cfg = config();
    cfg.limits.max_inbound_streams_per_connection = cap;
    cfg.limits.max_refused_streams_per_connection = 256;
    cfg.tcp = !quic;
    cfg.quic = quic;
    cfg.listen.retain(|l| l.contains("quic") == quic);
    let victim = start(cfg, Keypair::generate_ed25519()).await;

    // A protocol that accepts streams and holds them open, as a slow or stuck handler would.
    let mut incoming = victim.handle.accept(SINK).expect("accept");
    let held = Arc::new(AtomicUsize::new(0));
    let held_in_task = Arc::clone(&held);
    let holder = tokio::spawn(async move {
        let mut streams = Vec::new();
        while let Some((_, s)) = incoming.next().await {
            streams.push(s);
            held_in_task.store(streams.len(), Ordering::SeqCst);
        }
    });

    let attacker = start_default().await;
    attacker.handle.connect(victim.addr(quic).await).await.expect("attacker connects");
    let target = victim.id();
    let control = attacker.handle.stream_control();
    let attack = tokio::spawn(async move {
        let results: Vec<Option<_>> = futures::stream::iter(0..attempts)
            .map(|_| {
                let mut c = control.clone();
                async move { tokio::time::timeout(per_attempt, c.open_stream(target, SINK)).await.ok()?.ok() }
            })
            .buffer_unordered(128)
            .collect()
            .await;
        // The opened streams stay open until counted.
        (results.iter().filter(|r| r.is_some()).count(), results)
    });

    // While the attack runs, an honest peer connects and is served.
    wait_for("the attacker's first streams", || async { (held.load(Ordering::SeqCst) > 0).then_some(()) }).await;
    let honest = start_default().await;
    honest.handle.connect(victim.addr(quic).await).await.expect("honest peer connects during the attack");
    let rtts = honest.handle.ping(victim.id(), 3).await.expect("ping").collect().await.expect("rtt");
    assert_eq!(rtts.len(), 3);

    let (opened, streams) =
        tokio::time::timeout(Duration::from_secs(120), attack).await.expect("attack ends").expect("task");
    let stats = victim.handle.resource_stats().await.expect("stats");
    drop(streams);

    // The honest peer is still connected and served after the attack.
    assert!(is_connected(&victim.handle, honest.id()).await);
    let rtts = honest.handle.ping(victim.id(), 2).await.expect("ping").collect().await.expect("rtt");
    assert_eq!(rtts.len(), 2);

    holder.abort();
    for n in [attacker, honest, victim] {
        n.stop().await;
    }
    let held = held.load(Ordering::SeqCst);
    eprintln!("flood (quic={quic}): {opened} of {attempts} opened, {held} held, {stats:?}");
    Flood { opened, held, stats }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_opening_thousands_of_streams_is_cut_off_while_others_are_served() {
    const CAP: usize = 64;
    const ATTEMPTS: usize = 5000;
    let f = flood(false, CAP, ATTEMPTS, Duration::from_secs(5)).await;
    let cuts = f.stats.refused.connections_cut as usize;
    assert!(cuts >= 1, "the abusive connection was cut off: {:?}", f.stats);
    assert!(f.stats.refused.streams_refused > 256, "{:?}", f.stats);
    // At most CAP streams held per attacker connection (the attacker redials after each cut);
    // without the cap one connection alone would hold hundreds.
    assert!(f.held <= CAP * (cuts + 1), "held {} streams over {cuts} cut connections", f.held);
    assert!(f.opened < ATTEMPTS / 2, "most of the {ATTEMPTS} streams were refused, {} opened", f.opened);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_stream_flood_is_held_at_the_cap() {
    // QUIC's own flow control stops the peer at the cap: the extra opens wait, nothing is held
    // past it, and the connection keeps working for the others.
    const CAP: usize = 16;
    let f = flood(true, CAP, 300, Duration::from_millis(500)).await;
    assert!(f.held <= CAP, "held {} streams, cap {CAP}", f.held);
    assert!(f.opened <= CAP, "{} opened", f.opened);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_addresses_are_refused_both_ways() {
    let b = start_default().await;
    let loopback = "/ip4/127.0.0.0/ipcidr/8";
    let a = start(NetConfig { addr_filters: vec![loopback.into()], ..config() }, Keypair::generate_ed25519()).await;

    // a does not dial a filtered address.
    let err = a.handle.connect(b.tcp().await).await.expect_err("filtered dial");
    assert!(matches!(err, NetError::AddrFiltered(_)), "{err}");
    let err = a.handle.connect(b.addr(true).await).await.expect_err("filtered dial (QUIC)");
    assert!(matches!(err, NetError::AddrFiltered(_)), "{err}");
    let s = a.handle.resource_stats().await.expect("stats");
    assert!(s.refused.addr_filtered_outbound >= 2, "{s:?}");

    // a refuses b's connection from a filtered address.
    let err = b.handle.connect(a.tcp().await).await.expect_err("a refuses");
    assert!(matches!(err, NetError::DialFailed { .. }), "{err}");
    let s = wait_for("inbound refusal counted", || async {
        let s = a.handle.resource_stats().await.expect("stats");
        (s.refused.addr_filtered_inbound >= 1).then_some(s)
    })
    .await;
    assert_eq!(s.peers, 0);
    assert!(b.handle.peers().await.expect("peers").is_empty());

    // Removing the filter lets the same dial through.
    let f: Multiaddr = loopback.parse().expect("filter");
    assert_eq!(a.handle.filters_ls().await.expect("ls"), vec![f.clone()]);
    assert!(a.handle.filters_rm(f.clone()).await.expect("rm"));
    assert!(a.handle.filters_ls().await.expect("ls").is_empty());
    a.handle.connect(b.tcp().await).await.expect("dial after filter removed");
    a.handle.disconnect(b.id()).await.expect("disconnect");
    wait_for("b sees the disconnect", || async { (!is_connected(&b.handle, a.id()).await).then_some(()) }).await;

    // A filter added at runtime also stops dials by peer id alone (libp2p-stream, from the
    // address book), before any packet is sent.
    let host: Multiaddr = "/ip4/127.0.0.1/ipcidr/32".parse().expect("filter");
    assert!(a.handle.filters_add(host.clone()).await.expect("add"));
    assert!(!a.handle.filters_add(host).await.expect("add again"));
    let err = a.handle.ping(b.id(), 1).await.err().expect("ping to a filtered peer fails");
    assert!(matches!(err, NetError::Ping(_)), "{err}");
    let s = a.handle.resource_stats().await.expect("stats");
    assert!(s.refused.addr_filtered_outbound >= 3, "{s:?}");
    assert!(!is_connected(&b.handle, a.id()).await);

    a.stop().await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_limits_refuse_and_count() {
    let mut cfg = config();
    cfg.limits.max_connections = Some(2);
    let node = start(cfg, Keypair::generate_ed25519()).await;
    let mut peers = Vec::new();
    for _ in 0..2 {
        let p = start_default().await;
        p.handle.connect(node.tcp().await).await.expect("within the limit");
        peers.push(p);
    }
    let extra = start_default().await;
    // The dialer may see its connection established before the listener's limit closes it; what
    // matters is the node's side: refused, counted, not a peer.
    let _ = extra.handle.connect(node.tcp().await).await;
    let s = wait_for("limit refusal counted", || async {
        let s = node.handle.resource_stats().await.expect("stats");
        (s.refused.connection_limit >= 1).then_some(s)
    })
    .await;
    assert!(s.connections_inbound <= 2, "{s:?}");
    assert!(!is_connected(&node.handle, extra.id()).await);
    // The admitted peers are still served.
    let rtts = peers[0].handle.ping(node.id(), 1).await.expect("ping").collect().await.expect("rtt");
    assert_eq!(rtts.len(), 1);
    for p in peers.into_iter().chain([extra, node]) {
        p.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_limit_refuses_connections_and_counts() {
    // A process always uses more than one byte: every new connection is over the limit.
    let mut cfg = config();
    cfg.limits.max_memory = Some(1);
    let node = start(cfg, Keypair::generate_ed25519()).await;
    let peer = start_default().await;
    let _ = peer.handle.connect(node.tcp().await).await;
    let s = wait_for("memory refusal counted", || async {
        let s = node.handle.resource_stats().await.expect("stats");
        (s.refused.memory_limit >= 1).then_some(s)
    })
    .await;
    assert_eq!(s.peers, 0, "{s:?}");
    peer.stop().await;
    node.stop().await;
}
