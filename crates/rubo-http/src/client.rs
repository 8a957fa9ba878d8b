//! The client the rubo CLI uses to run a command on a running daemon: a
//! [`Request`] becomes `POST /api/v0/<path>?arg=..&<option>=..&enc=json&stream-channels=true`
//! with the request's inputs streamed as a multipart body (as Kubo's Go
//! client writes it), and the response becomes the same [`Output`] the
//! handler would have returned locally: one value, a stream of values, or
//! bytes, with errors from JSON error bodies and from the `X-Stream-Error`
//! trailer. The CLI prints it with the same encoder, so the bytes match.

use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rubo_commands::input::{InputKind, Inputs};
use rubo_commands::output::STREAM_BUFFER;
use rubo_commands::registry::{self, ArgKind};
use rubo_commands::{CmdError, ErrorCode, Output, Request};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::auth::header_for_secret;
use crate::maddr::{self, AddrError, Endpoint};
use crate::multipart::query_escape;

/// A single JSON value or NDJSON line at most.
const MAX_VALUE: usize = 64 << 20;
/// An error body at most.
const MAX_ERROR: usize = 1 << 20;
/// The `api` file at most (Kubo refuses larger ones).
const MAX_API_FILE: u64 = 2048;

/// Why the client cannot even ask.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Addr(#[from] AddrError),
    #[error("invalid --api-auth secret: expected basic:user:pass, basic:<base64>, bearer:<token> or <token>")]
    Secret,
    /// No daemon answers at the address (the CLI may then run locally).
    #[error("cannot connect to the api at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(transparent)]
    Api(#[from] CmdError),
}

/// Reads `$RUBO_PATH/api`: the daemon's API multiaddr, or `None` when no
/// daemon wrote one.
pub fn api_file(repo: &Path) -> std::io::Result<Option<String>> {
    let path = repo.join("api");
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
        Ok(m) if m.len() >= MAX_API_FILE => {
            return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: too large", path.display())));
        }
        Ok(_) => {}
    }
    Ok(Some(std::fs::read_to_string(&path)?.trim().to_string()))
}

/// A client of one daemon's API.
#[derive(Debug, Clone)]
pub struct Client {
    endpoint: Endpoint,
    auth: Option<HeaderValue>,
}

/// A request body: nothing, or multipart bytes from a producer task.
struct ReqBody {
    rx: Option<mpsc::Receiver<Result<Bytes, std::io::Error>>>,
}

impl Body for ReqBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let Some(rx) = self.rx.as_mut() else { return Poll::Ready(None) };
        match rx.poll_recv(cx) {
            Poll::Ready(Some(r)) => Poll::Ready(Some(r.map(Frame::data))),
            Poll::Ready(None) => {
                self.rx = None;
                Poll::Ready(None)
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.rx.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        if self.rx.is_none() { SizeHint::with_exact(0) } else { SizeHint::default() }
    }
}

/// The first error the upload met reading local inputs: it explains a
/// failed call better than what the server saw (a cut body).
type LocalError = Arc<Mutex<Option<CmdError>>>;

fn local_error(slot: &LocalError) -> Option<CmdError> {
    slot.lock().map(|g| g.clone()).unwrap_or_else(|p| p.into_inner().clone())
}

/// The static content type the CLI's `Output::Bytes` carries.
fn static_content_type(ct: &str) -> &'static str {
    const KNOWN: [&str; 6] = [
        "text/plain",
        "application/x-tar",
        "application/gzip",
        "application/vnd.ipld.raw",
        "application/vnd.ipld.car",
        "application/octet-stream",
    ];
    let mt = ct.split(';').next().unwrap_or_default().trim();
    KNOWN.iter().find(|k| k.eq_ignore_ascii_case(mt)).copied().unwrap_or("application/octet-stream")
}

impl Client {
    /// A client for `addr`: a multiaddr (`/ip4/127.0.0.1/tcp/5001`) or an
    /// `http://host:port` URL; `auth` is a `--api-auth` secret
    /// (`basic:user:pass`, `bearer:token`), sent as `Authorization`.
    pub fn new(addr: &str, auth: Option<String>) -> Result<Self, ClientError> {
        let endpoint = maddr::parse(addr)?;
        let auth = match auth {
            None => None,
            Some(s) => {
                let h = header_for_secret(&s).ok_or(ClientError::Secret)?;
                Some(HeaderValue::from_str(&h).map_err(|_| ClientError::Secret)?)
            }
        };
        Ok(Self { endpoint, auth })
    }

    /// The API's base URL (`http://127.0.0.1:5001`).
    pub fn url(&self) -> String {
        self.endpoint.url()
    }

    /// Asks the daemon its version (Kubo's CLI does so before a command);
    /// `Unreachable` when no daemon answers.
    pub async fn version_check(&self) -> Result<String, ClientError> {
        let out = self.send("version", Request::new(&["version"])).await?;
        match out {
            Output::Value(v) => Ok(v.get("Version").and_then(Value::as_str).unwrap_or_default().to_string()),
            _ => Err(ClientError::Api(CmdError::new("unexpected response to version"))),
        }
    }

    /// Runs the command `spec_path` (`block put`) on the daemon.
    pub async fn call(&self, spec_path: &str, req: Request) -> Result<Output, CmdError> {
        self.send(spec_path, req).await.map_err(|e| match e {
            ClientError::Api(e) => e,
            e => CmdError::new(e.to_string()),
        })
    }

    fn query(spec_path: &str, req: &Request) -> String {
        let tree = registry::registry().find(spec_path).is_some_and(|(s, _)| s.args == ArgKind::Tree);
        let mut q = form_urlencoded::Serializer::new(String::new());
        if !tree {
            // `add` sends its paths as parts, never as arguments.
            for a in &req.args {
                q.append_pair("arg", a);
            }
        }
        for name in req.opts.names() {
            if matches!(name, "enc" | "encoding" | "stream-channels") {
                continue;
            }
            for v in req.opts.all(name) {
                q.append_pair(name, v);
            }
        }
        q.append_pair("enc", "json");
        q.append_pair("stream-channels", "true");
        q.finish()
    }

    async fn send(&self, spec_path: &str, mut req: Request) -> Result<Output, ClientError> {
        let uri = format!("/api/v0/{}?{}", spec_path.replace(' ', "/"), Self::query(spec_path, &req));
        let local: LocalError = Arc::new(Mutex::new(None));
        let (body, content_type) = match req.inputs.take() {
            None => (ReqBody { rx: None }, "application/octet-stream".to_string()),
            Some(inputs) => {
                let boundary = format!("{:032x}", rand::random::<u128>());
                let (tx, rx) = mpsc::channel(8);
                tokio::spawn(write_multipart(inputs, boundary.clone(), tx, local.clone()));
                (ReqBody { rx: Some(rx) }, format!("multipart/form-data; boundary={boundary}"))
            }
        };
        let mut builder = http::Request::post(uri)
            .header(header::HOST, self.endpoint.authority())
            .header(header::CONTENT_TYPE, content_type)
            .header(header::USER_AGENT, format!("rubo/{}", rubo_node::VERSION))
            // Errors after the output started come as a trailer.
            .header(header::TE, "trailers");
        if let Some(a) = &self.auth {
            builder = builder.header(header::AUTHORIZATION, a.clone());
        }
        let request = builder.body(body).map_err(|e| CmdError::new(e.to_string()))?;
        let unreachable = |reason: String| ClientError::Unreachable { url: self.url(), reason };
        let stream = tokio::net::TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let resp = match sender.send_request(request).await {
            Ok(r) => r,
            Err(e) => {
                return Err(local_error(&local)
                    .unwrap_or_else(|| CmdError::new(format!("the API request failed: {e}")))
                    .into());
            }
        };
        Ok(read_response(resp, local).await?)
    }
}

/// Writes the inputs as Kubo's Go client does: one part per entry, full
/// relative paths url-escaped in `filename`, mode and mtime in the form name.
async fn write_multipart(
    mut inputs: Inputs,
    boundary: String,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    local: LocalError,
) {
    let fail = |e: CmdError| {
        let msg = e.message.clone();
        if let Ok(mut g) = local.lock() {
            g.get_or_insert(e);
        }
        Err(std::io::Error::other(msg))
    };
    let mut first = true;
    while let Some(entry) = inputs.next().await {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let _ = tx.send(fail(e)).await;
                return;
            }
        };
        let mut name = String::from("file");
        let mut meta = Vec::new();
        if let Some(m) = entry.mode {
            meta.push(format!("mode={m:04o}"));
        }
        if let Some(t) = entry.mtime {
            meta.push(format!("mtime={}", t.seconds));
            if let Some(n) = t.nanos {
                meta.push(format!("mtime-nsecs={n}"));
            }
        }
        if !meta.is_empty() {
            name.push('?');
            name.push_str(&meta.join("&"));
        }
        let ct = match entry.kind {
            InputKind::File(_) => "application/octet-stream",
            InputKind::Dir => "application/x-directory",
            InputKind::Symlink(_) => "application/symlink",
        };
        let head = format!(
            "{}--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{}\"\r\nContent-Type: {ct}\r\n\r\n",
            if first { "" } else { "\r\n" },
            query_escape(&entry.path),
        );
        first = false;
        if tx.send(Ok(Bytes::from(head))).await.is_err() {
            return;
        }
        match entry.kind {
            InputKind::File(mut s) => {
                while let Some(chunk) = s.next().await {
                    let item = chunk.map_err(|e| std::io::Error::new(e.kind(), e.to_string()));
                    let stop = item.is_err();
                    let item = match item {
                        Ok(b) => Ok(b),
                        Err(e) => fail(CmdError::new(e.to_string())),
                    };
                    if tx.send(item).await.is_err() || stop {
                        return;
                    }
                }
            }
            InputKind::Symlink(t) => {
                if tx.send(Ok(Bytes::from(t.to_vec()))).await.is_err() {
                    return;
                }
            }
            InputKind::Dir => {}
        }
    }
    let close = format!("{}--{boundary}--\r\n", if first { "" } else { "\r\n" });
    let _ = tx.send(Ok(Bytes::from(close))).await;
}

async fn read_limited(body: &mut Incoming, limit: usize) -> Result<Bytes, CmdError> {
    let mut buf = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| CmdError::new(format!("reading the API response: {e}")))?;
        if let Ok(d) = frame.into_data() {
            if buf.len() + d.len() > limit {
                return Err(CmdError::new(format!("API response larger than {limit} bytes")));
            }
            buf.extend_from_slice(&d);
        }
    }
    Ok(buf.freeze())
}

fn trailer_error(trailers: &http::HeaderMap) -> Option<CmdError> {
    trailers.get("x-stream-error").map(|v| CmdError::new(String::from_utf8_lossy(v.as_bytes()).into_owned()))
}

async fn read_response(resp: http::Response<Incoming>, local: LocalError) -> Result<Output, CmdError> {
    let (parts, mut body) = resp.into_parts();
    let h = &parts.headers;
    let ct = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    if parts.status != http::StatusCode::OK {
        if let Some(e) = local_error(&local) {
            return Err(e);
        }
        let data = read_limited(&mut body, MAX_ERROR).await?;
        if ct.starts_with("application/json")
            && let Ok(e) = serde_json::from_slice::<CmdError>(&data)
        {
            return Err(e);
        }
        let text = String::from_utf8_lossy(&data).trim_end().to_string();
        let code = if parts.status == http::StatusCode::BAD_REQUEST { ErrorCode::Client } else { ErrorCode::Normal };
        let message = if text.is_empty() { format!("API answered {}", parts.status) } else { text };
        return Err(CmdError { message, code, kind: None });
    }
    if h.contains_key("x-stream-output") {
        let (tx, rx) = mpsc::channel(8);
        tokio::spawn(async move {
            while let Some(frame) = body.frame().await {
                let item =
                    match frame {
                        Err(e) => Err(local_error(&local)
                            .unwrap_or_else(|| CmdError::new(format!("reading the API response: {e}")))),
                        Ok(f) => match f.into_data() {
                            Ok(d) => Ok(d),
                            Err(f) => match f.trailers_ref().and_then(trailer_error) {
                                Some(e) => Err(e),
                                None => continue,
                            },
                        },
                    };
                let stop = item.is_err();
                if tx.send(item).await.is_err() || stop {
                    return;
                }
            }
        });
        return Ok(Output::Bytes { content_type: static_content_type(&ct), stream: rx });
    }
    if h.contains_key("x-chunked-output") {
        let (tx, mut rx) = mpsc::channel(STREAM_BUFFER);
        let (any_tx, any_rx) = oneshot::channel();
        tokio::spawn(read_ndjson(body, tx, any_tx, local));
        // An empty stream is the same as no output (Kubo sends both alike).
        return match any_rx.await {
            Ok(true) => Ok(Output::Stream(rx)),
            _ => match rx.recv().await {
                Some(Err(e)) => Err(e),
                _ => Ok(Output::None),
            },
        };
    }
    let data = read_limited(&mut body, MAX_VALUE).await?;
    if data.iter().all(u8::is_ascii_whitespace) {
        return Ok(Output::None);
    }
    serde_json::from_slice(&data).map(Output::Value).map_err(|e| CmdError::new(format!("unexpected API response: {e}")))
}

/// Splits an NDJSON body into values; `any` says whether there is at least
/// one (false on an empty or failed stream, whose error, if any, is then
/// the only item).
async fn read_ndjson(
    mut body: Incoming,
    tx: mpsc::Sender<Result<Value, CmdError>>,
    any: oneshot::Sender<bool>,
    local: LocalError,
) {
    let mut any = Some(any);
    let mut buf = BytesMut::new();
    let send = async |item: Result<Value, CmdError>, any: &mut Option<oneshot::Sender<bool>>| -> bool {
        let ok = item.is_ok();
        if let Some(a) = any.take() {
            let _ = a.send(ok);
        }
        tx.send(item).await.is_ok() && ok
    };
    loop {
        while let Some(nl) = buf.iter().position(|&b| b == b'\n') {
            let line = buf.split_to(nl + 1);
            let line = line.trim_ascii();
            if line.is_empty() {
                continue;
            }
            let v = serde_json::from_slice(line).map_err(|e| CmdError::new(format!("unexpected API response: {e}")));
            if !send(v, &mut any).await {
                return;
            }
        }
        if buf.len() > MAX_VALUE {
            let _ = send(Err(CmdError::new("API response line too long")), &mut any).await;
            return;
        }
        match body.frame().await {
            None => break,
            Some(Err(e)) => {
                let e = local_error(&local).unwrap_or_else(|| CmdError::new(format!("reading the API response: {e}")));
                let _ = send(Err(e), &mut any).await;
                return;
            }
            Some(Ok(f)) => match f.into_data() {
                Ok(d) => buf.extend_from_slice(&d),
                Err(f) => {
                    if let Some(e) = f.trailers_ref().and_then(trailer_error) {
                        let _ = send(Err(e), &mut any).await;
                        return;
                    }
                }
            },
        }
    }
    let rest = buf.trim_ascii();
    if !rest.is_empty() {
        let v = serde_json::from_slice(rest).map_err(|e| CmdError::new(format!("unexpected API response: {e}")));
        if !send(v, &mut any).await {
            return;
        }
    }
    if let Some(a) = any.take() {
        let _ = a.send(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries() {
        let mut req = Request::new(&["pin", "add"]);
        req.args = vec!["Qm a".into()];
        req.opts.insert("recursive", "false");
        req.opts.insert("enc", "text");
        assert_eq!(Client::query("pin add", &req), "arg=Qm+a&recursive=false&enc=json&stream-channels=true");
        let mut add = Request::new(&["add"]);
        add.args = vec!["/local/path".into()];
        assert_eq!(Client::query("add", &add), "enc=json&stream-channels=true");
    }

    #[test]
    fn api_files_and_secrets() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(api_file(d.path()).unwrap(), None);
        std::fs::write(d.path().join("api"), "/ip4/127.0.0.1/tcp/5001\n").unwrap();
        assert_eq!(api_file(d.path()).unwrap().as_deref(), Some("/ip4/127.0.0.1/tcp/5001"));
        std::fs::write(d.path().join("api"), "x".repeat(2048)).unwrap();
        assert!(api_file(d.path()).is_err());
        assert!(matches!(Client::new("/ip4/127.0.0.1/tcp/5001", Some("digest:x".into())), Err(ClientError::Secret)));
        assert!(matches!(Client::new("/unix/x", None), Err(ClientError::Addr(_))));
        let c = Client::new("/ip6/::1/tcp/5001", Some("basic:a:b".into())).unwrap();
        assert_eq!(c.url(), "http://[::1]:5001");
        assert_eq!(c.auth.as_ref().map(|h| h.to_str().unwrap().to_string()).as_deref(), Some("Basic YTpi"));
    }

    #[test]
    fn content_types() {
        assert_eq!(static_content_type("text/plain; charset=utf-8"), "text/plain");
        assert_eq!(static_content_type("application/vnd.ipld.car"), "application/vnd.ipld.car");
        assert_eq!(static_content_type("weird/thing"), "application/octet-stream");
    }
}
