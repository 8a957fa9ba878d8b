//! `multipart/form-data` bodies, as go-ipfs-cmds reads them (boxo's
//! `files.NewFileFromPartReader` over Go's `mime/multipart`), and as the Go
//! client writes them.
//!
//! [`Parser`] is incremental and synchronous: the caller feeds bytes as they
//! arrive and pulls [`Event`]s; a part's content comes out as it is found, so
//! an upload is never held whole. What it buffers is bounded: a part's
//! headers ([`Limits::max_header_bytes`]), the preamble, and the tail of the
//! last chunk fed that could be the start of a boundary. [`part_info`] turns a
//! part's headers into what the commands see: a cleaned relative path, a kind
//! (file, directory, symlink), and the mode and mtime carried in the form
//! name (`file?mode=0644&mtime=..&mtime-nsecs=..`).

use bytes::{Buf, Bytes, BytesMut};
use rubo_node::rubo_unixfs::pb::UnixTime;
use rubo_types::BString;

/// What the parser holds at most, besides content in flight.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The header block of one part.
    pub max_header_bytes: usize,
    /// Bytes before the first boundary.
    pub max_preamble: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // Long paths (4 KiB, url-escaped thrice as long) fit with room to spare.
        Self { max_header_bytes: 64 << 10, max_preamble: 64 << 10 }
    }
}

/// Why a body is not multipart as we read it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("multipart: the Content-Type has no boundary")]
    NoBoundary,
    #[error("multipart: boundary {0:?} is not a valid boundary")]
    BadBoundary(String),
    #[error("multipart: no opening boundary in the first {0} bytes")]
    NoOpening(usize),
    #[error("multipart: part headers longer than {0} bytes")]
    HeadersTooLarge(usize),
    #[error("multipart: malformed part header line")]
    BadHeader,
    #[error("multipart: unexpected end of body (truncated upload)")]
    Truncated,
    #[error("multipart: invalid {name} {value:?} in the form name")]
    BadMeta { name: &'static str, value: String },
}

/// What the parser found next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A part starts: its headers, names lower-cased, in order.
    Part(Vec<(String, String)>),
    /// Content of the current part.
    Data(Bytes),
    /// The current part is complete.
    PartEnd,
    /// The closing boundary: the body is complete.
    End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Preamble,
    Headers,
    Body,
    Done,
}

/// An incremental multipart reader. See the module docs.
#[derive(Debug)]
pub struct Parser {
    /// `--boundary`.
    dash_boundary: Vec<u8>,
    /// `\r\n--boundary` (`\n--boundary` once the body shows it uses bare LFs).
    delimiter: Vec<u8>,
    buf: BytesMut,
    state: State,
    eof: bool,
    limits: Limits,
    /// Bytes looked at so far in the preamble.
    preamble_seen: usize,
    /// Emit `End` after this `PartEnd`.
    end_after_part: bool,
}

/// Whether `b` may be a boundary (RFC 2046: 1 to 70 characters; Go only
/// requires a non-empty one without line breaks, and clients use long ones).
fn valid_boundary(b: &str) -> bool {
    !b.is_empty() && b.len() <= 200 && !b.bytes().any(|c| c == b'\r' || c == b'\n')
}

impl Parser {
    pub fn new(boundary: &str, limits: Limits) -> Result<Self, MultipartError> {
        if !valid_boundary(boundary) {
            return Err(MultipartError::BadBoundary(boundary.to_string()));
        }
        let dash_boundary = [b"--", boundary.as_bytes()].concat();
        let delimiter = [b"\r\n", dash_boundary.as_slice()].concat();
        Ok(Self {
            dash_boundary,
            delimiter,
            buf: BytesMut::new(),
            state: State::Preamble,
            eof: false,
            limits,
            preamble_seen: 0,
            end_after_part: false,
        })
    }

    /// Adds bytes from the body.
    pub fn feed(&mut self, data: &[u8]) {
        if self.state != State::Done {
            self.buf.extend_from_slice(data);
        }
    }

    /// The body has ended.
    pub fn finish(&mut self) {
        self.eof = true;
    }

    /// Whether the closing boundary was seen.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// The next event; `Ok(None)` when more bytes are needed (or after `End`).
    /// After [`Parser::finish`], a body that stops short is an error.
    pub fn next_event(&mut self) -> Result<Option<Event>, MultipartError> {
        let ev = match self.state {
            State::Done => return Ok(None),
            State::Preamble => self.preamble()?,
            State::Headers => self.headers()?,
            State::Body => self.body()?,
        };
        if ev.is_none() && self.eof && self.state != State::Done {
            return Err(MultipartError::Truncated);
        }
        Ok(ev)
    }

    /// Skips lines up to the first boundary line (Go accepts a preamble).
    fn preamble(&mut self) -> Result<Option<Event>, MultipartError> {
        loop {
            let Some(nl) = self.buf.iter().position(|&b| b == b'\n') else {
                if self.preamble_seen + self.buf.len() > self.limits.max_preamble {
                    return Err(MultipartError::NoOpening(self.limits.max_preamble));
                }
                return Ok(None);
            };
            let line = self.buf.split_to(nl + 1);
            self.preamble_seen += line.len();
            if self.preamble_seen > self.limits.max_preamble {
                return Err(MultipartError::NoOpening(self.limits.max_preamble));
            }
            let Some(rest) = line.strip_prefix(self.dash_boundary.as_slice()) else { continue };
            if rest.starts_with(b"--") {
                // A closing boundary first: a body without parts.
                self.state = State::Done;
                return Ok(Some(Event::End));
            }
            let rest = trim_lwsp(rest);
            match rest {
                b"\r\n" => {}
                // Bare LF line endings: Go switches to them for the whole body.
                b"\n" => {
                    self.delimiter.remove(0);
                }
                _ => continue,
            };
            self.state = State::Headers;
            return self.headers();
        }
    }

    fn headers(&mut self) -> Result<Option<Event>, MultipartError> {
        // The header block ends at the first empty line (CRLF or bare LF).
        let mut start = 0;
        let end = loop {
            let Some(off) = self.buf[start..].iter().position(|&b| b == b'\n') else {
                if self.buf.len() > self.limits.max_header_bytes {
                    return Err(MultipartError::HeadersTooLarge(self.limits.max_header_bytes));
                }
                return Ok(None);
            };
            let line = &self.buf[start..start + off];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            start += off + 1;
            if start > self.limits.max_header_bytes {
                return Err(MultipartError::HeadersTooLarge(self.limits.max_header_bytes));
            }
            if line.is_empty() {
                break start;
            }
        };
        let block = self.buf.split_to(end);
        let headers = parse_header_block(&block)?;
        self.state = State::Body;
        Ok(Some(Event::Part(headers)))
    }

    fn body(&mut self) -> Result<Option<Event>, MultipartError> {
        if self.end_after_part {
            self.end_after_part = false;
            self.state = State::Done;
            self.buf.clear();
            return Ok(Some(Event::End));
        }
        let d = self.delimiter.len();
        let mut from = 0;
        loop {
            let Some(i) = find(&self.buf[from..], &self.delimiter).map(|i| i + from) else {
                // No delimiter: everything but a tail that could start one is content.
                let keep = (d - 1).min(self.buf.len());
                let n = self.buf.len() - keep;
                return Ok((n > 0).then(|| Event::Data(self.buf.split_to(n).freeze())));
            };
            match delimiter_end(&self.buf[i + d..]) {
                After::NeedMore => {
                    if i > 0 {
                        return Ok(Some(Event::Data(self.buf.split_to(i).freeze())));
                    }
                    return Ok(None);
                }
                After::NotDelimiter => {
                    from = i + 1;
                    continue;
                }
                After::Next(skip) | After::Close(skip) if i > 0 => {
                    let _ = skip;
                    return Ok(Some(Event::Data(self.buf.split_to(i).freeze())));
                }
                After::Next(skip) => {
                    self.buf.advance(d + skip);
                    self.state = State::Headers;
                    return Ok(Some(Event::PartEnd));
                }
                After::Close(_) => {
                    self.end_after_part = true;
                    return Ok(Some(Event::PartEnd));
                }
            }
        }
    }
}

enum After {
    NeedMore,
    NotDelimiter,
    /// Another part follows after this many bytes (padding and the line break).
    Next(usize),
    /// The closing delimiter.
    Close(usize),
}

/// What follows `\r\n--boundary`: `--` closes the body; optional spaces and
/// a line break start the next part; anything else means the match was
/// content (a longer boundary-like string).
fn delimiter_end(rest: &[u8]) -> After {
    match rest {
        [] | [b'-'] => After::NeedMore,
        [b'-', b'-', ..] => After::Close(2),
        [b'-', ..] => After::NotDelimiter,
        _ => {
            let pad = rest.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
            match &rest[pad..] {
                [] | [b'\r'] => After::NeedMore,
                [b'\r', b'\n', ..] => After::Next(pad + 2),
                [b'\n', ..] => After::Next(pad + 1),
                _ => After::NotDelimiter,
            }
        }
    }
}

fn trim_lwsp(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    s
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// `Name: value` lines; continuation lines (leading space or tab) extend the
/// previous value, as Go's textproto reader does.
fn parse_header_block(block: &[u8]) -> Result<Vec<(String, String)>, MultipartError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for raw in block.split(|&b| b == b'\n') {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        let line = String::from_utf8_lossy(line);
        if line.starts_with([' ', '\t']) {
            let Some(last) = out.last_mut() else { return Err(MultipartError::BadHeader) };
            last.1.push(' ');
            last.1.push_str(line.trim());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else { return Err(MultipartError::BadHeader) };
        let name = name.trim_end();
        if name.is_empty() || name.contains([' ', '\t']) {
            return Err(MultipartError::BadHeader);
        }
        out.push((name.to_ascii_lowercase(), value.trim().to_string()));
    }
    Ok(out)
}

/// A media type and its parameters (Go's `mime.ParseMediaType`, less strict):
/// the type lower-cased, parameter names lower-cased, quoted values unquoted,
/// RFC 2231 `name*=utf-8''%..` values decoded.
pub fn parse_media_type(s: &str) -> Option<(String, Vec<(String, String)>)> {
    let (mt, mut rest) = match s.find(';') {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    let mt = mt.trim().to_ascii_lowercase();
    if mt.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start();
        let Some(r) = rest.strip_prefix(';') else { break };
        rest = r.trim_start();
        if rest.is_empty() {
            break;
        }
        let eq = rest.find('=')?;
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = rest[eq + 1..].trim_start();
        let value = if let Some(q) = rest.strip_prefix('"') {
            let mut v = String::new();
            let mut chars = q.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => v.push(chars.next()?.1),
                    '"' => {
                        end = Some(i + 1);
                        break;
                    }
                    c => v.push(c),
                }
            }
            rest = &q[end?..];
            v
        } else {
            let end = rest.find(|c: char| c == ';' || c.is_whitespace()).unwrap_or(rest.len());
            let v = rest[..end].to_string();
            rest = &rest[end..];
            v
        };
        if key.is_empty() {
            return None;
        }
        if let Some(base) = key.strip_suffix('*') {
            // RFC 2231: charset'language'percent-encoded.
            let mut parts = value.splitn(3, '\'');
            let charset = parts.next().unwrap_or_default().to_ascii_lowercase();
            let (_lang, enc) = (parts.next(), parts.next());
            if let Some(enc) = enc
                && (charset == "utf-8" || charset == "us-ascii")
                && let Some(bytes) = percent_decode(enc, false)
            {
                params.push((base.to_string(), String::from_utf8_lossy(&bytes).into_owned()));
            }
            continue;
        }
        params.push((key, value));
    }
    Some((mt, params))
}

/// The boundary of a request whose Content-Type is `multipart/form-data`;
/// `Ok(None)` for any other type (go-ipfs-cmds then ignores the body).
pub fn boundary_of(content_type: &str) -> Result<Option<String>, MultipartError> {
    let Some((mt, params)) = parse_media_type(content_type) else { return Ok(None) };
    if mt != "multipart/form-data" {
        return Ok(None);
    }
    match params.into_iter().find(|(k, _)| k == "boundary") {
        Some((_, b)) if valid_boundary(&b) => Ok(Some(b)),
        Some((_, b)) => Err(MultipartError::BadBoundary(b)),
        None => Err(MultipartError::NoBoundary),
    }
}

/// `%XX` (and, for query strings, `+` as a space) decoded; `None` on a bad escape.
pub fn percent_decode(s: &str, plus_is_space: bool) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = hex_val(*b.get(i + 1)?)?;
                let lo = hex_val(*b.get(i + 2)?)?;
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

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Go's `path.Clean("/" + p)` without the leading slash: `.` and empty
/// elements dropped, `..` removes the element before it and never climbs
/// above the top.
pub fn clean_path(p: &[u8]) -> BString {
    let mut parts: Vec<&[u8]> = Vec::new();
    for el in p.split(|&b| b == b'/') {
        match el {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            el => parts.push(el),
        }
    }
    BString::from(parts.join(&b'/'))
}

/// What a part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    File,
    Dir,
    Symlink,
}

/// A part as the commands see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// Relative, `/`-separated, cleaned; empty for an unnamed top-level entry.
    pub path: BString,
    pub kind: PartKind,
    pub mode: Option<u32>,
    pub mtime: Option<UnixTime>,
}

/// Reads a part's headers: the path is the url-unescaped `filename` (the raw
/// value if it does not unescape), cleaned; the form name counts only for
/// its `?mode=..&mtime=..&mtime-nsecs=..` suffix; `application/x-directory`
/// and `multipart/form-data` parts are directories, `application/symlink`
/// parts symlinks (their content is the target), everything else a file.
pub fn part_info(headers: &[(String, String)]) -> Result<PartInfo, MultipartError> {
    let get = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let (mut filename, mut form_name) = (String::new(), String::new());
    if let Some((_, params)) = get("content-disposition").and_then(parse_media_type) {
        for (k, v) in params {
            match k.as_str() {
                "filename" => filename = v,
                "name" => form_name = v,
                _ => {}
            }
        }
    }
    let raw = percent_decode(&filename, true).unwrap_or_else(|| filename.clone().into_bytes());
    let path = clean_path(&raw);
    let kind = match get("content-type").and_then(parse_media_type).map(|(mt, _)| mt).as_deref() {
        Some("application/x-directory" | "multipart/form-data") => PartKind::Dir,
        Some("application/symlink") => PartKind::Symlink,
        _ => PartKind::File,
    };
    let (mut mode, mut secs, mut nsecs) = (None, None, None);
    if let Some((_, query)) = form_name.split_once('?') {
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            let bad = |name| MultipartError::BadMeta { name, value: v.to_string() };
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
            match k.as_ref() {
                "mode" if !v.is_empty() => {
                    // Go: strconv.ParseUint(v, 8, 32).
                    mode = Some(u32::from_str_radix(&v, 8).ok().filter(|_| digits(&v)).ok_or_else(|| bad("mode"))?);
                }
                "mtime" if !v.is_empty() => {
                    let unsigned = v.strip_prefix('-').unwrap_or(&v);
                    secs = Some(v.parse::<i64>().ok().filter(|_| digits(unsigned)).ok_or_else(|| bad("mtime"))?);
                }
                "mtime-nsecs" if !v.is_empty() => {
                    nsecs = Some(
                        v.parse::<u32>()
                            .ok()
                            .filter(|n| digits(&v) && *n < 1_000_000_000)
                            .ok_or_else(|| bad("mtime-nsecs"))?,
                    );
                }
                _ => {}
            }
        }
    }
    let mtime = secs.map(|seconds| UnixTime { seconds, nanos: nsecs.filter(|n| *n != 0) });
    Ok(PartInfo { path, kind, mode, mtime })
}

/// Go's `url.QueryEscape`: what the Go client puts in `filename`.
pub fn query_escape(s: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for &c in s {
        match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(c as char),
            b' ' => out.push('+'),
            c => out.push_str(&format!("%{c:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(body: &[u8], boundary: &str, step: usize) -> Result<Vec<Event>, MultipartError> {
        let mut p = Parser::new(boundary, Limits::default())?;
        let mut out = Vec::new();
        let mut chunks = body.chunks(step.max(1));
        loop {
            match p.next_event()? {
                Some(Event::Data(d)) => match out.last_mut() {
                    Some(Event::Data(prev)) => *prev = Bytes::from([prev.as_ref(), d.as_ref()].concat()),
                    _ => out.push(Event::Data(d)),
                },
                Some(Event::End) => {
                    out.push(Event::End);
                    return Ok(out);
                }
                Some(e) => out.push(e),
                None => match chunks.next() {
                    Some(c) => p.feed(c),
                    None => p.finish(),
                },
            }
        }
    }

    const GO_BODY: &[u8] = b"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"dir\"\r\nContent-Type: application/x-directory\r\n\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"file?mode=0644&mtime=5&mtime-nsecs=7\"; filename=\"dir%2Fa+b.txt\"\r\nContent-Type: application/octet-stream\r\n\r\nhello\r\n--B-ish\r\n\r\n--B--\r\n";

    #[test]
    fn every_split_gives_the_same_events() {
        let want = parse_all(GO_BODY, "B", GO_BODY.len()).unwrap();
        assert_eq!(want.len(), 6, "{want:?}");
        assert_eq!(want[3], Event::Data(Bytes::from_static(b"hello\r\n--B-ish\r\n")));
        for step in 1..GO_BODY.len() {
            assert_eq!(parse_all(GO_BODY, "B", step).unwrap(), want, "step {step}");
        }
        let Event::Part(h) = &want[2] else { panic!() };
        let info = part_info(h).unwrap();
        assert_eq!(info.path, "dir/a b.txt");
        assert_eq!(info.kind, PartKind::File);
        assert_eq!(info.mode, Some(0o644));
        assert_eq!(info.mtime, Some(UnixTime { seconds: 5, nanos: Some(7) }));
        let Event::Part(h) = &want[0] else { panic!() };
        assert_eq!(part_info(h).unwrap().kind, PartKind::Dir);
    }

    #[test]
    fn truncated_bodies_are_errors() {
        for cut in 0..GO_BODY.len() - 2 {
            // Cut anywhere before the closing `--B--`: never a clean end.
            if cut >= GO_BODY.len() - 7 {
                break;
            }
            assert_eq!(parse_all(&GO_BODY[..cut], "B", 7), Err(MultipartError::Truncated), "cut {cut}");
        }
    }

    #[test]
    fn lf_bodies_preambles_and_js_layout() {
        let lf = b"preamble\n--xyz\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\n\ndata\n--xyz--";
        let ev = parse_all(lf, "xyz", 3).unwrap();
        assert_eq!(ev[1], Event::Data(Bytes::from_static(b"data")));
        let Event::Part(h) = &ev[0] else { panic!() };
        assert_eq!(part_info(h).unwrap().path, "");
        // kubo-rpc-client: `file-1`, encodeURIComponent paths.
        let h = vec![(
            "content-disposition".to_string(),
            "form-data; name=\"file-1\"; filename=\"a%2F..%2F..%2Fb\"".to_string(),
        )];
        assert_eq!(part_info(&h).unwrap().path, "b");
    }

    #[test]
    fn limits_hold() {
        let mut p = Parser::new("B", Limits { max_header_bytes: 100, max_preamble: 100 }).unwrap();
        p.feed(&[b'x'; 200]);
        assert_eq!(p.next_event(), Err(MultipartError::NoOpening(100)));
        let mut p = Parser::new("B", Limits { max_header_bytes: 100, max_preamble: 100 }).unwrap();
        p.feed(b"--B\r\nX-Long: ");
        p.feed(&[b'x'; 200]);
        assert_eq!(p.next_event(), Err(MultipartError::HeadersTooLarge(100)));
    }

    #[test]
    fn media_types() {
        assert_eq!(boundary_of("multipart/form-data; boundary=\"abc\"").unwrap().as_deref(), Some("abc"));
        assert_eq!(boundary_of("Multipart/Form-Data;boundary=---x").unwrap().as_deref(), Some("---x"));
        assert_eq!(boundary_of("application/octet-stream").unwrap(), None);
        assert_eq!(boundary_of("multipart/form-data"), Err(MultipartError::NoBoundary));
        let (_, p) = parse_media_type("form-data; filename*=utf-8''%C3%A9.txt; name=\"a\\\"b\"").unwrap();
        assert_eq!(p, vec![("filename".to_string(), "é.txt".to_string()), ("name".to_string(), "a\"b".to_string())]);
        assert_eq!(query_escape(b"a b/c"), "a+b%2Fc");
        assert_eq!(percent_decode("%zz", true), None);
        assert_eq!(clean_path(b"/../a/./b//c/.."), "a/b");
    }
}
