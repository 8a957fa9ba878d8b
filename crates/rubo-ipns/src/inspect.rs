//! `ipfs name inspect`: what a record says, best effort, whether or not it
//! is valid (Kubo `core/commands/name/name.go`, `IpnsInspectResult`).

use std::time::SystemTime;

use ipld_core::ipld::Ipld;
use serde::{Serialize, Serializer};

use crate::data::{decode_map, int_field};
use crate::error::IpnsError;
use crate::name::Name;
use crate::record::{decode_entry, validate};
use crate::time::format_rfc3339;
use crate::value::normalize_value;

/// Kubo's `IpnsInspectResult`; serializes to the JSON of
/// `ipfs name inspect --enc=json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Inspection {
    /// The fields read from the signed data.
    #[serde(rename = "Entry")]
    pub entry: InspectEntry,
    /// The protobuf's size in bytes.
    #[serde(rename = "PbSize")]
    pub pb_size: usize,
    /// `"V1+V2"` when the legacy V1 part is there, else `"V2"`.
    #[serde(rename = "SignatureType")]
    pub signature_type: &'static str,
    /// The record as Go's `hex.Dump` prints it (Kubo's `--dump`, on by
    /// default; empty when off).
    #[serde(rename = "HexDump")]
    pub hex_dump: String,
    /// The outcome of `--verify <name>`, if asked.
    #[serde(rename = "Validation")]
    pub validation: Option<InspectValidation>,
}

/// Kubo's `IpnsInspectEntry`: each field if it could be read, else absent
/// (`null`; the value `""`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectEntry {
    /// The content path, cleaned as [`crate::Record::value`].
    #[serde(rename = "Value", serialize_with = "empty_if_none")]
    pub value: Option<String>,
    /// The validity type (0: EOL).
    #[serde(rename = "ValidityType")]
    pub validity_type: Option<i64>,
    /// The EOL, when the validity type is EOL and the timestamp parses.
    #[serde(rename = "Validity", serialize_with = "rfc3339")]
    pub validity: Option<SystemTime>,
    /// The sequence number.
    #[serde(rename = "Sequence")]
    pub sequence: Option<u64>,
    /// The TTL in nanoseconds (a Go `time.Duration`).
    #[serde(rename = "TTL")]
    pub ttl: Option<i64>,
}

/// Kubo's `IpnsInspectValidation`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InspectValidation {
    /// Whether the record is valid for the name now.
    #[serde(rename = "Valid")]
    pub valid: bool,
    /// Why not, else empty.
    #[serde(rename = "Reason")]
    pub reason: String,
    /// The name checked against, as Kubo prints names.
    #[serde(rename = "Name")]
    pub name: String,
}

fn empty_if_none<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or(""))
}

fn rfc3339<S: Serializer>(v: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
    match v.and_then(format_rfc3339) {
        Some(t) => s.serialize_str(&t),
        None => s.serialize_none(),
    }
}

/// Reads what it can from record bytes, as `ipfs name inspect` does: the
/// record must be within the size limit, a protobuf, and have DAG-CBOR
/// `data` (canonical or not); every field is then read on its own. With
/// `verify`, the record is also fully validated for that name at `now`.
pub fn inspect(bytes: &[u8], verify: Option<&Name>, now: SystemTime) -> Result<Inspection, IpnsError> {
    let entry = decode_entry(bytes)?;
    let cbor = entry.data.as_deref().filter(|d| !d.is_empty()).ok_or(IpnsError::MissingData)?;
    let m = decode_map(cbor)?;
    let validity_type = int_field(&m, "ValidityType").ok().and_then(|i| i64::try_from(i).ok());
    let validity = match (validity_type, m.get("Validity")) {
        (Some(0), Some(Ipld::Bytes(b))) => std::str::from_utf8(b).ok().and_then(crate::time::parse_rfc3339),
        _ => None,
    };
    let value = match m.get("Value") {
        Some(Ipld::Bytes(b)) => normalize_value(b).ok(),
        _ => None,
    };
    let validation = verify.map(|name| {
        let reason = match validate(name, bytes, now) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        InspectValidation { valid: reason.is_empty(), reason, name: name.to_string() }
    });
    Ok(Inspection {
        entry: InspectEntry {
            value,
            validity_type,
            validity,
            sequence: int_field(&m, "Sequence").ok().and_then(|i| u64::try_from(i).ok()),
            ttl: int_field(&m, "TTL").ok().and_then(|i| i64::try_from(i).ok()),
        },
        pb_size: bytes.len(),
        signature_type: if entry.has_v1() { "V1+V2" } else { "V2" },
        hex_dump: hex_dump(bytes),
        validation,
    })
}

/// `bytes` as Go's `encoding/hex.Dump` prints them (`hexdump -C` style):
/// lines of an 8-digit offset, 16 bytes in hex with a gap after the eighth,
/// and the printable ASCII between bars.
pub fn hex_dump(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() / 16 * 79 + 79);
    for (i, line) in bytes.chunks(16).enumerate() {
        // Go's dumper keeps a 32-bit offset.
        let _ = write!(out, "{:08x}  ", (i * 16) as u32);
        for j in 0..16 {
            match line.get(j) {
                Some(b) => {
                    let _ = write!(out, "{b:02x} ");
                }
                None => out.push_str("   "),
            }
            if j == 7 {
                out.push(' ');
            }
        }
        out.push_str(" |");
        out.extend(line.iter().map(|&b| if (32..=126).contains(&b) { char::from(b) } else { '.' }));
        out.push_str("|\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_dump_is_gos() {
        // The example in Go's encoding/hex documentation (ExampleDump).
        let want = "00000000  47 6f 20 69 73 20 61 6e  20 6f 70 65 6e 20 73 6f  |Go is an open so|\n\
                    00000010  75 72 63 65 20 70 72 6f  67 72 61 6d 6d 69 6e 67  |urce programming|\n\
                    00000020  20 6c 61 6e 67 75 61 67  65 2e                    | language.|\n";
        assert_eq!(hex_dump(b"Go is an open source programming language."), want);
        assert_eq!(hex_dump(b""), "");
    }
}
