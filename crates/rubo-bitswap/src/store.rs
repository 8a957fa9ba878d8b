//! What Bitswap needs from storage: a narrow, synchronous trait (the node's flatfs is sync and
//! fast for `has`/`size`). Bitswap calls it from blocking threads, never on the async runtime.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rubo_types::{Block, Cid, hash};

/// A storage failure, as the store reports it.
pub type StoreError = Box<dyn std::error::Error + Send + Sync>;

/// The blocks Bitswap serves from and stores into.
pub trait BlockStore: Send + Sync + 'static {
    /// The block, if held. Implementations verify or trust their own data as they see fit.
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError>;
    /// Whether the block is held: answers want-haves without reading data.
    fn has(&self, cid: &Cid) -> Result<bool, StoreError>;
    /// The block's size, if held: decides HAVE vs. sending a small block, without reading it.
    fn size(&self, cid: &Cid) -> Result<Option<usize>, StoreError>;
    /// Stores blocks durably: when this returns, they survive a crash.
    fn put_many(&self, blocks: &[Block]) -> Result<(), StoreError>;
}

/// The block an identity CID holds inline, if `cid` is one: never stored, never fetched.
pub fn identity_block(cid: &Cid) -> Option<Block> {
    (cid.hash().code() == hash::IDENTITY)
        .then(|| Block::new_unchecked(*cid, bytes::Bytes::copy_from_slice(cid.hash().digest())))
}

/// An in-memory store, for tests and ephemeral nodes.
#[derive(Default)]
pub struct MemoryStore {
    blocks: Mutex<HashMap<Cid, Block>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds blocks (same as `put_many`, infallible).
    pub fn insert(&self, blocks: impl IntoIterator<Item = Block>) {
        let mut m = self.blocks.lock().unwrap_or_else(PoisonError::into_inner);
        for b in blocks {
            m.insert(*b.cid(), b);
        }
    }

    pub fn remove(&self, cid: &Cid) -> Option<Block> {
        self.blocks.lock().unwrap_or_else(PoisonError::into_inner).remove(cid)
    }
}

impl BlockStore for MemoryStore {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError> {
        Ok(self.blocks.lock().unwrap_or_else(PoisonError::into_inner).get(cid).cloned())
    }

    fn has(&self, cid: &Cid) -> Result<bool, StoreError> {
        Ok(self.blocks.lock().unwrap_or_else(PoisonError::into_inner).contains_key(cid))
    }

    fn size(&self, cid: &Cid) -> Result<Option<usize>, StoreError> {
        Ok(self.blocks.lock().unwrap_or_else(PoisonError::into_inner).get(cid).map(Block::len))
    }

    fn put_many(&self, blocks: &[Block]) -> Result<(), StoreError> {
        self.insert(blocks.iter().cloned());
        Ok(())
    }
}
