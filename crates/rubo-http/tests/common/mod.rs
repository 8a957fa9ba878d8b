//! Helpers: an in-process node behind the API on 127.0.0.1 (port 0), a
//! plain HTTP client that shows everything (status, headers, body, trailers,
//! a body cut short), and the private network namespace every test runs in.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use http::HeaderMap;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rubo_commands::registry::{self, Ctx};
use rubo_commands::{Inputs, Output, Request};
use rubo_http::{ApiConfig, HttpError};
use rubo_node::{LockMode, Node};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Whether this process sees only the loopback interface.
pub(crate) fn isolated() -> bool {
    let Ok(dev) = std::fs::read_to_string("/proc/self/net/dev") else { return false };
    dev.lines().skip(2).all(|l| l.trim_start().starts_with("lo:"))
}

/// Runs `body` (on a runtime of its own) in a private network namespace:
/// directly if this process is already in one, else by running this one
/// test again under `unshare -n`.
pub(crate) fn in_netns<F: std::future::Future<Output = ()>>(test: &str, body: impl FnOnce() -> F) {
    if isolated() {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        rt.block_on(body());
        return;
    }
    assert!(std::env::var_os("RUBO_IN_NETNS").is_none(), "unshare -n did not isolate the network; refusing to serve");
    let exe = std::env::current_exe().expect("test executable");
    let status = Command::new("unshare")
        .args(["-n", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("RUBO_IN_NETNS", "1")
        .status()
        .expect("API tests run servers in a private network namespace and need `unshare -n` (root)");
    assert!(status.success(), "{test} failed inside the network namespace");
}

/// Runs a handler directly, as the CLI does.
pub(crate) async fn run_direct(ctx: Ctx, spec_path: &str, req: Request) -> Result<Output, rubo_commands::CmdError> {
    let (spec, _) = registry::registry().find(spec_path).expect("known command");
    (spec.run)(ctx, req).await
}

/// A request as the query `pairs` would give it.
pub(crate) fn req(spec_path: &str, pairs: &[(&str, &str)]) -> Request {
    let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut r = registry::request_from_query(spec_path, &pairs).expect("valid query");
    r.global = registry::global_from(&r.opts, rubo_commands::Encoding::Json).expect("valid globals");
    r
}

/// Makes a repo with the `test` profile (through `init`, which also pins
/// the empty directory), optionally from a whole config (same identity).
pub(crate) async fn init_repo(path: &Path, config: Option<Vec<u8>>) {
    let mut r = req("init", &[("profile", "test")]);
    r.inputs = config.map(|c| Inputs::from_bytes(Bytes::from(c)));
    run_direct(Ctx::None { repo_path: path.to_path_buf(), config_file: None }, "init", r).await.expect("init");
}

pub(crate) async fn open_node(path: &Path) -> Node {
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || Node::open(&p, LockMode::Exclusive, "rubo-http test")).await.unwrap().unwrap()
}

/// A node behind the API.
pub(crate) struct TestServer {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) node: Node,
    pub(crate) port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), HttpError>>>,
}

impl TestServer {
    pub(crate) async fn start() -> Self {
        Self::start_with(|doc| ApiConfig::from_config(doc).unwrap()).await
    }

    /// `cfg` makes the API settings from the repo's config document.
    pub(crate) async fn start_with(cfg: impl FnOnce(&Value) -> ApiConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo");
        init_repo(&path, None).await;
        let node = open_node(&path).await;
        Self::serve(dir, node, cfg).await
    }

    pub(crate) async fn serve(dir: tempfile::TempDir, node: Node, cfg: impl FnOnce(&Value) -> ApiConfig) -> Self {
        let cfg = cfg(node.repo().config().doc());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(rubo_http::serve(listener, node.clone(), cfg, async move {
            let _ = rx.await;
        }));
        Self { dir, node, port, stop: Some(tx), task: Some(task) }
    }

    pub(crate) fn maddr(&self) -> String {
        format!("/ip4/127.0.0.1/tcp/{}", self.port)
    }

    pub(crate) fn client(&self) -> rubo_http::Client {
        rubo_http::Client::new(&self.maddr(), None).unwrap()
    }

    /// Stops the server and waits for it.
    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }

    pub(crate) async fn post(&self, path: &str) -> Reply {
        request(self.port, "POST", path, &[], Bytes::new()).await
    }

    /// POSTs and expects 200 and a JSON value.
    pub(crate) async fn json(&self, path: &str) -> Value {
        let r = self.post(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        serde_json::from_slice(&r.body).unwrap_or_else(|e| panic!("{path}: {e}: {}", r.text()))
    }
}

/// Everything about one response.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
    pub(crate) trailers: Option<HeaderMap>,
    /// The body ended in an error (the server aborted it).
    pub(crate) body_error: Option<String>,
}

impl Reply {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The NDJSON lines.
    pub(crate) fn lines(&self) -> Vec<Value> {
        self.body.split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(|l| serde_json::from_slice(l).unwrap()).collect()
    }
}

/// One request on a fresh connection.
pub(crate) async fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Bytes) -> Reply {
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let mut b = http::Request::builder().method(method).uri(path).header("host", format!("127.0.0.1:{port}"));
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let resp = match sender.send_request(b.body(Full::new(body)).unwrap()).await {
        Ok(r) => r,
        // The server closed the connection before a response head.
        Err(e) => {
            return Reply {
                status: 0,
                headers: HeaderMap::new(),
                body: Vec::new(),
                trailers: None,
                body_error: Some(e.to_string()),
            };
        }
    };
    let (parts, mut body) = resp.into_parts();
    let (mut data, mut trailers, mut body_error) = (Vec::new(), None, None);
    while let Some(f) = body.frame().await {
        match f {
            Ok(f) => match f.into_data() {
                Ok(d) => data.extend_from_slice(&d),
                Err(f) => trailers = f.into_trailers().ok(),
            },
            Err(e) => {
                body_error = Some(e.to_string());
                break;
            }
        }
    }
    Reply { status: parts.status.as_u16(), headers: parts.headers, body: data, trailers, body_error }
}

/// A multipart body as Kubo's Go client writes it: (path, content type, content).
pub(crate) fn multipart(boundary: &str, parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (path, ct, data)) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: {ct}\r\n\r\n",
                rubo_http::multipart::query_escape(path.as_bytes())
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
    }
    out.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    out
}
