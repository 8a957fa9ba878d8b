//! The `Range` request header, as Kubo's gateway reads it (boxo's copy of
//! Go's `http.ServeContent`): byte ranges only, a suffix (`-N`) counts from
//! the end, several ranges are accepted but only the first is served (Kubo
//! answers a multi-range request with that one range, never a multipart body).

/// One range as written, before the size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeSpec {
    /// `from-` or `from-to` (inclusive).
    From { from: u64, to: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// Why a `Range` header was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// Not `bytes=` ranges (answered 400, as boxo's pre-check does).
    #[error("invalid range")]
    Invalid,
    /// No range starts inside the content (answered 416).
    #[error("invalid range: failed to overlap")]
    NoOverlap,
}

/// Headers longer than this are not ranges anyone needs: refused, so parsing
/// stays cheap whatever a client sends.
pub const MAX_RANGES: usize = 64;

/// Parses `bytes=a-b, c-, -d` without knowing the size (boxo's
/// `parseRangeWithoutLength`): the syntax check made before any block is read.
pub fn parse(header: &str) -> Result<Vec<RangeSpec>, RangeError> {
    let rest = header.strip_prefix("bytes=").ok_or(RangeError::Invalid)?;
    let mut out = Vec::new();
    for part in rest.split(',') {
        let part = part.trim_matches([' ', '\t']);
        if part.is_empty() {
            continue;
        }
        if out.len() == MAX_RANGES {
            return Err(RangeError::Invalid);
        }
        let (start, end) = part.split_once('-').ok_or(RangeError::Invalid)?;
        let (start, end) = (start.trim_matches([' ', '\t']), end.trim_matches([' ', '\t']));
        if start.is_empty() {
            out.push(RangeSpec::Suffix(number(end)?));
        } else {
            let from = number(start)?;
            let to = if end.is_empty() { None } else { Some(number(end)?) };
            if to.is_some_and(|t| t < from) {
                return Err(RangeError::Invalid);
            }
            out.push(RangeSpec::From { from, to });
        }
    }
    Ok(out)
}

/// A non-negative decimal (Go's `ParseInt` without the sign it would allow,
/// since a negative value is refused there anyway).
fn number(s: &str) -> Result<u64, RangeError> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RangeError::Invalid);
    }
    let v: u64 = s.parse().map_err(|_| RangeError::Invalid)?;
    // Go parses into an int64.
    if v > i64::MAX as u64 {
        return Err(RangeError::Invalid);
    }
    Ok(v)
}

/// A satisfiable range: `start..start + len` of the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    pub start: u64,
    pub len: u64,
}

impl ByteRange {
    /// `Content-Range` for this range of `size` bytes.
    pub fn content_range(&self, size: u64) -> String {
        format!("bytes {}-{}/{}", self.start, self.start + self.len - 1, size)
    }
}

/// What to send for `specs` over content of `size` bytes (Go's `parseRange`
/// then boxo's rules): `Ok(None)` the whole content (no range, an empty file,
/// or ranges adding up to more than the content), `Ok(Some(r))` the first
/// satisfiable range, `Err(NoOverlap)` for 416.
pub fn resolve(specs: &[RangeSpec], size: u64) -> Result<Option<ByteRange>, RangeError> {
    let mut ranges = Vec::new();
    let mut no_overlap = false;
    for spec in specs {
        match *spec {
            RangeSpec::Suffix(n) => {
                // A zero-length suffix selects nothing (RFC 9110 14.1.2).
                if n == 0 {
                    no_overlap = true;
                    continue;
                }
                let n = n.min(size);
                if n == 0 {
                    no_overlap = true;
                    continue;
                }
                ranges.push(ByteRange { start: size - n, len: n });
            }
            RangeSpec::From { from, to } => {
                if from >= size {
                    no_overlap = true;
                    continue;
                }
                let last = to.map_or(size - 1, |t| t.min(size - 1));
                ranges.push(ByteRange { start: from, len: last - from + 1 });
            }
        }
    }
    if ranges.is_empty() {
        if no_overlap {
            // Some clients send a range with every request: an empty file is
            // sent whole rather than refused.
            return if size == 0 { Ok(None) } else { Err(RangeError::NoOverlap) };
        }
        return Ok(None);
    }
    let total = ranges.iter().try_fold(0u64, |a, r| a.checked_add(r.len));
    if total.is_none_or(|t| t > size) {
        // More bytes than the content holds: probably an attack, or a
        // confused client; Go ignores the ranges.
        return Ok(None);
    }
    Ok(ranges.first().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubo_ranges() {
        let r = |h: &str, size| resolve(&parse(h).unwrap(), size);
        assert_eq!(r("bytes=6-16", 31), Ok(Some(ByteRange { start: 6, len: 11 })));
        assert_eq!(r("bytes=6-16", 31).unwrap().unwrap().content_range(31), "bytes 6-16/31");
        assert_eq!(r("bytes=-3", 31).unwrap().unwrap().content_range(31), "bytes 28-30/31");
        assert_eq!(r("bytes=6-16,0-4", 31).unwrap().unwrap().content_range(31), "bytes 6-16/31");
        assert_eq!(r("bytes=10-", 31), Ok(Some(ByteRange { start: 10, len: 21 })));
        assert_eq!(r("bytes=0-1000", 31), Ok(Some(ByteRange { start: 0, len: 31 })));
        assert_eq!(r("bytes=-100", 31), Ok(Some(ByteRange { start: 0, len: 31 })));
        assert_eq!(r("bytes=31-", 31), Err(RangeError::NoOverlap));
        assert_eq!(r("bytes=31-", 0), Ok(None));
        assert_eq!(r("bytes=0-30,0-30", 31), Ok(None));
        for bad in
            ["bytes=a-b", "items=0-1", "bytes=5-1", "bytes=--1", "bytes=1", "bytes=-", "bytes=99999999999999999999-"]
        {
            assert_eq!(parse(bad), Err(RangeError::Invalid), "{bad}");
        }
    }
}
