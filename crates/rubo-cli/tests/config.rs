//! `rubo init`, `config`, `id`, `version`, `repo stat|version`.

mod common;

use common::TestRepo;
use serde_json::{Value, json};

#[test]
fn init_writes_kubo_shaped_config() {
    let r = TestRepo::uninit();
    let out = r.ok(&["init", "--profile", "test"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "generating ED25519 keypair...done");
    assert!(lines[1].starts_with("peer identity: 12D3KooW"), "{out}");
    assert_eq!(lines[2], format!("initializing rubo node at {}", r.path().display()));
    let text = std::fs::read_to_string(r.path().join("config")).unwrap();
    let cfg: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(cfg["Identity"]["PeerID"].as_str(), lines[1].strip_prefix("peer identity: "));
    // The test profile: loopback only, no bootstrap, no mDNS.
    assert_eq!(cfg["Addresses"]["Swarm"], json!(["/ip4/127.0.0.1/tcp/0"]));
    assert_eq!(cfg["Addresses"]["API"], json!("/ip4/127.0.0.1/tcp/0"));
    assert_eq!(cfg["Bootstrap"], json!([]));
    assert_eq!(cfg["Discovery"]["MDNS"]["Enabled"], json!(false));
    // Kubo's layout on disk.
    let p = r.path();
    assert_eq!(std::fs::read_to_string(p.join("blocks/SHARDING")).unwrap(), "/repo/flatfs/shard/v1/next-to-last/2\n");
    assert!(p.join("keystore").is_dir());
    assert_eq!(std::fs::read_to_string(p.join("version")).unwrap(), "1\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(p.join("config")).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(p.join("keystore")).unwrap().permissions().mode() & 0o777, 0o700);
    // Kubo's empty-directory block is stored, under Kubo's file name.
    assert!(p.join("blocks/X3/CIQFTFEEHEDF6KLBT32BFAGLXEZL4UWFNWM4LFTLMXQBCERZ6CMLX3Y.data").exists());
}

#[test]
fn config_get_set_show() {
    let r = TestRepo::new();
    assert_eq!(r.ok(&["config", "Addresses.API"]), "/ip4/127.0.0.1/tcp/0");
    assert_eq!(r.ok(&["config", "Bootstrap"]), "[]");
    assert_eq!(r.ok(&["config", "Datastore.StorageGCWatermark"]), "90");
    assert_eq!(r.fails(&["config", "Foo"]), "Error: failed to get config value: \"Foo not found\"\n");
    assert_eq!(
        r.fails(&["config", "Addresses.API.x"]),
        "Error: failed to get config value: \"Addresses.API key is not a map\"\n"
    );
    assert_eq!(r.fails(&["config", "Identity.PrivKey"]), "Error: cannot show or change private key through API\n");
    assert_eq!(r.fails(&["config", "identity"]), "Error: cannot show or change private key through API\n");
    // Set: string, --bool, --json; output is silent.
    assert_eq!(r.ok(&["config", "Datastore.GCPeriod", "2h"]), "");
    assert_eq!(r.ok(&["config", "Datastore.GCPeriod"]), "2h");
    r.ok(&["config", "--bool", "Discovery.MDNS.Enabled", "true"]);
    assert_eq!(r.ok(&["config", "Discovery.MDNS.Enabled"]), "true");
    r.ok(&["config", "--json", "Datastore.StorageGCWatermark", "75"]);
    assert_eq!(r.ok(&["config", "Datastore.StorageGCWatermark"]), "75");
    r.ok(&["config", "--json", "Routing.Routers.Test", r#"{"Type":"http"}"#]);
    assert_eq!(r.ok(&["config", "Routing.Routers.Test.Type"]), "http");
    // Type and key errors leave the file as it was.
    let e = r.fails(&["config", "Discovery.MDNS.Enabled", "yes"]);
    assert!(e.contains("failed to set config value") && e.contains("(maybe use --json?)"), "{e}");
    let e = r.fails(&["config", "Nope.Key", "1"]);
    assert_eq!(e, "Error: failed to set config value: Nope not found (maybe use --json?)\n");
    let e = r.fails(&["config", "--json", "Datastore.StorageGCWatermark", "{"]);
    assert!(e.contains("failed to unmarshal json"), "{e}");
    assert_eq!(r.ok(&["config", "Discovery.MDNS.Enabled"]), "true");
    // show: sorted keys, no private key.
    let shown: Value = serde_json::from_str(&r.ok(&["config", "show"])).unwrap();
    assert!(shown["Identity"].get("PrivKey").is_none());
    let keys: Vec<&String> = shown.as_object().unwrap().keys().collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    // JSON API shape for get.
    let v: Value = serde_json::from_str(&r.ok(&["config", "Addresses.API", "--enc=json"])).unwrap();
    assert_eq!(v, json!({"Key": "Addresses.API", "Value": "/ip4/127.0.0.1/tcp/0"}));
}

#[test]
fn config_replace_keeps_identity() {
    let r = TestRepo::new();
    let peer = r.ok(&["config", "Identity.PeerID"]);
    let shown = r.ok(&["config", "show"]);
    let mut doc: Value = serde_json::from_str(&shown).unwrap();
    doc["Datastore"]["GCPeriod"] = json!("3h");
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("cfg.json");
    std::fs::write(&f, serde_json::to_vec(&doc).unwrap()).unwrap();
    r.ok(&["config", "replace", f.to_str().unwrap()]);
    assert_eq!(r.ok(&["config", "Datastore.GCPeriod"]), "3h");
    assert_eq!(r.ok(&["config", "Identity.PeerID"]), peer);
    // The node still opens with its key.
    assert_eq!(serde_json::from_str::<Value>(&r.ok(&["id", "--enc=json"])).unwrap()["ID"], json!(peer));
    // A private key in the new config is refused.
    doc["Identity"]["PrivKey"] = json!("CAESQ");
    std::fs::write(&f, serde_json::to_vec(&doc).unwrap()).unwrap();
    let e = r.fails(&["config", "replace", f.to_str().unwrap()]);
    assert_eq!(e, "Error: setting private key with API is not supported\n");
    std::fs::write(&f, b"not json").unwrap();
    assert_eq!(r.fails(&["config", "replace", f.to_str().unwrap()]), "Error: failed to decode file as config\n");
    // A config that could not open this repo is refused, and the repo still
    // works: no datastore spec at all, or another layout than the one on disk.
    std::fs::write(&f, b"{}").unwrap();
    let e = r.fails(&["config", "replace", f.to_str().unwrap()]);
    assert!(e.contains("Datastore.Spec"), "{e}");
    doc["Identity"]["PrivKey"] = json!("");
    doc["Datastore"]["Spec"]["mounts"][0]["shardFunc"] = json!("/repo/flatfs/shard/v1/prefix/2");
    std::fs::write(&f, serde_json::to_vec(&doc).unwrap()).unwrap();
    let e = r.fails(&["config", "replace", f.to_str().unwrap()]);
    assert!(e.contains("does not match"), "{e}");
    let e = r.fails(&["config", "Datastore.Spec.mounts", "[]", "--json"]);
    assert!(e.contains("mount"), "{e}");
    assert_eq!(r.ok(&["config", "Datastore.GCPeriod"]), "3h");
    assert_eq!(r.ok(&["config", "Identity.PeerID"]), peer);
}

#[test]
fn profiles() {
    let r = TestRepo::new();
    let out = r.ok(&["config", "profile", "apply", "server", "--dry-run"]);
    assert!(out.contains("+ Swarm.AddrFilters"), "{out}");
    assert_eq!(r.ok(&["config", "Swarm.AddrFilters"]), "null");
    r.ok(&["config", "profile", "apply", "server"]);
    let filters: Value = serde_json::from_str(&r.ok(&["config", "Swarm.AddrFilters"])).unwrap();
    assert_eq!(filters.as_array().unwrap().len(), 19);
    assert_eq!(r.fails(&["config", "profile", "apply", "nope"]), "Error: nope is not a profile\n");
    let e = r.fails(&["config", "profile", "apply", "pebbleds"]);
    assert!(e.contains("does not support the pebbleds datastore"), "{e}");
    r.ok(&["config", "profile", "apply", "unixfs-v1-2025"]);
    assert_eq!(r.ok(&["config", "Import.CidVersion"]), "1");
    let list = r.ok(&["config", "profile"]);
    assert!(list.contains("'test':") && list.contains("'server':"), "{list}");
}

#[test]
fn id_and_versions() {
    let r = TestRepo::new();
    let peer = r.ok(&["config", "Identity.PeerID"]);
    let text = r.ok(&["id"]);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["ID"], json!(peer));
    assert_eq!(v["Addresses"], Value::Null);
    assert!(v["AgentVersion"].as_str().unwrap().starts_with("rubo/"));
    assert_eq!(r.ok(&["id", "-f", "<id>\\n"]), peer);
    // base36 form of the peer ID, as a libp2p-key CIDv1.
    let k = r.ok(&["id", "-f", "<id>", "--peerid-base", "base36"]);
    assert!(k.starts_with("k51qzi5uqu5d"), "{k}");
    assert!(r.ok(&["version"]).starts_with("rubo version 0."));
    assert_eq!(r.ok(&["version", "--repo"]), "1");
    assert_eq!(r.ok(&["repo", "version"]), "rubo repo version rubo-repo@1");
    assert_eq!(r.ok(&["repo", "version", "-q"]), "rubo-repo@1");
    let stat: Value = serde_json::from_str(&r.ok(&["repo", "stat", "--enc=json"])).unwrap();
    assert_eq!(stat["NumObjects"], json!(1));
    assert_eq!(stat["StorageMax"], json!(10_000_000_000u64));
    assert_eq!(stat["Version"], json!("rubo-repo@1"));
    let human = r.ok(&["repo", "stat", "--size-only", "--human"]);
    assert!(human.contains("StorageMax: 10 GB"), "{human}");
}
