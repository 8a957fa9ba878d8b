//! The wire protocol, seen by a plain HTTP client: go-ipfs-cmds' answers
//! (methods, paths, query errors, CSRF, API.Authorizations), response
//! shapes (single values, NDJSON, bytes, empty outputs, errors before and
//! after output), multipart uploads (malformed, truncated, cut by the
//! client: nothing pinned), limits and metrics. Expected bodies and headers
//! are go-ipfs-cmds' and Kubo's (docs: /work/notes/rpc-api.md).

mod common;

use bytes::Bytes;
use common::{Reply, TestServer, in_netns, multipart, request};
use rubo_http::ApiConfig;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EMPTY_DIR: &str = "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn";

async fn upload(s: &TestServer, path: &str, parts: &[(&str, &str, &[u8])]) -> Reply {
    let body = multipart("XyZ", parts);
    request(
        s.port,
        "POST",
        path,
        &[("content-type", "multipart/form-data; boundary=XyZ"), ("te", "trailers")],
        Bytes::from(body),
    )
    .await
}

async fn pins(s: &TestServer) -> Value {
    s.json("/api/v0/pin/ls").await
}

/// Writes a raw request and reads until the server closes the connection.
async fn raw(port: u16, head: &str, body: &[u8]) -> String {
    let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // The server may answer (and close) before reading everything.
    let _ = c.write_all(head.as_bytes()).await;
    let _ = c.write_all(body).await;
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn methods_and_paths() {
    in_netns("methods_and_paths", || async {
        let s = TestServer::start().await;
        let r = request(s.port, "GET", "/api/v0/version", &[], Bytes::new()).await;
        assert_eq!((r.status, r.text().as_str()), (405, "405 - Method Not Allowed\n"));
        assert_eq!(r.header("allow"), Some("OPTIONS, POST"));
        assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        let r = request(s.port, "OPTIONS", "/api/v0/version", &[], Bytes::new()).await;
        assert_eq!((r.status, r.header("allow")), (204, Some("OPTIONS, POST")));
        for p in ["/api/v0/bogus", "/api/v0/init", "/api/v0/config/edit", "/api/v0/block/bogus", "/nothing", "/api/v0/"]
        {
            let r = s.post(p).await;
            assert_eq!((r.status, r.text().as_str()), (404, "404 page not found\n"), "{p}");
        }
        let r = s.post("/api/v0").await;
        assert_eq!((r.status, r.header("location")), (301, Some("/api/v0/")));
        // A group addressed directly: 200, nothing.
        let r = s.post("/api/v0/block").await;
        assert_eq!((r.status, r.body.len()), (200, 0));

        let r = s.post("/api/v0/version").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-chunked-output"), None);
        assert_eq!(r.header("trailer"), Some("X-Stream-Error"));
        assert_eq!(r.header("vary"), Some("Origin"));
        assert_eq!(r.header("server").map(|s| s.starts_with("rubo/")), Some(true));
        assert_eq!(
            r.header("access-control-expose-headers"),
            Some("X-Stream-Output, X-Chunked-Output, X-Content-Length")
        );
        assert!(r.body.ends_with(b"}\n") && !r.text().contains(": "), "compact JSON line: {}", r.text());
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["Version"], rubo_node::VERSION);
        // `/version/`: the last segment becomes an (ignored) argument.
        assert_eq!(s.post("/api/v0/version/").await.status, 200);
        s.stop().await;
    });
}

#[test]
fn query_parsing() {
    in_netns("query_parsing", || async {
        let s = TestServer::start().await;
        let bad = |r: Reply, want: &str| {
            assert_eq!((r.status, r.text()), (400, format!("{want}\n")));
            assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
        };
        bad(
            s.post(&format!("/api/v0/pin/add?arg={EMPTY_DIR}&recursive=yes")).await,
            "could not convert value \"yes\" to type \"bool\" (for option \"-recursive\")",
        );
        bad(
            s.post(&format!("/api/v0/cat?arg={EMPTY_DIR}&offset=1&offset=2")).await,
            "expected key offset to have only a single value, received [1 2]",
        );
        bad(s.post("/api/v0/version?enc=yaml").await, "invalid encoding: yaml");
        bad(s.post("/api/v0/cat").await, "argument \"ipfs-path\" is required");
        bad(s.post("/api/v0/block/put").await, "file argument 'data' is required");
        bad(s.post("/api/v0/pin/update?arg=a").await, "argument \"to-path\" is required");
        // Clients' junk is ignored; Go bools in any case; aliases and short names.
        let r = s.post("/api/v0/version?headers=%5Bobject+Object%5D&stream=true&input-enc=json&number=TRUE").await;
        assert_eq!(r.status, 200, "{}", r.text());
        let r = s.post("/api/v0/files/ls?arg=/&l=false&U=false").await;
        assert_eq!(r.status, 200, "{}", r.text());
        let ls = s.json("/api/v0/files/ls?arg=/&long=True").await;
        assert_eq!(ls, json!({"Entries": null}));
        // An invalid timeout: Kubo's handler returns without a word.
        let r = s.post("/api/v0/version?timeout=soon").await;
        assert_eq!((r.status, r.body.len()), (200, 0));
        // ipfshttpclient's `pin=False`: added, not pinned.
        let before = pins(&s).await;
        let r = upload(&s, "/api/v0/add?pin=False&stream-channels=true", &[("hw", "text/plain", b"hello world")]).await;
        assert_eq!(r.lines().last().unwrap()["Hash"], "Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD");
        assert_eq!(pins(&s).await, before);
        // The last path segment is the first argument.
        let r = s.post("/api/v0/cat/Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD").await;
        assert_eq!(r.text(), "hello world");
        // Arguments from the body's first part (Kubo's stdin arguments).
        let r = upload(
            &s,
            "/api/v0/cat",
            &[("", "application/octet-stream", b"Qmf412jQZiuVUtdgnB36FXFX7xg5V6KEbSJ4dpQuhkLyfD\n")],
        )
        .await;
        assert_eq!(r.text(), "hello world");
        s.stop().await;
    });
}

#[test]
fn csrf_origins() {
    in_netns("csrf_origins", || async {
        let s = TestServer::start_with(|_| {
            ApiConfig::from_config(&json!({"API": {"HTTPHeaders": {
                "Access-Control-Allow-Origin": ["https://webui.example"], "X-Custom": ["yes"]}}}))
            .unwrap()
        })
        .await;
        let p = s.port;
        let forbidden = |r: Reply| assert_eq!((r.status, r.text().as_str()), (403, "403 - Forbidden\n"));
        let post = |h: Vec<(&'static str, String)>| async move {
            let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
            request(p, "POST", "/api/v0/version", &h, Bytes::new()).await
        };
        forbidden(post(vec![("origin", "http://evil.example".into())]).await);
        forbidden(post(vec![("referer", "http://evil.example/page".into())]).await);
        forbidden(post(vec![("referer", "not a url".into())]).await);
        forbidden(post(vec![("user-agent", "Mozilla/5.0 (X11; Linux x86_64)".into())]).await);
        // Allowed: the listener's own origins, configured ones, Electron, non-browsers.
        for h in [
            vec![("origin", format!("http://127.0.0.1:{p}"))],
            vec![("origin", format!("https://localhost:{p}"))],
            vec![("origin", "https://webui.example".into())],
            vec![("referer", format!("http://[::1]:{p}/webui"))],
            vec![("user-agent", "Mozilla/5.0 Electron/30.0".into())],
            vec![("user-agent", "node".into())],
        ] {
            let r = post(h.clone()).await;
            assert_eq!(r.status, 200, "{h:?}");
            assert_eq!(r.header("x-custom"), Some("yes"));
            if let Some(o) = h.iter().find(|(k, _)| *k == "origin") {
                assert_eq!(r.header("access-control-allow-origin"), Some(o.1.as_str()));
            }
        }
        // Preflights: 204 always; allow headers only for an allowed origin.
        let pre = |o: &'static str| async move {
            request(
                p,
                "OPTIONS",
                "/api/v0/add",
                &[("origin", o), ("access-control-request-method", "POST")],
                Bytes::new(),
            )
            .await
        };
        let r = pre("https://webui.example").await;
        assert_eq!((r.status, r.header("access-control-allow-origin")), (204, Some("https://webui.example")));
        assert_eq!(r.header("access-control-allow-methods"), Some("POST"));
        let r = pre("http://evil.example").await;
        assert_eq!((r.status, r.header("access-control-allow-origin")), (204, None));
        s.stop().await;
    });
}

#[test]
fn authorizations() {
    in_netns("authorizations", || async {
        let s = TestServer::start_with(|_| {
            ApiConfig::from_config(&json!({"API": {"Authorizations": {
                "alice": {"AuthSecret": "basic:alice:pw", "AllowedPaths": ["/api/v0"]},
                "ci": {"AuthSecret": "bearer:tok", "AllowedPaths": ["/api/v0/id", "/api/v0/pin"]},
                "nobody": {"AuthSecret": "bearer:v", "AllowedPaths": []}}}}))
            .unwrap()
        })
        .await;
        let p = s.port;
        let call = |path: &'static str, auth: Option<&'static str>| async move {
            let h: Vec<(&str, &str)> = auth.map(|a| vec![("authorization", a)]).unwrap_or_default();
            request(p, "POST", path, &h, Bytes::new()).await
        };
        let denied = |r: Reply| {
            assert_eq!(r.status, 403);
            assert_eq!(
                r.text(),
                "Kubo RPC Access Denied: Please provide a valid authorization token as defined in the API.Authorizations configuration.\n"
            );
        };
        denied(call("/api/v0/id", None).await);
        denied(call("/api/v0/version", None).await);
        denied(call("/api/v0/id", Some("Bearer wrong")).await);
        denied(call("/api/v0/id", Some("bearer tok")).await);
        denied(call("/api/v0/cat", Some("Bearer tok")).await);
        denied(call("/api/v0/id", Some("Bearer v")).await);
        // Auth runs before CORS: a preflight without the secret is refused too.
        denied(request(p, "OPTIONS", "/api/v0/id", &[("access-control-request-method", "POST")], Bytes::new()).await);
        assert_eq!(call("/api/v0/id", Some("Basic YWxpY2U6cHc=")).await.status, 200);
        assert_eq!(call("/api/v0/repo/stat", Some("Basic YWxpY2U6cHc=")).await.status, 200);
        assert_eq!(call("/api/v0/id", Some("Bearer tok")).await.status, 200);
        assert_eq!(call("/api/v0/pin/ls", Some("Bearer tok")).await.status, 200);
        // `version` is open to every valid secret.
        assert_eq!(call("/api/v0/version", Some("Bearer v")).await.status, 200);
        // The client sends `--api-auth` secrets.
        let c = rubo_http::Client::new(&s.maddr(), Some("basic:alice:pw".into())).unwrap();
        assert!(c.version_check().await.is_ok());
        let c = rubo_http::Client::new(&s.maddr(), Some("bearer:nope".into())).unwrap();
        let e = c.call("id", common::req("id", &[])).await.err().unwrap();
        assert!(e.message.starts_with("Kubo RPC Access Denied"), "{e}");
        s.stop().await;
    });
}

#[test]
fn output_shapes() {
    in_netns("output_shapes", || async {
        let s = TestServer::start().await;
        // add: NDJSON with progress, Kubo's CID for "Hello Jupiter!\n".
        let r = upload(&s, "/api/v0/add?progress=true", &[("jupiter.txt", "text/plain", b"Hello Jupiter!\n")]).await;
        assert_eq!((r.status, r.header("x-chunked-output")), (200, Some("1")));
        assert_eq!(r.header("content-type"), Some("application/json"));
        let lines = r.lines();
        assert_eq!(lines.first().unwrap(), &json!({"Name": "jupiter.txt", "Bytes": 15}));
        assert_eq!(
            lines.last().unwrap(),
            &json!({"Name": "jupiter.txt", "Hash": "QmUnvPcBctVTAcJpigv6KMqDvmDewksPWrNVoy1E1WP5fh", "Size": "23"})
        );
        let cid = "QmUnvPcBctVTAcJpigv6KMqDvmDewksPWrNVoy1E1WP5fh";
        // Bytes: cat as text/plain, block get, dag export, get as a tar.
        let r = s.post(&format!("/api/v0/cat?arg={cid}")).await;
        assert_eq!((r.header("x-stream-output"), r.header("content-type")), (Some("1"), Some("text/plain")));
        assert_eq!(r.text(), "Hello Jupiter!\n");
        let r = s.post(&format!("/api/v0/block/get?arg={cid}")).await;
        assert_eq!(r.header("content-type"), Some("application/vnd.ipld.raw"));
        assert_eq!(r.body.len(), 23);
        let r = s.post(&format!("/api/v0/dag/export?arg={cid}")).await;
        assert_eq!(r.header("content-type"), Some("application/vnd.ipld.car"));
        let r = s.post(&format!("/api/v0/get?arg={cid}")).await;
        assert_eq!(r.header("content-type"), Some("application/x-tar"));
        assert!(r.body.len() >= 1024 && r.body.windows(15).any(|w| w == b"Hello Jupiter!\n"));
        // Nothing: files mkdir (ipfshttpclient asserts the body is empty).
        let r = s.post("/api/v0/files/mkdir?arg=/d").await;
        assert_eq!((r.status, r.body.len(), r.header("x-chunked-output")), (200, 0, Some("1")));
        assert_eq!(r.header("content-type"), Some("application/json"));
        // Errors before output: JSON with Kubo's fields, 500 or 400.
        let missing = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";
        let r = s.post(&format!("/api/v0/block/get?arg={missing}")).await;
        assert_eq!(r.status, 500);
        assert_eq!(r.header("content-type"), Some("application/json"));
        let e: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!((e["Code"].clone(), e["Type"].clone()), (json!(0), json!("error")));
        assert!(r.body.ends_with(b"\n") && e["Message"].as_str().is_some_and(|m| !m.is_empty()));
        let r = s.post("/api/v0/files/mkdir?arg=/d").await;
        assert!(r.status >= 400 && r.header("content-type") == Some("application/json"), "{}", r.text());
        let r = s.post("/api/v0/add?cid-version=7").await;
        assert_eq!(r.status, 400, "file argument first: {}", r.text());
        let r = upload(&s, "/api/v0/add?cid-version=7", &[("f", "text/plain", b"x")]).await;
        assert_eq!(r.status, 400);
        let e: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(e, json!({"Message": "unknown CID version: 7", "Code": 1, "Type": "error"}));
        // Go's HTML-safe JSON.
        let r = upload(&s, "/api/v0/add", &[("<a>&b.txt", "text/plain", b"x")]).await;
        assert!(r.text().contains("\"Name\":\"\\u003ca\\u003e\\u0026b.txt\""), "{}", r.text());
        // Query arguments of a command whose arguments are parts are dropped
        // (they would name paths on the server).
        let r = upload(&s, "/api/v0/add?arg=/&progress=true&enc=text", &[("f", "text/plain", b"x")]).await;
        assert_eq!(r.status, 200, "{}", r.text());
        // enc=text: the CLI's text encoder.
        let r = s.post(&format!("/api/v0/refs?arg={EMPTY_DIR}&enc=text")).await;
        assert_eq!((r.status, r.header("content-type")), (200, Some("text/plain")));
        s.stop().await;
    });
}

#[test]
fn directories_from_flat_parts() {
    in_netns("directories_from_flat_parts", || async {
        let s = TestServer::start().await;
        // Kubo's t0040 vector, parts as the Go client sends them.
        let r = upload(
            &s,
            "/api/v0/add",
            &[
                ("planets", "application/x-directory", b""),
                ("planets/mars.txt", "application/octet-stream", b"Hello Mars!\n"),
                ("planets/venus.txt", "application/octet-stream", b"Hello Venus!\n"),
            ],
        )
        .await;
        let got: Vec<(String, String)> = r
            .lines()
            .iter()
            .map(|l| {
                (
                    l["Name"].as_str().unwrap().to_string(),
                    l["Hash"].as_str().unwrap_or_else(|| panic!("{l}")).to_string(),
                )
            })
            .collect();
        let want = [
            ("planets/mars.txt", "QmPrrHqJzto9m7SyiRzarwkqPcCSsKR2EB1AyqJfe8L8tN"),
            ("planets/venus.txt", "QmU5kp3BH3B8tnWUU2Pikdb2maksBNkb92FHRr56hyghh4"),
            ("planets", "QmWSgS32xQEcXMeqd3YPJLrNBLSdsfYCep2U7CFkyrjXwY"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
        // ipfshttpclient's order re-enters a directory; implicit parents; moons vector.
        let r = upload(
            &s,
            "/api/v0/add",
            &[
                ("moons", "application/x-directory", b""),
                ("moons/jupiter", "application/x-directory", b""),
                ("moons/mercury.txt", "text/plain", b"hey you are no moon!\n"),
                ("moons/jupiter/europa.txt", "text/plain", b"Hello Europa!\n"),
                ("moons/saturn/titan.txt", "text/plain", b"Hello Titan!\n"),
            ],
        )
        .await;
        assert_eq!(r.lines().last().unwrap()["Hash"], "QmbGoaQZm8kjYfCiN1aBsgwhqfUBGDYTrDb91Mz7Dvq81B", "{}", r.text());
        s.stop().await;
    });
}

/// A file of `n` distinct 1 KiB leaves, added unpinned; returns its CID and
/// its leaves in order.
async fn leafy_file(s: &TestServer, n: usize) -> (String, Vec<String>) {
    let data: Vec<u8> = (0..n * 1024).map(|i| (i / 1024) as u8 ^ (i % 251) as u8).collect();
    let r = upload(s, "/api/v0/add?pin=false&chunker=size-1024", &[("f", "application/octet-stream", &data)]).await;
    let root = r.lines().last().unwrap()["Hash"].as_str().unwrap_or_else(|| panic!("{r:?}")).to_string();
    let refs = s.post(&format!("/api/v0/refs?arg={root}")).await;
    let leaves = refs.lines().iter().map(|l| l["Ref"].as_str().unwrap().to_string()).collect();
    (root, leaves)
}

#[test]
fn errors_after_output_go_in_the_trailer() {
    in_netns("errors_after_output_go_in_the_trailer", || async {
        let s = TestServer::start().await;
        let (root, leaves) = leafy_file(&s, 4).await;
        assert_eq!(leaves.len(), 4);
        let r = s.post(&format!("/api/v0/block/rm?arg={}", leaves[2])).await;
        assert_eq!(r.status, 200, "{}", r.text());
        // cat: two leaves of bytes, then the error, as a trailer.
        let te = [("te", "trailers")];
        let r = request(s.port, "POST", &format!("/api/v0/cat?arg={root}"), &te, Bytes::new()).await;
        assert_eq!((r.status, r.header("x-stream-output")), (200, Some("1")));
        assert_eq!(r.body.len(), 2048);
        let err = r.trailers.as_ref().and_then(|t| t.get("x-stream-error")).expect("X-Stream-Error trailer");
        assert!(!err.is_empty());
        assert!(r.body_error.is_none());
        // A client that takes no trailers sees the stream cut, never a clean end.
        let r = s.post(&format!("/api/v0/cat?arg={root}")).await;
        assert!(r.body_error.is_some() && r.trailers.is_none(), "{r:?}");
        assert_eq!((r.status, r.body.len()), (200, 2048), "what was sent before the cut arrives");
        // refs -r: refs, then the missing block (the handler reports it in an `Err` line).
        let r = request(s.port, "POST", &format!("/api/v0/refs?arg={root}&recursive=true"), &te, Bytes::new()).await;
        assert_eq!((r.status, r.header("x-chunked-output")), (200, Some("1")));
        let lines = r.lines();
        assert_eq!(lines[0]["Err"], "");
        let in_trailer = r.trailers.as_ref().is_some_and(|t| t.contains_key("x-stream-error"));
        assert!(in_trailer || lines.last().unwrap()["Err"].as_str().is_some_and(|e| !e.is_empty()), "{r:?}");
        // Our client turns the trailer back into the stream's error.
        let out = s.client().call("cat", common::req("cat", &[("arg", &root)])).await.unwrap();
        let rubo_commands::Output::Bytes { mut stream, .. } = out else { panic!("bytes expected") };
        let mut n = 0;
        let mut failed = None;
        while let Some(c) = stream.recv().await {
            match c {
                Ok(b) => n += b.len(),
                Err(e) => failed = Some(e),
            }
        }
        assert_eq!(n, 2048);
        assert_eq!(failed.unwrap().message, err.to_str().unwrap());
        s.stop().await;
    });
}

#[test]
fn bad_uploads_pin_nothing() {
    in_netns("bad_uploads_pin_nothing", || async {
        let s = TestServer::start().await;
        let before = pins(&s).await;
        assert_eq!(before["Keys"][EMPTY_DIR]["Type"], "recursive");
        let mp = [("content-type", "multipart/form-data; boundary=XyZ")];
        // Not multipart at all.
        let r = request(s.port, "POST", "/api/v0/add", &mp, Bytes::from_static(b"just some bytes")).await;
        assert_eq!(r.status, 400);
        let e: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(e["Message"], "multipart: unexpected end of body (truncated upload)");
        // No boundary.
        let r = request(s.port, "POST", "/api/v0/add", &[("content-type", "multipart/form-data")], Bytes::new()).await;
        assert_eq!(r.status, 400);
        // Truncated: the body ends inside a file, well-framed at the HTTP level.
        let mut body = multipart("XyZ", &[("a.txt", "text/plain", &[b'a'; 5000])]);
        body.truncate(body.len() - 1000);
        let r = request(s.port, "POST", "/api/v0/add", &mp, Bytes::from(body)).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains("truncated upload"), "{}", r.text());
        // A part header past the limit, a preamble with no boundary.
        let long = "x".repeat(100 << 10);
        let body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{long}\"\r\n\r\ndata\r\n--XyZ--\r\n"
        );
        let r = request(s.port, "POST", "/api/v0/add", &mp, Bytes::from(body)).await;
        assert_eq!(r.status, 400);
        assert!(r.text().contains("part headers longer than"), "{}", r.text());
        let r = request(s.port, "POST", "/api/v0/add", &mp, Bytes::from(vec![b'x'; 300 << 10])).await;
        assert!(r.text().contains("no opening boundary"), "{}", r.text());
        // Bad metadata in the form name.
        let body =
            "--XyZ\r\nContent-Disposition: form-data; name=\"file?mode=999\"; filename=\"f\"\r\n\r\nx\r\n--XyZ--\r\n";
        let r = request(s.port, "POST", "/api/v0/add", &mp, Bytes::from(body)).await;
        assert_eq!(r.status, 400);
        assert_eq!(pins(&s).await, before);
        s.stop().await;
    });
}

#[test]
fn client_gone_mid_upload_pins_nothing() {
    in_netns("client_gone_mid_upload_pins_nothing", || async {
        let s = TestServer::start().await;
        let before = pins(&s).await;
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
        let head = "POST /api/v0/add?progress=true&to-files=/cut HTTP/1.1\r\nHost: x\r\n\
                    Content-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n";
        c.write_all(head.as_bytes()).await.unwrap();
        let part = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.bin\"\r\n\r\n";
        let data = vec![7u8; 300 << 10];
        for piece in [&part[..], &data[..]] {
            c.write_all(format!("{:x}\r\n", piece.len()).as_bytes()).await.unwrap();
            c.write_all(piece).await.unwrap();
            c.write_all(b"\r\n").await.unwrap();
        }
        // The first progress line: the add is running (and holds off GC).
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("\"Bytes\":") {
            let n = c.read(&mut buf).await.unwrap();
            assert!(n > 0, "server closed: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        drop(c);
        // GC waits for the add to end: after it, the add is over.
        let r = s.post("/api/v0/repo/gc").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(pins(&s).await, before);
        let r = s.post("/api/v0/files/stat?arg=/cut").await;
        assert_ne!(r.status, 200, "nothing linked into MFS: {}", r.text());
        s.stop().await;
    });
}

#[test]
fn limits_and_timeouts() {
    in_netns("limits_and_timeouts", || async {
        let s = TestServer::start_with(|_| ApiConfig { max_header_bytes: 64 << 10, ..ApiConfig::default() }).await;
        let big = "a".repeat(100 << 10);
        let head = format!("POST /api/v0/version HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nConnection: close\r\n\r\n");
        let out = raw(s.port, &head, b"").await;
        assert!(out.starts_with("HTTP/1.1 431"), "{}", &out[..out.len().min(200)]);
        // Still serving.
        assert_eq!(s.post("/api/v0/version").await.status, 200);
        // The timeout option bounds a request whose upload never completes.
        let mut c = tokio::net::TcpStream::connect(("127.0.0.1", s.port)).await.unwrap();
        let head = "POST /api/v0/add?timeout=300ms HTTP/1.1\r\nHost: x\r\n\
                    Content-Type: multipart/form-data; boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n";
        c.write_all(head.as_bytes()).await.unwrap();
        let part = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nsome";
        c.write_all(format!("{:x}\r\n", part.len()).as_bytes()).await.unwrap();
        c.write_all(part).await.unwrap();
        c.write_all(b"\r\n").await.unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("deadline") {
            let n = c.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        let text = String::from_utf8_lossy(&seen);
        assert!(text.starts_with("HTTP/1.1 500"), "{text}");
        assert!(text.contains("{\"Message\":\"context deadline exceeded\",\"Code\":0,\"Type\":\"error\"}\n"), "{text}");
        drop(c);
        s.stop().await;
    });
}

#[test]
fn prometheus_metrics() {
    in_netns("prometheus_metrics", || async {
        let s = TestServer::start_with(|doc| {
            let cfg = ApiConfig::from_config(doc).unwrap();
            cfg.metrics.add_gauge("ipfs_p2p_peers_total", "Number of connected peers", || {
                vec![rubo_http::metrics::Sample::new(0.0).label("transport", "/ip4/tcp")]
            });
            cfg
        })
        .await;
        assert_eq!(s.post("/api/v0/version").await.status, 200);
        assert_eq!(s.post("/api/v0/bogus").await.status, 404);
        let r = request(s.port, "GET", "/debug/metrics/prometheus", &[], Bytes::new()).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8; escaping=underscores"));
        let text = r.text();
        assert!(text.contains(&format!(
            "ipfs_info{{commit=\"{}\",version=\"{}\"}} 1\n",
            rubo_node::COMMIT,
            rubo_node::VERSION
        )));
        assert!(text.contains("ipfs_http_requests_total{code=\"200\",handler=\"api\",method=\"post\"} 1\n"), "{text}");
        assert!(text.contains("ipfs_http_requests_total{code=\"404\",handler=\"api\",method=\"post\"} 1\n"), "{text}");
        assert!(text.contains("ipfs_p2p_peers_total{transport=\"/ip4/tcp\"} 0\n"), "{text}");
        s.stop().await;
    });
}

#[test]
fn no_daemon_is_unreachable() {
    in_netns("no_daemon_is_unreachable", || async {
        // A port nobody listens on: the CLI may then run the command locally.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        drop(l);
        let c = rubo_http::Client::new(&format!("/ip4/127.0.0.1/tcp/{port}"), None).unwrap();
        let e = c.version_check().await.err().unwrap();
        assert!(matches!(e, rubo_http::client::ClientError::Unreachable { .. }), "{e}");
    });
}
