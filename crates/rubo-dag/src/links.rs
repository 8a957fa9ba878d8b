//! The links of a block, in the order its codec stores them: what `refs`,
//! `dag export`, `pin` and GC follow.
//!
//! Kubo finds links by decoding the block with its codec and walking the data
//! model, so a block its codec cannot decode has no links but an error; the
//! same holds here. Codecs without links (raw, json, cbor) still decode json
//! and cbor blocks to check them, as Kubo's loader does; plain cbor refuses
//! tag 42 rather than reading it as a link (go-ipld-prime's cbor codec is
//! dag-cbor with links disallowed). Codecs Kubo has no decoder for (identity
//! 0x00, libp2p-key, git-raw, dag-jose without plugins...) are an error.

use rubo_types::{Block, Cid};

use crate::codec::{Codec, CodecError, dagpb};
use crate::node::IpldString;

/// A link and the name it has in its parent (dag-pb names; empty otherwise,
/// as Kubo's legacy nodes report it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedLink {
    pub cid: Cid,
    pub name: IpldString,
}

/// Every CID `data` (a block of codec `codec`) links to, in stored order.
pub fn links(codec: u64, data: &[u8]) -> Result<Vec<Cid>, CodecError> {
    match Codec::decoder(codec)? {
        Codec::DagPb => Ok(dagpb::links(data)?.into_iter().map(|l| l.cid).collect()),
        Codec::Raw => Ok(Vec::new()),
        c => Ok(c.decode(data)?.links()),
    }
}

/// The links of a block, by its CID's codec.
pub fn block_links(block: &Block) -> Result<Vec<Cid>, CodecError> {
    links(block.cid().codec(), block.data())
}

/// Links with their names, as `refs --format=<linkname>` sees them.
pub fn named_links(codec: u64, data: &[u8]) -> Result<Vec<NamedLink>, CodecError> {
    match Codec::decoder(codec)? {
        Codec::DagPb => Ok(dagpb::links(data)?
            .into_iter()
            .map(|l| NamedLink { cid: l.cid, name: l.name.unwrap_or_default() })
            .collect()),
        _ => Ok(links(codec, data)?.into_iter().map(|cid| NamedLink { cid, name: IpldString::default() }).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::codec as mc;
    use rubo_types::parse_cid;

    #[test]
    fn per_codec() {
        let c = parse_cid("bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4").unwrap();
        let cb = c.to_bytes();
        // dag-cbor [42(h'00' + cid), {"a": 42(...)}]
        let mut v = vec![0x82, 0xd8, 42, 0x58, (cb.len() + 1) as u8, 0];
        v.extend_from_slice(&cb);
        v.extend_from_slice(&[0xa1, 0x61, b'a', 0xd8, 42, 0x58, (cb.len() + 1) as u8, 0]);
        v.extend_from_slice(&cb);
        assert_eq!(links(mc::DAG_CBOR, &v).unwrap(), vec![c, c]);
        // the same bytes as plain cbor: tag 42 is refused
        assert!(links(mc::CBOR, &v).is_err());
        let j = format!(r#"{{"b":[{{"/":"{c}"}}],"a":{{"/":"{c}"}}}}"#);
        assert_eq!(links(mc::DAG_JSON, j.as_bytes()).unwrap(), vec![c, c]);
        assert_eq!(links(mc::JSON, j.as_bytes()).unwrap(), vec![]);
        assert!(links(mc::JSON, b"{").is_err());
        assert_eq!(links(mc::RAW, b"anything").unwrap(), vec![]);
        assert_eq!(links(mc::IDENTITY, b"").unwrap_err(), CodecError::NoDecoder(0));
        assert!(links(mc::GIT_RAW, b"").is_err());
        assert!(links(mc::DAG_PB, b"hi\n").is_err());
    }
}
