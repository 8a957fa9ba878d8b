//! `Content-Type` of deserialized files: from the name's extension first,
//! else sniffed from the first bytes (Kubo uses Go's extension table and the
//! mimetype library; the common types below give the same answers).

/// Bytes a sniffer looks at.
pub(crate) const SNIFF_LEN: usize = 3072;

/// The type Kubo gives a file name's extension, if known.
pub(crate) fn by_extension(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.').map(|(_, e)| e)?.to_ascii_lowercase();
    Some(match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "txt" | "text" => "text/plain; charset=utf-8",
        "md" | "markdown" => "text/markdown; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "xml" => "text/xml; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/vnd.microsoft.icon",
        "bmp" => "image/bmp",
        "pdf" => "application/pdf",
        "wasm" => "application/wasm",
        "zip" => "application/zip",
        "gz" => "application/gzip",
        "tar" => "application/x-tar",
        "car" => "application/vnd.ipld.car",
        "mp4" => "video/mp4",
        "webm" => "video/webm",
        "ogg" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wav",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "webmanifest" => "application/manifest+json",
        _ => return None,
    })
}

/// Sniffs the first bytes of a file. `complete` says whether `head` is the
/// whole file (a truncated JSON or UTF-8 tail is then not held against it).
pub(crate) fn sniff(head: &[u8], complete: bool) -> &'static str {
    let magic: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b\x08", "application/gzip"),
        (b"\x00asm", "application/wasm"),
        (b"wOFF", "font/woff"),
        (b"wOF2", "font/woff2"),
        (b"OggS", "audio/ogg"),
        (b"ID3", "audio/mpeg"),
        (b"\x1a\x45\xdf\xa3", "video/webm"),
    ];
    for (m, t) in magic {
        if head.starts_with(m) {
            return t;
        }
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return "image/webp";
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return if &head[8..12] == b"avif" { "image/avif" } else { "video/mp4" };
    }
    if !is_text(head, complete) {
        return "application/octet-stream";
    }
    let text = trim_start(head);
    if is_html(text) {
        return "text/html; charset=utf-8";
    }
    if starts_ci(text, b"<?xml") {
        return if contains_ci(text, b"<svg") { "image/svg+xml" } else { "text/xml; charset=utf-8" };
    }
    if starts_ci(text, b"<svg") {
        return "image/svg+xml";
    }
    if matches!(text.first(), Some(b'{' | b'[')) && is_json(head, complete) {
        return "application/json";
    }
    "text/plain; charset=utf-8"
}

fn trim_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(b"\xef\xbb\xbf").unwrap_or(b);
    let n = b.iter().take_while(|c| matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')).count();
    &b[n..]
}

fn starts_ci(b: &[u8], p: &[u8]) -> bool {
    b.len() >= p.len() && b[..p.len()].eq_ignore_ascii_case(p)
}

fn contains_ci(b: &[u8], p: &[u8]) -> bool {
    b.windows(p.len()).any(|w| w.eq_ignore_ascii_case(p))
}

/// The tags Go's and mimetype's HTML detectors look for, followed by a space
/// or `>`.
fn is_html(text: &[u8]) -> bool {
    const TAGS: &[&[u8]] = &[
        b"<!DOCTYPE HTML",
        b"<HTML",
        b"<HEAD",
        b"<SCRIPT",
        b"<IFRAME",
        b"<H1",
        b"<DIV",
        b"<FONT",
        b"<TABLE",
        b"<A",
        b"<STYLE",
        b"<TITLE",
        b"<B",
        b"<BODY",
        b"<BR",
        b"<P",
        b"<!--",
    ];
    TAGS.iter().any(|t| starts_ci(text, t) && matches!(text.get(t.len()), Some(b' ' | b'>')))
}

/// Text: UTF-8 (a character cut at the end of an incomplete head is
/// allowed) without control bytes other than whitespace.
fn is_text(head: &[u8], complete: bool) -> bool {
    if head.iter().any(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | 0x1b)) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => !complete && e.error_len().is_none(),
    }
}

/// Valid JSON, or (for a truncated head) valid up to where it was cut.
fn is_json(head: &[u8], complete: bool) -> bool {
    match serde_json::from_slice::<serde::de::IgnoredAny>(head) {
        Ok(_) => true,
        Err(e) => !complete && e.classify() == serde_json::error::Category::Eof,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types() {
        assert_eq!(by_extension("a/b/index.HTML"), Some("text/html; charset=utf-8"));
        assert_eq!(by_extension("noext"), None);
        assert_eq!(sniff(b"{\"a\": [1, 2]}\n", true), "application/json");
        assert_eq!(sniff(b"{\"a\": [1, 2", false), "application/json");
        assert_eq!(sniff(b"{not json", true), "text/plain; charset=utf-8");
        assert_eq!(sniff(b"hello\n", true), "text/plain; charset=utf-8");
        assert_eq!(sniff(b"  <!DOCTYPE html><html>", true), "text/html; charset=utf-8");
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>", true), "image/svg+xml");
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....", true), "image/png");
        assert_eq!(sniff(b"\x00\x01\x02", true), "application/octet-stream");
        assert_eq!(sniff("é".as_bytes()[..1].as_ref(), false), "text/plain; charset=utf-8");
    }
}
