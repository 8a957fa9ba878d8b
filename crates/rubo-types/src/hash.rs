//! Multihash functions: names, codes, default lengths, hashing and Kubo's allowlist.
//!
//! The names and default lengths follow go-multihash, which is what Kubo accepts in
//! `--mhtype`/`--hash`. The allowlist and digest bounds follow boxo's `verifcid`.

use sha2::Digest as _;
use sha3::digest::{ExtendableOutput, Update as XofUpdate, XofReader};
use thiserror::Error;

use crate::Multihash;

pub const IDENTITY: u64 = 0x00;
pub const SHA1: u64 = 0x11;
pub const SHA2_256: u64 = 0x12;
pub const SHA2_512: u64 = 0x13;
pub const SHA3_512: u64 = 0x14;
pub const SHA3_384: u64 = 0x15;
pub const SHA3_256: u64 = 0x16;
pub const SHA3_224: u64 = 0x17;
pub const SHAKE_128: u64 = 0x18;
pub const SHAKE_256: u64 = 0x19;
pub const KECCAK_224: u64 = 0x1a;
pub const KECCAK_256: u64 = 0x1b;
pub const KECCAK_384: u64 = 0x1c;
pub const KECCAK_512: u64 = 0x1d;
pub const BLAKE3: u64 = 0x1e;
pub const MURMUR3_X64_64: u64 = 0x22;
pub const DBL_SHA2_256: u64 = 0x56;
pub const MD5: u64 = 0xd5;
pub const SHA2_256_TRUNC254_PADDED: u64 = 0x1012;
pub const SHA2_224: u64 = 0x1013;
pub const SHA2_512_224: u64 = 0x1014;
pub const SHA2_512_256: u64 = 0x1015;
pub const X11: u64 = 0x1100;
pub const BLAKE2B_MIN: u64 = 0xb201;
pub const BLAKE2B_MAX: u64 = 0xb240;
pub const BLAKE2S_MIN: u64 = 0xb241;
pub const BLAKE2S_MAX: u64 = 0xb260;
pub const POSEIDON_BLS12_381_A2_FC1: u64 = 0xb401;

/// Smallest digest a content hash may have (boxo `verifcid.DefaultMinDigestSize`).
pub const MIN_DIGEST_SIZE: usize = 20;
/// Largest digest of any hash, identity included (boxo `verifcid`).
pub const MAX_DIGEST_SIZE: usize = 128;
/// Largest identity "digest" (inline data) Kubo accepts.
pub const MAX_IDENTITY_DIGEST_SIZE: usize = 128;

/// A hash-related error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum HashError {
    #[error("unrecognized multihash function: {0}")]
    UnknownName(String),
    #[error("no hash function implemented for multihash code {0:#x} ({1})")]
    Unsupported(u64, String),
    #[error("potentially insecure hash functions not allowed")]
    NotAllowed,
    #[error("digest too small: {name} digest got {got} bytes, minimum {min}")]
    DigestTooSmall { name: String, got: usize, min: usize },
    #[error("digest too large: {name} digest got {got} bytes, maximum {max}")]
    DigestTooLarge { name: String, got: usize, max: usize },
    #[error("requested length was too large for digest")]
    LengthTooLarge,
    #[error("identity hash of {0} bytes exceeds the {MAX_IDENTITY_DIGEST_SIZE}-byte limit")]
    IdentityTooLarge(usize),
    #[error("invalid multihash length {0}")]
    BadLength(i64),
}

/// go-multihash's name for a code, if it has one.
pub fn name_of(code: u64) -> Option<String> {
    let fixed = match code {
        IDENTITY => "identity",
        SHA1 => "sha1",
        SHA2_256 => "sha2-256",
        SHA2_512 => "sha2-512",
        SHA3_224 => "sha3-224",
        SHA3_256 => "sha3-256",
        SHA3_384 => "sha3-384",
        SHA3_512 => "sha3-512",
        SHAKE_128 => "shake-128",
        SHAKE_256 => "shake-256",
        KECCAK_224 => "keccak-224",
        KECCAK_256 => "keccak-256",
        KECCAK_384 => "keccak-384",
        KECCAK_512 => "keccak-512",
        BLAKE3 => "blake3",
        MURMUR3_X64_64 => "murmur3-x64-64",
        DBL_SHA2_256 => "dbl-sha2-256",
        MD5 => "md5",
        SHA2_256_TRUNC254_PADDED => "sha2-256-trunc254-padded",
        X11 => "x11",
        POSEIDON_BLS12_381_A2_FC1 => "poseidon-bls12_381-a2-fc1",
        c if (BLAKE2B_MIN..=BLAKE2B_MAX).contains(&c) => {
            return Some(format!("blake2b-{}", (c - BLAKE2B_MIN + 1) * 8));
        }
        c if (BLAKE2S_MIN..=BLAKE2S_MAX).contains(&c) => {
            return Some(format!("blake2s-{}", (c - BLAKE2S_MIN + 1) * 8));
        }
        _ => return None,
    };
    Some(fixed.to_string())
}

/// The code for a go-multihash name (`sha2-256`, `blake2b-256`, ...).
pub fn code_of(name: &str) -> Result<u64, HashError> {
    let unknown = || HashError::UnknownName(name.to_string());
    let code = match name {
        "identity" => IDENTITY,
        "sha1" => SHA1,
        "sha2-256" => SHA2_256,
        "sha2-512" => SHA2_512,
        "sha3-224" => SHA3_224,
        "sha3-256" => SHA3_256,
        "sha3-384" => SHA3_384,
        "sha3-512" | "sha3" => SHA3_512,
        "shake-128" => SHAKE_128,
        "shake-256" => SHAKE_256,
        "keccak-224" => KECCAK_224,
        "keccak-256" => KECCAK_256,
        "keccak-384" => KECCAK_384,
        "keccak-512" => KECCAK_512,
        "blake3" => BLAKE3,
        "murmur3-x64-64" => MURMUR3_X64_64,
        "dbl-sha2-256" => DBL_SHA2_256,
        "md5" => MD5,
        "sha2-256-trunc254-padded" => SHA2_256_TRUNC254_PADDED,
        "x11" => X11,
        "poseidon-bls12_381-a2-fc1" => POSEIDON_BLS12_381_A2_FC1,
        other => {
            let (family, bits) = other.rsplit_once('-').ok_or_else(unknown)?;
            let bits: u64 = bits.parse().map_err(|_| unknown())?;
            let (base, max) = match family {
                "blake2b" => (BLAKE2B_MIN, 512),
                "blake2s" => (BLAKE2S_MIN, 256),
                _ => return Err(unknown()),
            };
            if bits == 0 || !bits.is_multiple_of(8) || bits > max || bits.to_string() != other[family.len() + 1..] {
                return Err(unknown());
            }
            base + bits / 8 - 1
        }
    };
    Ok(code)
}

/// The digest length go-multihash uses when none is asked for.
pub fn default_length(code: u64) -> Option<usize> {
    Some(match code {
        IDENTITY => return None, // identity is as long as its input
        SHA1 => 20,
        SHA2_256 | SHA3_256 | KECCAK_256 | BLAKE3 | DBL_SHA2_256 | SHAKE_128 | SHA2_512_256 => 32,
        SHA2_512 | SHA3_512 | KECCAK_512 | SHAKE_256 => 64,
        SHA3_224 | KECCAK_224 | SHA2_224 | SHA2_512_224 => 28,
        SHA3_384 | KECCAK_384 => 48,
        MURMUR3_X64_64 => 8,
        MD5 => 16,
        c if (BLAKE2B_MIN..=BLAKE2B_MAX).contains(&c) => (c - BLAKE2B_MIN + 1) as usize,
        c if (BLAKE2S_MIN..=BLAKE2S_MAX).contains(&c) => (c - BLAKE2S_MIN + 1) as usize,
        _ => return None,
    })
}

/// Whether Kubo (boxo `verifcid.DefaultAllowlist`) accepts content hashed with `code`.
pub fn is_allowed(code: u64) -> bool {
    match code {
        SHA2_256 | SHA2_512 | SHAKE_256 | DBL_SHA2_256 | BLAKE3 | IDENTITY | SHA3_224 | SHA3_256 | SHA3_384
        | SHA3_512 | KECCAK_224 | KECCAK_256 | KECCAK_384 | KECCAK_512 | SHA1 => true,
        c => (BLAKE2B_MIN + 19..=BLAKE2B_MAX).contains(&c) || (BLAKE2S_MIN + 19..=BLAKE2S_MAX).contains(&c),
    }
}

/// Checks a multihash against the allowlist and digest size bounds, as boxo's
/// `verifcid.ValidateCid` does before any block is stored or fetched.
pub fn validate(code: u64, digest_len: usize) -> Result<(), HashError> {
    if !is_allowed(code) {
        return Err(HashError::NotAllowed);
    }
    let name = || name_of(code).unwrap_or_else(|| format!("unknown({code})"));
    let (min, max) = if code == IDENTITY { (0, MAX_IDENTITY_DIGEST_SIZE) } else { (MIN_DIGEST_SIZE, MAX_DIGEST_SIZE) };
    if digest_len < min {
        return Err(HashError::DigestTooSmall { name: name(), got: digest_len, min });
    }
    if digest_len > max {
        return Err(HashError::DigestTooLarge { name: name(), got: digest_len, max });
    }
    Ok(())
}

/// Every code rubo can compute, in code order (what `cid hashes --supported` lists).
pub fn implemented_codes() -> Vec<u64> {
    let mut v = vec![
        IDENTITY,
        SHA1,
        SHA2_256,
        SHA2_512,
        SHA3_512,
        SHA3_384,
        SHA3_256,
        SHA3_224,
        SHAKE_128,
        SHAKE_256,
        KECCAK_224,
        KECCAK_256,
        KECCAK_384,
        KECCAK_512,
        BLAKE3,
        DBL_SHA2_256,
    ];
    v.extend(BLAKE2B_MIN..=BLAKE2B_MAX);
    v.extend(BLAKE2S_MIN..=BLAKE2S_MAX);
    v.sort_unstable();
    v
}

enum Inner {
    Identity(Vec<u8>),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    DblSha256(sha2::Sha256),
    Sha512(sha2::Sha512),
    Sha3_224(sha3::Sha3_224),
    Sha3_256(sha3::Sha3_256),
    Sha3_384(sha3::Sha3_384),
    Sha3_512(sha3::Sha3_512),
    Keccak224(sha3::Keccak224),
    Keccak256(sha3::Keccak256),
    Keccak384(sha3::Keccak384),
    Keccak512(sha3::Keccak512),
    Shake128(shake::Shake128),
    Shake256(shake::Shake256),
    Blake2b(blake2b_simd::State),
    Blake2s(blake2s_simd::State),
    Blake3(Box<blake3::Hasher>),
}

/// A streaming multihash computation with a fixed output length.
pub struct Hasher {
    code: u64,
    len: usize,
    inner: Inner,
}

impl Hasher {
    /// A hasher for `code` producing `len` bytes (`None`: the function's default).
    ///
    /// As in go-multihash, a length shorter than the function's natural output
    /// truncates it; a longer one is an error except for XOFs (shake, blake3).
    pub fn new(code: u64, len: Option<usize>) -> Result<Self, HashError> {
        let name = || name_of(code).unwrap_or_else(|| format!("{code:#x}"));
        let natural = match code {
            IDENTITY => None,
            _ => Some(default_length(code).ok_or_else(|| HashError::Unsupported(code, name()))?),
        };
        let inner = match code {
            IDENTITY => Inner::Identity(Vec::new()),
            SHA1 => Inner::Sha1(sha1::Sha1::new()),
            SHA2_256 => Inner::Sha256(sha2::Sha256::new()),
            DBL_SHA2_256 => Inner::DblSha256(sha2::Sha256::new()),
            SHA2_512 => Inner::Sha512(sha2::Sha512::new()),
            SHA3_224 => Inner::Sha3_224(sha3::Sha3_224::new()),
            SHA3_256 => Inner::Sha3_256(sha3::Sha3_256::new()),
            SHA3_384 => Inner::Sha3_384(sha3::Sha3_384::new()),
            SHA3_512 => Inner::Sha3_512(sha3::Sha3_512::new()),
            KECCAK_224 => Inner::Keccak224(sha3::Keccak224::new()),
            KECCAK_256 => Inner::Keccak256(sha3::Keccak256::new()),
            KECCAK_384 => Inner::Keccak384(sha3::Keccak384::new()),
            KECCAK_512 => Inner::Keccak512(sha3::Keccak512::new()),
            SHAKE_128 => Inner::Shake128(shake::Shake128::default()),
            SHAKE_256 => Inner::Shake256(shake::Shake256::default()),
            BLAKE3 => Inner::Blake3(Box::default()),
            c if (BLAKE2B_MIN..=BLAKE2B_MAX).contains(&c) => {
                let mut p = blake2b_simd::Params::new();
                p.hash_length((c - BLAKE2B_MIN + 1) as usize);
                Inner::Blake2b(p.to_state())
            }
            c if (BLAKE2S_MIN..=BLAKE2S_MAX).contains(&c) => {
                let mut p = blake2s_simd::Params::new();
                p.hash_length((c - BLAKE2S_MIN + 1) as usize);
                Inner::Blake2s(p.to_state())
            }
            _ => return Err(HashError::Unsupported(code, name())),
        };
        let xof = matches!(code, SHAKE_128 | SHAKE_256 | BLAKE3);
        let len = match (len, natural) {
            (None, Some(n)) => n,
            (None, None) => usize::MAX, // identity: whatever the input is
            (Some(l), _) if l > MAX_DIGEST_SIZE => return Err(HashError::LengthTooLarge),
            (Some(l), Some(n)) if l > n && !xof => return Err(HashError::LengthTooLarge),
            (Some(l), _) => l,
        };
        Ok(Self { code, len, inner })
    }

    /// The multihash code.
    pub fn code(&self) -> u64 {
        self.code
    }

    pub fn update(&mut self, data: &[u8]) {
        match &mut self.inner {
            Inner::Identity(v) => v.extend_from_slice(data),
            Inner::Sha1(h) => sha2::Digest::update(h, data),
            Inner::Sha256(h) | Inner::DblSha256(h) => sha2::Digest::update(h, data),
            Inner::Sha512(h) => sha2::Digest::update(h, data),
            Inner::Sha3_224(h) => sha2::Digest::update(h, data),
            Inner::Sha3_256(h) => sha2::Digest::update(h, data),
            Inner::Sha3_384(h) => sha2::Digest::update(h, data),
            Inner::Sha3_512(h) => sha2::Digest::update(h, data),
            Inner::Keccak224(h) => sha2::Digest::update(h, data),
            Inner::Keccak256(h) => sha2::Digest::update(h, data),
            Inner::Keccak384(h) => sha2::Digest::update(h, data),
            Inner::Keccak512(h) => sha2::Digest::update(h, data),
            Inner::Shake128(h) => XofUpdate::update(h, data),
            Inner::Shake256(h) => XofUpdate::update(h, data),
            Inner::Blake2b(h) => {
                h.update(data);
            }
            Inner::Blake2s(h) => {
                h.update(data);
            }
            Inner::Blake3(h) => {
                h.update(data);
            }
        }
    }

    /// Finishes the hash into a multihash.
    pub fn finalize(self) -> Result<Multihash, HashError> {
        let len = self.len;
        let full: Vec<u8> = match self.inner {
            Inner::Identity(v) => {
                if v.len() > MAX_IDENTITY_DIGEST_SIZE {
                    return Err(HashError::IdentityTooLarge(v.len()));
                }
                if len != usize::MAX && len != v.len() {
                    return Err(HashError::BadLength(len as i64));
                }
                v
            }
            Inner::Sha1(h) => h.finalize().to_vec(),
            Inner::Sha256(h) => h.finalize().to_vec(),
            Inner::DblSha256(h) => sha2::Sha256::digest(h.finalize()).to_vec(),
            Inner::Sha512(h) => h.finalize().to_vec(),
            Inner::Sha3_224(h) => h.finalize().to_vec(),
            Inner::Sha3_256(h) => h.finalize().to_vec(),
            Inner::Sha3_384(h) => h.finalize().to_vec(),
            Inner::Sha3_512(h) => h.finalize().to_vec(),
            Inner::Keccak224(h) => h.finalize().to_vec(),
            Inner::Keccak256(h) => h.finalize().to_vec(),
            Inner::Keccak384(h) => h.finalize().to_vec(),
            Inner::Keccak512(h) => h.finalize().to_vec(),
            Inner::Shake128(h) => xof_read(h.finalize_xof(), len),
            Inner::Shake256(h) => xof_read(h.finalize_xof(), len),
            Inner::Blake2b(h) => h.finalize().as_bytes().to_vec(),
            Inner::Blake2s(h) => h.finalize().as_bytes().to_vec(),
            Inner::Blake3(h) => {
                let mut out = vec![0u8; len];
                h.finalize_xof().fill(&mut out);
                out
            }
        };
        let digest = if len < full.len() { &full[..len] } else { &full[..] };
        Multihash::wrap(self.code, digest).map_err(|_| HashError::LengthTooLarge)
    }
}

fn xof_read(mut r: impl XofReader, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    r.read(&mut out);
    out
}

/// Hashes `data` in one go.
pub fn digest(code: u64, len: Option<usize>, data: &[u8]) -> Result<Multihash, HashError> {
    if code == SHA2_256 && len.is_none() {
        return Ok(sha2_256(data));
    }
    let mut h = Hasher::new(code, len)?;
    h.update(data);
    h.finalize()
}

/// The common case, without dispatch.
pub fn sha2_256(data: &[u8]) -> Multihash {
    let d = sha2::Sha256::digest(data);
    // A 32-byte digest always fits a 128-byte multihash.
    Multihash::wrap(SHA2_256, &d).unwrap_or_default()
}

/// The identity multihash of `data`, if it is small enough.
pub fn identity(data: &[u8]) -> Result<Multihash, HashError> {
    if data.len() > MAX_IDENTITY_DIGEST_SIZE {
        return Err(HashError::IdentityTooLarge(data.len()));
    }
    Multihash::wrap(IDENTITY, data).map_err(|_| HashError::IdentityTooLarge(data.len()))
}

/// Whether `data` hashes to `mh` (same function, same length).
pub fn verify(mh: &Multihash, data: &[u8]) -> Result<bool, HashError> {
    let got = digest(mh.code(), Some(mh.size() as usize), data)?;
    Ok(got.digest() == mh.digest())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex_digest(code: u64, data: &[u8]) -> String {
        hex::encode(digest(code, None, data).unwrap().digest())
    }

    #[test]
    fn known_digests() {
        // Published test vectors for "abc".
        assert_eq!(hex_digest(SHA2_256, b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex_digest(SHA1, b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(hex_digest(SHA3_256, b"abc"), "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
        assert_eq!(hex_digest(KECCAK_256, b""), "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470");
        assert_eq!(hex_digest(BLAKE3, b""), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
        assert_eq!(
            hex_digest(code_of("blake2b-256").unwrap(), b"abc"),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319"
        );
        assert_eq!(
            hex_digest(DBL_SHA2_256, b"abc"),
            "4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358"
        );
    }

    #[test]
    fn names_roundtrip() {
        for code in implemented_codes() {
            let name = name_of(code).unwrap();
            assert_eq!(code_of(&name).unwrap(), code, "{name}");
        }
        assert_eq!(code_of("blake2b-256").unwrap(), 0xb220);
        assert_eq!(code_of("blake2s-256").unwrap(), 0xb260);
        assert!(code_of("blake2b-0").is_err());
        assert!(code_of("blake2b-520").is_err());
        assert!(code_of("blake2b-0256").is_err());
        assert!(code_of("sha2-257").is_err());
    }

    #[test]
    fn truncation_and_limits() {
        let mh = digest(SHA2_256, Some(20), b"x").unwrap();
        assert_eq!(mh.size(), 20);
        assert_eq!(&digest(SHA2_256, None, b"x").unwrap().digest()[..20], mh.digest());
        assert_eq!(Hasher::new(SHA2_256, Some(33)).err(), Some(HashError::LengthTooLarge));
        // XOFs may be extended
        assert_eq!(digest(BLAKE3, Some(64), b"x").unwrap().size(), 64);
        assert!(identity(&[0u8; 128]).is_ok());
        assert!(identity(&[0u8; 129]).is_err());
    }

    #[test]
    fn allowlist() {
        assert!(validate(SHA2_256, 32).is_ok());
        assert!(validate(MD5, 16).is_err());
        assert_eq!(
            validate(SHA2_256, 10).unwrap_err().to_string(),
            "digest too small: sha2-256 digest got 10 bytes, minimum 20"
        );
        assert!(validate(IDENTITY, 0).is_ok());
        assert!(validate(code_of("blake2b-152").unwrap(), 19).is_err());
        assert!(validate(code_of("blake2b-160").unwrap(), 20).is_ok());
    }
}
