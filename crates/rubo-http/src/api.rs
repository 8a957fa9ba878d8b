//! The RPC API server: Kubo's `/api/v0` (go-ipfs-cmds' HTTP handler) over
//! the command table, plus `/debug/metrics/prometheus`.
//!
//! A request goes: `API.Authorizations` (403) -> CORS preflight / method
//! (`OPTIONS` 204, anything but `POST` 405) -> the CSRF origin checks (403)
//! -> path to command (404; the last segment may be the first argument) ->
//! query to [`Request`] (400 text) -> multipart body to [`Inputs`] (streamed,
//! see [`crate::upload`]) -> the handler -> its [`Output`] as Go's JSON: one
//! line, NDJSON with `X-Chunked-Output: 1`, or bytes with `X-Stream-Output:
//! 1`. An error before the first value is a JSON error with the status of
//! [`status_of`]; after it, the `X-Stream-Error` trailer.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, StatusCode};
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use rubo_commands::def;
use rubo_commands::input::Inputs;
use rubo_commands::output::Printer;
use rubo_commands::registry::{self, ArgKind, Ctx, Spec};
use rubo_commands::{CmdError, Encoding, ErrorCode, Output, TextEncoder};
use rubo_node::Node;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};

use crate::config::ApiConfig;
use crate::multipart::{boundary_of, percent_decode};
use crate::{HttpError, auth, gojson, metrics};

/// The status of a command error: a client error is the caller's fault (400),
/// anything else the node's (500). The one place errors become statuses.
pub fn status_of(e: &CmdError) -> StatusCode {
    match e.code {
        ErrorCode::Client => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The `Server` header.
pub fn server_header() -> String {
    format!("rubo/{}", rubo_node::VERSION)
}

/// Arguments read from the body's first part, at most (Kubo's stdin args).
const MAX_BODY_ARGS: usize = 4 << 20;
/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(60);

struct Server {
    node: Node,
    cfg: ApiConfig,
    origins: Vec<String>,
}

/// Serves the API on `listener` until `shutdown` completes; then stops
/// accepting, lets requests in flight finish, and returns. Dropping the
/// future instead aborts every connection.
pub async fn serve(
    listener: TcpListener,
    node: Node,
    cfg: ApiConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), HttpError> {
    let port = match cfg.port {
        Some(p) => p,
        None => listener.local_addr().map_err(HttpError::Io)?.port(),
    };
    let origins = cfg.origins(port);
    let limit = Arc::new(Semaphore::new(cfg.max_connections.max(1)));
    let server = Arc::new(Server { node, cfg, origins });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut conns = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = limit.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    // Out of file descriptors and the like: back off, don't spin.
                    tracing::warn!("API accept: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while conns.try_join_next().is_some() {}
        conns.spawn(serve_conn(stream, server.clone(), stop_rx.clone(), permit));
    }
    let _ = stop_tx.send(true);
    while conns.join_next().await.is_some() {}
    Ok(())
}

async fn serve_conn(
    stream: tokio::net::TcpStream,
    server: Arc<Server>,
    mut stop: watch::Receiver<bool>,
    _permit: tokio::sync::OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let max_header = server.cfg.max_header_bytes.max(1024);
    let svc = service_fn(move |req| {
        let server = server.clone();
        async move { Ok::<_, Infallible>(server.handle(req).await) }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_header_size(max_header)
        // The read buffer must hold the largest head we accept.
        .max_buf_size((max_header + 4096).max(400 << 10))
        .max_headers(256)
        .serve_connection(TokioIo::new(stream), svc);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = async { let _ = stop.wait_for(|s| *s).await; } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// A response body: a value, a stream of values (JSON lines or text), or
/// bytes; an error after the first frame ends it with the `X-Stream-Error`
/// trailer when the client accepts trailers (`TE: trailers`), and otherwise
/// aborts the connection, so that a cut stream never looks complete.
pub struct ApiBody {
    pending: Option<Bytes>,
    source: Source,
    deadline: Option<Pin<Box<Sleep>>>,
    trailers: bool,
    done: bool,
    /// An abort waiting for one `Pending`, so that hyper first writes out
    /// what it buffered (the head, the last data) and the client sees them.
    abort: Option<String>,
}

enum Source {
    None,
    Values(mpsc::Receiver<Result<Value, CmdError>>, Option<Box<dyn TextEncoder>>),
    Bytes(mpsc::Receiver<Result<Bytes, CmdError>>),
}

/// A stream that failed after its headers were sent, for a client that
/// cannot take trailers.
#[derive(Debug, thiserror::Error)]
#[error("stream failed: {0}")]
pub struct StreamError(String);

impl ApiBody {
    fn empty() -> Self {
        Self { pending: None, source: Source::None, deadline: None, trailers: false, done: true, abort: None }
    }

    fn full(b: impl Into<Bytes>) -> Self {
        let b: Bytes = b.into();
        Self {
            pending: (!b.is_empty()).then_some(b),
            source: Source::None,
            deadline: None,
            trailers: false,
            done: true,
            abort: None,
        }
    }

    fn fail(&mut self, msg: &str, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, StreamError>>> {
        self.done = true;
        self.source = Source::None;
        if !self.trailers {
            self.abort = Some(msg.to_string());
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let mut h = HeaderMap::new();
        h.insert(HeaderName::from_static("x-stream-error"), header_value(msg));
        Poll::Ready(Some(Ok(Frame::trailers(h))))
    }
}

/// A message as a header value: control characters (line breaks) become spaces.
fn header_value(msg: &str) -> HeaderValue {
    let clean: String = msg.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    HeaderValue::from_str(&clean).unwrap_or_else(|_| HeaderValue::from_static("error"))
}

fn text_bytes(
    enc: &mut dyn TextEncoder,
    f: impl FnOnce(&mut dyn TextEncoder, &mut Printer<'_>) -> Result<(), CmdError>,
) -> Result<Bytes, CmdError> {
    let (mut out, mut err) = (Vec::new(), std::io::sink());
    let mut p = Printer { out: &mut out, err: &mut err, tty: false };
    f(enc, &mut p)?;
    Ok(Bytes::from(out))
}

impl Body for ApiBody {
    type Data = Bytes;
    type Error = StreamError;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, StreamError>>> {
        let this = self.get_mut();
        if let Some(msg) = this.abort.take() {
            return Poll::Ready(Some(Err(StreamError(msg))));
        }
        if let Some(b) = this.pending.take() {
            return Poll::Ready(Some(Ok(Frame::data(b))));
        }
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(d) = this.deadline.as_mut()
            && d.as_mut().poll(cx).is_ready()
        {
            return this.fail("context deadline exceeded", cx);
        }
        loop {
            let next = match &mut this.source {
                Source::None => {
                    this.done = true;
                    return Poll::Ready(None);
                }
                Source::Values(rx, text) => match rx.poll_recv(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(Ok(v))) => match text {
                        None => Ok(Bytes::from(gojson::line(&v))),
                        Some(t) => text_bytes(t.as_mut(), |t, p| t.emit(v, p)),
                    },
                    Poll::Ready(Some(Err(e))) => Err(e),
                    Poll::Ready(None) => {
                        let tail = match text {
                            Some(t) => text_bytes(t.as_mut(), |t, p| t.finish(p)),
                            None => Ok(Bytes::new()),
                        };
                        this.source = Source::None;
                        tail
                    }
                },
                Source::Bytes(rx) => match rx.poll_recv(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Some(r)) => r,
                    Poll::Ready(None) => {
                        this.done = true;
                        return Poll::Ready(None);
                    }
                },
            };
            match next {
                Ok(b) if b.is_empty() => continue,
                Ok(b) => return Poll::Ready(Some(Ok(Frame::data(b)))),
                Err(e) => return this.fail(&e.message, cx),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done && self.pending.is_none() && self.abort.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match (&self.source, &self.pending) {
            _ if self.abort.is_some() => SizeHint::default(),
            (Source::None, Some(b)) if self.done => SizeHint::with_exact(b.len() as u64),
            (Source::None, None) if self.done => SizeHint::with_exact(0),
            _ => SizeHint::default(),
        }
    }
}

type Resp = http::Response<ApiBody>;

fn text_response(status: StatusCode, body: &str) -> Resp {
    let mut r = http::Response::new(ApiBody::full(format!("{body}\n")));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    r
}

fn not_found() -> Resp {
    text_response(StatusCode::NOT_FOUND, "404 page not found")
}

/// How a request path resolved.
enum Route {
    Command {
        spec: &'static Spec,
        def: &'static def::Command,
        path_arg: Option<String>,
    },
    /// A command that only groups others: Kubo answers 200 with nothing.
    Group,
    NotFound,
}

fn path_exists(reg: &registry::Registry, path: &str) -> bool {
    let prefix = format!("{path} ");
    reg.find(path).is_some()
        || reg.is_group(path)
        || reg.specs().iter().any(|s| s.path.starts_with(&prefix))
        || reg.groups().iter().any(|g| g.path.starts_with(&prefix))
}

/// go-ipfs-cmds' path walk: every segment but the last must be a command;
/// the last one, if it is not, is the first argument of a runnable command.
fn route(segs: &[&str]) -> Route {
    let reg = registry::registry();
    let mut cur = String::new();
    let mut path_arg = None;
    for (i, seg) in segs.iter().enumerate() {
        let next = if cur.is_empty() { seg.to_string() } else { format!("{cur} {seg}") };
        if !seg.is_empty() && !seg.contains(' ') && path_exists(reg, &next) {
            cur = next;
            continue;
        }
        if i + 1 == segs.len() && reg.find(&cur).is_some() {
            path_arg = Some(seg.to_string());
            break;
        }
        return Route::NotFound;
    }
    if cur.is_empty() {
        return Route::NotFound;
    }
    // Kubo's NoRemote anywhere on the path: not served.
    let words: Vec<&str> = cur.split(' ').collect();
    for n in 1..=words.len() {
        if reg.find(&words[..n].join(" ")).is_some_and(|(s, _)| s.local_only) {
            return Route::NotFound;
        }
    }
    match reg.find(&cur) {
        Some((spec, def)) => Route::Command { spec, def, path_arg },
        None => Route::Group,
    }
}

/// Reads the body's first part as arguments, one a line (Kubo's stdin
/// arguments over HTTP).
async fn body_args(body: Incoming, boundary: String) -> Result<Vec<String>, CmdError> {
    let (tx, mut inputs) = Inputs::channel();
    let feeder = tokio::spawn(crate::upload::feed(body, boundary, tx));
    let file = match inputs.next_file().await {
        None => return Ok(Vec::new()),
        Some(f) => f?,
    };
    let data = file.read_up_to(Some(MAX_BODY_ARGS)).await?;
    feeder.abort();
    if data.len() > MAX_BODY_ARGS {
        return Err(CmdError::client(format!("arguments in the body exceed {MAX_BODY_ARGS} bytes")));
    }
    let text = String::from_utf8_lossy(&data);
    Ok(text.lines().map(|l| l.trim_end_matches('\r')).filter(|l| !l.is_empty()).map(str::to_string).collect())
}

impl Server {
    async fn handle(&self, req: http::Request<Incoming>) -> Resp {
        let method = req.method().clone();
        let is_api = req.uri().path().starts_with("/api/");
        let resp = self.route_request(req).await;
        let handler = if is_api { "api" } else { "other" };
        self.cfg.metrics.count_request(handler, method.as_str(), resp.status().as_u16());
        let mut resp = resp;
        resp.headers_mut().insert(header::SERVER, header_value(&server_header()));
        resp
    }

    async fn route_request(&self, req: http::Request<Incoming>) -> Resp {
        let raw_path = req.uri().path().to_string();
        let path =
            String::from_utf8_lossy(&percent_decode(&raw_path, false).unwrap_or_else(|| raw_path.clone().into_bytes()))
                .into_owned();
        if path == "/debug/metrics/prometheus" {
            let mut r = http::Response::new(ApiBody::full(self.cfg.metrics.render()));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(metrics::CONTENT_TYPE));
            return r;
        }
        if path == "/api/v0" {
            let mut r = text_response(StatusCode::MOVED_PERMANENTLY, "<a href=\"/api/v0/\">Moved Permanently</a>.\n");
            r.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/api/v0/"));
            return r;
        }
        let Some(rest) = path.strip_prefix("/api/v0/") else { return not_found() };
        let rest = rest.to_string();
        // Authorization runs first: even preflights need the secret.
        if let Some(rules) = &self.cfg.auth {
            let given = req.headers().get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
            if !auth::allowed(rules, given, &path) {
                return text_response(StatusCode::FORBIDDEN, auth::DENIED.trim_end_matches('\n'));
            }
        }
        let origin = req.headers().get(header::ORIGIN).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        if req.method() == Method::OPTIONS && req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
            return self.preflight(&req, origin.as_deref());
        }
        let mut resp = self.command(req, &rest, origin.as_deref()).await;
        let h = resp.headers_mut();
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        if let Some(o) = origin.as_deref()
            && self.origin_allowed(o)
        {
            let any = self.origins.iter().any(|a| a == "*") && !self.cfg.allow_credentials;
            h.insert(
                header::ACCESS_CONTROL_ALLOW_ORIGIN,
                if any { HeaderValue::from_static("*") } else { header_value(o) },
            );
            if self.cfg.allow_credentials {
                h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            }
        }
        resp
    }

    fn origin_allowed(&self, origin: &str) -> bool {
        self.origins.iter().any(|a| a == "*" || a == origin)
    }

    /// A CORS preflight (rs/cors): always 204; the allow headers only for
    /// an allowed origin asking for an allowed method and headers.
    fn preflight(&self, req: &http::Request<Incoming>, origin: Option<&str>) -> Resp {
        let mut r = http::Response::new(ApiBody::empty());
        *r.status_mut() = StatusCode::NO_CONTENT;
        let h = r.headers_mut();
        h.append(header::VARY, HeaderValue::from_static("Origin"));
        h.append(header::VARY, HeaderValue::from_static("Access-Control-Request-Method"));
        h.append(header::VARY, HeaderValue::from_static("Access-Control-Request-Headers"));
        let Some(origin) = origin.filter(|o| self.origin_allowed(o)) else { return r };
        let want = req.headers().get(header::ACCESS_CONTROL_REQUEST_METHOD).and_then(|v| v.to_str().ok()).unwrap_or("");
        let want = want.to_ascii_uppercase();
        if !self.cfg.allowed_methods.contains(&want) {
            return r;
        }
        let asked: Vec<String> = req
            .headers()
            .get_all(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        const ALLOWED: [&str; 4] = ["origin", "accept", "content-type", "x-requested-with"];
        if !asked.iter().all(|a| ALLOWED.contains(&a.to_ascii_lowercase().as_str())) {
            return r;
        }
        let any = self.origins.iter().any(|a| a == "*") && !self.cfg.allow_credentials;
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            if any { HeaderValue::from_static("*") } else { header_value(origin) },
        );
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, header_value(&want));
        if !asked.is_empty() {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, header_value(&asked.join(", ")));
        }
        if self.cfg.allow_credentials {
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
        r
    }

    /// go-ipfs-cmds' CSRF guard: a cross-origin request needs an allowed
    /// `Origin` and `Referer`; a browser's POST without either is refused.
    fn csrf_ok(&self, req: &http::Request<Incoming>, origin: Option<&str>) -> bool {
        if let Some(o) = origin
            && !self.origin_allowed(o)
        {
            return false;
        }
        let referer = req.headers().get(header::REFERER);
        if let Some(r) = referer {
            let r = String::from_utf8_lossy(r.as_bytes());
            let Some(o) = referer_origin(&r) else { return false };
            if !self.origin_allowed(&o) {
                return false;
            }
        }
        if origin.is_none() && referer.is_none() && req.method() == Method::POST {
            let ua = req.headers().get(header::USER_AGENT).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            if let Some(ua) = ua
                && ua.starts_with("Mozilla")
                && !ua.contains("Electron")
            {
                return false;
            }
        }
        true
    }

    fn preamble(&self, r: &mut Resp, content_type: &str) {
        let h = r.headers_mut();
        let expose = HeaderValue::from_static("X-Stream-Output, X-Chunked-Output, X-Content-Length");
        h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, expose.clone());
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, expose);
        h.insert(header::TRAILER, HeaderValue::from_static("X-Stream-Error"));
        h.insert(header::CONTENT_TYPE, header_value(content_type));
        for (k, v) in &self.cfg.headers {
            if let Ok(name) = HeaderName::from_bytes(k.as_bytes()) {
                h.append(name, header_value(v));
            }
        }
    }

    fn error_response(&self, e: &CmdError) -> Resp {
        let body = serde_json::json!({"Message": e.message, "Code": u8::from(e.code), "Type": "error"});
        let mut r = http::Response::new(ApiBody::full(gojson::line(&body)));
        *r.status_mut() = status_of(e);
        self.preamble(&mut r, "application/json");
        r
    }

    async fn command(&self, req: http::Request<Incoming>, rest: &str, origin: Option<&str>) -> Resp {
        if req.method() == Method::OPTIONS {
            let mut r = http::Response::new(ApiBody::empty());
            *r.status_mut() = StatusCode::NO_CONTENT;
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("OPTIONS, POST"));
            return r;
        }
        if req.method() != Method::POST {
            let mut r = text_response(StatusCode::METHOD_NOT_ALLOWED, "405 - Method Not Allowed");
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("OPTIONS, POST"));
            return r;
        }
        if !self.csrf_ok(&req, origin) {
            return text_response(StatusCode::FORBIDDEN, "403 - Forbidden");
        }
        let segs: Vec<&str> = rest.split('/').collect();
        let (spec, def, path_arg) = match route(&segs) {
            Route::NotFound => return not_found(),
            Route::Group => {
                let mut r = http::Response::new(ApiBody::empty());
                self.preamble(&mut r, "application/json");
                return r;
            }
            Route::Command { spec, def, path_arg } => (spec, def, path_arg),
        };
        let pairs: Vec<(String, String)> = form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        let mut creq = match registry::request_from_query(spec.path, &pairs) {
            Ok(r) => r,
            Err(e) => return text_response(StatusCode::BAD_REQUEST, &e.to_string()),
        };
        if let Some(a) = path_arg {
            creq.args.insert(0, a);
        }
        let enc = match creq.opts.str("enc") {
            None | Some("json") => Encoding::Json,
            Some("text") => Encoding::Text,
            Some(other) => return text_response(StatusCode::BAD_REQUEST, &format!("invalid encoding: {other}")),
        };
        creq.global = match registry::global_from(&creq.opts, Encoding::Json) {
            Ok(g) => g,
            Err(e) => return self.error_response(&e),
        };
        creq.global.enc = enc;
        let deadline = match creq.opts.str("timeout") {
            None => None,
            Some(t) => match rubo_repo::config::units::parse_duration(t) {
                Ok(d) => Some(Instant::now() + d),
                // Kubo's handler returns without writing anything.
                Err(_) => return http::Response::new(ApiBody::empty()),
            },
        };
        let string_args: Vec<&def::Arg> = def.positionals().filter(|a| !a.is_file()).collect();
        // (Files and trees come in the body, checked below: `config replace <file>`.)
        let args_in_query = matches!(spec.args, ArgKind::Strings);
        for (i, a) in string_args.iter().enumerate() {
            if a.is_required() && creq.args.len() <= i && args_in_query {
                return text_response(StatusCode::BAD_REQUEST, &format!("argument {:?} is required", a.id()));
            }
        }
        let trailers = req
            .headers()
            .get_all(header::TE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("trailers")));
        let boundary = match req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(boundary_of) {
            None => None,
            Some(Ok(b)) => b,
            Some(Err(e)) => return self.error_response(&CmdError::client(e.to_string())),
        };
        let body = req.into_body();
        let file_arg = def.positionals().find(|a| a.is_file()).or_else(|| def.positionals().next());
        let takes_files = matches!(spec.args, ArgKind::Files | ArgKind::Tree) || def.positionals().any(|a| a.is_file());
        if matches!(spec.args, ArgKind::Files | ArgKind::Tree) {
            // Their arguments are the body's parts. Query ones would name
            // paths on this machine (the CLI's add encoder walks them).
            creq.args.clear();
        }
        if takes_files {
            let Some(boundary) = boundary else {
                let name = file_arg.map(|a| a.id()).unwrap_or("path");
                return text_response(StatusCode::BAD_REQUEST, &format!("file argument '{name}' is required"));
            };
            let (tx, inputs) = Inputs::channel();
            tokio::spawn(crate::upload::feed(body, boundary, tx));
            creq.inputs = Some(inputs);
        } else if spec.args == ArgKind::StdinStrings && creq.args.is_empty() {
            if let Some(boundary) = boundary {
                match body_args(body, boundary).await {
                    Ok(a) => creq.args = a,
                    Err(e) => return self.error_response(&e),
                }
            }
            if creq.args.is_empty() {
                let name = string_args.first().map(|a| a.id()).unwrap_or("ipfs-path");
                return text_response(StatusCode::BAD_REQUEST, &format!("argument {name:?} is required"));
            }
        }
        let text = (enc == Encoding::Text).then(|| (spec.text)(&text_view(&creq)));
        // `--offline` against a running daemon: a view that never fetches.
        let node = if creq.global.offline { self.node.offline() } else { self.node.clone() };
        let run = (spec.run)(Ctx::Node(node), creq);
        let out = match deadline {
            Some(d) => match tokio::time::timeout_at(d, run).await {
                Ok(r) => r,
                Err(_) => Err(CmdError::new("context deadline exceeded")),
            },
            None => run.await,
        };
        self.respond(out, text, deadline, trailers).await
    }

    async fn respond(
        &self,
        out: Result<Output, CmdError>,
        mut text: Option<Box<dyn TextEncoder>>,
        deadline: Option<Instant>,
        trailers: bool,
    ) -> Resp {
        let json_or_text = if text.is_some() { "text/plain" } else { "application/json" };
        let out = match out {
            Ok(o) => o,
            Err(e) => return self.error_response(&e),
        };
        // Nothing is sent before the first value: an error before it is a
        // whole error response, as in go-ipfs-cmds.
        let (first, source, content_type, marker) = match out {
            Output::None => {
                let mut r = http::Response::new(ApiBody::empty());
                self.preamble(&mut r, json_or_text);
                r.headers_mut().insert("x-chunked-output", HeaderValue::from_static("1"));
                return r;
            }
            Output::Value(v) => {
                let body = match text.as_mut() {
                    None => Ok(Bytes::from(gojson::line(&v))),
                    Some(t) => text_bytes(t.as_mut(), |t, p| {
                        t.emit(v, p)?;
                        t.finish(p)
                    }),
                };
                let body = match body {
                    Ok(b) => b,
                    Err(e) => return self.error_response(&e),
                };
                let mut r = http::Response::new(ApiBody::full(body));
                self.preamble(&mut r, json_or_text);
                return r;
            }
            Output::Stream(mut rx) => {
                let first = match first_item(&mut rx, deadline).await {
                    Ok(f) => f,
                    Err(e) => return self.error_response(&e),
                };
                let first = match (first, text.as_mut()) {
                    (None, _) => None,
                    (Some(v), None) => Some(Bytes::from(gojson::line(&v))),
                    (Some(v), Some(t)) => match text_bytes(t.as_mut(), |t, p| t.emit(v, p)) {
                        Ok(b) => Some(b),
                        Err(e) => return self.error_response(&e),
                    },
                };
                (first, Source::Values(rx, text), json_or_text, "x-chunked-output")
            }
            Output::Bytes { content_type, mut stream } => {
                let first = match first_item(&mut stream, deadline).await {
                    Ok(f) => f,
                    Err(e) => return self.error_response(&e),
                };
                (first, Source::Bytes(stream), content_type, "x-stream-output")
            }
        };
        let body = ApiBody {
            pending: first.filter(|b| !b.is_empty()),
            source,
            deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d))),
            trailers,
            done: false,
            abort: None,
        };
        let mut r = http::Response::new(body);
        self.preamble(&mut r, content_type);
        r.headers_mut().insert(marker, HeaderValue::from_static("1"));
        r
    }
}

/// What a command's text encoder (written for the CLI) sees on the server:
/// the request with `progress=false`, so that it draws no progress bar on
/// the daemon's terminal. Its byte hooks are never called here (`get`'s writes
/// files): byte outputs are sent as they are, as Kubo sends readers.
fn text_view(req: &rubo_commands::Request) -> rubo_commands::Request {
    let mut opts = rubo_commands::Opts::default();
    for name in req.opts.names().filter(|n| *n != "progress") {
        for v in req.opts.all(name) {
            opts.insert(name, v.clone());
        }
    }
    // Explicitly: encoders default to a bar when stderr is a terminal.
    opts.insert("progress", "false");
    rubo_commands::Request {
        path: req.path.clone(),
        args: req.args.clone(),
        opts,
        inputs: None,
        global: req.global.clone(),
    }
}

/// The first item of an output stream, within the deadline.
async fn first_item<T>(
    rx: &mut mpsc::Receiver<Result<T, CmdError>>,
    deadline: Option<Instant>,
) -> Result<Option<T>, CmdError> {
    let next = match deadline {
        Some(d) => {
            tokio::time::timeout_at(d, rx.recv()).await.map_err(|_| CmdError::new("context deadline exceeded"))?
        }
        None => rx.recv().await,
    };
    next.transpose()
}

/// `scheme://host` of a `Referer`, as Go's `url.Parse` splits it; `None` if
/// it has no scheme and host.
fn referer_origin(r: &str) -> Option<String> {
    let (scheme, rest) = r.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.')) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = &rest[..end];
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    Some(format!("{}://{host}", scheme.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert!(
            matches!(route(&["block", "put"]), Route::Command { spec, path_arg: None, .. } if spec.path == "block put")
        );
        assert!(
            matches!(route(&["cat", "QmX"]), Route::Command { spec, path_arg: Some(a), .. } if spec.path == "cat" && a == "QmX")
        );
        assert!(matches!(route(&["version", ""]), Route::Command { path_arg: Some(a), .. } if a.is_empty()));
        assert!(matches!(route(&["block"]), Route::Group));
        assert!(matches!(route(&["block", "bogus"]), Route::NotFound));
        assert!(matches!(route(&["bogus"]), Route::NotFound));
        assert!(matches!(route(&["init"]), Route::NotFound));
        assert!(matches!(route(&["config", "edit"]), Route::NotFound));
        assert!(matches!(route(&[""]), Route::NotFound));
        assert!(matches!(route(&["cat", "a", "b"]), Route::NotFound));
    }

    #[test]
    fn referers() {
        assert_eq!(referer_origin("http://localhost:5001/webui?x").as_deref(), Some("http://localhost:5001"));
        assert_eq!(referer_origin("https://u:p@example.com").as_deref(), Some("https://example.com"));
        assert_eq!(referer_origin("foo"), None);
    }

    #[test]
    fn statuses() {
        assert_eq!(status_of(&CmdError::client("x")), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(&CmdError::new("x")), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
