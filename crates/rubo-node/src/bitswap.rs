//! Bitswap as the node's exchange: the repo's blocks behind rubo-bitswap's
//! narrow store trait, and the block service's fetches through one node-wide
//! session, so peers that have shown they hold content are asked first.

use std::sync::Arc;

use futures::StreamExt as _;
use rubo_bitswap::{Bitswap, BlockStore, Session, StoreError};
use rubo_repo::Blockstore;
use rubo_types::{Block, Cid};
use tokio::sync::mpsc;

use crate::NodeError;
use crate::blocks::Exchange;

/// Blocks a fetch hands over before the reader takes them.
const FETCH_CHANNEL: usize = 64;

/// The repo's blockstore, as Bitswap sees it.
pub struct RepoBlocks(pub Arc<dyn Blockstore>);

impl BlockStore for RepoBlocks {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError> {
        Ok(self.0.get(cid)?)
    }

    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.0.has(cid)?)
    }

    fn size(&self, cid: &Cid) -> Result<Option<usize>, StoreError> {
        Ok(self.0.size(cid)?.map(|n| usize::try_from(n).unwrap_or(usize::MAX)))
    }

    fn put_many(&self, blocks: &[Block]) -> Result<(), StoreError> {
        self.0.put_many(blocks)?;
        Ok(())
    }
}

/// Bitswap behind the block service's [`Exchange`].
pub struct BitswapExchange {
    bitswap: Bitswap,
    session: Session,
    rt: tokio::runtime::Handle,
}

impl BitswapExchange {
    /// Must be called inside the runtime `rt` (the session's task starts there).
    pub fn new(bitswap: Bitswap, rt: tokio::runtime::Handle) -> Self {
        let _g = rt.enter();
        let session = bitswap.session();
        Self { bitswap, session, rt }
    }
}

pub(crate) fn node_error(e: rubo_bitswap::Error) -> NodeError {
    match e {
        rubo_bitswap::Error::Timeout(cid) => NodeError::Timeout(cid),
        e => NodeError::Internal(format!("bitswap: {e}")),
    }
}

impl Exchange for BitswapExchange {
    fn fetch(&self, cids: Vec<Cid>) -> mpsc::Receiver<Result<Block, NodeError>> {
        let (tx, rx) = mpsc::channel(FETCH_CHANNEL);
        // Readers call this from blocking threads: spawn on the node's runtime.
        let _g = self.rt.enter();
        let mut blocks = self.session.get_many(cids);
        self.rt.spawn(async move {
            loop {
                let next = tokio::select! {
                    b = blocks.next() => b,
                    // The reader left: dropping `blocks` cancels the rest.
                    () = tx.closed() => return,
                };
                let Some(r) = next else { return };
                let failed = r.is_err();
                if tx.send(r.map_err(node_error)).await.is_err() || failed {
                    return;
                }
            }
        });
        rx
    }

    fn blocks_added(&self, blocks: &[Block]) {
        self.bitswap.notify_new_blocks(blocks);
    }
}
