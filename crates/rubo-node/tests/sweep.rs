//! The sweeping reprovider against a DHT of rubo-net servers on loopback (LAN table, loopback
//! admitted): every key reaches its k closest peers with a handful of lookups, a newcomer finds
//! the provider, and the progress saved on disk says the cycle is complete.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_net::{DhtConfig, DhtMode, DhtNet, NetConfig, NetHandle};
use rubo_node::sweep::{self, Keystore, Pace, SweepReport, SweepState};
use rubo_repo::{Datastore, MemDatastore};

fn config() -> NetConfig {
    NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        quic: false,
        bootstrap_min_peers: 0,
        housekeeping_interval: Duration::from_millis(50),
        dht: Some(DhtConfig {
            wan: false,
            lan: true,
            mode: DhtMode::Server,
            loopback_on_lan: true,
            ..DhtConfig::default()
        }),
        ..NetConfig::default()
    }
}

async fn start() -> (NetHandle, Multiaddr) {
    let (h, _task) = rubo_net::start(config(), Keypair::generate_ed25519()).await.expect("start");
    let id = h.local_peer_id();
    let a = h.listen_addrs().await.expect("addrs")[0].clone().with(Protocol::P2p(id));
    (h, a)
}

async fn table(h: &NetHandle) -> usize {
    h.dht_stats()
        .await
        .map(|s| s.tables.iter().map(|t| t.buckets.iter().map(|b| b.1.len()).sum::<usize>()).sum())
        .unwrap_or(0)
}

async fn until_table(h: &NetHandle, want: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while table(h).await < want {
        assert!(Instant::now() < deadline, "routing table never reached {want} peers");
        let _ = h.dht_bootstrap().await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_reaches_every_keys_closest_peers_with_few_lookups() {
    const SERVERS: usize = 24;
    const KEYS: u32 = 1_000;
    let mut servers = Vec::new();
    for _ in 0..SERVERS {
        servers.push(start().await);
    }
    for i in 1..SERVERS {
        servers[i].0.connect(servers[0].1.clone()).await.expect("connect");
        servers[i].0.connect(servers[(i * 7) % SERVERS].1.clone()).await.ok();
    }
    for (h, _) in &servers {
        until_table(h, 6).await;
    }
    let (me, _) = start().await;
    me.connect(servers[3].1.clone()).await.expect("connect");
    until_table(&me, 1).await;

    let ds: Arc<dyn Datastore> = Arc::new(MemDatastore::new());
    let keystore = Keystore::new(ds.clone());
    let mhs: Vec<rubo_types::Multihash> = (0..KEYS).map(|i| rubo_types::hash::sha2_256(&i.to_be_bytes())).collect();
    keystore
        .rebuild(&mut |each| {
            for m in &mhs {
                if !each(*m) {
                    return;
                }
            }
        })
        .expect("keystore");
    let mut report = SweepReport::default();
    sweep::sweep(&me, DhtNet::Lan, &keystore, sweep::new_cycle(), Pace::Now, &mut report).await.expect("sweep");
    assert_eq!(report.keys, u64::from(KEYS));
    assert_eq!(report.peers, SERVERS as u64, "exploring found every server");
    assert_eq!(report.messages, u64::from(KEYS) * sweep::K as u64, "each key went to k peers");
    assert_eq!(report.failed_peers, 0);
    assert!(report.lookups * 10 <= u64::from(KEYS), "{} lookups for {KEYS} keys", report.lookups);
    let state = SweepState::load(&*ds, DhtNet::Lan).expect("state saved");
    assert_eq!(state.next, None, "the cycle is recorded complete");

    // A newcomer that knows one server finds this node as provider of any key.
    let (seeker, _) = start().await;
    seeker.connect(servers[SERVERS - 1].1.clone()).await.expect("connect");
    until_table(&seeker, 1).await;
    let mine: PeerId = me.local_peer_id();
    for m in mhs.iter().step_by(97) {
        let mut rx = seeker.dht_find_providers(m.to_bytes(), 1, false).await.expect("lookup");
        assert_eq!(rx.recv().await, Some(mine), "provider of {m:?}");
    }
}
