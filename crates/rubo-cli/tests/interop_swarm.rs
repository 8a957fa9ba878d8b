//! rubo's daemon on libp2p with the real implementations, inside a private
//! network namespace: connections both ways with Kubo v0.22 (RSA identity,
//! go-libp2p 0.29) and Helia 7 (Ed25519, js-libp2p 3), each side listing the
//! other, identify's agent versions, ping; QUIC between two rubos.

mod common;

use std::time::{Duration, Instant};

use common::TestRepo;
use common::daemon::Daemon;
use common::peers::{Helia, Kubo, in_netns};
use serde_json::json;

/// Polls `cond` until it holds; `limit` is an upper bound, not a delay.
fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn peers_of(r: &TestRepo) -> String {
    r.ok(&["swarm", "peers"])
}

/// The daemon's TCP address with its peer id, from `rubo id`.
fn rubo_addr(r: &TestRepo, proto: &str) -> String {
    let id: serde_json::Value = serde_json::from_str(&r.ok(&["id"])).expect("id json");
    id["Addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str())
        .find(|a| a.contains(proto))
        .unwrap_or_else(|| panic!("no {proto} address in {id}"))
        .to_string()
}

#[test]
fn kubo_connects_both_ways() {
    in_netns("kubo_connects_both_ways", || {
        let r = TestRepo::new();
        let mut d = Daemon::start(&r, &[]);
        let me = d.peer_id();
        let work = tempfile::tempdir().unwrap();
        let mut kubo = Kubo::start(&work.path().join("kubo"));
        assert!(kubo.id.starts_with("Qm"), "Kubo v0.22 has an RSA identity: {}", kubo.id);

        // rubo -> Kubo.
        let addr = kubo.addrs.iter().find(|a| a.contains("/tcp/")).expect("kubo tcp addr").clone();
        assert_eq!(r.ok(&["swarm", "connect", &addr]), format!("connect {} success", kubo.id));
        assert!(peers_of(&r).contains(&kubo.id));
        wait_until(Duration::from_secs(30), "Kubo to list rubo", || kubo.peers().contains(&me));
        // Identify: Kubo's agent as rubo learned it.
        let id: serde_json::Value = serde_json::from_str(&r.ok(&["id", &kubo.id])).unwrap();
        assert!(id["AgentVersion"].as_str().unwrap_or_default().starts_with("kubo/0.22"), "{id}");
        assert!(id["Protocols"].as_array().unwrap().iter().any(|p| p == "/ipfs/bitswap/1.2.0"), "{id}");
        // Ping: three echoes and an average.
        let ping = r.ok(&["ping", "-n", "3", &kubo.id]);
        assert_eq!(ping.lines().filter(|l| l.starts_with("Pong received: time=")).count(), 3, "{ping}");
        assert!(ping.lines().last().unwrap_or_default().starts_with("Average latency: "), "{ping}");
        // --enc=json peers carry the verbose fields.
        let v: serde_json::Value = serde_json::from_str(&r.ok(&["swarm", "peers", "-v", "--enc=json"])).unwrap();
        let p = &v["Peers"][0];
        assert_eq!((p["Peer"].as_str(), p["Direction"].as_u64()), (Some(kubo.id.as_str()), Some(2)), "{v}");
        assert!(p["Identify"]["AgentVersion"].as_str().unwrap_or_default().starts_with("kubo/"), "{v}");

        assert_eq!(r.ok(&["swarm", "disconnect", &addr]), format!("disconnect {} success", kubo.id));
        wait_until(Duration::from_secs(30), "the disconnect", || !peers_of(&r).contains(&kubo.id));

        // Kubo -> rubo.
        kubo.call(json!({"op": "connect", "addr": rubo_addr(&r, "/tcp/")}), Duration::from_secs(30));
        wait_until(Duration::from_secs(30), "rubo to list Kubo", || peers_of(&r).contains(&kubo.id));
        let v: serde_json::Value =
            serde_json::from_str(&r.ok(&["swarm", "peers", "--direction", "--enc=json"])).unwrap();
        assert_eq!(v["Peers"][0]["Direction"], json!(1), "inbound: {v}");
        kubo.close();
        assert!(d.stop().success());
    });
}

#[test]
fn helia_connects_both_ways() {
    in_netns("helia_connects_both_ways", || {
        let r = TestRepo::new();
        let mut d = Daemon::start(&r, &[]);
        let me = d.peer_id();
        let mut helia = Helia::start();
        assert!(helia.id.starts_with("12D3KooW"), "Helia has an Ed25519 identity: {}", helia.id);

        // rubo -> Helia.
        assert_eq!(r.ok(&["swarm", "connect", &helia.addrs[0]]), format!("connect {} success", helia.id));
        wait_until(Duration::from_secs(30), "Helia to list rubo", || helia.peers().contains(&me));
        // Identify both ways: Helia learned rubo's agent, rubo Helia's.
        wait_until(Duration::from_secs(30), "Helia's identify of rubo", || {
            let info = helia.peer.try_call(json!({"op": "peerinfo", "peer": me}), Duration::from_secs(30));
            info["agent"].as_str().is_some_and(|a| a.starts_with("rubo/"))
        });
        let id: serde_json::Value = serde_json::from_str(&r.ok(&["id", &helia.id])).unwrap();
        assert!(id["AgentVersion"].as_str().unwrap_or_default().contains("js-libp2p"), "{id}");
        // Ping both ways.
        let ping = r.ok(&["ping", "-n", "2", &helia.id]);
        assert_eq!(ping.lines().filter(|l| l.starts_with("Pong received")).count(), 2, "{ping}");
        let v = helia.call(json!({"op": "ping", "peer": me}), Duration::from_secs(30));
        assert!(v["ms"].as_f64().is_some(), "{v}");

        r.ok(&["swarm", "disconnect", &format!("/p2p/{}", helia.id)]);
        wait_until(Duration::from_secs(30), "the disconnect", || !peers_of(&r).contains(&helia.id));

        // Helia -> rubo.
        helia.call(json!({"op": "connect", "addr": rubo_addr(&r, "/tcp/")}), Duration::from_secs(30));
        wait_until(Duration::from_secs(30), "rubo to list Helia", || peers_of(&r).contains(&helia.id));
        helia.close();
        assert!(d.stop().success());
    });
}

#[test]
fn two_rubos_over_quic() {
    in_netns("two_rubos_over_quic", || {
        let quic_only = |r: &TestRepo| {
            r.ok(&["config", "--json", "Addresses.Swarm", r#"["/ip4/127.0.0.1/udp/0/quic-v1"]"#]);
        };
        let (a, b) = (TestRepo::new(), TestRepo::new());
        quic_only(&a);
        quic_only(&b);
        let mut da = Daemon::start(&a, &[]);
        let mut db = Daemon::start(&b, &[]);
        assert!(da.output.iter().any(|l| l.ends_with("(UDP)")), "{:?}", da.output);
        let b_addr = rubo_addr(&b, "/quic-v1");
        a.ok(&["swarm", "connect", &b_addr]);
        let peers = peers_of(&a);
        assert!(peers.contains("/udp/") && peers.contains("/quic-v1/p2p/") && peers.contains(&db.peer_id()), "{peers}");
        wait_until(Duration::from_secs(30), "b to list a", || peers_of(&b).contains(&da.peer_id()));
        let id: serde_json::Value = serde_json::from_str(&a.ok(&["id", &db.peer_id()])).unwrap();
        assert_eq!(id["AgentVersion"], json!(format!("rubo/{}", env!("CARGO_PKG_VERSION"))));
        assert!(da.stop().success());
        assert!(db.stop().success());
    });
}
