//! Nodes for the tests: rubo-net swarms on 127.0.0.1 with Bitswap over in-memory stores, file
//! DAGs to fetch, and a private network namespace to run in.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use rubo_bitswap::{Bitswap, Config, MemoryStore};
use rubo_net::libp2p::identity::Keypair;
use rubo_net::libp2p::multiaddr::Protocol;
use rubo_net::libp2p::{Multiaddr, PeerId};
use rubo_net::{NetConfig, NetEvent, NetHandle};
use rubo_types::{Block, Bytes, Cid};
use rubo_unixfs::file::{FileOptions, build_file, leaf};
use rubo_unixfs::{CidPrefix, export::FileReader};

/// Upper bound for anything a test waits on: generous, never a pace.
pub const WAIT: Duration = Duration::from_secs(120);

/// Whether this process sees only the loopback interface.
pub fn isolated() -> bool {
    let Ok(dev) = std::fs::read_to_string("/proc/self/net/dev") else { return false };
    dev.lines().skip(2).all(|l| l.trim_start().starts_with("lo:"))
}

/// Runs `body` on a runtime inside a private network namespace: here if this process is in one,
/// else by running this one test again under `unshare -n`.
pub fn in_netns<F: Future<Output = ()>>(test: &str, body: impl FnOnce() -> F) {
    if isolated() {
        // RUST_LOG=... shows the crates' logs (e.g. RUST_LOG=rubo_bitswap=debug).
        if std::env::var_os("RUST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_writer(std::io::stderr)
                .try_init();
        }
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("runtime");
        rt.block_on(body());
        return;
    }
    assert!(std::env::var_os("RUBO_IN_NETNS").is_none(), "unshare -n did not isolate the network");
    let exe = std::env::current_exe().expect("test executable");
    let status = Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("RUBO_IN_NETNS", "1")
        .status()
        .expect("tests run nodes in a private network namespace and need `unshare -n` (root)");
    assert!(status.success(), "{test} failed inside the network namespace");
}

/// A bare swarm on 127.0.0.1 (TCP only).
pub async fn net() -> (NetHandle, Multiaddr) {
    let cfg = NetConfig {
        listen: vec!["/ip4/127.0.0.1/tcp/0".into()],
        quic: false,
        bootstrap_min_peers: 0,
        ..NetConfig::default()
    };
    let kp = Keypair::generate_ed25519();
    let (net, _actor) = rubo_net::start(cfg, kp).await.expect("start swarm");
    let id = net.local_peer_id();
    let addr = net.listen_addrs().await.expect("listen addrs")[0].clone().with(Protocol::P2p(id));
    (net, addr)
}

pub struct Node {
    pub net: NetHandle,
    pub addr: Multiaddr,
    pub id: PeerId,
    pub store: Arc<MemoryStore>,
    pub bs: Bitswap,
}

pub async fn node() -> Node {
    node_with(Config::default()).await
}

pub async fn node_with(cfg: Config) -> Node {
    let (net, addr) = net().await;
    let store = Arc::new(MemoryStore::new());
    let bs = Bitswap::new(net.clone(), store.clone(), cfg).await.expect("bitswap");
    Node { id: net.local_peer_id(), net, addr, store, bs }
}

impl Node {
    /// Connects to `other` and waits until both sides' swarms report it.
    pub async fn connect(&self, other: &Node) {
        connect(&self.net, &other.addr).await;
    }

    pub async fn shutdown(self) {
        drop(self.bs);
        let _ = self.net.shutdown().await;
    }
}

pub async fn connect(net: &NetHandle, addr: &Multiaddr) {
    tokio::time::timeout(WAIT, net.connect(addr.clone())).await.expect("connect in time").expect("connect");
}

/// Waits for `peer` to disconnect: as `events` reports it, or, should the
/// event have been lost to a lagging receiver, as `net`'s peer list shows it
/// (checked between events; the pause only spaces the checks).
pub async fn disconnected(net: &NetHandle, events: &mut tokio::sync::broadcast::Receiver<NetEvent>, peer: PeerId) {
    let wait = async {
        loop {
            let ev = tokio::time::timeout(Duration::from_millis(100), events.recv()).await;
            match ev {
                Ok(Ok(NetEvent::PeerDisconnected { peer: p })) if p == peer => return,
                Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => panic!("event stream ended"),
                _ => {}
            }
            if let Ok(peers) = net.peers().await
                && !peers.iter().any(|p| p.peer == peer)
            {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, wait).await.expect("peer cut off in time");
}

/// Deterministic bytes (xorshift), different per seed.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut v = Vec::with_capacity(len + 8);
    while v.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.truncate(len);
    v
}

/// A UnixFS file of `bytes` (CIDv1, raw 256 KiB leaves, balanced): root and every block.
pub fn file_dag(bytes: &[u8]) -> (Cid, Vec<Block>) {
    let opts = FileOptions {
        prefix: CidPrefix { version: rubo_types::Version::V1, ..CidPrefix::default() },
        raw_leaves: true,
        ..FileOptions::default()
    };
    let leaves: Vec<_> = bytes
        .chunks(256 << 10)
        .map(|c| leaf(Bytes::copy_from_slice(c), &opts).map_err(rubo_unixfs::file::BuildError::from))
        .collect();
    let mut blocks = Vec::new();
    let built = build_file(leaves.into_iter(), &opts, &mut |b| {
        blocks.push(b);
        Ok(())
    })
    .expect("build file");
    (built.cid, blocks)
}

/// Reads a UnixFS file back from `store`.
pub fn read_file(store: &MemoryStore, root: &Cid) -> Vec<u8> {
    use rubo_bitswap::BlockStore as _;
    use std::io::Read as _;
    let get = |c: &Cid| store.get(c).map_err(|e| e.to_string())?.ok_or_else(|| format!("missing {c}"));
    let root = get(root).expect("root");
    let mut out = Vec::new();
    FileReader::new(root, get).read_to_end(&mut out).expect("read file");
    out
}

/// Fetches a whole DAG; returns the number of blocks.
pub async fn fetch_dag(bs: &Bitswap, root: Cid) -> usize {
    let session = bs.session();
    let mut s = session.fetch_dag(root);
    let mut n = 0;
    let all = async {
        while let Some(b) = s.next().await {
            b.expect("block");
            n += 1;
        }
    };
    tokio::time::timeout(WAIT, all).await.expect("DAG fetched in time");
    n
}

/// A peer written in the test: raw Bitswap streams, no Bitswap of its own.
pub struct Raw {
    pub net: NetHandle,
    pub addr: Multiaddr,
    pub id: PeerId,
    inbox: tokio::sync::mpsc::Receiver<(PeerId, rubo_bitswap::message::Received)>,
}

impl Raw {
    /// Accepts `protocol` and decodes every message that arrives on it.
    pub async fn start(protocol: &'static str) -> Self {
        use rubo_bitswap::message::{MAX_MESSAGE_SIZE, Received, read_frame};
        let (net, addr) = net().await;
        let mut incoming = net.accept(rubo_net::libp2p::StreamProtocol::new(protocol)).expect("accept protocol");
        let (tx, inbox) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            while let Some((peer, stream)) = incoming.next().await {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut r = futures::io::BufReader::new(stream);
                    while let Ok(Some(body)) = read_frame(&mut r, MAX_MESSAGE_SIZE).await {
                        let Ok(m) = Received::decode(body) else { return };
                        if tx.send((peer, m)).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { id: net.local_peer_id(), net, addr, inbox }
    }

    pub async fn open(&self, peer: PeerId, protocol: &'static str) -> rubo_net::libp2p::Stream {
        let mut c = self.net.stream_control();
        tokio::time::timeout(WAIT, c.open_stream(peer, rubo_net::libp2p::StreamProtocol::new(protocol)))
            .await
            .expect("open in time")
            .expect("open stream")
    }

    /// The next message any peer sent us.
    pub async fn recv(&mut self) -> (PeerId, rubo_bitswap::message::Received) {
        tokio::time::timeout(WAIT, self.inbox.recv()).await.expect("a message in time").expect("inbox open")
    }
}

/// Writes raw bytes (frames or garbage) on a stream.
pub async fn write(stream: &mut rubo_net::libp2p::Stream, bytes: &[u8]) -> std::io::Result<()> {
    use futures::AsyncWriteExt as _;
    stream.write_all(bytes).await?;
    stream.flush().await
}

/// A UnixFS directory (CIDv1) of files named `f0000`, `f0001`, ... with these contents.
pub fn dir_dag(files: &[Vec<u8>]) -> (Cid, Vec<Block>) {
    use rubo_unixfs::DirEntry;
    use rubo_unixfs::dir::{DirOptions, build_directory};
    let mut blocks = Vec::new();
    let mut entries = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let (cid, bs) = file_dag(f);
        let tsize = bs.iter().map(|b| b.len() as u64).sum();
        blocks.extend(bs);
        entries.push(DirEntry { name: format!("f{i:04}").into(), cid, tsize });
    }
    let opts = DirOptions {
        prefix: CidPrefix { version: rubo_types::Version::V1, ..CidPrefix::default() },
        ..DirOptions::default()
    };
    let (root, _) = build_directory::<String>(entries, &opts, &mut |b| {
        blocks.push(b);
        Ok(())
    })
    .expect("build directory");
    (root, blocks)
}

/// A directory's files (name, bytes) read back from `store`.
pub fn read_dir(store: &MemoryStore, root: &Cid) -> Vec<(String, Vec<u8>)> {
    use rubo_bitswap::BlockStore as _;
    let mut get = |c: &Cid| store.get(c).map_err(|e| e.to_string())?.ok_or_else(|| format!("missing {c}"));
    let root = get(root).expect("root");
    let entries = rubo_unixfs::export::list_dir(&root, &mut get).expect("list");
    entries.iter().map(|e| (e.name.to_string(), read_file(store, &e.cid))).collect()
}
