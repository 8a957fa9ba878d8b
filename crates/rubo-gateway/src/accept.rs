//! Which response format a request asks for: `?format=` first (IPIP-523),
//! else the first vendor-specific type in `Accept` (boxo reads them in
//! order, ignoring weights), else the implicit deserialized response.

/// A response format other than the implicit deserialized one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    Raw,
    Car,
    Tar,
    Json,
    Cbor,
    DagJson,
    DagCbor,
    IpnsRecord,
    /// An `application/vnd.ipld.*`/`vnd.ipfs.*` type this gateway does not
    /// serve (400, as Kubo).
    Unsupported(String),
}

impl Format {
    /// The media type.
    pub fn media_type(&self) -> &str {
        match self {
            Self::Raw => "application/vnd.ipld.raw",
            Self::Car => "application/vnd.ipld.car",
            Self::Tar => "application/x-tar",
            Self::Json => "application/json",
            Self::Cbor => "application/cbor",
            Self::DagJson => "application/vnd.ipld.dag-json",
            Self::DagCbor => "application/vnd.ipld.dag-cbor",
            Self::IpnsRecord => "application/vnd.ipfs.ipns-record",
            Self::Unsupported(s) => s,
        }
    }

    /// The `?format=` value.
    pub fn param(&self) -> &str {
        match self {
            Self::Raw => "raw",
            Self::Car => "car",
            Self::Tar => "tar",
            Self::Json => "json",
            Self::Cbor => "cbor",
            Self::DagJson => "dag-json",
            Self::DagCbor => "dag-cbor",
            Self::IpnsRecord => "ipns-record",
            Self::Unsupported(s) => s,
        }
    }

    /// The format a `?format=` value names; unknown values are ignored, as
    /// boxo does.
    pub fn from_param(s: &str) -> Option<Self> {
        Some(match s {
            "raw" => Self::Raw,
            "car" => Self::Car,
            "tar" => Self::Tar,
            "json" => Self::Json,
            "cbor" => Self::Cbor,
            "dag-json" => Self::DagJson,
            "dag-cbor" => Self::DagCbor,
            "ipns-record" => Self::IpnsRecord,
            _ => return None,
        })
    }

    fn from_media_type(s: &str) -> Self {
        match s {
            "application/vnd.ipld.raw" => Self::Raw,
            "application/vnd.ipld.car" => Self::Car,
            "application/x-tar" => Self::Tar,
            "application/json" => Self::Json,
            "application/cbor" => Self::Cbor,
            "application/vnd.ipld.dag-json" => Self::DagJson,
            "application/vnd.ipld.dag-cbor" => Self::DagCbor,
            "application/vnd.ipfs.ipns-record" => Self::IpnsRecord,
            other => Self::Unsupported(other.to_string()),
        }
    }
}

/// The negotiated format.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Negotiated {
    /// `None`: the implicit deserialized response.
    pub format: Option<Format>,
    /// Parameters of the matching `Accept` entry (lower-case names), such as
    /// CAR's `version`, `order`, `dups`.
    pub params: Vec<(String, String)>,
}

impl Negotiated {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Why an `Accept` header could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("error while processing the Accept header: {0}")]
pub struct AcceptError(pub String);

/// Entries of `Accept` considered, at most: the rest are ignored (browsers
/// send about ten).
const MAX_ENTRIES: usize = 64;

/// Negotiates from the `?format=` value (if any) and the `Accept` header values.
pub fn negotiate(format_param: Option<&str>, accept: &[&str]) -> Result<Negotiated, AcceptError> {
    let from_param = format_param.and_then(Format::from_param);
    let mut from_accept: Option<(Format, Vec<(String, String)>)> = None;
    'outer: for header in accept {
        for entry in header.split(',').take(MAX_ENTRIES) {
            let entry = entry.trim();
            let interesting = [
                "application/vnd.ipld",
                "application/vnd.ipfs",
                "application/x-tar",
                "application/json",
                "application/cbor",
            ]
            .iter()
            .any(|p| entry.starts_with(p));
            if !interesting {
                continue;
            }
            let (media, params) = parse_media_type(entry)?;
            from_accept = Some((Format::from_media_type(&media), params));
            break 'outer;
        }
    }
    Ok(match (from_param, from_accept) {
        // The Accept parameters count only when Accept names the same format.
        (Some(f), Some((a, params))) if f == a => Negotiated { format: Some(f), params },
        (Some(f), _) => Negotiated { format: Some(f), params: Vec::new() },
        (None, Some((a, params))) => Negotiated { format: Some(a), params },
        (None, None) => Negotiated::default(),
    })
}

/// Go's `mime.ParseMediaType` for what Accept entries hold: `type/subtype`
/// then `; name=value` pairs (values may be quoted), names lower-cased.
pub fn parse_media_type(s: &str) -> Result<(String, Vec<(String, String)>), AcceptError> {
    let bad = |why: &str| AcceptError(format!("mime: {why}"));
    let mut parts = s.split(';');
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let (ty, sub) = media.split_once('/').ok_or_else(|| bad("expected slash after first token"))?;
    if !is_token(ty) || !is_token(sub) {
        return Err(bad("expected token after slash"));
    }
    let mut params: Vec<(String, String)> = Vec::new();
    for p in parts {
        let p = p.trim();
        if p.is_empty() {
            // Go tolerates a trailing semicolon only.
            continue;
        }
        let (k, v) = p.split_once('=').ok_or_else(|| bad("invalid media parameter"))?;
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if !is_token(&k) {
            return Err(bad("invalid media parameter"));
        }
        let v = if let Some(q) = v.strip_prefix('"') {
            q.strip_suffix('"').ok_or_else(|| bad("invalid media parameter"))?.replace("\\\"", "\"")
        } else if is_token(v) {
            v.to_string()
        } else {
            return Err(bad("invalid media parameter"));
        };
        if params.iter().any(|(n, _)| *n == k) {
            return Err(bad("duplicate parameter name"));
        }
        if params.len() == MAX_ENTRIES {
            return Err(bad("too many parameters"));
        }
        params.push((k, v));
    }
    Ok((media, params))
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_wins_over_accept() {
        let n = negotiate(Some("car"), &["application/vnd.ipld.raw"]).unwrap();
        assert_eq!(n.format, Some(Format::Car));
        assert!(n.params.is_empty());
        let n = negotiate(Some("car"), &["application/vnd.ipld.car; version=1; order=dfs; dups=y"]).unwrap();
        assert_eq!(n.param("dups"), Some("y"));
        let n = negotiate(None, &["text/html,application/vnd.ipld.car;order=unk,*/*"]).unwrap();
        assert_eq!((n.format.clone(), n.param("order")), (Some(Format::Car), Some("unk")));
        assert_eq!(negotiate(Some("nope"), &["text/html"]).unwrap().format, None);
        assert_eq!(
            negotiate(None, &["application/vnd.ipld.foo"]).unwrap().format,
            Some(Format::Unsupported("application/vnd.ipld.foo".into()))
        );
        assert!(negotiate(None, &["application/vnd.ipld.car; x"]).is_err());
    }
}
