//! IPNS names: the multihash of a public key, written as Kubo writes and
//! reads them (boxo `ipns/name.go`, go-libp2p `peer.Decode`).

use std::fmt;
use std::str::FromStr;

use libp2p_identity::{PeerId, PublicKey};
use rubo_types::cid::{MultihashError, multihash_from_bytes};
use rubo_types::multibase::{MultibaseError, base58btc_decode};
use rubo_types::{Cid, CidError, codec, parse_cid};
use thiserror::Error;

/// The namespace prefix of IPNS paths, and of routing keys.
pub const NAMESPACE_PREFIX: &str = "/ipns/";

/// The multihash code of an inlined public key.
const IDENTITY: u64 = 0x00;

/// Why a string or routing key is not an IPNS name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum NameError {
    /// A base58 peer ID (`Qm...`, `1...`) that is not base58.
    #[error("invalid peer ID: {0}")]
    Base58(MultibaseError),
    /// Bytes that are not exactly one multihash.
    #[error("invalid peer ID: {0}")]
    Multihash(MultihashError),
    /// Text that is neither a base58 peer ID nor a CID.
    #[error(transparent)]
    Cid(CidError),
    /// A CID whose codec is not `libp2p-key`.
    #[error("CID codec 0x{codec:x} is not allowed for IPNS names, use libp2p-key (0x72) instead")]
    NotLibp2pKey { codec: u64 },
    /// A multihash that no peer ID uses: libp2p's are identity (an inlined
    /// key of at most 42 bytes) or sha2-256.
    #[error("multihash with code 0x{code:x} and {len} bytes is not a peer ID")]
    NotPeerId { code: u64, len: usize },
    /// A routing key without the `/ipns/` prefix.
    #[error("IPNS routing key does not start with /ipns/")]
    NotRoutingKey,
}

/// An IPNS name: a libp2p peer ID, the multihash of a public key (inlined
/// for Ed25519 and secp256k1 keys, hashed with sha2-256 for RSA and ECDSA).
///
/// Displayed as Kubo prints names: a CIDv1 with the `libp2p-key` codec in
/// lower-case base36 (`k51...` for Ed25519, `k2k4r8...` for RSA).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Name(PeerId);

impl Name {
    /// Parses every form Kubo accepts (boxo `NameFromString`): an optional
    /// `/ipns/` prefix, then a base58 peer ID (`Qm...`, `12D3Koo...`,
    /// `16Uiu2...`) or a CID with the `libp2p-key` codec in any multibase
    /// (`k51...`, `bafz...`, `K51...`).
    pub fn parse(s: &str) -> Result<Self, NameError> {
        let s = s.strip_prefix(NAMESPACE_PREFIX).unwrap_or(s);
        // go-libp2p's peer.Decode: these two prefixes mean base58, whatever
        // a multibase reading of them would say.
        if s.starts_with("Qm") || s.starts_with('1') {
            let bytes = base58btc_decode(s.as_bytes()).map_err(NameError::Base58)?;
            return Self::from_multihash_bytes(&bytes);
        }
        Self::from_cid(&parse_cid(s).map_err(NameError::Cid)?)
    }

    /// The name a CID stands for, if its codec is `libp2p-key` (boxo
    /// `NameFromCid`).
    pub fn from_cid(cid: &Cid) -> Result<Self, NameError> {
        if cid.codec() != codec::LIBP2P_KEY {
            return Err(NameError::NotLibp2pKey { codec: cid.codec() });
        }
        Self::from_multihash_bytes(&cid.hash().to_bytes())
    }

    /// Reads a DHT routing key: `/ipns/` then the binary multihash.
    pub fn from_routing_key(key: &[u8]) -> Result<Self, NameError> {
        let mh = key.strip_prefix(NAMESPACE_PREFIX.as_bytes()).ok_or(NameError::NotRoutingKey)?;
        Self::from_multihash_bytes(mh)
    }

    fn from_multihash_bytes(bytes: &[u8]) -> Result<Self, NameError> {
        let mh = multihash_from_bytes(bytes).map_err(NameError::Multihash)?;
        PeerId::from_bytes(bytes)
            .map(Self)
            .map_err(|_| NameError::NotPeerId { code: mh.code(), len: usize::from(mh.size()) })
    }

    /// The name of a public key.
    pub fn from_public_key(key: &PublicKey) -> Self {
        Self(key.to_peer_id())
    }

    /// The name as a peer ID.
    pub fn peer_id(&self) -> PeerId {
        self.0
    }

    /// The name's multihash bytes.
    pub fn to_multihash_bytes(&self) -> Vec<u8> {
        self.0.to_bytes()
    }

    /// The DHT routing key: `/ipns/` then the binary multihash (no multibase).
    pub fn routing_key(&self) -> Vec<u8> {
        let mut key = NAMESPACE_PREFIX.as_bytes().to_vec();
        key.extend_from_slice(&self.0.to_bytes());
        key
    }

    /// The name as a CIDv1 with the `libp2p-key` codec.
    pub fn to_cid(&self) -> Cid {
        // A peer ID's multihash (at most 42 bytes of digest) always fits.
        rubo_types::cid::cid_from_bytes(&self.cid_bytes()).unwrap_or_default()
    }

    fn cid_bytes(&self) -> Vec<u8> {
        let mut b = vec![0x01, codec::LIBP2P_KEY as u8];
        b.extend_from_slice(&self.0.to_bytes());
        b
    }

    /// `/ipns/<name>`.
    pub fn to_path(&self) -> String {
        format!("{NAMESPACE_PREFIX}{self}")
    }

    /// The public key inlined in the name (identity multihash), if any:
    /// `None` for hashed names, `Some(Err)` if the inlined bytes are not a
    /// key.
    pub(crate) fn inline_public_key(&self) -> Option<Result<PublicKey, String>> {
        let mh = self.0.as_ref();
        (mh.code() == IDENTITY).then(|| PublicKey::try_decode_protobuf(mh.digest()).map_err(|e| e.to_string()))
    }

    /// Whether the name inlines its public key, so that records need not
    /// carry it.
    pub fn inlines_public_key(&self) -> bool {
        self.0.as_ref().code() == IDENTITY
    }
}

impl From<PeerId> for Name {
    fn from(p: PeerId) -> Self {
        Self(p)
    }
}

impl From<Name> for PeerId {
    fn from(n: Name) -> Self {
        n.0
    }
}

impl FromStr for Name {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // libp2p-key is 0x72, a one-byte varint.
        f.write_str(&multibase::encode(multibase::Base::Base36Lower, self.cid_bytes()))
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}
