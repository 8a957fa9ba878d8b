//! A gateway over a temporary repo holding the conformance fixtures, a real
//! HTTP/1.1 client (hyper), and a reader for the fixture CARs (as the
//! conformance suite's own tooling reads them: blocks by CID, names by
//! following dag-pb links). Servers listen on 127.0.0.1 port 0; run the
//! suite inside `unshare -n` with `lo` up.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::TokioIo;
use rubo_dag::CarReader;
use rubo_node::dag::DagImportOptions;
use rubo_node::rubo_repo::InitOptions;
use rubo_node::{LockMode, Node, NodeError, Repo};
use rubo_types::{Block, Cid};

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every CAR of the fixture set.
pub fn fixture_cars() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![fixtures_dir()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("fixtures dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "car") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A fresh repo (test profile) with `cars` imported, roots not pinned
/// (one fixture lacks a block on purpose).
pub fn node_with(cars: &[PathBuf]) -> (tempfile::TempDir, Node) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("repo");
    Repo::init(&path, &InitOptions { profiles: vec!["test".into()], ..Default::default() }).expect("init");
    let node = Node::open(&path, LockMode::Exclusive, "gateway test").expect("open");
    let files: Vec<Result<Box<dyn std::io::Read + Send>, NodeError>> = cars
        .iter()
        .map(|p| Ok(Box::new(std::fs::File::open(p).expect("fixture")) as Box<dyn std::io::Read + Send>))
        .collect();
    node.dag()
        .import_blocking(
            Box::new(files.into_iter()),
            &DagImportOptions { pin_roots: false, allow_big: false },
            &mut |_| true,
        )
        .expect("import fixtures");
    (dir, node)
}

/// A running gateway.
pub struct Gw {
    pub addr: SocketAddr,
    pub node: Node,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    done: Option<tokio::sync::oneshot::Receiver<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// The runtime servers live on (tests come and go on their own runtimes).
pub fn rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
    })
}

impl Gw {
    /// Starts a gateway over `node` with the config document's `Gateway`
    /// section edited by `edit`.
    pub fn start(node: Node, dir: Option<tempfile::TempDir>, edit: impl FnOnce(&mut serde_json::Value)) -> Self {
        let mut doc = node.repo().config().doc().clone();
        edit(&mut doc);
        let cfg = rubo_gateway::GatewayConfig::from_config(&doc).expect("gateway config");
        Self::start_cfg(node, dir, cfg)
    }

    pub fn start_cfg(node: Node, dir: Option<tempfile::TempDir>, cfg: rubo_gateway::GatewayConfig) -> Self {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let n = node.clone();
        rt().spawn(async move {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind loopback (run inside unshare -n with lo up)");
            addr_tx.send(l.local_addr().expect("addr")).expect("send addr");
            rubo_gateway::serve(l, n, cfg, async {
                let _ = stop_rx.await;
            })
            .await
            .expect("serve");
            let _ = done_tx.send(());
        });
        let addr = addr_rx.recv().expect("gateway address");
        Self { addr, node, stop: Some(stop_tx), done: Some(done_rx), _dir: dir }
    }

    /// Shuts the server down and waits until `serve` returned.
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(d) = self.done.take() {
            let _ = d.await;
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.req("GET", path, &[]).await
    }

    pub async fn req(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        request(self.addr, method, path, headers).await
    }
}

/// The shared gateway with every fixture, default config.
pub fn shared() -> &'static Gw {
    static GW: OnceLock<Gw> = OnceLock::new();
    GW.get_or_init(|| {
        let (dir, node) = node_with(&fixture_cars());
        Gw::start(node, Some(dir), |_| {})
    })
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn h(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Every value of a header (repeated lines), in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.headers.get_all(name).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a new connection. `Host` defaults to the address.
pub async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let mut b = Request::builder().method(method).uri(path);
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        b = b.header("host", addr.to_string());
    }
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = sender.send_request(b.body(Empty::<Bytes>::new()).expect("request")).await.expect("response");
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.expect("body").to_bytes();
    Resp { status: parts.status, headers: parts.headers, body }
}

/// A fixture CAR: its blocks and first root.
pub struct Fixture {
    pub root: Cid,
    pub blocks: HashMap<Cid, Block>,
    pub order: Vec<Cid>,
}

impl Fixture {
    pub fn open(rel: &str) -> Self {
        let f = std::fs::File::open(fixtures_dir().join(rel)).expect("fixture");
        let mut car = CarReader::new(std::io::BufReader::new(f)).expect("car");
        let root = car.roots()[0];
        let mut blocks = HashMap::new();
        let mut order = Vec::new();
        while let Some(b) = car.next_block().expect("block") {
            order.push(*b.cid());
            blocks.insert(*b.cid(), b);
        }
        Self { root, blocks, order }
    }

    fn get(&self, c: &Cid) -> Result<Block, String> {
        rubo_dag::source::identity_block(c)
            .or_else(|| self.blocks.get(c).cloned())
            .ok_or_else(|| format!("{c} not in fixture"))
    }

    /// The CID at `path` below the root (named links, HAMTs included).
    pub fn cid(&self, path: &[&str]) -> Cid {
        let mut cur = self.root;
        for name in path {
            let b = self.get(&cur).expect("block");
            let mut get = |c: &Cid| self.get(c);
            let e = rubo_unixfs::dir::lookup(&b, name.as_bytes(), &mut get).expect("lookup").expect("entry");
            cur = e.cid;
        }
        cur
    }

    pub fn block(&self, path: &[&str]) -> Bytes {
        self.get(&self.cid(path)).expect("block").data().clone()
    }

    /// A UnixFS file's bytes.
    pub fn file(&self, path: &[&str]) -> Vec<u8> {
        let b = self.get(&self.cid(path)).expect("block");
        let mut r = rubo_unixfs::export::FileReader::new(b, |c: &Cid| self.get(c));
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut r, &mut out).expect("read");
        out
    }

    /// Every CID below `cid` in DFS order, `cid` excluded (the suite's
    /// `MustGetDescendantsCids`).
    pub fn descendants(&self, cid: &Cid) -> Vec<Cid> {
        let mut out = Vec::new();
        let mut stack: Vec<Cid> = rubo_dag::links::block_links(&self.get(cid).expect("block")).expect("links");
        stack.reverse();
        while let Some(c) = stack.pop() {
            out.push(c);
            if let Ok(b) = self.get(&c) {
                let mut l = rubo_dag::links::block_links(&b).expect("links");
                l.reverse();
                stack.extend(l);
            }
        }
        out
    }
}

/// Shared handle for tests that need one node in several servers.
pub type Shared<T> = Arc<T>;
