//! Through the server and back through the client, a command's output is
//! the handler's own: two nodes with one identity take the same commands,
//! node A by calling the handlers directly (as the CLI does without a
//! daemon), node B through `rubo_http::Client` -> `serve`; every output
//! (values, streams, bytes, errors) must be equal. Adds also match Kubo's CIDs.

mod common;

use bytes::Bytes;
use common::{TestServer, in_netns, init_repo, open_node, req, run_direct};
use rubo_commands::input::{ByteStream, InputEntry, InputKind, Inputs};
use rubo_commands::registry::Ctx;
use rubo_commands::{CmdError, ErrorCode, Output};
use rubo_http::{ApiConfig, Client};
use rubo_node::Node;
use rubo_node::rubo_unixfs::pb::UnixTime;
use rubo_types::BString;
use serde_json::{Value, json};

/// An output, read to the end, in a form that compares.
#[derive(Debug, PartialEq)]
enum Collected {
    Err(String, ErrorCode),
    /// No output, or a stream of nothing (Kubo sends both alike).
    Empty,
    Value(Value),
    Values(Vec<Value>, Option<String>),
    Bytes(&'static str, Vec<u8>, Option<String>),
}

async fn collect(out: Result<Output, CmdError>) -> Collected {
    match out {
        Err(e) => Collected::Err(e.message, e.code),
        Ok(Output::None) => Collected::Empty,
        Ok(Output::Value(v)) => Collected::Value(v),
        Ok(Output::Stream(mut rx)) => {
            let mut vals = Vec::new();
            while let Some(item) = rx.recv().await {
                match item {
                    Ok(v) => vals.push(v),
                    // An error before any value is a whole error response.
                    Err(e) if vals.is_empty() => return Collected::Err(e.message, e.code),
                    Err(e) => return Collected::Values(vals, Some(e.message)),
                }
            }
            if vals.is_empty() { Collected::Empty } else { Collected::Values(vals, None) }
        }
        Ok(Output::Bytes { content_type, mut stream }) => {
            let mut data = Vec::new();
            while let Some(item) = stream.recv().await {
                match item {
                    Ok(b) => data.extend_from_slice(&b),
                    Err(e) if data.is_empty() => return Collected::Err(e.message, e.code),
                    Err(e) => return Collected::Bytes(content_type, data, Some(e.message)),
                }
            }
            Collected::Bytes(content_type, data, None)
        }
    }
}

/// One input entry of a test upload.
#[derive(Clone)]
enum In {
    File(&'static str, Vec<u8>),
    Dir(&'static str),
    Symlink(&'static str, &'static str),
    /// A file with a mode and an mtime (seconds, nanoseconds).
    FileMeta(&'static str, Vec<u8>, u32, i64, u32),
}

/// Inputs as the CLI's walk sends them.
fn inputs(list: &[In]) -> Inputs {
    let (tx, inputs) = Inputs::channel();
    let list = list.to_vec();
    tokio::spawn(async move {
        for e in list {
            let (mut mode, mut mtime) = (None, None);
            let (path, kind, data) = match e {
                In::File(p, d) => {
                    let (btx, s) = ByteStream::channel();
                    (p, InputKind::File(s), Some((btx, d)))
                }
                In::FileMeta(p, d, m, secs, nanos) => {
                    mode = Some(m);
                    mtime = Some(UnixTime { seconds: secs, nanos: Some(nanos) });
                    let (btx, s) = ByteStream::channel();
                    (p, InputKind::File(s), Some((btx, d)))
                }
                In::Dir(p) => (p, InputKind::Dir, None),
                In::Symlink(p, t) => (p, InputKind::Symlink(BString::from(t)), None),
            };
            let entry = InputEntry { path: BString::from(path), kind, mode, mtime };
            if tx.send(Ok(entry)).await.is_err() {
                return;
            }
            if let Some((btx, d)) = data {
                for c in d.chunks(100_000) {
                    let _ = btx.send(Ok(Bytes::copy_from_slice(c))).await;
                }
            }
        }
    });
    inputs
}

struct Pair {
    a: Node,
    client: Client,
}

impl Pair {
    /// Runs one command on both nodes; returns B's output after checking
    /// that it equals A's.
    async fn both(&self, path: &str, pairs: &[(&str, &str)], upload: Option<&[In]>) -> Collected {
        let mut ra = req(path, pairs);
        let mut rb = req(path, pairs);
        if let Some(list) = upload {
            ra.inputs = Some(inputs(list));
            rb.inputs = Some(inputs(list));
        }
        let a = collect(run_direct(Ctx::Node(self.a.clone()), path, ra).await).await;
        let b = collect(self.client.call(path, rb).await).await;
        assert_eq!(b, a, "{path} {pairs:?}: through the API (left) vs direct (right)");
        b
    }
}

fn last_hash(c: &Collected) -> String {
    match c {
        Collected::Values(v, None) => v.last().unwrap()["Hash"].as_str().unwrap().to_string(),
        other => panic!("add failed: {other:?}"),
    }
}

fn value(c: Collected) -> Value {
    match c {
        Collected::Value(v) => v,
        other => panic!("expected a value: {other:?}"),
    }
}

#[test]
fn outputs_through_the_api_equal_direct_ones() {
    in_netns("outputs_through_the_api_equal_direct_ones", || async {
        // Node A, direct; node B, from A's config (same identity), served.
        let dir = tempfile::tempdir().unwrap();
        let pa = dir.path().join("a");
        init_repo(&pa, None).await;
        let config = std::fs::read(pa.join("config")).unwrap();
        let a = open_node(&pa).await;
        let bdir = tempfile::tempdir().unwrap();
        let pb = bdir.path().join("repo");
        init_repo(&pb, Some(config)).await;
        let b = open_node(&pb).await;
        let server = TestServer::serve(bdir, b, |doc| ApiConfig::from_config(doc).unwrap()).await;
        let p = Pair { a, client: server.client() };

        p.both("version", &[], None).await;
        p.both("id", &[], None).await;

        // Adds, with Kubo's CIDs (t0040, add_test.go).
        let hw = [In::File("", b"hello world".to_vec())];
        assert_eq!(last_hash(&p.both("add", &[], Some(&hw)).await), "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD");
        assert_eq!(
            last_hash(&p.both("add", &[("cid-version", "1")], Some(&hw)).await),
            "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e"
        );
        let planets = [
            In::Dir("planets"),
            In::File("planets/mars.txt", b"Hello Mars!\n".to_vec()),
            In::File("planets/venus.txt", b"Hello Venus!\n".to_vec()),
        ];
        let out = p.both("add", &[("progress", "true")], Some(&planets)).await;
        assert_eq!(last_hash(&out), "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY");
        let Collected::Values(v, _) = &out else { unreachable!() };
        assert!(v.iter().any(|l| l.get("Bytes").is_some()), "progress lines");
        p.both("add", &[("cid-version", "1"), ("wrap-with-directory", "true")], Some(&planets)).await;
        let big: Vec<u8> = (0..1_500_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let big = [In::File("big.bin", big), In::Symlink("link", "big.bin")];
        p.both("add", &[("raw-leaves", "true"), ("trickle", "true")], Some(&big)).await;
        // Mode and mtime travel in the form name (`file?mode=0640&mtime=..`).
        let meta = [In::Dir("m"), In::FileMeta("m/a b%.txt", b"meta".to_vec(), 0o640, 1_600_000_000, 5)];
        let out = p.both("add", &[("preserve-mode", "true"), ("preserve-mtime", "true")], Some(&meta)).await;
        let with_meta = last_hash(&out);
        assert_ne!(with_meta, last_hash(&p.both("add", &[], Some(&meta)).await), "the metadata made a difference");
        p.both("ls", &[("arg", &with_meta), ("long", "true")], None).await;
        let planets_cid = "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY";
        let mars = "QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN";

        // Reads.
        let cat = p.both("cat", &[("arg", mars)], None).await;
        assert_eq!(cat, Collected::Bytes("text/plain", b"Hello Mars!\n".to_vec(), None));
        p.both("cat", &[("arg", mars), ("offset", "6"), ("length", "4")], None).await;
        p.both("cat", &[("arg", planets_cid)], None).await;
        p.both("get", &[("arg", planets_cid)], None).await;
        p.both("get", &[("arg", planets_cid), ("compress", "true")], None).await;
        p.both("ls", &[("arg", planets_cid)], None).await;
        p.both("ls", &[("arg", planets_cid), ("stream", "true")], None).await;
        p.both("refs", &[("arg", planets_cid), ("recursive", "true")], None).await;
        p.both("refs", &[("arg", planets_cid), ("edges", "true")], None).await;

        // Pins.
        p.both("pin ls", &[], None).await;
        p.both("pin add", &[("arg", mars)], None).await;
        p.both("pin ls", &[("type", "recursive")], None).await;
        p.both("pin ls", &[("arg", mars)], None).await;
        p.both("pin rm", &[("arg", mars)], None).await;
        p.both("pin rm", &[("arg", mars)], None).await;
        p.both("pin ls", &[("stream", "true")], None).await;

        // Blocks.
        let blocks = [In::File("", b"abc".to_vec()), In::File("", b"def".to_vec())];
        let put = p.both("block put", &[], Some(&blocks)).await;
        let Collected::Values(keys, None) = put else { panic!("{put:?}") };
        let k = keys[0]["Key"].as_str().unwrap().to_string();
        p.both("block put", &[("cid-codec", "dag-pb"), ("mhtype", "sha2-512")], Some(&blocks[..1])).await;
        p.both("block get", &[("arg", &k)], None).await;
        p.both("block stat", &[("arg", &k)], None).await;
        p.both("block rm", &[("arg", &k)], None).await;
        p.both("block rm", &[("arg", &k)], None).await;
        p.both("block stat", &[("arg", &k)], None).await;

        // DAGs.
        let obj = [In::File(
            "",
            br#"{"a":1,"b":[1,2,{"/":"QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN"}],"c":"<&>"}"#.to_vec(),
        )];
        let put = p.both("dag put", &[("pin", "true")], Some(&obj)).await;
        let Collected::Values(cids, None) = put else { panic!("{put:?}") };
        let c = cids[0]["Cid"]["/"].as_str().unwrap().to_string();
        p.both("dag get", &[("arg", &c)], None).await;
        p.both("dag get", &[("arg", &format!("{c}/b/2")), ("output-codec", "dag-cbor")], None).await;
        p.both("dag resolve", &[("arg", &format!("{c}/b"))], None).await;
        p.both("dag stat", &[("arg", &c), ("progress", "false")], None).await;
        let car = match p.both("dag export", &[("arg", planets_cid)], None).await {
            Collected::Bytes(ct, data, None) => {
                assert_eq!(ct, "application/vnd.ipld.car");
                data
            }
            other => panic!("{other:?}"),
        };
        p.both("dag import", &[("stats", "true")], Some(&[In::File("", car.clone())])).await;
        let mut cut = car.clone();
        cut.truncate(car.len() - 5);
        p.both("dag import", &[], Some(&[In::File("", cut)])).await;

        // MFS.
        p.both("files mkdir", &[("arg", "/x/y"), ("parents", "true")], None).await;
        p.both("files write", &[("arg", "/x/y/f"), ("create", "true")], Some(&[In::File("", b"hello mfs".to_vec())]))
            .await;
        p.both(
            "files write",
            &[("arg", "/x/y/f"), ("offset", "6"), ("truncate", "false")],
            Some(&[In::File("", b"MFS!".to_vec())]),
        )
        .await;
        p.both("files read", &[("arg", "/x/y/f")], None).await;
        p.both("files read", &[("arg", "/x/y/f"), ("offset", "2"), ("count", "3")], None).await;
        p.both("files ls", &[("arg", "/x"), ("long", "true")], None).await;
        p.both("files stat", &[("arg", "/x/y/f")], None).await;
        p.both("files stat", &[("arg", "/x"), ("hash", "true")], None).await;
        p.both("files cp", &[("arg", &format!("/ipfs/{planets_cid}")), ("arg", "/x/planets")], None).await;
        p.both("files rm", &[("arg", "/x"), ("recursive", "true")], None).await;
        p.both("files ls", &[("arg", "/")], None).await;
        p.both("files stat", &[("arg", "/x")], None).await;

        // Config, repo.
        p.both("config", &[("arg", "Datastore.StorageMax")], None).await;
        p.both("config", &[("arg", "Datastore.StorageGCWatermark"), ("arg", "91"), ("json", "true")], None).await;
        p.both("config", &[("arg", "Identity.PrivKey")], None).await;
        p.both("config", &[("arg", "No.Such.Key")], None).await;
        p.both("config show", &[], None).await;
        let mut sa = value(collect(run_direct(Ctx::Node(p.a.clone()), "repo stat", req("repo stat", &[])).await).await);
        let mut sb = value(collect(p.client.call("repo stat", req("repo stat", &[])).await).await);
        // The repos live in different folders.
        assert_ne!(sa["RepoPath"], sb["RepoPath"]);
        sa["RepoPath"] = json!("");
        sb["RepoPath"] = json!("");
        assert_eq!(sb, sa);
        p.both("repo stat", &[("size-only", "true")], None).await;
        p.both("repo version", &[], None).await;
        p.both("refs local", &[], None).await;

        // Errors, as values.
        assert!(matches!(
            p.both("cat", &[("arg", "QmUnvPcBctVTAcJpigv6KMqDvmDewksPWrNVoy1E1WP5fh")], None).await,
            Collected::Err(..)
        ));
        assert!(matches!(
            p.both("add", &[("cid-version", "9")], Some(&hw)).await,
            Collected::Err(_, ErrorCode::Client)
        ));
        assert!(matches!(p.both("pin update", &[("arg", mars)], None).await, Collected::Err(_, ErrorCode::Client)));
        server.stop().await;
    });
}
