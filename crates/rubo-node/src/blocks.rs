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
    fn fetch(&self, cids: Vec<Cid>) -> mpsc::Receiver<Result<Block, NodeError>>;

    /// Blocks newly stored here: peers that want them are served.
    fn blocks_added(&self, blocks: &[Block]);
}

/// The local store, with the exchange behind it when online.
pub struct BlockService {
    local: Arc<dyn Blockstore>,
    exchange: Option<(Arc<dyn Exchange>, tokio::runtime::Handle)>,
    timeout: Duration,
}

impl BlockService {
    pub fn new(local: Arc<dyn Blockstore>, exchange: Option<(Arc<dyn Exchange>, tokio::runtime::Handle)>) -> Self {
        Self { local, exchange, timeout: DEFAULT_FETCH_TIMEOUT }
    }

    /// Fetches one block from the network and stores it. Called from
    /// blocking threads only (readers run there), never from async code.
    fn fetch_blocking(&self, cid: &Cid) -> Result<Option<Block>, BlockstoreError> {
        let Some((ex, rt)) = &self.exchange else { return Ok(None) };
        let mut rx = ex.fetch(vec![*cid]);
        let timeout = self.timeout;
        let got = rt.block_on(async move { tokio::time::timeout(timeout, rx.recv()).await });
        let block = match got {
            Ok(Some(Ok(b))) => b,
            Ok(Some(Err(e))) => return Err(BlockstoreError::Other(Box::new(e))),
            Ok(None) => return Ok(None),
            Err(_) => return Err(BlockstoreError::Other(Box::new(NodeError::Timeout(Box::new(*cid))))),
        };
        // Durable before it is handed out: a reader may pin what it read.
        self.local.put(&block)?;
        Ok(Some(block))
    }
}

impl Blockstore for BlockService {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, BlockstoreError> {
        match self.local.get(cid)? {
            Some(b) => Ok(Some(b)),
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
        if let Some((ex, _)) = &self.exchange {
            ex.blocks_added(blocks);
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
