//! dag-json (0x0129) and plain json (0x0200), as go-ipld-prime v0.24's dagjson
//! package and refmt's JSON tokenizer read and write them for Kubo.
//!
//! Reading follows refmt's grammar, quirks included: only space, tab, CR and LF
//! are whitespace; a trailing comma before `]` or `}` is accepted; an integer is
//! an `int64` (a larger one is an error) and anything with `.` or an exponent is
//! a float; invalid UTF-8 in strings becomes U+FFFD per byte and lone
//! surrogate escapes become U+FFFD; duplicate keys are refused. After the value
//! only whitespace and NUL bytes may follow, except that the one byte read
//! after a top-level number to find its end is not checked (refmt keeps it in
//! its own buffer). dag-json also recognises `{"/":"<cid>"}` as a link and
//! `{"/":{"bytes":"<base64>"}}` as bytes, by the same token look-ahead Go uses
//! (so `{"/":"x","y":1}` is a map, and `{"/":"x"}` with a bad CID an error).
//! Nesting is limited to 1024 levels; parsing is iterative.
//!
//! Writing dag-json is compact, with no trailing newline, map keys sorted
//! bytewise, floats as ECMAScript prints them (`1.0` prints as `1`). Plain json
//! is indented with tabs, keeps map order, ends composites with a newline, and
//! refuses bytes and links.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD_NO_PAD};
use bytes::Bytes;
use rubo_types::parse_cid;

use super::CodecError;
use crate::node::{IpldString, Node, insert_key};

/// dagjson's default `MaxDepth`.
pub const MAX_DEPTH: usize = 1024;

fn invalid(msg: impl Into<String>) -> CodecError {
    CodecError::Invalid(msg.into())
}

/// Go's `base64.RawStdEncoding` (lenient about trailing bits, as Go's default is).
const RAW_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);
/// Go's `base64.StdEncoding`.
const PADDED_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// dagjson's bytes decoding: unpadded first, padded as a fallback. Go's decoders
/// skip `\r` and `\n` anywhere in the input.
fn decode_base64(s: &[u8]) -> Result<Vec<u8>, CodecError> {
    let cleaned: Vec<u8> = s.iter().copied().filter(|&b| b != b'\r' && b != b'\n').collect();
    RAW_STD
        .decode(&cleaned)
        .or_else(|_| PADDED_STD.decode(&cleaned))
        .map_err(|e| invalid(format!("illegal base64 data: {e}")))
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    MapOpen,
    MapClose,
    ArrOpen,
    ArrClose,
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
}

impl Tok {
    fn name(&self) -> &'static str {
        match self {
            Tok::MapOpen => "map open",
            Tok::MapClose => "map close",
            Tok::ArrOpen => "array open",
            Tok::ArrClose => "array close",
            Tok::Null => "null",
            Tok::Bool(_) => "bool",
            Tok::Int(_) => "int",
            Tok::Float(_) => "float",
            Tok::Str(_) => "string",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    /// The first and only top-level value.
    Value,
    /// In an array, before its first value.
    ArrFirst,
    /// In an array, after a value.
    ArrNext,
    /// In a map, before its first key.
    MapFirst,
    /// In a map, after a value.
    MapNext,
    /// In a map, after `key:`.
    MapValue,
}

fn byte_name(b: u8) -> String {
    match b {
        b',' => "comma".into(),
        b':' => "colon".into(),
        b'{' => "map open".into(),
        b'}' => "map close".into(),
        b'[' => "array open".into(),
        b']' => "array close".into(),
        b'"' => "quote".into(),
        _ => format!("0x{b:x}"),
    }
}

/// refmt's JSON tokenizer over a slice; `states` is its phase stack.
struct Lexer<'a> {
    buf: &'a [u8],
    pos: usize,
    states: Vec<State>,
}

impl<'a> Lexer<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0, states: vec![State::Value] }
    }

    fn byte(&mut self) -> Result<u8, CodecError> {
        let b = *self.buf.get(self.pos).ok_or(CodecError::UnexpectedEof)?;
        self.pos += 1;
        Ok(b)
    }

    fn byte_skipping_ws(&mut self) -> Result<u8, CodecError> {
        loop {
            let b = self.byte()?;
            if !matches!(b, b' ' | b'\t' | b'\r' | b'\n') {
                return Ok(b);
            }
        }
    }

    fn literal(&mut self, rest: &[u8], tok: Tok) -> Result<Tok, CodecError> {
        let end = self.pos.checked_add(rest.len()).ok_or(CodecError::UnexpectedEof)?;
        let got = self.buf.get(self.pos..end).ok_or(CodecError::UnexpectedEof)?;
        if got != rest {
            return Err(invalid(format!("invalid literal: expected {}", tok.name())));
        }
        self.pos = end;
        Ok(tok)
    }

    /// A value (or key) starting with `b`; pushes a state for composites.
    fn value(&mut self, b: u8, what: &str) -> Result<Tok, CodecError> {
        match b {
            b'{' => {
                self.states.push(State::MapFirst);
                Ok(Tok::MapOpen)
            }
            b'[' => {
                self.states.push(State::ArrFirst);
                Ok(Tok::ArrOpen)
            }
            b'n' => self.literal(b"ull", Tok::Null),
            b't' => self.literal(b"rue", Tok::Bool(true)),
            b'f' => self.literal(b"alse", Tok::Bool(false)),
            b'"' => Ok(Tok::Str(self.string()?)),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(invalid(format!("invalid char while expecting start of {what}: {}", byte_name(b)))),
        }
    }

    /// The next token, or `None` once the top-level value is complete.
    fn next(&mut self) -> Result<Option<Tok>, CodecError> {
        let Some(&state) = self.states.last() else { return Ok(None) };
        match state {
            State::Value => {
                self.states.pop();
                let b = self.byte_skipping_ws()?;
                self.value(b, "value").map(Some)
            }
            State::ArrFirst | State::ArrNext => {
                let mut b = self.byte_skipping_ws()?;
                if state == State::ArrNext {
                    match b {
                        b']' => {}
                        b',' => b = self.byte_skipping_ws()?,
                        _ => {
                            return Err(invalid(format!(
                                "expected comma or array close after array value; got {}",
                                byte_name(b)
                            )));
                        }
                    }
                }
                if b == b']' {
                    self.states.pop();
                    return Ok(Some(Tok::ArrClose));
                }
                if let Some(s) = self.states.last_mut() {
                    *s = State::ArrNext;
                }
                self.value(b, "value").map(Some)
            }
            State::MapFirst | State::MapNext => {
                let mut b = self.byte_skipping_ws()?;
                if state == State::MapNext {
                    match b {
                        b'}' => {}
                        b',' => b = self.byte_skipping_ws()?,
                        _ => {
                            return Err(invalid(format!(
                                "expected comma or map close after map value; got {}",
                                byte_name(b)
                            )));
                        }
                    }
                }
                if b == b'}' {
                    self.states.pop();
                    return Ok(Some(Tok::MapClose));
                }
                if let Some(s) = self.states.last_mut() {
                    *s = State::MapValue;
                }
                let key = self.value(b, "key")?;
                if matches!(key, Tok::MapOpen | Tok::ArrOpen) {
                    // refmt yields the token; the decoder then refuses it as a key.
                    return Ok(Some(key));
                }
                let c = self.byte_skipping_ws()?;
                if c != b':' {
                    return Err(invalid(format!("expected colon after map key; got {}", byte_name(c))));
                }
                Ok(Some(key))
            }
            State::MapValue => {
                if let Some(s) = self.states.last_mut() {
                    *s = State::MapNext;
                }
                let b = self.byte_skipping_ws()?;
                self.value(b, "value").map(Some)
            }
        }
    }

    fn hex4(&self, at: usize) -> Option<u32> {
        let h = self.buf.get(at..at + 4)?;
        if !h.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        let s = std::str::from_utf8(h).ok()?;
        u32::from_str_radix(s, 16).ok()
    }

    /// A string after its opening quote: refmt's scanner checks escapes and
    /// control bytes, then Go's `parseString` unquotes.
    fn string(&mut self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::new();
        loop {
            let c = self.byte()?;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self.byte()?;
                    match e {
                        b'"' | b'\\' | b'/' => out.push(e),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let rr = self.hex4(self.pos).ok_or_else(|| {
                                invalid("invalid byte in \\u hexadecimal character escape".to_string())
                            })?;
                            self.pos += 4;
                            let ch = if (0xd800..0xe000).contains(&rr) {
                                // A surrogate: paired with a following \uXXXX low
                                // surrogate it makes one rune, else U+FFFD.
                                let pair = if self.buf.get(self.pos..self.pos + 2) == Some(b"\\u") {
                                    self.hex4(self.pos + 2)
                                } else {
                                    None
                                };
                                match pair {
                                    Some(lo) if rr < 0xdc00 && (0xdc00..0xe000).contains(&lo) => {
                                        self.pos += 6;
                                        char::from_u32(0x10000 + ((rr - 0xd800) << 10) + (lo - 0xdc00))
                                    }
                                    _ => None,
                                }
                            } else {
                                char::from_u32(rr)
                            };
                            let ch = ch.unwrap_or('\u{FFFD}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                        }
                        _ => return Err(invalid(format!("invalid byte in string escape sequence: 0x{e:x}"))),
                    }
                }
                c if c < 0x20 => return Err(invalid(format!("invalid unprintable byte in string literal: 0x{c:x}"))),
                c => out.push(c),
            }
        }
        // Escapes produce valid UTF-8, so coercing the whole buffer equals Go's
        // per-segment coercion.
        Ok(match crate::node::go_lossy(&out) {
            std::borrow::Cow::Borrowed(_) => out,
            std::borrow::Cow::Owned(s) => s.into_bytes(),
        })
    }

    /// A number: refmt's scanner finds its end (reading one byte past it, kept
    /// for the next token), then Go's `ParseInt`, else `ParseFloat`.
    fn number(&mut self) -> Result<Tok, CodecError> {
        let start = self.pos - 1;
        #[derive(Clone, Copy)]
        enum S {
            Neg,
            Zero,
            One,
            Dot,
            Dot0,
            E,
            ESign,
            E0,
        }
        let mut s = match self.buf[start] {
            b'-' => S::Neg,
            b'0' => S::Zero,
            _ => S::One,
        };
        let mut end = self.buf.len();
        while let Some(&c) = self.buf.get(self.pos) {
            let next = match (s, c) {
                (S::Neg, b'0') => Some(S::Zero),
                (S::Neg, b'1'..=b'9') => Some(S::One),
                (S::Neg, _) => return Err(invalid(format!("invalid byte in numeric literal: 0x{c:x}"))),
                (S::One, b'0'..=b'9') => Some(S::One),
                (S::One | S::Zero, b'.') => Some(S::Dot),
                (S::One | S::Zero | S::Dot0, b'e' | b'E') => Some(S::E),
                (S::One | S::Zero, _) => None,
                (S::Dot, b'0'..=b'9') => Some(S::Dot0),
                (S::Dot, _) => return Err(invalid(format!("invalid byte after decimal in numeric literal: 0x{c:x}"))),
                (S::Dot0, b'0'..=b'9') => Some(S::Dot0),
                (S::Dot0, _) => None,
                (S::E, b'+' | b'-') => Some(S::ESign),
                (S::E | S::ESign, b'0'..=b'9') => Some(S::E0),
                (S::E | S::ESign, _) => {
                    return Err(invalid(format!("invalid byte in exponent of numeric literal: 0x{c:x}")));
                }
                (S::E0, b'0'..=b'9') => Some(S::E0),
                (S::E0, _) => None,
            };
            match next {
                Some(n) => {
                    s = n;
                    self.pos += 1;
                }
                None => {
                    end = self.pos;
                    break;
                }
            }
        }
        let text = std::str::from_utf8(&self.buf[start..end]).map_err(|_| invalid("invalid number"))?;
        parse_number(text)
    }
}

fn parse_number(text: &str) -> Result<Tok, CodecError> {
    let is_int = text.bytes().enumerate().all(|(i, b)| b.is_ascii_digit() || (i == 0 && b == b'-'));
    if is_int && text.bytes().any(|b| b.is_ascii_digit()) {
        // Digits only (the lexer's grammar): the one failure left is the range.
        return rubo_types::go::parse_int(text, 10, 64).map(Tok::Int).map_err(|e| invalid(e.to_string()));
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Tok::Float(f)),
        Ok(_) => Err(invalid(format!("strconv.ParseFloat: parsing {text:?}: value out of range"))),
        Err(_) => Err(invalid(format!("strconv.ParseFloat: parsing {text:?}: invalid syntax"))),
    }
}

enum Frame {
    List(Vec<Node>),
    Map { entries: Vec<(IpldString, Node)>, key: Option<IpldString>, seen: Option<HashSet<Vec<u8>>> },
}

/// Decodes dag-json (`dag == true`) or plain json spanning all of `data`.
pub(crate) fn decode(data: &[u8], dag: bool) -> Result<Node, CodecError> {
    let mut lx = Lexer::new(data);
    let mut stack: Vec<Frame> = Vec::new();
    let mut top_number = false;
    let root = loop {
        let Some(tok) = lx.next()? else {
            return Err(CodecError::UnexpectedEof);
        };
        // A map awaiting its key takes this token as the key.
        if let Some(Frame::Map { key: key @ None, seen, entries }) = stack.last_mut() {
            match tok {
                Tok::MapClose => {}
                Tok::Str(s) => {
                    if !insert_key(entries, seen, &s) {
                        return Err(invalid(format!("cannot repeat map key {:?}", IpldString::from_bytes(s))));
                    }
                    *key = Some(IpldString::from_bytes(s));
                    continue;
                }
                other => return Err(invalid(format!("unexpected {} token while expecting map key", other.name()))),
            }
        }
        let value = match tok {
            Tok::MapOpen => {
                if stack.len() >= MAX_DEPTH {
                    return Err(CodecError::DepthExceeded);
                }
                if dag && let Some(special) = look_ahead(&mut lx)? {
                    special
                } else {
                    stack.push(Frame::Map { entries: Vec::new(), key: None, seen: None });
                    continue;
                }
            }
            Tok::ArrOpen => {
                if stack.len() >= MAX_DEPTH {
                    return Err(CodecError::DepthExceeded);
                }
                stack.push(Frame::List(Vec::new()));
                continue;
            }
            Tok::MapClose | Tok::ArrClose => match stack.pop() {
                Some(Frame::List(items)) => Node::List(items),
                Some(Frame::Map { entries, .. }) => Node::Map(entries),
                None => return Err(invalid("unexpected close token")),
            },
            Tok::Null => Node::Null,
            Tok::Bool(b) => Node::Bool(b),
            Tok::Int(i) => {
                top_number = stack.is_empty();
                Node::Int(i128::from(i))
            }
            Tok::Float(f) => {
                top_number = stack.is_empty();
                Node::Float(f)
            }
            Tok::Str(s) => Node::String(IpldString::from_bytes(s)),
        };
        match stack.last_mut() {
            None => break value,
            Some(Frame::List(items)) => items.push(value),
            Some(Frame::Map { entries, key, .. }) => {
                let k = key.take().ok_or_else(|| invalid("map value without a key"))?;
                entries.push((k, value));
            }
        }
    };
    let mut rest = &data[lx.pos..];
    if top_number && !rest.is_empty() {
        // The byte refmt read to find the number's end never reaches the
        // trailing-content check.
        rest = &rest[1..];
    }
    if rest.iter().any(|b| !matches!(b, b' ' | 0 | b'\t' | b'\r' | b'\n')) {
        return Err(CodecError::TrailingData);
    }
    Ok(root)
}

/// Go's link and bytes look-ahead after a `{`: consumes the special form and
/// returns its value, or rewinds and returns `None`.
fn look_ahead(lx: &mut Lexer<'_>) -> Result<Option<Node>, CodecError> {
    let pos = lx.pos;
    // The look-ahead only changes the lexer's states from this map's own
    // (the last) upward, so the stack is restored by its length.
    let depth = lx.states.len();
    let mut toks = Vec::with_capacity(6);
    // Peek as Go does: stop as soon as the pattern cannot match.
    let result = (|| -> Result<Option<Node>, CodecError> {
        let mut peek = |toks: &mut Vec<Tok>| -> Result<(), CodecError> {
            match lx.next()? {
                Some(t) => toks.push(t),
                None => return Err(CodecError::UnexpectedEof),
            }
            Ok(())
        };
        peek(&mut toks)?;
        if toks[0] != Tok::Str(b"/".to_vec()) {
            return Ok(None);
        }
        peek(&mut toks)?;
        match &toks[1] {
            Tok::Str(s) => {
                let s = s.clone();
                peek(&mut toks)?;
                if toks[2] != Tok::MapClose {
                    return Ok(None);
                }
                let text = String::from_utf8(s).map_err(|_| invalid("invalid cid: not UTF-8"))?;
                let cid = parse_cid(&text).map_err(|e| invalid(e.to_string()))?;
                Ok(Some(Node::Link(cid)))
            }
            Tok::MapOpen => {
                peek(&mut toks)?;
                if toks[2] != Tok::Str(b"bytes".to_vec()) {
                    return Ok(None);
                }
                peek(&mut toks)?;
                let Tok::Str(b64) = toks[3].clone() else { return Ok(None) };
                peek(&mut toks)?;
                if toks[4] != Tok::MapClose {
                    return Ok(None);
                }
                peek(&mut toks)?;
                if toks[5] != Tok::MapClose {
                    return Ok(None);
                }
                Ok(Some(Node::Bytes(Bytes::from(decode_base64(&b64)?))))
            }
            _ => Ok(None),
        }
    })();
    match result {
        Ok(Some(n)) => Ok(Some(n)),
        Ok(None) => {
            lx.pos = pos;
            lx.states.truncate(depth.saturating_sub(1));
            lx.states.push(State::MapFirst);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Go's `encoding/json`-style float text (ECMAScript number formatting).
pub(crate) fn format_float(f: f64, out: &mut Vec<u8>) -> Result<(), CodecError> {
    if !f.is_finite() {
        let name = if f.is_nan() {
            "NaN"
        } else if f > 0.0 {
            "+Inf"
        } else {
            "-Inf"
        };
        return Err(CodecError::Unencodable(format!("unsupported value: {name}")));
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Rust's shortest exponent form, e.g. "1.5e-7"; Go writes "1.5e-07"
        // then trims to "1.5e-7", and writes "e+21" with the sign.
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        out.extend_from_slice(mant.as_bytes());
        out.push(b'e');
        if let Some(neg) = exp.strip_prefix('-') {
            out.push(b'-');
            out.extend_from_slice(neg.as_bytes());
        } else {
            out.push(b'+');
            if exp.len() < 2 {
                out.push(b'0');
            }
            out.extend_from_slice(exp.as_bytes());
        }
    } else {
        out.extend_from_slice(format!("{f}").as_bytes());
    }
    Ok(())
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// refmt's string writer: escapes `"`, `\`, control bytes, U+2028/9, and
/// writes `\ufffd` for each byte of invalid UTF-8.
pub(crate) fn write_string(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for chunk in s.utf8_chunks() {
        for ch in chunk.valid().chars() {
            match ch {
                '"' => out.extend_from_slice(b"\\\""),
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                c if (c as u32) < 0x20 => {
                    let b = c as u8;
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                '\u{2028}' => out.extend_from_slice(b"\\u2028"),
                '\u{2029}' => out.extend_from_slice(b"\\u2029"),
                c => {
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        for _ in chunk.invalid() {
            out.extend_from_slice(b"\\ufffd");
        }
    }
    out.push(b'"');
}

enum EncFrame<'a> {
    Items { it: std::slice::Iter<'a, Node>, some: bool },
    Entries { it: std::vec::IntoIter<&'a (IpldString, Node)>, some: bool },
}

/// Encodes compact dag-json (`dag == true`) or Kubo's pretty plain json.
pub(crate) fn encode(node: &Node, dag: bool) -> Result<Vec<u8>, CodecError> {
    let pretty = !dag;
    let mut out = Vec::new();
    let mut stack: Vec<EncFrame<'_>> = Vec::new();
    let mut next = Some(node);
    // refmt's pretty printer: a newline and one tab per open composite before
    // each entry, and before a non-empty composite's closing bracket.
    let indent = |out: &mut Vec<u8>, depth: usize| {
        if pretty {
            out.push(b'\n');
            out.extend(std::iter::repeat_n(b'\t', depth));
        }
    };
    loop {
        if let Some(n) = next.take() {
            match n {
                Node::Null => out.extend_from_slice(b"null"),
                Node::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
                Node::Int(i) => {
                    let v = i64::try_from(*i)
                        .map_err(|_| CodecError::Unencodable(format!("integer {i} does not fit an int64")))?;
                    out.extend_from_slice(v.to_string().as_bytes());
                }
                Node::Float(f) => format_float(*f, &mut out)?,
                Node::String(s) => write_string(s.as_bytes(), &mut out),
                Node::Bytes(b) => {
                    if !dag {
                        return Err(CodecError::Unencodable("cannot marshal IPLD bytes to this codec".into()));
                    }
                    out.extend_from_slice(b"{\"/\":{\"bytes\":\"");
                    out.extend_from_slice(STANDARD_NO_PAD.encode(b).as_bytes());
                    out.extend_from_slice(b"\"}}");
                }
                Node::Link(c) => {
                    if !dag {
                        return Err(CodecError::Unencodable("cannot marshal IPLD links to this codec".into()));
                    }
                    out.extend_from_slice(b"{\"/\":\"");
                    out.extend_from_slice(c.to_string().as_bytes());
                    out.extend_from_slice(b"\"}");
                }
                Node::List(items) => {
                    out.push(b'[');
                    stack.push(EncFrame::Items { it: items.iter(), some: false });
                }
                Node::Map(entries) => {
                    out.push(b'{');
                    let mut refs: Vec<&(IpldString, Node)> = entries.iter().collect();
                    if dag {
                        refs.sort_by(|(a, _), (b, _)| a.cmp(b));
                    }
                    stack.push(EncFrame::Entries { it: refs.into_iter(), some: false });
                }
            }
        }
        let depth = stack.len();
        match stack.last_mut() {
            None => break,
            Some(EncFrame::Items { it, some }) => match it.next() {
                Some(n) => {
                    if *some {
                        out.push(b',');
                    }
                    *some = true;
                    indent(&mut out, depth);
                    next = Some(n);
                }
                None => {
                    if *some {
                        indent(&mut out, depth - 1);
                    }
                    out.push(b']');
                    stack.pop();
                    if stack.is_empty() && pretty {
                        out.push(b'\n');
                    }
                }
            },
            Some(EncFrame::Entries { it, some }) => match it.next() {
                Some((k, v)) => {
                    if *some {
                        out.push(b',');
                    }
                    *some = true;
                    indent(&mut out, depth);
                    write_string(k.as_bytes(), &mut out);
                    out.push(b':');
                    if pretty {
                        out.push(b' ');
                    }
                    next = Some(v);
                }
                None => {
                    if *some {
                        indent(&mut out, depth - 1);
                    }
                    out.push(b'}');
                    stack.pop();
                    if stack.is_empty() && pretty {
                        out.push(b'\n');
                    }
                }
            },
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dj(s: &str) -> Result<Node, CodecError> {
        decode(s.as_bytes(), true)
    }

    fn enc(n: &Node) -> String {
        String::from_utf8(encode(n, true).unwrap()).unwrap()
    }

    #[test]
    fn grammar_quirks() {
        assert_eq!(dj("[1,]").unwrap(), Node::List(vec![Node::from(1i64)]));
        assert_eq!(dj("{\"a\":1,}").unwrap(), Node::map([("a", Node::from(1i64))]));
        assert!(dj("[,1]").is_err());
        assert!(dj("{\"a\" 1}").is_err());
        assert!(dj("{1:1}").is_err());
        assert!(dj("{\"a\":1,\"a\":2}").is_err());
        assert!(dj("\"a\" x").is_err());
        assert!(dj("\"a\"\n\0 ").is_ok());
        // the byte after a top-level number is not checked
        assert_eq!(dj("123x").unwrap(), Node::from(123i64));
        assert!(dj("123 x").is_err());
        // "01" is 0 followed by the unchecked byte; "011" leaves a "1" behind
        assert_eq!(dj("01").unwrap(), Node::Int(0));
        assert!(dj("011").is_err());
        assert!(dj("[01]").is_err());
        assert_eq!(dj("1.").unwrap(), Node::Float(1.0));
        assert!(dj("[1.]").is_err());
        assert_eq!(dj("-0").unwrap(), Node::Int(0));
        assert_eq!(dj("1e2").unwrap(), Node::Float(100.0));
        assert!(dj("9223372036854775808").is_err());
        assert_eq!(dj("-9223372036854775808").unwrap(), Node::Int(i64::MIN as i128));
        assert!(dj("1e400").is_err());
        assert!(dj("").is_err());
        assert!(dj(" ").is_err());
        assert!(dj("\t\r\n null \n").is_ok());
        // form feed is not whitespace to refmt
        assert!(dj("\x0cnull").is_err());
    }

    #[test]
    fn strings() {
        assert_eq!(dj(r#""\u00e9\n\/""#).unwrap(), Node::string("é\n/"));
        assert_eq!(dj(r#""\ud83d\ude00""#).unwrap(), Node::string("😀"));
        assert_eq!(dj(r#""\ud83dx""#).unwrap(), Node::string("\u{FFFD}x"));
        assert_eq!(dj(r#""\ude00""#).unwrap(), Node::string("\u{FFFD}"));
        assert_eq!(dj(r#""\ud83d\u0041""#).unwrap(), Node::string("\u{FFFD}A"));
        assert_eq!(decode(b"\"a\xe2\x82\"", true).unwrap(), Node::string("a\u{FFFD}\u{FFFD}"));
        assert!(dj("\"a\nb\"").is_err());
        assert!(dj(r#""\x""#).is_err());
        assert!(dj(r#""\u12g4""#).is_err());
    }

    #[test]
    fn links_and_bytes() {
        let c = "bafkreibmlvvgdyihetgocpof6xk64kjjzdeq2e4c7hqs3krdheosk4tgj4";
        let l = dj(&format!(r#"{{"/":"{c}"}}"#)).unwrap();
        assert_eq!(l, Node::Link(parse_cid(c).unwrap()));
        assert_eq!(enc(&l), format!(r#"{{"/":"{c}"}}"#));
        assert!(dj(r#"{"/":"nope"}"#).is_err());
        // not exactly the link form: plain maps
        assert!(matches!(dj(r#"{"/":"nope","x":1}"#).unwrap(), Node::Map(_)));
        assert!(matches!(decode(format!(r#"{{"/":"{c}"}}"#).as_bytes(), false).unwrap(), Node::Map(_)));
        let b = dj(r#"{"/":{"bytes":"AAECAwQ"}}"#).unwrap();
        assert_eq!(b, Node::bytes(&[0u8, 1, 2, 3, 4][..]));
        assert_eq!(enc(&b), r#"{"/":{"bytes":"AAECAwQ"}}"#);
        // padded input is accepted
        assert_eq!(dj(r#"{"/":{"bytes":"AAE="}}"#).unwrap(), Node::bytes(&[0u8, 1][..]));
        assert!(dj(r#"{"/":{"bytes":"!"}}"#).is_err());
        assert!(matches!(dj(r#"{"/":{"bytes":"AAE","x":1}}"#).unwrap(), Node::Map(_)));
    }

    #[test]
    fn floats_print_like_go() {
        let f = |x: f64| {
            let mut v = Vec::new();
            format_float(x, &mut v).unwrap();
            String::from_utf8(v).unwrap()
        };
        assert_eq!(f(1.0), "1");
        assert_eq!(f(-0.0), "-0");
        assert_eq!(f(0.5), "0.5");
        assert_eq!(f(1e21), "1e+21");
        assert_eq!(f(1e20), "100000000000000000000");
        assert_eq!(f(1.5e-7), "1.5e-7");
        assert_eq!(f(1e-6), "0.000001");
        assert_eq!(f(1e-323), "1e-323");
        assert_eq!(f(123456789.125), "123456789.125");
        assert_eq!(f(1.7976931348623157e308), "1.7976931348623157e+308");
        assert!(format_float(f64::NAN, &mut Vec::new()).is_err());
    }

    #[test]
    fn pretty_json() {
        let n =
            Node::map([("b", Node::List(vec![Node::from(1i64), Node::map::<&str>([])])), ("a", Node::List(vec![]))]);
        let s = String::from_utf8(encode(&n, false).unwrap()).unwrap();
        assert_eq!(s, "{\n\t\"b\": [\n\t\t1,\n\t\t{}\n\t],\n\t\"a\": []\n}\n");
        assert_eq!(encode(&Node::from(1i64), false).unwrap(), b"1");
        assert!(encode(&Node::bytes(&b"x"[..]), false).is_err());
    }

    #[test]
    fn escapes_like_refmt() {
        let mut v = Vec::new();
        write_string(b"<&>\"\\\x01\x7f\xff\xe2\x80\xa8\xef\xbf\xbd", &mut v);
        assert_eq!(v, b"\"<&>\\\"\\\\\\u0001\x7f\\ufffd\\u2028\xef\xbf\xbd\"".to_vec());
    }

    #[test]
    fn duplicate_keys_in_big_maps() {
        let entries: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let ok = format!("{{{}}}", entries.join(","));
        assert!(dj(&ok).is_ok());
        let dup = format!("{{{},\"k5\":1}}", entries.join(","));
        assert!(dj(&dup).is_err());
        let cbor = crate::codec::dagcbor::encode(&dj(&ok).unwrap(), true).unwrap();
        // append a duplicate entry by bumping the map's declared length
        let mut bad = cbor.clone();
        bad[1] += 1;
        bad.extend_from_slice(&[0x62, b'k', b'5', 0x01]);
        assert_eq!(bad[0], 0xb8);
        assert!(crate::codec::dagcbor::decode(&cbor, true).is_ok());
        assert!(crate::codec::dagcbor::decode(&bad, true).is_err());
    }

    #[test]
    fn bounded() {
        let deep = "[".repeat(1 << 20);
        assert_eq!(dj(&deep), Err(CodecError::DepthExceeded));
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(dj(&ok).is_ok());
    }
}
