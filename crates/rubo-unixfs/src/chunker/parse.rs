//! Chunker strings: boxo's `FromString` (chunker/parse.go), errors included.

use std::fmt;

use super::{CHUNK_SIZE_LIMIT, ChunkerSpec, DEFAULT_BLOCK_SIZE};

/// Why a chunker string was refused; the messages are boxo's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChunkerError {
    #[error("unrecognized chunker option: {0}")]
    Unrecognized(String),
    #[error("incorrect chunker string format (expected size-{{size}})")]
    SizeFormat,
    /// `ErrSize`.
    #[error("chunker size must be greater than 0")]
    Size,
    /// `ErrSizeMax`.
    #[error("chunker parameters may not exceed the maximum chunk size of 2096896")]
    SizeMax,
    /// `ErrRabinMin` (the check is `min < 16`: 16 itself is accepted).
    #[error("rabin min must be greater than 16")]
    RabinMin,
    #[error("incorrect format (expected 'rabin' 'rabin-[avg]' or 'rabin-[min]-[avg]-[max]'")]
    RabinFormat,
    #[error("first label must be min")]
    MinLabel,
    #[error("second label must be avg")]
    AvgLabel,
    #[error("final label must be max")]
    MaxLabel,
    #[error("incorrect format: rabin-min must be smaller than rabin-avg")]
    MinNotBelowAvg,
    #[error("incorrect format: rabin-avg must be smaller than rabin-max")]
    AvgNotBelowMax,
    /// A number that Go's `strconv.Atoi` refuses.
    #[error(transparent)]
    Number(#[from] AtoiError),
}

/// Go's `*strconv.NumError` from `strconv.Atoi`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("strconv.Atoi: parsing {}: {}", go_quote(.input), if *.out_of_range { "value out of range" } else { "invalid syntax" })]
pub struct AtoiError {
    /// The text that was parsed.
    pub input: String,
    /// `ErrRange` rather than `ErrSyntax`.
    pub out_of_range: bool,
}

pub(super) fn parse(s: &str) -> Result<ChunkerSpec, ChunkerError> {
    if s.is_empty() || s == "default" {
        return Ok(ChunkerSpec::Size(DEFAULT_BLOCK_SIZE));
    }
    let name = s.split_once('-').map_or(s, |(name, _)| name);
    match name {
        "size" => parse_size(s),
        "rabin" => parse_rabin(s),
        // parseBuzhashString ignores any parameters.
        "buzhash" => Ok(ChunkerSpec::Buzhash),
        _ => Err(ChunkerError::Unrecognized(s.to_string())),
    }
}

fn parse_size(s: &str) -> Result<ChunkerSpec, ChunkerError> {
    let parts: Vec<&str> = s.split('-').collect();
    let [_, size] = parts[..] else {
        return Err(ChunkerError::SizeFormat);
    };
    let size = atoi(size)?;
    if size <= 0 {
        return Err(ChunkerError::Size);
    }
    Ok(ChunkerSpec::Size(bounded(size)?))
}

fn parse_rabin(s: &str) -> Result<ChunkerSpec, ChunkerError> {
    let parts: Vec<&str> = s.split('-').collect();
    match parts[..] {
        [_] => Ok(ChunkerSpec::rabin(DEFAULT_BLOCK_SIZE)),
        [_, avg] => {
            let avg = atoi(avg)?;
            // Go: int(float32(size)*1.5) > ChunkSizeLimit. Past 2^63 the
            // conversion is implementation-defined: amd64 yields i64::MIN,
            // letting the value through (Kubo then panics allocating the
            // buffer); Rust saturates, as arm64 does, and refuses it.
            if ((avg as f32) * 1.5f32) as i64 > CHUNK_SIZE_LIMIT as i64 {
                return Err(ChunkerError::SizeMax);
            }
            // Atoi cannot see a '-': avg >= 0.
            let avg = usize::try_from(avg).map_err(|_| ChunkerError::SizeMax)?;
            Ok(ChunkerSpec::rabin(avg))
        }
        [_, min, avg, max] => {
            let min = atoi(labelled(min, "min", ChunkerError::MinLabel)?)?;
            if min < 16 {
                return Err(ChunkerError::RabinMin);
            }
            let avg = atoi(labelled(avg, "avg", ChunkerError::AvgLabel)?)?;
            let max = atoi(labelled(max, "max", ChunkerError::MaxLabel)?)?;
            if min >= avg {
                return Err(ChunkerError::MinNotBelowAvg);
            }
            if avg >= max {
                return Err(ChunkerError::AvgNotBelowMax);
            }
            Ok(ChunkerSpec::Rabin { min: bounded(min)?, avg: bounded(avg)?, max: bounded(max)? })
        }
        _ => Err(ChunkerError::RabinFormat),
    }
}

/// A rabin parameter, optionally `label:value`: split at every ':', the first
/// piece must be the label when there is more than one, the last is the value.
fn labelled<'a>(part: &'a str, label: &str, err: ChunkerError) -> Result<&'a str, ChunkerError> {
    let mut pieces = part.split(':');
    let first = pieces.next().unwrap_or_default();
    match pieces.next_back() {
        None => Ok(part),
        Some(_) if first != label => Err(err),
        Some(value) => Ok(value),
    }
}

/// A size within `ChunkSizeLimit`.
fn bounded(n: i64) -> Result<usize, ChunkerError> {
    usize::try_from(n).ok().filter(|&n| n <= CHUNK_SIZE_LIMIT).ok_or(ChunkerError::SizeMax)
}

/// Go's `strconv.Atoi` on a 64-bit platform: optional sign, decimal digits
/// only, first error found left to right.
pub(super) fn atoi(s: &str) -> Result<i64, AtoiError> {
    let err = |out_of_range| AtoiError { input: s.to_string(), out_of_range };
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() {
        return Err(err(false));
    }
    // ParseUint with base 10, bitSize 64.
    const CUTOFF: u64 = u64::MAX / 10 + 1;
    let mut n: u64 = 0;
    for c in digits.bytes() {
        if !c.is_ascii_digit() {
            return Err(err(false));
        }
        if n >= CUTOFF {
            return Err(err(true));
        }
        n = match (n * 10).checked_add(u64::from(c - b'0')) {
            Some(n) => n,
            None => return Err(err(true)),
        };
    }
    // ParseInt's range check.
    const LIMIT: u64 = 1 << 63;
    match (neg, n) {
        (false, n) if n >= LIMIT => Err(err(true)),
        (true, n) if n > LIMIT => Err(err(true)),
        (false, n) => Ok(n as i64),
        (true, n) => Ok((n as i64).wrapping_neg()),
    }
}

/// Go's `strconv.Quote` (printability of non-ASCII approximated).
fn go_quote(s: &str) -> impl fmt::Display + '_ {
    struct Quoted<'a>(&'a str);
    impl fmt::Display for Quoted<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            use fmt::Write;
            f.write_char('"')?;
            for c in self.0.chars() {
                match c {
                    '"' | '\\' => write!(f, "\\{c}")?,
                    '\x07' => f.write_str("\\a")?,
                    '\x08' => f.write_str("\\b")?,
                    '\x0c' => f.write_str("\\f")?,
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    '\t' => f.write_str("\\t")?,
                    '\x0b' => f.write_str("\\v")?,
                    c if go_printable(c) => f.write_char(c)?,
                    c if (c as u32) < 0x80 => write!(f, "\\x{:02x}", c as u32)?,
                    c if (c as u32) < 0x10000 => write!(f, "\\u{:04x}", c as u32)?,
                    c => write!(f, "\\U{:08x}", c as u32)?,
                }
            }
            f.write_char('"')
        }
    }
    Quoted(s)
}

/// Go's `strconv.IsPrint`, approximately: no controls, no spaces but ' ', no
/// common invisible format characters, no private use.
fn go_printable(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}')
        || ('\u{e000}'..='\u{f8ff}').contains(&c)
        || c >= '\u{f0000}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoi_like_go() {
        assert_eq!(atoi("0"), Ok(0));
        assert_eq!(atoi("+5"), Ok(5));
        assert_eq!(atoi("-5"), Ok(-5));
        assert_eq!(atoi("9223372036854775807"), Ok(i64::MAX));
        assert_eq!(atoi("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(atoi("00000000000000000000000001"), Ok(1));
        let range = |s: &str| Err(AtoiError { input: s.into(), out_of_range: true });
        let syntax = |s: &str| Err(AtoiError { input: s.into(), out_of_range: false });
        assert_eq!(atoi("9223372036854775808"), range("9223372036854775808"));
        assert_eq!(atoi("-9223372036854775809"), range("-9223372036854775809"));
        assert_eq!(atoi("18446744073709551616"), range("18446744073709551616"));
        // Overflow is noticed before the bad character that follows.
        assert_eq!(atoi("99999999999999999999x"), range("99999999999999999999x"));
        assert_eq!(atoi("9x9999999999999999999"), syntax("9x9999999999999999999"));
        for s in ["", "+", "-", " 1", "1 ", "0x10", "1_000", "1e3", "١"] {
            assert_eq!(atoi(s), syntax(s), "{s:?}");
        }
    }

    #[test]
    fn quote_like_go() {
        let q = |s: &str| go_quote(s).to_string();
        assert_eq!(q("abc"), r#""abc""#);
        assert_eq!(q("a\"b\\c\t\n\x01\x7f"), r#""a\"b\\c\t\n\x01\x7f""#);
        assert_eq!(q("é"), "\"é\"");
        assert_eq!(q("\u{a0}\u{feff}"), r#""\u00a0\ufeff""#);
        assert_eq!(q("\u{f0000}"), r#""\U000f0000""#);
    }
}
