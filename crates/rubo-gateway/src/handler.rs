//! Requests, as Kubo's gateway answers them: the Host router (subdomain
//! origins and their redirects), then the path gateway (content paths,
//! formats, conditional requests, ranges, errors).

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use bytes::Bytes;
use rubo_dag::{PathMode, ResolveError, Resolver};
use rubo_node::{ErrorKind, Node, NodeError};
use rubo_types::dagpb::PbNode;
use rubo_types::{Block, Cid, codec, parse_cid};
use rubo_unixfs::export::{self, NodeKind};
use tokio::sync::Semaphore;

use crate::accept::{Format, Negotiated, negotiate};
use crate::body::{self, Held};
use crate::car::CarParams;
use crate::config::GatewayConfig;
use crate::host::{self, Gateways};
use crate::html;
use crate::mime;
use crate::range::{self, RangeError, RangeSpec};
use crate::redirects;
use crate::store::{BlockCache, Store};
use crate::url::{clean_path, encode_query, escape_path, parse_query, unescape};
use crate::{NameError, NameResolver};

const IMMUTABLE: &str = "public, max-age=29030400, immutable";
const LISTING_CACHE: &str = "public, max-age=604800, stale-while-revalidate=2678400";
/// Query parameters read, at most (the URL length is bounded anyway).
const MAX_QUERY_PAIRS: usize = 64;

/// An error answer: status and message.
#[derive(Debug, Clone)]
pub(crate) struct GwError {
    pub status: StatusCode,
    pub message: String,
}

impl GwError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    fn status_of(kind: ErrorKind) -> StatusCode {
        match kind {
            ErrorKind::Client => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Timeout => StatusCode::GATEWAY_TIMEOUT,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn node(e: NodeError, path: &str) -> Self {
        Self::new(Self::status_of(e.kind()), format!("failed to resolve {path}: {e}"))
    }
}

/// What the whole gateway shares.
pub(crate) struct State {
    cfg: GatewayConfig,
    gateways: Gateways,
    node: Node,
    cache: Arc<BlockCache>,
    limiter: Option<Arc<Semaphore>>,
    resolver: Arc<dyn NameResolver>,
    /// `Gateway.HTTPHeaders` plus Kubo's CORS defaults.
    extra_headers: Vec<(HeaderName, Vec<HeaderValue>)>,
}

/// One request, as the path gateway sees it after Host routing.
struct Ctx {
    head: bool,
    headers: HeaderMap,
    /// The content path to serve, decoded (`/ipfs/<cid>/a/b/`).
    path: String,
    /// The URL path as requested, escaped and decoded (links and redirects
    /// are relative to what the client sees, on subdomains too).
    url_path_raw: String,
    url_path: String,
    raw_query: Option<String>,
    query: Vec<(String, String)>,
    /// `//<gateway host>` on subdomain (origin-isolated) requests.
    origin: Option<String>,
    deserialized: bool,
    /// Headers every answer to this request carries (X-Ipfs-Path...).
    out: HeaderMap,
    /// Reads stay local (Gateway.NoFetch, only-if-cached).
    offline: bool,
}

impl Ctx {
    fn q(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn accepts_html(&self) -> bool {
        self.headers.get_all(header::ACCEPT).iter().any(|v| v.as_bytes().windows(9).any(|w| w == b"text/html"))
    }
}

fn hv(s: &str) -> HeaderValue {
    HeaderValue::from_bytes(s.as_bytes()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A content path split into its parts.
#[derive(Debug)]
struct ContentPath {
    ipns: bool,
    root: String,
    segments: Vec<String>,
    /// As Kubo prints it (cleaned, trailing slash kept).
    display: String,
}

fn parse_content_path(p: &str) -> Result<ContentPath, String> {
    let trailing = p.ends_with('/') && p.len() > 1;
    let mut display = clean_path(p);
    if trailing && !display.ends_with('/') {
        display.push('/');
    }
    let mut segs = display.split('/').filter(|s| !s.is_empty());
    let ns = segs.next().unwrap_or_default();
    let ipns = match ns {
        "ipfs" => false,
        "ipns" => true,
        _ => return Err(format!("invalid path {p:?}: path does not have a valid namespace")),
    };
    let root = segs.next().ok_or_else(|| format!("invalid path {p:?}: path does not have enough components"))?;
    if !ipns && let Err(e) = parse_cid(root) {
        return Err(format!("invalid path {p:?}: {e}"));
    }
    Ok(ContentPath { ipns, root: root.to_string(), segments: segs.map(str::to_string).collect(), display })
}

/// Where a path led.
struct Resolved {
    /// One CID per path segment (the root first, the terminal last).
    roots: Vec<Cid>,
    cid: Cid,
    remainder: Vec<String>,
    /// Blocks read on the way, in order (for CAR responses).
    path_blocks: Vec<Block>,
}

/// A block source recording what the resolver reads.
struct Recording<'a> {
    store: &'a Store,
    blocks: Option<std::cell::RefCell<Vec<Block>>>,
}

impl rubo_dag::BlockSource for Recording<'_> {
    fn get(&self, cid: &Cid) -> Result<Option<Block>, rubo_dag::SourceError> {
        let b = rubo_dag::BlockSource::get(self.store, cid)?;
        if let (Some(rec), Some(b)) = (&self.blocks, &b) {
            let mut v = rec.borrow_mut();
            if !v.iter().any(|x| x.cid() == b.cid()) {
                v.push(b.clone());
            }
        }
        Ok(b)
    }
}

fn resolve_error(e: ResolveError, path: &str) -> GwError {
    let status = match e {
        ResolveError::NoLink { .. } | ResolveError::Lookup(_) | ResolveError::NotFound(_) => StatusCode::NOT_FOUND,
        ResolveError::Source { cid, err } => return GwError::node(NodeError::from_source(&cid, err), path),
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    GwError::new(status, format!("failed to resolve {path}: {e}"))
}

/// Resolves `root/segments` one segment at a time (each segment's CID is a
/// logical root for `X-Ipfs-Roots`).
fn resolve(store: &Store, root: Cid, segments: &[String], record: bool, display: &str) -> Result<Resolved, GwError> {
    let src = Recording { store, blocks: record.then(|| std::cell::RefCell::new(Vec::new())) };
    let lookup = rubo_node::dag::UnixfsLookup;
    let resolver = Resolver::new(&src, PathMode::UnixFs(&lookup));
    let mut roots = vec![root];
    let mut cur = root;
    let mut within: Vec<String> = Vec::new();
    for seg in segments {
        let mut p = within.clone();
        p.push(seg.clone());
        let r = resolver.resolve_to_last_node(&cur, &p).map_err(|e| resolve_error(e, display))?;
        cur = r.cid;
        within = r.remainder;
        roots.push(cur);
    }
    let path_blocks = src.blocks.map(|r| r.into_inner()).unwrap_or_default();
    Ok(Resolved { roots, cid: cur, remainder: within, path_blocks })
}

fn block_of(store: &Store, cid: &Cid, path: &str) -> Result<Block, GwError> {
    store.get(cid).map_err(|e| GwError::node(e, path))
}

/// Which bytes of a file to read ahead for content sniffing.
#[derive(Debug, Clone, Copy)]
struct Sniff {
    at: u64,
    len: u64,
}

/// What a deserialized response serves.
enum Plan {
    /// A JSON/CBOR/DAG-JSON/DAG-CBOR block.
    Codec {
        block: Block,
    },
    File(FilePlan),
    Symlink {
        target: Bytes,
    },
    Dir {
        block: Block,
        dag_size: u64,
        index: Option<FilePlan>,
    },
}

struct FilePlan {
    block: Block,
    size: u64,
    mtime: Option<i64>,
    /// The first bytes of what is sent (for sniffing), from `head_at`.
    head: Bytes,
    head_at: u64,
}

/// Reads up to `len` bytes of a file from `at`.
fn read_head(store: &Store, block: &Block, at: u64, len: u64) -> Result<Bytes, NodeError> {
    let mut out = Vec::new();
    let mut get = |c: &Cid| store.get(c);
    export::read_file::<NodeError>(block, at, Some(len), &mut get, &mut |b: Bytes| {
        out.extend_from_slice(&b);
        Ok(())
    })
    .map_err(|e| match e {
        export::ExportError::Get(e) => e,
        e => NodeError::Internal(e.to_string()),
    })?;
    Ok(Bytes::from(out))
}

fn file_plan(
    store: &Store,
    block: Block,
    size: u64,
    mtime: Option<i64>,
    sniff: Sniff,
    path: &str,
) -> Result<FilePlan, GwError> {
    let at = sniff.at.min(size);
    let want = (size - at).min(sniff.len);
    let head = if want == 0 {
        Bytes::new()
    } else {
        read_head(store, &block, at, want).map_err(|e| GwError::node(e, path))?
    };
    Ok(FilePlan { block, size, mtime, head, head_at: at })
}

/// Cumulative DAG size of a dag-pb node: its block plus its links' Tsizes.
fn dag_size(block: &Block) -> u64 {
    let links: u64 =
        PbNode::decode(block.data()).map(|n| n.links.iter().map(|l| l.tsize.unwrap_or(0)).sum()).unwrap_or(0);
    block.len() as u64 + links
}

fn plan(store: &Store, r: &Resolved, sniff: Sniff, want_index: bool, path: &str) -> Result<Plan, GwError> {
    let block = block_of(store, &r.cid, path)?;
    match r.cid.codec() {
        codec::JSON | codec::CBOR | codec::DAG_JSON | codec::DAG_CBOR => return Ok(Plan::Codec { block }),
        codec::RAW | codec::DAG_PB => {}
        c => {
            return Err(GwError::new(
                StatusCode::NOT_IMPLEMENTED,
                format!("failed to resolve {path}: no deserialized response for codec {}", codec::display_name(c)),
            ));
        }
    }
    let node = export::decode::<NodeError>(&block)
        .map_err(|e| GwError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("failed to resolve {path}: {e}")))?;
    let mtime = node.mtime.map(|t| t.seconds);
    match node.kind {
        NodeKind::File { size } => Ok(Plan::File(file_plan(store, block, size, mtime, sniff, path)?)),
        NodeKind::Symlink { target } => Ok(Plan::Symlink { target: Bytes::from(target.to_vec()) }),
        NodeKind::Directory | NodeKind::HamtDirectory => {
            let size = dag_size(&block);
            let mut index = None;
            if want_index {
                let mut get = |c: &Cid| store.get(c);
                let found = rubo_unixfs::dir::lookup(&block, b"index.html", &mut get).map_err(|e| {
                    GwError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("failed to resolve {path}: {e}"))
                })?;
                if let Some(e) = found {
                    let ib = block_of(store, &e.cid, path)?;
                    let inode = export::decode::<NodeError>(&ib).map_err(|e| {
                        GwError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("failed to resolve {path}: {e}"))
                    })?;
                    let NodeKind::File { size: isize } = inode.kind else {
                        return Err(GwError::new(
                            StatusCode::UNPROCESSABLE_ENTITY,
                            "index.html could not be read: not a file",
                        ));
                    };
                    // index.html is HTML by its name: nothing to sniff.
                    let none = Sniff { at: sniff.at, len: 0 };
                    index = Some(file_plan(store, ib, isize, inode.mtime.map(|t| t.seconds), none, path)?);
                }
            }
            Ok(Plan::Dir { block, dag_size: size, index })
        }
        NodeKind::Other => Err(GwError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to resolve {path}: unsupported UnixFS type"),
        )),
    }
}

/// The redirect or rewrite a `_redirects` rule gives a missing path.
enum RedirectOutcome {
    /// No file, or no matching rule: the original 404 stands.
    None,
    Redirect {
        status: u16,
        location: String,
    },
    /// 200: serve this path instead; 404/410/451: serve it with that status.
    Serve {
        status: u16,
        segments: Vec<String>,
    },
}

fn find_redirect(
    store: &Store,
    root: Cid,
    cp: &ContentPath,
    raw_query: Option<&str>,
) -> Result<RedirectOutcome, GwError> {
    let display = format!("/ipfs/{}/_redirects", cp.root);
    let file = match resolve(store, root, &["_redirects".to_string()], false, &display) {
        Ok(r) => r,
        Err(e) if e.status == StatusCode::NOT_FOUND => return Ok(RedirectOutcome::None),
        Err(e) => return Err(e),
    };
    let trouble = |m: String| {
        GwError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("trouble processing _redirects file at {display:?}: {m}"),
        )
    };
    let block = block_of(store, &file.cid, &display)?;
    let size = match export::decode::<NodeError>(&block).map(|n| n.kind) {
        Ok(NodeKind::File { size }) => size,
        _ => return Err(trouble("_redirects is not a file".into())),
    };
    if size > redirects::MAX_FILE_SIZE as u64 {
        return Err(trouble(format!("could not parse _redirects: {}", redirects::RedirectsError::TooLarge)));
    }
    let data = read_head(store, &block, 0, size).map_err(|e| GwError::node(e, &display))?;
    let rules = redirects::parse(&data).map_err(|e| trouble(format!("could not parse _redirects: {e}")))?;
    let url_path = format!("/{}", cp.segments.join("/"));
    let Some((rule, to)) = redirects::find(&rules, url_path.trim_end_matches('/')) else {
        return Ok(RedirectOutcome::None);
    };
    match rule.status {
        200 | 404 | 410 | 451 => {
            let path_only = to.split(['?', '#']).next().unwrap_or_default();
            let segments = clean_path(path_only).split('/').filter(|s| !s.is_empty()).map(str::to_string).collect();
            Ok(RedirectOutcome::Serve { status: rule.status, segments })
        }
        s => {
            let mut location = to;
            if let Some(q) = raw_query.filter(|q| !q.is_empty()) {
                // The user's parameters are kept, merged after the rule's own.
                let (base, static_q) = location.split_once('?').map_or((location.as_str(), ""), |(b, q)| (b, q));
                let mut pairs = parse_query(static_q, MAX_QUERY_PAIRS);
                pairs.extend(parse_query(q, MAX_QUERY_PAIRS));
                location = format!("{base}?{}", encode_query(&pairs));
            }
            Ok(RedirectOutcome::Redirect { status: s, location })
        }
    }
}

/// `If-None-Match` against `etag` (weak comparison, `*` matches).
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    let strip = |s: &str| s.trim().trim_start_matches("W/").to_string();
    let want = strip(etag);
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').map(str::trim).any(|t| t == "*" || (!t.is_empty() && strip(t) == want)))
}

fn content_disposition(name: &str, disposition: &str) -> String {
    let ascii: String = name.chars().map(|c| if c.is_ascii() { c } else { '_' }).collect();
    format!(
        "{disposition}; filename=\"{}\"; filename*=UTF-8''{}",
        path_segment_escape(&ascii),
        path_segment_escape(name)
    )
}

/// Go's `url.PathEscape`.
fn path_segment_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$&+=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn short_format(media: &str) -> &str {
    media.rsplit(['/', '.']).next().unwrap_or(media)
}

impl State {
    pub(crate) fn new(node: Node, cfg: GatewayConfig, resolver: Arc<dyn NameResolver>) -> Self {
        let gateways = Gateways::new(&cfg.public_gateways);
        let cache = Arc::new(BlockCache::new(cfg.block_cache_bytes));
        let limiter = (cfg.max_concurrent_requests > 0).then(|| Arc::new(Semaphore::new(cfg.max_concurrent_requests)));
        let mut extra: Vec<(HeaderName, Vec<HeaderValue>)> = Vec::new();
        let mut user: Vec<(String, Vec<String>)> = cfg.http_headers.clone();
        let take = |user: &mut Vec<(String, Vec<String>)>, name: &str| -> Option<Vec<String>> {
            let i = user.iter().position(|(k, _)| k.eq_ignore_ascii_case(name))?;
            Some(user.remove(i).1)
        };
        // Kubo's CORS defaults, completed with what the config adds.
        let origin = take(&mut user, "access-control-allow-origin").unwrap_or_else(|| vec!["*".into()]);
        let methods = take(&mut user, "access-control-allow-methods")
            .unwrap_or_else(|| vec!["GET".into(), "HEAD".into(), "OPTIONS".into()]);
        let mut allow: Vec<String> =
            ["Content-Type", "User-Agent", "Range", "X-Requested-With"].map(String::from).to_vec();
        allow.extend(take(&mut user, "access-control-allow-headers").unwrap_or_default());
        let mut expose: Vec<String> =
            ["Content-Length", "Content-Range", "X-Chunked-Output", "X-Stream-Output", "X-Ipfs-Path", "X-Ipfs-Roots"]
                .map(String::from)
                .to_vec();
        expose.extend(take(&mut user, "access-control-expose-headers").unwrap_or_default());
        let canon = |v: Vec<String>| {
            let mut v: Vec<String> = v.into_iter().map(|h| canonical_header(&h)).collect();
            v.sort();
            v.dedup();
            v
        };
        let mut all = vec![
            ("access-control-allow-origin".to_string(), origin),
            ("access-control-allow-methods".to_string(), methods),
            ("access-control-allow-headers".to_string(), canon(allow)),
            ("access-control-expose-headers".to_string(), canon(expose)),
        ];
        all.extend(user);
        for (k, vals) in all {
            if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
                extra.push((name, vals.iter().map(|v| hv(v)).collect()));
            }
        }
        Self { cfg, gateways, node, cache, limiter, resolver, extra_headers: extra }
    }

    pub(crate) fn config(&self) -> &GatewayConfig {
        &self.cfg
    }

    fn store(&self, offline: bool) -> Store {
        let node = if offline || self.cfg.no_fetch { self.node.offline() } else { self.node.clone() };
        Store::new(node.blockstore(), self.cache.clone())
    }

    /// Runs blocking work (block reads) within the retrieval timeout.
    async fn blocking<T, F>(&self, f: F) -> Result<T, GwError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, GwError> + Send + 'static,
    {
        let task = tokio::task::spawn_blocking(f);
        let joined = match self.cfg.retrieval_timeout {
            Some(d) => match tokio::time::timeout(d, task).await {
                Ok(j) => j,
                Err(_) => return Err(retrieval_timeout()),
            },
            None => task.await,
        };
        joined.map_err(|e| GwError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("worker failed: {e}")))?
    }

    pub(crate) async fn handle<B>(self: &Arc<Self>, req: Request<B>) -> Response<Body> {
        let permit = match &self.limiter {
            Some(s) => match s.clone().try_acquire_owned() {
                Ok(p) => Some(p),
                Err(_) => {
                    let mut r = self.error(
                        &req_html(&req, &self.cfg),
                        StatusCode::TOO_MANY_REQUESTS,
                        "Too many requests. Please retry after 60 seconds.",
                    );
                    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                    r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
                    return self.finish(r);
                }
            },
            None => None,
        };
        let html = req_html(&req, &self.cfg);
        let (parts, _) = req.into_parts();
        let resp = match tokio::time::timeout(self.cfg.max_request_duration, self.route(parts)).await {
            Ok(r) => r,
            Err(_) => {
                self.error(&html, StatusCode::GATEWAY_TIMEOUT, "request took longer than Gateway.MaxRequestDuration")
            }
        };
        let resp = match permit {
            Some(p) => resp.map(|b| Body::new(Held { inner: b, _permit: p })),
            None => resp,
        };
        self.finish(resp)
    }

    /// Adds the configured and CORS headers the handler did not set.
    fn finish(&self, mut r: Response<Body>) -> Response<Body> {
        let h = r.headers_mut();
        for (name, vals) in &self.extra_headers {
            if !h.contains_key(name) {
                for v in vals {
                    h.append(name.clone(), v.clone());
                }
            }
        }
        r
    }

    /// An error page: HTML for browsers, text for the rest.
    fn error(&self, html: &bool, status: StatusCode, message: &str) -> Response<Body> {
        let mut b = Response::builder().status(status);
        let body = if *html {
            b = b.header(header::CONTENT_TYPE, "text/html");
            html::error_page(status.as_u16(), status.canonical_reason().unwrap_or(""), message)
        } else {
            b = b.header(header::CONTENT_TYPE, "text/plain; charset=utf-8").header("x-content-type-options", "nosniff");
            format!("{message}\n")
        };
        if status == StatusCode::GATEWAY_TIMEOUT || status == StatusCode::BAD_GATEWAY {
            b = b.header(header::RETRY_AFTER, "60");
        }
        b.body(Body::from(body)).unwrap_or_default()
    }

    fn fail(&self, ctx: &Ctx, e: GwError) -> Response<Body> {
        let html = ctx.accepts_html() && !self.cfg.disable_html_errors;
        let mut r = self.error(&html, e.status, &e.message);
        for (k, v) in &ctx.out {
            r.headers_mut().entry(k).or_insert_with(|| v.clone());
        }
        if ctx.head {
            *r.body_mut() = Body::empty();
        }
        r
    }

    async fn route(self: &Arc<Self>, parts: axum::http::request::Parts) -> Response<Body> {
        let html =
            parts.headers.get_all(header::ACCEPT).iter().any(|v| v.as_bytes().windows(9).any(|w| w == b"text/html"))
                && !self.cfg.disable_html_errors;
        let head = match parts.method {
            Method::GET => false,
            Method::HEAD => true,
            Method::OPTIONS => {
                return Response::builder()
                    .header(header::ALLOW, "GET")
                    .header(header::ALLOW, "HEAD")
                    .header(header::ALLOW, "OPTIONS")
                    .body(Body::empty())
                    .unwrap_or_default();
            }
            ref m => {
                let mut r = self.error(
                    &false,
                    StatusCode::METHOD_NOT_ALLOWED,
                    &format!("Method {m} not allowed: read only access"),
                );
                for m in ["GET", "HEAD", "OPTIONS"] {
                    r.headers_mut().append(header::ALLOW, HeaderValue::from_static(m));
                }
                return r;
            }
        };
        // hyper bounds its read buffer; this bounds what a request may carry.
        let head_len: usize = parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len() + 4).sum();
        if head_len > self.cfg.max_header_bytes {
            let mut r =
                self.error(&false, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "request header fields too large");
            // Such a client is not worth keeping.
            r.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        let target_len = parts.uri.path_and_query().map_or(0, |pq| pq.as_str().len());
        if target_len > self.cfg.max_url_bytes {
            return self.error(&html, StatusCode::URI_TOO_LONG, "request URL is too long");
        }
        let raw_path = parts.uri.path().to_string();
        let raw_query = parts.uri.query().map(str::to_string);
        let Some(path_bytes) = unescape(&raw_path, false) else {
            return self.error(&html, StatusCode::BAD_REQUEST, &format!("invalid URL escape in {raw_path:?}"));
        };
        let path = String::from_utf8_lossy(&path_bytes).into_owned();
        let query = raw_query.as_deref().map(|q| parse_query(q, MAX_QUERY_PAIRS)).unwrap_or_default();
        let mut ctx = Ctx {
            head,
            headers: parts.headers,
            path: path.clone(),
            url_path_raw: raw_path,
            url_path: path.clone(),
            raw_query,
            query,
            origin: None,
            deserialized: self.cfg.deserialized_responses,
            out: HeaderMap::new(),
            offline: false,
        };
        if let Some(r) = self.protocol_handler(&ctx) {
            return r;
        }
        let host = ctx
            .headers
            .get("x-forwarded-host")
            .or_else(|| ctx.headers.get(header::HOST))
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let https = ctx.headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes() == b"https");
        let has_prefix = |p: &str, prefixes: &[String]| {
            prefixes.iter().any(|pre| {
                let pre = pre.trim_end_matches('/');
                p == pre || p.starts_with(&format!("{pre}/"))
            })
        };
        if let Some(gw) = self.gateways.known(&host) {
            if has_prefix(&path, &gw.paths) {
                ctx.deserialized = gw.deserialized_responses;
                if gw.use_subdomains {
                    match host::subdomain_url(&host, &path, ctx.raw_query.as_deref(), https, gw.inline_dnslink) {
                        Ok(Some(url)) => return redirect(StatusCode::MOVED_PERMANENTLY, &url),
                        Ok(None) => {}
                        Err(e) => return self.error(&html, StatusCode::BAD_REQUEST, &e),
                    }
                }
                return self.gateway(ctx).await;
            }
            return not_found();
        }
        if let Some(sub) = self.gateways.subdomain(&host) {
            let prefix = format!("/{}/{}", sub.namespace, sub.root_id);
            if !(sub.gateway.use_subdomains && has_prefix(&prefix, &sub.gateway.paths)) {
                return not_found();
            }
            ctx.deserialized = sub.gateway.deserialized_responses;
            let mut root_id = sub.root_id.clone();
            if let Ok(cid) = parse_cid(&sub.root_id) {
                let dns = match host::to_dns_label(&sub.root_id, &cid) {
                    Ok(d) => d,
                    Err(e) => return self.error(&html, StatusCode::BAD_REQUEST, &e),
                };
                let needs_fix = !host.starts_with(&dns)
                    || (matches!(sub.namespace.as_str(), "ipns" | "p2p") && cid.codec() != codec::LIBP2P_KEY);
                if needs_fix {
                    let p = format!("/{}/{}{}", sub.namespace, dns, path);
                    match host::subdomain_url(
                        &sub.gateway_host,
                        &p,
                        ctx.raw_query.as_deref(),
                        https,
                        sub.gateway.inline_dnslink,
                    ) {
                        Ok(Some(url)) => return redirect(StatusCode::MOVED_PERMANENTLY, &url),
                        Ok(None) => {}
                        Err(e) => return self.error(&html, StatusCode::BAD_REQUEST, &e),
                    }
                }
            } else if sub.namespace == "ipns" && !root_id.contains('.') && root_id.contains('-') {
                root_id = host::uninline_dnslink(&root_id);
            }
            ctx.path = format!("/{}/{}{}", sub.namespace, root_id, path);
            ctx.origin = Some(format!("//{}", sub.gateway_host));
            return self.gateway(ctx).await;
        }
        // A DNSLink website on its own host (once names resolve).
        let bare = host::strip_port(&host).to_string();
        if !self.cfg.no_dnslink
            && !bare.is_empty()
            && bare.parse::<std::net::IpAddr>().is_err()
            && self.resolver.has_dnslink(&bare).await
        {
            ctx.path = format!("/ipns/{bare}{path}");
            ctx.origin = Some(format!("//{host}"));
            return self.gateway(ctx).await;
        }
        // A plain path gateway.
        if path.starts_with("/ipfs/") || path.starts_with("/ipns/") || path == "/ipfs" || path == "/ipns" {
            return self.gateway(ctx).await;
        }
        match path.as_str() {
            "/version" => Response::builder()
                .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
                .body(Body::from(format!(
                    "Commit: {}\nClient Version: {}\n",
                    rubo_node::COMMIT,
                    rubo_node::agent_version()
                )))
                .unwrap_or_default(),
            p if self.cfg.expose_routing_api && (p == "/routing/v1" || p.starts_with("/routing/v1/")) => {
                crate::routing_api::serve(&self.node, p, &ctx.headers, ctx.head).await
            }
            "/" if self.cfg.root_redirect.is_some() => {
                redirect(StatusCode::FOUND, self.cfg.root_redirect.as_deref().unwrap_or("/"))
            }
            _ => not_found(),
        }
    }

    /// `?uri=ipfs://...` from `navigator.registerProtocolHandler`.
    fn protocol_handler(&self, ctx: &Ctx) -> Option<Response<Body>> {
        let uri = ctx.q("uri").filter(|u| !u.is_empty())?;
        let html = ctx.accepts_html() && !self.cfg.disable_html_errors;
        let Some((scheme, rest)) = uri.split_once("://") else {
            return Some(self.error(&html, StatusCode::BAD_REQUEST, "failed to parse uri query parameter"));
        };
        if scheme != "ipfs" && scheme != "ipns" {
            return Some(self.error(&html, StatusCode::BAD_REQUEST, "uri query parameter scheme must be ipfs or ipns"));
        }
        let (hostpath, query) = rest.split_once('?').map_or((rest, None), |(a, b)| (a, Some(b)));
        let mut loc = clean_path(&format!("/{scheme}/{hostpath}"));
        loc = escape_path(loc.as_bytes());
        if let Some(q) = query {
            loc.push_str(&path_segment_escape(&format!("?{q}")).replacen("%3F", "?", 1));
        }
        Some(redirect(StatusCode::MOVED_PERMANENTLY, &loc))
    }

    /// The path gateway for one content path.
    async fn gateway(self: &Arc<Self>, mut ctx: Ctx) -> Response<Body> {
        // Service workers only below a content root, never for all of it.
        if ctx.headers.get("service-worker").is_some_and(|v| v.as_bytes() == b"script") {
            let p = ctx.url_path.as_str();
            let segs: Vec<&str> = p.split('/').collect();
            if segs.len() == 3 && (segs[1] == "ipfs" || segs[1] == "ipns") && !segs[2].is_empty() {
                return self.fail(
                    &ctx,
                    GwError::new(
                        StatusCode::BAD_REQUEST,
                        "navigator.serviceWorker: registration is not allowed for this scope",
                    ),
                );
            }
        }
        if ctx.origin.is_none() && (ctx.path.starts_with("/ipfs/ipfs/") || ctx.path.starts_with("/ipfs/ipns/")) {
            let mut loc = escape_path(&ctx.path.as_bytes()["/ipfs".len()..]);
            if !ctx.query.is_empty() {
                loc = format!("{loc}?{}", encode_query(&ctx.query));
            }
            return redirect(StatusCode::MOVED_PERMANENTLY, &loc);
        }
        let cp = match parse_content_path(&ctx.path) {
            Ok(c) => c,
            Err(e) => return self.fail(&ctx, GwError::new(StatusCode::BAD_REQUEST, e)),
        };
        let only_if_cached = ctx.headers.get(header::CACHE_CONTROL).is_some_and(|v| v.as_bytes() == b"only-if-cached");
        let fmt_param = ctx.q("format").map(str::to_string);
        let accept: Vec<String> =
            ctx.headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()).map(str::to_string).collect();
        let accept_refs: Vec<&str> = accept.iter().map(String::as_str).collect();
        let nego = match negotiate(fmt_param.as_deref(), &accept_refs) {
            Ok(n) => n,
            Err(e) => return self.fail(&ctx, GwError::new(StatusCode::BAD_REQUEST, e.to_string())),
        };
        ctx.out.insert("x-ipfs-path", hv(&cp.display));
        if !ctx.deserialized && !trustless_request(&cp, &nego) {
            return self.fail(&ctx, GwError::new(
                StatusCode::NOT_ACCEPTABLE,
                "only trustless requests are accepted on this gateway: https://specs.ipfs.tech/http-gateways/trustless-gateway/",
            ));
        }
        if let Some(f) = &nego.format
            && fmt_param.as_deref() != Some(f.param())
        {
            // Caches must keep this response apart from the default one.
            let mut q = ctx.query.clone();
            q.retain(|(k, _)| k != "format");
            q.push(("format".into(), f.param().to_string()));
            for (k, v) in &nego.params {
                let key = format!("{}-{k}", f.param());
                if !q.iter().any(|(n, _)| *n == key) {
                    q.push((key, v.clone()));
                }
            }
            ctx.out.insert(header::CONTENT_LOCATION, hv(&format!("{}?{}", ctx.url_path_raw, encode_query(&q))));
        }
        if nego.format == Some(Format::IpnsRecord) {
            return self.ipns_record(&ctx, &cp).await;
        }
        // A mutable name resolves to an immutable path first.
        let (root, mut segments, mutable) = if cp.ipns {
            match self.resolver.resolve(&cp.root).await {
                Ok(res) => match parse_content_path(&res.path) {
                    Ok(rp) if !rp.ipns => {
                        let mut s = rp.segments;
                        s.extend(cp.segments.iter().cloned());
                        (rp.root, s, Some(res.ttl))
                    }
                    _ => {
                        return self.fail(
                            &ctx,
                            GwError::new(
                                StatusCode::BAD_GATEWAY,
                                format!("name resolved to an invalid path: {}", res.path),
                            ),
                        );
                    }
                },
                Err(e) => {
                    let status = match e {
                        NameError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
                        NameError::NotFound(_) => StatusCode::NOT_FOUND,
                        NameError::Failed(_) => StatusCode::BAD_GATEWAY,
                    };
                    return self.fail(&ctx, GwError::new(status, e.to_string()));
                }
            }
        } else {
            (cp.root.clone(), cp.segments.clone(), None)
        };
        let Ok(root_cid) = parse_cid(&root) else {
            return self.fail(&ctx, GwError::new(StatusCode::BAD_REQUEST, format!("invalid path {:?}", cp.display)));
        };
        segments.retain(|s| !s.is_empty());
        if only_if_cached {
            let store = self.store(true);
            let segs = segments.clone();
            let display = cp.display.clone();
            let cached = self
                .blocking(move || {
                    let r = resolve(&store, root_cid, &segs, false, &display);
                    Ok(r.is_ok_and(|r| store.is_local(&r.cid)))
                })
                .await
                .unwrap_or(false);
            if !cached {
                let mut r = Response::builder().status(StatusCode::PRECONDITION_FAILED);
                let body = if ctx.head { String::new() } else { format!("{:?} not in local datastore\n", cp.display) };
                if !ctx.head {
                    r = r.header(header::CONTENT_TYPE, "text/plain; charset=utf-8");
                }
                return r.body(Body::from(body)).unwrap_or_default();
            }
            if ctx.head {
                return Response::builder().status(StatusCode::OK).body(Body::empty()).unwrap_or_default();
            }
            ctx.offline = true;
        }
        let req = Target { root: root_cid, segments, mutable, display: cp.display.clone(), cp };
        match nego.format.clone() {
            Some(Format::Car) => self.serve_car(&ctx, req, &nego).await,
            Some(Format::Unsupported(_)) => {
                self.fail(&ctx, GwError::new(StatusCode::BAD_REQUEST, "unsupported response format requested"))
            }
            Some(Format::Raw) => self.serve_raw(&ctx, req).await,
            Some(Format::Tar) => self.serve_tar(&ctx, req).await,
            Some(f @ (Format::DagJson | Format::DagCbor)) => self.serve_codec_format(&ctx, req, f).await,
            f => self.serve_defaults(&ctx, req, f).await,
        }
    }

    async fn ipns_record(&self, ctx: &Ctx, cp: &ContentPath) -> Response<Body> {
        if !cp.ipns || !cp.segments.is_empty() {
            return self
                .fail(ctx, GwError::new(StatusCode::BAD_REQUEST, "path does not have /ipns/ prefix or has a subpath"));
        }
        match self.resolver.record(&cp.root).await {
            Ok(rec) => {
                let name = ctx.q("filename").map_or_else(|| format!("{}.ipns-record", cp.root), str::to_string);
                let mut r = self.with_out(ctx, Response::builder());
                r = r
                    .header(header::CONTENT_TYPE, "application/vnd.ipfs.ipns-record")
                    .header("x-content-type-options", "nosniff")
                    .header(header::CONTENT_DISPOSITION, hv(&content_disposition(&name, "attachment")))
                    .header(header::CONTENT_LENGTH, rec.len());
                r.body(if ctx.head { Body::empty() } else { Body::from(rec) }).unwrap_or_default()
            }
            Err(e) => {
                let status = match e {
                    NameError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
                    NameError::NotFound(_) => StatusCode::NOT_FOUND,
                    NameError::Failed(_) => StatusCode::BAD_GATEWAY,
                };
                self.fail(ctx, GwError::new(status, e.to_string()))
            }
        }
    }

    fn with_out(&self, ctx: &Ctx, mut b: axum::http::response::Builder) -> axum::http::response::Builder {
        for (k, v) in &ctx.out {
            b = b.header(k, v.clone());
        }
        b
    }

    fn cache_control(&self, t: &Target) -> Option<String> {
        match t.mutable {
            None => Some(IMMUTABLE.to_string()),
            Some(Some(ttl)) => Some(format!("public, max-age={}", ttl.as_secs())),
            Some(None) => None,
        }
    }

    fn not_modified(&self, ctx: &Ctx, etag: &str, cache_control: Option<&str>) -> Response<Body> {
        let mut b =
            self.with_out(ctx, Response::builder().status(StatusCode::NOT_MODIFIED)).header(header::ETAG, hv(etag));
        if let Some(cc) = cache_control {
            b = b.header(header::CACHE_CONTROL, hv(cc));
        }
        b.body(Body::empty()).unwrap_or_default()
    }

    /// Deserialized responses (and `?format=json|cbor`).
    async fn serve_defaults(self: &Arc<Self>, ctx: &Ctx, t: Target, format: Option<Format>) -> Response<Body> {
        let ranges = match ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            Some(h) => match range::parse(h) {
                Ok(r) => r,
                Err(e) => {
                    return self
                        .fail(ctx, GwError::new(StatusCode::BAD_REQUEST, format!("invalid range request: {e}")));
                }
            },
            _ => Vec::new(),
        };
        // Sniffing reads the first bytes sent (none when the name says the type).
        let sniff = if mime::by_extension(&filename_of(ctx, &t.display)).is_some() {
            Sniff { at: 0, len: 0 }
        } else if ctx.head {
            Sniff { at: 0, len: mime::SNIFF_LEN as u64 }
        } else {
            range_window(&ranges)
        };
        let want_index = ctx.url_path.ends_with('/');
        let store = self.store(ctx.offline);
        let origin = ctx.origin.is_some();
        let raw_query = ctx.raw_query.clone();
        let cp = ContentPath {
            ipns: t.cp.ipns,
            root: t.cp.root.clone(),
            segments: t.segments.clone(),
            display: t.display.clone(),
        };
        let (root, segments, display) = (t.root, t.segments.clone(), t.display.clone());
        let web = format.is_none();
        let res = self
            .blocking(move || {
                let r = match resolve(&store, root, &segments, false, &display) {
                    Ok(r) => (r, None),
                    Err(e) if e.status == StatusCode::NOT_FOUND && origin && web => {
                        match find_redirect(&store, root, &cp, raw_query.as_deref())? {
                            RedirectOutcome::None => return Err(e),
                            RedirectOutcome::Redirect { status, location } => {
                                return Ok(Prepared::Redirect { status, location });
                            }
                            RedirectOutcome::Serve { status, segments } => {
                                (resolve(&store, root, &segments, false, &display)?, Some(status))
                            }
                        }
                    }
                    Err(e) => return Err(e),
                };
                let p = plan(&store, &r.0, sniff, want_index, &display)?;
                Ok(Prepared::Plan(Box::new((r.0, r.1, p, store))))
            })
            .await;
        let (resolved, status, plan, store) = match res {
            Ok(Prepared::Plan(b)) => *b,
            Ok(Prepared::Redirect { status, location }) => {
                return redirect(StatusCode::from_u16(status).unwrap_or(StatusCode::MOVED_PERMANENTLY), &location);
            }
            Err(e) => return self.fail(ctx, e),
        };
        let cc = self.cache_control(&t);
        let roots = resolved.roots.iter().map(Cid::to_string).collect::<Vec<_>>().join(",");
        let status = status.and_then(|s| StatusCode::from_u16(s).ok()).unwrap_or(StatusCode::OK);
        // Conditional requests: the content's ETag, a listing's, a DAG page's.
        let cid = resolved.cid;
        let fmt_etag = etag_for(&cid, format.as_ref());
        let dir_etag = format!("\"DirIndex-{}_CID-{cid}\"", html::listing_version());
        let dag_etag = format!("\"DagIndex-{}_CID-{cid}\"", html::listing_version());
        if status == StatusCode::OK {
            for (etag, cc2) in [(&fmt_etag, cc.as_deref()), (&dir_etag, Some(LISTING_CACHE)), (&dag_etag, None)] {
                if etag_matches(&ctx.headers, etag) {
                    let mut r = self.not_modified(ctx, etag, cc2);
                    r.headers_mut().insert("x-ipfs-roots", hv(&roots));
                    return r;
                }
            }
        }
        let mut out = ctx.out.clone();
        out.insert("x-ipfs-roots", hv(&roots));
        match plan {
            Plan::Codec { block } => self.render_codec(ctx, &t, out, block, &resolved, format.clone()),
            Plan::Symlink { target } => {
                let len = target.len() as u64;
                let f = Served { etag: fmt_etag, cc, mtime: None, ctype: "inode/symlink".into(), size: len, status };
                self.serve_bytes(ctx, out, f, &ranges, BytesSource::Mem(target), false)
            }
            Plan::File(fp) => {
                let name = filename_of(ctx, &t.display);
                let ctype = self.content_type(&name, &fp, None);
                let f = Served { etag: fmt_etag, cc, mtime: fp.mtime, ctype, size: fp.size, status };
                self.disposition(ctx, &mut out);
                self.serve_bytes(ctx, out, f, &ranges, BytesSource::File(Box::new((store, fp))), true)
            }
            Plan::Dir { block, dag_size, index } => {
                if !ctx.url_path.ends_with('/') && ctx.q("go-get") != Some("1") {
                    let mut loc = format!("{}/", escape_path(ctx.url_path.as_bytes()));
                    if let Some(q) = ctx.raw_query.as_deref().filter(|q| !q.is_empty()) {
                        loc.push('?');
                        loc.push_str(&path_segment_escape(q));
                    }
                    let mut r = redirect(StatusCode::MOVED_PERMANENTLY, &loc);
                    for (k, v) in &out {
                        r.headers_mut().entry(k).or_insert_with(|| v.clone());
                    }
                    return r;
                }
                if let Some(fp) = index {
                    let ctype = self.content_type("index.html", &fp, Some("text/html"));
                    let f = Served { etag: fmt_etag, cc, mtime: fp.mtime, ctype, size: fp.size, status };
                    self.disposition(ctx, &mut out);
                    return self.serve_bytes(ctx, out, f, &ranges, BytesSource::File(Box::new((store, fp))), true);
                }
                self.listing(ctx, out, &t, block, dag_size, store, dir_etag)
            }
        }
    }

    fn disposition(&self, ctx: &Ctx, out: &mut HeaderMap) {
        if let Some(name) = ctx.q("filename").filter(|n| !n.is_empty()) {
            let d = if ctx.q("download") == Some("true") { "attachment" } else { "inline" };
            out.insert(header::CONTENT_DISPOSITION, hv(&content_disposition(name, d)));
        }
    }

    /// Kubo's choice: the name's extension, else the type sniffed from the
    /// first bytes; HTML without its charset (browsers find it).
    fn content_type(&self, name: &str, fp: &FilePlan, fallback: Option<&str>) -> String {
        let t = mime::by_extension(name).or(fallback).unwrap_or_else(|| {
            let complete = fp.head_at + fp.head.len() as u64 >= fp.size;
            if fp.head.is_empty() && fp.size > 0 { "application/octet-stream" } else { mime::sniff(&fp.head, complete) }
        });
        if t.starts_with("text/html;") { "text/html".to_string() } else { t.to_string() }
    }

    /// File bytes with Kubo's `ServeContent`: Last-Modified, If-Modified-Since,
    /// Range (first range only), Accept-Ranges, Content-Length.
    fn serve_bytes(
        &self,
        ctx: &Ctx,
        mut out: HeaderMap,
        f: Served,
        ranges: &[RangeSpec],
        src: BytesSource,
        limit_ranges: bool,
    ) -> Response<Body> {
        if limit_ranges
            && self.cfg.max_range_request_file_size > 0
            && ctx.headers.contains_key(header::RANGE)
            && f.size > self.cfg.max_range_request_file_size
        {
            return self.fail(ctx, GwError::new(StatusCode::NOT_IMPLEMENTED, format!(
                "range requests not supported for files larger than {} bytes: switch to verifiable block requests (application/vnd.ipld.raw)",
                self.cfg.max_range_request_file_size
            )));
        }
        out.insert(header::ETAG, hv(&f.etag));
        if let Some(cc) = &f.cc {
            out.insert(header::CACHE_CONTROL, hv(cc));
        }
        if let Some(m) = f.mtime.filter(|m| *m > 0) {
            out.insert(header::LAST_MODIFIED, hv(&crate::date::format(m)));
            if let Some(ims) =
                ctx.headers.get(header::IF_MODIFIED_SINCE).and_then(|v| v.to_str().ok()).and_then(crate::date::parse)
                && !ctx.headers.contains_key(header::IF_NONE_MATCH)
                && m <= ims
            {
                return self.not_modified(ctx, &f.etag, f.cc.as_deref());
            }
        }
        // If-Range: ranges only for the representation the client holds.
        let use_ranges = match ctx.headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
            Some(ir) => ir.trim() == f.etag && !f.etag.starts_with("W/"),
            None => true,
        };
        let chosen = if use_ranges && !ranges.is_empty() {
            match range::resolve(ranges, f.size) {
                Ok(r) => r,
                Err(RangeError::NoOverlap) => {
                    let mut r = self
                        .fail(ctx, GwError::new(StatusCode::RANGE_NOT_SATISFIABLE, "invalid range: failed to overlap"));
                    r.headers_mut().insert(header::CONTENT_RANGE, hv(&format!("bytes */{}", f.size)));
                    return r;
                }
                Err(e) => return self.fail(ctx, GwError::new(StatusCode::RANGE_NOT_SATISFIABLE, e.to_string())),
            }
        } else {
            None
        };
        let (start, len, status) = match chosen {
            Some(r) => {
                out.insert(header::CONTENT_RANGE, hv(&r.content_range(f.size)));
                (r.start, r.len, StatusCode::PARTIAL_CONTENT)
            }
            None => (0, f.size, f.status),
        };
        let mut b = Response::builder().status(status);
        for (k, v) in &out {
            b = b.header(k, v.clone());
        }
        b = b
            .header(header::CONTENT_TYPE, hv(&f.ctype))
            .header(header::ACCEPT_RANGES, "bytes")
            .header(header::CONTENT_LENGTH, len);
        if ctx.head || len == 0 {
            return b.body(Body::empty()).unwrap_or_default();
        }
        let body = match src {
            BytesSource::Mem(bytes) => {
                let s = usize::try_from(start).unwrap_or(usize::MAX).min(bytes.len());
                let e = usize::try_from(start + len).unwrap_or(usize::MAX).min(bytes.len());
                Body::from(bytes.slice(s..e))
            }
            BytesSource::File(b) => {
                let (store, plan) = *b;
                self.file_body(store, plan, start, len)
            }
        };
        b.body(body).unwrap_or_default()
    }

    /// Bytes `start..start+len` of a file: from the head already read where
    /// it covers them, the rest streamed from a blocking reader.
    fn file_body(&self, store: Store, plan: FilePlan, start: u64, len: u64) -> Body {
        let end = start + len;
        let head_end = plan.head_at + plan.head.len() as u64;
        let mut first = None;
        let mut from = start;
        if start >= plan.head_at && start < head_end {
            let s = (start - plan.head_at) as usize;
            let e = (end.min(head_end) - plan.head_at) as usize;
            first = Some(plan.head.slice(s..e));
            from = end.min(head_end);
        }
        if from >= end {
            return Body::from(first.unwrap_or_default());
        }
        body::file(store, plan.block, first, from, end, self.cfg.retrieval_timeout)
    }

    /// An HTML listing, written entry by entry.
    #[allow(clippy::too_many_arguments)]
    fn listing(
        &self,
        ctx: &Ctx,
        mut out: HeaderMap,
        t: &Target,
        block: Block,
        dag_size: u64,
        store: Store,
        etag: String,
    ) -> Response<Body> {
        out.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        out.insert(header::ETAG, hv(&etag));
        match t.mutable {
            None => {
                out.insert(header::CACHE_CONTROL, HeaderValue::from_static(LISTING_CACHE));
            }
            Some(Some(ttl)) => {
                out.insert(
                    header::CACHE_CONTROL,
                    hv(&format!("public, max-age={}, stale-while-revalidate=2678400", ttl.as_secs())),
                );
            }
            Some(None) => {}
        }
        let mut b = Response::builder();
        for (k, v) in &out {
            b = b.header(k, v.clone());
        }
        if ctx.head {
            return b.body(Body::empty()).unwrap_or_default();
        }
        let content_path = t.display.clone();
        let url_path = ctx.url_path.clone();
        let origin = ctx.origin.clone().unwrap_or_default();
        let rx = body::produce(move |w| {
            let l = html::Listing {
                content_path: &content_path,
                url_path: &url_path,
                gateway_url: &origin,
                cid: block.cid().to_string(),
                size: dag_size,
            };
            let io = |e: std::io::Error| (500, e.to_string());
            std::io::Write::write_all(w, l.head().as_bytes()).map_err(io)?;
            let mut get = |c: &Cid| store.get(c);
            rubo_unixfs::dir::for_each_entry(&block, &mut get, &mut |e| {
                std::io::Write::write_all(w, l.row(&e.name, &e.cid.to_string(), e.tsize).as_bytes())
                    .map_err(|e| NodeError::Internal(e.to_string()))
            })
            .map_err(|e| (500, e.to_string()))?;
            std::io::Write::write_all(w, l.tail().as_bytes()).map_err(io)
        });
        b.body(body::stream(None, rx, self.cfg.retrieval_timeout)).unwrap_or_default()
    }

    /// A JSON/CBOR/DAG-JSON/DAG-CBOR block (boxo's `renderCodec`).
    fn render_codec(
        &self,
        ctx: &Ctx,
        t: &Target,
        mut out: HeaderMap,
        block: Block,
        r: &Resolved,
        requested: Option<Format>,
    ) -> Response<Body> {
        let cid = *block.cid();
        if !r.remainder.is_empty() {
            let rem = r.remainder.join("/");
            return self.fail(ctx, GwError::new(StatusCode::NOT_IMPLEMENTED, format!(
                "{rem:?} of \"/ipfs/{cid}/{rem}\" could not be returned: reading IPLD Kinds other than Links (CBOR Tag 42) is not implemented: try reading \"/ipfs/{cid}\" instead"
            )));
        }
        let native = match cid.codec() {
            codec::JSON => Format::Json,
            codec::CBOR => Format::Cbor,
            codec::DAG_JSON => Format::DagJson,
            codec::DAG_CBOR => Format::DagCbor,
            // dag-pb, raw...: only a conversion could give DAG-JSON/DAG-CBOR.
            c => Format::Unsupported(codec::display_name(c)),
        };
        let html_preview = requested.is_none()
            && matches!(native, Format::DagJson | Format::DagCbor)
            && ctx.accepts_html()
            && ctx.q("download") != Some("true");
        if html_preview {
            if !ctx.url_path.ends_with('/') {
                let loc = format!("{}/", escape_path(ctx.url_path.as_bytes()));
                return redirect(StatusCode::MOVED_PERMANENTLY, &loc);
            }
            let json = rubo_dag::Codec::from_code(cid.codec())
                .and_then(|c| c.decode(block.data()).ok())
                .and_then(|n| rubo_dag::Codec::DagJson.encode(&n).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let name = codec::name_of(cid.codec()).unwrap_or("?");
            let page = html::dag_page(&t.display, &cid.to_string(), name, cid.codec(), &json);
            out.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            out.insert(header::ETAG, hv(&format!("\"DagIndex-{}_CID-{cid}\"", html::listing_version())));
            let mut b = Response::builder();
            for (k, v) in &out {
                b = b.header(k, v.clone());
            }
            return b.body(if ctx.head { Body::empty() } else { Body::from(page) }).unwrap_or_default();
        }
        let response = requested.clone().unwrap_or_else(|| native.clone());
        let serve_raw = match (&response, &native) {
            (a, b) if a == b => true,
            (Format::Json, Format::DagJson) | (Format::Cbor, Format::DagCbor) => true,
            (Format::DagJson | Format::DagCbor, _) => false,
            _ => {
                return self.fail(
                    ctx,
                    GwError::new(StatusCode::BAD_REQUEST, "converting to requested format is not supported"),
                );
            }
        };
        let data = if serve_raw {
            block.data().clone()
        } else if !self.cfg.allow_codec_conversion {
            return self.fail(ctx, GwError::new(StatusCode::NOT_ACCEPTABLE, format!(
                "format {:?} requested but block has codec {:?}: codec conversion is not supported, fetch raw block with ?format=raw and convert client-side",
                response.media_type(),
                codec::name_of(cid.codec()).unwrap_or("?")
            )));
        } else {
            let to = if response == Format::DagJson { rubo_dag::Codec::DagJson } else { rubo_dag::Codec::DagCbor };
            match rubo_dag::Codec::from_code(cid.codec())
                .and_then(|c| c.decode(block.data()).ok())
                .and_then(|n| to.encode(&n).ok())
            {
                Some(b) => Bytes::from(b),
                None => {
                    return self.fail(ctx, GwError::new(StatusCode::INTERNAL_SERVER_ERROR, "cannot convert the block"));
                }
            }
        };
        let ext = if matches!(response, Format::Json | Format::DagJson) { ".json" } else { ".cbor" };
        let name = ctx.q("filename").map_or_else(|| format!("{cid}{ext}"), str::to_string);
        let disp = if ctx.q("download") == Some("true") || ext == ".cbor" { "attachment" } else { "inline" };
        out.insert(header::CONTENT_DISPOSITION, hv(&content_disposition(&name, disp)));
        out.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        let len = data.len() as u64;
        let f = Served {
            etag: etag_for(&cid, Some(&response)),
            cc: self.cache_control(t),
            mtime: None,
            ctype: response.media_type().to_string(),
            size: len,
            status: StatusCode::OK,
        };
        let ranges = ctx
            .headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|h| range::parse(h).ok())
            .unwrap_or_default();
        self.serve_bytes(ctx, out, f, &ranges, BytesSource::Mem(data), false)
    }

    async fn serve_codec_format(self: &Arc<Self>, ctx: &Ctx, t: Target, f: Format) -> Response<Body> {
        let (store, root, segs, display) = (self.store(ctx.offline), t.root, t.segments.clone(), t.display.clone());
        let res = self
            .blocking(move || {
                let r = resolve(&store, root, &segs, false, &display)?;
                let b = block_of(&store, &r.cid, &display)?;
                Ok((r, b))
            })
            .await;
        let (r, block) = match res {
            Ok(x) => x,
            Err(e) => return self.fail(ctx, e),
        };
        let etag = etag_for(&r.cid, Some(&f));
        let roots = r.roots.iter().map(Cid::to_string).collect::<Vec<_>>().join(",");
        if etag_matches(&ctx.headers, &etag) {
            return self.not_modified(ctx, &etag, self.cache_control(&t).as_deref());
        }
        let mut out = ctx.out.clone();
        out.insert("x-ipfs-roots", hv(&roots));
        self.render_codec(ctx, &t, out, block, &r, Some(f))
    }

    async fn serve_raw(self: &Arc<Self>, ctx: &Ctx, t: Target) -> Response<Body> {
        let (store, root, segs, display) = (self.store(ctx.offline), t.root, t.segments.clone(), t.display.clone());
        let res = self
            .blocking(move || {
                let r = resolve(&store, root, &segs, false, &display)?;
                let b = block_of(&store, &r.cid, &display)?;
                Ok((r, b))
            })
            .await;
        let (r, block) = match res {
            Ok(x) => x,
            Err(e) => return self.fail(ctx, e),
        };
        let etag = etag_for(&r.cid, Some(&Format::Raw));
        if etag_matches(&ctx.headers, &etag) {
            return self.not_modified(ctx, &etag, self.cache_control(&t).as_deref());
        }
        let mut out = ctx.out.clone();
        out.insert("x-ipfs-roots", hv(&r.roots.iter().map(Cid::to_string).collect::<Vec<_>>().join(",")));
        let name = ctx.q("filename").map_or_else(|| format!("{}.bin", r.cid), str::to_string);
        out.insert(header::CONTENT_DISPOSITION, hv(&content_disposition(&name, "attachment")));
        out.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        let ranges = match ctx.headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
            Some(h) => match range::parse(h) {
                Ok(r) => r,
                Err(e) => {
                    return self
                        .fail(ctx, GwError::new(StatusCode::BAD_REQUEST, format!("invalid range request: {e}")));
                }
            },
            None => Vec::new(),
        };
        let f = Served {
            etag,
            cc: self.cache_control(&t),
            mtime: None,
            ctype: "application/vnd.ipld.raw".into(),
            size: block.len() as u64,
            status: StatusCode::OK,
        };
        self.serve_bytes(ctx, out, f, &ranges, BytesSource::Mem(block.data().clone()), false)
    }

    async fn serve_tar(self: &Arc<Self>, ctx: &Ctx, t: Target) -> Response<Body> {
        let (store, root, segs, display) = (self.store(ctx.offline), t.root, t.segments.clone(), t.display.clone());
        let res = self
            .blocking(move || {
                let r = resolve(&store, root, &segs, false, &display)?;
                let b = block_of(&store, &r.cid, &display)?;
                let unixfs = matches!(export::decode::<NodeError>(&b).map(|n| n.kind), Ok(k) if k != NodeKind::Other);
                if !unixfs {
                    return Err(GwError::new(
                        StatusCode::NOT_ACCEPTABLE,
                        format!("{display} is not UnixFS: a TAR cannot be made of it"),
                    ));
                }
                Ok((r, b, store))
            })
            .await;
        let (r, block, store) = match res {
            Ok(x) => x,
            Err(e) => return self.fail(ctx, e),
        };
        let etag = etag_for(&r.cid, Some(&Format::Tar));
        if etag_matches(&ctx.headers, &etag) {
            return self.not_modified(ctx, &etag, self.cache_control(&t).as_deref());
        }
        let mut out = ctx.out.clone();
        out.insert("x-ipfs-roots", hv(&r.roots.iter().map(Cid::to_string).collect::<Vec<_>>().join(",")));
        let name = ctx.q("filename").map_or_else(|| format!("{}.tar", r.cid), str::to_string);
        out.insert(header::CONTENT_DISPOSITION, hv(&content_disposition(&name, "attachment")));
        out.insert(header::ETAG, hv(&etag));
        if let Some(cc) = self.cache_control(&t) {
            out.insert(header::CACHE_CONTROL, hv(&cc));
        }
        out.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
        out.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        let top = r.cid.to_string();
        self.stream_response(ctx, out, move |w| {
            crate::tar::write_tar(w, &store, &block, &top).map(|_| ()).map_err(|e| (500, e))
        })
        .await
    }

    async fn serve_car(self: &Arc<Self>, ctx: &Ctx, t: Target, nego: &Negotiated) -> Response<Body> {
        let params = match CarParams::from_request(&ctx.query, &nego.params) {
            Ok(p) => p,
            Err(e) => return self.fail(ctx, GwError::new(StatusCode::BAD_REQUEST, e)),
        };
        let name = ctx.q("filename").map_or_else(
            || match t.cp.segments.iter().rev().find(|s| !s.is_empty()) {
                Some(last) => format!("{}_{last}.car", t.root),
                None => format!("{}.car", t.root),
            },
            str::to_string,
        );
        let etag = params.etag(&t.display, &t.root);
        if etag_matches(&ctx.headers, &etag) {
            return self.not_modified(ctx, &etag, self.cache_control(&t).as_deref());
        }
        let (store, root, segs, display) = (self.store(ctx.offline), t.root, t.segments.clone(), t.display.clone());
        let res = self
            .blocking(move || {
                let r = resolve(&store, root, &segs, true, &display)?;
                // The root block must be here before 200 is promised.
                let terminal = block_of(&store, &r.cid, &display)?;
                Ok((r, terminal, store))
            })
            .await;
        let (r, terminal, store) = match res {
            Ok(x) => x,
            Err(e) => return self.fail(ctx, e),
        };
        let mut out = ctx.out.clone();
        out.insert("x-ipfs-roots", hv(&r.roots.iter().map(Cid::to_string).collect::<Vec<_>>().join(",")));
        out.insert(header::CONTENT_DISPOSITION, hv(&content_disposition(&name, "attachment")));
        out.insert(header::ETAG, hv(&etag));
        if let Some(cc) = self.cache_control(&t) {
            out.insert(header::CACHE_CONTROL, hv(&cc));
        }
        out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("none"));
        out.insert(header::CONTENT_TYPE, hv(&params.content_type()));
        out.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
        let remainder_empty = r.remainder.is_empty();
        let path_blocks = r.path_blocks;
        self.stream_response(ctx, out, move |w| {
            crate::car::write_car(w, &store, &path_blocks, &terminal, remainder_empty, &params).map(|_| ()).map_err(
                |e| match e {
                    crate::car::WalkError::Node(n) => (GwError::status_of(n.kind()).as_u16(), n.to_string()),
                    e => (500, e.to_string()),
                },
            )
        })
        .await
    }

    /// A produced body: the status waits for the first chunk, so a failure
    /// before any byte is an error answer, not a truncated 200.
    async fn stream_response<F>(&self, ctx: &Ctx, out: HeaderMap, f: F) -> Response<Body>
    where
        F: FnOnce(&mut body::ChunkWriter) -> Result<(), (u16, String)> + Send + 'static,
    {
        let mut b = Response::builder();
        for (k, v) in &out {
            b = b.header(k, v.clone());
        }
        if ctx.head {
            return b.body(Body::empty()).unwrap_or_default();
        }
        let mut rx = body::produce(f);
        let first = match self.cfg.retrieval_timeout {
            Some(d) => match tokio::time::timeout(d, rx.recv()).await {
                Ok(x) => x,
                Err(_) => return self.fail(ctx, retrieval_timeout()),
            },
            None => rx.recv().await,
        };
        match first {
            None => b.body(Body::empty()).unwrap_or_default(),
            Some(Err((status, msg))) => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                self.fail(ctx, GwError::new(status, msg))
            }
            Some(Ok(chunk)) => b.body(body::stream(Some(chunk), rx, self.cfg.retrieval_timeout)).unwrap_or_default(),
        }
    }
}

fn retrieval_timeout() -> GwError {
    GwError::new(StatusCode::GATEWAY_TIMEOUT, "Unable to retrieve content within timeout period")
}

fn req_html<B>(req: &Request<B>, cfg: &GatewayConfig) -> bool {
    !cfg.disable_html_errors
        && req.headers().get_all(header::ACCEPT).iter().any(|v| v.as_bytes().windows(9).any(|w| w == b"text/html"))
}

/// The request after name resolution.
struct Target {
    root: Cid,
    segments: Vec<String>,
    /// `Some(ttl)` for `/ipns/` paths.
    mutable: Option<Option<Duration>>,
    display: String,
    cp: ContentPath,
}

enum Prepared {
    Plan(Box<(Resolved, Option<u16>, Plan, Store)>),
    Redirect { status: u16, location: String },
}

/// What `serve_bytes` sends.
struct Served {
    etag: String,
    cc: Option<String>,
    mtime: Option<i64>,
    ctype: String,
    size: u64,
    status: StatusCode,
}

enum BytesSource {
    Mem(Bytes),
    File(Box<(Store, FilePlan)>),
}

/// Kubo's ETags: `"<cid>"`, or `"<cid>.<format>"` for explicit formats
/// (weak for TAR, whose bytes carry the time of the request).
fn etag_for(cid: &Cid, format: Option<&Format>) -> String {
    let native = match cid.codec() {
        codec::JSON => Some(Format::Json),
        codec::CBOR => Some(Format::Cbor),
        codec::DAG_JSON => Some(Format::DagJson),
        codec::DAG_CBOR => Some(Format::DagCbor),
        _ => None,
    };
    match format.cloned().or(native) {
        None => format!("\"{cid}\""),
        Some(Format::Tar) => format!("W/\"{cid}.x-tar\""),
        Some(f) => format!("\"{cid}.{}\"", short_format(f.media_type())),
    }
}

/// The name Kubo sniffs by: the last path segment (not the root itself),
/// or `?filename=`.
fn filename_of(ctx: &Ctx, display: &str) -> String {
    if let Some(n) = ctx.q("filename").filter(|n| !n.is_empty()) {
        return n.to_string();
    }
    let clean = clean_path(display);
    if clean.matches('/').count() <= 2 {
        return String::new();
    }
    clean.rsplit('/').next().unwrap_or_default().to_string()
}

/// The bytes sniffing may read: from the first byte sent, never past the
/// range (blocks outside it need not exist).
fn range_window(ranges: &[RangeSpec]) -> Sniff {
    let max = mime::SNIFF_LEN as u64;
    match ranges.first() {
        None => Sniff { at: 0, len: max },
        Some(RangeSpec::From { from, to }) => Sniff { at: *from, len: to.map_or(max, |t| (t - from + 1).min(max)) },
        // A suffix: the size is not known yet; no read ahead.
        Some(RangeSpec::Suffix(_)) => Sniff { at: 0, len: 0 },
    }
}

/// Requests a trustless-only gateway answers: raw blocks of a bare CID, CARs.
fn trustless_request(cp: &ContentPath, n: &Negotiated) -> bool {
    match &n.format {
        Some(Format::Car) => !cp.ipns,
        Some(Format::Raw) => !cp.ipns && cp.segments.is_empty(),
        Some(Format::IpnsRecord) => cp.ipns && cp.segments.is_empty(),
        _ => false,
    }
}

fn redirect(status: StatusCode, location: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::LOCATION, hv(location))
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(Body::from(format!(
            "<a href=\"{}\">{}</a>.\n\n",
            html::esc(location),
            status.canonical_reason().unwrap_or("")
        )))
        .unwrap_or_default()
}

fn not_found() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NOT_FOUND)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("x-content-type-options", "nosniff")
        .body(Body::from("404 page not found\n"))
        .unwrap_or_default()
}

/// `content-type` → `Content-Type`, as Go canonicalizes header names.
fn canonical_header(h: &str) -> String {
    h.split('-')
        .map(|p| {
            let mut c = p.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + &c.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_paths() {
        let c = "bafkqaaa";
        let p = parse_content_path(&format!("/ipfs/{c}/a/../b/")).unwrap();
        assert_eq!(p.display, format!("/ipfs/{c}/b/"));
        assert_eq!(p.segments, vec!["b"]);
        assert!(
            parse_content_path("/ipfs/QmInvalidCID").unwrap_err().starts_with("invalid path \"/ipfs/QmInvalidCID\"")
        );
        assert!(parse_content_path(&format!("/ipfs/{c}/../../etc/passwd")).is_err());
        assert!(parse_content_path("/ipfs/").is_err());
        assert_eq!(canonical_header("x-ipfs-path"), "X-Ipfs-Path");
        assert_eq!(
            content_disposition("testтест.tar", "attachment"),
            "attachment; filename=\"test____.tar\"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.tar"
        );
    }
}
