//! The Bitswap wire format (boxo `bitswap/message/pb/message.proto`), its framing, and the
//! checks every inbound message passes before anything acts on it.
//!
//! A frame is an unsigned-varint length and that many bytes of protobuf. Several frames follow
//! each other on one stream. The length is checked against [`MAX_MESSAGE_SIZE`] before the body
//! is allocated, and the body is pre-scanned (counting repeated elements) before prost decodes
//! it, so a small message cannot make us allocate much more than its size.

use bytes::Bytes;
use futures::{AsyncRead, AsyncReadExt as _};
use prost::Message as _;
use rubo_types::pb::{FieldReader, FieldValue, get_uvarint, put_uvarint};
use rubo_types::{BLOCK_SIZE_LIMIT, Block, Cid, Multihash, cid_from_bytes, codec, hash};
use thiserror::Error;

/// Largest message we read or write (boxo `network.MessageSizeMax`).
pub const MAX_MESSAGE_SIZE: usize = 4 << 20;
/// Largest CID accepted in a wantlist or presence (boxo `MaximumAllowedCid`).
pub const MAX_CID_SIZE: usize = 168;
/// Most repeated elements (entries, blocks, presences) one message may carry. A 4 MiB message of
/// minimal entries would otherwise expand to ~100 MB of structs.
pub const MAX_ELEMENTS: usize = 65_536;

/// Hand-written prost structs for `message.proto` (no protoc at build time).
pub mod pb {
    use bytes::Bytes;

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Message {
        #[prost(message, optional, tag = "1")]
        pub wantlist: Option<Wantlist>,
        /// Bitswap 1.0.0: raw block bytes (CIDv0 / sha2-256 implied).
        #[prost(bytes = "bytes", repeated, tag = "2")]
        pub blocks: Vec<Bytes>,
        /// Bitswap 1.1.0+: blocks with their CID prefix.
        #[prost(message, repeated, tag = "3")]
        pub payload: Vec<Block>,
        #[prost(message, repeated, tag = "4")]
        pub block_presences: Vec<BlockPresence>,
        #[prost(int32, tag = "5")]
        pub pending_bytes: i32,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Wantlist {
        #[prost(message, repeated, tag = "1")]
        pub entries: Vec<Entry>,
        #[prost(bool, tag = "2")]
        pub full: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Entry {
        /// The CID's bytes (the field is called `block` for history's sake).
        #[prost(bytes = "bytes", tag = "1")]
        pub block: Bytes,
        #[prost(int32, tag = "2")]
        pub priority: i32,
        #[prost(bool, tag = "3")]
        pub cancel: bool,
        /// 0 = Block, 1 = Have.
        #[prost(int32, tag = "4")]
        pub want_type: i32,
        #[prost(bool, tag = "5")]
        pub send_dont_have: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Block {
        #[prost(bytes = "bytes", tag = "1")]
        pub prefix: Bytes,
        #[prost(bytes = "bytes", tag = "2")]
        pub data: Bytes,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct BlockPresence {
        #[prost(bytes = "bytes", tag = "1")]
        pub cid: Bytes,
        /// 0 = Have, 1 = DontHave.
        #[prost(int32, tag = "2")]
        pub r#type: i32,
    }
}

/// Which Bitswap dialect a stream speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProtocolVersion {
    /// `/ipfs/bitswap` and `/ipfs/bitswap/1.0.0`: raw blocks, no presences.
    V100,
    /// `/ipfs/bitswap/1.1.0`: blocks with CID prefixes, no presences.
    V110,
    /// `/ipfs/bitswap/1.2.0`: want-have, HAVE / DONT_HAVE.
    V120,
}

impl ProtocolVersion {
    /// Whether the peer understands want-have and block presences.
    pub fn supports_have(self) -> bool {
        self == Self::V120
    }
}

/// What a want asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WantType {
    Block,
    Have,
}

/// A HAVE or DONT_HAVE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Presence {
    Have,
    DontHave,
}

/// One wantlist entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub cid: Cid,
    pub priority: i32,
    pub cancel: bool,
    pub want_type: WantType,
    pub send_dont_have: bool,
}

impl Entry {
    pub fn want(cid: Cid, priority: i32, want_type: WantType, send_dont_have: bool) -> Self {
        Self { cid, priority, cancel: false, want_type, send_dont_have }
    }

    pub fn cancel(cid: Cid) -> Self {
        Self { cid, priority: 0, cancel: true, want_type: WantType::Block, send_dont_have: false }
    }
}

/// A message to send.
#[derive(Clone, Debug, Default)]
pub struct Message {
    pub full: bool,
    pub entries: Vec<Entry>,
    pub blocks: Vec<Block>,
    pub presences: Vec<(Cid, Presence)>,
    pub pending_bytes: i32,
}

impl Message {
    pub fn is_empty(&self) -> bool {
        !self.full && self.entries.is_empty() && self.blocks.is_empty() && self.presences.is_empty()
    }

    /// Block bytes carried.
    pub fn block_bytes(&self) -> usize {
        self.blocks.iter().map(Block::len).sum()
    }

    /// The protobuf body for a peer speaking `version`. Older dialects get raw blocks (1.0.0),
    /// block wants for want-haves and no presences (which they would not understand).
    pub fn to_pb(&self, version: ProtocolVersion) -> pb::Message {
        let entries = self
            .entries
            .iter()
            .map(|e| pb::Entry {
                block: Bytes::from(e.cid.to_bytes()),
                priority: e.priority,
                cancel: e.cancel,
                // Older peers know only block wants (boxo asks them for the block instead).
                want_type: match e.want_type {
                    WantType::Have if version.supports_have() => 1,
                    _ => 0,
                },
                send_dont_have: e.send_dont_have && version.supports_have(),
            })
            .collect::<Vec<_>>();
        let wantlist = (self.full || !entries.is_empty()).then(|| pb::Wantlist { entries, full: self.full });
        let (blocks, payload) = match version {
            ProtocolVersion::V100 => (self.blocks.iter().map(|b| b.data().clone()).collect(), Vec::new()),
            _ => (
                Vec::new(),
                self.blocks.iter().map(|b| pb::Block { prefix: prefix_of(b.cid()), data: b.data().clone() }).collect(),
            ),
        };
        let block_presences = if version.supports_have() {
            self.presences
                .iter()
                .map(|(c, p)| pb::BlockPresence {
                    cid: Bytes::from(c.to_bytes()),
                    r#type: match p {
                        Presence::Have => 0,
                        Presence::DontHave => 1,
                    },
                })
                .collect()
        } else {
            Vec::new()
        };
        pb::Message { wantlist, blocks, payload, block_presences, pending_bytes: self.pending_bytes }
    }

    /// Length-prefixed bytes ready for the wire.
    pub fn to_frame(&self, version: ProtocolVersion) -> Bytes {
        let m = self.to_pb(version);
        let len = m.encoded_len();
        let mut out = Vec::with_capacity(len + 10);
        put_uvarint(&mut out, len as u64);
        // Encoding into a Vec cannot run out of room.
        let _ = m.encode(&mut out);
        Bytes::from(out)
    }
}

/// `varint(version) ‖ varint(codec) ‖ varint(mh code) ‖ varint(mh len)`, no digest.
pub fn prefix_of(cid: &Cid) -> Bytes {
    let mut p = Vec::with_capacity(8);
    put_uvarint(&mut p, cid.version() as u64);
    put_uvarint(&mut p, cid.codec());
    put_uvarint(&mut p, cid.hash().code());
    put_uvarint(&mut p, u64::from(cid.hash().size()));
    Bytes::from(p)
}

/// A block as received: bytes and the prefix they claim, not yet hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawBlock {
    /// `None`: a Bitswap 1.0.0 block (CIDv0, sha2-256).
    pub prefix: Option<Prefix>,
    pub data: Bytes,
}

/// A parsed CID prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    pub version: u64,
    pub codec: u64,
    pub hash_code: u64,
    pub hash_len: u64,
}

impl Prefix {
    pub fn parse(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut pos = 0;
        let mut next = || -> Result<u64, DecodeError> {
            let (v, n) = get_uvarint(bytes.get(pos..).unwrap_or_default()).map_err(|_| DecodeError::BadPrefix)?;
            pos += n;
            Ok(v)
        };
        let p = Self { version: next()?, codec: next()?, hash_code: next()?, hash_len: next()? };
        if pos != bytes.len() {
            return Err(DecodeError::BadPrefix);
        }
        Ok(p)
    }
}

/// Why a received block was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BlockRejected {
    #[error("block of {0} bytes is over the {BLOCK_SIZE_LIMIT}-byte limit")]
    TooBig(usize),
    #[error("block prefix is not a CID prefix we accept: {0}")]
    BadPrefix(String),
    #[error("hash function not allowed or unsupported: {0}")]
    Hash(String),
}

impl RawBlock {
    /// Hashes the data with the prefix's function and rebuilds the CID: the block is whatever its
    /// bytes hash to, so a block that "lies" simply is not the block that was wanted.
    pub fn verify(&self) -> Result<Block, BlockRejected> {
        if self.data.len() > BLOCK_SIZE_LIMIT {
            return Err(BlockRejected::TooBig(self.data.len()));
        }
        let Some(p) = self.prefix else {
            let mh = hash::sha2_256(&self.data);
            let cid = Cid::new_v0(mh).map_err(|e| BlockRejected::BadPrefix(e.to_string()))?;
            return Ok(Block::new_unchecked(cid, self.data.clone()));
        };
        let len = usize::try_from(p.hash_len).map_err(|_| BlockRejected::BadPrefix("hash length".into()))?;
        hash::validate(p.hash_code, len).map_err(|e| BlockRejected::Hash(e.to_string()))?;
        let mh: Multihash = if p.hash_code == hash::IDENTITY {
            if len != self.data.len() {
                return Err(BlockRejected::BadPrefix("identity length".into()));
            }
            hash::identity(&self.data).map_err(|e| BlockRejected::Hash(e.to_string()))?
        } else {
            hash::digest(p.hash_code, Some(len), &self.data).map_err(|e| BlockRejected::Hash(e.to_string()))?
        };
        let cid = match p.version {
            0 if p.codec == codec::DAG_PB && p.hash_code == hash::SHA2_256 && len == 32 => {
                Cid::new_v0(mh).map_err(|e| BlockRejected::BadPrefix(e.to_string()))?
            }
            1 => Cid::new_v1(p.codec, mh),
            v => return Err(BlockRejected::BadPrefix(format!("version {v}"))),
        };
        Ok(Block::new_unchecked(cid, self.data.clone()))
    }
}

/// A decoded inbound message. Entries and presences with CIDs that do not parse are counted,
/// not kept; blocks are kept raw for the caller to verify (hashing is the expensive part).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Received {
    pub full: bool,
    pub entries: Vec<Entry>,
    pub blocks: Vec<RawBlock>,
    pub presences: Vec<(Cid, Presence)>,
    pub pending_bytes: i32,
    /// Entries or presences whose CID was malformed or too long.
    pub invalid_cids: usize,
}

/// A message that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    #[error("message of {0} bytes is over the {MAX_MESSAGE_SIZE}-byte limit")]
    TooLarge(u64),
    #[error("message has more than {MAX_ELEMENTS} entries, blocks and presences")]
    TooManyElements,
    #[error("malformed protobuf: {0}")]
    Protobuf(String),
    #[error("malformed CID prefix")]
    BadPrefix,
}

/// Counts the repeated elements of a message body without allocating.
fn count_elements(body: &[u8]) -> Result<usize, DecodeError> {
    let bad = |e: rubo_types::pb::PbError| DecodeError::Protobuf(e.to_string());
    let mut n = 0usize;
    for f in FieldReader::new(body) {
        match f.map_err(bad)? {
            (1, FieldValue::Len(wl)) => {
                for g in FieldReader::new(wl) {
                    if let (1, _) = g.map_err(bad)? {
                        n += 1;
                    }
                }
            }
            (2..=4, _) => n += 1,
            _ => {}
        }
        if n > MAX_ELEMENTS {
            return Err(DecodeError::TooManyElements);
        }
    }
    Ok(n)
}

fn parse_cid_field(b: &[u8]) -> Option<Cid> {
    if b.len() > MAX_CID_SIZE {
        return None;
    }
    cid_from_bytes(b).ok()
}

impl Received {
    /// Decodes one message body (without its length prefix).
    pub fn decode(body: Bytes) -> Result<Self, DecodeError> {
        if body.len() > MAX_MESSAGE_SIZE {
            return Err(DecodeError::TooLarge(body.len() as u64));
        }
        count_elements(&body)?;
        let m = pb::Message::decode(body).map_err(|e| DecodeError::Protobuf(e.to_string()))?;
        let mut out = Self { pending_bytes: m.pending_bytes, ..Self::default() };
        if let Some(wl) = m.wantlist {
            out.full = wl.full;
            out.entries.reserve(wl.entries.len());
            for e in wl.entries {
                let Some(cid) = parse_cid_field(&e.block) else {
                    out.invalid_cids += 1;
                    continue;
                };
                out.entries.push(Entry {
                    cid,
                    priority: e.priority,
                    cancel: e.cancel,
                    // Unknown want types are treated as the safe one: a block want.
                    want_type: if e.want_type == 1 { WantType::Have } else { WantType::Block },
                    send_dont_have: e.send_dont_have,
                });
            }
        }
        for data in m.blocks {
            out.blocks.push(RawBlock { prefix: None, data });
        }
        for b in m.payload {
            out.blocks.push(RawBlock { prefix: Some(Prefix::parse(&b.prefix)?), data: b.data });
        }
        for p in m.block_presences {
            let Some(cid) = parse_cid_field(&p.cid) else {
                out.invalid_cids += 1;
                continue;
            };
            let kind = match p.r#type {
                0 => Presence::Have,
                1 => Presence::DontHave,
                _ => {
                    out.invalid_cids += 1;
                    continue;
                }
            };
            out.presences.push((cid, kind));
        }
        Ok(out)
    }
}

/// Why reading a frame failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("frame of {0} bytes is over the {MAX_MESSAGE_SIZE}-byte limit")]
    TooLarge(u64),
    #[error("malformed frame length")]
    BadLength,
    #[error("stream ended inside a frame")]
    Truncated,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Reads one frame body. `Ok(None)` at a clean end of stream (between frames).
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> Result<Option<Bytes>, FrameError> {
    let mut len: u64 = 0;
    let mut i = 0;
    loop {
        let mut b = [0u8; 1];
        let n = r.read(&mut b).await?;
        if n == 0 {
            return if i == 0 { Ok(None) } else { Err(FrameError::Truncated) };
        }
        if i == 9 && b[0] > 1 {
            return Err(FrameError::BadLength);
        }
        len |= u64::from(b[0] & 0x7f) << (7 * i);
        i += 1;
        if b[0] & 0x80 == 0 {
            break;
        }
        if i == 10 {
            return Err(FrameError::BadLength);
        }
    }
    // Refuse before allocating anything.
    if len > max as u64 {
        return Err(FrameError::TooLarge(len));
    }
    // Grow with what arrives rather than trusting the length: a peer that announces 4 MiB and
    // sends nothing costs nothing.
    let mut buf = Vec::with_capacity((len as usize).min(64 << 10));
    let got = r.take(len).read_to_end(&mut buf).await?;
    if got as u64 != len {
        return Err(FrameError::Truncated);
    }
    Ok(Some(Bytes::from(buf)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rubo_types::Version;

    fn raw(data: &[u8]) -> Block {
        Block::encode(Bytes::copy_from_slice(data), codec::RAW, hash::SHA2_256, None, Version::V1).unwrap()
    }

    fn roundtrip(m: &Message, v: ProtocolVersion) -> Received {
        let frame = m.to_frame(v);
        let body = futures::executor::block_on(read_frame(&mut &frame[..], MAX_MESSAGE_SIZE)).unwrap().unwrap();
        Received::decode(body).unwrap()
    }

    #[test]
    fn roundtrip_v120() {
        let b = raw(b"hello");
        let c = *raw(b"other").cid();
        let m = Message {
            full: true,
            entries: vec![Entry::want(c, 7, WantType::Have, true), Entry::cancel(*b.cid())],
            blocks: vec![b.clone()],
            presences: vec![(c, Presence::DontHave)],
            pending_bytes: 3,
        };
        let r = roundtrip(&m, ProtocolVersion::V120);
        assert!(r.full);
        assert_eq!(r.entries, m.entries);
        assert_eq!(r.presences, m.presences);
        assert_eq!(r.blocks[0].verify().unwrap(), b);
    }

    #[test]
    fn old_dialects_drop_what_they_lack() {
        let v0 = Block::encode(&b"x"[..], codec::DAG_PB, hash::SHA2_256, None, Version::V0);
        // Not valid dag-pb, but Block::encode does not check codecs.
        let b = v0.unwrap();
        let c = *raw(b"c").cid();
        let m = Message {
            entries: vec![Entry::want(c, 1, WantType::Have, true), Entry::want(c, 1, WantType::Block, true)],
            blocks: vec![b.clone()],
            presences: vec![(c, Presence::Have)],
            ..Message::default()
        };
        let r = roundtrip(&m, ProtocolVersion::V100);
        assert_eq!(r.entries.len(), 2);
        assert!(r.entries.iter().all(|e| e.want_type == WantType::Block && !e.send_dont_have));
        assert!(r.presences.is_empty());
        assert_eq!(r.blocks[0].prefix, None);
        assert_eq!(r.blocks[0].verify().unwrap(), b);
    }

    #[test]
    fn frames_are_bounded() {
        let mut f = Vec::new();
        put_uvarint(&mut f, (MAX_MESSAGE_SIZE + 1) as u64);
        let r = futures::executor::block_on(read_frame(&mut &f[..], MAX_MESSAGE_SIZE));
        assert!(matches!(r, Err(FrameError::TooLarge(_))));
        let r = futures::executor::block_on(read_frame(&mut &[0xffu8; 12][..], MAX_MESSAGE_SIZE));
        assert!(matches!(r, Err(FrameError::BadLength)));
        let r = futures::executor::block_on(read_frame(&mut &[5u8, 1, 2][..], MAX_MESSAGE_SIZE));
        assert!(matches!(r, Err(FrameError::Truncated)));
        let r = futures::executor::block_on(read_frame(&mut &[][..], MAX_MESSAGE_SIZE));
        assert!(matches!(r, Ok(None)));
    }

    #[test]
    fn element_flood_is_refused_before_decoding() {
        // 70,000 empty entries: 2 bytes each on the wire.
        let mut wl = Vec::new();
        for _ in 0..70_000 {
            wl.extend_from_slice(&[0x0a, 0x00]);
        }
        let mut body = vec![0x0a];
        put_uvarint(&mut body, wl.len() as u64);
        body.extend(wl);
        assert_eq!(Received::decode(Bytes::from(body)), Err(DecodeError::TooManyElements));
    }

    #[test]
    fn lying_prefix_gives_another_cid() {
        let b = raw(b"real");
        let lie =
            RawBlock { prefix: Some(Prefix::parse(&prefix_of(b.cid())).unwrap()), data: Bytes::from_static(b"fake") };
        assert_ne!(lie.verify().unwrap().cid(), b.cid());
        let md5 = RawBlock {
            prefix: Some(Prefix { version: 1, codec: codec::RAW, hash_code: hash::MD5, hash_len: 16 }),
            data: Bytes::new(),
        };
        assert!(md5.verify().is_err());
    }
}
