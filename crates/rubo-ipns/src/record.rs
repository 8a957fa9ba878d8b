//! Creating, validating and ordering records (ipfs/specs ipns-record,
//! "Record Creation" and "Record Verification"; boxo `ipns/record.go` and
//! `ipns/validation.go`).

use std::cmp::Ordering;
use std::time::{Duration, SystemTime};

use libp2p_identity::{Keypair, PublicKey};
use prost::Message;

use crate::MAX_RECORD_SIZE;
use crate::data::RecordData;
use crate::error::{CreateError, ExpiredRecord, IpnsError};
use crate::name::Name;
use crate::pb::{IpnsEntry, VALIDITY_EOL};
use crate::time::{format_rfc3339, parse_rfc3339};
use crate::value::normalize_value;

/// What a V2 signature signs: this prefix, then `IpnsEntry.data`.
pub const SIGNATURE_V2_PREFIX: &[u8] = b"ipns-signature:";

/// Whether a created record carries the signer's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmbedPublicKey {
    /// Only when the name cannot inline it (RSA, ECDSA), as boxo does.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never: a record for a hashed name then needs the key from elsewhere.
    Never,
}

/// How [`Record::create`] builds a record. The default is Kubo's: V1+V2,
/// public key embedded only when needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreateOptions {
    /// Embedding the public key.
    pub embed_public_key: EmbedPublicKey,
    /// Also write the legacy V1 fields and signature (Kubo's `--v1compat`,
    /// on by default), which pre-2021 nodes need to resolve the name.
    pub v1_compatible: bool,
}

impl Default for CreateOptions {
    fn default() -> Self {
        Self { embed_public_key: EmbedPublicKey::Auto, v1_compatible: true }
    }
}

/// A signed IPNS record: either made here ([`Record::create`]) or one that
/// passed [`validate`], so its signature, consistency and content path have
/// been checked. [`validate`] returns an expired one only inside
/// [`IpnsError::Expired`].
#[derive(Debug, Clone)]
pub struct Record {
    bytes: Vec<u8>,
    entry: IpnsEntry,
    data: RecordData,
    name: Name,
    public_key: PublicKey,
    value: String,
    validity: SystemTime,
}

/// The bytes a V1 signature signs: `value ++ validity ++ "EOL"` (boxo writes
/// the validity type with `fmt`, which prints the enum's name).
pub fn signature_v1_payload(entry: &IpnsEntry) -> Vec<u8> {
    let mut out = entry.value.clone().unwrap_or_default();
    out.extend_from_slice(entry.validity.as_deref().unwrap_or_default());
    match entry.validity_type.unwrap_or(VALIDITY_EOL) {
        VALIDITY_EOL => out.extend_from_slice(b"EOL"),
        // Go prints an unnamed enum value as its number.
        other => out.extend_from_slice(other.to_string().as_bytes()),
    }
    out
}

/// The bytes a V2 signature signs.
pub fn signature_v2_payload(data: &[u8]) -> Vec<u8> {
    [SIGNATURE_V2_PREFIX, data].concat()
}

impl Record {
    /// Makes and signs a record pointing `keypair`'s name at `value` (a
    /// content path such as `/ipfs/<cid>`), valid until `eol`, with a
    /// caching hint of `ttl`. With the default options the record is what
    /// Kubo publishes: V1+V2, both signed, the public key embedded only for
    /// RSA and ECDSA keys.
    pub fn create(
        keypair: &Keypair,
        value: &[u8],
        sequence: u64,
        eol: SystemTime,
        ttl: Duration,
        options: CreateOptions,
    ) -> Result<Self, CreateError> {
        let path = normalize_value(value).map_err(CreateError::BadValue)?;
        let validity = format_rfc3339(eol).ok_or(CreateError::EolOutOfRange)?;
        let ttl =
            u64::try_from(ttl.as_nanos()).ok().filter(|t| *t <= i64::MAX as u64).ok_or(CreateError::TtlTooLarge)?;
        let data = RecordData {
            value: value.to_vec(),
            validity: validity.into_bytes(),
            validity_type: VALIDITY_EOL.into(),
            sequence,
            ttl,
        };
        let cbor = data.encode();
        let mut entry = IpnsEntry {
            signature_v2: Some(keypair.sign(&signature_v2_payload(&cbor))?),
            data: Some(cbor),
            ..Default::default()
        };
        if options.v1_compatible {
            entry.value = Some(data.value.clone());
            entry.validity_type = Some(VALIDITY_EOL);
            entry.validity = Some(data.validity.clone());
            entry.sequence = Some(sequence);
            entry.ttl = Some(ttl);
            entry.signature_v1 = Some(keypair.sign(&signature_v1_payload(&entry))?);
        }
        let public_key = keypair.public();
        let name = Name::from_public_key(&public_key);
        let embed = match options.embed_public_key {
            EmbedPublicKey::Auto => !name.inlines_public_key(),
            EmbedPublicKey::Always => true,
            EmbedPublicKey::Never => false,
        };
        if embed {
            entry.pub_key = Some(public_key.encode_protobuf());
        }
        let bytes = entry.encode_to_vec();
        if bytes.len() > MAX_RECORD_SIZE {
            return Err(CreateError::TooLarge(bytes.len()));
        }
        Ok(Self { bytes, entry, data, name, public_key, value: path, validity: eol })
    }

    /// The protobuf bytes: as received for a validated record (unknown
    /// fields and all), as built for a created one.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The protobuf bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// The decoded protobuf.
    pub fn entry(&self) -> &IpnsEntry {
        &self.entry
    }

    /// The decoded signed data.
    pub fn data(&self) -> &RecordData {
        &self.data
    }

    /// The name the record is for.
    pub fn name(&self) -> &Name {
        &self.name
    }

    /// The key whose signature was checked.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The content path the record points at, cleaned (an empty value reads
    /// as [`crate::NOOP_VALUE`], a binary CID as `/ipfs/<cid>`).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The signed `Value` bytes as they are.
    pub fn value_bytes(&self) -> &[u8] {
        &self.data.value
    }

    /// The sequence number.
    pub fn sequence(&self) -> u64 {
        self.data.sequence
    }

    /// The end of validity (EOL).
    pub fn validity(&self) -> SystemTime {
        self.validity
    }

    /// How long the record may be cached.
    pub fn ttl(&self) -> Duration {
        Duration::from_nanos(self.data.ttl)
    }

    /// Whether the legacy V1 fields are there.
    pub fn is_v1_compatible(&self) -> bool {
        self.entry.has_v1()
    }
}

/// Decodes the protobuf, under the size limit.
pub(crate) fn decode_entry(bytes: &[u8]) -> Result<IpnsEntry, IpnsError> {
    if bytes.len() > MAX_RECORD_SIZE {
        return Err(IpnsError::TooLarge(bytes.len()));
    }
    IpnsEntry::decode(bytes).map_err(|e| IpnsError::Malformed(format!("protobuf: {e}")))
}

fn non_empty(f: &Option<Vec<u8>>) -> Option<&[u8]> {
    f.as_deref().filter(|b| !b.is_empty())
}

/// The key to check the signature with: the embedded one, which must hash
/// to the name, else the one the name inlines.
fn public_key_for(name: &Name, entry: &IpnsEntry) -> Result<PublicKey, IpnsError> {
    if let Some(pk) = non_empty(&entry.pub_key) {
        let key = PublicKey::try_decode_protobuf(pk).map_err(|e| IpnsError::BadPublicKey(e.to_string()))?;
        if Name::from_public_key(&key) != *name {
            return Err(IpnsError::WrongKey);
        }
        return Ok(key);
    }
    match name.inline_public_key() {
        Some(key) => key.map_err(IpnsError::BadPublicKey),
        None => Err(IpnsError::NoPublicKey),
    }
}

/// Legacy V1 fields must hold what was signed in `data`. When the record has
/// the V1 part (boxo's test), all five are compared, a missing one as its
/// zero value, as boxo does; without it, any V1 field that is present must
/// still agree, so that a legacy reader is never shown unsigned values.
fn check_v1_fields(entry: &IpnsEntry, data: &RecordData) -> Result<(), IpnsError> {
    let all = entry.has_v1();
    let agree = |present: bool, equal: bool, field: &'static str| {
        if (all || present) && !equal { Err(IpnsError::FieldsDisagree(field)) } else { Ok(()) }
    };
    agree(entry.value.is_some(), entry.value.as_deref().unwrap_or_default() == data.value, "value")?;
    agree(entry.validity.is_some(), entry.validity.as_deref().unwrap_or_default() == data.validity, "validity")?;
    agree(
        entry.validity_type.is_some(),
        i128::from(entry.validity_type.unwrap_or(VALIDITY_EOL)) == data.validity_type,
        "validityType",
    )?;
    agree(entry.sequence.is_some(), entry.sequence.unwrap_or(0) == data.sequence, "sequence")?;
    agree(entry.ttl.is_some(), entry.ttl.unwrap_or(0) == data.ttl, "ttl")
}

/// Validates record bytes for `name` at time `now`, following the spec's
/// "Record Verification" and failing on the first error: size (10 KiB),
/// protobuf, a V2 signature and data, the public key (embedded, and then
/// matching the name, or inlined in the name), canonical DAG-CBOR data, the
/// V2 signature, V1 fields agreeing with the data, an EOL validity that
/// parses, a value that is a content path, and last the EOL not passed.
///
/// An expired record is [`IpnsError::Expired`], which holds it.
pub fn validate(name: &Name, bytes: &[u8], now: SystemTime) -> Result<Record, IpnsError> {
    let entry = decode_entry(bytes)?;
    let signature = non_empty(&entry.signature_v2).ok_or(IpnsError::NoV2Signature)?;
    let cbor = non_empty(&entry.data).ok_or(IpnsError::MissingData)?;
    let public_key = public_key_for(name, &entry)?;
    let data = RecordData::decode(cbor)?;
    if !public_key.verify(&signature_v2_payload(cbor), signature) {
        return Err(IpnsError::BadSignature);
    }
    check_v1_fields(&entry, &data)?;
    if data.validity_type != i128::from(VALIDITY_EOL) {
        return Err(IpnsError::UnsupportedValidityType(data.validity_type));
    }
    let validity = std::str::from_utf8(&data.validity)
        .ok()
        .and_then(parse_rfc3339)
        .ok_or_else(|| IpnsError::BadValidity(String::from_utf8_lossy(&data.validity).into_owned()))?;
    let value = normalize_value(&data.value).map_err(IpnsError::BadValue)?;
    let record = Record { bytes: bytes.to_vec(), entry, data, name: *name, public_key, value, validity };
    if now > validity {
        return Err(IpnsError::Expired(Box::new(ExpiredRecord { record, now })));
    }
    Ok(record)
}

/// The DHT's validator (boxo `Validator.Validate`): `key` is the routing key
/// `/ipns/<multihash bytes>`, `value` the record.
pub fn validate_routing_record(key: &[u8], value: &[u8], now: SystemTime) -> Result<Record, IpnsError> {
    let name = Name::from_routing_key(key)?;
    validate(&name, value, now)
}

/// Which of two records for one name is better (boxo `Validator.Select`):
/// the higher sequence number, then the later EOL, then, to make the order
/// total as boxo does, the greater protobuf bytes. `Greater` means `a`.
pub fn select(a: &Record, b: &Record) -> Ordering {
    a.sequence().cmp(&b.sequence()).then_with(|| a.validity.cmp(&b.validity)).then_with(|| a.bytes.cmp(&b.bytes))
}
