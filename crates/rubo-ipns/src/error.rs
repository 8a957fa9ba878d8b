//! Why a record was refused, or could not be made.

use std::time::SystemTime;

use thiserror::Error;

use crate::MAX_RECORD_SIZE;
use crate::name::{Name, NameError};
use crate::record::Record;
use crate::time::format_rfc3339;

/// Why bytes are not a valid IPNS record for a name. Variants follow the
/// spec's verification steps, in the order they are checked.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum IpnsError {
    /// The routing key or name given is not an IPNS name.
    #[error("invalid IPNS name: {0}")]
    BadName(#[from] NameError),
    /// Over the spec's 10 KiB limit; nothing was decoded.
    #[error("record is {0} bytes, over the {MAX_RECORD_SIZE}-byte limit")]
    TooLarge(usize),
    /// Not a protobuf `IpnsEntry`, or `data` is not a DAG-CBOR map holding
    /// the five fields with their types.
    #[error("record is malformed: {0}")]
    Malformed(String),
    /// No `signatureV2`: a V1-only record, refused since V1 signatures do
    /// not cover the sequence number or TTL.
    #[error("record has no V2 signature (V1-only records are refused)")]
    NoV2Signature,
    /// A `signatureV2` but no `data` to check it against.
    #[error("record has no data field")]
    MissingData,
    /// `data` is DAG-CBOR, but not in its one canonical encoding.
    #[error("record data is not canonical DAG-CBOR")]
    NotCanonical,
    /// The record carries no public key and the name is a hash (RSA, ECDSA
    /// names), so the signature cannot be checked.
    #[error("record carries no public key and the name does not inline one")]
    NoPublicKey,
    /// The `pubKey` field, or the key inlined in the name, is not a public
    /// key libp2p can read.
    #[error("invalid public key: {0}")]
    BadPublicKey(String),
    /// The record's `pubKey` does not hash to the name.
    #[error("record public key does not match the name")]
    WrongKey,
    /// `signatureV2` is not the name's key's signature of the data.
    #[error("signature verification failed")]
    BadSignature,
    /// A legacy V1 field holds something else than the signed data.
    #[error("field {0:?} did not match between protobuf and CBOR")]
    FieldsDisagree(&'static str),
    /// A validity type other than 0 (EOL).
    #[error("record contains an unrecognized validity type {0}")]
    UnsupportedValidityType(i128),
    /// The EOL is not an RFC 3339 timestamp.
    #[error("record contains an invalid validity {0:?}")]
    BadValidity(String),
    /// The value is not a content path.
    #[error("value is not a valid content path: {0}")]
    BadValue(String),
    /// Everything checked out but the record's EOL has passed. The record is
    /// inside for a caller that serves stale records by policy; see
    /// [`ExpiredRecord`].
    #[error("{0}")]
    Expired(Box<ExpiredRecord>),
}

/// A record that passed every check but the EOL. Holding one is not holding
/// a valid record: its [`Record`] is reachable only through the `stale`
/// accessors, so that using it is a visible decision.
#[derive(Debug, Clone)]
pub struct ExpiredRecord {
    pub(crate) record: Record,
    pub(crate) now: SystemTime,
}

impl ExpiredRecord {
    /// When it expired.
    pub fn eol(&self) -> SystemTime {
        self.record.validity()
    }

    /// The time it was checked at.
    pub fn checked_at(&self) -> SystemTime {
        self.now
    }

    /// The name it is for.
    pub fn name(&self) -> &Name {
        self.record.name()
    }

    /// The expired record, signature verified, to inspect or serve stale.
    pub fn stale_record(&self) -> &Record {
        &self.record
    }

    /// The expired record, signature verified, to inspect or serve stale.
    pub fn into_stale_record(self) -> Record {
        self.record
    }
}

impl std::fmt::Display for ExpiredRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match format_rfc3339(self.eol()) {
            Some(eol) => write!(f, "record is expired (EOL {eol})"),
            None => f.write_str("record is expired"),
        }
    }
}

/// Why [`Record::create`] could not make a record.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CreateError {
    /// The value is not a content path (see [`crate::normalize_value`]).
    #[error("value is not a valid content path: {0}")]
    BadValue(String),
    /// The EOL is outside years 0000 to 9999, which RFC 3339 cannot write.
    #[error("EOL cannot be written as an RFC 3339 timestamp (years 0000 to 9999)")]
    EolOutOfRange,
    /// The TTL is over Go's largest `time.Duration` (about 292 years), which
    /// Kubo could not read.
    #[error("TTL is over {} nanoseconds", i64::MAX)]
    TtlTooLarge,
    /// The key could not sign.
    #[error("signing failed: {0}")]
    Sign(#[from] libp2p_identity::SigningError),
    /// The record would be over the spec's limit (a long value, a large
    /// embedded key).
    #[error("record would be {0} bytes, over the {MAX_RECORD_SIZE}-byte limit")]
    TooLarge(usize),
}
