//! Go's `time.Time` as Kubo's outputs show it: JSON (RFC 3339 with
//! nanoseconds, in the local time zone, as `time.Unix` gives it) and
//! `ls --long`'s `Jan 02 15:04` / `Jan 02  2006`.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

/// Go's zero `time.Time` in JSON: a missing mtime.
pub(crate) const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `time.Unix(secs, nanos)` marshalled to JSON (`RFC3339Nano`) in the
/// local time zone. A time jiff cannot hold (beyond year 9999, where Go's
/// marshalling fails too) reads as the zero time.
pub(crate) fn rfc3339_local(secs: i64, nanos: u32) -> String {
    let Ok(ts) = Timestamp::new(secs, i32::try_from(nanos).unwrap_or(0)) else {
        return ZERO_TIME.to_string();
    };
    let z = ts.to_zoned_datetime(TimeZone::system());
    let mut s =
        format!("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", z.year(), z.month(), z.day(), z.hour(), z.minute(), z.second());
    if nanos > 0 {
        let frac = format!("{nanos:09}");
        s.push('.');
        s.push_str(frac.trim_end_matches('0'));
    }
    let off = z.offset().seconds();
    if off == 0 {
        s.push('Z');
    } else {
        let a = off.unsigned_abs();
        s.push_str(&format!("{}{:02}:{:02}", if off < 0 { '-' } else { '+' }, a / 3600, a / 60 % 60));
    }
    s
}

/// Kubo's `formatModTime` (`ls --long`) of a JSON time: `-` for the zero
/// time; `Jan 02 15:04` within the last six months (and less than a day
/// ahead); else `Jan 02  2006`. Fields are the time's own, in the offset it
/// carries; an unreadable time prints as `-`.
pub(crate) fn ls_mod_time(rfc3339: &str, now: Timestamp) -> String {
    let Some((y, mo, d, h, mi)) = civil_fields(rfc3339) else { return "-".into() };
    let Ok(t) = rfc3339.parse::<Timestamp>() else { return "-".into() };
    if rfc3339 == ZERO_TIME {
        return "-".into();
    }
    let month = MONTHS[usize::from(mo - 1)];
    let recent = six_months_before(now).is_some_and(|from| t > from)
        && now.checked_add(Span::new().hours(24)).is_ok_and(|to| t < to);
    if recent { format!("{month} {d:02} {h:02}:{mi:02}") } else { format!("{month} {d:02}  {y:04}") }
}

/// Year, month, day, hour and minute as written in an RFC 3339 time.
fn civil_fields(s: &str) -> Option<(u32, u8, u8, u8, u8)> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<u32>().ok();
    let (y, mo, d, h, mi) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?);
    let mo = u8::try_from(mo).ok().filter(|m| (1..=12).contains(m))?;
    Some((y, mo, u8::try_from(d).ok()?, u8::try_from(h).ok()?, u8::try_from(mi).ok()?))
}

/// Go's `now.AddDate(0, -6, 0)` in the local zone: the same wall clock six
/// months back, a day past the month's end rolling into the next month.
fn six_months_before(now: Timestamp) -> Option<Timestamp> {
    let tz = TimeZone::system();
    let dt = now.to_zoned_datetime(tz.clone()).datetime();
    let (mut year, mut month) = (dt.year(), dt.month() - 6);
    if month < 1 {
        month += 12;
        year -= 1;
    }
    let first =
        jiff::civil::Date::new(year, month, 1).ok()?.at(dt.hour(), dt.minute(), dt.second(), dt.subsec_nanosecond());
    let back = first.checked_add(Span::new().days(i64::from(dt.day()) - 1)).ok()?;
    Some(back.to_zoned_datetime(tz).ok()?.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ls_times() {
        let now: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
        // Kubo's test/cli/ls_test.go: old files show the year.
        assert_eq!(ls_mod_time("2020-06-15T10:30:00Z", now), "Jun 15  2020");
        assert_eq!(ls_mod_time("2020-01-01T00:00:00Z", now), "Jan 01  2020");
        assert_eq!(ls_mod_time("2026-11-30T08:05:00+09:00", now), "Nov 30 08:05");
        // A day or more ahead: the year.
        assert_eq!(ls_mod_time("2026-12-05T10:00:00Z", now), "Dec 05  2026");
        assert_eq!(ls_mod_time(ZERO_TIME, now), "-");
        assert_eq!(ls_mod_time("garbage", now), "-");
        assert_eq!(ls_mod_time("2026-13-01T00:00:00Z", now), "-");
    }
}
