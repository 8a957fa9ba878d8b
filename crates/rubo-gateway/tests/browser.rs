//! A website browsed in headless Chromium (Debian's `chromium`, installed by
//! `scripts/install-test-deps`) through the subdomain gateway: the page's
//! script runs, its image loads, a `_redirects` rule and a custom 404 page
//! apply, and a directory listing renders (its screenshot is saved in the
//! test's temporary directory).

mod common;

use std::path::Path;

use common::{Gw, node_with};
use rubo_node::rubo_unixfs::import::{Entry, EntryKind};
use rubo_node::{AddEvent, AddOptions, Node, NodeError};
use rubo_types::Cid;

const INDEX: &str = r#"<!DOCTYPE html><html><head><title>rubo site</title></head><body>
<h1 id="title">waiting</h1>
<img id="logo" src="img/logo.svg" onload="document.body.dataset.img='loaded'" onerror="document.body.dataset.img='failed'">
<a href="sub/page.html">sub page</a>
<script>document.getElementById('title').textContent = 'rendered by script';</script>
</body></html>"#;
const LOGO: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"><circle cx="10" cy="10" r="9" fill="teal"/></svg>"#;
const PAGE: &str = "<!DOCTYPE html><html><body><p id='p'>the sub page</p></body></html>";
const NOT_FOUND: &str = "<!DOCTYPE html><html><body><p>custom not found page</p></body></html>";
const REDIRECTS: &str = "/old-page /sub/page.html 301\n/gone/* /404.html 404\n";

async fn add_site(node: &Node) -> Cid {
    let file = |p: &str, data: &str| {
        Ok(Entry {
            path: p.into(),
            kind: EntryKind::File(Box::new(std::io::Cursor::new(data.as_bytes().to_vec()))),
            mode: None,
            mtime: None,
        })
    };
    let dir = |p: &str| Ok(Entry { path: p.into(), kind: EntryKind::Dir, mode: None, mtime: None });
    let mut entries: Vec<Result<Entry, NodeError>> =
        vec![dir("site"), file("site/404.html", NOT_FOUND), file("site/_redirects", REDIRECTS), dir("site/files")];
    for i in 0..12 {
        entries.push(file(&format!("site/files/note-{i:02}.txt"), &"some notes\n".repeat(i + 1)));
    }
    entries.extend([
        dir("site/img"),
        file("site/img/logo.svg", LOGO),
        file("site/index.html", INDEX),
        dir("site/sub"),
        file("site/sub/page.html", PAGE),
    ]);
    let opts = AddOptions { import: Default::default(), wrap: false, only_hash: false, threads: 1, pin: None };
    let mut rx = node.unixfs().add(Box::new(entries.into_iter()), opts);
    let mut root = None;
    while let Some(ev) = rx.recv().await {
        if let AddEvent::Added { path, cid, .. } = ev.expect("add")
            && path == "site"
        {
            root = Some(cid);
        }
    }
    root.expect("site root")
}

fn chromium(profile: &Path, args: &[&str], url: &str) -> String {
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP *.localhost 127.0.0.1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium (Debian package) must be installed: scripts/install-test-deps");
    assert!(out.status.success(), "chromium failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test]
async fn website_in_headless_chromium() {
    let (dir, node) = node_with(&[]);
    let root = add_site(&node).await;
    let gw = Gw::start(node, Some(dir), |_| {});
    let tmp = tempfile::tempdir().unwrap();
    let profile = tmp.path().join("profile");
    // A subdomain holds the CIDv1 (case-insensitive base32) form.
    let v1 = Cid::new_v1(root.codec(), *root.hash());
    let origin = format!("http://{v1}.ipfs.localhost:{}", gw.port());

    // A path URL on localhost redirects to the subdomain; the page renders there.
    let dom = chromium(
        &profile,
        &["--dump-dom", "--virtual-time-budget=5000"],
        &format!("http://localhost:{}/ipfs/{root}/", gw.port()),
    );
    assert!(dom.contains("rendered by script"), "{dom}");
    assert!(dom.contains("data-img=\"loaded\""), "the image did not load: {dom}");
    let dom = chromium(&profile, &["--dump-dom"], &format!("{origin}/sub/page.html"));
    assert!(dom.contains("the sub page"));
    // _redirects: a moved page, and a custom 404.
    let dom = chromium(&profile, &["--dump-dom"], &format!("{origin}/old-page"));
    assert!(dom.contains("the sub page"), "{dom}");
    let dom = chromium(&profile, &["--dump-dom"], &format!("{origin}/gone/anything"));
    assert!(dom.contains("custom not found page"), "{dom}");
    // A directory listing, rendered and captured.
    let dom = chromium(&profile, &["--dump-dom"], &format!("{origin}/files/"));
    assert!(dom.contains("Index of") && dom.contains("note-11.txt"), "{dom}");
    let shot = tmp.path().join("listing.png");
    chromium(
        &profile,
        &[&format!("--screenshot={}", shot.display()), "--window-size=1100,700"],
        &format!("{origin}/files/"),
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n") && png.len() > 10_000, "{} bytes", png.len());
    if let Ok(keep) = std::env::var("RUBO_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("copy screenshot");
    }
    gw.stop().await;
}
