//! Minimal protobuf wire-format primitives.
//!
//! dag-pb and UnixFS need byte-exact control over field order and presence
//! (dag-pb writes field 2 before field 1), which generated code does not give,
//! so their codecs are written against these primitives. Every read is bounded
//! by the input slice: nothing here allocates more than the input holds.

use thiserror::Error;

/// Protobuf wire types used by IPFS formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    Len,
    Fixed32,
}

impl WireType {
    fn from_bits(bits: u64) -> Option<Self> {
        match bits {
            0 => Some(Self::Varint),
            1 => Some(Self::Fixed64),
            2 => Some(Self::Len),
            5 => Some(Self::Fixed32),
            _ => None,
        }
    }

    fn bits(self) -> u64 {
        match self {
            Self::Varint => 0,
            Self::Fixed64 => 1,
            Self::Len => 2,
            Self::Fixed32 => 5,
        }
    }
}

/// A malformed protobuf encoding.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PbError {
    #[error("protobuf: unexpected end of data")]
    Truncated,
    #[error("protobuf: varint overflow")]
    VarintOverflow,
    #[error("protobuf: invalid wire type {0}")]
    BadWireType(u64),
    #[error("protobuf: invalid field number 0")]
    ZeroField,
}

/// Appends `v` as an unsigned LEB128 varint.
pub fn put_uvarint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    buf.push(v as u8);
}

/// Number of bytes `put_uvarint` writes for `v`.
pub fn uvarint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Reads an unsigned varint from the front of `buf`, returning it and the bytes used.
///
/// Accepts at most 10 bytes; non-minimal encodings are accepted as protobuf does.
pub fn get_uvarint(buf: &[u8]) -> Result<(u64, usize), PbError> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7f);
        if i == 9 && b > 1 {
            return Err(PbError::VarintOverflow);
        }
        v |= part << (7 * i);
        if b < 0x80 {
            return Ok((v, i + 1));
        }
    }
    if buf.len() >= 10 { Err(PbError::VarintOverflow) } else { Err(PbError::Truncated) }
}

/// Reads a strictly minimal unsigned varint (the multiformats rule), at most 9 bytes.
pub fn get_uvarint_minimal(buf: &[u8]) -> Result<(u64, usize), PbError> {
    let (v, n) = get_uvarint(buf)?;
    if n > 9 || (n > 1 && buf[n - 1] == 0) {
        return Err(PbError::VarintOverflow);
    }
    Ok((v, n))
}

/// Appends a field key.
pub fn put_key(buf: &mut Vec<u8>, field: u32, wt: WireType) {
    put_uvarint(buf, (u64::from(field) << 3) | wt.bits());
}

/// Appends a length-delimited field.
pub fn put_bytes_field(buf: &mut Vec<u8>, field: u32, data: &[u8]) {
    put_key(buf, field, WireType::Len);
    put_uvarint(buf, data.len() as u64);
    buf.extend_from_slice(data);
}

/// Appends a varint field.
pub fn put_varint_field(buf: &mut Vec<u8>, field: u32, v: u64) {
    put_key(buf, field, WireType::Varint);
    put_uvarint(buf, v);
}

/// Size of a length-delimited field with a `len`-byte payload.
pub fn bytes_field_len(field: u32, len: usize) -> usize {
    uvarint_len(u64::from(field) << 3) + uvarint_len(len as u64) + len
}

/// The value of one decoded field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Len(&'a [u8]),
    Fixed32(u32),
}

impl FieldValue<'_> {
    /// The wire type this value was read with.
    pub fn wire_type(&self) -> WireType {
        match self {
            Self::Varint(_) => WireType::Varint,
            Self::Fixed64(_) => WireType::Fixed64,
            Self::Len(_) => WireType::Len,
            Self::Fixed32(_) => WireType::Fixed32,
        }
    }
}

/// Iterates over the fields of one message, in wire order.
pub struct FieldReader<'a> {
    buf: &'a [u8],
    failed: bool,
}

impl<'a> FieldReader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf, failed: false }
    }

    fn next_field(&mut self) -> Result<(u32, FieldValue<'a>), PbError> {
        let (key, n) = get_uvarint(self.buf)?;
        self.buf = &self.buf[n..];
        let wt = WireType::from_bits(key & 7).ok_or(PbError::BadWireType(key & 7))?;
        let field = key >> 3;
        if field == 0 {
            return Err(PbError::ZeroField);
        }
        // Field numbers above 2^29 are invalid protobuf; treat them as unknown
        // (callers reject unknown fields) rather than truncating silently.
        let field = u32::try_from(field).unwrap_or(u32::MAX);
        let value = match wt {
            WireType::Varint => {
                let (v, n) = get_uvarint(self.buf)?;
                self.buf = &self.buf[n..];
                FieldValue::Varint(v)
            }
            WireType::Fixed64 => {
                let (head, rest) = self.buf.split_at_checked(8).ok_or(PbError::Truncated)?;
                self.buf = rest;
                let mut b = [0u8; 8];
                b.copy_from_slice(head);
                FieldValue::Fixed64(u64::from_le_bytes(b))
            }
            WireType::Fixed32 => {
                let (head, rest) = self.buf.split_at_checked(4).ok_or(PbError::Truncated)?;
                self.buf = rest;
                let mut b = [0u8; 4];
                b.copy_from_slice(head);
                FieldValue::Fixed32(u32::from_le_bytes(b))
            }
            WireType::Len => {
                let (len, n) = get_uvarint(self.buf)?;
                self.buf = &self.buf[n..];
                let len = usize::try_from(len).map_err(|_| PbError::Truncated)?;
                let (head, rest) = self.buf.split_at_checked(len).ok_or(PbError::Truncated)?;
                self.buf = rest;
                FieldValue::Len(head)
            }
        };
        Ok((field, value))
    }
}

impl<'a> Iterator for FieldReader<'a> {
    type Item = Result<(u32, FieldValue<'a>), PbError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.buf.is_empty() {
            return None;
        }
        let r = self.next_field();
        if r.is_err() {
            self.failed = true;
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_roundtrip_edges() {
        for v in [0u64, 1, 127, 128, 300, 16383, 16384, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_uvarint(&mut b, v);
            assert_eq!(b.len(), uvarint_len(v));
            assert_eq!(get_uvarint(&b), Ok((v, b.len())));
        }
    }

    #[test]
    fn varint_rejects_overflow_and_truncation() {
        assert_eq!(get_uvarint(&[0x80]), Err(PbError::Truncated));
        assert_eq!(get_uvarint(&[0xff; 11]), Err(PbError::VarintOverflow));
        // 10th byte may only carry one bit
        let mut b = vec![0xff; 9];
        b.push(0x02);
        assert_eq!(get_uvarint(&b), Err(PbError::VarintOverflow));
    }

    #[test]
    fn minimal_varint() {
        assert_eq!(get_uvarint_minimal(&[0x80, 0x00]), Err(PbError::VarintOverflow));
        assert_eq!(get_uvarint_minimal(&[0x80, 0x01]), Ok((128, 2)));
    }

    #[test]
    fn reader_bounds_lengths() {
        // field 1, len 5, but only 2 bytes follow
        let buf = [0x0a, 0x05, 0x01, 0x02];
        let mut r = FieldReader::new(&buf);
        assert_eq!(r.next(), Some(Err(PbError::Truncated)));
        assert_eq!(r.next(), None);
    }
}
