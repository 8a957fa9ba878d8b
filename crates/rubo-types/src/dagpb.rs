//! The dag-pb codec, strict as the spec and go-codec-dagpb are.
//!
//! Encoding writes Links (field 2) before Data (field 1), the canonical order.
//! Decoding rejects unknown fields, wrong wire types, duplicate or out-of-order
//! fields, links without a Hash and Hashes that are not CIDs.

use bstr::BString;
use bytes::Bytes;
use thiserror::Error;

use crate::cid::{Cid, cid_from_bytes};
use crate::pb::{self, FieldReader, FieldValue, PbError, WireType};

/// One link of a dag-pb node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbLink {
    pub cid: Cid,
    /// Link names are protobuf strings, which Go does not check for UTF-8:
    /// they are kept as bytes, so any name round-trips unchanged.
    pub name: Option<BString>,
    pub tsize: Option<u64>,
}

/// A decoded dag-pb node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PbNode {
    pub links: Vec<PbLink>,
    pub data: Option<Bytes>,
}

/// A malformed dag-pb block.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DagPbError {
    #[error(transparent)]
    Protobuf(#[from] PbError),
    #[error("protobuf: (PBNode) invalid wireType, expected 2, got {0:?}")]
    NodeWireType(WireType),
    #[error("protobuf: (PBNode) duplicate Data section")]
    DuplicateData,
    #[error("protobuf: (PBNode) invalid order, found Data before Links content")]
    DataBeforeLinks,
    #[error("protobuf: (PBNode) invalid fieldNumber, expected 1 or 2, got {0}")]
    NodeField(u32),
    #[error("protobuf: (PBLink) {0}")]
    Link(&'static str),
    #[error("protobuf: (PBLink) invalid fieldNumber, expected 1, 2 or 3, got {0}")]
    LinkField(u32),
    #[error("invalid Hash field found in link, expected CID ({0})")]
    BadHash(String),
    #[error("invalid Hash field found in link, expected CID")]
    MissingHash,
}

impl PbNode {
    /// A node with only data.
    pub fn with_data(data: impl Into<Bytes>) -> Self {
        Self { links: Vec::new(), data: Some(data.into()) }
    }

    /// Decodes a dag-pb block, borrowing `Data` from `block` without copying.
    pub fn decode(block: &Bytes) -> Result<Self, DagPbError> {
        let mut node = PbNode::default();
        for field in FieldReader::new(block) {
            let (num, value) = field?;
            let FieldValue::Len(bytes) = value else {
                return Err(DagPbError::NodeWireType(value.wire_type()));
            };
            match num {
                1 => {
                    if node.data.is_some() {
                        return Err(DagPbError::DuplicateData);
                    }
                    node.data = Some(block.slice_ref(bytes));
                }
                2 => {
                    if node.data.is_some() {
                        return Err(DagPbError::DataBeforeLinks);
                    }
                    node.links.push(decode_link(bytes)?);
                }
                n => return Err(DagPbError::NodeField(n)),
            }
        }
        Ok(node)
    }

    /// Decodes from a plain slice (copies `Data`).
    pub fn decode_slice(block: &[u8]) -> Result<Self, DagPbError> {
        Self::decode(&Bytes::copy_from_slice(block))
    }

    /// The encoded size, without encoding.
    pub fn encoded_len(&self) -> usize {
        let links: usize = self.links.iter().map(|l| pb::bytes_field_len(2, l.encoded_len())).sum();
        links + self.data.as_ref().map_or(0, |d| pb::bytes_field_len(1, d.len()))
    }

    /// Encodes canonically: links in the given order, then data.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        let mut link_buf = Vec::new();
        for l in &self.links {
            link_buf.clear();
            l.encode_into(&mut link_buf);
            pb::put_bytes_field(&mut out, 2, &link_buf);
        }
        if let Some(d) = &self.data {
            pb::put_bytes_field(&mut out, 1, d);
        }
        out
    }
}

impl PbLink {
    pub fn new(cid: Cid, name: impl Into<BString>, tsize: u64) -> Self {
        Self { cid, name: Some(name.into()), tsize: Some(tsize) }
    }

    fn encoded_len(&self) -> usize {
        let cid_len = self.cid.encoded_len();
        let mut n = pb::bytes_field_len(1, cid_len);
        if let Some(name) = &self.name {
            n += pb::bytes_field_len(2, name.len());
        }
        if let Some(t) = self.tsize {
            n += 1 + pb::uvarint_len(t);
        }
        n
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        pb::put_bytes_field(out, 1, &self.cid.to_bytes());
        if let Some(name) = &self.name {
            pb::put_bytes_field(out, 2, name);
        }
        if let Some(t) = self.tsize {
            pb::put_varint_field(out, 3, t);
        }
    }
}

fn decode_link(buf: &[u8]) -> Result<PbLink, DagPbError> {
    let mut cid = None;
    let mut name: Option<BString> = None;
    let mut tsize = None;
    for field in FieldReader::new(buf) {
        let (num, value) = field?;
        match num {
            1 => {
                if cid.is_some() {
                    return Err(DagPbError::Link("duplicate Hash section"));
                }
                if name.is_some() {
                    return Err(DagPbError::Link("invalid order, found Name before Hash"));
                }
                if tsize.is_some() {
                    return Err(DagPbError::Link("invalid order, found Tsize before Hash"));
                }
                let FieldValue::Len(b) = value else {
                    return Err(DagPbError::Link("wrong wireType for Hash"));
                };
                cid = Some(cid_from_bytes(b).map_err(|e| DagPbError::BadHash(e.to_string()))?);
            }
            2 => {
                if name.is_some() {
                    return Err(DagPbError::Link("duplicate Name section"));
                }
                if tsize.is_some() {
                    return Err(DagPbError::Link("invalid order, found Tsize before Name"));
                }
                let FieldValue::Len(b) = value else {
                    return Err(DagPbError::Link("wrong wireType for Name"));
                };
                name = Some(BString::from(b));
            }
            3 => {
                if tsize.is_some() {
                    return Err(DagPbError::Link("duplicate Tsize section"));
                }
                let FieldValue::Varint(v) = value else {
                    return Err(DagPbError::Link("wrong wireType for Tsize"));
                };
                tsize = Some(v);
            }
            n => return Err(DagPbError::LinkField(n)),
        }
    }
    let cid = cid.ok_or(DagPbError::MissingHash)?;
    Ok(PbLink { cid, name, tsize })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cid::parse_cid;

    #[test]
    fn empty_dir_block() {
        // The UnixFS empty directory: Data = {Type: Directory}.
        let block = Bytes::from_static(&[0x0a, 0x02, 0x08, 0x01]);
        let node = PbNode::decode(&block).unwrap();
        assert!(node.links.is_empty());
        assert_eq!(node.data.as_deref(), Some(&[0x08, 0x01][..]));
        assert_eq!(node.encode(), block.to_vec());
        assert_eq!(node.encoded_len(), 4);
    }

    #[test]
    fn roundtrip_with_links() {
        let c = parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        let node = PbNode {
            links: vec![PbLink::new(c, "a", 4), PbLink::new(c, "", 0), PbLink { cid: c, name: None, tsize: None }],
            data: Some(Bytes::from_static(b"\x08\x01")),
        };
        let enc = node.encode();
        assert_eq!(enc.len(), node.encoded_len());
        assert_eq!(PbNode::decode_slice(&enc).unwrap(), node);
    }

    #[test]
    fn strictness() {
        // Data before Links
        let c = parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        let mut good = PbNode { links: vec![PbLink::new(c, "a", 1)], data: Some(Bytes::new()) }.encode();
        let data_first = {
            let split = good.len() - 2;
            let mut v = good[split..].to_vec();
            v.extend_from_slice(&good[..split]);
            v
        };
        assert_eq!(PbNode::decode_slice(&data_first), Err(DagPbError::DataBeforeLinks));
        // unknown field 3 in node
        good.extend_from_slice(&[0x1a, 0x00]);
        assert_eq!(PbNode::decode_slice(&good), Err(DagPbError::NodeField(3)));
        // varint field in node
        assert!(matches!(PbNode::decode_slice(&[0x08, 0x01]), Err(DagPbError::NodeWireType(_))));
        // link without hash
        assert_eq!(PbNode::decode_slice(&[0x12, 0x02, 0x12, 0x00]), Err(DagPbError::MissingHash));
        // link with a hash that is not a cid
        assert!(matches!(PbNode::decode_slice(&[0x12, 0x03, 0x0a, 0x01, 0x00]), Err(DagPbError::BadHash(_))));
        // truncated
        assert!(matches!(PbNode::decode_slice(&[0x0a, 0x05, 0x00]), Err(DagPbError::Protobuf(_))));
        // Not dag-pb at all: "hi\n"
        assert!(PbNode::decode_slice(b"hi\n").is_err());
    }
}
