//! Delegated routing: a `/routing/v1` endpoint written here (the spec's
//! answer shapes) says Kubo v0.22 provides a CID; rubo's daemon, never
//! connected to Kubo, finds it with `routing findprovs`, and `cat` fetches
//! the content: the Bitswap session asks the routers, dials the provider and
//! takes the blocks from it. Inside a private network namespace.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::TestRepo;
use common::daemon::Daemon;
use common::peers::{Kubo, in_netns};

/// A `/routing/v1` server: `providers/<cid>` answers `answer(cid)` as JSON
/// (or 404 when it is `None`); every request path is recorded.
struct Router {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Router {
    fn start(answer: impl Fn(&str) -> Option<String> + Send + 'static) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for conn in l.incoming() {
                let Ok(mut s) = conn else { return };
                let mut r = BufReader::new(s.try_clone().expect("clone"));
                let mut line = String::new();
                if r.read_line(&mut line).is_err() {
                    continue;
                }
                // The rest of the head.
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).map(|n| n == 0).unwrap_or(true) || h == "\r\n" {
                        break;
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or_default().to_string();
                log.lock().expect("lock").push(path.clone());
                let cid = path.strip_prefix("/routing/v1/providers/").unwrap_or_default();
                let resp = match answer(cid) {
                    Some(body) => format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    ),
                    None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string(),
                };
                let _ = s.write_all(resp.as_bytes());
            }
        });
        Self { port, seen }
    }
}

#[test]
fn delegated_routing_finds_kubo_and_fetches_from_it() {
    in_netns("delegated_routing_finds_kubo_and_fetches_from_it", || {
        let work = tempfile::tempdir().expect("tmp");
        let mut kubo = Kubo::start(&work.path().join("kubo"));
        let bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let f = work.path().join("f");
        std::fs::write(&f, &bytes).expect("write");
        let cid = kubo.add(&f);
        // Kubo's address as a router announces it: without the /p2p/ part.
        let addr = kubo.addrs.iter().find(|a| a.contains("/tcp/")).expect("tcp").clone();
        let bare = addr.split("/p2p/").next().expect("addr").to_string();
        let (id, want) = (kubo.id.clone(), cid.clone());
        let router = Router::start(move |c| {
            (c == want).then(|| {
                format!(
                    r#"{{"Providers":[{{"Schema":"peer","ID":"{id}","Addrs":["{bare}"],"Protocols":["transport-bitswap"]}}]}}"#
                )
            })
        });

        let r = TestRepo::new();
        r.ok(&["config", "--json", "Routing.DelegatedRouters", &format!("[\"http://127.0.0.1:{}\"]", router.port)]);
        let mut d = Daemon::start(&r, &[]);
        assert!(!r.ok(&["swarm", "peers"]).contains(&kubo.id), "not connected beforehand");

        // Offline, no router is asked.
        let e = r.fails(&["routing", "findprovs", "--offline", &cid]);
        assert!(e.contains("online mode"), "{e}");
        assert_eq!(r.ok(&["routing", "findprovs", &cid]), kubo.id);
        let v: serde_json::Value =
            serde_json::from_str(&r.ok(&["routing", "findprovs", "--enc=json", &cid])).expect("json");
        assert_eq!(v["Type"], 4, "{v}");
        assert_eq!(v["Responses"][0]["ID"], serde_json::json!(kubo.id), "{v}");
        // A CID nobody provides: 404 from the router, no providers, exit 0.
        let other = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
        assert_eq!(r.ok(&["routing", "findprovs", other]), "");
        assert!(router.seen.lock().expect("lock").iter().any(|p| p == &format!("/routing/v1/providers/{cid}")));

        // The fetch: Bitswap asks the router, dials Kubo, takes the blocks.
        let out = r.run(&["cat", &cid]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout == bytes, "fetched {} bytes", out.stdout.len());
        assert!(r.ok(&["swarm", "peers"]).contains(&kubo.id), "connected to the provider");
        kubo.close();
        assert!(d.stop().success());
    });
}
