//! What a node announces, and when (Kubo's `Provide.Strategy`, `add --fast-provide-*`,
//! `provide clear`): rubo daemons on loopback inside a private network namespace. A daemon is
//! the DHT server (the hub) that takes the provider records; the provider is a DHT client
//! connected to it, so only its records lead to it, and `routing findprovs` on the hub shows
//! what it announced.

mod common;

use std::time::{Duration, Instant};

use common::TestRepo;
use common::daemon::Daemon;
use common::peers::in_netns;
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

fn id_json(r: &TestRepo) -> Value {
    serde_json::from_str(&r.ok(&["id"])).expect("id json")
}

/// The daemon's loopback TCP address with its peer id.
fn rubo_addr(r: &TestRepo) -> String {
    id_json(r)["Addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|a| a.contains("/tcp/") && a.contains("127.0.0.1"))
        .expect("a loopback tcp address")
        .to_string()
}

fn rubo_id(r: &TestRepo) -> String {
    id_json(r)["ID"].as_str().expect("ID").to_string()
}

/// Peer ids in the LAN routing table.
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

/// The peers the hub's DHT names as providers of `cid`.
fn providers(hub: &TestRepo, cid: &str) -> Vec<String> {
    hub.ok(&["routing", "findprovs", cid]).lines().map(String::from).collect()
}

/// `provide stat --enc=json`.
fn stat(r: &TestRepo) -> Value {
    serde_json::from_str(&r.ok(&["provide", "stat", "--enc=json"])).expect("provide stat json")
}

/// Everything queued was announced (or failed), nothing in flight.
fn drained(r: &TestRepo) -> bool {
    let s = stat(r);
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    n("InFlight") == 0 && n("Queued") == n("Provided") + n("Failed")
}

/// A hub (DHT server) and a provider (DHT client, `Provide.Strategy` = `strategy`) connected
/// to it, the hub in the provider's routing table.
struct Pair {
    hub: TestRepo,
    _hub_d: Daemon,
    prov: TestRepo,
    _prov_d: Daemon,
    prov_id: String,
    work: tempfile::TempDir,
}

impl Pair {
    fn start(strategy: &str) -> Self {
        let hub = TestRepo::new();
        let hub_d = Daemon::start(&hub, &[]);
        let prov = TestRepo::new();
        prov.ok(&["config", "Routing.Type", "dhtclient"]);
        prov.ok(&["config", "Provide.Strategy", strategy]);
        // No reprovide (Kubo's Interval=0 with Provide.Enabled set): its first run, right after
        // start, would race the tests' own announcements in the counters.
        prov.ok(&["config", "--json", "Provide.Enabled", "true"]);
        prov.ok(&["config", "Provide.DHT.Interval", "0"]);
        let prov_d = Daemon::start(&prov, &[]);
        prov.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        let hub_id = rubo_id(&hub);
        wait_until(Duration::from_secs(30), "the hub in the provider's LAN table", || {
            lan_table(&prov).contains(&hub_id)
        });
        let prov_id = rubo_id(&prov);
        Self { hub, _hub_d: hub_d, prov, _prov_d: prov_d, prov_id, work: tempfile::tempdir().expect("tmp") }
    }

    /// A file of three 1000-byte chunks: its root and its first chunk.
    fn file(&self, seed: u32, add_args: &[&str]) -> (String, String) {
        let f = self.work.path().join(format!("f{seed}"));
        std::fs::write(&f, data(3000, seed)).expect("write");
        let path = f.to_str().expect("utf-8");
        let root = self.prov.ok(&[&["add", "-Q", "--chunker=size-1000"], add_args, &[path]].concat());
        let refs = self.prov.ok(&["refs", &root]);
        let child = refs.lines().next().expect("the file has chunks").to_string();
        (root, child)
    }

    fn found(&self, cid: &str) -> bool {
        providers(&self.hub, cid).contains(&self.prov_id)
    }
}

#[test]
fn roots_strategy_announces_a_pins_root_but_not_its_blocks() {
    in_netns("roots_strategy_announces_a_pins_root_but_not_its_blocks", || {
        let p = Pair::start("roots");
        assert_eq!(stat(&p.prov)["Strategy"], "roots");
        // Not pinned: `roots` announces nothing of it (no fast provide either: not a pin root).
        let (root, child) = p.file(1, &["--pin=false"]);
        // The pin is what is announced, through the provide queue (no fast provide here).
        p.prov.ok(&["pin", "add", "--fast-provide-root=false", &root]);
        wait_until(Duration::from_secs(30), "the pin's root at the hub", || p.found(&root));
        wait_until(Duration::from_secs(30), "the provider's queue drained", || drained(&p.prov));
        assert!(!p.found(&child), "a block under the pin is not announced with `roots`");
        assert_eq!(stat(&p.prov)["Provided"], 1, "the root alone was announced");
    });
}

#[test]
fn fast_provide_root_makes_an_added_root_findable_at_once() {
    in_netns("fast_provide_root_makes_an_added_root_findable_at_once", || {
        // `pinned`: what `add` pins is announced at the next reprovide, unless fast-provided.
        let p = Pair::start("pinned");
        let (quiet, _) = p.file(2, &["--fast-provide-root=false"]);
        // --fast-provide-wait: the announcement is done when `add` returns.
        let (root, child) = p.file(3, &["--fast-provide-root", "--fast-provide-wait"]);
        wait_until(Duration::from_secs(5), "the fast-provided root at the hub", || p.found(&root));
        assert!(!p.found(&quiet), "without --fast-provide-root the root waits for the reprovide");
        assert!(!p.found(&child), "only the root is fast-provided");
        // Fast provides bypass the queue: nothing went through it.
        assert_eq!(stat(&p.prov)["Queued"], 0);

        // --fast-provide-dag queues the whole DAG as `pinned` walks it.
        let (root2, child2) = p.file(4, &["--fast-provide-dag", "--fast-provide-wait"]);
        wait_until(Duration::from_secs(30), "a chunk of the fast-provided DAG at the hub", || p.found(&child2));
        wait_until(Duration::from_secs(30), "the DAG's root at the hub", || p.found(&root2));
        assert_eq!(stat(&p.prov)["Queued"], 4, "the root and its three chunks");
    });
}

#[test]
fn provide_clear_reports_how_many_it_removed() {
    in_netns("provide_clear_reports_how_many_it_removed", || {
        // Offline: no provider, an empty queue.
        let r = TestRepo::new();
        assert_eq!(r.ok(&["provide", "clear"]), "removed 0 items from provide queue");
        assert_eq!(r.ok(&["provide", "clear", "--enc=json"]), "0");
        assert_eq!(r.ok(&["provide", "clear", "-q"]), "");

        // A daemon that provides; its strategy in Kubo's words, whatever order the config has.
        r.ok(&["config", "Provide.Strategy", "mfs+pinned+unique"]);
        let _d = Daemon::start(&r, &[]);
        assert_eq!(stat(&r)["Strategy"], "pinned+mfs+unique", "Kubo's names");
        let out = r.ok(&["provide", "clear"]);
        let n = out
            .strip_prefix("removed ")
            .and_then(|s| s.strip_suffix(" items from provide queue"))
            .and_then(|n| n.parse::<u64>().ok());
        assert!(n.is_some(), "{out:?}");
        let json = r.ok(&["provide", "clear", "--enc=json"]);
        assert!(json.parse::<u64>().is_ok(), "a bare count: {json:?}");
        assert_eq!(r.ok(&["provide", "clear", "--quiet"]), "");
    });
}

#[test]
fn a_strategy_kubo_refuses_keeps_the_daemon_from_starting() {
    in_netns("a_strategy_kubo_refuses_keeps_the_daemon_from_starting", || {
        let r = TestRepo::new();
        r.ok(&["config", "Provide.Strategy", "all+pinned"]);
        let out = r.run(&["daemon"]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(
                r#"Provide.Strategy: "all" strategy cannot be combined with other strategies in "all+pinned""#
            ),
            "{err}"
        );
    });
}

#[test]
fn the_sweeping_reprovider_announces_what_was_added_offline() {
    in_netns("the_sweeping_reprovider_announces_what_was_added_offline", || {
        let hub = TestRepo::new();
        let _hub_d = Daemon::start(&hub, &[]);
        let prov = TestRepo::new();
        prov.ok(&["config", "Routing.Type", "dhtclient"]);
        // Added with no daemon: nothing queued it, only a reprovide can announce it.
        let work = tempfile::tempdir().expect("tmp");
        let f = work.path().join("f");
        std::fs::write(&f, data(3000, 9)).expect("write");
        let root = prov.ok(&["add", "-Q", "--chunker=size-1000", f.to_str().expect("utf-8")]);
        let blocks = 1 + prov.ok(&["refs", &root]).lines().count() as u64;
        let _prov_d = Daemon::start(&prov, &[]);
        prov.ok(&["swarm", "connect", &rubo_addr(&hub)]);
        let hub_id = rubo_id(&hub);
        wait_until(Duration::from_secs(30), "the hub in the provider's LAN table", || {
            lan_table(&prov).contains(&hub_id)
        });
        let prov_id = rubo_id(&prov);
        // The run at start found nobody to send to; this one does.
        prov.ok(&["bitswap", "reprovide"]);
        wait_until(Duration::from_secs(60), "the offline-added root at the hub", || {
            providers(&hub, &root).contains(&prov_id)
        });
        let s = stat(&prov);
        let sweep = &s["Sweep"];
        let n = |k: &str| sweep[k].as_u64().unwrap_or(0);
        assert!(n("Keys") >= blocks, "the keystore holds every block: {s}");
        assert!(n("KeysSent") >= blocks, "{s}");
        assert!(n("Lookups") >= 1 && n("Lookups") < n("KeysSent"), "fewer lookups than keys: {s}");
        assert!(n("Messages") >= blocks, "each key went to the hub at least: {s}");
    });
}
