//! dag-cbor (0x71) and plain cbor (0x51), as go-ipld-prime v0.24 with refmt
//! v0.90 decode and encode them for Kubo.
//!
//! Decoding (strict mode, Kubo's default) rejects indefinite lengths,
//! non-minimal integer and length heads, NaN and infinities, duplicate map keys,
//! non-string map keys and tags other than 42 on byte strings. It accepts, as Go
//! does: unsorted map keys, 16- and 32-bit floats, `undefined` (read as null),
//! tags on anything but byte strings (ignored), and unsigned integers above
//! `i64::MAX`. Nesting is limited to 1024 levels and allocation to Go's budget
//! of 10 MiB (declared lengths count before anything is read).
//!
//! Both directions are iterative: no input can exhaust the stack.
//!
//! Encoding writes minimal heads, every float as 64 bits, and sorts map keys
//! length-first then bytewise (RFC 7049 canonical) for dag-cbor; plain cbor
//! keeps map order and refuses links.

use std::collections::HashSet;

use bytes::Bytes;
use rubo_types::cid::cid_from_bytes;

use super::CodecError;
use crate::node::{IpldString, Node, insert_key};

/// go-ipld-prime's default `MaxDepth`.
pub const MAX_DEPTH: usize = 1024;
/// go-ipld-prime's default `AllocationBudget`.
const BUDGET: i64 = 10 * 1024 * 1024;
const MAP_ENTRY_COST: i64 = 8;
const LIST_ENTRY_COST: i64 = 4;
/// refmt refuses byte and text strings longer than this.
const MAX_FIELD: u64 = 33_554_432;
/// Collections are never preallocated beyond this (Go's `MaxCollectionPrealloc`).
const MAX_PREALLOC: u64 = 1024;

/// The CBOR tag of a CID.
pub const LINK_TAG: u64 = 42;

fn invalid(msg: impl Into<String>) -> CodecError {
    CodecError::Invalid(msg.into())
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

enum Tok<'a> {
    Null,
    Bool(bool),
    Uint(u64),
    Int(i64),
    Float(f64),
    Bytes(&'a [u8], Option<u64>),
    Str(&'a [u8]),
    ArrOpen(u64),
    MapOpen(u64),
}

impl Tok<'_> {
    /// refmt's token type names, for error messages.
    fn name(&self) -> &'static str {
        match self {
            Tok::Null => "null",
            Tok::Bool(_) => "bool",
            Tok::Uint(_) => "uint",
            Tok::Int(_) => "int",
            Tok::Float(_) => "float",
            Tok::Bytes(..) => "bytes",
            Tok::Str(_) => "string",
            Tok::ArrOpen(_) => "arrOpen",
            Tok::MapOpen(_) => "mapOpen",
        }
    }
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self.buf.get(self.pos).ok_or(CodecError::UnexpectedEof)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], CodecError> {
        let n = usize::try_from(n).map_err(|_| CodecError::UnexpectedEof)?;
        let end = self.pos.checked_add(n).ok_or(CodecError::UnexpectedEof)?;
        let s = self.buf.get(self.pos..end).ok_or(CodecError::UnexpectedEof)?;
        self.pos = end;
        Ok(s)
    }

    fn be(&mut self, n: u64) -> Result<u64, CodecError> {
        Ok(self.take(n)?.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
    }

    /// The argument of a head, refusing non-minimal encodings.
    fn arg(&mut self, initial: u8) -> Result<u64, CodecError> {
        let info = initial & 0x1f;
        let (v, min) = match info {
            0..=23 => return Ok(u64::from(info)),
            24 => (self.be(1)?, 24),
            25 => (self.be(2)?, 0x100),
            26 => (self.be(4)?, 0x1_0000),
            27 => (self.be(8)?, 0x1_0000_0000),
            _ => return Err(invalid(format!("decodeUint: Invalid descriptor: {initial}"))),
        };
        if v < min {
            return Err(invalid("cbor: non-minimal integer encoding"));
        }
        Ok(v)
    }

    /// A length or tag: must fit Go's `int`.
    fn len(&mut self, initial: u8) -> Result<u64, CodecError> {
        let v = self.arg(initial)?;
        if v > i64::MAX as u64 {
            return Err(invalid("cbor: positive integer is out of length"));
        }
        Ok(v)
    }

    fn float(&mut self, initial: u8) -> Result<f64, CodecError> {
        let f = match initial {
            0xf9 => f16_to_f64(self.be(2)? as u16),
            0xfa => f64::from(f32::from_bits(self.be(4)? as u32)),
            _ => f64::from_bits(self.be(8)?),
        };
        if f.is_nan() {
            return Err(invalid("cbor: NaN is not allowed"));
        }
        if f.is_infinite() {
            return Err(invalid("cbor: Infinity is not allowed"));
        }
        Ok(f)
    }

    fn token(&mut self) -> Result<Tok<'a>, CodecError> {
        let mut tag = None;
        loop {
            let b = self.byte()?;
            match b {
                0xf6 | 0xf7 => return Ok(Tok::Null),
                0xf4 => return Ok(Tok::Bool(false)),
                0xf5 => return Ok(Tok::Bool(true)),
                0xf9..=0xfb => return Ok(Tok::Float(self.float(b)?)),
                0x5f | 0x7f | 0x9f | 0xbf => return Err(invalid("cbor: indefinite-length items are not allowed")),
                _ => {}
            }
            match b >> 5 {
                0 => return Ok(Tok::Uint(self.arg(b)?)),
                1 => {
                    let ui = self.arg(b)?;
                    // refmt computes -(ui+1) in uint64 and checks it against 2^63;
                    // ui = 2^64-1 wraps to 0 and passes, decoding as 0.
                    let pos = ui.wrapping_add(1);
                    if pos > 1u64 << 63 {
                        return Err(invalid("cbor: negative integer out of rage of int64 type"));
                    }
                    return Ok(Tok::Int((pos as i64).wrapping_neg()));
                }
                2 | 3 => {
                    let n = self.len(b)?;
                    if n > MAX_FIELD {
                        let what = if b >> 5 == 2 { "byte" } else { "string" };
                        return Err(invalid(format!(
                            "cbor: decoding rejected oversized {what} field: {n} is too large"
                        )));
                    }
                    let s = self.take(n)?;
                    return Ok(if b >> 5 == 2 { Tok::Bytes(s, tag) } else { Tok::Str(s) });
                }
                4 => return Ok(Tok::ArrOpen(self.len(b)?)),
                5 => return Ok(Tok::MapOpen(self.len(b)?)),
                6 => {
                    if tag.is_some() {
                        return Err(invalid("unsupported multiple tags on a single data item"));
                    }
                    tag = Some(self.len(b)?);
                }
                _ => return Err(invalid(format!("Invalid majorByte: 0x{b:x}"))),
            }
        }
    }
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((h >> 10) & 0x1f);
    let mant = f64::from(h & 0x3ff);
    let v = match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        _ => (1.0 + mant / 1024.0) * 2f64.powi(exp - 15),
    };
    sign * v
}

enum Frame {
    List { items: Vec<Node>, left: u64 },
    Map { entries: Vec<(IpldString, Node)>, left: u64, key: Option<IpldString>, seen: Option<HashSet<Vec<u8>>> },
}

fn spend(budget: &mut i64, cost: u64) -> Result<(), CodecError> {
    *budget = budget.saturating_sub(i64::try_from(cost).unwrap_or(i64::MAX));
    if *budget < 0 { Err(CodecError::BudgetExceeded) } else { Ok(()) }
}

/// Decodes one dag-cbor (`allow_links`) or cbor item spanning all of `data`.
pub(crate) fn decode(data: &[u8], allow_links: bool) -> Result<Node, CodecError> {
    let mut r = Reader { buf: data, pos: 0 };
    let mut budget = BUDGET;
    let mut stack: Vec<Frame> = Vec::new();
    let root = loop {
        let finished = match stack.last() {
            Some(Frame::List { left: 0, .. }) | Some(Frame::Map { left: 0, key: None, .. }) => stack.pop(),
            _ => None,
        };
        let value = match finished {
            Some(Frame::List { items, .. }) => Node::List(items),
            Some(Frame::Map { entries, .. }) => Node::Map(entries),
            None => {
                match stack.last_mut() {
                    Some(Frame::Map { key: key @ None, left, seen, entries }) => {
                        let tok = r.token()?;
                        let Tok::Str(s) = tok else {
                            return Err(invalid(format!("unexpected {} token while expecting map key", tok.name())));
                        };
                        spend(&mut budget, s.len() as u64 + MAP_ENTRY_COST as u64)?;
                        if !insert_key(entries, seen, s) {
                            return Err(invalid(format!("duplicate map key {:?}", IpldString::from_bytes(s))));
                        }
                        *key = Some(IpldString::from_bytes(s));
                        *left -= 1;
                        continue;
                    }
                    Some(Frame::List { left, .. }) => {
                        spend(&mut budget, LIST_ENTRY_COST as u64)?;
                        *left -= 1;
                    }
                    _ => {}
                }
                match r.token()? {
                    Tok::ArrOpen(_) | Tok::MapOpen(_) if stack.len() >= MAX_DEPTH => {
                        return Err(CodecError::DepthExceeded);
                    }
                    Tok::ArrOpen(n) => {
                        spend(&mut budget, n)?;
                        stack.push(Frame::List { items: Vec::with_capacity(n.min(MAX_PREALLOC) as usize), left: n });
                        continue;
                    }
                    Tok::MapOpen(n) => {
                        spend(&mut budget, n)?;
                        stack.push(Frame::Map {
                            entries: Vec::with_capacity(n.min(MAX_PREALLOC) as usize),
                            left: n,
                            key: None,
                            seen: None,
                        });
                        continue;
                    }
                    Tok::Null => Node::Null,
                    Tok::Bool(b) => {
                        spend(&mut budget, 1)?;
                        Node::Bool(b)
                    }
                    Tok::Uint(u) => {
                        spend(&mut budget, 1)?;
                        Node::Int(i128::from(u))
                    }
                    Tok::Int(i) => {
                        spend(&mut budget, 1)?;
                        Node::Int(i128::from(i))
                    }
                    Tok::Float(f) => {
                        spend(&mut budget, 1)?;
                        Node::Float(f)
                    }
                    Tok::Str(s) => {
                        spend(&mut budget, s.len() as u64)?;
                        Node::String(IpldString::from_bytes(s))
                    }
                    Tok::Bytes(b, tag) => {
                        spend(&mut budget, b.len() as u64)?;
                        match tag {
                            None => Node::Bytes(Bytes::copy_from_slice(b)),
                            Some(LINK_TAG) if allow_links => decode_link(b)?,
                            Some(t) => return Err(invalid(format!("unhandled cbor tag {t}"))),
                        }
                    }
                }
            }
        };
        match stack.last_mut() {
            None => break value,
            Some(Frame::List { items, .. }) => items.push(value),
            Some(Frame::Map { entries, key, .. }) => {
                let k = key.take().ok_or_else(|| invalid("map value without a key"))?;
                entries.push((k, value));
            }
        }
    };
    if r.pos != data.len() {
        return Err(CodecError::TrailingData);
    }
    Ok(root)
}

fn decode_link(b: &[u8]) -> Result<Node, CodecError> {
    match b.split_first() {
        Some((0, rest)) => Ok(Node::Link(cid_from_bytes(rest).map_err(|e| invalid(e.to_string()))?)),
        _ => Err(invalid("invalid multibase on IPLD link")),
    }
}

fn head(out: &mut Vec<u8>, major: u8, v: u64) {
    let m = major << 5;
    if v <= 0x17 {
        out.push(m | v as u8);
    } else if v <= u64::from(u8::MAX) {
        out.extend_from_slice(&[m | 0x18, v as u8]);
    } else if v <= u64::from(u16::MAX) {
        out.push(m | 0x19);
        out.extend_from_slice(&(v as u16).to_be_bytes());
    } else if v <= u64::from(u32::MAX) {
        out.push(m | 0x1a);
        out.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        out.push(m | 0x1b);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

fn encode_int(out: &mut Vec<u8>, i: i128) -> Result<(), CodecError> {
    if i >= 0 {
        let v = u64::try_from(i).map_err(|_| CodecError::Unencodable(format!("integer {i} out of range")))?;
        head(out, 0, v);
    } else {
        let v = u64::try_from(-1 - i).map_err(|_| CodecError::Unencodable(format!("integer {i} out of range")))?;
        head(out, 1, v);
    }
    Ok(())
}

enum EncFrame<'a> {
    Items(std::slice::Iter<'a, Node>),
    Entries(std::vec::IntoIter<&'a (IpldString, Node)>),
}

/// Encodes as dag-cbor (`dag == true`: canonical key order, links allowed) or
/// as plain cbor (map order kept, links refused).
pub(crate) fn encode(node: &Node, dag: bool) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    let mut stack: Vec<EncFrame<'_>> = Vec::new();
    let mut next = Some(node);
    loop {
        if let Some(n) = next.take() {
            match n {
                Node::Null => out.push(0xf6),
                Node::Bool(b) => out.push(if *b { 0xf5 } else { 0xf4 }),
                Node::Int(i) => encode_int(&mut out, *i)?,
                Node::Float(f) => {
                    out.push(0xfb);
                    out.extend_from_slice(&f.to_bits().to_be_bytes());
                }
                Node::String(s) => {
                    head(&mut out, 3, s.len() as u64);
                    out.extend_from_slice(s.as_bytes());
                }
                Node::Bytes(b) => {
                    head(&mut out, 2, b.len() as u64);
                    out.extend_from_slice(b);
                }
                Node::Link(c) => {
                    if !dag {
                        return Err(CodecError::Unencodable("cannot Marshal ipld links to CBOR".into()));
                    }
                    let cb = c.to_bytes();
                    out.extend_from_slice(&[0xd8, LINK_TAG as u8]);
                    head(&mut out, 2, cb.len() as u64 + 1);
                    out.push(0);
                    out.extend_from_slice(&cb);
                }
                Node::List(items) => {
                    head(&mut out, 4, items.len() as u64);
                    stack.push(EncFrame::Items(items.iter()));
                }
                Node::Map(entries) => {
                    head(&mut out, 5, entries.len() as u64);
                    let mut refs: Vec<&(IpldString, Node)> = entries.iter().collect();
                    if dag {
                        refs.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
                    }
                    stack.push(EncFrame::Entries(refs.into_iter()));
                }
            }
        }
        match stack.last_mut() {
            None => break,
            Some(EncFrame::Items(it)) => match it.next() {
                Some(n) => next = Some(n),
                None => {
                    stack.pop();
                }
            },
            Some(EncFrame::Entries(it)) => match it.next() {
                Some((k, v)) => {
                    head(&mut out, 3, k.len() as u64);
                    out.extend_from_slice(k.as_bytes());
                    next = Some(v);
                }
                None => {
                    stack.pop();
                }
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(hex_str: &str) -> Result<Node, CodecError> {
        decode(&hex::decode(hex_str).unwrap(), true)
    }

    #[test]
    fn strictness_matches_go() {
        // non-minimal uint
        assert!(dec("1801").is_err());
        assert!(dec("190001").is_err());
        // non-minimal length
        assert!(dec("5801ff").is_err());
        // indefinite
        assert!(dec("9fff").is_err());
        // NaN, Infinity (all widths)
        assert!(dec("f97e00").is_err());
        assert!(dec("fa7f800000").is_err());
        assert!(dec("fb7ff8000000000000").is_err());
        // undefined reads as null; f16/f32 are accepted
        assert_eq!(dec("f7").unwrap(), Node::Null);
        assert_eq!(dec("f93c00").unwrap(), Node::Float(1.0));
        assert_eq!(dec("fa3fc00000").unwrap(), Node::Float(1.5));
        // duplicate keys refused, unsorted keys accepted
        assert!(dec("a2616101616102").is_err());
        assert_eq!(dec("a2616201616102").unwrap(), Node::map([("b", Node::from(1i64)), ("a", Node::from(2i64))]));
        // non-string key
        assert!(dec("a10101").is_err());
        // tag on non-bytes is ignored; other tags on bytes refused
        assert_eq!(dec("c101").unwrap(), Node::from(1i64));
        assert!(dec("c14100").is_err());
        assert!(dec("c1c101").is_err());
        // trailing and truncated
        assert_eq!(dec("0101"), Err(CodecError::TrailingData));
        assert_eq!(dec(""), Err(CodecError::UnexpectedEof));
        assert_eq!(dec("82"), Err(CodecError::UnexpectedEof));
        // big unsigned kept; -2^64 wraps to 0 as in refmt
        assert_eq!(dec("1bffffffffffffffff").unwrap(), Node::Int(u64::MAX as i128));
        assert_eq!(dec("3bffffffffffffffff").unwrap(), Node::Int(0));
        assert!(dec("3b8000000000000000").is_err());
        assert_eq!(dec("3b7fffffffffffffff").unwrap(), Node::Int(i64::MIN as i128));
        // link without the 0x00 prefix
        assert!(dec("d82a420155").is_err());
    }

    #[test]
    fn bounded() {
        let deep = vec![0x81u8; 1 << 20];
        assert_eq!(decode(&deep, true), Err(CodecError::DepthExceeded));
        let mut ok = vec![0x81u8; MAX_DEPTH];
        ok.push(0x01);
        assert!(decode(&ok, true).is_ok());
        let mut too_deep = vec![0x81u8; MAX_DEPTH + 1];
        too_deep.push(0x01);
        assert_eq!(decode(&too_deep, true), Err(CodecError::DepthExceeded));
        // an array claiming 2^40 items exhausts the budget before any read
        assert_eq!(dec("9b0000010000000000"), Err(CodecError::BudgetExceeded));
    }

    #[test]
    fn canonical_order() {
        let n = Node::map([("bb", Node::Null), ("a", Node::Null), ("c", Node::Null)]);
        assert_eq!(hex::encode(encode(&n, true).unwrap()), "a36161f66163f6626262f6");
        assert_eq!(hex::encode(encode(&n, false).unwrap()), "a3626262f66161f66163f6");
        assert_eq!(hex::encode(encode(&Node::Float(1.0), true).unwrap()), "fb3ff0000000000000");
        assert_eq!(hex::encode(encode(&Node::Int(-1), true).unwrap()), "20");
        assert!(encode(&Node::Int(-(1 << 64) - 1), true).is_err());
    }
}
