//! JSON as Go's `json.Encoder` writes it: compact, one value a line, and
//! `<`, `>`, `&`, U+2028 and U+2029 escaped inside strings (Go's default
//! HTML-safe escaping; browsers' and some clients' parsers rely on it).

use serde_json::Value;

/// `v` as Go's encoder writes it, with the trailing newline.
pub fn line(v: &Value) -> Vec<u8> {
    // Serializing a `Value` cannot fail (its map keys are strings).
    let mut out = escape_html(serde_json::to_vec(v).unwrap_or_default());
    out.push(b'\n');
    out
}

/// Escapes what Go escapes. These characters never appear in JSON outside
/// strings, so the bytes can be rewritten without parsing them.
pub fn escape_html(json: Vec<u8>) -> Vec<u8> {
    let needs = json.iter().any(|&b| b == b'<' || b == b'>' || b == b'&' || b == 0xE2);
    if !needs {
        return json;
    }
    let mut out = Vec::with_capacity(json.len() + 16);
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'<' => out.extend_from_slice(b"\\u003c"),
            b'>' => out.extend_from_slice(b"\\u003e"),
            b'&' => out.extend_from_slice(b"\\u0026"),
            // U+2028 and U+2029 are E2 80 A8 and E2 80 A9 in UTF-8.
            0xE2 if json.get(i + 1) == Some(&0x80) && matches!(json.get(i + 2), Some(0xA8 | 0xA9)) => {
                out.extend_from_slice(if json[i + 2] == 0xA8 { b"\\u2028" } else { b"\\u2029" });
                i += 3;
                continue;
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_go() {
        let v = serde_json::json!({"Name": "<a&b>\u{2028}é", "Size": "3"});
        assert_eq!(line(&v), b"{\"Name\":\"\\u003ca\\u0026b\\u003e\\u2028\xc3\xa9\",\"Size\":\"3\"}\n".to_vec());
    }
}
