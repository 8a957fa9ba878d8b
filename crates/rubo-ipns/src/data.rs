//! The signed DAG-CBOR document in `IpnsEntry.data`.

use std::collections::BTreeMap;

use ipld_core::ipld::Ipld;

use crate::error::IpnsError;

const KEY_VALUE: &str = "Value";
const KEY_VALIDITY: &str = "Validity";
const KEY_VALIDITY_TYPE: &str = "ValidityType";
const KEY_SEQUENCE: &str = "Sequence";
const KEY_TTL: &str = "TTL";

/// The five fields of `IpnsEntry.data` that the spec defines. Other keys
/// (the spec's "extensible data") are allowed and ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordData {
    /// `Value`: the content path, as bytes.
    pub value: Vec<u8>,
    /// `Validity`: for EOL, an RFC 3339 timestamp in ASCII.
    pub validity: Vec<u8>,
    /// `ValidityType`: 0 (EOL) is the only one defined; kept as read so
    /// that an unknown one can be reported after the signature check.
    pub validity_type: i128,
    /// `Sequence`.
    pub sequence: u64,
    /// `TTL`, nanoseconds.
    pub ttl: u64,
}

/// Decodes a DAG-CBOR map (the decoder bounds nesting). CBOR that only
/// breaks DAG-CBOR's one-encoding rules (unsorted or repeated keys,
/// indefinite lengths, longer heads than needed) is [`IpnsError::NotCanonical`].
pub(crate) fn decode_map(bytes: &[u8]) -> Result<BTreeMap<String, Ipld>, IpnsError> {
    use serde_ipld_dagcbor::DecodeError;
    match serde_ipld_dagcbor::from_slice::<Ipld>(bytes) {
        Ok(Ipld::Map(m)) => Ok(m),
        Ok(_) => Err(IpnsError::Malformed("data is not a DAG-CBOR map".into())),
        Err(DecodeError::UnorderedKey | DecodeError::IndefiniteSize | DecodeError::NonMinimal { .. }) => {
            Err(IpnsError::NotCanonical)
        }
        Err(e) => Err(IpnsError::Malformed(format!("data is not DAG-CBOR: {e}"))),
    }
}

fn bytes_field(m: &BTreeMap<String, Ipld>, key: &str) -> Result<Vec<u8>, IpnsError> {
    match m.get(key) {
        Some(Ipld::Bytes(b)) => Ok(b.clone()),
        Some(_) => Err(IpnsError::Malformed(format!("data[{key}] is not bytes"))),
        None => Err(IpnsError::Malformed(format!("data[{key}] is missing"))),
    }
}

pub(crate) fn int_field(m: &BTreeMap<String, Ipld>, key: &str) -> Result<i128, IpnsError> {
    match m.get(key) {
        Some(Ipld::Integer(i)) => Ok(*i),
        Some(_) => Err(IpnsError::Malformed(format!("data[{key}] is not an integer"))),
        None => Err(IpnsError::Malformed(format!("data[{key}] is missing"))),
    }
}

fn uint_field(m: &BTreeMap<String, Ipld>, key: &str) -> Result<u64, IpnsError> {
    let i = int_field(m, key)?;
    u64::try_from(i).map_err(|_| IpnsError::Malformed(format!("data[{key}] is {i}, not an unsigned 64-bit integer")))
}

impl RecordData {
    /// Decodes `IpnsEntry.data`, which must be canonical DAG-CBOR: the
    /// signature covers these exact bytes, so any other encoding of the same
    /// document is refused ([`IpnsError::NotCanonical`]) rather than
    /// interpreted.
    pub fn decode(bytes: &[u8]) -> Result<Self, IpnsError> {
        let m = decode_map(bytes)?;
        // The encoder writes DAG-CBOR's one form (sorted keys, shortest
        // heads, 64-bit floats), so a round trip is the canonical check.
        let again = serde_ipld_dagcbor::to_vec(&Ipld::Map(m.clone())).map_err(|_| IpnsError::NotCanonical)?;
        if again != bytes {
            return Err(IpnsError::NotCanonical);
        }
        Ok(Self {
            value: bytes_field(&m, KEY_VALUE)?,
            validity: bytes_field(&m, KEY_VALIDITY)?,
            validity_type: int_field(&m, KEY_VALIDITY_TYPE)?,
            sequence: uint_field(&m, KEY_SEQUENCE)?,
            ttl: uint_field(&m, KEY_TTL)?,
        })
    }

    /// The canonical DAG-CBOR encoding. Written by hand, so it cannot fail:
    /// five text keys in DAG-CBOR order (shorter first, then bytewise).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.value.len() + self.validity.len());
        head(&mut out, MAJOR_MAP, 5);
        text(&mut out, KEY_TTL);
        head(&mut out, MAJOR_UINT, self.ttl);
        text(&mut out, KEY_VALUE);
        bytes(&mut out, &self.value);
        text(&mut out, KEY_SEQUENCE);
        head(&mut out, MAJOR_UINT, self.sequence);
        text(&mut out, KEY_VALIDITY);
        bytes(&mut out, &self.validity);
        text(&mut out, KEY_VALIDITY_TYPE);
        // CBOR integers span -2^64..2^64-1; a wider value is clamped.
        match u64::try_from(self.validity_type) {
            Ok(u) => head(&mut out, MAJOR_UINT, u),
            Err(_) if self.validity_type > 0 => head(&mut out, MAJOR_UINT, u64::MAX),
            Err(_) => head(&mut out, MAJOR_NINT, u64::try_from(-1 - self.validity_type).unwrap_or(u64::MAX)),
        }
        out
    }
}

const MAJOR_UINT: u8 = 0;
const MAJOR_NINT: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_MAP: u8 = 5;

/// Writes a CBOR head (major type and argument) in its shortest form.
fn head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    if let Ok(b) = u8::try_from(arg) {
        if b < 24 {
            out.push(m | b);
        } else {
            out.extend([m | 24, b]);
        }
    } else if let Ok(h) = u16::try_from(arg) {
        out.push(m | 25);
        out.extend(h.to_be_bytes());
    } else if let Ok(w) = u32::try_from(arg) {
        out.push(m | 26);
        out.extend(w.to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend(arg.to_be_bytes());
    }
}

fn text(out: &mut Vec<u8>, s: &str) {
    head(out, MAJOR_TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn bytes(out: &mut Vec<u8>, b: &[u8]) {
    head(out, MAJOR_BYTES, b.len() as u64);
    out.extend_from_slice(b);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_are_shortest() {
        for (arg, want) in [
            (0u64, &[0x00][..]),
            (23, &[0x17]),
            (24, &[0x18, 24]),
            (255, &[0x18, 0xff]),
            (256, &[0x19, 1, 0]),
            (65_536, &[0x1a, 0, 1, 0, 0]),
            (1 << 32, &[0x1b, 0, 0, 0, 1, 0, 0, 0, 0]),
        ] {
            let mut out = Vec::new();
            head(&mut out, 0, arg);
            assert_eq!(out, want, "{arg}");
        }
    }

    #[test]
    fn encoding_matches_the_generic_encoder() {
        let d = RecordData {
            value: b"/ipfs/bafkqaaa".to_vec(),
            validity: b"2123-08-14T12:17:03.694052Z".to_vec(),
            validity_type: 0,
            sequence: u64::MAX,
            ttl: 1 << 40,
        };
        let generic = serde_ipld_dagcbor::to_vec(&Ipld::Map(decode_map(&d.encode()).unwrap())).unwrap();
        assert_eq!(d.encode(), generic);
        assert_eq!(RecordData::decode(&d.encode()).unwrap(), d);
    }
}
