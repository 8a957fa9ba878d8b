//! RFC 3339 timestamps as Go writes and reads them with `time.RFC3339Nano`,
//! the form of an IPNS record's `Validity` (boxo `util.FormatRFC3339` and
//! `util.ParseRFC3339`).
//!
//! Written: always UTC (`Z`), the fraction with trailing zeros dropped and
//! no fraction at all for whole seconds, years 0000 to 9999 only (Go writes
//! other years, but no parser reads them back). Read: Go's RFC 3339 parser
//! (`time.parseRFC3339`): two-digit fields, a `.` fraction of any length
//! (digits past the ninth ignored), `Z` or a `±hh:mm` offset.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

const NANOS_PER_SEC: u32 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// Seconds since the Unix epoch (negative before it) and nanoseconds.
fn split(t: SystemTime) -> Option<(i64, u32)> {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => Some((i64::try_from(d.as_secs()).ok()?, d.subsec_nanos())),
        Err(e) => {
            let d = e.duration();
            let secs = i64::try_from(d.as_secs()).ok()?;
            match d.subsec_nanos() {
                0 => Some((-secs, 0)),
                n => Some((-secs - 1, NANOS_PER_SEC - n)),
            }
        }
    }
}

fn join(secs: i64, nanos: u32) -> Option<SystemTime> {
    if secs >= 0 {
        UNIX_EPOCH.checked_add(Duration::new(secs.unsigned_abs(), nanos))
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(secs.unsigned_abs()))?
            .checked_add(Duration::from_nanos(nanos.into()))
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (`civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    // Both fit a u32 by construction: 1..=31 and 1..=12.
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `t` as Go's `t.UTC().Format(time.RFC3339Nano)`; `None` outside years
/// 0000 to 9999, which RFC 3339 cannot write.
pub fn format_rfc3339(t: SystemTime) -> Option<String> {
    let (secs, nanos) = split(t)?;
    let (y, mo, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    if !(0..=9999).contains(&y) {
        return None;
    }
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let mut s = format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
    if nanos != 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    s.push('Z');
    Some(s)
}

/// Two or four ASCII digits as a number, if all are digits.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
}

/// Parses a timestamp as Go's `time.Parse(time.RFC3339Nano, s)` reads it
/// (its RFC 3339 fast path), returning the instant; `None` if it is not one.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let head = b.get(..19)?;
    if head[4] != b'-' || head[7] != b'-' || head[10] != b'T' || head[13] != b':' || head[16] != b':' {
        return None;
    }
    let year = i64::from(digits(&head[0..4])?);
    let month = digits(&head[5..7]).filter(|m| (1..=12).contains(m))?;
    let day = digits(&head[8..10]).filter(|d| (1..=days_in_month(year, month)).contains(d))?;
    let hour = digits(&head[11..13]).filter(|h| *h < 24)?;
    let min = digits(&head[14..16]).filter(|m| *m < 60)?;
    let sec = digits(&head[17..19]).filter(|s| *s < 60)?;
    let mut rest = &b[19..];

    let mut nanos = 0u32;
    if rest.len() >= 2 && rest[0] == b'.' && rest[1].is_ascii_digit() {
        let n = 1 + rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        // Go keeps nine digits and ignores the rest.
        let kept = &rest[1..n.min(10)];
        nanos = digits(kept)? * 10u32.pow(9 - kept.len() as u32);
        rest = &rest[n..];
    }

    let offset: i64 = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2]).filter(|h| *h < 24)?;
            let m = digits(&[*m1, *m2]).filter(|m| *m < 60)?;
            let off = i64::from(h * 3600 + m * 60);
            if *sign == b'-' { -off } else { off }
        }
        _ => return None,
    };

    let local = days_from_civil(year, month, day) * SECS_PER_DAY + i64::from(hour * 3600 + min * 60 + sec);
    join(local - offset, nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64, nanos: u32) -> SystemTime {
        join(secs, nanos).unwrap()
    }

    // Unix times below were computed with GNU `date -u -d <time> +%s`.
    #[test]
    fn formats_as_go_does() {
        // ipfs/specs ipns-record: the Validity example.
        assert_eq!(format_rfc3339(at(0, 1)).unwrap(), "1970-01-01T00:00:00.000000001Z");
        // gateway-conformance fixtures (written by boxo): 2123-08-14T12:17:03Z = 4847689023.
        assert_eq!(format_rfc3339(at(4_847_689_023, 694_052_000)).unwrap(), "2123-08-14T12:17:03.694052Z");
        // 2126-01-31T15:56:12Z = 4925548572.
        assert_eq!(format_rfc3339(at(4_925_548_572, 714_899_293)).unwrap(), "2126-01-31T15:56:12.714899293Z");
        assert_eq!(format_rfc3339(at(1_705_682_000, 0)).unwrap(), "2024-01-19T16:33:20Z");
        // Before the epoch: 1969-12-31T23:59:59.5Z.
        assert_eq!(format_rfc3339(at(-1, 500_000_000)).unwrap(), "1969-12-31T23:59:59.5Z");
        // 0000-01-01T00:00:00Z = -62167219200; one second earlier is year -1.
        assert_eq!(format_rfc3339(at(-62_167_219_200, 0)).unwrap(), "0000-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(at(-62_167_219_201, 0)), None);
        // 10000-01-01T00:00:00Z = 253402300800.
        assert_eq!(format_rfc3339(at(253_402_300_799, 999_999_999)).unwrap(), "9999-12-31T23:59:59.999999999Z");
        assert_eq!(format_rfc3339(at(253_402_300_800, 0)), None);
    }

    #[test]
    fn parses_as_go_does() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.000000001Z"), Some(at(0, 1)));
        assert_eq!(parse_rfc3339("2123-08-14T12:17:03.694052Z"), Some(at(4_847_689_023, 694_052_000)));
        // An offset is converted to UTC; extra fraction digits are dropped.
        assert_eq!(parse_rfc3339("2123-08-14T14:47:03.6940520009+02:30"), Some(at(4_847_689_023, 694_052_000)));
        assert_eq!(parse_rfc3339("2123-08-14T11:17:03.694052-01:00"), Some(at(4_847_689_023, 694_052_000)));
        assert_eq!(parse_rfc3339("2024-02-29T00:00:00Z"), Some(at(1_709_164_800, 0)));
        assert_eq!(parse_rfc3339("0000-01-01T00:00:00Z"), Some(at(-62_167_219_200, 0)));
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:60Z",
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00,5Z",
            "2024-01-01T00:00:00+24:00",
            "2024-01-01T00:00:00+01:60",
            "2024-01-01T00:00:00+0100",
            "2024-01-01T0:00:00Z",
            "+024-01-01T00:00:00Z",
            "2024-01-01T00:00:00ZZ",
            "2024-01-01T00:00:00Ü",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn round_trips_every_day_of_a_leap_cycle() {
        for day in -800..146_097i64 {
            let t = at(day * SECS_PER_DAY + 45_296, 120);
            let s = format_rfc3339(t).unwrap();
            assert_eq!(parse_rfc3339(&s), Some(t), "{s}");
        }
    }
}
