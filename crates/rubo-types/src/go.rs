//! Go's conventions that Kubo's inputs and messages follow: `strconv`'s
//! integer parsing (the one integer parser of rubo) and quoting, and
//! `utf8.DecodeRune`. Error texts are Go's, byte for byte, since Kubo's tests
//! and users match on them.

use thiserror::Error;

/// What was wrong with a number (Go's `strconv.ErrSyntax`, `ErrRange`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumErrorKind {
    Syntax,
    Range,
    Base(u32),
    BitSize(u32),
}

impl std::fmt::Display for NumErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Syntax => f.write_str("invalid syntax"),
            Self::Range => f.write_str("value out of range"),
            Self::Base(b) => write!(f, "invalid base {b}"),
            Self::BitSize(b) => write!(f, "invalid bit size {b}"),
        }
    }
}

/// Go's `*strconv.NumError`: `strconv.ParseInt: parsing "x": invalid syntax`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("strconv.{func}: parsing {}: {kind}", quote(.input.as_bytes()))]
pub struct NumError {
    /// `ParseInt`, `ParseUint` or `Atoi`.
    pub func: &'static str,
    /// The whole text given, sign included.
    pub input: String,
    pub kind: NumErrorKind,
}

impl NumError {
    pub fn is_range(&self) -> bool {
        self.kind == NumErrorKind::Range
    }
}

/// Why the unsigned part failed; a range failure carries Go's clamped value,
/// which `ParseInt` goes on with.
enum Fail {
    Kind(NumErrorKind),
    Range(u64),
}

/// Go's `lower`: ASCII letters to lower case, other bytes to something that
/// is no letter.
fn lower(c: u8) -> u8 {
    c | (b'x' - b'X')
}

/// Go's `strconv.ParseUint` without the error wrapping.
fn uint(s0: &str, base: u32, bit_size: u32) -> Result<u64, Fail> {
    let b = s0.as_bytes();
    if b.is_empty() {
        return Err(Fail::Kind(NumErrorKind::Syntax));
    }
    let base0 = base == 0;
    let (base, digits) = match base {
        2..=36 => (base, b),
        // A prefix picks the base; a bare leading 0 is octal.
        0 if b[0] == b'0' && b.len() >= 3 && lower(b[1]) == b'b' => (2, &b[2..]),
        0 if b[0] == b'0' && b.len() >= 3 && lower(b[1]) == b'o' => (8, &b[2..]),
        0 if b[0] == b'0' && b.len() >= 3 && lower(b[1]) == b'x' => (16, &b[2..]),
        0 if b[0] == b'0' => (8, &b[1..]),
        0 => (10, b),
        _ => return Err(Fail::Kind(NumErrorKind::Base(base))),
    };
    let bit_size = match bit_size {
        0 => 64,
        1..=64 => bit_size,
        _ => return Err(Fail::Kind(NumErrorKind::BitSize(bit_size))),
    };
    // The smallest n with n * base > u64::MAX.
    let cutoff = u64::MAX / u64::from(base) + 1;
    let max = if bit_size == 64 { u64::MAX } else { (1u64 << bit_size) - 1 };
    let mut underscores = false;
    let mut n: u64 = 0;
    for &c in digits {
        let d = match c {
            b'_' if base0 => {
                underscores = true;
                continue;
            }
            b'0'..=b'9' => c - b'0',
            _ if lower(c).is_ascii_lowercase() => lower(c) - b'a' + 10,
            _ => return Err(Fail::Kind(NumErrorKind::Syntax)),
        };
        if u32::from(d) >= base {
            return Err(Fail::Kind(NumErrorKind::Syntax));
        }
        // Go reports overflow as soon as it happens, before later bad bytes.
        if n >= cutoff {
            return Err(Fail::Range(max));
        }
        n *= u64::from(base);
        match n.checked_add(u64::from(d)) {
            Some(n1) if n1 <= max => n = n1,
            _ => return Err(Fail::Range(max)),
        }
    }
    if underscores && !underscore_ok(s0) {
        return Err(Fail::Kind(NumErrorKind::Syntax));
    }
    Ok(n)
}

/// Go's `underscoreOK`: underscores only between digits, or between a base
/// prefix and a digit.
fn underscore_ok(s: &str) -> bool {
    let mut s = s.as_bytes();
    if let [b'+' | b'-', rest @ ..] = s {
        s = rest;
    }
    // '^' start, '0' digit or prefix, '_' underscore, '!' anything else.
    let mut saw = b'^';
    let mut i = 0;
    let mut hex = false;
    if s.len() >= 2 && s[0] == b'0' && matches!(lower(s[1]), b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = lower(s[1]) == b'x';
    }
    for &c in &s[i..] {
        if c.is_ascii_digit() || (hex && (b'a'..=b'f').contains(&lower(c))) {
            saw = b'0';
            continue;
        }
        if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
            continue;
        }
        if saw == b'_' {
            return false;
        }
        saw = b'!';
    }
    saw != b'_'
}

/// Go's `strconv.ParseUint(s, base, bit_size)`: base 0 takes Go's prefixes
/// (`0x`, `0o`, `0b`, a leading `0` for octal) and `_` separators.
pub fn parse_uint(s: &str, base: u32, bit_size: u32) -> Result<u64, NumError> {
    uint(s, base, bit_size).map_err(|f| NumError {
        func: "ParseUint",
        input: s.to_string(),
        kind: match f {
            Fail::Kind(k) => k,
            Fail::Range(_) => NumErrorKind::Range,
        },
    })
}

/// Go's `strconv.ParseInt(s, base, bit_size)`: an optional sign, then as
/// [`parse_uint`]; `bit_size` 0 is 64.
pub fn parse_int(s: &str, base: u32, bit_size: u32) -> Result<i64, NumError> {
    let err = |kind| NumError { func: "ParseInt", input: s.to_string(), kind };
    let (neg, rest) = match s.as_bytes().first() {
        None => return Err(err(NumErrorKind::Syntax)),
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        Some(_) => (false, s),
    };
    let un = match uint(rest, base, bit_size) {
        Ok(n) => n,
        // As Go: carry on with the clamped value, the range check below fails.
        Err(Fail::Range(max)) => max,
        Err(Fail::Kind(k)) => return Err(err(k)),
    };
    let bits = if bit_size == 0 { 64 } else { bit_size };
    let cutoff = 1u64 << (bits - 1);
    if (!neg && un >= cutoff) || (neg && un > cutoff) {
        return Err(err(NumErrorKind::Range));
    }
    // `un as i64` is i64::MIN for 2^63, whose negation is itself.
    Ok(if neg { (un as i64).wrapping_neg() } else { un as i64 })
}

/// Go's `strconv.Atoi` (64-bit `int`): `ParseInt(s, 10, 0)`, errors named `Atoi`.
pub fn atoi(s: &str) -> Result<i64, NumError> {
    parse_int(s, 10, 0).map_err(|e| NumError { func: "Atoi", ..e })
}

/// Go's `utf8.DecodeRune`: the first character and its width; an invalid or
/// incomplete sequence is U+FFFD of width 1 (0 for no input).
pub fn decode_rune(b: &[u8]) -> (char, usize) {
    let Some(&first) = b.first() else {
        return (char::REPLACEMENT_CHARACTER, 0);
    };
    let w = match first {
        0x00..=0x7F => return (char::from(first), 1),
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (char::REPLACEMENT_CHARACTER, 1),
    };
    match b.get(..w).map(std::str::from_utf8) {
        Some(Ok(s)) => (s.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER), w),
        _ => (char::REPLACEMENT_CHARACTER, 1),
    }
}

/// Go's `unicode.IsPrint`, approximately (exact for ASCII and Latin-1).
pub fn is_print(c: char) -> bool {
    match u32::from(c) {
        0x20..=0x7E => true,
        0x00..=0x1F | 0x7F..=0xA0 | 0xAD => false,
        0x2000..=0x200F | 0x2028..=0x202F | 0x205F..=0x206F | 0x3000 | 0xFEFF => false,
        0xFFF9..=0xFFFB | 0xE000..=0xF8FF | 0xF0000.. => false,
        _ => !c.is_control() && !c.is_whitespace(),
    }
}

/// Go's escaping of one rune inside a quoted string or rune literal.
fn escape(c: char, quote: char, out: &mut String) {
    if c == quote || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if u32::from(c) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", u32::from(c))),
        c if u32::from(c) < 0x10000 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
        c => out.push_str(&format!("\\U{:08x}", u32::from(c))),
    }
}

/// Go's `strconv.Quote` (`%q` of a string), over bytes that may not be UTF-8.
pub fn quote(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len() + 2);
    out.push('"');
    let mut rest = b;
    while !rest.is_empty() {
        let (r, w) = decode_rune(rest);
        if w == 1 && r == char::REPLACEMENT_CHARACTER {
            out.push_str(&format!("\\x{:02x}", rest[0]));
        } else {
            escape(r, '"', &mut out);
        }
        rest = &rest[w..];
    }
    out.push('"');
    out
}

/// Go's `strconv.QuoteRune` (`%q` of a rune).
pub fn quote_rune(r: char) -> String {
    let mut out = String::from("'");
    escape(r, '\'', &mut out);
    out.push('\'');
    out
}

/// Go's `%#U`: `U+0041 'A'`, or just `U+000A` when not printable.
pub fn sharp_u(r: u32) -> String {
    match char::from_u32(r).filter(|c| is_print(*c)) {
        Some(c) => format!("U+{r:04X} '{c}'"),
        None => format!("U+{r:04X}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(s: &str) -> Result<i64, String> {
        parse_int(s, 0, 64).map_err(|e| e.to_string())
    }

    #[test]
    fn parse_int_base0_like_go() {
        // Go's strconv atoi_test.go (parseInt64BaseTests, base 0) and the
        // underscore rules of underscoreOK.
        for (s, v) in [
            ("0", 0),
            ("-0", 0),
            ("+5", 5),
            ("12345", 12345),
            ("-12345", -12345),
            ("012345", 0o12345),
            ("-012345", -0o12345),
            ("0x12345", 0x12345),
            ("-0X12345", -0x12345),
            ("0b101", 5),
            ("0B101", 5),
            ("0o777", 0o777),
            ("0O777", 0o777),
            ("1_000", 1000),
            ("-1_2_3_4_5", -12345),
            ("0x_1_2_3_4_5", 0x12345),
            ("0_1_2_3_4_5", 0o12345),
            ("0b_101", 5),
            ("0xabcdef", 0xabcdef),
            ("9223372036854775807", i64::MAX),
            ("-9223372036854775808", i64::MIN),
            ("0x7fffffffffffffff", i64::MAX),
            ("-0x8000000000000000", i64::MIN),
        ] {
            assert_eq!(int(s), Ok(v), "{s:?}");
        }
        let syntax = |s: &str| Err(format!("strconv.ParseInt: parsing {}: invalid syntax", quote(s.as_bytes())));
        for s in [
            "", "-", "+", "x", "0x", "0b", "0o", "08", "0b2", "0xg", "1__2", "_12", "12_", "-_12", "0x__1", "0_x1",
            "+-1", "-+1", "1 ", " 1", "1e3", "١", "0x1_", "1_000_",
        ] {
            assert_eq!(int(s), syntax(s), "{s:?}");
        }
        let range = |s: &str| Err(format!("strconv.ParseInt: parsing {}: value out of range", quote(s.as_bytes())));
        for s in ["9223372036854775808", "-9223372036854775809", "0x8000000000000000", "18446744073709551616"] {
            assert_eq!(int(s), range(s), "{s:?}");
        }
        // Overflow is reported before a bad byte that follows it.
        assert_eq!(int("99999999999999999999x"), range("99999999999999999999x"));
        assert_eq!(int("9x9999999999999999999"), syntax("9x9999999999999999999"));
        // ...and before a misplaced underscore.
        assert_eq!(int("1_99999999999999999999_"), range("1_99999999999999999999_"));
    }

    #[test]
    fn other_bases_and_sizes() {
        // Underscores only with base 0.
        assert_eq!(parse_int("1_0", 10, 64).unwrap_err().kind, NumErrorKind::Syntax);
        assert_eq!(parse_int("0x10", 16, 64).unwrap_err().kind, NumErrorKind::Syntax);
        assert_eq!(parse_int("ff", 16, 64), Ok(255));
        assert_eq!(parse_int("zz", 36, 64), Ok(36 * 36 - 1));
        assert_eq!(parse_int("644", 8, 32), Ok(0o644));
        assert_eq!(parse_int("-20000000000", 8, 32), Ok(i64::from(i32::MIN)));
        assert_eq!(parse_int("20000000000", 8, 32).unwrap_err().kind, NumErrorKind::Range);
        assert_eq!(parse_int("127", 10, 8), Ok(127));
        assert_eq!(parse_int("-129", 10, 8).unwrap_err().kind, NumErrorKind::Range);
        assert_eq!(parse_uint("255", 10, 8), Ok(255));
        assert_eq!(
            parse_uint("256", 10, 8).unwrap_err().to_string(),
            "strconv.ParseUint: parsing \"256\": value out of range"
        );
        assert_eq!(parse_uint("-1", 10, 64).unwrap_err().kind, NumErrorKind::Syntax);
        assert_eq!(parse_uint("18446744073709551615", 0, 64), Ok(u64::MAX));
        assert_eq!(parse_int("1", 1, 64).unwrap_err().to_string(), "strconv.ParseInt: parsing \"1\": invalid base 1");
        assert_eq!(parse_int("1", 37, 64).unwrap_err().kind, NumErrorKind::Base(37));
        assert_eq!(
            parse_int("1", 10, 65).unwrap_err().to_string(),
            "strconv.ParseInt: parsing \"1\": invalid bit size 65"
        );
        assert_eq!(atoi("12"), Ok(12));
        assert_eq!(atoi("0x1").unwrap_err().to_string(), "strconv.Atoi: parsing \"0x1\": invalid syntax");
        assert_eq!(
            atoi("-9223372036854775809").unwrap_err().to_string(),
            "strconv.Atoi: parsing \"-9223372036854775809\": value out of range"
        );
    }

    #[test]
    fn quoting_like_go() {
        assert_eq!(quote(b"abc"), "\"abc\"");
        assert_eq!(quote(b"a\"b\\c\n\x01\xff"), "\"a\\\"b\\\\c\\n\\x01\\xff\"");
        assert_eq!(quote(b"a\"b\\c\t\n\x01\x7f"), r#""a\"b\\c\t\n\x01\x7f""#);
        assert_eq!(quote("é🚀".as_bytes()), "\"é🚀\"");
        assert_eq!(quote("\u{a0}\u{feff}".as_bytes()), r#""\u00a0\ufeff""#);
        assert_eq!(quote("\u{f0000}".as_bytes()), r#""\U000f0000""#);
        assert_eq!(quote_rune('\u{fffd}'), "'\u{fffd}'");
        assert_eq!(quote_rune('\''), "'\\''");
        assert_eq!(sharp_u(0xe9), "U+00E9 'é'");
        assert_eq!(sharp_u(0x85), "U+0085");
        assert_eq!(decode_rune(b"\xf0\x9f\x9a"), (char::REPLACEMENT_CHARACTER, 1));
        assert_eq!(decode_rune("🚀".as_bytes()), ('🚀', 4));
        assert_eq!(decode_rune(b""), (char::REPLACEMENT_CHARACTER, 0));
    }
}
