//! UnixFS for rubo: files and directories as IPLD DAGs, byte-identical to Kubo's.
//!
//! - [`pb`]: the UnixFS `Data` message.
//! - [`chunker`]: Kubo's chunkers (`size-N`, `rabin`, `buzhash`).
//! - [`hamt`]: HAMT-sharded directories (murmur3, Kubo's layout).
//!
//! Everything here works on blocks through closures: no I/O of its own.

pub mod chunker;
pub mod dir;
pub mod export;
pub mod file;
pub mod hamt;
pub mod import;
pub mod murmur3;
pub mod pb;

use rubo_types::{BString, Block, BlockError, Bytes, Cid, Version, codec, hash};

/// How node CIDs are made: version and hash (the codec follows the node kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CidPrefix {
    pub version: Version,
    pub hash: u64,
    /// Digest length; `None` for the hash's default.
    pub hash_len: Option<usize>,
    /// `--inline`: nodes of at most this many bytes get an identity CIDv1
    /// (the data inside the CID), as Kubo's `InlineBuilder` does.
    pub inline_limit: Option<usize>,
}

impl Default for CidPrefix {
    /// Kubo's default: CIDv0, sha2-256.
    fn default() -> Self {
        Self { version: Version::V0, hash: hash::SHA2_256, hash_len: None, inline_limit: None }
    }
}

impl CidPrefix {
    /// A block for encoded dag-pb node bytes (CIDv0 when the prefix allows it).
    pub fn dag_pb(&self, bytes: Vec<u8>) -> Result<Block, BlockError> {
        self.make(Bytes::from(bytes), codec::DAG_PB, self.version)
    }

    /// A raw leaf block (always CIDv1).
    pub fn raw(&self, bytes: Bytes) -> Result<Block, BlockError> {
        self.make(bytes, codec::RAW, Version::V1)
    }

    fn make(&self, bytes: Bytes, codec: u64, version: Version) -> Result<Block, BlockError> {
        if self.inline_limit.is_some_and(|l| bytes.len() <= l) {
            return Block::encode(bytes, codec, hash::IDENTITY, None, Version::V1);
        }
        Block::encode(bytes, codec, self.hash, self.hash_len, version)
    }

    /// A CID with this prefix for already hashed content.
    pub fn cid_version(&self) -> Version {
        self.version
    }
}

/// A directory entry as HAMT and basic directories take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// Names are bytes: UnixFS does not require UTF-8, and Kubo keeps them as given.
    pub name: BString,
    pub cid: Cid,
    /// Cumulative size of the entry's DAG (the link's Tsize).
    pub tsize: u64,
}
