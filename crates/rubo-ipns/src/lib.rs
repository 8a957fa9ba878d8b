//! IPNS records for rubo, as ipfs/specs `src/ipns/ipns-record.md` defines
//! them and Kubo (boxo `ipns/`) reads and writes them.
//!
//! - [`Name`]: an IPNS name in any form Kubo accepts, printed as Kubo prints
//!   it (`k51...`), and its DHT routing key.
//! - [`Record::create`]: a signed V1+V2 record (V2 signature over
//!   `"ipns-signature:" ++ data`, legacy V1 signature and fields, the public
//!   key embedded when the name cannot inline it).
//! - [`validate`] and [`validate_routing_record`]: the spec's verification,
//!   strictly (V2 signature required, canonical DAG-CBOR, V1 fields agreeing
//!   with the signed data); an expired record is an error that still holds
//!   it ([`ExpiredRecord`]).
//! - [`select`]: which of two records wins (sequence, then EOL).
//! - [`inspect`]: `ipfs name inspect`'s view of any record.
//!
//! Every decoder is bounded: records over [`MAX_RECORD_SIZE`] are refused
//! before decoding, DAG-CBOR nesting is limited by the decoder.

mod data;
mod error;
mod inspect;
mod name;
pub mod pb;
mod record;
pub mod time;
mod value;

pub use crate::data::RecordData;
pub use crate::error::{CreateError, ExpiredRecord, IpnsError};
pub use crate::inspect::{InspectEntry, InspectValidation, Inspection, hex_dump, inspect};
pub use crate::name::{NAMESPACE_PREFIX, Name, NameError};
pub use crate::pb::IpnsEntry;
pub use crate::record::{
    CreateOptions, EmbedPublicKey, Record, SIGNATURE_V2_PREFIX, select, signature_v1_payload, signature_v2_payload,
    validate, validate_routing_record,
};
pub use crate::value::{NOOP_VALUE, normalize_value};

/// The largest record accepted or made, in bytes (the spec's 10 KiB).
pub const MAX_RECORD_SIZE: usize = 10 << 10;

/// Kubo's default record lifetime (boxo `DefaultRecordLifetime`): the
/// Amino DHT keeps records 48 hours.
pub const DEFAULT_LIFETIME: std::time::Duration = std::time::Duration::from_secs(48 * 3600);

/// Kubo's default TTL (boxo `DefaultRecordTTL`).
pub const DEFAULT_TTL: std::time::Duration = std::time::Duration::from_secs(5 * 60);
