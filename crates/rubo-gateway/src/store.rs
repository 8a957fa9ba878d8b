//! Where the gateway reads blocks: the node's block service (or its offline
//! view), behind a small cache of verified blocks, so hot content is served
//! without re-reading and re-hashing it for every request. Content
//! addressing makes the cache always valid.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rubo_dag::{BlockSource, SourceError};
use rubo_node::NodeError;
use rubo_node::rubo_repo::Blockstore;
use rubo_types::{Block, Cid};

/// Blocks larger than this are not cached (one would evict everything).
const MAX_CACHED_BLOCK: usize = 2 << 20;

/// Two generations: lookups promote from the old one, and when the young
/// one is full it becomes the old one. O(1) per operation, and at most
/// `capacity` bytes of blocks held.
#[derive(Default)]
struct Generations {
    young: HashMap<Cid, Block>,
    young_bytes: usize,
    old: HashMap<Cid, Block>,
}

/// A bounded cache of verified blocks.
pub(crate) struct BlockCache {
    inner: Mutex<Generations>,
    /// Bytes per generation.
    half: usize,
}

impl BlockCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { inner: Mutex::new(Generations::default()), half: capacity / 2 }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    pub(crate) fn get(&self, cid: &Cid) -> Option<Block> {
        if self.half == 0 {
            return None;
        }
        let mut g = self.lock();
        if let Some(b) = g.young.get(cid) {
            return Some(b.clone());
        }
        let b = g.old.remove(cid)?;
        Self::put_young(&mut g, self.half, b.clone());
        Some(b)
    }

    pub(crate) fn insert(&self, block: &Block) {
        if self.half == 0 || block.len() > MAX_CACHED_BLOCK.min(self.half) {
            return;
        }
        let mut g = self.lock();
        if !g.young.contains_key(block.cid()) {
            Self::put_young(&mut g, self.half, block.clone());
        }
    }

    fn put_young(g: &mut Generations, half: usize, block: Block) {
        if g.young_bytes + block.len() > half {
            g.old = std::mem::take(&mut g.young);
            g.young_bytes = 0;
        }
        g.young_bytes += block.len();
        g.young.insert(*block.cid(), block);
    }
}

/// The blocks one request reads: the node's store (online or offline view)
/// through the gateway's cache.
#[derive(Clone)]
pub(crate) struct Store {
    bs: Arc<dyn Blockstore>,
    cache: Arc<BlockCache>,
}

impl Store {
    pub(crate) fn new(bs: Arc<dyn Blockstore>, cache: Arc<BlockCache>) -> Self {
        Self { bs, cache }
    }

    /// A block, or `NotFound` (offline) / `Timeout` (online) errors from the node.
    pub(crate) fn get(&self, cid: &Cid) -> Result<Block, NodeError> {
        if let Some(b) = rubo_dag::source::identity_block(cid) {
            return Ok(b);
        }
        if let Some(b) = self.cache.get(cid) {
            return Ok(b);
        }
        let b = self.bs.get(cid)?.ok_or_else(|| NodeError::not_found(cid))?;
        self.cache.insert(&b);
        Ok(b)
    }

    /// Whether the block is here without fetching (identity CIDs always are).
    pub(crate) fn is_local(&self, cid: &Cid) -> bool {
        rubo_dag::source::is_identity(cid) || self.cache.get(cid).is_some() || self.bs.has(cid).unwrap_or(false)
    }
}

impl BlockSource for Store {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, SourceError> {
        match Store::get(self, cid) {
            Ok(b) => Ok(Some(b)),
            Err(NodeError::BlockNotFound(_)) => Ok(None),
            Err(e) => Err(Box::new(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::{Version, codec, hash};

    fn raw(n: u8, len: usize) -> Block {
        Block::encode(vec![n; len], codec::RAW, hash::SHA2_256, None, Version::V1).unwrap()
    }

    #[test]
    fn bounded() {
        let c = BlockCache::new(1000);
        let blocks: Vec<Block> = (0..20).map(|i| raw(i, 100)).collect();
        for b in &blocks {
            c.insert(b);
        }
        let held: usize = blocks.iter().filter(|b| c.get(b.cid()).is_some()).count();
        assert!((1..=10).contains(&held), "{held}");
        assert!(c.get(blocks[19].cid()).is_some());
        // Too big for a generation: not kept.
        let big = raw(99, 600);
        c.insert(&big);
        assert!(c.get(big.cid()).is_none());
    }
}
