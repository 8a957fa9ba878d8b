//! Kubo's own RPC clients drive a real `rubo daemon`: kubo-rpc-client (JS)
//! and ipfshttpclient (Python) run `interop/rpc_client.{mjs,py}` against the
//! daemon's API port, and what they get must equal what the `rubo` CLI prints
//! for the same request on the same node (and Kubo's CIDs for adds).

mod common;

use std::process::Command;

use common::TestRepo;
use common::daemon::Daemon;
use common::peers::{in_netns, node_binary};
use serde_json::{Value, json};

const PLANETS: &str = "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY";
const MARS: &str = "QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN";
const VENUS: &str = "QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4";
/// Kubo's CID for `hello world` (ipfs add, defaults).
const HELLO: &str = "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD";

fn interop_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop")
}

fn run_script(mut cmd: Command) -> Value {
    let out = cmd.output().expect("run the client script");
    assert!(out.status.success(), "client script failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn cli_json(r: &TestRepo, args: &[&str]) -> Value {
    let args = [args, &["--enc=json"]].concat();
    serde_json::from_str(&r.ok(&args)).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// The API's port, from the daemon's `api` file (`/ip4/127.0.0.1/tcp/N`).
fn api_port(d: &Daemon) -> String {
    d.api.trim().rsplit('/').next().expect("port").to_string()
}

/// A second daemon to connect to, and its address with /p2p/.
fn peer_addr(r: &TestRepo) -> (String, String) {
    let id = cli_json(r, &["id"]);
    let pid = id["ID"].as_str().expect("ID").to_string();
    let addr = id["Addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|a| a.contains("/tcp/") && a.contains("127.0.0.1"))
        .expect("tcp address")
        .to_string();
    (pid, addr)
}

/// What both clients did that the CLI can answer the same way.
fn common_checks(r: &Value, repo: &TestRepo, peer: &str) {
    assert_eq!(r["version"], cli_json(repo, &["version"])["Version"], "{r}");
    assert_eq!(r["id"], cli_json(repo, &["id"])["ID"], "{r}");
    assert_eq!(r["add_bytes"], json!(HELLO), "{r}");
    let cat = repo.run(&["cat", MARS]);
    assert_eq!(r["cat"], json!(String::from_utf8_lossy(&cat.stdout)), "{r}");
    assert_eq!(r["block_get"], json!("abc"), "{r}");
    assert_eq!(r["files_read"], json!("hello mfs"), "{r}");
    assert!(r["swarm_peers"].as_array().expect("swarm peers").contains(&json!(peer)), "{r}");
    assert!(repo.ok(&["swarm", "peers"]).contains(peer));
}

#[test]
fn kubo_rpc_client_js_against_the_daemon() {
    in_netns("kubo_rpc_client_js_against_the_daemon", || {
        let repo = TestRepo::new();
        let other = TestRepo::new();
        let mut d = Daemon::start(&repo, &[]);
        let mut o = Daemon::start(&other, &[]);
        let (pid, addr) = peer_addr(&other);
        let mut cmd = Command::new(node_binary());
        cmd.arg(interop_dir().join("rpc_client.mjs"))
            .arg(format!("http://127.0.0.1:{}", api_port(&d)))
            .env("PEER_ADDR", &addr)
            .current_dir(interop_dir());
        let r = run_script(cmd);
        common_checks(&r, &repo, &pid);
        // Kubo's CID for `hello world` as CIDv1 (raw leaf).
        assert_eq!(r["add_v1"], json!("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"), "{r}");
        let dir: Vec<Value> = r["add_dir"].as_array().expect("add_dir").iter().map(|e| e["cid"].clone()).collect();
        assert_eq!(dir, [json!(MARS), json!(VENUS), json!(PLANETS)], "{r}");
        // ls: the CLI's JSON, as the client reshapes it.
        let ls = cli_json(&repo, &["ls", PLANETS]);
        let want: Vec<Value> = ls["Objects"][0]["Links"]
            .as_array()
            .expect("links")
            .iter()
            .map(|l| json!({"name": l["Name"], "cid": l["Hash"], "size": l["Size"], "type": "file"}))
            .collect();
        assert_eq!(r["ls"], json!(want), "{r}");
        let refs: Vec<String> = repo.ok(&["refs", PLANETS]).lines().map(String::from).collect();
        assert_eq!(r["refs"], json!(refs), "{r}");
        // (The script removed its block since: put it again with the CLI.)
        let key = repo.ok_stdin(&["block", "put"], b"abc");
        assert_eq!(r["block_stat"], json!({"cid": key, "size": 3}), "{r}");
        let dag_cid = r["dag_put"].as_str().expect("dag_put cid");
        assert_eq!(r["dag_get"], serde_json::from_str::<Value>(&repo.ok(&["dag", "get", dag_cid])).expect("json"));
        assert_eq!(r["dag_import"], json!([PLANETS]), "{r}");
        assert_eq!(r["config_get_set"], json!(91));
        assert_eq!(repo.ok(&["config", "Datastore.StorageGCWatermark"]), "91");
        let keys: Vec<String> = {
            let mut k: Vec<String> =
                cli_json(&repo, &["config", "show"]).as_object().expect("config").keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(r["config_all"], json!(keys));
        assert_eq!(r["repo_stat"]["repoPath"], cli_json(&repo, &["repo", "stat"])["RepoPath"], "{r}");
        assert!(o.stop().success());
        assert!(d.stop().success());
    });
}

#[test]
fn ipfshttpclient_against_the_daemon() {
    in_netns("ipfshttpclient_against_the_daemon", || {
        let repo = TestRepo::new();
        let other = TestRepo::new();
        let mut d = Daemon::start(&repo, &[]);
        let mut o = Daemon::start(&other, &[]);
        let (pid, addr) = peer_addr(&other);
        let work = tempfile::tempdir().expect("tmp");
        let mut cmd = Command::new("python3");
        cmd.args(["-W", "ignore"])
            .arg(interop_dir().join("rpc_client.py"))
            .arg(format!("/ip4/127.0.0.1/tcp/{}/http", api_port(&d)))
            .arg(work.path())
            .env("PEER_ADDR", &addr)
            .env("PYTHONPATH", interop_dir().join("pylib"));
        let r = run_script(cmd);
        common_checks(&r, &repo, &pid);
        assert_eq!(r["add_dir"][2], json!({"Name": "planets", "Hash": PLANETS, "Size": "146"}), "{r}");
        assert_eq!(r["get"], json!({"mars.txt": "Hello Mars!\n", "venus.txt": "Hello Venus!\n"}));
        // The JSON the client got is the JSON the CLI prints.
        assert_eq!(r["ls"], cli_json(&repo, &["ls", PLANETS]), "{r}");
        let key = r["block_put"]["Key"].as_str().expect("key");
        assert_eq!(r["block_stat"], cli_json(&repo, &["block", "stat", key]), "{r}");
        let dag_cid = r["dag_put"]["Cid"]["/"].as_str().expect("dag cid");
        assert_eq!(r["dag_get"], serde_json::from_str::<Value>(&repo.ok(&["dag", "get", dag_cid])).expect("json"));
        assert_eq!(r["config_set"], json!({"Key": "Datastore.StorageMax", "Value": "20GB"}));
        assert_eq!(repo.ok(&["config", "Datastore.StorageMax"]), "20GB");
        assert_eq!(r["repo_stat"]["RepoPath"], cli_json(&repo, &["repo", "stat"])["RepoPath"], "{r}");
        // Kubo's answer, `{"Strings": ["connect <peer> success"]}` (as a one-item list, raw).
        let sc = if r["swarm_connect"].is_array() { &r["swarm_connect"][0] } else { &r["swarm_connect"] };
        assert_eq!(sc["Strings"][0], json!(format!("connect {pid} success")), "{r}");
        assert!(o.stop().success());
        assert!(d.stop().success());
    });
}
