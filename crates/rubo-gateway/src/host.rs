//! The `Host` header: known gateway hosts, subdomain origins
//! (`<id>.<ns>.<gateway host>`) and the redirects from path URLs to them
//! (subdomain-gateway spec, boxo's `hostname.go`).

use std::collections::BTreeMap;

use rubo_types::{Base, Cid, cid::cid_to_string, codec, parse_cid};

use crate::config::PublicGateway;

/// A DNS label's longest form (RFC 1034).
pub(crate) const DNS_LABEL_MAX: usize = 63;

/// Namespaces that may appear as the second label of a subdomain origin
/// (`p2p` and `ipld` only for Kubo compatibility).
pub fn is_subdomain_namespace(ns: &str) -> bool {
    matches!(ns, "ipfs" | "ipns" | "p2p" | "ipld")
}

fn is_peer_id_namespace(ns: &str) -> bool {
    matches!(ns, "ipns" | "p2p")
}

/// `host` without a `:port` suffix.
pub(crate) fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        // [v6]:port
        return rest.split_once(']').map_or(host, |(h, _)| h);
    }
    match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// The configured gateway hosts: exact names and `*` wildcards.
#[derive(Debug, Clone, Default)]
pub struct Gateways {
    exact: BTreeMap<String, PublicGateway>,
    wildcard: Vec<(Vec<String>, PublicGateway)>,
}

/// What a subdomain `Host` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subdomain<'a> {
    pub gateway: &'a PublicGateway,
    /// The gateway's own host (`localhost:8080`).
    pub gateway_host: String,
    pub namespace: String,
    /// Everything before the namespace label (a CID, a key, an inlined DNSLink name).
    pub root_id: String,
}

impl Gateways {
    pub fn new(gateways: &BTreeMap<String, PublicGateway>) -> Self {
        let mut g = Self::default();
        for (host, spec) in gateways {
            // Subdomains of an IP address cannot exist: boxo skips such entries.
            if spec.use_subdomains && strip_port(host).parse::<std::net::IpAddr>().is_ok() {
                continue;
            }
            if host.contains('*') {
                g.wildcard.push((host.to_ascii_lowercase().split('.').map(str::to_string).collect(), spec.clone()));
            } else {
                g.exact.insert(host.to_ascii_lowercase(), spec.clone());
            }
        }
        g
    }

    /// The gateway `host` is (with or without its port).
    pub fn known(&self, host: &str) -> Option<&PublicGateway> {
        let host = host.to_ascii_lowercase();
        if let Some(g) = self.exact.get(&host).or_else(|| self.exact.get(strip_port(&host))) {
            return Some(g);
        }
        let labels: Vec<&str> = strip_port(&host).split('.').collect();
        self.wildcard.iter().find_map(|(pat, g)| {
            let ok = pat.len() == labels.len()
                && pat.iter().zip(&labels).all(|(p, l)| if p == "*" { !l.is_empty() } else { p == l });
            ok.then_some(g)
        })
    }

    /// `{root_id}.{ns}.{gateway host}`, if `host` is a subdomain of a known gateway.
    pub fn subdomain<'a>(&'a self, host: &str) -> Option<Subdomain<'a>> {
        let labels: Vec<&str> = host.split('.').collect();
        // At least a root ID and a namespace before the gateway's name.
        for i in (2..labels.len()).rev() {
            let fqdn = labels[i..].join(".");
            let Some(gateway) = self.known(&fqdn) else { continue };
            let ns = labels[i - 1].to_ascii_lowercase();
            if !is_subdomain_namespace(&ns) {
                continue;
            }
            return Some(Subdomain { gateway, gateway_host: fqdn, namespace: ns, root_id: labels[..i - 1].join(".") });
        }
        None
    }
}

/// A CID in a form that fits a DNS label: as given if short enough, else
/// CIDv1 in base36; an error if nothing fits (Kubo's message).
pub fn to_dns_label(root_id: &str, cid: &Cid) -> Result<String, String> {
    if root_id.len() <= DNS_LABEL_MAX {
        return Ok(root_id.to_string());
    }
    let v1 = Cid::new_v1(cid.codec(), *cid.hash());
    let b36 = cid_to_string(&v1, Base::Base36Lower).map_err(|e| e.to_string())?;
    if b36.len() <= DNS_LABEL_MAX {
        return Ok(b36);
    }
    Err(format!("CID incompatible with DNS label length limit of 63: {b36}"))
}

/// A peer ID (`12D3Koo...`, `Qm...`) or a libp2p-key CID as the CID Kubo
/// names keys by.
pub(crate) fn peer_id_cid(s: &str) -> Option<Cid> {
    if s.starts_with('1') || s.starts_with('Q') {
        let bytes = rubo_types::multibase::base58btc_decode(s.as_bytes()).ok()?;
        let mh = rubo_types::cid::multihash_from_bytes(&bytes).ok()?;
        if mh.to_bytes().len() != bytes.len() {
            return None;
        }
        return Some(Cid::new_v1(codec::LIBP2P_KEY, mh));
    }
    None
}

/// DNSLink name as one DNS label: `-` doubled, `.` to `-`.
pub fn inline_dnslink(fqdn: &str) -> Result<String, String> {
    let label = fqdn.replace('-', "--").replace('.', "-");
    if label.len() > DNS_LABEL_MAX {
        return Err(format!("inlined DNSLink incompatible with DNS label length limit of 63: {label:?}"));
    }
    Ok(label)
}

/// The reverse of [`inline_dnslink`].
pub fn uninline_dnslink(label: &str) -> String {
    let b = label.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'-' {
            if b.get(i + 1) == Some(&b'-') {
                out.push('-');
                i += 2;
            } else {
                out.push('.');
                i += 1;
            }
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Whether something looks like a DNS name (no DNSLink resolution exists
/// yet; this decides only how a name is written).
fn is_domain_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(|l| !l.is_empty() && l.len() <= DNS_LABEL_MAX)
}

/// Where a path request on a subdomain gateway goes (boxo's
/// `toSubdomainURL`): `Ok(None)` when the path is not a content path to
/// move (it is then served as it is), `Err` when the content root cannot
/// be a DNS label. `path` is decoded; `query` raw.
pub fn subdomain_url(
    gateway_host: &str,
    path: &str,
    query: Option<&str>,
    https: bool,
    inline: bool,
) -> Result<Option<String>, String> {
    let mut parts = path.splitn(4, '/');
    let (_, ns, root) = match (parts.next(), parts.next(), parts.next()) {
        (Some(""), Some(ns), Some(root)) => ("", ns, root),
        _ => return Ok(None),
    };
    let rest = parts.next().unwrap_or("");
    if !is_subdomain_namespace(ns) {
        return Ok(None);
    }
    let mut root_id = root.to_string();
    if is_peer_id_namespace(ns)
        && let Some(c) = peer_id_cid(&root_id)
    {
        root_id = c.to_string();
    }
    if let Ok(cid) = parse_cid(&root_id) {
        let (codec, base) = if is_peer_id_namespace(ns) {
            // Keys in base36, with the libp2p-key codec whatever was written.
            (codec::LIBP2P_KEY, Base::Base36Lower)
        } else {
            (cid.codec(), Base::Base32Lower)
        };
        let v1 = Cid::new_v1(codec, *cid.hash());
        root_id = cid_to_string(&v1, base).map_err(|e| e.to_string())?;
        root_id = to_dns_label(&root_id, &v1)?;
    } else if ns == "ipns" && is_domain_name(&root_id) {
        // A DNSLink name: inlined over TLS (or when asked) to fit one label.
        if (inline || https) && root_id.contains('.') {
            root_id = inline_dnslink(&root_id)?;
        }
    } else {
        // Not a CID under /ipfs/: the path handler answers (with a 400).
        return Ok(None);
    }
    if root_id.is_empty() {
        return Ok(None);
    }
    let scheme = if https { "https" } else { "http" };
    let mut url = format!("{scheme}://{root_id}.{ns}.{gateway_host}/");
    url.push_str(&crate::url::escape_path(rest.as_bytes()));
    if let Some(q) = query.filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    Ok(Some(url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gws() -> Gateways {
        let c = crate::config::GatewayConfig::default();
        Gateways::new(&c.public_gateways)
    }

    #[test]
    fn hosts() {
        let g = gws();
        assert!(g.known("localhost:8080").is_some());
        assert!(g.known("127.0.0.1:8080").is_none());
        let s = g.subdomain("bafkqaaa.ipfs.localhost:8080").unwrap();
        assert_eq!(
            (s.namespace.as_str(), s.root_id.as_str(), s.gateway_host.as_str()),
            ("ipfs", "bafkqaaa", "localhost:8080")
        );
        let s = g.subdomain("en.wikipedia-on-ipfs.org.ipns.localhost").unwrap();
        assert_eq!(s.root_id, "en.wikipedia-on-ipfs.org");
        assert!(g.subdomain("x.foo.localhost").is_none());
        assert!(g.subdomain("localhost").is_none());
    }

    #[test]
    fn redirects_to_subdomains() {
        let v0 = "QmbWqxBEKC3P8tqsKc98xmWNzrzDtRLMiMPL8wBuTGsMnR";
        let url = subdomain_url("dweb.link", &format!("/ipfs/{v0}"), None, true, false).unwrap().unwrap();
        assert_eq!(url, "https://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi.ipfs.dweb.link/");
        let url = subdomain_url("localhost:8080", "/ipfs/bafkqaaa/a b?", Some("x=1"), false, false).unwrap().unwrap();
        assert_eq!(url, "http://bafkqaaa.ipfs.localhost:8080/a%20b%3F?x=1");
        assert_eq!(subdomain_url("h", "/ipfs/notacid", None, false, false), Ok(None));
        assert_eq!(subdomain_url("h", "/other/x", None, false, false), Ok(None));
        let url = subdomain_url("dweb.link", "/ipns/en.wikipedia-on-ipfs.org", None, true, false).unwrap().unwrap();
        assert_eq!(url, "https://en-wikipedia--on--ipfs-org.ipns.dweb.link/");
        assert_eq!(uninline_dnslink("en-wikipedia--on--ipfs-org"), "en.wikipedia-on-ipfs.org");
        let key = subdomain_url("h", "/ipns/12D3KooWSrT3kC1PL6UKYtqBPoXHQhRGwcgPzYuG4DvVtu96zP7p", None, false, false);
        assert!(key.unwrap().unwrap().starts_with("http://k51"));
    }
}
