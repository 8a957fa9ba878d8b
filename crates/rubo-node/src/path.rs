//! Content paths: `/ipfs/<cid>/a/b`, `<cid>/a/b`, `ipfs://<cid>/a/b`.

use rubo_types::{Cid, parse_cid};

use crate::NodeError;

/// An immutable path: a root CID and the names below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpfsPath {
    pub root: Cid,
    pub rest: Vec<String>,
}

impl IpfsPath {
    pub fn from_cid(root: Cid) -> Self {
        Self { root, rest: Vec::new() }
    }

    /// Parses the forms Kubo accepts for an immutable path.
    pub fn parse(s: &str) -> Result<Self, NodeError> {
        let bad = |why: String| NodeError::InvalidInput(format!("invalid path {s:?}: {why}"));
        let body = if let Some(r) = s.strip_prefix("/ipfs/") {
            r
        } else if let Some(r) = s.strip_prefix("ipfs://") {
            r
        } else if let Some(r) = s.strip_prefix("ipfs:") {
            r
        } else if s.starts_with("/ipns/") || s.starts_with("ipns:") {
            return Err(bad("IPNS names are not supported yet".into()));
        } else if s.starts_with('/') {
            return Err(bad("paths must start with /ipfs/".into()));
        } else {
            s
        };
        let mut parts = body.split('/');
        let root_str = parts.next().unwrap_or_default();
        let root = parse_cid(root_str).map_err(|e| bad(e.to_string()))?;
        let rest: Vec<String> = parts.filter(|p| !p.is_empty()).map(str::to_string).collect();
        if rest.iter().any(|p| p == "." || p == "..") {
            return Err(bad("'.' and '..' are not allowed in content paths".into()));
        }
        Ok(Self { root, rest })
    }

    /// The canonical string form.
    pub fn to_string_with(&self, root: &str) -> String {
        let mut s = format!("/ipfs/{root}");
        for p in &self.rest {
            s.push('/');
            s.push_str(p);
        }
        s
    }
}

impl std::fmt::Display for IpfsPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_string_with(&self.root.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let c = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";
        for s in [c.to_string(), format!("/ipfs/{c}"), format!("ipfs://{c}"), format!("/ipfs/{c}/")] {
            let p = IpfsPath::parse(&s).unwrap();
            assert_eq!(p.root.to_string(), c);
            assert!(p.rest.is_empty());
        }
        let p = IpfsPath::parse(&format!("/ipfs/{c}/a/b")).unwrap();
        assert_eq!(p.rest, vec!["a", "b"]);
        assert_eq!(p.to_string(), format!("/ipfs/{c}/a/b"));
        assert!(IpfsPath::parse("/ipfs/notacid").is_err());
        assert!(IpfsPath::parse("/foo/bar").is_err());
        assert!(IpfsPath::parse(&format!("/ipfs/{c}/../x")).is_err());
    }
}
