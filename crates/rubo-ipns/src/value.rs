//! A record's `Value` as the content path it names (boxo `Record.Value`).

use rubo_types::{cid_from_bytes, parse_cid};

/// What an empty `Value` stands for: the identity CID of zero bytes (boxo's
/// `NoopValue`, for records whose payload is in custom data fields).
pub const NOOP_VALUE: &str = "/ipfs/bafkqaaa";

/// The content path a `Value` names, cleaned as boxo's `path.NewPath` cleans
/// it: a `/ipfs/<cid>`, `/ipld/<cid>` or `/ipns/<name>` path, `..` and `.`
/// and doubled slashes resolved, a trailing slash kept. A `Value` that does
/// not start with `/` is a binary CID (the legacy compact form), read as
/// `/ipfs/<cid>`.
pub fn normalize_value(value: &[u8]) -> Result<String, String> {
    let Some(&first) = value.first() else { return Ok(NOOP_VALUE.to_owned()) };
    if first != b'/' {
        let cid = cid_from_bytes(value).map_err(|e| format!("not a path, nor a binary CID: {e}"))?;
        return Ok(format!("/ipfs/{cid}"));
    }
    let s = std::str::from_utf8(value).map_err(|_| "path is not UTF-8".to_owned())?;
    // Go's path.Clean on a rooted path.
    let mut segments: Vec<&str> = Vec::new();
    for seg in s.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            seg => segments.push(seg),
        }
    }
    let [namespace, root, ..] = segments.as_slice() else {
        return Err(format!("path {s:?} does not have enough components"));
    };
    match *namespace {
        "ipfs" | "ipld" => {
            parse_cid(root).map_err(|e| format!("path {s:?}: {e}"))?;
        }
        "ipns" => {}
        other => return Err(format!("path {s:?}: unknown namespace {other:?}")),
    }
    let mut cleaned = format!("/{}", segments.join("/"));
    if s.ends_with('/') {
        cleaned.push('/');
    }
    Ok(cleaned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_as_boxo_cleans_them() {
        for (input, want) in [
            ("", Some(NOOP_VALUE)),
            ("/ipfs/bafkqaaa", Some("/ipfs/bafkqaaa")),
            ("/ipfs/bafkqaaa/", Some("/ipfs/bafkqaaa/")),
            ("//ipfs//bafkqaaa/./a/../b", Some("/ipfs/bafkqaaa/b")),
            ("/ipld/bafkqaaa/x", Some("/ipld/bafkqaaa/x")),
            ("/ipns/en.wikipedia-on-ipfs.org/wiki", Some("/ipns/en.wikipedia-on-ipfs.org/wiki")),
            ("/ipns/../ipfs/bafkqaaa", Some("/ipfs/bafkqaaa")),
            (
                "/ipfs/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
                Some("/ipfs/QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn"),
            ),
            ("/ipfs/notacid", None),
            ("/ipfs", None),
            ("/ipfs/", None),
            ("/", None),
            ("/foo/bar", None),
            ("ipfs/bafkqaaa", None),
        ] {
            assert_eq!(normalize_value(input.as_bytes()).ok().as_deref(), want, "{input:?}");
        }
        assert!(normalize_value(b"/ipns/\xff").is_err());
    }

    #[test]
    fn binary_cids_are_ipfs_paths() {
        // bafkqaaa: CIDv1, raw, identity multihash of nothing.
        assert_eq!(normalize_value(&[0x01, 0x55, 0x00, 0x00]).unwrap(), "/ipfs/bafkqaaa");
        assert!(normalize_value(&[0x01, 0x55, 0x00, 0x00, 0x00]).is_err());
        assert!(normalize_value(b"bafkqaaa").is_err());
    }
}
