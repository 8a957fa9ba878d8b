//! The HTML the gateway writes itself: directory listings (written row by
//! row, so a huge HAMT never sits in memory), previews of DAG-JSON/DAG-CBOR
//! blocks, and error pages. Link and breadcrumb forms follow Kubo's, which
//! the gateway conformance suite checks.

use crate::url::{escape_component, escape_path};

/// Escapes text for HTML content and attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:0;color:#34373f;background:#fff}\
header.top{background:#0b3a53;color:#fff;padding:.7em 1em;font-weight:600}\
main{max-width:1100px;margin:1.5em auto;padding:0 1em}\
.head{display:flex;flex-wrap:wrap;gap:.5em;justify-content:space-between;margin-bottom:1em;word-break:break-all}\
.ipfs-hash{font-family:monospace;color:#6a737d;font-size:.9em}\
table{border-collapse:collapse;width:100%}\
td{padding:.4em .6em;border-bottom:1px solid #e3e6ea;vertical-align:top}\
td.size,td.cid{white-space:nowrap;text-align:right}\
a{color:#117eb3;text-decoration:none}a:hover{text-decoration:underline}\
.err{background:#fdf0f0;border:1px solid #e8b4b4;padding:1em;white-space:pre-wrap;word-break:break-word}\
pre{background:#f6f8fa;padding:1em;overflow:auto}";

/// Changes whenever the listing's HTML does, so caches of old listings
/// expire (it is part of the listing's ETag).
pub(crate) fn listing_version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        // FNV-1a over what shapes the page.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in STYLE.bytes().chain(LISTING_SHAPE.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        format!("{h:x}")
    })
}

/// A token for the listing markup below; bump it when the markup changes.
const LISTING_SHAPE: &str = "rubo-listing-1";

fn page_start(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header class=\"top\">IPFS</header>\n<main>\n",
        esc(title)
    )
}

const PAGE_END: &str = "</main>\n</body>\n</html>\n";

/// What a directory listing shows about itself.
pub(crate) struct Listing<'a> {
    /// The content path (`/ipfs/<cid>/a/b/`), decoded.
    pub content_path: &'a str,
    /// The URL path as requested (what row links extend), decoded.
    pub url_path: &'a str,
    /// `//<gateway host>` on subdomain origins, empty on path gateways.
    pub gateway_url: &'a str,
    pub cid: String,
    /// Cumulative DAG size of the directory.
    pub size: u64,
}

/// Breadcrumbs: the namespace, then a link per segment of the content path
/// (on a subdomain origin they point back at the path gateway).
fn breadcrumbs(content_path: &str, gateway_url: &str) -> String {
    let segs: Vec<&str> = content_path.split('/').filter(|s| !s.is_empty()).collect();
    let mut out = String::new();
    for (i, seg) in segs.iter().enumerate() {
        out.push('/');
        if i == 0 {
            out.push_str(&esc(seg));
        } else {
            let path = format!("/{}", segs[..=i].join("/"));
            out.push_str(&format!(
                "<a href=\"{}{}\">{}</a>",
                esc(gateway_url),
                esc(&escape_path(path.as_bytes())),
                esc(seg)
            ));
        }
    }
    out
}

impl Listing<'_> {
    /// Everything before the rows.
    pub(crate) fn head(&self) -> String {
        let mut s = page_start(self.content_path);
        s.push_str("<div class=\"head\"><div><strong>Index of ");
        s.push_str(&breadcrumbs(self.content_path, self.gateway_url));
        s.push_str(&format!(
            "</strong><div class=\"ipfs-hash\" translate=\"no\">{}</div></div><div><strong title=\"Cumulative size of IPFS DAG (data + metadata)\">{}</strong></div></div>\n<table>\n",
            esc(&self.cid),
            esc(&rubo_node::rubo_repo::config::units::humanize_bytes(self.size))
        ));
        // No way up from a content root.
        let segs = self.content_path.split('/').filter(|s| !s.is_empty()).count();
        if segs > 2 {
            let back = if self.url_path.ends_with('/') {
                format!("{}..", self.url_path)
            } else {
                format!("{}/..", self.url_path)
            };
            s.push_str(&format!(
                "<tr><td><a href=\"{}\">..</a></td><td></td><td></td></tr>\n",
                esc(&escape_path(back.as_bytes()))
            ));
        }
        s
    }

    /// One row: the name links below the URL path, the CID to the content.
    pub(crate) fn row(&self, name: &[u8], cid: &str, size: u64) -> String {
        let name_text = String::from_utf8_lossy(name);
        let mut path = self.url_path.trim_end_matches('/').as_bytes().to_vec();
        path.push(b'/');
        path.extend_from_slice(name);
        let short =
            if cid.len() > 8 { format!("{}\u{2026}{}", &cid[..4], &cid[cid.len() - 4..]) } else { cid.to_string() };
        format!(
            "<tr><td><a href=\"{}\">{}</a></td><td class=\"cid\"><a class=\"ipfs-hash\" translate=\"no\" href=\"{}/ipfs/{}?filename={}\">{}</a></td><td class=\"size\" title=\"Cumulative size of IPFS DAG (data + metadata)\">{}</td></tr>\n",
            esc(&escape_path(&path)),
            esc(&name_text),
            esc(self.gateway_url),
            esc(&escape_path(cid.as_bytes())),
            esc(&escape_component(escape_path(name).as_bytes())),
            esc(&short),
            esc(&rubo_node::rubo_repo::config::units::humanize_bytes(size)),
        )
    }

    pub(crate) fn tail(&self) -> String {
        format!("</table>\n{PAGE_END}")
    }
}

/// An error page (for clients that accept HTML).
pub(crate) fn error_page(status: u16, reason: &str, message: &str) -> String {
    let mut s = page_start(&format!("{status} {reason}"));
    s.push_str(&format!("<h1>{status} {}</h1>\n<p class=\"err\">{}</p>\n", esc(reason), esc(message)));
    s.push_str("<p>How to fix: check the CID and path, or try again later if the content is not yet available.</p>\n");
    s.push_str(PAGE_END);
    s
}

/// A preview of a DAG-JSON or DAG-CBOR block, with links to its raw forms.
pub(crate) fn dag_page(content_path: &str, cid: &str, codec_name: &str, codec: u64, json: &str) -> String {
    let mut s = page_start(content_path);
    s.push_str(&format!(
        "<div class=\"head\"><div><strong>CID <span class=\"ipfs-hash\">{}</span></strong><div>Codec: {} (0x{codec:x})</div></div></div>\n",
        esc(cid),
        esc(codec_name)
    ));
    s.push_str(&format!(
        "<p>Download: <a href=\"?format=raw\" rel=\"nofollow\">raw block</a> · <a href=\"?format={}\" rel=\"nofollow\">{}</a> · <a href=\"?format=car\" rel=\"nofollow\">CAR</a></p>\n<pre>{}</pre>\n",
        esc(codec_name),
        esc(codec_name),
        esc(json)
    ));
    s.push_str(PAGE_END);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubo_link_forms() {
        let root = "bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i";
        let cp = format!("/ipfs/{root}/ą/ę/");
        let l = Listing { content_path: &cp, url_path: &cp, gateway_url: "", cid: "bafyx".into(), size: 1026 };
        let head = l.head();
        assert!(head.contains(&format!(
            "/ipfs/<a href=\"/ipfs/{root}\">{root}</a>/<a href=\"/ipfs/{root}/%C4%85\">ą</a>/<a href=\"/ipfs/{root}/%C4%85/%C4%99\">ę</a>"
        )));
        assert!(head.contains(&format!("<a href=\"/ipfs/{root}/%C4%85/%C4%99/..\">..</a>")));
        assert!(head.contains("1.0 kB"));
        let row = l.row("file-źł.txt".as_bytes(), "bafkfile", 34);
        assert!(row.contains(&format!("<a href=\"/ipfs/{root}/%C4%85/%C4%99/file-%C5%BA%C5%82.txt\">file-źł.txt</a>")));
        assert!(row.contains(
            "<a class=\"ipfs-hash\" translate=\"no\" href=\"/ipfs/bafkfile?filename=file-%25C5%25BA%25C5%2582.txt\">"
        ));
        let top = format!("/ipfs/{root}/");
        let l =
            Listing { content_path: &top, url_path: "/", gateway_url: "//localhost:8080", cid: root.into(), size: 1 };
        assert!(!l.head().contains(">..</a>"));
        assert!(l.row(b"a&b", "bafk", 1).contains("<a href=\"/a&amp;b\">a&amp;b</a>"));
    }
}
