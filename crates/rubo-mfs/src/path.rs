//! MFS paths, handled as Kubo handles them: `checkPath` and Go's `path`
//! package (`Clean`, `Split`, `Dir`, `Base`), so that odd inputs ("/a/../b",
//! "/a/b/", "//") resolve as they do in Kubo.

use crate::error::MfsError;

/// Kubo's `checkPath`: the path must be non-empty and absolute; it is cleaned
/// (`.`/`..`/duplicate slashes resolved) and a trailing slash is kept
/// (meaning "inside this directory" for `cp`/`mv` destinations).
pub fn check_path(p: &str) -> Result<String, MfsError> {
    if p.is_empty() {
        return Err(MfsError::EmptyPath);
    }
    if !p.starts_with('/') {
        return Err(MfsError::NoLeadingSlash);
    }
    let mut cleaned = clean(p);
    if p.ends_with('/') && p != "/" {
        cleaned.push('/');
    }
    Ok(cleaned)
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    // Leading ".." elements a relative path cannot drop.
    let mut dotdots = 0usize;
    for el in p.split('/') {
        match el {
            "" | "." => {}
            ".." => {
                if out.len() > dotdots {
                    out.pop();
                } else if !rooted {
                    out.push("..");
                    dotdots += 1;
                }
            }
            e => out.push(e),
        }
    }
    let body = out.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => format!("/{body}"),
        (false, true) => ".".into(),
        (false, false) => body,
    }
}

/// Go's `path.Split`: everything up to and including the last slash, and the rest.
pub fn split(p: &str) -> (&str, &str) {
    match p.rfind('/') {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => ("", p),
    }
}

/// Go's `path.Dir`.
pub fn dir(p: &str) -> String {
    clean(split(p).0)
}

/// Go's `path.Base`.
pub fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

/// The components `mfs.DirLookup` walks: slashes trimmed at both ends, then
/// split on `/` (empty for the root).
pub fn lookup_parts(p: &str) -> Vec<String> {
    let t = p.trim_matches('/');
    if t.is_empty() {
        return Vec::new();
    }
    t.split('/').map(str::to_string).collect()
}

/// The components `mfs.Mkdir` creates: split on `/`, one leading and one
/// trailing empty component dropped.
pub fn mkdir_parts(p: &str) -> Vec<String> {
    let mut parts: Vec<String> = p.split('/').map(str::to_string).collect();
    if parts.first().is_some_and(String::is_empty) {
        parts.remove(0);
    }
    if parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_path_like_kubo() {
        assert!(matches!(check_path(""), Err(MfsError::EmptyPath)));
        assert!(matches!(check_path("a/b"), Err(MfsError::NoLeadingSlash)));
        assert_eq!(check_path("/").unwrap(), "/");
        assert_eq!(check_path("/a/b/").unwrap(), "/a/b/");
        assert_eq!(check_path("/a//b/./c/../d").unwrap(), "/a/b/d");
        assert_eq!(check_path("/..").unwrap(), "/");
        assert_eq!(check_path("/../a/..").unwrap(), "/");
        // Go quirk: "//" cleans to "/" and gets its trailing slash back.
        assert_eq!(check_path("//").unwrap(), "//");
        for p in ["/", "/a/b/", "//", "/x/../y"] {
            let once = check_path(p).unwrap();
            assert_eq!(check_path(&once).unwrap(), once);
        }
    }

    #[test]
    fn go_path_functions() {
        assert_eq!(clean("a/../../b"), "../b");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("./"), ".");
        assert_eq!(split("/a/b"), ("/a/", "b"));
        assert_eq!(split("/a/b/"), ("/a/b/", ""));
        assert_eq!(split("b"), ("", "b"));
        assert_eq!(dir("/a/b"), "/a");
        assert_eq!(dir("/a"), "/");
        assert_eq!(dir("/a/b/"), "/a/b");
        assert_eq!(base("/a/b"), "b");
        assert_eq!(base("/a/b/"), "b");
        assert_eq!(base("/"), "/");
        assert_eq!(base(""), ".");
        assert_eq!(lookup_parts("/a/b/"), vec!["a", "b"]);
        assert!(lookup_parts("//").is_empty());
        assert_eq!(mkdir_parts("/a/b/"), vec!["a", "b"]);
        assert!(mkdir_parts("/").is_empty());
    }
}
