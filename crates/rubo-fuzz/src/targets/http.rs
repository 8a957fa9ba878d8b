//! rubo-http: what a remote client sends the API server and what the
//! client reads from the `api` file: multipart bodies (split anywhere, the
//! events must not depend on where), part headers and media types, the
//! API address (a multiaddr or URL, whose URL parses back to itself), and
//! `API.Authorizations` secrets and headers.

use rubo_http::auth::{AuthRule, allowed, header_for_secret};
use rubo_http::config::ApiConfig;
use rubo_http::maddr;
use rubo_http::multipart::{
    Event, Limits, Parser, boundary_of, clean_path, parse_media_type, part_info, percent_decode,
};

/// Small limits, so that inputs of a few KiB reach them.
const LIMITS: Limits = Limits { max_header_bytes: 512, max_preamble: 1024 };

/// Events with consecutive data merged (their split depends on the feed).
fn run(boundary: &str, body: &[u8], step: usize) -> Vec<Result<Event, String>> {
    let Ok(mut p) = Parser::new(boundary, LIMITS) else { return vec![Err("boundary".into())] };
    let mut out: Vec<Result<Event, String>> = Vec::new();
    let mut chunks = body.chunks(step.max(1));
    // Every event consumes input or ends the body: the loop ends.
    for _ in 0..body.len() * 4 + 64 {
        match p.next_event() {
            Ok(Some(Event::Data(d))) => {
                assert!(!d.is_empty(), "empty data event");
                match out.last_mut() {
                    Some(Ok(Event::Data(prev))) => {
                        let mut v = prev.to_vec();
                        v.extend_from_slice(&d);
                        *prev = v.into();
                    }
                    _ => out.push(Ok(Event::Data(d))),
                }
            }
            Ok(Some(Event::End)) => {
                out.push(Ok(Event::End));
                assert_eq!(p.next_event(), Ok(None), "nothing after the end");
                return out;
            }
            Ok(Some(e)) => {
                if let Event::Part(h) = &e {
                    let _ = part_info(h);
                }
                out.push(Ok(e));
            }
            Ok(None) => match chunks.next() {
                Some(c) => p.feed(c),
                None => p.finish(),
            },
            Err(e) => {
                out.push(Err(e.to_string()));
                return out;
            }
        }
    }
    panic!("the parser did not finish");
}

/// Input: a boundary length (first byte), the boundary, then the body.
pub fn multipart(data: &[u8]) {
    let Some((&n, rest)) = data.split_first() else { return };
    let n = (n as usize % 12 + 1).min(rest.len());
    let boundary = String::from_utf8_lossy(&rest[..n]).into_owned();
    let body = &rest[n..];
    let whole = run(&boundary, body, body.len());
    for step in [1, 2, 7, 64] {
        assert_eq!(run(&boundary, body, step), whole, "events depend on the split ({step})");
    }
    // The header-level parsers see the same bytes as text.
    let text = String::from_utf8_lossy(data);
    let _ = boundary_of(&text);
    if let Some((mt, params)) = parse_media_type(&text) {
        assert_eq!(mt, mt.to_ascii_lowercase());
        assert!(params.iter().all(|(k, _)| *k == k.to_ascii_lowercase()));
    }
    if let Some(b) = percent_decode(&text, true) {
        let c = clean_path(&b);
        assert!(!c.starts_with(b"/") && !c.ends_with(b"/"));
        assert!(c.is_empty() || c.split(|&x| x == b'/').all(|e| !e.is_empty() && e != b"." && e != b".."));
        assert_eq!(clean_path(&c), c, "clean is idempotent");
    }
}

/// Input: an API address, as text.
pub fn maddr(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    if let Ok(e) = maddr::parse(&s) {
        assert_eq!(maddr::parse(&e.url()).as_ref(), Ok(&e), "{s:?} -> {}", e.url());
    }
}

/// Input: a secret, a NUL, then an `Authorization` header and a path; or a config.
pub fn auth(data: &[u8]) {
    if let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = ApiConfig::from_config(&doc);
    }
    let text = String::from_utf8_lossy(data);
    let (secret, rest) = text.split_once('\0').unwrap_or((&text, ""));
    let (header, path) = rest.split_once('\0').unwrap_or((rest, "/api/v0/id"));
    let Some(h) = header_for_secret(secret) else { return };
    let rule = AuthRule { name: "u".into(), header: h.clone(), allowed_paths: vec!["/api/v0/id".into()] };
    let rules = [rule];
    assert!(allowed(&rules, Some(h.as_bytes()), "/api/v0/version"));
    assert!(!allowed(&rules, None, path));
    if allowed(&rules, Some(header.as_bytes()), path) {
        assert_eq!(header, h);
    }
}
