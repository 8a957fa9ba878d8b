//! Blocks: bytes bound to the CID they hash to.

use bytes::Bytes;
use thiserror::Error;

use crate::cid::{Cid, Version};
use crate::hash::{self, HashError};
use crate::{Multihash, codec};

/// Largest block Bitswap carries (boxo `BlockSizeLimit`); bigger blocks need
/// `--allow-big-block`.
pub const BLOCK_SIZE_LIMIT: usize = 2 * 1024 * 1024;

/// Why bytes are not a valid block.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum BlockError {
    #[error("block data does not match its CID {0}")]
    HashMismatch(Box<Cid>),
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("invalid {codec} block: {reason}")]
    InvalidCodec { codec: String, reason: String },
}

/// Block bytes and the CID they were verified against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    cid: Cid,
    data: Bytes,
}

impl Block {
    /// Binds `data` to `cid` after checking that it hashes to it.
    pub fn new(cid: Cid, data: impl Into<Bytes>) -> Result<Self, BlockError> {
        let data = data.into();
        if !hash::verify(cid.hash(), &data)? {
            return Err(BlockError::HashMismatch(Box::new(cid)));
        }
        Ok(Self { cid, data })
    }

    /// Binds without hashing; for data this process just hashed itself.
    pub fn new_unchecked(cid: Cid, data: impl Into<Bytes>) -> Self {
        Self { cid, data: data.into() }
    }

    /// Hashes `data` into a CIDv1 of `codec` (or a CIDv0 when asked and possible).
    pub fn encode(
        data: impl Into<Bytes>,
        codec: u64,
        hash_code: u64,
        hash_len: Option<usize>,
        version: Version,
    ) -> Result<Self, BlockError> {
        let data = data.into();
        let mh: Multihash = hash::digest(hash_code, hash_len, &data)?;
        let cid = match version {
            Version::V0 if codec == codec::DAG_PB && hash_code == hash::SHA2_256 && mh.size() == 32 => {
                Cid::new_v0(mh).map_err(|_| BlockError::HashMismatch(Box::new(Cid::new_v1(codec, mh))))?
            }
            _ => Cid::new_v1(codec, mh),
        };
        Ok(Self { cid, data })
    }

    pub fn cid(&self) -> &Cid {
        &self.cid
    }

    pub fn data(&self) -> &Bytes {
        &self.data
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn into_parts(self) -> (Cid, Bytes) {
        (self.cid, self.data)
    }
}

/// Checks that `data` is well-formed for `codec`. Codecs rubo cannot decode are
/// accepted as opaque bytes, as Kubo does.
pub fn validate_codec(codec: u64, data: &[u8]) -> Result<(), BlockError> {
    let invalid = |reason: String| BlockError::InvalidCodec { codec: codec::display_name(codec), reason };
    match codec {
        codec::DAG_PB => {
            crate::dagpb::PbNode::decode_slice(data).map_err(|e| invalid(e.to_string()))?;
        }
        codec::DAG_CBOR => {
            // Structure and depth first: the serde decoder recurses.
            crate::cbor::walk(data, |_| ()).map_err(|e| invalid(e.to_string()))?;
            serde_ipld_dagcbor::from_slice::<ipld_core::ipld::Ipld>(data).map_err(|e| invalid(e.to_string()))?;
        }
        codec::DAG_JSON => {
            serde_ipld_dagjson::from_slice::<ipld_core::ipld::Ipld>(data).map_err(|e| invalid(e.to_string()))?;
        }
        codec::JSON => {
            serde_json::from_slice::<serde::de::IgnoredAny>(data).map_err(|e| invalid(e.to_string()))?;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cid::parse_cid;
    use bytes::Bytes;

    #[test]
    fn kubo_block_put_vector() {
        // t0050-block.sh: `echo "Hello Mars!" | ipfs block put`
        let b = Block::encode(&b"Hello Mars!\n"[..], codec::RAW, hash::SHA2_256, None, Version::V1).unwrap();
        assert_eq!(b.cid().to_string(), "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4");
    }

    #[test]
    fn kubo_codec_vectors() {
        // t0053-dag.sh: one object in three codecs.
        let cbor = [0xa2, 0x64, b'D', b'a', b't', b'a', 0x45, 0, 1, 2, 3, 4, 0x65, b'L', b'i', b'n', b'k', b's', 0x80];
        let b =
            Block::encode(Bytes::copy_from_slice(&cbor), codec::DAG_CBOR, hash::SHA2_256, None, Version::V1).unwrap();
        assert_eq!(b.cid().to_string(), "bafyreieculsmrexh3ty5jentbvuku452o27mst4h2tq2rb2zntqhgcstji");
        validate_codec(codec::DAG_CBOR, &cbor).unwrap();

        let pb = [0x0a, 0x05, 0, 1, 2, 3, 4];
        let b = Block::encode(Bytes::copy_from_slice(&pb), codec::DAG_PB, hash::SHA2_256, None, Version::V1).unwrap();
        assert_eq!(b.cid().to_string(), "bafybeibazl2z4vqp2tmwcfag6wirmtpnomxknqcgrauj7m2yisrz3qjbom");
        validate_codec(codec::DAG_PB, &pb).unwrap();

        let json = br#"{"Data":{"/":{"bytes":"AAECAwQ"}},"Links":[]}"#;
        let b = Block::encode(&json[..], codec::DAG_JSON, hash::SHA2_256, None, Version::V1).unwrap();
        assert_eq!(b.cid().to_string(), "baguqeerajwksxu3lxpomdwxvosl542zl3xknhjgxtq3277gafrhl6vdw5tcq");
        validate_codec(codec::DAG_JSON, json).unwrap();
    }

    #[test]
    fn verification() {
        let cid = parse_cid("bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4").unwrap();
        assert!(Block::new(cid, &b"Hello Mars!\n"[..]).is_ok());
        assert!(matches!(Block::new(cid, &b"Hello Venus!\n"[..]), Err(BlockError::HashMismatch(_))));
    }

    #[test]
    fn rejects_invalid_codec_data() {
        assert!(validate_codec(codec::DAG_PB, b"hi\n").is_err());
        assert!(validate_codec(codec::DAG_CBOR, b"hi\n").is_err());
        assert!(validate_codec(codec::DAG_JSON, b"hi\n").is_err());
        assert!(validate_codec(codec::RAW, b"hi\n").is_ok());
        // non-canonical dag-cbor: map keys out of order
        let unordered = [0xa2, 0x61, b'b', 0x01, 0x61, b'a', 0x02];
        assert!(validate_codec(codec::DAG_CBOR, &unordered).is_err());
        // deeply nested input must be an error, not a stack overflow
        let deep = vec![0x81u8; 1 << 20];
        assert!(validate_codec(codec::DAG_CBOR, &deep).is_err());
        let deep_json = "[".repeat(1 << 20);
        assert!(validate_codec(codec::DAG_JSON, deep_json.as_bytes()).is_err());
    }
}
