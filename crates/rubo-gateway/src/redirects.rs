//! The `_redirects` file (web-redirects-file spec): `from to [status]` per
//! line, placeholders (`:name`) and a trailing splat (`*`) in `from`, rules
//! tried in order. Parsed as Kubo does (go-ipfs-redirects-file), with the
//! spec's stricter rule that a placeholder may not repeat in `from`.

/// The largest file read (the spec's limit).
pub(crate) const MAX_FILE_SIZE: usize = 64 * 1024;

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub from: String,
    pub to: String,
    pub status: u16,
}

/// Why a `_redirects` file could not be used (answered 500).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedirectsError {
    #[error("redirects file size cannot exceed {MAX_FILE_SIZE} bytes")]
    TooLarge,
    #[error("missing 'to' path")]
    MissingTo,
    #[error("must match format 'from to [status]'")]
    TooManyFields,
    #[error("parsing 'from': {0}")]
    From(String),
    #[error("parsing 'to': {0}")]
    To(String),
    #[error("parsing status {0:?}: {1}")]
    Status(String, String),
}

/// Parses a whole file.
pub fn parse(data: &[u8]) -> Result<Vec<Rule>, RedirectsError> {
    if data.len() > MAX_FILE_SIZE {
        return Err(RedirectsError::TooLarge);
    }
    let text = String::from_utf8_lossy(data);
    let mut rules = Vec::new();
    for line in text.split('\n') {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() <= 1 {
            return Err(RedirectsError::MissingTo);
        }
        if fields.len() > 3 {
            return Err(RedirectsError::TooManyFields);
        }
        let from = parse_from(fields[0]).map_err(RedirectsError::From)?;
        let to = parse_to(fields[1]).map_err(RedirectsError::To)?;
        let status = match fields.get(2) {
            Some(s) => parse_status(s).map_err(|e| RedirectsError::Status((*s).to_string(), e))?,
            None => 301,
        };
        rules.push(Rule { from, to, status });
    }
    Ok(rules)
}

fn parse_from(s: &str) -> Result<String, String> {
    let splats = s.matches('*').count();
    if splats > 0 {
        if !s.ends_with('*') {
            return Err("path must end with asterisk".into());
        }
        if splats > 1 {
            return Err("path can have at most one asterisk".into());
        }
    }
    if !s.starts_with('/') {
        return Err("path must begin with '/'".into());
    }
    check_url(s)?;
    let mut seen: Vec<&str> = Vec::new();
    for seg in s.split('/') {
        if let Some(name) = seg.strip_prefix(':') {
            if seen.contains(&name) {
                return Err(format!("placeholder :{name} used more than once"));
            }
            seen.push(name);
        }
    }
    Ok(s.to_string())
}

fn parse_to(s: &str) -> Result<String, String> {
    check_url(s)?;
    if !s.starts_with('/') {
        let scheme = s.split_once(':').map(|(sch, _)| sch.to_ascii_lowercase());
        if !matches!(scheme.as_deref(), Some("http" | "https" | "ipfs" | "ipns")) {
            return Err("invalid URL scheme".into());
        }
    }
    Ok(s.to_string())
}

/// What Go's `url.Parse` refuses in these fields: control characters and
/// malformed percent escapes.
fn check_url(s: &str) -> Result<(), String> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(format!("parse {s:?}: net/url: invalid control character in URL"));
    }
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok = b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit);
            if !ok {
                return Err(format!("parse {s:?}: invalid URL escape"));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

fn parse_status(s: &str) -> Result<u16, String> {
    if s.ends_with('!') {
        return Err("forced redirects (or \"shadowing\") are not supported".into());
    }
    let code: u16 = s.parse().map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))?;
    match code {
        200 | 301 | 302 | 303 | 307 | 308 | 404 | 410 | 451 => Ok(code),
        c => Err(format!("status code {c} is not supported")),
    }
}

impl Rule {
    /// If `path` (from the content root, no trailing slash) matches `from`,
    /// the target with placeholders and the splat filled in.
    pub fn matches(&self, path: &str) -> Option<String> {
        let pattern = self.from.strip_suffix('/').unwrap_or(&self.from);
        let mut segments: Vec<&str> = pattern.split('/').collect();
        let trailing = segments.last() == Some(&"*");
        if trailing {
            segments.pop();
        }
        let mut params: Vec<(&str, &str)> = Vec::new();
        let mut s = path;
        for (i, seg) in segments.iter().enumerate() {
            let last = i + 1 == segments.len();
            let (here, rest) = match s.find('/') {
                Some(j) => {
                    if last && !trailing {
                        return None;
                    }
                    (&s[..j], &s[j + 1..])
                }
                None => {
                    if !last || trailing {
                        return None;
                    }
                    (s, "")
                }
            };
            match seg.strip_prefix(':') {
                Some(name) => params.push((name, here)),
                None if *seg == here => {}
                None => return None,
            }
            s = rest;
        }
        let mut to = self.to.clone();
        for (name, value) in &params {
            to = bounded_replace(&to, &format!(":{name}"), value)?;
        }
        bounded_replace(&to, ":splat", s)
    }
}

/// Longest redirect target produced: placeholders repeated in a 64 KiB
/// file, each replaced by a long request path, must not grow without bound.
pub const MAX_TARGET: usize = 64 * 1024;

/// `s.replace(from, to)`, or `None` past [`MAX_TARGET`] bytes.
fn bounded_replace(s: &str, from: &str, to: &str) -> Option<String> {
    let n = s.matches(from).count();
    let len = s.len() - n * from.len() + n.checked_mul(to.len())?;
    (len <= MAX_TARGET).then(|| s.replace(from, to))
}

/// The first rule matching `path`, with its expanded target.
pub fn find<'a>(rules: &'a [Rule], path: &str) -> Option<(&'a Rule, String)> {
    rules.iter().find_map(|r| r.matches(path).map(|to| (r, to)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLES: &str = "/redirect-one /one.html\n/301-redirect-one /one.html 301\n/302-redirect-two /two.html 302\n/200-index /index.html 200\n/posts/:year/:month/:day/:title /articles/:year/:month/:day/:title 301\n/splat/* /redirected-splat/:splat 301\n/not-found/* /404.html 404\n/gone/* /410.html 410\n/unavail/* /451.html 451\n/* /index.html 200\n";

    #[test]
    fn spec_examples() {
        let rules = parse(EXAMPLES.as_bytes()).unwrap();
        let go = |p: &str| find(&rules, p).map(|(r, to)| (r.status, to));
        assert_eq!(go("/redirect-one"), Some((301, "/one.html".into())));
        assert_eq!(go("/302-redirect-two"), Some((302, "/two.html".into())));
        assert_eq!(go("/posts/2022/01/01/hello-world"), Some((301, "/articles/2022/01/01/hello-world".into())));
        assert_eq!(go("/splat/one.html"), Some((301, "/redirected-splat/one.html".into())));
        assert_eq!(go("/not-found/x/y"), Some((404, "/404.html".into())));
        assert_eq!(go("/catch-all"), Some((200, "/index.html".into())));
        assert!(parse(b"/a /b 301!").unwrap_err().to_string().contains("forced redirects"));
        assert!(parse(b"/a /b 999").is_err());
        assert!(parse(b"/a").is_err());
        assert!(parse(b"a /b").is_err());
        assert!(parse(b"/a/:x/:x /b").is_err());
        assert!(parse(b"/a javascript:alert(1)").is_err());
        assert_eq!(parse(&vec![b'#'; MAX_FILE_SIZE + 1]), Err(RedirectsError::TooLarge));
        assert_eq!(parse(b"\r\n  # c\r\n/a /b\r\n").unwrap().len(), 1);
        // Expansion is bounded: many placeholders times a long path.
        let bomb = format!("/:a /{}", ":a".repeat(20_000));
        let rules = parse(bomb.as_bytes()).unwrap();
        assert!(find(&rules, &format!("/{}", "x".repeat(10_000))).is_none());
    }
}
