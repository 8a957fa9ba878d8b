//! Bad requests and bad clients: oversized heads and URLs, invalid CIDs and
//! traversal attempts, a client that stops reading, many slow clients at
//! once, more requests than `MaxConcurrentRequests`, content that cannot be
//! had within `RetrievalTimeout`. The gateway answers the right status or
//! drops the connection, keeps serving others, and its memory stays bounded.

mod common;

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Gw, node_with, request, rt};
use rubo_node::blocks::Exchange;
use rubo_node::rubo_unixfs::import::{Entry, EntryKind};
use rubo_node::{AddEvent, AddOptions, Node, NodeError};
use rubo_types::{Block, Cid};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// A network that never answers: reads of missing blocks wait on it.
#[derive(Default)]
struct Silent {
    held: Mutex<Vec<mpsc::Sender<Result<Block, NodeError>>>>,
}

impl Exchange for Silent {
    fn fetch(&self, _cids: Vec<Cid>) -> mpsc::Receiver<Result<Block, NodeError>> {
        let (tx, rx) = mpsc::channel(1);
        if let Ok(mut h) = self.held.lock() {
            h.push(tx);
        }
        rx
    }

    fn blocks_added(&self, _blocks: &[Block]) {}
}

fn vm_rss_kib() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn fd_limit() -> u64 {
    let s = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024)
}

/// Adds `len` bytes (a repeated byte: few distinct blocks, many leaves).
async fn add_file(node: &Node, len: u64) -> Cid {
    let entry = Entry {
        path: "big".into(),
        kind: EntryKind::File(Box::new(std::io::repeat(7).take(len))),
        mode: None,
        mtime: None,
    };
    let opts = AddOptions { import: Default::default(), wrap: false, only_hash: false, threads: 1, pin: None };
    let mut rx = node.unixfs().add(Box::new(std::iter::once(Ok(entry))), opts);
    let mut root = None;
    while let Some(ev) = rx.recv().await {
        if let AddEvent::Added { cid, .. } = ev.expect("add") {
            root = Some(cid);
        }
    }
    root.expect("root")
}

/// Waits (polling) until `cond` holds; the pause only spaces the polls.
async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..3000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("gave up waiting for {what}");
}

/// TCP states of sockets from `local` port to `remote` port (server side).
fn tcp_states(local: u16, remote: u16) -> Vec<u8> {
    let s = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    s.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let port = |a: &str| a.rsplit(':').next().and_then(|p| u16::from_str_radix(p, 16).ok());
            (port(f.get(1)?)? == local && port(f.get(2)?)? == remote).then(|| u8::from_str_radix(f.get(3)?, 16).ok())?
        })
        .collect()
}

#[tokio::test]
async fn oversized_requests_and_bad_paths() {
    let (dir, node) = node_with(&[]);
    let gw = Gw::start(node, Some(dir), |_| {});
    // A header line past the head limit: 431, and the server goes on.
    let big = "x".repeat(100 * 1024);
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(format!("GET /ipfs/bafkqaaa HTTP/1.1\r\nHost: a\r\nX-Big: {big}\r\n\r\n").as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    assert!(
        String::from_utf8_lossy(&out).starts_with("HTTP/1.1 431"),
        "{}",
        String::from_utf8_lossy(&out[..out.len().min(100)])
    );
    // A URL longer than the URL limit (but within the head limit): 414.
    let r = gw.get(&format!("/ipfs/bafkqaaa/{}", "a".repeat(20 * 1024))).await;
    assert_eq!(r.status, 414);
    // Many headers: up to hyper's 100 are read, more are 431.
    for (count, status) in [(90, 200), (200, 431)] {
        let hs: Vec<(String, String)> = (0..count).map(|i| (format!("x-h{i}"), "v".repeat(100))).collect();
        let hr: Vec<(&str, &str)> = hs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        let head: String = hr.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
        s.write_all(format!("GET /ipfs/bafkqaaa HTTP/1.1\r\nHost: a\r\nConnection: close\r\n{head}\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        assert!(out.starts_with(format!("HTTP/1.1 {status}").as_bytes()), "{count} headers");
    }
    // Invalid CIDs and traversal attempts.
    for p in [
        "/ipfs/bafyINVALID",
        "/ipfs/Qm",
        "/ipfs/bafkqaaa/../../../../etc/passwd",
        "/ipfs/%2e%2e/%2e%2e/etc/passwd",
        "/ipfs/bafkqaaa/%00",
        "/ipns/",
    ] {
        let r = gw.get(p).await;
        assert!(matches!(r.status.as_u16(), 400 | 404 | 501), "{p}: {}", r.status);
    }
    // Raw garbage instead of HTTP: the connection is answered or closed.
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    s.write_all(b"\x00\x01\x02 not http\r\n\r\n").await.unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out).await;
    assert!(out.is_empty() || out.starts_with(b"HTTP/1.1 400"));
    assert_eq!(gw.get("/ipfs/bafkqaaa").await.status, 200);
    gw.stop().await;
}

#[tokio::test]
async fn retrieval_timeout_and_concurrency_limit() {
    let (dir, node) = node_with(&[]);
    let silent = Arc::new(Silent::default());
    node.set_exchange(silent.clone(), rt().handle().clone()).unwrap();
    let fetches = || silent.held.lock().map(|h| h.len()).unwrap_or(0);
    let missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    // RetrievalTimeout: content no peer gives in time is 504 with Retry-After.
    let gw = Gw::start(node.clone(), None, |d| d["Gateway"]["RetrievalTimeout"] = "1s".into());
    let r = gw.get(&format!("/ipfs/{missing}")).await;
    assert_eq!(r.status, 504);
    assert!(!r.h("retry-after").is_empty());
    // only-if-cached never waits for the network.
    let r = gw.req("GET", &format!("/ipfs/{missing}"), &[("cache-control", "only-if-cached")]).await;
    assert_eq!(r.status, 412);
    gw.stop().await;
    // NoFetch: not here is 404 at once.
    let gw = Gw::start(node.clone(), None, |d| d["Gateway"]["NoFetch"] = true.into());
    assert_eq!(gw.get(&format!("/ipfs/{missing}")).await.status, 404);
    gw.stop().await;

    // MaxConcurrentRequests: with two requests waiting on the network, a third is 429.
    let gw = Gw::start(node, Some(dir), |d| {
        d["Gateway"]["MaxConcurrentRequests"] = 2.into();
        d["Gateway"]["RetrievalTimeout"] = "120s".into();
    });
    // One at a time, each in flight (its fetch begun) before the next, so
    // that both hold a slot when the third request comes.
    let mut held = Vec::new();
    for _ in 0..2 {
        let before = fetches();
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        s.write_all(format!("GET /ipfs/{missing} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()).await.unwrap();
        held.push(s);
        wait_for("the held request's fetch", || fetches() > before).await;
    }
    let addr = gw.addr;
    let mut got = None;
    for _ in 0..3000 {
        let r = request(addr, "GET", "/ipfs/bafkqaaa", &[]).await;
        if r.status == 429 {
            got = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r = got.expect("a 429 while two requests hold the slots");
    assert_eq!(r.h("retry-after"), "60");
    assert_eq!(r.h("cache-control"), "no-store");
    drop(held);
    // Slots come back once those clients are gone (their requests end).
    wait_for("a free slot", || {
        std::thread::scope(|s| {
            s.spawn(|| rt().block_on(request(addr, "GET", "/ipfs/bafkqaaa", &[])).status == 200).join().unwrap_or(false)
        })
    })
    .await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped() {
    let (dir, node) = node_with(&[]);
    let big = add_file(&node, 64 << 20).await;
    let mut cfg = rubo_gateway::GatewayConfig::from_config(node.repo().config().doc()).unwrap();
    cfg.write_timeout = Duration::from_secs(1);
    let gw = Gw::start_cfg(node, Some(dir), cfg);
    let before = vm_rss_kib();
    let mut s = TcpStream::connect(gw.addr).await.unwrap();
    let local = s.local_addr().unwrap().port();
    s.write_all(format!("GET /ipfs/{big} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Stop reading. The server's writes stall, and after the write timeout
    // it lets go of the connection (no longer ESTABLISHED on its side).
    wait_for("the server to drop the stalled connection", || !tcp_states(gw.port(), local).contains(&1)).await;
    // It held at most a few chunks for it meanwhile, and still serves others.
    assert!(vm_rss_kib().saturating_sub(before) < 64 * 1024, "{} KiB more", vm_rss_kib() - before);
    assert_eq!(gw.get("/ipfs/bafkqaaa").await.status, 200);
    drop(s);
    gw.stop().await;
}

#[tokio::test]
async fn many_slow_clients() {
    let (dir, node) = node_with(&[]);
    let big = add_file(&node, 8 << 20).await;
    let gw = Gw::start(node, Some(dir), |_| {});
    // The 10,000, or what one test process may open (two
    // descriptors per connection here, client and server).
    let n = 10_000.min((fd_limit().saturating_sub(200) / 2) as usize);
    assert!(n >= 200, "too few file descriptors ({}) for this test", fd_limit());
    let before = vm_rss_kib();
    let mut slow = Vec::with_capacity(n);
    for i in 0..n {
        let mut s = TcpStream::connect(gw.addr).await.unwrap();
        if i % 2 == 0 {
            // Half send a request head slowly, never finishing it.
            s.write_all(b"GET /ipfs/bafkqaaa HTTP/1.1\r\nHost: a\r\n").await.unwrap();
        } else {
            // Half ask for 8 MiB and never read it.
            s.write_all(format!("GET /ipfs/{big} HTTP/1.1\r\nHost: a\r\n\r\n").as_bytes()).await.unwrap();
        }
        slow.push(s);
    }
    // Everyone else is still served, whole; or, past Kubo's default
    // MaxConcurrentRequests (4096) requests in flight, told so at once (429).
    let in_flight = n / 2;
    let r = gw.get(&format!("/ipfs/{big}")).await;
    if in_flight < 4096 {
        assert_eq!((r.status.as_u16(), r.body.len()), (200, 8 << 20));
        assert_eq!(gw.get("/ipfs/bafkqaaa").await.status, 200);
    } else {
        assert_eq!(r.status.as_u16(), 429, "{in_flight} requests in flight");
    }
    // Memory: bounded per connection (socket buffers aside, a few chunks).
    let grown = vm_rss_kib().saturating_sub(before);
    eprintln!("RSS grew by {grown} KiB for {n} slow clients");
    assert!(grown < 400 * 1024, "RSS grew by {grown} KiB for {n} slow clients");
    // Once they are gone, the gateway serves everyone again.
    drop(slow);
    let mut served = false;
    for _ in 0..1500 {
        let r = gw.get(&format!("/ipfs/{big}")).await;
        if r.status.as_u16() == 200 {
            assert_eq!(r.body.len(), 8 << 20);
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "the gateway serves again once the slow clients left");
    gw.stop().await;
}
