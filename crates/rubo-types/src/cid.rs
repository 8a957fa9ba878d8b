//! CIDs: parsing with exact, bounded checks and clear errors; formatting in any base.
//!
//! The `cid` crate does the representation. It is wrapped because its parsers accept
//! trailing bytes and any string containing `/ipfs/`, and its errors say little.

use multibase::Base;
use thiserror::Error;

use crate::hash;
use crate::pb::get_uvarint_minimal;

/// A multihash with room for Kubo's largest digest (128-byte identity hashes).
pub type Multihash = multihash::Multihash<128>;
/// A CID that can hold any multihash Kubo accepts.
pub type Cid = cid::CidGeneric<128>;
pub use cid::Version;

/// Why a CID could not be parsed or built.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CidError {
    #[error("invalid cid: cid too short")]
    TooShort,
    #[error("invalid cid: selected encoding not supported")]
    UnknownBase(char),
    #[error("invalid cid: illegal {base} data")]
    BadEncoding { base: &'static str },
    #[error("invalid cid: input isn't valid multihash")]
    BadV0String,
    #[error("invalid cid: expected 1 as the cid version number, got: {0}")]
    BadVersion(u64),
    #[error("invalid cid: malformed or non-minimal varint")]
    BadVarint,
    #[error("invalid cid: length greater than remaining number of bytes in buffer")]
    BadDigestLength { declared: u64, actual: usize },
    #[error("invalid cid: multihash digest of {0} bytes is longer than the 128-byte maximum")]
    DigestTooLong(u64),
    #[error("invalid cid: trailing bytes in data buffer passed to cid Cast")]
    TrailingBytes(usize),
    #[error("invalid cid: not enough bytes for cid v0")]
    BadV0,
    #[error("invalid cid: CIDv0 cannot be specified in CIDv1 format")]
    ExplicitV0,
    #[error("CIDv0 can only be encoded in base58btc")]
    V0Base,
    #[error("can't convert non-dag-pb nodes to cidv0")]
    NotDagPb,
    #[error("cannot convert to CIDv0: requires a 32-byte sha2-256 multihash")]
    NotV0Hash,
    #[error("the identity multibase cannot show this CID as text: its bytes are not UTF-8")]
    IdentityNotText,
}

/// Parses a CID string: a CIDv0 (`Qm...`) or a multibase-prefixed CIDv1.
pub fn parse_cid(s: &str) -> Result<Cid, CidError> {
    if s.len() < 2 {
        return Err(CidError::TooShort);
    }
    // CIDv0: 46 base58btc chars starting with "Qm" (a sha2-256 multihash).
    if s.len() == 46 && s.starts_with("Qm") {
        let bytes = Base::Base58Btc.decode(s).map_err(|_| CidError::BadV0String)?;
        return cid_from_bytes(&bytes).map_err(|_| CidError::BadV0String);
    }
    let prefix = s.chars().next().ok_or(CidError::TooShort)?;
    let base = crate::multibase::from_prefix(prefix).ok_or(CidError::UnknownBase(prefix))?;
    let bytes = base
        .decode(&s[prefix.len_utf8()..])
        .map_err(|_| CidError::BadEncoding { base: crate::multibase::name_of(base) })?;
    // As in go-cid, a multibase string holding a bare sha2-256 multihash is a CIDv0.
    cid_from_bytes(&bytes)
}

/// Parses binary CID bytes, which must be exactly one CID.
pub fn cid_from_bytes(bytes: &[u8]) -> Result<Cid, CidError> {
    let (cid, used) = cid_prefix_from_bytes(bytes)?;
    if used != bytes.len() {
        return Err(CidError::TrailingBytes(bytes.len() - used));
    }
    Ok(cid)
}

/// Parses one CID from the front of `bytes`, returning it and its length.
pub fn cid_prefix_from_bytes(bytes: &[u8]) -> Result<(Cid, usize), CidError> {
    if bytes.len() < 2 {
        return Err(CidError::TooShort);
    }
    // CIDv0 is a bare sha2-256 multihash: 0x12 0x20 + 32 bytes.
    if bytes[0] == 0x12 && bytes[1] == 0x20 {
        let digest = bytes.get(2..34).ok_or(CidError::BadDigestLength { declared: 32, actual: bytes.len() - 2 })?;
        let mh = Multihash::wrap(hash::SHA2_256, digest).map_err(|_| CidError::BadV0)?;
        return Ok((Cid::new_v0(mh).map_err(|_| CidError::BadV0)?, 34));
    }
    let mut pos = 0;
    let mut next = || -> Result<u64, CidError> {
        let (v, n) = get_uvarint_minimal(&bytes[pos..]).map_err(|_| CidError::BadVarint)?;
        pos += n;
        Ok(v)
    };
    let version = next()?;
    match version {
        1 => {}
        0 => return Err(CidError::ExplicitV0),
        v => return Err(CidError::BadVersion(v)),
    }
    let codec = next()?;
    let code = next()?;
    let len = next()?;
    if len > 128 {
        return Err(CidError::DigestTooLong(len));
    }
    let digest = bytes
        .get(pos..pos + len as usize)
        .ok_or(CidError::BadDigestLength { declared: len, actual: bytes.len() - pos })?;
    pos += len as usize;
    let mh = Multihash::wrap(code, digest).map_err(|_| CidError::DigestTooLong(len))?;
    Ok((Cid::new_v1(codec, mh), pos))
}

/// Parses binary multihash bytes, which must be exactly one multihash.
pub fn multihash_from_bytes(bytes: &[u8]) -> Result<Multihash, CidError> {
    let mut pos = 0;
    let mut next = || -> Result<u64, CidError> {
        let (v, n) = get_uvarint_minimal(&bytes[pos..]).map_err(|_| CidError::BadVarint)?;
        pos += n;
        Ok(v)
    };
    let code = next()?;
    let len = next()?;
    if len > 128 {
        return Err(CidError::DigestTooLong(len));
    }
    let rest = &bytes[pos..];
    if rest.len() != len as usize {
        return Err(CidError::BadDigestLength { declared: len, actual: rest.len() });
    }
    Multihash::wrap(code, rest).map_err(|_| CidError::DigestTooLong(len))
}

/// Formats a CID in `base`. CIDv0 only has base58btc.
pub fn cid_to_string(cid: &Cid, base: Base) -> Result<String, CidError> {
    match cid.version() {
        Version::V0 if base == Base::Base58Btc => Ok(cid.to_string()),
        Version::V0 => Err(CidError::V0Base),
        // The identity "encoding" is the bytes themselves, which a String can
        // hold only when they are UTF-8 (the multibase crate panics otherwise).
        Version::V1 if base == Base::Identity => {
            String::from_utf8(cid.to_bytes()).map(|s| format!("\0{s}")).map_err(|_| CidError::IdentityNotText)
        }
        Version::V1 => Ok(multibase::encode(base, cid.to_bytes())),
    }
}

/// The same content as CIDv1.
pub fn to_v1(cid: &Cid) -> Cid {
    Cid::new_v1(cid.codec(), *cid.hash())
}

/// The same content as CIDv0, if it is dag-pb with a sha2-256 hash.
pub fn to_v0(cid: &Cid) -> Result<Cid, CidError> {
    if cid.codec() != crate::codec::DAG_PB {
        return Err(CidError::NotDagPb);
    }
    if cid.hash().code() != hash::SHA2_256 || cid.hash().size() != 32 {
        return Err(CidError::NotV0Hash);
    }
    Cid::new_v0(*cid.hash()).map_err(|_| CidError::NotV0Hash)
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
        assert_eq!(parse_cid("bciqcz4snxjp3biyoe3ua"), Err(CidError::BadDigestLength { declared: 32, actual: 10 }));
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
