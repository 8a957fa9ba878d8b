//! CIDs: the one parser of CID text and bytes (go-cid's `Decode`, `Cast` and
//! `CidFromBytes`, errors included, over go-multibase), and formatting in any
//! base.
//!
//! The `cid` crate holds the value. Its parsers are not used: they accept
//! trailing bytes and any string containing `/ipfs/`, and their errors are
//! not Kubo's, which tests and users match on. Beyond go-cid, digests over
//! 128 bytes are refused (rubo's CIDs hold at most that, as Kubo's
//! identity-hash limit allows).

use multibase::Base;
use thiserror::Error;

use crate::hash;
use crate::multibase::{self as mb, MultibaseError};

/// A multihash with room for Kubo's largest digest (128-byte identity hashes).
pub type Multihash = multihash::Multihash<128>;
/// A CID that can hold any multihash Kubo accepts.
pub type Cid = cid::CidGeneric<128>;
pub use cid::Version;

/// Largest digest rubo holds.
const MAX_DIGEST: u64 = 128;

/// go-varint's errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum VarintError {
    #[error("varints malformed, could not reach the end")]
    Underflow,
    #[error("varint not minimally encoded")]
    NotMinimal,
    #[error("varints larger than uint63 not supported")]
    Overflow,
}

/// Why bytes are not one multihash (go-multihash's `Cast` errors).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MultihashError {
    #[error("multihash too short. must be >= 2 bytes")]
    TooShort,
    #[error(transparent)]
    Varint(#[from] VarintError),
    #[error("digest too long, supporting only <= 2^31-1")]
    DigestOver31Bits,
    #[error("length greater than remaining number of bytes in buffer")]
    BadDigestLength { declared: u64, actual: usize },
    #[error("multihash length inconsistent: expected {expected}; got {got}")]
    Inconsistent { expected: usize, got: usize },
    /// rubo's own bound.
    #[error("multihash digest of {0} bytes is longer than the 128-byte maximum")]
    DigestTooLong(u64),
}

/// Why a CID could not be parsed or built. Parsing errors read as go-cid's:
/// text errors once prefixed (`invalid cid: ...`), errors inside the binary
/// form twice, as go-cid's `Cast` wraps `CidFromBytes`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CidError {
    #[error("invalid cid: cid too short")]
    TooShort,
    /// A prefix that is no supported multibase.
    #[error("invalid cid: selected encoding not supported")]
    UnknownBase(char),
    #[error("invalid cid: {0}")]
    BadEncoding(MultibaseError),
    /// A `Qm...` string that is not base58btc.
    #[error("invalid cid: input isn't valid multihash")]
    BadV0String,
    /// A `Qm...` string that is not one multihash.
    #[error("invalid cid: {0}")]
    BadV0Multihash(MultihashError),
    #[error("invalid cid: invalid hash for cidv0 {code}-{len}")]
    BadV0Hash { code: u64, len: usize },
    #[error("invalid cid: invalid cid: expected 1 as the cid version number, got: {0}")]
    BadVersion(u64),
    #[error("invalid cid: invalid cid: {0}")]
    BadVarint(VarintError),
    #[error("invalid cid: invalid cid: length greater than remaining number of bytes in buffer")]
    BadDigestLength { declared: u64, actual: usize },
    #[error("invalid cid: invalid cid: {0}")]
    BadMultihash(MultihashError),
    #[error("invalid cid: invalid cid: not enough bytes for cid v0")]
    BadV0,
    #[error("invalid cid: multihash digest of {0} bytes is longer than the 128-byte maximum")]
    DigestTooLong(u64),
    #[error("invalid cid: trailing bytes in data buffer passed to cid Cast")]
    TrailingBytes(usize),
    #[error("CIDv0 can only be encoded in base58btc")]
    V0Base,
    #[error("the multibase with prefix {0:?} is not supported")]
    UnsupportedBase(char),
    #[error("can't convert non-dag-pb nodes to cidv0")]
    NotDagPb,
    #[error("the identity multibase cannot show this CID as text: its bytes are not UTF-8")]
    IdentityNotText,
}

impl From<MultihashError> for CidError {
    fn from(e: MultihashError) -> Self {
        match e {
            MultihashError::Varint(v) => Self::BadVarint(v),
            MultihashError::BadDigestLength { declared, actual } => Self::BadDigestLength { declared, actual },
            MultihashError::DigestTooLong(n) => Self::DigestTooLong(n),
            e => Self::BadMultihash(e),
        }
    }
}

/// go-varint's `FromUvarint`: minimal, at most 9 bytes (63 bits).
fn uvarint(b: &[u8]) -> Result<(u64, usize), VarintError> {
    let mut x: u64 = 0;
    let mut s = 0;
    for (i, &c) in b.iter().enumerate() {
        if (i == 8 && c >= 0x80) || i >= 9 {
            return Err(VarintError::Overflow);
        }
        if c < 0x80 {
            if c == 0 && s > 0 {
                return Err(VarintError::NotMinimal);
            }
            return Ok((x | (u64::from(c) << s), i + 1));
        }
        x |= u64::from(c & 0x7f) << s;
        s += 7;
    }
    Err(VarintError::Underflow)
}

/// go-multihash's `readMultihashFromBuf` (plus rubo's 128-byte bound): the
/// multihash at the front of `b` and how many bytes it takes.
fn read_multihash(b: &[u8]) -> Result<(Multihash, usize), MultihashError> {
    if b.len() < 2 {
        return Err(MultihashError::TooShort);
    }
    let (code, n1) = uvarint(b)?;
    let (len, n2) = uvarint(&b[n1..])?;
    if len > i32::MAX as u64 {
        return Err(MultihashError::DigestOver31Bits);
    }
    let rest = &b[n1 + n2..];
    let digest =
        rest.get(..len as usize).ok_or(MultihashError::BadDigestLength { declared: len, actual: rest.len() })?;
    if len > MAX_DIGEST {
        return Err(MultihashError::DigestTooLong(len));
    }
    let mh = Multihash::wrap(code, digest).map_err(|_| MultihashError::DigestTooLong(len))?;
    Ok((mh, n1 + n2 + digest.len()))
}

/// Parses binary multihash bytes, which must be exactly one multihash
/// (go-multihash's `Cast`).
pub fn multihash_from_bytes(bytes: &[u8]) -> Result<Multihash, MultihashError> {
    let (mh, used) = read_multihash(bytes)?;
    if used != bytes.len() {
        return Err(MultihashError::Inconsistent { expected: usize::from(mh.size()), got: used });
    }
    Ok(mh)
}

/// Parses a CID string as go-cid's `Decode`: a CIDv0 (`Qm...`, 46
/// characters) or a multibase string of a binary CID (a bare sha2-256
/// multihash being a CIDv0).
pub fn parse_cid(s: &str) -> Result<Cid, CidError> {
    if s.len() < 2 {
        return Err(CidError::TooShort);
    }
    if s.len() == 46 && s.starts_with("Qm") {
        let bytes = mb::base58btc_decode(s.as_bytes()).map_err(|_| CidError::BadV0String)?;
        let mh = multihash_from_bytes(&bytes).map_err(CidError::BadV0Multihash)?;
        if mh.code() != hash::SHA2_256 || mh.size() != 32 {
            return Err(CidError::BadV0Hash { code: mh.code(), len: usize::from(mh.size()) });
        }
        return Cid::new_v0(mh).map_err(|_| CidError::BadV0);
    }
    let (_, bytes) = mb::decode(s.as_bytes()).map_err(|e| match e {
        MultibaseError::Unsupported => CidError::UnknownBase(crate::go::decode_rune(s.as_bytes()).0),
        e => CidError::BadEncoding(e),
    })?;
    cid_from_bytes(&bytes)
}

/// Parses binary CID bytes, which must be exactly one CID (go-cid's `Cast`).
pub fn cid_from_bytes(bytes: &[u8]) -> Result<Cid, CidError> {
    let (cid, used) = cid_prefix_from_bytes(bytes)?;
    if used != bytes.len() {
        return Err(CidError::TrailingBytes(bytes.len() - used));
    }
    Ok(cid)
}

/// Parses one CID from the front of `bytes`, returning it and its length
/// (go-cid's `CidFromBytes`).
pub fn cid_prefix_from_bytes(bytes: &[u8]) -> Result<(Cid, usize), CidError> {
    // CIDv0 is a bare sha2-256 multihash: 0x12 0x20 + 32 bytes.
    if bytes.len() > 2 && bytes[0] == 0x12 && bytes[1] == 0x20 {
        let v0 = bytes.get(..34).ok_or(CidError::BadV0)?;
        let (mh, _) = read_multihash(v0)?;
        return Ok((Cid::new_v0(mh).map_err(|_| CidError::BadV0)?, 34));
    }
    let (version, n) = uvarint(bytes).map_err(CidError::BadVarint)?;
    if version != 1 {
        return Err(CidError::BadVersion(version));
    }
    let (codec, cn) = uvarint(&bytes[n..]).map_err(CidError::BadVarint)?;
    let (mh, mn) = read_multihash(&bytes[n + cn..])?;
    Ok((Cid::new_v1(codec, mh), n + cn + mn))
}

/// Formats a CID in `base`. CIDv0 only has base58btc.
pub fn cid_to_string(cid: &Cid, base: Base) -> Result<String, CidError> {
    let enc = mb::Encoder::from_base(base).map_err(|_| CidError::UnsupportedBase(base.code()))?;
    match cid.version() {
        Version::V0 if base == Base::Base58Btc => Ok(cid.to_string()),
        Version::V0 => Err(CidError::V0Base),
        // The identity "encoding" is the bytes themselves, which a String can
        // hold only when they are UTF-8; every other base writes text.
        Version::V1 => String::from_utf8(enc.encode(&cid.to_bytes())).map_err(|_| CidError::IdentityNotText),
    }
}

/// The same content as CIDv1.
pub fn to_v1(cid: &Cid) -> Cid {
    Cid::new_v1(cid.codec(), *cid.hash())
}

/// The same content as CIDv0, if it is dag-pb with a 32-byte sha2-256 hash
/// (Kubo's `toCidV0`, whose second check is go-cid's `NewCidV0` panic text).
pub fn to_v0(cid: &Cid) -> Result<Cid, CidError> {
    if cid.codec() != crate::codec::DAG_PB {
        return Err(CidError::NotDagPb);
    }
    let (code, len) = (cid.hash().code(), usize::from(cid.hash().size()));
    if code != hash::SHA2_256 || len != 32 {
        return Err(CidError::BadV0Hash { code, len });
    }
    Cid::new_v0(*cid.hash()).map_err(|_| CidError::BadV0Hash { code, len })
}

/// The multibase a CID string was written in (base58btc for CIDv0).
pub fn string_base(s: &str) -> Option<Base> {
    if s.len() == 46 && s.starts_with("Qm") {
        return Some(Base::Base58Btc);
    }
    crate::multibase::from_prefix(s.chars().next()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v0_and_v1() {
        let v0 = parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn").unwrap();
        assert_eq!(v0.version(), Version::V0);
        assert_eq!(v0.codec(), crate::codec::DAG_PB);
        let v1 = to_v1(&v0);
        assert_eq!(v1.to_string(), "bafybeiczsscdsbs7ffqz55asqdf3smv6klcw3gofszvwlyarci47bgf354");
        assert_eq!(parse_cid(&v1.to_string()).unwrap(), v1);
        // Upper-case base32 is the same CID.
        assert_eq!(parse_cid(&v1.to_string().to_uppercase()).unwrap(), v1);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(parse_cid(""), Err(CidError::TooShort));
        assert_eq!(parse_cid("x"), Err(CidError::TooShort));
        assert!(matches!(parse_cid("!abc"), Err(CidError::UnknownBase('!'))));
        assert!(matches!(parse_cid("bafy!!"), Err(CidError::BadEncoding { .. })));
        assert_eq!(parse_cid("QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3N0"), Err(CidError::BadV0String));
        // go-cid vectors (see Kubo's cid.Decode): a wrapped bare multihash is a CIDv0.
        assert_eq!(
            parse_cid("zQmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5").unwrap().to_string(),
            "QmRN6wdp1S2A5EtjW9A3M1vKSBuQQGcgvuhoMUoEz4iiT5"
        );
        assert_eq!(parse_cid("bafkqaakbii"), Err(CidError::TrailingBytes(1)));
        // go-cid: a sha2-256 multihash prefix with too few bytes after it.
        assert_eq!(parse_cid("bciqcz4snxjp3biyoe3ua"), Err(CidError::BadV0));
        assert_eq!(parse_cid("notacid").unwrap_err().to_string(), "invalid cid: selected encoding not supported");
        // trailing bytes after a valid CID
        let v1 = parse_cid("bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4").unwrap();
        let mut b = v1.to_bytes();
        b.push(0);
        assert_eq!(cid_from_bytes(&b), Err(CidError::TrailingBytes(1)));
        // truncated digest
        let b = v1.to_bytes();
        assert!(matches!(cid_from_bytes(&b[..b.len() - 1]), Err(CidError::BadDigestLength { .. })));
        // version 2
        assert_eq!(cid_from_bytes(&[2, 0x55, 0x12, 0x00]), Err(CidError::BadVersion(2)));
    }

    #[test]
    fn identity_base_only_for_text() {
        // Found by fuzzing (rubo-fuzz types_block, input `ef`: the empty
        // block as codec identity, hash blake2b-256): formatting a CID in the
        // identity base panicked inside the multibase crate whenever its
        // bytes were not UTF-8 (`rubo id --peerid-base identity` did).
        let b = crate::Block::encode(Vec::new(), crate::codec::IDENTITY, 0xb220, None, Version::V1).unwrap();
        assert_eq!(cid_to_string(b.cid(), Base::Identity), Err(CidError::IdentityNotText));
        let c = parse_cid("bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4").unwrap();
        assert_eq!(cid_to_string(&c, Base::Identity), Err(CidError::IdentityNotText));
        // Bytes that are text print, and parse back.
        let text = Cid::new_v1(crate::codec::RAW, crate::hash::identity(b"abc").unwrap());
        let s = cid_to_string(&text, Base::Identity).unwrap();
        assert_eq!(s.as_bytes(), b"\0\x01\x55\x00\x03abc");
        assert_eq!(parse_cid(&s).unwrap(), text);
    }

    #[test]
    fn big_identity() {
        let mh = crate::hash::identity(&[7u8; 128]).unwrap();
        let c = Cid::new_v1(crate::codec::RAW, mh);
        assert_eq!(parse_cid(&c.to_string()).unwrap(), c);
    }
}
