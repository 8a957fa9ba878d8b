//! Where blocks come from: a small trait, so this crate needs no storage.

use std::collections::{BTreeMap, HashMap};
use std::error::Error;

use rubo_types::{Block, Bytes, Cid, hash};

/// An error from a block source, boxed so sources can use their own types.
pub type SourceError = Box<dyn Error + Send + Sync + 'static>;

/// Something blocks can be read from: a blockstore, a CAR, a map in a test.
///
/// `get` returns the block verified against `cid`, or `None` if it is absent.
/// Identity CIDs never reach a source: the walkers and the resolver answer
/// them from the CID itself, as Kubo's identity blockstore wrapper does.
pub trait BlockSource {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, SourceError>;
}

impl<F> BlockSource for F
where
    F: Fn(&Cid) -> Result<Option<Block>, SourceError>,
{
    fn get(&self, cid: &Cid) -> Result<Option<Block>, SourceError> {
        self(cid)
    }
}

/// Blocks in memory keyed by CID (an exact-CID lookup, as a CAR holds them).
impl BlockSource for HashMap<Cid, Block> {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, SourceError> {
        Ok(HashMap::get(self, cid).cloned())
    }
}

impl BlockSource for BTreeMap<Cid, Block> {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, SourceError> {
        Ok(BTreeMap::get(self, cid).cloned())
    }
}

/// Whether the CID's multihash is the identity: its data is the digest.
pub fn is_identity(cid: &Cid) -> bool {
    cid.hash().code() == hash::IDENTITY
}

/// The block an identity CID carries inline.
pub fn identity_block(cid: &Cid) -> Option<Block> {
    is_identity(cid).then(|| Block::new_unchecked(*cid, Bytes::copy_from_slice(cid.hash().digest())))
}

/// Reads a block: identity CIDs from the CID, others from `src`.
pub fn load(src: &(impl BlockSource + ?Sized), cid: &Cid) -> Result<Option<Block>, SourceError> {
    match identity_block(cid) {
        Some(b) => Ok(Some(b)),
        None => src.get(cid),
    }
}
