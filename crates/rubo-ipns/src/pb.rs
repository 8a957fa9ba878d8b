//! The `IpnsEntry` protobuf (ipfs/specs ipns-record, "Record Serialization
//! Format"; boxo `ipns/pb/record.proto`).

/// `IpnsEntry.validityType` value meaning "valid until `validity`", the only
/// one defined.
pub const VALIDITY_EOL: i32 = 0;

/// The wire form of an IPNS record. Fields 1 to 6 are the legacy V1 copies of
/// what `data` holds; 7 to 9 are V2. Every field keeps its presence (proto3
/// `optional`), as the V1/V2 consistency rule needs to know what was sent.
///
/// Fields are declared in tag order, so encoding writes them in the order
/// Go's protobuf does and a record built here has boxo's bytes.
#[derive(Clone, PartialEq, prost::Message)]
pub struct IpnsEntry {
    /// V1 copy of `data[Value]`.
    #[prost(bytes = "vec", optional, tag = "1")]
    pub value: Option<Vec<u8>>,
    /// Legacy signature over `value ++ validity ++ "EOL"`; never trusted.
    #[prost(bytes = "vec", optional, tag = "2")]
    pub signature_v1: Option<Vec<u8>>,
    /// V1 copy of `data[ValidityType]` (an enum on the wire: a varint).
    #[prost(int32, optional, tag = "3")]
    pub validity_type: Option<i32>,
    /// V1 copy of `data[Validity]`.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub validity: Option<Vec<u8>>,
    /// V1 copy of `data[Sequence]`.
    #[prost(uint64, optional, tag = "5")]
    pub sequence: Option<u64>,
    /// V1 copy of `data[TTL]`, nanoseconds.
    #[prost(uint64, optional, tag = "6")]
    pub ttl: Option<u64>,
    /// The signer's public key (libp2p protobuf form), for keys too large to
    /// be inlined in the name (RSA, ECDSA).
    #[prost(bytes = "vec", optional, tag = "7")]
    pub pub_key: Option<Vec<u8>>,
    /// Signature over `"ipns-signature:" ++ data`.
    #[prost(bytes = "vec", optional, tag = "8")]
    pub signature_v2: Option<Vec<u8>>,
    /// The signed DAG-CBOR document (see [`crate::RecordData`]).
    #[prost(bytes = "vec", optional, tag = "9")]
    pub data: Option<Vec<u8>>,
}

impl IpnsEntry {
    /// Whether the record carries the legacy V1 part, by boxo's test
    /// (`signatureV1` or `value` non-empty): then every V1 field must agree
    /// with `data`, and `name inspect` calls it "V1+V2".
    pub fn has_v1(&self) -> bool {
        let non_empty = |f: &Option<Vec<u8>>| f.as_ref().is_some_and(|v| !v.is_empty());
        non_empty(&self.signature_v1) || non_empty(&self.value)
    }
}
