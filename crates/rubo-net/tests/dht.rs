//! The DHT among rubo-net nodes on loopback (LAN table, loopback admitted), and peers written
//! in the test that speak Kademlia's wire format by hand (ipfs/specs, libp2p kad-dht: unsigned
//! varint length, then a protobuf `Message`): garbage, an oversized frame, a flood of
//! ADD_PROVIDER, values that fail validation. Each is refused and counted; the node keeps
//! answering honest lookups.

mod common;

use common::{config, start, wait_for};
use futures::{AsyncReadExt as _, AsyncWriteExt as _};
use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::{Multiaddr, PeerId, Stream};
use rubo_net::{DhtConfig, DhtMode, LAN_PROTOCOL, NetConfig};

fn dht_config(mode: DhtMode, puts: u32) -> NetConfig {
    let mut c = config();
    c.listen.retain(|l| l.contains("/tcp/"));
    c.dht = Some(DhtConfig {
        wan: true,
        lan: true,
        mode,
        loopback_on_lan: true,
        max_puts_per_peer_minute: puts,
        ..DhtConfig::default()
    });
    c
}

async fn node(mode: DhtMode) -> common::Node {
    start(dht_config(mode, 6_000), Keypair::generate_ed25519()).await
}

/// Peers in `n`'s LAN table.
async fn lan_peers(n: &common::Node) -> Vec<PeerId> {
    let s = n.handle.dht_stats().await.expect("stats");
    s.tables
        .iter()
        .filter(|t| t.net == rubo_net::DhtNet::Lan)
        .flat_map(|t| t.buckets.iter().flat_map(|(_, p)| p.iter().copied()))
        .collect()
}

async fn in_table(n: &common::Node, p: PeerId) {
    wait_for("a peer in the LAN table", || async { lan_peers(n).await.contains(&p).then_some(()) }).await;
}

fn key(i: u32) -> Vec<u8> {
    // A sha2-256 multihash's layout (0x12, 32 bytes); the digest need not be real for the DHT.
    let mut k = vec![0x12, 32];
    k.extend_from_slice(&[i as u8; 32]);
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_are_found_through_a_server() {
    let hub = node(DhtMode::Server).await;
    let provider = node(DhtMode::Client).await;
    let seeker = node(DhtMode::Server).await;
    provider.handle.connect(hub.tcp().await).await.expect("connect");
    seeker.handle.connect(hub.tcp().await).await.expect("connect");
    in_table(&provider, hub.id()).await;
    in_table(&seeker, hub.id()).await;
    assert!(!lan_peers(&hub).await.contains(&provider.id()), "a client stays out of tables");

    let stored = provider.handle.dht_provide(key(1)).await.expect("provide");
    assert!(stored >= 1, "the hub took the record");
    // ADD_PROVIDER has no answer: the record is in once the hub has read it.
    let found = wait_for("the provider found through the hub", || async {
        let mut rx = seeker.handle.dht_find_providers(key(1), 20, false).await.ok()?;
        let mut found = Vec::new();
        while let Some(p) = rx.recv().await {
            found.push(p);
        }
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(found, [provider.id()]);
    // Nobody provides key 2.
    let mut rx = seeker.handle.dht_find_providers(key(2), 20, false).await.expect("lookup");
    assert!(rx.recv().await.is_none());
    // The record came with the provider's address: the seeker reaches it by id alone.
    let addrs = seeker.handle.dht_closest_peers(key(1)).await.expect("closest");
    assert!(addrs.iter().any(|p| p.id == hub.id()));
    let mut rx = seeker.handle.dht_find_providers(key(1), 20, true).await.expect("lookup");
    assert_eq!(rx.recv().await, Some(provider.id()));
    seeker.handle.connect_peer(provider.id()).await.expect("dial the provider by id");
    for n in [seeker, provider, hub] {
        n.stop().await;
    }
}

// ---- Kademlia's wire format, by hand ----

fn varint(mut n: u64, out: &mut Vec<u8>) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn field_bytes(tag: u64, b: &[u8], out: &mut Vec<u8>) {
    varint(tag << 3 | 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

fn field_varint(tag: u64, v: u64, out: &mut Vec<u8>) {
    varint(tag << 3, out);
    varint(v, out);
}

const PUT_VALUE: u64 = 0;
const ADD_PROVIDER: u64 = 2;
const GET_PROVIDERS: u64 = 3;

/// `Message { type, key, record?, providerPeers }` with its length prefix.
fn frame(kind: u64, key: &[u8], record: Option<(&[u8], &[u8])>, provider: Option<(PeerId, &Multiaddr)>) -> Vec<u8> {
    let mut m = Vec::new();
    field_varint(1, kind, &mut m);
    field_bytes(2, key, &mut m);
    if let Some((k, v)) = record {
        let mut r = Vec::new();
        field_bytes(1, k, &mut r);
        field_bytes(2, v, &mut r);
        field_bytes(3, &r, &mut m);
    }
    if let Some((id, addr)) = provider {
        let mut p = Vec::new();
        field_bytes(1, &id.to_bytes(), &mut p);
        field_bytes(2, &addr.to_vec(), &mut p);
        field_bytes(9, &p, &mut m);
    }
    let mut out = Vec::new();
    varint(m.len() as u64, &mut out);
    out.extend_from_slice(&m);
    out
}

async fn open(from: &common::Node, to: PeerId) -> Stream {
    tokio::time::timeout(common::WAIT, from.handle.stream_control().open_stream(to, LAN_PROTOCOL))
        .await
        .expect("open in time")
        .expect("open a kad stream")
}

/// Reads until the other side closes or resets the stream.
async fn closed_by_peer(s: &mut Stream) {
    let mut buf = vec![0u8; 4096];
    let r = tokio::time::timeout(common::WAIT, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(r.is_ok(), "the node closes a stream that breaks the protocol");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_dht_peers_are_refused_counted_and_the_node_keeps_serving() {
    let victim = start(dht_config(DhtMode::Server, 10), Keypair::generate_ed25519()).await;
    let honest = node(DhtMode::Server).await;
    honest.handle.connect(victim.tcp().await).await.expect("connect");
    in_table(&honest, victim.id()).await;
    // Raw peers run no DHT of their own: they only write bytes.
    let raw_cfg = || {
        let mut c = config();
        c.listen.retain(|l| l.contains("/tcp/"));
        c
    };
    let raw = start(raw_cfg(), Keypair::generate_ed25519()).await;
    raw.handle.connect(victim.tcp().await).await.expect("connect");
    let raw_addr = raw.tcp().await;
    let raw_addr = Multiaddr::from_iter(raw_addr.iter().take(2));

    // Garbage: a frame that does not decode.
    let mut s = open(&raw, victim.id()).await;
    s.write_all(&[0x05, 0xff, 0xff, 0xff, 0xff, 0xff]).await.expect("write");
    s.flush().await.expect("flush");
    closed_by_peer(&mut s).await;
    // Oversized: a length prefix past Kubo's 4 MiB limit.
    let mut s = open(&raw, victim.id()).await;
    let mut big = Vec::new();
    varint(64 << 20, &mut big);
    big.extend_from_slice(&[0u8; 1024]);
    let _ = s.write_all(&big).await;
    let _ = s.flush().await;
    closed_by_peer(&mut s).await;

    // A flood of ADD_PROVIDER on one stream: ten a minute are taken, the rest refused.
    let mut s = open(&raw, victim.id()).await;
    for i in 0..100u32 {
        s.write_all(&frame(ADD_PROVIDER, &key(100 + i), None, Some((raw.id(), &raw_addr)))).await.expect("write");
    }
    s.flush().await.expect("flush");
    // A record with no address is refused whoever sends it.
    let mut s2 = open(&honest, victim.id()).await;
    let mut m = Vec::new();
    field_varint(1, ADD_PROVIDER, &mut m);
    field_bytes(2, &key(7), &mut m);
    let mut p = Vec::new();
    field_bytes(1, &honest.id().to_bytes(), &mut p);
    field_bytes(9, &p, &mut m);
    let mut f = Vec::new();
    varint(m.len() as u64, &mut f);
    f.extend_from_slice(&m);
    s2.write_all(&f).await.expect("write");
    s2.flush().await.expect("flush");

    // Values: an IPNS record (no validator here yet), a /pk/ record under another peer's key,
    // and a true /pk/ record.
    let kp = Keypair::generate_ed25519();
    let pk = kp.public().encode_protobuf();
    let mut good_key = b"/pk/".to_vec();
    good_key.extend_from_slice(&kp.public().to_peer_id().to_bytes());
    let mut wrong_key = b"/pk/".to_vec();
    wrong_key.extend_from_slice(&PeerId::random().to_bytes());
    let mut ipns_key = b"/ipns/".to_vec();
    ipns_key.extend_from_slice(&kp.public().to_peer_id().to_bytes());
    let mut puts = Vec::new();
    for k in [&ipns_key, &wrong_key, &good_key] {
        // One stream each: kad answers a PUT_VALUE before it reads the next request.
        let mut s3 = open(&honest, victim.id()).await;
        s3.write_all(&frame(PUT_VALUE, k, Some((k, &pk)), None)).await.expect("write");
        s3.flush().await.expect("flush");
        puts.push(s3);
    }

    let stats = wait_for("the victim to count every refusal", || async {
        let s = victim.handle.dht_stats().await.ok()?;
        let done = s.rate_limited >= 90
            && s.provider_records_refused >= 91
            && s.value_records_refused >= 2
            && s.value_records_accepted >= 1;
        done.then_some(s)
    })
    .await;
    assert_eq!(stats.provider_records_accepted, 10, "{stats:?}");
    assert_eq!(stats.value_records_accepted, 1, "{stats:?}");

    // Still serving: an honest provide and lookup through the victim.
    let stored = honest.handle.dht_provide(key(3)).await.expect("provide");
    assert!(stored >= 1);
    let other = node(DhtMode::Server).await;
    other.handle.connect(victim.tcp().await).await.expect("connect");
    in_table(&other, victim.id()).await;
    let first = wait_for("the honest record found", || async {
        let mut rx = other.handle.dht_find_providers(key(3), 20, false).await.ok()?;
        rx.recv().await
    })
    .await;
    assert_eq!(first, honest.id());
    // A GET_PROVIDERS by hand (from another peer: nobody is told about itself): the flood's
    // accepted records are served.
    let mut s4 = open(&honest, victim.id()).await;
    s4.write_all(&frame(GET_PROVIDERS, &key(100), None, None)).await.expect("write");
    s4.flush().await.expect("flush");
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(common::WAIT, s4.read(&mut buf)).await.expect("answer in time").expect("read");
    assert!(n > 0, "an answer");
    let answer = &buf[..n];
    assert!(answer.windows(raw.id().to_bytes().len()).any(|w| w == raw.id().to_bytes()), "the provider is named");
    drop((s, s2, puts));
    for n in [other, raw, honest, victim] {
        n.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_records_outlive_a_restart_of_the_node_holding_them() {
    // The hub's records live in its datastore (the repo's, in a daemon): a new hub process with
    // the same key and datastore still answers for them.
    let ds: std::sync::Arc<dyn rubo_repo::Datastore> = std::sync::Arc::new(rubo_repo::MemDatastore::new());
    let hub_key = Keypair::generate_ed25519();
    let with_store = || {
        let mut c = dht_config(DhtMode::Server, 6_000);
        if let Some(d) = c.dht.as_mut() {
            d.storage = Some(rubo_net::DhtStorage(ds.clone()));
        }
        c
    };
    let hub = start(with_store(), hub_key.clone()).await;
    let provider = node(DhtMode::Client).await;
    provider.handle.connect(hub.tcp().await).await.expect("connect");
    in_table(&provider, hub.id()).await;
    assert!(provider.handle.dht_provide(key(5)).await.expect("provide") >= 1);
    wait_for("the hub to hold the record", || async {
        let s = hub.handle.dht_stats().await.ok()?;
        (s.provider_keys >= 1).then_some(())
    })
    .await;
    hub.stop().await;

    let hub = start(with_store(), hub_key).await;
    let seeker = node(DhtMode::Server).await;
    seeker.handle.connect(hub.tcp().await).await.expect("connect");
    in_table(&seeker, hub.id()).await;
    let mut rx = seeker.handle.dht_find_providers(key(5), 20, false).await.expect("lookup");
    assert_eq!(rx.recv().await, Some(provider.id()), "the restarted hub still knows the provider");
    for n in [seeker, provider, hub] {
        n.stop().await;
    }
}
