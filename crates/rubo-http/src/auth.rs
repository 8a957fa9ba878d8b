//! `API.Authorizations` (Kubo 0.25+): secrets in config, checked against the
//! whole `Authorization` header, each with the path prefixes it opens.

use base64::Engine;

/// The `Authorization` header value a secret stands for: `basic:user:pass`
/// is `Basic base64(user:pass)`, `basic:<b64>` is `Basic <b64>`,
/// `bearer:tok` and a secret without a type are `Bearer tok`. `None` for an
/// unknown type or an empty secret (such an entry admits no one).
pub fn header_for_secret(secret: &str) -> Option<String> {
    if secret.is_empty() {
        return None;
    }
    let Some((kind, rest)) = secret.split_once(':') else {
        return Some(format!("Bearer {secret}"));
    };
    let value = match kind {
        "basic" if rest.contains(':') => {
            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(rest))
        }
        "basic" => format!("Basic {rest}"),
        "bearer" => format!("Bearer {rest}"),
        _ => return None,
    };
    // `basic:` or `bearer:` alone would match a bare `Basic ` header.
    (!rest.is_empty()).then_some(value)
}

/// One authorized user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRule {
    /// The user's name in the config (for messages only).
    pub name: String,
    /// The exact `Authorization` header expected.
    pub header: String,
    /// Path prefixes this user may call (`/api/v0/pin` admits `/api/v0/pin/ls`,
    /// and, as in Kubo, `/api/v0/pinx`). `/api/v0/version` is always allowed.
    pub allowed_paths: Vec<String>,
}

/// Kubo's answer to every refused request (status 403).
pub const DENIED: &str = "Kubo RPC Access Denied: Please provide a valid authorization token as defined in the API.Authorizations configuration.\n";

/// Whether a request with this `Authorization` header may call `path`.
pub fn allowed(rules: &[AuthRule], header: Option<&[u8]>, path: &str) -> bool {
    let Some(header) = header else { return false };
    let Some(rule) = rules.iter().find(|r| r.header.as_bytes() == header) else { return false };
    path == "/api/v0/version" || rule.allowed_paths.iter().any(|p| path.starts_with(p.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets() {
        assert_eq!(header_for_secret("basic:alice:pw").as_deref(), Some("Basic YWxpY2U6cHc="));
        assert_eq!(header_for_secret("basic:YWxpY2U6cHc=").as_deref(), Some("Basic YWxpY2U6cHc="));
        assert_eq!(header_for_secret("bearer:tok").as_deref(), Some("Bearer tok"));
        assert_eq!(header_for_secret("tok").as_deref(), Some("Bearer tok"));
        assert_eq!(header_for_secret("digest:x"), None);
        assert_eq!(header_for_secret(""), None);
        assert_eq!(header_for_secret("bearer:"), None);
    }

    #[test]
    fn paths() {
        let rules = vec![AuthRule {
            name: "ci".into(),
            header: "Bearer tok".into(),
            allowed_paths: vec!["/api/v0/id".into(), "/api/v0/pin".into()],
        }];
        let tok = Some(&b"Bearer tok"[..]);
        assert!(allowed(&rules, tok, "/api/v0/pin/ls"));
        assert!(allowed(&rules, tok, "/api/v0/pinx"));
        assert!(allowed(&rules, tok, "/api/v0/version"));
        assert!(!allowed(&rules, tok, "/api/v0/cat"));
        assert!(!allowed(&rules, None, "/api/v0/version"));
        assert!(!allowed(&rules, Some(b"Bearer tok "), "/api/v0/id"));
        assert!(!allowed(&[], Some(b"Bearer tok"), "/api/v0/version"));
    }
}
