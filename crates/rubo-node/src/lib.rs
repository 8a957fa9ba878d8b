//! The rubo node: the one Rust API (the CoreAPI) that the CLI, the HTTP RPC API
//! and the gateway are thin faces over.
//!
//! A [`Node`] owns an open [`Repo`]; later it also owns the libp2p swarm. Its
//! sub-APIs ([`Node::block`], [`Node::repo_api`], ...) are cheap handles. Methods
//! that touch disk in bulk run on blocking threads, so the node can sit under an
//! async HTTP server.

pub mod bitswap;
mod block;
pub mod blocks;
pub mod dag;
mod error;
pub mod gc;
pub mod get;
pub mod keys;
mod mfs;
pub mod net;
pub mod path;
pub mod pins;
pub mod provider;
pub mod records;
mod repo_api;
pub mod routing;
pub mod sweep;
mod unixfs;
pub mod writer;

use std::path::Path;
use std::sync::Arc;

pub use block::{BIG_BLOCK_ERROR, BlockApi, BlockStat, PutOptions};
pub use dag::{
    DagApi, DagPath, DagPutOptions, DagResolved, DagStat, DagStatSummary, ImportEvent, ImportFiles, NodeSource,
};
pub use error::{ErrorKind, NodeError};
pub use gc::GcEvent;
pub use get::GetOptions;
pub use mfs::{Chroot, EMPTY_DIR, FilesApi, NodeStore, cid_prefix, rubo_mfs};
pub use path::IpfsPath;
pub use pins::{ListedPin, Pin, PinApi, PinFilter, PinKind, PinProgress};
pub use rubo_unixfs;
pub use unixfs::{AddEntries, AddEvent, AddOptions, LsEntry, LsKind, UnixfsApi};

/// Bounded: a slow consumer slows the producer, never grows memory.
pub const STREAM_BUFFER: usize = 64;
pub use repo_api::{RepoApi, RepoStat, VerifyEvent, version_string};
pub use rubo_bitswap;
pub use rubo_net;
pub use rubo_repo::{self, LockMode, Repo};
pub use rubo_routing;
pub use rubo_types;

/// The version of this build.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git commit this build came from, if known.
pub const COMMIT: &str = env!("RUBO_COMMIT");
/// The compiler that built it (`rustc 1.95.0 (...)`).
pub const RUSTC: &str = env!("RUBO_RUSTC");

/// The agent version rubo announces (libp2p identify, `rubo id`).
pub fn agent_version() -> String {
    format!("rubo/{VERSION}")
}

struct Inner {
    repo: Repo,
    /// Held for reading by anything that writes blocks it will then pin or
    /// link from the MFS root; for writing by GC.
    gc: std::sync::RwLock<()>,
    /// Serializes this node's MFS read-modify-write cycles (its root is one
    /// datastore key). Per node: two nodes in one process do not wait on
    /// each other; the repo lock keeps two processes off one repo.
    mfs: std::sync::Mutex<()>,
    /// The network, once online (a daemon); only its actor owns the Swarm.
    net: std::sync::OnceLock<rubo_net::NetHandle>,
    net_task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Whether a daemon runs this node (`rubo shutdown` may stop it).
    daemon: std::sync::atomic::AtomicBool,
    shutdown: tokio::sync::Notify,
    /// Where missing blocks come from, once online.
    exchange: std::sync::OnceLock<Arc<blocks::Online>>,
    /// Bitswap, once online: what `bitswap stat` and friends read.
    bitswap: std::sync::OnceLock<rubo_bitswap::Bitswap>,
    /// The delegated routers, once online and configured.
    delegated: std::sync::OnceLock<rubo_routing::DelegatedClient>,
    /// Announces blocks to the DHT, once online with a DHT and `Provide.Enabled`.
    provider: std::sync::OnceLock<Arc<provider::Provider>>,
}

/// A node over an open repo. Clones share it.
#[derive(Clone)]
pub struct Node {
    inner: Arc<Inner>,
    /// This handle never uses the network (`--offline` on an online node).
    offline: bool,
}

/// Items a node stream holds before its producer waits for the reader.
pub(crate) const STREAM_CHANNEL: usize = 64;

/// A `Write` that hands what it is given to `emit` in chunks of about `size`
/// bytes (for producers of byte streams on blocking threads).
pub(crate) struct ChunkWriter<'a> {
    emit: &'a mut dyn FnMut(bytes::Bytes) -> bool,
    buf: Vec<u8>,
    size: usize,
}

impl<'a> ChunkWriter<'a> {
    pub(crate) fn new(emit: &'a mut dyn FnMut(bytes::Bytes) -> bool, size: usize) -> Self {
        Self { emit, buf: Vec::with_capacity(size), size }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = bytes::Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(self.size)));
        if (self.emit)(chunk) {
            Ok(())
        } else {
            Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the reader left"))
        }
    }

    /// Sends what is left.
    pub(crate) fn finish(mut self) -> Result<(), NodeError> {
        self.send().map_err(|e| NodeError::Internal(e.to_string()))
    }
}

impl std::io::Write for ChunkWriter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.size {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

impl Node {
    /// Runs blocking work of the node's async API (disk, hashing, waits for
    /// the network) on the blocking pool: callers never block the runtime.
    pub(crate) async fn run_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Node) -> Result<T, NodeError> + Send + 'static,
    ) -> Result<T, NodeError> {
        let node = self.clone();
        tokio::task::spawn_blocking(move || f(node)).await?
    }

    /// Runs `f` on the blocking pool, handing out what it emits through a
    /// bounded channel (`emit` answers false once the reader left); an error
    /// is the stream's last item.
    pub(crate) fn stream_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(Node, &mut dyn FnMut(T) -> bool) -> Result<(), NodeError> + Send + 'static,
    ) -> tokio::sync::mpsc::Receiver<Result<T, NodeError>> {
        let (tx, rx) = tokio::sync::mpsc::channel(STREAM_CHANNEL);
        let node = self.clone();
        tokio::task::spawn_blocking(move || {
            let res = {
                let mut emit = |v: T| tx.blocking_send(Ok(v)).is_ok();
                f(node, &mut emit)
            };
            if let Err(e) = res {
                let _ = tx.blocking_send(Err(e));
            }
        });
        rx
    }

    /// Opens the repo at `path` and builds an offline node on it.
    pub fn open(path: &Path, mode: LockMode, purpose: &str) -> Result<Self, NodeError> {
        Self::open_with_config(path, None, mode, purpose)
    }

    /// As [`Node::open`], the config read from `config` instead of the repo's own.
    pub fn open_with_config(
        path: &Path,
        config: Option<&Path>,
        mode: LockMode,
        purpose: &str,
    ) -> Result<Self, NodeError> {
        let repo = Repo::open_with_config(path, config, mode, purpose)?;
        Ok(Self::from_repo(repo))
    }

    pub fn from_repo(repo: Repo) -> Self {
        Self {
            inner: Arc::new(Inner {
                repo,
                gc: std::sync::RwLock::new(()),
                mfs: std::sync::Mutex::new(()),
                net: std::sync::OnceLock::new(),
                net_task: std::sync::Mutex::new(None),
                daemon: std::sync::atomic::AtomicBool::new(false),
                shutdown: tokio::sync::Notify::new(),
                exchange: std::sync::OnceLock::new(),
                bitswap: std::sync::OnceLock::new(),
                delegated: std::sync::OnceLock::new(),
                provider: std::sync::OnceLock::new(),
            }),
            offline: false,
        }
    }

    pub fn repo(&self) -> &Repo {
        &self.inner.repo
    }

    /// A view of this node that never touches the network: a block that is
    /// not local is an error at once (Kubo's `--offline` on a running daemon).
    pub fn offline(&self) -> Self {
        Self { inner: self.inner.clone(), offline: true }
    }

    /// Whether this view may fetch from the network.
    pub fn fetches(&self) -> bool {
        !self.offline && self.inner.exchange.get().is_some()
    }

    /// Where missing blocks come from, from now on (the daemon sets Bitswap).
    pub fn set_exchange(&self, ex: Arc<dyn blocks::Exchange>, rt: tokio::runtime::Handle) -> Result<(), NodeError> {
        self.inner
            .exchange
            .set(Arc::new(blocks::Online::new(ex, rt)))
            .map_err(|_| NodeError::Internal("the exchange is already set".into()))
    }

    /// The block service: what every reader of the node reads blocks through
    /// (local first, then the network unless offline). GC and repo
    /// statistics use `repo().blockstore()`: they must see only what is here.
    pub fn blockstore(&self) -> Arc<dyn rubo_repo::Blockstore> {
        let local = self.inner.repo.blockstore();
        match (self.offline, self.inner.exchange.get()) {
            (false, Some(on)) => Arc::new(blocks::BlockService::new(local, Some(on.clone()))),
            _ => local,
        }
    }

    pub fn block(&self) -> BlockApi {
        BlockApi { node: self.clone() }
    }

    pub fn repo_api(&self) -> RepoApi {
        RepoApi { node: self.clone() }
    }

    pub fn unixfs(&self) -> UnixfsApi {
        UnixfsApi { node: self.clone() }
    }

    pub fn pin(&self) -> PinApi {
        PinApi { node: self.clone() }
    }

    /// Blocks GC until dropped.
    pub fn gc_read(&self) -> std::sync::RwLockReadGuard<'_, ()> {
        match self.inner.gc.read() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Held for the whole of an MFS change.
    pub(crate) fn mfs_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        match self.inner.mfs.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn gc_write(&self) -> std::sync::RwLockWriteGuard<'_, ()> {
        match self.inner.gc.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}
