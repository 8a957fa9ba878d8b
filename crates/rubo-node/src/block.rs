//! The block API: raw blocks in and out, as `rubo block` uses them.

use rubo_types::{BLOCK_SIZE_LIMIT, Block, Bytes, Cid, Version, hash};
use serde::{Deserialize, Serialize};

use crate::{Node, NodeError, PinKind};

/// How `put` builds the CID.
#[derive(Debug, Clone)]
pub struct PutOptions {
    pub codec: u64,
    pub hash: u64,
    /// Digest length; `None` for the hash's default.
    pub hash_len: Option<usize>,
    pub version: Version,
    /// Allow blocks over 2 MiB (Bitswap can't carry them).
    pub allow_big: bool,
    /// Pin the block recursively (as it is: its links need not be local).
    pub pin: bool,
}

impl Default for PutOptions {
    fn default() -> Self {
        Self {
            codec: rubo_types::codec::RAW,
            hash: hash::SHA2_256,
            hash_len: None,
            version: Version::V1,
            allow_big: false,
            pin: false,
        }
    }
}

/// A block's CID and size (Kubo's `BlockStat`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStat {
    pub cid: Cid,
    pub size: u64,
}

/// The error Kubo gives for a block over the Bitswap limit.
pub const BIG_BLOCK_ERROR: &str = "produced block is over 2MiB: big blocks can't be exchanged with other peers. consider using UnixFS for automatic chunking of bigger files, or pass --allow-big-block to override";

/// The block API of a node.
#[derive(Clone)]
pub struct BlockApi {
    pub(crate) node: Node,
}

impl BlockApi {
    /// Every block stored here (`refs local`), as a CIDv1 raw of its
    /// multihash (flatfs keeps multihashes only); files that are not blocks
    /// are left out.
    pub fn local(&self) -> tokio::sync::mpsc::Receiver<Result<Cid, NodeError>> {
        self.node.stream_blocking(|n, emit| {
            for k in n.repo().blockstore().keys()? {
                if let rubo_repo::blockstore::StoredKey::Block(mh) = k?
                    && !emit(Cid::new_v1(rubo_types::codec::RAW, mh))
                {
                    break;
                }
            }
            Ok(())
        })
    }

    /// Hashes and durably stores a block.
    pub async fn put(&self, data: Bytes, opts: PutOptions) -> Result<BlockStat, NodeError> {
        if !opts.allow_big && data.len() > BLOCK_SIZE_LIMIT {
            return Err(NodeError::InvalidInput(BIG_BLOCK_ERROR.into()));
        }
        let bs = self.node.blockstore();
        if !hash::is_allowed(opts.hash) {
            return Err(hash::HashError::NotAllowed.into());
        }
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || {
            let block = Block::encode(data, opts.codec, opts.hash, opts.hash_len, opts.version)?;
            let mh = block.cid().hash();
            hash::validate(mh.code(), mh.size() as usize)?;
            // The bytes are stored as given, whatever the codec (as Kubo):
            // readers of the block report what they cannot decode.
            let _gc = node.gc_read();
            bs.put(&block)?;
            if opts.pin {
                node.pin().add_recursive_trusted(block.cid(), "")?;
            }
            Ok(BlockStat { cid: *block.cid(), size: block.len() as u64 })
        })
        .await?
    }

    /// A verified block: local, or fetched when online.
    pub async fn get(&self, cid: &Cid) -> Result<Block, NodeError> {
        let bs = self.node.blockstore();
        let c = *cid;
        let got = tokio::task::spawn_blocking(move || bs.get(&c)).await??;
        got.ok_or_else(|| NodeError::not_found(cid))
    }

    /// Size of a block (verified, so that stat never vouches for a corrupt one).
    pub async fn stat(&self, cid: &Cid) -> Result<BlockStat, NodeError> {
        let b = self.get(cid).await?;
        Ok(BlockStat { cid: *cid, size: b.len() as u64 })
    }

    /// Removes local blocks, refusing pinned ones (Kubo's `RmBlocks`): one
    /// result per CID, in order. `force` ignores absent blocks.
    pub async fn rm(&self, cids: Vec<Cid>, force: bool) -> Result<Vec<(Cid, Result<(), NodeError>)>, NodeError> {
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || {
            // Exclusive, as GC: no pin may appear on a block being removed.
            let _gc = node.gc_write();
            let bs = node.repo().blockstore();
            let pinned = node.pin().check_pinned(&cids)?;
            let mut out = Vec::with_capacity(cids.len());
            for (c, p) in cids.into_iter().zip(pinned) {
                let r = match p {
                    Some(PinKind::Indirect(root)) => Err(NodeError::InvalidInput(format!("pinned via {root}"))),
                    Some(k) => Err(NodeError::InvalidInput(format!("pinned: {}", k.name()))),
                    None => match bs.delete(&c) {
                        Ok(false) if !force => Err(NodeError::Missing(Box::new(c))),
                        Ok(_) => Ok(()),
                        Err(e) => Err(e.into()),
                    },
                };
                out.push((c, r));
            }
            Ok(out)
        })
        .await?
    }
}
