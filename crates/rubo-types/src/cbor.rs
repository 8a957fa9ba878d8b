//! A bounded, iterative CBOR walker: checks structure and nesting depth, and finds
//! the CIDs (tag 42) in a dag-cbor block without building a tree.
//!
//! serde decoders recurse once per nesting level, so a 2 MiB block of nested
//! arrays would exhaust the stack. Every dag-cbor block is walked here first.

use thiserror::Error;

use crate::cid::{Cid, cid_from_bytes};

/// Deepest nesting accepted in a dag-cbor block.
pub const MAX_DEPTH: usize = 512;

/// Why a CBOR walk failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum CborError {
    #[error("cbor: unexpected end of data")]
    Truncated,
    #[error("cbor: nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("cbor: {0} trailing bytes after the top-level item")]
    Trailing(usize),
    #[error("cbor: unsupported item (major type {0}, info {1})")]
    Unsupported(u8, u8),
    #[error("cbor: invalid CID in tag 42: {0}")]
    BadLink(String),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self.buf.get(self.pos).ok_or(CborError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], CborError> {
        let n = usize::try_from(n).map_err(|_| CborError::Truncated)?;
        let end = self.pos.checked_add(n).ok_or(CborError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(CborError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    /// Reads an item head: major type, additional info, argument.
    fn head(&mut self) -> Result<(u8, u8, u64), CborError> {
        let b = self.byte()?;
        let major = b >> 5;
        let info = b & 0x1f;
        let arg = match info {
            0..=23 => u64::from(info),
            24 => u64::from(self.byte()?),
            25 => be(self.take(2)?),
            26 => be(self.take(4)?),
            27 => be(self.take(8)?),
            // Indefinite lengths and reserved values are not dag-cbor.
            _ => return Err(CborError::Unsupported(major, info)),
        };
        Ok((major, info, arg))
    }
}

fn be(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// Walks one CBOR item that must span all of `data`, calling `on_link` for each
/// tag-42 CID, in document order.
pub fn walk(data: &[u8], mut on_link: impl FnMut(Cid)) -> Result<(), CborError> {
    let mut cur = Cursor { buf: data, pos: 0 };
    // Items still to read at each open level; the top level has one.
    let mut stack: Vec<u64> = vec![1];
    let mut pending_link = false;
    while let Some(top) = stack.last_mut() {
        if *top == 0 {
            stack.pop();
            continue;
        }
        *top -= 1;
        let (major, _info, arg) = cur.head()?;
        if pending_link && major != 2 {
            return Err(CborError::BadLink("tag 42 must wrap a byte string".into()));
        }
        match major {
            0 | 1 | 7 => {}
            2 | 3 => {
                let bytes = cur.take(arg)?;
                if pending_link {
                    pending_link = false;
                    // dag-cbor CIDs carry a leading 0x00 (the identity multibase).
                    let (first, rest) = bytes.split_first().ok_or_else(|| CborError::BadLink("empty".into()))?;
                    if *first != 0 {
                        return Err(CborError::BadLink("missing 0x00 prefix".into()));
                    }
                    on_link(cid_from_bytes(rest).map_err(|e| CborError::BadLink(e.to_string()))?);
                }
            }
            4 | 5 => {
                let items = if major == 5 { arg.checked_mul(2).ok_or(CborError::Truncated)? } else { arg };
                // Each item takes at least a byte: a count beyond the input is a lie.
                if items > (data.len() - cur.pos) as u64 {
                    return Err(CborError::Truncated);
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(CborError::TooDeep);
                }
                stack.push(items);
            }
            6 => {
                // The tagged item follows and counts as this slot's item.
                if let Some(top) = stack.last_mut() {
                    *top += 1;
                }
                if arg == 42 {
                    pending_link = true;
                }
            }
            _ => return Err(CborError::Unsupported(major, 0)),
        }
    }
    if cur.pos != data.len() {
        return Err(CborError::Trailing(data.len() - cur.pos));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_links() {
        // {"Data": h'0001020304', "Links": []} from Kubo's t0053 vector, no links
        let b = [0xa2, 0x64, b'D', b'a', b't', b'a', 0x45, 0, 1, 2, 3, 4, 0x65, b'L', b'i', b'n', b'k', b's', 0x80];
        let mut n = 0;
        walk(&b, |_| n += 1).unwrap();
        assert_eq!(n, 0);
        // [42(h'00' + cidv1 raw)]
        let c = crate::cid::parse_cid("bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4").unwrap();
        let cb = c.to_bytes();
        let mut v = vec![0x81, 0xd8, 42, 0x58, (cb.len() + 1) as u8, 0];
        v.extend_from_slice(&cb);
        let mut got = Vec::new();
        walk(&v, |c| got.push(c)).unwrap();
        assert_eq!(got, vec![c]);
    }

    #[test]
    fn bounded() {
        let deep = vec![0x81u8; 100_000];
        assert_eq!(walk(&deep, |_| ()), Err(CborError::TooDeep));
        // array claiming 2^64-1 items
        let lie = [0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(walk(&lie, |_| ()), Err(CborError::Truncated));
        assert_eq!(walk(&[0x01, 0x02], |_| ()), Err(CborError::Trailing(1)));
        assert_eq!(walk(&[0x9f], |_| ()), Err(CborError::Unsupported(4, 31)));
        assert_eq!(walk(&[], |_| ()), Err(CborError::Truncated));
    }
}
