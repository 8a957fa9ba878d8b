//! The UnixFS `Data` message (unixfs.proto), encoded field by field as Go's
//! gogo-protobuf does, so that nodes hash to Kubo's CIDs.

use bytes::Bytes;
use rubo_types::pb::{self, FieldReader, FieldValue, PbError};
use thiserror::Error;

/// UnixFS node types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataType {
    Raw = 0,
    Directory = 1,
    File = 2,
    Metadata = 3,
    Symlink = 4,
    HamtShard = 5,
}

impl DataType {
    fn from_u64(v: u64) -> Option<Self> {
        Some(match v {
            0 => Self::Raw,
            1 => Self::Directory,
            2 => Self::File,
            3 => Self::Metadata,
            4 => Self::Symlink,
            5 => Self::HamtShard,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Directory => "directory",
            Self::File => "file",
            Self::Metadata => "metadata",
            Self::Symlink => "symlink",
            Self::HamtShard => "hamt-sharded-directory",
        }
    }
}

/// A modification time (UnixFS 1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnixTime {
    pub seconds: i64,
    pub nanos: Option<u32>,
}

/// A malformed UnixFS `Data` message.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UnixfsPbError {
    #[error(transparent)]
    Protobuf(#[from] PbError),
    #[error("unixfs: missing Type")]
    MissingType,
    #[error("unixfs: unknown node type {0}")]
    UnknownType(u64),
    #[error("unixfs: field {0} has the wrong wire type")]
    WireType(u32),
    #[error("unixfs: invalid mtime")]
    BadMtime,
}

/// The UnixFS `Data` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data {
    pub kind: DataType,
    pub data: Option<Bytes>,
    pub filesize: Option<u64>,
    pub blocksizes: Vec<u64>,
    pub hash_type: Option<u64>,
    pub fanout: Option<u64>,
    pub mode: Option<u32>,
    pub mtime: Option<UnixTime>,
}

impl Data {
    pub fn new(kind: DataType) -> Self {
        Self {
            kind,
            data: None,
            filesize: None,
            blocksizes: Vec::new(),
            hash_type: None,
            fanout: None,
            mode: None,
            mtime: None,
        }
    }

    /// Encodes in field-number order (Type, Data, filesize, blocksizes, hashType,
    /// fanout, mode, mtime), blocksizes unpacked (proto2), as Kubo does.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.data.as_ref().map_or(0, Bytes::len) + 10 * self.blocksizes.len());
        pb::put_varint_field(&mut out, 1, self.kind as u64);
        if let Some(d) = &self.data {
            pb::put_bytes_field(&mut out, 2, d);
        }
        if let Some(s) = self.filesize {
            pb::put_varint_field(&mut out, 3, s);
        }
        for b in &self.blocksizes {
            pb::put_varint_field(&mut out, 4, *b);
        }
        if let Some(h) = self.hash_type {
            pb::put_varint_field(&mut out, 5, h);
        }
        if let Some(f) = self.fanout {
            pb::put_varint_field(&mut out, 6, f);
        }
        if let Some(m) = self.mode {
            pb::put_varint_field(&mut out, 7, u64::from(m));
        }
        if let Some(t) = self.mtime {
            let mut inner = Vec::with_capacity(16);
            // int64 Seconds: negative values are 10-byte two's complement varints.
            pb::put_varint_field(&mut inner, 1, t.seconds as u64);
            if let Some(n) = t.nanos {
                pb::put_key(&mut inner, 2, pb::WireType::Fixed32);
                inner.extend_from_slice(&n.to_le_bytes());
            }
            pb::put_bytes_field(&mut out, 8, &inner);
        }
        out
    }

    /// Decodes; `Data` borrows from `buf`. Unknown fields are skipped, as Go does.
    pub fn decode(buf: &Bytes) -> Result<Self, UnixfsPbError> {
        let mut kind = None;
        let mut d = Data::new(DataType::Raw);
        for field in FieldReader::new(buf) {
            let (num, v) = field?;
            match (num, v) {
                (1, FieldValue::Varint(t)) => {
                    kind = Some(DataType::from_u64(t).ok_or(UnixfsPbError::UnknownType(t))?);
                }
                (2, FieldValue::Len(b)) => d.data = Some(buf.slice_ref(b)),
                (3, FieldValue::Varint(s)) => d.filesize = Some(s),
                (4, FieldValue::Varint(s)) => d.blocksizes.push(s),
                (4, FieldValue::Len(mut packed)) => {
                    // Accept packed encoding too (some writers use it).
                    while !packed.is_empty() {
                        let (v, n) = pb::get_uvarint(packed)?;
                        d.blocksizes.push(v);
                        packed = &packed[n..];
                    }
                }
                (5, FieldValue::Varint(h)) => d.hash_type = Some(h),
                (6, FieldValue::Varint(f)) => d.fanout = Some(f),
                (7, FieldValue::Varint(m)) => d.mode = Some(m as u32),
                (8, FieldValue::Len(b)) => d.mtime = Some(decode_mtime(b)?),
                (1..=8, _) => return Err(UnixfsPbError::WireType(num)),
                _ => {}
            }
        }
        d.kind = kind.ok_or(UnixfsPbError::MissingType)?;
        Ok(d)
    }

    /// The size of the file this node stands for (0 for non-files).
    pub fn file_size(&self) -> u64 {
        match self.kind {
            DataType::File | DataType::Raw => {
                self.filesize.unwrap_or_else(|| self.data.as_ref().map_or(0, |d| d.len() as u64))
            }
            _ => 0,
        }
    }
}

fn decode_mtime(buf: &[u8]) -> Result<UnixTime, UnixfsPbError> {
    let mut t = UnixTime::default();
    let mut seen = false;
    for field in FieldReader::new(buf) {
        match field? {
            (1, FieldValue::Varint(s)) => {
                t.seconds = s as i64;
                seen = true;
            }
            (2, FieldValue::Fixed32(n)) => {
                if n >= 1_000_000_000 {
                    return Err(UnixfsPbError::BadMtime);
                }
                t.nanos = Some(n);
            }
            (1 | 2, _) => return Err(UnixfsPbError::BadMtime),
            _ => {}
        }
    }
    if !seen {
        return Err(UnixfsPbError::BadMtime);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_encodings() {
        // The empty directory: 08 01.
        assert_eq!(Data::new(DataType::Directory).encode(), vec![0x08, 0x01]);
        // An empty file: Type File, filesize 0, no Data (Kubo's QmbFMke1...).
        let mut f = Data::new(DataType::File);
        f.filesize = Some(0);
        assert_eq!(f.encode(), vec![0x08, 0x02, 0x18, 0x00]);
        // A leaf holding "hi".
        let mut f = Data::new(DataType::File);
        f.data = Some(Bytes::from_static(b"hi"));
        f.filesize = Some(2);
        assert_eq!(f.encode(), vec![0x08, 0x02, 0x12, 0x02, b'h', b'i', 0x18, 0x02]);
        let back = Data::decode(&Bytes::from(f.encode())).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn roundtrip_all_fields() {
        let mut d = Data::new(DataType::HamtShard);
        d.data = Some(Bytes::from_static(&[0xff, 0x01]));
        d.blocksizes = vec![1, 262144, 3];
        d.hash_type = Some(0x22);
        d.fanout = Some(256);
        d.mode = Some(0o644);
        d.mtime = Some(UnixTime { seconds: 1_604_320_482, nanos: Some(54321) });
        assert_eq!(Data::decode(&Bytes::from(d.encode())).unwrap(), d);
        let mut neg = Data::new(DataType::File);
        neg.mtime = Some(UnixTime { seconds: -5, nanos: None });
        assert_eq!(Data::decode(&Bytes::from(neg.encode())).unwrap(), neg);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(Data::decode(&Bytes::from_static(&[])), Err(UnixfsPbError::MissingType));
        assert_eq!(Data::decode(&Bytes::from_static(&[0x08, 0x09])), Err(UnixfsPbError::UnknownType(9)));
        assert!(Data::decode(&Bytes::from_static(&[0x12, 0x05, 0x00])).is_err());
        assert!(Data::decode(&Bytes::from_static(b"hi\n")).is_err());
    }
}
