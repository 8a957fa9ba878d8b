//! Chunker strings: boxo's `FromString` (chunker/parse.go), errors included.

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
pub use rubo_types::go::NumError as AtoiError;

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

/// Go's `strconv.Atoi` on a 64-bit platform.
fn atoi(s: &str) -> Result<i64, AtoiError> {
    rubo_types::go::atoi(s)
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
        let err = |s: &str| atoi(s).map_err(|e| e.to_string());
        let range =
            |s: &str| Err(format!("strconv.Atoi: parsing {}: value out of range", rubo_types::go::quote(s.as_bytes())));
        let syntax =
            |s: &str| Err(format!("strconv.Atoi: parsing {}: invalid syntax", rubo_types::go::quote(s.as_bytes())));
        assert_eq!(err("9223372036854775808"), range("9223372036854775808"));
        assert_eq!(err("-9223372036854775809"), range("-9223372036854775809"));
        assert_eq!(err("18446744073709551616"), range("18446744073709551616"));
        // Overflow is noticed before the bad character that follows.
        assert_eq!(err("99999999999999999999x"), range("99999999999999999999x"));
        assert_eq!(err("9x9999999999999999999"), syntax("9x9999999999999999999"));
        for s in ["", "+", "-", " 1", "1 ", "0x10", "1_000", "1e3", "١"] {
            assert_eq!(err(s), syntax(s), "{s:?}");
        }
        assert_eq!(err("\u{a0}"), Err(r#"strconv.Atoi: parsing "\u00a0": invalid syntax"#.to_string()));
    }
}
