//! Node and keystore keys in libp2p's protobuf encoding, as Kubo stores them.
//!
//! libp2p-identity reads every key type but cannot write RSA keys, so the
//! encoded form is kept beside the parsed key and RSA keys are generated and
//! encoded here (protobuf `PrivateKey { Type = RSA, Data = PKCS#1 DER }`).

use libp2p_identity::{Keypair, PeerId, PublicKey};
use rsa::pkcs1::EncodeRsaPrivateKey;
use thiserror::Error;

/// A key failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("unrecognized key type: {0} (supported: ed25519, rsa, secp256k1)")]
    UnknownType(String),
    #[error("rsa keys must be between 2048 and 16384 bits, got {0}")]
    RsaBits(u32),
    #[error("key generation failed: {0}")]
    Generate(String),
    #[error("invalid private key: {0}")]
    Decode(String),
}

/// Supported key algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Ed25519,
    Rsa,
    Secp256k1,
}

impl KeyType {
    pub fn parse(s: &str) -> Result<Self, KeyError> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" => Ok(Self::Ed25519),
            "rsa" => Ok(Self::Rsa),
            "secp256k1" => Ok(Self::Secp256k1),
            _ => Err(KeyError::UnknownType(s.to_string())),
        }
    }
}

/// A private key with its exact stored encoding.
#[derive(Clone)]
pub struct PrivateKey {
    keypair: Keypair,
    encoded: Vec<u8>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey({})", self.peer_id())
    }
}

impl PrivateKey {
    /// Generates a new key; `bits` only applies to RSA (Kubo's default is 2048).
    pub fn generate(kind: KeyType, bits: u32) -> Result<Self, KeyError> {
        match kind {
            KeyType::Ed25519 => Self::from_keypair(Keypair::generate_ed25519()),
            KeyType::Secp256k1 => Self::from_keypair(Keypair::generate_secp256k1()),
            KeyType::Rsa => {
                if !(2048..=16384).contains(&bits) {
                    return Err(KeyError::RsaBits(bits));
                }
                let key = rsa::PrivateKey::new(&mut getrandom::SysRng, bits as usize)
                    .map_err(|e| KeyError::Generate(e.to_string()))?;
                let der = key.to_pkcs1_der().map_err(|e| KeyError::Generate(e.to_string()))?;
                let mut encoded = Vec::with_capacity(der.as_bytes().len() + 8);
                // PrivateKey { Type (1) = RSA (0); Data (2) = der }
                encoded.extend_from_slice(&[0x08, 0x00]);
                rubo_types::pb::put_bytes_field(&mut encoded, 2, der.as_bytes());
                Self::decode(&encoded)
            }
        }
    }

    fn from_keypair(keypair: Keypair) -> Result<Self, KeyError> {
        let encoded = keypair.to_protobuf_encoding().map_err(|e| KeyError::Generate(e.to_string()))?;
        Ok(Self { keypair, encoded })
    }

    /// Parses libp2p's protobuf `PrivateKey`.
    pub fn decode(bytes: &[u8]) -> Result<Self, KeyError> {
        let keypair = Keypair::from_protobuf_encoding(bytes).map_err(|e| KeyError::Decode(e.to_string()))?;
        Ok(Self { keypair, encoded: bytes.to_vec() })
    }

    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    pub fn keypair(&self) -> &Keypair {
        &self.keypair
    }

    pub fn public(&self) -> PublicKey {
        self.keypair.public()
    }

    pub fn peer_id(&self) -> PeerId {
        self.keypair.public().to_peer_id()
    }

    /// The key type's name as Kubo prints it.
    pub fn type_name(&self) -> &'static str {
        match self.keypair.key_type() {
            libp2p_identity::KeyType::Ed25519 => "ed25519",
            libp2p_identity::KeyType::RSA => "rsa",
            libp2p_identity::KeyType::Secp256k1 => "secp256k1",
            libp2p_identity::KeyType::Ecdsa => "ecdsa",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ed25519_roundtrip() {
        let k = PrivateKey::generate(KeyType::Ed25519, 0).unwrap();
        let again = PrivateKey::decode(k.encoded()).unwrap();
        assert_eq!(k.peer_id(), again.peer_id());
        // Ed25519 peer IDs are identity multihashes: base58 "12D3KooW..."
        assert!(k.peer_id().to_string().starts_with("12D3KooW"));
    }

    #[test]
    fn rsa_roundtrip() {
        let k = PrivateKey::generate(KeyType::Rsa, 2048).unwrap();
        let again = PrivateKey::decode(k.encoded()).unwrap();
        assert_eq!(k.peer_id(), again.peer_id());
        // RSA peer IDs are sha2-256 multihashes: base58 "Qm..."
        assert!(k.peer_id().to_string().starts_with("Qm"));
        assert!(PrivateKey::generate(KeyType::Rsa, 1024).is_err());
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(PrivateKey::decode(b"not a key").is_err());
        assert!(PrivateKey::decode(&[]).is_err());
    }
}
