//! The delegated routing client: `GET <endpoint>/routing/v1/providers/<cid>`.
//!
//! Answers are `application/json` (`{"Providers": [...]}`) or
//! `application/x-ndjson` (one record a line); records of the `peer` schema
//! are kept, others skipped, as the spec asks. 404 means no providers. Every
//! read is bounded: the body (4 MiB), the records kept (`limit`), the time.
//! Plain `http://` endpoints only: rubo has no TLS client yet, so `https://`
//! ones (Kubo's default, cid.contact) are refused when configured.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;
use libp2p::{Multiaddr, PeerId};
use rubo_types::Cid;
use serde::Deserialize;
use thiserror::Error;

/// Most bytes read from one answer.
const MAX_BODY: usize = 4 << 20;

/// A delegated routing failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RoutingError {
    #[error("delegated router {0:?}: only http:// endpoints are supported")]
    Scheme(String),
    #[error("delegated router {0:?}: not a URL of the form http://host:port[/path]")]
    BadEndpoint(String),
    #[error("delegated router {endpoint}: {msg}")]
    Request { endpoint: String, msg: String },
    #[error("delegated router {0}: timed out")]
    Timeout(String),
}

/// One `/routing/v1` endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    host: String,
    port: u16,
    base: String,
    url: String,
}

impl Endpoint {
    /// Parses `http://host[:port][/base]`.
    pub fn parse(url: &str) -> Result<Self, RoutingError> {
        let rest = match url.strip_prefix("http://") {
            Some(r) => r,
            None if url.starts_with("https://") => return Err(RoutingError::Scheme(url.into())),
            None => return Err(RoutingError::BadEndpoint(url.into())),
        };
        let (hostport, base) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| RoutingError::BadEndpoint(url.into()))?),
            None => (hostport, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || host.contains(['/', '?', '#', ' ']) {
            return Err(RoutingError::BadEndpoint(url.into()));
        }
        Ok(Self { host: host.into(), port, base: base.into(), url: url.into() })
    }
}

/// A provider record (schema `peer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub id: PeerId,
    pub addrs: Vec<Multiaddr>,
    pub protocols: Vec<String>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(rename = "Providers", default)]
    providers: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "Schema", default)]
    schema: String,
    #[serde(rename = "ID", default)]
    id: Option<String>,
    #[serde(rename = "Addrs", default)]
    addrs: Option<Vec<String>>,
    #[serde(rename = "Protocols", default)]
    protocols: Option<Vec<String>>,
}

/// A record as a [`Provider`], if it is a well-formed `peer` record.
fn provider(v: serde_json::Value) -> Option<Provider> {
    let r: Record = serde_json::from_value(v).ok()?;
    if r.schema != "peer" {
        return None;
    }
    let id: PeerId = r.id?.parse().ok()?;
    let addrs = r.addrs.unwrap_or_default().iter().filter_map(|a| a.parse().ok()).collect();
    Some(Provider { id, addrs, protocols: r.protocols.unwrap_or_default() })
}

/// The providers in an answer body, at most `limit`, in their order
/// (records that are not well-formed `peer` records are skipped).
pub fn parse_providers(body: &[u8], ndjson: bool, limit: usize) -> Vec<Provider> {
    let records: Vec<serde_json::Value> = if ndjson {
        body.split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .filter_map(|l| serde_json::from_slice(l).ok())
            .collect()
    } else {
        serde_json::from_slice::<Answer>(body).ok().and_then(|a| a.providers).unwrap_or_default()
    };
    records.into_iter().filter_map(provider).take(limit).collect()
}

/// Asks every configured endpoint, in turn.
#[derive(Clone, Debug)]
pub struct DelegatedClient {
    endpoints: Vec<Endpoint>,
    timeout: Duration,
}

impl DelegatedClient {
    /// A client over `urls` (Kubo's `Routing.DelegatedRouters`).
    pub fn new(urls: &[String], timeout: Duration) -> Result<Self, RoutingError> {
        let endpoints = urls.iter().map(|u| Endpoint::parse(u)).collect::<Result<_, _>>()?;
        Ok(Self { endpoints, timeout })
    }

    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// Providers of `cid` from every endpoint (duplicates merged), at most
    /// `limit`. An endpoint that fails is skipped if another answers.
    pub async fn find_providers(&self, cid: &Cid, limit: usize) -> Result<Vec<Provider>, RoutingError> {
        let mut out: Vec<Provider> = Vec::new();
        let mut last_err = None;
        for ep in &self.endpoints {
            match tokio::time::timeout(self.timeout, self.ask(ep, cid, limit)).await {
                Ok(Ok(ps)) => {
                    for p in ps {
                        if !out.iter().any(|o| o.id == p.id) {
                            out.push(p);
                        }
                    }
                }
                Ok(Err(e)) => last_err = Some(e),
                Err(_) => last_err = Some(RoutingError::Timeout(ep.url.clone())),
            }
            if out.len() >= limit {
                break;
            }
        }
        out.truncate(limit);
        match (out.is_empty(), last_err) {
            (true, Some(e)) => Err(e),
            _ => Ok(out),
        }
    }

    async fn ask(&self, ep: &Endpoint, cid: &Cid, limit: usize) -> Result<Vec<Provider>, RoutingError> {
        let fail = |msg: String| RoutingError::Request { endpoint: ep.url.clone(), msg };
        let stream =
            tokio::net::TcpStream::connect((ep.host.as_str(), ep.port)).await.map_err(|e| fail(e.to_string()))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| fail(e.to_string()))?;
        let driver = tokio::spawn(async move {
            let _ = conn.await;
        });
        let req = hyper::Request::get(format!("{}/routing/v1/providers/{cid}", ep.base))
            .header(hyper::header::HOST, format!("{}:{}", ep.host, ep.port))
            .header(hyper::header::ACCEPT, "application/x-ndjson, application/json")
            .header(hyper::header::USER_AGENT, concat!("rubo/", env!("CARGO_PKG_VERSION")))
            .body(Empty::<Bytes>::new())
            .map_err(|e| fail(e.to_string()))?;
        let resp = sender.send_request(req).await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let ndjson = resp
            .headers()
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("application/x-ndjson"));
        let body = Limited::new(resp.into_body(), MAX_BODY).collect().await.map_err(|e| fail(e.to_string()))?;
        driver.abort();
        if status == hyper::StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}")));
        }
        Ok(parse_providers(&body.to_bytes(), ndjson, limit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";

    #[test]
    fn endpoints() {
        let e = Endpoint::parse("http://127.0.0.1:8080/base/").unwrap();
        assert_eq!((e.host.as_str(), e.port, e.base.as_str()), ("127.0.0.1", 8080, "/base"));
        assert_eq!(Endpoint::parse("http://example.org").unwrap().port, 80);
        assert!(matches!(Endpoint::parse("https://cid.contact"), Err(RoutingError::Scheme(_))));
        assert!(matches!(Endpoint::parse("ftp://x"), Err(RoutingError::BadEndpoint(_))));
        assert!(matches!(Endpoint::parse("http://:80"), Err(RoutingError::BadEndpoint(_))));
        assert!(matches!(Endpoint::parse("http://h:notaport"), Err(RoutingError::BadEndpoint(_))));
    }

    #[test]
    fn answers_in_both_forms() {
        // The spec's example shapes: JSON with a Providers array, and NDJSON.
        let json = format!(
            r#"{{"Providers":[{{"Schema":"peer","ID":"{PEER}","Addrs":["/ip4/127.0.0.1/tcp/4001","garbage"],"Protocols":["transport-bitswap"]}},
               {{"Schema":"bitswap","ID":"{PEER}"}},{{"Schema":"peer","ID":"not-a-peer"}}]}}"#
        );
        let ps = parse_providers(json.as_bytes(), false, 10);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].id.to_string(), PEER);
        assert_eq!(ps[0].addrs, vec!["/ip4/127.0.0.1/tcp/4001".parse::<Multiaddr>().unwrap()]);
        assert_eq!(ps[0].protocols, vec!["transport-bitswap".to_string()]);
        let nd = format!(
            "{{\"Schema\":\"peer\",\"ID\":\"{PEER}\"}}\n\n{{broken\n{{\"Schema\":\"peer\",\"ID\":\"{PEER}\"}}\n"
        );
        assert_eq!(parse_providers(nd.as_bytes(), true, 10).len(), 2);
        assert_eq!(parse_providers(nd.as_bytes(), true, 1).len(), 1);
        assert!(parse_providers(b"{\"Providers\":null}", false, 10).is_empty());
        assert!(parse_providers(b"\xff\x00", false, 10).is_empty());
    }
}
