//! IPNS records in the DHT among rubo-net nodes on loopback with the node's validator: a valid
//! record is stored by a server and found by another node; a forged one, or an older one than
//! the server holds, is refused by the server and never served.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::{DhtConfig, DhtMode, DhtValidator, NetConfig, NetHandle};
use rubo_node::records::NodeValidator;

async fn start() -> (NetHandle, rubo_net::libp2p::Multiaddr) {
    let cfg = NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        quic: false,
        bootstrap_min_peers: 0,
        housekeeping_interval: Duration::from_millis(50),
        dht: Some(DhtConfig {
            wan: false,
            lan: true,
            mode: DhtMode::Server,
            loopback_on_lan: true,
            validator: Some(DhtValidator(Arc::new(NodeValidator))),
            ..DhtConfig::default()
        }),
        ..NetConfig::default()
    };
    let (h, _t) = rubo_net::start(cfg, Keypair::generate_ed25519()).await.expect("start");
    let id = h.local_peer_id();
    let a = h.listen_addrs().await.expect("addrs")[0].clone().with(Protocol::P2p(id));
    (h, a)
}

async fn in_table(h: &NetHandle) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: usize = h
            .dht_stats()
            .await
            .map(|s| s.tables.iter().map(|t| t.buckets.iter().map(|b| b.1.len()).sum::<usize>()).sum())
            .unwrap_or(0);
        if n > 0 {
            return;
        }
        assert!(Instant::now() < deadline, "no peer in the routing table");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipns_records_are_validated_stored_and_found() {
    let (server, addr) = start().await;
    let (publisher, _) = start().await;
    let (seeker, _) = start().await;
    publisher.connect(addr.clone()).await.expect("connect");
    seeker.connect(addr).await.expect("connect");
    in_table(&publisher).await;
    in_table(&seeker).await;

    let kp = Keypair::generate_ed25519();
    let name = rubo_ipns::Name::from_public_key(&kp.public());
    let key = name.routing_key();
    let eol = SystemTime::now() + Duration::from_secs(3600);
    let rec = |seq| {
        rubo_ipns::Record::create(&kp, b"/ipfs/bafkqaaa", seq, eol, Duration::from_secs(60), Default::default())
            .expect("record")
            .into_bytes()
    };
    // A forged record (another key's under this name) is refused before it leaves.
    let forger = Keypair::generate_ed25519();
    let forged = rubo_ipns::Record::create(&forger, b"/ipfs/bafkqaaa", 99, eol, Duration::ZERO, Default::default())
        .expect("record")
        .into_bytes();
    assert!(publisher.dht_put_value(key.clone(), forged).await.is_err());

    assert!(publisher.dht_put_value(key.clone(), rec(2)).await.expect("put") >= 1, "the server took it");
    let got = seeker.dht_get_value(key.clone(), 16).await.expect("get");
    assert!(got.iter().any(|v| v.value == rec(2)), "the seeker found the record");
    let accepted = server.dht_stats().await.expect("stats").value_records_accepted;
    assert_eq!(accepted, 1);

    // An older record does not replace the newer one on the server.
    let e = publisher.dht_put_value(key.clone(), rec(1)).await.expect_err("older than what the publisher holds");
    assert!(e.to_string().contains("can't replace a newer value with an older value"), "{e}");
    // A node that never held it sends the older record to the server, which refuses it.
    let (late, _) = start().await;
    late.connect(server.listen_addrs().await.expect("addrs")[0].clone().with(Protocol::P2p(server.local_peer_id())))
        .await
        .expect("connect");
    in_table(&late).await;
    let _ = late.dht_put_value(key.clone(), rec(1)).await;
    let s = server.dht_stats().await.expect("stats");
    assert_eq!(s.value_records_accepted, 1, "{s:?}");
    assert!(s.value_records_refused >= 1, "{s:?}");
    // The server's own copy (a lookup answers with it first) is still the newer record.
    let held = server.dht_get_value(key, 1).await.expect("get");
    assert_eq!(held.first().map(|v| (v.from, v.value.clone())), Some((None, rec(2))));
}
