//! The API's address: a multiaddr as Kubo writes it in `$IPFS_PATH/api`
//! (`/ip4/127.0.0.1/tcp/5001`, `/ip6/::1/tcp/5001`, `/dns4/localhost/tcp/5001`,
//! optionally ending in `/http`) or an `http://host:port` URL, turned into
//! the host and port to dial.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why an address cannot be dialed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddrError {
    #[error("invalid API address {0:?}")]
    Invalid(String),
    #[error("API address {0:?}: only plain HTTP over TCP is supported")]
    Unsupported(String),
}

/// Where the API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// A host name or an IP address, without brackets.
    pub host: String,
    pub port: u16,
}

impl Endpoint {
    /// `http://host:port` (IPv6 addresses in brackets).
    pub fn url(&self) -> String {
        format!("http://{}", self.authority())
    }

    /// `host:port`, as the `Host` header carries it.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// A DNS name as the `dns*` protocols carry it: letters, digits, `-`, `.`, `_`.
fn valid_dns(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
        && !s.starts_with(['-', '.'])
}

fn port(s: &str, whole: &str) -> Result<u16, AddrError> {
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return Err(AddrError::Invalid(whole.into()));
    }
    s.parse().map_err(|_| AddrError::Invalid(whole.into()))
}

/// Parses a multiaddr or an `http://` URL (trailing slash allowed, no path).
pub fn parse(addr: &str) -> Result<Endpoint, AddrError> {
    let addr = addr.trim();
    let bad = || AddrError::Invalid(addr.to_string());
    if let Some(rest) = addr.strip_prefix("http://") {
        let auth = rest.strip_suffix('/').unwrap_or(rest);
        if auth.contains(['/', '?', '#', '@']) {
            return Err(bad());
        }
        if let Some(v6) = auth.strip_prefix('[') {
            let (h, p) = v6.split_once(']').ok_or_else(bad)?;
            let host = h.parse::<Ipv6Addr>().map_err(|_| bad())?.to_string();
            let port = match p.strip_prefix(':') {
                Some(p) => port(p, addr)?,
                None if p.is_empty() => 80,
                None => return Err(bad()),
            };
            return Ok(Endpoint { host, port });
        }
        let (h, p) = match auth.rsplit_once(':') {
            Some((h, p)) => (h, port(p, addr)?),
            None => (auth, 80),
        };
        if h.parse::<Ipv4Addr>().is_err() && !valid_dns(h) {
            return Err(bad());
        }
        return Ok(Endpoint { host: h.to_string(), port: p });
    }
    if addr.starts_with("https://") {
        return Err(AddrError::Unsupported(addr.into()));
    }
    let parts: Vec<&str> = addr.split('/').collect();
    // "", proto, host, "tcp", port [, "http"]
    match parts.as_slice() {
        ["", proto, host, "tcp", p, rest @ ..] => {
            match rest {
                [] | ["http"] | ["http", ""] | [""] => {}
                ["https", ..] | ["tls", ..] => return Err(AddrError::Unsupported(addr.into())),
                _ => return Err(bad()),
            }
            let host = match *proto {
                "ip4" => host.parse::<Ipv4Addr>().map_err(|_| bad())?.to_string(),
                "ip6" => host.parse::<Ipv6Addr>().map_err(|_| bad())?.to_string(),
                "dns" | "dns4" | "dns6" if valid_dns(host) => host.to_string(),
                _ => return Err(bad()),
            };
            Ok(Endpoint { host, port: port(p, addr)? })
        }
        ["", "unix", ..] => Err(AddrError::Unsupported(addr.into())),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let e = |h: &str, p| Ok(Endpoint { host: h.into(), port: p });
        assert_eq!(parse("/ip4/127.0.0.1/tcp/5001"), e("127.0.0.1", 5001));
        assert_eq!(parse("/ip6/::1/tcp/5002/http"), e("::1", 5002));
        assert_eq!(parse("/dns4/localhost/tcp/1"), e("localhost", 1));
        assert_eq!(parse("http://127.0.0.1:5001/"), e("127.0.0.1", 5001));
        assert_eq!(parse("http://[::1]:5001"), e("::1", 5001));
        assert_eq!(parse("/ip6/::1/tcp/5002").unwrap().url(), "http://[::1]:5002");
        assert!(matches!(parse("/ip4/127.0.0.1/tcp/5001/https"), Err(AddrError::Unsupported(_))));
        assert!(matches!(parse("/unix/tmp/sock"), Err(AddrError::Unsupported(_))));
        assert!(parse("/ip4/300.0.0.1/tcp/1").is_err());
        assert!(parse("/ip4/127.0.0.1/tcp/70000").is_err());
        assert!(parse("/ip4/127.0.0.1/udp/1").is_err());
        assert!(parse("http://a b:1").is_err());
    }
}
