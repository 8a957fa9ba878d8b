//! The block store seen by everything above storage: verified reads, durable
//! writes, identity CIDs answered from the CID itself.

use std::collections::HashMap;
use std::sync::RwLock;

use rubo_types::{Block, Bytes, Cid, Multihash, hash};
use thiserror::Error;

use crate::flatfs::{FlatFs, FlatFsError, KeyEntry};

/// A block store failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BlockstoreError {
    /// The bytes on disk do not hash to the CID: never served.
    #[error("block {cid} is corrupt: the stored data does not match its hash")]
    Corrupt { cid: Box<Cid> },
    #[error("cannot hash block {cid}: {reason}")]
    Unverifiable { cid: Box<Cid>, reason: String },
    #[error(transparent)]
    FlatFs(#[from] FlatFsError),
    #[error("block store lock poisoned")]
    Poisoned,
    /// A failure of what stands behind a store (the network, for the node's
    /// block service), kept whole so that its kind survives.
    #[error(transparent)]
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// One entry of a block store listing.
#[derive(Debug)]
pub enum StoredKey {
    Block(Multihash),
    /// A file in the store that is not a block (reported by `repo verify`).
    Foreign(String),
}

/// A block store. Implementations are safe to share between threads.
pub trait Blockstore: Send + Sync + 'static {
    /// The block, verified against `cid`; `None` if absent.
    fn get(&self, cid: &Cid) -> Result<Option<Block>, BlockstoreError>;

    /// The raw stored bytes under a multihash, unverified (for `repo verify`).
    fn get_raw(&self, mh: &Multihash) -> Result<Option<Vec<u8>>, BlockstoreError>;

    fn size(&self, cid: &Cid) -> Result<Option<u64>, BlockstoreError>;

    fn has(&self, cid: &Cid) -> Result<bool, BlockstoreError> {
        Ok(self.size(cid)?.is_some())
    }

    /// Stores blocks; all of them are durable on `Ok`. Returns how many were new.
    fn put_many(&self, blocks: &[Block]) -> Result<usize, BlockstoreError>;

    fn put(&self, block: &Block) -> Result<bool, BlockstoreError> {
        Ok(self.put_many(std::slice::from_ref(block))? == 1)
    }

    /// Removes a block; false if it was absent.
    fn delete(&self, cid: &Cid) -> Result<bool, BlockstoreError>;

    /// Lists every stored block. Streams: does not hold the list in memory.
    fn keys(&self)
    -> Result<Box<dyn Iterator<Item = Result<StoredKey, BlockstoreError>> + Send + '_>, BlockstoreError>;

    /// Bytes of block data stored.
    fn disk_usage(&self) -> Result<u64, BlockstoreError>;
}

fn is_identity(cid: &Cid) -> bool {
    cid.hash().code() == hash::IDENTITY
}

fn identity_block(cid: &Cid) -> Block {
    Block::new_unchecked(*cid, Bytes::copy_from_slice(cid.hash().digest()))
}

/// Checks stored bytes against the CID they were asked for.
fn verified(cid: &Cid, data: Vec<u8>) -> Result<Block, BlockstoreError> {
    match hash::verify(cid.hash(), &data) {
        Ok(true) => Ok(Block::new_unchecked(*cid, data)),
        Ok(false) => Err(BlockstoreError::Corrupt { cid: Box::new(*cid) }),
        Err(e) => Err(BlockstoreError::Unverifiable { cid: Box::new(*cid), reason: e.to_string() }),
    }
}

/// Blocks in a flatfs directory.
#[derive(Debug)]
pub struct FsBlockstore {
    fs: FlatFs,
}

impl FsBlockstore {
    pub fn new(fs: FlatFs) -> Self {
        Self { fs }
    }

    pub fn flatfs(&self) -> &FlatFs {
        &self.fs
    }
}

impl Blockstore for FsBlockstore {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, BlockstoreError> {
        if is_identity(cid) {
            return Ok(Some(identity_block(cid)));
        }
        match self.fs.get(cid.hash())? {
            Some(data) => verified(cid, data).map(Some),
            None => Ok(None),
        }
    }

    fn get_raw(&self, mh: &Multihash) -> Result<Option<Vec<u8>>, BlockstoreError> {
        Ok(self.fs.get(mh)?)
    }

    fn size(&self, cid: &Cid) -> Result<Option<u64>, BlockstoreError> {
        if is_identity(cid) {
            return Ok(Some(cid.hash().size() as u64));
        }
        Ok(self.fs.size(cid.hash())?)
    }

    fn put_many(&self, blocks: &[Block]) -> Result<usize, BlockstoreError> {
        let items: Vec<(Multihash, &[u8])> =
            blocks.iter().filter(|b| !is_identity(b.cid())).map(|b| (*b.cid().hash(), b.data().as_ref())).collect();
        Ok(self.fs.put_many(&items)?)
    }

    fn delete(&self, cid: &Cid) -> Result<bool, BlockstoreError> {
        if is_identity(cid) {
            return Ok(false);
        }
        Ok(self.fs.delete(cid.hash())?)
    }

    fn keys(
        &self,
    ) -> Result<Box<dyn Iterator<Item = Result<StoredKey, BlockstoreError>> + Send + '_>, BlockstoreError> {
        let it = self.fs.keys()?.map(|e| match e {
            Ok(KeyEntry::Block { mh, .. }) => Ok(StoredKey::Block(mh)),
            Ok(KeyEntry::Foreign(p)) => Ok(StoredKey::Foreign(p.display().to_string())),
            Err(e) => Err(e.into()),
        });
        Ok(Box::new(it))
    }

    fn disk_usage(&self) -> Result<u64, BlockstoreError> {
        Ok(self.fs.disk_usage()?)
    }
}

/// An in-memory block store, for tests and hash-only imports.
#[derive(Debug, Default)]
pub struct MemBlockstore {
    map: RwLock<HashMap<Multihash, Bytes>>,
}

impl MemBlockstore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces stored bytes without checks (tests use it to corrupt blocks).
    pub fn put_raw(&self, mh: Multihash, data: Bytes) -> Result<(), BlockstoreError> {
        self.map.write().map_err(|_| BlockstoreError::Poisoned)?.insert(mh, data);
        Ok(())
    }
}

impl Blockstore for MemBlockstore {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, BlockstoreError> {
        if is_identity(cid) {
            return Ok(Some(identity_block(cid)));
        }
        let data = self.map.read().map_err(|_| BlockstoreError::Poisoned)?.get(cid.hash()).cloned();
        match data {
            Some(d) => match hash::verify(cid.hash(), &d) {
                Ok(true) => Ok(Some(Block::new_unchecked(*cid, d))),
                Ok(false) => Err(BlockstoreError::Corrupt { cid: Box::new(*cid) }),
                Err(e) => Err(BlockstoreError::Unverifiable { cid: Box::new(*cid), reason: e.to_string() }),
            },
            None => Ok(None),
        }
    }

    fn get_raw(&self, mh: &Multihash) -> Result<Option<Vec<u8>>, BlockstoreError> {
        Ok(self.map.read().map_err(|_| BlockstoreError::Poisoned)?.get(mh).map(|b| b.to_vec()))
    }

    fn size(&self, cid: &Cid) -> Result<Option<u64>, BlockstoreError> {
        if is_identity(cid) {
            return Ok(Some(cid.hash().size() as u64));
        }
        Ok(self.map.read().map_err(|_| BlockstoreError::Poisoned)?.get(cid.hash()).map(|b| b.len() as u64))
    }

    fn put_many(&self, blocks: &[Block]) -> Result<usize, BlockstoreError> {
        let mut m = self.map.write().map_err(|_| BlockstoreError::Poisoned)?;
        let mut n = 0;
        for b in blocks.iter().filter(|b| !is_identity(b.cid())) {
            if m.insert(*b.cid().hash(), b.data().clone()).is_none() {
                n += 1;
            }
        }
        Ok(n)
    }

    fn delete(&self, cid: &Cid) -> Result<bool, BlockstoreError> {
        Ok(self.map.write().map_err(|_| BlockstoreError::Poisoned)?.remove(cid.hash()).is_some())
    }

    fn keys(
        &self,
    ) -> Result<Box<dyn Iterator<Item = Result<StoredKey, BlockstoreError>> + Send + '_>, BlockstoreError> {
        let keys: Vec<_> = self.map.read().map_err(|_| BlockstoreError::Poisoned)?.keys().copied().collect();
        Ok(Box::new(keys.into_iter().map(|k| Ok(StoredKey::Block(k)))))
    }

    fn disk_usage(&self) -> Result<u64, BlockstoreError> {
        Ok(self.map.read().map_err(|_| BlockstoreError::Poisoned)?.values().map(|b| b.len() as u64).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flatfs::{Shard, SyncMode};
    use rubo_types::{Version, codec};

    fn blk(data: &'static [u8]) -> Block {
        Block::encode(Bytes::from_static(data), codec::RAW, hash::SHA2_256, None, Version::V1).unwrap()
    }

    fn conformance(bs: &dyn Blockstore) {
        let a = blk(b"hello");
        let b = blk(b"world");
        assert_eq!(bs.get(a.cid()).unwrap(), None);
        assert!(bs.put(&a).unwrap());
        assert!(!bs.put(&a).unwrap());
        assert_eq!(bs.put_many(&[a.clone(), b.clone()]).unwrap(), 1);
        assert_eq!(bs.get(a.cid()).unwrap(), Some(a.clone()));
        assert_eq!(bs.size(b.cid()).unwrap(), Some(5));
        // Same multihash under another codec is the same stored block.
        let as_pb = Cid::new_v1(codec::DAG_PB, *a.cid().hash());
        assert!(bs.has(&as_pb).unwrap());
        let n = bs.keys().unwrap().count();
        assert_eq!(n, 2);
        assert!(bs.delete(a.cid()).unwrap());
        assert!(!bs.delete(a.cid()).unwrap());
        assert!(!bs.has(a.cid()).unwrap());
        // Identity CIDs are answered from the CID.
        let id = Cid::new_v1(codec::RAW, hash::identity(b"inline").unwrap());
        assert_eq!(bs.get(&id).unwrap().unwrap().data().as_ref(), b"inline");
        assert!(bs.has(&id).unwrap());
    }

    #[test]
    fn mem_conformance() {
        conformance(&MemBlockstore::new());
    }

    #[test]
    fn fs_conformance_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        FlatFs::create(dir.path(), Shard::NextToLast(2)).unwrap();
        let bs = FsBlockstore::new(FlatFs::open(dir.path(), SyncMode::Auto, true).unwrap());
        conformance(&bs);
        let c = blk(b"precious");
        bs.put(&c).unwrap();
        let path = bs.flatfs().path_of(c.cid().hash());
        std::fs::write(&path, b"precioux").unwrap();
        assert!(matches!(bs.get(c.cid()), Err(BlockstoreError::Corrupt { .. })));
        assert_eq!(bs.disk_usage().unwrap(), 5 + 8);
    }
}
