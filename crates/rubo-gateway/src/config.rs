//! `Gateway.*` from Kubo's config document, with Kubo's defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http;
use rubo_node::rubo_repo::config::units::{parse_bytes, parse_duration};
use serde_json::Value;

/// One entry of `Gateway.PublicGateways`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicGateway {
    /// Path prefixes served on this host (`/ipfs`, `/ipns`...).
    pub paths: Vec<String>,
    /// Content paths are redirected to `<id>.<ns>.<host>` origins.
    pub use_subdomains: bool,
    pub no_dnslink: bool,
    pub inline_dnslink: bool,
    pub deserialized_responses: bool,
}

/// The gateway's settings.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Known hosts, with Kubo's implicit `localhost` subdomain gateway unless
    /// the config sets it to `null`.
    pub public_gateways: BTreeMap<String, PublicGateway>,
    /// Never fetch from the network (`Gateway.NoFetch`).
    pub no_fetch: bool,
    pub no_dnslink: bool,
    pub deserialized_responses: bool,
    pub allow_codec_conversion: bool,
    pub disable_html_errors: bool,
    /// Extra headers on every response (`Gateway.HTTPHeaders`).
    pub http_headers: Vec<(String, Vec<String>)>,
    /// Where `/` redirects (302), if set.
    pub root_redirect: Option<String>,
    /// Time to the first byte and between writes (`None`: no limit).
    pub retrieval_timeout: Option<Duration>,
    /// Absolute limit on one request.
    pub max_request_duration: Duration,
    /// Requests handled at once; past it, 429 (`0`: no limit).
    pub max_concurrent_requests: usize,
    /// Files larger than this refuse range requests with 501 (`0`: no limit).
    pub max_range_request_file_size: u64,
    /// `/routing/v1` (delegated routing) is served on this port.
    pub expose_routing_api: bool,
    /// Longest request head (request line and headers) read; longer is 431.
    pub max_header_bytes: usize,
    /// Longest request target (path and query); longer is 414.
    pub max_url_bytes: usize,
    /// Open connections at once; more wait in the kernel's backlog.
    pub max_connections: usize,
    /// Bytes of verified blocks kept in memory for hot content.
    pub block_cache_bytes: usize,
    /// How long a response may wait for a client that does not read
    /// before the connection is dropped.
    pub write_timeout: Duration,
    /// How long a connection may take to send its request head.
    pub header_read_timeout: Duration,
}

/// A `Gateway` key with a value this gateway cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Gateway.{key}: {message}")]
pub struct ConfigError {
    pub key: String,
    pub message: String,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        let mut public_gateways = BTreeMap::new();
        public_gateways.insert("localhost".to_string(), localhost());
        Self {
            public_gateways,
            no_fetch: false,
            no_dnslink: false,
            deserialized_responses: true,
            allow_codec_conversion: false,
            disable_html_errors: false,
            http_headers: Vec::new(),
            root_redirect: None,
            retrieval_timeout: Some(Duration::from_secs(30)),
            max_request_duration: Duration::from_secs(3600),
            max_concurrent_requests: 4096,
            max_range_request_file_size: 0,
            expose_routing_api: true,
            max_header_bytes: 64 * 1024,
            max_url_bytes: 16 * 1024,
            max_connections: 16_384,
            block_cache_bytes: 64 << 20,
            write_timeout: Duration::from_secs(60),
            header_read_timeout: Duration::from_secs(30),
        }
    }
}

/// Kubo's implicit subdomain gateway on `localhost`.
fn localhost() -> PublicGateway {
    PublicGateway {
        paths: vec!["/ipfs".into(), "/ipns".into(), "/p2p".into()],
        use_subdomains: true,
        no_dnslink: false,
        inline_dnslink: false,
        deserialized_responses: true,
    }
}

fn err(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError { key: key.to_string(), message: message.into() }
}

fn flag(gw: &Value, key: &str, default: bool) -> Result<bool, ConfigError> {
    match gw.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(err(key, format!("expected a boolean, got {v}"))),
    }
}

fn duration(gw: &Value, key: &str) -> Result<Option<Duration>, ConfigError> {
    match gw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_duration(s).map(Some).map_err(|e| err(key, e)),
        Some(v) => Err(err(key, format!("expected a duration string, got {v}"))),
    }
}

fn integer(gw: &Value, key: &str) -> Result<Option<u64>, ConfigError> {
    match gw.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            n.as_u64().map(Some).ok_or_else(|| err(key, format!("expected a non-negative integer, got {n}")))
        }
        Some(v) => Err(err(key, format!("expected an integer, got {v}"))),
    }
}

fn bytes(gw: &Value, key: &str) -> Result<Option<u64>, ConfigError> {
    match gw.get(key) {
        Some(Value::String(s)) => parse_bytes(s).map(Some).map_err(|e| err(key, e)),
        _ => integer(gw, key),
    }
}

impl GatewayConfig {
    /// Reads `Gateway.*` from a config document (missing keys keep Kubo's
    /// defaults).
    pub fn from_config(doc: &Value) -> Result<Self, ConfigError> {
        let mut c = Self::default();
        let Some(gw) = doc.get("Gateway").filter(|v| !v.is_null()) else { return Ok(c) };
        if !gw.is_object() {
            return Err(err("", "expected an object"));
        }
        c.no_fetch = flag(gw, "NoFetch", false)?;
        c.no_dnslink = flag(gw, "NoDNSLink", false)?;
        c.deserialized_responses = flag(gw, "DeserializedResponses", true)?;
        c.allow_codec_conversion = flag(gw, "AllowCodecConversion", false)?;
        c.disable_html_errors = flag(gw, "DisableHTMLErrors", false)?;
        c.expose_routing_api = flag(gw, "ExposeRoutingAPI", true)?;
        match gw.get("RootRedirect") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => c.root_redirect = (!s.is_empty()).then(|| s.clone()),
            Some(v) => return Err(err("RootRedirect", format!("expected a string, got {v}"))),
        }
        if let Some(d) = duration(gw, "RetrievalTimeout")? {
            c.retrieval_timeout = (!d.is_zero()).then_some(d);
        }
        if let Some(d) = duration(gw, "MaxRequestDuration")?
            && !d.is_zero()
        {
            c.max_request_duration = d;
        }
        if let Some(n) = integer(gw, "MaxConcurrentRequests")? {
            c.max_concurrent_requests = usize::try_from(n).unwrap_or(usize::MAX);
        }
        if let Some(n) = bytes(gw, "MaxRangeRequestFileSize")? {
            c.max_range_request_file_size = n;
        }
        match gw.get("HTTPHeaders") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let vals = match v {
                        Value::Array(a) => a
                            .iter()
                            .map(|x| x.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| err("HTTPHeaders", format!("{k}: expected strings")))?,
                        Value::String(s) => vec![s.clone()],
                        _ => return Err(err("HTTPHeaders", format!("{k}: expected a list of strings"))),
                    };
                    let name = http::HeaderName::from_bytes(k.as_bytes())
                        .map_err(|_| err("HTTPHeaders", format!("{k:?} is not a header name")))?;
                    for v in &vals {
                        http::HeaderValue::from_str(v)
                            .map_err(|_| err("HTTPHeaders", format!("{k}: {v:?} is not a header value")))?;
                    }
                    c.http_headers.push((name.as_str().to_string(), vals));
                }
            }
            Some(v) => return Err(err("HTTPHeaders", format!("expected an object, got {v}"))),
        }
        match gw.get("PublicGateways") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (host, spec) in m {
                    if spec.is_null() {
                        // `null` removes an implicit default (Kubo's way to
                        // turn the localhost subdomain gateway off).
                        c.public_gateways.remove(host);
                        continue;
                    }
                    let key = format!("PublicGateways.{host}");
                    let paths = match spec.get("Paths") {
                        None | Some(Value::Null) => Vec::new(),
                        Some(Value::Array(a)) => a
                            .iter()
                            .map(|x| x.as_str().map(str::to_string))
                            .collect::<Option<Vec<_>>>()
                            .ok_or_else(|| err(&key, "Paths: expected strings"))?,
                        Some(_) => return Err(err(&key, "Paths: expected a list")),
                    };
                    let g = PublicGateway {
                        paths,
                        use_subdomains: flag(spec, "UseSubdomains", false).map_err(|e| err(&key, e.to_string()))?,
                        no_dnslink: flag(spec, "NoDNSLink", false).map_err(|e| err(&key, e.to_string()))?,
                        inline_dnslink: flag(spec, "InlineDNSLink", false).map_err(|e| err(&key, e.to_string()))?,
                        deserialized_responses: flag(spec, "DeserializedResponses", c.deserialized_responses)
                            .map_err(|e| err(&key, e.to_string()))?,
                    };
                    c.public_gateways.insert(host.clone(), g);
                }
            }
            Some(v) => return Err(err("PublicGateways", format!("expected an object, got {v}"))),
        }
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubo_keys() {
        let c = GatewayConfig::from_config(&serde_json::json!({})).unwrap();
        assert!(c.public_gateways["localhost"].use_subdomains);
        assert_eq!(c.retrieval_timeout, Some(Duration::from_secs(30)));
        let doc = serde_json::json!({"Gateway": {
            "NoFetch": true, "RetrievalTimeout": "2s", "MaxConcurrentRequests": 3,
            "MaxRangeRequestFileSize": "1KiB", "RootRedirect": "/ipfs/x",
            "HTTPHeaders": {"X-Test": ["a", "b"]},
            "PublicGateways": {"localhost": null, "dweb.example": {"Paths": ["/ipfs"], "UseSubdomains": true}}
        }});
        let c = GatewayConfig::from_config(&doc).unwrap();
        assert!(c.no_fetch);
        assert_eq!(c.retrieval_timeout, Some(Duration::from_secs(2)));
        assert_eq!(c.max_concurrent_requests, 3);
        assert_eq!(c.max_range_request_file_size, 1024);
        assert!(!c.public_gateways.contains_key("localhost"));
        assert!(c.public_gateways["dweb.example"].use_subdomains);
        assert_eq!(c.http_headers, vec![("x-test".to_string(), vec!["a".to_string(), "b".to_string()])]);
        assert!(GatewayConfig::from_config(&serde_json::json!({"Gateway": {"NoFetch": "yes"}})).is_err());
        assert!(GatewayConfig::from_config(&serde_json::json!({"Gateway": {"RetrievalTimeout": "soon"}})).is_err());
    }
}
