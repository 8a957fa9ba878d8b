//! Block access: the [`Store`] trait the node implements, an in-memory store,
//! and the per-operation context that batches writes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rubo_types::{Block, Cid, Version, hash};
use rubo_unixfs::CidPrefix;

use crate::error::{MfsError, StoreError};

/// Where MFS reads and writes blocks.
pub trait Store: Send + Sync {
    /// The block, verified against its CID, or `None` when it is not stored
    /// locally (the node is offline: MFS reports it as a clear error).
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError>;
    /// Stores blocks (children before parents); durable on return.
    fn put_many(&self, blocks: Vec<Block>) -> Result<(), StoreError>;
}

impl<T: Store + ?Sized> Store for &T {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError> {
        (**self).get(cid)
    }
    fn put_many(&self, blocks: Vec<Block>) -> Result<(), StoreError> {
        (**self).put_many(blocks)
    }
}

impl<T: Store + ?Sized> Store for Arc<T> {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError> {
        (**self).get(cid)
    }
    fn put_many(&self, blocks: Vec<Block>) -> Result<(), StoreError> {
        (**self).put_many(blocks)
    }
}

impl<T: Store + ?Sized> Store for Box<T> {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError> {
        (**self).get(cid)
    }
    fn put_many(&self, blocks: Vec<Block>) -> Result<(), StoreError> {
        (**self).put_many(blocks)
    }
}

/// A store in memory, counting what is written (for tests and tools).
#[derive(Debug, Default)]
pub struct MemStore {
    blocks: Mutex<HashMap<Cid, Block>>,
    puts: AtomicUsize,
    new_blocks: AtomicUsize,
    gets: AtomicUsize,
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Blocks handed to `put_many` so far (duplicates included).
    pub fn puts(&self) -> usize {
        self.puts.load(Ordering::Relaxed)
    }

    /// Blocks that were not stored before their `put_many`.
    pub fn new_blocks(&self) -> usize {
        self.new_blocks.load(Ordering::Relaxed)
    }

    /// Calls to `get` so far.
    pub fn gets(&self) -> usize {
        self.gets.load(Ordering::Relaxed)
    }

    /// Number of distinct blocks held.
    pub fn len(&self) -> usize {
        self.blocks.lock().map_or(0, |b| b.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn contains(&self, cid: &Cid) -> bool {
        self.blocks.lock().is_ok_and(|b| b.contains_key(cid))
    }

    /// Forgets a block (to simulate content that is not local).
    pub fn remove(&self, cid: &Cid) -> bool {
        self.blocks.lock().is_ok_and(|mut b| b.remove(cid).is_some())
    }

    /// Stores one block directly.
    pub fn insert(&self, block: Block) {
        if let Ok(mut b) = self.blocks.lock() {
            b.insert(*block.cid(), block);
        }
    }
}

impl Store for MemStore {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, StoreError> {
        self.gets.fetch_add(1, Ordering::Relaxed);
        let b = self.blocks.lock().map_err(|_| StoreError::new("memory store poisoned"))?;
        Ok(b.get(cid).cloned())
    }

    fn put_many(&self, blocks: Vec<Block>) -> Result<(), StoreError> {
        let mut b = self.blocks.lock().map_err(|_| StoreError::new("memory store poisoned"))?;
        self.puts.fetch_add(blocks.len(), Ordering::Relaxed);
        for block in blocks {
            if b.insert(*block.cid(), block).is_none() {
                self.new_blocks.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }
}

/// Pending writes are handed to the store once they reach this many bytes.
const FLUSH_BYTES: usize = 8 << 20;
/// boxo `verifcid.DefaultMaxIdentityDigestSize`.
pub(crate) const MAX_IDENTITY_DIGEST: usize = 128;

/// One operation's view of the store: reads see its own pending writes, and
/// writes go out in batches (all of them before the operation returns).
pub(crate) struct Ctx<'s, S: ?Sized> {
    store: &'s S,
    pending: Vec<Block>,
    index: HashMap<Cid, usize>,
    pending_bytes: usize,
}

impl<'s, S: Store + ?Sized> Ctx<'s, S> {
    pub(crate) fn new(store: &'s S) -> Self {
        Self { store, pending: Vec::new(), index: HashMap::new(), pending_bytes: 0 }
    }

    /// A block, or `None` when it is not local.
    pub(crate) fn try_get(&mut self, cid: &Cid) -> Result<Option<Block>, MfsError> {
        if cid.hash().code() == hash::IDENTITY {
            return Ok(Some(Block::new_unchecked(*cid, cid.hash().digest().to_vec())));
        }
        if let Some(&i) = self.index.get(cid) {
            return Ok(self.pending.get(i).cloned());
        }
        Ok(self.store.get(cid)?)
    }

    /// A block; a missing one is [`MfsError::BlockNotFound`].
    pub(crate) fn get(&mut self, cid: &Cid) -> Result<Block, MfsError> {
        self.try_get(cid)?.ok_or_else(|| MfsError::BlockNotFound(Box::new(*cid)))
    }

    /// Queues a block for storing (identity blocks live in their CID).
    pub(crate) fn put(&mut self, block: Block) -> Result<(), MfsError> {
        let cid = *block.cid();
        if cid.hash().code() == hash::IDENTITY || self.index.contains_key(&cid) {
            return Ok(());
        }
        self.pending_bytes += block.len();
        self.index.insert(cid, self.pending.len());
        self.pending.push(block);
        if self.pending_bytes >= FLUSH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Hands everything pending to the store.
    pub(crate) fn flush(&mut self) -> Result<(), MfsError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let blocks = std::mem::take(&mut self.pending);
        self.index.clear();
        self.pending_bytes = 0;
        self.store.put_many(blocks)?;
        Ok(())
    }
}

/// The builder boxo would use to re-encode a node: the prefix of its CID
/// (version, hash function and length). Identity CIDs stay inline while the
/// data fits, as boxo's `safePrefixForSize` does, and use sha2-256 beyond.
pub(crate) fn prefix_of(cid: &Cid) -> CidPrefix {
    let code = cid.hash().code();
    if code == hash::IDENTITY {
        return CidPrefix {
            version: Version::V1,
            hash: hash::SHA2_256,
            hash_len: None,
            inline_limit: Some(MAX_IDENTITY_DIGEST),
        };
    }
    let len = usize::from(cid.hash().size());
    let hash_len = if hash::default_length(code) == Some(len) { None } else { Some(len) };
    CidPrefix { version: cid.version(), hash: code, hash_len, inline_limit: None }
}

/// Whether re-encoding with `prefix` keeps a node's CID format.
pub(crate) fn same_format(cid: &Cid, prefix: &CidPrefix) -> bool {
    prefix_of(cid) == *prefix
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::{Bytes, codec, parse_cid};

    #[test]
    fn prefixes_of_cids() {
        let v0 = parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        assert_eq!(prefix_of(&v0), CidPrefix::default());
        assert!(same_format(&v0, &CidPrefix::default()));
        let v1 = parse_cid("bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354").unwrap();
        assert_eq!(prefix_of(&v1).version, Version::V1);
        assert!(!same_format(&v1, &CidPrefix::default()));
        // Identity stays inline up to boxo's limit.
        let id = Cid::new_v1(codec::DAG_PB, hash::identity(b"x").unwrap());
        assert_eq!(prefix_of(&id).inline_limit, Some(MAX_IDENTITY_DIGEST));
    }

    #[test]
    fn operations_read_their_own_writes_and_flush_in_batches() {
        let store = MemStore::new();
        let mut ctx = Ctx::new(&store);
        let b = Block::encode(Bytes::from_static(b"pending"), codec::RAW, hash::SHA2_256, None, Version::V1).unwrap();
        ctx.put(b.clone()).unwrap();
        ctx.put(b.clone()).unwrap();
        assert_eq!(ctx.get(b.cid()).unwrap(), b);
        assert_eq!(store.puts(), 0, "nothing written before the flush");
        ctx.flush().unwrap();
        assert_eq!((store.puts(), store.len()), (1, 1));
        assert_eq!(ctx.get(b.cid()).unwrap(), b);
        let missing = Cid::new_v1(codec::RAW, hash::sha2_256(b"missing"));
        assert!(matches!(ctx.get(&missing), Err(MfsError::BlockNotFound(_))));
        // Identity blocks come from the CID, never from the store.
        let id = Cid::new_v1(codec::RAW, hash::identity(b"inline").unwrap());
        assert_eq!(ctx.get(&id).unwrap().data().as_ref(), b"inline");
    }
}
