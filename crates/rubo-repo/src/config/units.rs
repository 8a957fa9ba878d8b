//! Durations and byte sizes in the notations Kubo's config uses: Go's
//! `time.ParseDuration` ("1h30m", "22h0m0s") and go-humanize ("10GB", "256KiB").

use std::time::Duration;

/// Parses a Go duration string as `time.ParseDuration` does: integer
/// arithmetic (a float only for the fraction's scale, as Go), at most
/// 2^63-1 ns. Negative durations are refused; surrounding spaces are allowed.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    const MAX: u64 = 1 << 63;
    let err = || format!("invalid duration {s:?}");
    let mut rest = s.trim();
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.starts_with('-') {
        return Err(format!("negative duration {s:?}"));
    }
    rest = rest.strip_prefix('+').unwrap_or(rest);
    if rest.is_empty() {
        return Err(err());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(err());
        }
        // [0-9]*: the integer part, refused past 2^63.
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for c in rest[..int_len].bytes() {
            if v > MAX / 10 {
                return Err(err());
            }
            v = v * 10 + u64::from(c - b'0');
            if v > MAX {
                return Err(err());
            }
        }
        rest = &rest[int_len..];
        // (\.[0-9]*)?: the fraction; digits past 2^63 only lose precision.
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for c in r[..frac_len].bytes() {
                if overflow || frac > (MAX - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = frac * 10 + u64::from(c - b'0');
                if y > MAX {
                    overflow = true;
                    continue;
                }
                frac = y;
                scale *= 10.0;
            }
            post = frac_len > 0;
            rest = &r[frac_len..];
        }
        if int_len == 0 && !post {
            return Err(err());
        }
        let unit_len = rest.find(|c: char| c == '.' || c.is_ascii_digit()).unwrap_or(rest.len());
        let unit: u64 = match &rest[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return Err(err()),
        };
        rest = &rest[unit_len..];
        if v > MAX / unit {
            return Err(err());
        }
        v *= unit;
        if frac > 0 {
            // Go: float64 is nanosecond-exact for fractions of an hour.
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > MAX {
                return Err(err());
            }
        }
        total = total.checked_add(v).filter(|t| *t <= MAX).ok_or_else(err)?;
    }
    if total > MAX - 1 {
        return Err(err());
    }
    Ok(Duration::from_nanos(total))
}

/// Formats a duration as Go's `Duration.String()` does ("1h0m0s", "1m30s", "500ms").
pub fn format_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        return if nanos < 1_000 {
            format!("{nanos}ns")
        } else if nanos < 1_000_000 {
            trim_frac(nanos as f64 / 1e3, "µs")
        } else {
            trim_frac(nanos as f64 / 1e6, "ms")
        };
    }
    let secs_total = d.as_secs();
    let h = secs_total / 3600;
    let m = (secs_total % 3600) / 60;
    let s = (secs_total % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
    let sec = trim_frac(s, "s");
    if h > 0 {
        format!("{h}h{m}m{sec}")
    } else if m > 0 {
        format!("{m}m{sec}")
    } else {
        sec
    }
}

fn trim_frac(v: f64, unit: &str) -> String {
    let s = format!("{v:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    format!("{s}{unit}")
}

/// Parses a byte size: a plain number, or a number with an SI (kB, MB, GB...) or
/// IEC (KiB, MiB...) unit, case-insensitive, as go-humanize's `ParseBytes`.
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let err = || format!("invalid byte size {s:?}");
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ',')).unwrap_or(t.len());
    let num: f64 = t[..split].replace(',', "").parse().map_err(|_| err())?;
    let unit = t[split..].trim().to_ascii_lowercase();
    let mult: f64 = match unit.as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "p" | "pb" => 1e15,
        "e" | "eb" => 1e18,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024f64.powi(2),
        "gi" | "gib" => 1024f64.powi(3),
        "ti" | "tib" => 1024f64.powi(4),
        "pi" | "pib" => 1024f64.powi(5),
        "ei" | "eib" => 1024f64.powi(6),
        _ => return Err(err()),
    };
    let v = num * mult;
    if !v.is_finite() || v < 0.0 || v > u64::MAX as f64 {
        return Err(err());
    }
    Ok(v as u64)
}

/// Formats bytes as go-humanize's `Bytes` (SI units): "12 kB", "1.2 kB", "10 GB".
pub fn humanize_bytes(n: u64) -> String {
    if n < 10 {
        return format!("{n} B");
    }
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let e = ((n as f64).ln() / 1000f64.ln()).floor() as usize;
    let e = e.min(units.len() - 1);
    let val = (n as f64 / 1000f64.powi(e as i32) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 { format!("{val:.1} {}", units[e]) } else { format!("{val:.0} {}", units[e]) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_duration("22h0m0s").unwrap(), Duration::from_secs(22 * 3600));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("300ms").unwrap(), Duration::from_millis(300));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("1d").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1s").is_err());
        assert_eq!(parse_duration(".5s").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.s").unwrap(), Duration::from_secs(1));
        assert!(parse_duration(".s").is_err());
        assert!(parse_duration("1").is_err());
        assert!(parse_duration("1s ms").is_err());
        assert_eq!(format_duration(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m0s");
        assert_eq!(format_duration(Duration::from_secs(20)), "20s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn durations_are_exact() {
        // Found by fuzzing (rubo-fuzz repo_units, input "2s5µs"): f64
        // arithmetic parsed "2.000005s" as 2.000004999 s, so a formatted
        // duration did not parse back. Go's integer algorithm is exact.
        assert_eq!(parse_duration("2s5µs").unwrap(), Duration::from_nanos(2_000_005_000));
        assert_eq!(parse_duration("2.000005s").unwrap(), Duration::from_nanos(2_000_005_000));
        assert_eq!(format_duration(parse_duration("2s5µs").unwrap()), "2.000005s");
        assert_eq!(parse_duration("1.000000001s").unwrap(), Duration::from_nanos(1_000_000_001));
        assert_eq!(parse_duration("0.1h").unwrap(), Duration::from_secs(360));
        assert_eq!(parse_duration("1.0000000000000000000000001s").unwrap(), Duration::from_secs(1));
        // Go's range: up to 2^63-1 ns.
        assert_eq!(parse_duration("2562047h47m16.854775807s").unwrap(), Duration::from_nanos(i64::MAX as u64));
        assert!(parse_duration("2562047h47m16.854775808s").is_err());
        assert!(parse_duration("9223372036854775808ns").is_err());
        assert!(parse_duration("99999999999999999999h").is_err());
    }

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("10GB").unwrap(), 10_000_000_000);
        assert_eq!(parse_bytes("256KiB").unwrap(), 262_144);
        assert_eq!(parse_bytes("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_bytes("42").unwrap(), 42);
        assert_eq!(parse_bytes("1.5 kB").unwrap(), 1500);
        assert!(parse_bytes("ten").is_err());
        assert!(parse_bytes("5 parsecs").is_err());
        assert_eq!(humanize_bytes(10_000_000_000), "10 GB");
        assert_eq!(humanize_bytes(12_345), "12 kB");
        assert_eq!(humanize_bytes(1_234), "1.2 kB");
        assert_eq!(humanize_bytes(5), "5 B");
        assert_eq!(humanize_bytes(u64::MAX), "18 EB");
    }
}
