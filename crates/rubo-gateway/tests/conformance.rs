//! The gateway against the expectations of ipfs/gateway-conformance
//! (`tests/*.go` at 22c76440) on its fixtures: statuses, headers and bytes
//! as the suite checks them, over a real HTTP client.

mod common;

use common::{Fixture, Resp, shared};
use rubo_types::{Cid, cid::cid_to_string, codec, parse_cid};

fn v1(c: &Cid) -> String {
    cid_to_string(&Cid::new_v1(c.codec(), *c.hash()), rubo_types::Base::Base32Lower).unwrap()
}

fn car_cids(r: &Resp) -> Vec<Cid> {
    let mut car = rubo_dag::CarReader::new(std::io::Cursor::new(r.body.to_vec())).expect("a CAR");
    let mut out = Vec::new();
    while let Some(b) = car.next_block().expect("verified block") {
        out.push(*b.cid());
    }
    out
}

#[tokio::test]
async fn unixfs_directory_listing() {
    let gw = shared();
    let f = Fixture::open("dir_listing/fixtures.car");
    let root = f.root;
    assert_eq!(root.to_string(), "bafybeig6ka5mlwkl4subqhaiatalkcleo4jgnr3hqwvpmsqfca27cijp3i");
    let r = gw.get(&format!("/ipfs/{root}/")).await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("Index of"));
    assert!(!r.text().contains(&format!("<a href=\"/ipfs/{root}/\">..</a>")));

    let r = gw.get(&format!("/ipfs/{root}/ą/ę")).await;
    assert_eq!(r.status, 301);
    assert_eq!(r.h("location"), format!("/ipfs/{root}/%C4%85/%C4%99/"));

    let file = f.cid(&["ą", "ę", "file-źł.txt"]);
    let r = gw.get(&format!("/ipfs/{root}/ą/ę/")).await;
    assert_eq!(r.status, 200);
    assert!(r.h("etag").starts_with("\"DirIndex-"), "{}", r.h("etag"));
    let t = r.text();
    assert!(t.contains(&format!(
        "/ipfs/<a href=\"/ipfs/{root}\">{root}</a>/<a href=\"/ipfs/{root}/%C4%85\">ą</a>/<a href=\"/ipfs/{root}/%C4%85/%C4%99\">ę</a>"
    )));
    assert!(t.contains(&format!("<a href=\"/ipfs/{root}/%C4%85/%C4%99/..\">..</a>")));
    assert!(t.contains(&format!("<a href=\"/ipfs/{root}/%C4%85/%C4%99/file-%C5%BA%C5%82.txt\">file-źł.txt</a>")));
    assert!(t.contains(&format!(
        "<a class=\"ipfs-hash\" translate=\"no\" href=\"/ipfs/{file}?filename=file-%25C5%25BA%25C5%2582.txt\">"
    )));
    assert_eq!(gw.get(&format!("/ipfs/{root}/i-do-not-exist")).await.status, 404);
}

#[tokio::test]
async fn gateway_cache_headers_and_conditional_requests() {
    let gw = shared();
    let f = Fixture::open("gateway-cache/fixtures.car");
    let root = f.root;
    let (c2, c3, c4, c5) = (
        f.cid(&["root2"]),
        f.cid(&["root2", "root3"]),
        f.cid(&["root2", "root3", "root4"]),
        f.cid(&["root2", "root3", "root4", "index.html"]),
    );

    let r = gw.get(&format!("/ipfs/{root}/root2/root3/")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("x-ipfs-path"), format!("/ipfs/{root}/root2/root3/"));
    assert_eq!(r.h("x-ipfs-roots"), format!("{root},{c2},{c3}"));
    assert!(r.h("etag").contains("DirIndex-") && r.h("etag").ends_with(&format!("_CID-{c3}\"")));
    assert_eq!(r.h("cache-control"), "public, max-age=604800, stale-while-revalidate=2678400");
    let dir_etag = r.h("etag").to_string();

    let r = gw.get(&format!("/ipfs/{root}/root2/root3/root4/")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("cache-control"), "public, max-age=29030400, immutable");
    assert_eq!(r.h("x-ipfs-roots"), format!("{root},{c2},{c3},{c4}"));
    assert_eq!(r.h("etag"), format!("\"{c4}\""));
    assert_eq!(r.body, "hello\n");

    let file = format!("/ipfs/{root}/root2/root3/root4/index.html");
    let r = gw.get(&file).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("x-ipfs-roots"), format!("{root},{c2},{c3},{c4},{c5}"));
    assert_eq!(r.h("etag"), format!("\"{c5}\""));
    assert_eq!(r.h("content-type"), "text/html");

    let raw = [
        0x12, 0x34, 0x0a, 0x24, 0x01, 0x55, 0x12, 0x20, 0x58, 0x91, 0xb5, 0xb5, 0x22, 0xd5, 0xdf, 0x08, 0x6d, 0x0f,
        0xf0, 0xb1, 0x10, 0xfb, 0xd9, 0xd2, 0x1b, 0xb4, 0xfc, 0x71, 0x63, 0xaf, 0x34, 0xd0, 0x82, 0x86, 0xa2, 0xe8,
        0x46, 0xf6, 0xbe, 0x03, 0x12, 0x0a, 0x69, 0x6e, 0x64, 0x65, 0x78, 0x2e, 0x68, 0x74, 0x6d, 0x6c, 0x18, 0x06,
        0x0a, 0x02, 0x08, 0x01u8,
    ];
    let r = gw.get(&format!("/ipfs/{root}/root2/root3/root4/?format=raw")).await;
    assert_eq!((r.status.as_u16(), r.h("cache-control")), (200, "public, max-age=29030400, immutable"));
    assert_eq!(r.body.as_ref(), raw.as_slice());

    // only-if-cached: local content 200, missing 412, HEAD and GET.
    let oic = [("cache-control", "only-if-cached")];
    let here = format!("/ipfs/{root}/root2/root3/root4/?format=raw");
    let absent = "/ipfs/QmYzfKSE55XCjD1MW128RfciAf2DViABhEiXfgVFMabSjN";
    assert_eq!(gw.req("HEAD", &here, &oic).await.status, 200);
    assert_eq!(gw.req("HEAD", absent, &oic).await.status, 412);
    assert_eq!(gw.req("GET", &here, &oic).await.status, 200);
    assert_eq!(gw.req("GET", absent, &oic).await.status, 412);

    // If-None-Match.
    for inm in
        [format!("\"{c5}\""), format!("\"fakeEtag1\", \"fakeEtag2\", \"{c5}\""), format!("W/\"{c5}\""), "*".into()]
    {
        let r = gw.req("GET", &file, &[("if-none-match", &inm)]).await;
        assert_eq!(r.status, 304, "{inm}");
        assert!(r.body.is_empty());
    }
    let r =
        gw.req("GET", &format!("/ipfs/{root}/root2/root3/root4/"), &[("if-none-match", &format!("\"{c4}\""))]).await;
    assert_eq!(r.status, 304);
    let listing = format!("/ipfs/{root}/root2/root3/");
    assert_eq!(gw.req("GET", &listing, &[("if-none-match", &dir_etag)]).await.status, 304);
    assert_eq!(gw.req("GET", &listing, &[("if-none-match", &format!("W/{dir_etag}"))]).await.status, 304);
}

#[tokio::test]
async fn symlinks_are_served_as_their_target() {
    let gw = shared();
    let f = Fixture::open("path_gateway_unixfs/symlink.car");
    let r = gw.get(&format!("/ipfs/{}/", f.root)).await;
    assert!(r.text().contains(">foo<") && r.text().contains(">bar<"));
    let r = gw.get(&format!("/ipfs/{}?format=raw", f.root)).await;
    assert_eq!(r.body, f.block(&[]));
    let r = gw.get(&format!("/ipfs/{}/bar", f.root)).await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, b"foo".as_slice()));
    assert_eq!(r.h("content-type"), "inode/symlink");
}

#[tokio::test]
async fn file_ranges() {
    let gw = shared();
    let f = Fixture::open("path_gateway_unixfs/dir-with-files.car");
    let ascii = f.file(&["ascii.txt"]);
    let p = format!("/ipfs/{}/ascii.txt", f.root);
    let r = gw.get(&p).await;
    assert_eq!((r.status.as_u16(), r.h("accept-ranges")), (200, "bytes"));
    assert_eq!(r.body, ascii);
    for (range, from, to) in [("bytes=6-16", 6, 17), ("bytes=-3", 28, 31), ("bytes=6-16,0-4", 6, 17)] {
        let r = gw.req("GET", &p, &[("range", range)]).await;
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.h("content-range"), format!("bytes {}-{}/31", from, to - 1));
        assert_eq!(r.body.as_ref(), &ascii[from..to]);
    }
    assert_eq!(gw.req("GET", &p, &[("range", "bytes=31-")]).await.status, 416);
    assert_eq!(gw.req("GET", &p, &[("range", "bytes=x-y")]).await.status, 400);

    // A range never needs the blocks it does not cover.
    let m = Fixture::open("trustless_gateway_car/file-3k-and-3-blocks-missing-block.car");
    let p = format!("/ipfs/{}", m.root);
    for (range, want) in [("bytes=997-1000", "bytes 997-1000/3072"), ("bytes=2200-2201", "bytes 2200-2201/3072")] {
        let r = gw.req("GET", &p, &[("range", range)]).await;
        assert_eq!((r.status.as_u16(), r.h("content-range")), (206, want), "{range}");
    }

    // Multi-block file: exact at chunk boundaries (256-byte leaves).
    let mb = f.file(&["multiblock.txt"]);
    assert_eq!(mb.len(), 1026);
    let p = format!("/ipfs/{}/multiblock.txt", f.root);
    for (a, b) in [(0usize, 255usize), (255, 256), (256, 511), (1023, 1025), (0, 1025), (511, 768)] {
        let r = gw.req("GET", &p, &[("range", &format!("bytes={a}-{b}"))]).await;
        assert_eq!(r.status, 206);
        assert_eq!(r.body.as_ref(), &mb[a..=b], "{a}-{b}");
    }
    let r = gw.get(&p).await;
    assert_eq!((r.body.as_ref(), r.h("content-length")), (mb.as_slice(), "1026"));
}

#[tokio::test]
async fn percent_encoded_filenames() {
    let gw = shared();
    let f = Fixture::open("path_gateway_unixfs/dir-with-percent-encoded-filename.car");
    let r = gw.get(&format!("/ipfs/{}/Portugal%252C+España=Peninsula%20Ibérica.txt", f.root)).await;
    assert_eq!(r.body, f.file(&["Portugal%2C+España=Peninsula Ibérica.txt"]));
}

#[tokio::test]
async fn json_and_cbor() {
    let gw = shared();
    let f = Fixture::open("path_gateway_dag/gateway-json-cbor.car");
    let tj = f.cid(&["ą", "ę", "t.json"]);
    let data = f.file(&["ą", "ę", "t.json"]);
    for (p, h) in [
        (format!("/ipfs/{tj}"), vec![]),
        (format!("/ipfs/{tj}"), vec![("accept", "application/json")]),
        (format!("/ipfs/{tj}?format=json"), vec![("accept", "application/vnd.ipld.raw")]),
    ] {
        let r = gw.req("GET", &p, &h).await;
        assert_eq!((r.status.as_u16(), r.h("content-type")), (200, "application/json"), "{p} {h:?}");
        assert_eq!(r.body, data);
    }
    // IPIP-524: no codec conversion.
    let file = f.cid(&["ą", "ę", "file-źł.txt"]);
    let dj = Fixture::open("path_gateway_dag/dag-json-traversal.car").root;
    let dc = Fixture::open("path_gateway_dag/dag-cbor-traversal.car").root;
    for (p, h) in [
        (format!("/ipfs/{file}?format=dag-json"), vec![]),
        (format!("/ipfs/{file}?format=dag-cbor"), vec![]),
        (format!("/ipfs/{file}"), vec![("accept", "application/vnd.ipld.dag-json")]),
        (format!("/ipfs/{dj}?format=dag-cbor"), vec![]),
        (format!("/ipfs/{dc}?format=dag-json"), vec![]),
        (format!("/ipfs/{dc}"), vec![("accept", "application/vnd.ipld.dag-json")]),
    ] {
        assert_eq!(gw.req("GET", &p, &h).await.status, 406, "{p}");
    }
    // Plain codecs: bytes as stored, inline JSON, attached CBOR.
    for (fmt, disp) in [("json", "inline"), ("cbor", "attachment")] {
        let pf = Fixture::open(&format!("path_gateway_dag/plain-{fmt}.car"));
        let want_cd = format!("{disp}; filename=\"{}.{fmt}\"", pf.root);
        for (p, h) in [
            (format!("/ipfs/{}", pf.root), vec![]),
            (format!("/ipfs/{}?format={fmt}", pf.root), vec![]),
            (format!("/ipfs/{}", pf.root), vec![("accept", format!("application/{fmt}"))]),
        ] {
            let h: Vec<(&str, &str)> = h.iter().map(|(a, b)| (*a, b.as_str())).collect();
            let r = gw.req("GET", &p, &h).await;
            assert_eq!(r.status, 200);
            assert_eq!(r.h("content-type"), format!("application/{fmt}"));
            assert!(r.h("content-disposition").contains(&want_cd), "{}", r.h("content-disposition"));
            assert_eq!(r.body, pf.block(&[]));
            let r = gw.req("GET", &p, &[h.as_slice(), &[("range", "bytes=1-3")]].concat()).await;
            assert_eq!((r.status.as_u16(), r.body.as_ref()), (206, &pf.block(&[])[1..4]));
        }
    }
}

#[tokio::test]
async fn dag_json_and_cbor_pathing() {
    let gw = shared();
    for (fmt, want) in [
        ("json", b"{\"hello\":\"this is not a link\"}".to_vec()),
        ("cbor", b"\xa1\x65hellorthis is not a link".to_vec()),
    ] {
        let f = Fixture::open(&format!("path_gateway_dag/dag-{fmt}-traversal.car"));
        let root = f.root;
        assert_eq!(gw.get(&format!("/ipfs/{root}/foo?format=dag-{fmt}")).await.status, 501);
        let r = gw.get(&format!("/ipfs/{root}/foo/link/bar?format=dag-{fmt}")).await;
        assert_eq!(r.status, 200);
        if fmt == "json" {
            let v: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            assert_eq!(v, serde_json::json!({"hello": "this is not a link"}));
        } else {
            assert_eq!(r.body, want);
        }
        assert_eq!(gw.get(&format!("/ipfs/{root}/foo/i-do-not-exist")).await.status, 404);

        // Native DAG responses.
        let raw = f.block(&[]);
        let r = gw.get(&format!("/ipfs/{root}")).await;
        assert_eq!((r.status.as_u16(), &r.body), (200, &raw));
        let accept = format!("application/vnd.ipld.dag-{fmt}");
        let r = gw.req("GET", &format!("/ipfs/{root}"), &[("accept", &accept)]).await;
        assert_eq!(r.h("content-type"), accept);
        assert_eq!(r.h("content-length"), raw.len().to_string());
        assert_eq!(r.h("etag"), format!("\"{root}.dag-{fmt}\""));
        assert_eq!(r.h("cache-control"), "public, max-age=29030400, immutable");
        assert!(!r.h("x-ipfs-path").is_empty() && !r.h("x-ipfs-roots").is_empty());
        assert_eq!(r.h("content-location"), format!("/ipfs/{root}?format=dag-{fmt}"));
        let disp = if fmt == "json" { "inline" } else { "attachment" };
        assert!(r.h("content-disposition").contains(&format!("{disp}; filename=\"{root}.{fmt}\"")));
        let r =
            gw.req("GET", &format!("/ipfs/{root}?filename=foobar.{fmt}&download=true"), &[("accept", &accept)]).await;
        assert!(r.h("content-disposition").contains(&format!("attachment; filename=\"foobar.{fmt}\"")));
        let r = gw.req("GET", &format!("/ipfs/{root}?format={fmt}"), &[]).await;
        assert_eq!((r.h("content-type"), &r.body), (format!("application/{fmt}").as_str(), &raw));
        let r = gw.req("HEAD", &format!("/ipfs/{root}"), &[]).await;
        assert_eq!((r.status.as_u16(), r.h("content-type")), (200, accept.as_str()));
        assert_eq!((r.h("content-length"), r.body.len()), (raw.len().to_string().as_str(), 0));
        let r = gw.req("GET", &format!("/ipfs/{root}/"), &[("accept", "text/html")]).await;
        assert_eq!(r.status, 200);
        assert!(r.h("etag").contains("DagIndex-") && r.h("content-type").contains("text/html"));
        assert!(r.h("content-disposition").is_empty() && r.text().contains("</html>"));
    }
    let missing = "bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqmdtaaaaaa";
    assert_eq!(gw.req("HEAD", &format!("/ipfs/{missing}"), &[("cache-control", "only-if-cached")]).await.status, 412);
}

#[tokio::test]
async fn raw_blocks() {
    let gw = shared();
    let f = Fixture::open("gateway-raw-block.car");
    let dir = f.cid(&["dir"]);
    let ascii = f.cid(&["dir", "ascii.txt"]);
    for (p, h) in [
        (format!("/ipfs/{}/dir?format=raw", f.root), vec![]),
        (format!("/ipfs/{}/dir", f.root), vec![("accept", "application/vnd.ipld.raw")]),
        (format!("/ipfs/{dir}?format=raw"), vec![]),
        (format!("/ipfs/{dir}?format=raw"), vec![("accept", "application/vnd.ipld.car")]),
    ] {
        let r = gw.req("GET", &p, &h).await;
        assert_eq!((r.status.as_u16(), &r.body), (200, &f.block(&["dir"])), "{p}");
        assert_eq!(r.h("content-type"), "application/vnd.ipld.raw");
    }
    let r = gw
        .req(
            "GET",
            &format!("/ipfs/{}/dir", f.root),
            &[("accept", "application/vnd.ipld.raw"), ("range", "bytes=6-16")],
        )
        .await;
    assert_eq!((r.status.as_u16(), r.h("content-range")), (206, "bytes 6-16/57"));
    assert_eq!(r.body.as_ref(), &f.block(&["dir"])[6..17]);
    let r = gw.req("GET", &format!("/ipfs/{ascii}"), &[("accept", "application/vnd.ipld.raw")]).await;
    assert_eq!(r.h("content-length"), f.block(&["dir", "ascii.txt"]).len().to_string());
    assert!(r.h("content-disposition").contains("attachment;"));
    assert_eq!(r.h("x-content-type-options"), "nosniff");
    assert_eq!(r.h("x-ipfs-path"), format!("/ipfs/{ascii}"));
    assert!(r.h("x-ipfs-roots").contains(&ascii.to_string()));
    assert_eq!(r.h("etag"), format!("\"{ascii}.raw\""));
    assert_eq!(r.h("cache-control"), "public, max-age=29030400, immutable");
    let r =
        gw.req("GET", &format!("/ipfs/{ascii}?filename=foobar.bin"), &[("accept", "application/vnd.ipld.raw")]).await;
    assert!(r.h("content-disposition").contains("filename=\"foobar.bin"));
    // The trustless probe.
    let r = gw.get("/ipfs/bafkqaaa?format=raw").await;
    assert_eq!((r.status.as_u16(), r.body.len()), (200, 0));
    let r = gw.get("/ipfs/bafkqaaa?format=car").await;
    assert_eq!(r.status, 200);
    let car = rubo_dag::CarReader::new(std::io::Cursor::new(r.body.to_vec())).unwrap();
    assert_eq!(car.roots(), &[parse_cid("bafkqaaa").unwrap()]);
}

fn tar_entries(body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut a = tar::Archive::new(body);
    let mut out = Vec::new();
    for e in a.entries().expect("tar") {
        let mut e = e.expect("entry");
        let name = e.path().expect("path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).expect("data");
        out.push((name, data));
    }
    out
}

#[tokio::test]
async fn tar_archives() {
    let gw = shared();
    let f = Fixture::open("dir_listing/fixtures.car");
    let file = f.cid(&["ą", "ę", "file-źł.txt"]);
    for h in [vec![], vec![("accept", "application/x-tar")]] {
        let q = if h.is_empty() { "?format=tar" } else { "" };
        let r = gw.req("GET", &format!("/ipfs/{file}{q}"), &h).await;
        assert_eq!(r.status, 200);
        assert!(r.h("content-disposition").contains("attachment;"));
        assert!(r.h("etag").contains(&format!("W/\"{file}.x-tar")));
        assert!(r.h("content-type").contains("application/x-tar"));
        assert_eq!(tar_entries(&r.body), vec![(file.to_string(), b"I am a txt file on path with utf8\n".to_vec())]);
    }
    let r = gw.get(&format!("/ipfs/{}?format=tar", f.root)).await;
    let entries = tar_entries(&r.body);
    let want = format!("{}/ą/ę/file-źł.txt", f.root);
    assert!(entries.iter().any(|(n, d)| *n == want && d == b"I am a txt file on path with utf8\n"), "{entries:?}");
    let r = gw.get(&format!("/ipfs/{}?filename=testтест.tar&format=tar", f.root)).await;
    assert!(
        r.h("content-disposition")
            .contains("attachment; filename=\"test____.tar\"; filename*=UTF-8''test%D1%82%D0%B5%D1%81%D1%82.tar")
    );
    let out = Fixture::open("path_gateway_tar/outside-root.car");
    let r = gw.get(&format!("/ipfs/{}?format=tar", out.root)).await;
    assert!((400..600).contains(&r.status.as_u16()), "{}", r.status);
    let ins = Fixture::open("path_gateway_tar/inside-root.car");
    let r = gw.get(&format!("/ipfs/{}?format=tar", ins.root)).await;
    assert_eq!(r.status, 200);
    let want = format!("{}/foobar/file", ins.root);
    assert!(tar_entries(&r.body).iter().any(|(n, _)| *n == want));
}

#[tokio::test]
async fn cors_as_kubo() {
    let gw = shared();
    for m in ["GET", "OPTIONS"] {
        let r = gw.req(m, "/ipfs/bafkqabtimvwgy3yk/", &[]).await;
        assert_eq!(r.h("access-control-allow-origin"), "*");
        assert_eq!(r.all("access-control-allow-methods"), ["GET", "HEAD", "OPTIONS"]);
        let allow = r.all("access-control-allow-headers");
        for h in ["Content-Type", "Range", "User-Agent", "X-Requested-With"] {
            assert!(allow.iter().any(|a| a == h), "{h} {allow:?}");
        }
        let expose = r.all("access-control-expose-headers");
        for h in
            ["Content-Range", "Content-Length", "X-Ipfs-Path", "X-Ipfs-Roots", "X-Chunked-Output", "X-Stream-Output"]
        {
            assert!(expose.iter().any(|a| a == h), "{h} {expose:?}");
        }
    }
    let r = gw.get("/ipfs/bafkqabtimvwgy3yk").await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, b"hello\n".as_slice()));
}

#[tokio::test]
async fn trustless_car_pathing_and_scopes() {
    let gw = shared();
    let two = Fixture::open("trustless_gateway_car/subdir-with-two-single-block-files.car");
    let hamt = Fixture::open("trustless_gateway_car/single-layer-hamt-with-multi-block-files.car");
    let mixed = Fixture::open("trustless_gateway_car/subdir-with-mixed-block-files.car");
    let cbor = Fixture::open("trustless_gateway_car/dir-with-dag-cbor-with-links.car");
    let car = |p: String| async move {
        let r = shared().get(&p).await;
        assert_eq!(r.status, 200, "{p}: {}", r.text());
        assert_eq!(r.h("content-type"), "application/vnd.ipld.car; version=1; order=dfs; dups=n");
        car_cids(&r)
    };
    let (t_root, t_sub, t_ascii) = (two.root, two.cid(&["subdir"]), two.cid(&["subdir", "ascii.txt"]));
    assert_eq!(car(format!("/ipfs/{t_root}/subdir/ascii.txt?format=car")).await, vec![t_root, t_sub, t_ascii]);
    assert_eq!(car(format!("/ipfs/{t_root}/subdir?format=car&dag-scope=block")).await, vec![t_root, t_sub]);
    assert_eq!(
        car(format!("/ipfs/{t_root}/subdir/ascii.txt?format=car&dag-scope=block")).await,
        vec![t_root, t_sub, t_ascii]
    );
    assert_eq!(car(format!("/ipfs/{t_root}?format=car&dag-scope=entity")).await, vec![t_root]);
    let r = gw.get(&format!("/ipfs/{t_root}/subdir/i-do-not-exist?format=car")).await;
    assert_eq!(r.status, 404);

    // Through a HAMT: the root, the shard the name hashes to, the file DAG.
    let f685 = hamt.cid(&["685.txt"]);
    let got = car(format!("/ipfs/{}/685.txt?format=car", hamt.root)).await;
    assert_eq!(got.first(), Some(&hamt.root));
    let tail: Vec<Cid> = std::iter::once(f685).chain(hamt.descendants(&f685)).collect();
    assert!(got.ends_with(&tail), "{got:?}");
    for c in &got[1..got.len() - tail.len()] {
        assert_eq!(c.codec(), codec::DAG_PB); // only HAMT shards on the way
    }
    let got = car(format!("/ipfs/{}/1.txt?format=car&dag-scope=block", hamt.root)).await;
    assert_eq!(got.last(), Some(&hamt.cid(&["1.txt"])));
    // entity of a HAMT: every shard, none of the files.
    let got = car(format!("/ipfs/{}?format=car&dag-scope=entity", hamt.root)).await;
    let shards: Vec<Cid> = std::iter::once(hamt.root)
        .chain(hamt.descendants(&hamt.root).into_iter().filter(|c| {
            c.codec() == codec::DAG_PB
                && rubo_unixfs::hamt::Shard::decode(
                    &rubo_types::Block::new_unchecked(*c, hamt.blocks[c].data().clone()),
                    None,
                )
                .is_ok()
        }))
        .collect();
    assert_eq!(got, shards);
    assert_eq!(car(format!("/ipfs/{}?format=car&dag-scope=entity&entity-bytes=0:*", hamt.root)).await, shards);

    // DAG-CBOR root: the document, then the file it links to.
    let doc = cbor.cid(&["document"]);
    let got = car(format!("/ipfs/{doc}/files/single?format=car")).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], doc);
    assert_eq!(car(format!("/ipfs/{}/document?format=car&dag-scope=entity", cbor.root)).await, vec![cbor.root, doc]);

    // Files: entity and all scopes, entity-bytes spans.
    let (m_root, m_sub) = (mixed.root, mixed.cid(&["subdir"]));
    let mb = mixed.cid(&["subdir", "multiblock.txt"]);
    let leaves = mixed.descendants(&mb);
    assert_eq!(leaves.len(), 5);
    let whole: Vec<Cid> = [vec![m_root, m_sub, mb], leaves.clone()].concat();
    assert_eq!(car(format!("/ipfs/{m_root}/subdir/multiblock.txt?format=car&dag-scope=entity")).await, whole);
    assert_eq!(car(format!("/ipfs/{m_root}/subdir/multiblock.txt?format=car&dag-scope=all")).await, whole);
    assert_eq!(
        car(format!("/ipfs/{m_root}/subdir/multiblock.txt?format=car&dag-scope=entity&entity-bytes=0:*")).await,
        whole
    );
    let all_sub: Vec<Cid> = [vec![m_root, m_sub], mixed.descendants(&m_sub)].concat();
    assert_eq!(car(format!("/ipfs/{m_root}/subdir?format=car&dag-scope=all")).await, all_sub);
    let ascii = mixed.cid(&["subdir", "ascii.txt"]);
    assert_eq!(
        car(format!("/ipfs/{m_root}/subdir/ascii.txt?format=car&dag-scope=entity")).await,
        vec![m_root, m_sub, ascii]
    );
    let span = |r: &str, want: &[Cid]| {
        let p = format!("/ipfs/{mb}?format=car&dag-scope=entity&entity-bytes={r}");
        let want: Vec<Cid> = std::iter::once(mb).chain(want.iter().copied()).collect();
        let r = r.to_string();
        async move { assert_eq!(car(p).await, want, "{r}") }
    };
    span("512:*", &leaves[2..]).await;
    span("512:1023", &leaves[2..4]).await;
    span("512:-256", &leaves[2..4]).await;
    span("-5:*", &leaves[3..]).await;
    span("-9999:*", &leaves).await;
    span("-9999:-3", &leaves[..4]).await;
    span("0:0", &leaves[..1]).await;
    let fixed: Vec<String> = leaves.iter().map(|c| c.to_string()).collect();
    assert_eq!(
        fixed,
        [
            "bafkreie5noke3mb7hqxukzcy73nl23k6lxszxi5w3dtmuwz62wnvkpsscm",
            "bafkreih4ephajybraj6wnxsbwjwa77fukurtpl7oj7t7pfq545duhot7cq",
            "bafkreigu7buvm3cfunb35766dn7tmqyh2um62zcio63en2btvxuybgcpue",
            "bafkreicll3huefkc3qnrzeony7zcfo7cr3nbx64hnxrqzsixpceg332fhe",
            "bafkreifst3pqztuvj57lycamoi7z34b4emf7gawxs74nwrc2c7jncmpaqm"
        ]
    );

    // A block missing outside the span does not matter (ids from the spec's recipe).
    let m = Fixture::open("trustless_gateway_car/file-3k-and-3-blocks-missing-block.car");
    let q = |r: &str| format!("/ipfs/{}?format=car&dag-scope=entity&entity-bytes={r}", m.root);
    let got: Vec<String> = car(q("0:1000")).await.iter().map(|c| c.to_string()).collect();
    assert_eq!(got, [m.root.to_string(), "QmPKt7ptM2ZYSGPUc8PmPT2VBkLDK3iqpG9TBJY7PCE9rF".into()]);
    let got: Vec<String> = car(q("2200:*")).await.iter().map(|c| c.to_string()).collect();
    assert_eq!(got, [m.root.to_string(), "QmWXY482zQdwecnfBsj78poUUuPXvyw2JAFAEMw4tzTavV".into()]);
}

#[tokio::test]
async fn car_order_and_duplicates() {
    let gw = shared();
    let d = Fixture::open("path_gateway_unixfs/dir-with-files.car");
    let ascii = d.cid(&["ascii.txt"]);
    assert_eq!(ascii, d.cid(&["ascii-copy.txt"]));
    let mb = d.cid(&["multiblock.txt"]);
    let leaves = d.descendants(&mb);
    let hello = d.cid(&["hello.txt"]);
    let p = format!("/ipfs/{}", d.root);
    let with_dups: Vec<Cid> = [vec![d.root, ascii, ascii, hello, mb], leaves.clone()].concat();
    let without: Vec<Cid> = [vec![d.root, ascii, hello, mb], leaves.clone()].concat();
    let r = gw.req("GET", &p, &[("accept", "application/vnd.ipld.car; version=1; order=dfs; dups=y")]).await;
    assert!(r.h("content-type").contains("order=dfs") && r.h("content-type").contains("dups=y"));
    assert_eq!(car_cids(&r), with_dups);
    assert_eq!(r.h("content-location"), format!("{p}?car-dups=y&car-order=dfs&car-version=1&format=car"));
    let r = gw.req("GET", &p, &[("accept", "application/vnd.ipld.car; version=1; order=dfs; dups=n")]).await;
    assert_eq!(car_cids(&r), without);
    let r = gw.req("GET", &p, &[("accept", "application/vnd.ipld.car; version=1; order=unk")]).await;
    assert!(r.h("content-type").contains("order="));
    let r = gw
        .req(
            "GET",
            "/ipfs/bafkqaf3imvwgy3zaneqgc3janfxgy2lomvscay3jmqfa",
            &[("accept", "application/vnd.ipld.car; dups=y")],
        )
        .await;
    assert!(r.h("content-type").contains("dups=y"));
    assert!(car_cids(&r).is_empty()); // identity blocks are never sent
    let r = gw
        .req("GET", &format!("{p}?format=car"), &[("accept", "application/vnd.ipld.car; version=1; order=dfs; dups=y")])
        .await;
    assert_eq!(car_cids(&r), with_dups);
    let r = gw
        .req("GET", &format!("{p}?format=car&car-order=dfs"), &[("accept", "application/vnd.ipld.car; order=unk")])
        .await;
    assert!(r.h("content-type").contains("order=dfs"));
    let r =
        gw.req("GET", &format!("{p}?format=car&car-dups=y"), &[("accept", "application/vnd.ipld.car; dups=n")]).await;
    assert!(r.h("content-type").contains("dups=y"));
    // Bad parameters.
    for q in ["dag-scope=nope", "entity-bytes=5:1", "car-version=2", "car-order=bfs", "car-dups=maybe"] {
        assert_eq!(gw.get(&format!("{p}?format=car&{q}")).await.status, 400, "{q}");
    }
    // Conditional CAR requests.
    let r = gw.get(&format!("{p}?format=car")).await;
    let etag = r.h("etag").to_string();
    assert!(etag.starts_with(&format!("W/\"{}.car.", d.root)));
    assert_eq!(gw.req("GET", &format!("{p}?format=car"), &[("if-none-match", &etag)]).await.status, 304);
    assert_ne!(gw.get(&format!("{p}?format=car&dag-scope=block")).await.h("etag"), etag);
}

#[tokio::test]
async fn subdomain_gateway() {
    let gw = shared();
    let host = format!("localhost:{}", gw.port());
    let f = Fixture::open("subdomain_gateway/fixtures.car");
    let (cid_v1, cid_v0, cid_v0to1, too_long) = (
        f.cid(&["hello-CIDv1"]),
        f.cid(&["hello-CIDv0"]),
        f.cid(&["hello-CIDv0to1"]),
        f.cid(&["hello-CIDv1_TOO_LONG"]),
    );
    let dir = f.cid(&["testdirlisting"]);
    let h = |hst: &str| vec![("host", hst.to_string())];
    let req = |path: String, headers: Vec<(&'static str, String)>| async move {
        let hs: Vec<(&str, &str)> = headers.iter().map(|(a, b)| (*a, b.as_str())).collect();
        shared().req("GET", &path, &hs).await
    };
    let r = req(format!("/ipfs/{cid_v1}/"), h(&host)).await;
    assert_eq!(r.status, 301);
    assert_eq!(r.h("location"), format!("http://{cid_v1}.ipfs.{host}/"));
    let pe = Fixture::open("path_gateway_unixfs/dir-with-percent-encoded-filename.car").root;
    let r = req(format!("/ipfs/{pe}/Portugal%252C+España=Peninsula%20Ibérica.txt"), h(&host)).await;
    assert_eq!(
        r.h("location"),
        format!("http://{}.ipfs.{host}/Portugal%252C+Espa%C3%B1a=Peninsula%20Ib%C3%A9rica.txt", v1(&pe))
    );
    let r = req(format!("/ipfs/{dir}/"), h(&host)).await;
    assert_eq!(r.h("location"), format!("http://{}.ipfs.{host}/", v1(&dir)));
    let r = req(format!("/ipfs/{cid_v0}/"), h(&host)).await;
    assert_eq!(r.h("location"), format!("http://{cid_v0to1}.ipfs.{host}/"));
    let r = req("/".into(), h(&format!("{cid_v1}.ipfs.{host}"))).await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, f.file(&["hello-CIDv1"]).as_slice()));
    let r = req(format!("/ipfs/{cid_v1}/"), h(&format!("{cid_v1}.ipfs.{host}"))).await;
    assert_eq!(r.status, 404);
    let dsub = format!("{}.ipfs.{host}", v1(&dir));
    let r = req("/ipfs/file.txt".into(), h(&dsub)).await;
    assert!(r.text().contains("I am a txt file"));
    let r = req("/".into(), h(&dsub)).await;
    assert!(r.text().contains("<a href=\"/hello\">hello</a>") && r.text().contains("<a href=\"/ipfs\">ipfs</a>"));
    assert!(!r.text().contains("<a href=\"/\">..</a>"));
    let r = req("/ipfs/ipns/".into(), h(&dsub)).await;
    let t = r.text();
    assert!(t.contains("<a href=\"/ipfs/ipns/..\">..</a>") && t.contains("<a href=\"/ipfs/ipns/bar\">bar</a>"));
    let d1 = v1(&dir);
    assert!(t.contains(&format!(
        "/ipfs/<a href=\"//{host}/ipfs/{d1}\">{d1}</a>/<a href=\"//{host}/ipfs/{d1}/ipfs\">ipfs</a>/<a href=\"//{host}/ipfs/{d1}/ipfs/ipns\">ipns</a>"
    )));
    let r = req("/ipfs/ipns/bar".into(), h(&dsub)).await;
    assert!(r.text().contains("text-file-content"));
    let r = req("/ipfs/QmInvalidCID".into(), h(&host)).await;
    assert!(r.text().contains("invalid path \"/ipfs/QmInvalidCID\""));
    assert_eq!(r.status, 400);
    for (proto, scheme) in [("https", "https"), ("http", "http")] {
        let r =
            req(format!("/ipfs/{cid_v1}/"), vec![("host", host.clone()), ("x-forwarded-proto", proto.into())]).await;
        assert_eq!(r.h("location"), format!("{scheme}://{cid_v1}.ipfs.{host}/"));
    }
    let wiki = "QmXoypizjW3WknFiJnKLwHCnL72vedxjQkDDP1mXWo6uco";
    let r = req(format!("/ipfs/?uri=ipfs%3A%2F%2F{wiki}%2Fwiki%2FDiego_Maradona.html"), h(&host)).await;
    assert_eq!((r.status.as_u16(), r.h("location")), (301, format!("/ipfs/{wiki}/wiki/Diego_Maradona.html").as_str()));
    let r = req(format!("/ipfs/{too_long}/"), h(&host)).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("CID incompatible with DNS label length limit of 63"));
    let r = req("/".into(), h(&format!("{}.ipfs.{host}", v1(&too_long)))).await;
    assert_eq!(r.status, 400);
    assert!(r.text().contains("CID incompatible with DNS label length limit of 63"));
    let r = req(format!("/ipfs/{cid_v1}"), h("fake.domain.com")).await;
    assert_eq!(r.status, 200);
    let r =
        req(format!("/ipfs/{cid_v1}"), vec![("host", "fake.domain.com".into()), ("x-forwarded-host", host.clone())])
            .await;
    assert_eq!((r.status.as_u16(), r.h("location")), (301, format!("http://{cid_v1}.ipfs.{host}/").as_str()));
    let r = req(
        format!("/ipfs/{cid_v1}"),
        vec![
            ("host", "fake.domain.com".into()),
            ("x-forwarded-host", host.clone()),
            ("x-forwarded-proto", "https".into()),
        ],
    )
    .await;
    assert_eq!(r.h("location"), format!("https://{cid_v1}.ipfs.{host}/"));
    // A CIDv0 or base58 form in the Host is redirected to its DNS-safe form.
    let r =
        req("/".into(), h(&format!("{}.ipfs.{host}", cid_to_string(&cid_v1, rubo_types::Base::Base36Lower).unwrap())))
            .await;
    assert_eq!((r.status.as_u16(), r.body.as_ref()), (200, f.file(&["hello-CIDv1"]).as_slice()));

    // The subdomain listing of dir_listing: links relative to the origin.
    let dl = Fixture::open("dir_listing/fixtures.car");
    let file = dl.cid(&["ą", "ę", "file-źł.txt"]);
    let sub = format!("{}.ipfs.{host}", dl.root);
    let r = req("/".into(), h(&sub)).await;
    assert!(r.text().contains("Index of") && !r.text().contains("<a href=\"/\">..</a>"));
    let r = req("/ą/ę".into(), h(&sub)).await;
    assert_eq!((r.status.as_u16(), r.h("location")), (301, "/%C4%85/%C4%99/"));
    let r = req("/ą/ę/".into(), h(&sub)).await;
    let t = r.text();
    let root = dl.root;
    assert!(r.h("etag").contains("\"DirIndex-"));
    assert!(t.contains("<a href=\"/%C4%85/%C4%99/..\">..</a>"));
    assert!(t.contains(&format!(
        "/ipfs/<a href=\"//{host}/ipfs/{root}\">{root}</a>/<a href=\"//{host}/ipfs/{root}/%C4%85\">ą</a>/<a href=\"//{host}/ipfs/{root}/%C4%85/%C4%99\">ę</a>"
    )));
    assert!(t.contains("<a href=\"/%C4%85/%C4%99/file-%C5%BA%C5%82.txt\">file-źł.txt</a>"));
    assert!(t.contains(&format!(
        "<a class=\"ipfs-hash\" translate=\"no\" href=\"//{host}/ipfs/{file}?filename=file-%25C5%25BA%25C5%2582.txt\">"
    )));
}

#[tokio::test]
async fn redirects_file() {
    let gw = shared();
    let host = format!("localhost:{}", gw.port());
    let f = Fixture::open("redirects_file/redirects.car");
    assert_eq!(f.root.to_string(), "QmQyqMY5vUBSbSxyitJqthgwZunCQjDVtNd8ggVCxzuPQ4");
    let site = |name: &str| format!("{}.ipfs.{host}", v1(&f.cid(&[name])));
    let get = |host: String, path: &'static str| async move { shared().req("GET", path, &[("host", &host)]).await };
    let ex = site("examples");
    for (path, status, loc) in [
        ("/redirect-one", 301, "/one.html"),
        ("/301-redirect-one", 301, "/one.html"),
        ("/302-redirect-two", 302, "/two.html"),
        ("/posts/2022/01/01/hello-world", 301, "/articles/2022/01/01/hello-world"),
        ("/splat/one.html", 301, "/redirected-splat/one.html"),
    ] {
        let r = get(ex.clone(), path).await;
        assert_eq!((r.status.as_u16(), r.h("location")), (status, loc), "{path}");
    }
    for path in ["/200-index", "/catch-all"] {
        let r = get(ex.clone(), path).await;
        assert_eq!(r.status, 200);
        assert!(r.text().contains("my index"), "{path}");
    }
    for (path, status, page) in [
        ("/not-found/has-no-redirects-entry", 404, "404.html"),
        ("/gone/has-no-redirects-entry", 410, "410.html"),
        ("/unavail/has-no-redirects-entry", 451, "451.html"),
    ] {
        let r = get(ex.clone(), path).await;
        assert_eq!(r.status.as_u16(), status, "{path}");
        assert_eq!(r.h("cache-control"), "public, max-age=29030400, immutable");
        assert_eq!(r.h("etag"), format!("\"{}\"", f.cid(&["examples", page])));
        assert_eq!(r.body, f.file(&["examples", page]));
    }
    let r = get(ex.clone(), "/redirect-one?x=1&a=b").await;
    assert_eq!(r.h("location"), "/one.html?a=b&x=1");
    let r = get(site("forced"), "/not-found").await;
    assert_eq!(r.status, 500);
    assert!(r.text().contains("could not parse _redirects:"));
    let r = get(site("too-large"), "/not-found").await;
    assert_eq!(r.status, 500);
    assert!(r.text().contains("could not parse _redirects:") && r.text().contains("redirects file size cannot exceed"));
    let r = get(site("newlines"), "/redirect-one").await;
    assert_eq!((r.status.as_u16(), r.h("location")), (301, "/one.html"));
    let r = get(site("good-codes"), "/a301").await;
    assert_eq!((r.status.as_u16(), r.h("location")), (301, "/b301"));
    let r = get(site("bad-codes"), "/found.html").await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("my found") && !r.text().contains("unsupported redirect status"));
    // Not on path gateways (no origin isolation).
    let r = gw.get(&format!("/ipfs/{}/redirect-one", f.cid(&["examples"]))).await;
    assert_eq!(r.status, 404);

    // A single-page app: the rewrite, and its ETag revalidates.
    let spa = Fixture::open("redirects_file/redirects-spa.car");
    let sh = format!("{}.ipfs.{host}", v1(&spa.root));
    let r = gw.req("GET", "/missing-page", &[("host", &sh), ("accept", "text/html")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, spa.file(&["index.html"]));
    let etag = r.h("etag").to_string();
    assert!(!etag.is_empty());
    let r = gw.req("GET", "/missing-page", &[("host", &sh), ("accept", "text/html"), ("if-none-match", &etag)]).await;
    assert_eq!(r.status, 304);
}

#[tokio::test]
async fn ipns_names_answer_501_until_ipns_exists() {
    let gw = shared();
    for p in
        ["/ipns/en.wikipedia-on-ipfs.org/wiki/", "/ipns/k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe"]
    {
        let r = gw.get(p).await;
        assert_eq!(r.status, 501, "{p}");
        assert!(r.text().contains("not supported"));
    }
    let r = gw.get("/ipns/k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe?format=ipns-record").await;
    assert_eq!(r.status, 501);
    let host = format!("k51qzi5uqu5dlxdsdu5fpuu7h69wu4ohp32iwm9pdt9nq3y5rpn3ln9j12zfhe.ipns.localhost:{}", gw.port());
    assert_eq!(gw.req("GET", "/", &[("host", &host)]).await.status, 501);
    let r = gw.get("/ipfs/bafkqaaa?format=ipns-record").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn http_semantics() {
    let gw = shared();
    let f = Fixture::open("path_gateway_unixfs/dir-with-files.car");
    let p = format!("/ipfs/{}/hello.txt", f.root);
    let r = gw.req("HEAD", &p, &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.h("content-length"), f.file(&["hello.txt"]).len().to_string());
    assert!(r.body.is_empty());
    assert_eq!(r.h("content-type"), "text/plain; charset=utf-8");
    let r = gw.req("POST", &p, &[]).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.all("allow"), ["GET", "HEAD", "OPTIONS"]);
    let r = gw.get(&format!("{p}?filename=x.txt&download=true")).await;
    assert_eq!(r.h("content-disposition"), "attachment; filename=\"x.txt\"; filename*=UTF-8''x.txt");
    let r = gw.get(&format!("{p}?filename=x.txt")).await;
    assert!(r.h("content-disposition").starts_with("inline;"));
    // Bad CIDs and paths.
    assert_eq!(gw.get("/ipfs/not-a-cid").await.status, 400);
    assert_eq!(gw.get("/ipfs/").await.status, 400);
    assert_eq!(gw.get(&format!("/ipfs/{}/../../../etc/passwd", f.root)).await.status, 400);
    assert_eq!(gw.get(&format!("/ipfs/{}/%2e%2e/%2e%2e/etc/passwd", f.root)).await.status, 400);
    assert_eq!(gw.get("/etc/passwd").await.status, 404);
    assert_eq!(gw.get("/ipfs/%zz").await.status, 400);
    // Errors: HTML for browsers, text for the rest.
    let r = gw.get("/ipfs/not-a-cid").await;
    assert!(r.h("content-type").starts_with("text/plain"));
    let r = gw.req("GET", "/ipfs/not-a-cid", &[("accept", "text/html,*/*")]).await;
    assert!(r.h("content-type").starts_with("text/html") && r.text().contains("</html>"));
    // Superfluous namespace, service workers, /version.
    let r = gw.get(&format!("/ipfs/ipfs/{}", f.root)).await;
    assert_eq!((r.status.as_u16(), r.h("location")), (301, format!("/ipfs/{}", f.root).as_str()));
    let r = gw.req("GET", &format!("/ipfs/{}", f.root), &[("service-worker", "script")]).await;
    assert_eq!(r.status, 400);
    let r = gw.get("/version").await;
    assert!(r.text().starts_with("Commit: "));
    // Content-Location when the format came from Accept.
    let r = gw.req("GET", &format!("/ipfs/{}", f.root), &[("accept", "application/vnd.ipld.raw")]).await;
    assert_eq!(r.h("content-location"), format!("/ipfs/{}?format=raw", f.root));
    let r = gw.req("GET", &format!("/ipfs/{}", f.root), &[("accept", "application/vnd.ipld.foo")]).await;
    assert_eq!(r.status, 400);
}
