//! The DHT with Kubo v0.22 on loopback (its LAN DHT, `/ipfs/lan/kad/1.0.0`,
//! keeps loopback peers; rubo's test profile sets
//! `Routing.LoopbackAddressesOnLanDHT` for the same reason), inside a
//! private network namespace. A rubo daemon is the DHT server everyone knows;
//! providers are DHT clients, so nobody finds them by walking the DHT: only
//! their provider records lead to them.
//!
//! - rubo provides (the blocks `add` stores are announced), Kubo, connected
//!   only to the hub, finds rubo through the DHT and fetches the file.
//! - Kubo provides (`add` announces the root), a rubo daemon connected only to
//!   the hub finds Kubo (`routing findprovs`) and fetches the file (`cat`:
//!   the Bitswap session asks the DHT, dials Kubo, takes the blocks).
//! - The same both ways with Helia 7 (its kad-dht on the LAN protocol).
//! - `routing findpeer` and `dht query` find a peer through another.

mod common;

use std::time::{Duration, Instant};

use common::TestRepo;
use common::daemon::Daemon;
use common::peers::{Helia, Kubo, in_netns};
use serde_json::Value;

/// Polls `cond` until it holds; `limit` is an upper bound, not a delay.
fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn data(len: usize, seed: u32) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_add(seed).wrapping_mul(2_654_435_761) >> 13) as u8).collect()
}

/// The daemon's loopback TCP address with its peer id, from `rubo id`.
fn rubo_addr(r: &TestRepo) -> String {
    let id: Value = serde_json::from_str(&r.ok(&["id"])).expect("id json");
    id["Addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|a| a.contains("/tcp/") && a.contains("127.0.0.1"))
        .expect("a loopback tcp address")
        .to_string()
}

fn rubo_id(r: &TestRepo) -> String {
    let id: Value = serde_json::from_str(&r.ok(&["id"])).expect("id json");
    id["ID"].as_str().expect("ID").to_string()
}

/// Peer ids in the LAN routing table, from `stats dht lan --enc=json`.
fn lan_table(r: &TestRepo) -> Vec<String> {
    let out = r.ok(&["stats", "dht", "lan", "--enc=json"]);
    let v: Value = serde_json::from_str(out.lines().next().unwrap_or("{}")).expect("stats dht json");
    v["Buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["Peers"].as_array().into_iter().flatten())
        .filter_map(|p| p["ID"].as_str().map(String::from))
        .collect()
}

/// The gateway's `127.0.0.1:port`, from `$RUBO_PATH/gateway`.
fn gateway_socket(r: &TestRepo) -> String {
    let maddr = std::fs::read_to_string(r.path().join("gateway")).expect("gateway file");
    let port: String =
        maddr.trim().chars().rev().take_while(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().collect();
    format!("127.0.0.1:{port}")
}

/// Helia's delegated routing client (`interop/routing_client.mjs`) against `r`'s gateway.
fn helia_routing_client(r: &TestRepo, what: &str, arg: &str) -> Value {
    let root = common::peers::workspace_root();
    let out = std::process::Command::new(common::peers::node_binary())
        .arg(root.join("interop/routing_client.mjs"))
        .args([&format!("http://{}", gateway_socket(r)), what, arg])
        .current_dir(root.join("interop"))
        .output()
        .expect("run routing_client.mjs");
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.trim()).unwrap_or_else(|e| {
        panic!("{e}: {line} / {}", String::from_utf8_lossy(&out.stderr));
    })
}

/// The `ProvidersServed` counter of `stats dht lan`.
fn providers_served(r: &TestRepo) -> u64 {
    let out = r.ok(&["stats", "dht", "lan", "--enc=json"]);
    let v: Value = serde_json::from_str(out.lines().next().unwrap_or("{}")).expect("stats dht json");
    v["ProvidersServed"].as_u64().expect("ProvidersServed")
}

fn dht_client(r: &TestRepo) {
    r.ok(&["config", "Routing.Type", "dhtclient"]);
}

#[test]
fn kubo_finds_what_rubo_provides_through_the_dht() {
    in_netns("kubo_finds_what_rubo_provides_through_the_dht", || {
        let work = tempfile::tempdir().expect("tmp");
        let hub = TestRepo::new();
        let mut hub_d = Daemon::start(&hub, &[]);
        // A second server: Kubo only keeps a peer in its table once it answered a lookup with
        // some peer, and a hub alone knows nobody but the asker.
        let other = TestRepo::new();
        let mut other_d = Daemon::start(&other, &[]);
        other.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        let provider = TestRepo::new();
        dht_client(&provider);
        let mut prov_d = Daemon::start(&provider, &[]);
        let prov_id = rubo_id(&provider);

        provider.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        // The provider's table holds the hub before it announces anything.
        wait_until(Duration::from_secs(30), "the hub in the provider's LAN table", || {
            lan_table(&provider).contains(&rubo_id(&hub))
        });
        // A client never enters a server's table: only records lead to it.
        assert!(!lan_table(&hub).contains(&prov_id), "a DHT client is not in the hub's table");

        let bytes = data(1_500_000, 7);
        let f = work.path().join("f");
        std::fs::write(&f, &bytes).expect("write");
        let cid = provider.ok(&["add", "-Q", f.to_str().expect("utf-8")]);
        // `add` queued the blocks; the record reaches the hub.
        wait_until(Duration::from_secs(60), "the provider record at the hub", || {
            hub.ok(&["routing", "findprovs", &cid]).lines().any(|l| l == prov_id)
        });
        let stat: Value = serde_json::from_str(&provider.ok(&["provide", "stat", "--enc=json"])).expect("json");
        assert!(stat["Provided"].as_u64().unwrap_or(0) >= 1, "{stat}");

        // The hub's /routing/v1 server answers Helia's delegated routing client from its DHT.
        let v = helia_routing_client(&hub, "providers", &cid);
        let provs = v["providers"].as_array().expect("providers");
        let p = provs.iter().find(|p| p["id"].as_str() == Some(prov_id.as_str())).unwrap_or_else(|| panic!("{v}"));
        let prov_tcp = rubo_addr(&provider);
        let want = prov_tcp.split("/p2p/").next().expect("addr");
        assert!(p["addrs"].as_array().is_some_and(|a| a.iter().any(|x| x == want)), "{v} lacks {want}");
        let v = helia_routing_client(&hub, "peers", &rubo_id(&other));
        assert_eq!(v["peers"][0]["id"], Value::from(rubo_id(&other)), "{v}");
        // The spec's statuses: a bad CID, nothing found, no IPNS record for a name.
        let gw = gateway_socket(&hub);
        assert_eq!(common::daemon::http_get(&gw, "/routing/v1/providers/not-a-cid").0, 400);
        let nobody = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
        assert_eq!(common::daemon::http_get(&gw, &format!("/routing/v1/providers/{nobody}")).0, 404);
        assert_eq!(common::daemon::http_get(&gw, &format!("/routing/v1/ipns/{}", rubo_id(&hub))).0, 404);
        assert_eq!(common::daemon::http_get(&gw, "/routing/v1/ipns/not-a-name").0, 400);

        let mut kubo = Kubo::start(&work.path().join("kubo"));
        kubo.call(serde_json::json!({"op": "connect", "addr": rubo_addr(&hub)}), Duration::from_secs(30));
        // Identify ran both ways once Kubo is in the hub's table, and Kubo puts the hub in its own
        // then too: Kubo's first provider search (after 1 s) has someone to ask.
        wait_until(Duration::from_secs(30), "Kubo in the hub's LAN table", || lan_table(&hub).contains(&kubo.id));
        assert!(!kubo.peers().contains(&prov_id), "Kubo does not know the provider beforehand");
        let served = providers_served(&hub);
        let out = work.path().join("out");
        kubo.get(&cid, &out, Duration::from_secs(120));
        assert!(std::fs::read(&out).expect("fetched") == bytes, "Kubo fetched the file byte for byte");
        assert!(kubo.peers().contains(&prov_id), "Kubo reached the provider");
        assert!(providers_served(&hub) > served, "through the record the hub handed out");
        kubo.close();
        assert!(prov_d.stop().success());
        assert!(other_d.stop().success());
        assert!(hub_d.stop().success());
    });
}

#[test]
fn rubo_finds_what_kubo_provides_through_the_dht() {
    in_netns("rubo_finds_what_kubo_provides_through_the_dht", || {
        let work = tempfile::tempdir().expect("tmp");
        let hub = TestRepo::new();
        let mut hub_d = Daemon::start(&hub, &[]);
        let mut kubo = Kubo::start(&work.path().join("kubo"));
        kubo.call(serde_json::json!({"op": "connect", "addr": rubo_addr(&hub)}), Duration::from_secs(30));
        // Kubo is a DHT server too: once identify ran both ways it is in the hub's table, and
        // the hub (a server) in Kubo's.
        wait_until(Duration::from_secs(30), "Kubo in the hub's LAN table", || lan_table(&hub).contains(&kubo.id));

        let bytes = data(2_000_000, 11);
        let f = work.path().join("f");
        std::fs::write(&f, &bytes).expect("write");
        let cid = kubo.add(&f);
        wait_until(Duration::from_secs(60), "Kubo's provider record at the hub", || {
            hub.ok(&["routing", "findprovs", &cid]).lines().any(|l| l == kubo.id)
        });

        let fetcher = TestRepo::new();
        let mut fetch_d = Daemon::start(&fetcher, &[]);
        fetcher.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        wait_until(Duration::from_secs(30), "the hub in the fetcher's LAN table", || {
            lan_table(&fetcher).contains(&rubo_id(&hub))
        });
        assert!(!fetcher.ok(&["swarm", "peers"]).contains(&kubo.id), "not connected to Kubo beforehand");
        // findprovs does not dial: the fetcher still has not met Kubo.
        assert_eq!(fetcher.ok(&["routing", "findprovs", &cid]), kubo.id);
        let v: Value = serde_json::from_str(&fetcher.ok(&["routing", "findprovs", "--enc=json", &cid])).expect("json");
        assert_eq!((v["Type"].as_u64(), v["Responses"][0]["ID"].as_str()), (Some(4), Some(kubo.id.as_str())), "{v}");

        let out = fetcher.run(&["cat", &cid]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout == bytes, "fetched {} bytes", out.stdout.len());
        assert!(fetcher.ok(&["swarm", "peers"]).contains(&kubo.id), "connected to the provider");
        kubo.close();
        assert!(fetch_d.stop().success());
        assert!(hub_d.stop().success());
    });
}

#[test]
fn findpeer_and_query_go_through_other_peers() {
    in_netns("findpeer_and_query_go_through_other_peers", || {
        let work = tempfile::tempdir().expect("tmp");
        let hub = TestRepo::new();
        let mut hub_d = Daemon::start(&hub, &[]);
        let target = TestRepo::new();
        let mut target_d = Daemon::start(&target, &[]);
        let asker = TestRepo::new();
        let mut asker_d = Daemon::start(&asker, &[]);
        let mut kubo = Kubo::start(&work.path().join("kubo"));
        let (hub_id, target_id) = (rubo_id(&hub), rubo_id(&target));
        target.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        kubo.call(serde_json::json!({"op": "connect", "addr": rubo_addr(&hub)}), Duration::from_secs(30));
        asker.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        wait_until(Duration::from_secs(30), "target and Kubo in the hub's table", || {
            let t = lan_table(&hub);
            t.contains(&target_id) && t.contains(&kubo.id)
        });
        wait_until(Duration::from_secs(30), "the hub in the asker's table", || lan_table(&asker).contains(&hub_id));
        let peers = asker.ok(&["swarm", "peers"]);
        assert!(!peers.contains(&target_id) && !peers.contains(&kubo.id), "{peers}");

        // findpeer: the target's address, learnt from the hub.
        let target_addr = rubo_addr(&target);
        let want = target_addr.split("/p2p/").next().expect("addr");
        let found = asker.ok(&["routing", "findpeer", &target_id]);
        assert!(found.lines().any(|l| l == want), "{found} lacks {want}");
        // Kubo, found the same way.
        let kubo_addr = kubo.addrs.iter().find(|a| a.contains("/tcp/")).expect("tcp").clone();
        let found = asker.ok(&["routing", "findpeer", &kubo.id]);
        assert!(found.lines().any(|l| kubo_addr.starts_with(l)), "{found} lacks {kubo_addr}");
        // Kubo's errors: ourselves, and a peer nobody knows.
        let e = asker.fails(&["routing", "findpeer", &rubo_id(&asker)]);
        assert!(e.contains("found self"), "{e}");
        let nobody = "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq";
        let e = asker.fails(&["routing", "findpeer", nobody]);
        assert!(e.contains("routing: not found"), "{e}");

        // dht query: the closest peers to a key, the hub's table among them.
        let q = asker.ok(&["dht", "query", nobody]);
        for id in [&hub_id, &target_id, &kubo.id] {
            assert!(q.lines().any(|l| l == id.as_str()), "{q} lacks {id}");
        }
        kubo.close();
        for d in [&mut asker_d, &mut target_d, &mut hub_d] {
            assert!(d.stop().success());
        }
    });
}

#[test]
fn dht_commands_follow_kubo_offline_and_without_a_dht() {
    in_netns("dht_commands_follow_kubo_offline_and_without_a_dht", || {
        let r = TestRepo::new();
        let work = tempfile::tempdir().expect("tmp");
        let f = work.path().join("f");
        std::fs::write(&f, b"provide me").expect("write");
        let cid = r.ok(&["add", "-Q", f.to_str().expect("utf-8")]);
        let e = r.fails(&["routing", "provide", &cid]);
        assert!(e.contains("online mode"), "{e}");
        r.ok(&["config", "Routing.Type", "none"]);
        let mut d = Daemon::start(&r, &[]);
        let e = r.fails(&["dht", "query", "12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq"]);
        assert!(e.contains("routing service is not a DHT"), "{e}");
        let e = r.fails(&["routing", "provide", &cid]);
        assert!(e.contains("routing service is not a DHT"), "{e}");
        assert!(d.stop().success());

        r.ok(&["config", "Routing.Type", "dht"]);
        let mut d = Daemon::start(&r, &[]);
        let e = r.fails(&["routing", "provide", &cid]);
        assert!(e.contains("cannot provide, no connected peers"), "{e}");
        let e = r.fails(&["routing", "provide", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"]);
        assert!(e.contains("no connected peers") || e.contains("not found locally"), "{e}");
        let e = r.fails(&["stats", "dht", "mars"]);
        assert!(e.contains("wan or lan"), "{e}");
        assert!(d.stop().success());
    });
}

const LAN: &str = "/ipfs/lan/kad/1.0.0";

#[test]
fn helia_and_rubo_find_each_others_content_through_the_dht() {
    in_netns("helia_and_rubo_find_each_others_content_through_the_dht", || {
        let work = tempfile::tempdir().expect("tmp");
        let hub = TestRepo::new();
        let mut hub_d = Daemon::start(&hub, &[]);
        let other = TestRepo::new();
        let mut other_d = Daemon::start(&other, &[]);
        other.ok(&["swarm", "connect", &rubo_addr(&hub)]);

        // rubo provides; Helia, joining later, finds the record at the hub and fetches from the
        // provider. (Joined earlier, the provider's own lookups would have met Helia.)
        let provider = TestRepo::new();
        dht_client(&provider);
        let mut prov_d = Daemon::start(&provider, &[]);
        let prov_id = rubo_id(&provider);
        provider.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        wait_until(Duration::from_secs(30), "the hub in the provider's LAN table", || {
            lan_table(&provider).contains(&rubo_id(&hub))
        });
        let bytes = data(1_200_000, 21);
        let f = work.path().join("f");
        std::fs::write(&f, &bytes).expect("write");
        let cid = provider.ok(&["add", "-Q", "--cid-version=1", f.to_str().expect("utf-8")]);
        wait_until(Duration::from_secs(60), "the provider record at the hub", || {
            hub.ok(&["routing", "findprovs", &cid]).lines().any(|l| l == prov_id)
        });
        let mut helia = Helia::start_with(&["--dht-protocol", LAN]);
        helia.call(serde_json::json!({"op": "connect", "addr": rubo_addr(&hub)}), Duration::from_secs(30));
        wait_until(Duration::from_secs(30), "Helia in the hub's LAN table", || lan_table(&hub).contains(&helia.id));
        assert!(!helia.peers().contains(&prov_id), "Helia does not know the provider beforehand");
        let v = helia.call(serde_json::json!({"op": "findprovs", "cid": cid}), Duration::from_secs(60));
        assert!(
            v["providers"].as_array().is_some_and(|a| a.iter().any(|p| p.as_str() == Some(prov_id.as_str()))),
            "{v}"
        );
        let out = work.path().join("from-rubo");
        helia.call(
            serde_json::json!({"op": "cat", "cid": cid, "out": out, "timeout_ms": 60_000}),
            Duration::from_secs(90),
        );
        assert!(std::fs::read(&out).expect("fetched") == bytes, "Helia fetched the file byte for byte");

        // Helia provides; a rubo that knows only the hub finds Helia and fetches from it.
        let hb = data(900_000, 23);
        let hf = work.path().join("h");
        std::fs::write(&hf, &hb).expect("write");
        let hcid = helia.call(serde_json::json!({"op": "add", "path": hf, "v1": true}), Duration::from_secs(60))["cid"]
            .as_str()
            .expect("cid")
            .to_string();
        helia.call(serde_json::json!({"op": "provide", "cid": hcid}), Duration::from_secs(60));
        let fetcher = TestRepo::new();
        let mut fetch_d = Daemon::start(&fetcher, &[]);
        fetcher.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        wait_until(Duration::from_secs(30), "the hub in the fetcher's LAN table", || {
            lan_table(&fetcher).contains(&rubo_id(&hub))
        });
        assert!(!fetcher.ok(&["swarm", "peers"]).contains(&helia.id), "not connected to Helia beforehand");
        assert_eq!(fetcher.ok(&["routing", "findprovs", &hcid]), helia.id);
        let got = fetcher.run(&["cat", &hcid]);
        assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
        assert!(got.stdout == hb, "fetched {} bytes", got.stdout.len());
        helia.close();
        for d in [&mut fetch_d, &mut prov_d, &mut other_d, &mut hub_d] {
            assert!(d.stop().success());
        }
    });
}

#[test]
fn ipns_records_travel_through_the_dht_and_the_routing_api() {
    in_netns("ipns_records_travel_through_the_dht_and_the_routing_api", || {
        let work = tempfile::tempdir().expect("tmp");
        let hub = TestRepo::new();
        let mut hub_d = Daemon::start(&hub, &[]);
        let publisher = TestRepo::new();
        let mut pub_d = Daemon::start(&publisher, &[]);
        publisher.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        wait_until(Duration::from_secs(30), "the hub in the publisher's LAN table", || {
            lan_table(&publisher).contains(&rubo_id(&hub))
        });

        // Records made by the IPNS library for a key of the test's own.
        let kp = rubo_node::rubo_net::libp2p::identity::Keypair::generate_ed25519();
        let name = rubo_ipns::Name::from_public_key(&kp.public());
        let eol = std::time::SystemTime::now() + Duration::from_secs(3600);
        let record = |kp: &rubo_node::rubo_net::libp2p::identity::Keypair, seq: u64| {
            let r = rubo_ipns::Record::create(
                kp,
                b"/ipfs/bafkqaaa",
                seq,
                eol,
                Duration::from_secs(120),
                Default::default(),
            )
            .expect("record");
            let f = work.path().join(format!("rec-{seq}-{}", r.as_bytes().len()));
            std::fs::write(&f, r.as_bytes()).expect("write");
            (f.to_str().expect("utf-8").to_string(), r.into_bytes())
        };
        let key = format!("/ipns/{name}");
        let (f3, r3) = record(&kp, 3);
        publisher.ok(&["routing", "put", &key, &f3]);

        // The hub took it: `routing get` there returns the same bytes.
        let got = hub.run(&["routing", "get", &key]);
        assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
        assert_eq!(got.stdout, r3);
        // And serves it on /routing/v1, to Helia's delegated routing client too.
        let gw = gateway_socket(&hub);
        let (status, body) = common::daemon::http_get(&gw, &format!("/routing/v1/ipns/{name}"));
        assert_eq!((status, body), (200, r3.clone()));
        let v = helia_routing_client(&hub, "ipns", &name.to_string());
        use base64::Engine as _;
        let helia =
            base64::engine::general_purpose::STANDARD.decode(v["record"].as_str().expect("record")).expect("b64");
        assert_eq!(helia, r3, "{v}");

        // An older record is refused with Kubo's words, a forged one as invalid.
        let (f2, _) = record(&kp, 2);
        let e = publisher.fails(&["routing", "put", &key, &f2]);
        assert!(e.contains("can't replace a newer value with an older value"), "{e}");
        let other = rubo_node::rubo_net::libp2p::identity::Keypair::generate_ed25519();
        let (forged, _) = record(&other, 9);
        let e = publisher.fails(&["routing", "put", &key, &forged]);
        assert!(e.contains("invalid IPNS record"), "{e}");
        let e = publisher.fails(&["routing", "get", "/ipfs/bafkqaaa"]);
        assert!(e.contains("only /ipns/ and /pk/"), "{e}");
        assert!(pub_d.stop().success());
        assert!(hub_d.stop().success());
    });
}
