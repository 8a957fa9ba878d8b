//! The codecs Kubo registers with go-ipld-prime, decoding to and encoding from
//! the [`Node`] data model: what `dag put` and `dag get` transcode between.
//!
//! | codec | decode | encode |
//! |---|---|---|
//! | dag-pb (0x70) | [`PbForm`] plain or typed | schema-checked, links sorted by name |
//! | dag-cbor (0x71) | strict, links from tag 42 | canonical key order |
//! | dag-json (0x129) | links and bytes forms | compact, sorted keys, no newline |
//! | raw (0x55) | bytes | bytes only |
//! | json (0x200) | no links, no bytes | tab-indented, map order, newline |
//! | cbor (0x51) | tag 42 refused | map order, links refused |
//!
//! Anything else (identity 0x00, libp2p-key, git-raw, dag-jose...) has no
//! codec here, as in a Kubo without plugins: [`CodecError::NoDecoder`] /
//! [`CodecError::NoEncoder`].

pub mod dagcbor;
pub mod dagjson;
pub mod dagpb;

use rubo_types::codec as mc;
use thiserror::Error;

use crate::node::Node;
pub use dagpb::{PbForm, RawPbLink, RawPbNode};

/// Why bytes could not be decoded, or a value encoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CodecError {
    #[error("no decoder registered for multicodec code {0} (0x{0:x})")]
    NoDecoder(u64),
    #[error("no encoder registered for multicodec code {0} (0x{0:x})")]
    NoEncoder(u64),
    #[error("unexpected EOF")]
    UnexpectedEof,
    #[error("unexpected content after end of object")]
    TrailingData,
    #[error("message structure exceeded maximum nesting depth")]
    DepthExceeded,
    #[error("message structure demanded too many resources to process")]
    BudgetExceeded,
    /// Malformed input; the text follows Go's wording where practical.
    #[error("{0}")]
    Invalid(String),
    /// A value this codec cannot represent.
    #[error("{0}")]
    Unencodable(String),
}

/// A codec with a decoder and an encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    DagPb,
    DagCbor,
    DagJson,
    Raw,
    Json,
    Cbor,
}

impl Codec {
    /// Every codec, in multicodec order.
    pub const ALL: [Codec; 6] = [Codec::Cbor, Codec::Raw, Codec::DagPb, Codec::DagCbor, Codec::DagJson, Codec::Json];

    /// The codec for a multicodec code, if there is one.
    pub fn from_code(code: u64) -> Option<Codec> {
        Some(match code {
            mc::DAG_PB => Codec::DagPb,
            mc::DAG_CBOR => Codec::DagCbor,
            mc::DAG_JSON => Codec::DagJson,
            mc::RAW => Codec::Raw,
            mc::JSON => Codec::Json,
            mc::CBOR => Codec::Cbor,
            _ => return None,
        })
    }

    /// The codec to decode `code` with, or Kubo's error for an unknown one.
    pub fn decoder(code: u64) -> Result<Codec, CodecError> {
        Self::from_code(code).ok_or(CodecError::NoDecoder(code))
    }

    /// The codec to encode `code` with, or Kubo's error for an unknown one.
    pub fn encoder(code: u64) -> Result<Codec, CodecError> {
        Self::from_code(code).ok_or(CodecError::NoEncoder(code))
    }

    pub fn code(self) -> u64 {
        match self {
            Codec::DagPb => mc::DAG_PB,
            Codec::DagCbor => mc::DAG_CBOR,
            Codec::DagJson => mc::DAG_JSON,
            Codec::Raw => mc::RAW,
            Codec::Json => mc::JSON,
            Codec::Cbor => mc::CBOR,
        }
    }

    /// The multicodec name (`dag-pb`, `dag-cbor`...).
    pub fn name(self) -> &'static str {
        match self {
            Codec::DagPb => "dag-pb",
            Codec::DagCbor => "dag-cbor",
            Codec::DagJson => "dag-json",
            Codec::Raw => "raw",
            Codec::Json => "json",
            Codec::Cbor => "cbor",
        }
    }

    /// Decodes `data` as go-ipld-prime builds it into a basic node (dag-pb in
    /// [`PbForm::Plain`]): `dag put`'s input side and selector traversals.
    pub fn decode(self, data: &[u8]) -> Result<Node, CodecError> {
        self.decode_with(data, PbForm::Plain)
    }

    /// Decodes `data`, choosing the dag-pb form (ignored by other codecs).
    /// `dag get` uses [`PbForm::Typed`].
    pub fn decode_with(self, data: &[u8], form: PbForm) -> Result<Node, CodecError> {
        match self {
            Codec::DagPb => dagpb::decode(data, form),
            Codec::DagCbor => dagcbor::decode(data, true),
            Codec::Cbor => dagcbor::decode(data, false),
            Codec::DagJson => dagjson::decode(data, true),
            Codec::Json => dagjson::decode(data, false),
            Codec::Raw => Ok(Node::Bytes(bytes::Bytes::copy_from_slice(data))),
        }
    }

    /// Encodes `node` byte for byte as Kubo's encoder for this codec does.
    pub fn encode(self, node: &Node) -> Result<Vec<u8>, CodecError> {
        match self {
            Codec::DagPb => dagpb::encode(node),
            Codec::DagCbor => dagcbor::encode(node, true),
            Codec::Cbor => dagcbor::encode(node, false),
            Codec::DagJson => dagjson::encode(node, true),
            Codec::Json => dagjson::encode(node, false),
            Codec::Raw => match node {
                Node::Bytes(b) => Ok(b.to_vec()),
                other => Err(CodecError::Unencodable(format!(
                    "func called on wrong kind: \"AsBytes\" called on a {} node, but only makes sense on bytes",
                    other.kind()
                ))),
            },
        }
    }
}

/// `dag put`'s conversion: decode with `from`, encode with `to`.
pub fn transcode(from: Codec, to: Codec, data: &[u8]) -> Result<Vec<u8>, CodecError> {
    to.encode(&from.decode(data)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        for c in Codec::ALL {
            assert_eq!(Codec::from_code(c.code()), Some(c));
            assert_eq!(mc::code_of(c.name()), Some(c.code()));
        }
        assert_eq!(
            Codec::decoder(0x72).unwrap_err().to_string(),
            "no decoder registered for multicodec code 114 (0x72)"
        );
        assert!(Codec::from_code(mc::IDENTITY).is_none());
    }

    #[test]
    fn raw() {
        assert_eq!(transcode(Codec::Raw, Codec::Raw, b"foo bar\n").unwrap(), b"foo bar\n");
        assert!(Codec::Raw.encode(&Node::Null).is_err());
    }
}
