//! The block service: the node's one way to read a block. The local store
//! first, then, on an online node, the exchange (Bitswap), whose blocks
//! arrive verified and are stored durably before they are handed out.
//!
//! It is a [`Blockstore`], so every reader of the node (UnixFS, DAG walks,
//! pins, MFS, CAR export) fetches what is missing without knowing it. What
//! must stay local, garbage collection and `repo` statistics, uses the
//! repo's store directly. An offline view of the node ([`crate::Node::offline`],
//! `--offline`) never touches the network: a missing block fails at once.

use std::sync::Arc;
use std::time::Duration;

use rubo_repo::blockstore::StoredKey;
use rubo_repo::{Blockstore, BlockstoreError};
use rubo_types::{Block, Cid, Multihash};
use tokio::sync::mpsc;

use crate::NodeError;

/// How long a read waits for a block from the network before it fails
/// (Kubo's gateway default, `Gateway.RetrievalTimeout`).
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Where blocks that are not local come from (Bitswap; later HTTP retrieval).
/// Implementations verify blocks against their CIDs before handing them out.
pub trait Exchange: Send + Sync + 'static {
    /// Fetches `cids`; each block is sent as it arrives, in any order, and the
    /// channel closes when all are sent or the fetch fails (an `Err` last).
    /// Blocks sent are verified and stored already (or about to be: the
    /// service stores what a reader waits for once more, before handing it out).
    /// Dropping the receiver cancels what is still wanted.
    fn fetch(&self, cids: Vec<Cid>) -> mpsc::Receiver<Result<Block, NodeError>>;

    /// Blocks newly stored here: peers that want them are served.
    fn blocks_added(&self, blocks: &[Block]);
}

/// Most children of one block fetched ahead of the reader (a HAMT shard has
/// 256, a balanced file node 174; a huge flat directory gets the first ones).
const AHEAD_CHILDREN: usize = 1024;
/// Most blocks fetched ahead and not yet read, node-wide: past it, readers
/// fetch on demand until the readers catch up.
const AHEAD_MAX: usize = 8192;

/// The exchange of an online node and what it fetches ahead of readers.
///
/// Readers (the exporter, DAG walks) read one block at a time; asked for one
/// by one, every block would cost a round trip. So when a block comes from
/// the network its children are asked for together, in the background; and
/// when a reader reaches one of those, its own children are asked for in
/// turn. The network stays one level ahead of each reader, and what is
/// fetched ahead is bounded by [`AHEAD_MAX`].
pub struct Online {
    ex: Arc<dyn Exchange>,
    rt: tokio::runtime::Handle,
    /// Fetched (or being fetched) ahead, children not yet asked for.
    ahead: std::sync::Mutex<std::collections::HashSet<Cid>>,
    /// Announces new blocks, when the node provides.
    pub(crate) provider: std::sync::OnceLock<Arc<crate::provider::Provider>>,
}

impl Online {
    pub fn new(ex: Arc<dyn Exchange>, rt: tokio::runtime::Handle) -> Self {
        Self {
            ex,
            rt,
            ahead: std::sync::Mutex::new(std::collections::HashSet::new()),
            provider: std::sync::OnceLock::new(),
        }
    }

    pub fn exchange(&self) -> &Arc<dyn Exchange> {
        &self.ex
    }

    /// Asks, in the background, for the children of `block` that are not here.
    fn fetch_children(&self, block: &Block, local: &dyn Blockstore) {
        let Ok(links) = rubo_dag::links::block_links(block) else { return };
        if links.is_empty() {
            return;
        }
        let mut want = Vec::new();
        {
            let Ok(mut ahead) = self.ahead.lock() else { return };
            if ahead.len() + AHEAD_CHILDREN > AHEAD_MAX {
                // Readers left much unread (a range of a big file, say):
                // forget it; who reaches those blocks fetches them on demand.
                ahead.clear();
            }
            for c in links.into_iter().take(AHEAD_CHILDREN) {
                if matches!(local.has(&c), Ok(true)) && !ahead.contains(&c) {
                    continue;
                }
                if ahead.insert(c) {
                    want.push(c);
                }
            }
        }
        if want.is_empty() {
            return;
        }
        // The exchange stores what it fetches; draining is all that is left.
        let mut rx = self.ex.fetch(want);
        self.rt.spawn(async move {
            while let Some(r) = rx.recv().await {
                if r.is_err() {
                    break;
                }
            }
        });
    }

    /// A reader took `block`: if it was fetched ahead, fetch its children ahead.
    fn reached(&self, block: &Block, local: &dyn Blockstore) {
        let was_ahead = self.ahead.lock().map(|mut a| a.remove(block.cid())).unwrap_or(false);
        if was_ahead {
            self.fetch_children(block, local);
        }
    }
}

/// The local store, with the exchange behind it when online.
pub struct BlockService {
    local: Arc<dyn Blockstore>,
    online: Option<Arc<Online>>,
    timeout: Duration,
}

impl BlockService {
    pub fn new(local: Arc<dyn Blockstore>, online: Option<Arc<Online>>) -> Self {
        Self { local, online, timeout: DEFAULT_FETCH_TIMEOUT }
    }

    /// Fetches one block from the network and stores it. Called from
    /// blocking threads only (readers run there), never from async code.
    fn fetch_blocking(&self, cid: &Cid) -> Result<Option<Block>, BlockstoreError> {
        let Some(on) = &self.online else { return Ok(None) };
        let mut rx = on.ex.fetch(vec![*cid]);
        let timeout = self.timeout;
        let got = on.rt.block_on(async move { tokio::time::timeout(timeout, rx.recv()).await });
        let block = match got {
            Ok(Some(Ok(b))) => b,
            Ok(Some(Err(e))) => return Err(BlockstoreError::Other(Box::new(e))),
            Ok(None) => return Ok(None),
            Err(_) => return Err(BlockstoreError::Other(Box::new(NodeError::Timeout(Box::new(*cid))))),
        };
        // Durable before it is handed out: a reader may pin what it read.
        self.local.put(&block)?;
        if let Ok(mut a) = on.ahead.lock() {
            a.remove(cid);
        }
        on.fetch_children(&block, self.local.as_ref());
        Ok(Some(block))
    }
}

impl Blockstore for BlockService {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, BlockstoreError> {
        match self.local.get(cid)? {
            Some(b) => {
                if let Some(on) = &self.online {
                    on.reached(&b, self.local.as_ref());
                }
                Ok(Some(b))
            }
            None => self.fetch_blocking(cid),
        }
    }

    fn get_raw(&self, mh: &Multihash) -> Result<Option<Vec<u8>>, BlockstoreError> {
        self.local.get_raw(mh)
    }

    fn size(&self, cid: &Cid) -> Result<Option<u64>, BlockstoreError> {
        self.local.size(cid)
    }

    fn has(&self, cid: &Cid) -> Result<bool, BlockstoreError> {
        self.local.has(cid)
    }

    fn put_many(&self, blocks: &[Block]) -> Result<usize, BlockstoreError> {
        let n = self.local.put_many(blocks)?;
        if let Some(on) = &self.online {
            on.ex.blocks_added(blocks);
            if let Some(p) = on.provider.get() {
                p.blocks_added(blocks);
            }
        }
        Ok(n)
    }

    fn delete(&self, cid: &Cid) -> Result<bool, BlockstoreError> {
        self.local.delete(cid)
    }

    fn keys(
        &self,
    ) -> Result<Box<dyn Iterator<Item = Result<StoredKey, BlockstoreError>> + Send + '_>, BlockstoreError> {
        self.local.keys()
    }

    fn disk_usage(&self) -> Result<u64, BlockstoreError> {
        self.local.disk_usage()
    }
}
