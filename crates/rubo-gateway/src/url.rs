//! Percent-encoding as Go's `net/url` does it, since Kubo's `Location`
//! headers and listing links are written with it and clients compare them.

/// Go's `shouldEscape` for a path (`encodePath`): unreserved characters and
/// `$&+,/:;=@` stay.
fn keep_in_path(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&b)
}

/// Unreserved characters only (Go's `QueryEscape`, space aside).
fn keep_in_query(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.~".contains(&b)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn escape(s: &[u8], keep: fn(u8) -> bool, space_plus: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if keep(b) {
            out.push(b as char);
        } else if space_plus && b == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
    out
}

/// A path as `url.URL{Path: p}.String()` writes it.
pub(crate) fn escape_path(p: &[u8]) -> String {
    escape(p, keep_in_path, false)
}

/// A query value as `url.QueryEscape` writes it.
pub(crate) fn escape_query(v: &[u8]) -> String {
    escape(v, keep_in_query, true)
}

/// Every byte but the unreserved ones escaped (html/template's URL query
/// escaper, which Kubo's listing passes link parameters through).
pub(crate) fn escape_component(v: &[u8]) -> String {
    escape(v, keep_in_query, false)
}

/// Decodes `%XX` escapes (and, for queries, `+` as space). `None` for a
/// malformed escape, which Go refuses too.
pub fn unescape(s: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = hex(*b.get(i + 1)?)?;
                let lo = hex(*b.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A raw query string as ordered `(name, value)` pairs (Go's `ParseQuery`,
/// bad pairs skipped), at most `limit` of them.
pub fn parse_query(raw: &str, limit: usize) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|kv| !kv.is_empty())
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            let k = String::from_utf8(unescape(k, true)?).ok()?;
            let v = String::from_utf8_lossy(&unescape(v, true)?).into_owned();
            Some((k, v))
        })
        .take(limit)
        .collect()
}

/// Pairs encoded as Go's `Values.Encode` does: sorted by name.
pub(crate) fn encode_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted
        .iter()
        .map(|(k, v)| format!("{}={}", escape_query(k.as_bytes()), escape_query(v.as_bytes())))
        .collect::<Vec<_>>()
        .join("&")
}

/// Go's `path.Clean` on a slash-separated path.
pub fn clean_path(p: &str) -> String {
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if out.last().is_some_and(|l| *l != "..") {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                }
            }
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_escaping() {
        assert_eq!(escape_path("/ą/ę/".as_bytes()), "/%C4%85/%C4%99/");
        assert_eq!(
            escape_path("/Portugal%2C+España=Peninsula Ibérica.txt".as_bytes()),
            "/Portugal%252C+Espa%C3%B1a=Peninsula%20Ib%C3%A9rica.txt"
        );
        assert_eq!(escape_component(escape_path("file-źł.txt".as_bytes()).as_bytes()), "file-%25C5%25BA%25C5%2582.txt");
        assert_eq!(unescape("a%20b+c", true).unwrap(), b"a b c");
        assert!(unescape("%zz", false).is_none());
        assert_eq!(clean_path("/a/../../b/./c/"), "/b/c");
        assert_eq!(
            parse_query("a=1&b=x%20y&&c", 10),
            vec![("a".into(), "1".into()), ("b".into(), "x y".into()), ("c".into(), String::new())]
        );
    }
}
