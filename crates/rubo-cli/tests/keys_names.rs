//! `key` and `name` through the real binary: Kubo's outputs, a key exported
//! and imported again, signatures checked with libp2p directly, and records
//! made by `name publish` read back by `name inspect`.

mod common;

use std::os::unix::fs::PermissionsExt;

use base64::Engine as _;
use common::TestRepo;
use common::daemon::Daemon;
use common::peers::in_netns;
use rubo_node::rubo_net::libp2p::identity::Keypair;
use serde_json::Value;

/// Polls `cond` until it holds; `limit` is an upper bound, not a delay.
fn wait_until(limit: std::time::Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The daemon's peer ID and loopback TCP address, from `rubo id`.
fn id_and_addr(r: &TestRepo) -> (String, String) {
    let id = json(&r.ok(&["id"]));
    let addr = id["Addresses"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .find(|a| a.contains("/tcp/") && a.contains("127.0.0.1"))
        .expect("a loopback tcp address")
        .to_string();
    (id["ID"].as_str().expect("ID").to_string(), addr)
}

/// Peer IDs in the LAN routing table (`stats dht lan`).
fn lan_table(r: &TestRepo) -> Vec<String> {
    let out = r.ok(&["stats", "dht", "lan", "--enc=json"]);
    let v = json(out.lines().next().unwrap_or("{}"));
    v["Buckets"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|b| b["Peers"].as_array().into_iter().flatten())
        .filter_map(|p| p["ID"].as_str().map(String::from))
        .collect()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}): {s}"))
}

/// The multihash bytes of an IPNS name given as a CIDv1 in base36
/// (`k...`), decoded here by hand: base36 big-endian digits, then the CID's
/// version and codec varints (0x01, 0x72 = libp2p-key).
fn base36_cid_multihash(s: &str) -> Vec<u8> {
    let digits = s.strip_prefix('k').expect("base36 multibase prefix");
    let mut n: Vec<u8> = Vec::new(); // big-endian bytes
    for c in digits.chars() {
        let d = c.to_digit(36).expect("base36 digit");
        let mut carry = d;
        for b in n.iter_mut().rev() {
            let v = u32::from(*b) * 36 + carry;
            *b = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            n.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    assert_eq!(&n[..2], &[0x01, 0x72], "a CIDv1 with the libp2p-key codec");
    n[2..].to_vec()
}

#[test]
fn key_gen_ls_rename_rm_export_import_round_trip() {
    let r = TestRepo::new();
    let id = r.ok(&["key", "gen", "k1"]);
    // Ed25519 names print as base36 CIDv1s of libp2p-key: "k51..." (Kubo).
    assert!(id.starts_with("k51"), "{id}");
    let made = json(&r.ok(&["key", "gen", "k2", "--type=secp256k1", "--enc=json"]));
    assert_eq!(made["Name"], "k2");
    assert_ne!(made["Id"].as_str().expect("Id"), id);
    // The same key in base58 (b58mh): the peer ID of the multihash.
    let b58 = json(&r.ok(&["key", "ls", "--ipns-base=b58mh", "--enc=json"]));
    let mh = base36_cid_multihash(&id);
    let want_b58 = rubo_node::rubo_net::libp2p::PeerId::from_bytes(&mh).expect("peer id").to_string();
    assert!(b58["Keys"].as_array().expect("Keys").iter().any(|k| k["Name"] == "k1" && k["Id"] == want_b58), "{b58}");

    // Kubo's errors.
    assert!(r.fails(&["key", "gen", "k1"]).contains("key with name 'k1' already exists"));
    assert!(r.fails(&["key", "gen", "self"]).contains("cannot create key with name 'self'"));
    assert!(r.fails(&["key", "rename", "self", "x"]).contains("cannot rename key with name 'self'"));
    assert!(r.fails(&["key", "rm", "nope"]).contains("no key named nope was found"));

    // ls: self first; -l: ID and name columns.
    assert_eq!(r.ok(&["key", "ls"]), "self\nk1\nk2");
    let long = r.ok(&["key", "ls", "-l"]);
    assert!(long.lines().any(|l| l.starts_with(&id) && l.trim_end().ends_with(" k1")), "{long}");

    // rename: JSON, then the text.
    let ren = json(&r.ok(&["key", "rename", "k1", "k3", "--enc=json"]));
    assert_eq!(ren, serde_json::json!({"Was": "k1", "Now": "k3", "Id": id, "Overwrite": false}));
    assert_eq!(r.ok(&["key", "rename", "k3", "k2", "--force"]), format!("Key {id} renamed to k2 with overwriting"));
    assert_eq!(r.ok(&["key", "ls"]), "self\nk2");

    // export to ./k2.key (owner-only), rm, import: the same ID.
    let out_dir = tempfile::tempdir().expect("dir");
    let st = r.cmd(&["key", "export", "k2"]).current_dir(out_dir.path()).output().expect("export");
    assert!(st.status.success(), "{}", String::from_utf8_lossy(&st.stderr));
    let file = out_dir.path().join("k2.key");
    let mode = std::fs::metadata(&file).expect("exported").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let bytes = std::fs::read(&file).expect("read");
    let kp = Keypair::from_protobuf_encoding(&bytes).expect("libp2p protobuf private key");
    assert_eq!(kp.public().to_peer_id().to_bytes(), mh);
    assert!(r.fails(&["key", "export", "self"]).contains("cannot export key with name 'self'"));

    let rm = json(&r.ok(&["key", "rm", "k2", "--enc=json"]));
    assert_eq!(rm, serde_json::json!({"Keys": [{"Name": "k2", "Id": id}]}));
    let f = file.to_str().expect("utf8");
    assert_eq!(r.ok(&["key", "import", "again", f]), id);
    assert!(r.fails(&["key", "import", "again", f]).contains("key with name 'again' already exists"));
    // Keystore files are owner-only.
    for e in std::fs::read_dir(r.path().join("keystore")).expect("keystore") {
        let m = e.expect("entry").metadata().expect("meta").permissions().mode() & 0o077;
        assert_eq!(m, 0, "keystore files must not be readable by others");
    }
    // PEM PKCS#8 (Ed25519), as openssl reads it, back to the same ID.
    let pem = out_dir.path().join("k.pem");
    let p = pem.to_str().expect("utf8");
    r.ok(&["key", "export", "again", "--format=pem-pkcs8-cleartext", "-o", p]);
    assert!(std::fs::read_to_string(&pem).expect("pem").starts_with("-----BEGIN PRIVATE KEY-----\n"));
    assert_eq!(r.ok(&["key", "import", "from-pem", "--format=pem-pkcs8-cleartext", p]), id);
}

#[test]
fn key_rotate_keeps_the_old_identity_under_the_given_name() {
    let r = TestRepo::new();
    let old = json(&r.ok(&["id"]))["ID"].as_str().expect("ID").to_string();
    assert!(r.fails(&["key", "rotate"]).contains("keystore name for backing up old key must be provided"));
    assert!(r.fails(&["key", "rotate", "-o", "self"]).contains("keystore name for back up cannot be named 'self'"));
    let out = r.ok(&["key", "rotate", "-o", "previous"]);
    assert!(out.starts_with("generating ED25519 keypair...done\npeer identity: "), "{out}");
    let new = json(&r.ok(&["id"]))["ID"].as_str().expect("ID").to_string();
    assert_ne!(new, old);
    assert!(out.ends_with(&new), "{out}");
    let ls = json(&r.ok(&["key", "ls", "--ipns-base=b58mh", "--enc=json"]));
    assert_eq!(ls["Keys"], serde_json::json!([{"Name": "self", "Id": new}, {"Name": "previous", "Id": old}]));
}

#[test]
fn sign_and_verify_with_kubo_prefix() {
    let r = TestRepo::new();
    r.ok(&["key", "gen", "signer"]);
    let dir = tempfile::tempdir().expect("dir");
    let msg = dir.path().join("msg");
    std::fs::write(&msg, b"hello world").expect("write");
    let m = msg.to_str().expect("utf8");
    let out = json(&r.ok(&["key", "sign", "--key=signer", m, "--enc=json"]));
    assert_eq!(out["Key"]["Name"], "signer");
    let sig = out["Signature"].as_str().expect("Signature");
    // Multibase base64url: prefix 'u', unpadded.
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(sig.strip_prefix('u').expect("base64url prefix"))
        .expect("base64url");

    // Checked with libp2p over the prefixed message, with the exported key.
    let st = r.cmd(&["key", "export", "signer"]).current_dir(dir.path()).output().expect("export");
    assert!(st.status.success());
    let kp = Keypair::from_protobuf_encoding(&std::fs::read(dir.path().join("signer.key")).expect("key")).expect("key");
    assert!(kp.public().verify(b"libp2p-key signed message:hello world", &raw));

    let v = json(&r.ok(&["key", "verify", "--key=signer", &format!("--signature={sig}"), m, "--enc=json"]));
    assert_eq!(v["SignatureValid"], true);
    assert_eq!(v["Key"]["Name"], "signer");
    // By IPNS name (the key inlines in it): valid, name empty as Kubo prints it.
    let id = out["Key"]["Id"].as_str().expect("Id");
    let v = json(&r.ok(&["key", "verify", &format!("--key={id}"), &format!("--signature={sig}"), m, "--enc=json"]));
    assert_eq!(v["SignatureValid"], true);
    assert_eq!(v["Key"]["Name"], "");
    // Other data: not valid.
    let v =
        json(&r.ok_stdin(&["key", "verify", "--key=signer", &format!("--signature={sig}"), "--enc=json"], b"other"));
    assert_eq!(v["SignatureValid"], false);
    // Self signs by default.
    let own = json(&r.ok_stdin(&["key", "sign", "--enc=json"], b"x"));
    assert_eq!(own["Key"]["Name"], "self");
}

#[test]
fn name_publish_offline_then_inspect_the_record() {
    let r = TestRepo::new();
    let cid = r.ok_stdin(&["block", "put"], b"hi\n");
    let value = format!("/ipfs/{cid}");
    // Offline without --allow-offline: Kubo's error.
    assert!(r.fails(&["name", "publish", &value]).contains("can't publish while offline"));
    let out = json(&r.ok(&["name", "publish", "--allow-offline", &value, "--enc=json"]));
    let name = out["Name"].as_str().expect("Name").to_string();
    assert!(name.starts_with("k51"), "{name}");
    assert_eq!(out["Value"], value.as_str());
    let text = r.ok(&["name", "publish", "--allow-offline", &cid]);
    assert_eq!(text, format!("Published to {name}: {value}"));
    assert_eq!(r.ok(&["name", "publish", "--allow-offline", "-Q", &cid]), name);

    // Third publish: sequence 2. Resolve offline uses the kept record.
    assert_eq!(r.ok(&["name", "resolve", &name]), value);
    assert_eq!(json(&r.ok(&["name", "resolve", "--enc=json"]))["Path"], value.as_str());

    // The record, as `name get` gives it offline, inspected.
    let got = r.run(&["name", "get", &name]);
    assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
    let dir = tempfile::tempdir().expect("dir");
    let rec = dir.path().join("rec");
    std::fs::write(&rec, &got.stdout).expect("write");
    let f = rec.to_str().expect("utf8");
    let ins = json(&r.ok(&["name", "inspect", "--verify", &name, f, "--enc=json"]));
    assert_eq!(ins["Entry"]["Value"], value.as_str());
    assert_eq!(ins["Entry"]["Sequence"], 2);
    assert_eq!(ins["Entry"]["ValidityType"], 0);
    // Kubo's default TTL: 5 minutes, in nanoseconds.
    assert_eq!(ins["Entry"]["TTL"], 300_000_000_000u64);
    assert_eq!(ins["SignatureType"], "V1+V2");
    assert_eq!(ins["Validation"]["Valid"], true);
    assert_eq!(ins["Validation"]["Name"], name.as_str());
    assert_eq!(ins["PbSize"], got.stdout.len());

    // Text form, and against another name: invalid.
    let text = r.ok(&["name", "inspect", f, "--dump=false"]);
    assert!(text.contains(&format!("Value:          \"{value}\"")), "{text}");
    assert!(text.contains("Sequence:       2"), "{text}");
    assert!(text.contains("TTL:            5m0s"), "{text}");
    assert!(text.contains("This record was not verified."), "{text}");
    assert!(!text.contains("Hex Dump"), "{text}");
    let other = r.ok(&["key", "gen", "other"]);
    let ins = json(&r.ok(&["name", "inspect", "--verify", &other, f, "--enc=json"]));
    assert_eq!(ins["Validation"]["Valid"], false);

    // name put: an older record than the kept one is refused.
    let newer = json(&r.ok(&["name", "publish", "--allow-offline", &value, "--enc=json"]));
    assert_eq!(newer["Name"], name.as_str());
    let err = r.fails(&["name", "put", "--allow-offline", &name, f]);
    assert!(err.contains("existing IPNS record has sequence 3 >= new record sequence 2"), "{err}");
    r.ok(&["name", "put", "--allow-offline", "--force", &name, f]);

    // --sequence: explicit, higher than held.
    let out = r.ok(&["name", "publish", "--allow-offline", "--sequence=10", &value]);
    assert!(out.starts_with("Published to"));
    let got = r.run(&["name", "get", &name]);
    std::fs::write(&rec, &got.stdout).expect("write");
    let ins = json(&r.ok(&["name", "inspect", f, "--enc=json"]));
    assert_eq!(ins["Entry"]["Sequence"], 10);
}

#[test]
fn a_name_published_on_one_daemon_resolves_on_another_through_the_dht() {
    in_netns("a_name_published_on_one_daemon_resolves_on_another_through_the_dht", || {
        let a = TestRepo::new();
        let mut a_d = Daemon::start(&a, &[]);
        let b = TestRepo::new();
        let mut b_d = Daemon::start(&b, &[]);
        let (a_id, a_addr) = id_and_addr(&a);
        b.ok(&["swarm", "connect", &a_addr]);
        let (b_id, _) = id_and_addr(&b);
        wait_until(std::time::Duration::from_secs(30), "each in the other's LAN table", || {
            lan_table(&b).contains(&a_id) && lan_table(&a).contains(&b_id)
        });

        let cid = a.ok_stdin(&["block", "put"], b"published through the DHT\n");
        let value = format!("/ipfs/{cid}");
        // Online: no --allow-offline needed; the record goes to the DHT.
        let out = json(&a.ok(&["name", "publish", &value, "--enc=json"]));
        let name = out["Name"].as_str().expect("Name").to_string();
        assert_eq!(out["Value"], value.as_str());

        // The identity cannot rotate under a running daemon (Kubo's refusal).
        let err = a.fails(&["key", "rotate", "-o", "old"]);
        assert!(err.contains("daemon is running. please stop it to run this command"), "{err}");

        // B has no record of its own: it finds A's through the DHT.
        assert_eq!(b.ok(&["name", "resolve", &name]), value);
        let got = b.run(&["name", "get", &name]);
        assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
        let dir = tempfile::tempdir().expect("dir");
        let rec = dir.path().join("rec");
        std::fs::write(&rec, &got.stdout).expect("write");
        let ins = json(&b.ok(&["name", "inspect", "--verify", &name, rec.to_str().expect("utf8"), "--enc=json"]));
        assert_eq!(ins["Validation"]["Valid"], true);
        assert_eq!(ins["Entry"]["Sequence"], 0);

        // A second publish on A: B sees the newer value.
        let cid2 = a.ok_stdin(&["block", "put"], b"a newer value\n");
        a.ok(&["name", "publish", &cid2]);
        assert_eq!(b.ok(&["name", "resolve", &name]), format!("/ipfs/{cid2}"));
        b_d.stop();
        a_d.stop();
    });
}
