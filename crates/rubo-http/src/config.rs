//! What the daemon decides for the API: allowed origins and CORS settings,
//! extra response headers, `API.Authorizations`, limits and metrics, read
//! from Kubo's config keys (`API.HTTPHeaders`, `API.Authorizations`).

use serde_json::Value;

use crate::auth::{AuthRule, header_for_secret};
use crate::metrics::Metrics;

/// The API server's settings.
#[derive(Clone)]
pub struct ApiConfig {
    /// The port the default allowed origins name (`http://127.0.0.1:<port>`...);
    /// `None`: the listener's.
    pub port: Option<u16>,
    /// Origins allowed besides the defaults (`API.HTTPHeaders
    /// ["Access-Control-Allow-Origin"]`); `*` allows any.
    pub allowed_origins: Vec<String>,
    /// Methods a CORS preflight may ask for (default `POST`).
    pub allowed_methods: Vec<String>,
    /// `Access-Control-Allow-Credentials: true` on allowed cross-origin requests.
    pub allow_credentials: bool,
    /// Headers added to every command response (`API.HTTPHeaders`, less the CORS ones).
    pub headers: Vec<(String, String)>,
    /// `API.Authorizations`: `None` when unset (no checks); `Some` (even
    /// empty) when set: only requests with a listed secret pass.
    pub auth: Option<Vec<AuthRule>>,
    /// Connections served at once; more wait in the listen backlog. HTTP/1
    /// runs one request at a time per connection, so this caps requests too.
    pub max_connections: usize,
    /// The request line and headers, in bytes (Go's default: 1 MiB).
    pub max_header_bytes: usize,
    pub metrics: Metrics,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            port: None,
            allowed_origins: Vec::new(),
            allowed_methods: vec!["POST".into()],
            allow_credentials: false,
            headers: Vec::new(),
            auth: None,
            max_connections: 512,
            max_header_bytes: 1 << 20,
            metrics: Metrics::new(),
        }
    }
}

/// A config value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("API.HTTPHeaders.{0}: expected a list of strings")]
    Header(String),
    #[error("API.Authorizations.{0}: {1}")]
    Auth(String, String),
}

fn strings(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::Array(a) => a.iter().map(|s| s.as_str().map(str::to_string)).collect(),
        Value::String(s) => Some(vec![s.clone()]),
        Value::Null => Some(Vec::new()),
        _ => None,
    }
}

impl ApiConfig {
    /// Reads `API.HTTPHeaders` and `API.Authorizations` from a config document.
    pub fn from_config(doc: &Value) -> Result<Self, ConfigError> {
        let mut cfg = Self::default();
        if let Some(headers) = doc.pointer("/API/HTTPHeaders").and_then(Value::as_object) {
            for (name, v) in headers {
                let values = strings(v).ok_or_else(|| ConfigError::Header(name.clone()))?;
                match name.to_ascii_lowercase().as_str() {
                    "access-control-allow-origin" => cfg.allowed_origins = values,
                    "access-control-allow-methods" => {
                        if !values.is_empty() {
                            cfg.allowed_methods = values.iter().map(|m| m.to_ascii_uppercase()).collect();
                        }
                    }
                    "access-control-allow-credentials" => {
                        cfg.allow_credentials = values.iter().any(|v| v.eq_ignore_ascii_case("true"));
                    }
                    _ => cfg.headers.extend(values.into_iter().map(|v| (name.clone(), v))),
                }
            }
        }
        if let Some(auths) = doc.pointer("/API/Authorizations").and_then(Value::as_object)
            && !auths.is_empty()
        {
            let mut rules = Vec::new();
            for (name, entry) in auths {
                let secret = entry.get("AuthSecret").and_then(Value::as_str).unwrap_or_default();
                let paths = match entry.get("AllowedPaths") {
                    None => Vec::new(),
                    Some(p) => strings(p).ok_or_else(|| {
                        ConfigError::Auth(name.clone(), "AllowedPaths: expected a list of strings".into())
                    })?,
                };
                // An unknown secret type admits no one, as in Kubo.
                if let Some(header) = header_for_secret(secret) {
                    rules.push(AuthRule { name: name.clone(), header, allowed_paths: paths });
                }
            }
            cfg.auth = Some(rules);
        }
        Ok(cfg)
    }

    /// Every allowed origin: the configured ones, then the local ones for `port`.
    pub fn origins(&self, port: u16) -> Vec<String> {
        let mut v = self.allowed_origins.clone();
        for host in ["127.0.0.1", "[::1]", "localhost"] {
            for scheme in ["http", "https"] {
                v.push(format!("{scheme}://{host}:{port}"));
            }
        }
        // The IPFS Companion browser extensions.
        v.push("chrome-extension://nibjojkomfdiaoajekhjakgkdhaomnch".into());
        v.push("chrome-extension://hjoieblefckbooibpepigmacodalfndh".into());
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_kubo_config() {
        let doc = serde_json::json!({"API": {
            "HTTPHeaders": {"Access-Control-Allow-Origin": ["https://webui.example"], "X-Extra": ["1"],
                            "Access-Control-Allow-Credentials": ["true"]},
            "Authorizations": {
                "alice": {"AuthSecret": "basic:alice:pw", "AllowedPaths": ["/api/v0"]},
                "bad": {"AuthSecret": "digest:x", "AllowedPaths": ["/api/v0"]}}}});
        let c = ApiConfig::from_config(&doc).unwrap();
        assert_eq!(c.allowed_origins, vec!["https://webui.example"]);
        assert!(c.allow_credentials);
        assert_eq!(c.headers, vec![("X-Extra".to_string(), "1".to_string())]);
        let auth = c.auth.clone().unwrap();
        assert_eq!(auth.len(), 1);
        assert_eq!(auth[0].header, "Basic YWxpY2U6cHc=");
        assert!(c.origins(5001).contains(&"http://localhost:5001".to_string()));
        assert!(ApiConfig::from_config(&serde_json::json!({})).unwrap().auth.is_none());
    }
}
