//! rubo-gateway: the parsers of request input (Range, entity-bytes, Accept,
//! the Host header and subdomain URLs, query strings) and of `_redirects`
//! files from content.

use rubo_gateway::parsers::{
    Gateways, clean_path, find_redirect, inline_dnslink, negotiate, parse_entity_bytes, parse_media_type, parse_query,
    parse_range, parse_redirects, resolve_range, subdomain_url, unescape, uninline_dnslink,
};

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// `Range` headers: whatever the size, a chosen range lies inside the content.
pub fn range(data: &[u8]) {
    let (size_bytes, rest) = data.split_at(data.len().min(8));
    let mut sz = [0u8; 8];
    sz[..size_bytes.len()].copy_from_slice(size_bytes);
    let size = u64::from_le_bytes(sz) >> (sz[0] % 64);
    let Ok(specs) = parse_range(&text(rest)) else { return };
    assert!(specs.len() <= rubo_gateway::parsers::MAX_RANGES);
    if let Ok(Some(r)) = resolve_range(&specs, size) {
        assert!(r.len > 0 && r.start.checked_add(r.len).is_some_and(|e| e <= size), "{r:?} of {size}");
        let _ = r.content_range(size);
    }
}

/// `entity-bytes`: a parsed range selects a span inside any file, or nothing.
pub fn entity_bytes(data: &[u8]) {
    let (size_bytes, rest) = data.split_at(data.len().min(8));
    let mut sz = [0u8; 8];
    sz[..size_bytes.len()].copy_from_slice(size_bytes);
    let size = u64::from_le_bytes(sz) >> (sz[1] % 64);
    let Ok(r) = parse_entity_bytes(&text(rest)) else { return };
    if let Some((from, to)) = r.span(size) {
        assert!(from <= to && to < size, "{r:?} over {size}: {from}..={to}");
    }
}

/// `_redirects` files: parsing never panics; matching stays bounded; a
/// parsed rule has a supported status and a rooted `from`.
pub fn redirects(data: &[u8]) {
    let Ok(rules) = parse_redirects(data) else { return };
    for r in &rules {
        assert!(r.from.starts_with('/'));
        assert!([200, 301, 302, 303, 307, 308, 404, 410, 451].contains(&r.status));
    }
    for p in ["/", "/a", "/a/b/c", "/posts/2022/01/01/x", "/splat/x/y", "//", "/:splat"] {
        if let Some((_, to)) = find_redirect(&rules, p) {
            assert!(to.len() <= rubo_gateway::parsers::MAX_REDIRECT_TARGET);
        }
    }
}

/// `Accept` headers and `?format=`: negotiation never panics, and media
/// type parameters are lower-case names.
pub fn accept(data: &[u8]) {
    let t = text(data);
    let (fmt, accept) = t.split_once('\n').map_or((None, t.as_str()), |(a, b)| (Some(a), b));
    if let Ok(n) = negotiate(fmt, &[accept]) {
        for (k, _) in &n.params {
            assert_eq!(k, &k.to_ascii_lowercase());
        }
    }
    let _ = parse_media_type(accept);
}

/// `Host` headers, subdomain URLs, DNSLink inlining and query strings.
pub fn host(data: &[u8]) {
    let t = text(data);
    let gws = Gateways::new(&rubo_gateway::GatewayConfig::default().public_gateways);
    if let Some(s) = gws.subdomain(&t) {
        assert!(t.ends_with(&s.gateway_host));
        assert!(rubo_gateway::parsers::is_subdomain_namespace(&s.namespace));
    }
    let _ = gws.known(&t);
    let (path, query) = t.split_once('?').map_or((t.as_str(), None), |(a, b)| (a, Some(b)));
    if let Ok(Some(url)) = subdomain_url("localhost:8080", path, query, data.first() == Some(&b'h'), false) {
        assert!(url.starts_with("http://") || url.starts_with("https://"));
        // A root ID always fits one DNS label.
        let label = url.split("://").nth(1).and_then(|r| r.split('.').next()).unwrap_or_default();
        assert!(label.len() <= 63, "{url}");
    }
    if let Ok(l) = inline_dnslink(&t)
        && !t.contains("--")
        && !t.starts_with('-')
    {
        let _ = uninline_dnslink(&l);
    }
    let _ = parse_query(&t, 64);
    let _ = unescape(&t, true);
    let c = clean_path(&t);
    assert!(c == "." || !c.split('/').any(|s| s == "." || (s == ".." && c.starts_with('/'))), "{c}");
}
